"""What is known about an optimizer lives on its class: traits, linear theory, explainer.

The iteration matrices are proved against actual runs on a diagonal quadratic (the
eigen-coordinates of the iterates follow M^t); the rates against the roots of each method's
characteristic polynomial; the stability limits and optimal hyperparameters against their
closed forms (Polyak 1964; Lessard, Recht and Packard 2016) and a brute-force grid search;
the generic base-class machinery against a toy class defined here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import optiviz
from optiviz.analysis import predicted_rate
from optiviz.experiment import sweep_stability_limit
from optiviz.explain import explain_step
from optiviz.optimizers import REGISTRY, available, get_class, make_optimizer
from optiviz.optimizers.base import Optimizer, Param

LINEAR = {"gd", "sgd", "momentum", "nesterov"}
GD_RATE = "GD: max |1 - lr lambda|"
HB_RATE = "heavy ball: spectral radius of the 2x2 iteration"
NESTEROV_RATE = "Nesterov: spectral radius of the 2x2 iteration"


def _char_roots_radius(lam, trace, det) -> float:
    """max over lam of the largest |root| of z^2 - trace z + det (numpy.roots, per lambda)."""
    return max(
        float(np.max(np.abs(np.roots([1.0, -t, d])))) for t, d in zip(trace, det, strict=True)
    )


# -- conformance: every registered optimizer -----------------------------------------------------
@pytest.mark.parametrize("name", available())
def test_traits_and_theory_conform(name):
    cls = get_class(name)
    opt = make_optimizer(name)
    assert isinstance(cls.order, int) and cls.order in (1, 2)
    assert isinstance(cls.searches_step, bool)
    assert cls.has_linear_theory() is (name in LINEAR)
    for lam in (np.array([0.5, 2.0, 7.0]), np.linspace(0.1, 3.0, 12).reshape(3, 4)):
        M = cls.linear_iteration(lam, opt.hyper)
        assert (M is None) is (name not in LINEAR)
        if M is not None:
            assert M.shape == lam.shape + (2, 2) and np.all(np.isfinite(M))
            assert np.array_equal(opt.iteration_matrix(lam, opt.h), M)
    rate, why = opt.rate([0.5, 2.0])
    assert isinstance(why, str) and why
    assert (rate is None) is (name not in LINEAR)
    if rate is not None:
        assert isinstance(rate, float)
    limit, label = cls.lr_stability_limit(4.0, opt.hyper)
    if name in LINEAR:
        assert isinstance(limit, float) and limit > 0 and isinstance(label, str)
    else:
        assert (limit, label) == (None, None)
    best = cls.optimal_hyperparameters(1.0, 100.0)
    if best is not None:
        assert set(best) <= set(cls.params) | {"rate"} and 0 <= best["rate"] < 1
        # the optimum holds over every spectrum in [1, 100] (the double root of the extreme
        # modes costs sqrt(eps) in the eigenvalues: 1e-7)
        dense = np.linspace(1.0, 100.0, 2001)
        assert cls.linear_rate(dense, best) == pytest.approx(best["rate"], rel=1e-7)
    assert cls.optimal_hyperparameters(0.0, 1.0) is None


def test_orders_and_step_searches():
    assert {n for n in available() if get_class(n).order == 2} == {"newton"}
    assert {n for n in available() if get_class(n).searches_step} == {"line_search", "armijo"}


# -- the matrices reproduce actual runs -------------------------------------------------------
# f = 1/2 w^T A w + b^T w with A = diag(lam): the eigen-coordinates are z_i = w_i - w*_i
LAM = np.array([0.3, 2.0, 5.0])
B = np.array([-0.3, 1.0, 0.0])
X0 = np.array([2.0, 1.0, -1.0])
X_PREV = np.array([1.5, 1.2, -0.4])


@pytest.fixture(scope="module")
def diag_quadratic():
    return optiviz.load_surface("quadratic", A=np.diag(LAM).tolist(), b=B.tolist())


def _follows(M, z, start):
    """z[t] (T+1, n) against M^k applied to (z[start], z[start-1]) coordinate by coordinate."""
    state = np.stack([z[start], z[start - 1]], axis=-1)[..., None]  # (n, 2, 1)
    scale = np.max(np.abs(z))
    for t in range(start + 1, len(z)):
        state = M @ state
        assert np.allclose(state[..., 0, 0], z[t], rtol=1e-10, atol=1e-10 * scale), t


RUN_VARIANTS = [
    ("gd", {"lr": 0.3}),
    ("momentum", {"lr": 0.1, "momentum": 0.7}),
    ("momentum", {"lr": 0.35, "momentum": 0.0}),
    ("nesterov", {"lr": 0.1, "momentum": 0.6}),
    ("sgd", {"lr": 0.2}),
    ("sgd", {"lr": 0.1, "momentum": 0.8}),
    ("sgd", {"lr": 0.1, "momentum": 0.8, "dampening": 0.3}),
    ("sgd", {"lr": 0.1, "momentum": 0.8, "nesterov": True}),
]


@pytest.mark.parametrize("name,h", RUN_VARIANTS)
def test_iteration_matrix_reproduces_runs(diag_quadratic, name, h):
    opt = make_optimizer(name, **h)
    traj = optiviz.run(diag_quadratic, opt, X0, 40)
    z = traj.points - diag_quadratic.minima[0].point
    # torch's buffers start at the first gradient: the recurrence holds from (z_1, z_0) on
    _follows(opt.iteration_matrix(LAM, opt.h), z, 1)


@pytest.mark.parametrize(
    "name,h",
    [v for v in RUN_VARIANTS if not v[1].get("nesterov")],  # torch's Nesterov needs g(x_prev)
)
def test_iteration_matrix_from_a_history(diag_quadratic, name, h):
    # given x_prev, the heavy-ball velocity x0 - x_prev (and dampening) is in from step 1
    opt = make_optimizer(name, **h)
    traj = optiviz.run(diag_quadratic, opt, X0, 40, x_prev=X_PREV)
    z = np.vstack([X_PREV, traj.points]) - diag_quadratic.minima[0].point
    _follows(opt.iteration_matrix(LAM, opt.h), z, 1)


def test_iteration_matrix_broadcasts_batched_hyperparameters(diag_quadratic):
    opt = make_optimizer("sgd", lr=[0.1, 0.2, 0.05], momentum=[0.8, 0.0, 0.5], dampening=0.2)
    traj = optiviz.run(diag_quadratic, opt, X0, 30)
    M = opt.iteration_matrix(LAM, opt.h)
    assert M.shape == (3, 3, 2, 2)
    for r in range(3):
        _follows(M[r], traj.points[r] - diag_quadratic.minima[0].point, 1)


# -- rates against the characteristic polynomials ----------------------------------------------
@pytest.mark.parametrize("lr,mu", [(0.1, 0.5), (0.02, 0.9), (0.3, 0.0), (0.45, 0.2)])
def test_rates_are_the_roots_of_the_characteristic_polynomials(lr, mu):
    lam = np.array([0.5, 1.0, 3.0, 4.0])
    a = 1.0 - lr * lam
    assert get_class("gd").linear_rate(lam, {"lr": lr}) == pytest.approx(np.max(np.abs(a)))
    hb = _char_roots_radius(lam, 1.0 + mu - lr * lam, np.full_like(lam, mu))
    nest = _char_roots_radius(lam, (1.0 + mu) * a, mu * a)
    h = {"lr": lr, "momentum": mu}
    assert get_class("momentum").linear_rate(lam, h) == pytest.approx(hb, rel=1e-7)
    assert get_class("nesterov").linear_rate(lam, h) == pytest.approx(nest, rel=1e-7)
    # torch's forms: sgd with momentum is heavy ball, with dampening d the step is lr (1 - d)
    sgd = get_class("sgd")
    assert sgd.linear_rate(lam, h) == pytest.approx(hb, rel=1e-7)
    assert sgd.linear_rate(lam, {**h, "nesterov": True}) == pytest.approx(nest, rel=1e-7)
    damped = _char_roots_radius(lam, 1.0 + mu - 0.5 * lr * lam, np.full_like(lam, mu))
    if mu:
        assert sgd.linear_rate(lam, {**h, "dampening": 0.5}) == pytest.approx(damped, rel=1e-7)


def test_rate_closed_forms_at_known_points():
    gd, hb = get_class("gd"), get_class("momentum")
    # GD with lr = 1/L contracts by 1 - mu/L; with 2/(mu + L) by (kappa - 1)/(kappa + 1)
    assert gd.rate_for([0.5, 2.0, 10.0], {"lr": 0.1}) == (pytest.approx(0.95), GD_RATE)
    best = gd.optimal_hyperparameters(1.0, 10.0)
    assert best == {"lr": pytest.approx(2 / 11), "rate": pytest.approx(9 / 11)}
    # Polyak's pair on kappa = 100: lr = 4/(10 + 1)^2, beta = (9/11)^2, rate 9/11
    pair = hb.optimal_hyperparameters(1.0, 100.0)
    assert pair == {
        "lr": pytest.approx(4 / 121),
        "momentum": pytest.approx(81 / 121),
        "rate": pytest.approx(9 / 11),
    }
    assert hb.rate_for([1.0, 100.0], pair) == (pytest.approx(9 / 11, rel=1e-7), HB_RATE)
    assert get_class("sgd").optimal_hyperparameters(1.0, 100.0) == pair
    # Nesterov's optimum for quadratics (Lessard, Recht, Packard 2016): rate 1 - 2/sqrt(3k+1)
    s = math.sqrt(301.0)
    nest = get_class("nesterov").optimal_hyperparameters(1.0, 100.0)
    assert nest == {
        "lr": pytest.approx(4 / 301),
        "momentum": pytest.approx((s - 2) / (s + 2)),
        "rate": pytest.approx(1 - 2 / s),
    }


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov"])
def test_no_grid_point_beats_the_optimal_hyperparameters(name):
    # brute force over the broadcast form: rates of a whole (lr, momentum) grid at once
    cls = get_class(name)
    best = cls.optimal_hyperparameters(1.0, 100.0)
    lam = np.linspace(1.0, 100.0, 31)
    grid = {"lr": np.linspace(0.1, 3.6, 71)[:, None] / 100.0}
    if "momentum" in cls.params:
        grid["momentum"] = np.linspace(0.0, 0.9, 61)[None, :]
    rates = cls.linear_rate(lam, grid)
    assert rates.shape == (71, 61 if "momentum" in grid else 1)
    assert rates.min() >= best["rate"] - 1e-7
    assert rates.min() <= best["rate"] + 0.01  # and the grid comes close to it
    # the grid's rates are the scalar rates, entry by entry
    i, j = 37, rates.shape[1] // 2
    one = {k: float(np.broadcast_to(v, rates.shape)[i, j]) for k, v in grid.items()}
    assert rates[i, j] == cls.linear_rate(lam, one)


def test_rate_why_strings():
    lam = [1.0, 10.0]
    sgd = get_class("sgd")
    assert sgd.rate_for(lam, {"lr": 0.1})[1] == GD_RATE
    assert sgd.rate_for(lam, {"lr": 0.1, "momentum": 0.5})[1] == HB_RATE
    assert sgd.rate_for(lam, {"lr": 0.1, "momentum": 0.5, "nesterov": True})[1] == NESTEROV_RATE
    assert get_class("nesterov").rate_for(lam, {"lr": 0.1})[1] == NESTEROV_RATE
    assert sgd.rate_for(lam, {}) == (None, "no scalar learning rate")
    assert sgd.rate_for(lam, {"lr": [0.1, 0.2]}) == (None, "no scalar learning rate")
    assert sgd.rate_for(lam, {"lr": 0.1, "maximize": True}) == (None, "maximize: the run ascends")
    assert sgd.rate_for(lam, {"lr": 0.1, "weight_decay": 0.1}) == (
        None,
        "weight decay moves the minimum",
    )
    assert sgd.rate_for(lam, {"lr": 0.1, "momentum": [0.1, 0.2]}) == (
        None,
        "batched hyperparameters",
    )
    assert get_class("adam").rate_for(lam, {"lr": 0.1}) == (None, "no linear-rate theory for adam")


# -- stability limits: closed forms, labels, bisection ----------------------------------------
L = 4.0
LIMITS = [  # (name, hyperparameters, closed form, label)
    ("gd", {}, 2 / L, "$2/\\lambda_{max}$ (GD)"),
    ("sgd", {"momentum": 0.0, "dampening": 0.5}, 2 / L, "$2/\\lambda_{max}$ (GD)"),
    ("momentum", {"momentum": 0.0}, 2 / L, "$2/\\lambda_{max}$ (GD)"),
    (
        "momentum",
        {"momentum": 0.9},
        3.8 / L,
        "$(2 + 2\\beta)/\\lambda_{max}$ (heavy ball, $\\beta$ = 0.9)",
    ),
    (
        "sgd",
        {"momentum": 0.5},
        3.0 / L,
        "$(2 + 2\\beta)/\\lambda_{max}$ (heavy ball, $\\beta$ = 0.5)",
    ),
    (
        "sgd",
        {"momentum": 0.5, "dampening": 0.25},
        3.0 / (0.75 * L),
        "$(2 + 2\\beta)/((1 - d)\\lambda_{max})$ (heavy ball, $\\beta$ = 0.5, "
        "dampening $d$ = 0.25)",
    ),
    (
        "nesterov",
        {"momentum": 0.9},
        3.8 / (2.8 * L),
        "$(2 + 2\\mu)/((1 + 2\\mu)\\lambda_{max})$ (Nesterov, $\\mu$ = 0.9)",
    ),
    (
        "sgd",
        {"momentum": 0.3, "nesterov": True},
        2.6 / (1.6 * L),
        "$(2 + 2\\mu)/((1 + 2\\mu)\\lambda_{max})$ (Nesterov, $\\mu$ = 0.3)",
    ),
]


@pytest.mark.parametrize("name,h,limit,label", LIMITS)
def test_stability_limits_closed_forms_and_bisection(name, h, limit, label):
    cls = get_class(name)
    assert cls.lr_stability_limit(L, h) == (pytest.approx(limit, rel=1e-12), label)
    assert cls.bisect_lr_stability_limit(L, h) == pytest.approx(limit, rel=1e-9)
    # at the limit the iteration has the eigenvalue -1: det(M + I) = 0 at lambda_max
    M = cls.linear_iteration(np.array([L]), {**h, "lr": limit})[0]
    assert np.linalg.det(M + np.eye(2)) == pytest.approx(0.0, abs=1e-12)


def test_stability_limit_none_cases():
    sgd = get_class("sgd")
    assert sgd.lr_stability_limit(0.0, {}) == (None, None)
    assert sgd.lr_stability_limit(4.0, {"maximize": True}) == (None, None)
    assert sgd.lr_stability_limit(4.0, {"weight_decay": 0.1}) == (None, None)
    assert sgd.lr_stability_limit(4.0, {"momentum": [0.5, 0.9]}) == (None, None)
    # dampening 1: the step lr (1 - d) is zero, no learning rate is unstable
    assert sgd.lr_stability_limit(4.0, {"momentum": 0.5, "dampening": 1.0}) == (None, None)
    assert sgd.bisect_lr_stability_limit(4.0, {"momentum": 0.5, "dampening": 1.0}) is None
    assert get_class("adam").lr_stability_limit(4.0, {}) == (None, None)


# -- a new optimizer gets its theory and explainer from its class --------------------------------
class ToyHeavyBall(Optimizer):
    """A toy heavy ball with its own hyperparameter name: only the iteration is given."""

    name = "toy"
    params = {"lr": Param(0.1, low=0.0), "beta": Param(0.5, low=0.0, high=1.0)}
    quantities = {"v": "velocity v"}

    @classmethod
    def iteration_matrix(cls, lam, h):
        M = np.zeros(np.broadcast(lam, h["lr"], h["beta"]).shape + (2, 2))
        M[..., 0, 0] = 1.0 + h["beta"] - h["lr"] * lam
        M[..., 0, 1] = -h["beta"]
        M[..., 1, 0] = 1.0
        return M

    def init(self, x0, oracle, x_prev=None):
        return {"v": np.zeros_like(x0, dtype=float)}

    def step(self, x, g, state, oracle, lr, t):
        v = self.h["beta"] * state["v"] + g
        return x - lr * v, {"v": v, "eff_lr": lr}


class ToyWithExplainer(ToyHeavyBall):
    name = "toy_explained"

    def render_step(self, e):
        return [f"  w(t+1) = w(t) - lr * v = {e.fmt(e.new_point)}"]


def test_a_class_with_only_an_iteration_matrix_gets_rates_and_limits(monkeypatch):
    lam = [0.5, 3.0]
    toy = ToyHeavyBall(lr=0.2, beta=0.6)
    assert ToyHeavyBall.has_linear_theory() and ToyWithExplainer.has_linear_theory()
    expected = _char_roots_radius(lam, [1.6 - 0.2 * x for x in lam], [0.6, 0.6])
    assert toy.rate(lam) == (
        pytest.approx(expected, rel=1e-7),
        "toy: spectral radius of the 2x2 iteration",
    )
    assert predicted_rate(toy, lam) == toy.rate(lam)
    limit, label = ToyHeavyBall.lr_stability_limit(L, {"beta": 0.6})
    assert limit == pytest.approx(3.2 / L, rel=1e-9)  # heavy ball's (2 + 2 beta)/lambda_max
    assert label == "toy: largest stable lr (its iteration matrix, by bisection)"
    assert ToyHeavyBall.optimal_hyperparameters(1.0, 100.0) is None
    # the experiment's sweep line asks the class: no name list to extend
    monkeypatch.setitem(REGISTRY, "toy", ToyHeavyBall)
    assert sweep_stability_limit("toy", {"lr": [0.1, 0.2], "beta": [0.6, 0.6]}, L) == (
        pytest.approx(3.2 / L, rel=1e-9),
        label,
    )
    assert sweep_stability_limit("toy", {"beta": [0.5, 0.6]}, L) == (None, None)
    assert predicted_rate("toy", lam, {"lr": 0.2, "beta": 0.6}) == toy.rate(lam)


def test_a_class_without_an_iteration_matrix_has_no_theory():
    class Plain(Optimizer):
        name = "plain"
        params = {"lr": Param(0.1, low=0.0)}

    assert not Plain.has_linear_theory()
    assert Plain.linear_iteration([1.0], {}) is None and Plain.linear_rate([1.0], {}) is None
    assert Plain.rate_for([1.0], {"lr": 0.1}) == (None, "no linear-rate theory for plain")
    assert Plain.lr_stability_limit(1.0) == (None, None)


def test_the_explainer_asks_the_class_for_its_rendering(diag_quadratic):
    x = [2.0, 1.0, -1.0]
    plain = explain_step(diag_quadratic, ToyHeavyBall(lr=0.1), x).render()
    assert "velocity v [v] =" in plain and "lr factor" not in plain
    written = explain_step(diag_quadratic, ToyWithExplainer(lr=0.1), x)
    text = written.render()
    assert f"  w(t+1) = w(t) - lr * v = {written.fmt(written.new_point)}" in text
    assert "velocity v [v]" not in text and "  lr factor = 0.1" in text
