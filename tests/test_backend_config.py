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
    # 30 steps is far below backends.AUTO_MIN_STEPS: auto is numpy, bit for bit
    from optiviz.experiment import run_experiment

    a = run_experiment(parse_config(RAW, "x.yaml"), write=False)
    b = run_experiment(parse_config({**RAW, "backend": "auto"}, "x.yaml"), write=False)
    assert backends.choose("auto", 1, 30) == "numpy"
    # compiling pays for long runs of few runs; wide batches stay numpy (module docstring)
    wide = backends.choose("auto", 10_000, 10**6)
    long = backends.choose("auto", 1, 10**6)
    assert wide == "numpy" and long == ("jax" if backends.available() else "numpy")
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
