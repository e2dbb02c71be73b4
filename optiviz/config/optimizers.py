"""The ``optimizers:`` block: one entry per run (or batched run), its grids and schedule.

Hyperparameter values are checked against the optimizer's own table (each
:class:`~optiviz.optimizers.base.Param` holds its constraint), so a config refuses exactly
what the optimizer would, in the same words. Rules across hyperparameters (``nesterov``
needs ``momentum``) are checked by building the optimizer once; its error is placed and
worded from its structured fields (``key``, ``value``, ``allowed``), never from its text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optiviz._format import plural_count
from optiviz._validation import Constraint, Interval
from optiviz.config.fields import (
    INVALID,
    POSITIVE,
    Problems,
    as_number,
    choice,
    join,
    mapping,
    number,
    show,
    unknown_keys,
    vector,
)
from optiviz.config.schema import ENTRY_KEYS, GRID_FORMS, MAX_GRID, MAX_STEPS, RECORDS
from optiviz.config.specs import GridSpec, OptimizerSpec, ScheduleSpec, expand_grid
from optiviz.errors import OptivizError, suggest

_GRID_TEXT = "{logspace: [a, b, n]}, {linspace: [a, b, n]} or {values: [v1, v2, ...]}"
_ANY_FLOAT = Interval("float")
_GRID_SIZE = Interval("int", 1, MAX_GRID)
_BATCH_SIZE = Interval("int", 1, None)
_ENTRY_STEPS = Interval("int", 1, MAX_STEPS)


def parse_grid(errs: Problems, path: str, value: Any, allowed: Constraint) -> Any:
    """A ``{logspace | linspace | values: ...}`` grid whose every value ``allowed`` takes."""
    m = mapping(errs, path, value, _GRID_TEXT)
    if m is INVALID:
        return INVALID
    if len(m) != 1 or next(iter(m)) not in GRID_FORMS:
        for k in m:
            if k not in GRID_FORMS:
                errs.add(
                    join(path, k),
                    f"unknown grid form {k!r}{suggest(k, GRID_FORMS)}; a grid is one of "
                    f"{_GRID_TEXT}",
                )
                return INVALID
        return errs.bad(path, value, f"exactly one of {_GRID_TEXT}")
    form, args = next(iter(m.items()))
    p = join(path, form)
    if form in ("logspace", "linspace"):
        if not isinstance(args, (list, tuple)) or len(args) != 3:
            return errs.bad(p, args, f"[a, b, n]: {form} from a to b in n points")
        a = number(errs, join(p, 0), args[0], _ANY_FLOAT)
        b = number(errs, join(p, 1), args[1], _ANY_FLOAT)
        n = number(errs, join(p, 2), args[2], _GRID_SIZE)
        if INVALID in (a, b, n):
            return INVALID
        if form == "logspace":
            if max(abs(a), abs(b)) > 300:
                return errs.bad(p, args, "exponents a, b within [-300, 300] (10^a .. 10^b)")
            vals = np.logspace(a, b, n)
        else:
            vals = np.linspace(a, b, n)
        values = tuple(float(v) for v in vals)
        args = (a, b, n)
    else:
        if not isinstance(args, (list, tuple)) or not args or len(args) > MAX_GRID:
            return errs.bad(p, args, f"a non-empty list of at most {MAX_GRID} numbers")
        vec = vector(errs, p, args)
        if vec is INVALID:
            return INVALID
        values = vec
        args = tuple(
            int(v) if float(v).is_integer() and isinstance(o, int) else v
            for v, o in zip(vec, args, strict=False)
        )
    bad = allowed.check_array(np.asarray(values)) if isinstance(allowed, Interval) else None
    if bad is not None:
        errs.add(
            p,
            f"{show(list(args))} is not allowed: the value {values[bad]:g} is out of range; "
            f"every value must be {allowed.describe()}",
        )
        return INVALID
    return GridSpec(form=form, args=tuple(args), values=values)


def number_or_raw(v: Any) -> Any:
    """Numeric text -> float; ints stay ints; everything else unchanged (lists: each)."""
    if isinstance(v, str):
        f = as_number(v)
        return v if f is None else f
    if isinstance(v, list):
        return [number_or_raw(x) for x in v]
    return v


def parse_schedule(errs: Problems, path: str, value: Any) -> Any:
    """``schedule: NAME`` or ``{name: NAME, <hyperparameter>: value}``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"name": value}
    m = mapping(errs, path, value, "a mapping {name: SCHEDULE, <hyperparameter>: value}")
    if m is INVALID:
        return INVALID
    if "name" not in m:
        return errs.missing(join(path, "name"), "a schedule name (optiviz list schedules)")
    from optiviz.schedules import SCHEDULES, available_schedules, make_schedule

    name = m["name"]
    names = available_schedules()
    if not isinstance(name, str) or name not in names:
        errs.add(
            join(path, "name"),
            f"{show(name)} is not allowed: unknown schedule"
            f"{suggest(str(name), names)}; available: "
            f"{', '.join(names)}",
        )
        return INVALID
    params = {k: number_or_raw(v) for k, v in m.items() if k != "name"}
    table = SCHEDULES[name].params
    checked = [
        errs.check(join(path, k), v, table[k].constraint) for k, v in params.items() if k in table
    ]
    if INVALID in checked:
        return INVALID
    try:
        make_schedule(name, **params)
    except OptivizError as exc:
        errs.refused(path, exc)
        return INVALID
    return ScheduleSpec(name=name, params=params)


