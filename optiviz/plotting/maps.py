"""Maps over two hyperparameters (:func:`rate_map`) and eigen-mode curves (:func:`modes`).

A rate map is drawn as images (``pcolormesh``: one quad mesh, however many cells), in
viridis; diverged cells are grey, cells without a measured value white. Where the
optimizer's linear theory applies, both panels carry the stability boundary (theory rate =
1), the critical-damping curves at lambda_min and lambda_max, the optimal pair, and the
theory panel names the regimes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from optiviz.plotting.style import (
    DPI,
    FIGSIZE,
    PALETTE,
    figure_and_axes,
    finish_axes,
    legend_below,
    math_name,
    new_figure,
    panels,
    rc,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from optiviz.analysis.maps import Axis, RateMap
    from optiviz.analysis.modes import Modes

__all__ = ["rate_map", "modes", "axis_label"]

#: Diverged cells.
DIVERGED_GREY = "#7F7F7F"
_QUANTITY_LABEL = {
    "rate": "measured rate per step (error factor)",
    "steps_to_tol": "steps to tolerance",
    "final_loss": "final loss f - f*",
}
#: What each hyperparameter is called on an axis, beyond its name (the torch names).
_SYMBOL = {
    "lr": "\\eta",
    "momentum": "\\beta",
    "beta1": "\\beta_1",
    "betas[0]": "\\beta_1",
    "betas[1]": "\\beta_2",
    "beta2": "\\beta_2",
    "eps": "\\epsilon",
    "alpha": "\\alpha",
    "rho": "\\rho",
}


def axis_label(name: str) -> str:
    """``lr ($\\eta$)``: the hyperparameter's name and, where it has one, its symbol."""
    sym = _SYMBOL.get(name) or math_name(name)
    return f"{name} (${sym}$)" if sym and sym != name else name


def _edges(axis: Axis) -> np.ndarray:
    """Cell edges of an axis: midpoints (in log space for a log axis), ends extrapolated."""
    v = np.asarray(axis.values, dtype=float)
    if v.size == 1:
        return (
            np.array([v[0] * 0.9, v[0] * 1.1]) if axis.log else np.array([v[0] - 0.5, v[0] + 0.5])
        )
    u = np.log10(v) if axis.log else v
    mid = (u[1:] + u[:-1]) / 2
    e = np.concatenate([[u[0] - (mid[0] - u[0])], mid, [u[-1] + (u[-1] - mid[-1])]])
    return 10.0**e if axis.log else e


def _mesh(ax: Any, m: RateMap, values: np.ndarray, *, log: bool, vmin=None, vmax=None):
    from matplotlib.colors import LogNorm, Normalize

    finite = values[np.isfinite(values)]
    if log:
        finite = finite[finite > 0]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 1e-16)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if hi <= lo:
        hi = lo * 10 if log else lo + 1
    norm = LogNorm(lo, hi) if log else Normalize(lo, hi)
    shown = np.ma.masked_invalid(np.where(values > 0, values, np.nan) if log else values)
    mesh = ax.pcolormesh(
        _edges(m.x),
        _edges(m.y),
        shown,
        cmap="viridis",
        norm=norm,
        shading="flat",
        rasterized=True,
    )
    div = np.ma.masked_where(~m.diverged, np.ones(m.diverged.shape))
    if m.diverged.any():
        from matplotlib.colors import ListedColormap

        ax.pcolormesh(
            _edges(m.x),
            _edges(m.y),
            div,
            cmap=ListedColormap([DIVERGED_GREY]),
            shading="flat",
            rasterized=True,
        )
    return mesh


