"""Surface benchmarks: optiviz against hand-written numpy doing the same work.

Each entry of ``BENCHMARKS`` is a callable returning ``{name, optiviz_s, baseline_s, ratio,
target, note}`` (``ratio = optiviz_s / baseline_s``, ``target`` the largest allowed ratio).
Times are the best of several repeats (``time.perf_counter``) in the same process.
``benchmarks/run.py`` runs every ``bench_*.py`` module; this one also runs alone::

    python benchmarks/bench_surfaces.py
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from optiviz import data
from optiviz.surface import Surface


def best_times(
    fns: Sequence[Callable[[], object]],
    repeat: int = 15,
    number: int = 1,
    budget: float = 1.0,
    block: int = 3,
) -> list[float]:
    """Best times of several callables, measured in rounds that visit each in turn (so a
    busy phase of the machine hits all of them alike). In a round each callable runs
    ``block`` times in a row (its first run in a round pays for the allocator state the
    previous callable left; the minimum keeps the steady state). At least ``repeat``
    rounds, more until ``budget`` seconds have passed: on a loaded machine the minimum
    needs many samples to settle."""
    best = [float("inf")] * len(fns)
    start, rounds = time.perf_counter(), 0
    while rounds < repeat or (time.perf_counter() - start < budget and rounds < 100 * repeat):
        rounds += 1
        order = list(enumerate(fns))
        for i, fn in order if rounds % 2 else order[::-1]:  # alternate who goes first
            for _ in range(block):
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                best[i] = min(best[i], (time.perf_counter() - t0) / number)
    return best


def _result(name: str, optiviz_s: float, baseline_s: float, target: float, note: str = ""):
    return {
        "name": name,
        "optiviz_s": optiviz_s,
        "baseline_s": baseline_s,
        "ratio": optiviz_s / baseline_s,
        "target": target,
        "unit": "x time",
        "note": note,
    }


def _surface(text: str, expr_fn: Callable[[sp.Symbol, sp.Symbol], sp.Expr]) -> Surface:
    try:
        return Surface.from_expression(text, ["x", "y"])
    except ImportError:  # the safe parser (optiviz.expr) is not there yet
        x, y = sp.symbols("x y", real=True)
        return Surface.from_sympy(expr_fn(x, y), [x, y])


def _grid(n: int = 500) -> np.ndarray:
    u = np.linspace(-2.0, 2.0, n)
    v = np.linspace(-1.0, 3.0, n)
    return np.stack(np.meshgrid(u, v), axis=-1)  # (n, n, 2)


# -- (a) grid evaluation ----------------------------------------------------------------
# Two hand-written orderings of each formula; the baseline is the faster. On large arrays
# numpy reuses a temporary in place only when it is the left operand ("temporary elision"),
# so ``y - x**2`` allocates a new 2 MB array where ``x**2 - y`` does not -- and here a fresh
# allocation (page faults) costs more than the arithmetic.
_NOTE_GRID = "Surface.f(G), G (500, 500, 2), check=True; baseline: best of 2 orderings"


def _grid_bench(name: str, s: Surface, G: np.ndarray, forms) -> dict:
    x, y = G[..., 0], G[..., 1]
    fns = [lambda: s.f(G)] + [lambda form=form: form(x, y) for form in forms]
    for fn in fns[1:]:
        assert np.allclose(s.f(G), fn(), rtol=1e-12, atol=1e-12)
    times = best_times(fns, repeat=25)
    return _result(name, times[0], min(times[1:]), 1.5, _NOTE_GRID)


def bench_grid_rosenbrock():
    s = _surface(
        "(1 - x)**2 + 100*(y - x**2)**2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2
    )
    return _grid_bench(
        "grid f 500x500: rosenbrock",
        s,
        _grid(),
        [
            lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
            lambda x, y: (1 - x) ** 2 + 100 * (x**2 - y) ** 2,
        ],
    )


def bench_grid_beale():
    def beale(x, y):
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2

    def beale2(x, y):
        return (x * y - x + 1.5) ** 2 + (x * y**2 - x + 2.25) ** 2 + (x * y**3 - x + 2.625) ** 2

    s = _surface("(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2", beale)
    return _grid_bench("grid f 500x500: beale", s, _grid(), [beale, beale2])


# -- (b) logistic regression, N = 100,000, 10 features + bias --------------------------------
_N, _D = 100_000, 10


def _logistic_setup():
    ds = data.make_blobs(_N, _D, seed=0, separation=1.0)
    s = data.logistic_regression(ds)  # cross-entropy, sum
    Xa = np.column_stack([ds.X, np.ones(_N)])
    w = np.random.default_rng(1).normal(scale=0.3, size=_D + 1)
    return s, Xa, ds.y.copy(), w


def _np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def bench_logistic_grad():
    s, Xa, y, w = _logistic_setup()

    def baseline():
        return Xa.T @ (_np_sigmoid(Xa @ w) - y)

    assert np.allclose(s.grad(w), baseline(), rtol=1e-10, atol=1e-9)
    t_opt, t_base = best_times([lambda: s.grad(w), baseline], repeat=25, budget=2.0)
    return _result(
        "logistic N=1e5 d=10+b: grad",
        t_opt,
        t_base,
        1.5,
        "baseline Xa.T @ (sigmoid(Xa w) - y); optiviz check=True",
    )


def bench_logistic_hess():
    s, Xa, y, w = _logistic_setup()

    def baseline():
        p = _np_sigmoid(Xa @ w)
        return Xa.T @ (Xa * (p * (1 - p))[:, None])

    assert np.allclose(s.hess(w), baseline(), rtol=1e-10, atol=1e-9)
    t_opt, t_base = best_times([lambda: s.hess(w), baseline], repeat=15, budget=2.0)
    return _result(
        "logistic N=1e5 d=10+b: hess",
        t_opt,
        t_base,
        2.0,
        "baseline Xa.T @ (Xa * (s(1-s))[:, None]); optiviz check=True",
    )


# -- (c) build time independent of N ----------------------------------------------------------
def _build_pair():
    small = data.make_blobs(100, _D, seed=0)
    large = data.make_blobs(_N, _D, seed=0)
    return small, large


def bench_build_cold():
    small, large = _build_pair()

    def build(ds):
        def run():
            data.clear_compile_cache()
            return data.logistic_regression(ds)

        return run

    t_large, t_small = best_times([build(large), build(small)], repeat=7)
    return _result(
        "build logistic N=1e5 vs N=100 (cold)",
        t_large,
        t_small,
        1.5,
        "compile cache cleared before each build (sympy derivation + lambdify "
        "included); dataset generation excluded; baseline column = N=100",
    )


def bench_build_warm():
    small, large = _build_pair()
    data.logistic_regression(small)  # fill the per-loss compile cache
    t_large, t_small = best_times(
        [lambda: data.logistic_regression(large), lambda: data.logistic_regression(small)],
        repeat=25,
        number=100,
    )
    return _result(
        "build logistic N=1e5 vs N=100 (warm)",
        t_large,
        t_small,
        1.5,
        f"compile cache warm: {t_small * 1e6:.0f} us vs {t_large * 1e6:.0f} us; "
        "baseline column = N=100",
    )


def bench_build_warm_small():
    # moved from tests/test_data.py (a wall-clock check): 3 features, N = 1e5 vs N = 10
    small, large = data.make_blobs(10, 3, seed=0), data.make_blobs(_N, 3, seed=0)
    data.logistic_regression(small)  # fill the per-loss compile cache
    t_large, t_small = best_times(
        [lambda: data.logistic_regression(large), lambda: data.logistic_regression(small)],
        repeat=25,
        number=100,
    )
    return _result(
        "build logistic N=1e5 vs N=10, d=3 (warm)",
        t_large,
        t_small,
        1.5,
        f"compile cache warm: {t_small * 1e6:.0f} us vs {t_large * 1e6:.0f} us; "
        "baseline column = N=10",
    )


BENCHMARKS = [
    bench_grid_rosenbrock,
    bench_grid_beale,
    bench_logistic_grad,
    bench_logistic_hess,
    bench_build_cold,
    bench_build_warm,
    bench_build_warm_small,
]


def main() -> int:
    rows = [b() for b in BENCHMARKS]
    width = max(len(r["name"]) for r in rows)
    print(
        f"{'benchmark':<{width}}  {'optiviz':>10}  {'baseline':>10}  {'ratio':>6}  "
        f"{'target':>6}  ok"
    )
    failed = 0
    for r in rows:
        ok = r["ratio"] <= r["target"]
        failed += not ok
        print(
            f"{r['name']:<{width}}  {r['optiviz_s'] * 1e3:>8.3f}ms  "
            f"{r['baseline_s'] * 1e3:>8.3f}ms  {r['ratio']:>6.2f}  {r['target']:>6.2f}  "
            f"{'yes' if ok else 'NO'}   {r.get('note', '')}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
