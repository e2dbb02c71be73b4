"""What a whole config costs -- work, memory, CSV size -- and the limits it must keep.

One estimate for every entry of a config (after command-line overrides), summed over the
config, because an experiment keeps every entry's records until its outputs are written:

runs
    an entry's grid points times the start points (``start: [[...], [...]]``), times
    ``seeds`` for an entry that draws mini-batches (its repeats)
work
    run-steps weighted by the evaluations of one step: 1 for a first-order rule, 1 +
    ``max_iter`` for ``line_search`` (its refinement evaluations, worst case), 1 +
    ``max_backtracks`` for ``armijo``, 1 + n for ``newton`` (a Hessian costs about n
    gradients).
memory
    the per-step records every entry keeps (the engine's own estimate,
    :func:`optiviz.engine.checks.record_bytes`: 3n + 2 floats per run and step with
    ``record: all``) plus the largest per-step temporaries of one entry (``newton``: one
    n x n Hessian per run, R n^2 8 bytes).
CSV
    ``trajectories.csv``: one row per run and recorded step (one per run with ``record:
    final``) of about 40 + 24 (n + 2 + h) bytes, h the entry's hyperparameter columns (an
    upper estimate: each float written by ``repr``).

trials
    a ``tune:`` block runs ``budget`` trials of every entry from every start for the
    horizon, one batched run per entry (``record: final``, ``path`` for the ``area``
    objective); they count in the work, and one entry's trial records in the temporaries.

figures
    a figure kind that runs its own runs (``basins``: a grid of starts per entry) states
    their work and memory (``FigureKind.work``); they count with the entries'.

The limits (:data:`~optiviz.config.schema.MAX_WORK`, ``MAX_MEMORY``, ``MAX_CSV_BYTES``) are
documented in docs/config.md; ``optiviz validate`` prints the estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optiviz._format import plural_count
from optiviz.config.fields import Problems
from optiviz.config.schema import MAX_CSV_BYTES, MAX_MEMORY, MAX_WORK

#: Hyperparameters that bound the evaluations of one step (worst case), by optimizer.
_EVALUATIONS = {"line_search": "max_iter", "armijo": "max_backtracks"}
#: Optimizers that take a Hessian each step.
_HESSIAN = ("newton",)
_CSV_ROW = 40
_CSV_FLOAT = 24


@dataclass(frozen=True)
class EntryCost:
    """The cost of one ``optimizers`` entry (see the module docstring)."""

    index: int
    runs: int
    steps: int
    record: str
    step_cost: int
    work: int
    record_bytes: int
    temp_bytes: int
    csv_bytes: int


@dataclass(frozen=True)
class FigureCost:
    """The cost of a figure kind's own runs (``figures[index]``: a basins grid, ...)."""

    index: int
    kind: str
    work: int
    memory: int


@dataclass(frozen=True)
class ConfigCost:
    """The cost of a whole config: its entries' and figures' costs and their totals."""

    entries: tuple[EntryCost, ...]
    figures: tuple[FigureCost, ...] = ()
    #: Where an entry's index points (a suite's entries are ``suite.optimizers[i]``).
    entry_key: str = "optimizers"
    #: The trials of a ``tune:`` block, one per entry (their records are temporaries).
    trials: tuple[EntryCost, ...] = ()

    @property
    def work(self) -> int:
        return (
            sum(e.work for e in self.entries)
            + sum(f.work for f in self.figures)
            + sum(t.work for t in self.trials)
        )

    @property
    def memory(self) -> int:
        """Records of every entry plus the largest temporaries of one entry or figure (the
        figures run one at a time, after the entries, while their records are kept)."""
        temps = [e.temp_bytes for e in self.entries] + [f.memory for f in self.figures]
        temps += [t.record_bytes + t.temp_bytes for t in self.trials]
        return sum(e.record_bytes for e in self.entries) + max(temps, default=0)

    @property
    def csv_bytes(self) -> int:
        return sum(e.csv_bytes for e in self.entries)

    def summary(self) -> str:
        """``"work: 24008 run-steps, memory: 1.5 MB, CSV: 2.9 MB"``."""
        return (
            f"work: {self.work} run-steps, memory: {_mb(self.memory)}, CSV: {_mb(self.csv_bytes)}"
        )


def _mb(b: int) -> str:
    return f"{b / 1e6:.1f} MB" if b < 1e9 else f"{b / 1e9:.1f} GB"


