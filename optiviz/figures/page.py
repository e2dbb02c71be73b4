"""The ``page`` figure: one self-contained interactive ``page.html`` (no image) -- the
contour with one entry's path, sliders over a learning-rate grid (and a second
hyperparameter) precomputed in one batched run, a step slider with play/pause, the values
at the hovered iterate, a loss panel and the report's learning-rate table
(:mod:`optiviz.page`).

Options (``figures: [{page: {...}}]``)::

    entry: 0                                   # the optimizer entry swept
    lr: {logspace: [-4, -2, 40]}               # the learning rates (default: the entry's
                                               # lr grid, else its lr /10 .. x10, 21 values)
    second: {momentum: {linspace: [0, 0.95, 20]}}   # a second slider (default: the
                                               # entry's one other grid, else none)
    steps: null                                # default: the entry's steps

The runs start at the config's (first) start with the entry's schedule and the config's
tolerances, full-batch, and keep every iterate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz._validation import Constraint, Interval, Invalid, OrNone
from optiviz.figures._options import WINDOW
from optiviz.figures.contour import KIND as CONTOUR
from optiviz.figures.rate_map import SweepAxis
from optiviz.figures.registry import Drawn, FigureKind, Need, Option, register

#: Runs (settings) of one page, and iterates (runs x (steps + 1)) kept: 40 x 20 x 201 is
#: 160 800 (a page of about 2.6 MB); the limit keeps a page under about 20 MB.
MAX_RUNS = 10_000
MAX_ITERATES = 1_000_000


class Grid(Constraint):
    """One axis's values without a name: ``{logspace | linspace: [a, b, n]}`` or
    ``{values: [...]}`` (checked as :class:`~optiviz.figures.rate_map.SweepAxis`)."""

    def __init__(self, name: str):
        self.name = name
        self.inner = SweepAxis()

    def describe(self) -> str:
        return (
            "a grid {logspace: [a, b, n]} (10^a .. 10^b), {linspace: [a, b, n]} (a < b, "
            "2 <= n <= 1000) or {values: [increasing numbers]}"
        )

    def check(self, value: Any) -> Any:
        try:
            return self.inner.check({self.name: value})[self.name]
        except Invalid as exc:
            at = exc.at[1:] if exc.at[:1] == (self.name,) else exc.at
            raise Invalid(exc.value, exc.allowed or self.describe(), exc.hint, at) from None


OPTIONS = (
    Option("entry", Interval("int", 0, None), 0, "the optimizer entry whose runs the page sweeps"),
    Option(
        "lr",
        OrNone(Grid("lr"), "null"),
        None,
        "the learning rates of the lr slider: {logspace: [a, b, n]}, linspace or values "
        "(default: the entry's lr grid, else its lr /10 .. x10 in 21 log-spaced values)",
    ),
    Option(
        "second",
        OrNone(SweepAxis(), "null"),
        None,
        "a second slider: {hyperparameter: {linspace: [a, b, n]}} (or logspace, values); "
        "default: the entry's one other grid, else none",
    ),
    Option(
        "steps",
        OrNone(Interval("int", 1, 100_000), "null"),
        None,
        "steps of every run (null: the entry's steps)",
    ),
    WINDOW,
    CONTOUR.option("levels"),
    CONTOUR.option("level_scale"),
)


def _options(config: Any) -> dict[str, Any]:
    given = dict(getattr(config, "figure_options", {}) or {}).get("page", {}) or {}
    return {o.name: o.default for o in OPTIONS} | dict(given)


def _problem(config: Any) -> str | None:
    """Why the config's page options do not fit its entries (None: they do)."""
    from optiviz.optimizers import REGISTRY
    from optiviz.page.sweep import check_axes, sweep_axes

    opts = _options(config)
    entries = list(config.optimizers)
    i = opts["entry"]
    if i >= len(entries):
        return f": its entry {i} does not exist (the config has {len(entries)} entries)"
    spec = entries[i]
    cls = REGISTRY.get(spec.name)
    if cls is None:
        return None  # the entry's own error says why
    if "lr" not in cls.params:
        return f": optimizers[{i}] ({spec.name}) has no learning rate to sweep"
    second_name = None if opts["second"] is None else next(iter(opts["second"]))
    others = [k for k in spec.grids if k not in ("lr", second_name)]
    if opts["second"] is None and len(others) == 1:
        others = []  # the entry's one other grid is the second slider
    if others:
        return (
            f": optimizers[{i}] sweeps {', '.join(others)}; the page sweeps lr and at most one "
            "more hyperparameter (give the entry's others one value each)"
        )
    if spec.batch_size is not None:
        return f": optimizers[{i}] runs mini-batches; the page runs full-batch (drop batch_size)"
    lr, second = sweep_axes(spec, opts, None)
    runs = (lr.size if lr is not None else 1) * (second.size if second is not None else 1)
    steps = int(opts["steps"] or config.steps_of(spec))
    if runs > MAX_RUNS:
        return f": {runs} settings; at most {MAX_RUNS} per page"
    if runs * (steps + 1) > MAX_ITERATES:
        return (
            f": {runs} settings x {steps + 1} iterates is more than {MAX_ITERATES} iterates per "
            "page (the page would be too large to load): fewer values or steps"
        )
    return check_axes(spec, lr, second)


