"""The tuning protocol: the same budget of trials for every optimizer, each optimizer's
trials as one batched run, judged by one objective at one horizon.

:func:`tune` is the Python API (a suite calls it once per problem); a config's ``tune:``
block (:mod:`optiviz.config.tune`) runs it through :mod:`optiviz.experiment.tuning`, which
then reruns the best settings as the ordinary experiment of the tuned config.

For each optimizer: its :class:`~optiviz.tuning.space.SearchSpace` (the class's default
space overridden by ``spec.space[name]``), ``budget`` points of the sampler mapped onto it,
every point run from every start for ``horizon`` steps as **one** batched run (run
``s * budget + j``: trial j from start s), each run judged by the objective
(:mod:`optiviz.tuning.objectives`) and each trial by the mean over its starts. The best
trial is the one with the lowest objective (the first of equals; trial 0 when every trial
diverged).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiviz.errors import OptivizError
from optiviz.tuning.curve import TuningCurve, tuning_curve
from optiviz.tuning.objectives import (
    OBJECTIVES,
    needs_losses,
    run_objectives,
    trial_objectives,
    trial_status,
)
from optiviz.tuning.samplers import MAX_DIMENSIONS, SAMPLERS, grid_counts, unit_points
from optiviz.tuning.space import SearchSpace, parse_space

__all__ = ["Candidate", "TuneResult", "TuneSpec", "TunedOptimizer", "tune"]

#: The most trials of one optimizer (times its starts: the runs of one batched run).
MAX_BUDGET = 100_000


@dataclass(frozen=True)
class TuneSpec:
    """What a tuning does, the same for every optimizer and every surface.

    budget : trials per optimizer. sampler : "grid", "random", "sobol" or "halton".
    seed : the sampler's seed. objective : see :data:`~optiviz.tuning.objectives.OBJECTIVES`.
    horizon : steps of every trial (and of the final comparison); None: the ``steps``
    given to :func:`tune` (a config's ``steps``). space : per optimizer name, written
    dimensions overriding its default space (:mod:`optiviz.tuning.space`).
    """

    budget: int = 64
    sampler: str = "sobol"
    seed: int = 0
    objective: str = "final_loss"
    horizon: int | None = None
    space: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.budget, bool) or not isinstance(self.budget, (int, np.integer)):
            raise _bad("tune.budget", self.budget, f"an int in the range [1, {MAX_BUDGET}]")
        if not 1 <= self.budget <= MAX_BUDGET:
            raise _bad("tune.budget", self.budget, f"an int in the range [1, {MAX_BUDGET}]")
        if self.sampler not in SAMPLERS:
            raise _bad("tune.sampler", self.sampler, f"one of {', '.join(SAMPLERS)}")
        if self.objective not in OBJECTIVES:
            raise _bad("tune.objective", self.objective, f"one of {', '.join(OBJECTIVES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise _bad("tune.seed", self.seed, "an int in the range [0, 2^32 - 1]")
        if self.horizon is not None and (
            isinstance(self.horizon, bool)
            or not isinstance(self.horizon, (int, np.integer))
            or self.horizon < 1
        ):
            raise _bad("tune.horizon", self.horizon, "an int >= 1 (steps of every trial)")

    def to_dict(self) -> dict:
        return {
            "budget": int(self.budget),
            "sampler": self.sampler,
            "seed": int(self.seed),
            "objective": self.objective,
            "horizon": self.horizon,
            "space": {k: dict(v) for k, v in self.space.items()},
        }


def _bad(key: str, value: Any, allowed: str) -> OptivizError:
    from optiviz.config.fields import show

    return OptivizError(
        f"{key}: {show(value)} is not allowed: must be {allowed}",
        owner="tune",
        key=key,
        value=value,
        allowed=allowed,
    )


@dataclass(frozen=True)
class Candidate:
    """One optimizer to tune: its name, the hyperparameters it fixes, its label, and the
    schedule (a factory ``() -> schedule`` or None) and mini-batch size of its runs."""

    name: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None
    schedule: Any = None
    batch_size: int | None = None
    index: int = 0

    @classmethod
    def of(cls, item: Any, index: int = 0) -> Candidate:
        """A name, a mapping ``{name: ..., label: ..., <hyperparameter>: value}`` or a
        Candidate."""
        if isinstance(item, Candidate):
            return item
        if isinstance(item, str):
            return cls(item, index=index)
        if isinstance(item, Mapping) and "name" in item:
            rest = {k: v for k, v in item.items() if k not in ("name", "label")}
            return cls(str(item["name"]), rest, item.get("label"), index=index)
        raise OptivizError(
            f"optimizers[{index}]: {item!r} is not allowed: must be an optimizer name or a "
            "mapping {name: NAME, <hyperparameter>: value}",
            key=f"optimizers[{index}]",
        )

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass
class TunedOptimizer:
    """The trials of one optimizer: trial j's searched values ``values[j]`` (columns
    :attr:`SearchSpace.names`), its objective and status; the best trial."""

    candidate: Candidate
    space: SearchSpace
    values: np.ndarray  # (budget, d)
    objectives: np.ndarray  # (budget,)
    status: list[str]
    per_run: np.ndarray  # (starts, budget): each run's objective
    best: int
    wall_time: float = 0.0

    @property
    def name(self) -> str:
        return self.candidate.name

    @property
    def label(self) -> str:
        return self.candidate.title

    @property
    def run_label(self) -> str:
        """The legend label of the best setting's run (the candidate's label, else the
        optimizer's own with its hyperparameters): the tuning figures colour by it, so an
        optimizer has one colour in them and in the final comparison."""
        if self.candidate.label is not None:
            return self.candidate.label
        from optiviz.optimizers import make_optimizer

        return make_optimizer(self.name, **self.best_setting).label()

    @property
    def best_objective(self) -> float:
        return float(self.objectives[self.best])

    @property
    def best_setting(self) -> dict[str, Any]:
        """The best trial's hyperparameters: searched values, space-fixed ones and the
        candidate's own (floats; pairs as tuples)."""
        return dict(self.candidate.fixed) | self.space.setting(self.values[self.best])

    def setting(self, j: int) -> dict[str, Any]:
        return dict(self.candidate.fixed) | self.space.setting(self.values[j])

    def curve(self) -> TuningCurve:
        """The tuning curve of these trials (:mod:`optiviz.tuning.curve`)."""
        return tuning_curve(self.objectives)


