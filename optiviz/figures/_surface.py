"""What the surface figures (contour, surface3d) share: the plane and the marks."""

from __future__ import annotations

from typing import Any


def plane_and_marks(result: Any) -> tuple[Any, Any]:
    """``(projection, analysis)`` to hand a surface figure of ``result``.

    ``projection`` is the config's (a pair of variables as a list, or ``"hessian"``, or
    None). The analysis (which marks the stationary points) is left out (None) for a
    coordinate slice of an n > 2 surface: such a slice generally passes through none of
    them.
    """
    proj = result.config.projection
    marks = None if isinstance(proj, tuple) and result.surface.n > 2 else result.analysis
    return (list(proj) if isinstance(proj, tuple) else proj), marks