PAGE_OPTIONS = Need(
    "a surface of exactly two variables, and options that fit the entry (a learning rate "
    "to sweep, a second hyperparameter it has, values in their ranges)",
    # (no variables: a config read without building its surface, e.g. by `optiviz plot`;
    # the check runs again where the surface is built)
    lambda config: len(config.variables) in (0, 2) and _problem(config) is None,
    lambda kind, config: (
        f": the surface has {len(config.variables)} variable"
        f"{'' if len(config.variables) == 1 else 's'} ({', '.join(config.variables)}); the "
        "page draws a contour of exactly two"
        if len(config.variables) not in (0, 2)
        else _problem(config) or ""
    ),
)


def work(config: Any, options: Mapping[str, Any]) -> tuple[int, int]:
    """The run-steps and memory of the page's sweep: one run per setting for the page's (or
    the entry's) steps, with the step's evaluations counted as for the entry, keeping every
    iterate (``record: all``) and its gradient. (0, 0) while the options do not fit
    (validation refuses them)."""
    from optiviz.config.cost import entry_cost
    from optiviz.page.sweep import replace_grids, sweep_axes

    entries = list(config.optimizers)
    i = options.get("entry", 0)
    if i >= len(entries) or len(config.variables) != 2:
        return 0, 0
    opts = {o.name: o.default for o in OPTIONS} | dict(options)
    spec = entries[i]
    try:
        lr, second = sweep_axes(spec, opts, None)
    except (KeyError, ValueError):  # an unknown optimizer: its own error says why
        return 0, 0
    # a relative lr grid has as many values as its factors; a relative lr alone 21
    rel = getattr(spec.lr_times_eta_opt, "values", None)
    n_lr = lr.size if lr is not None else len(rel) if rel is not None else 21
    runs = n_lr * (second.size if second is not None else 1)
    steps = int(opts.get("steps") or config.steps_of(spec))
    cost = entry_cost(replace_grids(spec), steps, "all", 2, starts=runs)
    # the gradients (2 floats per iterate) beside the engine's records
    return cost.work, cost.record_bytes + 8 * 2 * runs * (steps + 1)


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """Run the sweep (one batched run) and write ``page.html``."""
    from optiviz.page import build_page

    return Drawn([], {"page.html": build_page(result, colors, options)})


def redraw(
    result: Any, colors: Any, options: Mapping[str, Any], data: Mapping[str, bytes]
) -> Drawn:
    """The saved page again (``optiviz plot``): the page holds its own sweep, so the saved
    ``page.html`` is the redraw (no runs)."""
    from optiviz.figures.basins import _saved_file

    return Drawn([], {"page.html": _saved_file(data, "page.html")})


KIND = register(
    FigureKind(
        name="page",
        build=build,
        redraw=redraw,
        work=work,
        doc="an interactive, self-contained `page.html` (works offline from file://): the "
        "contour with one entry's path, sliders over a learning-rate grid and a second "
        "hyperparameter (one batched run), a step slider with play/pause, x, f, the "
        "gradient and the step at the hovered iterate, a loss panel and the learning-rate "
        "table",
        needs=(PAGE_OPTIONS,),
        order=90,
        options=OPTIONS,
    )
)