@dataclass
class TuneResult:
    """Everything a tuning found: the spec, the horizon, the starts, one
    :class:`TunedOptimizer` per candidate (in order)."""

    spec: TuneSpec
    horizon: int
    starts: tuple[tuple[float, ...], ...]
    optimizers: list[TunedOptimizer]
    surface: str = ""
    wall_time: float = 0.0
    interrupted: bool = False

    @property
    def objective(self) -> str:
        return self.spec.objective

    def columns(self) -> list[str]:
        """The hyperparameter columns of tune.csv: every searched dimension's name, in
        order of first appearance."""
        out: list[str] = []
        for t in self.optimizers:
            out += [n for n in t.space.names if n not in out]
        return out

    def to_csv(self) -> str:
        """tune.csv: one row per trial: ``entry, optimizer, label, trial``, one column per
        searched hyperparameter (empty where that optimizer does not search it), the
        objective (named by it), ``status`` and ``best`` (``true`` on each optimizer's best
        trial). Floats at full precision (``repr``)."""
        cols = self.columns()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(
            ["entry", "optimizer", "label", "trial", *cols, self.objective, "status", "best"]
        )
        for t in self.optimizers:
            where = {n: j for j, n in enumerate(t.space.names)}
            for j in range(len(t.objectives)):
                hp = [repr(float(t.values[j, where[c]])) if c in where else "" for c in cols]
                w.writerow(
                    [
                        t.candidate.index,
                        t.name,
                        t.label,
                        j,
                        *hp,
                        repr(float(t.objectives[j])),
                        t.status[j],
                        "true" if j == t.best else "false",
                    ]
                )
        return buf.getvalue()

    def summary(self) -> list[dict]:
        """Per optimizer: label, best objective, best setting, trials diverged."""
        return [
            {
                "label": t.label,
                "optimizer": t.name,
                "best_trial": t.best,
                "best_objective": t.best_objective,
                "best_setting": t.best_setting,
                "diverged": sum(s == "diverged" for s in t.status),
                "trials": len(t.status),
                "space": t.space.describe(),
                "wall_time": t.wall_time,
            }
            for t in self.optimizers
        ]


