"""Contour figure: optimizer paths over the loss surface.

``contour(surface, runs)`` draws filled contours of f over the plot window with every run's
path on top (start 'o', end 'X', an 'x' where a divergent path leaves the window), the
known minima as black stars, and a legend of the runs with their hyperparameters.

* **Levels.** Log-spaced (geometric) levels of ``f - f*`` with a log colorbar when the
  values span many decades -- the surface's ``log_levels`` hint, or, without a hint, when
  the maximum over the window is more than 100 times the 10th percentile (Rosenbrock's
  valley is invisible with linear levels); linear levels of ``f`` otherwise.
* **Batched runs.** A batched trajectory with more than ``family_threshold`` runs is drawn
  as a family of thin lines coloured by the swept hyperparameter (with its own colorbar);
  at most ``max_runs`` of them are drawn (evenly spaced). Smaller batches are drawn as
  individual runs.
* **Dimensions.** 1-D surfaces: the curve f(x) with the iterates on it. n > 2: paths are
  projected on two variables (``projection=("x1", "x2")``, background = f on the slice
  through the minimum, or the final point of the first run) or, with ``analysis`` (or
  ``projection="hessian"``), on the two Hessian eigenvectors of largest eigenvalue at the
  minimum (background = f on that plane through the minimum). The axis labels say which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm, Normalize
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from optiviz.errors import OptivizError
from optiviz.plotting import _geometry as geo
from optiviz.plotting._runs import RunGroup, RunView, normalize
from optiviz.plotting.style import (
    BACKGROUND_CMAP,
    DPI,
    FIGSIZE,
    MINIMUM_COLOR,
    START_EDGE,
    START_FACE,
    ColorMap,
    family_cmap,
    figure_and_axes,
    finish_axes,
    fit_figure_to_axes,
    fitted_title,
    formula_titles,
    legend_below,
    new_figure,
    panel_grid,
    panels,
    rc,
    set_formula_title,
    text_width,
    var_label,
    wrap_to_width,
)

if TYPE_CHECKING:
    from optiviz.protocols import SurfaceLike

Array = np.ndarray

#: Auto rule for log levels: max(f - f*) over the window > AUTO_LOG_RATIO * its 10th percentile.
AUTO_LOG_RATIO = 100.0
#: Where f is not finite (outside its domain) the axes show this colour.
UNDEFINED_COLOR = "#D4D4D4"
#: Non-divergent paths overshooting the window by at most this fraction widen it.
EXPAND_LIMIT = 0.2
#: Markers on at most this many iterates per path (evenly spaced in steps).
MAX_MARKERS = 120


# -- public --------------------------------------------------------------------------------
def contour(
    surface: SurfaceLike,
    runs: Any = (),
    *,
    analysis: Any = None,
    levels: Any = None,
    log_levels: bool | None = None,
    window: Any = None,
    projection: Any = None,
    title: str | bool | None = None,
    caption: str = "",
    colors: ColorMap | None = None,
    f_min: float | None = None,
    history: Any = None,
    layout: str = "single",
    grid: int = 300,
    max_runs: int = 40,
    family_threshold: int = 6,
    legend: bool = True,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Axes | None = None,
) -> Figure:
    """Filled contours of ``surface`` with the paths of ``runs``.

    Parameters
    ----------
    surface : Surface
    runs : list of Trajectory, or of (label, Trajectory), or {label: Trajectory}
    analysis : optional analysis of the surface (stationary points with Hessian
        eigenvectors): marks saddles / maxima too, and for n > 2 (without ``projection``)
        projects on the top two Hessian eigenvectors at the minimum.
    levels : int (number of levels) or explicit levels (of ``f - f*`` when log, of ``f``
        otherwise); default about 3 per decade (log) or ~20 nice values (linear).
    log_levels : force log (True) or linear (False) levels; default: the surface's
        ``log_levels`` hint, else automatic.
    window : plot window, ``[[lo, hi], [lo, hi]]`` in the plotted coordinates (or one row
        per variable; ``[lo, hi]`` for a 1-D surface), or ``"auto"``: the box of every
        non-divergent run's path (and ``history``) with a margin of
        :data:`AUTO_WINDOW_MARGIN` of its size on each side (a side shorter than
        :data:`AUTO_WINDOW_MIN_RATIO` of the other is widened to it); default the
        surface's window, widened when non-divergent paths overshoot it by at most 20% of
        its size (paths going further are clipped at its edge).
    projection : two variable names (n > 2: which variables to plot; n = 2: their order),
        or ``"hessian"`` (the plane of the top two Hessian eigenvectors at the minimum).
    title : str, or False for none; default the surface's formula (math text when it fits
        and mathtext can render it, else the plain expression text).
    caption : a line under the default title (e.g. the surface, start and step budget:
        :func:`optiviz.plotting.style.run_caption`).
    colors : shared :class:`ColorMap` (consistent label colours across figures).
    f_min : the reference value f* of the levels (default the surface's lowest known
        minimum); shown as 0 at rounding level
        (:func:`optiviz.plotting._reference.round_f_star`).
    history : the point before the start (``w(t-1)`` of a problem stated from a history):
        drawn hollow, with the step from it to the start.
    layout : ``"single"``, or ``"panels"``: one panel per run (each entry, each swept
        value of a batched one; at most :data:`MAX_PANELS`), with shared window, levels
        and colours, one legend below.
    grid : grid points per axis for evaluating f (1-D: four times as many).
    max_runs, family_threshold : batched trajectories with more than ``family_threshold``
        runs are drawn as a family; at most ``max_runs`` paths per family.
    legend : draw the legend (below the axes, outside them).
    ax : an Axes to draw into (its figure is returned and keeps its size); default a new
        figure of ``figsize`` and ``dpi``, shrunk to an equal-aspect plot.

    1-D surfaces: the curve f(x) (log scale of ``f - f*`` under the same rule as the log
    levels) with each run's iterates ``(x_t, f(x_t))`` as markers joined by thin lines.
    """
    groups = normalize(runs)
    colors = colors if colors is not None else ColorMap()
    if layout not in ("single", "panels"):
        raise OptivizError(f"layout must be 'single' or 'panels'; got {layout!r}")
    f_ref = _reference(surface, groups, f_min)
    kw = dict(
        analysis=analysis,
        levels=levels,
        log_levels=log_levels,
        projection=projection,
        grid=grid,
        max_runs=max_runs,
        family_threshold=family_threshold,
        f_min=f_ref,
        history=history,
    )
    with rc():
        if layout == "panels" and ax is None:
            return _contour_panels(
                surface, groups, colors, window, title, caption, legend, figsize, dpi, kw
            )
        own = ax is None
        fig, ax = figure_and_axes(ax, figsize or FIGSIZE, dpi)
        handles, note = _draw_contour(fig, ax, surface, groups, colors, window, **kw)
        # the title clears the colorbar's top tick label; an n > 2 surface's note on how
        # the plane was chosen sits between the title and the axes, wrapped (never clipped)
        pad = TITLE_PAD + subtitle(fig, ax, note) if note else TITLE_PAD
        if title is None:
            set_formula_title(ax, surface, fig, extra=caption, pad=pad)
        elif isinstance(title, str) and title:
            fitted_title(ax, title, fig, pad=pad)
        if legend and handles:
            legend_below(fig, handles, ax=ax, grow=own)
        finish_axes(ax)
        if own and ax.get_aspect() == 1.0:
            fit_figure_to_axes(fig, ax)
    return fig


#: ``window="auto"``: margin on each side, as a fraction of the paths' extent.
AUTO_WINDOW_MARGIN = 0.10
#: ``window="auto"``: a side shorter than this fraction of the other is widened to it.
AUTO_WINDOW_MIN_RATIO = 1 / 3
#: At most this many panels in ``layout="panels"`` (evenly chosen runs beyond).
MAX_PANELS = 16


def _reference(surface: Any, groups: list[RunGroup], f_min: float | None) -> float | None:
    """f* of the figure: ``f_min``, else the surface's known one; 0 at rounding level of
    the runs' recorded values."""
    from optiviz.plotting._reference import round_f_star

    value = f_min if f_min is not None else getattr(surface, "f_min", None)
    if value is None:
        return None
    vals = [
        np.abs(r.losses[np.isfinite(r.losses)])
        for g in groups
        for r in g.runs
        if r.losses is not None
    ]
    scale = max((float(v.max()) for v in vals if v.size), default=0.0)
    return round_f_star(float(value), scale)


