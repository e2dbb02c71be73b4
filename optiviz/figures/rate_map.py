"""The ``rate_map`` figure: a grid over two hyperparameters of one optimizer entry, run as
one batched run, coloured by a measured quantity, with the linear theory drawn on (see
:mod:`optiviz.analysis.maps`), and its data as ``rate_map.csv``.

Options (``figures: [{rate_map: {...}}]``)::

    x: {lr: {logspace: [-3, 0, 200]}}          # the horizontal axis: a hyperparameter
    y: {momentum: {linspace: [0, 0.99, 200]}}  # and its values (logspace: a log axis)
    entry: 0                                   # the optimizer entry whose settings the
                                               # other hyperparameters take
    quantity: rate                             # rate | steps_to_tol | final_loss
    tol: 1e-10                                 # f - f* where a cell stops (steps_to_tol)

The map's runs start where the config's runs start, for the entry's steps (after any
``--steps`` cap), with its schedule, full-batch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from optiviz._validation import Choice, Constraint, Interval, Invalid, OrNone
from optiviz.errors import OptivizError
from optiviz.figures.registry import Drawn, FigureKind, Need, Option, register

#: Values per axis, and cells per map.
MAX_AXIS = 1000
MAX_CELLS = 250_000
_FORMS = ("logspace", "linspace", "values")
_GRID = "{NAME: {logspace: [a, b, n]}}, {NAME: {linspace: [a, b, n]}} or {NAME: {values: [...]}}"


class SweepAxis(Constraint):
    """One axis of a map: ``{hyperparameter: {logspace | linspace: [a, b, n]}}`` or
    ``{hyperparameter: {values: [v1, v2, ...]}}`` (increasing, 2 to :data:`MAX_AXIS`
    values; logspace exponents within [-300, 300]). ``check`` returns the mapping as given
    (numbers as floats, n as an int)."""

    def describe(self) -> str:
        return (
            f"a mapping {{hyperparameter: grid}} with one key, the grid one of "
            f"{{logspace: [a, b, n]}}, {{linspace: [a, b, n]}} (a < b, 2 <= n <= {MAX_AXIS}) "
            "or {values: [increasing numbers]}"
        )

    def check(self, value: Any) -> Any:
        if not isinstance(value, Mapping) or len(value) != 1:
            raise Invalid(value, self.describe())
        ((name, grid),) = value.items()
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*(\[[01]\])?", name):
            raise Invalid(
                name, "a hyperparameter name (NAME[0] / NAME[1]: a pair's element)", at=(name,)
            )
        if not isinstance(grid, Mapping) or len(grid) != 1 or next(iter(grid)) not in _FORMS:
            raise Invalid(grid, f"one of {_GRID}", at=(name,))
        ((form, args),) = grid.items()
        at = (name, form)
        if form == "values":
            if not isinstance(args, (list, tuple)) or not 2 <= len(args) <= MAX_AXIS:
                raise Invalid(args, f"a list of 2 to {MAX_AXIS} increasing numbers", at=at)
            vals = [_finite(v, at) for v in args]
            if any(b <= a for a, b in zip(vals, vals[1:], strict=False)):
                raise Invalid(args, "increasing numbers", at=at)
            return {name: {form: vals}}
        if not isinstance(args, (list, tuple)) or len(args) != 3:
            raise Invalid(args, f"[a, b, n]: {form} from a to b in n points", at=at)
        a, b = _finite(args[0], at), _finite(args[1], at)
        n = args[2]
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_AXIS:
            raise Invalid(n, f"an int n in the range [2, {MAX_AXIS}]", at=(*at, 2))
        if not a < b:
            raise Invalid(args, "[a, b, n] with a < b", at=at)
        if form == "logspace" and max(abs(a), abs(b)) > 300:
            raise Invalid(args, "exponents a, b within [-300, 300] (10^a .. 10^b)", at=at)
        return {name: {form: [a, b, n]}}


def _finite(v: Any, at: tuple) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise Invalid(v, "a finite number", at=at)
    return float(v)


def axis_of(option: Mapping[str, Any]) -> Any:
    """The :class:`~optiviz.analysis.maps.Axis` an ``x`` / ``y`` option describes."""
    import numpy as np

    from optiviz.analysis.maps import Axis

    ((name, grid),) = option.items()
    ((form, args),) = grid.items()
    if form == "logspace":
        return Axis(name, np.logspace(args[0], args[1], int(args[2])), log=True)
    if form == "linspace":
        return Axis(name, np.linspace(args[0], args[1], int(args[2])), log=False)
    return Axis(name, np.asarray(args, dtype=float), log=False)


#: The options (also read by the config check of :data:`MAP_OPTIONS`).
OPTIONS = (
    Option(
        "x",
        OrNone(SweepAxis(), "null"),
        None,
        "horizontal axis: {hyperparameter: {logspace: [a, b, n]}} (a log axis), linspace or values",
    ),
    Option("y", OrNone(SweepAxis(), "null"), None, "required: the vertical axis, as x"),
    Option(
        "entry",
        Interval("int", 0, None),
        0,
        "the optimizer entry whose other hyperparameters, steps and schedule the map uses",
    ),
    Option(
        "quantity",
        Choice(("rate", "steps_to_tol", "final_loss")),
        "rate",
        "the colour: the fitted linear rate of the error sqrt(f - f*) over the "
        "tail, the steps to reach f - f* <= tol, or the final loss",
    ),
    Option(
        "tol",
        OrNone(Interval("float", 0.0, None, closed="neither"), "null"),
        None,
        "f - f* at which a cell stops (default: the config's tolerance.loss; "
        "1e-10 for steps_to_tol; else cells never stop)",
    ),
)


def _problem(config: Any) -> str | None:
    """Why the config's rate_map options do not fit its entries (None: they do)."""
    import numpy as np

    from optiviz.optimizers import REGISTRY

    options = dict(getattr(config, "figure_options", {}) or {}).get("rate_map", {}) or {}
    opts = {o.name: o.default for o in OPTIONS} | dict(options)
    entries = list(config.optimizers)
    i = opts["entry"]
    if i >= len(entries):
        return f": its entry {i} does not exist (the config has {len(entries)} entries)"
    spec = entries[i]
    if opts["x"] is None or opts["y"] is None:
        return (
            ": it needs the options x and y, the two hyperparameters to sweep, e.g. "
            "{rate_map: {x: {lr: {logspace: [-3, 0, 200]}}, y: {momentum: {linspace: "
            "[0, 0.99, 200]}}}}"
        )
    cls = REGISTRY.get(spec.name)
    if cls is None:
        return None  # the entry's own error says why
    from optiviz.analysis.maps import split_name, sweepable, with_axes

    names = []
    cells = 1
    able = sweepable(cls)
    for key in ("x", "y"):
        ((name, _),) = opts[key].items()
        names.append(name)
        if name not in able:
            return (
                f": {key} sweeps {name!r}, which optimizers[{i}] ({spec.name}) does not have as a "
                f"number; it can sweep {', '.join(able)}"
            )
        base, elem = split_name(name)
        p = cls.params[base]
        c = getattr(p.constraint, "inner") if elem is not None else p.constraint  # noqa: B009
        values = axis_of(opts[key]).values
        bad = c.check_array(values) if hasattr(c, "check_array") else None
        if bad is not None:
            return (
                f": {key} gives {name} the value {values[bad]:g}, out of its range; "
                f"{spec.name}'s {name} must be {c.describe()}"
            )
        if p.kind == "int" and not np.all(values == np.round(values)):
            return f": {key} gives the int hyperparameter {name} values that are not ints"
        cells *= values.size
    if names[0] == names[1]:
        return f": x and y both sweep {names[0]!r}; a map needs two hyperparameters"
    others = [k for k in spec.grids if k not in {split_name(n)[0] for n in names}]
    if others or (
        spec.lr_times_eta_opt is not None and not isinstance(spec.lr_times_eta_opt, (int, float))
    ):
        what = ", ".join(others) or "lr (times_eta_opt)"
        return (
            f": optimizers[{i}] sweeps {what}; the map's entry must give its other "
            "hyperparameters one value each"
        )
    try:  # rules across hyperparameters (e.g. torch's nesterov needs momentum > 0)
        from optiviz.optimizers import make_optimizer

        xs, ys = np.meshgrid(axis_of(opts["x"]).values, axis_of(opts["y"]).values)
        fixed = {k: v for k, v in spec.hyperparameters.items() if k not in names}
        grid = {names[0]: xs.ravel(), names[1]: ys.ravel()}
        make_optimizer(spec.name, **with_axes(cls, fixed, grid))
    except OptivizError as exc:
        return f": optimizers[{i}] ({spec.name}) refuses the map's grid: {exc}"
    if spec.batch_size is not None:
        return f": optimizers[{i}] runs mini-batches; a rate map runs full-batch (drop batch_size)"
    if cells > MAX_CELLS:
        return f": {cells} cells; at most {MAX_CELLS} per map"
    from optiviz.config.schema import MAX_WORK

    steps = spec.steps if spec.steps is not None else getattr(config, "steps", 0)
    if cells * steps > MAX_WORK:
        return f": {cells} cells x {steps} steps is more than {MAX_WORK:.0e} run-steps"
    return None


