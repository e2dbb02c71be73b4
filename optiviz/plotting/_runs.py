"""Normalizing what figure functions receive into per-run views.

Figures accept a list whose items are :class:`~optiviz.trajectory.Trajectory` objects (they
carry ``.label``), ``(label, trajectory)`` pairs, or a ``{label: trajectory}`` mapping.
Batched trajectories (``points`` of shape ``(R, T+1, n)``) become a :class:`RunGroup` of R
single-run views (one entry of an experiment: its runs share a colour, ``key``, and differ by
line style, ``variant``: their start or swept value); the swept hyperparameter (a
list-valued entry of ``hyperparameters``) is recorded so a figure can colour the family by it.

Anything trajectory-like works (duck typing): ``points``, ``losses``, ``effective_lr``,
``status``, ``diverged_at``, ``n_steps`` are read with ``getattr`` and may be missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray


@dataclass
class RunView:
    """One run, trimmed to its own length."""

    label: str
    points: Array | None  # (T+1, n)
    losses: Array | None  # (T+1,)
    eff_lr: Array | None  # (T, n)
    status: str = "unknown"
    diverged_at: int | None = None
    f_min: float | None = None
    hyper: dict = field(default_factory=dict)
    sweep_value: float | None = None
    key: str = ""  # the entry's colour key (its group's label, made unique in the figure)
    variant: int = 0  # the run's position within its entry: its line style
    step_evals: Array | None = None  # (T+1, 3) evaluations of each step (f, grad, hess)
    n: int = 0  # the number of variables (a Hessian's default weight)

    def __post_init__(self) -> None:
        self.key = self.key or self.label

    @property
    def diverged(self) -> bool:
        if self.status == "diverged" or self.diverged_at is not None:
            return True
        return False

    def finite_prefix(self) -> Array | None:
        """Points up to (excluding) the first non-finite row; ``(k, n)`` with k >= 0."""
        if self.points is None:
            return None
        ok = np.isfinite(self.points).all(axis=-1)
        k = len(ok) if ok.all() else int(np.argmin(ok))
        return self.points[:k]

    @property
    def legend_label(self) -> str:
        if self.diverged:
            k = self.diverged_at
            if k is None and self.points is not None:
                k = len(self.points) - 1
            return f"{self.label} — diverged at step {k}"
        return self.label


@dataclass
class RunGroup:
    """The runs of one entry of the input: one run, or the R runs of a batched trajectory."""

    label: str
    runs: list[RunView]
    batched: bool = False
    sweep_name: str | None = None
    sweep_values: Array | None = None
    optimizer: str = ""  # the optimizer's name, when known
    key: str = ""  # colour key: the label, made unique among the groups of one figure
    #: repeats: runs ``j N .. j N + N - 1`` are setting ``j`` with the seeds ``seeds``
    seeds: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        self.key = self.key or self.label
        for i, r in enumerate(self.runs):
            r.key, r.variant = self.key, i

    @property
    def n_diverged(self) -> int:
        return sum(r.diverged for r in self.runs)

    @property
    def repeats(self) -> int:
        """N, the seeds each setting ran with (1: no repeats)."""
        return len(self.seeds) if len(self.seeds) > 1 else 1


def _as_int_or_none(v: Any) -> int | None:
    if v is None:
        return None
    try:
        v = int(v)
    except (TypeError, ValueError):
        return None
    return None if v < 0 else v


def _arr(a: Any) -> Array | None:
    if a is None:
        return None
    return np.asarray(a, dtype=float)


def _single(traj: Any, label: str) -> RunView:
    points = _arr(getattr(traj, "points", None))
    if points is not None and points.ndim == 1:
        points = points[:, None]
    losses = _arr(getattr(traj, "losses", None))
    eff = _arr(getattr(traj, "effective_lr", None))
    if eff is not None and eff.ndim == 1:
        eff = eff[:, None]
    evals = getattr(traj, "step_evals", None)
    evals = None if evals is None else np.asarray(evals)
    n_steps = getattr(traj, "n_steps", None)
    if n_steps is not None:
        k = int(n_steps)
        points = None if points is None else points[: k + 1]
        losses = None if losses is None else losses[: k + 1]
        eff = None if eff is None else eff[:k]
        evals = None if evals is None else evals[: k + 1]
    status = getattr(traj, "status", "unknown")
    f_min = getattr(traj, "f_min", None)
    return RunView(
        label=label,
        points=points,
        losses=losses,
        eff_lr=eff,
        status=str(status),
        diverged_at=_as_int_or_none(getattr(traj, "diverged_at", None)),
        f_min=None if f_min is None else float(f_min),
        hyper=dict(getattr(traj, "hyperparameters", {}) or {}),
        step_evals=evals,
        n=len(getattr(traj, "variables", ()) or ()) or (0 if points is None else points.shape[-1]),
    )


def _is_batched(traj: Any) -> bool:
    if getattr(traj, "batched", False):
        return True
    pts = getattr(traj, "points", None)
    return pts is not None and np.ndim(pts) == 3


def _sweep(hyper: Mapping[str, Any], R: int) -> tuple[str | None, Array | None]:
    """The first hyperparameter given as R values that are not all equal."""
    for key, v in hyper.items():
        if isinstance(v, (list, np.ndarray)) and len(v) == R:
            try:
                vals = np.asarray(v, dtype=float)
            except (TypeError, ValueError):
                continue
            if vals.ndim == 1 and np.unique(vals).size > 1:
                return key, vals
    return None, None


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _group(traj: Any, label: str) -> RunGroup:
    opt = getattr(traj, "optimizer", "")
    opt = opt if isinstance(opt, str) else str(getattr(opt, "name", ""))
    if not _is_batched(traj):
        return RunGroup(label, [_single(traj, label)], optimizer=opt)
    pts = getattr(traj, "points", None)
    R = len(pts) if pts is not None else len(np.atleast_1d(getattr(traj, "status", [])))
    hyper = dict(getattr(traj, "hyperparameters", {}) or {})
    name, values = _sweep(hyper, R)
    run_labels = getattr(traj, "run_labels", None)
    views = []
    if hasattr(traj, "run") and callable(traj.run):
        subs = [traj.run(i) for i in range(R)]
    else:
        subs = [_Slice(traj, i) for i in range(R)]
    for i, sub in enumerate(subs):
        if run_labels:
            lab = str(run_labels[i])
        elif name is not None and values is not None:
            lab = f"{label} ({name}={_fmt(values[i])})"
        else:
            lab = f"{label} #{i}"
        v = _single(sub, lab)
        if name is not None and values is not None:
            v.sweep_value = float(values[i])
        views.append(v)
    seeds = tuple(getattr(traj, "seeds", None) or ())
    return RunGroup(
        label,
        views,
        batched=True,
        sweep_name=name,
        sweep_values=values,
        optimizer=opt,
        seeds=seeds if len(seeds) > 1 and R % len(seeds) == 0 else (),
    )


class _Slice:
    """Run ``i`` of a batched trajectory-like object without a ``run`` method."""

    def __init__(self, traj: Any, i: int):
        for key in ("points", "losses", "effective_lr", "step_evals"):
            a = getattr(traj, key, None)
            setattr(self, key, None if a is None else np.asarray(a)[i])
        st = getattr(traj, "status", None)
        self.status = "unknown" if st is None else np.asarray(st)[i]
        d = getattr(traj, "diverged_at", None)
        self.diverged_at = None if d is None else np.asarray(d)[i]
        ns = getattr(traj, "n_steps", None)
        self.n_steps = None if ns is None else np.asarray(ns)[i]
        self.f_min = getattr(traj, "f_min", None)
        hyper = dict(getattr(traj, "hyperparameters", {}) or {})
        self.hyperparameters = {k: (v[i] if isinstance(v, list) else v) for k, v in hyper.items()}


def traj_label(traj: Any) -> str:
    lab = getattr(traj, "label", None)
    if lab:
        return str(lab)
    return str(getattr(traj, "optimizer", "") or "run")


def normalize(runs: Any) -> list[RunGroup]:
    """Turn the accepted inputs into a list of :class:`RunGroup`."""
    if runs is None:
        return []
    if isinstance(runs, Mapping):
        items: Iterable = list(runs.items())
    elif hasattr(runs, "points") or hasattr(runs, "losses"):
        items = [runs]
    else:
        items = list(runs)
    groups: list[RunGroup] = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            label, traj = item
        else:
            label, traj = traj_label(item), item
        g = _group(traj, label)
        # two entries with one label still get two colours
        seen = len([h for h in groups if h.label == label])
        if seen:
            g.key = f"{label} #{seen + 1}"
            for r in g.runs:
                r.key = g.key
        groups.append(g)
    return groups


def flat(groups: list[RunGroup]) -> list[RunView]:
    return [r for g in groups for r in g.runs]
