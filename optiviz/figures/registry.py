"""The figure registry: every figure kind a config may ask for, declared once.

A kind is a :class:`FigureKind`: its name (what ``figures: [...]`` lists), the function
that builds its figure(s) from an experiment result, what it needs, a one-line doc and how
its files are named. The config's allowed list (:data:`FIGURE_NAMES`, read live), the
figures line of the config schema (:func:`schema_line`), the experiment's dispatch
(:func:`figures_of`) and the docs table (:func:`markdown_table`) all read this registry.

This module imports neither matplotlib nor the rest of optiviz: the config reads it on
every load, and a builder imports the plotting code only when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

__all__ = [
    "FIGURE_NAMES",
    "SURFACE_FIGURE_NAMES",
    "Drawn",
    "FigureKind",
    "Need",
    "Option",
    "default_figures",
    "draw",
    "figures_of",
    "get",
    "kinds",
    "markdown_table",
    "missing_needs",
    "option_defaults",
    "options_table",
    "register",
    "schema_line",
    "stems",
    "unregister",
]


@dataclass(frozen=True)
class Need:
    """Something a figure kind needs of the experiment.

    ``text`` says it in the docs ("a surface of two or more variables"); ``met(config)``
    tells whether a config provides it and ``because(kind, config)`` says why a kind is
    refused when it does not: the config validation's message, after "'kind' is not
    allowed". ``config`` is a validated :class:`~optiviz.config.ExperimentConfig`, or while
    validating, anything with its ``optimizers``, ``variables`` and ``record_of(entry)``.
    """

    text: str
    met: Callable[[Any], bool]
    because: Callable[[str, Any], str]


def _per_step(config: Any) -> bool:
    return any(config.record_of(o) == "all" for o in config.optimizers)


def _two_variables(config: Any) -> bool:
    return len(config.variables) >= 2


def _lr_sweep(config: Any) -> bool:
    return any(o.sweeps_lr for o in config.optimizers)


def _no_per_step(kind: str, config: Any) -> str:
    return " with record: final (no per-step values)"


def _one_variable(kind: str, config: Any) -> str:
    names = ", ".join(config.variables)
    return (
        f": the surface has one variable ({names}); a {kind} figure needs at least two "
        "(contour draws f(x) for one variable)"
    )


def _no_lr_sweep(kind: str, config: Any) -> str:
    return (
        ": it plots the final loss of a learning-rate grid and no optimizer entry sweeps lr "
        "(e.g. lr: {grid: {logspace: [-4, -1, 30]}} or "
        "lr: {times_eta_opt: {grid: {values: [0.5, 1, 2]}}})"
    )


#: Per-step values: at least one entry keeps every iterate (``record: all``).
PER_STEP = Need("per-step values (an entry with `record: all`)", _per_step, _no_per_step)
#: A surface of two or more variables.
TWO_VARIABLES = Need("a surface of two or more variables", _two_variables, _one_variable)
#: An optimizer entry whose grid sweeps the learning rate.
LR_SWEEP = Need(
    "an entry that sweeps `lr` (a grid of `lr` or of `times_eta_opt`)", _lr_sweep, _no_lr_sweep
)


@dataclass(frozen=True)
class Drawn:
    """What a builder may return instead of a plain list of figures: the figures and the
    data files written beside them (``{file name: text or bytes}``, e.g.
    ``{"rate_map.csv": ...}`` or ``{"animation.gif": b"..."}``), so the numbers behind an
    image are computed once and saved with it, and outputs that are not matplotlib figures
    (animations, pages) are written the same staged way."""

    figures: list[Any]
    data: Mapping[str, str | bytes] = field(default_factory=dict)


#: ``build(result, colors, options)``: the figures of one kind for an
#: :class:`~optiviz.experiment.ExperimentResult`, drawn with the shared
#: :class:`~optiviz.plotting.ColorMap`, in file order, as a list or as :class:`Drawn` with
#: data files. ``options`` maps every option of the kind (:class:`Option`) to its value: the
#: config's, else the option's default.
Builder = Callable[[Any, Any, Mapping[str, Any]], "list[Any] | Drawn"]


@dataclass(frozen=True)
class Option:
    """One option of a figure kind, set in a config as ``figures: [{kind: {name: value}}]``.

    ``constraint`` is a constraint object of :mod:`optiviz._validation` (its ``describe()``
    is the docs' "allowed" text and its ``check(value)`` validates and normalizes what a
    config gives); ``default`` is the value when the config gives none (not checked: it may
    be ``None`` for "decided by the figure"); ``doc`` says what the option does, in one line.
    """

    name: str
    constraint: Any
    default: Any
    doc: str


@dataclass(frozen=True)
class FigureKind:
    """One figure kind.

    name : the config's name for it, and the stem of its file (``<name>.<format>``).
    build : ``build(result, colors) -> [Figure, ...]``: one figure, or with ``each`` set
        one per item; the files are named by :func:`stems`.
    doc : one line for the docs table: what it draws.
    needs : what the experiment must provide (:class:`Need`); validation refuses the
        kind without it.
    each : empty for one figure; else what the kind makes one figure per (e.g. "entry
        that sweeps lr"): files ``<name>``, ``<name>_2``, ``<name>_3``, ...
    draws_surface : it draws the surface itself (``projection`` picks its plane for
        n > 2).
    default : in the figures of a config that names none.
    order : position in listings (the allowed list, the schema, the docs table).
    options : what a config may set for this kind (:class:`Option`); the builder receives
        every one of them, filled with defaults. :func:`register` appends the options
        every kind has (``title``, ``size``, ``dpi``: :data:`optiviz.figures._options.COMMON`)
        that the kind does not declare itself.
    check : optional ``check(options) -> None | (option, value, allowed)``: a refusal of
        options that are valid one by one but not together (e.g. log levels that are not
        all positive); ``options`` are the config's, checked, without defaults.
    report : optional ``report(result, options) -> str``: a Markdown section the kind adds
        to report.md (its numbers in words; "" for none).
    """

    name: str
    build: Builder
    doc: str
    needs: tuple[Need, ...] = ()
    each: str = ""
    draws_surface: bool = False
    default: bool = False
    order: int = 1000
    options: tuple[Option, ...] = ()
    #: ``work(config, options) -> (run-steps, bytes)``: what the kind's own runs cost (a
    #: basins grid, a rate map), counted with the entries' runs in the config's limits
    #: (:mod:`optiviz.config.cost`); None for kinds that only draw the entries' runs.
    #: ``config`` is a validated config or the validation's view of one (``optimizers``,
    #: ``variables``, ``steps_of(entry)``, ``record_of(entry)``).
    work: Callable[[Any, Mapping[str, Any]], tuple[int, int]] | None = None
    report: Callable[[Any, Mapping[str, Any]], str] | None = None
    check: Callable[[Mapping[str, Any]], tuple[str, Any, str] | None] | None = None
    #: ``redraw(result, colors, options, data) -> [Figure, ...] | Drawn``: the kind's
    #: figures drawn again, for ``optiviz plot`` / ``compare``, from the data files its
    #: builder saved (``data``: ``{file name: bytes}``, what ``Drawn.data`` held, read back
    #: from the output folder) instead of rerunning its own runs; ``result`` is the saved
    #: result read back (:func:`optiviz.experiment.saved.load_output`: config, surface,
    #: trajectories, analysis). A kind with ``work`` (runs of its own) must set it to be
    #: redrawn; a kind without ``work`` is redrawn by ``build`` on the saved result. A
    #: missing or unreadable file raises ``OptivizError`` (or ``ValueError``) naming it.
    redraw: Callable[[Any, Any, Mapping[str, Any], Mapping[str, bytes]], Any] | None = None

    @property
    def redrawable(self) -> bool:
        """Whether ``optiviz plot`` can draw this kind without running anything: it draws
        only the entries' saved runs (no ``work``), or it has a ``redraw``."""
        return self.redraw is not None or self.work is None

    def option(self, name: str) -> Option:
        """The option called ``name`` (``KeyError`` if the kind has none by that name)."""
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(name)


_KINDS: dict[str, FigureKind] = {}


def register(kind: FigureKind) -> FigureKind:
    """Add ``kind`` to the registry (its name must be new), with the options common to
    every kind appended (those it does not declare itself); returns it as registered."""
    from dataclasses import replace

    from optiviz.figures._options import COMMON

    if kind.name in _KINDS:
        raise ValueError(f"figure kind {kind.name!r} is already registered")
    if not kind.name.isidentifier():
        raise ValueError(f"figure kind name {kind.name!r} must be an identifier")
    names = [o.name for o in kind.options]
    if len(set(names)) != len(names):
        raise ValueError(f"figure kind {kind.name!r} declares an option twice: {names}")
    kind = replace(kind, options=kind.options + tuple(o for o in COMMON if o.name not in names))
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove the kind ``name`` (tests that register a toy kind undo it with this)."""
    del _KINDS[name]


def kinds() -> list[FigureKind]:
    """Every registered kind, in listing order."""
    return sorted(_KINDS.values(), key=lambda k: k.order)


def get(name: str) -> FigureKind:
    """The kind called ``name`` (``KeyError`` if none is)."""
    return _KINDS[name]


class _Names(Sequence[str]):
    """A live, read-only tuple-like view of registered kind names (in listing order)."""

    def __init__(self, keep: Callable[[FigureKind], bool]):
        self._keep = keep

    def _names(self) -> tuple[str, ...]:
        return tuple(k.name for k in kinds() if self._keep(k))

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __eq__(self, other: object) -> bool:  # equal to the tuple of the names, like a tuple
        if isinstance(other, (_Names, tuple)):
            return self._names() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._names())

    def __repr__(self) -> str:
        return repr(self._names())


#: Every figure a config may ask for (a live view of the registry).
FIGURE_NAMES: Sequence[str] = _Names(lambda k: True)
#: The figures that draw the surface itself (``projection`` chooses their plane).
SURFACE_FIGURE_NAMES: Sequence[str] = _Names(lambda k: k.draws_surface)


def default_figures() -> tuple[str, ...]:
    """The figures of a config that names none."""
    return tuple(k.name for k in kinds() if k.default)


def stems(name: str, count: int) -> list[str]:
    """File stems of ``count`` figures of kind ``name``: ``name``, ``name_2``, ..."""
    return [name if i == 0 else f"{name}_{i + 1}" for i in range(count)]


def option_defaults(name: str) -> dict[str, Any]:
    """Every option of the kind ``name`` with its default value."""
    return {o.name: o.default for o in get(name).options}


def draw(
    name: str,
    result: Any,
    colors: Any,
    options: Mapping[str, Any] | None = None,
    *,
    saved: Mapping[str, bytes] | None = None,
) -> tuple[list[tuple[str, Any]], dict[str, str | bytes]]:
    """The figure(s) of kind ``name`` for an experiment result, ``[(file stem, Figure)]``,
    and the data files its builder wrote (``{file name: text or bytes}``; empty for most
    kinds).

    ``options`` are the config's options of this kind (already validated); those it does
    not give take their defaults. ``saved``: redraw from a saved output, the kind's data
    files read back (``FigureKind.redraw``; kinds without one are built from the saved
    result, which is refused for a kind with runs of its own: ``ValueError``).
    """
    values = option_defaults(name) | dict(options or {})
    kind = get(name)
    if saved is None:
        out = kind.build(result, colors, values)
    elif kind.redraw is not None:
        out = kind.redraw(result, colors, values, saved)
    elif kind.work is None:
        out = kind.build(result, colors, values)
    else:
        raise ValueError(f"figure kind {name!r} runs its own runs and has no redraw")
    figs, data = (out.figures, dict(out.data)) if isinstance(out, Drawn) else (out, {})
    for file_name in data:  # beside its images, never in place of another output
        stem, dot, ext = file_name.partition(".")
        if not (stem == name or stem.startswith(f"{name}_")) or not dot or not ext.isalnum():
            raise ValueError(f"figure kind {name!r} wrote a data file named {file_name!r}")
    return list(zip(stems(name, len(figs)), figs, strict=True)), data


def figures_of(
    name: str, result: Any, colors: Any, options: Mapping[str, Any] | None = None
) -> list[tuple[str, Any]]:
    """The figure(s) of kind ``name`` for an experiment result: ``[(file stem, Figure)]``
    (:func:`draw` without the data files)."""
    return draw(name, result, colors, options)[0]


def missing_needs(config: Any) -> list[tuple[str, Need]]:
    """``(kind, need)`` for each need of the config's figures that it does not meet."""
    return [(n, need) for n in config.figures for need in get(n).needs if not need.met(config)]


def schema_line() -> str:
    """The ``figures:`` lines of the config schema (:data:`optiviz.config.SCHEMA`), the
    names wrapped to the schema's width."""
    import textwrap

    names = textwrap.wrap(", ".join(FIGURE_NAMES), 50)
    lines = [f"figures: [{names[0]}" + ("]" if len(names) == 1 else "")]
    lines += [f"          {n}" for n in names[1:]]
    lines[-1] += "]" if len(names) > 1 else ""
    lines[-1] = f"{lines[-1]:<59}   (default [{', '.join(default_figures())}])"
    from optiviz.figures._options import COMMON

    common = [o.name for o in COMMON]
    own = [k.name for k in kinds() if any(o.name not in common for o in k.options)]
    if own or common:
        lines.append("    an item may be {KIND: {option: value}} to set that figure's options")
        text = (
            f"(every kind: {', '.join(common)}; more for: {', '.join(own)}; see docs/config.md)"
            if common
            else f"(kinds with options: {', '.join(own)}; see docs/config.md)"
        )
        lines += [f"    {ln}" for ln in textwrap.wrap(text, 84)]
    return "\n".join(lines) + "\n"


def _files(kind: FigureKind) -> str:
    if not kind.each:
        return f"`{kind.name}.<format>`"
    return f"`{kind.name}.<format>`, `{kind.name}_2.<format>`, ... (one per {kind.each})"


def options_table() -> str:
    """The docs table of every kind's options (docs/config.md, generated)."""
    rows = [
        "| figure | option | allowed | default | what it does |",
        "| --- | --- | --- | --- | --- |",
    ]
    for k in kinds():
        for o in k.options:
            default = "decided by the figure" if o.default is None else f"`{o.default!r}`"
            rows.append(
                f"| `{k.name}` | `{o.name}` | {o.constraint.describe()} | {default} | {o.doc} |"
            )
    return "\n".join(rows)


def markdown_table() -> str:
    """The docs table of figure kinds (docs/config.md, generated by docs/make_docs.py)."""
    rows = ["| figure | what it draws | files | needs |", "| --- | --- | --- | --- |"]
    for k in kinds():
        needs = "; ".join(n.text for n in k.needs) or "-"
        rows.append(f"| `{k.name}` | {k.doc} | {_files(k)} | {needs} |")
    return "\n".join(rows)
