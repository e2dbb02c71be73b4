"""The ``contour`` figure: the surface's contours with every run's path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz._validation import Choice, OrNone
from optiviz.figures._options import LAYOUT, WINDOW, Levels
from optiviz.figures._surface import caption, common, f_star, plane_and_marks
from optiviz.figures.registry import FigureKind, Option, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.contour` of the surface with every entry's runs (one
    panel per run with ``layout: panels``)."""
    from optiviz.plotting import contour

    projection, marks = plane_and_marks(result)
    scale = options.get("level_scale", "auto")
    fig = contour(
        result.surface,
        result.trajectories,
        analysis=marks,
        projection=projection,
        colors=colors,
        levels=options.get("levels"),
        log_levels=None if scale == "auto" else scale == "log",
        window=options.get("window"),
        layout=options.get("layout", "single"),
        f_min=f_star(result),
        history=result.config.start_prev,
        caption=caption(result, named=False),
        **common(options),
    )
    return [fig]


def check(options: Mapping[str, Any]) -> tuple[str, Any, str] | None:
    """Explicit log levels are levels of f - f*: they must be positive."""
    lv = options.get("levels")
    if options.get("level_scale") == "log" and isinstance(lv, tuple) and min(lv) <= 0:
        return (
            "levels",
            list(lv),
            "positive numbers with level_scale: log (log levels are levels of f - f*)",
        )
    return None


KIND = register(
    FigureKind(
        name="contour",
        build=build,
        doc="filled contours of f (log levels where the values span decades) with every "
        "run's path, start, end, divergence point, the earlier point of a history "
        "(`start_prev`) and the known minima; for one variable, f(x) with the iterates",
        draws_surface=True,
        default=True,
        order=10,
        options=(
            Option(
                "levels",
                OrNone(Levels(), "null"),
                None,
                "how many contour levels, or the levels themselves (of f - f* with log "
                "levels, of f with linear ones); default about 3 per decade (log) or ~20 "
                "(linear)",
            ),
            Option(
                "level_scale",
                Choice(("auto", "log", "linear")),
                "auto",
                "log levels of f - f* or linear levels of f; 'auto': the surface's hint, else "
                "log when f spans more than 2 decades over the window",
            ),
            WINDOW,
            LAYOUT,
        ),
        check=check,
    )
)
