"""The one quantile rule of repeated runs (figures, summary and report all use it).

Over the seeds of one setting, a value that is not finite (a diverged run's loss, nan or
inf) counts as +inf: it sorts above every finite value, so a median over runs of which
fewer than half diverged stays finite, and one of which half or more diverged is inf.
Between order statistics the quantile is linear, as ``numpy.quantile``'s default.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["BAND", "quantile_rows", "spread"]

#: The quantiles a summary reports beside the median: q10 and q90.
BAND = (0.1, 0.9)


def quantile_rows(Y: Any, q: float) -> np.ndarray:
    """The ``q`` quantile (``0 <= q <= 1``) of each column of ``Y`` (runs x points; of a
    1-D ``Y``, a 0-d array), non-finite values counted as +inf (see the module
    docstring)."""
    Y = np.asarray(Y, dtype=float)
    Y = np.where(np.isfinite(Y), Y, np.inf)
    S = np.sort(Y, axis=0)
    pos = q * (len(S) - 1)
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))
    a, b = S[lo], S[hi]
    with np.errstate(all="ignore"):
        v = a + (pos - lo) * (b - a)
    return np.where(a == b, a, np.where(np.isinf(b), np.inf, v))


def spread(values: Any, band: tuple[float, float] = BAND) -> tuple[float, float, float]:
    """``(median, q_lo, q_hi)`` of ``values`` (one per seed)."""
    v = np.asarray(values, dtype=float).ravel()
    if not v.size:
        return (math.nan, math.nan, math.nan)
    return (
        float(quantile_rows(v, 0.5)),
        float(quantile_rows(v, band[0])),
        float(quantile_rows(v, band[1])),
    )
