"""The generic math of linear theory on a quadratic: 2x2 iterations, spectral radii, limits.

On the 1-D quadratic ``f = lam z^2 / 2`` a fixed-step method with one step of memory is a
linear map of the state ``(z_t, z_{t-1})``: ``(z_{t+1}, z_t) = M (z_t, z_{t-1})``, with ``M``
of the companion form ``[[a, b], [1, 0]]``. Along each eigen-direction of a quadratic's
Hessian the iterates follow that map, so the worst-case linear rate is the spectral radius of
``M`` maximized over the eigenvalues. The optimizer classes state their ``M`` (see
:meth:`optiviz.optimizers.base.Optimizer.iteration_matrix`); this module holds what is common
to all of them. Everything broadcasts: ``lam`` and the hyperparameters may be arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray

#: Bracketing steps of :func:`bisect_stability_limit` (factors of 2 from ``1/lambda_max``).
_BRACKET_STEPS = 64
#: Bisection steps: more than enough to reach the float64 resolution of the limit.
_BISECTION_STEPS = 200


def companion(a, b) -> Array:
    """The matrices ``[[a, b], [1, 0]]``, shape ``broadcast(a, b).shape + (2, 2)``."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    M = np.zeros(a.shape + (2, 2))
    M[..., 0, 0] = a
    M[..., 0, 1] = b
    M[..., 1, 0] = 1.0
    return M


def spectral_radius(M: Array) -> Array:
    """``max |eigenvalue|`` of each matrix of the stack ``M`` (shape ``(..., 2, 2)``); inf
    for a matrix with a non-finite entry (an overflowed ``lr * lambda``: it diverges)."""
    M = np.asarray(M, dtype=float)
    finite = np.all(np.isfinite(M), axis=(-2, -1))
    if finite.all():
        return np.max(np.abs(np.linalg.eigvals(M)), axis=-1)
    out = np.full(finite.shape, np.inf)
    out[finite] = np.max(np.abs(np.linalg.eigvals(M[finite])), axis=-1)
    return out


def is_batched(value) -> bool:
    """True for a hyperparameter given as several values (a list or an array, not a pair)."""
    return isinstance(value, (list, np.ndarray)) and np.ndim(value) > 0


def bisect_stability_limit(radius_at: Callable[[float], float], scale: float) -> float | None:
    """The largest ``lr`` with ``radius_at(lr) < 1``, found by bisection.

    Assumes the stable learning rates form one interval ``(0, limit)``, as for every
    fixed-step method on a positive definite quadratic. ``scale`` (e.g. ``1/lambda_max``)
    is where the bracketing starts. None when no stable lr is found below ``scale`` (down to
    ``scale 2^-64``) or when every lr up to ``scale 2^64`` is stable (no finite limit).
    """
    lo = scale
    for _ in range(_BRACKET_STEPS):
        if radius_at(lo) < 1.0:
            break
        lo /= 2.0
    else:
        return None
    hi = 2.0 * lo
    for _ in range(_BRACKET_STEPS):
        if not radius_at(hi) < 1.0:
            break
        lo, hi = hi, 2.0 * hi
    else:
        return None
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if radius_at(mid) < 1.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
