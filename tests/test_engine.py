"""The engine: closed forms, stopping rules, divergence, batching, counts, stochastic runs.

Most tests use small stand-in surfaces and optimizers defined here (exact and cheap), so
they pin the engine's own behaviour; the tests at the end run the real Surface and
optimizers when they are importable.
"""

from __future__ import annotations

import json
import tracemalloc
import warnings
from collections import namedtuple

import numpy as np
import pytest

from optiviz.engine import run
from optiviz.errors import OptimizerError, SurfaceError
from optiviz.optimizers.base import Optimizer, Param
from optiviz.schedules import make_schedule

KnownMin = namedtuple("KnownMin", "point value")


# -- stand-ins -----------------------------------------------------------------------------
class Quadratic:
    """f(x) = 1/2 (x - x*)^T A (x - x*) + c, vectorized over (..., n)."""

    n_samples = None

    def __init__(self, A, xstar, c=0.0, minima=True, name="quad"):
        self.A = np.asarray(A, dtype=float)
        self.xs = np.asarray(xstar, dtype=float)
        self.c = float(c)
        self.n = len(self.xs)
        self.variables = tuple(f"w{i + 1}" for i in range(self.n))
        self.name = name
        self.minima = [KnownMin(self.xs, self.c)] if minima else []
        self.calls = 0

    @property
    def f_min(self):
        return self.c if self.minima else None

    def value_and_grad(self, X, check=False, batch=None):
        assert batch is None
        self.calls += 1
        d = np.asarray(X, dtype=float) - self.xs
        g = d @ self.A
        return 0.5 * np.einsum("...i,...i->...", d, g) + self.c, g

    def f(self, X, check=False, batch=None):
        return self.value_and_grad(X)[0]

    def grad(self, X, check=False, batch=None):
        return self.value_and_grad(X)[1]

    def hess(self, X, check=False, batch=None):
        X = np.asarray(X, dtype=float)
        return np.broadcast_to(self.A, X.shape[:-1] + self.A.shape).copy()


class Quartic(Quadratic):
    """f(x) = sum x^4: GD with a large step overflows to inf, then nan."""

    def __init__(self):
        super().__init__(np.eye(1), [0.0])

    def value_and_grad(self, X, check=False, batch=None):
        X = np.asarray(X, dtype=float)
        return np.sum(X**4, axis=-1), 4 * X**3


class NanGradient(Quadratic):
    """f = x^2 is finite everywhere, but the 'gradient' is nan for x < 0.5 (a broken model)."""

    def __init__(self):
        super().__init__(2 * np.eye(1), [0.0])

    def value_and_grad(self, X, check=False, batch=None):
        X = np.asarray(X, dtype=float)
        g = 2 * X
        g = np.where(X < 0.5, np.nan, g)
        return np.sum(X**2, axis=-1), g


class LinearRegression:
    """A data surface: f(w) = mean_i 1/2 (a_i . w - y_i)^2 over all samples or a batch."""

    minima = []
    f_min = None

    def __init__(self, N=40, seed=0):
        rng = np.random.default_rng(seed)
        self.a = rng.normal(size=(N, 2))
        self.y = self.a @ np.array([1.5, -0.5]) + 0.1 * rng.normal(size=N)
        self.n_samples = N
        self.n = 2
        self.variables = ("w1", "w2")
        self.name = "linreg"
        self.batches = []

    def value_and_grad(self, X, check=False, batch=None):
        X = np.asarray(X, dtype=float)
        a, y = (self.a, self.y) if batch is None else (self.a[batch], self.y[batch])
        if batch is not None:
            self.batches.append(np.array(batch))
        # elementwise forms (no BLAS) so (n,) and (R, n) inputs give bitwise equal results
        r = (X[..., None, :] * a).sum(axis=-1) - y  # (..., m)
        g = np.stack([(r * a[:, j]).sum(axis=-1) for j in range(2)], axis=-1) / len(y)
        return 0.5 * (r**2).sum(axis=-1) / len(y), g


class GD(Optimizer):
    """x <- x - lr g (unregistered stand-in)."""

    name = "gd_standin"
    params = {"lr": Param(0.1, low=0.0)}

    def init(self, x0, oracle, x_prev=None):
        self.seen_init = (np.array(x0), None if x_prev is None else np.array(x_prev))
        return {}

    def step(self, x, g, state, oracle, lr, t):
        return x - lr * g, {"eff_lr": lr}


class LookAhead(GD):
    """Evaluates one extra gradient per step through the oracle (like Sutskever Nesterov)."""

    name = "lookahead_standin"

    def step(self, x, g, state, oracle, lr, t):
        g2 = oracle.grad(x - lr * g)
        return x - lr * 0.5 * (g + g2), {"eff_lr": lr}


