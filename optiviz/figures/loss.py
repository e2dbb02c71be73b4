"""The ``loss`` figure: f(x_t) - f* per step (or per weighted evaluation), repeats as the
median over their seeds with a quantile band."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz._validation import Choice, Constraint, Interval, Invalid, OrNone
from optiviz.figures._options import LAYOUT, LOG_X
from optiviz.figures._surface import caption, common, f_star
from optiviz.figures.registry import FigureKind, Option, register


class QuantileBand(Constraint):
    """Two quantiles ``[q_lo, q_hi]`` with ``0 <= q_lo < q_hi <= 1``."""

    _q = Interval("float", 0.0, 1.0)

    def describe(self) -> str:
        return "a pair of quantiles [q_lo, q_hi], 0 <= q_lo < q_hi <= 1"

    def check(self, value: Any) -> Any:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise Invalid(value, self.describe())
        try:
            lo, hi = self._q.check(value[0]), self._q.check(value[1])
        except Invalid:
            raise Invalid(value, self.describe()) from None
        if not lo < hi:
            raise Invalid(value, self.describe())
        return (float(lo), float(hi))


#: ``x_axis`` of the loss figure.
X_AXIS = Option(
    "x_axis",
    Choice(("steps", "evaluations")),
    "steps",
    "'evaluations': the cost of reaching each iterate in weighted f / gradient / Hessian "
    "evaluations (the config's evaluation_weights; by default a Hessian counts as n "
    "gradients) instead of the step",
)
#: ``band`` of the loss figure.
BAND = Option(
    "band",
    OrNone(QuantileBand(), "null"),
    (0.1, 0.9),
    "repeats (seeds: N): the quantiles of the band drawn around each setting's median "
    "over its seeds (default [0.1, 0.9]); null: the median alone",
)


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.loss` of every entry's runs, against the same f* as the
    contour (:func:`optiviz.figures._surface.f_star`)."""
    from optiviz.plotting import loss

    x_axis = options.get("x_axis", "steps")
    band = options.get("band", BAND.default)
    fig = loss(
        result.trajectories,
        colors=colors,
        f_min=f_star(result),
        logx=options.get("log_x", "auto"),
        layout=options.get("layout", "single"),
        caption=f"{_what(result, x_axis)}: {caption(result)}",
        x_axis=x_axis,
        weights=getattr(result.config, "evaluation_weights", None),
        band=None if band is None else tuple(band),
        **common(options),
    )
    return [fig]


def _what(result: Any, x_axis: str = "steps") -> str:
    per = "per evaluation" if x_axis == "evaluations" else "per step"
    return f"$f(x_t) - f^*$ {per}" if f_star(result) is not None else f"$f(x_t)$ {per}"


KIND = register(
    FigureKind(
        name="loss",
        build=build,
        doc="f(x_t) - f* (or f(x_t) when f* is unknown) per step or per weighted evaluation, "
        "on a log scale (symlog when values are negative); f* is the contour's and the "
        "analysis' (0 at rounding level), a diverging run is clipped at the top edge; "
        "repeats (seeds) as their median with a quantile band",
        default=True,
        order=30,
        options=(LOG_X, LAYOUT, X_AXIS, BAND),
    )
)
