"""Surface transforms (Surface.transformed, surface: {transform: ...}): derivatives against
the chain rule and central differences, minima and windows mapped, the config, and
rotation invariance (GD and Newton are invariant; AdaGrad, RMSprop and Adam are not)."""

from __future__ import annotations

import numpy as np
import pytest

import optiviz
from optiviz.config import parse_config
from optiviz.errors import ConfigError, SurfaceError


def _rot(deg):
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "beale"])
def test_gradient_and_hessian_by_the_chain_rule_and_central_differences(name):
    f = optiviz.load_surface(name)
    deg, scale = 35.0, [2.0, 0.5]
    g = f.transformed(deg, scale)
    R, S = _rot(deg), np.diag(scale)
    A = R.T @ np.linalg.inv(S)  # x = A u
    rng = np.random.default_rng(0)
    U = rng.uniform(-1.5, 1.5, size=(20, 2))
    X = U @ A.T
    np.testing.assert_allclose(g.f(U), f.f(X), rtol=1e-12)
    # chain rule: grad g(u) = A^T grad f(x), Hess g(u) = A^T H(x) A
    np.testing.assert_allclose(g.grad(U), f.grad(X) @ A, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        g.hess(U), np.einsum("ji,rjk,kl->ril", A, f.hess(X), A), rtol=1e-10, atol=1e-9
    )
    h = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        fd = (g.f(U + e) - g.f(U - e)) / (2 * h)
        np.testing.assert_allclose(g.grad(U)[:, k], fd, rtol=1e-6, atol=1e-5)
        fdg = (g.grad(U + e) - g.grad(U - e)) / (2 * h)
        np.testing.assert_allclose(g.hess(U)[:, :, k], fdg, rtol=1e-6, atol=1e-4)


def test_minima_and_window_are_mapped():
    f = optiviz.load_surface("himmelblau")
    g = f.transformed(90, [1.0, 2.0])
    # u = S R x: R(90) (x, y) = (-y, x), then y doubled
    for m0, m1 in zip(f.minima, g.minima, strict=True):
        x, y = m0.point
        np.testing.assert_allclose(m1.point, [-y, 2 * x], atol=1e-12)
        assert m1.value == m0.value
        assert float(g.f(m1.point)) == pytest.approx(m0.value, abs=1e-9)
    (x0, x1), (y0, y1) = f.window
    np.testing.assert_allclose(g.window, [[-y1, -y0], [2 * x0, 2 * x1]], atol=1e-12)


def test_three_variables_need_a_plane():
    f = optiviz.Surface.from_expression("x**2 + 2*y**2 + 3*z**2", ["x", "y", "z"])
    with pytest.raises(SurfaceError, match="transform.plane"):
        f.transformed(30)
    g = f.transformed(90, plane=["y", "z"])
    # u = R x in the (y, z) plane: (x, y, z) -> (x, -z, y), so g(u) = u1^2 + 2 u3^2 + 3 u2^2
    u = np.array([0.3, 0.7, -1.1])
    assert float(g.f(u)) == pytest.approx(0.3**2 + 2 * 1.1**2 + 3 * 0.7**2, rel=1e-12)
    with pytest.raises(SurfaceError, match="transform.scale"):
        f.transformed(scale=[1.0, 2.0])


def test_config_transform_and_its_errors():
    raw = {
        "surface": {"name": "rosenbrock", "transform": {"rotate": 30, "scale": [1, 2]}},
        "start": [0.0, 0.0],
        "optimizers": [{"name": "gd", "lr": 1e-3}],
    }
    cfg = parse_config(raw)
    s = cfg.build_surface()
    assert s.extra["transform"] == {"rotate": 30.0, "scale": [1.0, 2.0]}
    assert parse_config(cfg.to_dict()).to_dict() == cfg.to_dict()
    bad = {**raw, "surface": {"name": "rosenbrock", "transform": {"rotate": 30, "scal": [1]}}}
    with pytest.raises(ConfigError, match="surface.transform"):
        parse_config(bad)
    bad = {**raw, "surface": {"name": "rosenbrock", "transform": {"scale": [1, -2]}}}
    with pytest.raises(ConfigError, match=r"surface\.transform\.scale"):
        parse_config(bad)
    bad = {**raw, "surface": {"name": "rosenbrock", "transform": {"scale": [1, 2, 3]}}}
    with pytest.raises(ConfigError, match=r"surface\.transform: .*one factor per variable"):
        parse_config(bad)


# -- rotation invariance --------------------------------------------------------------------
QUAD = "(x1**2 + 10*x2**2)/2"


def _pair(deg):
    f = optiviz.Surface.from_expression(QUAD, ["x1", "x2"], minima=[{"point": [0, 0], "value": 0}])
    return f, f.transformed(deg)


@pytest.mark.parametrize(
    "name, hp, invariant",
    [
        ("gd", {"lr": 0.15}, True),
        ("momentum", {"lr": 0.1, "momentum": 0.7}, True),
        ("newton", {}, True),
        ("adagrad", {"lr": 0.3}, False),
        ("rmsprop", {"lr": 0.01}, False),
        ("adam", {"lr": 0.1}, False),
    ],
)
def test_loss_curves_under_rotation(name, hp, invariant):
    f, g = _pair(30.0)
    x0 = np.array([1.2, -0.8])
    u0 = _rot(30.0) @ x0  # the same point, in the rotated coordinates
    a = optiviz.run(f, optiviz.make_optimizer(name, **hp), x0, 60)
    b = optiviz.run(g, optiviz.make_optimizer(name, **hp), u0, 60)
    if invariant:  # the same run seen in turned axes: equal losses, rotated points
        np.testing.assert_allclose(b.losses, a.losses, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(b.points, a.points @ _rot(30.0).T, atol=1e-9)
    else:  # per-coordinate scaling: another run (losses differ by > 10% somewhere)
        rel = np.abs(b.losses - a.losses) / np.maximum(a.losses, 1e-300)
        assert rel[1:].max() > 0.1
