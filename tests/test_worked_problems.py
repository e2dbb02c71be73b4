"""Every answer of sections A to E of docs/worked-problems (design), from the library API.

The answers are asserted to at least 4 significant digits (1e-6 where the table gives 6).
Nothing is hand-computed here: surfaces come from the library (or from expression text, for
the small networks of D), steps from the optimizers through ``explain_step`` / ``run``, and
Hessian facts from ``analyze``.
"""

from __future__ import annotations

import numpy as np
import pytest

from optiviz.analysis import analyze, lr_relative_to_eta_opt
from optiviz.engine import run
from optiviz.explain import explain_step
from optiviz.library import load_surface
from optiviz.optimizers import make_optimizer
from optiviz.surface import Surface

TOL = 1e-6

# =============================================================================================
# A. Correlated quadratic, one step from a given history
# =============================================================================================
W_PREV = [1.0, 1.0]
W_T = [1.5, 2.0]


@pytest.fixture(scope="module")
def seed_quadratic():
    return load_surface("seed_quadratic")


def test_a_minimizer_and_minimum(seed_quadratic):
    m = analyze(seed_quadratic).minimum
    np.testing.assert_allclose(m.point, [3, 4], atol=TOL)
    assert m.value == pytest.approx(0.05, abs=TOL)


def test_a_hessian_and_eigenvalues(seed_quadratic):
    m = analyze(seed_quadratic).minimum
    np.testing.assert_allclose(m.hessian, [[1 / 2, -1 / 6], [-1 / 6, 2 / 9]], atol=1e-12)
    np.testing.assert_allclose(m.eigenvalues, [0.144160, 0.578062], atol=TOL)


def test_a_gradients(seed_quadratic):
    e = explain_step(seed_quadratic, make_optimizer("rprop", variant="lecture"), W_T, W_PREV)
    np.testing.assert_allclose(e.before["g_prev"], [-0.5, -0.333333], atol=TOL)  # at w(t-1)
    np.testing.assert_allclose(e.quantities["grad"], [-0.416667, -0.194444], atol=TOL)  # at w(t)
    # the RProp slide's +0.4167 is a sign error
    assert e.quantities["grad"][0] < 0


def test_a_gd(seed_quadratic):
    e = explain_step(seed_quadratic, make_optimizer("gd", lr=0.3), W_T, W_PREV)
    np.testing.assert_allclose(e.new_point, [1.625, 2.058333], atol=TOL)
    assert "(1.5, 2) - 0.3 * (-0.416667, -0.194444) = (1.625, 2.05833)" in e.render()


@pytest.mark.parametrize("name", ["momentum", "sgd"])
def test_a_heavy_ball(seed_quadratic, name):
    opt = make_optimizer(name, lr=0.3, momentum=0.9)
    e = explain_step(seed_quadratic, opt, W_T, W_PREV)
    np.testing.assert_allclose(e.new_point, [2.075, 2.958333], atol=TOL)
    tr = run(seed_quadratic, opt, W_T, 1, x_prev=W_PREV)
    np.testing.assert_allclose(tr.points[1], [2.075, 2.958333], atol=TOL)


def test_a_nesterov(seed_quadratic):
    opt = make_optimizer("nesterov", lr=0.3, momentum=0.9)
    e = explain_step(seed_quadratic, opt, W_T, W_PREV)
    np.testing.assert_allclose(e.quantities["x_look"], [1.95, 2.9], atol=TOL)
    np.testing.assert_allclose(e.new_point, [2.0525, 2.920833], atol=TOL)
    assert "(1.95, 2.9)" in e.render()


def test_a_rprop_lecture(seed_quadratic):
    opt = make_optimizer("rprop", variant="lecture")
    assert tuple(opt.hyper["etas"]) == (0.6, 1.5)
    e = explain_step(seed_quadratic, opt, W_T, W_PREV)
    np.testing.assert_allclose(e.new_point, [2.25, 3.5], atol=TOL)
    tr = run(seed_quadratic, opt, W_T, 1, x_prev=W_PREV)
    np.testing.assert_allclose(tr.points[1], [2.25, 3.5], atol=TOL)
    text = e.render()
    assert "same gradient sign" in text and "changed" not in text


def test_a_errata_reported(seed_quadratic):
    a = analyze(seed_quadratic)
    assert any("-0.416667" in n and "(2.25, 3.5)" in n for n in a.errata)


