"""Structured surfaces under the compiled backend give the numpy backend's records (issue 13).

An n = 20 quadratic in matrix form (grad A x + b) and the n = 20 chained Rosenbrock function
(one term over slices) run with Adam, GD and momentum under both backends; every recorded
field agrees to 1e-12 relative (norm-wise, as tests/test_backend_jax.py compares), statuses,
stopping steps and evaluation counts exactly. The numpy backend is the reference: its
structured evaluation is checked against the explicit expression surface and closed forms
in tests/test_structured.py. Skipped where JAX is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

import optiviz
from optiviz.structured import QuadraticSurface, SumSurface, rosenbrock

pytest.importorskip("jax")

from tests.test_backend_jax import _same_runs  # noqa: E402

N = 20


def _quadratic():
    rng = np.random.default_rng(3)
    M = rng.normal(size=(N, N))
    A = M @ M.T / N + np.eye(N)  # symmetric positive definite
    return QuadraticSurface(A, b=rng.normal(size=N), c=0.5)


SURFACES = {"quadratic": _quadratic(), "rosenbrock": rosenbrock(N)}
OPTIMIZERS = [
    ("adam", {"lr": [1e-2, 5e-2]}),
    ("gd", {"lr": [1e-3, 2e-3]}),
    ("momentum", {"lr": [2e-4, 5e-4], "momentum": 0.9}),
]


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[n for n, _ in OPTIMIZERS])
def test_structured_surfaces_compiled_give_the_numpy_records(surface, name, kw):
    s = SURFACES[surface]
    opt = optiviz.make_optimizer(name, **{k: np.array(v) if isinstance(v, list) else v
                                          for k, v in kw.items()})  # fmt: skip
    x0 = np.linspace(-1.2, 1.0, N)
    a = optiviz.run(s, opt, x0, 25)
    b = optiviz.run(s, opt, x0, 25, backend="jax")
    assert a.points.shape == (2, 26, N)
    _same_runs(a, b)


def test_the_compiled_functions_match_closed_forms():
    # the compiled quadratic is A x + b and its Hessian A (hand formula, not the code's
    # own numpy path); the compiled Rosenbrock term at x = (1, ..., 1) is 0 with g = 0
    from optiviz.backends.jax import compile_surface

    q = SURFACES["quadratic"]
    vg, hess = compile_surface(q)
    X = np.random.default_rng(1).normal(size=(3, N))
    F, G = vg(X)
    np.testing.assert_allclose(G, X @ q.A + q.b, rtol=1e-13, atol=1e-13)
    F_hand = 0.5 * np.einsum("ri,ij,rj->r", X, q.A, X) + X @ q.b + 0.5
    np.testing.assert_allclose(F, F_hand, rtol=1e-13)
    np.testing.assert_array_equal(np.asarray(hess(X)), np.broadcast_to(q.A, (3, N, N)))
    vg, hess = compile_surface(SURFACES["rosenbrock"])
    F, G = vg(np.ones((1, N)))
    assert float(F[0]) == 0.0 and not np.asarray(G).any()
    # the Hessian at the minimum: tridiagonal, 802 / 202 / 200 on the diagonal, -400 off it
    H = np.asarray(hess(np.ones((1, N))))[0]
    want = np.diag([802.0] * (N - 1) + [200.0]) + np.diag([-400.0] * (N - 1), 1)
    want += np.diag([-400.0] * (N - 1), -1)
    want[1:-1, 1:-1] += np.diag([200.0] * (N - 2))
    np.testing.assert_array_equal(H, want)


def test_a_regularized_indexed_sum_with_max_compiles_to_the_same_values():
    s = SumSurface.from_expression(
        "sum(i*x[i]**2 + Max(x[i], x[i+1]) + relu(x[i]), i, 1, n-1) + x[1]*x[n]", 6
    ).regularized(l1=0.1, l2=0.2)
    opt = optiviz.make_optimizer("adam", lr=np.array([0.01, 0.03]))
    x0 = np.array([0.3, -0.2, 0.5, 1.0, -0.7, 0.25])
    a = optiviz.run(s, opt, x0, 20)
    b = optiviz.run(s, opt, x0, 20, backend="jax")
    _same_runs(a, b)
