"""The compiled value-and-gradient (surface.py's code generation): sums the value computes are
shared with the gradient as a person writes them, and every evaluation path of the fused
value-and-gradient (one point in Python floats, batches, the engine's column-major batches
written in place) and the gradient alone compute the same numbers bit for bit."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest
import sympy as sp

from optiviz import Surface, load_surface
from optiviz.library import available_surfaces
from optiviz.surface import _shared_cse


def _array_ops(fn) -> int:
    """Arithmetic operations and calls in a compiled function's source."""
    tree = ast.parse(inspect.getsource(fn))
    return sum(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call)) for n in ast.walk(tree))


def test_a_multiple_of_a_named_sum_is_written_as_a_multiple_of_its_name():
    x, y = sp.symbols("x y", real=True)
    a = x + y**2 - 7
    # sympy stores 2*(x + y**2 - 7) distributed: 2*x + 2*y**2 - 14
    reps, (value, grad) = _shared_cse([a**2 + sp.sin(a), 2 * x + 2 * y**2 - 14 + x**3], 1)
    full: dict = {}
    for sym, rhs in reps:  # each name's expression in x and y
        full[sym] = rhs.xreplace(full)
    named = {e: sym for sym, e in full.items()}
    assert a in named  # the sum is computed once ...
    assert grad == 2 * named[a] + x**3  # ... and the gradient reuses it
    assert value.xreplace(full) == a**2 + sp.sin(a)


def test_himmelblau_compiles_to_the_hand_written_operation_count():
    # a = x^2 + y - 11, b = x + y^2 - 7 (3 operations each), f = a^2 + b^2 (3),
    # df/dx = 4 x a + 2 b, df/dy = 2 a + 4 y b (4 each): 17, as bench_basins' baseline
    s = load_surface("himmelblau")
    assert _array_ops(s._c.vg) == 17


# shared sums (himmelblau, rosenbrock, beale, goldstein_price), functions (ackley,
# log_sum_exp, rastrigin), bare variables and constants (xy, quadratic), three variables
SHAPES = [
    "himmelblau",
    "rosenbrock",
    "beale",
    "goldstein_price",
    "ackley",
    "log_sum_exp",
    "rastrigin",
    "xy",
    "quadratic",
    "seed_diagonal",
]


def test_the_shapes_are_library_surfaces():
    assert set(SHAPES) <= set(available_surfaces())


@pytest.mark.parametrize("name", SHAPES)
def test_every_evaluation_path_computes_the_same_numbers(name):
    s = load_surface(name)
    rng = np.random.default_rng(7)
    w = np.asarray(s.window, dtype=float)
    X = w[:, 0] + (w[:, 1] - w[:, 0]) * rng.random((64, s.n))
    Xf = np.asfortranarray(X)
    f_c, g_c = s.value_and_grad(X, check=False)  # C order: lambdify's list, stacked
    f_f, g_f = s.value_and_grad(Xf, check=False)  # column-major: written in place
    assert g_f.flags.f_contiguous and g_f.shape == (64, s.n)
    np.testing.assert_array_equal(f_f, f_c)
    np.testing.assert_array_equal(g_f, g_c)
    np.testing.assert_array_equal(s.grad(Xf, check=False), g_c)  # the gradient alone
    np.testing.assert_array_equal(s.grad(X, check=False), g_c)
    # the value alone is compiled on its own (sympy's cse): the same sums, perhaps added
    # in another order (a rounding of the terms' size)
    np.testing.assert_allclose(s.f(X, check=False), f_c, rtol=1e-14, atol=1e-13)
    for i in (0, 17, 63):  # one point (Python floats where possible)
        f1, g1 = s.value_and_grad(X[i], check=False)
        assert f1 == f_c[i]
        np.testing.assert_array_equal(g1, g_c[i])
        f2, g2 = s.point_value_and_grad()(X[i].copy())
        assert f2 == f_c[i]
        np.testing.assert_array_equal(g2, g_c[i])


def test_in_place_outputs_are_fresh_arrays_even_for_a_bare_variable():
    # grad(x*y) = (y, x): the columns are copied, never views of the input
    s = Surface.from_expression("x*y", ["x", "y"])
    X = np.asfortranarray(np.arange(6.0).reshape(3, 2))
    f, g = s.value_and_grad(X, check=False)
    assert not np.shares_memory(g, X) and not np.shares_memory(f, X)
    np.testing.assert_array_equal(g, X[:, ::-1])
    np.testing.assert_array_equal(f, X[:, 0] * X[:, 1])


def test_functions_without_an_in_place_form_still_evaluate():
    # Max (numpy's reduce), Heaviside and a non-integer power as the last operations
    s = Surface.from_expression("Max(x**2, y) + abs(x - y) + x**2.5", ["x", "y"])
    X = np.asfortranarray([[1.5, 0.5], [0.5, 2.0], [2.0, 1.0]])
    f, g = s.value_and_grad(X, check=False)
    x, y = X[:, 0], X[:, 1]
    np.testing.assert_allclose(f, np.maximum(x**2, y) + np.abs(x - y) + x**2.5, rtol=1e-15)
    gx = np.where(x**2 > y, 2 * x, 0.0) + np.sign(x - y) + 2.5 * x**1.5
    gy = np.where(x**2 > y, 0.0, 1.0) - np.sign(x - y)
    np.testing.assert_allclose(g, np.column_stack([gx, gy]), rtol=1e-15)