def trial_points(space: SearchSpace, spec: TuneSpec, salt: int = 0) -> np.ndarray:
    """The ``(budget, d)`` searched values of one optimizer's trials. Seeded samplers draw
    with ``seed + salt`` (salt: the optimizer's position), so two optimizers do not share
    their random points."""
    d = space.d
    if d > MAX_DIMENSIONS and spec.sampler in ("sobol", "halton"):
        raise _bad(
            f"tune.space.{space.optimizer}",
            list(space.names),
            f"at most {MAX_DIMENSIONS} searched hyperparameters with sampler {spec.sampler}",
        )
    if spec.sampler == "grid":
        counts = grid_counts(spec.budget, tuple(dim.count for dim in space.dimensions))
        if counts is None:
            raise _bad("tune.budget", spec.budget, grid_allowed(space))
        return space.grid_values(counts)
    u = unit_points(spec.sampler, spec.budget, d, int(spec.seed) + salt)
    return space.values(u)


def grid_allowed(space: SearchSpace) -> str:
    """What a grid budget must be for ``space`` (the message of a refused budget)."""
    listed = [dim.count for dim in space.dimensions if dim.count is not None]
    free = sum(dim.count is None for dim in space.dimensions)
    base = int(np.prod(listed)) if listed else 1
    return (
        f"a product of {free} factor{'s' if free != 1 else ''} >= 2"
        + (f" times {base} (the listed values)" if listed else "")
        + f" for a grid over {space.optimizer}'s {', '.join(space.names)}"
        + (f" (e.g. {base * 2**free} or {base * 4**free})" if free else "")
        + ", or another sampler"
    )


def space_of(candidate: Candidate, spec: TuneSpec) -> SearchSpace:
    """A candidate's search space (refused when it searches nothing)."""
    space = parse_space(candidate.name, spec.space.get(candidate.name), candidate.fixed)
    if space.d == 0:
        raise OptivizError(
            f"optimizers[{candidate.index}]: {candidate.name} has nothing to tune: its default "
            f"search space is empty (or the entry fixes it) and tune.space.{candidate.name} "
            f"searches nothing; declare a range, e.g. tune: {{space: {{{candidate.name}: "
            f"{{{_example(candidate.name)}: {{log: [0.01, 10]}}}}}}}}",
            owner="tune",
            key=f"optimizers[{candidate.index}]",
        )
    return space


def _example(name: str) -> str:
    from optiviz.optimizers import get_class

    params = get_class(name).params
    floats = [k for k, p in params.items() if p.kind == "float" and p.batchable]
    return floats[0] if floats else "lr"


