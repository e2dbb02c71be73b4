"""The validated config as frozen dataclasses (what the parsers return and the experiment
reads), and the expansion of an entry's grids into per-run hyperparameter arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GridSpec:
    """A swept hyperparameter: the YAML form and its expanded values."""

    form: str  # "logspace" | "linspace" | "values"
    args: tuple
    values: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"grid": {self.form: list(self.args)}}


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, **self.params}


@dataclass(frozen=True)
class SurfaceSpec:
    """Where the surface comes from: ``kind`` is "library", "expression" or "data"."""

    kind: str
    name: str | None = None
    expression: str | None = None
    variables: tuple[str, ...] = ()
    n: int | None = None  # an expression over x[1] .. x[n] (sum(term, i, lo, hi)): no variables
    parameters: dict = field(default_factory=dict)
    l1: float = 0.0
    l2: float = 0.0
    window: tuple | None = None
    minima: tuple | None = None
    description: str = ""
    data: dict | None = None  # the whole mapping for data surfaces
    transform: dict | None = None  # {rotate: degrees, scale: [...], plane: [a, b]}
    base_dir: str | None = field(default=None, compare=False)  # resolves dataset.csv paths

    def to_dict(self) -> dict:
        if self.kind == "data":
            return dict(self.data or {})
        out: dict[str, Any] = {}
        if self.kind == "library":
            out["name"] = self.name
        else:
            out["expression"] = self.expression
            if self.n is not None:
                out["n"] = self.n
            else:
                out["variables"] = list(self.variables)
            if self.name is not None:
                out["name"] = self.name
        out["parameters"] = dict(self.parameters)
        out["l1"] = self.l1
        out["l2"] = self.l2
        if self.window is not None:
            out["window"] = [list(w) for w in self.window]
        if self.kind == "expression":
            if self.minima is not None:
                out["minima"] = [dict(m) for m in self.minima]
            if self.description:
                out["description"] = self.description
        if self.transform is not None:
            out["transform"] = dict(self.transform)
        return out


@dataclass(frozen=True)
class OptimizerSpec:
    """One ``optimizers`` entry.

    ``hyperparameters`` holds fixed values, ``grids`` the swept ones (Cartesian product in
    the order given), ``lr_times_eta_opt`` a relative learning rate (a float, or a
    :class:`GridSpec` of factors).
    """

    index: int
    name: str
    label: str | None = None
    hyperparameters: dict = field(default_factory=dict)
    grids: dict = field(default_factory=dict)  # name -> GridSpec
    lr_times_eta_opt: Any = None  # float | GridSpec | None
    schedule: ScheduleSpec | None = None
    batch_size: int | None = None
    steps: int | None = None
    record: str | None = None

    @property
    def is_grid(self) -> bool:
        return bool(self.grids) or isinstance(self.lr_times_eta_opt, GridSpec)

    @property
    def sweeps_lr(self) -> bool:
        return "lr" in self.grids or isinstance(self.lr_times_eta_opt, GridSpec)

    @property
    def n_runs(self) -> int:
        n = 1
        for g in self.grids.values():
            n *= len(g.values)
        if isinstance(self.lr_times_eta_opt, GridSpec):
            n *= len(self.lr_times_eta_opt.values)
        return n

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name}
        if self.label is not None:
            out["label"] = self.label
        out.update(
            {k: list(v) if isinstance(v, tuple) else v for k, v in self.hyperparameters.items()}
        )
        for k, g in self.grids.items():
            out[k] = g.to_dict()
        if self.lr_times_eta_opt is not None:
            f = self.lr_times_eta_opt
            out["lr"] = {"times_eta_opt": f.to_dict() if isinstance(f, GridSpec) else f}
        if self.schedule is not None:
            out["schedule"] = self.schedule.to_dict()
        if self.batch_size is not None:
            out["batch_size"] = self.batch_size
        if self.steps is not None:
            out["steps"] = self.steps
        if self.record is not None:
            out["record"] = self.record
        return out


@dataclass(frozen=True)
class Tolerance:
    grad: float | None = None
    loss: float | None = None


@dataclass(frozen=True)
class ReportSpec:
    """What the analysis adds: a point ``at``, regularized optima, early stopping."""

    at: tuple[float, ...] | None = None
    l1: float | None = None
    l2: float | None = None
    early_stopping: tuple[float, int] | None = None  # (lr, t)

    def to_dict(self) -> dict:
        return {
            "at": None if self.at is None else list(self.at),
            "l1": self.l1,
            "l2": self.l2,
            "early_stopping": None
            if self.early_stopping is None
            else {"lr": self.early_stopping[0], "t": self.early_stopping[1]},
        }


@dataclass(frozen=True)
class Expectation:
    """One check of the results: ``quantity`` of run ``run`` (after ``step``), or an
    ``analysis`` value at a dotted path."""

    index: int
    quantity: str  # one of EXPECT_QUANTITIES, or "analysis"
    value: Any
    run: int | str | None = None
    step: int | None = None
    path: str | None = None  # analysis path
    tol: float = 1e-6
    note: str = ""

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        if self.quantity == "analysis":
            out["analysis"] = self.path
            out["value"] = self.value
        else:
            out["run"] = self.run
            if self.step is not None:
                out["step"] = self.step
            out[self.quantity] = self.value
        if isinstance(self.value, (float, int, list)) and not isinstance(self.value, bool):
            out["tol"] = self.tol
        if self.note:
            out["note"] = self.note
        return out

    def describe(self) -> str:
        if self.quantity == "analysis":
            return f"analysis {self.path} == {self.value!r}"
        when = "final" if self.step is None else f"step {self.step}"
        return f"run {self.run!r} {self.quantity} ({when}) == {self.value!r}"


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment (see :data:`SCHEMA`). ``path`` is the file it came from."""

    name: str
    surface: SurfaceSpec
    start: tuple[float, ...]
    optimizers: tuple[OptimizerSpec, ...]
    description: str = ""
    start_prev: tuple[float, ...] | None = None
    steps: int = 1000
    tolerance: Tolerance = Tolerance()
    divergence_bound: float | None = None
    record: str = "all"
    seed: int = 0
    #: The engine's backend of the entries' runs (optiviz.backends): numpy, jax or auto.
    backend: str = "numpy"
    #: Repeats of each entry that draws mini-batches, seeds seed .. seed + seeds - 1.
    seeds: int = 1
    #: What one f / gradient / Hessian evaluation costs (a number or "n" per kind).
    evaluation_weights: Mapping[str, Any] = field(
        default_factory=lambda: {"f": 1, "grad": 1, "hess": "n"}
    )
    figures: tuple[str, ...] = ("contour", "loss")
    #: The options a config sets, per figure kind (only kinds and options it gives).
    figure_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    formats: tuple[str, ...] = ("png",)
    projection: tuple[str, str] | str | None = None
    report: ReportSpec = ReportSpec()
    expect: tuple[Expectation, ...] = ()
    path: str | None = None
    variables: tuple[str, ...] = ()  # the surface's variables (filled in by validation)
    #: Every start point (``start`` is the first); each entry runs from each of them.
    starts: tuple[tuple[float, ...], ...] = ()
    #: The iterate before each start (``start_prev`` is the first), or None.
    starts_prev: tuple[tuple[float, ...], ...] | None = None
    #: The ``tune:`` block (a :class:`~optiviz.tuning.TuneSpec`), or None.
    tune: Any = None
    _surface: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.starts:
            object.__setattr__(self, "starts", (tuple(self.start),))
        if self.starts_prev is None and self.start_prev is not None:
            object.__setattr__(self, "starts_prev", (tuple(self.start_prev),))

    # -- derived -----------------------------------------------------------------------
    def steps_of(self, spec: OptimizerSpec) -> int:
        return spec.steps if spec.steps is not None else self.steps

    def record_of(self, spec: OptimizerSpec) -> str:
        return spec.record if spec.record is not None else self.record

    def options_of(self, kind: str) -> dict[str, Any]:
        """Every option of the figure ``kind``: the config's values, else the defaults."""
        from optiviz.figures import option_defaults

        return option_defaults(kind) | dict(self.figure_options.get(kind, {}))

    def repeats_of(self, spec: OptimizerSpec) -> int:
        """How many seeds the entry runs with: ``seeds`` if it draws mini-batches, else 1
        (a deterministic entry: every seed gives the same run)."""
        return self.seeds if spec.batch_size is not None else 1

    def seeds_of(self, spec: OptimizerSpec) -> tuple[int, ...]:
        """The seeds of the entry's repeats: ``seed, seed + 1, ...`` (one for an entry
        that draws no mini-batches)."""
        return tuple(self.seed + k for k in range(self.repeats_of(spec)))

    @property
    def n_runs(self) -> int:
        """Every run: each entry's grid points from each start, with each of its seeds."""
        return sum(self.runs_of(o) for o in self.optimizers)

    def runs_of(self, spec: OptimizerSpec) -> int:
        """The runs of one entry: its grid points times the starts times its repeats."""
        return spec.n_runs * len(self.starts) * self.repeats_of(spec)

    def cost(self):
        """The work, memory and CSV size of the whole config
        (:class:`~optiviz.config.cost.ConfigCost`)."""
        from optiviz.config.cost import config_cost

        return config_cost(
            self.optimizers,
            self.steps,
            self.record,
            len(self.variables) or 1,
            starts=len(self.starts),
            figures=[(f, self.options_of(f)) for f in self.figures],
            view=self,
            seeds=self.seeds,
            tune=self.tune,
        )

    def build_surface(self):
        """The surface (built once during validation and cached)."""
        if self._surface is None:
            from optiviz.config.surface import build_surface

            object.__setattr__(self, "_surface", build_surface(self.surface))
        return self._surface

    def to_dict(self) -> dict:
        """The resolved config: every default filled in (what ``config.yaml`` holds)."""
        surf = self.surface
        surface = (
            surf.name
            if (
                surf.kind == "library"
                and not surf.parameters
                and not surf.l1
                and not surf.l2
                and surf.window is None
            )
            else surf.to_dict()
        )
        out = {
            "name": self.name,
            "description": self.description,
            "surface": surface,
            "start": points_as_written(self.starts),
            "start_prev": None if self.starts_prev is None else points_as_written(self.starts_prev),
            "steps": self.steps,
            "tolerance": {"grad": self.tolerance.grad, "loss": self.tolerance.loss},
            "divergence_bound": self.divergence_bound,
            "record": self.record,
            "seed": self.seed,
            "backend": self.backend,
            "seeds": self.seeds,
            "evaluation_weights": dict(self.evaluation_weights),
            # a tuned entry lists only what it fixes (its defaults would fix the search)
            "optimizers": [
                o.to_dict() if self.tune is not None else with_defaults(o) for o in self.optimizers
            ],
            "figures": [
                {f: dict(self.figure_options[f])} if self.figure_options.get(f) else f
                for f in self.figures
            ],
            "formats": list(self.formats),
            "projection": (
                self.projection if self.projection in (None, "hessian") else list(self.projection)
            ),
            "report": self.report.to_dict(),
            "expect": [e.to_dict() for e in self.expect],
        }
        if self.tune is not None:
            out["tune"] = self.tune.to_dict()
        return out