A = np.array([[3.0, 1.0], [1.0, 2.0]])
XSTAR = np.array([1.0, -2.0])
LMAX = float(np.linalg.eigvalsh(A).max())


def quad(**kw):
    return Quadratic(A, XSTAR, c=0.25, **kw)


def closed_form(lr, x0, t):
    M = np.linalg.matrix_power(np.eye(2) - lr * A, t)
    return XSTAR + M @ (np.asarray(x0) - XSTAR)


def assert_same_run(a, b, exact=True, rtol=1e-14):
    """Two single-run trajectories are equal (bit for bit unless exact=False)."""
    cmp = (
        (lambda u, v: np.testing.assert_array_equal(u, v))
        if exact
        else (lambda u, v: np.testing.assert_allclose(u, v, rtol=rtol, atol=1e-300))
    )
    for field in ("points", "losses", "grad_norms", "effective_lr", "lr_factor"):
        u, v = getattr(a, field), getattr(b, field)
        assert (u is None) == (v is None), field
        if u is not None:
            assert u.shape == v.shape, field
            cmp(u, v)
    for field in (
        "status",
        "diverged_at",
        "n_steps",
        "n_f",
        "n_grad",
        "n_hess",
        "steps_to_tolerance",
    ):
        assert getattr(a, field) == getattr(b, field), field
    cmp(a.final_point, b.final_point)
    cmp(np.array([a.final_loss, a.best_loss]), np.array([b.final_loss, b.best_loss]))


def assert_gd_step_per_unit_gradient(tr, lr, surface=None):
    """GD's step per unit gradient is lr up to the rounding of x - lr g and of the
    difference of two iterates, |eff - lr| <= 2 eps (|x_t| + |x_t+1|) / |g| + eps lr,
    and nan where the gradient at x_t is 0."""
    P = tr.points
    g = (surface or quad()).value_and_grad(P[:-1])[1]  # the gradient at x_t, recomputed
    zero = g == 0
    assert np.array_equal(np.isnan(tr.effective_lr), zero)
    eps = np.finfo(float).eps
    d = np.abs(np.where(zero, 1.0, g))
    bound = 2 * eps * (np.abs(P[:-1]) + np.abs(P[1:])) / d + eps * lr
    assert np.all((np.abs(tr.effective_lr - lr) <= bound) | zero)


# -- closed forms and schedules ------------------------------------------------------------
def test_gd_on_quadratic_matches_closed_form_every_step():
    x0 = np.array([-1.5, 2.5])
    lr = 0.2
    tr = run(quad(), GD(lr=lr), x0, 60)
    assert tr.status == "max_steps" and tr.n_steps == 60 and not tr.batched
    assert tr.points.shape == (61, 2) and tr.losses.shape == (61,)
    assert tr.lr_factor.shape == (60, 2) and np.all(tr.lr_factor == lr)
    assert tr.effective_lr.shape == (60, 2)
    assert_gd_step_per_unit_gradient(tr, lr)
    for t in range(61):
        np.testing.assert_allclose(tr.points[t], closed_form(lr, x0, t), rtol=0, atol=1e-12)
    d = tr.points - XSTAR
    np.testing.assert_allclose(
        tr.losses, 0.5 * np.einsum("ti,ij,tj->t", d, A, d) + 0.25, rtol=1e-13, atol=1e-15
    )
    np.testing.assert_allclose(tr.grad_norms, np.linalg.norm(d @ A, axis=1), rtol=1e-13)
    assert tr.final_loss == tr.losses[-1] and np.array_equal(tr.final_point, tr.points[-1])


def test_batched_closed_form_with_lr_array():
    lrs = [0.05, 0.2, 0.4]
    x0 = np.array([[0.0, 0.0], [3.0, 1.0], [-2.0, -5.0]])
    tr = run(quad(), GD(lr=lrs), x0, 40)
    assert tr.batched and tr.points.shape == (3, 41, 2) and tr.effective_lr.shape == (3, 40, 2)
    assert tr.lr_factor.shape == (3, 40, 2)
    for i, lr in enumerate(lrs):
        for t in range(41):
            np.testing.assert_allclose(tr.points[i, t], closed_form(lr, x0[i], t), atol=1e-12)
        assert np.all(tr.lr_factor[i] == lr)
        assert_gd_step_per_unit_gradient(tr.run(i), lr)
    assert tr.run_labels == [f"gd_standin (lr={v})" for v in lrs]