def tune(
    surface: Any,
    optimizers: Sequence[Any],
    spec: TuneSpec | Mapping[str, Any] | None = None,
    *,
    start: Any,
    steps: int | None = None,
    start_prev: Any = None,
    tol_grad: float | None = None,
    tol_loss: float | None = None,
    divergence_bound: float | None = None,
    seed: int = 0,
    progress: Any = None,
) -> TuneResult:
    """Tune every optimizer on ``surface`` with the same budget (see the module docstring).

    Parameters
    ----------
    surface : SurfaceLike
    optimizers : list of names, ``{name: ..., <hyperparameter>: value}`` mappings (fixed
        hyperparameters are not searched) or :class:`Candidate`
    spec : TuneSpec or a mapping of its fields (default: 64 Sobol trials, final_loss)
    start : one point ``[x, y]`` or several ``[[...], ...]``: every trial runs from each
    steps : the horizon when ``spec.horizon`` is None
    start_prev, tol_grad, tol_loss, divergence_bound : as in :func:`optiviz.run`
    seed : seeds mini-batch sampling (candidates with a ``batch_size``)
    progress : optional hook with ``describe(text)``, ``advance()`` and ``steps(done, total)``

    Returns a :class:`TuneResult`; :attr:`TunedOptimizer.best_setting` gives each
    optimizer's tuned hyperparameters. Raises :class:`~optiviz.errors.OptivizError` (its
    ``key`` names the field: ``tune.budget``, ``tune.space.adam.lr``, ...).
    """
    from optiviz.engine import run
    from optiviz.optimizers import make_optimizer

    if spec is None:
        spec = TuneSpec()
    elif isinstance(spec, Mapping):
        spec = TuneSpec(**spec)
    horizon = spec.horizon if spec.horizon is not None else steps
    if horizon is None:
        raise OptivizError("tune: give steps= or a spec with a horizon", key="tune.horizon")
    starts = _points(start)
    prevs = None if start_prev is None else _points(start_prev)
    S, B = len(starts), int(spec.budget)
    if S * B > MAX_BUDGET:
        raise _bad("tune.budget", B, f"at most {MAX_BUDGET // S} with {S} starts")
    candidates = [Candidate.of(o, i) for i, o in enumerate(optimizers)]
    spaces = [space_of(c, spec) for c in candidates]
    points = [trial_points(s, spec, i) for i, s in enumerate(spaces)]
    record = "path" if needs_losses(spec.objective) else "final"
    t_all = time.perf_counter()
    out: list[TunedOptimizer] = []
    interrupted = False
    for c, space, values in zip(candidates, spaces, points, strict=True):
        if progress is not None:
            progress.describe(f"tuning {c.title} ({B} trials)")
        hp = {
            k: (tuple(_tile(p, S) for p in v) if isinstance(v, tuple) else _tile(v, S))
            for k, v in space.hyperparameters(values).items()
        }
        hp = dict(c.fixed) | hp
        try:
            opt = make_optimizer(c.name, **hp)
        except OptivizError as exc:
            raise OptivizError(
                f"optimizers[{c.index}]: {exc}", key=f"optimizers[{c.index}]"
            ) from None
        x0 = np.repeat(np.asarray(starts, dtype=float), B, axis=0)
        xp = None if prevs is None else np.repeat(np.asarray(prevs, dtype=float), B, axis=0)
        t = time.perf_counter()
        traj = run(
            surface,
            opt,
            x0,
            int(horizon),
            x_prev=xp,
            schedule=None if c.schedule is None else c.schedule(),
            tol_grad=tol_grad,
            tol_loss=tol_loss,
            batch_size=c.batch_size,
            seed=seed if c.batch_size is not None else None,
            record=record,
            divergence_bound=divergence_bound,
            progress=None if progress is None else progress.steps,
        )
        per_run = run_objectives(traj, spec.objective, int(horizon))
        objectives = trial_objectives(per_run, B, S)
        out.append(
            TunedOptimizer(
                candidate=c,
                space=space,
                values=np.asarray(values, dtype=float),
                objectives=objectives,
                status=trial_status(np.asarray(traj.status), B, S),
                per_run=per_run.reshape(S, B),
                best=int(np.argmin(objectives)),
                wall_time=time.perf_counter() - t,
            )
        )
        if traj.interrupted:
            interrupted = True
            break
        if progress is not None:
            progress.advance()
    return TuneResult(
        spec=spec,
        horizon=int(horizon),
        starts=starts,
        optimizers=out,
        surface=str(getattr(surface, "name", "")),
        wall_time=time.perf_counter() - t_all,
        interrupted=interrupted,
    )


def _tile(v: Any, S: int) -> Any:
    return list(v) * S if isinstance(v, list) else v


def _points(value: Any) -> tuple[tuple[float, ...], ...]:
    a = np.asarray(value, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] == 0:
        raise OptivizError(f"start: {value!r} is not a point or a list of points", key="start")
    return tuple(tuple(float(x) for x in p) for p in a)
