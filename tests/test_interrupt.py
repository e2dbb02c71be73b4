"""Ctrl-C and progress: a KeyboardInterrupt while runs step returns what was computed so
far, marked "interrupted"; the progress callback; ``optiviz run`` exits 130.

The reference for an interrupted run is the same run given, as its step budget, the steps
it completed: stepping is deterministic, so "what was computed so far" is exactly that run
(arrays, counts, final fields, best loss), with "interrupted" where it says "max_steps".
An interrupt during step k (raised by the optimizer's k-th step or by the surface's
evaluation of x_k) leaves k - 1 completed steps.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import optiviz
import optiviz.engine.loops as loops
from optiviz.cli import LazyBar, app
from optiviz.config import load_config
from optiviz.engine import run
from optiviz.experiment import run_experiment
from optiviz.library import load_surface
from optiviz.optimizers import make_optimizer

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
STEPS = 300  # budget of the interrupted runs: more than a few blocks of 64 steps
FIELDS = ("points", "losses", "grad_norms", "effective_lr", "lr_factor")
SUMMARY = (
    "diverged_at",
    "n_steps",
    "n_f",
    "n_grad",
    "n_hess",
    "steps_to_tolerance",
    "final_point",
    "final_loss",
    "final_grad_norm",
    "best_loss",
)


class InterruptingSurface:
    """A surface whose ``value_and_grad`` raises KeyboardInterrupt on its ``at``-th call
    (the first call evaluates x0; in a deterministic run call j + 1 evaluates x_j)."""

    def __init__(self, surface, at: int):
        self.inner = surface
        self.at = at
        self.calls = 0
        self.n, self.variables, self.name = surface.n, surface.variables, surface.name
        self.minima, self.f_min = surface.minima, surface.f_min

    def value_and_grad(self, X, check=True, batch=None):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.inner.value_and_grad(X, check=check, batch=batch)

    def f(self, X, check=True, batch=None):
        return self.inner.f(X, check=check, batch=batch)

    def grad(self, X, check=True, batch=None):
        return self.inner.grad(X, check=check, batch=batch)

    def hess(self, X, check=True, batch=None):
        return self.inner.hess(X, check=check, batch=batch)


def interrupting_step(optimizer, at: int):
    """Make ``optimizer.step`` raise KeyboardInterrupt on its ``at``-th call (step ``at``)."""
    step, calls = optimizer.step, [0]

    def raising(*args):
        calls[0] += 1
        if calls[0] == at:
            raise KeyboardInterrupt
        return step(*args)

    optimizer.step = raising
    return optimizer


def assert_is_prefix_run(got, ref):
    """``got`` (interrupted) equals ``ref`` (the same run with the completed steps as its
    budget) field by field, with "interrupted" for ref's "max_steps"."""
    for name in FIELDS + SUMMARY:
        u, v = getattr(got, name), getattr(ref, name)
        assert (u is None) == (v is None), name
        if u is not None:
            np.testing.assert_array_equal(u, v, err_msg=name)
    want = np.where(np.asarray(ref.status) == "max_steps", "interrupted", ref.status)
    np.testing.assert_array_equal(got.status, want)
    assert got.steps == STEPS and got.interrupted


@pytest.fixture(scope="module")
def booth():
    return load_surface("booth")


def gd(lr):
    return make_optimizer("gd", lr=lr)


# -- the engine ------------------------------------------------------------------------------
@pytest.mark.parametrize("record", ["all", "path", "final"])
@pytest.mark.parametrize("k", [1, 2, 64, 65, 130])
def test_interrupt_in_the_optimizer_of_a_single_run_keeps_k_minus_1_steps(booth, record, k):
    got = run(booth, interrupting_step(gd(0.01), k), [0.0, 0.0], STEPS, record=record)
    ref = run(booth, gd(0.01), [0.0, 0.0], k - 1, record=record)
    assert got.status == "interrupted" and got.n_steps == k - 1
    assert got.n_f == got.n_grad == k  # x0 and x_1 .. x_{k-1}: the engine's evaluations
    assert_is_prefix_run(got, ref)


@pytest.mark.parametrize("record", ["all", "path", "final"])
@pytest.mark.parametrize("k", [1, 63, 64, 65, 200])
def test_interrupt_in_the_optimizer_of_a_batch_keeps_k_minus_1_steps(booth, record, k):
    # lr 0.2 diverges early (Booth's Hessian has lambda_max = 20 > 2 / 0.2): that run keeps
    # "diverged"; the others are interrupted
    lrs = [0.01, 0.03, 0.2]
    got = run(booth, interrupting_step(gd(lrs), k), [0.0, 0.0], STEPS, record=record)
    ref = run(booth, gd(lrs), [0.0, 0.0], k - 1, record=record)
    assert list(got.n_steps[:2]) == [k - 1, k - 1]
    assert list(got.status[:2]) == ["interrupted", "interrupted"]
    assert_is_prefix_run(got, ref)
    if k > 60:
        assert got.status[2] == "diverged" and got.n_steps[2] < k - 1
        assert got.run(2).status == "diverged" and got.run(0).status == "interrupted"