def _draw_contour(fig, ax, surface, groups, colors, window, **kw) -> tuple[list, str]:
    """Draw the contour figure of ``groups`` into ``ax``; ``(legend handles, note)``."""
    if surface.n == 1:
        handles = _contour_1d(
            fig,
            ax,
            surface,
            groups,
            colors,
            kw["levels"],
            kw["log_levels"],
            window,
            kw["grid"],
            kw["max_runs"],
            kw["f_min"],
        )
        return handles, ""
    return _contour_2d(fig, ax, surface, groups, colors, window=window, **kw)


def panel_runs(groups: list[RunGroup], max_panels: int = MAX_PANELS) -> list[RunGroup]:
    """One single-run group per panel: each run of each entry (a batched entry gives one
    per swept value), at most ``max_panels`` (evenly chosen beyond)."""
    runs = [
        RunGroup(label=r.label, runs=[r], optimizer=g.optimizer) for g in groups for r in g.runs
    ]
    if len(runs) > max_panels:
        runs = [runs[i] for i in _subset(len(runs), max_panels)]
    return runs


def _contour_panels(surface, groups, colors, window, title, caption, legend, figsize, dpi, kw):
    """``layout="panels"``: one contour panel per run, sharing window, levels and colours."""
    shown = panel_runs(groups)
    total = sum(len(g.runs) for g in groups)
    nrows, ncols = panel_grid(len(shown))
    fig = new_figure(figsize or (3.3 * ncols + 0.9, 3.0 * nrows + 1.4), dpi)
    axes = panels(fig, None, nrows, ncols, sharex=True, sharey=True)
    if surface.n >= 2:
        plane, win = make_plane(surface, groups, kw["analysis"], kw["projection"])
        window = _resolve_window(window, win, groups, plane, surface.n, kw["history"])
        kw = dict(kw, plane=plane)
    elif window is None or (isinstance(window, str) and window == "auto"):
        window = _window_1d(surface, groups, window)
    handles: dict[str, Any] = {}
    cb_label = ""
    entry_labels = {r.legend_label for g in shown for r in g.runs}
    for k, g in enumerate(shown):
        ax = axes.flat[k]
        got, _ = _draw_contour(fig, ax, surface, [g], colors, window, **kw)
        for h in got:
            if h.get_label() not in entry_labels:
                handles.setdefault(h.get_label(), h)
        r = g.runs[0]
        st = colors.style_for(r.key, r.variant)
        ax.set_title(
            "\n".join(wrap_to_width(r.legend_label, 0.95 * fig.get_figwidth() * 72 / ncols, 9, 2)),
            fontsize=9,
            color=st["color"],
        )
        for child in list(ax.child_axes):  # one colorbar for all: the levels are shared
            cb_label = child.get_ylabel() or cb_label
            child.remove()
        if k + ncols < len(shown):
            ax.set_xlabel("")
        else:  # the lowest panel of its column shows the x ticks
            ax.xaxis.set_tick_params(labelbottom=True)
        if k % ncols:
            ax.set_ylabel("")
        finish_axes(ax)
    for ax in axes.flat[len(shown) :]:
        ax.remove()
    filled = [c for c in axes.flat[0].collections if isinstance(c, ContourSet) and c.filled]
    if filled:
        cb = fig.colorbar(filled[0], ax=list(axes.flat[: len(shown)]), shrink=0.85, aspect=30)
        cb.set_label(cb_label)
        cb.ax.tick_params(labelsize=8.5)
    if title is None or title is True:
        math, plain = formula_titles(surface)
        head = (
            math
            if math is not None and text_width(math, 11, True) <= 0.9 * fig.get_figwidth() * 72
            else plain
        )
        more = f"{len(shown)} of {total} runs shown" if len(shown) < total else ""
        tail = ", ".join(x for x in (caption, more) if x)
        fig.suptitle(
            head
            + (
                "\n" + "\n".join(wrap_to_width(tail, 0.9 * fig.get_figwidth() * 72, 10))
                if tail
                else ""
            ),
            fontsize=11,
        )
    elif isinstance(title, str) and title:
        fitted_title(fig, title, fig)
    if legend and handles:
        legend_below(fig, list(handles.values()))
    return fig


def _resolve_window(window, win, groups, plane, n, history) -> Array:
    """The plotted window: explicit, ``"auto"`` (fit the paths), or the surface's widened
    by slightly overshooting paths."""
    if window is None:
        return _expand_window(win, groups, plane)
    if isinstance(window, str):
        if window != "auto":
            raise OptivizError(
                f"window must be 'auto' or [[low, high], [low, high]]; got {window!r}"
            )
        return auto_window(win, groups, plane, history)
    return _window_arg(window, plane, n)


def _path_points(groups: list[RunGroup], plane) -> Array:
    """Projected points of every non-divergent run (every run when all diverged: their
    finite prefixes), (k, 2)."""
    runs = [r for g in groups for r in g.runs]
    keep = [r for r in runs if not r.diverged] or runs
    pts = [plane.project(P) for r in keep if (P := r.finite_prefix()) is not None and len(P)]
    if not pts:
        return np.zeros((0, 2))
    Q = np.concatenate(pts)
    return Q[np.isfinite(Q).all(axis=1) & (np.abs(Q) < 1e150).all(axis=1)]


