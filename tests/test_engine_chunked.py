"""The lean batched loop run chunk by chunk (``loops._loop_chunked``): each chunk of runs
takes all its steps before the next. The references: the same batch run with every row
recorded (``record="path"``: the general loop, tested block by block) and single runs
(the per-step rule of ``StoppingRules.scalar``), field by field, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from optiviz import load_surface, make_optimizer
from optiviz.engine import loops, run
from tests.test_engine_lean import FIELDS


@pytest.fixture
def small_chunks(monkeypatch):
    # 2 x 64 elements a chunk: 600 runs of 2 variables in chunks of 64 runs
    monkeypatch.setattr(loops, "CHUNK_ELEMENTS", 128)
    calls = []
    real = loops._loop_chunked

    def spy(*args, **kw):
        out = real(*args, **kw)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(loops, "_loop_chunked", spy)
    # every batch here is lean as a whole grid would be: blocks of one step
    monkeypatch.setattr(loops, "_block_rows", lambda R, n: 1)
    return calls


def test_chunks_are_multiples_of_64_and_cover_every_run():
    parts = loops._chunks(90_000, 2, 45_000)
    assert parts[0] == (0, 18_048) and parts[-1][1] == 90_000
    assert all(b == c for (_, b), (c, _) in zip(parts, parts[1:], strict=False))
    assert all(lo % 64 == 0 for lo, _ in parts)
    assert loops._chunks(100, 2, 45_000) == [(0, 100)]  # too few runs to cut


@pytest.fixture(scope="module")
def starts():
    g = np.linspace(-6.0, 6.0, 25)  # 625 runs: the steep corners overflow with lr = 0.03
    gx, gy = np.meshgrid(g, g)
    return np.column_stack([gx.ravel(), gy.ravel()])


@pytest.mark.parametrize(
    ("opt", "kw"),
    [
        (("gd", {"lr": 0.03}), {}),
        (("gd", {"lr": 0.001, "maximize": True}), {"divergence_bound": 1e4}),
        (("adam", {"lr": 0.2}), {}),
    ],
)
def test_chunked_runs_equal_the_recorded_runs(small_chunks, starts, opt, kw):
    s = load_surface("himmelblau")
    name, h = opt
    lean = run(
        s, make_optimizer(name, **h), starts, 40, record="final", loss_steps=(0, 7, 40), **kw
    )
    assert small_chunks == [True]  # it ran in chunks
    full = run(s, make_optimizer(name, **h), starts, 40, record="path", **kw)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(lean, field), getattr(full, field), err_msg=field)
    np.testing.assert_array_equal(lean.losses_at, full.losses[:, [0, 7, 40]])  # nan after a stop


def test_divergence_inside_a_chunk_is_the_per_step_rule(small_chunks, starts):
    # gradient ascent past |f| = 1e4: runs stop at many different steps, in every chunk
    s = load_surface("himmelblau")
    opt = make_optimizer("gd", lr=0.001, maximize=True)
    tr = run(s, opt, starts, 40, record="final", divergence_bound=1e4)
    at = tr.diverged_at
    assert len(np.unique(at[at >= 0])) > 5
    for i in [*np.flatnonzero(at > 0)[::60], int(np.argmax(at)), 0, len(starts) - 1]:
        one = run(s, opt, starts[i], 40, record="final", divergence_bound=1e4)
        assert tr.status[i] == one.status
        assert (one.diverged_at if one.diverged_at is not None else -1) == at[i]
        np.testing.assert_array_equal(tr.final_point[i], one.final_point)
        assert tr.final_loss[i] == one.final_loss


def test_an_optimizer_that_calls_the_oracle_runs_as_one_batch(small_chunks, starts):
    # Nesterov evaluates the gradient at its look-ahead point: counts are per batch
    s = load_surface("himmelblau")
    opt = make_optimizer("nesterov", lr=0.01, momentum=0.5)
    tr = run(s, opt, starts, 10, record="final")
    assert small_chunks == [False]
    full = run(s, opt, starts, 10, record="path")
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(tr, field), getattr(full, field), err_msg=field)


def test_per_run_hyperparameters_are_not_chunked(small_chunks, starts):
    s = load_surface("himmelblau")
    opt = make_optimizer("gd", lr=np.full(len(starts), 0.01))
    run(s, opt, starts, 5, record="final")
    assert small_chunks == []


def test_an_interrupt_ends_the_chunk_it_comes_in(small_chunks, starts, monkeypatch):
    monkeypatch.setattr(loops, "TICK_SECONDS", 0.0)
    s = load_surface("himmelblau")
    opt = make_optimizer("gd", lr=0.01)
    T = 40

    raised = []

    def progress(done, total):
        if done >= T // 2 and not raised:  # in the middle chunk of the ten (once: Ctrl-C)
            raised.append(done)
            raise KeyboardInterrupt

    tr = run(s, opt, starts, T, record="final", progress=progress)
    st = np.asarray(tr.status)
    done = st == "max_steps"
    assert done[:64].all() and not done[-64:].any()
    assert (st[~done] == "interrupted").all()
    assert (tr.n_steps[done] == T).all() and (tr.n_steps[-64:] == 0).all()
    # the runs that ran are the uninterrupted runs'
    ref = run(s, opt, starts[done], T, record="path")
    np.testing.assert_array_equal(tr.final_point[done], ref.final_point)
