"""The ``contour`` figure: the surface's contours with every run's path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz.figures._surface import plane_and_marks
from optiviz.figures.registry import FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.contour` of the surface with every entry's runs."""
    from optiviz.plotting import contour

    projection, marks = plane_and_marks(result)
    fig = contour(
        result.surface, result.trajectories, analysis=marks, projection=projection, colors=colors
    )
    return [fig]


KIND = register(
    FigureKind(
        name="contour",
        build=build,
        doc="filled contours of f (log levels where the values span decades) with every "
        "run's path, start, end, divergence point and the known minima; for one variable, "
        "f(x) with the iterates",
        draws_surface=True,
        default=True,
        order=10,
    )
)