def auto_window(win: Array, groups: list[RunGroup], plane, history: Any = None) -> Array:
    """``window="auto"``: the box of the paths (and the history point) with a margin of
    :data:`AUTO_WINDOW_MARGIN` of its size on each side; a side shorter than
    :data:`AUTO_WINDOW_MIN_RATIO` of the other is widened to that (about its centre); the
    surface's window ``win`` when there is no path."""
    Q = _path_points(groups, plane)
    if history is not None:
        h = np.asarray(history, dtype=float).reshape(1, -1)
        Q = np.concatenate([Q, plane.project(h)]) if h.shape[1] == plane.basis.shape[0] else Q
    if not len(Q):
        return win
    lo, hi = Q.min(axis=0), Q.max(axis=0)
    span = hi - lo
    floor = 1e-3 * float(np.max(win[:, 1] - win[:, 0]))  # a single point: a small box
    span = np.maximum(span, max(floor, AUTO_WINDOW_MIN_RATIO * float(span.max())))
    mid = 0.5 * (lo + hi)
    half = 0.5 * span * (1 + 2 * AUTO_WINDOW_MARGIN)
    return np.stack([mid - half, mid + half], axis=1)


#: Points between the top of the axes and the title (clear of the colorbar's tick label).
TITLE_PAD = 10.0
SUBTITLE_SIZE = 8.5


def subtitle(fig, ax, text: str) -> float:
    """A small grey note just above ``ax``, wrapped to fit the figure; returns the height
    in points it takes (the title goes above it)."""
    lines = wrap_to_width(text, 0.74 * fig.get_figwidth() * 72.0, SUBTITLE_SIZE)
    ax.annotate(
        "\n".join(lines),
        xy=(0.5, 1.0),
        xycoords="axes fraction",
        xytext=(0, TITLE_PAD - 2),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=SUBTITLE_SIZE,
        color="0.3",
        annotation_clip=False,
    )
    return 1.3 * SUBTITLE_SIZE * len(lines) + 2.0


# -- decisions -----------------------------------------------------------------------------
def surface_log_hint(surface: Any) -> bool | None:
    extra = getattr(surface, "extra", None) or {}
    hint = extra.get("log_levels", getattr(surface, "log_levels", None))
    return None if hint is None else bool(hint)


def wants_log(D: Array, hint: bool | None, forced: bool | None) -> bool:
    """Log levels? ``forced`` > surface hint > auto (wide range of ``D = f - f*``)."""
    if forced is not None:
        return bool(forced)
    if hint is not None:
        return hint
    d = D[np.isfinite(D)]
    if d.size < 10:
        return False
    hi = float(d.max())
    q = float(np.quantile(d, 0.1))
    if hi <= 0:
        return False
    return q <= 0 or hi / q > AUTO_LOG_RATIO


def reference_value(surface: Any, Z: Array, f_min: float | None = None) -> tuple[float, bool]:
    """``(f_ref, known)``: the known minimum value f* (``f_min``, else the surface's), or
    the grid minimum when f* is not known or the grid goes below it."""
    zmin = float(np.min(Z[np.isfinite(Z)]))
    if f_min is None:
        f_min = getattr(surface, "f_min", None)
    if f_min is not None and zmin >= f_min - 1e-9 * max(1.0, abs(f_min)):
        return float(f_min), True
    return zmin, False


_LINEAR_CAP = 1e307
_LOG_CAP = 1e300


def make_levels(D: Array, Z: Array, log: bool, levels: Any) -> Array:
    """Contour levels: geometric in ``D`` (log) or nice linear values of ``Z``."""
    if levels is not None and not isinstance(levels, (int, np.integer)):
        lv = np.asarray(levels, dtype=float)
        if lv.ndim != 1 or lv.size < 2 or not np.all(np.diff(lv) > 0):
            raise OptivizError(f"levels must be increasing numbers; got {levels!r}")
        if log and np.any(lv <= 0):
            raise OptivizError("log levels must be positive (they are levels of f - f*)")
        return lv
    count = None if levels is None else int(levels)
    if log:
        d = D[np.isfinite(D)]
        hi = min(float(d.max()), _LOG_CAP)  # decades of levels and ticks stay finite
        pos = d[d > 0]
        # the 0.1% quantile, not the minimum: a grid point landing next to the minimum
        # would otherwise add decades of levels covering a few pixels
        lo = float(np.quantile(pos, 0.001)) if pos.size else hi * 1e-6
        lo = max(lo, hi * 1e-8)
        with np.errstate(over="ignore"):  # decades rounded up past 1e308 become inf
            lv = geo.log_levels_for(lo, hi, count)
        lv = lv[np.isfinite(lv)]
        return lv if lv.size >= 2 else np.array([lo, max(hi, lo * 10.0)])
    # |f| near the float limit (a high-degree polynomial): levels over a range whose width
    # is representable, anything above drawn in the top colour
    z = np.clip(Z[np.isfinite(Z)], -_LINEAR_CAP, _LINEAR_CAP)
    zmin, zmax = float(z.min()), float(z.max())
    if zmax <= zmin:
        zmax = zmin + 1.0
    if count is not None:
        return np.linspace(zmin, zmax, max(count, 2))
    lv = np.asarray(MaxNLocator(nbins=20).tick_values(zmin, zmax))
    # keep only the levels that bound data (tick_values pads one step on each side)
    step = lv[1] - lv[0]
    lv = lv[(lv >= zmin - step) & (lv <= zmax + step)]
    return lv


# -- planes and windows ----------------------------------------------------------------------
def _global_minimum(surface: Any) -> Array | None:
    minima = list(getattr(surface, "minima", []) or [])
    if not minima:
        return None
    return np.asarray(min(minima, key=lambda m: m.value).point, dtype=float)


def _first_final_point(groups: list[RunGroup]) -> Array | None:
    for g in groups:
        for r in g.runs:
            if not r.diverged:
                P = r.finite_prefix()
                if P is not None and len(P):
                    return P[-1]
    return None


