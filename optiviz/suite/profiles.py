"""Moré-Wild performance and data profiles, and the rank of each solver: numbers only.

The convention of Moré & Wild (2009), "Benchmarking derivative-free optimization
algorithms", SIAM J. Optim. 20(1):172-191, §2. For a set P of problems and S of solvers,
``t[p, s]`` is the cost solver s needs to pass the convergence test on problem p
(``inf`` -- or ``nan`` -- when it never does: a failure).

performance ratio
    ``r[p, s] = t[p, s] / min_s t[p, s]`` (``inf`` for a failure, and for every solver on a
    problem no solver passes). When the best cost is 0 (the start already passes the
    test: then every solver passes at cost 0, the start being the same for all) the ratio
    is 1: all tie.
performance profile
    ``rho_s(tau) = |{p : r[p, s] <= tau}| / |P|``, tau >= 1: the fraction of problems solver
    s solves within a factor tau of the best. ``rho_s(1)`` is how often s is the fastest,
    ``rho_s(inf)`` how often it passes at all.
data profile
    ``d_s(alpha) = |{p : t[p, s] / (n_p + 1) <= alpha}| / |P|``, n_p the number of variables
    of problem p: the fraction solved within alpha "simplex gradients" (Moré-Wild count t in
    function evaluations, n_p + 1 of them being the price of one simplex gradient; here t
    is in the suite's cost unit, see :mod:`optiviz.suite.convergence`).
"""

from __future__ import annotations

import numpy as np


def _costs(costs) -> np.ndarray:
    t = np.asarray(costs, dtype=float)
    if t.ndim != 2:
        raise ValueError(f"costs must be a (problems, solvers) table; got shape {t.shape}")
    if (t[np.isfinite(t)] < 0).any():
        raise ValueError("costs must be >= 0 (or inf / nan for a failure)")
    return np.where(np.isnan(t), np.inf, t)


def performance_ratios(costs) -> np.ndarray:
    """``r[p, s]`` of the cost table ``costs`` (P, S) (see the module docstring)."""
    t = _costs(costs)
    best = t.min(axis=1, keepdims=True) if t.size else np.zeros((t.shape[0], 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = t / best
    r = np.where(best == 0, np.where(t == 0, 1.0, np.inf), r)
    r[~np.isfinite(t)] = np.inf
    return r


def performance_profile(costs, taus) -> np.ndarray:
    """``rho[s, k] = rho_s(taus[k])``, shape (S, len(taus))."""
    r = performance_ratios(costs)
    taus = np.asarray(taus, dtype=float)
    if r.shape[0] == 0:
        return np.zeros((r.shape[1], taus.size))
    return (r[:, :, None] <= taus[None, None, :]).mean(axis=0)


def data_profile(costs, n, alphas) -> np.ndarray:
    """``d[s, k] = d_s(alphas[k])``, shape (S, len(alphas)); ``n[p]`` the variables of
    problem p."""
    t = _costs(costs)
    n = np.asarray(n, dtype=float).reshape(-1, 1)
    if n.shape[0] != t.shape[0]:
        raise ValueError(f"n has {n.shape[0]} entries for {t.shape[0]} problems")
    alphas = np.asarray(alphas, dtype=float)
    if t.shape[0] == 0:
        return np.zeros((t.shape[1], alphas.size))
    return ((t / (n + 1))[:, :, None] <= alphas[None, None, :]).mean(axis=0)


def profile_breaks(values) -> np.ndarray:
    """The sorted distinct finite values of ``values``: where a profile steps up."""
    v = np.asarray(values, dtype=float).ravel()
    return np.unique(v[np.isfinite(v)])


def average_ranks(classes, values) -> np.ndarray:
    """Per problem (row), the rank of each solver (column), 1 the best: ordered by
    ``classes`` first (e.g. 0 solved, 1 unsolved, 2 diverged), then by ``values`` within a
    class (e.g. the cost of a solved run, the final objective of an unsolved one; nan sorts
    last); equal (class, value) pairs share the mean of their ranks. (P, S) -> (P, S)."""
    c = np.asarray(classes, dtype=float)
    v = np.where(np.isnan(np.asarray(values, dtype=float)), np.inf, values)
    ranks = np.empty(c.shape, dtype=float)
    for p in range(c.shape[0]):
        keys = list(zip(c[p].tolist(), v[p].tolist(), strict=True))
        order = sorted(range(len(keys)), key=keys.__getitem__)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and keys[order[j + 1]] == keys[order[i]]:
                j += 1
            for k in order[i : j + 1]:
                ranks[p, k] = (i + j) / 2 + 1
            i = j + 1
    return ranks
