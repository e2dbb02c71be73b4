"""Analysis benchmarks: the wall time of finding a surface's stationary points.

There is no hand-written baseline for a symbolic solve or a multi-start Newton search, so
the rows report absolute times against a target: the analysis' default ``time_budget`` of
5 s (the symbolic solve is abandoned after it; the numeric search stops at it), which the
tests used to assert with a clock. Each row first checks the result (the right method and
points), then times a call on a freshly loaded surface (the analysis caches per surface
object): the first call in the process (cold: sympy's caches empty) and the best of
``REPEAT`` later ones are both shown; the cold one is compared with the target.
``benchmarks/run.py`` runs every ``bench_*.py`` module; this one also runs alone::

    python benchmarks/bench_analysis.py
"""

from __future__ import annotations

import time

import numpy as np

from optiviz.analysis import analyze
from optiviz.library import load_surface

#: The analysis' default time budget (seconds), the target of every row.
BUDGET = 5.0
REPEAT = 3


def _timed(name: str, method: str, point: list[float]) -> dict:
    times = []
    for _ in range(1 + REPEAT):
        s = load_surface(name)
        t0 = time.perf_counter()
        a = analyze(s, time_budget=BUDGET)
        times.append(time.perf_counter() - t0)
        m = a.minimum
        if a.method != method or m is None or not np.allclose(m.point, point, atol=1e-9):
            raise AssertionError(f"{name}: method {a.method}, minimum {m}")
    cold, warm = times[0], min(times[1:])
    return {
        "name": f"analyze({name}): {method}",
        "optiviz_s": cold,
        "baseline_s": None,
        "ratio": cold,
        "target": BUDGET,
        "unit": "s (first call)",
        "note": f"first call {cold:.3f} s, best later call {warm:.3f} s "
        f"(target: the {BUDGET:g} s time budget)",
    }


def bench_rosenbrock_symbolic() -> dict:
    """Rosenbrock: a lex Groebner basis of its cubic gradient (Bezout bound 6)."""
    return _timed("rosenbrock", "symbolic", [1.0, 1.0])


def bench_goldstein_price_numeric() -> dict:
    """Goldstein-Price: the size gate skips the symbolic solve (Bezout bound 49 > 36);
    the numeric multi-start Newton search finds the minimum (0, -1)."""
    return _timed("goldstein_price", "numeric", [0.0, -1.0])


BENCHMARKS = [bench_rosenbrock_symbolic, bench_goldstein_price_numeric]


if __name__ == "__main__":
    for bench in BENCHMARKS:
        r = bench()
        print(f"{r['name']:40s} {r['ratio']:.3f} {r['unit']} (target <= {r['target']:g})")
        print(f"  {r['note']}")