def hessian_basis(analysis: Any, surface: Any) -> tuple[Array, Array, Array] | None:
    """``(x*, eigenvalues (2,), eigenvectors (n, 2))`` of the top two Hessian eigenpairs at
    the lowest minimum found by the analysis (else the surface's lowest known minimum, its
    Hessian evaluated here), or ``None``."""
    point = vals = vecs = None
    if analysis is not None:
        cands = []
        for sp_ in _stationary_points(analysis):
            kind = str(getattr(sp_, "kind", getattr(sp_, "classification", ""))).lower()
            if "min" in kind:
                cands.append(sp_)
        if cands:

            def value(s):
                v = getattr(s, "value", None)
                return np.inf if v is None else float(v)

            best = min(cands, key=value)
            point = np.asarray(best.point, dtype=float)
            vals = getattr(best, "eigenvalues", None)
            vecs = getattr(best, "eigenvectors", None)
    if point is None:
        point = _global_minimum(surface)
        if point is None:
            return None
    if vals is None or vecs is None:
        with np.errstate(all="ignore"):
            H = np.asarray(surface.hess(point, check=False), dtype=float)
        if not np.isfinite(H).all():
            return None
        vals, vecs = np.linalg.eigh(0.5 * (H + H.T))
    vals = np.asarray(vals, dtype=float)
    vecs = np.asarray(vecs, dtype=float)
    order = np.argsort(vals)[::-1][:2]
    return point, vals[order], vecs[:, order]


def _stationary_points(analysis: Any) -> list:
    for key in ("stationary_points", "points", "critical_points"):
        pts = getattr(analysis, key, None)
        if pts is not None:
            return list(pts)
    return []


def make_plane(surface: Any, groups: list[RunGroup], analysis: Any, projection: Any):
    """The 2-D plane to draw on, and the window in its coordinates (2, 2)."""
    n = surface.n
    names = tuple(surface.variables)
    W = np.asarray(surface.window, dtype=float)
    is_hessian = isinstance(projection, str) and projection == "hessian"
    if n == 2 and not is_hessian:
        i, j = (0, 1) if projection is None else geo.resolve_projection(names, projection)
        plane = geo.coordinate_plane(
            2, i, j, np.zeros(2), (var_label(names[i]), var_label(names[j]))
        )
        return plane, W[[i, j]].copy()
    use_hessian = is_hessian or (projection is None and analysis is not None and n > 2)
    if use_hessian:
        hb = hessian_basis(analysis, surface)
        if hb is None:
            if is_hessian:
                raise OptivizError(
                    "projection='hessian' needs a known minimum (from the analysis or the "
                    "surface's minima) with a finite Hessian"
                )
        else:
            x0, lam, V = hb
            lx, ly = (
                f"along $v_{k + 1}$, Hessian eigenvector at $x^*$ "
                f"($\\lambda_{k + 1}$ = {lam[k]:.3g})"
                for k in range(2)
            )
            note = "f on the plane through $x^*$ spanned by $v_1, v_2$; paths projected on it"
            plane = geo.Plane(x0, V, (lx, ly), note=note)
            half = 0.5 * float(np.mean(W[:, 1] - W[:, 0]))
            if projection is None:  # the default: the paths' own plane if this hides them
                alt = _path_plane(groups, x0, plane)
                if alt is not None:
                    return alt
            return plane, np.array([[-half, half], [-half, half]])
    if projection is None:
        i, j = 0, 1
    else:
        i, j = geo.resolve_projection(names, projection)
    base = _global_minimum(surface)
    where = "$x^*$"
    if base is None:
        base = _first_final_point(groups)
        where = "the final point"
    if base is None:
        base = W.mean(axis=1)
        where = "the window centre"
    others = [k for k in range(n) if k not in (i, j)]
    fixed = ", ".join(f"{var_label(names[k])} = {base[k]:.3g}" for k in others[:3])
    if len(others) > 3:
        fixed += ", …"
    lx = var_label(names[i])
    ly = var_label(names[j])
    note = f"f on the slice through {where} ({fixed}); paths projected on it"
    plane = geo.coordinate_plane(n, i, j, base, (lx, ly), note)
    return plane, W[[i, j]].copy()


#: The default plane of more than two variables is the Hessian one unless the paths'
#: displacement from their start, projected on it, is under this fraction of their
#: displacement in all n variables (the paths then lie nearly orthogonal to it: the 1000-D
#: Rosenbrock from (-1, ..., -1) projects to a dot under x*).
PATH_PLANE_FRACTION = 0.5


