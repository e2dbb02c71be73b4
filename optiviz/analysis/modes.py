"""Eigen-modes of a run: the error projected on each Hessian eigenvector, measured and in
closed form.

At a minimum ``x*`` with Hessian ``H = V diag(lambda) V^T`` the error of a run splits into
modes ``z_i(t) = v_i^T (x_t - x*)``. On a quadratic a fixed-step method with a linear
iteration (:meth:`~optiviz.optimizers.base.Optimizer.iteration_matrix`) moves each mode on
its own: ``(z_i(t+1), z_i(t)) = M(lambda_i) (z_i(t), z_i(t-1))``. The closed form here
applies the powers of ``M(lambda_i)`` to the measured first step ``(z_i(1), z_i(0))`` (the
class's iteration holds from the second step on; torch's buffers may make the first one
differ): for GD it is ``(1 - lr lambda_i)^t z_i(0)``, for heavy ball the 2x2 recurrence.
Elsewhere it is the local (linearized) prediction around ``x*``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Modes", "modes", "closed_form"]


@dataclass
class Modes:
    """The modes of one run: ``measured`` and ``closed_form`` have shape ``(T + 1, k)``
    (``closed_form`` None without a linear theory); ``eigenvectors`` are columns."""

    point: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    measured: np.ndarray
    closed_form: np.ndarray | None
    closed_form_label: str
    exact: bool

    def to_rows(self, entry: int, label: str) -> list[list[str]]:
        """Rows ``entry, label, step, mode, eigenvalue, measured, closed_form``."""
        rows = []
        for t in range(self.measured.shape[0]):
            for i, lam in enumerate(self.eigenvalues):
                cf = "" if self.closed_form is None else repr(float(self.closed_form[t, i]))
                rows.append(
                    [
                        str(entry),
                        label,
                        str(t),
                        str(i + 1),
                        repr(float(lam)),
                        repr(float(self.measured[t, i])),
                        cf,
                    ]
                )
        return rows


def closed_form(cls: Any, eigenvalues: Any, h: Mapping[str, Any], z0: Any, z1: Any, steps: int):
    """``z_i(t)`` for ``t = 0..steps`` from ``(z_i(1), z_i(0))`` by powers of the class's
    iteration matrices ``M(lambda_i)``; None without a linear theory for ``h``."""
    lam = np.asarray(eigenvalues, dtype=float).reshape(-1)
    M = cls.linear_iteration(lam, h)
    if M is None:
        return None
    M = np.broadcast_to(M, (lam.size, 2, 2))
    out = np.empty((steps + 1, lam.size))
    out[0] = z0
    if steps == 0:
        return out
    out[1] = z1
    s = np.stack([np.asarray(z1, dtype=float), np.asarray(z0, dtype=float)], axis=-1)  # (k, 2)
    with np.errstate(all="ignore"):
        for t in range(2, steps + 1):
            s = np.einsum("kij,kj->ki", M, s)
            out[t] = s[:, 0]
    return out


def modes(points: Any, minimum: Any, optimizer: Any = None) -> Modes:
    """The modes of the run with iterates ``points`` ``(T + 1, n)`` about ``minimum`` (a
    :class:`~optiviz.analysis.spectra.PointAnalysis`: ``point``, ``eigenvalues``,
    ``eigenvectors``, ``exact``), and their closed form for ``optimizer`` (an optimizer
    object; its class's linear theory with its own hyperparameters)."""
    P = np.asarray(points, dtype=float)
    x_star = np.asarray(minimum.point, dtype=float)
    V = np.asarray(minimum.eigenvectors, dtype=float)
    lam = np.asarray(minimum.eigenvalues, dtype=float)
    Z = (P - x_star) @ V  # (T + 1, k)
    cf = None
    label = "closed form: none (no linear iteration for this method)"
    if optimizer is not None and Z.shape[0] >= 2 and np.all(np.isfinite(Z[:2])):
        cls = type(optimizer)
        cf = closed_form(cls, lam, optimizer.hyper, Z[0], Z[1], Z.shape[0] - 1)
        if cf is not None:
            where = "" if minimum.exact else " (linearized at x*)"
            label = f"closed form: $M(\\lambda_i)^{{t-1}}\\,(z_1, z_0)$ of {cls.name}{where}"
    return Modes(
        point=x_star,
        eigenvalues=lam,
        eigenvectors=V,
        measured=Z,
        closed_form=cf,
        closed_form_label=label,
        exact=bool(minimum.exact),
    )
