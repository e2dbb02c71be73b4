"""The reference value f* of the figures, and when it is shown as 0."""

from __future__ import annotations

#: f* at rounding level: ``|f*| <= F_STAR_ROUNDING * scale`` is shown (and subtracted) as 0,
#: ``scale`` being the largest |f| of the values drawn (the runs' losses). A numerically found
#: minimum of a surface whose infimum is 0 comes out as 5e-31 or -2e-17: no figure can resolve
#: a difference of 1e-12 of its own scale, so it states f* = 0 instead.
F_STAR_ROUNDING = 1e-12


def round_f_star(f_star: float | None, scale: float) -> float | None:
    """``f_star``, or 0.0 when it is at rounding level of ``scale`` (:data:`F_STAR_ROUNDING`)."""
    if f_star is None:
        return None
    if f_star != 0.0 and scale > 0 and abs(f_star) <= F_STAR_ROUNDING * scale:
        return 0.0
    return float(f_star)
