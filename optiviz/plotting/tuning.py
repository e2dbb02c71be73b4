"""Figures of a tuning (:class:`~optiviz.tuning.TuneResult`): the objective against each
searched hyperparameter, the tuning curve, and the final comparison of the tuned settings."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optiviz._format import fmt_number
from optiviz.plotting.style import (
    DPI,
    ColorMap,
    figure_of,
    finish_axes,
    legend_below,
    new_figure,
    panels,
    rc,
)

__all__ = ["tune_comparison", "tune_curve", "tune_sensitivity"]

#: How each objective is named on an axis, and whether its values want a log axis.
_AXIS = {
    "final_loss": ("final loss $f(x_T)$", True),
    "best_loss": ("best loss $\\min_t f(x_t)$", True),
    "steps_to_tol": ("steps to the tolerance", False),
    "area": ("mean $\\log_{10}(f(x_t) - f^*)$ over steps", False),
}


def objective_label(objective: str, f_min: float | None = None) -> str:
    """The axis label of an objective (a loss minus f* when f* is given)."""
    text, _ = _AXIS.get(objective, (objective, False))
    if f_min is not None and objective in ("final_loss", "best_loss"):
        text = text.replace("$f(x_T)$", "$f(x_T) - f^*$").replace(
            "$\\min_t f(x_t)$", "$\\min_t f(x_t) - f^*$"
        )
    return text


def _shown(values: np.ndarray, objective: str, f_min: float | None) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if f_min is not None and objective in ("final_loss", "best_loss"):
        with np.errstate(invalid="ignore"):
            v = v - f_min
    return v


def _log_y(values: np.ndarray, objective: str) -> bool:
    finite = values[np.isfinite(values)]
    return bool(_AXIS.get(objective, ("", False))[1] and finite.size and finite.min() > 0)


def _setting_text(t: Any) -> str:
    """``lr=0.0123, momentum=0.91`` of an optimizer's best trial (its searched values)."""
    row = t.values[t.best]
    return ", ".join(
        f"{n}={fmt_number(float(v), 3)}" for n, v in zip(t.space.names, row, strict=True)
    )


def tune_sensitivity(
    tuning: Any,
    *,
    f_min: float | None = None,
    title: str | bool | None = None,
    caption: str = "",
    colors: ColorMap | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Any = None,
) -> Figure:
    """The objective of every trial against each searched hyperparameter: one row of
    panels per optimizer, one panel per hyperparameter (log x for a log-uniform one), the
    best trial a large star, diverged trials (objective inf) as triangles on the top edge.
    ``f_min``: loss objectives are drawn as ``f - f*``. ``ax``: its slot is split into the
    panels."""
    colors = colors if colors is not None else ColorMap()
    opts = list(tuning.optimizers)
    rows = max(len(opts), 1)
    cols = max((t.space.d for t in opts), default=1)
    size = figsize or (min(max(3.0 * cols + 1.2, 7.0), 12.0), min(2.3 * rows + 1.4, 16.0))
    with rc():
        fig = new_figure(size, dpi) if ax is None else figure_of(ax)
        axes = panels(fig, ax, rows, cols)
        for i, t in enumerate(opts):
            color = colors.color_for(t.run_label)
            y = _shown(t.objectives, tuning.objective, f_min)
            finite = np.isfinite(y)
            logy = _log_y(y, tuning.objective)
            top = _top(y[finite], logy)
            fin = y[finite]
            wide = logy and fin.size > 0 and fin.max() > 100 * fin.min()  # two decades
            for j in range(cols):
                a = axes[i, j]
                if j >= t.space.d:
                    a.set_visible(False)
                    continue
                dim = t.space.dimensions[j]
                x = t.values[:, j]
                a.scatter(x[finite], y[finite], s=14, color=color, alpha=0.75, linewidths=0)
                if (~finite).any():
                    a.scatter(
                        x[~finite],
                        np.full((~finite).sum(), top),
                        marker="^",
                        s=18,
                        facecolors="none",
                        edgecolors="#5D5D5D",
                        linewidths=0.8,
                    )
                if np.isfinite(y[t.best]):
                    a.scatter(
                        [x[t.best]],
                        [y[t.best]],
                        marker="*",
                        s=120,
                        color=color,
                        edgecolors="black",
                        linewidths=0.7,
                        zorder=5,
                    )
                if dim.scale == "log":
                    a.set_xscale("log")
                if logy:
                    a.set_yscale("log")
                a.set_xlabel(dim.name)
                if j == 0:
                    a.set_ylabel(f"{t.label}\n{objective_label(tuning.objective, f_min)}")
                if wide:  # many small log panels: minor ticks cost more than they show
                    a.minorticks_off()
                finish_axes(a)
                a.grid(True, which="major", alpha=0.3, linewidth=0.6)
        handles = [
            Line2D([], [], marker="o", linestyle="none", color="#5D5D5D", label="a trial"),
            Line2D(
                [],
                [],
                marker="*",
                markersize=11,
                linestyle="none",
                color="#5D5D5D",
                markeredgecolor="black",
                label="the best trial",
            ),
            Line2D(
                [],
                [],
                marker="^",
                linestyle="none",
                markerfacecolor="none",
                markeredgecolor="#5D5D5D",
                label="diverged (drawn at the top edge)",
            ),
        ]
        legend_below(fig, handles, max_cols=3)
        _title(
            fig,
            title,
            f"Sensitivity: {tuning.objective} of the {tuning.spec.budget} "
            f"{tuning.spec.sampler} trials per optimizer",
            caption,
        )
    return fig