def test_inverse_time_schedule_is_applied():
    s = make_schedule("inverse_time", eta0=1.0, k=1.0)
    tr = run(Quadratic(np.eye(2), [0.0, 0.0]), GD(lr=0.01), [4.0, -8.0], 3, schedule=s)
    np.testing.assert_array_equal(tr.lr_factor[:, 0], [1.0, 0.5, 1.0 / 3.0])
    # f = |x|^2 / 2: x1 = x0 - 1 * x0 = 0 at the first step (lr 1 is Newton here)
    np.testing.assert_array_equal(tr.points[1], [0.0, 0.0])
    assert tr.schedule == "inverse_time(eta0=1)"
    tr2 = run(Quadratic(np.eye(2), [0.0, 0.0]), GD(lr=0.5), [4.0, -8.0], 3, schedule="constant")
    np.testing.assert_array_equal(tr2.lr_factor, 0.5)
    assert_gd_step_per_unit_gradient(tr2, 0.5, Quadratic(np.eye(2), [0.0, 0.0]))
    # lr = 1 lands on the minimum: no gradient at x1 to measure steps 2 and 3 by
    assert np.isnan(tr.effective_lr[1:]).all() and np.all(tr.effective_lr[0] == 1.0)


def test_schedule_with_batched_base_lr():
    s = make_schedule("step", step_size=1, gamma=0.5)
    tr = run(quad(), GD(lr=[0.1, 0.2]), [0.0, 0.0], 3, schedule=s)
    np.testing.assert_allclose(
        tr.lr_factor[:, :, 0], [[0.1, 0.05, 0.025], [0.2, 0.1, 0.05]], rtol=1e-15
    )


# -- stopping and divergence ---------------------------------------------------------------
def test_gd_diverges_above_two_over_lambda_max_and_converges_below():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad = run(quad(), GD(lr=1.01 * 2 / LMAX), [0.0, 0.0], 5000, tol_grad=1e-8)
        good = run(quad(), GD(lr=0.99 * 2 / LMAX), [0.0, 0.0], 5000, tol_grad=1e-8)
    assert bad.status == "diverged"
    assert bad.diverged_at == bad.n_steps and 0 < bad.diverged_at < 5000
    f0 = bad.losses[0]
    bound = 1e12 * max(1.0, abs(f0))
    assert bad.losses[-1] > bound and np.all(np.abs(bad.losses[:-1]) <= bound)
    assert bad.points.shape == (bad.n_steps + 1, 2) and bad.steps_to_tolerance is None
    assert good.status == "converged" and good.diverged_at is None
    assert good.grad_norms[-1] <= 1e-8 < good.grad_norms[-2]
    assert good.steps_to_tolerance == good.n_steps < 5000


@pytest.mark.parametrize("bound", [None, 100.0, float("inf")])
def test_diverged_at_is_the_first_unhealthy_recorded_step(bound):
    # recomputed from the records: the first step whose loss is nan or beyond the bound
    # (default 1e12 max(1, |f(x0)|)) or whose gradient norm is not finite
    lrs = np.linspace(0.5, 1.2, 8)  # 2/lambda_max = 0.553: most of them diverge
    tr = run(quad(), GD(lr=lrs), [[3.0, -1.0]] * 8, 3000, divergence_bound=bound)
    assert "diverged" in tr.status
    for one in tr.runs():
        b = 1e12 * max(1.0, abs(one.losses[0])) if bound is None else bound
        L, G = one.losses, one.grad_norms
        bad = ~(np.abs(L) <= b) | ~np.isfinite(G)
        if one.status == "diverged":
            assert one.diverged_at == one.n_steps == int(np.argmax(bad))
        else:
            assert not bad.any() and one.n_steps == 3000


def test_divergence_bound_is_configurable_and_large_runs_are_kept():
    lr = 1.01 * 2 / LMAX
    kept = run(quad(), GD(lr=lr), [0.0, 0.0], 300)
    assert kept.status == "max_steps" and np.all(np.isfinite(kept.losses))
    assert kept.losses[-1] > 100 * kept.losses[0]  # grew, recorded in full
    tight = run(quad(), GD(lr=lr), [0.0, 0.0], 300, divergence_bound=100.0)
    assert tight.status == "diverged" and abs(tight.losses[-1]) > 100
    assert np.all(np.abs(tight.losses[:-1]) <= 100)


def test_overflow_to_inf_and_nan_is_a_status_not_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = run(Quartic(), GD(lr=1.0), [10.0], 50, divergence_bound=float("inf"))
        trb = run(Quartic(), GD(lr=[1.0, 1e-4]), [10.0], 50, divergence_bound=float("inf"))
    assert tr.status == "diverged" and not np.isfinite(tr.losses[-1])
    assert np.all(np.isfinite(tr.losses[:-1]))
    assert list(trb.status) == ["diverged", "max_steps"]
    assert_same_run(trb.run(0), tr)
    json.dumps(tr.summary(), allow_nan=False)
    json.dumps(trb.summary(), allow_nan=False)


