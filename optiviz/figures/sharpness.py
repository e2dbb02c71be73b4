"""The ``sharpness`` figure: the edge-of-stability picture of each single-run entry
(:func:`optiviz.analysis.edge.edge_of_stability`), with ``sharpness.csv`` beside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optiviz.figures._surface import caption, common, f_star
from optiviz.figures.registry import Drawn, FigureKind, Need, register


def _single_all(config: Any) -> bool:
    return any(not o.is_grid and config.record_of(o) == "all" for o in config.optimizers)


def _no_single_all(kind: str, config: Any) -> str:
    return (
        ": it needs an optimizer entry without a hyperparameter grid recorded with "
        "record: all (the Hessian at every iterate, and a preconditioned method's lr factors)"
    )


#: A single-run entry keeping every iterate and lr factor.
SINGLE_ALL = Need(
    "an optimizer entry without a grid, with `record: all`", _single_all, _no_single_all
)


def compute(result: Any) -> list[tuple[int, str, Any, Any]]:
    """``(entry index, label, losses, EdgeOfStability)`` per single-run entry recorded
    with ``record: all``."""
    from optiviz.analysis.edge import edge_of_stability
    from optiviz.figures.basins import entry_schedule

    config = result.config
    out = []
    for spec, traj in zip(config.optimizers, result.trajectories, strict=True):
        if spec.is_grid or traj.points is None or traj.batched:
            continue
        e = edge_of_stability(traj, result.surface, entry_schedule(spec))
        out.append((spec.index, spec.label or traj.optimizer_label, traj.losses, e))
    return out


def sharpness_csv(found: list[tuple[int, str, Any, Any]]) -> str:
    """One row per (entry, step): lr, the sharpness and its thresholds (empty where a
    quantity does not apply)."""
    cols = (
        "lambda_max",
        "lambda_min",
        "threshold",
        "preconditioned_sharpness",
        "preconditioned_threshold",
    )
    lines = [",".join(("entry", "step", "lr", *cols))]
    for entry, _, _, e in found:
        series = [
            e.lambda_max,
            e.lambda_min,
            e.threshold,
            e.preconditioned,
            e.preconditioned_threshold,
        ]
        for t in range(len(e.steps)):
            cells = [str(entry), str(int(e.steps[t])), repr(float(e.lr[t]))]
            for s in series:
                v = None if s is None else float(s[t])
                cells.append("" if v is None or not np.isfinite(v) else repr(v))
            lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """One figure with a column per entry, and ``sharpness.csv``."""
    from optiviz.plotting.stability import sharpness_panels

    found = compute(result)
    if not found:
        return Drawn([], {})
    kw = common(options)
    title = kw.pop("title", None) or (
        f"Edge of stability on {result.surface.name}: sharpness along each path against "
        "its stability threshold"
        f"\n{caption(result, named=False)}"
    )
    fig = sharpness_panels(
        [(label, losses, e) for _, label, losses, e in found],
        f_min=f_star(result),
        colors=colors,
        title=title,
        **kw,
    )
    return Drawn([fig], {"sharpness.csv": sharpness_csv(found)})


KIND = register(
    FigureKind(
        name="sharpness",
        build=build,
        doc="edge of stability: lambda_max of the Hessian along each path against the "
        "method's threshold (2/lr for GD, (2+2 beta)/lr heavy ball), and for Adam and "
        "RMSprop the preconditioned sharpness against (2+2 beta1)/((1-beta1) lr) "
        "(Cohen et al. 2021, 2022); `sharpness.csv` beside it",
        needs=(SINGLE_ALL,),
        order=70,
    )
)