def _entry_name(errs: Problems, path: str, m: Mapping) -> Any:
    from optiviz.optimizers import available

    names = list(available())
    if "name" not in m:
        return errs.missing(join(path, "name"), f"an optimizer name, one of {', '.join(names)}")
    name = m["name"]
    if not isinstance(name, str) or name not in names:
        errs.add(
            join(path, "name"),
            f"{show(name)} is not allowed: unknown optimizer"
            f"{suggest(str(name), names)}; available: "
            f"{', '.join(names)}",
        )
        return INVALID
    return name


def _relative_lr(errs: Problems, path: str, raw: Mapping) -> Any:
    """``lr: {times_eta_opt: factor | {grid: GRID}}`` -> a float or a GridSpec."""
    unknown_keys(errs, path, raw, ("times_eta_opt",))
    f = raw["times_eta_opt"]
    fp = join(path, "times_eta_opt")
    if isinstance(f, Mapping) and "grid" in f:
        unknown_keys(errs, fp, f, ("grid",))
        rel = parse_grid(errs, join(fp, "grid"), f["grid"], POSITIVE)
    else:
        rel = number(errs, fp, f, POSITIVE)
    return rel if len(raw) == 1 else INVALID


def _hyperparameter(errs: Problems, path: str, name: str, key: str, spec: Any, raw: Any) -> Any:
    """A fixed hyperparameter value (as written, numeric text converted) or INVALID."""
    val = number_or_raw(raw)
    if spec.kind == "pair" and isinstance(val, list):
        val = tuple(val)
    elif isinstance(val, list):
        allowed = spec.describe_range()
        return errs.bad(path, raw, f"{allowed} (to sweep values write {{grid: {{values: [...]}}}})")
    if spec.kind == "int" and isinstance(val, float) and val.is_integer():
        val = int(val)
    if errs.check(path, val if spec.kind == "pair" else raw, spec.constraint) is INVALID:
        return INVALID
    return val


def _swept(errs: Problems, path: str, name: str, key: str, spec: Any, raw: Mapping) -> Any:
    """``<hyperparameter>: {grid: GRID}`` -> a GridSpec or INVALID."""
    unknown_keys(errs, path, raw, ("grid",))
    if not spec.batchable or spec.kind not in ("float", "int"):
        errs.add(
            path,
            f"{key!r} of {name} cannot be swept by a grid "
            f"(it is {spec.describe_range()}); give one value",
        )
        return INVALID
    return parse_grid(errs, join(path, "grid"), raw["grid"], spec.constraint)


