"""The config's ``backend:`` key (issue 13): checked before any work, passed to the
entries' runs; the compiled runs' parity with numpy is tests/test_backend_jax.py's."""

from __future__ import annotations

import numpy as np
import pytest

from optiviz import backends
from optiviz.config import parse_config
from optiviz.errors import ConfigError

RAW = {
    "name": "b",
    "surface": "rosenbrock",
    "start": [-1.2, 1.0],
    "steps": 30,
    "optimizers": [{"name": "adam", "lr": 0.05}, {"name": "armijo"}],
    "figures": [],
}


def test_backend_is_one_of_three_and_numpy_by_default():
    assert parse_config(RAW, "x.yaml", build=False).backend == "numpy"
    assert parse_config({**RAW, "backend": "auto"}, "x.yaml", build=False).backend == "auto"
    with pytest.raises(
        ConfigError, match="backend: 'gpu' is not allowed: must be one of auto, numpy, jax"
    ):
        parse_config({**RAW, "backend": "gpu"}, "x.yaml", build=False)


def test_backend_jax_without_jax_is_refused_before_any_work(monkeypatch):
    monkeypatch.setattr(backends, "available", lambda: False)
    with pytest.raises(ConfigError, match=r"backend: 'jax' is not allowed.*pip install"):
        parse_config({**RAW, "backend": "jax"}, "x.yaml", build=False)


def test_auto_runs_every_entry_and_small_work_stays_numpy():
    # 30 steps is far below what compiling pays for: auto is numpy, bit for bit
    from optiviz.experiment import run_experiment

    a = run_experiment(parse_config(RAW, "x.yaml"), write=False)
    b = run_experiment(parse_config({**RAW, "backend": "auto"}, "x.yaml"), write=False)
    assert backends.choose("auto", 1, 30) == "numpy"
    # compiling pays where numpy's loop is estimated at 1.5 s or more (module docstring:
    # 8 us a step + 17 ns a run-coordinate): one 2-D run from 187,000 steps, 10^4 runs
    # from 4,400 steps, 1000 runs from 36,000
    jax = "jax" if backends.available() else "numpy"
    for runs, steps, n, use in [
        (1, 180_000, 2, "numpy"),
        (1, 190_000, 2, jax),
        (10_000, 4_000, 2, "numpy"),
        (10_000, 5_000, 2, jax),
        (1000, 30_000, 2, "numpy"),
        (1000, 40_000, 2, jax),
        (1000, 5_000, 100, jax),  # 100 coordinates a run
    ]:
        assert backends.choose("auto", runs, steps, n) == use, (runs, steps, n)
    assert backends.numpy_seconds(10_000, 10_000) == pytest.approx(3.48)  # j3: 3.3 s
    for ta, tb in zip(a.trajectories, b.trajectories, strict=True):
        assert np.array_equal(ta.points, tb.points)


def test_backend_jax_runs_the_entries_compiled():
    pytest.importorskip("jax")
    from optiviz.experiment import run_experiment

    raw = {**RAW, "optimizers": [{"name": "adam", "lr": 0.05}]}
    a = run_experiment(parse_config(raw, "x.yaml"), write=False)
    b = run_experiment(parse_config({**raw, "backend": "jax"}, "x.yaml"), write=False)
    (ta,), (tb,) = a.trajectories, b.trajectories
    scale = np.max(np.abs(ta.points))
    assert np.max(np.abs(ta.points - tb.points)) <= 1e-12 * scale
    assert tb.status == ta.status and tb.n_steps == ta.n_steps == 30
