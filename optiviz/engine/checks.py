"""Argument checks of :func:`~optiviz.engine.run`: surface, optimizer, points, counts,
tolerances and the schedule (each raises the error that names the argument)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiviz._validation import Interval, check
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


#: The message of a refused argument of run() (the constraint's text as ``allowed``).
_ARGUMENT = "{key!r} must be {allowed}; got {value!r}"
_OPTIONAL_ARGUMENT = "{key!r} must be None or {allowed}; got {value!r}"


def _int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """An int argument in ``[low, high]`` (``high`` None: unbounded)."""
    return int(check("run", name, value, Interval("int", low, high), message=_ARGUMENT))


def _nonneg(name: str, value: Any, *, positive: bool = False, allow_inf: bool = False):
    """None, or a float >= 0 (``positive``: > 0), finite unless ``allow_inf``."""
    if value is None:
        return None
    high = math.inf if allow_inf else None
    closed = ("right" if positive else "both") if allow_inf else ("neither" if positive else "left")
    constraint = Interval("float", 0.0, high, closed=closed)
    return float(check("run", name, value, constraint, message=_OPTIONAL_ARGUMENT))


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
