"""Engine benchmarks (issue 3): optiviz.run against hand-written numpy loops.

(a) one Adam run on 2-D Rosenbrock, 20,000 steps, record="all": time per step <= 1.0 x a
    hand-written numpy Adam loop with a hand-written gradient.
(b) the same Adam over 1,000 learning rates x 1,000 steps in one batched run: throughput
    >= 0.8 x a hand-vectorized numpy loop on (1000, 2) arrays.
(c) a 10,000-run x 10,000-step sweep with record="final": peak memory <= 300 MB (the
    increase of the peak RSS of a fresh process during the run), and its time.

Timings interleave optiviz and baseline runs and keep the best of several repeats (the
minimum is the least noisy estimate on a shared machine). The ratios use CPU time
(``time.process_time``: this process's user + system time, so waiting for a busy CPU does
not count but page faults do); wall times are shown in the notes.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time

import numpy as np

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"
X0 = (-1.2, 1.0)
B1, B2, EPS = 0.9, 0.999, 1e-8


def rosenbrock():
    """The 2-D Rosenbrock surface through the public API (sympy fallback for bootstrap)."""
    import optiviz

    kw = dict(name="rosenbrock", minima=[{"point": [1.0, 1.0], "value": 0.0}])
    try:
        return optiviz.Surface.from_expression(ROSENBROCK, variables=["x", "y"], **kw)
    except ImportError:  # optiviz.expr not there yet
        import sympy as sp

        x, y = sp.symbols("x y", real=True)
        return optiviz.Surface((1 - x) ** 2 + 100 * (y - x**2) ** 2, [x, y], **kw)


def adam(lr):
    import optiviz

    return optiviz.make_optimizer("adam", lr=lr)


def _best_of(fns: dict, repeats: int) -> tuple[dict, dict, dict]:
    """Interleaved repeats: the minimum CPU time and wall time of each callable, and the
    last result of each."""
    best = {k: math.inf for k in fns}
    wall = {k: math.inf for k in fns}
    out = {}
    for _ in range(repeats):
        for k, fn in fns.items():
            out[k] = None  # free the previous result first: both sides allocate alike
            w0, c0 = time.perf_counter(), time.process_time()
            out[k] = fn()
            best[k] = min(best[k], time.process_time() - c0)
            wall[k] = min(wall[k], time.perf_counter() - w0)
    return best, wall, out


# -- (a) single run --------------------------------------------------------------------------
def baseline_adam_single(x0, lr, steps):
    """A hand-written numpy Adam loop, the way a user writes it."""
    x = np.array(x0, dtype=float)
    m = np.zeros(2)
    v = np.zeros(2)
    points = np.empty((steps + 1, 2))
    losses = np.empty(steps + 1)
    points[0] = x
    losses[0] = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    for t in range(1, steps + 1):
        g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        m_hat = m / (1 - B1**t)
        v_hat = v / (1 - B2**t)
        x = x - lr * m_hat / (np.sqrt(v_hat) + EPS)
        points[t] = x
        losses[t] = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    return points, losses


def bench_adam_single_run(steps: int = 20_000, repeats: int = 7) -> dict:
    """(a) Adam, one run on Rosenbrock, 20k steps, record='all': time ratio <= 1.0."""
    from optiviz.engine import run

    s = rosenbrock()
    lr = 1e-3
    best, wall, out = _best_of(
        {
            "optiviz": lambda: run(s, adam(lr), X0, steps),
            "baseline": lambda: baseline_adam_single(X0, lr, steps),
        },
        repeats,
    )
    tr = out["optiviz"]
    pts, losses = out["baseline"]
    # same iterates (rounding differences are amplified late in the run: compare early)
    assert tr.n_steps == steps and np.allclose(tr.points[:2000], pts[:2000], rtol=0, atol=1e-12)
    assert abs(tr.losses[-1] - losses[-1]) <= 1e-6 * max(1.0, abs(losses[-1]))
    o, b = best["optiviz"] / steps, best["baseline"] / steps
    return dict(
        name="(a) adam 1 run x 20k steps",
        optiviz_s=best["optiviz"],
        baseline_s=best["baseline"],
        ratio=o / b,
        target=1.0,
        unit="x time",
        note=(
            f"CPU {o * 1e6:.2f} us/step vs baseline {b * 1e6:.2f} us/step; wall "
            f"{wall['optiviz'] / steps * 1e6:.2f} vs "
            f"{wall['baseline'] / steps * 1e6:.2f} us/step"
        ),
    )


# -- (b) batched sweep -----------------------------------------------------------------------
def baseline_adam_sweep(x0, lrs, steps, keep=True):
    """A hand-vectorized numpy Adam over R learning rates, recording points and losses;
    without ``keep``, the final points and the best losses only (no records)."""
    R = len(lrs)
    lr = np.asarray(lrs, dtype=float)[:, None]
    X = np.tile(np.asarray(x0, dtype=float), (R, 1))
    m = np.zeros((R, 2))
    v = np.zeros((R, 2))
    f = best = (1 - X[:, 0]) ** 2 + 100 * (X[:, 1] - X[:, 0] ** 2) ** 2
    if keep:
        points = np.empty((steps + 1, R, 2))
        losses = np.empty((steps + 1, R))
        points[0], losses[0] = X, f
    g = np.empty((R, 2))
    for t in range(1, steps + 1):
        x, y = X[:, 0], X[:, 1]
        r = y - x * x
        g[:, 0] = -2 * (1 - x) - 400 * x * r
        g[:, 1] = 200 * r
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        m_hat = m / (1 - B1**t)
        v_hat = v / (1 - B2**t)
        X = X - lr * m_hat / (np.sqrt(v_hat) + EPS)
        f = (1 - X[:, 0]) ** 2 + 100 * (X[:, 1] - X[:, 0] ** 2) ** 2
        if keep:
            points[t], losses[t] = X, f
        else:
            best = np.fmin(best, f)
    return (points, losses) if keep else (X, best)


def bench_adam_lr_sweep(
    n_lr: int = 1000, steps: int = 1000, repeats: int = 7, record: str = "path"
) -> dict:
    """(b) Adam over 1,000 learning rates x 1,000 steps batched: throughput ratio >= 0.8.

    Both sides record every iterate and loss (optiviz also the gradient norms:
    ``record="path"``); ``bench_adam_lr_sweep_all`` adds the effective learning rates.
    """
    from optiviz.engine import run

    s = rosenbrock()
    lrs = np.logspace(-4, -1, n_lr)
    best, wall, out = _best_of(
        {
            "optiviz": lambda: run(s, adam(lrs), X0, steps, record=record),
            "baseline": lambda: baseline_adam_sweep(X0, lrs, steps),
        },
        repeats,
    )
    tr = out["optiviz"]
    pts, _ = out["baseline"]
    assert tr.points.shape == (n_lr, steps + 1, 2)
    assert np.allclose(tr.points[:, :200], pts[:200].transpose(1, 0, 2), rtol=0, atol=1e-9)
    thr_o = n_lr * steps / best["optiviz"]
    thr_b = n_lr * steps / best["baseline"]
    return dict(
        name=f"(b) adam 1000 lr x 1000 steps, record={record}",
        optiviz_s=best["optiviz"],
        baseline_s=best["baseline"],
        ratio=thr_o / thr_b,
        target=0.8,
        higher_is_better=True,
        unit="x throughput",
        note=(
            f"CPU {thr_o / 1e6:.2f} M run-steps/s vs baseline {thr_b / 1e6:.2f} M; "
            f"wall ratio {wall['baseline'] / wall['optiviz']:.3f}"
        ),
    )


# -- (c) memory of a record="final" sweep ----------------------------------------------------
_MEMORY_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    sys.path.insert(0, {here!r})
    from bench_engine import X0, adam, rosenbrock
    from optiviz.engine import run

    def status_kb(key):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return None

    R, T = {runs}, {steps}
    s = rosenbrock()
    run(s, adam(np.logspace(-4, -1, 8)), X0, 3, record="final")  # warm up
    opt = adam(np.logspace(-4, -1, R))
    try:  # reset the peak RSS (VmHWM) so it measures this run only (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        reset = True
    except OSError:
        reset = False
    before = status_kb("VmRSS")
    t0 = time.perf_counter()
    tr = run(s, opt, X0, T, record="final")
    elapsed = time.perf_counter() - t0
    peak = status_kb("VmHWM") if reset else resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(dict(delta=peak - before, peak=peak, before=before, reset=reset,
                          elapsed=elapsed, steps=int(tr.n_steps.max()),
                          status=tr.status_counts())))
""")


