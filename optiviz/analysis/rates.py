"""Rates, theory beside measurement: the linear rates GD, heavy ball and Nesterov have on a
quadratic, the rate a run is predicted to have, the rate measured on a trajectory, the
comparison of runs with the theory, the sharpness along a path, GD's closed form."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from optiviz._format import json_float, json_safe
from optiviz.analysis._hessian import _sym
from optiviz.errors import OptivizError
from optiviz.optimizers import REGISTRY
from optiviz.optimizers.sgd import GD, Momentum, Nesterov

if TYPE_CHECKING:  # pragma: no cover
    from optiviz.analysis.core import Analysis

Array = np.ndarray


def gd_rate(eigenvalues: ArrayLike, lr: float) -> float:
    """GD's linear rate on a quadratic: ``max_i |1 - lr lambda_i|`` (:class:`GD`'s iteration)."""
    return float(GD.linear_rate(eigenvalues, {"lr": lr}))


def heavy_ball_rate(eigenvalues: ArrayLike, lr: float, momentum: float) -> float:
    """Spectral radius of ``[[1 + mu - lr lambda, -mu], [1, 0]]``, maximized over lambda.

    The iteration ``x+ = x - lr grad + mu (x - x_prev)``; torch's buffer form
    (``b = mu b + g; x -= lr b``) is the same iteration in x (:class:`Momentum`'s matrix).
    """
    return float(Momentum.linear_rate(eigenvalues, {"lr": lr, "momentum": momentum}))


def nesterov_rate(eigenvalues: ArrayLike, lr: float, momentum: float) -> float:
    """Nesterov (look-ahead): radius of ``[[(1 + mu)(1 - lr l), -mu (1 - lr l)], [1, 0]]``.

    torch's form (``d = g + mu b``) has the same trace and determinant, so the same rate
    (:class:`Nesterov`'s matrix).
    """
    return float(Nesterov.linear_rate(eigenvalues, {"lr": lr, "momentum": momentum}))


def predicted_rate(
    optimizer: Any, eigenvalues: ArrayLike, hyperparameters: dict | None = None
) -> tuple[float | None, str]:
    """Predicted linear rate of a run from the Hessian eigenvalues at its minimum.

    ``optimizer`` is an optimizer object or a registry name (then ``hyperparameters``
    gives its settings; given with an object, they override its own). Returns
    ``(rate, why)`` from the class's linear theory
    (:meth:`~optiviz.optimizers.base.Optimizer.rate_for`); ``rate`` is None for methods
    without a fixed linear iteration (adaptive methods, schedules, weight decay, maximize).
    """
    if isinstance(optimizer, str):
        cls, h = REGISTRY.get(optimizer), dict(hyperparameters or {})
        if cls is None:
            return None, f"no linear-rate theory for {optimizer}"
    else:
        cls, h = type(optimizer), dict(getattr(optimizer, "hyper", {}) or {})
        if hyperparameters:
            h.update(hyperparameters)
    return cls.rate_for(eigenvalues, h)


def measured_rate(
    points: Array, x_star: Any, *, tail: float = 0.5, floor: float = 1e-12
) -> float | None:
    """Linear rate of ``||x_t - x*||``: exp of the least-squares slope of its log.

    Uses the points before the distance first drops to ``floor * scale`` (round-off;
    ``scale = max(||x_0 - x*||, ||x*||, 1)``) or stops being finite, and fits the last
    ``tail`` fraction of them (at least 3 points). A least-squares slope over many steps
    averages out the oscillation of momentum methods (the geometric mean of the ratios).
    Returns 0.0 when the distance reaches round-off within two steps, None with fewer than
    three usable points otherwise (a run of 0 or 1 steps has no rate).
    """
    P = np.asarray(points, dtype=float)
    xs = np.asarray(x_star, dtype=float)
    with np.errstate(all="ignore"):
        d = np.linalg.norm(P - xs, axis=-1)
    if d.size == 0 or not np.isfinite(d[0]):
        return None
    scale = max(float(d[0]), float(np.linalg.norm(xs)), 1.0)
    bad = ~np.isfinite(d) | (d <= floor * scale) | (d > 1e150)
    cut = int(np.argmax(bad)) if bad.any() else len(d)
    if cut <= 2:
        # too few points to fit a slope: 0.0 if the distance reached round-off within two
        # steps, None (no rate) for a run too short to tell (fewer than 3 points)
        reached = cut < len(d) and np.isfinite(d[cut]) and d[cut] <= floor * scale
        return 0.0 if (cut >= 1 and reached) else None
    seg = d[:cut]
    k0 = min(int(len(seg) * (1.0 - tail)), len(seg) - 3)
    y = np.log(seg[k0:])
    t = np.arange(k0, len(seg), dtype=float)
    slope = float(np.polyfit(t, y, 1)[0])
    return math.exp(slope)


@dataclass
class RunComparison:
    """One run's outcome next to the theory at the minimum it approaches."""

    label: str
    optimizer: str
    status: str
    steps: int
    final_loss: float | None
    distance_to_min: float | None
    measured_rate: float | None
    predicted_rate: float | None
    theory: str | None  # "exact" (quadratic), "local" (Hessian at the minimum) or None
    reference_point: Array | None
    why: str = ""
    #: What the final point is when the gradient there is ~0 (``"minimum"``, ``"saddle"``,
    #: ``"maximum"``, ``"degenerate"``), else None: see :func:`~optiviz.analysis.end_kind`.
    ends_at: str | None = None
    final_point: Array | None = None

    def to_dict(self) -> dict:
        return json_safe(
            {
                "label": self.label,
                "optimizer": self.optimizer,
                "status": self.status,
                "steps": self.steps,
                "final_loss": self.final_loss,
                "distance_to_min": self.distance_to_min,
                "measured_rate": self.measured_rate,
                "predicted_rate": self.predicted_rate,
                "theory": self.theory,
                "reference_point": self.reference_point,
                "why": self.why,
                "ends_at": self.ends_at,
                "final_point": self.final_point,
            }
        )


def compare_runs(analysis: Analysis, trajectories: Any) -> list[RunComparison]:
    """Measured vs predicted rates for trajectories (single or batched; a list of them)."""
    if trajectories is None:
        return []
    if not isinstance(trajectories, (list, tuple)):
        trajectories = [trajectories]
    from optiviz.analysis.spectra import end_kind

    minima = analysis.minima
    out = []
    for traj in trajectories:
        for tr in traj.runs() if hasattr(traj, "runs") else [traj]:
            fp = np.asarray(tr.final_point, dtype=float) if tr.final_point is not None else None
            ref = None
            if minima:
                probe = (
                    fp
                    if fp is not None and np.all(np.isfinite(fp))
                    else (tr.points[0] if tr.points is not None else None)
                )
                if probe is not None:
                    ref = min(minima, key=lambda m: float(np.linalg.norm(m.point - probe)))
            dist = None
            if ref is not None and fp is not None and np.all(np.isfinite(fp)):
                dist = float(np.linalg.norm(fp - ref.point))
            meas = pred = None
            theory, why = None, "no minimum to compare with"
            if ref is not None:
                if tr.points is not None:
                    meas = measured_rate(tr.points, ref.point)
                if getattr(tr, "schedule", None) not in (None, "constant"):
                    why = "a learning-rate schedule: no fixed linear rate"
                elif ref.at_kink:
                    why = "the minimum is on a kink: no Hessian theory of the rate"
                else:
                    pred, why = predicted_rate(tr.optimizer, ref.eigenvalues, tr.hyperparameters)
                    if pred is not None:
                        theory = "exact" if ref.exact else "local"
            out.append(
                RunComparison(
                    label=tr.label,
                    optimizer=tr.optimizer,
                    status=str(tr.status),
                    steps=int(tr.n_steps),
                    final_loss=json_float(tr.final_loss),
                    distance_to_min=dist,
                    measured_rate=meas,
                    predicted_rate=pred,
                    theory=theory,
                    reference_point=None if ref is None else ref.point,
                    why=why,
                    ends_at=None if fp is None else end_kind(analysis.surface, fp),
                    final_point=fp,
                )
            )
    return out


@dataclass
class Sharpness:
    """Largest Hessian eigenvalue along a path beside the GD threshold 2/lr (edge of stability).

    ``lambda_max``/``lambda_min``: ``(T+1,)`` (or ``(R, T+1)``), nan where the point is not
    finite. ``threshold``: ``2 / lr_t`` per point, with ``lr_t`` the largest per-coordinate
    effective learning rate of the step that leaves the point (the last point repeats the
    last step's value); None when the trajectory holds no effective learning rates.
    """

    steps: Array
    lambda_max: Array
    lambda_min: Array
    threshold: Array | None

    def to_dict(self) -> dict:
        return json_safe(
            {
                "steps": self.steps,
                "lambda_max": self.lambda_max,
                "lambda_min": self.lambda_min,
                "threshold": self.threshold,
            }
        )


def sharpness_along(trajectory: Any, surface: Any = None) -> Sharpness:
    """Hessian extreme eigenvalues at every recorded point of a trajectory, and 2/lr."""
    if surface is None:
        from optiviz.library import load_surface

        surface = load_surface(trajectory.surface)
    P = np.asarray(trajectory.points, dtype=float)
    if P is None or P.ndim < 2:
        raise OptivizError("sharpness_along needs a trajectory recorded with record='all'")
    flat = P.reshape(-1, P.shape[-1])
    lmax = np.full(len(flat), np.nan)
    lmin = np.full(len(flat), np.nan)
    ok = np.all(np.isfinite(flat), axis=-1)
    if ok.any():
        with np.errstate(all="ignore"):
            H = _sym(surface.hess(flat[ok], check=False))
        good = np.all(np.isfinite(H), axis=(-1, -2))
        lam = np.linalg.eigvalsh(H[good])
        idx = np.nonzero(ok)[0][good]
        lmax[idx], lmin[idx] = lam[:, -1], lam[:, 0]
    shape = P.shape[:-1]
    thr = None
    E = getattr(trajectory, "effective_lr", None)
    if E is not None:
        E = np.asarray(E, dtype=float)
        with np.errstate(all="ignore"):
            lr_t = np.max(E, axis=-1)  # (..., T)
            lr_pts = np.concatenate([lr_t, lr_t[..., -1:]], axis=-1) if lr_t.shape[-1] else lr_t
            thr = np.where(lr_pts > 0, 2.0 / np.where(lr_pts > 0, lr_pts, 1.0), np.inf)
    return Sharpness(np.arange(shape[-1]), lmax.reshape(shape), lmin.reshape(shape), thr)


def gd_closed_form(A: Any, b: Any, x0: Any, lr: float, t: int | Sequence[int]) -> Array:
    """GD iterates on ``f = 1/2 x^T A x + b^T x (+ c)``: ``x* + (I - lr A)^t (x0 - x*)``.

    Computed with the power of the affine map ``x -> (I - lr A) x - lr b`` so that it holds
    for any A (no minimizer needed). ``t`` an int gives ``(n,)``, a sequence ``(len(t), n)``.
    """
    A = np.atleast_2d(np.asarray(A, dtype=float))
    n = A.shape[0]
    b = np.broadcast_to(np.asarray(b, dtype=float), (n,))
    x0 = np.asarray(x0, dtype=float).reshape(n)
    M = np.eye(n + 1)
    M[:n, :n] -= lr * A
    M[:n, n] = -lr * b
    v = np.append(x0, 1.0)
    ts = np.atleast_1d(np.asarray(t))
    if np.any(ts < 0) or np.any(ts != np.round(ts)):
        raise OptivizError(f"t must be a nonnegative integer or a list of them; got {t!r}")
    out = np.array([(np.linalg.matrix_power(M, int(k)) @ v)[:n] for k in ts])
    return out[0] if np.ndim(t) == 0 else out
