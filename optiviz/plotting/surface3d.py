"""3-D view of a loss surface with the optimizer paths lifted onto it.

For large value ranges (the same rule as the contour figure's log levels) the height is
``log10(f - f* + eps)`` and the z axis says so; paths are lifted with the same transform
(slightly above the surface so they are not hidden in it). n > 2 surfaces are drawn on the
same 2-D plane as :func:`optiviz.plotting.contour` would use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.colors import LightSource, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from optiviz.errors import OptivizError
from optiviz.plotting import _geometry as geo
from optiviz.plotting._runs import normalize
from optiviz.plotting.contour import (
    _reference,
    _resolve_window,
    _subset,
    evaluate,
    make_plane,
    reference_value,
    surface_log_hint,
    wants_log,
)
from optiviz.plotting.style import (
    DPI,
    FIGSIZE,
    MINIMUM_COLOR,
    SURFACE3D_CMAP,
    ColorMap,
    figure_and_axes,
    fitted_title,
    legend_below,
    rc,
    set_formula_title,
    wrap_to_width,
)

if TYPE_CHECKING:
    from mpl_toolkits.mplot3d.axes3d import Axes3D

    from optiviz.protocols import SurfaceLike

Array = np.ndarray


def surface3d(
    surface: SurfaceLike,
    runs: Any = (),
    *,
    analysis: Any = None,
    log_z: bool | None = None,
    window: Any = None,
    projection: Any = None,
    title: str | bool | None = None,
    caption: str = "",
    colors: ColorMap | None = None,
    f_min: float | None = None,
    grid: int = 120,
    max_runs: int = 20,
    elev: float = 38.0,
    azim: float = -58.0,
    figsize: tuple[float, float] = FIGSIZE,
    dpi: float = DPI,
    ax: Axes3D | None = None,
) -> Figure:
    """A 3-D surface plot of f over the window with the paths of ``runs`` on it.

    ``log_z``: plot ``log10(f - f* + eps)`` (default: the surface's ``log_levels`` hint, or
    automatic for wide value ranges). ``ax``: a 3-D Axes to draw into (from
    ``add_subplot(projection="3d")``; its figure is returned); default a new figure of
    ``figsize`` and ``dpi``. ``elev``, ``azim``: the view angles in degrees (elevation
    above the x-y plane, azimuth about the z axis). ``window`` may be ``"auto"`` (fit the
    paths). Other arguments as in :func:`optiviz.plotting.contour`.
    """
    if surface.n < 2:
        raise OptivizError(
            "a 3-D surface plot needs at least 2 variables; use contour() for a 1-D surface"
        )
    if ax is not None and ax.name != "3d":
        raise OptivizError(
            f"ax must be a 3-D Axes (add_subplot(projection='3d')); got a {ax.name!r} Axes"
        )
    groups = normalize(runs)
    colors = colors if colors is not None else ColorMap()
    with rc():
        own = ax is None
        fig, ax = figure_and_axes(ax, figsize, dpi, projection="3d", computed_zorder=False)
        plane, win = make_plane(surface, groups, analysis, projection)
        win = _resolve_window(window, win, groups, plane, surface.n, None)
        u = np.linspace(win[0, 0], win[0, 1], grid)
        v = np.linspace(win[1, 0], win[1, 1], grid)
        U, V = np.meshgrid(u, v)
        Z = evaluate(surface, plane.lift(np.stack([U, V], axis=-1)))
        if not np.isfinite(Z).any():
            raise OptivizError(f"f is not finite anywhere in the window of {surface.name!r}")
        f_ref, known = reference_value(surface, Z, _reference(surface, groups, f_min))
        with np.errstate(all="ignore"):
            D = Z - f_ref
        log = wants_log(D, surface_log_hint(surface), log_z)
        if log:
            d = D[np.isfinite(D)]
            pos = d[d > 0]
            # eps at the 2% quantile: the valley floor stays a smooth trough instead of
            # grid-resolution spikes down to log10(tiny)
            eps = max(float(d.max()) * 1e-8, float(np.quantile(pos, 0.02)) if pos.size else 1e-12)

            def lift(z):
                with np.errstate(all="ignore"):
                    return np.log10(np.maximum(z - f_ref, 0.0) + eps)

            zlabel = (
                "$\\log_{10}(f - f^* + \\epsilon)$"
                if known
                else "$\\log_{10}(f - \\min f + \\epsilon)$"
            )
        else:

            def lift(z):
                return np.asarray(z, dtype=float)

            zlabel = "$f$"
        H = lift(Z)
        hmin, hmax = float(np.nanmin(H)), float(np.nanmax(H))
        span = hmax - hmin if hmax > hmin else 1.0
        Hm = np.ma.masked_invalid(H)
        # hill-shaded faces: the colormap alone gives too little depth
        light = LightSource(azdeg=315, altdeg=45)
        rgb = light.shade(
            np.where(np.isfinite(H), H, hmin),
            cmap=SURFACE3D_CMAP,
            norm=Normalize(hmin, hmax),
            blend_mode="soft",
            vert_exag=0.1 * (win[0, 1] - win[0, 0]) / span,
        )
        ax.plot_surface(
            U,
            V,
            Hm,
            facecolors=rgb,
            rstride=1,
            cstride=1,
            linewidth=0,
            antialiased=False,
            shade=False,
            alpha=0.95,
            zorder=1,
        )
        lo, hi = win[:, 0], win[:, 1]
        handles: list = []
        lift_up = 0.01 * span
        views = [r for g in groups for r in g.runs]
        if len(views) > max_runs:
            views = [views[i] for i in _subset(len(views), max_runs)]
        for r in views:
            st = colors.style_for(r.key, r.variant)
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st["color"],
                    linestyle=st["linestyle"],
                    linewidth=1.8,
                    label=r.legend_label,
                )
            )
            P = r.finite_prefix()
            if P is None or not len(P):
                continue
            Q = plane.project(P)
            keep = geo.inside(Q, lo, hi)
            # draw only the part before the path first leaves the window
            k = len(keep) if keep.all() else int(np.argmin(keep))
            if k == 0:
                continue
            Qk = Q[:k]
            zk = lift(evaluate(surface, plane.lift(Qk))) + lift_up
            zk = np.clip(zk, hmin, hmax + 0.05 * span)
            ax.plot(
                Qk[:, 0],
                Qk[:, 1],
                zk,
                color=st["color"],
                linestyle=st["linestyle"],
                linewidth=2.0,
                zorder=5,
            )
            ax.plot(
                Qk[:1, 0],
                Qk[:1, 1],
                zk[:1],
                marker="o",
                markersize=6,
                color=st["color"],
                markeredgecolor="white",
                linestyle="none",
                zorder=6,
            )
            end_marker = "x" if r.diverged else "X"
            ax.plot(
                Qk[-1:, 0],
                Qk[-1:, 1],
                zk[-1:],
                marker=end_marker,
                markersize=8,
                markeredgewidth=1.8 if r.diverged else 0.8,
                color=st["color"],
                markeredgecolor=st["color"] if r.diverged else "white",
                linestyle="none",
                zorder=6,
            )
        minima = list(getattr(surface, "minima", []) or [])
        if minima:
            # the figure's f* (0 when the known minimum is at rounding level)
            f_star = f_ref if known else min(m.value for m in minima)
            shown = False
            for m in minima:
                q = plane.project(np.asarray(m.point, dtype=float)[None, :])
                if not geo.inside(q, lo, hi)[0]:
                    continue
                zm = lift(evaluate(surface, plane.lift(q))) + lift_up
                ax.plot(
                    q[:, 0],
                    q[:, 1],
                    zm,
                    marker="*",
                    markersize=13,
                    color=MINIMUM_COLOR,
                    markeredgecolor="white",
                    linestyle="none",
                    zorder=7,
                )
                shown = True
            if shown:
                handles.append(
                    Line2D(
                        [],
                        [],
                        marker="*",
                        markersize=12,
                        color=MINIMUM_COLOR,
                        markeredgecolor="white",
                        linestyle="none",
                        label=f"known minimum ($f^*$ = {f_star:.4g})",
                    )
                )
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_zlim(hmin, hmax + 0.05 * span)
        ax.set_xlabel(plane.labels[0].split("\n")[0].split(", Hessian")[0], labelpad=6)
        ax.set_ylabel(plane.labels[1].split(", Hessian")[0], labelpad=6)
        ax.set_zlabel(zlabel, labelpad=6)
        ax.view_init(elev=elev, azim=azim)
        ax.tick_params(labelsize=8)
        # at most 5 ticks per horizontal axis: the x and y labels meet at the front corner
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        if title is None:
            note = ""
            if plane.note:  # wrapped: a slice's note lists fixed coordinates
                note = "\n".join(
                    wrap_to_width(f"({plane.note})", 0.86 * fig.get_figwidth() * 72.0, 10.0)
                )
            extra = "\n".join(x for x in (caption, note) if x)
            set_formula_title(ax, surface, fig, extra=extra)
        elif isinstance(title, str) and title:
            fitted_title(ax, title, fig)
        if handles:
            legend_below(fig, handles, ax=None if own else ax)
    return fig
