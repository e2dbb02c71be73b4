"""The ``expect:`` block: checks of the results (the test suite asserts them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from optiviz._validation import Interval
from optiviz.config.fields import (
    INVALID,
    NONNEG,
    Problems,
    choice,
    join,
    number,
    show,
    unknown_keys,
    vector,
)
from optiviz.config.optimizers import number_or_raw
from optiviz.config.schema import EXPECT_KINDS, EXPECT_QUANTITIES
from optiviz.config.specs import Expectation

_ANY_FLOAT = Interval("float")


def parse_expect(errs: Problems, value: Any) -> Any:
    """The ``expect:`` block: a list of checks of the results."""
    path = "expect"
    if value is None:
        return ()
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return errs.bad(path, value, "a list of checks, e.g. [{run: 0, point: [1.0, 2.0]}]")
    out = []
    ok = True
    keys = ("run", "step", "tol", "note", "analysis", "value", *EXPECT_QUANTITIES)
    for i, item in enumerate(value):
        p = join(path, i)
        if not isinstance(item, Mapping):
            errs.bad(p, item, "a mapping such as {run: 0, point: [1.0, 2.0], tol: 1e-6}")
            ok = False
            continue
        n_before = len(errs.items)
        unknown_keys(errs, p, item, keys, "an expect check")
        whats = [q for q in EXPECT_QUANTITIES if q in item]
        if "analysis" in item:
            whats.append("analysis")
        if len(whats) != 1:
            errs.add(
                p,
                f"{show(dict(item))} is not allowed: a check names exactly one of "
                f"{', '.join(EXPECT_QUANTITIES)}, or 'analysis' with 'value'",
            )
            ok = False
            continue
        q = whats[0]
        tol = number(errs, join(p, "tol"), item.get("tol", 1e-6), NONNEG)
        note = item.get("note", "")
        if not isinstance(note, str):
            note = str(note)
        step = number(errs, join(p, "step"), item.get("step"), _COUNT, optional=True)
        if q == "analysis":
            ap = item["analysis"]
            if not isinstance(ap, str) or not re.match(r"^[\w]+(\.[\w]+)*$", ap):
                errs.bad(join(p, "analysis"), ap, "a dotted path such as 'eta.max'")
            if "value" not in item:
                errs.missing(join(p, "value"), "the expected value")
            for k in ("run", "step"):
                if k in item:
                    errs.add(join(p, k), "is not allowed with 'analysis'")
            expected = _analysis_value(errs, join(p, "value"), item.get("value"))
            run = None
        else:
            if "value" in item:
                errs.add(
                    join(p, "value"), f"is not allowed here: write the expected value as {q}: ..."
                )
            run = item.get("run", 0)
            if not (
                isinstance(run, str)
                or (isinstance(run, int) and not isinstance(run, bool) and run >= 0)
            ):
                errs.bad(join(p, "run"), run, "a run index (0, 1, ...) or a run label")
            expected = _expected(errs, join(p, q), EXPECT_KINDS.get(q, "count"), item[q])
        if len(errs.items) > n_before:
            ok = False
            continue
        out.append(
            Expectation(
                index=i,
                quantity=q,
                value=expected,
                run=run,
                step=step,
                path=item.get("analysis"),
                tol=tol,
                note=note,
            )
        )
    return tuple(out) if ok else INVALID


_COUNT = Interval("int", 0, None)
_STATUS = ("converged", "diverged", "max_steps")


def _expected(errs: Problems, path: str, kind: str, raw: Any) -> Any:
    """The expected value of a run quantity, checked by its kind (:data:`EXPECT_KINDS`)."""
    if kind == "vector" or (kind == "number or vector" and isinstance(raw, (list, tuple))):
        expected = vector(errs, path, raw)
        return expected if expected is INVALID else list(expected)
    if kind in ("number", "number or vector"):
        return number(errs, path, raw, _ANY_FLOAT)
    if kind == "status":
        return choice(errs, path, raw, _STATUS)
    return number(errs, path, raw, _COUNT, optional=True)


_ANALYSIS_VALUE = (
    "a number, a bool, text, null, or a list of them of one shape "
    "(a vector, or a matrix of rows of one length)"
)


def _analysis_value(errs: Problems, path: str, raw: Any) -> Any:
    """The expected value of an ``analysis`` check: anything an analysis attribute can be
    compared with (numeric text read as a number), refusing what cannot be: an int beyond
    every float (``10**400``), a ragged list, a mapping."""
    if isinstance(raw, list):
        items = [_analysis_value(errs, join(path, i), x) for i, x in enumerate(raw)]
        if INVALID in items:
            return INVALID
        rows = [x for x in items if isinstance(x, list)]
        if rows and (len(rows) != len(items) or len({len(r) for r in rows}) != 1):
            return errs.bad(path, raw, _ANALYSIS_VALUE)
        return items
    value = number_or_raw(raw)
    if isinstance(value, int) and not isinstance(value, bool) and not _ANY_FLOAT.is_valid(value):
        return errs.bad(path, raw, _ANALYSIS_VALUE)
    if value is not None and not isinstance(value, (bool, int, float, str)):
        return errs.bad(path, raw, _ANALYSIS_VALUE)
    return value
