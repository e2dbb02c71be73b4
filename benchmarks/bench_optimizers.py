"""Optimizer benchmarks: the cost of one ``step`` on the single-run fast path.

(d) Adam's ``step`` on (2,) arrays, called directly (no engine, no surface): time per step
    against a hand-written numpy Adam update on the same arrays; a loose guard (<= 3x)
    that catches per-step array copies of the constants or a fall back to (R, n) arrays.
    (Formerly a wall-clock assertion in tests/test_optimizers_api.py, < 100 us per step.)
"""

from __future__ import annotations

import numpy as np
from bench_engine import B1, B2, EPS, _best_of


def _optiviz_steps(steps: int):
    import optiviz

    opt = optiviz.make_optimizer("adam", lr=1e-3)
    x = np.array([0.3, -0.2])
    g = np.array([0.5, -1.0])
    state = opt.init(x, None)
    step = opt.step
    for t in range(1, steps + 1):
        x, state = step(x, g, state, None, 1e-3, t)
    return x


def _baseline_steps(steps: int):
    x = np.array([0.3, -0.2])
    g = np.array([0.5, -1.0])
    m = np.zeros(2)
    v = np.zeros(2)
    for t in range(1, steps + 1):
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        x = x - 1e-3 * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + EPS)
    return x


def bench_adam_step(steps: int = 20_000, repeats: int = 5) -> dict:
    """(d) Adam.step on (2,) arrays: time per step <= 3x a hand-written numpy update."""
    best, wall, out = _best_of(
        {"optiviz": lambda: _optiviz_steps(steps), "baseline": lambda: _baseline_steps(steps)},
        repeats,
    )
    assert out["optiviz"].shape == (2,)
    assert np.allclose(out["optiviz"], out["baseline"], rtol=1e-12, atol=1e-15)
    o, b = best["optiviz"] / steps, best["baseline"] / steps
    return dict(
        name="(d) adam step on (2,) arrays",
        optiviz_s=best["optiviz"],
        baseline_s=best["baseline"],
        ratio=o / b,
        target=3.0,
        unit="x time",
        note=f"CPU {o * 1e6:.2f} us/step vs baseline {b * 1e6:.2f} us/step",
    )


BENCHMARKS = [bench_adam_step]
