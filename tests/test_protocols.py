"""The SurfaceLike protocol (optiviz.protocols): every surface implements it, the flags say
what the symbolic view is, and every surface honours the evaluation contract.

The conformance checks compare each surface with itself by independent means: shapes from
the contract, the gradient against central differences of ``f``, the Hessian against
central differences of ``grad`` and its own transpose, the fused ``value_and_grad``
against separate calls.
"""

from __future__ import annotations

import numpy as np
import pytest

from optiviz import data as D
from optiviz.errors import SurfaceError
from optiviz.library import available_surfaces, load_surface
from optiviz.protocols import SurfaceLike
from optiviz.surface import Surface

H = 1e-6  # central-difference step


def _library():
    out = {name: (lambda name=name: load_surface(name)) for name in available_surfaces()}
    out["quadratic n=3"] = lambda: load_surface("quadratic", A=[[2, 1, 0], [1, 3, 0], [0, 0, 1]])
    out["rosenbrock n=4"] = lambda: load_surface("rosenbrock", n=4)
    out["rosenbrock l1+l2"] = lambda: load_surface("rosenbrock").regularized(l1=0.1, l2=0.5)
    return out


def _data():
    return {
        "sigmoid four points": D.sigmoid_four_point_surface,
        "toy sigmoid": D.toy_sigmoid_surface,
        "logistic N=100": lambda: D.logistic_regression(D.make_blobs(100, 2, seed=0)),
        "logistic N=30 mean l2": lambda: D.logistic_regression(
            D.make_blobs(30, 3, seed=1), reduction="mean", l2=0.3
        ),
        "linear N=50": lambda: D.linear_regression(D.make_linear(50, 2, seed=2)),
        "sigmoid mse N=40 l1": lambda: D.logistic_regression(
            D.make_blobs(40, 2, seed=3), loss="squared_error"
        ).regularized(l1=0.2),
    }


def _structured():
    from optiviz.structured import QuadraticSurface, SumSurface, separable

    A = 2.1 * np.eye(12) - np.eye(12, k=1) - np.eye(12, k=-1)
    return {
        "structured quadratic n=12": lambda: load_surface("quadratic", A=A.tolist(), b=1),
        "structured quadratic dense l2": lambda: QuadraticSurface(
            np.full((4, 4), 0.5) + np.eye(4), [1, -1, 0, 2], 3.0, l2=0.2
        ),
        "structured rosenbrock n=12": lambda: load_surface("rosenbrock", n=12),
        "indexed dixon-price n=5": lambda: SumSurface.from_expression(
            "(x[1] - 1)**2 + sum(i*(2*x[i]**2 - x[i-1])**2, i, 2, n)", 5
        ),
        "separable rastrigin n=3 l1": lambda: separable("rastrigin", 3).regularized(l1=0.1),
    }


SURFACES = {**_library(), **_data(), **_structured()}


@pytest.fixture(scope="module", params=sorted(SURFACES))
def surface(request):
    return SURFACES[request.param]()


def _points(s, shape, seed=0):
    """Points inside the middle 80% of the window (kinks at 0 are hit with probability 0)."""
    lo, hi = s.window.T
    u = np.random.default_rng(seed).uniform(0.1, 0.9, size=shape + (s.n,))
    return lo + (hi - lo) * u


# -- membership and flags ---------------------------------------------------------------------
def test_every_surface_is_surface_like(surface):
    assert isinstance(surface, SurfaceLike)


def test_things_that_are_not_surfaces_are_not_surface_like():
    assert not isinstance(object(), SurfaceLike)
    assert not isinstance(D.notes_four_points(), SurfaceLike)  # a Dataset, not a surface


def test_data_surfaces_are_not_surface_subclasses():
    # composition: a DataSurface has no Surface constructor state to miss
    s = D.sigmoid_four_point_surface()
    assert not isinstance(s, Surface)
    assert not issubclass(D.DataSurface, Surface)


def test_membership_check_computes_nothing_lazy():
    # a data surface computes its window, minima and symbolic view on first use; asking
    # whether it is SurfaceLike must not (the minimum of a logistic fit is a Newton solve)
    s = D.logistic_regression(D.make_blobs(100, 2, seed=0))
    assert isinstance(s, SurfaceLike)
    for lazy in ("minima", "window", "expression", "gradient", "hessian", "latex", "text"):
        assert lazy not in vars(s), lazy


