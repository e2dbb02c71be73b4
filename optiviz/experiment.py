"""Run a validated experiment config and write its outputs: what ``optiviz run`` calls.

:func:`run_experiment` builds the surface, resolves relative learning rates
(``lr: {times_eta_opt: ...}``) from the Hessian-derived eta_opt, runs every optimizer entry
(an entry with a grid is **one batched run** of all its grid points), computes the analysis
and writes, into ``outputs/<name>/`` (or ``out_dir``):

============================  =========================================================
``config.yaml``               the resolved config, every default filled in
``trajectories.csv``          long format, one row per run and recorded step:
                              ``run,label,optimizer,step,<variables...>,loss,grad_norm``
``run.json``                  versions, seed, surface, and per run: hyperparameters,
                              status, diverged_at, final point and loss, steps to
                              tolerance, evaluation counts, wall time; the ``expect``
                              checks and the list of files written
``report.md``                 the analysis report plus a results table
``<figure>.<format>``         each figure asked for (contour, surface3d, loss,
                              effective_lr, lr_sweep) in each format; effective_lr
                              leaves out Newton-type methods when first-order runs are
                              present; lr_sweep makes one figure per entry that sweeps lr
                              (lr_sweep, lr_sweep_2, ...), marking that method's own
                              stability limit (see sweep_stability_limit)
============================  =========================================================

CSV policy: every recorded iterate of every run is written, grid runs included (a grid of
R runs over T steps writes about R * (T + 1) rows). An entry (or config) with
``record: final`` keeps only final states, and the CSV then holds one row per run: its
final point (``step`` = the number of steps it took). Configs whose ``record: all`` would
keep an unreasonable amount of data are refused at load time with a hint to use
``record: final``.

Atomicity: nothing is written until every run, the analysis and every figure are done;
then each file is written under a temporary name in the output folder and renamed into
place. A run replaces only the files it writes (other files in the folder are left alone);
if writing fails, the temporary files are removed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optiviz.config import (
    Expectation,
    ExperimentConfig,
    OptimizerSpec,
    apply_overrides,
    expand_grid,
)
from optiviz.errors import ConfigError, OptivizError
from optiviz.trajectory import json_safe

__all__ = [
    "ExperimentResult",
    "RunRecord",
    "run_experiment",
    "run_entries",
    "check_expectations",
    "ExpectationResult",
    "resolve_eta_opt",
    "sweep_stability_limit",
]


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------
@dataclass
class RunRecord:
    """One run of the experiment (a grid entry contributes one record per grid point)."""

    run: int  # global 0-based index (the CSV's ``run`` column)
    entry: int  # index in the config's ``optimizers`` list
    label: str
    trajectory: Any  # single-run Trajectory


@dataclass
class ExpectationResult:
    expectation: Expectation
    passed: bool
    actual: Any
    message: str

    def to_dict(self) -> dict:
        return {
            **self.expectation.to_dict(),
            "passed": self.passed,
            "actual": json_safe(self.actual),
            "message": self.message,
        }


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` returns: where everything went, and the results."""

    config: ExperimentConfig
    out_dir: Path | None
    files: dict[str, Path]  # short name (e.g. "csv", "contour.png") -> path
    surface: Any
    trajectories: list  # one Trajectory per optimizer entry (batched for grids)
    runs: list[RunRecord]
    analysis: Any
    eta_opt: float | None
    expectations: list[ExpectationResult] = field(default_factory=list)
    wall_time: float = 0.0

    @property
    def expectations_passed(self) -> bool:
        return all(e.passed for e in self.expectations)

    def failed_expectations(self) -> list[ExpectationResult]:
        return [e for e in self.expectations if not e.passed]


class Progress:
    """Progress hook interface (the CLI passes a rich progress bar; the default is silent).

    ``begin(total)`` once; for each unit of work (one optimizer entry -- a grid entry is one
    unit --, the analysis, one kind of figure, writing the files) ``describe(text)`` before
    it and ``advance()`` after it; ``end()`` at the end, also after an error. The engine
    reports no progress inside a run.
    """

    def begin(self, total: int) -> None:  # pragma: no cover - interface
        pass

    def describe(self, description: str) -> None:  # pragma: no cover - interface
        pass

    def advance(self) -> None:  # pragma: no cover - interface
        pass

    def end(self) -> None:  # pragma: no cover - interface
        pass


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------
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


