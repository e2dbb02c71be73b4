"""Argument checks of :func:`~optiviz.engine.run`: surface, optimizer, points, counts,
tolerances, the schedule (each raises the error that names the argument) and the memory
the per-step records will take (:func:`check_memory`)."""

from __future__ import annotations

import math
import os
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
    try:
        arr = np.array(value, dtype=float)
        if arr.ndim in (1, 2) and arr.shape[-1] == n and arr.shape[0] and np.isfinite(arr).all():
            return arr
    except (TypeError, ValueError):
        arr = None
    names = ", ".join(surface.variables)
    sname = getattr(surface, "name", "custom")
    if arr is None:
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
    if type(value) is int and value >= low and (high is None or value <= high):
        return value  # (the common case, without building the constraint: ~5 us a call)
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


#: Largest step budget of one call (a numpy array dimension holds it; no run gets near it).
MAX_API_STEPS = 10**18

#: Bytes per step the batched loop keeps whatever ``record`` says: three oracle counts
#: (list entries and int objects, then one int64 array).
_COUNT_BYTES = 3 * (8 + 32 + 8)


def record_bytes(record: str, steps: int, runs: int | None, n: int) -> int:
    """Bytes of the per-step records of one :func:`~optiviz.engine.run` call: ``record="all"``
    keeps the iterate, the gradient and the effective learning rates (3n + 2 floats per run
    and step; a single run keeps them for "path" too), "path" n + 2 floats; the batched
    loop also keeps three oracle counts per step (``runs`` None: a single run, which keeps
    them as its per-step counts, three int32)."""
    if runs is None:
        return 0 if record == "final" else (steps + 1) * (8 * (3 * n + 2) + 12)
    floats = {"all": 3 * n + 2, "path": n + 2, "final": 0}[record]
    return 8 * (steps + 1) * runs * floats + (steps + 1) * _COUNT_BYTES


def memory_limit() -> int | None:
    """This machine's physical memory in bytes (``None`` where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def fmt_bytes(b: float) -> str:
    """``b`` bytes as a short text: ``'512 B'``, ``'3.2 MiB'``, ``'14.9 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if b < 1024 or unit == "PiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    raise AssertionError("unreachable")


def check_memory(record: str, steps: int, runs: int | None, n: int) -> None:
    """Refuse, before anything is allocated, records that exceed this machine's memory; the
    message gives the estimate and the ``record=`` modes that fit."""
    limit = memory_limit()
    need = record_bytes(record, steps, runs, n)
    if limit is None or need <= limit:
        return
    fits = [m for m in ("path", "final") if record_bytes(m, steps, runs, n) <= limit]
    fits = [m for m in fits if m != record and not (m == "path" and runs is None)]
    what = f"{steps} steps x {1 if runs is None else runs} run{'' if runs in (None, 1) else 's'}"
    hint = (
        f"; record={fits[0]!r} fits (about {fmt_bytes(record_bytes(fits[0], steps, runs, n))})"
        if fits
        else "; no record mode fits: use fewer steps" + ("" if runs is None else " or fewer runs")
    )
    raise OptimizerError(
        f"run() with record={record!r} would keep about {fmt_bytes(need)} of per-step "
        f"records ({what}), more than this machine's {fmt_bytes(limit)} of memory{hint}"
    )
