"""Per-step curves: loss, effective learning rate, learning-rate sweeps, sharpness.

* :func:`loss` -- ``f - f*`` per step (or per weighted evaluation, ``x_axis``) on a log
  axis, one line per run; a diverged run ends with an 'x' at its last finite value;
  repeated runs (seeds) as their median with a quantile band.
* :func:`effective_lr` -- the per-coordinate effective learning rate of each step, the
  step per unit gradient (or, on request, each optimizer's own factor as in the lecture
  notes' AdaGrad / RMSprop / AdaDelta figures), one panel per optimizer (coordinates as
  line styles) or one panel per coordinate (optimizers as colours).
* :func:`lr_sweep` -- final loss against the learning rate (log-log), diverged runs as
  markers on the top edge, the Hessian's ``1/lambda_max`` and the swept method's stability
  limit (``2/lambda_max`` for GD; the caller passes another, e.g. heavy ball's).
* :func:`sharpness` -- edge of stability: lambda_max of the Hessian along a path against
  the GD stability threshold ``2/lr``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from optiviz._stats import quantile_rows
from optiviz.errors import OptivizError
from optiviz.plotting._runs import RunGroup, RunView, flat, normalize
from optiviz.plotting.contour import _family_norm, _subset, family_label
from optiviz.plotting.style import (
    DIVERGED_COLOR,
    DPI,
    FIGSIZE,
    ColorMap,
    family_cmap,
    figure_and_axes,
    figure_of,
    finish_axes,
    fitted_title,
    legend_below,
    new_figure,
    panel_grid,
    panels,
    rc,
    var_label,
    wrap_to_width,
)

Array = np.ndarray

#: Markers along each loss line (the entry's marker, evenly spaced in steps).
LOSS_MARKERS = 8
#: Coordinates in effective-lr panels are told apart by these line styles.
COORD_STYLES: tuple = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))


# -- loss ----------------------------------------------------------------------------------
def _y_values(r: RunView, f_min: float | None, relative: bool) -> Array | None:
    if r.losses is None:
        return None
    y = np.asarray(r.losses, dtype=float)
    if relative and f_min is not None:
        with np.errstate(all="ignore"):
            y = y - f_min
    return y


def _last_finite(y: Array) -> int | None:
    ok = np.flatnonzero(np.isfinite(y))
    return int(ok[-1]) if ok.size else None


#: ``log_x="auto"``: a log step axis when the shortest run is under this fraction of the
#: longest (Newton's 6 steps beside 3000 would be a sliver at the left edge).
LOG_X_SHORT = 0.05
#: A diverging run is clipped (the y axis kept to the others' range) when its values go
#: more than this factor (3 decades) above every non-diverged run's.
CLIP_FACTOR = 1e3


def wants_log_x(lengths: Sequence[float], log_x: Any) -> bool:
    """``log_x`` True / False, or for ``"auto"``: the shortest run (in steps, or in the x
    axis's unit, at least 1) is under :data:`LOG_X_SHORT` of the longest."""
    if not isinstance(log_x, str):
        return bool(log_x)
    if log_x != "auto":
        raise OptivizError(f"log_x must be True, False or 'auto'; got {log_x!r}")
    steps = [k for k in lengths if k >= 1]
    return bool(steps) and min(steps) < LOG_X_SHORT * max(steps)


def loss(
    runs: Any,
    *,
    f_min: float | None = None,
    relative: bool = True,
    title: str | bool | None = None,
    caption: str = "",
    colors: ColorMap | None = None,
    logx: bool | str = "auto",
    layout: str = "single",
    family_threshold: int = 6,
    max_runs: int = 60,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Axes | None = None,
    x_axis: str = "steps",
    weights: Any = None,
    band: tuple[float, float] | None = (0.1, 0.9),
) -> Figure:
    """Loss per step, one line per run.

    ``x_axis="evaluations"`` draws the loss against the cost of reaching each iterate, the
    cumulative weighted evaluations (:meth:`~optiviz.trajectory.Trajectory.evaluations`
    with ``weights``, by default f 1, gradient 1, Hessian n). Repeats (a trajectory whose
    runs are settings repeated over seeds, :meth:`~optiviz.trajectory.Trajectory.stack`)
    are drawn per setting as the median over the seeds with the quantile band ``band``
    (``(q_lo, q_hi)``, default q10..q90; None: the median alone). Across the seeds a run
    that stopped early keeps its last value (a diverged run counts as +inf); on the
    evaluations axis each run is read at the last iterate it reached at that cost.

    ``relative=True`` plots ``f - f*`` (``f_min`` given, or the trajectories' own
    ``f_min``; an f* at rounding level of the losses, see
    :func:`optiviz.plotting._reference.round_f_star`, is 0); without a known ``f*`` (or
    ``relative=False``) it plots ``f``. The y axis is logarithmic when the plotted values
    are all >= 0 (exact zeros, i.e. reaching ``f*`` exactly, are drawn at the bottom edge
    as a down-triangle); if some are negative (``f*`` is not a lower bound here) it is
    symmetric-log and the axis label says so. A diverging run whose values go more than
    :data:`CLIP_FACTOR` above every other run's is clipped: the y axis keeps the others'
    range (with a margin) and an up-triangle on the top edge marks where it leaves.
    ``logx``: a symmetric-log step axis (True), linear (False), or ``"auto"``
    (:func:`wants_log_x`). ``layout="panels"``: one panel per run (each entry, each swept
    value of a batched one), shared axes. ``title``: a string, False for none; default
    ``caption`` (when given). Batched trajectories with more than ``family_threshold`` runs
    become a family coloured by the swept hyperparameter. ``ax``: an Axes to draw into (its
    figure is returned; the legend goes below it); default a new figure of ``figsize`` and
    ``dpi``.
    """
    from optiviz.plotting._reference import round_f_star
    from optiviz.plotting.contour import panel_runs

    groups = normalize(runs)
    colors = colors if colors is not None else ColorMap()
    if layout not in ("single", "panels"):
        raise OptivizError(f"layout must be 'single' or 'panels'; got {layout!r}")
    if x_axis not in X_AXES:
        raise OptivizError(f"x_axis must be 'steps' or 'evaluations'; got {x_axis!r}")
    xs = {id(r): _run_x(r, x_axis, weights) for r in flat(groups)}
    bands: dict[int, tuple[Array, Array]] = {}
    groups = [_medians(g, xs, bands, band) if g.repeats > 1 else g for g in groups]
    views = flat(groups)
    if f_min is None and relative:
        f_min = next((r.f_min for r in views if r.f_min is not None), None)
    raw = [np.abs(r.losses[np.isfinite(r.losses)]) for r in views if r.losses is not None]
    f_min = round_f_star(f_min, max((float(a.max()) for a in raw if a.size), default=0.0))
    use_rel = relative and f_min is not None
    ys = {id(r): _y_values(r, f_min, use_rel) for r in views}
    finite = [y[np.isfinite(y)] for y in ys.values() if y is not None]
    allv = np.concatenate(finite) if finite else np.empty(0)
    negative = bool(allv.size and allv.min() < 0)
    pos = allv[allv > 0]
    # exact zeros (f* reached to rounding) have no place on a log axis: they are drawn on
    # the bottom edge, so a path that touches f* and leaves again stays connected
    floor = float(pos.min()) / 3.0 if not negative and pos.size and np.any(allv <= 0) else None
    top = None if negative else _clip_top(views, ys)
    ends = [float(xs[id(r)][-1]) for r in views if ys[id(r)] is not None and len(xs[id(r)])]
    log_x = wants_log_x(ends, logx)
    x_label = "step $t$"
    if x_axis == "evaluations":
        from optiviz.trajectory import weights_text

        n = next((r.n for r in views if r.n), 1)
        x_label = f"evaluations ({weights_text(weights or {}, n)})"
    look = _LossLook(
        f_min,
        use_rel,
        negative,
        floor,
        top,
        log_x,
        family_threshold,
        max_runs,
        xs,
        bands,
        x_label,
        band,
    )
    with rc():
        if layout == "panels" and ax is None:
            shown = panel_runs(groups)
            nrows, ncols = panel_grid(len(shown))
            fig = new_figure(figsize or (3.3 * ncols + 0.6, 2.7 * nrows + 1.5), dpi)
            axes = panels(fig, None, nrows, ncols, sharex=True, sharey=True)
            handles: dict[str, Any] = {}
            labels = {r.legend_label for g in shown for r in g.runs}
            for k, g in enumerate(shown):
                pax = axes.flat[k]
                for h in _loss_on(fig, pax, [g], ys, colors, look):
                    if h.get_label() not in labels:
                        handles.setdefault(h.get_label(), h)
                r = g.runs[0]
                pax.set_title(
                    "\n".join(
                        wrap_to_width(r.legend_label, 0.95 * fig.get_figwidth() * 72 / ncols, 9, 2)
                    ),
                    fontsize=9,
                    color=colors.color_for(r.key),
                )
                if k % ncols:
                    pax.set_ylabel("")
                if k + ncols < len(shown):
                    pax.set_xlabel("")
                else:  # the lowest panel of its column shows the step ticks
                    pax.xaxis.set_tick_params(labelbottom=True)
            for pax in axes.flat[len(shown) :]:
                pax.remove()
            head = title if isinstance(title, str) and title else caption
            if head and title is not False:
                fitted_title(fig, head, fig)
            if handles:
                legend_below(fig, list(handles.values()))
            return fig
        own = ax is None
        fig, ax = figure_and_axes(ax, figsize or FIGSIZE, dpi)
        handles_ = _loss_on(fig, ax, groups, ys, colors, look)
        head = title if isinstance(title, str) and title else caption
        if head and title is not False:
            fitted_title(ax, head, fig)
        if handles_:
            legend_below(fig, handles_, ax=None if own else ax, grow=own)
    return fig


@dataclass(frozen=True)
class _LossLook:
    """What every panel of one loss figure shares: f*, the scales, the clip level."""

    f_min: float | None
    relative: bool
    negative: bool
    floor: float | None
    top: float | None  # clip the y axis here (a diverging run goes far above the others)
    log_x: bool
    family_threshold: int
    max_runs: int
    xs: dict  # id(view) -> its x values (steps or cumulative evaluations)
    bands: dict  # id(median view) -> (q_lo, q_hi) losses over the seeds
    x_label: str = "step $t$"
    band: tuple[float, float] | None = None


#: The x axes of a loss figure.
X_AXES = ("steps", "evaluations")


def _run_x(r: RunView, x_axis: str, weights: Any) -> Array:
    """A run's x values: its steps, or the cost of reaching each iterate in weighted
    evaluations (the cumulative sum of its per-step counts)."""
    n = 0 if r.losses is None else len(r.losses)
    if x_axis == "steps":
        return np.arange(n, dtype=float)
    if r.step_evals is None:
        raise OptivizError(
            f"x_axis='evaluations' needs the evaluations of each step; run {r.label!r} has "
            "none (record: final, or a trajectory read from a CSV without evals_ columns)"
        )
    from optiviz.trajectory import evaluation_weights

    w = evaluation_weights(weights, r.n or 1)
    return np.cumsum(np.asarray(r.step_evals, dtype=float)[:n] @ w)


def _on_grid(x: Array, y: Array, grid: Array) -> Array:
    """``y`` (a run's values at its ``x``, increasing) read at ``grid``: the value of the
    last x <= each grid point (its first value before it starts, its last after it
    ends); non-finite values count as +inf."""
    idx = np.clip(np.searchsorted(x, grid, side="right") - 1, 0, len(y) - 1)
    out = y[idx]
    return np.where(np.isfinite(out), out, np.inf)


def _medians(g: RunGroup, xs: dict, bands: dict, band: tuple[float, float] | None) -> RunGroup:
    """A group of repeats as one view per setting: the median of its seeds' losses (and
    the band's quantiles) on a common x grid (:func:`_on_grid`)."""
    N = g.repeats
    views = []
    for j in range(len(g.runs) // N):
        runs = [r for r in g.runs[j * N : (j + 1) * N] if r.losses is not None and len(r.losses)]
        if not runs:
            continue
        grid = np.unique(np.concatenate([xs[id(r)] for r in runs]))
        Y = np.array([_on_grid(xs[id(r)], np.asarray(r.losses, float), grid) for r in runs])
        first = g.runs[j * N]
        label = _setting_label(first.label, g.seeds[0])
        div = sum(r.diverged for r in runs)
        what = f"median of {N} seeds" + (f", {div} diverged" if div else "")
        v = RunView(
            label=f"{label}: {what}",
            points=None,
            losses=quantile_rows(Y, 0.5),
            eff_lr=None,
            status="repeats",
            f_min=first.f_min,
            hyper=first.hyper,
            sweep_value=first.sweep_value,
            n=first.n,
        )
        xs[id(v)] = grid
        if band is not None:
            bands[id(v)] = (quantile_rows(Y, band[0]), quantile_rows(Y, band[1]))
        views.append(v)
    sweep = None if g.sweep_values is None else np.asarray(g.sweep_values)[::N]
    return RunGroup(
        g.label,
        views,
        batched=g.batched and len(views) > 1,
        sweep_name=g.sweep_name if len(views) > 1 else None,
        sweep_values=sweep if len(views) > 1 else None,
        optimizer=g.optimizer,
        key=g.key,
    )


def _setting_label(label: str, seed: int) -> str:
    """A repeat's label without its seed (``sgd seed 3`` -> ``sgd``)."""
    suffix = f" seed {seed}"
    return label[: -len(suffix)] if label.endswith(suffix) else label


def _q_name(q: float) -> str:
    return f"q{100 * q:.3g}"


def _clip_top(views: list[RunView], ys: dict) -> float | None:
    """The top of the y axis when a diverging run would squash the others: the largest
    value of the non-diverged runs times a margin (half a decade), when some diverged run
    goes more than :data:`CLIP_FACTOR` above it; else None (nothing to clip)."""

    def top_of(r: RunView) -> float | None:
        y = ys[id(r)]
        if y is None:
            return None
        y = y[np.isfinite(y) & (y > 0)]
        return float(y.max()) if y.size else None

    calm = [v for r in views if not r.diverged and (v := top_of(r)) is not None]
    wild = [v for r in views if r.diverged and (v := top_of(r)) is not None]
    if not calm or not wild or max(wild) <= CLIP_FACTOR * max(calm):
        return None
    return max(calm) * 10**0.5


def _loss_on(fig, ax, groups: list[RunGroup], ys: dict, colors: ColorMap, look: _LossLook) -> list:
    """Draw the loss curves of ``groups`` into ``ax``; returns the legend handles."""
    negative, floor = look.negative, look.floor
    views = flat(groups)
    handles: list = []
    bottom_marks: list = []
    clipped: list = []
    for g in groups:
        family = g.batched and len(g.runs) > look.family_threshold
        if family:
            handles.append(_loss_family(fig, ax, g, ys, look.max_runs, look.xs))
            continue
        for r in g.runs:
            y = ys[id(r)]
            st = colors.style_for(r.key, r.variant)
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st["color"],
                    linestyle=st["linestyle"],
                    marker=st["marker"],
                    markersize=4.5,
                    linewidth=1.8,
                    label=r.legend_label,
                )
            )
            if y is None:
                continue
            t = look.xs.get(id(r), np.arange(len(y)))
            if id(r) in look.bands:
                lo, hi = (_y_like(q, look) for q in look.bands[id(r)])
                ax.fill_between(
                    t,
                    _masked(lo, negative, floor),
                    _masked(hi, negative, floor),
                    color=st["color"],
                    alpha=0.2,
                    linewidth=0,
                    zorder=2,
                )
            # the entry's marker on a few points (a second cue beside its colour),
            # staggered so the markers of lines on top of each other stay apart
            k = len(handles) - 1
            every = max(1, len(y) // LOSS_MARKERS)
            ax.plot(
                t,
                _masked(y, negative, floor),
                color=st["color"],
                linestyle=st["linestyle"],
                marker=st["marker"],
                markersize=4.5,
                markevery=((k * every) // 7 % every, every),
                linewidth=1.8,
                zorder=3,
            )
            _mark_end(ax, r, y, t, st["color"], negative, bottom_marks)
            if look.top is not None and r.diverged:
                over = np.flatnonzero(np.isfinite(y) & (y > look.top))
                if over.size:
                    clipped.append((int(t[over[0]]), st["color"]))
    ys_here = [ys[id(r)] for r in views if ys[id(r)] is not None]
    pos_here = any(np.any(np.isfinite(y) & (y > 0)) for y in ys_here)
    if negative:
        allv = np.concatenate([y[np.isfinite(y)] for y in ys.values() if y is not None])
        lin = float(np.quantile(np.abs(allv[allv != 0]), 0.05)) if np.any(allv != 0) else 1.0
        ax.set_yscale("symlog", linthresh=max(lin, 1e-300))
    elif pos_here or look.floor is not None:
        ax.set_yscale("log")
        if floor is not None:
            ax.set_ylim(bottom=floor)
        if bottom_marks:
            trans = blended_transform_factory(ax.transData, ax.transAxes)
            for t_ in bottom_marks:
                ax.plot(
                    t_,
                    0.0,
                    marker="v",
                    markersize=8,
                    color="0.2",
                    linestyle="none",
                    transform=trans,
                    clip_on=False,
                    zorder=6,
                )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="v",
                    color="0.2",
                    linestyle="none",
                    label="reached $f^*$ (to rounding)",
                )
            )
    if look.top is not None:
        ax.set_ylim(top=look.top)
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        for t_, c in clipped:
            ax.plot(
                t_,
                1.0,
                marker="^",
                markersize=9,
                color=c,
                markeredgecolor="white",
                linestyle="none",
                transform=trans,
                clip_on=False,
                zorder=7,
            )
    if any(r.diverged for r in views):
        handles.append(
            Line2D(
                [],
                [],
                marker="x",
                color="0.25",
                linestyle="none",
                markersize=8,
                markeredgewidth=1.8,
                label="diverged: last finite value",
            )
        )
        if clipped:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="^",
                    color="0.25",
                    linestyle="none",
                    markersize=8,
                    label="diverged: leaves the axis here (clipped)",
                )
            )
    if look.bands and look.band is not None and any(id(r) in look.bands for r in views):
        from matplotlib.patches import Patch

        q_lo, q_hi = look.band
        handles.append(
            Patch(
                facecolor="0.55",
                alpha=0.35,
                label=f"band: {_q_name(q_lo)}..{_q_name(q_hi)} over the seeds",
            )
        )
    if look.log_x:
        ax.set_xscale("symlog", linthresh=1.0)
    after = "step 1" if look.x_label.startswith("step") else "1"
    ax.set_xlabel(look.x_label + (f"  (log scale after {after})" if look.log_x else ""))
    if look.relative:
        ylabel = "$f(x_t) - f^*$"
        if look.f_min != 0:
            ylabel += f"   ($f^*$ = {look.f_min:.6g})"
    else:
        ylabel = "$f(x_t)$"
    if negative:
        ylabel += "   [symmetric log scale: values < 0 occur]"
    ax.set_ylabel(ylabel)
    ax.set_xlim(left=0)
    finish_axes(ax, grid=True)
    return handles


