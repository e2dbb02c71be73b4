"""Figure options shared by several kinds: their constraints and declarations.

Every kind gets :data:`COMMON` (``title``, ``size``, ``dpi``; appended by
:func:`~optiviz.figures.registry.register`); the surface kinds share ``window``, the
contour and loss kinds ``layout``. The constraints follow :mod:`optiviz._validation`
(``describe()`` is the docs' "allowed" text, ``check()`` validates and normalizes).

Like the registry, this module imports neither matplotlib nor the rest of optiviz.
"""

from __future__ import annotations

import math
from typing import Any

from optiviz._validation import (
    Choice,
    Constraint,
    Flag,
    Interval,
    Invalid,
    OrNone,
    Pair,
    Real,
    Text,
)
from optiviz.figures.registry import Option

__all__ = [
    "COMMON",
    "LAYOUT",
    "MAX_PANELS",
    "WINDOW",
    "LOG_X",
    "AutoOr",
    "Levels",
    "Window",
]

#: A ``layout: panels`` figure draws at most this many panels (evenly chosen beyond).
MAX_PANELS = 16


class AutoOr(Constraint):
    """``"auto"`` or a value ``inner`` allows (``"'auto' or a bool"``)."""

    def __init__(self, inner: Constraint):
        self.inner = inner

    def describe(self) -> str:
        return f"'auto' or {self.inner.describe()}"

    def check(self, value: Any) -> Any:
        if value == "auto" and isinstance(value, str):
            return "auto"
        try:
            return self.inner.check(value)
        except Invalid:
            raise Invalid(value, self.describe()) from None


class Levels(Constraint):
    """Contour levels: a count (an int in [2, 200]) or an explicit increasing list of at
    least 2 finite numbers (at most 200)."""

    count = Interval("int", 2, 200)

    def describe(self) -> str:
        return (
            "a number of levels (an int in the range [2, 200]) or a list of 2 to 200 "
            "increasing finite numbers"
        )

    def check(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if not 2 <= len(value) <= 200:
                raise Invalid(value, self.describe())
            out = []
            for i, v in enumerate(value):
                try:
                    out.append(Real().check(v))
                except Invalid:
                    raise Invalid(v, "a finite number", at=(i,)) from None
            if any(b <= a for a, b in zip(out, out[1:], strict=False)):
                raise Invalid(value, self.describe())
            return tuple(out)
        try:
            return self.count.check(value)
        except Invalid:
            raise Invalid(value, self.describe()) from None


class Window(Constraint):
    """``"auto"`` (fit the paths) or an explicit plot window ``[[low, high], [low, high]]``
    in the plotted coordinates (finite, low < high)."""

    def describe(self) -> str:
        return "'auto' (fit the paths) or [[low, high], [low, high]] (finite, low < high)"

    def check(self, value: Any) -> Any:
        if isinstance(value, str) and value == "auto":
            return "auto"
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise Invalid(value, self.describe())
        rows = []
        for i, row in enumerate(value):
            if not isinstance(row, (list, tuple)) or len(row) != 2:
                raise Invalid(row, "a pair [low, high] of finite numbers, low < high", at=(i,))
            try:
                lo, hi = Real().check(row[0]), Real().check(row[1])
            except Invalid:
                raise Invalid(
                    row, "a pair [low, high] of finite numbers, low < high", at=(i,)
                ) from None
            if not lo < hi or not math.isfinite(hi - lo):
                raise Invalid(row, "a pair [low, high] of finite numbers, low < high", at=(i,))
            rows.append((lo, hi))
        return tuple(rows)


#: Options every figure kind has (appended at registration).
COMMON: tuple[Option, ...] = (
    Option(
        "title",
        OrNone(Text(), "null"),
        None,
        "the figure's title in place of the default (which names the surface, start and "
        "step budget)",
    ),
    Option(
        "size",
        Pair(Interval("float", 1.0, 40.0)),
        None,
        "figure size [width, height] in inches (default 7 x 5.5; a contour is then shrunk "
        "to its window's aspect)",
    ),
    Option("dpi", Interval("int", 30, 600), None, "resolution of raster images (default 150)"),
)

#: ``window`` of the surface figures (contour, surface3d).
WINDOW = Option(
    "window",
    OrNone(Window(), "null"),
    None,
    "the plotted window: 'auto' fits every run's path (and a history point) with a 10% "
    "margin; or [[low, high], [low, high]]; default the surface's window, widened for paths "
    "overshooting it by at most 20%",
)

#: ``layout`` of the contour and loss figures.
LAYOUT = Option(
    "layout",
    Choice(("single", "panels")),
    "single",
    f"'panels': one panel per optimizer entry (per swept value for an entry with a grid; at "
    f"most {MAX_PANELS}), shared axes and colours",
)

#: ``log_x`` of the loss figure.
LOG_X = Option(
    "log_x",
    AutoOr(Flag()),
    "auto",
    "step axis on a log scale (symmetric-log: step 0 stays); 'auto': when the shortest run "
    "is under 5% of the longest (Newton's few steps beside thousands)",
)
