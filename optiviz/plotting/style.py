"""Shared look of every optiviz figure: palette, label -> style map, fonts, figure factory.

Colours (:data:`PALETTE`): twelve colour-blind-safe colours, Okabe-Ito's six first, then a
dark grey and five of Paul Tol's (black is kept for known minima). Colour and marker follow
the optimizer entry; line style tells apart the runs of one entry (its start points, or the
values of its grid), so figures stay readable in greyscale. Starts are drawn neutral.

A :class:`ColorMap` assigns colours in order of first appearance. Pass one shared instance
to every figure of an experiment (``colors=``) so an entry keeps its colour across the
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

#: Okabe & Ito (2008) "Color Universal Design" palette.
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
#: Paul Tol's qualitative schemes (https://personal.sron.nl/~pault/): the colours of his
#: "muted" and "bright" sets this palette takes.
TOL = {
    "indigo": "#332288",  # muted
    "green": "#117733",  # muted
    "olive": "#999933",  # muted
    "red": "#EE6677",  # bright
    "sand": "#DDCC77",  # muted
}
#: The twelve run colours, in the order entries get them: Okabe-Ito's six (yellow dropped:
#: it vanishes on a light background; black kept for known minima), a dark grey, then five
#: of Paul Tol's colours. Chosen (from Okabe-Ito plus Tol's muted and bright sets) so that
#: every pair stays apart under simulated protanopia, deuteranopia and tritanopia (Machado
#: et al. 2009, full severity): CIELAB distance >= 10 between any two of the twelve, >= 16
#: between any two of the first six, >= 22 for normal vision; tests/test_palette.py checks it.
PALETTE: tuple[str, ...] = (
    OKABE_ITO["vermillion"],
    OKABE_ITO["blue"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    "#5D5D5D",  # dark grey: contrasts with the background
    TOL["indigo"],
    TOL["green"],
    TOL["olive"],
    TOL["red"],
    TOL["sand"],
)
#: Line styles tell apart the runs of one entry: its starts, or its swept values.
LINESTYLES: tuple = (
    "-",
    "--",
    "-.",
    (0, (1.2, 1.3)),
    (0, (5, 1.5, 1, 1.5, 1, 1.5)),
    (0, (8, 2.5)),
)
#: Markers follow the entry too (a second cue beside its colour, for greyscale prints):
#: eight against twelve colours, so (colour, marker) pairs repeat only after 24 entries.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "<", "h")
#: The start of every path: neutral (not any run's colour), white with a dark edge.
START_FACE = "white"
START_EDGE = "0.1"

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
    """A pyplot-free Figure with constrained layout; it displays inline in Jupyter (an
    :class:`~optiviz.plotting.display.InlineFigure`, no ``%matplotlib inline`` needed)."""
    from optiviz.plotting.display import InlineFigure

    return InlineFigure(figsize=figsize, dpi=dpi, layout="constrained")


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


def panel_grid(k: int, max_cols: int = 3) -> tuple[int, int]:
    """``(rows, columns)`` of ``k`` small-multiple panels: one row up to ``max_cols``, then
    rows of ``max_cols`` (4 panels: 2 x 2)."""
    if k <= max_cols:
        return 1, max(k, 1)
    ncols = 2 if k == 4 else max_cols
    return math.ceil(k / ncols), ncols


def finish_axes(ax, grid: bool = False) -> None:
    """Explicit tick sizes (ticks are created lazily at draw time, outside ``rc()``)."""
    ax.tick_params(labelsize=TICK_LABELSIZE)
    if grid:
        ax.grid(True, which="major", alpha=0.3, linewidth=0.6)
        ax.grid(True, which="minor", alpha=0.12, linewidth=0.4)


class ColorMap:
    """Entry -> colour and marker, run within the entry -> line style.

    Keys (an entry's label) get colours and markers in order of first appearance: twelve
    entries have twelve different colours (:data:`PALETTE`), and a thirteenth repeats the
    first colour with another marker. The runs of one entry (its starts, or the values of
    its grid) share the entry's colour and differ by line style: ``variant`` is the run's
    position within its entry.

    >>> cm = ColorMap()
    >>> cm.color_for("adam") == cm.color_for("adam")
    True
    >>> cm.style_for("adam", 1)["linestyle"]
    '--'
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

    def linestyle_for(self, label: str, variant: int = 0):
        """The line style of run ``variant`` of the entry ``label`` (solid for the first)."""
        self.index(label)
        return self.linestyles[int(variant) % len(self.linestyles)]

    def marker_for(self, label: str) -> str:
        return self.markers[self.index(label) % len(self.markers)]

    def style_for(self, label: str, variant: int = 0) -> dict:
        """Keyword arguments for ``ax.plot``: color, linestyle, marker."""
        return {
            "color": self.color_for(label),
            "linestyle": self.linestyle_for(label, variant),
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
#: ``w_hours`` (a weight named after a data column): a one-letter symbol, a word subscript.
_WORD_SUB = re.compile(r"^([A-Za-z])_([A-Za-z0-9][A-Za-z0-9_]*)$")


def math_name(name: str) -> str | None:
    """Mathtext body for a variable name (``x1`` -> ``x_{1}``, ``theta`` -> ``\\theta``,
    ``w_hours`` -> ``w_{\\mathrm{hours}}``), or ``None`` when the name is a plain word
    better shown as text."""
    m = _NAME.match(name)
    if not m:
        w = _WORD_SUB.match(name)
        if w is None:
            return None
        sub = w.group(2).replace("_", "\\_")
        return f"{w.group(1)}_{{\\mathrm{{{sub}}}}}"
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
    if len(names) > 6:  # many variables (a structured surface): the first and the last
        names = (names[0], "...", names[-1])
    math_vars = [math_name(v) if v != "..." else r"\ldots" for v in names]
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
    text; its own line breaks kept; a longer text is cut with an ellipsis after
    ``max_lines``)."""
    import textwrap

    per_char = max(text_width("x" * 40, size, False) / 40.0, 1.0)
    width = max(int(width_pts / per_char), 20)
    # never break inside $...$ (math text must stay whole on one line), inside a point such
    # as (-2, 1.5), nor around " = "
    glued = re.sub(r"\$[^$]*\$", lambda m: m.group(0).replace(" ", "\x00"), text)
    glued = re.sub(r"\([-+0-9.,eE\s]*\)", lambda m: m.group(0).replace(" ", "\x00"), glued)
    glued = glued.replace(" = ", "\x00=\x00")
    lines = [  # a line break in ``text`` stays one (each of its lines wrapped on its own)
        ln
        for part in glued.split("\n")
        for ln in (
            textwrap.wrap(part, width=width, break_long_words=False, break_on_hyphens=False) or [""]
        )
    ]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip() + " …"
    return [ln.replace("\x00", " ") for ln in lines]


def _top_level_terms(body: str) -> list[str]:
    """``body`` split before each top-level `` + `` / `` - `` (outside braces and
    ``\\left ... \\right`` pairs); joined back, the pieces are ``body``."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(body):
        if body.startswith("\\left", i):
            depth += 1
            i += 5
            continue
        if body.startswith("\\right", i):
            depth -= 1
            i += 6
            continue
        c = body[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0 and body.startswith((" + ", " - "), i) and i > start:
            pieces.append(body[start:i])
            start = i + 1
        i += 1
    pieces.append(body[start:])
    return pieces


def split_math(math: str, max_w: float, size: float, max_lines: int = 3) -> list[str] | None:
    """A ``"prefix $lhs = terms$"`` title broken into at most ``max_lines`` math-text lines
    of at most ``max_w`` points at font ``size``, between top-level terms; None when it
    does not fit so (or mathtext cannot lay a line out)."""
    head, dollar, rest = math.partition("$")
    if not dollar or not rest.endswith("$"):
        return None
    body = rest[:-1]
    lines: list[str] = []
    current = ""
    for term in _top_level_terms(body):
        trial = f"{current} {term.strip()}" if current else term
        prefix = "" if lines else head
        if current and text_width(f"{prefix}${trial}$", size, True) > max_w:
            lines.append(current)
            current = term.strip()
        else:
            current = trial
    lines.append(current)
    out = [f"{head if k == 0 else ''}${ln}$" for k, ln in enumerate(lines)]
    if len(out) > max_lines or any(text_width(ln, size, True) > max_w for ln in out):
        return None
    if not all(mathtext_ok(ln[ln.index("$") :]) for ln in out):
        return None
    return out


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
        # a long formula (a data surface's sum over its samples): math text over at most
        # three lines, broken between top-level terms
        lines = split_math(math, max_w, sizes[-1])
        if lines is not None:
            title = "\n".join(lines) + tail
            ax.set_title(title, fontsize=sizes[-1], pad=pad)
            return title
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


def run_caption(
    surface: str,
    start: Any,
    steps: Any,
    *,
    history: Any = None,
    max_coords: int = 4,
) -> str:
    """The line a figure's title gives its experiment: the surface, the start and the step
    budget, e.g. ``"rosenbrock, start (-1.2, 1), 3000 steps"``.

    ``start``: one point, or several (a list of points: "3 starts"); ``history``: the point
    before the start (``w(t-1)``) when the problem states one; ``steps``: the budget, one
    number or one per entry (a range when they differ). Points of more than ``max_coords``
    coordinates are cut with an ellipsis.
    """
    from optiviz._format import fmt_number

    def point(p: Any) -> str:
        v = [float(c) for c in np.asarray(p, dtype=float).reshape(-1)]
        shown = ", ".join(fmt_number(c, 4) for c in v[:max_coords])
        return f"({shown}{', …' if len(v) > max_coords else ''})"

    a = np.asarray(start, dtype=float) if start is not None else None
    if a is None or a.size == 0:
        where = ""
    elif a.ndim == 2 and a.shape[0] > 1:
        where = f"{a.shape[0]} starts"
    else:
        where = f"start {point(a.reshape(-1))}"
        if history is not None:
            where += f" after {point(history)}"
    budgets = sorted({int(b) for b in np.atleast_1d(np.asarray(steps, dtype=float))})
    if not budgets:
        budget = ""
    elif len(budgets) == 1:
        budget = f"{budgets[0]} step{'s' if budgets[0] != 1 else ''}"
    else:
        budget = f"{budgets[0]}–{budgets[-1]} steps"
    return ", ".join(x for x in (surface, where, budget) if x)


def fitted_title(
    target: Any,
    text: str,
    fig: Figure,
    *,
    size: float = 11,
    width: float = 0.9,
    max_lines: int = 3,
    pad: float | None = None,
) -> str:
    """Set ``text`` as the title of ``target`` (an Axes, or the Figure: a suptitle), each
    line wrapped to ``width`` of the figure's width at font ``size`` (at most ``max_lines``
    lines per paragraph, then an ellipsis), so it never runs off the image. Returns it."""
    max_w = width * fig.get_figwidth() * 72.0
    lines: list[str] = []
    for para in text.split("\n"):
        lines += wrap_to_width(para, max_w, size, max_lines)
    out = "\n".join(lines)
    if isinstance(target, Figure):
        target.suptitle(out, fontsize=size)
    else:
        target.set_title(out, fontsize=size, pad=pad)
    return out


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


#: Legend rows a figure's default size has room for below its plot; a longer legend makes
#: a figure that :func:`legend_below` may resize (``grow=True``) that much taller.
LEGEND_ROOM_ROWS = 4


def _legend_layout(labels: list[str], width_pts: float, max_cols: int) -> tuple[int, list[str]]:
    """``(ncol, labels)`` for a legend of ``labels`` within ``width_pts`` points: as many
    columns (at most ``max_cols``) as fit side by side, labels wrapped when even one column
    is too wide."""
    size = float(RC["legend.fontsize"])
    # handle (2.6 em), its gap (0.8 em), column spacing (1.6 em), frame padding (1 em)
    extra = size * (2.6 + 0.8 + 1.6)
    pad = size * 1.0

    def width(lb: str) -> float:
        return max(text_width(line, size, "$" in line) for line in lb.split("\n"))

    widths = [width(lb) for lb in labels]
    widest = max(widths, default=0.0)
    ncol = max(1, min(max_cols, len(labels)))
    while ncol > 1 and ncol * (widest + extra) + pad > width_pts:
        ncol -= 1
    room = width_pts - extra - pad
    if widest > room:
        labels = [
            lb if w <= room or "$" in lb else "\n".join(wrap_to_width(lb, room, size, 3))
            for lb, w in zip(labels, widths, strict=True)
        ]
    return ncol, labels


def legend_below(fig: Figure, handles: list, max_cols: int = 3, ax=None, grow: bool = False):
    """A legend below the plot, outside the axes (so it never covers a path), fitted to the
    figure's width: as many columns (at most ``max_cols``) as fit, labels wrapped when one
    column is too wide.

    With ``ax``: anchored just under that axes' x label (it follows the axes when an equal
    aspect makes them shorter than their slot); otherwise a figure legend at the bottom.
    ``grow``: the figure is the caller's own (not a user's): a legend of more than
    :data:`LEGEND_ROOM_ROWS` rows makes it taller by those rows, so the plot keeps its size.
    """
    width_pts = 0.96 * fig.get_figwidth() * 72.0
    ncol, labels = _legend_layout([h.get_label() for h in handles], width_pts, max_cols)
    rows = math.ceil(len(handles) / ncol) if handles else 0
    lines = rows * max((lb.count("\n") + 1 for lb in labels), default=1)
    if grow and lines > LEGEND_ROOM_ROWS:
        size = float(RC["legend.fontsize"])
        row_h = size * (1.2 + 0.5) / 72.0  # inches: a text line and the label spacing
        w, h = fig.get_size_inches()
        h = math.ceil((h + (lines - LEGEND_ROOM_ROWS) * row_h) * fig.dpi) / fig.dpi
        fig.set_size_inches(w, h)  # a whole number of pixels
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
