"""The surface library: YAML validation, loading, families, and every surface's calculus.

Each library surface is built once per module (sympy derivation + lambdify is the cost).
"""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from optiviz.errors import SurfaceError
from optiviz.library import (
    FAMILIES,
    available_surfaces,
    load_surface,
    surface_info,
    surfaces_markdown,
    validate_info,
)

REPO = Path(__file__).resolve().parent.parent
NAMES = available_surfaces()
REQUIRED = {
    "quadratic", "ill_conditioned", "rosenbrock", "beale", "himmelblau", "booth",
    "three_hump_camel", "six_hump_camel", "goldstein_price", "rastrigin", "ackley",
    "styblinski_tang", "saddle", "monkey_saddle", "xy", "log_sum_exp", "xcos", "cosh",
    "seed_quadratic", "seed_diagonal", "seed_saddle", "seed_l1",
}  # fmt: skip
# Minima at a kink: f is not differentiable there (see the YAML notes); tested separately.
KINKS = {"ackley"}

_CACHE: dict = {}


def surf(name: str, **overrides):
    key = (name, repr(sorted(overrides.items())))
    if key not in _CACHE:
        _CACHE[key] = load_surface(name, **overrides)
    return _CACHE[key]


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def central_grad(s, x: np.ndarray) -> np.ndarray:
    """Central differences of f; h ~ 1e-6 scaled by |x_i| (rounding ~ eps |f| / h)."""
    out = np.empty(s.n)
    for i in range(s.n):
        h = 1e-6 * max(1.0, abs(x[i]))
        e = np.zeros(s.n)
        e[i] = h
        out[i] = (s.f(x + e) - s.f(x - e)) / (2 * h)
    return out


def central_hess(s, x: np.ndarray) -> np.ndarray:
    """Central differences of the exact gradient, column j = d grad / d x_j."""
    out = np.empty((s.n, s.n))
    for j in range(s.n):
        h = 1e-6 * max(1.0, abs(x[j]))
        e = np.zeros(s.n)
        e[j] = h
        out[:, j] = (s.grad(x + e) - s.grad(x - e)) / (2 * h)
    return out


def random_points(s, k: int = 6) -> np.ndarray:
    lo, hi = s.window[:, 0], s.window[:, 1]
    return lo + (hi - lo) * rng_for(s.name).random((k, s.n))


# -- the catalogue --------------------------------------------------------------------------
def test_required_surfaces_present():
    assert REQUIRED <= set(NAMES), REQUIRED - set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_info_matches_surface(name):
    info = surface_info(name)
    s = surf(name)
    assert info["name"] == s.name == name
    assert s.description == info["description"] and s.source == info["source"]
    assert s.extra["log_levels"] is info["log_levels"]
    if "variables" in info:
        assert list(s.variables) == info["variables"]
    assert s.window.shape == (s.n, 2) and np.all(s.window[:, 0] < s.window[:, 1])
    for m in s.minima:  # every known minimum is visible in the plot window
        assert np.all(s.window[:, 0] < m.point) and np.all(m.point < s.window[:, 1]), m


def test_log_levels_hint():
    # Large dynamic range: log-spaced contours; the quadratics are fine with linear levels.
    for name in ("rosenbrock", "beale", "goldstein_price"):
        assert surface_info(name)["log_levels"] is True
    for name in ("quadratic", "booth", "seed_quadratic"):
        assert surface_info(name)["log_levels"] is False


# -- calculus of every surface ----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    s = surf(name)
    for x in random_points(s):
        g, fd = s.grad(x), central_grad(s, x)
        # FD error: truncation h^2 f''' / 6 plus rounding ~ 2e-16 |f| / h ~ 2e-10 |f|.
        tol = 1e-6 * np.linalg.norm(g) + 1e-8 * (1 + abs(float(s.f(x))))
        assert np.linalg.norm(g - fd) <= tol, (x, g, fd)


@pytest.mark.parametrize("name", NAMES)
def test_hessian_symmetric_and_matches_differences_of_gradient(name):
    s = surf(name)
    for x in random_points(s):
        H = s.hess(x)
        scale = np.linalg.norm(H)
        np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12 * (1 + scale))
        fd = central_hess(s, x)
        tol = 1e-6 * scale + 1e-8 * (1 + np.linalg.norm(s.grad(x)))
        assert np.linalg.norm(H - fd) <= tol, (x, H, fd)