def _y_like(y: Array, look: _LossLook) -> Array:
    """Losses as the figure plots them (``- f*`` when relative)."""
    if look.relative and look.f_min is not None:
        with np.errstate(all="ignore"):
            return y - look.f_min
    return y


def _masked(y: Array, negative: bool, floor: float | None = None) -> Array:
    """Values to plot: non-finite ones dropped; on a log axis values <= 0 dropped, or drawn
    at ``floor`` (the bottom edge) when given."""
    y = np.where(np.isfinite(y), y, np.nan)
    if not negative:
        y = np.where(y > 0, y, np.nan if floor is None else floor)
    return y


def _mark_end(ax, r: RunView, y: Array, t: Array, color, negative: bool, bottom: list) -> None:
    k = _last_finite(y)
    if k is None:
        return
    if r.diverged:
        if negative or y[k] > 0:
            ax.plot(
                t[k],
                y[k],
                marker="x",
                markersize=9,
                markeredgewidth=2.0,
                color=color,
                linestyle="none",
                zorder=5,
            )
    if not negative:
        # each arrival at f* exactly (invisible on a log axis) is marked on the bottom edge
        zero = np.isfinite(y) & (y <= 0)
        arrive = zero & ~np.concatenate([[False], zero[:-1]])
        bottom.extend(t[arrive])