def test_flags_of_a_closed_form_surface():
    s = load_surface("rosenbrock")
    assert s.has_symbolic_form and s.symbolic_exact and s.n_samples is None


def test_flags_of_a_four_point_data_surface():
    # N = 4 <= SYMBOLIC_MAX_SAMPLES: the expression is the explicit sum in w1, w2 only
    s = D.sigmoid_four_point_surface()
    assert s.has_symbolic_form and s.symbolic_exact and s.n_samples == 4
    assert {str(v) for v in s.expression.free_symbols} == {"w1", "w2"}


def test_flags_of_a_hundred_point_data_surface():
    # N = 100 > SYMBOLIC_MAX_SAMPLES: a sympy Sum over the data symbols x[i, j], y[i]
    s = D.logistic_regression(D.make_blobs(100, 2, seed=0))
    assert s.has_symbolic_form and not s.symbolic_exact and s.n_samples == 100
    assert {str(v) for v in s.expression.free_symbols} > {"w1", "w2", "b"}


# -- the evaluation contract ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (3, 4)])
def test_shapes(surface, shape):
    n = surface.n
    X = _points(surface, shape)
    assert np.shape(surface.f(X)) == shape
    assert surface.grad(X).shape == shape + (n,)
    assert surface.hess(X).shape == shape + (n, n)
    f, g = surface.value_and_grad(X)
    assert np.shape(f) == shape and g.shape == shape + (n,)
    assert surface.window.shape == (n, 2) and np.all(surface.window[:, 0] < surface.window[:, 1])
    assert len(surface.variables) == len(surface.symbols) == n
    for m in surface.minima:
        assert m.point.shape == (n,)
    assert surface.f_min == min((m.value for m in surface.minima), default=None)


def test_gradient_matches_central_differences(surface):
    # (f(x + h e_i) - f(x - h e_i)) / 2h = g_i + O(h^2 f''') + O(eps |f| / h): with h = 1e-6
    # the round-off term is ~2e-10 |f|, so 1e-6 (1 + |f| + |g|) bounds the difference
    for x in _points(surface, (3,), seed=1):
        g = surface.grad(x)
        fd = np.array(
            [(surface.f(x + H * e) - surface.f(x - H * e)) / (2 * H) for e in np.eye(surface.n)]
        )
        scale = 1.0 + abs(float(surface.f(x))) + float(np.max(np.abs(g)))
        np.testing.assert_allclose(g, fd, rtol=0, atol=1e-6 * scale)


def test_hessian_is_symmetric_and_matches_differences_of_the_gradient(surface):
    X = _points(surface, (3, 4), seed=2)
    Hs = surface.hess(X)
    np.testing.assert_array_equal(Hs, Hs.swapaxes(-1, -2))  # symmetric by construction
    for x in X[0, :2]:
        Hx = surface.hess(x)
        fd = np.array(
            [
                (surface.grad(x + H * e) - surface.grad(x - H * e)) / (2 * H)
                for e in np.eye(surface.n)
            ]
        )
        scale = 1.0 + float(np.max(np.abs(surface.grad(x)))) + float(np.max(np.abs(Hx)))
        np.testing.assert_allclose(Hx, fd, rtol=0, atol=1e-6 * scale)


@pytest.mark.parametrize("shape", [(), (3, 4)])
def test_value_and_grad_equals_f_and_grad(surface, shape):
    # the same formulas evaluated once with shared subexpressions: equal up to round-off
    X = _points(surface, shape, seed=3)
    f, g = surface.value_and_grad(X)
    np.testing.assert_allclose(f, surface.f(X), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(g, surface.grad(X), rtol=1e-13, atol=1e-14)


def test_batch_is_refused_without_samples_and_used_with_them(surface):
    x = _points(surface, (), seed=4)
    if surface.n_samples is None:
        with pytest.raises(SurfaceError, match="batch must be None"):
            surface.f(x, batch=[0])
        return
    idx = np.arange(min(3, surface.n_samples))
    f, g = surface.value_and_grad(x, batch=idx)
    np.testing.assert_allclose(f, surface.f(x, batch=idx), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(g, surface.grad(x, batch=idx), rtol=1e-13, atol=1e-14)


def test_derived_surfaces_are_surface_like(surface):
    assert surface.with_parameters() is surface
    r = surface.regularized(l2=0.5)
    assert isinstance(r, SurfaceLike) and r.l2 == surface.l2 + 0.5
    assert surface.variables[0] in surface.describe()