def _largest(spec: Any, key: str) -> int:
    """The largest value of an int hyperparameter (fixed, swept, or the default)."""
    from optiviz.optimizers import get_class

    if key in spec.grids:
        return int(max(spec.grids[key].values))
    if key in spec.hyperparameters:
        return int(spec.hyperparameters[key])
    return int(get_class(spec.name).params[key].default)


def _hyper_columns(name: str) -> int:
    """The hyperparameter columns an optimizer fills in trajectories.csv (a pair is two)."""
    from optiviz.optimizers import get_class

    return sum(
        len(p.default) if isinstance(p.default, tuple) else 1
        for p in get_class(name).params.values()
    )


def entry_cost(
    spec: Any, steps: int, record: str, n: int, starts: int = 1, seeds: int = 1
) -> EntryCost:
    """The cost of one entry run for ``steps`` steps with ``record`` on n variables from
    ``starts`` start points (its grid points from each start), with ``seeds`` repeats if it
    draws mini-batches."""
    from optiviz.engine.checks import record_bytes

    runs = spec.n_runs * starts * (seeds if spec.batch_size is not None else 1)
    batched = spec.is_grid or runs > 1
    key = _EVALUATIONS.get(spec.name)
    step_cost = 1 + (_largest(spec, key) if key else n if spec.name in _HESSIAN else 0)
    rows = runs * (steps + 1) if record != "final" else runs
    return EntryCost(
        index=spec.index,
        runs=runs,
        steps=steps,
        record=record,
        step_cost=step_cost,
        work=runs * steps * step_cost,
        record_bytes=record_bytes(record, steps, runs if batched else None, n),
        temp_bytes=8 * runs * n * n if spec.name in _HESSIAN else 0,
        csv_bytes=rows * (_CSV_ROW + _CSV_FLOAT * (n + 2 + _hyper_columns(spec.name))),
    )


def config_cost(
    optimizers: Sequence[Any],
    steps: int,
    record: str,
    n: int,
    starts: int = 1,
    figures: Sequence[tuple[str, Mapping[str, Any]]] = (),
    view: Any = None,
    seeds: int = 1,
    tune: Any = None,
) -> ConfigCost:
    """The cost of the entries ``optimizers`` (each entry's own ``steps`` and ``record``
    over the config's), each run from ``starts`` start points, and of the figures
    ``[(kind, options)]`` whose kind runs its own (``FigureKind.work``, given ``view``: the
    config or the validation's view of it)."""
    from optiviz.figures import get

    figs = []
    for i, (name, options) in enumerate(figures):
        work = get(name).work
        if work is not None and view is not None:
            w, m = work(view, options)
            figs.append(FigureCost(i, name, int(w), int(m)))
    trials: tuple[EntryCost, ...] = ()
    if tune is not None:
        from dataclasses import replace

        from optiviz.tuning.objectives import needs_losses

        horizon = tune.horizon if tune.horizon is not None else steps
        rec = "path" if needs_losses(tune.objective) else "final"
        trials = tuple(
            replace(entry_cost(_Trials(o, tune.budget), horizon, rec, n, starts), csv_bytes=0)
            for o in optimizers
        )
    return ConfigCost(
        tuple(
            entry_cost(
                o,
                o.steps if o.steps is not None else steps,
                o.record if o.record is not None else record,
                n,
                starts,
                seeds,
            )
            for o in optimizers
        ),
        tuple(figs),
        trials=trials,
    )


def suite_cost(
    optimizers: Sequence[Any],
    steps: int,
    surfaces: Sequence[tuple[int, int, str]],
    trials: int = 0,
) -> ConfigCost:
    """The cost of a suite (:mod:`optiviz.config.suite`): each entry of ``optimizers`` run
    for ``steps`` steps from the starts of every surface, ``surfaces`` giving ``(n, starts,
    where)`` of each. An entry's work, memory and CSV are summed over the surfaces: its
    runs keep the loss of every step (8 (steps + 1) bytes a run, with the batched loop's
    per-step counts) and write one suite.csv row each."""
    from optiviz.engine.checks import record_bytes

    out = []
    for o in optimizers:
        parts = [entry_cost(o, steps, "final", n, starts) for n, starts, _ in surfaces if starts]
        runs = sum(p.runs for p in parts)
        out.append(
            EntryCost(
                index=o.index,
                runs=runs,
                steps=steps,
                record="final",
                step_cost=max((p.step_cost for p in parts), default=1),
                # a tuned suite runs ``trials`` settings of the entry before its best one
                work=(1 + trials) * sum(p.work for p in parts),
                record_bytes=sum(
                    8 * (steps + 1) * p.runs + record_bytes("final", steps, p.runs, 1)
                    for p in parts
                ),
                temp_bytes=max((p.temp_bytes for p in parts), default=0),
                csv_bytes=runs * (_CSV_ROW + _CSV_FLOAT * (12 + _hyper_columns(o.name))),
            )
        )
    return ConfigCost(tuple(out), entry_key="suite.optimizers")


