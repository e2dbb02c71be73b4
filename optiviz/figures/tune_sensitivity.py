"""The ``tune_sensitivity`` figure: each trial's objective against each searched
hyperparameter, one row per optimizer (the trials of the config's ``tune:`` block)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz.figures._surface import caption, common
from optiviz.figures._tuning import TUNED, loss_f_star, tuning_of
from optiviz.figures.registry import Drawn, FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """One :func:`optiviz.plotting.tune_sensitivity` of the tuning; the trials' numbers
    are tune.csv (written with every tuned run)."""
    from optiviz.plotting import tune_sensitivity

    fig = tune_sensitivity(
        tuning_of(result),
        f_min=loss_f_star(result),
        colors=colors,
        caption=caption(result),
        **common(options),
    )
    return Drawn([fig])


KIND = register(
    FigureKind(
        name="tune_sensitivity",
        build=build,
        doc="the objective of every tuning trial against each searched hyperparameter, one "
        "row per optimizer (best trial starred, diverged trials on the top edge)",
        needs=(TUNED,),
        order=90,
    )
)