def test_non_finite_gradient_is_caught_at_the_latest_on_the_next_step():
    # f = x^2 stays finite; the gradient is nan once x < 0.5: x_t = 4 * 0.8^t, t = 10
    tr = run(NanGradient(), GD(lr=0.1), [4.0], 50)
    first_bad = int(np.argmax(4.0 * 0.8 ** np.arange(51) < 0.5))
    assert tr.status == "diverged"
    assert tr.diverged_at <= first_bad + 1  # the contract
    assert tr.diverged_at == first_bad  # the engine checks the gradient norm at once
    assert np.isnan(tr.grad_norms[-1]) and np.isfinite(tr.losses[-1])
    trb = run(NanGradient(), GD(lr=[0.1, 0.1]), [[4.0], [0.3]], 50)
    assert list(trb.status) == ["diverged", "diverged"] and trb.diverged_at[1] == 0
    assert_same_run(trb.run(0), tr)


def test_non_finite_initial_loss_diverges_at_zero():
    q = Quartic()
    tr = run(q, GD(lr=0.1), [1e100], 10)  # x^4 overflows
    assert tr.status == "diverged" and tr.diverged_at == 0 and tr.n_steps == 0
    assert tr.points.shape == (1, 1)


def test_tol_loss_uses_known_minimum_value():
    tr = run(quad(), GD(lr=0.2), [0.0, 0.0], 1000, tol_loss=1e-6)
    assert tr.status == "converged"
    assert tr.losses[-1] - 0.25 <= 1e-6 < tr.losses[-2] - 0.25
    assert tr.suboptimality[-1] == tr.losses[-1] - 0.25


def test_tol_loss_without_minimum_uses_change_in_loss():
    tr = run(quad(minima=False), GD(lr=0.2), [0.0, 0.0], 1000, tol_loss=1e-6)
    assert tr.status == "converged" and tr.suboptimality is None
    dl = np.abs(np.diff(tr.losses))
    assert dl[-1] <= 1e-6 and np.all(dl[:-1] > 1e-6)


def test_converged_at_start():
    tr = run(quad(), GD(lr=0.2), XSTAR, 10, tol_grad=1e-12)
    assert tr.status == "converged" and tr.n_steps == 0 and tr.steps_to_tolerance == 0
    assert tr.n_f == 1


# -- batching ------------------------------------------------------------------------------
@pytest.mark.parametrize("block", [1, 3, 64])
def test_batched_equals_single_runs_with_different_stopping_steps(block, monkeypatch):
    import optiviz.engine.loops as loops

    monkeypatch.setattr(loops, "_block_rows", lambda R, n: block)  # stopping-check blocks
    lrs = [0.05, 0.3, 0.6, 1.01 * 2 / LMAX, 0.69]
    x0s = np.array([[0.0, 0.0], [2.0, 1.0], [-3.0, 4.0], [0.5, 0.5], [1.0, 1.0]])
    kw = dict(tol_grad=1e-7, steps=3000)
    batch = run(quad(), GD(lr=lrs), x0s, **kw)
    assert len(set(batch.n_steps.tolist())) == 5  # all stop at different steps
    assert "diverged" in batch.status and "converged" in batch.status
    longest = int(batch.n_steps.max())
    assert batch.points.shape == (5, longest + 1, 2)
    for i, lr in enumerate(lrs):
        one = run(quad(), GD(lr=lr), x0s[i], **kw)
        assert_same_run(batch.run(i), one)
        k = int(batch.n_steps[i])
        assert np.all(np.isnan(batch.points[i, k + 1 :]))
        assert np.all(np.isnan(batch.losses[i, k + 1 :]))
        assert np.all(np.isnan(batch.effective_lr[i, k:]))
        assert np.all(np.isnan(batch.lr_factor[i, k:]))
        assert not np.isnan(batch.losses[i, : k + 1]).any()


def test_batched_counts_and_broadcast_x0():
    tr = run(quad(), LookAhead(lr=[0.1, 0.3]), [1.0, 1.0], 500, tol_grad=1e-6)
    for i in range(2):
        k = int(tr.n_steps[i])
        assert tr.n_f[i] == k + 1 and tr.n_grad[i] == 2 * k + 1 and tr.n_hess[i] == 0
        one = run(quad(), LookAhead(lr=[0.1, 0.3][i]), [1.0, 1.0], 500, tol_grad=1e-6)
        assert_same_run(tr.run(i), one)


