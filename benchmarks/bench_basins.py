"""Basins benchmark (issue 10): a 300 x 300 basins of 1000 GD steps on Himmelblau.

optiviz: :func:`optiviz.analysis.basins.basins` (the grid of 90,000 starts as one batched
run, ``record="final"``: every step evaluates the loss and gradient, steps, and tests the
stopping rules; then each final point is classified by its nearest minimum) against a
hand-vectorized numpy loop doing the same work (loss and hand-written gradient of every
start per step, the GD step, the final classification). Target: throughput >= 0.8 x the
baseline. CPU times (``time.process_time``), best of interleaved repeats, as in
``bench_engine.py``.
"""

from __future__ import annotations

import numpy as np
from bench_engine import _best_of

LR, STEPS, RES = 0.01, 1000, 300
MINIMA = np.array(
    [
        [3.0, 2.0],
        [-2.8051180869527449, 3.131312518250573],
        [-3.7793102533777469, -3.2831859912861694],
        [3.5844283403304917, -1.8481265269644036],
    ]
)
TOL = 0.1  # 1% of the window's side, the figure's default


def baseline_basins(res: int, steps: int, lr: float) -> np.ndarray:
    """The loop a user writes: loss and gradient of all starts per step, GD, classify."""
    g = np.linspace(-5.0, 5.0, res)
    gx, gy = np.meshgrid(g, g)
    x, y = gx.ravel().copy(), gy.ravel().copy()
    with np.errstate(all="ignore"):
        for _ in range(steps):
            a = x * x + y - 11.0
            b = x + y * y - 7.0
            f = a * a + b * b  # noqa: F841 (the loss, as every run computes it)
            dx = 4.0 * x * a + 2.0 * b
            dy = 2.0 * a + 4.0 * y * b
            x -= lr * dx
            y -= lr * dy
        d = np.hypot(x[:, None] - MINIMA[None, :, 0], y[:, None] - MINIMA[None, :, 1])
    k = np.argmin(d, axis=1)
    out = np.where(d[np.arange(len(x)), k] <= TOL, k + 1, 0)
    return np.where(np.isfinite(x) & np.isfinite(y), out, -1)


def bench_basins_himmelblau(repeats: int = 3) -> dict:
    """300 x 300 GD basins, 1000 steps, on Himmelblau: throughput >= 0.8 x numpy."""
    import optiviz
    from optiviz.analysis.basins import basins

    s = optiviz.load_surface("himmelblau")
    minima = [(i + 1, p) for i, p in enumerate(MINIMA)]
    opt = optiviz.make_optimizer("gd", lr=LR)
    best, wall, out = _best_of(
        {
            "optiviz": lambda: basins(
                s, opt, minima=minima, steps=STEPS, resolution=RES, tolerance=TOL
            ),
            "baseline": lambda: baseline_basins(RES, STEPS, LR),
        },
        repeats,
    )
    b = out["optiviz"]
    assert np.array_equal(b.outcome, out["baseline"])  # the same basins, start by start
    work = RES * RES * STEPS
    thr_o, thr_b = work / best["optiviz"], work / best["baseline"]
    return dict(
        name=f"basins {RES}x{RES} gd x {STEPS} steps, himmelblau",
        optiviz_s=best["optiviz"],
        baseline_s=best["baseline"],
        ratio=thr_o / thr_b,
        target=0.8,
        higher_is_better=True,
        unit="x throughput",
        note=(
            f"CPU {best['optiviz']:.2f} s vs baseline {best['baseline']:.2f} s "
            f"({thr_o / 1e6:.1f} vs {thr_b / 1e6:.1f} M run-steps/s); wall "
            f"{wall['optiviz']:.2f} s vs {wall['baseline']:.2f} s; counts {b.counts()}"
        ),
    )


BENCHMARKS = [bench_basins_himmelblau]


if __name__ == "__main__":
    for bench in BENCHMARKS:
        print(bench())
