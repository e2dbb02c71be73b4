"""Surface-level behaviour: construction, parameters, regularization, checks, shapes."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from optiviz.errors import SurfaceError
from optiviz.surface import KnownMinimum, Surface


@pytest.fixture(scope="module")
def para():
    # f = a x^2 + b y^2 + x y with a = pi/2 (a constant expression) and b = 3.
    return Surface.from_expression(
        "a*x**2 + b*y**2 + x*y",
        ["x", "y"],
        {"a": "0.5*pi", "b": 3},
        name="para",
        window=[-1, 1],
        minima=[{"point": [0, 0], "value": 0}],
        description="test bowl",
        source="test",
    )


def test_from_expression_with_parameters(para):
    x, y = 0.3, -0.7
    a = 0.5 * np.pi
    assert float(para.f([x, y])) == pytest.approx(a * x**2 + 3 * y**2 + x * y, rel=1e-15)
    np.testing.assert_allclose(para.grad([x, y]), [2 * a * x + y, 6 * y + x], rtol=1e-15)
    np.testing.assert_allclose(para.hess([x, y]), [[2 * a, 1], [1, 6]], rtol=1e-15)
    assert para.parameters == {"a": "0.5*pi", "b": 3}
    assert para.variables == ("x", "y") and para.n == 2
    assert para.window.tolist() == [[-1, 1], [-1, 1]]
    assert para.minima == [KnownMinimum(para.minima[0].point, 0.0)]
    assert para.is_polynomial and para.degree == 2
    assert set(para.latex) == {"f", "gradient", "hessian"}
    assert "pi" not in str(para.expression.free_symbols)


def test_with_parameters_rebuilds_and_drops_stale_minima(para):
    b10 = para.with_parameters(b=10)
    assert float(b10.f([0.0, 1.0])) == 10 and float(para.f([0.0, 1.0])) == 3
    assert b10.parameters == {"a": "0.5*pi", "b": 10}
    # Minima stated for the old parameters are not carried over (they may have moved).
    assert b10.minima == []
    assert para.with_parameters() is para
    with pytest.raises(SurfaceError, match=r"no parameter 'bb' \(did you mean 'b'\?\)"):
        para.with_parameters(bb=1)


def test_with_parameters_keeps_regularization(para):
    r = para.regularized(l2=0.5).with_parameters(b=10)
    # f(0, 1) = 10 + 0.5/2 * 1
    assert r.l2 == 0.5 and float(r.f([0.0, 1.0])) == pytest.approx(10.25, rel=1e-15)


def test_regularized_adds_exact_terms(para):
    X = np.random.default_rng(0).uniform(-2, 2, (5, 2))
    r = para.regularized(l1=0.2, l2=0.4)
    np.testing.assert_allclose(
        r.f(X) - para.f(X),
        0.2 * np.abs(X).sum(-1) + 0.2 * (X**2).sum(-1),  # l1 ||w||_1 + l2/2 ||w||^2
        rtol=1e-13,
        atol=1e-14,
    )
    np.testing.assert_allclose(r.grad(X) - para.grad(X), 0.2 * np.sign(X) + 0.4 * X, atol=1e-13)
    assert r.minima == [] and para.minima  # regularization moves the minimum
    rr = r.regularized(l2=0.1)
    assert (rr.l1, rr.l2) == (0.2, pytest.approx(0.5))
    with pytest.raises(SurfaceError, match="regularization 'l1' must be a float in"):
        para.regularized(l1=-0.1)


def test_non_finite_value_is_a_clear_error():
    s = Surface.from_expression("log(x) + y", ["x", "y"], name="logx")
    assert float(s.f([np.e, 0.0])) == pytest.approx(1.0)
    # pytest turns RuntimeWarning into an error: the checked path must not warn.
    with pytest.raises(SurfaceError, match=r"f of surface 'logx' is not finite at \(x=-1, y=2\)"):
        s.f([-1.0, 2.0])
    with pytest.raises(SurfaceError, match=r"the gradient of surface 'logx' is not finite at "
                       r"\(x=0, y=0\)"):  # fmt: skip
        s.grad([0.0, 0.0])
    # Batched: the message names the first bad point.
    with pytest.raises(SurfaceError, match=r"not finite at \(x=-3, y=0\)"):
        s.f([[1.0, 0.0], [-3.0, 0.0], [-4.0, 0.0]])
    with pytest.raises(SurfaceError, match="not finite"):
        s.value_and_grad([-1.0, 0.0])
    with pytest.raises(SurfaceError, match="the Hessian of surface 'logx' is not finite"):
        s.hess([0.0, 0.0])
    # Unchecked: nan / -inf as computed (the engine wraps these calls in np.errstate).
    with np.errstate(all="ignore"):
        assert np.isnan(s.f([-1.0, 0.0], check=False))
        assert np.isinf(s.grad(np.array([[0.0, 0.0]]), check=False)[0, 0])


def test_non_integer_power_of_negative_is_refused_not_complex():
    # sqrt(x) at x < 0 must be a SurfaceError (nan), not a complex Python float.
    s = Surface.from_expression("sqrt(x) + x**1.5", ["x"], name="root")
    assert float(s.f([4.0])) == pytest.approx(2 + 8)
    with pytest.raises(SurfaceError, match="not finite"):
        s.f([-1.0])


def test_overflow_is_an_error():
    s = Surface.from_expression("exp(x)", ["x"], name="e")
    with pytest.raises(SurfaceError, match="not finite at \\(x=1000\\)"):
        s.f([1000.0])


def test_shapes_and_errors(para):
    assert np.shape(para.f([0.1, 0.2])) == ()
    assert para.f(np.zeros((3, 4, 2))).shape == (3, 4)
    assert para.grad(np.zeros((3, 4, 2))).shape == (3, 4, 2)
    H = para.hess(np.zeros((3, 4, 2)))  # a constant Hessian is broadcast per point
    assert H.shape == (3, 4, 2, 2)
    np.testing.assert_allclose(H, np.broadcast_to([[np.pi, 1], [1, 6]], (3, 4, 2, 2)))
    f, g = para.value_and_grad(np.ones((5, 2)))
    np.testing.assert_allclose(f, para.f(np.ones((5, 2))), rtol=1e-15)
    np.testing.assert_allclose(g, para.grad(np.ones((5, 2))), rtol=1e-15)
    with pytest.raises(SurfaceError, match=r"points must have shape \(\.\.\., 2\) for the "
                       r"variables \(x, y\); got shape \(3,\)"):  # fmt: skip
        para.f([1.0, 2.0, 3.0])
    with pytest.raises(SurfaceError, match="got shape a scalar"):
        para.f(1.0)
    with pytest.raises(SurfaceError, match="has no samples; batch must be None"):
        para.f([0.0, 0.0], batch=[0])


def test_constant_surface_broadcasts():
    s = Surface.from_expression("0*x + 5", ["x", "y"], name="const")
    assert s.f(np.zeros((2, 3, 2))).shape == (2, 3)
    np.testing.assert_array_equal(s.f(np.zeros((2, 3, 2))), 5.0)
    np.testing.assert_array_equal(s.grad(np.zeros((4, 2))), np.zeros((4, 2)))


def test_from_sympy_and_validation():
    x, y = sp.symbols("x y", real=True)
    k = sp.Symbol("k", real=True)
    s = Surface.from_sympy(k * x**2 + y**2, [x, y], {k: 3}, name="sym", window=[[-1, 1], [-2, 2]])
    assert float(s.f([1.0, 1.0])) == 4.0
    assert s.window.tolist() == [[-1, 1], [-2, 2]]
    with pytest.raises(SurfaceError, match="undeclared names k"):
        Surface.from_sympy(k * x**2, [x])
    with pytest.raises(SurfaceError, match="window must be"):
        Surface.from_sympy(x**2, [x], window=[1, -1])
    with pytest.raises(SurfaceError, match="must have 1 coordinates"):
        Surface.from_sympy(x**2, [x], minima=[{"point": [0, 0], "value": 0}])
    with pytest.raises(SurfaceError, match="has 0 variables; 1 to 100 are allowed"):
        Surface.from_sympy(sp.Integer(1), [])
    with pytest.raises(SurfaceError, match="parameters to override"):
        Surface.from_sympy(x**2, [x]).with_parameters(k=1)


def test_nearest_minimum_and_describe(para):
    assert para.nearest_minimum([0.5, 0.5]).value == 0
    assert para.f_min == 0
    text = para.describe()
    assert "para: test bowl" in text and "parameters: a=0.5*pi, b=3" in text
    assert "known minimum: (0, 0), f = 0" in text


def test_degree_of_a_high_degree_product_is_read_without_expanding():
    # (x+y+1)^100 (x-y+2)^100 ... five factors: total degree 500. Expanding it (sympy Poly)
    # takes minutes; the tree gives 100 per factor. Up to degree 24 the exact degree is used:
    # (x+1)^3 - x^3 has tree degree 3 but degree 2 after cancellation.
    text = "(x+y+1)**100*(x-y+2)**100*(x+2*y-1)**100*(2*x-y+3)**100*(3*x+y-2)**100"
    s = Surface.from_expression(text, ["x", "y"])
    assert s.is_polynomial and s.degree == 500
    assert Surface.from_expression("(x+1)**3 - x**3", ["x"]).degree == 2
    assert Surface.from_expression("exp(x)", ["x"]).degree is None


def test_symbolic_hessian_has_a_time_budget(monkeypatch):
    # A 100-variable expression with products of 50 variables needs minutes of symbolic
    # differentiation; past the budget the surface is refused with a message, not a hang.
    import optiviz.surface as surface_module

    monkeypatch.setattr(surface_module, "BUILD_BUDGET", -1.0)
    with pytest.raises(SurfaceError, match=r"deriving and compiling its exact gradient and"):
        Surface.from_expression("x*y + y**2", ["x", "y"])


def test_hessian_is_symmetric_by_construction_and_latex_renders_on_demand():
    s = Surface.from_expression("x**3*y + exp(x*y)", ["x", "y"])
    assert s.hessian[0, 1] is s.hessian[1, 0]  # one derivation, shared
    assert s.hessian[0, 1] == sp.diff(s.expression, s.symbols[0], s.symbols[1])
    assert set(s.latex) == {"f", "gradient", "hessian"} and "e^{x y}" in s.latex["f"]


# -- issue 14: every surface is built or refused within a second of CPU time ----------------
def _cpu(fn):
    """(result or the SurfaceError raised, CPU seconds)."""
    import time

    start = time.process_time()
    try:
        out = fn()
    except SurfaceError as exc:
        out = exc
    return out, time.process_time() - start


_MAX8 = "Max(x**2+y, x*y-1, sin(x)+y**2, x-y, exp(x)-y, y**3-x, x**2*y, cos(y)+x)"


def test_a_max_of_eight_compound_terms_builds_within_a_second_with_the_active_gradient():
    # once 2 CPU s: sympy compared the arguments of every Max pair by pair, again for each
    # Max of the other seven in the derivative and again in lambdify's CSE
    s, cpu = _cpu(lambda: Surface.from_expression(_MAX8, ["x", "y"]))
    assert isinstance(s, Surface) and cpu < 1.0, cpu
    # at (0.3, -1.7): the terms are -1.61, -1.51, 3.185, 2.0, -0.35, -5.213, -0.153, 0.4289;
    # sin(x) + y**2 is the largest, so grad = (cos(0.3), 2*(-1.7)) and the Hessian is
    # diag(-sin(0.3), 2)
    x, y = 0.3, -1.7
    np.testing.assert_allclose(s.f([x, y]), np.sin(x) + y**2, rtol=1e-15)
    np.testing.assert_allclose(s.grad([x, y]), [np.cos(x), 2 * y], rtol=1e-15)
    np.testing.assert_allclose(s.hess([x, y]), [[-np.sin(x), 0], [0, 2]], rtol=1e-15)
    # the public derivatives hold sympy's own Max (the held forms stay internal)
    from optiviz.surface import _HeldMax, _HeldMin

    assert not s.gradient.has(_HeldMax, _HeldMin) and not s.hessian.has(_HeldMax, _HeldMin)
    assert s.gradient.has(sp.Max) and s.gradient.has(sp.Heaviside)


def test_a_sum_of_squares_of_100_variables_builds_within_a_second():
    # once 6 s: each gradient entry differentiated all 100 terms (9,900 of them zero) and
    # the Hessian compiled 10,000 entries, 9,900 of them the constant 0
    names = [f"x{i}" for i in range(100)]
    s, cpu = _cpu(lambda: Surface.from_expression(" + ".join(f"{v}**2" for v in names), names))
    assert isinstance(s, Surface) and cpu < 1.0, cpu
    x = np.linspace(-1, 1, 100)
    np.testing.assert_array_equal(s.grad(x), 2 * x)  # d/dx_i sum x_j^2 = 2 x_i
    np.testing.assert_array_equal(s.hess(x), 2 * np.eye(100))
    assert s.hess(np.zeros((3, 100))).shape == (3, 100, 100)


def _expanded_rosenbrock(n):
    import sympy as sp

    from optiviz.expr import symbol

    xs = [symbol(f"x{i}") for i in range(1, n + 1)]
    expr = sp.Add(*[100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1)])
    return Surface(expr, xs, name="rosenbrock")


@pytest.mark.parametrize(
    "build, size",
    [
        # 99 terms 100*(x_{i+1} - x_i**2)**2 of 11 nodes and 2 variables (2 + 3 entries)
        # and 99 terms (1 - x_i)**2 of 7 nodes and 1 variable (1 + 1): 99*(55 + 14)
        (lambda: _expanded_rosenbrock(100), "6,831"),
        (lambda: _expanded_rosenbrock(50), "3,381"),
    ],
)
def test_large_nd_expressions_are_refused_at_once_stating_the_limit(build, size):
    # the expanded expression is refused; the library's families are structured surfaces
    # from 11 variables on (tests/test_structured.py) and build at once instead
    err, cpu = _cpu(build)
    assert isinstance(err, SurfaceError) and cpu < 1.0, (err, cpu)
    assert f"its derivation size is {size} (at most 3,000" in str(err)


def test_a_dense_100_variable_quadratic_builds_within_a_second():
    # 5,050 symbolic terms: once half a minute, then a foreign RecursionError, then refused;
    # now the family keeps the matrix form (optiviz.structured): gradient A x + b, Hessian A
    import optiviz
    from optiviz.structured import QuadraticSurface

    A = [[101 if i == j else 1 for j in range(100)] for i in range(100)]
    s, cpu = _cpu(lambda: optiviz.load_surface("quadratic", A=A))
    assert isinstance(s, QuadraticSurface) and cpu < 1.0, (s, cpu)
    x = np.linspace(-1, 1, 100)
    np.testing.assert_array_equal(s.hess(x), np.array(A, dtype=float))
    np.testing.assert_allclose(s.grad(x), np.array(A, dtype=float) @ x, rtol=1e-14, atol=1e-13)


def test_a_power_of_a_long_sum_is_kept_unexpanded():
    # (a+...+j)**24 expands to C(33, 9) = 38,567,100 terms (minutes and gigabytes): the
    # surface, its degree and the analysis' bounded-below check read the tree instead
    from optiviz.analysis.bounded import bounded_below
    from optiviz.surface import expand_refusal, expansion_terms

    names = list("abcdefghij")
    s, cpu = _cpu(lambda: Surface.from_expression("(a+b+c+d+e+f+g+h+i+j)**24", names))
    assert isinstance(s, Surface) and cpu < 1.0, cpu
    assert expansion_terms(s.expression, s.symbols) == 38_567_100
    odd = Surface.from_expression("(a+b+c+d+e+f+g+h+i+j)**23 + a", names)
    (degree, why), cpu = _cpu(lambda: (odd.degree, bounded_below(odd)))
    assert cpu < 1.0, cpu
    assert degree == 23 and s.degree == 24  # read off the tree (exact: nothing cancels)
    assert why == (None, f"a polynomial, not expanded: {expand_refusal(odd)}")
    assert "its expansion has up to" in expand_refusal(odd)
    # small polynomials are still expanded: (x+1)^3 - x^3 has degree 2 after cancellation
    assert expansion_terms(sp.sympify("(x+y+1)**3"), sp.symbols("x y")) == 10  # C(5, 3)


def test_the_cpu_budget_interrupts_one_long_sympy_call():
    # the budget is a timer on the process' CPU time: it stops sympy inside one call
    # (expanding (x1+...+x10)**12, 293,930 terms, takes seconds), not between steps
    import signal
    import time

    from optiviz.surface import _OutOfTime, cpu_budget

    xs = sp.symbols("x1:11")
    before = signal.getsignal(signal.SIGPROF)
    start = time.process_time()
    with pytest.raises(_OutOfTime):
        with cpu_budget(0.2):
            sp.expand(sp.Add(*xs) ** 12)
    assert time.process_time() - start < 0.6
    assert signal.getsignal(signal.SIGPROF) is before
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_a_nested_cpu_budget_gives_the_outer_one_back():
    import signal

    from optiviz.surface import cpu_budget

    with cpu_budget(5.0):
        with cpu_budget(10.0):  # gets at most what is left of the outer 5 s
            assert signal.getitimer(signal.ITIMER_PROF)[0] <= 5.02  # (kernel ticks: 4 ms)
        left = signal.getitimer(signal.ITIMER_PROF)[0]
        assert 4.0 < left <= 5.02  # the outer timer runs on
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_outside_the_main_thread_the_budget_is_checked_between_steps():
    import signal
    import threading

    from optiviz.surface import cpu_budget

    seen = {}

    def worker():
        with cpu_budget(-1.0) as expired:
            seen["timer"] = signal.getitimer(signal.ITIMER_PROF)
            seen["expired"] = expired()
        seen["surface"] = _cpu(lambda: Surface.from_expression("x**2 + y", ["x", "y"]))[0]

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["timer"] == (0.0, 0.0) and seen["expired"] is True
    assert isinstance(seen["surface"], Surface)


def test_a_build_past_the_budget_is_refused_inside_a_sympy_call(monkeypatch):
    # with a budget of 20 ms the Max of eight terms (one lambdify call alone takes ~0.1 s)
    # is refused inside that call, naming the limit
    import optiviz.surface as surface_module

    monkeypatch.setattr(surface_module, "BUILD_BUDGET", 0.02)
    err, cpu = _cpu(lambda: Surface.from_expression(_MAX8, ["x", "y"]))
    assert isinstance(err, SurfaceError), err
    assert "takes longer than 0.02 s of CPU time (the limit" in str(err)
