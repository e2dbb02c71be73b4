"""The effective learning rate: the step taken per unit gradient, -Δx_i / g_i(x_t).

Closed forms for gradient descent, heavy ball, Newton, Rprop and the line searches; nan
where g_i = 0; the mini-batch gradient in stochastic runs; the optimizer's own factor kept
as ``lr_factor`` (worked problem E lives in tests/test_worked_problems.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import optiviz
from optiviz.engine import run
from optiviz.engine.effective import step_per_unit_gradient
from optiviz.optimizers import make_optimizer

EPS = np.finfo(float).eps


def diag_quadratic(a: float, b: float):
    """f = (a x^2 + b y^2) / 2: gradient (a x, b y), Hessian diag(a, b)."""
    return optiviz.Surface.from_expression(f"({a}*x**2 + {b}*y**2)/2", variables=["x", "y"])


def grads(surface, points):
    return surface.grad(points, check=False)


def test_step_per_unit_gradient_formula_and_zero_gradient():
    before = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, np.inf]])
    after = np.array([[0.5, 2.0, 3.0], [0.0, 2.0, 1.0]])
    g = np.array([[2.0, 0.0, -4.0], [0.0, 0.5, 1.0]])
    with np.errstate(all="ignore"):
        e = step_per_unit_gradient(before, after, g)
    # -(0.5 - 1)/2 = 0.25; g = 0 -> nan (a 0/0 with no step, or a step with no gradient);
    # no step with a gradient -> 0; a move against the gradient is negative; inf stays IEEE
    np.testing.assert_array_equal(e, [[0.25, np.nan, 0.0], [np.nan, -2.0, np.inf]])
    out = g.copy()
    with np.errstate(all="ignore"):
        assert step_per_unit_gradient(before, after, out, out=out) is out
    np.testing.assert_array_equal(out, e)


def test_gd_effective_lr_is_lr_exactly_and_nan_where_the_gradient_is_zero():
    # f = (x^2 + 4 y^2)/2, lr = 1/8 from (1, 0): x_t = (7/8)^t and every product and
    # difference is exact in binary (3 more bits per step), so -Δx/g = lr exactly; y stays 0
    s = diag_quadratic(1, 4)
    for opt in (make_optimizer("gd", lr=0.125), make_optimizer("gd", lr=[0.125, 0.125])):
        tr = run(s, opt, [1.0, 0.0], 12)
        for one in tr.runs():
            np.testing.assert_array_equal(one.points[:, 0], 0.875 ** np.arange(13))
            assert np.all(one.effective_lr[:, 0] == 0.125)
            assert np.isnan(one.effective_lr[:, 1]).all()  # g_y = 0 at every iterate
            assert np.all(one.lr_factor == 0.125)


def test_heavy_ball_second_step_from_rest():
    # v1 = g1, x1 = x0 - lr g1; v2 = beta g1 + g2, x2 = x1 - lr (beta g1 + g2), so
    # -Δx2 / g2 = lr (beta g1 + g2) / g2 = lr (1 + beta g1 / g2) per coordinate, while the
    # heavy ball's own factor (lr_factor) is lr at every step
    lr, beta = 0.05, 0.9
    s = diag_quadratic(3, 0.5)
    x0 = np.array([1.0, -2.0])
    tr = run(s, make_optimizer("momentum", lr=lr, momentum=beta), x0, 2)
    g1 = np.array([3.0 * x0[0], 0.5 * x0[1]])
    x1 = x0 - lr * g1
    g2 = np.array([3.0 * x1[0], 0.5 * x1[1]])
    np.testing.assert_allclose(tr.effective_lr[0], [lr, lr], rtol=1e-14)
    np.testing.assert_allclose(tr.effective_lr[1], lr * (1 + beta * g1 / g2), rtol=1e-13)
    assert np.all(tr.lr_factor == lr)


def test_newton_on_a_diagonal_quadratic_is_one_over_the_curvature():
    # d = H^-1 g = (x, y): a damped step x <- x - gamma d has -Δx/g = gamma / a, gamma / b
    # at every step (g never vanishes: each step halves x and y)
    a, b, gamma = 4.0, 0.5, 0.5
    s = diag_quadratic(a, b)
    tr = run(s, make_optimizer("newton", lr=gamma), [1.0, 2.0], 6)
    np.testing.assert_allclose(tr.effective_lr[:, 0], gamma / a, rtol=1e-14)
    np.testing.assert_allclose(tr.effective_lr[:, 1], gamma / b, rtol=1e-14)
    # the full step lands on the minimum: 1/a and 1/b, then no gradient to measure by
    full = run(s, make_optimizer("newton", lr=1.0), [1.0, 2.0], 3)
    np.testing.assert_allclose(full.effective_lr[0], [1 / a, 1 / b], rtol=1e-14)
    np.testing.assert_array_equal(full.points[1], [0.0, 0.0])
    assert np.isnan(full.effective_lr[1:]).all()


def test_rprop_is_step_size_over_gradient_magnitude():
    # torch Rprop moves each coordinate by its step size s against the gradient's sign,
    # so -Δx/g = s/|g|; where the sign flipped it does not move: 0 (g != 0)
    s = diag_quadratic(1, 10)
    tr = run(s, make_optimizer("rprop", lr=0.3), [5.0, 1.0], 40)
    g = grads(s, tr.points[:-1])
    g_prev = np.vstack([np.zeros((1, 2)), g[:-1]])
    flipped = g_prev * g < 0
    assert flipped.any() and (~flipped).any()
    moved = ~flipped
    np.testing.assert_allclose(
        tr.effective_lr[moved], (tr.lr_factor / np.abs(g))[moved], rtol=1e-12
    )
    assert np.all(tr.effective_lr[flipped] == 0)
    # lecture variant: lr_factor is |d| = |Δx|, so -Δx/g = |Δx| / |g| where it moves downhill
    lec = run(s, make_optimizer("rprop", lr=0.3, variant="lecture"), [5.0, 1.0], 3)
    np.testing.assert_allclose(np.abs(lec.effective_lr[0]), 0.3 / np.abs(g[0]), rtol=1e-12)


@pytest.mark.parametrize("name", ["line_search", "armijo"])
def test_line_searches_move_along_minus_g(name):
    # both step along d = -g with a step length alpha (lr_factor): -Δx/g = alpha on every
    # coordinate
    s = diag_quadratic(3, 1)
    tr = run(s, make_optimizer(name), [1.0, 1.0], 5)
    ok = ~np.isnan(tr.effective_lr)
    assert ok[0].all()
    np.testing.assert_allclose(tr.effective_lr[ok], tr.lr_factor[ok], rtol=1e-9)


def test_stochastic_runs_use_the_mini_batch_gradient():
    data = optiviz.data
    s = data.linear_regression(data.make_linear(n=60, dim=2, seed=3))
    x0 = np.zeros(s.n)

    def assert_lr_per_mini_batch_gradient(tr, lr):
        # SGD's step is -lr g_mb: -Δx/g_mb = lr up to the rounding of the iterates
        batches = s.epoch_batches(6, seed=5)
        g_mb = np.array([s.grad(p, batch=next(batches)) for p in tr.points[:-1]])
        bound = 2 * EPS * (np.abs(tr.points[:-1]) + np.abs(tr.points[1:])) / np.abs(g_mb)
        assert np.all(np.abs(tr.effective_lr - lr) <= bound + EPS * lr)

    tr = run(s, make_optimizer("sgd", lr=0.05), x0, 30, batch_size=6, seed=5)
    assert_lr_per_mini_batch_gradient(tr, 0.05)
    # and not the full-batch gradient: measured by it, the steps are not lr
    full = step_per_unit_gradient(tr.points[:-1], tr.points[1:], grads(s, tr.points[:-1]))
    assert np.abs(full - 0.05).max() > 1e-3
    batched = run(s, make_optimizer("sgd", lr=[0.05, 0.01]), x0, 30, batch_size=6, seed=5)
    assert_lr_per_mini_batch_gradient(batched.run(0), 0.05)
    assert_lr_per_mini_batch_gradient(batched.run(1), 0.01)


def test_record_path_keeps_neither_rate_and_csv_keeps_both(tmp_path):
    s = diag_quadratic(1, 2)
    path = run(s, make_optimizer("adam", lr=0.1), [1.0, 1.0], 5, record="path")
    assert path.effective_lr is None and path.lr_factor is None and path.points is not None
    tr = run(s, make_optimizer("adam", lr=0.1), [1.0, 1.0], 5)
    assert tr.lr_factor_name == type(make_optimizer("adam")).lr_factor_name
    tr.to_csv(tmp_path / "t.csv")
    back = optiviz.Trajectory.from_csv(tmp_path / "t.csv")
    np.testing.assert_array_equal(back.effective_lr, tr.effective_lr)
    np.testing.assert_array_equal(back.lr_factor, tr.lr_factor)


# -- the figure ---------------------------------------------------------------------------
def test_effective_lr_figure_quantities_and_ax():
    from matplotlib.figure import Figure

    from optiviz import plotting

    rosen = optiviz.Surface.from_expression("(1 - x)**2 + 100*(y - x**2)**2", ["x", "y"])
    runs = [
        run(rosen, make_optimizer("momentum", lr=1e-3, momentum=0.9), [-1.2, 1.0], 40),
        run(rosen, make_optimizer("rprop", lr=1e-3), [-1.2, 1.0], 40),
    ]
    fig = plotting.effective_lr(runs)
    assert "-\\Delta x_i / g_i" in fig.axes[0].get_ylabel()
    # the family factors on request, labelled as such: the axis and the title name them
    fig = plotting.effective_lr(runs, quantity="lr_factor")
    assert fig.axes[0].get_ylabel() == "optimizer's own lr factor"
    sup = fig.get_suptitle().replace("\n", " ")
    for tr in runs:
        assert type(make_optimizer(tr.optimizer)).lr_factor_name[:12] in sup
    # the heavy ball's factor is its lr at every step (its step per unit gradient is not)
    assert all(np.allclose(line.get_ydata(), 1e-3) for line in fig.axes[0].get_lines())
    assert not np.allclose(runs[0].effective_lr[5:], 1e-3)
    with pytest.raises(ValueError, match="quantity"):
        plotting.effective_lr(runs, quantity="lr")
    # ax=: drawn into the given Axes, whose Figure is returned
    host = Figure()
    ax = host.subplots()
    assert plotting.effective_lr(runs, ax=ax) is host
    # one curve per run and coordinate (markers for values with no finite neighbour aside)
    curves = [ln for ln in ax.get_lines() if ln.get_linestyle() != "None"]
    assert len(curves) == 4 and ax.get_yscale() == "log"
