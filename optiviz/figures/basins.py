"""The ``basins`` figure: for each optimizer entry, which minimum each start of a grid over
the window reaches (:func:`optiviz.analysis.basins.basins`, one batched run per entry),
with ``basins.csv`` beside the image."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from optiviz._validation import Interval, OrNone
from optiviz.figures.registry import TWO_VARIABLES, Drawn, FigureKind, Need, Option, register


def _single_entry(config: Any) -> bool:
    return any(not o.is_grid for o in config.optimizers)


def _only_grids(kind: str, config: Any) -> str:
    return (
        ": every optimizer entry is a grid of hyperparameters; a basins figure runs one "
        "optimizer (an entry without a grid) from a grid of starts"
    )


#: An entry that is one optimizer (no grid of hyperparameters).
SINGLE_ENTRY = Need("an optimizer entry without a hyperparameter grid", _single_entry, _only_grids)


def plane_of(result: Any) -> tuple[int, int]:
    """The grid's two variables: the config's ``projection`` pair, else the first two."""
    proj = result.config.projection
    variables = list(result.surface.variables)
    if isinstance(proj, tuple) and len(proj) == 2:
        return variables.index(proj[0]), variables.index(proj[1])
    return 0, 1


def numbered_minima(analysis: Any) -> list[tuple[int, Any]]:
    """``(number, point)`` of each minimum of the analysis, numbered by its 1-based
    position in ``analysis.stationary_points`` (the report table's ``#`` column)."""
    if analysis is None:
        return []
    return [
        (i, np.asarray(p.point, dtype=float))
        for i, p in enumerate(analysis.stationary_points, 1)
        if p.kind == "minimum"
    ]


def entry_run_settings(traj: Any) -> dict[str, Any]:
    """The engine settings an entry's runs had (tolerances, bound, mini-batches)."""
    s = dict(getattr(traj, "settings", {}) or {})
    return {k: s.get(k) for k in ("tol_grad", "tol_loss", "divergence_bound", "batch_size", "seed")}


def entry_schedule(spec: Any) -> Any:
    """The entry's learning-rate schedule object (None without one)."""
    if spec.schedule is None:
        return None
    from optiviz.schedules import make_schedule

    return make_schedule(spec.schedule.name, **spec.schedule.params)


def compute(result: Any, options: Mapping[str, Any]) -> list[tuple[int, str, Any]]:
    """``(entry index, label, Basins)`` for every entry that is one optimizer."""
    from optiviz.analysis.basins import basins
    from optiviz.optimizers import make_optimizer

    config = result.config
    surface = result.surface
    axes = plane_of(result)
    minima = numbered_minima(result.analysis)
    out = []
    for spec, traj in zip(config.optimizers, result.trajectories, strict=True):
        if spec.is_grid:
            continue
        opt = make_optimizer(traj.optimizer, **dict(traj.hyperparameters))
        steps = options.get("steps") or config.steps_of(spec)
        b = basins(
            surface,
            opt,
            minima=minima,
            steps=int(steps),
            resolution=int(options["resolution"]),
            axes=axes,
            base=np.asarray(config.start, dtype=float),
            tolerance=options.get("tolerance"),
            schedule=entry_schedule(spec),
            **entry_run_settings(traj),
        )
        label = f"{spec.label or traj.optimizer_label}: {b.steps} steps"
        out.append((spec.index, label, b))
    return out


def work(config: Any, options: Mapping[str, Any]) -> tuple[int, int]:
    """The run-steps and memory of the basins runs: resolution^2 starts per entry without a
    grid, each for the figure's (or the entry's) steps, with the step's evaluations counted
    as for the entry itself; memory the final-only records of one entry's runs plus the
    optimizer state (a few n-vectors per run)."""
    from optiviz.config.cost import entry_cost

    runs = int(options["resolution"]) ** 2
    n = len(config.variables) or 2
    total, largest = 0, 0
    for spec in config.optimizers:
        if spec.is_grid:
            continue
        steps = int(options.get("steps") or config.steps_of(spec))
        cost = entry_cost(spec, steps, "final", n, starts=runs)
        total += cost.work
        largest = max(largest, cost.record_bytes + cost.temp_bytes + 8 * 8 * runs * n)
    return total, largest


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """One figure with a panel per entry, and ``basins.csv``."""
    return _drawn(result, options, compute(result, options))


def _saved_file(data: Mapping[str, bytes], name: str) -> str:
    """The text of the saved data file ``name`` (OptivizError when it is missing)."""
    from optiviz.errors import OptivizError

    if name not in data:
        raise OptivizError(f"the saved data file {name} is missing")
    try:
        return data[name].decode("utf-8")
    except UnicodeDecodeError:
        raise OptivizError(f"the saved data file {name} is not UTF-8 text") from None


def read_csv(text: str, result: Any, options: Mapping[str, Any]) -> list[tuple[int, str, Any]]:
    """``(entry index, label, Basins)`` read back from ``basins.csv`` (:func:`compute`'s
    result without its runs): the starts and outcomes from the file; the plane, the
    minima, the tolerance and the steps as :func:`compute` sets them (the final points,
    which the file does not hold and the figure does not draw, are nan)."""
    import csv
    import io

    from optiviz.analysis.basins import DIVERGED, NOT_CONVERGED, Basins
    from optiviz.errors import OptivizError

    config, surface = result.config, result.surface
    variables = list(surface.variables)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != [*variables, "entry", "outcome"]:
        head = ",".join(rows[0]) if rows else "(empty)"
        raise OptivizError(
            f"basins.csv: expected the columns {','.join([*variables, 'entry', 'outcome'])}; "
            f"got {head}"
        )
    n = len(variables)
    codes = {"not_converged": NOT_CONVERGED, "diverged": DIVERGED}
    by_entry: dict[int, tuple[list, list]] = {}
    for k, row in enumerate(rows[1:], 2):
        if len(row) != n + 2:
            raise OptivizError(f"basins.csv line {k}: {len(row)} cells, expected {n + 2}")
        try:
            point = [float(v) for v in row[:n]]
            entry = int(row[n])
            outcome = codes[row[n + 1]] if row[n + 1] in codes else int(row[n + 1])
        except ValueError:
            raise OptivizError(f"basins.csv line {k}: not a start, entry and outcome") from None
        starts, outcomes = by_entry.setdefault(entry, ([], []))
        starts.append(point)
        outcomes.append(outcome)
    axes = plane_of(result)
    minima = numbered_minima(result.analysis)
    numbers = tuple(int(k) for k, _ in minima)
    points = np.array([p for _, p in minima]) if minima else np.zeros((0, n))
    w = np.asarray(surface.window, dtype=float)
    tolerance = options.get("tolerance")
    if tolerance is None:
        tolerance = 0.01 * float(np.max(w[:, 1] - w[:, 0]))
    out = []
    for entry, (starts, outcomes) in by_entry.items():
        if not 0 <= entry < len(config.optimizers):
            raise OptivizError(f"basins.csv: entry {entry} is not an entry of the config")
        spec, traj = config.optimizers[entry], result.trajectories[entry]
        res = int(round(math.sqrt(len(starts))))
        if res * res != len(starts) or res < 2:
            raise OptivizError(f"basins.csv: entry {entry} has {len(starts)} starts, not a grid")
        S = np.asarray(starts, dtype=float)
        steps = int(options.get("steps") or config.steps_of(spec))
        b = Basins(
            axes=axes,
            variables=tuple(variables),
            xs=S[:res, axes[0]].copy(),
            ys=S[::res, axes[1]].copy(),
            starts=S,
            outcome=np.asarray(outcomes, dtype=np.int64),
            minima=numbers,
            points=points,
            final_points=np.full_like(S, np.nan),
            steps=steps,
            tolerance=float(tolerance),
        )
        out.append((entry, f"{spec.label or traj.optimizer_label}: {b.steps} steps", b))
    return out


def redraw(
    result: Any, colors: Any, options: Mapping[str, Any], data: Mapping[str, bytes]
) -> Drawn:
    """The figure again from ``basins.csv`` (no runs)."""
    if not any(not spec.is_grid for spec in result.config.optimizers):
        return Drawn([], {})
    return _drawn(result, options, read_csv(_saved_file(data, "basins.csv"), result, options))


def _drawn(result: Any, options: Mapping[str, Any], found: list[tuple[int, str, Any]]) -> Drawn:
    """The figure of ``found`` (:func:`compute` or :func:`read_csv`) and ``basins.csv``."""
    from optiviz._format import fmt_point
    from optiviz.analysis.basins import basins_csv
    from optiviz.plotting.basins import basins as draw_basins

    if not found:
        return Drawn([], {})
    res = found[0][2].resolution
    n = result.surface.n
    pts = {k: p for k, p in numbered_minima(result.analysis)}
    names = [f"minimum #{k} {fmt_point(pts[k])}" for k in found[0][2].minima]
    held = ""
    if n > 2:
        i, j = found[0][2].axes
        others = [v for m, v in enumerate(result.surface.variables) if m not in (i, j)]
        held = f"; {', '.join(others)} held at the start"
    title = options.get("title") or (
        f"Basins of attraction on {result.surface.name}: {res} x {res} starts, tolerance "
        f"{found[0][2].tolerance:.3g}{held}"
    )
    kw: dict[str, Any] = {}
    if options.get("size") is not None:
        kw["figsize"] = tuple(options["size"])
    if options.get("dpi") is not None:
        kw["dpi"] = options["dpi"]
    fig = draw_basins(
        [b for _, _, b in found],
        [label for _, label, _ in found],
        minima_labels=names,
        title=title,
        **kw,
    )
    csv = basins_csv([(entry, b) for entry, _, b in found])
    return Drawn([fig], {"basins.csv": csv})


KIND = register(
    FigureKind(
        name="basins",
        build=build,
        doc="for each optimizer entry, a grid of starts over the window coloured by the "
        "minimum each run reaches (diverged and not converged marked), one batched run per "
        "entry; `basins.csv` beside it",
        needs=(TWO_VARIABLES, SINGLE_ENTRY),
        order=60,
        work=work,
        redraw=redraw,
        options=(
            Option(
                "resolution",
                Interval("int", 2, 1000),
                300,
                "starts per side of the grid (resolution x resolution runs per entry)",
            ),
            Option(
                "steps",
                OrNone(Interval("int", 1, 100_000), "null"),
                None,
                "steps of every run (null: the entry's steps)",
            ),
            Option(
                "tolerance",
                OrNone(Interval("float", 0.0, None, closed="neither"), "null"),
                None,
                "largest final distance from a minimum that counts as reaching it "
                "(null: 1% of the window's largest side)",
            ),
        ),
    )
)