def _path_plane(groups: list[RunGroup], origin: Array, hessian_plane: geo.Plane):
    """``(plane, window)`` through ``origin`` (x*) spanned by u1, towards the first run's
    start, and u2, the paths' widest spread across u1 (their points' top principal
    direction once u1 is removed); None when ``hessian_plane`` shows the paths (see
    :data:`PATH_PLANE_FRACTION`)."""
    paths = [
        P[np.isfinite(P).all(axis=1)]
        for g in groups
        for r in g.runs
        if not r.diverged and (P := r.finite_prefix()) is not None and len(P) > 1
    ]
    paths = [P for P in paths if len(P) > 1]
    if not paths:
        return None
    full = max(float(np.linalg.norm(P - P[0], axis=1).max()) for P in paths)
    shown = max(
        float(np.linalg.norm(hessian_plane.project(P) - hessian_plane.project(P[:1]), axis=1).max())
        for P in paths
    )
    if not full > 0 or shown >= PATH_PLANE_FRACTION * full:
        return None
    # at most ~400 points of each path: the directions of a long path in many variables
    Q = np.concatenate([P[:: max(1, len(P) // 400)] for P in paths]) - origin
    u1 = paths[0][0] - origin
    if not np.linalg.norm(u1) > 0:  # a start at x*: the paths' own top direction
        u1 = np.linalg.svd(Q, full_matrices=False)[2][0]
    u1 = u1 / np.linalg.norm(u1)
    Rm = Q - np.outer(Q @ u1, u1)
    _, sv, Vt = np.linalg.svd(Rm, full_matrices=False)
    # (paths on one line through x*: no spread across u1, any direction orthogonal to it)
    spread = sv[0] > 1e-9 * max(float(np.linalg.norm(Q)), 1e-300)
    u2 = Vt[0] if spread else np.eye(len(u1))[int(np.argmin(np.abs(u1)))]
    for _ in range(2):  # Gram-Schmidt, twice: orthogonal to rounding
        u2 = u2 - (u2 @ u1) * u1
        u2 = u2 / np.linalg.norm(u2)
    plane = geo.Plane(
        origin,
        np.stack([u1, u2], axis=1),
        ("along $u_1$, from $x^*$ towards the start", "along $u_2$, the paths' widest spread"),
        note=(
            "f on the plane through $x^*$ spanned by $u_1, u_2$ (the paths lie across the top "
            "Hessian eigenvectors); paths projected on it"
        ),
    )
    pts = np.concatenate([plane.project(P) for P in paths] + [np.zeros((1, 2))])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, AUTO_WINDOW_MIN_RATIO * float((hi - lo).max()))
    mid = 0.5 * (lo + hi)
    half = 0.5 * span * (1 + 2 * AUTO_WINDOW_MARGIN)
    return plane, np.stack([mid - half, mid + half], axis=1)


def _expand_window(
    win: Array, groups: list[RunGroup], plane: geo.Plane, limit: float = EXPAND_LIMIT
) -> Array:
    """Widen the window to show non-divergent paths that overshoot it slightly.

    Only when every such path fits within ``limit`` (a fraction of the window size) beyond
    each side; paths that wander further are clipped instead (the surface's window was
    chosen to show its features, a runaway path should not shrink them)."""
    pts = []
    for g in groups:
        for r in g.runs:
            if r.diverged:
                continue
            P = r.finite_prefix()
            if P is not None and len(P):
                pts.append(plane.project(P))
    if not pts:
        return win
    Q = np.concatenate(pts)
    Q = Q[np.isfinite(Q).all(axis=1)]
    if not len(Q):
        return win
    lo, hi = win[:, 0].copy(), win[:, 1].copy()
    width = hi - lo
    qlo, qhi = Q.min(axis=0), Q.max(axis=0)
    pad = 0.04 * width
    if np.any(qlo < lo - limit * width) or np.any(qhi > hi + limit * width):
        return win
    new_lo = np.where(qlo < lo, qlo - pad, lo)
    new_hi = np.where(qhi > hi, qhi + pad, hi)
    return np.stack([new_lo, new_hi], axis=1)


def _window_arg(window: Any, plane: geo.Plane, n: int) -> Array:
    w = np.asarray(window, dtype=float)
    if w.shape == (2, 2):
        out = w
    elif w.shape == (n, 2) and plane.coords is not None:
        out = w[list(plane.coords)]
    else:
        raise OptivizError(
            f"window must be [[low, high], [low, high]] for the two plotted axes; got {window!r}"
        )
    if not np.all(np.isfinite(out)) or np.any(out[:, 0] >= out[:, 1]):
        raise OptivizError(f"window must have finite low < high; got {window!r}")
    return out


def evaluate(surface: Any, X: Array) -> Array:
    """f on a grid of points (..., n), never warning; non-finite values kept as nan."""
    with np.errstate(all="ignore"):
        Z = np.asarray(surface.f(X, check=False), dtype=float)
        Z = np.broadcast_to(Z, X.shape[:-1]).copy()
    Z[~np.isfinite(Z)] = np.nan
    return Z


# -- drawing -------------------------------------------------------------------------------
def _contour_2d(
    fig,
    ax,
    surface,
    groups,
    colors,
    *,
    analysis,
    levels,
    log_levels,
    window,
    projection,
    grid,
    max_runs,
    family_threshold,
    f_min=None,
    history=None,
    plane=None,
) -> tuple[list, str]:
    if plane is None:
        plane, win = make_plane(surface, groups, analysis, projection)
        win = _resolve_window(window, win, groups, plane, surface.n, history)
    else:  # panels: the plane and window chosen once for all of them
        win = np.asarray(window, dtype=float)
    u = np.linspace(win[0, 0], win[0, 1], grid)
    v = np.linspace(win[1, 0], win[1, 1], grid)
    U, V = np.meshgrid(u, v)
    Z = evaluate(surface, plane.lift(np.stack([U, V], axis=-1)))
    handles: list = []
    if np.isfinite(Z).any():
        f_ref, known = reference_value(surface, Z, f_min)
        with np.errstate(all="ignore"):
            D = Z - f_ref
        log = wants_log(D, surface_log_hint(surface), log_levels)
        lv = make_levels(D, Z, log, levels)
        _background(fig, ax, U, V, Z, D, lv, log, known)
        if not np.isfinite(Z).all():
            # masked cells show the axes background: grey, and the legend says what it means
            ax.set_facecolor(UNDEFINED_COLOR)
    else:
        ax.text(
            0.5,
            0.5,
            "f is not finite anywhere in this window",
            transform=ax.transAxes,
            ha="center",
            va="center",
        )
    lo, hi = win[:, 0], win[:, 1]
    handles += _draw_groups(fig, ax, groups, plane, lo, hi, colors, max_runs, family_threshold)
    if history is not None:
        handles += draw_history(ax, history, groups, plane, lo, hi)
    handles += _draw_minima(ax, surface, analysis, plane, lo, hi, f_min)
    handles += _draw_stationary(ax, analysis, plane, lo, hi)
    if np.isfinite(Z).any() and not np.isfinite(Z).all():
        handles.append(
            Patch(
                facecolor=UNDEFINED_COLOR,
                edgecolor="0.6",
                label="f not finite (outside its domain)",
            )
        )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(plane.labels[0])
    ax.set_ylabel(plane.labels[1])
    ratio = (hi[1] - lo[1]) / (hi[0] - lo[0])
    if 1 / 3 <= ratio <= 3:
        # equal aspect (true shapes of the contours); contour() then sizes the figure to
        # the window so no empty bands are left
        ax.set_aspect("equal", adjustable="box")
    return handles, plane.note


def _background(fig, ax, U, V, Z, D, lv, log, known) -> None:
    norm: Normalize
    if log:
        data = np.ma.masked_invalid(np.clip(D, lv[0], lv[-1]))
        norm = LogNorm(vmin=lv[0], vmax=lv[-1])
        label = "$f - f^*$  (log scale)" if known else "$f - \\min f$ over the window  (log scale)"
    else:
        data = np.ma.masked_invalid(np.clip(Z, lv[0], lv[-1]))
        norm = Normalize(vmin=lv[0], vmax=lv[-1])
        label = "$f$"
    cf = ax.contourf(U, V, data, levels=lv, norm=norm, cmap=BACKGROUND_CMAP, zorder=0)
    ax.contour(U, V, data, levels=lv, colors="#34506E", linewidths=0.4, alpha=0.5, zorder=1)
    # an inset colorbar follows the axes' real (aspect-constrained) height; constrained
    # layout still makes room for it
    cax = ax.inset_axes([1.035, 0.0, 0.035, 1.0])
    cb = fig.colorbar(cf, cax=cax)
    cb.set_label(label)
    cb.ax.tick_params(labelsize=8.5)
    if log:
        from matplotlib.ticker import LogLocator

        cb.set_ticks(LogLocator(base=10, numticks=12).tick_values(lv[0], lv[-1]))
        cb.ax.set_ylim(lv[0], lv[-1])


def _markevery(k: int) -> int:
    return max(1, int(np.ceil(k / MAX_MARKERS)))


def draw_path(
    ax,
    Q: Array,
    view: RunView,
    color,
    linestyle,
    marker,
    lo,
    hi,
    *,
    lw: float = 1.6,
    ms: float = 3.2,
    alpha: float = 1.0,
    endpoints: bool = True,
    zorder: float = 3,
) -> Array | None:
    """Draw one projected path ``Q`` (k, 2), clipped to the window; returns the exit point
    marked for a divergent run (or None)."""
    if len(Q) == 0:
        return None
    line, exit_pt, _ = geo.clip_polyline(Q, lo, hi)
    if len(line):
        ax.plot(
            line[:, 0],
            line[:, 1],
            color=color,
            linestyle=linestyle,
            linewidth=lw,
            alpha=alpha,
            zorder=zorder,
            solid_capstyle="round",
        )
    inn = geo.inside(Q, lo, hi)
    if ms > 0 and inn.any():
        idx = np.flatnonzero(inn)[:: _markevery(int(inn.sum()))]
        ax.plot(
            Q[idx, 0],
            Q[idx, 1],
            linestyle="none",
            marker=marker,
            markersize=ms,
            color=color,
            markeredgewidth=0,
            alpha=0.75 * alpha,
            zorder=zorder,
        )
    # start and end markers inside the window are drawn whole, even on its edge; the
    # start is neutral (runs from one start share it: no run's colour may claim it)
    if endpoints and inn[0]:
        draw_start(ax, Q[0], zorder=zorder + 2.2)
    mark = None
    if view.diverged:
        mark = exit_pt if exit_pt is not None else (Q[-1] if inn[-1] else None)
        if mark is not None:
            ax.plot(
                mark[0],
                mark[1],
                marker="x",
                markersize=10.5,
                markeredgewidth=3.4,
                color="white",
                zorder=zorder + 2.5,
                linestyle="none",
                clip_on=False,
            )
            ax.plot(
                mark[0],
                mark[1],
                marker="x",
                markersize=9.5,
                markeredgewidth=2.0,
                color=color,
                zorder=zorder + 3,
                linestyle="none",
                clip_on=False,
            )
    elif endpoints and inn[-1]:
        ax.plot(
            Q[-1, 0],
            Q[-1, 1],
            marker="X",
            markersize=9,
            color=color,
            markeredgecolor="white",
            markeredgewidth=1.0,
            zorder=zorder + 2,
            linestyle="none",
            clip_on=False,
        )
    return mark


def draw_start(ax, q, *, zorder: float = 5.2, size: float = 8.0) -> None:
    """The neutral start marker at ``q`` (x, y): white with a dark edge, above the paths."""
    ax.plot(
        q[0],
        q[1],
        marker="o",
        markersize=size,
        markerfacecolor=START_FACE,
        markeredgecolor=START_EDGE,
        markeredgewidth=1.5,
        zorder=zorder,
        linestyle="none",
        clip_on=False,
    )


def _draw_groups(fig, ax, groups, plane, lo, hi, colors, max_runs, family_threshold) -> list:
    handles = []
    any_div = False
    any_run = False  # an individually drawn run (start and end markers)
    any_family = False
    n_families = 0
    for g in groups:
        family = g.batched and len(g.runs) > family_threshold
        if family:
            handles.append(_draw_family(fig, ax, g, plane, lo, hi, max_runs, n_families))
            n_families += 1
            any_family = True
            any_div |= g.n_diverged > 0
            continue
        for r in g.runs:
            P = r.finite_prefix()
            st = colors.style_for(r.key, r.variant)
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st["color"],
                    linestyle=st["linestyle"],
                    marker=st["marker"],
                    markersize=4,
                    linewidth=1.6,
                    label=r.legend_label,
                )
            )
            if P is None or not len(P):
                continue
            any_run = True
            draw_path(ax, plane.project(P), r, st["color"], st["linestyle"], st["marker"], lo, hi)
            any_div |= r.diverged
    handles += _marker_legend(any_run or any_family, any_run, any_div)
    return handles


def _marker_legend(start: bool, end: bool, diverged: bool) -> list:
    out = []
    if start:
        out.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markersize=7,
                markerfacecolor=START_FACE,
                markeredgecolor=START_EDGE,
                markeredgewidth=1.5,
                label="start",
            )
        )
    if end:
        out.append(
            Line2D(
                [],
                [],
                color="0.25",
                marker="X",
                linestyle="none",
                markersize=8,
                markeredgecolor="white",
                label="end",
            )
        )
    if diverged:
        out.append(
            Line2D(
                [],
                [],
                color="0.25",
                marker="x",
                linestyle="none",
                markersize=8,
                markeredgewidth=1.8,
                label="diverged (left the window here)",
            )
        )
    return out