def bench_memory_final_sweep(runs: int = 10_000, steps: int = 10_000) -> dict:
    """(c) 10,000 runs x 10,000 steps, record='final': peak memory increase <= 300 MB."""
    from pathlib import Path

    here = str(Path(__file__).resolve().parent)
    code = _MEMORY_SCRIPT.format(here=here, runs=runs, steps=steps)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    mb = res["delta"] / 2**20
    assert res["steps"] == steps
    return dict(
        name=f"(c) memory {runs} runs x {steps} steps final",
        optiviz_s=res["elapsed"],
        baseline_s=None,
        ratio=mb,
        target=300.0,
        unit="MB",
        note=(
            f"peak RSS grew by {mb:.1f} MB during the run (process peak "
            f"{res['peak'] / 2**20:.0f} MB{'' if res['reset'] else ', unreset'}); "
            f"{runs * steps / 1e6:.0f} M run-steps in {res['elapsed']:.1f} s; "
            f"statuses {res['status']}"
        ),
    )


def bench_adam_lr_sweep_all() -> dict:
    """(b) as above with record="all" (the default: also the gradients, turned into the
    effective learning rates block by block, and the optimizers' own factors: 32 kB more
    fresh memory per step than the baseline records)."""
    return bench_adam_lr_sweep(record="all")


BENCHMARKS = [
    bench_adam_single_run,
    bench_adam_lr_sweep,
    bench_adam_lr_sweep_all,
    bench_memory_final_sweep,
]


if __name__ == "__main__":
    for bench in BENCHMARKS:
        print(bench())
