"""The stopping rules: the scalar and block evaluators agree with each other and with the
rules as documented, on random sequences of (loss, squared gradient norm) values with
nan / inf, ties at the tolerances, f* known and unknown; batched tol_loss runs stop where
the same runs do one by one."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optiviz.engine import run
from optiviz.engine.stopping import (
    CONVERGED,
    DIVERGED,
    RUNNING,
    StoppingRules,
    default_divergence_bound,
    first_stops,
)
from optiviz.optimizers.base import Optimizer, Param

NAN, INF = math.nan, math.inf
TOL_GRAD = 0.5  # tol_grad^2 = 0.25 exactly
TOL_LOSS = 0.25
# losses: ties at f_min + tol_loss (f_min 0 or 1), steps of exactly tol_loss, the bound
LOSSES = [0.0, 0.25, 0.5, 1.0, 1.25, 1.5, -0.75, 100.0, -100.0, 100.25, NAN, INF, -INF]
G2S = [0.0, 0.25, 0.25000000000000006, 1.0, 4.0, 1e300, INF, NAN]


def spec_status(f, g2, f_prev, bound, tol_grad, tol_loss, f_min):
    """The rules as the module docstring states them, written independently."""
    if math.isnan(f) or abs(f) > bound:  # (an infinite loss passes only bound = inf)
        return DIVERGED
    if math.isnan(g2) or g2 == INF:  # (an overflowing squared norm is inf)
        return DIVERGED
    if tol_grad is not None and g2 <= tol_grad**2:
        return CONVERGED
    if tol_loss is not None:
        if f_min is not None and f - f_min <= tol_loss:
            return CONVERGED
        if f_min is None and not math.isnan(f_prev) and abs(f - f_prev) <= tol_loss:
            return CONVERGED
    return RUNNING


def scalar_stops(rules, F, G2):
    """(stop step, code) of one run by the scalar evaluator, the way loop_single calls it."""
    check = rules.scalar()
    code = check(F[0], G2[0], NAN)
    t = 0
    while code == RUNNING and t < len(F) - 1:
        t += 1
        code = check(F[t], G2[t], F[t - 1])
    return t, code


def block_stops(rules, F, G2, sizes):
    """(stop steps, codes) of R runs by the block evaluator, the way loop_batched calls it:
    step 0 alone, then blocks of the given sizes; stopped runs are masked out."""
    T1, R = F.shape
    active = np.ones(R, dtype=bool)
    stop_at = np.full(R, T1 - 1)
    codes = np.full(R, RUNNING)
    t0, f_before, k = 0, np.full(R, NAN), 0
    while t0 < T1 and active.any():
        m = 1 if t0 == 0 else min(sizes[k % len(sizes)], T1 - t0)
        k += t0 > 0
        stop, ok = rules.block(F[t0 : t0 + m], G2[t0 : t0 + m], f_before)
        stop &= active
        if stop.any():
            hit, j, c = first_stops(stop, ok)
            stop_at[hit], codes[hit] = t0 + j, c
            active[hit] = False
        f_before = F[t0 + m - 1].copy()
        t0 += m
    return stop_at, codes


@st.composite
def cases(draw):
    R = draw(st.integers(1, 4))
    T = draw(st.integers(0, 10))
    F = np.array(
        draw(st.lists(st.sampled_from(LOSSES), min_size=R * (T + 1), max_size=R * (T + 1)))
    )
    G2 = np.array(draw(st.lists(st.sampled_from(G2S), min_size=R * (T + 1), max_size=R * (T + 1))))
    tol_grad = draw(st.sampled_from([None, TOL_GRAD]))
    tol_loss = draw(st.sampled_from([None, TOL_LOSS, 0.0]))
    f_min = draw(st.sampled_from([None, 0.0, 1.0]))
    bound = draw(st.sampled_from([100.0, INF, "per run"]))
    if bound == "per run":
        bound = np.array(draw(st.lists(st.sampled_from([1.0, 100.0, INF]), min_size=R, max_size=R)))
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    return F.reshape(T + 1, R), G2.reshape(T + 1, R), tol_grad, tol_loss, f_min, bound, sizes


@settings(max_examples=400, deadline=None)
@given(cases())
def test_scalar_and_block_evaluators_agree_with_each_other_and_the_rules(case):
    F, G2, tol_grad, tol_loss, f_min, bound, sizes = case
    R = F.shape[1]
    bounds = np.broadcast_to(bound, (R,))
    block_rules = StoppingRules(bound, tol_grad, tol_loss, f_min)
    with np.errstate(all="ignore"):  # as in the engine: inf - inf is nan, silently
        stop_at, codes = block_stops(block_rules, F, G2, sizes)
    for i in range(R):
        b = float(bounds[i])
        rules = StoppingRules(b, tol_grad, tol_loss, f_min)
        Fi, Gi = F[:, i].tolist(), G2[:, i].tolist()
        t, code = scalar_stops(rules, Fi, Gi)
        assert (int(stop_at[i]), int(codes[i])) == (t, code)
        # the rules as documented: the first step whose status is not RUNNING
        spec = [
            spec_status(Fi[s], Gi[s], Fi[s - 1] if s else NAN, b, tol_grad, tol_loss, f_min)
            for s in range(len(Fi))
        ]
        first = next((s for s, c in enumerate(spec) if c != RUNNING), len(Fi) - 1)
        assert (t, code) == (first, spec[first])


def test_ties_at_the_tolerances_converge():
    rules = StoppingRules(100.0, tol_grad=TOL_GRAD, tol_loss=TOL_LOSS, f_min=1.0)
    check = rules.scalar()
    assert check(50.0, 0.25, NAN) == CONVERGED  # ||g|| = tol_grad exactly
    assert check(50.0, 0.25000000000000006, NAN) == RUNNING
    assert check(1.25, 1.0, NAN) == CONVERGED  # f - f* = tol_loss exactly
    delta = StoppingRules(100.0, tol_loss=TOL_LOSS).scalar()
    assert delta(1.25, 1.0, 1.0) == CONVERGED  # |Δf| = tol_loss exactly
    assert delta(1.25, 1.0, NAN) == RUNNING  # t = 0: no previous loss
    assert delta(1.25, 1.0, 0.99) == RUNNING
    assert check(100.0, 1.0, NAN) == RUNNING and check(100.25, 1.0, NAN) == DIVERGED


def test_default_divergence_bound():
    assert default_divergence_bound(3.0) == 3e12 and default_divergence_bound(-0.5) == 1e12
    assert default_divergence_bound(NAN) == 1e12 and default_divergence_bound(INF) == 1e12
    np.testing.assert_array_equal(default_divergence_bound(np.array([2.0, INF])), [2e12, 1e12])


# -- batched tol_loss runs against single runs -----------------------------------------------
KnownMin = namedtuple("KnownMin", "point value")


class Quadratic:
    """f(x) = 1/2 (x - x*)^T A (x - x*) + c (bitwise equal for (n,) and (R, n) inputs)."""

    n_samples = None
    n = 2
    variables = ("w1", "w2")
    name = "quad"

    def __init__(self, minima=True):
        self.A = np.array([[3.0, 1.0], [1.0, 2.0]])
        self.xs = np.array([1.0, -2.0])
        self.minima = [KnownMin(self.xs, 0.25)] if minima else []
        self.f_min = 0.25 if minima else None

    def value_and_grad(self, X, check=False, batch=None):
        d = np.asarray(X, dtype=float) - self.xs
        g = np.stack([3.0 * d[..., 0] + d[..., 1], d[..., 0] + 2.0 * d[..., 1]], axis=-1)
        return 0.5 * (d[..., 0] * g[..., 0] + d[..., 1] * g[..., 1]) + 0.25, g


class GD(Optimizer):
    name = "gd_standin"
    params = {"lr": Param(0.1, low=0.0)}

    def init(self, x0, oracle, x_prev=None):
        return {}

    def step(self, x, g, state, oracle, lr, t):
        return x - lr * g, {"eff_lr": lr}


LRS = [0.03, 0.1, 0.3, 0.45, 0.6, 0.8]  # 2/lambda_max = 0.553: the last two diverge
X0S = np.array([[0.0, 0.0], [4.0, 1.0], [-3.0, 5.0], [0.5, 0.5], [2.0, -1.0], [0.0, 1.0]])


@pytest.mark.parametrize("minima", [True, False], ids=["f* known", "f* unknown"])
@pytest.mark.parametrize("block", [1, 4, 64])
@pytest.mark.parametrize("record", ["all", "final"])
def test_batched_tol_loss_equals_single_runs(minima, block, record, monkeypatch):
    import optiviz.engine.loops as loops

    monkeypatch.setattr(loops, "_block_rows", lambda R, n: block)
    kw = dict(steps=400, tol_loss=1e-6, record=record)
    batch = run(Quadratic(minima), GD(lr=LRS), X0S, **kw)
    assert len(set(batch.n_steps.tolist())) >= 4  # runs stop at different steps
    assert set(batch.status) == {"converged", "diverged"}
    for i, lr in enumerate(LRS):
        one = run(Quadratic(minima), GD(lr=lr), X0S[i], **kw)
        b = batch.run(i)
        for field in ("status", "diverged_at", "n_steps", "steps_to_tolerance", "n_f"):
            assert getattr(b, field) == getattr(one, field), field
        np.testing.assert_array_equal(b.final_point, one.final_point)
        assert b.final_loss == one.final_loss and b.best_loss == one.best_loss
        if record == "all":
            for field in ("points", "losses", "grad_norms", "effective_lr", "lr_factor"):
                np.testing.assert_array_equal(getattr(b, field), getattr(one, field))


@pytest.mark.parametrize("minima", [True, False], ids=["f* known", "f* unknown"])
def test_tol_loss_stops_at_the_first_step_that_meets_it(minima):
    # recomputed from the recorded losses, independently of the engine's rules
    tr = run(Quadratic(minima), GD(lr=LRS[:4]), X0S[:4], 400, tol_loss=1e-6)
    for one in tr.runs():
        L = one.losses
        met = L - 0.25 <= 1e-6 if minima else np.r_[False, np.abs(np.diff(L)) <= 1e-6]
        assert one.status == "converged" and one.n_steps == int(np.argmax(met))