def _family_norm(values: Array | None, R: int):
    if values is None:
        return Normalize(0, max(R - 1, 1)), False
    v = np.asarray(values, dtype=float)
    if np.all(v > 0) and v.max() / v.min() > 10:
        return LogNorm(v.min(), v.max()), True
    lo, hi = float(v.min()), float(v.max())
    return Normalize(lo, hi if hi > lo else lo + 1), True


def _subset(R: int, max_runs: int) -> Array:
    if R <= max_runs:
        return np.arange(R)
    return np.unique(np.linspace(0, R - 1, max_runs).round().astype(int))


def _draw_family(fig, ax, g: RunGroup, plane, lo, hi, max_runs, nth: int = 0) -> Line2D:
    R = len(g.runs)
    norm, has_values = _family_norm(g.sweep_values, R)
    cmap = family_cmap()
    idx = _subset(R, max_runs)
    starts = []
    for i in idx:
        r = g.runs[i]
        P = r.finite_prefix()
        if P is None or not len(P):
            continue
        value = r.sweep_value if has_values else i
        c = cmap(norm(value))
        Q = plane.project(P)
        draw_path(
            ax, Q, r, c, "-", "o", lo, hi, lw=0.9, ms=0, alpha=0.85, endpoints=False, zorder=2.5
        )
        starts.append((Q[0], c))
    for q in {tuple(q) for q, _ in starts}:  # neutral, once per distinct start
        if geo.inside(np.asarray(q)[None, :], lo, hi)[0]:
            draw_start(ax, q, zorder=4.2)
    if has_values:
        family_colorbar(fig, ax, norm, cmap, g, nth)
    shown = f"{len(idx)} of {R} runs" if len(idx) < R else f"{R} runs"
    div = f", {g.n_diverged} diverged" if g.n_diverged else ""
    return Line2D([], [], color=cmap(0.5), linewidth=1.2, label=f"{family_label(g)} ({shown}{div})")


def family_label(g: RunGroup) -> str:
    """The group label with ``lr=[25 values]`` replaced by the swept range."""
    if g.sweep_name is None or g.sweep_values is None:
        return g.label
    v = g.sweep_values
    rng = f"{g.sweep_name}={np.min(v):.3g}…{np.max(v):.3g}"
    token = f"{g.sweep_name}=[{len(v)} values]"
    return g.label.replace(token, rng) if token in g.label else f"{g.label}, {rng}"


