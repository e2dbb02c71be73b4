"""Structured surfaces (optiviz.structured) and the sum-over-an-index syntax (expr.parse_indexed).

References: the expanded sympy expression of the same function at small n (differentiated
by sympy here, independently of the per-term derivatives), hand-written numpy formulas
(A x + b; the Rosenbrock slices), central differences. The SurfaceLike conformance suite
(tests/test_protocols.py) runs over them as well.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from optiviz.errors import ExpressionError, SurfaceError
from optiviz.expr import parse_indexed
from optiviz.library import STRUCTURED_FROM, load_surface
from optiviz.protocols import SurfaceLike
from optiviz.structured import QuadraticSurface, SumSurface, rosenbrock, separable

RNG = np.random.default_rng(13)


def _expanded(s, expr: sp.Expr):
    """f, grad, Hessian of an expanded sympy expression, differentiated by sympy."""
    syms = list(s.symbols)
    g = [sp.diff(expr, v) for v in syms]
    H = [[sp.diff(gi, v) for v in syms] for gi in g]
    f = sp.lambdify(syms, expr, "numpy")
    gf = sp.lambdify(syms, g, "numpy")
    hf = sp.lambdify(syms, H, "numpy")
    return (
        lambda x: float(f(*x)),
        lambda x: np.array(gf(*x), dtype=float),
        lambda x: np.array(hf(*x), dtype=float),
    )


def _rosen_text_expr(syms, a=1, b=100):
    return sp.Add(
        *[b * (syms[i + 1] - syms[i] ** 2) ** 2 + (a - syms[i]) ** 2 for i in range(len(syms) - 1)]
    )


# -- exactness against the expanded expression ---------------------------------------------------
@pytest.mark.parametrize("n", [2, 5])
def test_sum_surface_matches_the_expanded_rosenbrock(n):
    s = rosenbrock(n, a=sp.Rational(1, 2), b=7)
    ref = _rosen_text_expr(s.symbols, sp.Rational(1, 2), 7)
    f, g, H = _expanded(s, ref)
    assert sp.expand(s.expression - ref) == 0  # the symbolic view is the function itself
    for x in RNG.uniform(-2, 2, (4, n)):
        assert float(s.f(x)) == pytest.approx(f(x), rel=1e-13, abs=1e-13)
        np.testing.assert_allclose(s.grad(x), g(x), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(s.hess(x), H(x), rtol=1e-13, atol=1e-12)
    # the explicit symbolic gradient and Hessian are sympy's derivatives
    assert all(
        sp.expand(a - sp.diff(ref, v)) == 0 for a, v in zip(s.gradient, s.symbols, strict=True)
    )
    assert sp.expand(s.hessian - sp.hessian(ref, s.symbols)) == sp.zeros(n, n)


def test_user_sum_with_index_values_fixed_variables_and_constants():
    # Dixon-Price: (x1 - 1)^2 + sum_{i=2}^n i (2 x_i^2 - x_{i-1})^2, plus a constant and a
    # scaled second sum: every kind of part at once
    text = "(x[1] - 1)**2 + sum(i*(2*x[i]**2 - x[i-1])**2, i, 2, n) + 3 + sum(c*x[i]**4, i, 1, n)/2"
    s = SumSurface.from_expression(text, 4, {"c": 0.25})
    y = s.symbols
    ref = (
        (y[0] - 1) ** 2
        + sum((i + 1) * (2 * y[i] ** 2 - y[i - 1]) ** 2 for i in range(1, 4))
        + 3
        + sum(sp.Rational(1, 4) * v**4 for v in y) / 2
    )
    assert sp.expand(s.expression - ref) == 0
    f, g, H = _expanded(s, ref)
    for x in RNG.uniform(-1.5, 1.5, (3, 4)):
        assert float(s.f(x)) == pytest.approx(f(x), rel=1e-13)
        np.testing.assert_allclose(s.grad(x), g(x), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(s.hess(x), H(x), rtol=1e-13, atol=1e-12)
    assert s.with_parameters(c=1).f(np.zeros(4)) == pytest.approx(1 + 3)
    assert s.degree == 4 and s.is_polynomial


def test_quadratic_matches_its_expanded_expression_and_matrix_form():
    A = np.array([[2.0, 0.5, 0.0], [0.5, 3.0, -1.0], [0.0, -1.0, 1.5]])
    b = np.array([1.0, -2.0, 0.5])
    s = QuadraticSurface(A, b, 0.75)
    x = sp.Matrix(s.symbols)
    As, bs = (
        sp.Matrix(A.tolist()).applyfunc(sp.nsimplify),
        sp.Matrix(b.tolist()).applyfunc(sp.nsimplify),
    )
    ref = (x.T * As * x)[0] / 2 + (bs.T * x)[0] + sp.Rational(3, 4)
    assert s.symbolic_exact and sp.expand(s.expression - ref) == 0
    assert sp.expand(s.gradient - (As * x + bs)) == sp.zeros(3, 1) and s.hessian == As
    f, g, H = _expanded(s, ref)
    for p in RNG.uniform(-2, 2, (4, 3)):
        assert float(s.f(p)) == pytest.approx(0.5 * p @ A @ p + b @ p + 0.75, rel=1e-14)
        assert float(s.f(p)) == pytest.approx(f(p), rel=1e-13)
        np.testing.assert_allclose(s.grad(p), A @ p + b, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(s.grad(p), g(p), rtol=1e-13, atol=1e-13)
        np.testing.assert_array_equal(s.hess(p), A)
    (m,) = s.minima  # w* = -A^-1 b, f* = c - 1/2 b^T A^-1 b
    np.testing.assert_allclose(m.point, -np.linalg.solve(A, b), rtol=1e-14)
    assert m.value == pytest.approx(0.75 - 0.5 * b @ np.linalg.solve(A, b), rel=1e-14)


def test_family_switches_to_the_structured_form_with_the_same_numbers():
    n = STRUCTURED_FROM
    A = 2.1 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    q = load_surface("quadratic", A=A.tolist(), b=1)
    r = load_surface("rosenbrock", n=n)
    small = load_surface("rosenbrock", n=3)
    assert isinstance(q, QuadraticSurface) and isinstance(r, SumSurface)
    assert not isinstance(small, SumSurface)  # below the switch: the expanded surface
    assert r.variables == tuple(f"x{i}" for i in range(1, n + 1))
    assert r.minima[0].point.tolist() == [1.0] * n and r.f(np.ones(n)) == 0
    x = RNG.uniform(-2, 2, n)
    # the chained formula written out in numpy (as scipy.optimize.rosen)
    f_ref = np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    assert float(r.f(x)) == pytest.approx(f_ref, rel=1e-14)
    np.testing.assert_allclose(q.grad(x), A @ x + 1, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(q.minima[0].point, np.linalg.solve(A, -np.ones(n)), rtol=1e-12)
    assert r.with_parameters(b=10).parameters["b"] == 10
    with pytest.raises(SurfaceError, match="must be symmetric"):
        load_surface("quadratic", A=(A + np.eye(n, k=1)).tolist())


def test_thousand_variables_build_and_evaluate():
    n = 1000
    r = load_surface("rosenbrock", n=n)
    x = RNG.uniform(-2, 2, n)
    g = np.zeros(n)  # hand-written gradient of the chained form
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    np.testing.assert_allclose(r.grad(x), g, rtol=1e-13, atol=1e-10)
    H = r.hess(x)
    assert H.shape == (n, n) and np.count_nonzero(H) == n + 2 * (n - 1)  # tridiagonal
    np.testing.assert_array_equal(H, H.T)
    assert r.latex["f"].startswith(r"\sum_{i=1}^{999}")
    q = QuadraticSurface(np.diag(np.arange(1.0, n + 1)), 0.0, minima=[], window=[-1, 1])
    assert q.symbolic_exact  # 1,000 nonzero entries: the explicit expression
    np.testing.assert_allclose(q.grad(x), np.arange(1.0, n + 1) * x, rtol=1e-15)


def test_central_differences_on_a_separable_function():
    s = separable("styblinski_tang", 6)
    (m,) = s.minima  # every coordinate at the root of 4 t^3 - 32 t + 5 = 0 near -2.9035
    assert np.max(np.abs(s.grad(m.point))) < 1e-12
    assert m.value == pytest.approx(-39.16616570377141 * 6, rel=1e-14)
    h = 1e-6
    for x in RNG.uniform(-4, 4, (2, 6)):
        fd = np.array([(s.f(x + h * e) - s.f(x - h * e)) / (2 * h) for e in np.eye(6)])
        np.testing.assert_allclose(s.grad(x), fd, atol=1e-6 * (1 + abs(float(s.f(x)))))
    r = separable("rastrigin", 7)
    assert r.f(np.zeros(7)) == 0 and r.minima[0].value == 0


def test_regularization_and_batches():
    s = rosenbrock(12).regularized(l1=0.1, l2=0.5)
    X = RNG.uniform(-1, 1, (3, 2, 12))
    base = rosenbrock(12)
    f, g = s.value_and_grad(X)
    np.testing.assert_allclose(
        f, base.f(X) + 0.25 * np.sum(X * X, -1) + 0.1 * np.sum(np.abs(X), -1), rtol=1e-14
    )
    np.testing.assert_allclose(g, base.grad(X) + 0.5 * X + 0.1 * np.sign(X), rtol=1e-14)
    np.testing.assert_allclose(s.hess(X), base.hess(X) + 0.5 * np.eye(12), rtol=1e-14)
    vg = s.point_value_and_grad()
    fx, gx = vg(X[0, 0])
    assert fx == pytest.approx(float(f[0, 0]), rel=1e-14)
    np.testing.assert_allclose(gx, g[0, 0], rtol=1e-14, atol=1e-14)
    assert isinstance(s, SurfaceLike) and s.minima == [] and s.degree is None


def test_compact_presentation():
    s = load_surface("rosenbrock", n=50)
    text = s.describe()
    assert "x1, ..., x50" in text and "(1, ..., 1) (all 50 equal)" in text
    assert len(text) < 800
    lat = dict(s.latex)
    assert lat["f"].startswith(r"\sum_{i=1}^{49}") and r"\mathbf{e}" in lat["gradient"]
    q = QuadraticSurface(np.eye(200) * 2.0, 1.0)
    assert dict(q.latex) == {
        "f": r"\frac{1}{2} x^{\top} A x + b^{\top} x",
        "gradient": "A x + b",
        "hessian": "A",
    }
    assert "A: 200 x 200, 200 nonzero entries, eigenvalues in [2, 2]" in q.describe()
    with pytest.raises(SurfaceError, match="structured surface"):
        q.transformed(rotate=10)


def test_analysis_on_structured_surfaces():
    from optiviz.analysis import analyze

    n = 30
    A = 2.1 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    a = analyze(QuadraticSurface(A, 1.0))
    lam = np.linalg.eigvalsh(A)
    assert a.method == "linear" and a.bounded_below
    np.testing.assert_allclose(a.minimum.eigenvalues, lam, rtol=1e-12)
    assert a.eta_opt == pytest.approx(1 / lam[-1], rel=1e-12)
    # a dense A beyond EXPLICIT_MAX_TERMS: compact symbolic view, still solved as H x = -b
    M = RNG.standard_normal((110, 110))
    dense = QuadraticSurface(M @ M.T / 110 + np.eye(110), 1.0)
    assert not dense.symbolic_exact
    from optiviz.analysis._surface import _is_quadratic
    from optiviz.analysis.bounded import bounded_below

    assert _is_quadratic(dense) and bounded_below(dense)[0] is True


def test_a_sum_is_decided_bounded_below_on_its_summed_term():
    """f = sum over the parts of (terms) x term is bounded below by the sum of the terms'
    lower bounds: decided on the term once (the 1000-D Rosenbrock's explicit sum took
    28.7 s of sympy assumptions); a term that is not bounded below on its own, or uses
    the index as a number, goes to the explicit sum, which decides."""
    from optiviz import load_surface
    from optiviz.analysis.bounded import bounded_below

    ok, why = bounded_below(load_surface("rosenbrock", n=1000))
    assert ok is True and "each summed term" in why
    # Rastrigin: 10 n + sum(x^2 - 10 cos(2 pi x)): the outside part 10 n = 50 once, each of
    # the 5 terms >= -10 by interval bounds (x^2 >= 0, -10 cos >= -10): f >= 50 - 50 = 0
    rastrigin = SumSurface.from_expression("10*n + sum(x[i]**2 - 10*cos(2*pi*x[i]), i, 1, n)", 5)
    ok, why = bounded_below(rastrigin)
    assert ok is True and "f >= 0" in why
    # sum of x_i^3: no term bounded below; the explicit sum, a cubic, is unbounded below
    ok, why = bounded_below(SumSurface.from_expression("sum(x[i]**3, i, 1, n)", 3))
    assert ok is False
    # the index as a number: decided on the explicit sum (a sum of squares)
    ok, why = bounded_below(SumSurface.from_expression("sum(i*x[i]**2, i, 1, n)", 4))
    assert ok is True and "each summed term" not in why


# -- the parser ------------------------------------------------------------------------------------
def test_parse_indexed_parts():
    e = parse_indexed("sum(100*(x[i+1]-x[i]**2)**2 + (1-x[i])**2, i, 1, n-1)", "x", 100)
    (p,) = e.parts
    assert (p.lo, p.hi, p.offsets, p.uses_index) == (1, 99, (0, 1), False)
    e = parse_indexed("10*n + 2*sum(i*x[i]**2, i, 1, n) - x[n]", "x", 5)
    s, rest = e.parts
    assert s.uses_index and s.coefficient == 2 and rest.offsets == (5,)
    assert rest.term == 50 - rest.slots[0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("x", "is the vector of variables"),
        ("sum(x[i], i, 1, n+1)", r"runs over x\[1\] .. x\[6\]"),
        ("exp(sum(x[i], i, 1, n))", "not allowed where it stands"),
        ("x[1]*sum(x[i], i, 1, n)", "not allowed where it stands"),
        ("sum(x[2*i], i, 1, 2)", "with a whole number k"),
        ("x[0]", r"the variables are x\[1\] .. x\[5\]"),
        ("sum(sum(x[j], j, 1, 2), i, 1, 2)", "nested sums"),
        ("sum(x[i], n, 1, 2)", "already a name"),
        ("sum(x[i], i, 1.5, 3)", "whole number"),
        ("sum(x[i], i, 3, 2)", "is empty"),
        ("sum(x[i], i, 1)", "takes 4 arguments"),
        ("y[1]", "only the vector 'x' takes subscripts"),
        ("x[1:3]", "one index"),
        ("x.real", "attribute"),
        ("__import__('os')", "not available"),
    ],
)
def test_parse_indexed_refuses_with_the_rule(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse_indexed(text, "x", 5)


def test_sizes_are_refused():
    with pytest.raises(ExpressionError, match="from 1 to 10,000"):
        parse_indexed("sum(x[i], i, 1, n)", "x", 10_001)
    with pytest.raises(SurfaceError, match="1 to 10,000"):
        SumSurface((), 10_001)


def test_single_and_batched_runs_agree_bit_for_bit_at_many_variables():
    # a sum surface's gradient is elementwise (the same bits for (n,) and (R, n) points); the
    # single run's ||g||^2 of more than 32 entries is summed by cumsum, sequentially as the
    # batched reduction over coordinates: the two runs must agree exactly
    import optiviz
    from optiviz.engine import run

    s = separable("styblinski_tang", 40)
    x0 = RNG.uniform(-4, 4, 40)
    one = run(s, optiviz.make_optimizer("gd", lr=0.01), x0, 30)
    many = run(s, optiviz.make_optimizer("gd", lr=np.array([0.01, 0.02])), x0, 30)
    np.testing.assert_array_equal(one.points, many.points[0])
    np.testing.assert_array_equal(one.grad_norms, many.grad_norms[0])
    g = s.grad(x0)
    total = 0.0
    for v in g.tolist():  # the sequential sum, written out
        total += v * v
    assert one.grad_norms[0] == np.sqrt(total)
