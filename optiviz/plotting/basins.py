"""Basins of attraction: each start of a grid coloured by the minimum its run reaches.

:func:`basins` draws one panel per optimizer entry from the data of
:func:`optiviz.analysis.basins.basins`: an image (``imshow``, one pixel per start, never a
patch per cell), a colour per minimum (Okabe-Ito), two neutral greys for starts that did not
converge and that diverged, the minima marked and numbered as in the report, the variables
on the axes and one legend under the panels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from optiviz.errors import OptivizError
from optiviz.plotting.style import (
    DPI,
    MINIMUM_COLOR,
    OKABE_ITO,
    figure_of,
    finish_axes,
    legend_below,
    new_figure,
    panels,
    rc,
    var_label,
)

__all__ = ["DIVERGED_GREY", "NOT_CONVERGED_GREY", "basin_colors", "basins"]

#: Starts that diverged: a dark neutral grey (no hue, so no minimum's colour is mistaken).
DIVERGED_GREY = "#404040"
#: Starts that reached no minimum within the steps: a light neutral grey.
NOT_CONVERGED_GREY = "#D4D4D4"
#: Colours of the basins, colour-blind safe (Okabe & Ito 2008), first six minima.
BASIN_PALETTE = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["vermillion"],
)


def basin_colors(count: int) -> list[str]:
    """Distinct colours for ``count`` minima: Okabe-Ito for up to six, else tab20 (whose
    20 colours are distinct; beyond 20, hsv samples)."""
    if count <= len(BASIN_PALETTE):
        return list(BASIN_PALETTE[:count])
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    cmap = mpl.colormaps["tab20" if count <= 20 else "hsv"]
    return [to_hex(cmap(i / (count if count > 20 else 20))) for i in range(count)]


def basins(
    results: Sequence[Any],
    labels: Sequence[str],
    *,
    minima_labels: Sequence[str] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Axes | None = None,
) -> Figure:
    """One panel per :class:`~optiviz.analysis.basins.Basins` in ``results`` (titled by
    ``labels``), side by side (at most three per row), sharing one legend.

    ``minima_labels``: the legend text of each minimum (default ``"minimum #k"``); every
    result must number the same minima. ``ax``: a subplot whose slot holds the panels.
    """
    from optiviz.analysis.basins import DIVERGED, NOT_CONVERGED

    if not results:
        raise OptivizError("basins: nothing to draw (no entry's grid of starts)")
    if len(labels) != len(results):
        raise OptivizError("basins: one label per result is needed")
    first = results[0]
    numbers = list(first.minima)
    for b in results[1:]:
        if list(b.minima) != numbers:
            raise OptivizError("basins: every panel must number the same minima")
    colors = basin_colors(len(numbers))
    # colour index per outcome: 0 diverged, 1 not converged, 2.. the minima in order
    cmap = ListedColormap([DIVERGED_GREY, NOT_CONVERGED_GREY, *colors])
    norm = BoundaryNorm(np.arange(-0.5, len(numbers) + 2.5), cmap.N)
    lookup = {DIVERGED: 0, NOT_CONVERGED: 1} | {k: i + 2 for i, k in enumerate(numbers)}
    k = len(results)
    ncols = min(3, k)
    nrows = -(-k // ncols)
    if figsize is None:
        figsize = (min(4.2 * ncols, 13.0), 4.0 * nrows + 1.3)
    i0, i1 = first.axes
    with rc():
        fig = new_figure(figsize, dpi) if ax is None else figure_of(ax)
        grid = panels(fig, ax, nrows, ncols, sharex=True, sharey=True)
        for idx, (b, label) in enumerate(zip(results, labels, strict=True)):
            a = grid.flat[idx]
            img = b.image()
            codes = np.zeros(img.shape, dtype=np.int64)
            for code, c in lookup.items():
                codes[img == code] = c
            dx = (b.xs[-1] - b.xs[0]) / max(len(b.xs) - 1, 1)
            dy = (b.ys[-1] - b.ys[0]) / max(len(b.ys) - 1, 1)
            extent = (b.xs[0] - dx / 2, b.xs[-1] + dx / 2, b.ys[0] - dy / 2, b.ys[-1] + dy / 2)
            a.imshow(
                codes,
                origin="lower",
                extent=extent,
                cmap=cmap,
                norm=norm,
                interpolation="nearest",
                aspect="auto",
                rasterized=True,
            )
            for num, p in zip(b.minima, b.points, strict=True):
                a.plot(
                    p[i0],
                    p[i1],
                    marker="*",
                    markersize=13,
                    color="white",
                    markeredgecolor=MINIMUM_COLOR,
                    markeredgewidth=1.1,
                    linestyle="none",
                    zorder=4,
                )
                a.annotate(
                    f"#{num}",
                    (p[i0], p[i1]),
                    xytext=(6, 5),
                    textcoords="offset points",
                    fontsize=8.5,
                    color=MINIMUM_COLOR,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8),
                    zorder=5,
                )
            a.set_xlim(extent[0], extent[1])
            a.set_ylim(extent[2], extent[3])
            a.set_title(label, fontsize=9.5)
            if idx % ncols == 0:
                a.set_ylabel(var_label(b.variables[i1]))
            if idx >= k - ncols:
                a.set_xlabel(var_label(b.variables[i0]))
            a.tick_params(labelbottom=True)
            finish_axes(a)
        for idx in range(k, nrows * ncols):
            grid.flat[idx].set_visible(False)
        names = list(minima_labels) if minima_labels is not None else None
        handles: list[Any] = [
            Patch(
                facecolor=c,
                edgecolor="none",
                label=(names[i] if names else f"minimum #{num}") + " reached",
            )
            for i, (num, c) in enumerate(zip(numbers, colors, strict=True))
        ]
        steps = sorted({b.steps for b in results})
        budget = f"{steps[0]}" if len(steps) == 1 else "the"
        handles += [
            Patch(
                facecolor=NOT_CONVERGED_GREY,
                edgecolor="0.6",
                label=f"no minimum within tolerance after {budget} steps",
            ),
            Patch(facecolor=DIVERGED_GREY, edgecolor="none", label="diverged"),
            Line2D(
                [],
                [],
                marker="*",
                markersize=11,
                color="white",
                markeredgecolor=MINIMUM_COLOR,
                linestyle="none",
                label="minimum (numbered as in the report)",
            ),
        ]
        if title:
            fig.suptitle(title)
        legend_below(fig, handles, max_cols=3, ax=None if ax is None else grid.flat[k - 1])
    return fig
