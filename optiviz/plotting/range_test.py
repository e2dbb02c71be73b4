"""The learning-rate range test: loss against the rising rate, the steepest-descent
suggestion, and the Hessian's rates beside it (:func:`lr_range`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optiviz.errors import OptivizError
from optiviz.plotting.style import (
    DIVERGED_COLOR,
    DPI,
    OKABE_ITO,
    ColorMap,
    figure_of,
    finish_axes,
    legend_below,
    new_figure,
    panels,
    rc,
)

__all__ = ["lr_range"]

#: Line styles of the Hessian's rates: 1/lambda_max, 2/(lambda_min+lambda_max), 2/lambda_max.
_HESSIAN_STYLE: dict[str, tuple[str, Any]] = {
    "inverse_lambda_max": ("0.15", "--"),
    "optimal_fixed": (OKABE_ITO["bluish_green"], "-."),
    "stability_limit": (DIVERGED_COLOR, ":"),
}


def lr_range(
    tests: Sequence[tuple[str, Any]],
    *,
    f_min: float | None = None,
    labels: Sequence[tuple[str, str]] = (),
    colors: ColorMap | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Axes | None = None,
) -> Figure:
    """One panel per range test ``(label, LRRange)``: the loss (``f - f*`` with
    ``f_min``) against the rate on log axes, its smoothed curve, the suggestion (a dot and
    a solid vertical line) and the Hessian's rates (vertical lines, labelled with
    ``labels``: ``(key, mathtext)`` pairs of :data:`~optiviz.analysis.lr_range.HESSIAN_RATES`).
    """
    if not tests:
        raise OptivizError("lr_range: nothing to draw (no range-test run)")
    colors = colors if colors is not None else ColorMap()
    names = dict(labels)
    k = len(tests)
    ncols = min(3, k)
    nrows = -(-k // ncols)
    if figsize is None:
        figsize = (min(5.0 * ncols, 14.0), 4.4 * nrows + 1.4)
    with rc():
        fig = new_figure(figsize, dpi) if ax is None else figure_of(ax)
        grid = panels(fig, ax, nrows, ncols)
        for idx, (label, r) in enumerate(tests):
            a = grid.flat[idx]
            color = colors.color_for(label)
            shift = 0.0 if f_min is None else f_min
            with np.errstate(all="ignore"):
                y = r.loss - shift
                ys = r.smoothed - shift
            ok = np.isfinite(y) & (y > 0)
            handles: list[Any] = []
            (h,) = a.plot(r.lr[ok], y[ok], color=color, linewidth=0.9, alpha=0.55, label="loss")
            handles.append(h)
            oks = np.isfinite(ys) & (ys > 0)
            (h,) = a.plot(r.lr[oks], ys[oks], color=color, linewidth=1.8, label="smoothed loss")
            handles.append(h)
            if r.suggestion is not None:
                a.axvline(r.suggestion, color=color, linewidth=1.4)
                a.plot(
                    [r.suggestion],
                    [ys[r.index]] if oks[r.index] else [],
                    marker="o",
                    color=color,
                    markeredgecolor="black",
                    zorder=5,
                )
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=color,
                        marker="o",
                        markeredgecolor="black",
                        linewidth=1.4,
                        label=f"steepest descent: lr = {r.suggestion:.3g}",
                    )
                )
            for key, value in r.hessian.items():
                c, ls = _HESSIAN_STYLE.get(key, ("0.4", "--"))  # (colour, line style)
                a.axvline(value, color=c, linestyle=ls, linewidth=1.4)
                ratio = r.ratios.get(key)
                times = f" ({ratio:.3g} x the suggestion)" if ratio is not None else ""
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=c,
                        linestyle=ls,
                        linewidth=1.4,
                        label=f"${names.get(key, key)}$ = {value:.3g}{times}",
                    )
                )
            a.set_xscale("log")
            if ok.any() or oks.any():
                a.set_yscale("log")
            a.set_xlabel("learning rate $\\eta$ (rising every step)")
            a.set_ylabel("$f - f^*$" if f_min is not None else "$f$")
            a.set_title(label, fontsize=9.5)
            finish_axes(a, grid=True)
            legend_below(fig, handles, max_cols=1, ax=a)
        for idx in range(k, nrows * ncols):
            grid.flat[idx].set_visible(False)
        if title:
            fig.suptitle(title)
    return fig