# =============================================================================================
# B. Optimal learning rate of a diagonal quadratic
# =============================================================================================
@pytest.fixture(scope="module")
def seed_diagonal():
    return load_surface("seed_diagonal")


def test_b_learning_rates(seed_diagonal):
    m = analyze(seed_diagonal).minimum
    eta = m.eta
    # per-direction 1/lambda_i along the eigenvectors, which are the coordinate axes x, y, z
    per_axis = {
        int(np.argmax(np.abs(v))): r
        for v, r in zip(m.eigenvectors.T, eta["per_direction"], strict=True)
    }
    assert per_axis[0] == pytest.approx(1 / 6, abs=TOL)
    assert per_axis[1] == pytest.approx(1 / 4, abs=TOL)
    assert per_axis[2] == pytest.approx(1 / 8, abs=TOL)
    assert eta["inverse_lambda_max"] == pytest.approx(0.125, abs=TOL)
    assert eta["stability_limit"] == pytest.approx(0.25, abs=TOL)  # not 0.333
    assert eta["optimal_fixed"] == pytest.approx(0.166667, abs=TOL)
    assert eta["optimal_rate"] == pytest.approx(1 / 3, abs=TOL)


def test_b_erratum(seed_diagonal):
    a = analyze(seed_diagonal)
    text = " ".join(a.errata)
    assert "0.25" in text and "0.333" in text
    assert "0.166667" in text


def _gd(surface, factor, steps):
    lr = lr_relative_to_eta_opt(surface, factor)
    return lr, run(surface, make_optimizer("gd", lr=lr), [1.0, 1.0, 1.0], steps)