def test_x0_rows_without_batched_hyperparameters():
    x0s = np.array([[0.0, 0.0], [1.0, -1.0], [5.0, 5.0]])
    tr = run(quad(), GD(lr=0.2), x0s, 30)
    assert tr.batched and tr.n_runs == 3 and tr.run_labels is None
    for i in range(3):
        assert_same_run(tr.run(i), run(quad(), GD(lr=0.2), x0s[i], 30))


def test_evaluation_counts_are_exact():
    q = quad()
    tr = run(q, GD(lr=0.1), [0.0, 0.0], 25)
    assert (tr.n_f, tr.n_grad, tr.n_hess) == (26, 26, 0)
    assert q.calls == 26  # T + 1 fused value_and_grad calls, nothing else
    tr2 = run(quad(), LookAhead(lr=0.1), [0.0, 0.0], 25)
    assert (tr2.n_f, tr2.n_grad) == (26, 51)


@pytest.mark.parametrize("block", [1, 5, 64])
def test_record_final_equals_final_rows_of_record_all(block, monkeypatch):
    import optiviz.engine.loops as loops

    monkeypatch.setattr(loops, "_block_rows", lambda R, n: block)
    lrs = [0.05, 0.3, 1.01 * 2 / LMAX, 0.69]
    for opt_lr, x0 in (
        (lrs, [[0.0, 0.0], [2.0, 1.0], [-3.0, 4.0], [1.0, 1.0]]),
        (0.3, [2.0, 1.0]),
        (1.01 * 2 / LMAX, [0.5, 0.5]),
    ):
        full = run(quad(), GD(lr=opt_lr), x0, 3000, tol_grad=1e-7)
        fin = run(quad(), GD(lr=opt_lr), x0, 3000, tol_grad=1e-7, record="final")
        assert fin.points is None and fin.losses is None and fin.effective_lr is None
        assert fin.lr_factor is None
        assert fin.record == "final"
        for a, b in zip(full.runs(), fin.runs(), strict=True):
            for field in (
                "status",
                "diverged_at",
                "n_steps",
                "n_f",
                "n_grad",
                "n_hess",
                "steps_to_tolerance",
            ):
                assert getattr(a, field) == getattr(b, field), field
            np.testing.assert_array_equal(a.final_point, b.final_point)
            np.testing.assert_array_equal(a.final_point, a.points[a.n_steps])
            assert a.final_loss == b.final_loss == a.losses[a.n_steps]
            assert a.final_grad_norm == b.final_grad_norm == a.grad_norms[a.n_steps]
            assert a.best_loss == b.best_loss == np.min(a.losses)
            assert a.final_distance_to_min == b.final_distance_to_min


def test_record_final_allocates_nothing_of_size_t_r_n():
    R, T = 500, 2000  # record="all" would need > 2 * R * T * 2 * 8 bytes = 32 MB
    opt = GD(lr=np.linspace(0.01, 0.5, R))
    x0 = np.array([3.0, -1.0])
    tracemalloc.start()
    try:
        tr = run(quad(), opt, x0, T, record="final")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tr.n_steps.max() == T
    assert peak < 4e6, f"peak {peak / 1e6:.1f} MB"  # record="all" would need ~48 MB


# -- stochastic ----------------------------------------------------------------------------
def test_stochastic_runs_are_seeded_and_record_full_batch_values():
    s = LinearRegression(N=40)
    a = run(s, GD(lr=0.1), [0.0, 0.0], 30, batch_size=8, seed=3)
    b = run(LinearRegression(N=40), GD(lr=0.1), [0.0, 0.0], 30, batch_size=8, seed=3)
    c = run(LinearRegression(N=40), GD(lr=0.1), [0.0, 0.0], 30, batch_size=8, seed=4)
    assert_same_run(a, b)
    assert not np.array_equal(a.points, c.points)
    # each epoch (5 batches of 8) visits every sample exactly once
    batches = s.batches
    assert len(batches) == 30 and all(len(bt) == 8 for bt in batches)
    for e in range(6):
        assert sorted(np.concatenate(batches[5 * e : 5 * e + 5]).tolist()) == list(range(40))
    # recorded losses are the full-batch losses at the recorded points
    full = [s.value_and_grad(p)[0] for p in a.points]
    np.testing.assert_allclose(a.losses, full, rtol=1e-15)
    # the step used the mini-batch gradient
    g0 = s.value_and_grad(a.points[0], batch=batches[0])[1]
    np.testing.assert_allclose(a.points[1], a.points[0] - 0.1 * g0, rtol=1e-15)
    # counts: T mini-batch evaluations (monitoring evaluations are not counted)
    assert (a.n_f, a.n_grad) == (30, 30)


