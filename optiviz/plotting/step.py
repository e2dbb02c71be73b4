"""The step figure: one optimizer step drawn on the local contour, with its numbers.

``step(e)`` draws a :class:`~optiviz.explain.StepExplanation` (``explain_step(...)``; its
``plot()`` calls this): the contours of f around the step (contour lines labelled with
their values), the current point w(t), the history w(t-1) with its step when given, the
step's parts drawn tip to tail as the optimizer's class states them
(:meth:`~optiviz.optimizers.base.Optimizer.step_parts`: heavy ball's momentum and
gradient parts, Nesterov's momentum part to the look-ahead point and the gradient there),
the direction of -g where no part is along it, the update arrow to w(t+1), and beside
the contour the method's per-coordinate accumulators (``Optimizer.accumulators``: AdaGrad's
sum, Adam's m and v, ...) and a per-coordinate lr factor as bars (after the step, with the
value before as an outline). Every number is the explainer's (``e.fmt``): the legend reads
as ``optiviz step`` prints.

``step([e1, e2, ...])``: several steps side by side on one window (worked problem A's
four methods from one history), one legend under each panel; no bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optiviz.errors import OptivizError
from optiviz.plotting.style import (
    BACKGROUND_CMAP,
    DPI,
    MINIMUM_COLOR,
    START_EDGE,
    figure_and_axes,
    finish_axes,
    fitted_title,
    legend_below,
    new_figure,
    panel_grid,
    rc,
    var_label,
)

Array = np.ndarray

__all__ = ["step", "step_window"]

#: Colours of a step's parts, in order (colour-blind safe: Okabe-Ito orange, blue, green).
PART_COLORS = ("#E69F00", "#0072B2", "#009E73", "#CC79A7")
UPDATE_COLOR = "#000000"
HISTORY_COLOR = "0.45"
GRADIENT_COLOR = "#D55E00"
#: The window is the box of the step's points with this margin (of its larger side).
MARGIN = 0.3


def _parts(e: Any) -> list[Any]:
    parts = e.optimizer.step_parts(e)
    if parts is None:
        return []
    return [p for p in parts if np.any(np.asarray(p.vector, dtype=float))]


def _gradient_tip(e: Any, parts: list[Any]) -> Array | None:
    """Where the direction-of--g arrow ends (as long as the update, else a unit), or None
    when a part of the step is along -g already (it is then that part)."""
    x = np.asarray(e.x, dtype=float)[:2]
    g = np.asarray(e.gradient, dtype=float)[:2]
    ng = float(np.linalg.norm(g))
    if not ng > 0 or not np.isfinite(ng):
        return None
    for p in parts:
        v = np.asarray(p.vector, dtype=float)[:2]
        nv = float(np.linalg.norm(v))
        if float(np.dot(v, -g)) > 0 and abs(float(v[0] * g[1] - v[1] * g[0])) <= 1e-9 * ng * nv:
            return None
    length = float(np.linalg.norm(np.asarray(e.new_point, dtype=float)[:2] - x)) or 1.0
    return x - g / ng * length


def _points(e: Any) -> list[Array]:
    """Every point the drawing of ``e`` shows (w(t), w(t-1), w(t+1), the parts' ends)."""
    x = np.asarray(e.x, dtype=float)
    pts = [x, np.asarray(e.new_point, dtype=float)]
    if e.x_prev is not None:
        pts.append(np.asarray(e.x_prev, dtype=float))
    at = x.copy()
    parts = _parts(e)
    for p in parts:
        at = at + np.asarray(p.vector, dtype=float)
        pts.append(at.copy())
    tip = _gradient_tip(e, parts)
    if tip is not None:
        pts.append(tip)
    return [p[:2] for p in pts if np.all(np.isfinite(p))]


def step_window(explanations: Sequence[Any]) -> Array:
    """The window of the step figure: the box of every step's points with a margin of
    :data:`MARGIN` of its larger side, each side at least half the larger one."""
    P = np.array([p for e in explanations for p in _points(e)])
    lo, hi = P.min(axis=0), P.max(axis=0)
    span = float(np.max(hi - lo))
    if span == 0.0:
        span = max(1.0, float(np.max(np.abs(P))))
    side = np.maximum(hi - lo, 0.5 * span) + 2 * MARGIN * span
    mid = 0.5 * (lo + hi)
    return np.stack([mid - side / 2, mid + side / 2], axis=1)


def _background(ax: Axes, surface: Any, e: Any, win: Array, grid: int) -> None:
    """Filled contours of f over ``win`` (the slice through w(t) for n > 2), lines labelled."""
    from optiviz.plotting.contour import evaluate

    u = np.linspace(win[0, 0], win[0, 1], grid)
    v = np.linspace(win[1, 0], win[1, 1], grid)
    U, V = np.meshgrid(u, v)
    X = np.broadcast_to(np.asarray(e.x, dtype=float), U.shape + (surface.n,)).copy()
    X[..., 0], X[..., 1] = U, V
    Z = evaluate(surface, X)
    if not np.isfinite(Z).any():
        return
    from matplotlib.ticker import MaxNLocator

    z = Z[np.isfinite(Z)]
    lv = MaxNLocator(nbins=12).tick_values(float(z.min()), float(z.max()))
    ax.contourf(U, V, Z, levels=lv, cmap=BACKGROUND_CMAP, zorder=0)
    cs = ax.contour(U, V, Z, levels=lv, colors="#34506E", linewidths=0.5, alpha=0.7, zorder=1)
    ax.clabel(cs, fontsize=7, fmt=lambda val: e.fmt(val), inline=True)


def _arrow(ax: Axes, a: Array, b: Array, color: str, lw: float, style: str = "-") -> None:
    ax.annotate(
        "",
        xy=(b[0], b[1]),
        xytext=(a[0], a[1]),
        arrowprops=dict(
            arrowstyle="-|>",
            color=color,
            linewidth=lw,
            linestyle=style,
            shrinkA=0,
            shrinkB=0,
            mutation_scale=12 + 2 * lw,
        ),
        zorder=6,
    )


def _draw_step(ax: Axes, e: Any, surface: Any, win: Array, grid: int) -> list[Any]:
    """The step ``e`` on ``ax`` over ``win``; returns the legend handles (with the numbers)."""
    fv = e.fmt
    x = np.asarray(e.x, dtype=float)[:2]
    new = np.asarray(e.new_point, dtype=float)[:2]
    _background(ax, surface, e, win, grid)
    handles: list[Any] = []
    if e.x_prev is not None:
        xp = np.asarray(e.x_prev, dtype=float)[:2]
        _arrow(ax, xp, x, HISTORY_COLOR, 1.3, "--")
        ax.plot(*xp, "o", ms=7, mfc="none", mec=HISTORY_COLOR, mew=1.5, zorder=5)
        unused = " (not used by this method)" if e.history_used is False else ""
        handles.append(
            Line2D(
                [],
                [],
                color=HISTORY_COLOR,
                ls="--",
                marker="o",
                mfc="none",
                label=f"w(t-1) = {fv(e.x_prev)}{unused}",
            )
        )
    parts = _parts(e)
    at = x.copy()
    for i, p in enumerate(parts):
        c = PART_COLORS[i % len(PART_COLORS)]
        end = at + np.asarray(p.vector, dtype=float)[:2]
        _arrow(ax, at, end, c, 2.0)
        handles.append(Line2D([], [], color=c, lw=2.0, label=f"{p.label} = {fv(p.vector)}"))
        if p.reaches:
            ax.plot(*end, "D", ms=6.5, color=c, mec=START_EDGE, zorder=6)
            handles.append(
                Line2D([], [], color=c, ls="none", marker="D", mec=START_EDGE, label=p.reaches)
            )
        at = end
    tip = _gradient_tip(e, parts)
    if tip is not None:  # the direction of -g, as long as the update
        _arrow(ax, x, tip, GRADIENT_COLOR, 1.3, ":")
        handles.append(
            Line2D(
                [],
                [],
                color=GRADIENT_COLOR,
                ls=":",
                lw=1.3,
                label=f"direction of -g, g = grad f(w(t)) = {fv(e.gradient)}",
            )
        )
    _arrow(ax, x, new, UPDATE_COLOR, 1.1 if parts else 2.2)
    ax.plot(*x, "o", ms=6.5, mfc="white", mec=START_EDGE, mew=1.3, zorder=5)
    ax.plot(*new, "X", ms=7, color=UPDATE_COLOR, mec="white", mew=0.8, zorder=5)
    f0 = fv(e.quantities.get("f(w(t))"))
    handles.insert(
        0,
        Line2D(
            [],
            [],
            ls="none",
            marker="o",
            mfc="white",
            mec=START_EDGE,
            label=f"w(t) = {fv(e.x)}, f = {f0}",
        ),
    )
    handles.append(
        Line2D(
            [],
            [],
            color=UPDATE_COLOR,
            marker="X",
            lw=1.4,
            label=f"update: w(t+1) = {fv(e.new_point)}, f = {fv(e.quantities.get('f(w(t+1))'))}",
        )
    )
    for m in getattr(surface, "minima", None) or []:
        p = np.asarray(m.point, dtype=float)[:2]
        if np.all((p >= win[:, 0]) & (p <= win[:, 1])):
            ax.plot(*p, "*", ms=12, color=MINIMUM_COLOR, zorder=5)
    ax.set_xlim(*win[0])
    ax.set_ylim(*win[1])
    names = list(e.variables) or ["x1", "x2"]
    ax.set_xlabel(var_label(names[0]))
    ax.set_ylabel(var_label(names[1]))
    ax.set_aspect("equal", adjustable="box")
    finish_axes(ax)
    return handles


def _bar_quantities(e: Any) -> list[tuple[str, str, Array, Array | None]]:
    """``(key, label, after, before)`` of the per-coordinate entries drawn as bars: the
    class's accumulators, then a per-coordinate lr factor."""
    n = len(np.asarray(e.x).reshape(-1))
    keys = [k for k in e.optimizer.accumulators if k in e.quantities]
    if "eff_lr" in e.quantities and np.ndim(e.quantities["eff_lr"]) == 1:
        if np.size(e.quantities["eff_lr"]) == n:
            keys.append("eff_lr")
    out = []
    for k in keys:
        v = np.asarray(e.quantities[k], dtype=float).reshape(-1)
        if v.size != n:
            continue
        b = e.before.get(k)
        before = None if b is None else np.asarray(b, dtype=float).reshape(-1)
        out.append((k, e.labels.get(k, k), v, before))
    return out


def _bars(ax: Axes, e: Any, key: str, label: str, after: Array, before: Array | None) -> None:
    names = list(e.variables) or [f"x{i + 1}" for i in range(len(after))]
    pos = np.arange(len(after))
    ax.bar(pos, after, color=PART_COLORS[1], width=0.6, label="after the step")
    if before is not None and before.size == after.size:
        ax.bar(pos, before, fill=False, edgecolor="0.2", width=0.6, ls="--", label="before")
    for i, v in enumerate(after):
        ax.annotate(
            e.fmt(v),
            (pos[i], v),
            xytext=(0, 2 if v >= 0 else -9),
            textcoords="offset points",
            ha="center",
            fontsize=7.5,
        )
    ax.set_xticks(pos, [var_label(nm) for nm in names])
    ax.axhline(0.0, color="0.3", lw=0.6)
    ax.set_title(f"{label} [{key}]", fontsize=8.5)
    top = max(float(np.nanmax(np.abs(after))), 1e-300)
    if before is not None and before.size:
        top = max(top, float(np.nanmax(np.abs(before))))
    lo = -1.25 * top if np.nanmin(after) < 0 else 0.0
    ax.set_ylim(lo, 1.25 * top)
    finish_axes(ax)


def step(
    explanations: Any,
    *,
    surface: Any = None,
    window: Any = None,
    title: str | bool | None = None,
    titles: Sequence[str] | None = None,
    grid: int = 120,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Axes | None = None,
) -> Figure:
    """The step figure of one :class:`~optiviz.explain.StepExplanation` or of several (a
    panel each, on one window).

    ``surface``: where the contours come from (default each explanation's own surface);
    ``window``: ``[[low, high], [low, high]]`` of the first two variables (default
    :func:`step_window`); ``title``: a string, or False for none (default: the optimizer,
    surface and step; for several, the surface and the common start); ``titles``: the
    panels' titles (default each optimizer's label and step); ``ax``: draw a single explanation
    into it (no bars). Surfaces of n > 2 variables are drawn on the slice of the first two
    variables through w(t).
    """
    many = isinstance(explanations, (list, tuple))
    es = list(explanations) if many else [explanations]
    if not es:
        raise OptivizError("step: no step to draw")
    for e in es:
        s = surface if surface is not None else getattr(e, "surface", None)
        if s is None:
            raise OptivizError("step: the explanation has no surface; pass surface=")
        if s.n < 2:
            raise OptivizError(
                "a step figure needs a surface of two or more variables (it draws the step "
                "on the contours); the text (optiviz step) explains 1-D steps"
            )
    win = np.asarray(window, dtype=float) if window is not None else step_window(es)
    if win.shape != (2, 2) or not np.all(win[:, 0] < win[:, 1]):
        raise OptivizError(f"window must be [[low, high], [low, high]]; got {window!r}")
    with rc():
        if len(es) == 1 and not many:
            return _single(es[0], surface, win, title, grid, figsize, dpi, ax)
        if ax is not None:
            raise OptivizError("step: several steps draw their own panels (no ax=)")
        nrows, ncols = panel_grid(len(es), max_cols=2)
        fig = new_figure(figsize or (5.6 * ncols, 5.6 * nrows), dpi)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for k, e in enumerate(es):
            a = axes.flat[k]
            handles = _draw_step(a, e, surface or e.surface, win, grid)
            head = titles[k] if titles is not None and k < len(titles) else _title(e)
            a.set_title(head, fontsize=9.5)
            a.legend(
                handles=handles,
                loc="upper center",
                bbox_to_anchor=(0.5, -0.13),
                fontsize=7.5,
                frameon=False,
            )
        for a in axes.flat[len(es) :]:
            a.remove()
        if title is None or title is True:
            e0 = es[0]
            same = all(np.array_equal(e.x, e0.x) for e in es)
            where = f" from w(t) = {e0.fmt(e0.x)}" if same else ""
            if same and e0.x_prev is not None:
                where += f" after w(t-1) = {e0.fmt(e0.x_prev)}"
            fitted_title(fig, f"{e0.surface_name}: one step of each method{where}", fig)
        elif isinstance(title, str) and title:
            fitted_title(fig, title, fig)
        return fig


def _title(e: Any) -> str:
    return f"{e.optimizer.label()}: step t = {e.t}"


def _single(e, surface, win, title, grid, figsize, dpi, ax) -> Figure:
    bars = _bar_quantities(e) if ax is None else []
    if ax is None:
        fig = new_figure(figsize or ((9.6, 6.2) if bars else (6.8, 6.6)), dpi)
        if bars:
            gs = fig.add_gridspec(len(bars), 2, width_ratios=(2.2, 1.0))
            ax = fig.add_subplot(gs[:, 0])
            bar_axes = [fig.add_subplot(gs[i, 1]) for i in range(len(bars))]
        else:
            ax = fig.add_subplot()
            bar_axes = []
    else:
        fig, ax = figure_and_axes(ax, figsize or (6.8, 6.6), dpi)
        bar_axes = []
    handles = _draw_step(ax, e, surface or e.surface, win, grid)
    for b, (key, label, after, before) in zip(bar_axes, bars, strict=True):
        _bars(b, e, key, label, after, before)
    if bar_axes:
        bar_axes[0].legend(fontsize=7, loc="best", frameon=False)
    if title is None or title is True:
        fitted_title(ax, f"{_title(e)} on {e.surface_name}", fig)
    elif isinstance(title, str) and title:
        fitted_title(ax, title, fig)
    legend_below(fig, handles, max_cols=1, ax=ax)
    return fig
