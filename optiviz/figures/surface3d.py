"""The ``surface3d`` figure: the surface in 3-D with the paths on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz._validation import Interval
from optiviz.figures._options import WINDOW
from optiviz.figures._surface import caption, common, f_star, plane_and_marks
from optiviz.figures.registry import TWO_VARIABLES, FigureKind, Option, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.surface3d` of the surface with every entry's runs."""
    from optiviz.plotting import surface3d

    projection, marks = plane_and_marks(result)
    fig = surface3d(
        result.surface,
        result.trajectories,
        analysis=marks,
        projection=projection,
        colors=colors,
        window=options.get("window"),
        elev=options.get("elev", 38.0),
        azim=options.get("azim", -58.0),
        f_min=f_star(result),
        caption=caption(result, named=False),
        **common(options),
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
        options=(
            Option(
                "elev",
                Interval("float", -90.0, 90.0),
                38.0,
                "view elevation in degrees (90: from above)",
            ),
            Option(
                "azim",
                Interval("float", -360.0, 360.0),
                -58.0,
                "view azimuth in degrees (rotation about the vertical axis)",
            ),
            WINDOW,
        ),
    )
)