@pytest.mark.parametrize("name", sorted(set(NAMES) - KINKS))
def test_known_minima_are_minima(name):
    s = surf(name)
    for m in s.minima:
        # Stored to ~17 digits, so the gradient there is ~ |H| * 1e-16 * |x|.
        g = s.grad(m.point)
        assert np.linalg.norm(g) <= 1e-8, (m, g)
        assert abs(float(s.f(m.point)) - m.value) <= 1e-10 * (1 + abs(m.value)), m
        # A minimum, not a saddle: positive semidefinite Hessian.
        H = s.hess(m.point)
        assert np.linalg.eigvalsh(H)[0] >= -1e-8 * (1 + np.abs(H).max()), (m, H)
    if s.minima:
        assert s.f_min == min(m.value for m in s.minima)


def test_expected_minima_values():
    """The values the brief states, at full precision."""
    him = surf("himmelblau")
    assert len(him.minima) == 4 and all(m.value == 0 for m in him.minima)
    np.testing.assert_allclose(
        sorted(tuple(m.point) for m in him.minima),
        sorted([(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]),
        atol=1e-6,
    )
    shc = surf("six_hump_camel")
    assert shc.f_min == pytest.approx(-1.0316284534898774, abs=1e-15)
    glob = [m.point for m in shc.minima if m.value == shc.f_min]
    np.testing.assert_allclose(
        sorted(map(tuple, glob)), [(-0.0898, 0.7126), (0.0898, -0.7126)], atol=1e-4
    )
    st = surf("styblinski_tang")
    assert st.f_min == pytest.approx(-78.33233140754283, abs=1e-12)
    assert st.nearest_minimum([-3, -3]).point == pytest.approx([-2.903534027771178] * 2)
    assert surf("goldstein_price").f_min == 3
    assert surf("goldstein_price").nearest_minimum([0, -1]).point.tolist() == [0, -1]
    assert surf("rastrigin").f_min == 0 and surf("cosh").f_min == 1
    assert surf("seed_diagonal").f_min == 6
    assert surf("seed_quadratic").minima[0].point.tolist() == [3, 4]
    assert surf("seed_quadratic").f_min == 0.05
    assert surf("seed_l1").minima[0].point.tolist() == [1, 0]
    for name in ("saddle", "monkey_saddle", "xy", "seed_saddle"):
        assert surf(name).minima == [] and surf(name).f_min is None


def test_xcos_local_minima():
    # u = c x, f = u cos(u) / c, minima solve u tan u = 1: u = -0.86033..., 3.42561...
    s = surf("xcos")
    c = 0.15 * np.pi
    assert s.n == 1 and s.variables == ("x",)
    pts = sorted(float(m.point[0]) for m in s.minima)
    assert pts == pytest.approx([-0.86033358901937976 / c, 3.4256184594817281 / c], rel=1e-15)
    assert pts == pytest.approx([-1.825685, 7.269388], abs=1e-6)
    for m in s.minima:
        x = m.point[0]
        assert np.cos(c * x) - c * x * np.sin(c * x) == pytest.approx(0, abs=1e-14)
        assert m.value == pytest.approx(x * np.cos(c * x), rel=1e-14)


def test_log_sum_exp_minimum():
    # Notes 003 form with Boyd & Vandenberghe's data: minimum (-log(2)/2, 0),
    # value 3/2 log 2 + b (b = -0.1) because 2 e^x = e^-x at y = 0.
    s = surf("log_sum_exp")
    (m,) = s.minima
    assert m.point.tolist() == pytest.approx([-np.log(2) / 2, 0], abs=1e-16)
    assert m.value == pytest.approx(1.5 * np.log(2) - 0.1, rel=1e-15)
    assert s.f([0.3, -0.2]) == pytest.approx(
        np.log(np.exp(0.3 - 0.6 - 0.1) + np.exp(0.3 + 0.6 - 0.1) + np.exp(-0.3 - 0.1)),
        rel=1e-15,
    )


def test_ackley_kink_at_origin():
    """The minimum is a cone point: test the value, and the gradient near (not at) 0."""
    s = surf("ackley")
    assert s.f_min == 0
    assert abs(float(s.f([0.0, 0.0]))) <= 1e-15  # a + e - a - e in floating point
    # The exact gradient is 0/0 at the origin: the checked call refuses with SurfaceError.
    with pytest.raises(SurfaceError, match="not finite at \\(x=0, y=0\\)"):
        s.grad([0.0, 0.0])
    with np.errstate(all="ignore"):
        assert np.all(np.isnan(s.grad(np.zeros(2), check=False)))
    # Near the origin the gradient points away from it with norm a b / sqrt(2) + O(r):
    # d/dr [-a exp(-b r / sqrt 2)] = a b / sqrt 2 at r = 0 (the cos term is O(r)).
    for theta in np.linspace(0, 2 * np.pi, 7):
        u = np.array([np.cos(theta), np.sin(theta)])
        x = 1e-7 * u
        g = s.grad(x)
        assert g @ u == pytest.approx(20 * 0.2 / np.sqrt(2), rel=1e-5)
        assert float(s.f(x)) > 0
    # The other minimum test still holds for the value.
    assert float(s.f(s.minima[0].point)) == pytest.approx(0, abs=1e-15)


# -- worked problems of the notes -----------------------------------------------------------
def test_seed_surfaces_reproduce_worked_problems():
    q = surf("seed_quadratic")
    np.testing.assert_allclose(q.grad([1.0, 1.0]), [-0.5, -1 / 3], rtol=1e-15)
    np.testing.assert_allclose(q.grad([1.5, 2.0]), [-5 / 12, -7 / 36], rtol=1e-15)
    np.testing.assert_allclose(q.hess([0.0, 0.0]), [[1 / 2, -1 / 6], [-1 / 6, 2 / 9]], rtol=1e-15)
    np.testing.assert_allclose(
        np.linalg.eigvalsh(q.hess([3.0, 4.0])), [0.144160, 0.578062], atol=1e-6
    )
    np.testing.assert_allclose(surf("seed_diagonal").hess(np.zeros(3)), np.diag([6, 4, 8]))
    np.testing.assert_allclose(
        np.linalg.eigvalsh(surf("seed_saddle").hess([0.0, 0.0])),
        [-2.324555, 10.324555],
        atol=1e-6,
    )
    assert float(surf("xy").f([2.96, -1.52])) == pytest.approx(-4.4992, rel=1e-15)
    np.testing.assert_allclose(surf("xy").grad([2.96, -1.52]), [-1.52, 2.96])
    # Worked problem C: l1 = 0.1 moves the minimizer to (1 - 0.1/6, 0) = (0.983333, 0),
    # where the smooth part's gradient 6x - 6 cancels the l1 subgradient 0.1.
    r = load_surface("seed_l1", l1=0.1)
    assert r.minima == []  # regularization invalidates the listed minimum
    assert r.grad([1 - 0.1 / 6, 0.5])[0] == pytest.approx(0, abs=1e-14)


# -- n-D Rosenbrock -------------------------------------------------------------------------
def rosen_np(X, a, b):
    X = np.asarray(X, dtype=float)
    return np.sum(b * (X[..., 1:] - X[..., :-1] ** 2) ** 2 + (a - X[..., :-1]) ** 2, axis=-1)


def rosen_grad_np(x, a, b):
    """d/dx_i = -4 b x_i (x_{i+1} - x_i^2) - 2 (a - x_i) + 2 b (x_i - x_{i-1}^2),
    the first two terms for i < n, the last for i > 1."""
    g = np.zeros_like(x)
    g[:-1] += -4 * b * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (a - x[:-1])
    g[1:] += 2 * b * (x[1:] - x[:-1] ** 2)
    return g


@pytest.mark.parametrize("n", [3, 5, 10])
def test_rosenbrock_nd_against_closed_form(n):
    s = surf("rosenbrock", n=n)
    assert s.variables == tuple(f"x{i}" for i in range(1, n + 1))
    assert len(s.minima) == 1 and s.minima[0].point.tolist() == [1.0] * n
    assert s.minima[0].value == 0
    X = rng_for(f"rosen{n}").uniform(-2, 2, (20, n))
    np.testing.assert_allclose(s.f(X), rosen_np(X, 1, 100), rtol=1e-12)
    for x in X[:5]:
        np.testing.assert_allclose(s.grad(x), rosen_grad_np(x, 1, 100), rtol=1e-12, atol=1e-12)
    assert np.linalg.norm(s.grad(np.ones(n))) == 0


def test_rosenbrock_nd_overrides():
    s = surf("rosenbrock", n=5, a=0.5, b=7)
    X = rng_for("rosen5").uniform(-2, 2, (10, 5))
    np.testing.assert_allclose(s.f(X), rosen_np(X, 0.5, 7), rtol=1e-12)
    np.testing.assert_allclose(s.grad(X[0]), rosen_grad_np(X[0], 0.5, 7), rtol=1e-12)
    assert s.minima == []  # a != 1, n > 2: no closed-form minimum is claimed
    two = surf("rosenbrock", a=2)
    assert two.variables == ("x", "y")
    assert two.minima[0].point.tolist() == [2, 4] and two.minima[0].value == 0
    assert np.all(two.window[:, 0] < [2, 4]) and np.all([2, 4] < two.window[:, 1])


@pytest.mark.parametrize("bad", [1, 2.0, 2.5, True, "3", 10_001, 10**6])
def test_rosenbrock_n_must_be_int_in_range(bad):
    # n >= 11 is a structured surface (optiviz.structured), up to MAX_STRUCTURED_VARIABLES;
    # n = 10**6 would need an 8 TB Hessian.
    message = r"rosenbrock parameter 'n' must be an int in the range \[2, 10000\]"
    with pytest.raises(SurfaceError, match=message):
        load_surface("rosenbrock", n=bad)


# -- shapes and batching --------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, overrides",
    [("quadratic", {}), ("quadratic", {"A": [[2, 1, 0], [1, 3, 0], [0, 0, 1]]}),
     ("rosenbrock", {}), ("rosenbrock", {"n": 4}), ("xcos", {})],
)  # fmt: skip
def test_shapes_and_batched_equals_per_point(name, overrides):
    s = surf(name, **overrides)
    n = s.n
    X = rng_for(name).uniform(-1.5, 1.5, (2, 3, n))
    assert np.shape(s.f(X[0, 0])) == () and s.grad(X[0, 0]).shape == (n,)
    assert s.hess(X[0, 0]).shape == (n, n)
    for batch in (X[0], X):  # (k, n) and (a, b, n)
        f, g, H = s.f(batch), s.grad(batch), s.hess(batch)
        assert f.shape == batch.shape[:-1]
        assert g.shape == batch.shape and H.shape == batch.shape + (n,)
        vf, vg = s.value_and_grad(batch)
        # Fused call: shared subexpressions may round differently in the last bit.
        np.testing.assert_allclose(vf, f, rtol=1e-14)
        np.testing.assert_allclose(vg, g, rtol=1e-14, atol=1e-14)
        for idx in np.ndindex(batch.shape[:-1]):
            x = batch[idx]
            assert f[idx] == pytest.approx(float(s.f(x)), rel=1e-14, abs=1e-14)
            np.testing.assert_allclose(g[idx], s.grad(x), rtol=1e-14, atol=1e-14)
            np.testing.assert_allclose(H[idx], s.hess(x), rtol=1e-14, atol=1e-14)


