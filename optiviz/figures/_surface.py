"""What the figures of one experiment share: the plane and the marks of the surface figures
(contour, surface3d), the reference value f* of every figure, the caption of every title and
the common options (title, size, dpi) as plotting arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


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


def _recorded_scale(trajectories: Any) -> float:
    """The largest finite |f| the runs recorded (per-step losses, else final ones)."""
    top = 0.0
    for t in trajectories:
        for v in (getattr(t, "losses", None), getattr(t, "final_loss", None)):
            if v is None:
                continue
            a = np.abs(np.asarray(v, dtype=float))
            a = a[np.isfinite(a)]
            if a.size:
                top = max(top, float(a.max()))
    return top


def f_star(result: Any) -> float | None:
    """The one f* every figure of ``result`` uses (contour levels, loss curves): the lowest
    of the surface's known minima and the analysis' lowest minimum (what the report calls
    the minimum), rounded to 0 at rounding level
    (:func:`optiviz.plotting._reference.round_f_star`); None when neither knows a minimum
    (the figures then plot f itself)."""
    from optiviz.plotting._reference import round_f_star

    values = []
    known = getattr(result.surface, "f_min", None)
    if known is not None and np.isfinite(known):
        values.append(float(known))
    m = getattr(result.analysis, "minimum", None) if result.analysis is not None else None
    v = getattr(m, "value", None)
    if v is not None and np.isfinite(v):
        values.append(float(v))
    if not values:
        return None
    return round_f_star(min(values), _recorded_scale(result.trajectories))


def caption(result: Any, *, named: bool = True) -> str:
    """The surface, start and step budget of ``result``'s runs, for a figure's title
    (:func:`optiviz.plotting.style.run_caption`). ``named=False``: without the surface's
    name when the formula title above it names the surface already."""
    from optiviz.plotting.style import run_caption

    config = result.config
    steps = [config.steps_of(spec) for spec in config.optimizers] or [config.steps]
    name = str(getattr(result.surface, "name", "") or "") if named else ""
    starts = getattr(config, "starts", None) or (config.start,)
    start = starts[0] if len(starts) == 1 else [list(p) for p in starts]
    history = config.start_prev if len(starts) == 1 else None
    return run_caption(name, start, steps, history=history)


def common(options: Mapping[str, Any]) -> dict[str, Any]:
    """The common options given (title, size, dpi) as plotting keywords ``title``,
    ``figsize``, ``dpi``; options left at None are left out (the function's default)."""
    out: dict[str, Any] = {}
    if options.get("title") is not None:
        out["title"] = options["title"]
    if options.get("size") is not None:
        out["figsize"] = tuple(float(v) for v in options["size"])
    if options.get("dpi") is not None:
        out["dpi"] = float(options["dpi"])
    return out