class _Trials:
    """An entry as its trials: ``budget`` runs in one batch (for :func:`entry_cost`)."""

    def __init__(self, spec: Any, budget: int):
        self.spec, self.n_runs, self.is_grid = spec, int(budget), True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.spec, name)


def check_cost(errs: Problems, cost: ConfigCost, steps_key: str = "steps") -> None:
    """Add a problem for each limit ``cost`` exceeds, at the key that decides it: the entry
    that takes the most (``optimizers[i]``), naming the totals and what to change.
    ``steps_key`` names where the step budget came from (``--steps`` after an override)."""
    if not cost.entries:
        return
    top_work = max(cost.entries, key=lambda e: e.work)
    top_mem = max(cost.entries, key=lambda e: e.record_bytes + e.temp_bytes)
    top_csv = max(cost.entries, key=lambda e: e.csv_bytes)
    top_fig = max(cost.figures, key=lambda f: f.work, default=None)
    top_trials = max(cost.trials, key=lambda t: t.work, default=None)
    if cost.work > MAX_WORK and top_trials is not None and top_trials.work > top_work.work:
        t = top_trials
        per = f" x {t.step_cost} evaluations per step" if t.step_cost > 1 else ""
        errs.add(
            "tune.budget",
            f"the config is too much work: {cost.work:.3g} run-steps in all (the trials of "
            f"optimizers[{t.index}]: {plural_count(t.runs, 'run')} x {t.steps} steps{per}); "
            f"at most {MAX_WORK:.0e} per config: use a smaller budget, fewer starts or a "
            "shorter horizon",
        )
    elif cost.work > MAX_WORK and top_fig is not None and top_fig.work > top_work.work:
        errs.add(
            f"figures[{top_fig.index}]",
            f"the config is too much work: {cost.work:.3g} run-steps in all (this "
            f"{top_fig.kind} figure's own runs: {top_fig.work:.3g}); at most {MAX_WORK:.0e} "
            f"per config: lower its resolution or steps",
        )
    elif cost.work > MAX_WORK:
        e = top_work
        per = f" x {e.step_cost} evaluations per step" if e.step_cost > 1 else ""
        errs.add(
            f"{cost.entry_key}[{e.index}]",
            f"the config is too much work: {cost.work:.3g} run-steps in all (this entry: "
            f"{plural_count(e.runs, 'run')} x {e.steps} steps{per}); at most {MAX_WORK:.0e} "
            "per config: "
            f"use fewer steps ({steps_key}), a coarser grid or fewer entries",
        )
    big_fig = max(cost.figures, key=lambda f: f.memory, default=None)
    if (
        cost.memory > MAX_MEMORY
        and big_fig is not None
        and big_fig.memory > (top_mem.record_bytes + top_mem.temp_bytes)
    ):
        errs.add(
            f"figures[{big_fig.index}]",
            f"the config needs about {_mb(cost.memory)} of memory in all (this "
            f"{big_fig.kind} figure's own runs: {_mb(big_fig.memory)}); at most "
            f"{_mb(MAX_MEMORY)} per config: lower its resolution",
        )
    elif cost.memory > MAX_MEMORY:
        e = top_mem
        what = (
            f"{plural_count(e.runs, 'run')} x {e.steps} steps with record: {e.record} would keep "
            f"{_mb(e.record_bytes)}"
            + (f", and its Hessians take {_mb(e.temp_bytes)} per step" if e.temp_bytes else "")
        )
        hint = (
            "add 'record: final' to the entry or use fewer steps"
            if e.record != "final"
            else "use fewer runs"
        )
        errs.add(
            f"{cost.entry_key}[{e.index}]",
            f"the config needs about {_mb(cost.memory)} of memory in all (this entry: "
            f"{what}); at most {_mb(MAX_MEMORY)} per config: {hint}",
        )
    if cost.csv_bytes > MAX_CSV_BYTES:
        e = top_csv
        errs.add(
            f"{cost.entry_key}[{e.index}]",
            f"trajectories.csv would be about {_mb(cost.csv_bytes)} (this entry: "
            f"{plural_count(e.runs, 'run')} x "
            f"{e.steps + 1} recorded steps); at most {_mb(MAX_CSV_BYTES)} per config: add "
            "'record: final' to the entry or use fewer steps",
        )