@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("record", ["all", "final"])
@pytest.mark.parametrize("k", [1, 64, 100])
def test_interrupt_in_the_surface_keeps_k_minus_1_steps(booth, batched, record, k):
    lr = [0.01, 0.02] if batched else 0.01
    surface = InterruptingSurface(booth, k + 1)  # raises evaluating x_k: during step k
    got = run(surface, gd(lr), [0.0, 0.0], STEPS, record=record)
    ref = run(booth, gd(lr), [0.0, 0.0], k - 1, record=record)
    assert np.all(np.asarray(got.n_steps) == k - 1)
    got.surface = ref.surface = "booth"
    assert_is_prefix_run(got, ref)


@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("record", ["all", "final"])
def test_interrupt_in_a_stochastic_run(batched, record):
    data = optiviz.data
    s = data.linear_regression(data.make_linear(n=60, dim=2, seed=3))
    lr = [0.05, 0.01] if batched else 0.05
    kw = dict(batch_size=6, seed=5, record=record)
    got = run(s, interrupting_step(make_optimizer("sgd", lr=lr), 90), np.zeros(s.n), STEPS, **kw)
    ref = run(s, make_optimizer("sgd", lr=lr), np.zeros(s.n), 89, **kw)
    assert_is_prefix_run(got, ref)


@pytest.mark.parametrize(("record", "kept"), [("all", 64), ("path", 128), ("final", 128)])
def test_interrupt_while_a_block_is_tested(booth, monkeypatch, record, kept):
    # R runs are tested in blocks of 64 steps (step 0, steps 1-64, 65-128, ...): the third
    # test is interrupted. Its steps are tested again -- unless their effective learning
    # rates (record="all", computed in place) had begun: then the block is dropped.
    # (A block is tested by the rules, or first screened by loops._all_healthy.)
    real, screen, calls = loops.StoppingRules.block, loops._all_healthy, [0]

    def block(self, *args):
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return real(self, *args)

    def all_healthy(*args):
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return screen(*args)

    monkeypatch.setattr(loops.StoppingRules, "block", block)
    monkeypatch.setattr(loops, "_all_healthy", all_healthy)
    got = run(booth, gd([0.01, 0.02]), [0.0, 0.0], STEPS, record=record)
    monkeypatch.undo()
    assert_is_prefix_run(got, run(booth, gd([0.01, 0.02]), [0.0, 0.0], kept, record=record))


def test_interrupt_keeps_a_stop_found_in_the_last_completed_step(booth):
    # the run converges (tol_grad) at step c; an interrupt during step c + 1 cannot happen
    # (the run ended), and one during step c keeps c - 1 steps, "interrupted"
    ref = run(booth, gd(0.05), [0.0, 0.0], STEPS, tol_grad=1e-6)
    c = ref.n_steps
    assert ref.status == "converged" and 1 < c < STEPS
    got = run(booth, interrupting_step(gd(0.05), c), [0.0, 0.0], STEPS, tol_grad=1e-6)
    assert got.status == "interrupted" and got.n_steps == c - 1
    late = run(booth, interrupting_step(gd(0.05), c + 1), [0.0, 0.0], STEPS, tol_grad=1e-6)
    assert late.status == "converged" and late.n_steps == c


def test_an_interrupt_before_the_first_step_propagates(booth):
    with pytest.raises(KeyboardInterrupt):
        run(InterruptingSurface(booth, 1), gd(0.01), [0.0, 0.0], STEPS)


def test_interrupted_status_in_the_summary_and_repr(booth):
    tr = run(booth, interrupting_step(gd([0.01, 0.02]), 10), [0.0, 0.0], STEPS)
    assert tr.status_counts() == {"interrupted": 2}
    assert tr.summary()["status"] == ["interrupted", "interrupted"]
    assert "interrupted: 2" in repr(tr)
    one = run(booth, gd(0.01), [0.0, 0.0], 5)
    assert not one.interrupted and not tr.run(0).converged and tr.run(0).interrupted


