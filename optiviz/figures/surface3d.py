"""The ``surface3d`` figure: the surface in 3-D with the paths on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz.figures._surface import plane_and_marks
from optiviz.figures.registry import TWO_VARIABLES, FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.surface3d` of the surface with every entry's runs."""
    from optiviz.plotting import surface3d

    projection, marks = plane_and_marks(result)
    fig = surface3d(
        result.surface, result.trajectories, analysis=marks, projection=projection, colors=colors
    )
    return [fig]


KIND = register(
    FigureKind(
        name="surface3d",
        build=build,
        doc="the surface in 3-D with the paths",
        needs=(TWO_VARIABLES,),
        draws_surface=True,
        order=20,
    )
)
