"""Shared look of every optiviz figure: palette, label -> style map, fonts, figure factory.

Colours are the Okabe-Ito colour-blind-safe palette (black is kept for known minima, yellow
is dropped: it vanishes on a light background). Each label also gets a line style and a
marker, so figures stay readable in greyscale.

A :class:`ColorMap` assigns styles in order of first appearance. Pass one shared instance
to every figure of an experiment (``colors=``) so a label keeps its colour across the
contour, loss and effective-learning-rate figures; without one, each figure starts its own.

Figures are built as :class:`matplotlib.figure.Figure` objects (no pyplot: no global figure
registry, no GUI backend needed) with constrained layout.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from optiviz.errors import OptivizError

#: Okabe & Ito (2008) "Color Universal Design" palette, in the order paths get them.
OKABE_ITO = {
    "vermillion": "#D55E00",
    "blue": "#0072B2",
    "bluish_green": "#009E73",
    "reddish_purple": "#CC79A7",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
PALETTE: tuple[str, ...] = (
    OKABE_ITO["vermillion"],
    OKABE_ITO["blue"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    "#5D5D5D",  # dark grey: a seventh colour that still contrasts with the background
)
#: Line styles cycled with a period coprime to the palette's (7), so (colour, style)
#: pairs repeat only after 28 labels.
LINESTYLES: tuple = ("-", "--", "-.", (0, (1.2, 1.3)))
#: Eight markers against seven colours: the eighth label (which repeats the first colour)
#: still gets its own marker.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "<", "h")

MINIMUM_COLOR = "#000000"
DIVERGED_COLOR = "#B2182B"

FIGSIZE = (7.0, 5.5)
DPI = 150

#: Background of contour / 3-D plots: white (low) to slate blue (high). Light and
#: low-saturation so the coloured paths on top stand out; a single hue so it prints in grey.
BACKGROUND_CMAP = LinearSegmentedColormap.from_list(
    "optiviz_background",
    ["#FFFFFF", "#EDF2F7", "#D6E1EC", "#B9CCDF", "#9AB4CE", "#7E9DBD"],
)
#: 3-D surfaces: the same hue, a little deeper (hill shading lightens it).
SURFACE3D_CMAP = LinearSegmentedColormap.from_list(
    "optiviz_surface3d", ["#F4F7FA", "#C9D8E6", "#95B0CB", "#6788AD", "#48678C"]
)
#: Colormap for families of runs (batched sweeps): perceptually uniform, no pale end.
FAMILY_CMAP = "plasma"
FAMILY_CMAP_RANGE = (0.0, 0.85)

RC: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "lines.linewidth": 1.6,
    "axes.linewidth": 0.8,
    "legend.framealpha": 0.9,
    "legend.edgecolor": "0.8",
    "figure.constrained_layout.h_pad": 0.06,
    "figure.constrained_layout.w_pad": 0.06,
    "svg.hashsalt": "optiviz",  # deterministic SVG ids
    "image.cmap": "viridis",
    "mathtext.fontset": "dejavusans",
}
TICK_LABELSIZE = RC["xtick.labelsize"]


@contextlib.contextmanager
def rc() -> Iterator[None]:
    """Temporarily apply the optiviz rcParams (restored on exit)."""
    with mpl.rc_context(cast(Any, RC)):  # RC's keys are rcParams names
        yield


def new_figure(figsize: tuple[float, float] = FIGSIZE, dpi: float = DPI) -> Figure:
    """A pyplot-free Figure with constrained layout."""
    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def figure_and_axes(
    ax: Any, figsize: tuple[float, float], dpi: float, **subplot_kw: Any
) -> tuple[Figure, Any]:
    """Where a plotting function draws: ``ax`` and its (root) Figure when ``ax`` is given,
    else a new Figure (:func:`new_figure`) with one subplot made with ``subplot_kw``."""
    if ax is None:
        fig = new_figure(figsize, dpi)
        return fig, fig.add_subplot(**subplot_kw)
    return figure_of(ax), ax


def figure_of(ax: Any) -> Figure:
    """The Figure ``ax`` belongs to (the root figure when it sits in a subfigure)."""
    fig = ax.get_figure(root=True)
    if fig is None:
        raise OptivizError("ax must belong to a figure")
    return fig


def panels(fig: Figure, ax: Any, nrows: int, ncols: int = 1, **subplots_kw: Any) -> np.ndarray:
    """An ``(nrows, ncols)`` array of panels: ``fig.subplots(...)`` in a new figure (``ax``
    None); else the slot of the subplot ``ax`` is split into that grid, ``ax`` becoming
    its first panel (the rest of the caller's figure is left alone).

    ``subplots_kw``: ``sharex``, ``sharey`` (bools) and the grid's ``height_ratios`` /
    ``width_ratios``.
    """
    if ax is None:
        return fig.subplots(nrows, ncols, squeeze=False, **subplots_kw)
    spec = ax.get_subplotspec()
    if spec is None:
        raise OptivizError(
            f"ax must be a subplot (from add_subplot or subplots) to hold {nrows} x {ncols} "
            "panels; got axes placed by position"
        )
    sharex, sharey = subplots_kw.pop("sharex", False), subplots_kw.pop("sharey", False)
    grid = spec.subgridspec(nrows, ncols, **subplots_kw)
    ax.set_subplotspec(grid[0, 0])
    out = np.empty((nrows, ncols), dtype=object)
    for i in range(nrows):
        for j in range(ncols):
            out[i, j] = (
                ax
                if i == j == 0
                else ax.figure.add_subplot(
                    grid[i, j], sharex=ax if sharex else None, sharey=ax if sharey else None
                )
            )
    return out


def finish_axes(ax, grid: bool = False) -> None:
    """Explicit tick sizes (ticks are created lazily at draw time, outside ``rc()``)."""
    ax.tick_params(labelsize=TICK_LABELSIZE)
    if grid:
        ax.grid(True, which="major", alpha=0.3, linewidth=0.6)
        ax.grid(True, which="minor", alpha=0.12, linewidth=0.4)


class ColorMap:
    """Label -> (colour, line style, marker), assigned in order of first appearance.

    >>> cm = ColorMap()
    >>> cm.color_for("adam") == cm.color_for("adam")
    True
    """

    def __init__(
        self,
        palette: tuple[str, ...] = PALETTE,
        linestyles: tuple = LINESTYLES,
        markers: tuple[str, ...] = MARKERS,
    ):
        self.palette = tuple(palette)
        self.linestyles = tuple(linestyles)
        self.markers = tuple(markers)
        self._index: dict[str, int] = {}

    def index(self, label: str) -> int:
        label = str(label)
        if label not in self._index:
            self._index[label] = len(self._index)
        return self._index[label]

    def color_for(self, label: str) -> str:
        return self.palette[self.index(label) % len(self.palette)]

    def linestyle_for(self, label: str):
        return self.linestyles[self.index(label) % len(self.linestyles)]

    def marker_for(self, label: str) -> str:
        return self.markers[self.index(label) % len(self.markers)]

    def style_for(self, label: str) -> dict:
        """Keyword arguments for ``ax.plot``: color, linestyle, marker."""
        return {
            "color": self.color_for(label),
            "linestyle": self.linestyle_for(label),
            "marker": self.marker_for(label),
        }

    @property
    def labels(self) -> list[str]:
        return list(self._index)

    def __contains__(self, label: str) -> bool:
        return str(label) in self._index

    def __repr__(self) -> str:
        return f"ColorMap({self.labels})"


_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
}
_NAME = re.compile(r"^([A-Za-z]+?)_?(\d+)?$")


def math_name(name: str) -> str | None:
    """Mathtext body for a variable name (``x1`` -> ``x_{1}``, ``theta`` -> ``\\theta``), or
    ``None`` when the name is a plain word better shown as text."""
    m = _NAME.match(name)
    if not m:
        return None
    base, digits = m.group(1), m.group(2)
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1 and digits is None:
        return None  # a word such as "bias": keep it upright text
    elif len(base) > 2:
        return None
    return f"{base}_{{{digits}}}" if digits else base


def var_label(name: str) -> str:
    """Axis label for a variable: math text (``$x_{1}$``) for symbol-like names, else the
    name itself."""
    body = math_name(name)
    return f"${body}$" if body is not None else name


@lru_cache(maxsize=256)
def mathtext_ok(text: str) -> bool:
    """True when matplotlib's mathtext can lay out ``text`` (with its ``$`` delimiters)."""
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(text, dpi=72)
    except Exception:  # mathtext raises ValueError on syntax it does not support
        return False
    return True


def formula_titles(surface, max_latex: int = 400) -> tuple[str | None, str]:
    """``(math, plain)`` titles of a surface's formula: ``"name:  $f(x, y) = ...$"`` when
    mathtext can lay out the LaTeX (else ``None``), and the plain expression text."""
    names = tuple(getattr(surface, "variables", ()))
    math_vars = [math_name(v) for v in names]
    args_math = ", ".join(
        m if m is not None else rf"\mathrm{{{v}}}" for m, v in zip(math_vars, names, strict=True)
    )
    latex = surface.latex["f"] if getattr(surface, "has_symbolic_form", False) else None
    name = getattr(surface, "name", "")
    prefix = f"{name}:  " if name and name != "custom" else ""
    math = None
    if latex and len(latex) <= max_latex:
        candidate = f"$f({args_math}) = {latex}$"
        if mathtext_ok(candidate):
            math = prefix + candidate
    text = str(getattr(surface, "text", "") or "")
    # plain text: a "$" would start math mode
    plain = prefix + f"f({', '.join(names)}) = " + text.replace("$", r"\$")
    return math, plain


def formula_title(surface) -> str:
    """The formula title: math text when mathtext renders it, else the plain text."""
    math, plain = formula_titles(surface)
    return math if math is not None else plain


def text_width(text: str, size: float, math: bool) -> float:
    """Width in points of ``text`` at font ``size`` (no renderer needed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    try:
        w, _, _ = TextToPath().get_text_width_height_descent(
            text, FontProperties(size=size), ismath=math
        )
    except Exception:  # unparsable math: report it as too wide
        return float("inf")
    return float(w)


def wrap_to_width(text: str, width_pts: float, size: float, max_lines: int = 4) -> list[str]:
    """``text`` wrapped into lines of at most ``width_pts`` points at font ``size`` (plain
    text; a longer text is cut with an ellipsis after ``max_lines``)."""
    import textwrap

    per_char = max(text_width("x" * 40, size, False) / 40.0, 1.0)
    width = max(int(width_pts / per_char), 20)
    # never break inside $...$ (math text must stay whole on one line) nor around " = "
    glued = re.sub(r"\$[^$]*\$", lambda m: m.group(0).replace(" ", "\x00"), text)
    glued = glued.replace(" = ", "\x00=\x00")
    lines = textwrap.wrap(glued, width=width, break_long_words=False, break_on_hyphens=False) or [
        ""
    ]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip() + " …"
    return [ln.replace("\x00", " ") for ln in lines]


def set_formula_title(
    ax,
    surface,
    fig: Figure,
    extra: str = "",
    sizes: tuple[float, ...] = (11, 10, 9, 8),
    pad: float | None = None,
) -> str:
    """Title ``ax`` with the surface's formula, fitted to the figure width.

    Tries the math-text title at decreasing font sizes, then the plain text (wrapped over
    at most three lines, shortened with an ellipsis beyond). ``extra`` is a second line.
    ``pad``: points between the axes and the title (matplotlib's default when None).
    Returns the title set.
    """
    import textwrap

    max_w = 0.86 * fig.get_figwidth() * 72.0
    math, plain = formula_titles(surface)
    tail = f"\n{extra}" if extra else ""
    if math is not None:
        for size in sizes:
            if text_width(math, size, True) <= max_w:
                ax.set_title(math + tail, fontsize=size, pad=pad)
                return math + tail
    size = sizes[-1] if len(plain) > 60 else sizes[0]
    per_char = max(text_width("x" * 40, size, False) / 40.0, 1.0)
    width = max(int(max_w / per_char), 20)
    lines = textwrap.wrap(plain, width=width, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > 3:
        lines = lines[:3]
        lines[-1] = lines[-1][: max(width - 1, 1)] + "…"
    title = "\n".join(lines) + tail
    ax.set_title(title, fontsize=size, pad=pad)
    return title


@lru_cache(maxsize=1)
def _agg_canvas_class() -> type:
    """:class:`FigureCanvasAgg` whose renderers share one math-text parser."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    shared: list = []  # the first renderer's parser

    class OptivizCanvas(FigureCanvasAgg):
        """An Agg canvas whose renderers share one math-text parser.

        matplotlib caches parsed math text per parser, and every renderer (one per
        figure, and a new one whenever a figure changes size) makes its own: each
        ``$10^{-2}$`` tick label, each formula title would be parsed again (~15 ms each
        with pyparsing; tens of them per figure). Shared, each is parsed once.
        """

        def get_renderer(self):
            renderer = super().get_renderer()
            if not shared:
                shared.append(renderer.mathtext_parser)
            renderer.mathtext_parser = shared[0]
            return renderer

    return OptivizCanvas


def agg_canvas(fig: Figure) -> Any:
    """Give ``fig`` an Agg canvas (see ``_agg_canvas_class``) if it has none; returns its
    canvas.

    A pyplot-free Figure has a bare ``FigureCanvasBase``: then every layout pass and every
    ``savefig`` makes a new canvas and renderer, and with the renderer go matplotlib's
    caches of text extents and parsed math text. A figure with a real canvas (pyplot's, a
    GUI's) keeps it.
    """
    from matplotlib.backend_bases import FigureCanvasBase

    if type(fig.canvas) is FigureCanvasBase:
        _agg_canvas_class()(fig)
    return fig.canvas


def layout(fig: Figure) -> None:
    """One layout pass (what a draw does first), without drawing anything: the layout
    engine's (constrained layout) positions for the current size. Afterwards
    ``fig.get_tightbbox()`` measures what a draw would draw (it also applies each axes'
    aspect)."""
    agg_canvas(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)


def fit_figure_to_axes(
    fig: Figure,
    ax,
    min_size: tuple[float, float] = (4.8, 3.4),
    rounds: int = 4,
    margin: float = 0.08,
) -> None:
    """Shrink ``fig`` so an equal-aspect ``ax`` leaves no empty bands.

    Constrained layout gives the axes a slot; an equal aspect then shortens the axes in
    one direction (its height for a wide window, its width for a tall one) and leaves
    empty bands there. The figure is shrunk in that direction only, to the measured
    extent of everything drawn (axes, colorbars, title, legend) plus ``margin`` inches,
    never below ``min_size``.

    Cost: one layout pass and one measurement per size tried (no draws; usually two
    sizes: the first and the shrunk one, which the second pass confirms).
    """
    layout(fig)
    extent = fig.get_tightbbox()  # inches; applies the equal aspect to ax
    slot = ax.get_position(original=True)
    box = ax.get_position(original=False)
    w, h = fig.get_size_inches()
    dw, dh = (slot.width - box.width) * w, (slot.height - box.height) * h
    if max(dw, dh) < 0.05:
        return
    axis = 1 if dh >= dw else 0  # 1: shrink the height, 0: the width
    for _ in range(rounds):
        size = fig.get_size_inches()
        used = extent.height if axis else extent.width
        # a whole number of pixels, so every backend agrees on the image size
        new = math.ceil(max(min_size[axis], used + 2 * margin) * fig.dpi) / fig.dpi
        if new >= size[axis] - 0.02:
            return
        size[axis] = new
        fig.set_size_inches(*size)
        layout(fig)
        extent = fig.get_tightbbox()


def family_cmap():
    """The colormap of run families, truncated to :data:`FAMILY_CMAP_RANGE`."""
    base = mpl.colormaps[FAMILY_CMAP]
    lo, hi = FAMILY_CMAP_RANGE
    return LinearSegmentedColormap.from_list(f"{FAMILY_CMAP}_trunc", base(np.linspace(lo, hi, 256)))


def legend_below(fig: Figure, handles: list, max_cols: int = 3, ax=None):
    """A legend below the plot, outside the axes (so it never covers a path).

    With ``ax``: anchored just under that axes' x label (it follows the axes when an equal
    aspect makes them shorter than their slot); otherwise a figure legend at the bottom.
    Columns: 3, or fewer for long labels.
    """
    labels = [h.get_label() for h in handles]
    longest = max((len(lb) for lb in labels), default=0)
    ncol = 1 if longest > 60 else 2 if longest > 32 else max_cols
    ncol = max(1, min(ncol, len(handles)))
    kw = dict(ncol=ncol, frameon=False, handlelength=2.6, columnspacing=1.6)
    if ax is None:
        return fig.legend(handles, labels, loc="outside lower center", **kw)
    from matplotlib.transforms import ScaledTranslation

    label_lines = ax.get_xlabel().count("\n") + 1 if ax.get_xlabel() else 0
    drop = 0.30 + 0.19 * label_lines  # inches: tick labels + x label
    trans = ax.transAxes + ScaledTranslation(0, -drop, fig.dpi_scale_trans)
    return ax.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=trans, **kw
    )