def test_stochastic_last_batch_of_epoch_may_be_smaller():
    s = LinearRegression(N=10)
    run(s, GD(lr=0.1), [0.0, 0.0], 6, batch_size=4, seed=0)
    assert [len(b) for b in s.batches] == [4, 4, 2, 4, 4, 2]


def test_stochastic_batched_equals_single_runs():
    lrs = [0.05, 0.2, 0.5]
    tr = run(LinearRegression(), GD(lr=lrs), [0.0, 0.0], 50, batch_size=5, seed=11, tol_grad=1e-3)
    for i, lr in enumerate(lrs):
        one = run(
            LinearRegression(), GD(lr=lr), [0.0, 0.0], 50, batch_size=5, seed=11, tol_grad=1e-3
        )
        assert_same_run(tr.run(i), one, exact=False)


def test_batch_size_errors():
    with pytest.raises(SurfaceError, match="batch_size=4 needs a data surface"):
        run(quad(), GD(lr=0.1), [0.0, 0.0], 5, batch_size=4)
    with pytest.raises(OptimizerError, match=r"'batch_size' must be an int in the range \[1, 40\]"):
        run(LinearRegression(), GD(lr=0.1), [0.0, 0.0], 5, batch_size=41)


# -- history, distances, validation --------------------------------------------------------
def test_x_prev_is_passed_to_init():
    opt = GD(lr=0.1)
    run(quad(), opt, [1.0, 2.0], 3, x_prev=[0.5, 1.5])
    np.testing.assert_array_equal(opt.seen_init[1], [0.5, 1.5])
    np.testing.assert_array_equal(opt.seen_init[0], [1.0, 2.0])
    opt2 = GD(lr=[0.1, 0.2])
    run(quad(), opt2, [1.0, 2.0], 3, x_prev=[0.5, 1.5])
    np.testing.assert_array_equal(opt2.seen_init[1], [[0.5, 1.5], [0.5, 1.5]])
    opt3 = GD(lr=0.1)
    run(quad(), opt3, [1.0, 2.0], 3)
    assert opt3.seen_init[1] is None


def test_distance_to_known_minimum_and_suboptimality():
    tr = run(quad(), GD(lr=0.2), [3.0, 3.0], 20)
    np.testing.assert_allclose(tr.distance_to_min, np.linalg.norm(tr.points - XSTAR, axis=1))
    assert tr.final_distance_to_min == pytest.approx(np.linalg.norm(tr.points[-1] - XSTAR))
    np.testing.assert_array_equal(tr.suboptimality, tr.losses - 0.25)
    assert tr.final_suboptimality == tr.final_loss - 0.25
    none = run(quad(minima=False), GD(lr=0.2), [3.0, 3.0], 5)
    assert none.distance_to_min is None and none.final_distance_to_min is None


@pytest.mark.parametrize(
    "kw,err,pattern",
    [
        (dict(x0=[1.0, 2.0, 3.0]), SurfaceError, r"x0 has 3 values .* 2 variables \(w1, w2\)"),
        (dict(x0=[[1.0]]), SurfaceError, r"x0 has 1 value but .*\(w1, w2\)"),
        (dict(x0="ab"), SurfaceError, "x0 must be 2 numbers"),
        (dict(x0=[1.0, float("nan")]), SurfaceError, "x0 must be finite"),
        (dict(x_prev=[1.0]), SurfaceError, "x_prev has 1 value but"),
        (dict(steps=-1), OptimizerError, r"'steps' must be an int in the range \[0, inf\); got -1"),
        (dict(steps=2.5), OptimizerError, "'steps' must be an int"),
        (dict(steps=True), OptimizerError, "'steps' must be an int"),
        (dict(record="every"), OptimizerError, "'record' must be one of 'all', 'path', 'final'"),
        (dict(tol_grad=-1e-3), OptimizerError, "'tol_grad' must be None or a float"),
        (dict(tol_loss="x"), OptimizerError, "'tol_loss'"),
        (dict(divergence_bound=0.0), OptimizerError, r"'divergence_bound' .*\(0, inf\]"),
        (dict(schedule=3), OptimizerError, "'schedule' must be"),
        (dict(schedule="cosin"), OptimizerError, "did you mean 'cosine'"),
    ],
)
def test_validation(kw, err, pattern):
    args = dict(x0=[0.0, 0.0], steps=5)
    args.update(kw)
    x0, steps = args.pop("x0"), args.pop("steps")
    with pytest.raises(err, match=pattern):
        run(quad(), GD(lr=0.1), x0, steps, **args)


