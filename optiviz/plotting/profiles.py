"""Moré-Wild performance profiles and data profiles (the numbers: optiviz.suite.profiles).

Both are step functions, one per solver in its :class:`~optiviz.plotting.style.ColorMap`
colour and marker, with the legend below the plot. The performance profile's tau axis is
log2 (ratios 1, 2, 4, ...); the data profile's budget axis is linear in units of n_p + 1
steps, as Moré-Wild draw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optiviz.plotting.style import (
    DPI,
    FIGSIZE,
    ColorMap,
    figure_and_axes,
    finish_axes,
    legend_below,
    rc,
)


def tau_grid(ratios: np.ndarray, tau_max: float | None = None) -> np.ndarray:
    """The taus a performance profile is drawn at: 1, every finite ratio, and ``tau_max``
    (default: twice the largest finite ratio, at least 2, so every curve's last step and
    its plateau show)."""
    from optiviz.suite.profiles import profile_breaks

    br = profile_breaks(ratios)
    top = float(tau_max) if tau_max is not None else max(2.0, 2.0 * float(br.max(initial=1.0)))
    return np.unique(np.concatenate([[1.0], br[br <= top], [top]]))


def alpha_grid(costs: np.ndarray, n: np.ndarray, alpha_max: float) -> np.ndarray:
    """The budgets a data profile is drawn at: 0, every t / (n_p + 1), and ``alpha_max``."""
    from optiviz.suite.profiles import profile_breaks

    t = np.asarray(costs, dtype=float) / (np.asarray(n, dtype=float).reshape(-1, 1) + 1)
    br = profile_breaks(t)
    return np.unique(np.concatenate([[0.0], br[br <= alpha_max], [alpha_max]]))


def _draw_steps(ax: Axes, x: np.ndarray, curves: np.ndarray, labels: Sequence[str], colors):
    handles = []
    for k, label in enumerate(labels):
        st = colors.style_for(label)
        (h,) = ax.step(
            x,
            curves[k],
            where="post",
            color=st["color"],
            marker=st["marker"],
            markevery=_markevery(curves[k]),
            markersize=4.5,
            label=label,
            # later solvers a hair thinner so coinciding curves stay visible
            linewidth=2.2 - 1.0 * k / max(len(labels) - 1, 1),
            alpha=0.95,
        )
        handles.append(h)
    return handles


def _markevery(y: np.ndarray) -> list[int]:
    """Markers where the curve steps up (at most a dozen): a second cue beside colour."""
    ups = np.flatnonzero(np.diff(np.concatenate([[-1.0], y])) > 0)
    if ups.size > 12:
        ups = ups[np.linspace(0, ups.size - 1, 12).round().astype(int)]
    return [int(i) for i in ups]


def performance_profile(
    costs: Any,
    labels: Sequence[str],
    *,
    tau_max: float | None = None,
    title: str | bool | None = None,
    colors: ColorMap | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Axes | None = None,
) -> Figure:
    """The performance profile rho_s(tau) of the cost table ``costs`` (problems x solvers,
    inf or nan: failed) for the solvers ``labels``, tau from 1 to ``tau_max`` on a log2
    axis. ``title``: a string, False for none; default one naming the problems."""
    from optiviz.suite.profiles import performance_profile as rho
    from optiviz.suite.profiles import performance_ratios

    t = np.asarray(costs, dtype=float)
    colors = colors if colors is not None else ColorMap()
    taus = tau_grid(performance_ratios(t), tau_max)
    curves = rho(t, taus)
    with rc():
        fig, ax = figure_and_axes(ax, figsize or FIGSIZE, dpi)
        handles = _draw_steps(ax, taus, curves, labels, colors)
        ax.set_xscale("log", base=2)
        ax.set_xlim(1.0, float(taus[-1]))
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(r"performance ratio $\tau$ (log$_2$ scale): cost within $\tau$ x the best")
        ax.set_ylabel(r"$\rho_s(\tau)$: fraction of problems with $r_{p,s} \leq \tau$")
        if title is not False:
            ax.set_title(
                title
                if isinstance(title, str)
                else f"Performance profile over {t.shape[0]} problems"
            )
        finish_axes(ax, grid=True)
        legend_below(fig, handles, ax=ax, grow=True)
    return fig


def data_profile(
    costs: Any,
    n: Any,
    labels: Sequence[str],
    *,
    alpha_max: float,
    unit: str = "steps",
    title: str | bool | None = None,
    colors: ColorMap | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    ax: Axes | None = None,
) -> Figure:
    """The data profile d_s(alpha) of ``costs`` (problems x solvers, in ``unit``) with
    ``n[p]`` variables per problem, alpha from 0 to ``alpha_max`` (the budget in units of
    n_p + 1 of ``unit``)."""
    from optiviz.suite.profiles import data_profile as d

    t = np.asarray(costs, dtype=float)
    colors = colors if colors is not None else ColorMap()
    alphas = alpha_grid(t, np.asarray(n), alpha_max)
    curves = d(t, n, alphas)
    with rc():
        fig, ax = figure_and_axes(ax, figsize or FIGSIZE, dpi)
        handles = _draw_steps(ax, alphas, curves, labels, colors)
        ax.set_xlim(0.0, float(alpha_max))
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(rf"budget $\alpha$: {unit} / $(n_p + 1)$")
        ax.set_ylabel(r"$d_s(\alpha)$: fraction of problems solved within $\alpha$")
        if title is not False:
            ax.set_title(
                title if isinstance(title, str) else f"Data profile over {t.shape[0]} problems"
            )
        finish_axes(ax, grid=True)
        legend_below(fig, handles, ax=ax, grow=True)
    return fig
