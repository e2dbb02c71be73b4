"""The ``effective_lr`` figure: each run's per-coordinate effective learning rate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz.figures._surface import caption, common
from optiviz.figures.registry import PER_STEP, FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.effective_lr` of the runs that recorded it (the
    first-order ones when there are any)."""
    from optiviz.optimizers import get_class
    from optiviz.plotting import effective_lr

    runs = [t for t in result.trajectories if t.effective_lr is not None]
    # Newton-type and line-search steps span many decades and would flatten every other
    # panel on the shared axis: left out when fixed-step first-order runs are present
    first_order = [
        t
        for t in runs
        if get_class(t.optimizer).order == 1 and not get_class(t.optimizer).searches_step
    ]
    kw = common(options)
    kw.setdefault("title", f"effective learning rate: {caption(result)}")
    return [effective_lr(first_order or runs, colors=colors, **kw)]


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
