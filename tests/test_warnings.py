"""No RuntimeWarning escapes at the extremes of the float range (issue 14).

Each test runs with ``warnings.simplefilter("error")``: a warning would fail it. Windows of
[-1e308, 1e308] are 2e308 wide (beyond the largest float), points of 1e308 overflow every
square, and data points of 1e308 make a least-squares minimum value inf.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from optiviz import analyze, explain_step, make_optimizer, run
from optiviz.errors import SurfaceError
from optiviz.surface import Surface

FAR = [-1e308, 1e308]


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(
    "text, method",
    [
        ("(1 - x)**2 + 100*(y - x**2)**2", "symbolic"),
        ("x**4 - x**2 + y**2", "symbolic"),
        ("exp(x) + y**2 - x", "numeric"),  # the starts are spread over 2e308
    ],
)
@pytest.mark.parametrize("window", [FAR, [FAR, [0.0, 1.0]]])
def test_the_stationary_search_on_a_window_wider_than_the_float_range(text, method, window):
    # once "overflow encountered in subtract" in analysis.stationary (hi - lo and the
    # window's diagonal, on the symbolic path and in the numeric starts). What is found
    # there is not checked: points within 1e-14 of the window's span (1e294) are snapped
    # to 0 by the analysis (reported to its owner).
    s = Surface.from_expression(text, ["x", "y"], window=window)
    a = analyze(s, time_budget=0.5, n_starts=16)
    assert a.method == method
    assert all(np.all(np.isfinite(p.point)) for p in a.stationary_points)


def test_the_quadratic_path_on_a_window_wider_than_the_float_range():
    # a quadratic's stationary point is a linear solve: (0, 0) whatever the window
    s = Surface.from_expression("x**2 + 3*y**2", ["x", "y"], window=FAR)
    a = analyze(s)
    assert [p.point.tolist() for p in a.stationary_points] == [[0.0, 0.0]]


@pytest.mark.parametrize("name", ["gd", "momentum", "adam", "adagrad", "newton"])
def test_explain_step_at_1e308_gives_non_finite_values(name):
    # grad of x^2 + 3 y^2 at (1e308, 1e308) is (2e308, 6e308): both overflow to inf, and so
    # does lr * g (or g / sqrt(g^2) = inf / inf, H^-1 g): the step is not finite
    s = Surface.from_expression("x**2 + 3*y**2", ["x", "y"])
    e = explain_step(s, make_optimizer(name, lr=1e-3), [1e308, 1e308])
    assert np.isinf(e.gradient).all()
    assert not np.all(np.isfinite(e.new_point))


def test_explain_step_of_rprop_at_1e308_uses_the_sign_only():
    # Rprop steps by lr * sign(g): 1e308 - 0.001 rounds to 1e308
    s = Surface.from_expression("x**2 + 3*y**2", ["x", "y"])
    e = explain_step(s, make_optimizer("rprop", lr=1e-3), [1e308, 1e308])
    assert np.isinf(e.gradient).all() and e.new_point.tolist() == [1e308, 1e308]


def test_analyze_at_1e308_is_refused_with_our_error():
    s = Surface.from_expression("x**2 + 3*y**2", ["x", "y"])
    with pytest.raises(
        SurfaceError, match=r"gradient or Hessian .* is not finite at \(1e\+308, 1e\+308\)"
    ):
        analyze(s, at=[1e308, 1e308])
    # at (1e200, -1e200) the gradient (2e200, -6e200) and the Hessian diag(2, 6) are finite
    # (the value, 4e400, is not): the point is analysed
    a = analyze(s, at=[1e200, -1e200])
    np.testing.assert_allclose(a.at.eigenvalues, [2.0, 6.0])


def test_suboptimality_of_an_inf_loss_against_an_inf_minimum_is_nan(tmp_path):
    # data points of 1e308: the least-squares minimum value overflows to inf, and so does
    # the loss; inf - inf is undefined (nan), once with "invalid value in subtract"
    from optiviz.config import load_config

    p = tmp_path / "big.yaml"
    p.write_text(
        "name: big\n"
        "surface:\n"
        "  data: linear\n"
        "  bias: false\n"
        "  variables: [w1, w2]\n"
        "  dataset:\n"
        "    features: [a, b]\n"
        "    points: [[1.0e+308, 0.0, 1.0e+308], [0.0, 1.0, -1.0e+308], [1.0, 1.0, 1.0e+308]]\n"
        "start: [0.0, 0.0]\n"
        "steps: 3\n"
        "optimizers: [{name: gd, lr: 0.1}]\n"
        "figures: []\n",
        encoding="utf-8",
    )
    s = load_config(p).build_surface()
    assert s.f_min == math.inf
    t = run(s, make_optimizer("gd", lr=0.1), [0.0, 0.0], 3)
    assert t.final_loss == math.inf
    assert math.isnan(t.final_suboptimality)
    assert np.isnan(t.suboptimality).all()
