"""Expression-parser benchmarks: how long the safe parser takes to decide.

There is no hand-written baseline for refusing a hostile expression, so the rows report
absolute times against a target, as the tests once asserted with a clock: every hostile
input of ``tests/test_expr.py`` (``HOSTILE``) and every injection attempt is refused with
``ExpressionError`` within 0.5 s, so is every input of ``ONCE_SLOW`` (those issue 14
found taking seconds to minutes; accepted or refused), the surface ``Max(a, b, c, d, e)``
builds within 1 CPU second, so do a ``Max`` of 8 compound terms, a sum of squares of 100
variables and ``(a+...+j)**24``, and a 2,000-character expression parses within 1 s.
Each row first checks the outcome (refused with the expected message, or parsed), then
keeps the worst of the inputs' best-of-``REPEAT`` times. ``benchmarks/run.py`` runs every
``bench_*.py`` module; this one also runs alone::

    python benchmarks/bench_expr.py
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from optiviz.errors import ExpressionError
from optiviz.expr import parse_expression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_expr import (  # noqa: E402  (one source of inputs)
    HOSTILE,
    ONCE_SLOW,
    long_expression_terms,
)

REPEAT = 3
VARIABLES, PARAMETERS = ["x", "y"], ["a", "b"]


def _parse(text: str):
    return parse_expression(text, VARIABLES, PARAMETERS)


def _refusal_time(text: str, message: str) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        try:
            _parse(text)
        except ExpressionError as exc:
            best = min(best, time.perf_counter() - t0)
            if not re.search(message, str(exc)):
                raise AssertionError(f"{text!r}: {exc}") from None
        else:
            raise AssertionError(f"{text!r} was accepted")
    return best


def bench_hostile_refused() -> dict:
    """The slowest refusal among the tests' hostile inputs (limits, nesting, syntax)."""
    worst, which = max((_refusal_time(t, m), t) for t, m in HOSTILE)
    return {
        "name": f"expr: {len(HOSTILE)} hostile inputs refused",
        "optiviz_s": worst,
        "baseline_s": None,
        "ratio": worst,
        "target": 0.5,
        "unit": "s (slowest)",
        "note": f"slowest: {which[:40]!r} in {worst * 1e3:.1f} ms (best of {REPEAT})",
    }


def _decision_time(text: str, message: str | None) -> float:
    if message is not None:
        return _refusal_time(text, message)
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        _parse(text)
        best = min(best, time.perf_counter() - t0)
    return best


def bench_once_slow_decided() -> dict:
    """The inputs issue 14 found taking seconds to minutes (literals with huge exponents,
    powers of large constants, nested Max/Min): each decided (accepted or refused)."""
    worst, which = max((_decision_time(t, m), t) for t, m in ONCE_SLOW)
    return {
        "name": f"expr: {len(ONCE_SLOW)} once-slow inputs decided",
        "optiviz_s": worst,
        "baseline_s": None,
        "ratio": worst,
        "target": 0.5,
        "unit": "s (slowest)",
        "note": f"slowest: {which[:40]!r} in {worst * 1e3:.1f} ms (best of {REPEAT})",
    }


def bench_minmax_surface() -> dict:
    """Building the surface Max(a, b, c, d, e) (value, gradient, Hessian, compiled): it
    once took 16 s and then crashed every run."""
    from optiviz.surface import Surface

    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.process_time()
        Surface.from_expression("Max(a, b, c, d, e)", list("abcde"))
        best = min(best, time.process_time() - t0)
    return {
        "name": "expr: build the surface Max(a, b, c, d, e)",
        "optiviz_s": best,
        "baseline_s": None,
        "ratio": best,
        "target": 1.0,
        "unit": "CPU s",
        "note": f"{best * 1e3:.0f} ms of CPU (best of {REPEAT})",
    }


def bench_large_surfaces() -> dict:
    """Building the surfaces issue 14 found slow (parse + derivation + compilation, CPU
    time): a Max of 8 compound terms (once 2 s), a sum of squares of 100 variables (once
    6 s) and (a+...+j)**24 with its degree (once minutes expanding 38.6 million terms)."""
    from optiviz.surface import Surface

    names = [f"x{i}" for i in range(100)]
    cases = {
        "Max of 8 terms": (
            "Max(x**2+y, x*y-1, sin(x)+y**2, x-y, exp(x)-y, y**3-x, x**2*y, cos(y)+x)",
            ["x", "y"],
        ),
        "100 squares": (" + ".join(f"{v}**2" for v in names), names),
        "(a+...+j)**24": ("(a+b+c+d+e+f+g+h+i+j)**24", list("abcdefghij")),
    }
    times = {}
    for label, (text, variables) in cases.items():
        best = float("inf")
        for _ in range(REPEAT):
            t0 = time.process_time()
            s = Surface.from_expression(text, variables)
            _ = s.degree
            best = min(best, time.process_time() - t0)
        times[label] = best
    worst = max(times.values())
    return {
        "name": "expr: build 3 once-slow surfaces",
        "optiviz_s": worst,
        "baseline_s": None,
        "ratio": worst,
        "target": 1.0,
        "unit": "CPU s (slowest)",
        "note": ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in times.items())
        + f" (best of {REPEAT})",
    }


def bench_long_expression() -> dict:
    """A 2,000-character sum of smooth terms (sympy's construction dominates)."""
    terms = long_expression_terms()
    text = " + ".join(terms)
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        _parse(text)
        best = min(best, time.perf_counter() - t0)
    return {
        "name": f"expr: parse {len(text)} characters",
        "optiviz_s": best,
        "baseline_s": None,
        "ratio": best,
        "target": 1.0,
        "unit": "s",
        "note": f"{len(terms)} terms parsed in {best * 1e3:.1f} ms (best of {REPEAT})",
    }


BENCHMARKS = [
    bench_hostile_refused,
    bench_once_slow_decided,
    bench_minmax_surface,
    bench_large_surfaces,
    bench_long_expression,
]

if __name__ == "__main__":
    for bench in BENCHMARKS:
        print(bench())
