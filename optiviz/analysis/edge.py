"""The edge of stability along a run: sharpness against the method's own threshold.

:func:`edge_of_stability` gives, at every recorded iterate ``x_t`` of one run:

* the sharpness ``lambda_max(H(x_t))`` (and ``lambda_min``);
* for a fixed-step method with a linear theory (GD, heavy ball, Nesterov, SGD) the
  threshold ``c / lr_{t+1}``, where ``c = lr * lambda`` at the class's stability limit
  (:meth:`~optiviz.optimizers.base.Optimizer.lr_stability_limit` at ``lambda = 1``:
  2 for GD, ``2 + 2 beta`` for heavy ball, ``(2 + 2 mu)/(1 + 2 mu)`` for Nesterov; the
  iterations depend on ``lr * lambda`` only) and ``lr_{t+1}`` the rate of the step that
  leaves ``x_t`` (Cohen et al. 2021, "Gradient descent on neural networks typically occurs
  at the edge of stability", arXiv:2103.00065: GD's sharpness rises to ``2/lr`` and hovers
  there);
* for a diagonally preconditioned method (Adam, RMSprop: the class's
  :meth:`~optiviz.optimizers.base.Optimizer.preconditioned_stability`) the preconditioned
  sharpness ``lambda_max(P^-1/2 H P^-1/2)`` with ``P`` the preconditioner of the step that
  leaves ``x_t`` (from the recorded lr factor), against ``c / lr_{t+1}`` (Adam:
  ``(2 + 2 beta1)/((1 - beta1) lr)``, 38/lr at beta1 = 0.9; Cohen et al. 2022, "Adaptive
  gradient methods at the edge of stability", arXiv:2207.14484). The last iterate has no
  step leaving it: nan there.

Data only; :func:`optiviz.plotting.sharpness_panels` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optiviz._format import json_safe
from optiviz.errors import OptivizError

__all__ = ["EdgeOfStability", "edge_of_stability", "lr_per_step"]

Array = np.ndarray


@dataclass
class EdgeOfStability:
    """Sharpness along one run and the thresholds it is compared with (see the module)."""

    steps: Array  # (T+1,) 0 .. T
    lr: Array  # (T+1,) rate of the step leaving x_t (the last repeats the schedule's next)
    lambda_max: Array
    lambda_min: Array
    threshold: Array | None  # c / lr_{t+1}, fixed-step linear methods
    threshold_label: str | None
    preconditioned: Array | None  # lambda_max(P^-1/2 H P^-1/2)
    preconditioned_threshold: Array | None
    preconditioned_label: str | None

    def to_dict(self) -> dict:
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def lr_per_step(base_lr: float, T: int, schedule: Any = None) -> Array:
    """``(T+1,)``: the learning rate of step ``t + 1`` (the one leaving ``x_t``)."""
    t = np.arange(1, T + 2)
    if schedule is None:
        return np.full(T + 1, float(base_lr))
    return np.asarray(schedule(t, float(base_lr)), dtype=float).reshape(-1)


def _sym_eig(H: Array) -> Array:
    """Eigenvalues (ascending) of symmetric ``(..., n, n)``; nan rows where not finite."""
    H = 0.5 * (H + np.swapaxes(H, -1, -2))
    out = np.full(H.shape[:-1], np.nan)
    good = np.all(np.isfinite(H), axis=(-1, -2))
    if good.any():
        out[good] = np.linalg.eigvalsh(H[good])
    return out


def edge_of_stability(trajectory: Any, surface: Any, schedule: Any = None) -> EdgeOfStability:
    """Sharpness and thresholds along a single run recorded with ``record="all"``.

    ``schedule``: the run's learning-rate schedule (its rates give the thresholds), None
    for a constant rate.
    """
    from optiviz.optimizers import get_class

    P = getattr(trajectory, "points", None)
    if P is None or np.ndim(P) != 2:
        raise OptivizError(
            "edge_of_stability needs a single run recorded with record='all' (or 'path')"
        )
    P = np.asarray(P, dtype=float)
    T = len(P) - 1
    cls = get_class(trajectory.optimizer)
    h = dict(trajectory.hyperparameters or {})
    lr = lr_per_step(float(h.get("lr", np.nan)), T, schedule)
    ok = np.all(np.isfinite(P), axis=1)
    H = np.full((T + 1, P.shape[1], P.shape[1]), np.nan)
    if ok.any():
        with np.errstate(all="ignore"):
            H[ok] = surface.hess(P[ok], check=False)
    lam = _sym_eig(H)
    out = EdgeOfStability(
        steps=np.arange(T + 1),
        lr=lr,
        lambda_max=lam[:, -1],
        lambda_min=lam[:, 0],
        threshold=None,
        threshold_label=None,
        preconditioned=None,
        preconditioned_threshold=None,
        preconditioned_label=None,
    )
    if cls.has_linear_theory() and cls.order == 1 and not cls.searches_step:
        limit, label = cls.lr_stability_limit(1.0, h)
        if limit is not None:
            out.threshold = limit / lr
            out.threshold_label = _per_lr(limit, label)
    pre = cls.preconditioned_stability(h)
    factor = getattr(trajectory, "lr_factor", None)
    if pre is not None and factor is not None and T > 0:
        c, label = pre
        F = np.broadcast_to(np.asarray(factor, dtype=float), (T, P.shape[1]))
        steps = np.arange(1, T + 1)[:, None]
        inv = cls.inverse_preconditioner(F, lr[:T, None], steps, h)
        if inv is not None:
            s = np.sqrt(np.where(inv > 0, inv, np.nan))  # (T, n)
            S = H[:T] * s[:, :, None] * s[:, None, :]
            pl = np.full(T + 1, np.nan)
            pl[:T] = _sym_eig(S)[:, -1]
            out.preconditioned = pl
            thr = c / lr
            thr[T] = np.nan
            out.preconditioned_threshold = thr
            out.preconditioned_label = label
    return out


def _per_lr(c: float, label: str | None) -> str:
    """The threshold's legend text from the class's stability-limit label (an lr limit
    ``c / lambda_max``; the sharpness threshold is ``c / lr``)."""
    text = (label or "").replace("\\lambda_{max}", "\\eta").replace("\\lambda_max", "\\eta")
    return text if text else f"{c:.4g}/$\\eta$"