def _top(finite: np.ndarray, logy: bool) -> float:
    """Where the diverged trials are drawn: just above the finite ones."""
    if not finite.size:
        return 1.0
    hi, lo = float(finite.max()), float(finite.min())
    if logy:
        return hi * (hi / lo) ** 0.08 if hi > lo else hi * 2.0
    return hi + 0.08 * (hi - lo if hi > lo else max(abs(hi), 1.0))


def _title(fig: Figure, title: Any, default: str, caption: str) -> None:
    if title is False:
        return
    text = title if isinstance(title, str) else default + (f"\n{caption}" if caption else "")
    fig.suptitle(text)


def tune_curve(
    tuning: Any,
    *,
    f_min: float | None = None,
    title: str | bool | None = None,
    caption: str = "",
    colors: ColorMap | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Any = None,
) -> Figure:
    """The tuning curve of every optimizer: the expected best objective of k trials drawn
    at random without replacement from its trials (exact, :mod:`optiviz.tuning.curve`)
    against k, with the band between the 10% and 90% quantiles of that best. Expected
    values that are infinite (k trials may all have diverged) are left out of the line."""
    colors = colors if colors is not None else ColorMap()
    curves = [(t, t.curve()) for t in tuning.optimizers]
    with rc():
        fig = new_figure(figsize or (7.0, 5.2), dpi) if ax is None else figure_of(ax)
        a = ax if ax is not None else fig.add_subplot()
        allv = []
        handles = []
        for t, c in curves:
            color = colors.color_for(t.run_label)
            e = _shown(c.expected, tuning.objective, f_min)
            lo = _shown(c.low, tuning.objective, f_min)
            hi = _shown(c.high, tuning.objective, f_min)
            ok = np.isfinite(e)
            band = np.isfinite(lo) & np.isfinite(hi)
            a.fill_between(c.k, lo, hi, where=band, color=color, alpha=0.15, linewidth=0)
            (line,) = a.plot(
                c.k[ok],
                e[ok],
                color=color,
                marker=colors.marker_for(t.run_label),
                markevery=_markevery(int(ok.sum())),
                markersize=4,
                label=f"{t.label}: best {fmt_number(t.best_objective, 4)} ({_setting_text(t)})",
            )
            handles.append(line)
            allv += [e[ok], lo[band], hi[band]]
        v = np.concatenate(allv) if allv else np.empty(0)
        if _log_y(v, tuning.objective):
            a.set_yscale("log")
        a.set_xscale("log")
        n = int(max((c.k[-1] for _, c in curves), default=1))
        ticks = [2**i for i in range(n.bit_length()) if 2**i <= n]
        a.set_xticks(ticks, [str(v) for v in ticks])
        a.minorticks_off()
        a.set_xlabel("number of trials k")
        a.set_ylabel(f"expected best {objective_label(tuning.objective, f_min)}")
        finish_axes(a, grid=True)
        band_handle = Line2D([], [], color="#5D5D5D", alpha=0.3, linewidth=6)
        band_handle.set_label("10%-90% quantiles of the best of k")
        legend_below(fig, [*handles, band_handle], max_cols=1, ax=a, grow=ax is None)
        _title(
            fig,
            title,
            f"Tuning curve: the expected best of k of the {tuning.spec.budget} trials "
            "(drawn without replacement)",
            caption,
        )
    return fig


