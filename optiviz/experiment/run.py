"""Running an experiment config: relative learning rates, every entry, the analysis.

Ctrl-C: a KeyboardInterrupt while the entries run stops them; :func:`run_entries` returns
the entries run so far (the one running then with its runs cut short, status
``"interrupted"``) and :func:`run_experiment` returns them with ``interrupted=True``,
without analysis, checks or files.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optiviz._format import plural_count
from optiviz.config import ExperimentConfig, OptimizerSpec, apply_overrides, expand_grid
from optiviz.errors import ConfigError, OptivizError
from optiviz.experiment.expect import check_expectations
from optiviz.experiment.outputs import check_output_folder, write_outputs
from optiviz.experiment.results import ExperimentResult, Progress, RunRecord


def resolve_eta_opt(config: ExperimentConfig, surface: Any) -> float | None:
    """eta_opt of the surface (at ``report.at``, else where the analysis defines it), if
    any entry gives its learning rate relative to it; ``None`` otherwise."""
    rel = [o for o in config.optimizers if o.lr_times_eta_opt is not None]
    if not rel:
        return None
    from optiviz.analysis import lr_relative_to_eta_opt

    at = None if config.report.at is None else np.asarray(config.report.at, dtype=float)
    try:
        value = float(np.asarray(lr_relative_to_eta_opt(surface, 1.0, at=at)).ravel()[0])
    except OptivizError as exc:
        hint = (
            ""
            if at is not None
            else (" (in a config: report: {at: [...]} takes eta_opt at that point)")
        )
        raise ConfigError(
            f"{_src(config)}optimizers[{rel[0].index}].lr: times_eta_opt "
            f"cannot be resolved: {exc}{hint}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        msg = (
            f"{_src(config)}optimizers[{rel[0].index}].lr: times_eta_opt cannot be resolved:"
            f" eta_opt of surface {surface.name!r} is {value!r}"
        )
        raise ConfigError(msg)
    return value


def _src(config: ExperimentConfig) -> str:
    return f"{config.path}: " if config.path else ""


def _make_optimizer(config: ExperimentConfig, spec: OptimizerSpec, eta_opt: float | None):
    from optiviz.optimizers import make_optimizer

    hp = expand_grid(spec, eta_opt)
    try:
        return make_optimizer(spec.name, **hp)
    except OptivizError as exc:
        msg = f"{_src(config)}optimizers[{spec.index}]: {exc}"
        raise ConfigError(msg) from None


def _make_schedule(spec: OptimizerSpec):
    if spec.schedule is None:
        return None
    from optiviz.schedules import make_schedule

    return make_schedule(spec.schedule.name, **spec.schedule.params)


def _entry_runs(config: ExperimentConfig, spec: OptimizerSpec, eta_opt: float | None):
    """``(optimizer, x0, x_prev)`` of one entry: from one start, the optimizer of its grid
    (if any) and that point; from S starts, every grid point from every start as one batch
    of S x G runs, start by start (run ``s * G + g``: grid point g from start s)."""
    starts = config.starts
    if len(starts) == 1:
        x0 = np.asarray(config.start, dtype=float)
        xp = None if config.start_prev is None else np.asarray(config.start_prev, dtype=float)
        return _make_optimizer(config, spec, eta_opt), x0, xp
    from optiviz.optimizers import make_optimizer

    G, S = spec.n_runs, len(starts)
    hp = {
        k: np.tile(v, S) if isinstance(v, np.ndarray) and v.ndim == 1 and spec.is_grid else v
        for k, v in expand_grid(spec, eta_opt).items()
    }
    try:
        opt = make_optimizer(spec.name, **hp)
    except OptivizError as exc:
        raise ConfigError(f"{_src(config)}optimizers[{spec.index}]: {exc}") from None
    x0 = np.repeat(np.asarray(starts, dtype=float), G, axis=0)
    prev = config.starts_prev
    xp = None if prev is None else np.repeat(np.asarray(prev, dtype=float), G, axis=0)
    return opt, x0, xp


def start_label(point: Sequence[float]) -> str:
    """How legends name a start: ``from (-1.2, 1)``."""
    from optiviz._format import fmt_point

    return f"from {fmt_point(point, 4)}"


def start_labels(config: ExperimentConfig, spec: OptimizerSpec, traj: Any) -> list[str]:
    """Run labels of an entry run from several starts: the entry's (or grid point's) label
    followed by its start, ``gd (lr=0.001) from (-1.2, 1)``."""
    G = spec.n_runs
    R = G * len(config.starts)
    base = list(traj.run_labels) if spec.is_grid and traj.run_labels else [traj.label] * R
    return [f"{base[i]} {start_label(config.starts[i // G])}" for i in range(R)]


def seed_label(label: str, seed: int) -> str:
    """How legends name a repeat: ``sgd (lr=0.1) seed 3``."""
    return f"{label} seed {seed}"


def repeated(per_seed: Sequence[Any], seeds: Sequence[int]) -> Any:
    """The runs of one entry with each of ``seeds`` (one trajectory per seed, each with
    the entry's R runs) as one batched trajectory, seed fastest: run ``j N + k`` is the
    entry's run ``j`` with seed ``seeds[k]``, labelled ``<its label> seed <seed>``."""
    from optiviz.trajectory import Trajectory

    base = [tr.label for tr in per_seed[0].runs()]
    labels = [seed_label(lab, s) for lab in base for s in seeds]
    return Trajectory.stack(per_seed, seeds, labels)


def run_entries(
    config: ExperimentConfig, surface: Any = None, progress: Progress | None = None
) -> tuple[list, list[RunRecord], float | None]:
    """Run every optimizer entry; return (trajectories per entry, flat runs, eta_opt).

    An entry that draws mini-batches runs once per seed of :meth:`ExperimentConfig.seeds_of`
    (``seeds: N``) and its trajectory is :func:`repeated`: its runs are numbered grid point
    by grid point (start by start) and seed by seed within each, seed fastest.

    ``progress`` is told each entry (``describe`` / ``advance``) and its steps (``steps``).
    A KeyboardInterrupt stops the entries and returns those run so far: fewer
    trajectories than entries, or a last one with interrupted runs (see
    :func:`entries_interrupted`).
    """
    from optiviz.engine import run

    surface = surface if surface is not None else config.build_surface()
    eta_opt = resolve_eta_opt(config, surface)
    trajectories: list = []
    records: list[RunRecord] = []
    steps = None if progress is None else progress.steps
    try:
        for spec in config.optimizers:
            opt, x0, xp = _entry_runs(config, spec, eta_opt)
            if progress is not None:
                what = f"{spec.label or spec.name}" + (
                    f" ({plural_count(spec.n_runs, 'run')})" if spec.is_grid else ""
                )
                progress.describe(f"running {what}")
            seeds = config.seeds_of(spec)
            per_seed = []
            for seed in seeds:  # one engine run per seed (a batch shares its mini-batches)
                traj = run(
                    surface,
                    opt,
                    x0,
                    config.steps_of(spec),
                    x_prev=xp,
                    schedule=_make_schedule(spec),
                    tol_grad=config.tolerance.grad,
                    tol_loss=config.tolerance.loss,
                    batch_size=spec.batch_size,
                    seed=seed if spec.batch_size is not None else None,
                    record=config.record_of(spec),
                    divergence_bound=config.divergence_bound,
                    progress=steps,
                    backend=config.backend,
                )
                if spec.label is not None:
                    traj.optimizer_label = spec.label
                    if traj.batched and traj.run_labels:
                        traj.run_labels = [f"{spec.label}: {lab}" for lab in traj.run_labels]
                if len(config.starts) > 1:
                    traj.run_labels = start_labels(config, spec, traj)
                per_seed.append(traj)
                if traj.interrupted:
                    break
            if len(seeds) > 1:
                traj = repeated(per_seed, seeds[: len(per_seed)])
            run_seeds = [
                seeds[i % len(per_seed)] if spec.batch_size is not None else None
                for i in range(len(traj.runs()))
            ]
            runs = [
                RunRecord(
                    run=len(records) + i,
                    entry=spec.index,
                    label=tr.label,
                    trajectory=tr,
                    seed=run_seeds[i],
                )
                for i, tr in enumerate(traj.runs())
            ]
            # one binding (no call an interrupt could split): the two lists stay in step
            trajectories, records = [*trajectories, traj], [*records, *runs]
            if traj.interrupted:
                break
            if progress is not None:
                progress.advance()
    except KeyboardInterrupt:  # outside the engine's loops (it returns interrupted runs)
        pass
    return trajectories, records, eta_opt


def entries_interrupted(config: ExperimentConfig, trajectories: Sequence) -> bool:
    """Whether :func:`run_entries` was interrupted: an entry was not run, or the last
    one run has interrupted runs."""
    return len(trajectories) < len(config.optimizers) or bool(
        trajectories and trajectories[-1].interrupted
    )


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | Path | None = None,
    formats: Sequence[str] | None = None,
    progress: Progress | None = None,
    *,
    write: bool = True,
    figures: Sequence[str] | None = None,
    max_steps: int | None = None,
) -> ExperimentResult:
    """Run ``config`` and write its outputs (see the module docstring).

    Parameters
    ----------
    config : ExperimentConfig
        From :func:`optiviz.config.load_config`.
    out_dir : path, optional
        Where to write; default ``outputs/<name>/`` under the current directory. It must be
        new, empty or hold exactly an earlier run's files (see
        :func:`~optiviz.experiment.outputs.check_output_folder`); it is replaced as a whole.
    formats : list of "png", "svg", "pdf", optional
        Overrides the config's ``formats``.
    progress : Progress, optional
        A hook told about each unit of work and the steps within an entry (the CLI's
        progress bar).
    write : bool
        ``False`` runs and analyses without writing anything (``files`` is empty).
    figures : list, optional
        Overrides the config's ``figures`` (``[]``: none).
    max_steps : int, optional
        Caps every step budget (the test suite runs every config this way).

    A KeyboardInterrupt (Ctrl-C) during the runs stops them and returns what was
    computed: the entries run so far (the one running then with status
    ``"interrupted"``), ``interrupted=True``, no analysis (None), no expectation checks,
    and nothing written. An interrupt after the runs propagates.
    """
    t0 = time.perf_counter()
    if formats is not None or figures is not None or max_steps is not None:
        config = apply_overrides(config, formats=formats, figures=figures, max_steps=max_steps)
    if getattr(config, "suite", None) is not None:  # surfaces x starts x optimizers
        from optiviz.suite import run_suite_experiment

        return run_suite_experiment(config, out_dir, progress, write=write)
    target = Path(out_dir) if out_dir is not None else Path("outputs") / config.name
    if write:
        check_output_folder(target)  # before any run: refuse a folder not to be replaced
    surface = config.build_surface()
    n_units = len(config.optimizers) + 1 + (len(config.figures) + 1 if write else 0)
    n_units += len(config.optimizers) if config.tune is not None else 0
    if progress is not None:
        progress.begin(n_units)
    try:
        t = time.perf_counter()
        tuning, ran = _tune(config, surface, progress)
        trajectories, records, eta_opt = (
            ([], [], None)
            if tuning is not None and tuning.interrupted
            else run_entries(ran, surface, progress)
        )
        timing = {"runs": time.perf_counter() - t}  # the trials included
        if entries_interrupted(config, trajectories):
            total = time.perf_counter() - t0
            return ExperimentResult(
                config=config,
                out_dir=None,
                files={},
                surface=surface,
                trajectories=trajectories,
                runs=records,
                analysis=None,
                eta_opt=eta_opt,
                wall_time=total,
                timing={**timing, "total": total},
                interrupted=True,
                tuning=tuning,
            )
        if progress is not None:
            progress.describe("analysing")
        t = time.perf_counter()
        analysis = _analyze(config, surface, trajectories)
        if progress is not None:
            progress.advance()
        expectations = check_expectations(config, records, analysis)
        timing["analysis"] = time.perf_counter() - t
        timing.update(figures=0.0, other_files=0.0)
        result = ExperimentResult(
            config=config,
            out_dir=None,
            files={},
            surface=surface,
            trajectories=trajectories,
            runs=records,
            analysis=analysis,
            eta_opt=eta_opt,
            expectations=expectations,
            timing=timing,
            tuning=tuning,
        )
        if write:
            result.out_dir = target
            # so far; write_outputs adds its parts (run.json's total is as of its writing)
            result.wall_time = timing["total"] = time.perf_counter() - t0
            result.files = write_outputs(target, config, result, progress)
        result.wall_time = timing["total"] = time.perf_counter() - t0
        return result
    finally:
        if progress is not None:
            progress.end()


def _tune(config: ExperimentConfig, surface: Any, progress: Progress | None):
    """The trials of a tune block and the config the entries then run (the tuned one);
    ``(None, config)`` without a tune block."""
    if config.tune is None:
        return None, config
    from optiviz.experiment.tuning import run_tuning, tuned_config

    try:
        tuning = run_tuning(config, surface, progress)
    except OptivizError as exc:
        raise ConfigError(f"{_src(config)}{exc}") from None
    if tuning.interrupted:
        return tuning, config
    return tuning, tuned_config(config, tuning)


def _analyze(config: ExperimentConfig, surface: Any, trajectories: list):
    from optiviz.analysis import analyze

    rep = config.report
    at = None if rep.at is None else np.asarray(rep.at, dtype=float)
    es = (
        None
        if rep.early_stopping is None
        else {"lr": rep.early_stopping[0], "t": rep.early_stopping[1]}
    )
    # every run is compared (in run order); one too short to fit has no measured rate
    return analyze(
        surface, at=at, trajectories=trajectories, l1=rep.l1, l2=rep.l2, early_stopping=es
    )