# -- progress ------------------------------------------------------------------------------
@pytest.mark.parametrize("lr", [0.01, [0.01, 0.02, 0.03]])
@pytest.mark.parametrize("record", ["all", "final"])
def test_progress_is_reported_per_block_and_ends_at_the_total(booth, monkeypatch, lr, record):
    monkeypatch.setattr(loops, "TICK_SECONDS", 0.0)  # report after every block
    calls: list = []
    tr = run(booth, gd(lr), [0.0, 0.0], 1000, record=record, progress=lambda *a: calls.append(a))
    done = [d for d, _ in calls]
    assert all(total == 1000 for _, total in calls)
    assert done[0] == 0 and done[-1] == 1000 and done == sorted(done)
    # one report per block of 64 steps (never per step), plus the first and the last
    assert len(calls) <= 1000 // 64 + 3 and len(set(done)) > 10
    assert np.all(np.asarray(tr.n_steps) == 1000)
    # a run that converges early has no steps left: the last report is still the total
    calls.clear()
    early = run(booth, gd(lr), [0.0, 0.0], 5000, tol_grad=1e-6, progress=lambda *a: calls.append(a))
    assert np.all(np.asarray(early.n_steps) < 5000) and calls[-1] == (5000, 5000)


def test_progress_without_ticks_is_first_and_last_only(booth, monkeypatch):
    monkeypatch.setattr(loops, "TICK_SECONDS", 1e9)
    calls: list = []
    run(booth, gd(0.01), [0.0, 0.0], 500, progress=lambda *a: calls.append(a))
    assert calls == [(0, 500), (500, 500)]


@pytest.mark.parametrize("lr", [0.01, [0.01, 0.02]])
@pytest.mark.parametrize("record", ["all", "final"])
def test_an_interrupt_in_the_progress_callback_keeps_the_steps_reported(
    booth, monkeypatch, lr, record
):
    monkeypatch.setattr(loops, "TICK_SECONDS", 0.0)
    calls: list = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 3:  # (0, T), the first block, the second block: interrupt here
            raise KeyboardInterrupt

    got = run(booth, gd(lr), [0.0, 0.0], STEPS, record=record, progress=progress)
    assert calls == [0, 64, 128, 128]  # the last report: the steps done when interrupted
    assert_is_prefix_run(got, run(booth, gd(lr), [0.0, 0.0], 128, record=record))


# -- the experiment and the CLI ------------------------------------------------------------
CONFIG = """\
name: two
surface: booth
start: [0.0, 0.0]
steps: 200
optimizers:
  - {name: gd, lr: 0.01}
  - {name: gd, lr: {grid: {values: [0.01, 0.02]}}}
figures: [loss]
"""


@pytest.fixture
def config(tmp_path) -> Path:
    p = tmp_path / "two.yaml"
    p.write_text(CONFIG)
    return p


def interrupt_entry(monkeypatch, entry: int, k: int | None):
    """Make run number ``entry`` (0-based) of an experiment interrupted: during its step
    ``k``, or before it starts (``k`` None: ``run`` itself raises KeyboardInterrupt).
    (``load_config`` starts every entry for 0 steps: those calls are not counted.)"""
    import optiviz.engine

    real, calls = optiviz.engine.run, [0]

    def fake(surface, optimizer, x0, steps, *args, **kwargs):
        if steps == 0:
            return real(surface, optimizer, x0, steps, *args, **kwargs)
        calls[0] += 1
        if calls[0] == entry + 1:
            if k is None:
                raise KeyboardInterrupt
            interrupting_step(optimizer, k)
        return real(surface, optimizer, x0, steps, *args, **kwargs)

    monkeypatch.setattr(optiviz.engine, "run", fake)
    return calls


def test_run_experiment_returns_the_runs_so_far_and_writes_nothing(config, tmp_path, monkeypatch):
    calls = interrupt_entry(monkeypatch, 1, 50)
    out = tmp_path / "out"
    res = run_experiment(load_config(config), out_dir=out)
    assert calls == [2] and res.interrupted and res.files == {} and res.analysis is None
    assert [r.trajectory.status for r in res.runs] == ["max_steps", "interrupted", "interrupted"]
    assert [r.trajectory.n_steps for r in res.runs] == [200, 49, 49]
    assert len(res.trajectories) == 2 and not out.exists()


class RecordingProgress:
    def __init__(self):
        self.events: list = []

    def begin(self, total):
        self.events.append(("begin", total))

    def describe(self, text):
        self.events.append(("describe", text))

    def advance(self):
        self.events.append(("advance",))

    def steps(self, done, total):
        self.events.append(("steps", done, total))

    def end(self):
        self.events.append(("end",))


