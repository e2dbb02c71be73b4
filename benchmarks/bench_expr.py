"""Expression-parser benchmarks: how long the safe parser takes to decide.

There is no hand-written baseline for refusing a hostile expression, so the rows report
absolute times against a target, as the tests once asserted with a clock: every hostile
input of ``tests/test_expr.py`` (``HOSTILE``) and every injection attempt is refused with
``ExpressionError`` within 0.5 s, and a 2,000-character expression parses within 1 s.
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
from test_expr import HOSTILE, long_expression_terms  # noqa: E402  (one source of inputs)

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


BENCHMARKS = [bench_hostile_refused, bench_long_expression]

if __name__ == "__main__":
    for bench in BENCHMARKS:
        print(bench())
