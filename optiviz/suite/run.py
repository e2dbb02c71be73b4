"""Running a suite: every optimizer entry on every surface from all its starts, as one
batched run per (surface, entry), judged by the convergence test.

For each surface the entries run one after another, each as one batched run over the
surface's S starts (``optiviz.run`` with x0 of shape (S, n)), for the whole budget (no
tolerance stops them; a diverging run stops where it diverges). Every step's loss is kept
(``loss_steps``), nothing else. When the surface's entries have run, f* is settled (the
lowest known minimum, else the lowest loss a non-diverged run reached: Moré-Wild's f_L) and
each run's cost to pass the test is read from its losses
(:func:`optiviz.suite.convergence.cost_to_pass`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiviz.config.specs import expand_grid
from optiviz.config.suite import SuiteConfig
from optiviz.experiment.results import ExperimentResult, Progress
from optiviz.suite.convergence import best_found, cost_to_pass, cumulative_cost

#: What a run's ``status`` in suite.csv says.
STATUSES = {
    "solved": "passed the convergence test within the budget",
    "unsolved": "did not pass it and did not diverge",
    "diverged": "diverged (non-finite or beyond the divergence bound) before passing it",
}


@dataclass(frozen=True)
class SuiteProblem:
    """One (surface, start) problem as run: f(x0) and the f* its test used."""

    index: int
    surface: str  # the surface's label
    surface_index: int  # its item in suite.surfaces
    n: int
    start: int  # index among that surface's starts
    x0: tuple[float, ...]
    f0: float
    f_star: float | None
    f_star_source: str  # "known minimum" | "best found" | "none" (every run diverged)


@dataclass(frozen=True)
class SuiteRow:
    """One run: a problem and an optimizer entry (a row of suite.csv)."""

    problem: int
    entry: int
    label: str
    optimizer: str
    hyperparameters: dict
    schedule: str | None
    cost: float  # inf: never passed the test
    final_loss: float
    best_loss: float
    status: str  # solved | unsolved | diverged (STATUSES)
    run_status: str  # the engine's status of the run
    n_steps: int
    diverged_at: int | None

    @property
    def solved(self) -> bool:
        return self.status == "solved"


@dataclass
class SuiteResult(ExperimentResult):
    """What running a suite config returns: the problems, one row per problem and entry,
    and the timing; ``trajectories`` and ``runs`` are empty (a suite keeps the losses of its
    runs only until their costs are read), ``surface`` is the first surface."""

    problems: list[SuiteProblem] = field(default_factory=list)
    rows: list[SuiteRow] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [str(o.label) for o in self.config.optimizers]

    def table(self, what: str = "cost") -> np.ndarray:
        """``(problems, entries)`` array of a row field (``cost``, ``final_loss``, ...)."""
        out = np.full((len(self.problems), len(self.config.optimizers)), np.nan)
        for r in self.rows:
            out[r.problem, r.entry] = float(getattr(r, what))
        return out

    def status_table(self) -> np.ndarray:
        out = np.full((len(self.problems), len(self.config.optimizers)), "", dtype=object)
        for r in self.rows:
            out[r.problem, r.entry] = r.status
        return out

    def _repr_markdown_(self) -> str | None:
        if self.interrupted:
            return None
        from optiviz.suite.report import suite_markdown

        return suite_markdown(self)


def _schedule(spec: Any):
    if spec.schedule is None:
        return None
    from optiviz.schedules import make_schedule

    return make_schedule(spec.schedule.name, **spec.schedule.params)


def _hyper_of(traj: Any) -> dict:
    """The resolved hyperparameters of a batched run's runs (all the same: fixed settings)."""
    out = {}
    for k, v in (traj.hyperparameters or {}).items():
        if isinstance(v, np.ndarray) and v.ndim >= 1 and v.size and not isinstance(v, tuple):
            v = v.ravel()[0].item() if v.ndim == 1 else v
        out[k] = v
    return out


def entry_settings(config: SuiteConfig, entry: int, surface: int) -> Any:
    """The settings entry ``entry`` runs with on surface ``surface`` (an
    :class:`~optiviz.config.OptimizerSpec`): its fixed settings (every slot of
    ``config.spec.tune`` is None: the parser refuses ``tune`` in an entry). This is the one
    place a tuned entry will get its per-surface settings from the tuning."""
    return config.optimizers[entry]


def _tuned(config: SuiteConfig, entry: Any, fixed: dict, tuning: Any, surf: Any, X0: Any) -> dict:
    """The entry's best setting on one surface: ``tuning.budget`` trials (one batched run,
    :func:`optiviz.tuning.tune`) from the surface's starts for the suite's steps, the entry's
    own hyperparameters fixed; judged by ``tuning.objective`` (mean over the starts)."""
    from optiviz.tuning import Candidate, tune

    cand = Candidate(entry.name, fixed, entry.label, schedule=_schedule_factory(entry))
    res = tune(
        surf,
        [cand],
        tuning,
        start=[list(map(float, x)) for x in X0],
        steps=config.steps,
        divergence_bound=config.divergence_bound,
    )
    return res.optimizers[0].best_setting


def _schedule_factory(entry: Any) -> Any:
    return None if entry.schedule is None else (lambda: _schedule(entry))