def test_validation_of_run_counts_and_objects():
    with pytest.raises(OptimizerError, match="x0 has 3 starting points .* 2 runs"):
        run(quad(), GD(lr=[0.1, 0.2]), np.zeros((3, 2)), 5)
    with pytest.raises(OptimizerError, match="make_optimizer"):
        run(quad(), "adam", [0.0, 0.0], 5)
    with pytest.raises(SurfaceError, match="needs a Surface"):
        run(object(), GD(lr=0.1), [0.0, 0.0], 5)


def test_zero_steps_and_summary_json():
    tr = run(quad(), GD(lr=0.1), [1.0, 1.0], 0)
    assert tr.n_steps == 0 and tr.points.shape == (1, 2) and tr.effective_lr.shape == (0, 2)
    assert tr.lr_factor.shape == (0, 2)
    assert tr.status == "max_steps"
    s = json.loads(json.dumps(tr.summary(), allow_nan=False))
    assert s["status"] == "max_steps" and s["n_f"] == 1 and s["variables"] == ["w1", "w2"]
    trb = run(quad(), GD(lr=[0.1, 1.0]), [1.0, 1.0], 500, record="final")
    s = json.loads(json.dumps(trb.summary(), allow_nan=False))
    assert s["status"] == ["max_steps", "diverged"] and s["diverged_at"][0] is None
    assert s["status_counts"] == {"diverged": 1, "max_steps": 1}


# -- with the real Surface and optimizers --------------------------------------------------
def _rosenbrock():
    surface = pytest.importorskip("optiviz.surface")
    try:
        return surface.Surface.from_expression(
            "(1 - x)**2 + 100*(y - x**2)**2",
            variables=["x", "y"],
            name="rosenbrock",
            minima=[{"point": [1.0, 1.0], "value": 0.0}],
        )
    except ImportError:
        pytest.skip("optiviz.expr not available yet")


def _make(name, **hp):
    opts = pytest.importorskip("optiviz.optimizers")
    if not hasattr(opts, "make_optimizer"):
        pytest.skip("optiviz.optimizers.make_optimizer not available yet")
    return opts.make_optimizer(name, **hp)


def test_real_adam_on_rosenbrock_batched_equals_single():
    s = _rosenbrock()
    lrs = [1e-3, 1e-2, 3e-2]
    batch = run(s, _make("adam", lr=lrs), [-1.2, 1.0], 400, tol_grad=1e-3)
    for i, lr in enumerate(lrs):
        one = run(s, _make("adam", lr=lr), [-1.2, 1.0], 400, tol_grad=1e-3)
        # the Surface evaluates one point with Python floats (x**2 is libm pow there,
        # x*x in numpy): 1-ulp gradient differences that Adam amplifies slowly
        assert_same_run(batch.run(i), one, exact=False, rtol=1e-11)
    assert batch.surface == "rosenbrock" and batch.variables == ("x", "y")


def test_real_optimizers_smoke():
    s = _rosenbrock()
    opts = pytest.importorskip("optiviz.optimizers")
    if not hasattr(opts, "available"):
        pytest.skip("optimizer registry not available yet")
    for name in opts.available():
        try:
            opt = opts.make_optimizer(name)
        except Exception:  # optimizers needing a hyperparameter without default
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tr = run(s, opt, [-1.2, 1.0], 50)
        assert tr.n_steps <= 50 and tr.status in ("max_steps", "converged", "diverged")
        assert tr.effective_lr.shape[0] == tr.lr_factor.shape[0] == tr.n_steps


def _real_quadratic():
    surface = pytest.importorskip("optiviz.surface")
    # 1/2 (w - x*)^T A (w - x*) + 1/4 with A = [[3, 1], [1, 2]], x* = (1, -2)
    return surface.Surface.from_expression(
        "(3*(x - 1)**2 + 2*(x - 1)*(y + 2) + 2*(y + 2)**2)/2 + 1/4",
        variables=["x", "y"],
        name="quad",
        minima=[{"point": [1.0, -2.0], "value": 0.25}],
    )


