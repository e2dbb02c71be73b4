"""Argument checks of :func:`~optiviz.engine.run`: surface, optimizer, points, counts,
tolerances and the schedule (each raises the error that names the argument)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiviz.errors import OptimizerError, SurfaceError


def _check_surface(surface: Any) -> None:
    for attr in ("value_and_grad", "n", "variables"):
        if not hasattr(surface, attr):
            raise SurfaceError(
                f"run() needs a Surface (with value_and_grad, n, variables); got "
                f"{type(surface).__name__} without {attr!r}"
            )


def _check_optimizer(optimizer: Any) -> None:
    if isinstance(optimizer, str):
        raise OptimizerError(
            f"run() needs an optimizer object, e.g. make_optimizer({optimizer!r}, lr=...); "
            f"got the string {optimizer!r}"
        )
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "step")):
        raise OptimizerError(
            f"run() needs an optimizer with init() and step(); got {type(optimizer).__name__}"
        )


def _points(name: str, value: Any, surface: Any) -> np.ndarray:
    n = surface.n
    names = ", ".join(surface.variables)
    sname = getattr(surface, "name", "custom")
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise SurfaceError(
            f"{name} must be {n} numbers for the variables ({names}) of surface {sname!r}, "
            f"or an (R, {n}) array of R starting points; got {value!r}"
        ) from None
    if arr.ndim not in (1, 2) or arr.shape[-1] != n:
        k = arr.shape[-1] if arr.ndim in (1, 2) else 0
        got = f"{k} value{'s' if k != 1 else ''}" if arr.ndim in (1, 2) else f"shape {arr.shape}"
        raise SurfaceError(
            f"{name} has {got} but surface {sname!r} has {n} variable"
            f"{'s' if n != 1 else ''} ({names}); give {n} numbers or an (R, {n}) array"
        )
    if arr.shape[0] == 0:
        raise SurfaceError(f"{name} is empty; give {n} numbers for ({names})")
    if not np.all(np.isfinite(arr)):
        raise SurfaceError(f"{name} must be finite; got {value!r}")
    return arr


def _int(name: str, value: Any, low: int, high: int | None = None) -> int:
    ok = not isinstance(value, (bool, np.bool_))
    try:
        v = float(value)
        ok = ok and math.isfinite(v) and v == int(v)
    except (TypeError, ValueError):
        ok = False
    if ok:
        v = int(v)
        ok = v >= low and (high is None or v <= high)
    if not ok:
        hi = "inf)" if high is None else f"{high}]"
        raise OptimizerError(f"{name!r} must be an int in the range [{low}, {hi}; got {value!r}")
    return int(v)


def _nonneg(name: str, value: Any, *, positive: bool = False, allow_inf: bool = False):
    if value is None:
        return None
    try:
        v = float(value)
        ok = not isinstance(value, (bool, np.bool_)) and not math.isnan(v)
    except (TypeError, ValueError):
        ok = False
    if ok:
        ok = (v > 0 if positive else v >= 0) and (allow_inf or math.isfinite(v))
    if not ok:
        lb = "(0" if positive else "[0"
        rb = "inf]" if allow_inf else "inf)"
        raise OptimizerError(
            f"{name!r} must be None or a float in the range {lb}, {rb}; got {value!r}"
        )
    return v


def _schedule(schedule: Any):
    if schedule is None:
        return None, None
    if isinstance(schedule, str):
        from optiviz.schedules import make_schedule

        schedule = make_schedule(schedule)
    if not callable(schedule):
        raise OptimizerError(
            f"'schedule' must be None, a schedule name or make_schedule(...); got {schedule!r}"
        )
    label = schedule.label() if hasattr(schedule, "label") else repr(schedule)
    return schedule, label
