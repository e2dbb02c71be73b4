"""Map benchmarks (issue 10): a rate map as one batched run against a hand-vectorized loop.

rate_map: heavy ball over 200 lr x 200 momentum cells, 1000 steps each, on the 2-D
quadratic (x^2 + 10 y^2)/2, as one batched run (``optiviz.analysis.maps.rate_map``: the
engine with (R, 1) hyperparameters, ``record="final"`` plus the losses of the rate fit's
windows) against a hand-vectorized numpy heavy-ball loop on (40000, 2) arrays doing the
same work: gradient and loss every step, the same losses kept, divergence marked, the same
rate fit. Target: throughput >= 0.8 x the baseline. The theory on the grid (not part of
either side) and the figure are timed in the note.

Timings interleave the two sides and keep the best CPU time of several repeats
(``time.process_time``), as in bench_engine.py.
"""

from __future__ import annotations

import math
import time

import numpy as np

QUAD = "(x**2 + 10*y**2)/2"
D = np.array([1.0, 10.0])
X0 = (1.0, 1.0)
N, STEPS = 200, 1000


def _surface():
    import optiviz

    return optiviz.Surface.from_expression(QUAD, ["x", "y"], minima=[{"point": [0, 0], "value": 0}])


def _axes():
    from optiviz.analysis.maps import Axis

    return (
        Axis("lr", np.logspace(-3, 0, N), log=True),
        Axis("momentum", np.linspace(0, 0.99, N)),
    )


def baseline_heavy_ball_map(lr_axis, mom_axis, steps):
    """A hand-vectorized heavy-ball loop over every (lr, momentum) cell."""
    from optiviz.analysis.maps import fit_rates, loss_windows

    L, M = np.meshgrid(lr_axis, mom_axis, indexing="xy")
    lr, mu = L.reshape(-1, 1), M.reshape(-1, 1)
    R = lr.shape[0]
    X = np.tile(np.asarray(X0, dtype=float), (R, 1))
    V = np.zeros_like(X)
    windows = loss_windows(steps)
    kept = sorted({0, *(s for a, b in windows for s in range(a, b + 1))})
    row = {s: i for i, s in enumerate(kept)}
    K = np.full((len(kept), R), np.nan)
    F = 0.5 * (X * X) @ D
    K[0] = F
    bound = 1e12 * max(1.0, float(F[0]))
    alive = np.ones(R, dtype=bool)
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            G = X * D
            V = mu * V + G
            X = X - lr * V
            F = 0.5 * (X * X) @ D
            alive &= np.abs(F) <= bound  # nan fails too
            if t in row:
                K[row[t]] = np.where(alive, F, np.nan)
    status = np.where(alive, "max_steps", "diverged")
    rate = fit_rates(K.T, kept, windows, 0.0, K[0])
    return status, F, rate


def bench_rate_map(repeats: int = 3) -> dict:
    """200 x 200 (lr, momentum) heavy-ball cells x 1000 steps: throughput >= 0.8 x."""
    from optiviz.analysis.maps import rate_map, theory_on_grid
    from optiviz.optimizers import get_class

    s = _surface()
    x, y = _axes()

    def ours():
        return rate_map(s, "momentum", x, y, X0, STEPS, minimum=[0.0, 0.0])

    def theirs():
        return baseline_heavy_ball_map(x.values, y.values, STEPS)

    best = {"optiviz": math.inf, "baseline": math.inf}
    wall = dict(best)
    out: dict = {}
    for _ in range(repeats):
        for k, fn in (("optiviz", ours), ("baseline", theirs)):
            out[k] = None
            w0, c0 = time.perf_counter(), time.process_time()
            out[k] = fn()
            best[k] = min(best[k], time.process_time() - c0)
            wall[k] = min(wall[k], time.perf_counter() - w0)
    m = out["optiviz"]
    status, _, rate = out["baseline"]
    # the same work: the same cells diverge, the same rates (to round-off) where they do not
    # (the engine also keeps the loss of a diverged cell at its stopping step)
    assert np.array_equal(m.diverged.reshape(-1), status == "diverged")
    ok = np.isfinite(rate) & (status != "diverged")
    assert np.allclose(m.rate.reshape(-1)[ok], rate[ok], rtol=1e-6)
    w0 = time.perf_counter()
    th = theory_on_grid(get_class("momentum"), D, x, y)
    t_theory = time.perf_counter() - w0
    assert th is not None
    cells = N * N
    thr_o = cells * STEPS / best["optiviz"]
    thr_b = cells * STEPS / best["baseline"]
    return dict(
        name=f"rate_map heavy ball {N} x {N} cells x {STEPS} steps (one batched run)",
        optiviz_s=best["optiviz"],
        baseline_s=best["baseline"],
        ratio=thr_o / thr_b,
        target=0.8,
        higher_is_better=True,
        unit="x throughput",
        note=(
            f"CPU {thr_o / 1e6:.2f} M run-steps/s vs baseline {thr_b / 1e6:.2f} M; wall "
            f"{wall['optiviz']:.2f} s vs {wall['baseline']:.2f} s; theory on the grid "
            f"{t_theory:.2f} s"
        ),
    )


BENCHMARKS = [bench_rate_map]


if __name__ == "__main__":
    for bench in BENCHMARKS:
        print(bench())