def test_real_gd_closed_form_and_divergence():
    s = _real_quadratic()
    x0 = np.array([-1.5, 2.5])
    tr = run(s, _make("gd", lr=0.2), x0, 60)
    for t in range(61):
        np.testing.assert_allclose(tr.points[t], closed_form(0.2, x0, t), rtol=0, atol=1e-12)
    assert (tr.n_f, tr.n_grad, tr.n_hess) == (61, 61, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad = run(s, _make("gd", lr=1.01 * 2 / LMAX), x0, 5000, tol_grad=1e-8)
        good = run(s, _make("gd", lr=0.99 * 2 / LMAX), x0, 5000, tol_grad=1e-8)
    assert bad.status == "diverged" and bad.diverged_at == bad.n_steps
    assert good.status == "converged" and good.final_distance_to_min < 1e-7
    sweep = run(s, _make("gd", lr=[0.99 * 2 / LMAX, 1.01 * 2 / LMAX]), x0, 5000, tol_grad=1e-8)
    assert list(sweep.status) == ["converged", "diverged"]
    assert_same_run(sweep.run(0), good, exact=False)
    assert_same_run(sweep.run(1), bad, exact=False)


def test_real_inverse_time_schedule_with_sgd():
    s = _real_quadratic()
    tr = run(
        s,
        _make("gd", lr=0.01),
        [0.0, 0.0],
        3,
        schedule=make_schedule("inverse_time", eta0=1.0, k=1.0),
    )
    np.testing.assert_allclose(tr.lr_factor[:, 0], [1.0, 0.5, 1.0 / 3.0], rtol=1e-15)


def test_real_data_surface_stochastic_is_seeded():
    data = pytest.importorskip("optiviz.data")
    if not hasattr(data, "linear_regression"):
        pytest.skip("optiviz.data not available yet")
    s = data.linear_regression(data.make_linear(n=50, dim=2, seed=1))
    x0 = np.zeros(s.n)
    a = run(s, _make("sgd", lr=0.05), x0, 40, batch_size=8, seed=7)
    b = run(s, _make("sgd", lr=0.05), x0, 40, batch_size=8, seed=7)
    c = run(s, _make("sgd", lr=0.05), x0, 40, batch_size=8, seed=8)
    assert_same_run(a, b)
    assert not np.array_equal(a.points, c.points)
    np.testing.assert_allclose(a.losses, s.f(a.points), rtol=1e-13)  # full-batch losses
    # the engine's mini-batches are the data surface's own epochs for that seed
    batches = s.epoch_batches(8, seed=7)
    x = x0.copy()
    for t in range(1, 41):
        x = x - 0.05 * s.grad(x, batch=next(batches))
        np.testing.assert_allclose(a.points[t], x, rtol=1e-12, atol=1e-14)
    sweep = run(s, _make("sgd", lr=[0.05, 0.01]), x0, 40, batch_size=8, seed=7)
    assert_same_run(sweep.run(0), a, exact=False, rtol=1e-12)


def test_run_argument_errors_carry_the_structured_fields():
    # engine.run checks its arguments with the shared constraint table: the error names
    # the argument, the value and what is allowed, as fields and in the message
    from optiviz.library import load_surface
    from optiviz.optimizers import make_optimizer

    s = load_surface("rosenbrock")
    with pytest.raises(OptimizerError) as info:
        run(s, make_optimizer("gd", lr=1e-3), [0.0, 0.0], 10, tol_grad=-1)
    e = info.value
    assert (e.owner, e.key, e.value) == ("run", "tol_grad", -1)
    assert e.allowed == "a float in the range [0, inf)"
    assert str(e) == "'tol_grad' must be None or a float in the range [0, inf); got -1"
    with pytest.raises(OptimizerError, match=r"'divergence_bound' .* \(0, inf\]; got 0"):
        run(s, make_optimizer("gd", lr=1e-3), [0.0, 0.0], 10, divergence_bound=0)


@pytest.mark.parametrize("record", ["all", "path"])
@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_small_record_blocks_and_the_block_screen_equal_single_runs(record, optimizer, monkeypatch):
    # A recorded batch is tested in blocks whose records fit loops.RECORD_BLOCK_BYTES (here
    # 3 steps of 3 runs); without tolerances each block is first screened (every run
    # healthy: no rule applies) and the norms are taken per block. The expected values are
    # the single runs (the single loop: no blocks, no screen): the batch equals them bit for
    # bit, also after lr = 3 / lambda_max (|1 - lr lambda| = 2 at the top eigenvalue for
    # GD) diverged at its own step and the screen no longer applies.
    import optiviz.engine.loops as loops
    from optiviz.optimizers import make_optimizer

    monkeypatch.setattr(loops, "RECORD_BLOCK_BYTES", 3 * 8 * 3 * (2 * 2 + 2 + 2 * 2))
    assert loops._record_block_rows(3, 2, True) == 3
    lrs = [0.05, 0.3, 1.5 * 2 / LMAX]
    make = (
        (lambda lr: GD(lr=lr)) if optimizer == "gd" else (lambda lr: make_optimizer("adam", lr=lr))
    )
    x0 = [2.0, 1.0]
    batch = run(quad(), make(lrs), x0, 100, record=record)
    if optimizer == "gd":
        assert list(batch.status) == ["max_steps", "max_steps", "diverged"]
    for i, lr in enumerate(lrs):
        one = run(quad(), make(lr), x0, 100, record=record)
        assert_same_run(batch.run(i), one)
        np.testing.assert_array_equal(batch.final_grad_norm[i], one.final_grad_norm)