def parse_optimizer(errs: Problems, i: int, value: Any) -> Any:
    """One ``optimizers[i]`` entry -> an :class:`OptimizerSpec` (or INVALID)."""
    path = join("optimizers", i)
    if isinstance(value, str):
        value = {"name": value}
    m = mapping(errs, path, value, "a mapping {name: OPTIMIZER, <hyperparameter>: value, ...}")
    if m is INVALID:
        return INVALID
    name = _entry_name(errs, path, m)
    if name is INVALID:
        return INVALID
    from optiviz.optimizers import get_class

    cls = get_class(name)
    table = cls.params
    label = m.get("label")
    if label is not None and not isinstance(label, str):
        label = str(label)
    schedule = parse_schedule(errs, join(path, "schedule"), m.get("schedule"))
    batch_size = number(errs, join(path, "batch_size"), m.get("batch_size"), _BATCH_SIZE, True)
    steps = number(errs, join(path, "steps"), m.get("steps"), _ENTRY_STEPS, True)
    record = (
        None
        if m.get("record") is None
        else choice(errs, join(path, "record"), m["record"], RECORDS)
    )
    ok = all(v is not INVALID for v in (schedule, batch_size, steps, record))

    fixed: dict[str, Any] = {}
    grids: dict[str, GridSpec] = {}
    rel: Any = None
    allowed_keys = list(ENTRY_KEYS) + list(table)
    for key, raw in m.items():
        if key in ENTRY_KEYS:
            continue
        kp = join(path, key)
        if key not in table:
            errs.add(
                kp,
                f"{name} does not take the hyperparameter {key!r}"
                f"{suggest(key, allowed_keys)}; it takes: {', '.join(table) or 'none'}"
                f" (and the entry keys {', '.join(ENTRY_KEYS)})",
            )
            ok = False
            continue
        spec = table[key]
        if isinstance(raw, Mapping) and key == "lr" and "times_eta_opt" in raw:
            rel = _relative_lr(errs, kp, raw)
            ok &= rel is not INVALID
        elif isinstance(raw, Mapping) and "grid" in raw:
            g = _swept(errs, kp, name, key, spec, raw)
            if g is INVALID:
                ok = False
            else:
                grids[key] = g
        elif isinstance(raw, Mapping):
            hint = " or {times_eta_opt: factor}" if key == "lr" else ""
            errs.bad(kp, raw, f"{spec.describe_range()}, or {{grid: GRID}}{hint}")
            ok = False
        else:
            val = _hyperparameter(errs, kp, name, key, spec, raw)
            if val is INVALID:
                ok = False
            else:
                fixed[key] = val
    ok &= _check_run_count(errs, path, grids, rel)
    if not ok:
        return INVALID
    spec_out = OptimizerSpec(
        index=i,
        name=name,
        label=label,
        hyperparameters=fixed,
        grids=grids,
        lr_times_eta_opt=rel,
        schedule=schedule,
        batch_size=batch_size,
        steps=steps,
        record=record,
    )
    # cross-hyperparameter rules (e.g. nesterov needs momentum): one construction, with a
    # placeholder eta_opt for relative learning rates
    try:
        cls(**expand_grid(spec_out, eta_opt=1e-3))
    except OptivizError as exc:
        errs.refused(path, exc if exc.key in fixed else _without_key(exc))
        return INVALID
    return spec_out


def _without_key(exc: OptivizError) -> OptivizError:
    """The error placed on the entry itself (its key is swept, or it names none)."""
    return OptivizError(str(exc), owner=exc.owner)


def _check_run_count(errs: Problems, path: str, grids: dict, rel: Any) -> bool:
    n_runs = 1
    for g in grids.values():
        n_runs *= len(g.values)
    ok = True
    if isinstance(rel, GridSpec):
        n_runs *= len(rel.values)
        if "lr" in grids:
            errs.add(join(path, "lr"), "give either a grid of lr or a grid of times_eta_opt")
            ok = False
    if n_runs > MAX_GRID:
        errs.add(
            path,
            f"the grids make {plural_count(n_runs, 'run')}; at most {MAX_GRID} runs are "
            "allowed in one entry",
        )
        ok = False
    return ok
