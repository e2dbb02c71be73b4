"""The ``loss`` figure: f(x_t) - f* per step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz.figures.registry import FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.loss` of every entry's runs."""
    from optiviz.plotting import loss

    return [loss(result.trajectories, colors=colors)]


KIND = register(
    FigureKind(
        name="loss",
        build=build,
        doc="f(x_t) - f* (or f(x_t) when f* is unknown) per step, on a log scale (symlog "
        "when values are negative)",
        default=True,
        order=30,
    )
)