def _loss_family(fig, ax, g: RunGroup, ys: dict, max_runs: int, xs: dict | None = None) -> Line2D:
    R = len(g.runs)
    norm, has_values = _family_norm(g.sweep_values, R)
    cmap = family_cmap()
    for i in _subset(R, max_runs):
        r = g.runs[i]
        y = ys[id(r)]
        if y is None:
            continue
        c = cmap(norm(r.sweep_value if has_values else i))
        x = (xs or {}).get(id(r), np.arange(len(y)))
        ax.plot(x, _masked(y, False), color=c, linewidth=1.0, alpha=0.9)
        k = _last_finite(y)
        if r.diverged and k is not None and y[k] > 0:
            ax.plot(
                x[k], y[k], marker="x", markersize=7, markeredgewidth=1.5, color=c, linestyle="none"
            )
    if has_values:
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.015, aspect=30)
        who = f" of {g.optimizer}" if g.optimizer else ""
        cb.set_label(f"{g.sweep_name}{who}")
        cb.ax.tick_params(labelsize=8.5)
    div = f", {g.n_diverged} diverged" if g.n_diverged else ""
    return Line2D(
        [], [], color=cmap(0.5), linewidth=1.2, label=f"{family_label(g)} ({R} runs{div})"
    )


# -- effective learning rate -----------------------------------------------------------------
def _grid(k: int) -> tuple[int, int]:
    ncols = 1 if k == 1 else 2 if k <= 4 else 3
    return math.ceil(k / ncols), ncols


