"""Basins of attraction: which minimum an optimizer reaches from each start of a grid.

:func:`basins` runs one optimizer from every point of a ``resolution x resolution`` grid
over a window as one batched run (the engine's per-run starts, ``record="final"``) and
classifies each start by where the run ends:

* the index of a minimum (its 1-based ``#`` in the report's stationary-point table, i.e.
  its position in ``Analysis.stationary_points``) when the final point lies within
  ``tolerance`` of it (the nearest such minimum);
* ``DIVERGED`` when the run diverged (the engine's rule: a non-finite value or ``|f|`` past
  the divergence bound) or ended at a non-finite point;
* ``NOT_CONVERGED`` otherwise: the budget ran out away from every minimum (a slow run, a
  saddle, a plateau, a cycle).

Data only; :func:`optiviz.plotting.basins` draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiviz.errors import OptivizError

__all__ = ["DIVERGED", "NOT_CONVERGED", "Basins", "basin_grid", "basins", "basins_csv", "classify"]

Array = np.ndarray

#: Outcome codes of starts that reached no minimum (minima are numbered from 1).
DIVERGED = -1
NOT_CONVERGED = 0


@dataclass
class Basins:
    """The outcome of every start of a grid.

    ``axes``: the two variables of the grid (indices into the surface's variables);
    ``xs``, ``ys``: the grid's coordinates along them, ``(resolution,)`` each; ``starts``:
    ``(resolution**2, n)`` start points, row ``i * resolution + j`` at ``(xs[j], ys[i])``
    (image order: row i is ``ys[i]``); ``outcome``: ``(resolution**2,)`` ints, a minimum's
    number (>= 1), :data:`NOT_CONVERGED` or :data:`DIVERGED`; ``minima``: the numbers of
    the minima and ``points`` their coordinates; ``final_points``: where each run ended.
    """

    axes: tuple[int, int]
    variables: tuple[str, ...]
    xs: Array
    ys: Array
    starts: Array
    outcome: Array
    minima: tuple[int, ...]
    points: Array
    final_points: Array
    steps: int
    tolerance: float
    wall_time: float = 0.0

    @property
    def resolution(self) -> int:
        return len(self.xs)

    def image(self) -> Array:
        """The outcomes as a ``(resolution, resolution)`` image (row i: ``ys[i]``)."""
        return self.outcome.reshape(len(self.ys), len(self.xs))

    def counts(self) -> dict[str, int]:
        """Starts per outcome: ``"#k"`` per minimum, ``"not_converged"``, ``"diverged"``."""
        out = {f"#{k}": int(np.sum(self.outcome == k)) for k in self.minima}
        out["not_converged"] = int(np.sum(self.outcome == NOT_CONVERGED))
        out["diverged"] = int(np.sum(self.outcome == DIVERGED))
        return out

    def outcome_text(self) -> list[str]:
        """Each start's outcome as the CSV writes it: the minimum's number, or
        ``not_converged`` / ``diverged``."""
        names = {NOT_CONVERGED: "not_converged", DIVERGED: "diverged"}
        return [names.get(int(o), str(int(o))) for o in self.outcome]


def basin_grid(
    window: Any, resolution: int, axes: tuple[int, int], base: Any
) -> tuple[Array, Array, Array]:
    """``(xs, ys, starts)``: ``resolution`` points per side over ``window`` (``(n, 2)``)
    along the variables ``axes``, the others held at ``base`` (``(n,)``)."""
    w = np.asarray(window, dtype=float)
    i, j = axes
    xs = np.linspace(w[i, 0], w[i, 1], resolution)
    ys = np.linspace(w[j, 0], w[j, 1], resolution)
    starts = np.tile(np.asarray(base, dtype=float), (resolution * resolution, 1))
    gx, gy = np.meshgrid(xs, ys)  # row: one y value
    starts[:, i] = gx.ravel()
    starts[:, j] = gy.ravel()
    return xs, ys, starts


def classify(
    final_points: Array, status: Any, points: Array, numbers: Sequence[int], tolerance: float
) -> Array:
    """The outcome code of each run (see the module docstring): ``final_points`` ``(R, n)``,
    ``status`` ``(R,)`` the engine's statuses, ``points`` ``(m, n)`` the minima numbered
    ``numbers``."""
    X = np.asarray(final_points, dtype=float)
    out = np.full(len(X), NOT_CONVERGED, dtype=np.int64)
    finite = np.all(np.isfinite(X), axis=1)
    if len(points):
        P = np.asarray(points, dtype=float)
        with np.errstate(all="ignore"):
            d = np.sqrt(((X[:, None, :] - P[None, :, :]) ** 2).sum(axis=-1))  # (R, m)
        near = np.argmin(np.where(np.isfinite(d), d, np.inf), axis=1)
        reached = finite & (d[np.arange(len(X)), near] <= tolerance)
        out[reached] = np.asarray(numbers, dtype=np.int64)[near[reached]]
    out[(np.asarray(status) == "diverged") | ~finite] = DIVERGED
    return out


def basins(
    surface: Any,
    optimizer: Any,
    *,
    minima: Sequence[tuple[int, Any]],
    steps: int,
    resolution: int = 300,
    window: Any = None,
    axes: tuple[int, int] = (0, 1),
    base: Any = None,
    tolerance: float | None = None,
    schedule: Any = None,
    tol_grad: float | None = None,
    tol_loss: float | None = None,
    divergence_bound: float | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
) -> Basins:
    """Run ``optimizer`` from a ``resolution x resolution`` grid of starts as one batched
    run and classify where each run ends.

    Parameters
    ----------
    minima : sequence of (number, point)
        The minima to tell apart, each with its number (the report's ``#``).
    steps : int
        Steps of every run.
    window : (n, 2) array, optional
        Default the surface's window.
    axes : pair of variable indices
        The grid's two variables; the others are held at ``base`` (default the window's
        centre).
    tolerance : float, optional
        Largest distance from a minimum at the end that counts as reaching it; default
        1 % of the window's largest side.
    schedule, tol_grad, tol_loss, divergence_bound, batch_size, seed
        As in :func:`optiviz.run`.
    """
    from optiviz.engine import run

    n = surface.n
    if n < 2:
        raise OptivizError(f"basins need a surface of two or more variables; it has {n}")
    w = np.asarray(surface.window if window is None else window, dtype=float)
    if base is None:
        base = w.mean(axis=1)
    if tolerance is None:
        tolerance = 0.01 * float(np.max(w[:, 1] - w[:, 0]))
    xs, ys, starts = basin_grid(w, resolution, axes, base)
    numbers = tuple(int(k) for k, _ in minima)
    points = (
        np.array([np.asarray(p, dtype=float) for _, p in minima]) if minima else np.zeros((0, n))
    )
    tr = run(
        surface,
        optimizer,
        starts,
        steps,
        schedule=schedule,
        tol_grad=tol_grad,
        tol_loss=tol_loss,
        divergence_bound=divergence_bound,
        batch_size=batch_size,
        seed=seed,
        record="final",
    )
    final = np.asarray(tr.final_point, dtype=float)
    outcome = classify(final, tr.status, points, numbers, float(tolerance))
    return Basins(
        axes=(int(axes[0]), int(axes[1])),
        variables=tuple(surface.variables),
        xs=xs,
        ys=ys,
        starts=starts,
        outcome=outcome,
        minima=numbers,
        points=points,
        final_points=final,
        steps=int(steps),
        tolerance=float(tolerance),
        wall_time=float(tr.wall_time),
    )


def basins_csv(results: Sequence[tuple[int, Basins]]) -> str:
    """``basins.csv``: one row per start of each entry's grid: the start's coordinates
    (a column per variable), ``entry`` (the optimizer entry's index) and ``outcome``."""
    if not results:
        return ""
    variables = results[0][1].variables
    lines = [",".join([*variables, "entry", "outcome"])]
    for entry, b in results:
        coords = [[repr(float(v)) for v in col] for col in b.starts.T]
        for row, text in zip(zip(*coords, strict=True), b.outcome_text(), strict=True):
            lines.append(",".join([*row, str(entry), text]))
    return "\n".join(lines) + "\n"
