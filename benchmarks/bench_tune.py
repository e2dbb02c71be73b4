"""Tuning benchmark (issue 11): 64 trials x 8 optimizers x 1000 steps on Rosenbrock.

optiviz: :func:`optiviz.tuning.tune`, each optimizer's 64 Sobol trials as one batched run
(8 batched runs of 64), against the same 512 settings run one at a time
(:func:`optiviz.run` per trial, ``record="final"`` like the trials). The two must give the
same objective, trial by trial (bitwise: the batched loop does the single loop's
arithmetic). Target: the batched tuning >= 5 x faster. CPU times (``time.process_time``);
the one-at-a-time side is timed once (it takes tens of seconds), the batched side best of
three.
"""

from __future__ import annotations

import time

import numpy as np

OPTIMIZERS = ("gd", "momentum", "nesterov", "adam", "nadam", "rmsprop", "adagrad", "rprop")
BUDGET, STEPS, START = 64, 1000, (-1.2, 1.0)


def _one_at_a_time(surface, result) -> np.ndarray:
    """Every trial of ``result`` run alone; its final losses (inf where it diverged)."""
    from optiviz import make_optimizer, run

    out = []
    for t in result.optimizers:
        for j in range(len(t.objectives)):
            tr = run(surface, make_optimizer(t.name, **t.setting(j)), START, STEPS, record="final")
            out.append(np.inf if tr.status == "diverged" else tr.final_loss)
    return np.array(out)


def bench_tune_rosenbrock(repeats: int = 3) -> dict:
    """8 optimizers x 64 trials x 1000 steps: batched >= 5 x one at a time."""
    import optiviz
    from optiviz.tuning import TuneSpec, tune

    s = optiviz.load_surface("rosenbrock")
    spec = TuneSpec(budget=BUDGET, sampler="sobol", objective="final_loss")
    cpu, wall, result = np.inf, np.inf, None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = tune(s, OPTIMIZERS, spec, start=START, steps=STEPS)
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    w0, c0 = time.perf_counter(), time.process_time()
    alone = _one_at_a_time(s, result)
    cpu_1, wall_1 = time.process_time() - c0, time.perf_counter() - w0
    batched = np.concatenate([t.objectives for t in result.optimizers])
    assert np.array_equal(batched, alone), "the batched trials differ from the runs alone"
    diverged = int(np.isinf(batched).sum())
    return dict(
        name=f"tune {len(OPTIMIZERS)} optimizers x {BUDGET} trials x {STEPS} steps, rosenbrock",
        optiviz_s=cpu,
        baseline_s=cpu_1,
        ratio=cpu_1 / cpu,
        target=5.0,
        higher_is_better=True,
        unit="x speed-up",
        note=(
            f"{len(OPTIMIZERS)} batched runs: CPU {cpu:.2f} s (wall {wall:.2f} s) vs the "
            f"{len(batched)} trials one at a time: CPU {cpu_1:.2f} s (wall {wall_1:.2f} s); "
            f"{diverged} trials diverged; the objectives are equal trial by trial"
        ),
    )


BENCHMARKS = [bench_tune_rosenbrock]


if __name__ == "__main__":
    for bench in BENCHMARKS:
        print(bench())
