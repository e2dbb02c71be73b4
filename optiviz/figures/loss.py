"""The ``loss`` figure: f(x_t) - f* per step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz.figures._options import LAYOUT, LOG_X
from optiviz.figures._surface import caption, common, f_star
from optiviz.figures.registry import FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.loss` of every entry's runs, against the same f* as the
    contour (:func:`optiviz.figures._surface.f_star`)."""
    from optiviz.plotting import loss

    fig = loss(
        result.trajectories,
        colors=colors,
        f_min=f_star(result),
        logx=options.get("log_x", "auto"),
        layout=options.get("layout", "single"),
        caption=f"{_what(result)}: {caption(result)}",
        **common(options),
    )
    return [fig]


def _what(result: Any) -> str:
    return "$f(x_t) - f^*$ per step" if f_star(result) is not None else "$f(x_t)$ per step"


KIND = register(
    FigureKind(
        name="loss",
        build=build,
        doc="f(x_t) - f* (or f(x_t) when f* is unknown) per step, on a log scale (symlog "
        "when values are negative); f* is the contour's and the analysis' (0 at rounding "
        "level), a diverging run is clipped at the top edge",
        default=True,
        order=30,
        options=(LOG_X, LAYOUT),
    )
)