def _overlay(ax: Any, m: RateMap, handles: list | None) -> None:
    """The theory on top of a panel; appends legend handles once (``handles`` not None)."""
    from matplotlib.lines import Line2D

    th = m.theory
    if th is None:
        return
    XX, YY = np.meshgrid(m.x.values, m.y.values, indexing="xy")
    rate = np.where(np.isfinite(th.rate), th.rate, 1e6)
    if (rate < 1).any() and (rate > 1).any():
        ax.contour(XX, YY, rate, levels=[1.0], colors="black", linewidths=1.8)
        if handles is not None:
            handles.append(
                Line2D([], [], color="black", lw=1.8, label="stability boundary: theory rate = 1")
            )
    from matplotlib import patheffects

    outline = [patheffects.withStroke(linewidth=3.0, foreground="black")]
    styles = [("white", "--"), ("#E69F00", ":")]
    for (lam, disc), (color, ls) in zip(th.discriminant.items(), styles, strict=False):
        d = np.where(np.isfinite(disc), disc, np.nan)
        if np.nanmin(d) < 0 < np.nanmax(d):
            cs = ax.contour(XX, YY, d, levels=[0.0], colors=color, linewidths=1.6, linestyles=ls)
            cs.set(path_effects=outline)
            if handles is not None:
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=color,
                        lw=1.6,
                        ls=ls,
                        path_effects=outline,
                        label=f"critical damping at $\\lambda$ = {lam:.4g} (double root of M)",
                    )
                )
    if th.optimum is not None:
        ox, oy = th.optimum[m.x.name], th.optimum[m.y.name]
        ax.plot(
            [ox],
            [oy],
            marker="*",
            ms=15,
            color=PALETTE[1],
            markeredgecolor="white",
            markeredgewidth=1.0,
            ls="none",
        )
        if handles is not None:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="*",
                    ms=12,
                    color=PALETTE[1],
                    markeredgecolor="white",
                    ls="none",
                    label=f"optimal pair {m.x.name} = {ox:.4g}, {m.y.name} = {oy:.4g} "
                    f"(rate {th.optimum['rate']:.4g})",
                )
            )


def _regime_labels(ax: Any, m: RateMap) -> None:
    """Each regime's name at the middle of its largest stretch of cells."""
    from optiviz.analysis.maps import REGIMES

    th = m.theory
    assert th is not None
    n = th.regime.size
    for code, name in enumerate(REGIMES):
        mask = th.regime == code
        if mask.sum() < 0.002 * n:
            continue
        iy, ix = np.nonzero(mask)
        # the cell of the region nearest its centroid (in index space)
        cy, cx = iy.mean(), ix.mean()
        k = int(np.argmin((iy - cy) ** 2 + (ix - cx) ** 2))
        ax.text(
            m.x.values[ix[k]],
            m.y.values[iy[k]],
            name,
            ha="center",
            va="center",
            fontsize=9,
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="0.5", alpha=0.85),
        )


def _finish(ax: Any, m: RateMap) -> None:
    if m.x.log:
        ax.set_xscale("log")
    if m.y.log:
        ax.set_yscale("log")
    ax.set_xlim(_edges(m.x)[[0, -1]])
    ax.set_ylim(_edges(m.y)[[0, -1]])
    ax.set_xlabel(axis_label(m.x.name))
    ax.set_ylabel(axis_label(m.y.name))
    finish_axes(ax)


