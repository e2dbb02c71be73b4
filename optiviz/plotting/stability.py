"""The edge-of-stability picture of several runs: loss above, sharpness against the
method's threshold below, one column per run (:func:`sharpness_panels`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optiviz.errors import OptivizError
from optiviz.plotting.style import (
    DIVERGED_COLOR,
    DPI,
    ColorMap,
    figure_of,
    finish_axes,
    legend_below,
    new_figure,
    panels,
    rc,
)

__all__ = ["sharpness_panels"]


def _finite(y: Any) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return np.where(np.isfinite(y), y, np.nan)


def sharpness_panels(
    runs: Sequence[tuple[str, Any, Any]],
    *,
    f_min: float | None = None,
    colors: ColorMap | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Axes | None = None,
) -> Figure:
    """One column per run ``(label, losses, edge)`` (``edge`` an
    :class:`~optiviz.analysis.edge.EdgeOfStability`): ``f - f*`` above (``f`` without
    ``f_min``), below the sharpness ``lambda_max(H)`` with the method's threshold ``c/eta``
    (fixed-step methods) and, for preconditioned methods, the preconditioned sharpness
    ``lambda_max(P^-1/2 H P^-1/2)`` with its threshold (log scale).
    """
    if not runs:
        raise OptivizError("sharpness: nothing to draw (no run with per-step points)")
    colors = colors if colors is not None else ColorMap()
    k = len(runs)
    ncols = min(3, k)
    nrows = -(-k // ncols)
    if figsize is None:
        figsize = (min(4.6 * ncols, 14.0), 5.4 * nrows + 0.8)
    with rc():
        fig = new_figure(figsize, dpi) if ax is None else figure_of(ax)
        grid = panels(fig, ax, 2 * nrows, ncols, height_ratios=[1.0, 1.5] * nrows)
        for idx, (label, losses, e) in enumerate(runs):
            r, c = divmod(idx, ncols)
            a_loss, a = grid[2 * r, c], grid[2 * r + 1, c]
            a.sharex(a_loss)
            color = colors.color_for(label)
            t = np.asarray(e.steps)
            y = _finite(losses)
            if f_min is not None:
                y = y - f_min
            a_loss.plot(t[: len(y)], y, color=color, linewidth=1.5)
            if np.nanmin(np.where(y > 0, y, np.nan), initial=np.inf) < np.inf:
                a_loss.set_yscale("log")
            a_loss.set_ylabel("$f - f^*$" if f_min is not None else "$f$")
            a_loss.set_title(label, fontsize=9.5)
            a_loss.tick_params(labelbottom=False)
            finish_axes(a_loss, grid=True)
            handles = []
            pre = e.preconditioned is not None
            (h1,) = a.plot(
                t,
                _finite(e.lambda_max),
                color=color if not pre else "0.55",
                linewidth=1.6 if not pre else 1.1,
                linestyle="-" if not pre else ":",
                label="sharpness $\\lambda_{max}(\\nabla^2 f)$"
                + ("" if e.threshold is not None or pre else " (no stability threshold)"),
            )
            handles.append(h1)
            if e.threshold is not None:
                (h,) = a.plot(
                    t,
                    _finite(e.threshold),
                    color=DIVERGED_COLOR,
                    linestyle="--",
                    linewidth=1.3,
                    label=f"threshold {e.threshold_label}",
                )
                handles.append(h)
            if pre:
                (h,) = a.plot(
                    t,
                    _finite(e.preconditioned),
                    color=color,
                    linewidth=1.6,
                    label="preconditioned $\\lambda_{max}(P^{-1/2}\\,\\nabla^2 f\\,P^{-1/2})$",
                )
                handles.append(h)
                (h,) = a.plot(
                    t,
                    _finite(e.preconditioned_threshold),
                    color=DIVERGED_COLOR,
                    linestyle="-.",
                    linewidth=1.3,
                    label=f"threshold {e.preconditioned_label}",
                )
                handles.append(h)
            vals = np.concatenate(
                [
                    np.asarray(getattr(e, n), float).ravel()
                    for n in (
                        "lambda_max",
                        "threshold",
                        "preconditioned",
                        "preconditioned_threshold",
                    )
                    if getattr(e, n) is not None
                ]
            )
            if np.any(np.isfinite(vals) & (vals > 0)) and not np.any(vals[np.isfinite(vals)] <= 0):
                a.set_yscale("log")
            a.set_xlabel("step $t$")
            a.set_ylabel("sharpness")
            finish_axes(a, grid=True)
            legend_below(fig, handles, max_cols=1, ax=a)
        for idx in range(k, nrows * ncols):
            r, c = divmod(idx, ncols)
            grid[2 * r, c].set_visible(False)
            grid[2 * r + 1, c].set_visible(False)
        if title:
            fig.suptitle(title)
    return fig
