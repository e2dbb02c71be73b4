"""The Hessian questions every part of the analysis asks: symmetric eigen-decomposition
with a deterministic sign, and the classification of a point from its eigenvalues."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

Array = np.ndarray

#: The kinds of stationary point, in the order the analysis lists them.
KINDS = ("minimum", "saddle", "maximum", "degenerate")
#: Relative tolerance on Hessian eigenvalues (of max |lambda|) for the classification.
EIG_TOL = 1e-9


def _sym(H: Array) -> Array:
    H = np.asarray(H, dtype=float)
    return (H + np.swapaxes(H, -1, -2)) / 2


def _eigh(H: Array) -> tuple[Array, Array]:
    """Eigenvalues (ascending) and eigenvectors (columns) with a deterministic sign: the
    largest-magnitude component of each eigenvector is positive."""
    lam, V = np.linalg.eigh(_sym(H))
    idx = np.argmax(np.abs(V), axis=0)
    signs = np.sign(V[idx, np.arange(V.shape[1])])
    signs[signs == 0] = 1.0
    return lam, V * signs


def classify(eigenvalues: ArrayLike, tol: float = EIG_TOL, abs_tol: float = 0.0) -> str:
    """'minimum', 'maximum', 'saddle' or 'degenerate' from Hessian eigenvalues.

    An eigenvalue counts as zero when ``|lambda| <= max(tol * max|lambda|, abs_tol)``
    (``abs_tol``: for numerically located points, a floor relative to the surface's
    typical curvature).
    """
    lam = np.asarray(eigenvalues, dtype=float)
    scale = float(np.max(np.abs(lam))) if lam.size else 0.0
    if not np.all(np.isfinite(lam)) or scale == 0.0:
        return "degenerate"
    t = max(tol * scale, abs_tol)
    pos, neg = lam > t, lam < -t
    if pos.all():
        return "minimum"
    if neg.all():
        return "maximum"
    if pos.any() and neg.any():
        return "saddle"
    return "degenerate"