def run_suite(config: SuiteConfig, progress: Progress | None = None) -> SuiteResult:
    """Run every entry of ``config`` on every problem (see the module docstring).

    ``progress`` is told one unit per surface and the steps of each batched run. Ctrl-C
    stops the runs: the result has ``interrupted=True`` and the rows of the surfaces done.
    """
    from optiviz.engine import run
    from optiviz.optimizers import make_optimizer

    t0 = time.perf_counter()
    spec = config.spec
    surfaces = config.build_surfaces()
    T = config.steps
    kept = tuple(range(T + 1))
    problems: list[SuiteProblem] = []
    rows: list[SuiteRow] = []
    interrupted = False
    try:
        for j, (ss, surf) in enumerate(zip(spec.surfaces, surfaces, strict=True)):
            mine = [p for p in config.problems if p.surface == j]
            if not mine:
                continue
            if progress is not None:
                progress.describe(f"running {ss.label} ({len(mine)} starts)")
            X0 = np.asarray([p.x0 for p in mine], dtype=float)
            results = []
            for k in range(len(config.optimizers)):
                entry = entry_settings(config, k, j)
                eta = config.eta_opts[j] if config.eta_opts else None
                settings = expand_grid(entry, eta)
                tuning = spec.tune[k] if spec.tune else None
                if tuning is not None:  # the same budget for every entry, on this surface
                    settings = _tuned(config, entry, settings, tuning, surf, X0)
                opt = make_optimizer(entry.name, **settings)
                traj = run(
                    surf,
                    opt,
                    X0,
                    T,
                    schedule=_schedule(entry),
                    # the per-step oracle counts the evaluations unit reads need a path
                    record="path" if spec.cost == "evaluations" else "final",
                    divergence_bound=config.divergence_bound,
                    loss_steps=kept,
                    progress=None if progress is None else progress.steps,
                )
                if traj.interrupted:
                    raise KeyboardInterrupt
                results.append((k, entry, traj))
            problems_j, rows_j = _judge(config, j, ss, surf, mine, results, len(problems))
            problems += problems_j
            rows += rows_j
            if progress is not None:
                progress.advance()
    except KeyboardInterrupt:
        interrupted = True
    total = time.perf_counter() - t0
    return SuiteResult(
        config=config,
        out_dir=None,
        files={},
        surface=surfaces[0],
        trajectories=[],
        runs=[],
        analysis=None,
        eta_opt=None,
        wall_time=total,
        timing={"runs": total, "total": total},
        interrupted=interrupted,
        problems=problems,
        rows=rows,
    )


def _judge(
    config: SuiteConfig, j: int, ss: Any, surf: Any, mine: list, results: list, first: int
) -> tuple[list[SuiteProblem], list[SuiteRow]]:
    """The problems of surface j and their rows: f*, each run's cost, status."""
    spec = config.spec
    S = len(mine)
    f0 = np.asarray(surf.f(np.asarray([p.x0 for p in mine]), check=False), dtype=float)
    f_min = getattr(surf, "f_min", None)
    if f_min is None and surf.minima:
        f_min = min(float(m.value) for m in surf.minima)
    problems = []
    f_stars: list[float | None] = []
    for s, p in enumerate(mine):
        fs: float | None
        if f_min is not None:
            fs, source = float(f_min), "known minimum"
        else:
            losses = np.stack([tr.losses_at[s] for _, _, tr in results])
            diverged = [str(np.asarray(tr.status)[s]) == "diverged" for _, _, tr in results]
            best = best_found(losses, diverged)
            fs, source = (best, "best found") if best is not None else (None, "none")
        f_stars.append(fs)
        problems.append(
            SuiteProblem(
                index=first + s,
                surface=ss.label,
                surface_index=ss.index,
                n=int(surf.n),
                start=p.start,
                x0=tuple(p.x0),
                f0=float(f0[s]),
                f_star=fs,
                f_star_source=source,
            )
        )
    rows = []
    for k, entry, tr in results:
        status = np.asarray(tr.status).astype(str)
        spent = cumulative_cost(config.steps, S, spec.cost, tr)
        hyper = _hyper_of(tr)
        for s in range(S):
            fstar = f_stars[s]
            cost = (
                math.inf
                if fstar is None
                else float(
                    cost_to_pass(
                        tr.losses_at[s : s + 1], f0[s], fstar, spec.tolerance, spent[s : s + 1]
                    )[0]
                )
            )
            run_status = str(status[s])
            verdict = (
                "solved"
                if math.isfinite(cost)
                else "diverged"
                if run_status == "diverged"
                else "unsolved"
            )
            da = np.asarray(tr.diverged_at).ravel()[s]
            rows.append(
                SuiteRow(
                    problem=first + s,
                    entry=k,
                    label=str(entry.label),
                    optimizer=entry.name,
                    hyperparameters=hyper,
                    schedule=tr.schedule,
                    cost=cost,
                    final_loss=float(np.asarray(tr.final_loss).ravel()[s]),
                    best_loss=float(np.asarray(tr.best_loss).ravel()[s]),
                    status=verdict,
                    run_status=run_status,
                    n_steps=int(np.asarray(tr.n_steps).ravel()[s]),
                    diverged_at=None if da is None or int(da) < 0 else int(da),
                )
            )
    rows.sort(key=lambda r: (r.problem, r.entry))
    return problems, rows