def test_quadratic_constant_hessian_broadcast():
    s = surf("quadratic")
    H = s.hess(np.zeros((4, 5, 2)))
    assert H.shape == (4, 5, 2, 2)
    np.testing.assert_array_equal(H, np.broadcast_to(np.eye(2), (4, 5, 2, 2)))
    H1 = s.hess(np.zeros((1, 2)))
    assert H1.shape == (1, 2, 2) and H1.flags.writeable


# -- parameters and regularization ----------------------------------------------------------
def test_parameter_override_rebuilds():
    base, soft = surf("rosenbrock"), surf("rosenbrock", b=10)
    # f(0, 1) = (a - 0)^2 + b (1 - 0)^2 = 1 + b
    assert float(base.f([0.0, 1.0])) == 101 and float(soft.f([0.0, 1.0])) == 11
    assert soft.parameters == {"a": 1, "b": 10, "n": 2}
    again = base.with_parameters(b=10)
    assert float(again.f([0.0, 1.0])) == 11 and again.name == "rosenbrock"
    xc = surf("xcos", c=0.3)
    assert xc.parameters["c"] == 0.3
    assert sorted(float(m.point[0]) for m in xc.minima) == pytest.approx(
        [-0.86033358901937976 / 0.3, 3.4256184594817281 / 0.3], rel=1e-15
    )
    lse = surf("log_sum_exp", s=1, b=0)
    assert lse.f_min == pytest.approx(1.5 * np.log(2), rel=1e-15)
    assert float(surf("ackley", c="pi").f([1.0, 0.0])) != float(surf("ackley").f([1.0, 0.0]))


