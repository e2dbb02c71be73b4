"""Registry, validation, worked problems, identities, batching and robustness of the optimizers.

Expected values are stated next to each assertion with where they come from
(../shared/design/worked-problems.md sections A and E, or an exact identity).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from optiviz.errors import OptimizerError
from optiviz.optimizers import (
    REGISTRY,
    Oracle,
    available,
    describe,
    get_class,
    make_optimizer,
)

try:
    from test_optimizers_surfaces import Negated, ProblemA, Quadratic, Rosenbrock, Valley
except ImportError:  # tests imported as a package
    from tests.test_optimizers_surfaces import Negated, ProblemA, Quadratic, Rosenbrock, Valley

ALL = [
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "armijo",
    "gd",
    "line_search",
    "maxprop",
    "momentum",
    "nadam",
    "nesterov",
    "newton",
    "radam",
    "rmsprop",
    "rprop",
    "sgd",
]
#: every optimizer and variant, with hyperparameters that keep Rosenbrock runs bounded
VARIANTS = [
    ("gd", {"lr": 1e-3}),
    ("sgd", {"lr": 1e-3}),
    ("sgd", {"lr": 2e-4, "momentum": 0.9}),
    ("sgd", {"lr": 2e-4, "momentum": 0.9, "nesterov": True}),
    ("momentum", {"lr": 2e-4}),
    ("nesterov", {"lr": 2e-4}),
    ("adagrad", {"lr": 0.1}),
    ("adagrad", {"lr": 0.1, "eps_placement": "inside"}),
    ("rmsprop", {"lr": 1e-3}),
    ("rmsprop", {"lr": 1e-3, "centered": True, "momentum": 0.5}),
    ("adadelta", {}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "amsgrad": True}),
    ("adamw", {"lr": 0.01}),
    ("adamax", {"lr": 0.01}),
    ("adamax", {"lr": 0.01, "variant": "lecture"}),
    ("maxprop", {"lr": 0.005}),
    ("nadam", {"lr": 0.01}),
    ("radam", {"lr": 0.01}),
    ("rprop", {}),
    ("rprop", {"variant": "lecture"}),
    ("newton", {}),
    ("newton", {"hessian_modification": "abs"}),
    ("newton", {"hessian_modification": "levenberg"}),
    ("line_search", {}),
    ("armijo", {}),
]
VARIANT_IDS = [f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)]


def run(name, surf, x0, steps, x_prev=None, **hp):
    """Drive an optimizer like the engine does; returns the iterates and the last state."""
    opt = make_optimizer(name, **hp)
    oracle = Oracle(surf)
    x = np.array(x0, dtype=float)
    state = opt.init(x, oracle, None if x_prev is None else np.array(x_prev, dtype=float))
    xs = [x]
    for t in range(1, steps + 1):
        x, state = opt.step(x, oracle.grad(x), state, oracle, opt.lr, t)
        xs.append(x)
    return np.array(xs), state


# -- registry and validation ---------------------------------------------------------------


def test_available_lists_every_name_sorted():
    assert available() == ALL
    assert set(REGISTRY) == set(ALL)
    assert get_class("Adam") is get_class("adam")


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(OptimizerError, match="'adam'"):
        make_optimizer("adma")
    with pytest.raises(OptimizerError, match="Available optimizers"):
        get_class("no_such_thing")


def test_negative_lr_message_names_field_value_and_range():
    with pytest.raises(OptimizerError) as info:
        make_optimizer("sgd", lr=-1)
    msg = str(info.value)
    assert "'lr'" in msg and "-1" in msg and "[0, inf)" in msg


@pytest.mark.parametrize("name", ["adam", "adamw", "adamax", "nadam", "radam"])
def test_beta_of_one_is_refused(name):
    with pytest.raises(OptimizerError, match="betas"):
        make_optimizer(name, betas=(1.0, 0.999))
    with pytest.raises(OptimizerError, match="betas"):
        make_optimizer(name, betas=(0.9,))


def test_unknown_hyperparameter_suggests_the_nearest():
    with pytest.raises(OptimizerError, match="'momentum'"):
        make_optimizer("sgd", momentun=0.9)


def test_nesterov_needs_momentum_and_no_dampening():
    with pytest.raises(OptimizerError, match="nesterov"):
        make_optimizer("sgd", nesterov=True)
    with pytest.raises(OptimizerError, match="dampening"):
        make_optimizer("sgd", nesterov=True, momentum=0.9, dampening=0.1)
    make_optimizer("sgd", nesterov=True, momentum=0.9)  # fine


def test_other_cross_checks():
    with pytest.raises(OptimizerError, match="etas"):
        make_optimizer("rprop", etas=(1.2, 0.5))
    with pytest.raises(OptimizerError, match="step_sizes"):
        make_optimizer("rprop", step_sizes=(1.0, 0.1))
    with pytest.raises(OptimizerError, match="eps_placement"):
        make_optimizer("adam", eps_placement="middle")
    with pytest.raises(OptimizerError, match="hessian_modification"):
        make_optimizer("newton", hessian_modification="ab")
    with pytest.raises(OptimizerError, match="same length"):
        make_optimizer("adam", lr=[0.1, 0.2], eps=[1e-8, 1e-8, 1e-8])
    opt = make_optimizer("momentum", lr=0.0)
    with pytest.raises(OptimizerError, match="x_prev"):
        opt.init(np.zeros(2), Oracle(Quadratic()), np.ones(2))


@pytest.mark.parametrize("name", ALL)
def test_describe_has_equations_and_defaults(name):
    cls = get_class(name)
    text = describe(name)
    assert text.startswith(name)
    assert cls.equations.splitlines()[0] in text
    for line in cls.equations.splitlines():
        assert line.strip() in text
    table = text.split("\n\nUpdate:")[0].splitlines()[4:]  # the rows under the header
    rows = {line.split()[0]: line for line in table}
    for key, spec in cls.params.items():
        d = spec.default
        shown = (
            f"{d:g}"
            if isinstance(d, float) and not isinstance(d, bool)
            else "(" + ", ".join(f"{v:g}" for v in d) + ")"
            if isinstance(d, tuple)
            else repr(d)
        )
        assert key in rows, f"{key} has no row in describe({name!r})"
        assert shown in rows[key] and spec.describe_range() in rows[key]
    assert cls.equations in cls.__doc__  # @register puts the equations in the docstring


def test_describe_shows_torch_defaults():
    text = describe("adam")
    assert "0.001" in text and "(0.9, 0.999)" in text and "1e-08" in text
    assert "0.002" in describe("nadam") and "0.004" in describe("nadam")
    assert "(0.5, 1.2)" in describe("rprop") and "(1e-06, 50)" in describe("rprop")
    defaults = {k: s.default for k, s in get_class("rmsprop").params.items()}
    assert defaults["lr"] == 1e-2 and defaults["alpha"] == 0.99 and defaults["eps"] == 1e-8
    assert get_class("adagrad").params["eps"].default == 1e-10
    assert get_class("adadelta").params["lr"].default == 1.0
    assert get_class("adamw").params["weight_decay"].default == 1e-2
    assert get_class("sgd").params["lr"].default == 1e-3


def test_lecture_rprop_default_etas():
    assert make_optimizer("rprop", variant="lecture").hyper["etas"] == (0.6, 1.5)
    assert make_optimizer("rprop").hyper["etas"] == (0.5, 1.2)
    assert make_optimizer("rprop", variant="lecture", etas=(0.5, 2.0)).hyper["etas"] == (0.5, 2.0)


# -- worked problem A: one step from the history w(t−1) = (1, 1), w(t) = (1.5, 2) ----------

W_PREV = np.array([1.0, 1.0])
W_T = np.array([1.5, 2.0])


def _one_step(name, x_prev=W_PREV, **hp):
    xs, state = run(name, ProblemA(), W_T, 1, x_prev=x_prev, **hp)
    return xs[1], state


def test_problem_a_gd():
    # w(t+1) = w(t) − 0.3 ∇E(w(t)), ∇E(1.5, 2) = (−5/12, −7/36): (1.625, 2.0583333...)
    x, _ = _one_step("gd", x_prev=None, lr=0.3)
    np.testing.assert_allclose(x, [1.625, 2.0 + 0.3 * 7.0 / 36.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(x, [1.625, 2.058333], atol=1e-6)


@pytest.mark.parametrize("name", ["momentum", "sgd"])
def test_problem_a_heavy_ball(name):
    # GD step + β (w(t) − w(t−1)) = (1.625 + 0.45, 2.058333 + 0.9) = (2.075, 2.958333)
    x, _ = _one_step(name, lr=0.3, momentum=0.9)
    np.testing.assert_allclose(x, [2.075, 2.0 + 0.3 * 7.0 / 36.0 + 0.9], atol=1e-12)
    np.testing.assert_allclose(x, [2.075, 2.958333], atol=1e-6)


def test_problem_a_nesterov():
    # look-ahead w(t) + 0.9 (0.5, 1) = (1.95, 2.9); ∇E there = (−0.341667, −0.069444);
    # w(t+1) = (1.95, 2.9) − 0.3 ∇E = (2.0525, 2.920833)
    x, state = _one_step("nesterov", lr=0.3, momentum=0.9)
    np.testing.assert_allclose(state["x_look"], [1.95, 2.9], atol=1e-12)
    np.testing.assert_allclose(x, [2.0525, 2.9 + 0.3 * 0.25 / 3.6], atol=1e-12)
    np.testing.assert_allclose(x, [2.0525, 2.920833], atol=1e-6)


def test_problem_a_lecture_rprop():
    # ∇E(w(t−1)) = (−0.5, −1/3), ∇E(w(t)) = (−5/12, −7/36): no sign change (the slide's
    # +0.4167 is a sign slip), so w(t+1) = w(t) + 1.5 (0.5, 1) = (2.25, 3.5)
    x, state = _one_step("rprop", variant="lecture")
    np.testing.assert_allclose(x, [2.25, 3.5], atol=1e-12)
    assert state["same_sign"].all()


def test_lecture_rprop_sign_change_goes_back():
    # with w(t−1) = (4, 1): ∇E1(w(t−1)) = 0.5 − (−3)/6 ... = +1 > 0 vs −5/12 < 0 -> change:
    # w1(t+1) = w1(t−1) + 0.6 (w1(t) − w1(t−1)) = 4 + 0.6 (1.5 − 4) = 2.5
    x, state = _one_step("rprop", x_prev=np.array([4.0, 1.0]), variant="lecture")
    g_prev = ProblemA().grad(np.array([4.0, 1.0]))
    assert g_prev[0] > 0 > ProblemA().grad(W_T)[0]
    np.testing.assert_allclose(x[0], 4.0 + 0.6 * (1.5 - 4.0), atol=1e-12)


def test_lecture_rprop_without_history_takes_a_sign_step():
    xs, state = run("rprop", ProblemA(), W_T, 1, variant="lecture", lr=0.1)
    np.testing.assert_allclose(xs[1], W_T + 0.1, atol=1e-15)  # both gradient entries < 0


# -- worked problem E: effective learning rates when the gradient vanishes ----------------


def _eff_lrs(name, **hp):
    opt = make_optimizer(name, lr=1.0, eps=0.0, **hp)
    x = np.zeros(1)
    state = opt.init(x, Oracle(Quadratic()))
    out = []
    for t, g in enumerate([1.0, 0.0], start=1):
        x, state = opt.step(x, np.array([g]), state, None, 1.0, t)
        out.append(float(np.asarray(state["eff_lr"])[0]))
    return out


def test_problem_e_adam_effective_lr():
    # v̂1 = 0.001/0.001 = 1 -> 1; v̂2 = 0.000999/(1 − 0.999²) = 0.49975 -> 1/√0.49975 = 1.414567
    eff = _eff_lrs("adam", betas=(0.9, 0.999))
    assert eff[0] == pytest.approx(1.0, abs=1e-12)
    assert eff[1] == pytest.approx(1.414567, abs=5e-7)
    assert eff[1] == pytest.approx(1 / np.sqrt(0.000999 / (1 - 0.999**2)), rel=1e-12)
    # eps inside the root (notes eq. 18) gives the same numbers with eps = 0
    assert _eff_lrs("adam", eps_placement="inside") == pytest.approx(eff, rel=1e-15)


@pytest.mark.parametrize("variant", ["lecture", "torch"])
def test_problem_e_adamax_effective_lr(variant):
    # v1 = max(0, |1|) = 1 -> 1; v2 = max(0.999·1, 0) = 0.999 -> 1/0.999 = 1.001001
    eff = _eff_lrs("adamax", variant=variant)
    assert eff[0] == pytest.approx(1.0, abs=1e-12)
    assert eff[1] == pytest.approx(1.001001, abs=5e-7)


def test_problem_e_gradient_ascent_step():
    # f = xy at (2.96, −1.52), ascent with η = 0.2: (2.96 + 0.2·(−1.52), −1.52 + 0.2·2.96)
    class XY:
        def grad(self, w, check=True):
            return np.stack([w[..., 1], w[..., 0]], -1)

    opt = make_optimizer("gd", lr=0.2, maximize=True)
    x = np.array([2.96, -1.52])
    x1, _ = opt.step(x, XY().grad(x), opt.init(x, None), None, 0.2, 1)
    np.testing.assert_allclose(x1, [2.656, -0.928], atol=1e-12)


# -- identities ----------------------------------------------------------------------------

X0 = np.array([-1.2, 1.0])


def test_momentum_zero_is_gd_exactly():
    ref, _ = run("gd", Rosenbrock(), X0, 200, lr=1e-3)
    a, _ = run("momentum", Rosenbrock(), X0, 200, lr=1e-3, momentum=0.0)
    b, _ = run("sgd", Rosenbrock(), X0, 200, lr=1e-3, momentum=0.0)
    np.testing.assert_array_equal(a, ref)
    np.testing.assert_array_equal(b, ref)


def test_sgd_momentum_equals_textbook_momentum():
    a, _ = run("sgd", Rosenbrock(), X0, 200, lr=2e-4, momentum=0.9)
    b, _ = run("momentum", Rosenbrock(), X0, 200, lr=2e-4, momentum=0.9)
    np.testing.assert_array_equal(a, b)
    # with a history too (the buffer starts at (x_prev − x0)/lr instead of g1)
    xp = X0 - [0.01, 0.02]
    a, _ = run("sgd", Rosenbrock(), X0, 50, x_prev=xp, lr=2e-4, momentum=0.9)
    b, _ = run("momentum", Rosenbrock(), X0, 50, x_prev=xp, lr=2e-4, momentum=0.9)
    np.testing.assert_array_equal(a, b)


def test_adam_with_beta1_zero_is_bias_corrected_rms_scaling():
    # β1 = 0: m̂ = g, so θ ← θ − lr g / (√v̂ + ε), v̂ = v/(1 − β2ᵗ)
    lr, b2, eps = 0.01, 0.99, 1e-8
    xs, _ = run("adam", Rosenbrock(), X0, 200, lr=lr, betas=(0.0, b2), eps=eps)
    surf, x, v = Rosenbrock(), X0.copy(), np.zeros(2)
    for t in range(1, 201):
        g = surf.grad(x)
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * g / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(xs[t], x, rtol=1e-13, atol=0)


def test_adamw_without_decay_is_adam_bitwise():
    for extra in ({}, {"amsgrad": True}, {"eps_placement": "inside"}):
        a, _ = run("adamw", Rosenbrock(), X0, 200, lr=0.01, weight_decay=0.0, **extra)
        b, _ = run("adam", Rosenbrock(), X0, 200, lr=0.01, **extra)
        np.testing.assert_array_equal(a, b)


def test_adamw_decay_is_decoupled():
    # one step from g = 0: Adam's update is 0, only θ(1 − lr λ) remains
    opt = make_optimizer("adamw", lr=0.1, weight_decay=0.5)
    x = np.array([2.0, -4.0])
    x1, _ = opt.step(x, np.zeros(2), opt.init(x, None), None, 0.1, 1)
    np.testing.assert_array_equal(x1, x * (1 - 0.1 * 0.5))


def test_rprop_never_moves_a_coordinate_on_a_sign_change():
    opt = make_optimizer("rprop", lr=0.05)
    surf = Rosenbrock()
    oracle = Oracle(surf)
    x = X0.copy()
    state = opt.init(x, oracle)
    changes = 0
    for t in range(1, 300):
        g = oracle.grad(x)
        flipped = g * state["prev"] < 0
        x_new, state = opt.step(x, g, state, oracle, opt.lr, t)
        np.testing.assert_array_equal(x_new[flipped], x[flipped])
        assert np.all(state["prev"][flipped] == 0)  # and the next step is neutral
        changes += flipped.sum()
        x = x_new
    assert changes > 10  # the property was exercised


@pytest.mark.parametrize("name", [n for n in ALL if "maximize" in get_class(n).params])
def test_maximize_on_negated_surface_retraces_minimize(name):
    hp = dict(dict(VARIANTS)[name]) if name in dict(VARIANTS) else {}
    a, _ = run(name, Rosenbrock(), X0, 100, **hp)
    b, _ = run(name, Negated(Rosenbrock()), X0, 100, maximize=True, **hp)
    np.testing.assert_array_equal(a, b)


def test_gd_on_quadratic_matches_closed_form():
    # x_t = x* + (I − ηA)^t (x0 − x*)
    surf, eta = Quadratic(), 0.1
    xs, _ = run("gd", surf, [2.0, -1.5], 50, lr=eta)
    M = np.eye(2) - eta * surf.A
    for t in (1, 10, 50):
        expect = surf.x_star + np.linalg.matrix_power(M, t) @ (np.array([2.0, -1.5]) - surf.x_star)
        np.testing.assert_allclose(xs[t], expect, rtol=1e-12)


def test_line_search_on_quadratic_uses_the_closed_form_step():
    surf = Quadratic()
    x = np.array([2.0, -1.5])
    g = surf.grad(x)
    xs, state = run("line_search", surf, x, 1)
    assert float(state["alpha"][0]) == pytest.approx(g @ g / (g @ surf.A @ g), rel=1e-14)


def test_armijo_accepts_the_first_sufficient_decrease():
    surf = Rosenbrock()
    opt = make_optimizer("armijo", lr=1.0, c=1e-4, shrink=0.5)
    x = X0.copy()
    g = surf.grad(x)
    _, state = opt.step(x, g, opt.init(x, None), Oracle(surf), 1.0, 1)
    alpha = float(state["alpha"][0])
    assert state["backtracks"][0] > 0
    assert surf.f(x - alpha * g) <= surf.f(x) - 1e-4 * alpha * (g @ g)
    assert surf.f(x - 2 * alpha * g) > surf.f(x) - 1e-4 * 2 * alpha * (g @ g)


def test_nesterov_counts_its_look_ahead_gradient():
    surf = Quadratic()
    opt = make_optimizer("nesterov", lr=0.05)
    oracle = Oracle(surf)
    x = np.array([2.0, -1.5])
    state = opt.init(x, oracle)
    for t in range(1, 11):
        g = oracle.grad(x)
        x, state = opt.step(x, g, state, oracle, opt.lr, t)
    # 10 engine gradients + 9 look-ahead gradients (the first look-ahead point is x itself)
    assert oracle.n_grad == 19


def test_newton_on_a_singular_hessian_is_non_finite_without_raising():
    for mode in ("none", "abs"):
        xs, state = run("newton", Valley(), [1.0, 1.0], 1, hessian_modification=mode)
        assert not np.all(np.isfinite(xs[1]))
    # Levenberg damping makes it solvable: x ← x − (H + δI)⁻¹ g, g = (2, 0)
    xs, _ = run("newton", Valley(), [1.0, 1.0], 1, hessian_modification="levenberg", damping=0.5)
    np.testing.assert_allclose(xs[1], [1.0 - 2.0 / 2.5, 1.0], atol=1e-15)
    # batched: only the singular run is non-finite
    opt = make_optimizer("newton")
    X = np.array([[1.0, 1.0], [2.0, 3.0]])

    class Mixed(Valley):
        def hess(self, w, check=True):
            H = super().hess(w)
            H[1] = np.eye(2)
            return H

    oracle = Oracle(Mixed())
    x1, _ = opt.step(X, oracle.grad(X), {}, oracle, 1.0, 1)
    assert not np.all(np.isfinite(x1[0]))
    np.testing.assert_array_equal(x1[1], [2.0 - 4.0, 3.0])


def test_newton_solves_a_quadratic_in_one_step():
    xs, _ = run("newton", Quadratic(), [2.0, -1.5], 1)
    np.testing.assert_allclose(xs[1], Quadratic().x_star, rtol=1e-14)


def test_newton_abs_descends_at_a_saddle():
    # f = x² − y² has H = diag(2, −2): plain Newton jumps to the saddle, |H| descends
    class Saddle:
        def grad(self, w, check=True):
            return np.stack([2 * w[..., 0], -2 * w[..., 1]], -1)

        def hess(self, w, check=True):
            return np.broadcast_to(np.diag([2.0, -2.0]), w.shape[:-1] + (2, 2)).copy()

    xs, _ = run("newton", Saddle(), [1.0, 0.5], 1)
    np.testing.assert_allclose(xs[1], [0.0, 0.0], atol=1e-15)
    xs, _ = run("newton", Saddle(), [1.0, 0.5], 1, hessian_modification="abs")
    np.testing.assert_allclose(xs[1], [0.0, 1.0], atol=1e-15)


# -- batching ------------------------------------------------------------------------------


def test_batched_adam_lr_equals_single_runs_bitwise():
    lrs = np.array([1e-3, 3e-3, 1e-2, 3e-2, 0.1])
    X = np.tile(X0, (5, 1))
    xs_b, _ = run("adam", Rosenbrock(), X, 200, lr=lrs)
    for r, lr in enumerate(lrs):
        xs_1, _ = run("adam", Rosenbrock(), X0, 200, lr=float(lr))
        np.testing.assert_array_equal(xs_b[:, r], xs_1)


@pytest.mark.parametrize("name, hp", VARIANTS, ids=VARIANT_IDS)
def test_batched_runs_equal_single_runs(name, hp):
    """Five runs stepped as one (R, n) array equal five single runs (different x0, and
    batched lr where the method has one)."""
    rng = np.random.default_rng(0)
    X = X0 + 0.1 * rng.standard_normal((5, 2))
    bhp = dict(hp)
    lrs = None
    if "lr" in get_class(name).params:
        base = hp.get("lr", get_class(name).params["lr"].default)
        lrs = base * np.linspace(0.5, 1.0, 5)
        bhp["lr"] = lrs
    xs_b, _ = run(name, Rosenbrock(), X, 60, **bhp)
    for r in range(5):
        shp = dict(hp)
        if lrs is not None:
            shp["lr"] = float(lrs[r])
        xs_1, _ = run(name, Rosenbrock(), X[r], 60, **shp)
        np.testing.assert_allclose(xs_b[:, r], xs_1, rtol=1e-14, atol=1e-14)


def test_batched_betas_and_momentum():
    b1 = np.array([0.0, 0.5, 0.9])
    X = np.tile(X0, (3, 1))
    xs_b, _ = run("adam", Rosenbrock(), X, 50, lr=0.01, betas=(b1, 0.999))
    for r in range(3):
        xs_1, _ = run("adam", Rosenbrock(), X0, 50, lr=0.01, betas=(float(b1[r]), 0.999))
        np.testing.assert_array_equal(xs_b[:, r], xs_1)
    # torch SGD skips the buffer where μ = 0 (matters with dampening)
    mu = np.array([0.0, 0.9])
    X = np.tile(X0, (2, 1))
    xs_b, _ = run("sgd", Rosenbrock(), X, 50, lr=2e-4, momentum=mu, dampening=0.5)
    for r in range(2):
        xs_1, _ = run("sgd", Rosenbrock(), X0, 50, lr=2e-4, momentum=float(mu[r]), dampening=0.5)
        np.testing.assert_array_equal(xs_b[:, r], xs_1)
    # RAdam with per-run β2 rectifies per run (β2 = 0.5: ρ∞ = 3, never rectified)
    b2 = np.array([0.5, 0.999])
    xs_b, _ = run("radam", Rosenbrock(), X, 50, lr=1e-3, betas=(0.9, b2))
    for r in range(2):
        xs_1, _ = run("radam", Rosenbrock(), X0, 50, lr=1e-3, betas=(0.9, float(b2[r])))
        np.testing.assert_array_equal(xs_b[:, r], xs_1)


def test_per_run_powers_round_as_python_floats():
    """β ** t of per-run β's equals Python's float power value by value (numpy's array
    power is SVML's on AVX-512 machines: it rounded 4% of these differently, measured)."""
    from optiviz.optimizers._util import PerRunPower

    rng = np.random.default_rng(1)
    b = rng.uniform(0.0, 1.0, (2000, 1))
    p = PerRunPower(b)
    for t in (1, 7, 100, 999):
        want = np.array([[float(v) ** t] for v in b[:, 0]])
        np.testing.assert_array_equal(p(t), want)
    np.testing.assert_array_equal(
        p.map(lambda v, t: 0.96 ** (t * v), 3), [[0.96 ** (3 * float(v))] for v in b[:, 0]]
    )
    assert PerRunPower(0.9)(10) == 0.9**10


@pytest.mark.parametrize("name", ["adam", "adamax", "nadam", "radam"])
def test_batched_betas_equal_single_runs_bitwise_when_chaotic(name):
    """Per-run (β₁, β₂) (and NAdam's ψ) at large learning rates, where Rosenbrock turns an
    ulp into a different path (a tuning's Sobol trials: Adam at lr 4.16, betas (0.70,
    0.30) once ended at 29.1 batched and 6186 alone): 16 runs stepped as one batch equal
    the 16 runs alone, bit for bit."""
    rng = np.random.default_rng(2)
    b1, b2 = rng.uniform(0.1, 0.99, 16), rng.uniform(0.3, 0.999, 16)
    lr = {"adamax": 0.2, "radam": 1e-3}.get(name, 0.5)
    if name == "radam":  # rectified after a few steps (ρ∞ > 5), not plain momentum at lr
        b2 = rng.uniform(0.9, 0.999, 16)
    extra = {"momentum_decay": rng.uniform(1e-3, 1e-2, 16)} if name == "nadam" else {}
    X = np.tile(X0, (16, 1))
    xs_b, _ = run(name, Rosenbrock(), X, 300, lr=lr, betas=(b1, b2), **extra)
    for r in range(16):
        one = {k: float(v[r]) for k, v in extra.items()}
        betas = (float(b1[r]), float(b2[r]))
        xs_1, _ = run(name, Rosenbrock(), X0, 300, lr=lr, betas=betas, **one)
        np.testing.assert_array_equal(xs_b[:, r], xs_1)


# -- robustness and the protocol ------------------------------------------------------------


@pytest.mark.parametrize("name, hp", VARIANTS, ids=VARIANT_IDS)
def test_started_at_the_minimum_stays_finite(name, hp):
    """g = 0 exactly at the start (quadratic with b = 0, minimum at the origin): 50 steps stay
    finite and no RuntimeWarning is raised (pytest turns them into errors)."""
    xs, _ = run(name, Quadratic(b=(0.0, 0.0)), [0.0, 0.0], 50, **hp)
    assert np.all(np.isfinite(xs))
    np.testing.assert_array_equal(xs[-1], [0.0, 0.0])


@pytest.mark.parametrize("name, hp", VARIANTS, ids=VARIANT_IDS)
def test_state_is_never_mutated_and_explains_every_quantity(name, hp):
    opt = make_optimizer(name, **hp)
    surf = Rosenbrock()
    oracle = Oracle(surf)
    x = X0.copy()
    state = opt.init(x, oracle)
    for t in range(1, 6):
        before = copy.deepcopy(state)
        x_before = x.copy()
        g = oracle.grad(x)
        x, new = opt.step(x, g, state, oracle, opt.lr, t)
        for key, value in before.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(state[key], value)
        assert np.array_equal(x_before, x_before)
        for key in opt.quantities:
            assert key in new, f"{name}: quantity {key!r} missing from the state"
        assert np.broadcast_shapes(np.shape(new["eff_lr"]), x.shape) == x.shape
        np.testing.assert_allclose(x_before - new["update"], x, rtol=1e-15, atol=1e-15)
        state = new


def test_adam_step_is_lean():
    """The single-run fast path: (n,) arrays in, (n,) arrays out (its time per step is a
    row of benchmarks/bench_optimizers.py)."""
    opt = make_optimizer("adam", lr=1e-3)
    x = np.array([0.3, -0.2])
    g = np.array([0.5, -1.0])
    state = opt.init(x, None)
    for t in range(1, 2001):
        x, state = opt.step(x, g, state, None, 1e-3, t)
    assert x.shape == (2,) and state["m"].shape == (2,) and state["v"].shape == (2,)
    assert all(np.ndim(v) == 0 or np.shape(v) == (2,) for v in state.values())


def test_adam_decoupled_weight_decay_is_adamw():
    # torch.optim.Adam(decoupled_weight_decay=True) is AdamW: theta <- theta(1 - lr*wd) first.
    import optiviz

    s = optiviz.load_surface("rosenbrock")
    a = optiviz.run(
        s,
        make_optimizer("adam", lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True),
        [-1.2, 1.0],
        200,
    )
    w = optiviz.run(s, make_optimizer("adamw", lr=1e-2, weight_decay=0.1), [-1.2, 1.0], 200)
    assert np.array_equal(a.points, w.points)


def test_centered_rmsprop_is_not_floored_like_torch():
    # v - gbar^2 >= 0 in exact arithmetic; on f = x^2 + 0.7 y the y-gradient is constant, so
    # v - gbar^2 is a difference of nearly equal numbers (the steps in y grow as it shrinks)
    # and rounding makes it negative at step 54: torch takes sqrt of it (nan, reported as
    # divergence); a floor at 0 would instead divide by eps and jump to a finite point.
    import optiviz

    s = optiviz.Surface.from_expression("x**2 + 0.7*y", ["x", "y"])
    opt = make_optimizer("rmsprop", lr=1e-3, alpha=0.5, centered=True)
    t = optiviz.run(s, opt, [1.0, 0.0], 300)
    # replay the steps: the first step whose centered variance v - gbar^2 is negative
    oracle = Oracle(s)
    x, state = np.array([1.0, 0.0]), opt.init(np.array([1.0, 0.0]), oracle)
    for k in range(1, 301):
        with np.errstate(invalid="ignore"):  # the sqrt of the negative variance: nan
            x, state = opt.step(x, s.grad(x), state, oracle, opt.lr, k)
        if np.any(state["square_avg"] - state["grad_avg"] ** 2 < 0):
            break
    assert 1 < k < 300
    # the run diverged exactly there: the first step with a non-finite recorded value
    finite = np.isfinite(t.points).all(axis=1) & np.isfinite(t.losses)
    assert t.status == "diverged" and t.diverged_at == k == int(np.argmin(finite))
    assert np.isnan(t.points[k, 1]) and finite[:k].all()


def test_every_family_module_is_found_and_registers_an_optimizer():
    # Adding an optimizer is one module in optiviz/optimizers/ (found by the package, not
    # listed by hand) plus its test: each family module registers at least one class.
    import pkgutil

    import optiviz.optimizers as pkg
    from optiviz.optimizers import REGISTRY

    families = {
        m.name
        for m in pkgutil.iter_modules(pkg.__path__)
        if not m.name.startswith("_") and m.name not in ("base", "linear")
    }
    registered = {cls.__module__.rsplit(".", 1)[-1] for cls in REGISTRY.values()}
    assert families == registered
