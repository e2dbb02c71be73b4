"""The batched loop's lean path (record="final", no tolerance, deterministic, R so large
that a block is one step): every field equals the general path's (record="path" keeps every
row and is tested block by block), divergence found at its step, interrupts keep a prefix."""

from __future__ import annotations

import numpy as np
import pytest

from optiviz import load_surface, make_optimizer
from optiviz.engine import loops, run

FIELDS = [
    "status",
    "n_steps",
    "diverged_at",
    "final_point",
    "final_loss",
    "final_grad_norm",
    "best_loss",
    "n_f",
    "n_grad",
    "n_hess",
    "steps_to_tolerance",
]


@pytest.fixture(scope="module")
def starts():
    g = np.linspace(-5.0, 5.0, 200)  # 40,000 runs x 2 variables: blocks of one step
    gx, gy = np.meshgrid(g, g)
    return np.column_stack([gx.ravel(), gy.ravel()])


def test_the_grid_takes_the_lean_path(starts):
    assert loops._block_rows(len(starts), 2) == 1


@pytest.mark.parametrize(
    ("opt", "kw"),
    [
        (("gd", {"lr": 0.03}), {}),  # the steep corners overflow within a few steps
        # gradient ascent: |f| passes 1e4 at many different steps
        (("gd", {"lr": 0.001, "maximize": True}), {"divergence_bound": 1e4}),
        (("momentum", {"lr": 0.004, "momentum": 0.9}), {"divergence_bound": np.inf}),
        (("adam", {"lr": 0.2}), {}),
    ],
)
def test_lean_final_runs_equal_the_recorded_runs(starts, opt, kw):
    s = load_surface("himmelblau")
    name, h = opt
    lean = run(s, make_optimizer(name, **h), starts, 40, record="final", **kw)
    full = run(s, make_optimizer(name, **h), starts, 40, record="path", **kw)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(lean, field), getattr(full, field), err_msg=field)
    if kw.get("divergence_bound") == 1e4:
        # divergence at many different steps, each the first step with |f| > 1e4
        at = lean.diverged_at[lean.diverged_at >= 0]
        assert len(np.unique(at)) > 5
        i = int(np.flatnonzero(lean.diverged_at > 0)[0])
        k = int(lean.diverged_at[i])
        assert abs(full.losses[i, k]) > 1e4 and np.all(np.abs(full.losses[i, :k]) <= 1e4)
    else:
        assert "max_steps" in set(np.asarray(lean.status))


def test_an_interrupt_in_the_lean_loop_keeps_the_completed_steps(starts):
    s = load_surface("himmelblau")

    class Interrupting:
        def __init__(self, inner, at):
            self.inner, self.at, self.calls = inner, at, 0
            self.n, self.variables, self.name = inner.n, inner.variables, inner.name
            self.minima, self.f_min = inner.minima, inner.f_min

        def value_and_grad(self, X, check=True, batch=None):
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
            return self.inner.value_and_grad(X, check=check, batch=batch)

    # the 13th evaluation is that of step 12: steps 1 .. 11 are kept
    got = run(Interrupting(s, 13), make_optimizer("gd", lr=0.03), starts, 40, record="final")
    ref = run(s, make_optimizer("gd", lr=0.03), starts, 11, record="final")
    for field in FIELDS:
        if field == "status":
            continue
        np.testing.assert_array_equal(getattr(got, field), getattr(ref, field), err_msg=field)
    want = np.where(np.asarray(ref.status) == "max_steps", "interrupted", ref.status)
    np.testing.assert_array_equal(got.status, want)