def _markevery(n: int) -> int:
    return max(1, n // 8)


def tune_comparison(
    trajectories: Any,
    tuning: Any,
    *,
    f_min: float | None = None,
    title: str | bool | None = None,
    caption: str = "",
    colors: ColorMap | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
) -> Figure:
    """The final comparison: the tuned settings' runs (``trajectories``, one per optimizer,
    the ordinary experiment of the tuned config) as loss curves, beside each optimizer's
    best objective (bars, best first)."""
    from optiviz.plotting.curves import loss

    colors = colors if colors is not None else ColorMap()
    with rc():
        fig = new_figure(figsize or (11.0, 5.6), dpi)
        left, right = fig.subplots(1, 2, width_ratios=[1.6, 1.0])
        if trajectories and all(getattr(t, "losses", None) is not None for t in trajectories):
            loss(trajectories, f_min=f_min, colors=colors, title=False, ax=left)
            drawn = left.get_legend()
            if drawn is not None:  # one legend under both panels, fitted to the figure
                handles = list(drawn.legend_handles)
                for h, text in zip(handles, drawn.get_texts(), strict=True):
                    h.set_label(text.get_text())
                drawn.remove()
                legend_below(fig, handles, max_cols=2)
        else:
            left.set_visible(False)
        order = sorted(tuning.optimizers, key=lambda t: t.best_objective)
        vals = np.array(
            [_shown(np.array([t.best_objective]), tuning.objective, f_min)[0] for t in order]
        )
        finite = np.isfinite(vals)
        logx = _log_y(vals, tuning.objective)
        shown = np.where(finite, vals, _top(vals[finite], logx) if finite.any() else 1.0)
        ypos = np.arange(len(order))[::-1]
        base = float(shown[finite].min()) / 3 if logx and finite.any() else 0.0
        for y, t, v, ok in zip(ypos, order, shown, finite, strict=True):
            color = colors.color_for(t.run_label)
            right.barh(
                y,
                v - base,
                left=base,
                color=color if ok else "none",
                edgecolor=color,
                hatch=None if ok else "//",
                height=0.6,
            )
            right.text(
                v,
                y,
                f" {fmt_number(float(t.best_objective), 3)}" if ok else " diverged",
                va="center",
                fontsize=8,
            )
        right.set_yticks(ypos, [t.label for t in order])
        if logx:
            right.set_xscale("log")
        right.set_xlabel(f"best {objective_label(tuning.objective, f_min)}")
        right.margins(x=0.25)
        finish_axes(right, grid=True)
        right.set_axisbelow(True)
        _title(
            fig,
            title,
            f"Tuned comparison: each optimizer at its best of {tuning.spec.budget} "
            f"{tuning.spec.sampler} trials by {tuning.objective}",
            caption,
        )
    return fig