#: The rates a log axis can show: beyond these (an lr of 1e307 makes rates of 1e307)
#: matplotlib's autoscaling and ticks overflow, so such values leave gaps like nan.
_RATE_RANGE = (1e-100, 1e100)


def _positive(a: Array) -> Array:
    a = np.asarray(a, dtype=float)
    with np.errstate(invalid="ignore"):
        shown = (a >= _RATE_RANGE[0]) & (a <= _RATE_RANGE[1])
    return np.where(shown, a, np.nan)


#: What :func:`effective_lr` can show: the recorded field and its axis label.
RATE_QUANTITIES = {
    "effective_lr": "effective learning rate $-\\Delta x_i / g_i$",
    "lr_factor": "optimizer's own lr factor",
}


class _AsRate:
    """A trajectory-like view whose ``effective_lr`` is another recorded rate (its
    ``run(i)`` views too); every other attribute is the trajectory's."""

    def __init__(self, traj: Any, quantity: str):
        self._traj = traj
        self._quantity = quantity
        self.effective_lr = getattr(traj, quantity, None)
        if hasattr(traj, "run") and callable(traj.run):
            self.run = lambda i: _AsRate(traj.run(i), quantity)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._traj, name)


def _rate_input(runs: Any, quantity: str) -> Any:
    """``runs`` (any accepted form) with each trajectory seen through :class:`_AsRate`."""
    if quantity == "effective_lr" or runs is None:
        return runs
    if isinstance(runs, dict):
        return {k: _AsRate(v, quantity) for k, v in runs.items()}
    if hasattr(runs, "points") or hasattr(runs, "losses"):
        return _AsRate(runs, quantity)
    return [
        (item[0], _AsRate(item[1], quantity))
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        else _AsRate(item, quantity)
        for item in runs
    ]