def rate_map(
    m: RateMap,
    quantity: str = "rate",
    *,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float | None = None,
    ax: Any = None,
) -> Figure:
    """Draw a :class:`~optiviz.analysis.maps.RateMap`: the measured ``quantity`` (``rate``,
    ``steps_to_tol`` or ``final_loss``), and beside it the theory's rate when there is a
    theory. Returns the Figure."""
    from matplotlib.patches import Patch

    two = m.theory is not None
    size = figsize or ((FIGSIZE[0] * 1.75, FIGSIZE[1] + 0.4) if two else FIGSIZE)
    with rc():
        if ax is None:
            fig = new_figure(size, dpi or DPI)
            axes = panels(fig, None, 1, 2 if two else 1)[0]
        else:
            fig, _ = figure_and_axes(ax, size, dpi or DPI)
            axes = panels(fig, ax, 1, 2 if two else 1)[0]
        values = m.quantity(quantity)
        if quantity == "rate":
            shown = values
            lo = np.nanmin(values[np.isfinite(values)]) if np.isfinite(values).any() else 0.0
            mesh = _mesh(
                axes[0], m, np.minimum(shown, 1.0), log=False, vmin=min(lo, 0.999), vmax=1.0
            )
        else:
            if quantity == "final_loss" and m.f_min is not None:
                values = values - m.f_min
            mesh = _mesh(axes[0], m, values, log=True)
        fig.colorbar(mesh, ax=axes[0], label=_QUANTITY_LABEL[quantity], shrink=0.9)
        handles: list = []
        _overlay(axes[0], m, handles)
        axes[0].set_title(f"measured: {quantity} after {m.steps} steps", fontsize=10)
        _finish(axes[0], m)
        if two:
            th = m.theory
            assert th is not None
            rate = np.where(np.isfinite(th.rate), th.rate, np.nan)
            hi = 1.0
            lo = float(np.nanmin(rate)) if np.isfinite(rate).any() else 0.0
            theory_map = _theory_as_map(m)
            tm = _mesh(
                axes[1], theory_map, np.minimum(rate, 1.0), log=False, vmin=min(lo, 0.999), vmax=hi
            )
            fig.colorbar(
                tm, ax=axes[1], label="theory rate max$_i\\ \\rho(M(\\lambda_i))$", shrink=0.9
            )
            _overlay(axes[1], m, None)
            _regime_labels(axes[1], m)
            where = "the quadratic's Hessian" if th.exact else "the Hessian at the minimum (local)"
            lams = ", ".join(f"{v:.4g}" for v in th.eigenvalues)
            axes[1].set_title(f"theory from {where}, $\\lambda$ = {lams}", fontsize=10)
            _finish(axes[1], m)
        if m.diverged.any():
            handles.append(
                Patch(color=DIVERGED_GREY, label=f"diverged ({int(m.diverged.sum())} cells)")
            )
        if np.isnan(values[~m.diverged]).any() and quantity != "final_loss":
            handles.append(Patch(fc="white", ec="0.5", label="no measured value"))
        if handles:
            legend_below(fig, handles, max_cols=2)
        fixed = ", ".join(f"{k} = {v:g}" for k, v in m.fixed.items() if _is_number(v))
        head = title or (
            f"{m.optimizer}: {m.x.name} x {m.y.name}, {m.x.size} x {m.y.size} cells, one "
            f"batched run of {m.steps} steps" + (f" ({fixed})" if fixed else "")
        )
        fig.suptitle(head, fontsize=11)
    return fig


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _theory_as_map(m: RateMap) -> RateMap:
    """The map with the theory's divergence as its diverged cells (for the theory panel)."""
    from dataclasses import replace

    th = m.theory
    assert th is not None
    status = np.where(~(th.rate < 1.0), "diverged", "max_steps")
    return replace(m, status=status)


def modes(
    items: list[tuple[str, Modes]],
    *,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float | None = None,
    ax: Any = None,
) -> Figure:
    """The error along each Hessian eigenvector against the step, one panel per
    ``(label, Modes)``: measured (solid) and the closed form of the class's iteration
    (dashed, black outline), log |error|. Returns the Figure."""
    from matplotlib.lines import Line2D

    k = len(items)
    cols = 1 if k == 1 else 2
    rows = (k + cols - 1) // cols
    size = figsize or (FIGSIZE[0] * (1.0 if cols == 1 else 1.7), FIGSIZE[1] * (0.75 + 0.45 * rows))
    with rc():
        fig, first = figure_and_axes(ax, size, dpi or DPI)
        grid = panels(fig, first, rows, cols) if (rows, cols) != (1, 1) else np.array([[first]])
        for i, (label, md) in enumerate(items):
            a = grid.flat[i]
            t = np.arange(md.measured.shape[0])
            for j, lam in enumerate(md.eigenvalues):
                color = PALETTE[j % len(PALETTE)]
                vec = ", ".join(f"{c:.3g}" for c in md.eigenvectors[:, j])
                a.semilogy(
                    t,
                    np.abs(md.measured[:, j]),
                    color=color,
                    lw=2.0,
                    label=f"$\\lambda_{{{j + 1}}}$ = {lam:.4g}, v = ({vec})",
                )
                if md.closed_form is not None:
                    a.semilogy(
                        t,
                        np.abs(md.closed_form[:, j]),
                        color="black",
                        lw=1.0,
                        ls="--",
                    )
            a.set_xlabel("step t")
            a.set_ylabel("|error along $v_i$|  $|v_i^T (x_t - x^*)|$")
            a.set_title(label, fontsize=10)
            handles = list(a.get_legend_handles_labels()[0])
            if md.closed_form is not None:
                handles.append(
                    Line2D([], [], color="black", lw=1.0, ls="--", label=md.closed_form_label)
                )
            a.legend(handles=handles, fontsize=8, loc="best")
            finish_axes(a, grid=True)
        for j in range(k, rows * cols):
            grid.flat[j].set_visible(False)
        fig.suptitle(
            title or "error along each Hessian eigenvector: measured (colour) and closed form",
            fontsize=11,
        )
    return fig
