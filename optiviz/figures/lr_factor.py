"""The ``lr_factor`` figure: each optimizer's own learning-rate factor, per coordinate.

Not the step per unit gradient that ``effective_lr`` shows for every method alike, but the
factor each family defines (``Trajectory.lr_factor``, named by the class's
``lr_factor_name``): Adam's multiplier of m-hat (notes eq. 18), Rprop's step sizes, AdaGrad's
lr / sqrt(G), ... The figure worked problem E asks about.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz.figures._surface import caption, common
from optiviz.figures.registry import PER_STEP, FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.effective_lr` with ``quantity="lr_factor"`` of the runs
    that recorded it."""
    from optiviz.plotting import effective_lr
    from optiviz.plotting.curves import _factor_names

    runs = [t for t in result.trajectories if t.lr_factor is not None]
    kw = common(options)
    names = "; ".join(_factor_names(runs) or ["each optimizer"])
    kw.setdefault("title", f"lr factor of {names}\n{caption(result)}")
    return [effective_lr(runs, quantity="lr_factor", colors=colors, **kw)]


KIND = register(
    FigureKind(
        name="lr_factor",
        build=build,
        doc="each optimizer's own learning-rate factor per step and coordinate (Adam's "
        "multiplier of m-hat, Rprop's step sizes, ...), named in the title",
        needs=(PER_STEP,),
        order=45,
    )
)