def test_experiment_progress_reports_steps_within_each_entry(config, monkeypatch):
    monkeypatch.setattr(loops, "TICK_SECONDS", 0.0)
    p = RecordingProgress()
    run_experiment(load_config(config), progress=p, write=False)
    ev = p.events
    first = ev.index(("describe", "running gd"))
    second = ev.index(("describe", "running gd (2 runs)"))
    within = [e for e in ev[first:second] if e[0] == "steps"]
    assert within[0] == ("steps", 0, 200) and within[-1] == ("steps", 200, 200)
    assert len(within) > 3  # blocks of 64 steps: 0, 64, 128, 192, then the total
    assert ev[second - 1] == ("advance",) and ev[-1] == ("end",)


def test_lazy_bar_moves_within_a_unit():
    bar = LazyBar(delay=0.0, force=True)
    bar.begin(4)
    time.sleep(0.2)
    bar.describe("running gd")
    bar.steps(250, 1000)
    task = bar._bar.tasks[0]
    assert task.completed == 0.25 and task.description == "running gd: 250/1,000 steps"
    bar.advance()
    assert bar._bar.tasks[0].completed == 1 and bar.partial == 0.0
    bar.end()


def _leftovers(root: Path) -> list:
    return [p for p in root.rglob("*") if ".tmp" in p.name or "optiviz-probe" in p.name]


@pytest.mark.parametrize(
    ("entry", "k", "line"),
    [
        (0, None, "interrupted: 0 runs finished, 0 cut short, 2 optimizer entries not run"),
        (1, None, "interrupted: 1 run finished, 0 cut short, 1 optimizer entry not run"),
        (1, 30, "interrupted: 1 run finished, 2 cut short, 0 optimizer entries not run"),
    ],
)
def test_cli_run_interrupted_exits_130_with_one_line(config, tmp_path, monkeypatch, entry, k, line):
    interrupt_entry(monkeypatch, entry, k)
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(config), "--out", str(out)])
    assert r.exit_code == 130, r.output + r.stderr
    assert r.stderr.splitlines() == [f"{line}; nothing written"]
    assert r.stdout == "" and not out.exists() and _leftovers(tmp_path) == []


def test_cli_run_interrupted_leaves_earlier_outputs_alone(config, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(config), "--out", str(out)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    interrupt_entry(monkeypatch, 1, 30)
    r = runner.invoke(app, ["run", str(config), "--out", str(out), "--steps", "150"])
    assert r.exit_code == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _leftovers(tmp_path) == []


def test_cli_interrupt_outside_the_runs_exits_130(config, monkeypatch):
    import optiviz.config

    def raising(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(optiviz.config, "load_config", raising)
    r = runner.invoke(app, ["run", str(config)])
    assert r.exit_code == 130 and r.stderr == "interrupted\n"


def test_cli_run_help_states_the_exit_code():
    r = runner.invoke(app, ["run", "--help"])
    text = " ".join(r.output.split())
    assert "130 interrupted (SIGINT, Ctrl-C): the runs stop" in text
    assert "nothing is written" in text


# -- a real Ctrl-C -------------------------------------------------------------------------
LONG = """\
name: long
surface: booth
start: [0.0, 0.0]
steps: 10000000
record: final
optimizers:
  - {name: gd, lr: 1.0e-9}
figures: []
"""


def _read_until(fd: int, proc, needle: bytes, timeout: float) -> bytes:
    """Read the pty until ``needle`` appears (or the process ends, or ``timeout``)."""
    out = b""
    end = time.monotonic() + timeout
    while needle not in out and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal and SIGINT")
def test_sigint_during_optiviz_run_exits_130(tmp_path):
    """Under a terminal (a pty, so the progress bar shows), wait for the bar to report
    steps, send SIGINT, and expect the one line and exit 130 with nothing written."""
    cfg = tmp_path / "long.yaml"
    cfg.write_text(LONG)
    out = tmp_path / "out"
    master, slave = pty.openpty()
    env = {**os.environ, "MPLBACKEND": "Agg", "COLUMNS": "200", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "optiviz", "run", str(cfg), "--out", str(out)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    try:
        seen = _read_until(master, proc, b" steps", timeout=120)
        assert b" steps" in seen and proc.poll() is None, seen.decode(errors="replace")
        proc.send_signal(signal.SIGINT)
        seen += _read_until(master, proc, b"nothing written", timeout=120)
        assert proc.wait(timeout=120) == 130, seen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = seen.decode(errors="replace")
    assert "interrupted: 0 runs finished, 1 cut short, 0 optimizer entries not run" in text
    assert "Traceback" not in text and not out.exists()
