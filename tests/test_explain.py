"""The one-step explainer: every optimizer of the registry, arithmetic renderings, no aliasing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from optiviz.engine import run
from optiviz.errors import OptimizerError, SurfaceError
from optiviz.explain import explain_step, fmt_value
from optiviz.optimizers import available, make_optimizer
from optiviz.surface import Surface


@pytest.fixture(scope="module")
def surface():
    w1, w2 = sp.symbols("w1 w2", real=True)
    expr = sp.Rational(1, 20) + (w1 - 3) ** 2 / 4 + (w2 - 4) ** 2 / 9 - (w1 - 3) * (w2 - 4) / 6
    return Surface.from_sympy(expr, [w1, w2], name="corr")


@pytest.mark.parametrize("name", available())
def test_every_optimizer_explains_one_engine_step(surface, name):
    opt = make_optimizer(name)
    x = np.array([1.5, 2.0])
    e = explain_step(surface, opt, x)
    tr = run(surface, opt, x, 1)
    np.testing.assert_allclose(e.new_point, tr.points[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(x, [1.5, 2.0])  # input not mutated
    keys = list(e.quantities)
    assert keys[0] == "w(t)" and keys[-2] == "w(t+1)" and "grad" in keys
    for key in opt.quantities:
        if key in e.state and e.state[key] is not None:
            assert key in e.quantities
    text = e.render()
    assert f"{opt.name}" in text and "w(t+1)" in text
    assert e.render(equations=True).count("\n") > text.count("\n")
    json.dumps(e.to_dict(), allow_nan=False)


@pytest.mark.parametrize("name", available())
def test_every_optimizer_with_a_history(surface, name):
    opt = make_optimizer(name, variant="lecture") if name == "rprop" else make_optimizer(name)
    e = explain_step(surface, opt, [1.5, 2.0], [1.0, 1.0])
    tr = run(surface, opt, [1.5, 2.0], 1, x_prev=[1.0, 1.0])
    np.testing.assert_allclose(e.new_point, tr.points[1], rtol=1e-12, atol=1e-15)
    assert "w(t-1)" in e.render()


def test_gd_arithmetic(surface):
    e = explain_step(surface, make_optimizer("gd", lr=0.3), [1.5, 2.0])
    assert (
        "w(t+1) = w(t) - lr * grad f = (1.5, 2) - 0.3 * (-0.416667, -0.194444) = (1.625, 2.05833)"
    ) in e.render()
    assert e.quantities["f(w(t))"] == pytest.approx(float(surface.f([1.5, 2.0])))
    assert e.evaluations["n_grad"] == 1


def test_before_values_are_shown(surface):
    e = explain_step(
        surface, make_optimizer("momentum", lr=0.3, momentum=0.9), [1.5, 2.0], [1.0, 1.0]
    )
    np.testing.assert_allclose(e.before["v"], [-0.5 / 0.3, -1 / 0.3])
    text = e.render()
    assert "v = momentum * v + g = 0.9 * (-1.66667, -3.33333)" in text
    assert "0.9 * (0.5, 1) = (2.075, 2.95833)" in text


def test_continue_from_state(surface):
    opt = make_optimizer("adam", lr=0.1)
    e1 = explain_step(surface, opt, [1.5, 2.0])
    e2 = explain_step(surface, opt, e1.new_point, state=e1.state, t=2)
    tr = run(surface, opt, [1.5, 2.0], 2)
    np.testing.assert_allclose(e2.new_point, tr.points[2], rtol=1e-12)
    assert e2.t == 2 and "t = 2" in e2.render()


def test_errors(surface):
    with pytest.raises(OptimizerError, match="scalars"):
        explain_step(surface, make_optimizer("gd", lr=[0.1, 0.2]), [1.5, 2.0])
    with pytest.raises(SurfaceError, match="2 coordinates"):
        explain_step(surface, make_optimizer("gd"), [1.0, 2.0, 3.0])


def test_fmt_value():
    assert fmt_value(0.3) == "0.3"
    assert fmt_value(np.array([1.5, 2.0])) == "(1.5, 2)"
    assert fmt_value(np.array([[1.5, -0.0]])) == "(1.5, 0)"
    assert fmt_value(np.array([True, False])) == "(True, False)"
    assert fmt_value(None) == "none"


def test_sgd_nesterov_is_listed_not_rendered_as_heavy_ball():
    # torch's Nesterov form steps along d = g + mu*b, not along b: the heavy-ball arithmetic
    # line would print an equation whose two sides differ ((2.075, 2.958) vs (2.1425, 2.921)).
    from optiviz.library import load_surface

    s = load_surface("seed_quadratic")
    opt = make_optimizer("sgd", lr=0.3, momentum=0.9, nesterov=True)
    e = explain_step(s, opt, [1.5, 2.0], x_prev=[1.0, 1.0])
    text = e.render()
    assert "heavy ball" not in text and "direction d" in text
    # b = (x_prev - x)/lr = (-5/3, -10/3); b <- 0.9 b + g; d = g + 0.9 b; w - 0.3 d
    g = np.array([-5 / 12, -7 / 36])
    b = 0.9 * np.array([-5 / 3, -10 / 3]) + g
    np.testing.assert_allclose(e.new_point, [1.5, 2.0] - 0.3 * (g + 0.9 * b), rtol=1e-14)
