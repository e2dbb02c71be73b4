"""The ``effective_lr`` figure: each run's per-coordinate effective learning rate."""

from __future__ import annotations

from typing import Any

from optiviz.figures.registry import PER_STEP, FigureKind, register

#: Left out of the effective-learning-rate figure when other runs are present: their
#: "effective learning rate" is a step length along a curvature-scaled direction that
#: spans many decades and would flatten every other panel on the shared axis.
SECOND_ORDER = ("newton", "line_search", "armijo")


def build(result: Any, colors: Any) -> list[Any]:
    """One :func:`optiviz.plotting.effective_lr` of the runs that recorded it (the
    first-order ones when there are any)."""
    from optiviz.plotting import effective_lr

    runs = [t for t in result.trajectories if t.effective_lr is not None]
    first_order = [t for t in runs if t.optimizer not in SECOND_ORDER]
    return [effective_lr(first_order or runs, colors=colors)]


KIND = register(
    FigureKind(
        name="effective_lr",
        build=build,
        doc="each optimizer's per-coordinate effective learning rate per step (Newton-type "
        "methods are left out when first-order runs are present)",
        needs=(PER_STEP,),
        order=40,
    )
)