def _factor_names(runs: Any) -> list[str]:
    """``"optimizer: lr_factor_name"`` for the distinct optimizers in ``runs``, in order."""
    if runs is None:
        return []
    if isinstance(runs, dict):
        items: list = list(runs.values())
    elif hasattr(runs, "points") or hasattr(runs, "losses"):
        items = [runs]
    else:
        items = [i[1] if isinstance(i, tuple) and len(i) == 2 else i for i in runs]
    names = [
        f"{getattr(t, 'optimizer', '')}: {t.lr_factor_name}".lstrip(": ")
        for t in items
        if getattr(t, "lr_factor_name", "")
    ]
    return list(dict.fromkeys(names))


def effective_lr(
    runs: Any,
    *,
    quantity: str = "effective_lr",
    per: str = "optimizer",
    variables: Sequence[str] | None = None,
    title: str | bool | None = None,
    colors: ColorMap | None = None,
    max_runs: int = 12,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Any = None,
) -> Figure:
    """Per-coordinate learning rate of each step, on a log axis.

    ``quantity="effective_lr"`` (default): the step taken per unit gradient,
    ``-Δx_i / g_i`` (``Trajectory.effective_lr``: the same quantity for every optimizer,
    so runs of different families compare on one axis). ``quantity="lr_factor"``: each
    optimizer's own factor (``Trajectory.lr_factor``, e.g. Adam's multiplier of ``m̂``,
    Rprop's step sizes), named in the titles by its ``lr_factor_name``. Only positive
    finite values show on the log axis: steps where ``g_i = 0`` (nan) and steps against
    the gradient (negative, e.g. momentum overshooting) leave gaps, and so do values
    outside [1e-100, 1e100] (an lr of 1e307: a log axis cannot span them).

    ``per="optimizer"``: one panel per run, its coordinates told apart by line style.
    ``per="coordinate"``: one panel per coordinate, runs told apart by colour (the same
    colours as in the other figures when a shared ``colors`` map is passed). Batched
    trajectories are split into their runs (at most ``max_runs`` shown).
    ``variables`` names the coordinates (default ``x1, x2, ...`` or the trajectories'
    ``variables``). With ``ax`` (a matplotlib Axes) everything is drawn into that one
    Axes (runs by colour, coordinates by line style) and its Figure is returned.
    """
    if per not in ("optimizer", "coordinate"):
        raise OptivizError(f"per must be 'optimizer' or 'coordinate'; got {per!r}")
    if quantity not in RATE_QUANTITIES:
        raise OptivizError(
            f"quantity must be one of {', '.join(map(repr, RATE_QUANTITIES))}; got {quantity!r}"
        )
    groups = normalize(_rate_input(runs, quantity))
    colors = colors if colors is not None else ColorMap()
    views = [r for r in flat(groups) if r.eff_lr is not None and r.eff_lr.size]
    rates = {id(r): np.asarray(r.eff_lr, dtype=float) for r in views}
    if len(views) > max_runs:
        views = [views[i] for i in _subset(len(views), max_runs)]
    if not views:
        raise OptivizError(
            f"no run has {quantity} values (record='all' keeps them; record='path' and "
            "'final' do not)"
        )
    factor = quantity == "lr_factor"
    n = max(rates[id(r)].shape[1] for r in views)
    if variables is None:
        variables = _variables_of(runs, n)
    names = [var_label(v) for v in variables]
    if title is True:
        title = RATE_QUANTITIES[quantity]
    if title is None and factor:  # which factor each family records
        title = "lr factor of " + "; ".join(_factor_names(runs) or ["each optimizer"])
    k = 1 if ax is not None else len(views) if per == "optimizer" else n
    nrows, ncols = _grid(k)
    if figsize is None:
        figsize = (7.0, 5.5) if k > 1 else (7.0, 4.6)
        if nrows > 2:
            figsize = (7.0, 2.3 * nrows + 0.9)
    with rc():
        if ax is None:
            fig = new_figure(figsize, dpi)
            axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
            flat_axes = list(axes.ravel())
        else:
            fig = ax.figure
            flat_axes = [ax]
        panel_w = fig.get_figwidth() * 72.0 / ncols  # points
        handles: list = []
        if ax is not None:
            for r in views:
                st = colors.style_for(r.key, r.variant)
                _plot_coordinates(ax, _positive(rates[id(r)]), st["color"])
                handles.append(Line2D([], [], color=st["color"], linewidth=1.7, label=r.label))
            handles += _coordinate_handles(names, n)
        elif per == "optimizer":
            for pax, r in zip(flat_axes, views, strict=False):
                st = colors.style_for(r.key, r.variant)
                _plot_coordinates(pax, _positive(rates[id(r)]), st["color"])
                # long labels (all hyperparameters) wrap to the panel's width
                lines = wrap_to_width(r.legend_label, 0.82 * panel_w, 9.5, max_lines=3)
                pax.set_title("\n".join(lines), fontsize=9.5, color=st["color"])
            handles += _coordinate_handles(names, n)
        else:
            for j, pax in zip(range(n), flat_axes, strict=False):
                for r in views:
                    if j >= rates[id(r)].shape[1]:
                        continue
                    st = colors.style_for(r.key, r.variant)
                    E = _positive(rates[id(r)][:, j])
                    pax.plot(
                        np.arange(1, len(E) + 1),
                        E,
                        color=st["color"],
                        linestyle=st["linestyle"],
                        linewidth=1.7,
                    )
                pax.set_title(f"coordinate {names[j]}", fontsize=10)
            for r in views:
                st = colors.style_for(r.key, r.variant)
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=st["color"],
                        linestyle=st["linestyle"],
                        linewidth=1.7,
                        label=r.legend_label,
                    )
                )
        for i, pax in enumerate(flat_axes):
            if i >= k:
                pax.set_visible(False)
                continue
            if any(np.isfinite(_positive(rates[id(r)])).any() for r in views):
                pax.set_yscale("log")
            finish_axes(pax, grid=True)
            if i // ncols == nrows - 1 or i + ncols >= k:
                pax.set_xlabel("step $t$")
                pax.xaxis.set_tick_params(labelbottom=True)
            if i % ncols == 0 and nrows == 1:
                pax.set_ylabel(RATE_QUANTITIES[quantity])
        if nrows > 1:  # one label for the rows (one per row would overlap its neighbours)
            fig.supylabel(RATE_QUANTITIES[quantity], fontsize=11)
        if ax is not None:
            if title:
                ax.set_title("\n".join(wrap_to_width(title, 0.9 * panel_w, 10, 3)), fontsize=10)
            ax.legend(handles=handles, fontsize=8, frameon=False)
        else:
            if title:
                width = 0.9 * fig.get_figwidth() * 72.0
                fig.suptitle("\n".join(wrap_to_width(title, width, 11, 3)), fontsize=11)
            legend_below(fig, handles, grow=True)
    return fig