def run_entries(
    config: ExperimentConfig, surface: Any = None, progress: Progress | None = None
) -> tuple[list, list[RunRecord], float | None]:
    """Run every optimizer entry; return (trajectories per entry, flat runs, eta_opt)."""
    from optiviz.engine import run

    surface = surface if surface is not None else config.build_surface()
    eta_opt = resolve_eta_opt(config, surface)
    trajectories = []
    records: list[RunRecord] = []
    x0 = np.asarray(config.start, dtype=float)
    xp = None if config.start_prev is None else np.asarray(config.start_prev, dtype=float)
    for spec in config.optimizers:
        opt = _make_optimizer(config, spec, eta_opt)
        if progress is not None:
            what = f"{spec.label or spec.name}" + (f" ({spec.n_runs} runs)" if spec.is_grid else "")
            progress.describe(f"running {what}")
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
            seed=config.seed if spec.batch_size is not None else None,
            record=config.record_of(spec),
            divergence_bound=config.divergence_bound,
        )
        if spec.label is not None:
            traj.optimizer_label = spec.label
            if traj.batched and traj.run_labels:
                traj.run_labels = [f"{spec.label}: {lab}" for lab in traj.run_labels]
        trajectories.append(traj)
        for tr in traj.runs():
            records.append(
                RunRecord(run=len(records), entry=spec.index, label=tr.label, trajectory=tr)
            )
        if progress is not None:
            progress.advance()
    return trajectories, records, eta_opt


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
        Where to write; default ``outputs/<name>/`` under the current directory.
    formats : list of "png", "svg", "pdf", optional
        Overrides the config's ``formats``.
    progress : Progress, optional
        A hook told about each unit of work (the CLI's progress bar).
    write : bool
        ``False`` runs and analyses without writing anything (``files`` is empty).
    figures : list, optional
        Overrides the config's ``figures`` (``[]``: none).
    max_steps : int, optional
        Caps every step budget (the test suite runs every config this way).
    """
    t0 = time.perf_counter()
    if formats is not None or figures is not None or max_steps is not None:
        config = apply_overrides(config, formats=formats, figures=figures, max_steps=max_steps)
    surface = config.build_surface()
    n_units = len(config.optimizers) + 1 + (len(config.figures) + 1 if write else 0)
    if progress is not None:
        progress.begin(n_units)
    try:
        trajectories, records, eta_opt = run_entries(config, surface, progress)
        if progress is not None:
            progress.describe("analysing")
        analysis = _analyze(config, surface, trajectories)
        if progress is not None:
            progress.advance()
        expectations = check_expectations(config, records, analysis)
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
        )
        if write:
            target = Path(out_dir) if out_dir is not None else Path("outputs") / config.name
            result.out_dir = target
            result.wall_time = time.perf_counter() - t0
            result.files = _write_outputs(target, config, result, progress)
        result.wall_time = time.perf_counter() - t0
        return result
    finally:
        if progress is not None:
            progress.end()


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


# --------------------------------------------------------------------------------------
# expectations
# --------------------------------------------------------------------------------------
def _lookup(obj: Any, path: str) -> Any:
    """Follow a dotted path: attributes of the analysis objects (``minimum``,
    ``eta_opt``, ``at``, ...), then keys of their ``to_dict()``, mapping keys and list
    indices (numeric parts). Methods and private names are never reached."""
    cur = obj
    for part in path.split("."):
        if part.startswith("_"):
            raise KeyError(f"{part!r} is private")
        if isinstance(cur, dict):
            if part not in cur:
                raise KeyError(f"{part!r} not found (available: {', '.join(map(str, cur))})")
            cur = cur[part]
        elif isinstance(cur, (list, tuple, np.ndarray)):
            if not part.lstrip("-").isdigit():
                raise KeyError(f"{part!r} is not an index of a list")
            cur = cur[int(part)]
        elif hasattr(type(cur), part) or (hasattr(cur, part) and not callable(getattr(cur, part))):
            value = getattr(cur, part)
            if callable(value) and not isinstance(value, type):
                raise KeyError(f"{part!r} is a method, not a value")
            cur = value
        elif hasattr(cur, "to_dict"):
            d = cur.to_dict()
            if part not in d:
                raise KeyError(f"{part!r} not found (available: {', '.join(map(str, d))})")
            cur = d[part]
        else:
            raise KeyError(f"{part!r} not found")
    if hasattr(cur, "to_dict") and not isinstance(cur, dict):
        cur = cur.to_dict()
    return cur


def _close(actual: Any, expected: Any, tol: float) -> bool:
    if isinstance(expected, bool) or isinstance(expected, str) or expected is None:
        return actual == expected
    try:
        a = np.asarray(actual, dtype=float)
        e = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return actual == expected
    if a.shape != e.shape:
        return False
    return bool(np.all(np.abs(a - e) <= tol + 0 * np.abs(e)))


def _find_run(records: list[RunRecord], run: int | str) -> RunRecord | None:
    if isinstance(run, int):
        return records[run] if 0 <= run < len(records) else None
    for r in records:
        if r.label == run:
            return r
    return None


def _run_value(tr: Any, quantity: str, step: int | None) -> Any:
    if step is None:
        if quantity == "point":
            return tr.final_point
        if quantity == "loss":
            return tr.final_loss
        if quantity == "grad_norm":
            return tr.final_grad_norm
        if quantity in ("effective_lr", "lr_factor"):
            rates = getattr(tr, quantity)
            if rates is None or len(rates) == 0:
                raise KeyError(f"no {quantity} values were recorded")
            return rates[-1]
        return getattr(tr, quantity)
    if quantity in ("point", "loss", "grad_norm"):
        arr = {"point": tr.points, "loss": tr.losses, "grad_norm": tr.grad_norms}[quantity]
        if arr is None:
            raise KeyError("per-step values were not recorded (record: final)")
        if step >= len(arr):
            raise KeyError(f"the run took {len(arr) - 1} steps; there is no step {step}")
        return arr[step]
    if quantity in ("effective_lr", "lr_factor"):
        rates = getattr(tr, quantity)
        if rates is None:
            raise KeyError(f"{quantity} values were not recorded (record: final)")
        if not 1 <= step <= len(rates):
            raise KeyError(f"{quantity} exists for steps 1..{len(rates)}")
        return rates[step - 1]
    raise KeyError(f"{quantity!r} has no per-step value; drop 'step'")


def check_expectations(
    config: ExperimentConfig, records: list[RunRecord], analysis: Any
) -> list[ExpectationResult]:
    """Evaluate the config's ``expect`` checks against the runs and the analysis."""
    out = []
    for e in config.expect:
        try:
            if e.quantity == "analysis":
                actual = _lookup(analysis, e.path)
            else:
                rec = _find_run(records, e.run)
                if rec is None:
                    raise KeyError(f"no run {e.run!r}")
                actual = _run_value(rec.trajectory, e.quantity, e.step)
                if e.quantity in ("effective_lr", "lr_factor") and not isinstance(e.value, list):
                    actual = np.asarray(actual, dtype=float).ravel()
                    actual = actual[0] if np.allclose(actual, actual[0]) else actual
        except (KeyError, IndexError, AttributeError, TypeError) as exc:
            out.append(
                ExpectationResult(e, False, None, f"expect[{e.index}]: {e.describe()}: {exc}")
            )
            continue
        if hasattr(actual, "tolist"):
            actual = actual.tolist()
        ok = _close(actual, e.value, e.tol)
        shown = _fmt_value(actual)
        numeric = not isinstance(e.value, (str, bool)) and e.value is not None
        msg = f"expect[{e.index}]: {e.describe()}: got {shown}" + (
            "" if ok or not numeric else f" (tolerance {e.tol:g})"
        )
        out.append(ExpectationResult(e, ok, actual, msg))
    return out


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.10g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    return repr(v)


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------
#: Left out of the effective-learning-rate figure when other runs are present: their
#: "effective learning rate" is a step length along a curvature-scaled direction that
#: spans many decades and would flatten every other panel on the shared axis.
SECOND_ORDER = ("newton", "line_search", "armijo")


def _figures_of(
    kind: str, config: ExperimentConfig, result: ExperimentResult, colors: Any
) -> list[tuple[str, Any]]:
    """The figure(s) of one kind asked for: ``[(file stem, matplotlib Figure)]``.

    ``lr_sweep`` makes one figure per entry that sweeps the learning rate: ``lr_sweep``
    for the first, ``lr_sweep_2``, ``lr_sweep_3``, ... for the others.
    """
    import optiviz.plotting as plotting

    surface, trajectories, analysis = result.surface, result.trajectories, result.analysis
    proj = config.projection
    # a coordinate slice of an n > 2 surface generally passes through none of its
    # stationary points: the analysis (which marks them) is only handed over otherwise
    marks = None if isinstance(proj, tuple) and surface.n > 2 else analysis
    proj = list(proj) if isinstance(proj, tuple) else proj
    if kind == "contour":
        return [
            (
                kind,
                plotting.contour(
                    surface, trajectories, analysis=marks, projection=proj, colors=colors
                ),
            )
        ]
    if kind == "surface3d":
        return [
            (
                kind,
                plotting.surface3d(
                    surface, trajectories, analysis=marks, projection=proj, colors=colors
                ),
            )
        ]
    if kind == "loss":
        return [(kind, plotting.loss(trajectories, colors=colors))]
    if kind == "effective_lr":
        runs = [t for t in trajectories if t.effective_lr is not None]
        first_order = [t for t in runs if t.optimizer not in SECOND_ORDER]
        return [(kind, plotting.effective_lr(first_order or runs, colors=colors))]
    if kind == "lr_sweep":
        out = []
        for spec, traj in zip(config.optimizers, trajectories, strict=True):
            if spec.sweeps_lr:
                stem = "lr_sweep" if not out else f"lr_sweep_{len(out) + 1}"
                out.append(
                    (stem, _lr_sweep(plotting, spec, traj, analysis, result.eta_opt, colors))
                )
        return out
    raise ConfigError(f"unknown figure {kind!r}")  # pragma: no cover - validated earlier


#: Optimizers whose iteration on a quadratic is linear (GD, heavy ball, Nesterov).
LINEAR_THEORY = ("gd", "sgd", "momentum", "nesterov")


def _one_value(h: dict, key: str, default: Any) -> Any:
    """A hyperparameter's single value, or None when a grid gives it several."""
    v = h.get(key, default)
    if isinstance(v, (list, tuple, np.ndarray)) and np.ndim(v) > 0:
        vals = np.unique(np.asarray(v, dtype=float))
        return float(vals[0]) if vals.size == 1 else None
    return v


def sweep_stability_limit(
    optimizer: str, hyperparameters: dict, lambda_max: float
) -> tuple[float | None, str | None]:
    """The largest stable learning rate of the swept method on the quadratic model with
    top Hessian eigenvalue ``lambda_max``, and its label for the lr-sweep figure.

    GD: ``2/lambda_max``; heavy ball (``momentum``, ``sgd`` with momentum; torch's
    dampening scales the step by ``1 - dampening``): ``(2 + 2 beta)/lambda_max``;
    Nesterov: ``(2 + 2 mu)/((1 + 2 mu) lambda_max)``. ``(None, None)`` for methods
    without a linear stability theory (adaptive ones), for weight decay, maximize, and
    for a momentum that the grid varies.
    """
    h = dict(hyperparameters or {})
    if not lambda_max > 0 or h.get("maximize") or _one_value(h, "weight_decay", 0.0):
        return None, None
    name = optimizer
    nesterov = name == "nesterov" or (name == "sgd" and bool(h.get("nesterov")))
    if name == "gd":
        mu, damp = 0.0, 0.0
    elif name in LINEAR_THEORY:
        mu = _one_value(h, "momentum", 0.0 if name == "sgd" else 0.9)
        damp = _one_value(h, "dampening", 0.0) if name == "sgd" else 0.0
        if mu is None or damp is None or damp >= 1.0:
            return None, None
        mu, damp = float(mu), float(damp)
    else:
        return None, None
    if mu == 0.0:
        return 2.0 / lambda_max, "$2/\\lambda_{max}$ (GD)"
    if nesterov:
        return (
            (2.0 + 2.0 * mu) / ((1.0 + 2.0 * mu) * lambda_max),
            f"$(2 + 2\\mu)/((1 + 2\\mu)\\lambda_{{max}})$ (Nesterov, $\\mu$ = {mu:g})",
        )
    if damp:
        return (
            (2.0 + 2.0 * mu) / ((1.0 - damp) * lambda_max),
            f"$(2 + 2\\beta)/((1 - d)\\lambda_{{max}})$ (heavy ball, $\\beta$ = {mu:g}, "
            f"dampening $d$ = {damp:g})",
        )
    return (
        (2.0 + 2.0 * mu) / lambda_max,
        f"$(2 + 2\\beta)/\\lambda_{{max}}$ (heavy ball, $\\beta$ = {mu:g})",
    )


def _lr_sweep(
    plotting: Any, spec: OptimizerSpec, traj: Any, analysis: Any, eta_opt: float | None, colors: Any
):
    lrs = np.asarray(traj.hyperparameters["lr"], dtype=float).reshape(-1)
    m = getattr(analysis, "minimum", None)
    eta = None if m is None else m.eta
    label = spec.label or spec.name
    others = [k for k in spec.grids if k != "lr"]
    if others:
        label += f" (all {', '.join(others)} values)"
    title = f"{label}: final loss after {traj.steps} steps against the learning rate"
    limit, limit_label = (
        (None, None)
        if eta is None
        else sweep_stability_limit(traj.optimizer, traj.hyperparameters, m.lambda_max)
    )
    # 1/lambda_max is GD's reference rate: marked for the GD family, or when the config
    # gave its learning rates relative to it; an adaptive method's lr has another scale
    if eta_opt is None and eta is not None and traj.optimizer in LINEAR_THEORY:
        eta_opt = eta["inverse_lambda_max"]
    return plotting.lr_sweep(
        lrs,
        traj.final_loss,
        traj.status,
        label=label,
        f_min=traj.f_min,
        stability_limit=limit,
        stability_label=limit_label,
        eta_opt=eta_opt,
        title=title,
        colors=colors,
    )


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------
def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("optiviz", "numpy", "sympy", "matplotlib", "pyyaml"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            out[pkg] = None
    return out


def _surface_info(surface: Any) -> dict:
    return {
        "name": surface.name,
        "expression": surface.text,
        "variables": list(surface.variables),
        "parameters": json_safe(
            {
                k: (v if isinstance(v, (int, float, list)) else str(v))
                for k, v in surface.parameters.items()
            }
        ),
        "l1": float(getattr(surface, "l1", 0.0)),
        "l2": float(getattr(surface, "l2", 0.0)),
        "n_samples": getattr(surface, "n_samples", None),
        "minima": [m.to_dict() for m in surface.minima],
    }


def _run_json(config: ExperimentConfig, result: ExperimentResult, files: list[str]) -> dict:
    runs = []
    entry_of = {s.index: s for s in config.optimizers}
    by_entry: dict[int, int] = {}
    for r in result.runs:
        by_entry[r.entry] = by_entry.get(r.entry, 0) + 1
    for r in result.runs:
        tr = r.trajectory
        spec = entry_of[r.entry]
        s = tr.summary()
        ent_traj = result.trajectories[r.entry]
        runs.append(
            {
                "run": r.run,
                "entry": r.entry,
                "label": r.label,
                "optimizer": tr.optimizer,
                "hyperparameters": s["hyperparameters"],
                "schedule": s["schedule"],
                "steps": config.steps_of(spec),
                "record": config.record_of(spec),
                "batch_size": spec.batch_size,
                "status": s["status"],
                "n_steps": s["n_steps"],
                "diverged_at": s["diverged_at"],
                "steps_to_tolerance": s["steps_to_tolerance"],
                "final_point": s["final_point"],
                "final_loss": s["final_loss"],
                "final_grad_norm": s["final_grad_norm"],
                "best_loss": s["best_loss"],
                "final_distance_to_min": s.get("final_distance_to_min"),
                "n_f": s["n_f"],
                "n_grad": s["n_grad"],
                "n_hess": s["n_hess"],
                # a grid is one batched run: its wall time is shared by its grid points
                "wall_time": float(ent_traj.wall_time),
                "wall_time_shared_by": by_entry[r.entry],
            }
        )
    return json_safe(
        {
            "name": config.name,
            "config": config.path,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": _versions(),
            "seed": config.seed,
            "surface": _surface_info(result.surface),
            "start": list(config.start),
            "start_prev": None if config.start_prev is None else list(config.start_prev),
            "eta_opt": result.eta_opt,
            "n_runs": len(result.runs),
            "wall_time": result.wall_time,
            "runs": runs,
            "expectations": [e.to_dict() for e in result.expectations],
            "files": files,
        }
    )


def _csv_text_rows(records: list[RunRecord]):
    for r in records:
        tr = r.trajectory
        if tr.points is not None:
            yield from tr.to_rows(run_offset=r.run, label=r.label)
        else:  # record: final -> one row per run: its final point
            yield [
                r.run,
                r.label,
                tr.optimizer,
                int(tr.n_steps),
                *np.asarray(tr.final_point, dtype=float).tolist(),
                float(tr.final_loss),
                float(tr.final_grad_norm),
            ]


def write_csv(path_or_buffer: Any, surface: Any, records: list[RunRecord]) -> None:
    """Write the long-format CSV of every run (see the module docstring for the policy)."""
    if isinstance(path_or_buffer, (str, Path)):
        with open(path_or_buffer, "w", newline="", encoding="utf-8") as fh:
            write_csv(fh, surface, records)
        return
    w = csv.writer(path_or_buffer, lineterminator="\n")
    nv = len(surface.variables)
    w.writerow(["run", "label", "optimizer", "step", *surface.variables, "loss", "grad_norm"])
    for row in _csv_text_rows(records):
        w.writerow(row[:4] + [repr(float(v)) for v in row[4 : 4 + nv + 2]])


MAX_TABLE_ROWS = 200


def results_rows(result: ExperimentResult) -> list[list[str]]:
    """Rows of the results table: one per run (at most MAX_TABLE_ROWS)."""
    from optiviz.report import fmt

    rows = []
    for r in result.runs[:MAX_TABLE_ROWS]:
        tr = r.trajectory
        rows.append(
            [
                str(r.run),
                r.label.replace("|", "\\|"),
                str(tr.status),
                str(tr.n_steps),
                "n/a" if tr.diverged_at is None else str(tr.diverged_at),
                "n/a" if tr.steps_to_tolerance is None else str(tr.steps_to_tolerance),
                fmt(tr.final_loss),
                fmt(tr.final_point),
                fmt(tr.final_grad_norm),
                f"{tr.n_f}/{tr.n_grad}/{tr.n_hess}",
            ]
        )
    return rows


RESULTS_HEAD = [
    "run",
    "label",
    "status",
    "steps",
    "diverged at",
    "steps to tol",
    "final loss",
    "final point",
    "final grad norm",
    "evals f/grad/hess",
]


def _report_md(config: ExperimentConfig, result: ExperimentResult) -> str:
    from optiviz.report import to_markdown

    title = f"# Experiment `{config.name}`"
    lines = [title, ""]
    if config.description:
        lines += [config.description.strip(), ""]
    lines += [
        f"Surface `{result.surface.name}`, start {list(config.start)}"
        + (f" (previous iterate {list(config.start_prev)})" if config.start_prev else "")
        + f", seed {config.seed}; {len(result.runs)} runs.",
        "",
    ]
    if result.eta_opt is not None:
        lines += [
            f"Relative learning rates (`times_eta_opt`) were resolved with "
            f"eta_opt = 1/lambda_max = {result.eta_opt:.6g}.",
            "",
        ]
    lines += ["## Results", ""]
    rows = results_rows(result)
    lines.append("| " + " | ".join(RESULTS_HEAD) + " |")
    lines.append("| " + " | ".join("---" for _ in RESULTS_HEAD) + " |")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if len(result.runs) > MAX_TABLE_ROWS:
        lines.append(
            f"\n({len(result.runs) - MAX_TABLE_ROWS} more runs in run.json and trajectories.csv)"
        )
    lines.append("")
    if result.expectations:
        lines += ["## Expected answers (`expect`)", ""]
        for e in result.expectations:
            mark = "ok" if e.passed else "FAILED"
            note = f" -- {' '.join(e.expectation.note.split())}" if e.expectation.note else ""
            lines.append(f"- [{mark}] {e.message}{note}")
        lines.append("")
    analysis_md = to_markdown(result.analysis).rstrip()
    # demote the analysis headings one level under the experiment's title
    analysis_md = "\n".join(
        "#" + ln if ln.startswith("#") else ln for ln in analysis_md.splitlines()
    )
    lines += [analysis_md, ""]
    return "\n".join(lines)


def _config_yaml(config: ExperimentConfig) -> str:
    import yaml

    head = (
        f"# Resolved config of experiment {config.name!r}"
        + (f" (from {config.path})" if config.path else "")
        + ": every default filled in.\n"
    )
    return head + yaml.safe_dump(
        json_safe(config.to_dict()), sort_keys=False, default_flow_style=None, width=100
    )


def _write_outputs(
    target: Path,
    config: ExperimentConfig,
    result: ExperimentResult,
    progress: Progress | None = None,
) -> dict[str, Path]:

    report = _report_md(config, result)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    token = f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
    pending: list[tuple[Path, Path]] = []  # (temporary, final)

    def temp_for(final_name: str) -> Path:
        tmp = target / f"{token}-{final_name}"
        pending.append((tmp, target / final_name))
        return tmp

    try:
        temp_for("config.yaml").write_text(_config_yaml(config), encoding="utf-8")
        write_csv(temp_for("trajectories.csv"), result.surface, result.runs)
        temp_for("report.md").write_text(report, encoding="utf-8")
        if config.figures:
            from optiviz.plotting import ColorMap, save_figure

            colors = ColorMap()  # one map: a label keeps its colour in every figure
            for kind in config.figures:
                if progress is not None:
                    progress.describe(f"drawing {kind}")
                for name, fig in _figures_of(kind, config, result, colors):
                    save_figure(fig, target / f"{token}-{name}", list(config.formats))
                    for fmt in config.formats:
                        pending.append((target / f"{token}-{name}.{fmt}", target / f"{name}.{fmt}"))
                    fig.clear()
                if progress is not None:
                    progress.advance()
        if progress is not None:
            progress.describe(f"writing {target}")
        names = [final.name for _, final in pending] + ["run.json"]
        run_json = _run_json(config, result, names)
        temp_for("run.json").write_text(
            json.dumps(run_json, indent=2, allow_nan=False), encoding="utf-8"
        )
        for tmp, _final in pending:
            if not tmp.exists():
                raise OptivizError(f"expected output {tmp.name} was not written")
        for tmp, final in pending:
            os.replace(tmp, final)
        if progress is not None:
            progress.advance()
    except BaseException:
        for tmp, _ in pending:
            try:
                tmp.unlink()
            except OSError:
                pass
        for stray in target.glob(f"{token}-*"):
            try:
                stray.unlink()
            except OSError:
                pass
        if created:
            try:
                target.rmdir()
            except OSError:
                pass
        raise
    files: dict[str, Path] = {}
    for _, final in pending:
        files[final.name] = final
    return files


def summarize(result: ExperimentResult) -> list[str]:
    """Short text lines describing the runs (what ``optiviz run`` prints): one line per
    single run, one line per grid entry."""
    lines = []
    by_entry: dict[int, list[RunRecord]] = {}
    for r in result.runs:
        by_entry.setdefault(r.entry, []).append(r)
    for spec in result.config.optimizers:
        recs = by_entry.get(spec.index, [])
        if not recs:
            continue
        if not spec.is_grid:
            r = recs[0]
            tr = r.trajectory
            extra = ""
            if tr.status == "diverged":
                extra = f" at step {tr.diverged_at}"
            elif tr.steps_to_tolerance is not None:
                extra = f" in {tr.steps_to_tolerance} steps"
            lines.append(
                f"  [{r.run}] {r.label}: {tr.status}{extra}, final loss {float(tr.final_loss):.6g}"
            )
            continue
        status: dict[str, int] = {}
        for r in recs:
            status[str(r.trajectory.status)] = status.get(str(r.trajectory.status), 0) + 1
        losses = np.array([float(r.trajectory.final_loss) for r in recs])
        ok = np.isfinite(losses)
        best = ""
        if ok.any():
            i = int(np.flatnonzero(ok)[np.argmin(losses[ok])])
            best = f"; best final loss {losses[i]:.6g}: [{recs[i].run}] {recs[i].label}"
        counts = ", ".join(f"{v} {k}" for k, v in status.items())
        lines.append(
            f"  [{recs[0].run}-{recs[-1].run}] grid of {len(recs)} runs "
            f"({spec.label or spec.name}): {counts}{best}"
        )
    return lines
