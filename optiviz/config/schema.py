"""What a config may say: the allowed names, the limits and the schema text (no logic).

:data:`SCHEMA` is what ``optiviz init`` writes, the README quotes and the docs explain;
the parsers in this package check exactly these keys and limits.
"""

from __future__ import annotations

from optiviz.figures import FIGURE_NAMES, SURFACE_FIGURE_NAMES, schema_line

#: Figures a config may ask for (a live view of the figure registry, optiviz.figures).
FIGURES = FIGURE_NAMES
#: Figures that draw the surface itself (``projection`` chooses the plane for n > 2).
SURFACE_FIGURES = SURFACE_FIGURE_NAMES
#: Image formats.
FORMATS = ("png", "svg", "pdf")
#: What the engine keeps of each run: every iterate, or only the final one.
RECORDS = ("all", "final")
#: Largest step budget of one run.
MAX_STEPS = 10_000_000
#: Largest number of runs in one grid entry (its grid points times the starts).
MAX_GRID = 100_000
#: Largest number of start points (``start: [[...], [...], ...]``).
MAX_STARTS = 1000
#: Limits of a whole config after command-line overrides (see optiviz.config.cost for the
#: estimates): work in run-steps weighted by the evaluations of one step (about an hour at
#: the engine's speed), memory of the records of every entry plus one entry's per-step
#: temporaries (Hessians), and the size of trajectories.csv.
MAX_WORK = 5_000_000_000
MAX_MEMORY = 1_000_000_000
MAX_CSV_BYTES = 1_000_000_000
#: Recorded floats that fit in MAX_MEMORY (the limit as a count of numbers).
MAX_RECORDED = MAX_MEMORY // 8

#: Quantities an ``expect`` check may name (besides ``analysis``).
EXPECT_QUANTITIES = (
    "point",
    "loss",
    "grad_norm",
    "effective_lr",
    "lr_factor",
    "status",
    "diverged_at",
    "n_steps",
    "steps_to_tolerance",
)
#: How the expected value of each quantity is checked: "vector" (one number per
#: variable), "number", "number or vector", "status"; any other quantity is a "count" (an
#: int >= 0 or null).
EXPECT_KINDS = {
    "point": "vector",
    "loss": "number",
    "grad_norm": "number",
    "effective_lr": "number or vector",
    "lr_factor": "number or vector",
    "status": "status",
}