def _plot_coordinates(ax: Any, E: Array, color: Any) -> None:
    """One run's per-coordinate rates ``E`` (steps, n) against the step, in one colour,
    the coordinates told apart by line style (as :func:`_coordinate_handles` labels them)."""
    t = np.arange(1, len(E) + 1)
    for j in range(E.shape[1]):
        ax.plot(
            t, E[:, j], color=color, linestyle=COORD_STYLES[j % len(COORD_STYLES)], linewidth=1.7
        )
        lone = isolated(E[:, j])
        if lone.any():  # a value with no finite neighbour draws no line: mark it
            ax.plot(t[lone], E[lone, j], color=color, marker="o", markersize=4, linestyle="none")


def isolated(y: Array) -> Array:
    """Where ``y`` is finite but neither neighbour is (a line through it draws nothing)."""
    ok = np.isfinite(y)
    left = np.concatenate([[False], ok[:-1]])
    right = np.concatenate([ok[1:], [False]])
    return ok & ~left & ~right


def _coordinate_handles(names: list[str], n: int) -> list:
    return [
        Line2D(
            [],
            [],
            color="0.2",
            linestyle=COORD_STYLES[j % len(COORD_STYLES)],
            linewidth=1.7,
            label=f"coordinate {names[j]}",
        )
        for j in range(n)
    ]


def _variables_of(runs: Any, n: int) -> list[str]:
    items = (
        runs.values() if isinstance(runs, dict) else ([runs] if hasattr(runs, "points") else runs)
    )
    for item in items:
        traj = item[1] if isinstance(item, tuple) else item
        v = getattr(traj, "variables", None)
        if v and len(v) == n:
            return list(v)
    return [f"x{j + 1}" for j in range(n)]


# -- learning-rate sweep ------------------------------------------------------------------------
def _is_trajectory(obj: Any) -> bool:
    return hasattr(obj, "hyperparameters") and hasattr(obj, "final_loss")


def _per_run(v: Any, R: int) -> Array | None:
    """``v`` as R per-run values when it gives one value per run, else None."""
    if isinstance(v, (list, tuple, np.ndarray)) and np.ndim(v) == 1 and len(v) == R:
        return np.asarray(v)
    return None


def sweep_series(traj: Any) -> dict[str, Array]:
    """What else varies across the runs of a batched trajectory besides ``lr``: each other
    hyperparameter given one value per run with several distinct values, and the start
    (``start``: the text ``(x, y)`` of each run's first point) when the runs start apart.
    One line of an lr-sweep figure per combination of them."""
    lrs = np.atleast_1d(np.asarray(traj.hyperparameters.get("lr"), dtype=float))
    R = lrs.size
    out: dict[str, Array] = {}
    for key, v in (traj.hyperparameters or {}).items():
        vals = _per_run(v, R) if key != "lr" else None
        if vals is not None and len({repr(x) for x in vals.tolist()}) > 1:
            out[key] = vals
    pts = getattr(traj, "points", None)
    if pts is not None and np.ndim(pts) == 3 and len(pts) == R:
        from optiviz._format import fmt_point

        x0 = [fmt_point(p, 4) for p in np.asarray(pts)[:, 0]]
        if len(set(x0)) > 1:
            out["start"] = np.asarray(x0, dtype=object)
    return out


def _sweep_medians(lrs: Array, finals: Any, statuses: Any, series: dict, N: int) -> tuple:
    """Repeats (runs ``j N .. j N + N - 1`` one setting over N seeds) as one point per
    setting: its median final loss (+inf if half or more diverged: "diverged"), the band's
    (q10, q90), and the settings' learning rates and series."""
    from optiviz._stats import BAND

    F = np.asarray(finals, dtype=float).reshape(-1, N).T  # seeds x settings
    st = np.asarray(statuses).astype(str).reshape(-1, N).T
    F = np.where(st == "diverged", np.inf, F)
    med = quantile_rows(F, 0.5)
    band = (quantile_rows(F, BAND[0]), quantile_rows(F, BAND[1]))
    status = np.where(np.isfinite(med), "max_steps", "diverged")
    series = {k: np.asarray(v, dtype=object).reshape(-1)[::N] for k, v in series.items()}
    return np.asarray(lrs)[::N], med, status, series, band


def _series_name(key: str, value: Any) -> str:
    if key == "start":
        return f"from {value}"
    if isinstance(value, (float, np.floating)):
        return f"{key}={float(value):.4g}"
    return f"{key}={value}"