def test_override_drops_minimum_that_no_longer_holds():
    # Rastrigin with A = -1: the origin is still stationary but the Hessian 2 - 4 pi^2 < 0.
    assert surf("rastrigin", A=-1).minima == []
    assert surf("rastrigin", A=3).minima[0].value == 0
    # The Ackley kink is kept (the gradient is undefined there, the value still 0).
    assert surf("ackley", a=5).f_min == 0


def test_unknown_parameter_refused_with_suggestion():
    with pytest.raises(SurfaceError) as err:
        load_surface("rosenbrock", bb=3)
    msg = str(err.value)
    assert "'bb'" in msg and "did you mean 'b'" in msg and "parameters: a, b, n, l1, l2" in msg
    with pytest.raises(SurfaceError, match="has no parameter 'x'"):
        load_surface("beale", x=1)
    with pytest.raises(SurfaceError, match="did you mean 'c'"):
        surf("xcos").with_parameters(cc=1)


def test_bad_parameter_value_refused():
    with pytest.raises(SurfaceError, match="parameter 'c'"):
        load_surface("cosh", c="import os")
    with pytest.raises(SurfaceError, match="regularization 'l2'"):
        load_surface("booth", l2=-1)


def test_regularization_adds_exact_terms():
    base = surf("booth")
    X = rng_for("reg").uniform(-3, 3, (7, 2))
    l2 = load_surface("booth", l2=0.3)
    np.testing.assert_allclose(
        l2.f(X) - base.f(X), 0.3 / 2 * np.sum(X**2, axis=-1), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(l2.grad(X) - base.grad(X), 0.3 * X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(l2.hess(X) - base.hess(X), np.broadcast_to(0.3 * np.eye(2),
                               (7, 2, 2)), atol=1e-12)  # fmt: skip
    l1 = load_surface("booth", l1=0.2)
    np.testing.assert_allclose(
        l1.f(X) - base.f(X), 0.2 * np.sum(np.abs(X), axis=-1), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(l1.grad(X) - base.grad(X), 0.2 * np.sign(X), atol=1e-12)
    assert (l1.l1, l2.l2) == (0.2, 0.3) and l1.minima == [] and l2.minima == []
    # Overriding a parameter of a regularized surface keeps the regularization.
    r = load_surface("rosenbrock", l2=0.5).with_parameters(b=10)
    assert r.l2 == 0.5 and float(r.f([0.0, 1.0])) == pytest.approx(11 + 0.25)


# -- the quadratic family -------------------------------------------------------------------
def test_quadratic_family_minimum():
    A, b, c = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0]), 2.0
    s = load_surface("quadratic", A=A.tolist(), b=b.tolist(), c=c)
    wstar = np.linalg.solve(A, -b)
    (m,) = s.minima
    np.testing.assert_allclose(m.point, wstar, rtol=1e-15)
    assert m.value == pytest.approx(c - 0.5 * b @ np.linalg.solve(A, b), rel=1e-15)
    np.testing.assert_allclose(s.window.mean(axis=1), wstar, rtol=1e-12)  # centred on w*
    np.testing.assert_allclose(s.hess(np.zeros(2)), A)
    x = np.array([0.7, -1.3])
    assert float(s.f(x)) == pytest.approx(0.5 * x @ A @ x + b @ x + c, rel=1e-15)
    assert np.linalg.norm(s.grad(m.point)) < 1e-14
    assert s.variables == ("x", "y")


def test_quadratic_family_dimensions_and_validation():
    three = load_surface("quadratic", A=np.diag([1.0, 2.0, 4.0]), b=[1, 2, 4])
    assert three.variables == ("x1", "x2", "x3")
    np.testing.assert_allclose(three.minima[0].point, [-1, -1, -1])
    assert three.minima[0].value == -3.5  # c - 1/2 b^T A^-1 b = -(1 + 2 + 4)/2
    one = load_surface("quadratic", A=[[2]], b=4)
    assert one.variables == ("x",) and one.minima[0].point.tolist() == [-2]
    assert load_surface("quadratic", A=[[1, 0], [0, -1]]).minima == []  # indefinite: saddle
    with pytest.raises(SurfaceError, match="quadratic parameter 'A' must be symmetric"):
        load_surface("quadratic", A=[[1, 2], [0, 1]])
    with pytest.raises(SurfaceError, match="'A' must be a square"):
        load_surface("quadratic", A=[[1, 0, 0], [0, 1, 0]])
    with pytest.raises(SurfaceError, match="'b' must have length 2"):
        load_surface("quadratic", b=[1, 2, 3])


# -- names, YAML validation, docs -----------------------------------------------------------
def test_unknown_surface_suggests_nearest():
    with pytest.raises(SurfaceError) as err:
        load_surface("rosenbrok")
    msg = str(err.value)
    assert "unknown surface 'rosenbrok' (did you mean 'rosenbrock'?)" in msg
    assert "available surfaces: ackley, beale" in msg
    with pytest.raises(SurfaceError, match="unknown surface"):
        surface_info("nope")


def test_yaml_validation_messages():
    good = surface_info("booth")
    where = "surfaces/booth.yaml"
    with pytest.raises(SurfaceError, match=r"surfaces/booth.yaml: unknown key 'expresion' "
                       r"\(did you mean 'expression'\?\)"):  # fmt: skip
        validate_info({**good, "expresion": "x"}, where)
    bad_min = {**good, "minima": [{"pont": [1, 3], "value": 0}]}
    with pytest.raises(SurfaceError, match=r"minima\[0\]: unknown key 'pont' \(did you mean"):
        validate_info(bad_min, where)
    with pytest.raises(SurfaceError, match="must equal the file name 'beale'"):
        validate_info(good, "surfaces/beale.yaml", "beale")
    with pytest.raises(SurfaceError, match="exactly one of 'expression'"):
        validate_info({**good, "family": "quadratic"}, where)
    with pytest.raises(SurfaceError, match="missing required key 'log_levels'"):
        validate_info({k: v for k, v in good.items() if k != "log_levels"}, where)
    with pytest.raises(SurfaceError, match="'point' must list 2 coordinates"):
        validate_info({**good, "minima": [{"point": [1], "value": 0}]}, where)
    with pytest.raises(SurfaceError, match="reserved for regularization"):
        validate_info({**good, "parameters": {"l2": 1}}, where)
    fam = surface_info("rosenbrock")
    with pytest.raises(SurfaceError, match="'window' is computed by the 'rosenbrock' family"):
        validate_info({**fam, "window": [-1, 1]}, "surfaces/rosenbrock.yaml")
    with pytest.raises(SurfaceError, match="family 'rosenbrock' has no parameter 'c'"):
        validate_info({**fam, "parameters": {"c": 1}}, "surfaces/rosenbrock.yaml")
    assert set(FAMILIES) == {"quadratic", "rosenbrock"}


def test_surface_info_is_a_copy():
    info = surface_info("rastrigin")
    info["parameters"]["A"] = 99
    assert surface_info("rastrigin")["parameters"]["A"] == 10


def test_listing_does_not_import_sympy():
    code = (
        "import sys\n"
        "from optiviz.library import available_surfaces, surface_info\n"
        "names = available_surfaces()\n"
        "[surface_info(n) for n in names]\n"
        "assert 'sympy' not in sys.modules, 'sympy imported'\n"
        "print(len(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(NAMES)


def test_docs_table_is_current():
    """docs/surfaces.md is generated: run optiviz.library.write_surfaces_doc() after edits."""
    expected = surfaces_markdown({name: surf(name) for name in NAMES})
    assert (REPO / "docs" / "surfaces.md").read_text(encoding="utf-8") == expected
    for name in NAMES:
        assert f"| `{name}` |" in expected