def test_b_dependence_on_learning_rate(seed_diagonal):
    s = seed_diagonal
    # 0.75 eta_opt: smooth convergence (no coordinate changes sign, loss strictly decreasing)
    lr, tr = _gd(s, 0.75, 80)
    assert lr == pytest.approx(0.09375)
    assert np.all(tr.points > 0) and np.all(np.diff(tr.points, axis=0) < 0)
    assert np.all(np.diff(tr.losses[:25]) < 0)  # (later the loss rounds to its minimum, 6)
    assert np.max(np.abs(tr.final_point)) < 1e-10
    # 1.0 eta_opt: one-step convergence along lambda_max (z), the others keep contracting
    lr, tr = _gd(s, 1.0, 80)
    assert tr.points[1, 2] == 0.0 and np.all(tr.points[1:, 2] == 0.0)
    assert tr.points[1, 0] != 0 and tr.points[1, 1] != 0
    assert np.max(np.abs(tr.final_point)) < 1e-10
    # 1.5 eta_opt: oscillating convergence along z: z_t = (-1/2)^t
    lr, tr = _gd(s, 1.5, 80)
    z = tr.points[:, 2]
    assert np.all(np.sign(z[1:]) == -np.sign(z[:-1]))
    np.testing.assert_allclose(z[:20], (-0.5) ** np.arange(20), rtol=1e-12)
    assert np.max(np.abs(tr.final_point)) < 1e-10
    # 2.0 eta_opt: a 2-cycle along z (z_t = (-1)^t), the loss settles at 4 + 6 = 10
    lr, tr = _gd(s, 2.0, 80)
    z = tr.points[:, 2]
    np.testing.assert_allclose(z, (-1.0) ** np.arange(len(z)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr.points[-1], tr.points[-3], atol=1e-12)
    assert tr.status != "diverged" and tr.final_loss == pytest.approx(10.0, abs=1e-9)
    # 2.1 eta_opt: divergence, |z_t| = 1.1^t
    lr, tr = _gd(s, 2.1, 400)
    z = tr.points[:30, 2]
    np.testing.assert_allclose(np.abs(z), 1.1 ** np.arange(30), rtol=1e-9)
    assert tr.status == "diverged"


# =============================================================================================
# C. Regularized optima through the Hessian
# =============================================================================================
def test_c_l2_seed_saddle_has_no_minimizer():
    a = analyze(load_surface("seed_saddle"), l2=0.1)
    assert a.minimum is None and a.bounded_below is False
    (p,) = a.stationary_points
    assert p.kind == "saddle"
    np.testing.assert_allclose(p.hessian, [[6, 6], [6, 2]], atol=1e-12)
    np.testing.assert_allclose(p.eigenvalues, [-2.324555, 10.324555], atol=TOL)
    l2 = a.regularization["l2"]
    assert l2["positive_definite"] is False and l2["optimum"] is None
    np.testing.assert_allclose(l2["regularized_eigenvalues"], [-2.224555, 10.424555], atol=TOL)
    assert "no minimizer" in l2["note"]
    assert any("(0, 0)" in e and "saddle" in e for e in a.errata)


def test_c_l1_seed_l1():
    s = load_surface("seed_l1")
    l1 = analyze(s, l1=0.1).regularization["l1"]
    np.testing.assert_allclose(l1["unregularized_optimum"], [1, 0], atol=1e-12)
    np.testing.assert_allclose(l1["optimum"], [0.983333, 0], atol=TOL)
    assert l1["exact"] is True
    # it is the minimizer of the L1-regularized surface itself (check on a small grid)
    r = s.regularized(l1=0.1)
    w = np.asarray(l1["optimum"])
    grid = w + np.stack(
        np.meshgrid(np.linspace(-1e-3, 1e-3, 21), np.linspace(-1e-3, 1e-3, 21)), -1
    ).reshape(-1, 2)
    assert r.f(w) <= np.min(r.f(grid)) + 1e-15


def test_c_l2_shrink_factor_formula_random_quadratic():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    lam = np.array([0.05, 0.7, 4.0])
    A = Q @ np.diag(lam) @ Q.T
    A = (A + A.T) / 2
    b = rng.standard_normal(3)
    s = load_surface("quadratic", A=A.tolist(), b=b.tolist())
    alpha = 0.5
    l2 = analyze(s, l2=alpha).regularization["l2"]
    w_star = np.linalg.solve(A, -b)
    direct = np.linalg.solve(A + alpha * np.eye(3), A @ w_star)  # (H + a I)^-1 H w*
    np.testing.assert_allclose(l2["optimum"], direct, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(l2["shrink_factors"], lam / (lam + alpha), rtol=1e-8)
    # and it is the minimum of the L2-regularized surface
    np.testing.assert_allclose(
        analyze(s.regularized(l2=alpha)).minimum.point, l2["optimum"], rtol=1e-8, atol=1e-12
    )


# =============================================================================================
# D. Single steps on small networks (expression surfaces; ReLU as Max(0, .))
# =============================================================================================
# The same text is in docs/analysis.md for configs.
NET_VARS = ["w11", "w12", "w21", "w22", "w31", "w32"]
NET_W = [0.25, 0.75, 0.75, 0.25, 0.67, 0.33]
NET_DATA = {"x1": 1, "x2": 1, "d": 0}
HIDDEN = "w31*Max(0, w11*x1 + w12*x2) + w32*Max(0, w21*x1 + w22*x2)"
RELU_SQUARED = f"(d - Max(0, {HIDDEN}))**2/2"
SIGMOID_BCE = f"-d*log(sigmoid({HIDDEN})) - (1 - d)*log(1 - sigmoid({HIDDEN}))"
SOFTMAX_VARS = ["w11", "w12", "w21", "w22"]
SOFTMAX_DATA = {"h1": 1, "h2": 0, "d1": 0, "d2": 1}
SOFTMAX_CE = (
    "-d1*log(exp(w11*h1 + w12*h2)/(exp(w11*h1 + w12*h2) + exp(w21*h1 + w22*h2)))"
    " - d2*log(exp(w21*h1 + w22*h2)/(exp(w11*h1 + w12*h2) + exp(w21*h1 + w22*h2)))"
)
TWO_SIGMOIDS = "-d1*log(sigmoid(w11*h1 + w12*h2)) - d2*log(sigmoid(w21*h1 + w22*h2))"
SOFTMAX_W = [1.0, 0.0, 0.0, 0.0]


def _step(text, variables, params, w, lr=0.1):
    s = Surface.from_expression(text, variables, params, name="net")
    return s, explain_step(s, make_optimizer("gd", lr=lr), w)


def test_d_relu_squared_error():
    _, e = _step(RELU_SQUARED, NET_VARS, NET_DATA, NET_W)
    new = dict(zip(NET_VARS, e.new_point, strict=True))
    assert new["w31"] == pytest.approx(0.57, abs=TOL)
    assert new["w12"] == pytest.approx(0.683, abs=TOL)  # 0.75 - 0.1 * 0.67


def test_d_sigmoid_output_bce():
    _, e = _step(SIGMOID_BCE, NET_VARS, NET_DATA, NET_W)
    assert dict(zip(NET_VARS, e.new_point, strict=True))["w31"] == pytest.approx(0.596894, abs=TOL)


def test_d_softmax_cross_entropy():
    s, e = _step(SOFTMAX_CE, SOFTMAX_VARS, SOFTMAX_DATA, SOFTMAX_W)
    assert float(s.f(SOFTMAX_W)) == pytest.approx(1.313262, abs=TOL)  # log(1 + e)
    delta = e.new_point - np.asarray(SOFTMAX_W)
    assert delta[0] == pytest.approx(-0.0731059, abs=TOL)


def test_d_two_independent_sigmoids():
    s, e = _step(TWO_SIGMOIDS, SOFTMAX_VARS, SOFTMAX_DATA, SOFTMAX_W)
    assert s.grad(SOFTMAX_W)[0] == 0.0
    assert e.new_point[0] == pytest.approx(1.0, abs=1e-12)


# =============================================================================================
# E. Gradient steps and effective learning rates
# =============================================================================================
def test_e_gradient_ascent_on_xy():
    s = load_surface("xy")
    x = [2.96, -1.52]
    assert float(s.f(x)) == pytest.approx(-4.4992, abs=TOL)
    for name in ("gd", "sgd"):
        e = explain_step(s, make_optimizer(name, lr=0.2, maximize=True), x)
        np.testing.assert_allclose(e.new_point, [2.656, -0.928], atol=TOL)


@pytest.fixture(scope="module")
def ramp():
    """f(x) = max(0, x): gradient 1 at x > 0 and 0 at x < 0 (1 at step 1, 0 at step 2)."""
    return Surface.from_expression("Max(0, x)", ["x"], name="ramp")


def test_e_adam_effective_lr(ramp):
    opt = make_optimizer("adam", lr=1.0, betas=(0.9, 0.999))
    e1 = explain_step(ramp, opt, [1e-3])
    assert e1.quantities["grad"][0] == 1.0
    # the notes' effective lr is Adam's own factor lr/(sqrt(v_hat) + eps): lr_factor
    assert float(np.ravel(e1.lr_factor)[0]) == pytest.approx(1.0, abs=TOL)
    # the step per unit gradient: lr m_hat/(sqrt(v_hat) + eps)/g = 1/(1 + 1e-8) at step 1
    assert float(np.ravel(e1.effective_lr)[0]) == pytest.approx(1.0, abs=TOL)
    e2 = explain_step(ramp, opt, e1.new_point, state=e1.state, t=2)
    assert e2.quantities["grad"][0] == 0.0
    assert float(np.ravel(e2.lr_factor)[0]) == pytest.approx(1.414567, abs=TOL)
    assert np.isnan(np.ravel(e2.effective_lr)[0])  # g = 0: no step per unit gradient
    tr = run(ramp, opt, [1e-3], 2)
    # the notes' effective lr is Adam's own factor lr/(sqrt(v_hat) + eps): lr_factor
    np.testing.assert_allclose(tr.lr_factor[:, 0], [1.0, 1.414567], atol=TOL)
    # the step per unit gradient: lr * m_hat/sqrt(v_hat) / g = 1 at step 1 (m_hat = g,
    # v_hat = g^2, g = 1); none at step 2, where the gradient is 0
    assert tr.effective_lr[0, 0] == pytest.approx(1.0, abs=TOL)
    assert np.isnan(tr.effective_lr[1, 0])


def test_e_adamax_lecture_effective_lr(ramp):
    opt = make_optimizer("adamax", lr=1.0, betas=(0.9, 0.999), variant="lecture")
    tr = run(ramp, opt, [1e-3], 2)
    assert tr.points[1, 0] < 0  # the gradient is 0 at the second step
    # the notes' effective lr is AdaMax's own factor lr/u: lr_factor
    np.testing.assert_allclose(tr.lr_factor[:, 0], [1.0, 1.001001], atol=TOL)
    assert tr.effective_lr[0, 0] == pytest.approx(1.0, abs=TOL)  # m_hat/u = g/|g|, g = 1
    assert np.isnan(tr.effective_lr[1, 0])