def lr_sweep(
    lrs: Any,
    final_losses: Any = None,
    statuses: Any = None,
    *,
    series: dict | None = None,
    label: str | None = None,
    f_min: float | None = None,
    stability_limit: float | None = None,
    eta_opt: float | None = None,
    title: str | bool | None = None,
    colors: ColorMap | None = None,
    figsize: tuple[float, float] = (7.0, 4.8),
    dpi: float = DPI,
    stability_label: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Final loss (``f - f*`` when ``f_min`` is given) against the learning rate, log-log.

    A trajectory of repeats (``seeds``, :meth:`~optiviz.trajectory.Trajectory.stack`) is
    drawn per setting as the median final loss over its seeds with a q10..q90 band (a
    diverged run counts as +inf: a median that diverged is a triangle on the top edge).

    ``lr_sweep(traj)``: a batched :class:`~optiviz.trajectory.Trajectory` whose ``lr`` is
    an array of values (a grid), like the other figures take it: the learning rates, final
    losses, statuses, ``f*`` and label are read from it, and :func:`sweep_series` tells
    what else varies. Or the arrays: ``lr_sweep(lrs, final_losses, statuses)``.

    ``series``: ``{name: one value per run}`` for what else the grid varies (a second
    hyperparameter, the start): one line per combination of values, each labelled
    (``momentum=0.9``) in its own colour, never one zig-zag line through all the runs.

    Runs whose status is ``"diverged"`` (or whose final loss is not finite) are drawn as
    triangles on the top edge, in their line's colour. ``eta_opt`` (``1/lambda_max``) and
    ``stability_limit`` are drawn as vertical lines. The stability limit is the swept
    method's own: GD's ``2/lambda_max`` by default; pass ``stability_label`` (math text
    allowed) with another limit, e.g. heavy ball's ``(2 + 2 beta)/lambda_max``::

        lr_sweep(lrs, losses, statuses, stability_limit=(2 + 2 * 0.9) / lam_max,
                 stability_label=r"$(2 + 2\\beta)/\\lambda_{max}$ (heavy ball)")

    The legend reads ``stability limit <label> = <value>``. A title is wrapped to the
    figure's width. ``ax``: an Axes to draw into (its figure is returned; the legend goes
    below it); default a new figure of ``figsize`` and ``dpi``.
    """
    band = None  # repeats: the (q10, q90) final losses of each setting
    if _is_trajectory(lrs):
        traj = lrs
        if "lr" not in (traj.hyperparameters or {}):
            raise OptivizError("lr_sweep needs a trajectory with an lr hyperparameter")
        lrs = np.atleast_1d(np.asarray(traj.hyperparameters["lr"], dtype=float))
        final_losses = np.atleast_1d(np.asarray(traj.final_loss, dtype=float))
        if lrs.size == 1 and final_losses.size > 1:
            lrs = np.full(final_losses.size, lrs[0])
        statuses = np.atleast_1d(np.asarray(traj.status)) if statuses is None else statuses
        f_min = traj.f_min if f_min is None else f_min
        label = (getattr(traj, "optimizer_label", "") or traj.optimizer) if label is None else label
        series = sweep_series(traj) if series is None else series
        N = len(getattr(traj, "seeds", None) or ())
        if N > 1 and lrs.size % N == 0:  # repeats: each setting's median over its seeds
            lrs, final_losses, statuses, series, band = _sweep_medians(
                lrs, final_losses, statuses, series, N
            )
            label = f"{label}: median of {N} seeds"
    if final_losses is None:
        raise OptivizError("lr_sweep needs final_losses (or a trajectory as first argument)")
    label = "final loss" if label is None else label
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    fl = np.asarray(final_losses, dtype=float).reshape(-1)
    if lrs.shape != fl.shape:
        raise OptivizError(
            f"lrs and final_losses must have the same length; got {lrs.size} and {fl.size}"
        )
    if np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
        raise OptivizError("learning rates must be positive and finite for a log axis")
    if statuses is None:
        diverged = ~np.isfinite(fl)
    else:
        st = np.asarray(statuses).astype(str).reshape(-1)
        if st.shape != lrs.shape:
            raise OptivizError("statuses must have one entry per learning rate")
        diverged = (st == "diverged") | ~np.isfinite(fl)
    series = {k: np.asarray(v, dtype=object).reshape(-1) for k, v in (series or {}).items()}
    for k, v in series.items():
        if v.shape != lrs.shape:
            raise OptivizError(f"series {k!r} must have one value per learning rate")
    colors = colors if colors is not None else ColorMap()
    y = fl.copy()
    if f_min is not None:
        with np.errstate(all="ignore"):
            y = y - f_min
    # one line per combination of the other swept values, in order of first appearance
    keys = [tuple(v[i] for v in series.values()) for i in range(lrs.size)]
    combos = list(dict.fromkeys(keys))
    with rc():
        own = ax is None
        fig, ax = figure_and_axes(ax, figsize, dpi)
        ok = ~diverged & np.isfinite(y)
        pos = ok & (y > 0)
        handles = []
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        for j, combo in enumerate(combos):
            idx = np.array([i for i, k in enumerate(keys) if k == combo], dtype=int)
            name = ", ".join(_series_name(k, v) for k, v in zip(series, combo, strict=True))
            line_label = f"{label}, {name}" if name else label
            st_ = colors.style_for(line_label, j // len(colors.palette))
            order = idx[np.argsort(lrs[idx], kind="stable")]
            if band is not None:
                lo, hi = (b - f_min if f_min is not None else b for b in band)
                ax.fill_between(
                    lrs[order],
                    np.where(np.isfinite(lo) & (lo > 0), lo, np.nan)[order],
                    np.where(np.isfinite(hi) & (hi > 0), hi, np.nan)[order],
                    color=st_["color"],
                    alpha=0.2,
                    linewidth=0,
                    zorder=2,
                )
            ax.plot(
                lrs[order],
                np.where(pos, y, np.nan)[order],
                color=st_["color"],
                linestyle=st_["linestyle"],
                marker=st_["marker"],
                markersize=5,
                linewidth=1.6,
                zorder=3,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st_["color"],
                    linestyle=st_["linestyle"],
                    marker=st_["marker"],
                    markersize=5,
                    label=line_label,
                )
            )
            div = idx[diverged[idx]]
            if div.size:  # on the top edge; several lines' markers stacked below it
                ax.plot(
                    lrs[div],
                    np.full(div.size, 1.0 - 0.04 * j),
                    marker="^",
                    markersize=8,
                    color=DIVERGED_COLOR if len(combos) == 1 else st_["color"],
                    markeredgecolor=DIVERGED_COLOR,
                    linestyle="none",
                    transform=trans,
                    clip_on=False,
                    zorder=5,
                )
        ax.set_xscale("log")
        if pos.any():
            ax.set_yscale("log")
        zero = ok & (y <= 0)
        if zero.any():
            ax.plot(
                lrs[zero],
                np.zeros(zero.sum()),
                marker="v",
                markersize=8,
                color="0.2",
                linestyle="none",
                transform=trans,
                clip_on=False,
                zorder=5,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="v",
                    color="0.2",
                    linestyle="none",
                    label="reached $f^*$ (to rounding)" if f_min is not None else "final loss ≤ 0",
                )
            )
        if diverged.any():
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="^",
                    color=DIVERGED_COLOR,
                    linestyle="none",
                    markersize=7,
                    label=f"diverged ({int(diverged.sum())})"
                    + (" (filled in its line's colour)" if len(combos) > 1 else ""),
                )
            )
        if eta_opt is not None:
            ax.axvline(eta_opt, color="0.15", linestyle="--", linewidth=1.2, zorder=2)
            handles.append(
                Line2D(
                    [],
                    [],
                    color="0.15",
                    linestyle="--",
                    linewidth=1.2,
                    label=f"$\\eta_{{opt}} = 1/\\lambda_{{max}}$ = {eta_opt:.4g}",
                )
            )
        if stability_limit is not None:
            ax.axvline(
                stability_limit, color=DIVERGED_COLOR, linestyle=":", linewidth=1.6, zorder=2
            )
            what = stability_label if stability_label else "$2/\\lambda_{max}$"
            handles.append(
                Line2D(
                    [],
                    [],
                    color=DIVERGED_COLOR,
                    linestyle=":",
                    linewidth=1.6,
                    label=f"stability limit {what} = {stability_limit:.4g}",
                )
            )
        ax.set_xlabel("learning rate $\\eta$")
        ax.set_ylabel("final $f - f^*$" if f_min is not None else "final $f$")
        if isinstance(title, str) and title:
            width = 0.92 * fig.get_figwidth() * 72.0
            size = float(mpl.rcParams["axes.titlesize"])
            ax.set_title("\n".join(wrap_to_width(title, width, size, 3)), fontsize=size)
        finish_axes(ax, grid=True)
        legend_below(fig, handles, ax=None if own else ax, grow=own)
    return fig


# -- sharpness (edge of stability) ----------------------------------------------------------------
def sharpness(
    trajectory: Any,
    lr: float,
    lambda_max_along_path: Any,
    *,
    title: str | bool | None = None,
    colors: ColorMap | None = None,
    f_min: float | None = None,
    figsize: tuple[float, float] = FIGSIZE,
    dpi: float = DPI,
    ax: Axes | None = None,
) -> Figure:
    """Edge of stability: the largest Hessian eigenvalue along the path against ``2/lr``.

    ``lambda_max_along_path`` has one value per iterate (from the analysis); the top panel
    shows the loss (``f - f*`` with ``f_min``) when the trajectory has losses.

    ``ax``: a subplot to draw into (its figure is returned); with losses its slot is split
    into the two panels, ``ax`` becoming the loss panel. Default a new figure of
    ``figsize`` and ``dpi``.
    """
    groups = normalize([trajectory])
    r = groups[0].runs[0]
    lam = np.asarray(lambda_max_along_path, dtype=float).reshape(-1)
    if not (lr > 0 and math.isfinite(lr)):
        raise OptivizError(f"lr must be a positive number; got {lr!r}")
    colors = colors if colors is not None else ColorMap()
    st = colors.style_for(r.key, r.variant)
    with rc():
        own = ax is None
        has_loss = r.losses is not None
        if has_loss:
            fig = new_figure(figsize, dpi) if ax is None else figure_of(ax)
            ax_l, ax = panels(fig, ax, 2, 1, sharex=True, height_ratios=[1, 1.3])[:, 0]
            fm = f_min if f_min is not None else r.f_min
            losses = np.asarray(r.losses, dtype=float)
            y = losses - fm if fm is not None else losses
            ax_l.plot(
                np.arange(len(y)),
                _masked(np.asarray(y, float), False),
                color=st["color"],
                linewidth=1.6,
            )
            if np.isfinite(_masked(np.asarray(y, float), False)).any():
                ax_l.set_yscale("log")
            ax_l.set_ylabel("$f - f^*$" if fm is not None else "$f$")
            finish_axes(ax_l, grid=True)
        else:
            fig, ax = figure_and_axes(ax, figsize, dpi)
        t = np.arange(len(lam))
        ax.plot(
            t,
            np.where(np.isfinite(lam), lam, np.nan),
            color=st["color"],
            linewidth=1.7,
            label=f"$\\lambda_{{max}}(\\nabla^2 f(x_t))$: {r.legend_label}",
        )
        ax.axhline(
            2.0 / lr,
            color=DIVERGED_COLOR,
            linestyle="--",
            linewidth=1.4,
            label=f"$2/\\eta$ = {2.0 / lr:.4g}  (GD stability threshold)",
        )
        ax.set_xlabel("step $t$")
        ax.set_ylabel("sharpness $\\lambda_{max}$")
        finish_axes(ax, grid=True)
        if isinstance(title, str) and own:
            fig.suptitle(title)
        elif isinstance(title, str):  # the caller's figure: the title of the top panel
            (ax_l if has_loss else ax).set_title(title)
        legend_below(fig, ax.get_lines(), ax=None if own else ax)
    return fig