SCHEMA = (
    """\
name: str              file-name-safe name (letters, digits, . _ -); default: the file's stem
description: str       free text shown in the report
surface: NAME | mapping
    NAME                             a library surface (optiviz list surfaces)
    {name: NAME, parameters: {p: v}, l1: float, l2: float, window: [[lo, hi], ...]}
    {expression: TEXT, variables: [x, y], parameters: {p: v}, l1, l2, window,
     minima: [{point: [...], value: float}], description: TEXT}
    {expression: "sum(TERM, i, LO, HI)", n: int, ...}   over x[1] .. x[n] (variables
                       x1 .. xn; window: [lo, hi] for all or one pair each; no transform)
    {data: KIND, dataset: {...}, ...}   a data surface (see optiviz.data)
start: [x1, ..., xn] | [[x1, ..., xn], ...]   the first iterate (one finite number per
                       variable), or several (at most 1000): every entry runs from each;
                       runs are numbered entry by entry, start by start, grid point by point
start_prev: [...]      the iterate before start (problems stated from a history); with
                       several starts, one per start: [[...], [...]]
steps: int             step budget of every run, 1 .. 10^7 (default 1000)
tolerance: {grad: float > 0 | null, loss: float >= 0 | null}   stop when met (default none)
divergence_bound: float > 0 | null   a run whose |loss| exceeds it has diverged
                       (default 1e12 x max(1, |initial loss|); non-finite values always do)
record: all | final    keep every iterate (default) or only the final one
seed: int >= 0         seeds mini-batch sampling (default 0)
backend: numpy | jax | auto   the engine of the entries' runs (default numpy): jax compiles
                       surface, update and loop into one program (pip install 'optiviz[jax]';
                       expression and structured surfaces, full batch, no line searches);
                       auto compiles runs of >= 1e5 steps (<= 1000 runs) where it can, else
                       numpy
seeds: int 1 .. 1000   repeats: every entry with a batch_size runs with the seeds seed,
                       seed+1, ..., seed+N-1 (runs numbered seed fastest; figures draw the
                       median and a quantile band, the report median [q10, q90]); entries
                       without mini-batches are deterministic and run once (default 1)
evaluation_weights: {f: w, grad: w, hess: w}   the cost of one evaluation of each kind
                       (w >= 0 or n, the number of variables; default f: 1, grad: 1,
                       hess: n): the loss figure's x_axis: evaluations, the report's column
optimizers:            a list; each entry is one run, or one batched run if it has a grid
  - name: NAME         optiviz list optimizers
    label: TEXT        legend label (default: name and the hyperparameters set)
    <hyperparameter>: value | {grid: GRID}     e.g. lr: 0.01, momentum: 0.9, betas: [0.9, 0.999]
    lr: {times_eta_opt: float | {grid: GRID}}  relative to the Hessian-derived eta_opt
    schedule: {name: NAME, <schedule hyperparameter>: value}   optiviz list schedules
    batch_size: int > 0  mini-batch size (data surfaces only)
    steps: int         this entry's step budget (default: the top-level steps)
    record: all | final
  GRID: {logspace: [a, b, n]} (10^a .. 10^b) | {linspace: [a, b, n]} | {values: [v1, ...]};
        several grids in one entry form their Cartesian product (one batched run)
"""
    + schema_line()
    + """\
formats: [png, svg, pdf]                                      (default [png])
projection: [var_a, var_b] | hessian   the plane the surface figures show for n > 2
                       (default: the top two Hessian eigenvectors at the minimum)
report:                the analysis in report.md
  at: [x1, ..., xn]    also analyse the local quadratic model at this point (and take
                       eta_opt there for times_eta_opt)
  l1: float, l2: float regularized optima through the Hessian (analysis only)
  early_stopping: {lr: float, t: int}   GD-from-the-origin shrink factors
expect:                a list of checks of the results (the test suite asserts them)
  - {run: INDEX | LABEL, step: int, QUANTITY: value, tol: float}
      QUANTITY: point | loss | grad_norm | effective_lr | lr_factor
  - {run: INDEX | LABEL, status | diverged_at | n_steps | steps_to_tolerance: value}
  - {analysis: dotted.path, value: value, tol: float}
    note: TEXT  (optional on any check: the question, the answer, the erratum)
suite:                 surfaces x starts x optimizers instead of surface/start/optimizers
                       (keys of a suite config: name, description, steps, divergence_bound,
                       seed, figures, formats, suite; see docs/config.md "Suites")
  surfaces: [NAME | {<surface mapping>, starts: STARTS}, ...]   a parameter may be swept:
                       {name: rosenbrock, parameters: {n: {values: [2, 4, 8]}}}
  starts: STARTS       [[x1, ..., xn], ...] | {random: K} (K points uniform in each
                       surface's window, seeded by seed)
  optimizers: [...]    entries as in optimizers:, fixed settings (no grid, steps, record)
  tolerance: float     solved when f(x_t) <= f* + tolerance (f(x0) - f*), 0 < tol < 1
                       (default 1e-3); f* the surface's lowest known minimum, else the
                       lowest loss a non-diverged run reached on that problem
  cost: steps | evaluations   the unit of the cost to pass the test (default steps;
                       evaluations: f 1, gradient 1, Hessian n, as the loss figure's axis)
  tune: {budget, sampler, seed, objective, space}   tune every entry on each surface (its
                       starts, the suite's steps) with the same budget, then run the best
                       setting (the tune: block's keys below, but no horizon)
tune:                  tune every entry with one budget, then run the best settings (best.yaml)
  budget: int          trials per optimizer, the same for every one (default 64)
  sampler: grid | random | sobol | halton   the trials' points (default sobol; seeded)
  seed: int >= 0       the sampler's seed (default: seed)
  objective: final_loss | best_loss | steps_to_tol | area   lower is better (default
                       final_loss; steps_to_tol needs tolerance, area needs f*)
  horizon: int         steps of every trial and of the comparison (default: steps)
  space: {OPTIMIZER: {hyperparameter: {log: [a, b]} | {uniform: [a, b]} | {values: [...]}
                       | value}}   overrides the optimizer's default space key by key
                       (lr log-uniform 1e-5..10; momentum, betas, alpha, rho, beta uniform
                       0..0.99); an entry's own hyperparameters are fixed, not searched
"""
)


#: Keys of each block (unknown keys are refused with the nearest one suggested).
TOP_KEYS = (
    "name",
    "description",
    "surface",
    "start",
    "start_prev",
    "steps",
    "tolerance",
    "divergence_bound",
    "record",
    "seed",
    "backend",
    "seeds",
    "evaluation_weights",
    "optimizers",
    "figures",
    "formats",
    "projection",
    "report",
    "expect",
    "suite",
    "tune",
)
LIBRARY_SURFACE_KEYS = ("name", "parameters", "l1", "l2", "window", "transform")
EXPRESSION_SURFACE_KEYS = (
    "expression",
    "variables",
    "n",
    "parameters",
    "l1",
    "l2",
    "window",
    "minima",
    "description",
    "transform",
    "name",
)
ENTRY_KEYS = ("name", "label", "schedule", "batch_size", "steps", "record")
GRID_FORMS = ("logspace", "linspace", "values")