MAP_OPTIONS = Need(
    "options x and y naming two numeric hyperparameters of the entry (in their ranges)",
    lambda config: _problem(config) is None,
    lambda kind, config: _problem(config) or "",
)


def _inputs(result: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """What the map of ``result`` is run with: the entry, axes, fixed hyperparameters,
    steps, tolerance, schedule and the theory's inputs (the Hessian at the minimum)."""
    import numpy as np

    from optiviz.config import expand_grid

    config = result.config
    spec = config.optimizers[options["entry"]]
    x, y = axis_of(options["x"]), axis_of(options["y"])
    fixed = {
        k: v for k, v in expand_grid(spec, result.eta_opt).items() if k not in (x.name, y.name)
    }
    traj = result.trajectories[options["entry"]]
    tol = options["tol"]
    if tol is None:
        tol = config.tolerance.loss
    if tol is None and options["quantity"] == "steps_to_tol":
        tol = 1e-10
    m_an = getattr(result.analysis, "minimum", None)
    eig = point = None
    exact = False
    if m_an is not None and m_an.positive_definite:
        eig, point, exact = m_an.eigenvalues, m_an.point, bool(m_an.exact)
    schedule = None
    if spec.schedule is not None:
        from optiviz.schedules import make_schedule

        schedule = make_schedule(spec.schedule.name, **spec.schedule.params)
    return {
        "optimizer": spec.name,
        "x": x,
        "y": y,
        "x0": np.asarray(config.start, dtype=float),
        "steps": int(traj.steps),
        "fixed": fixed,
        "x_prev": None if config.start_prev is None else np.asarray(config.start_prev, dtype=float),
        "schedule": schedule,
        "tol": tol,
        "divergence_bound": config.divergence_bound,
        "eigenvalues": None if schedule is not None else eig,
        "minimum": point,
        "f_min": None if result.surface.f_min is not None or m_an is None else float(m_an.value),
        "exact": exact,
    }


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """Run the map (one batched run), draw it, and write ``rate_map.csv``."""
    from optiviz.analysis.maps import rate_map

    return _drawn(rate_map(result.surface, **_inputs(result, options)), options)


def read_csv(text: str, result: Any, options: Mapping[str, Any]) -> Any:
    """The :class:`~optiviz.analysis.maps.RateMap` of ``result`` read back from
    ``rate_map.csv``: the measured cells from the file (which must be the grid of the
    options' axes), the theory recomputed on the grid as :func:`build` computes it (from
    the analysis, no runs)."""
    import csv
    import io

    import numpy as np

    from optiviz.analysis.maps import RateMap, theory_on_grid
    from optiviz.optimizers import get_class

    a = _inputs(result, options)
    x, y = a["x"], a["y"]
    head = [x.name, y.name, "status", "final_loss", "steps_to_tol", "rate", "rate_theory"]
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != head:
        got = ",".join(rows[0]) if rows else "(empty)"
        raise OptivizError(f"rate_map.csv: expected the columns {','.join(head)}; got {got}")
    body = rows[1:]
    if len(body) != x.size * y.size or any(len(r) != len(head) for r in body):
        raise OptivizError(
            f"rate_map.csv: expected {x.size} x {y.size} cells of {len(head)} columns, the "
            "grid of the figure's x and y options"
        )

    def num(v: str) -> float:
        return math.nan if v == "" else float(v)

    try:
        xs = np.array([float(r[0]) for r in body[: x.size]])
        ys = np.array([float(r[1]) for r in body[:: x.size]])
        final = np.array([num(r[3]) for r in body], dtype=float)
        stt = np.array([-1 if r[4] == "" else int(r[4]) for r in body], dtype=np.int64)
        rate = np.array([num(r[5]) for r in body], dtype=float)
    except ValueError:
        raise OptivizError("rate_map.csv: a cell is not a number") from None
    if not (np.array_equal(xs, x.values) and np.array_equal(ys, y.values)):
        raise OptivizError("rate_map.csv: its grid is not the grid of the figure's x and y options")
    shape = (y.size, x.size)
    theory = None
    if a["eigenvalues"] is not None:
        cls = get_class(a["optimizer"])
        theory = theory_on_grid(cls, a["eigenvalues"], x, y, a["fixed"], exact=a["exact"])
    fstar = a["f_min"] if a["f_min"] is not None else result.trajectories[options["entry"]].f_min
    return RateMap(
        optimizer=a["optimizer"],
        x=x,
        y=y,
        fixed=a["fixed"],
        steps=a["steps"],
        status=np.array([r[2] for r in body]).reshape(shape),
        final_loss=final.reshape(shape),
        steps_to_tol=stt.reshape(shape),
        rate=rate.reshape(shape),
        theory=theory,
        f_min=None if fstar is None else float(fstar),
    )


def redraw(
    result: Any, colors: Any, options: Mapping[str, Any], data: Mapping[str, bytes]
) -> Drawn:
    """The map again from ``rate_map.csv`` (no runs)."""
    from optiviz.figures.basins import _saved_file

    return _drawn(read_csv(_saved_file(data, "rate_map.csv"), result, options), options)


def _drawn(m: Any, options: Mapping[str, Any]) -> Drawn:
    from optiviz.plotting.maps import rate_map as draw_map

    fig = draw_map(
        m,
        options["quantity"],
        title=options.get("title"),
        figsize=options.get("size"),
        dpi=options.get("dpi"),
    )
    return Drawn([fig], {"rate_map.csv": m.to_csv()})


def work(config: Any, options: Mapping[str, Any]) -> tuple[int, int]:
    """The run-steps and memory of the map's runs: one run per cell for the entry's steps
    (its evaluations per step counted as for the entry), keeping about a hundred losses per
    cell (the rate fit's windows) and a few n-vectors of state. (0, 0) while the options do
    not name two axes (validation refuses them)."""
    from optiviz.config.cost import entry_cost

    entries = list(config.optimizers)
    i = options.get("entry", 0)
    if options.get("x") is None or options.get("y") is None or i >= len(entries):
        return 0, 0
    cells = axis_of(options["x"]).values.size * axis_of(options["y"]).values.size
    spec = entries[i]
    n = len(config.variables) or 2
    cost = entry_cost(spec, int(config.steps_of(spec)), "final", n, starts=cells)
    # the map's entry has no grid of its own (validation refuses one): one run per cell
    return cost.work, 8 * cells * (101 + 8 * n)


KIND = register(
    FigureKind(
        name="rate_map",
        work=work,
        build=build,
        redraw=redraw,
        doc="a grid over two hyperparameters of one entry (one batched run) coloured by the "
        "measured rate, steps to tolerance or final loss, diverged cells marked, with the "
        "stability boundary, critical damping, optimal pair and regimes of the linear "
        "theory and a theory panel; data in `rate_map.csv`",
        needs=(MAP_OPTIONS,),
        order=60,
        options=OPTIONS,
    )
)
