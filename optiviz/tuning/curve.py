"""The tuning curve: the best objective to expect from k trials, by resampling the trials.

The estimator: of the ``n`` trials run, draw ``k`` at random *without replacement* (every
subset of size k equally likely) and take the best (lowest) objective among them. Its
distribution is exact, with the objectives sorted ascending ``v_(1) <= ... <= v_(n)``::

    P(best of k >= v_(i)) = C(n - i + 1, k) / C(n, k)
    P(best of k  = v_(i)) = C(n - i, k - 1) / C(n, k)
    E[best of k] = sum_i v_(i) C(n - i, k - 1) / C(n, k)

so no random resampling is needed (the limit of infinitely many resamples). At ``k = n``
it is the best trial. Diverged trials count as ``+inf``: the expectation is ``inf`` while
``k`` trials may all have diverged; the quantiles are finite sooner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TuningCurve", "best_of_k_probabilities", "tuning_curve"]


def best_of_k_probabilities(n: int, k: int) -> np.ndarray:
    """``P(best of k = v_(i))`` for ``i = 1..n`` (the ascending order), ``(n,)``."""
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}; got {k}")
    # p_1 = k / n; p_(i+1) / p_i = (n - i - k + 1) / (n - i)  (the ratio of the binomials)
    i = np.arange(1, n, dtype=float)
    ratio = np.maximum(n - i - k + 1, 0.0) / (n - i)
    return (k / n) * np.concatenate([[1.0], np.cumprod(ratio)])


@dataclass(frozen=True)
class TuningCurve:
    """``k`` (1..n; for n > 512, 256 values spaced evenly in log k) and, for each, the
    expected best objective and its quantiles ``low`` / ``median`` / ``high`` (at
    ``quantiles``)."""

    k: np.ndarray
    expected: np.ndarray
    low: np.ndarray
    median: np.ndarray
    high: np.ndarray
    quantiles: tuple[float, float] = (0.1, 0.9)


def _quantile(sorted_v: np.ndarray, p: np.ndarray, q: float) -> float:
    """The lower q-quantile of the discrete distribution P(v_(i)) = p_i."""
    c = np.cumsum(p)
    i = int(np.searchsorted(c, q - 1e-12))
    return float(sorted_v[min(i, len(sorted_v) - 1)])


def tuning_curve(objectives: np.ndarray, quantiles: tuple[float, float] = (0.1, 0.9)):
    """The :class:`TuningCurve` of one optimizer's trial objectives (nan counts as inf)."""
    v = np.asarray(objectives, dtype=float).ravel()
    v = np.sort(np.where(np.isnan(v), np.inf, v))
    n = v.size
    ks = np.arange(1, n + 1) if n <= 512 else np.unique(np.geomspace(1, n, 256).round())
    exp, lo, med, hi = [], [], [], []
    for k in ks:
        p = best_of_k_probabilities(n, int(k))
        inf = ~np.isfinite(v)
        if np.any(p[inf] > 0):
            exp.append(np.inf)
        else:
            exp.append(float(np.sum(p[~inf] * v[~inf])))
        lo.append(_quantile(v, p, quantiles[0]))
        med.append(_quantile(v, p, 0.5))
        hi.append(_quantile(v, p, quantiles[1]))
    return TuningCurve(
        ks.astype(int), np.array(exp), np.array(lo), np.array(med), np.array(hi), quantiles
    )
