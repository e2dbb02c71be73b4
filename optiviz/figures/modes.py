"""The ``modes`` figure: the error along each Hessian eigenvector against the step, measured
and in closed form (:mod:`optiviz.analysis.modes`), one panel per single-run entry; data
in ``modes.csv``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz._validation import Interval, OrNone
from optiviz.figures.registry import PER_STEP, Drawn, FigureKind, Need, Option, register

#: Panels per figure.
MAX_PANELS = 6


def _minimum_problem(config: Any) -> str | None:
    opts = dict(getattr(config, "figure_options", {}) or {}).get("modes", {}) or {}
    i = opts.get("entry")
    n = len(config.optimizers)
    if i is not None and i >= n:
        return f": its entry {i} does not exist (the config has {n} entries)"
    singles = [o for o in config.optimizers if not o.is_grid]
    if not singles:
        return ": every entry is a grid; modes draws single runs (an entry without grids)"
    return None


SINGLE_RUN = Need(
    "a single-run entry (not a grid)",
    lambda config: _minimum_problem(config) is None,
    lambda kind, config: _minimum_problem(config) or "",
)


def _nearest(minima: list, x: Any) -> Any:
    import numpy as np

    good = [m for m in minima if m.positive_definite]
    if not good:
        return None
    d = [float(np.linalg.norm(np.asarray(m.point) - np.asarray(x))) for m in good]
    return good[int(np.argmin(d))]


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """One panel per single-run entry (or the option's entry), and ``modes.csv``."""
    from optiviz.analysis.modes import modes
    from optiviz.optimizers import make_optimizer
    from optiviz.plotting.maps import modes as draw_modes

    config = result.config
    minima = list(getattr(result.analysis, "minima", []) or [])
    items: list[tuple[str, Any]] = []
    rows = [["entry", "label", "step", "mode", "eigenvalue", "measured", "closed_form"]]
    for spec, traj in zip(config.optimizers, result.trajectories, strict=False):
        if options["entry"] is not None and spec.index != options["entry"]:
            continue
        if traj.batched or traj.points is None or len(items) >= MAX_PANELS:
            continue
        m = _nearest(minima, traj.final_point)
        if m is None:
            continue
        opt = None
        if spec.schedule is None:
            opt = make_optimizer(traj.optimizer, **dict(traj.hyperparameters))
        md = modes(traj.points, m, opt)
        label = spec.label or traj.optimizer_label
        items.append((label, md))
        rows.extend(md.to_rows(spec.index, label.replace(",", ";")))
    if not items:
        return Drawn([], {})
    where = "x* = (" + ", ".join(f"{v:.4g}" for v in items[0][1].point) + ")"
    fig = draw_modes(
        items,
        title=options.get("title")
        or f"error along each Hessian eigenvector at {where}: measured (colour), closed form "
        "(dashed)",
        figsize=options.get("size"),
        dpi=options.get("dpi"),
    )
    text = "\n".join(",".join(r) for r in rows) + "\n"
    return Drawn([fig], {"modes.csv": text})


KIND = register(
    FigureKind(
        name="modes",
        build=build,
        doc="the error along each Hessian eigenvector at the minimum against the step, "
        "log scale, with the closed form of the method's linear iteration ((1 - lr "
        "lambda_i)^t for GD, the 2x2 recurrence for heavy ball) dashed; data in `modes.csv`",
        needs=(PER_STEP, SINGLE_RUN),
        order=61,
        options=(
            Option(
                "entry",
                OrNone(Interval("int", 0, None), "null"),
                None,
                "the one optimizer entry to draw (default: every single-run entry, up to 6)",
            ),
        ),
    )
)
