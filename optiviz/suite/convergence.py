"""The convergence test of a suite and the cost to pass it, in a unit given as one argument.

The test (Moré & Wild 2009, eq. 2.2): a run from x0 passes at the first step t with

    f(x_t) <= f* + tol (f(x0) - f*),

that is, it has reduced the gap f(x0) - f* by the factor ``tol``. ``f*`` is the problem's
lowest known minimum value (the surface's ``f_min``); for a surface that lists none, the
lowest value any run that did not diverge reached on that problem within the budget
(Moré-Wild's ``f_L``, :func:`best_found`).

The cost of a run is what it spent up to that step, read from a cumulative cost array
``spent[t]`` (what the first t steps cost; ``spent[0] = 0``): :func:`cumulative_cost`
builds it for a unit of :data:`COST_UNITS`: ``steps`` (one per step: the gradient
evaluations of a first-order method), or ``evaluations`` (the oracle calls of the steps,
weighed as the loss figure's evaluations axis: f 1, gradient 1, Hessian n by default; read
from the run's per-step counts, ``Trajectory.step_evals``).
"""

from __future__ import annotations

import numpy as np

#: Units a suite's cost may be counted in.
COST_UNITS = ("steps", "evaluations")


def threshold(f0, f_star, tol: float):
    """``f* + tol (f(x0) - f*)``: the loss a run from x0 must reach (broadcasts)."""
    f0 = np.asarray(f0, dtype=float)
    return f_star + tol * (f0 - f_star)


def first_pass(losses, limit) -> np.ndarray:
    """For each run (row of ``losses``, (R, T + 1), nan after a run stopped), the first step
    whose loss is <= ``limit`` (one per run, or shared), or -1 where none is."""
    L = np.atleast_2d(np.asarray(losses, dtype=float))
    lim = np.broadcast_to(np.asarray(limit, dtype=float), (L.shape[0],))[:, None]
    with np.errstate(invalid="ignore"):
        ok = L <= lim
    hit = ok.any(axis=1)
    return np.where(hit, ok.argmax(axis=1), -1)


def cumulative_cost(steps: int, runs: int, unit: str = "steps", trajectory=None) -> np.ndarray:
    """``spent[r, t]``: the cost of run r's first t steps in ``unit``, shape (R, T + 1).

    ``steps``: one per step (``spent[r, t] = t``). ``evaluations``: the weighted oracle
    calls of steps 1 .. t, from ``trajectory``'s per-step counts (a batched trajectory of
    ``runs`` runs kept with ``record="path"``; nan after a run's stop)."""
    if unit == "steps":
        return np.broadcast_to(np.arange(steps + 1, dtype=float), (runs, steps + 1))
    if unit == "evaluations" and trajectory is not None:
        spent = trajectory.evaluations()
        if spent is not None:
            spent = np.atleast_2d(spent)
            out = np.full((runs, steps + 1), np.nan)
            out[:, : spent.shape[1]] = spent - spent[:, :1]  # the start's evaluation: cost 0
            return out
    raise ValueError(f"cost unit {unit!r} is not available; units: {', '.join(COST_UNITS)}")


def cost_to_pass(losses, f0, f_star, tol: float, spent=None) -> np.ndarray:
    """The cost each run (row of ``losses``) spent to pass the test, ``inf`` where it never
    does. ``spent`` is the cumulative cost (R, T + 1) of :func:`cumulative_cost`
    (default: steps)."""
    L = np.atleast_2d(np.asarray(losses, dtype=float))
    t = first_pass(L, threshold(f0, f_star, tol))
    if spent is None:
        spent = cumulative_cost(L.shape[1] - 1, L.shape[0])
    spent = np.broadcast_to(np.asarray(spent, dtype=float), L.shape)
    cost = spent[np.arange(L.shape[0]), np.maximum(t, 0)]
    return np.where(t >= 0, cost, np.inf)


def best_found(losses, diverged) -> float | None:
    """Moré-Wild's ``f_L``: the lowest loss reached by a run that did not diverge (rows of
    ``losses`` with ``diverged`` false), or None if every run diverged."""
    L = np.atleast_2d(np.asarray(losses, dtype=float))
    keep = ~np.asarray(diverged, dtype=bool)
    if not keep.any():
        return None
    vals = L[keep]
    vals = vals[np.isfinite(vals)]
    return float(vals.min()) if vals.size else None