def points_as_written(points: tuple[tuple[float, ...], ...]) -> list:
    """``start`` as a config writes it: one point ``[x, y]``, or a list of points."""
    return list(points[0]) if len(points) == 1 else [list(p) for p in points]


def with_defaults(spec: OptimizerSpec) -> dict:
    """An entry's dict with every hyperparameter the optimizer takes (defaults filled)."""
    from optiviz.optimizers import get_class

    out = spec.to_dict()
    for key, param in get_class(spec.name).params.items():
        if key not in out:
            d = param.default
            out[key] = list(d) if isinstance(d, tuple) else d
    if spec.schedule is not None:
        from optiviz.schedules import make_schedule

        sched = make_schedule(spec.schedule.name, **spec.schedule.params)
        out["schedule"] = {"name": spec.schedule.name, **sched.hyper}
    return out


def expand_grid(spec: OptimizerSpec, eta_opt: float | None = None) -> dict:
    """The hyperparameters of an entry with grids expanded to per-run arrays.

    Grids form a Cartesian product in the order written, the relative-lr grid last
    (fastest-varying). ``eta_opt`` resolves ``lr: {times_eta_opt: ...}``. A grid entry
    returns 1-D numpy arrays of length ``spec.n_runs`` for the swept keys.
    """
    import numpy as np

    hp = dict(spec.hyperparameters)
    axes: list[tuple[str, np.ndarray]] = [(k, np.asarray(g.values)) for k, g in spec.grids.items()]
    rel = spec.lr_times_eta_opt
    if rel is not None and eta_opt is None:
        raise ValueError("expand_grid: a relative learning rate needs eta_opt")
    if isinstance(rel, GridSpec):
        axes.append(("lr", np.asarray(rel.values) * float(eta_opt or 0.0)))
    elif rel is not None:
        hp["lr"] = float(rel) * float(eta_opt or 0.0)
    if axes:
        mesh = np.meshgrid(*[a for _, a in axes], indexing="ij")
        for (k, _), arr in zip(axes, mesh, strict=False):
            hp[k] = arr.reshape(-1)
    return hp


def default_label(spec: OptimizerSpec) -> str:
    """The label an ``expect`` check uses for an entry: its ``label``, else its name."""
    return spec.label if spec.label is not None else spec.name