def family_colorbar(fig, ax, norm, cmap, g: RunGroup, nth: int = 0):
    """Colorbar of a family's swept hyperparameter (the colour of each of its runs), to the
    right of the background's colorbar (an inset too, so it has the axes' height); the
    ``nth`` family's (from 0) right of the earlier ones'."""
    from matplotlib.transforms import ScaledTranslation

    shift = ax.transAxes + ScaledTranslation(0.72 + 0.95 * nth, 0.0, fig.dpi_scale_trans)
    cax = ax.inset_axes([1.035, 0.0, 0.035, 1.0], transform=shift)
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    who = f" of {g.optimizer}" if g.optimizer else ""
    cb.set_label(f"{g.sweep_name}{who} (run colour)")
    cb.ax.tick_params(labelsize=8.5)
    return cb


#: The earlier point of a history (``start_prev``) and the step from it.
HISTORY_COLOR = "0.2"


def draw_history(ax, history: Any, groups: list[RunGroup], plane, lo, hi) -> list:
    """The point before the start, ``w(t-1)``, as a hollow circle, with a dashed arrow of
    the step from it to each distinct start (clipped to the window); its legend handle."""
    h = np.asarray(history, dtype=float).reshape(-1)
    if h.shape[0] != plane.basis.shape[0]:
        return []
    q = plane.project(h[None, :])[0]
    starts: list[Array] = []
    for g in groups:
        for r in g.runs:
            P = r.finite_prefix()
            if P is not None and len(P):
                s0 = plane.project(P[:1])[0]
                if not any(np.allclose(s0, s) for s in starts):
                    starts.append(s0)
    for s0 in starts:
        ax.annotate(
            "",
            xy=(s0[0], s0[1]),
            xytext=(q[0], q[1]),
            arrowprops=dict(
                arrowstyle="-|>",
                color=HISTORY_COLOR,
                linestyle="--",
                linewidth=1.3,
                shrinkA=4,
                shrinkB=6,
                mutation_scale=12,
            ),
            zorder=4,
            annotation_clip=True,
        )
    if not geo.inside(q[None, :], lo, hi)[0]:
        return []
    ax.plot(
        q[0],
        q[1],
        marker="o",
        markersize=7.5,
        markerfacecolor="none",  # hollow: the start marker is white-filled
        markeredgecolor=HISTORY_COLOR,
        markeredgewidth=1.6,
        linestyle="none",
        zorder=5,
    )
    return [
        Line2D(
            [],
            [],
            marker="o",
            markersize=6.5,
            markerfacecolor="none",
            markeredgecolor=HISTORY_COLOR,
            markeredgewidth=1.4,
            color=HISTORY_COLOR,
            linestyle="--",
            linewidth=1.2,
            label="earlier point $w(t-1)$, step to the start",
        )
    ]


def _draw_minima(ax, surface, analysis, plane, lo, hi, f_min=None) -> list:
    """The surface's known minima plus the other minima the analysis found (values at
    rounding level of ``f_min`` = 0 shown as 0)."""
    minima = list(getattr(surface, "minima", []) or [])
    if analysis is not None:
        W = np.asarray(surface.window, dtype=float)
        tol = 1e-6 * float(np.linalg.norm(W[:, 1] - W[:, 0]))
        known = [np.asarray(m.point, dtype=float) for m in minima]
        for s in _stationary_points(analysis):
            if "min" not in str(getattr(s, "kind", "")).lower():
                continue
            if getattr(s, "value", None) is None:
                continue
            p = np.asarray(s.point, dtype=float)
            if all(np.linalg.norm(p - k) > tol for k in known):
                minima.append(s)

    def shown(v: float) -> float:
        # f* rounded to 0 (an infimum 0 found as 5e-31): its minima say 0 too
        return 0.0 if f_min == 0.0 and abs(v) <= abs(f_star_raw) else v

    f_star_raw = min((float(m.value) for m in minima), default=0.0)
    items = [
        (plane.project(np.asarray(m.point, dtype=float)[None, :])[0], shown(float(m.value)))
        for m in minima
    ]
    return mark_minima(ax, items, lo, hi)


def mark_minima(ax, items: list, lo, hi) -> list:
    """Stars at known minima ``items = [(q (2,), value)]`` inside the box: filled black for
    the global ones (lowest value), hollow for local ones; returns legend handles."""
    if not items:
        return []
    f_min = min(v for _, v in items)
    handles = []
    drawn_global = drawn_local = False
    for q, value in items:
        if not geo.inside(q[None, :], lo, hi)[0]:
            continue
        is_global = abs(value - f_min) <= 1e-9 * max(1.0, abs(f_min))
        ax.plot(
            q[0],
            q[1],
            marker="*",
            markersize=15 if is_global else 12,
            markerfacecolor=MINIMUM_COLOR if is_global else "white",
            markeredgecolor="white" if is_global else MINIMUM_COLOR,
            markeredgewidth=0.9 if is_global else 1.3,
            linestyle="none",
            zorder=6,
        )
        drawn_global |= is_global
        drawn_local |= not is_global
    if drawn_global:
        n_glob = sum(abs(v - f_min) <= 1e-9 * max(1.0, abs(f_min)) for _, v in items)
        what = "global minimum" if n_glob == 1 else "global minima"
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                markersize=12,
                markerfacecolor=MINIMUM_COLOR,
                markeredgecolor="white",
                linestyle="none",
                label=f"{what} ($f^*$ = {f_min:.4g})",
            )
        )
    if drawn_local:
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                markersize=10,
                markerfacecolor="white",
                markeredgecolor=MINIMUM_COLOR,
                linestyle="none",
                label="local minimum",
            )
        )
    return handles


def _draw_stationary(ax, analysis, plane, lo, hi) -> list:
    """Saddles and maxima from the analysis (minima are drawn from the surface)."""
    if analysis is None:
        return []
    kinds = {"saddle": ("P", "saddle point"), "max": ("D", "local maximum")}
    seen: dict[str, Line2D] = {}
    for s in _stationary_points(analysis):
        kind = str(getattr(s, "kind", getattr(s, "classification", ""))).lower()
        key = "saddle" if "saddle" in kind else "max" if "max" in kind else None
        if key is None:
            continue
        q = plane.project(np.asarray(s.point, dtype=float)[None, :])[0]
        if not geo.inside(q[None, :], lo, hi)[0]:
            continue
        marker, text = kinds[key]
        ax.plot(
            q[0],
            q[1],
            marker=marker,
            markersize=8,
            markerfacecolor="white",
            markeredgecolor="black",
            markeredgewidth=1.2,
            linestyle="none",
            zorder=6,
        )
        seen.setdefault(
            key,
            Line2D(
                [],
                [],
                marker=marker,
                markersize=7,
                markerfacecolor="white",
                markeredgecolor="black",
                linestyle="none",
                label=text,
            ),
        )
    return list(seen.values())


# -- 1-D -----------------------------------------------------------------------------------
def _window_1d(surface, groups, window) -> Array:
    """The x range of a 1-D contour for ``window`` None (the surface's, widened by
    slightly overshooting paths) or ``"auto"`` (the iterates with a margin)."""
    W = np.asarray(surface.window, dtype=float)[0]
    visited = [
        P[:, 0]
        for g in groups
        for r in g.runs
        if not r.diverged and (P := r.finite_prefix()) is not None and len(P)
    ]
    if not visited:
        return W
    x = np.concatenate(visited)
    if window is not None:  # "auto"
        lo, hi = float(x.min()), float(x.max())
        span = max(hi - lo, 1e-3 * float(W[1] - W[0]))
        mid = 0.5 * (lo + hi)
        half = 0.5 * span * (1 + 2 * AUTO_WINDOW_MARGIN)
        return np.array([mid - half, mid + half])
    width = W[1] - W[0]
    lim = EXPAND_LIMIT * width
    if x.min() >= W[0] - lim and x.max() <= W[1] + lim:
        W = np.array(
            [
                min(W[0], x.min() - 0.04 * width) if x.min() < W[0] else W[0],
                max(W[1], x.max() + 0.04 * width) if x.max() > W[1] else W[1],
            ]
        )
    return W


def _contour_1d(
    fig, ax, surface, groups, colors, levels, log_levels, window, grid, max_runs, f_min=None
) -> list:
    if window is None or (isinstance(window, str) and window == "auto"):
        W = _window_1d(surface, groups, window)
    else:
        w = np.asarray(window, dtype=float)
        # a figure option's [[low, high], [low, high]]: its first row is the x range
        w = (w[0] if w.shape == (2, 2) else w).reshape(-1)
        if w.shape != (2,) or not np.all(np.isfinite(w)) or w[0] >= w[1]:
            raise OptivizError(f"window of a 1-D surface must be [low, high]; got {window!r}")
        W = w
    xs = np.linspace(W[0], W[1], max(grid * 4, 400))
    Z = evaluate(surface, xs[:, None])
    name = surface.variables[0]
    ax.set_xlabel(var_label(name))
    if not np.isfinite(Z).any():
        ax.text(
            0.5,
            0.5,
            "f is not finite anywhere in this window",
            transform=ax.transAxes,
            ha="center",
            va="center",
        )
        ax.set_xlim(*W)
        return []
    f_ref, known = reference_value(surface, Z, f_min)
    with np.errstate(all="ignore"):
        D = Z - f_ref
    log = wants_log(D, surface_log_hint(surface), log_levels)
    if log:
        pos = D[np.isfinite(D) & (D > 0)]
        floor = max(float(pos.min()) if pos.size else 1e-12, float(np.nanmax(D)) * 1e-10)

        def tr(y):
            with np.errstate(all="ignore"):
                return np.log10(np.maximum(y - f_ref, floor))

        def inv(t):
            return 10.0**t

        ax.set_yscale("log")
        ax.set_ylabel("$f - f^*$" if known else "$f - \\min f$")
    else:

        def tr(y):
            return y

        def inv(t):
            return t

        ax.set_ylabel(
            f"$f({var_label(name).strip('$')})$"
            if var_label(name).startswith("$")
            else f"f({name})"
        )
    T = tr(Z)
    tmin, tmax = float(np.nanmin(T)), float(np.nanmax(T))
    pad = 0.06 * (tmax - tmin if tmax > tmin else 1.0)
    lo = np.array([W[0], tmin - pad])
    hi = np.array([W[1], tmax + pad])
    ax.plot(xs, inv(T), color="0.15", linewidth=1.8, zorder=2, label="_f")
    ax.fill_between(xs, inv(T), inv(lo[1]), color="#E4ECF3", zorder=0)
    handles = []
    any_div = False
    runs = [r for g in groups for r in g.runs]
    if len(runs) > max_runs:
        runs = [runs[i] for i in _subset(len(runs), max_runs)]
    for r in runs:
        st = colors.style_for(r.key, r.variant)
        handles.append(
            Line2D(
                [],
                [],
                color=st["color"],
                linestyle=st["linestyle"],
                marker=st["marker"],
                markersize=4,
                linewidth=1.0,
                label=r.legend_label,
            )
        )
        P = r.finite_prefix()
        if P is None or not len(P):
            continue
        x = P[:, 0]
        y = tr(evaluate(surface, P))
        ok = np.isfinite(y)
        Q = np.stack([x[ok], y[ok]], axis=1) if ok.all() else np.stack([x, y], 1)[: np.argmin(ok)]
        if not len(Q):
            continue
        line, exit_pt, _ = geo.clip_polyline(Q, lo, hi)
        if len(line):
            ax.plot(
                line[:, 0],
                inv(line[:, 1]),
                color=st["color"],
                linestyle=st["linestyle"],
                linewidth=0.9,
                alpha=0.8,
                zorder=3,
            )
        inn = geo.inside(Q, lo, hi)
        idx = np.flatnonzero(inn)[:: _markevery(int(inn.sum()))]
        ax.plot(
            Q[idx, 0],
            inv(Q[idx, 1]),
            linestyle="none",
            marker=st["marker"],
            markersize=4.5,
            color=st["color"],
            markeredgecolor="white",
            markeredgewidth=0.5,
            zorder=4,
        )
        if inn[0]:
            draw_start(ax, (Q[0, 0], inv(Q[0, 1])), zorder=5.2)
        if r.diverged:
            any_div = True
            mark = exit_pt if exit_pt is not None else (Q[-1] if inn[-1] else None)
            if mark is not None:
                ax.plot(
                    mark[0],
                    inv(mark[1]),
                    marker="x",
                    markersize=9,
                    markeredgewidth=1.8,
                    color=st["color"],
                    linestyle="none",
                    zorder=6,
                )
        elif inn[-1]:
            ax.plot(
                Q[-1, 0],
                inv(Q[-1, 1]),
                marker="X",
                markersize=9,
                color=st["color"],
                markeredgecolor="white",
                linestyle="none",
                zorder=5,
            )
    handles += _marker_legend(bool(runs), bool(runs), any_div)
    minima = list(getattr(surface, "minima", []) or [])
    if minima:
        items = [
            (
                np.array(
                    [float(np.asarray(m.point).reshape(-1)[0]), float(inv(tr(np.asarray(m.value))))]
                ),
                float(m.value),
            )
            for m in minima
        ]
        handles += mark_minima(ax, items, np.array([W[0], -np.inf]), np.array([W[1], np.inf]))
    ax.set_xlim(*W)
    ax.set_ylim(inv(lo[1]), inv(hi[1]))
    finish_axes(ax, grid=True)
    return handles
