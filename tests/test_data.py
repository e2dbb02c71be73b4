"""Data surfaces (optiviz.data): closed forms, shapes, mini-batches, stability, data sets.

Every expected value is written out with the reason it is expected. ``pyproject.toml``
turns RuntimeWarning into an error, so any overflow warning fails a test.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp

from optiviz import data as D
from optiviz.errors import SurfaceError


def sig(z):
    """Reference sigmoid, the textbook formula (inputs kept moderate where used)."""
    return 1.0 / (1.0 + np.exp(-z))


def aug(X):
    return np.column_stack([X, np.ones(len(X))])


@pytest.fixture(scope="module")
def clf():
    """Random classification data: 40 samples, 3 features, labels 0/1."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 3))
    y = (rng.uniform(size=40) < 0.5).astype(float)
    return X, y


@pytest.fixture(scope="module")
def reg():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(30, 2))
    y = X @ [1.5, -0.7] + 0.3 + 0.2 * rng.normal(size=30)
    return X, y


W4 = np.array([0.3, -0.8, 0.5, 0.2])  # a point (w1, w2, w3, b) for the 3-feature data


# -- closed forms -----------------------------------------------------------------------------
def test_cross_entropy_closed_forms(clf):
    # f = sum log(1 + e^z) - y z, grad = Xa^T (sigma(z) - y), hess = Xa^T diag(s(1-s)) Xa
    X, y = clf
    s = D.logistic_regression(X, y)
    Xa = aug(X)
    z = Xa @ W4
    p = sig(z)
    assert s.variables == ("w1", "w2", "w3", "b") and s.n_samples == 40
    np.testing.assert_allclose(s.f(W4), np.sum(np.log1p(np.exp(z)) - y * z), rtol=1e-12)
    np.testing.assert_allclose(s.grad(W4), Xa.T @ (p - y), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        s.hess(W4), Xa.T @ (Xa * (p * (1 - p))[:, None]), rtol=1e-10, atol=1e-10
    )


def test_sigmoid_squared_error_closed_forms(clf):
    # l = (y - s)^2: l' = -2 (y - s) s (1 - s),
    # l'' = 2 s^2 (1 - s)^2 - 2 (y - s) s (1 - s) (1 - 2 s)
    X, y = clf
    s = D.logistic_regression(X, y, loss="squared_error")
    Xa = aug(X)
    p = sig(Xa @ W4)
    d1 = -2 * (y - p) * p * (1 - p)
    d2 = 2 * p**2 * (1 - p) ** 2 - 2 * (y - p) * p * (1 - p) * (1 - 2 * p)
    np.testing.assert_allclose(s.f(W4), np.sum((y - p) ** 2), rtol=1e-12)
    np.testing.assert_allclose(s.grad(W4), Xa.T @ d1, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(s.hess(W4), Xa.T @ (Xa * d2[:, None]), rtol=1e-10, atol=1e-10)


def test_half_squared_error_closed_forms(clf):
    # l = (s - y)^2 / 2: l' = (s - y) s (1 - s) (notes 001 eq. 9), l'' = half of the above
    X, y = clf
    s = D.logistic_regression(X, y, loss="half_squared_error", reduction="mean")
    Xa = aug(X)
    p = sig(Xa @ W4)
    d1 = (p - y) * p * (1 - p)
    d2 = p**2 * (1 - p) ** 2 + (p - y) * p * (1 - p) * (1 - 2 * p)
    np.testing.assert_allclose(s.f(W4), np.mean((p - y) ** 2) / 2, rtol=1e-12)
    np.testing.assert_allclose(s.grad(W4), Xa.T @ d1 / 40, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(s.hess(W4), Xa.T @ (Xa * d2[:, None]) / 40, rtol=1e-10, atol=1e-10)


def test_linear_regression_closed_forms(reg):
    # MSE (notes 004): f = 1/N ||Xa w - y||^2, grad = 2/N Xa^T (Xa w - y), hess = 2/N Xa^T Xa
    X, y = reg
    s = D.linear_regression(X, y)
    Xa = aug(X)
    w = np.array([0.4, 0.1, -1.0])
    r = Xa @ w - y
    np.testing.assert_allclose(s.f(w), np.mean(r**2), rtol=1e-12)
    np.testing.assert_allclose(s.grad(w), 2 / 30 * Xa.T @ r, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s.hess(w), 2 / 30 * Xa.T @ Xa, rtol=1e-10, atol=1e-12)
    # 1/2 convention: everything halves
    h = D.linear_regression(X, y, loss="half_squared_error")
    np.testing.assert_allclose(h.hess(w), 1 / 30 * Xa.T @ Xa, rtol=1e-10, atol=1e-12)
    assert s.is_polynomial and s.degree == 2


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error", "half_squared_error"])
def test_gradient_and_hessian_vs_central_differences(clf, loss):
    X, y = clf
    s = D.logistic_regression(X, y, loss=loss)
    h = 1e-6
    E = np.eye(4)
    fd_g = np.array([(s.f(W4 + h * e) - s.f(W4 - h * e)) / (2 * h) for e in E])
    fd_h = np.array([(s.grad(W4 + h * e) - s.grad(W4 - h * e)) / (2 * h) for e in E])
    np.testing.assert_allclose(s.grad(W4), fd_g, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(s.hess(W4), fd_h, rtol=1e-6, atol=1e-7)
    H = s.hess(W4)
    assert np.array_equal(H, H.T)  # symmetrized exactly


# -- shapes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5,), (2, 3)])
def test_batched_points_shapes_and_values(clf, shape):
    X, y = clf
    s = D.logistic_regression(X, y, loss="squared_error")
    P = np.random.default_rng(1).normal(size=shape + (4,))
    f, g, H = s.f(P), s.grad(P), s.hess(P)
    assert f.shape == shape and g.shape == shape + (4,) and H.shape == shape + (4, 4)
    fv, gv = s.value_and_grad(P)
    assert fv.shape == shape and gv.shape == shape + (4,)
    for idx in np.ndindex(*shape):
        np.testing.assert_allclose(f[idx], s.f(P[idx]), rtol=1e-13)
        np.testing.assert_allclose(g[idx], s.grad(P[idx]), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(H[idx], s.hess(P[idx]), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(fv[idx], s.f(P[idx]), rtol=1e-13)
        np.testing.assert_allclose(gv[idx], s.grad(P[idx]), rtol=1e-12, atol=1e-14)
    one_f, one_g = s.value_and_grad(P.reshape(-1, 4)[0])
    assert np.shape(one_f) == () and one_g.shape == (4,)
    assert s.hess(P.reshape(-1, 4)[0]).shape == (4, 4)


def test_batched_points_linear_constant_hessian(reg):
    s = D.linear_regression(*reg)
    P = np.zeros((2, 3, 3))
    H = s.hess(P)
    assert H.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(H[1, 2], 2 / 30 * aug(reg[0]).T @ aug(reg[0]), rtol=1e-12)


def test_bad_point_shape_raises(clf):
    s = D.logistic_regression(*clf)
    with pytest.raises(SurfaceError, match=r"shape \(\.\.\., 4\)"):
        s.f([1.0, 2.0])


# -- mini-batches and reductions ----------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_batch_equals_surface_on_subset(clf, reduction):
    X, y = clf
    s = D.logistic_regression(X, y, reduction=reduction)
    idx = np.array([0, 5, 6, 17, 33])
    sub = D.logistic_regression(X[idx], y[idx], reduction=reduction)  # mean divides by 5
    P = np.random.default_rng(2).normal(size=(3, 4))
    for pt in (W4, P):
        np.testing.assert_allclose(s.f(pt, batch=idx), sub.f(pt), rtol=1e-13)
        np.testing.assert_allclose(s.grad(pt, batch=idx), sub.grad(pt), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(s.hess(pt, batch=idx), sub.hess(pt), rtol=1e-12, atol=1e-14)
        fb, gb = s.value_and_grad(pt, batch=idx)
        np.testing.assert_allclose(fb, sub.f(pt), rtol=1e-13)
        np.testing.assert_allclose(gb, sub.grad(pt), rtol=1e-12, atol=1e-14)


def test_one_batch_per_point(clf):
    # batch of shape (R, B): row r is the mini-batch of point r
    X, y = clf
    s = D.logistic_regression(X, y, reduction="mean")
    P = np.random.default_rng(3).normal(size=(3, 4))
    B = np.array([[0, 1, 2], [3, 3, 9], [39, 20, 10]])
    f, g, H = s.f(P, batch=B), s.grad(P, batch=B), s.hess(P, batch=B)
    for r in range(3):
        np.testing.assert_allclose(f[r], s.f(P[r], batch=B[r]), rtol=1e-13)
        np.testing.assert_allclose(g[r], s.grad(P[r], batch=B[r]), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(H[r], s.hess(P[r], batch=B[r]), rtol=1e-12, atol=1e-14)


def test_batch_errors(clf):
    s = D.logistic_regression(*clf)
    with pytest.raises(SurfaceError, match="batch index 40 is out of range"):
        s.f(W4, batch=[0, 40])
    with pytest.raises(SurfaceError, match="batch is empty"):
        s.f(W4, batch=np.array([], dtype=int))
    with pytest.raises(SurfaceError, match="sample indices"):
        s.f(W4, batch=[0.5])


def test_mean_and_sum_differ_by_exactly_n(clf):
    # mean = sum / N with N = 40 for f, gradient and Hessian
    X, y = clf
    s_sum = D.logistic_regression(X, y, reduction="sum")
    s_mean = D.logistic_regression(X, y, reduction="mean")
    np.testing.assert_allclose(s_sum.f(W4), 40 * s_mean.f(W4), rtol=1e-14)
    np.testing.assert_allclose(s_sum.grad(W4), 40 * s_mean.grad(W4), rtol=1e-14)
    np.testing.assert_allclose(s_sum.hess(W4), 40 * s_mean.hess(W4), rtol=1e-14)


# -- numerical stability -----------------------------------------------------------------------
def test_no_overflow_for_huge_linear_predictor():
    # One sample x = 1 and |z| = |w| = 1e4. Cross-entropy grows linearly: for y = 0,
    # softplus(1e4) = 1e4 exactly in floating point; gradient sigma(1e4) - 0 = 1; Hessian
    # sigma (1 - sigma) = 0. For y = 1 at z = -1e4: loss 1e4, gradient sigma(-1e4) - 1 = -1.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s0 = D.logistic_regression([[1.0]], [0.0], bias=False)
        s1 = D.logistic_regression([[1.0]], [1.0], bias=False)
        assert s0.f([1e4]) == 1e4 and s1.f([-1e4]) == 1e4
        assert s0.f([2e4]) == 2e4  # linear growth
        assert s0.grad([1e4])[0] == 1.0 and s1.grad([-1e4])[0] == -1.0
        assert s0.hess([1e4])[0, 0] == 0.0
        # saturated sigmoid with squared errors: loss (y - 1)^2 = 1, zero gradient
        sq = D.logistic_regression([[1.0]], [0.0], bias=False, loss="squared_error")
        assert sq.f([1e4]) == 1.0 and sq.grad([1e4])[0] == 0.0 and sq.hess([-1e4])[0, 0] == 0.0
        # many samples, batched evaluation, both signs of z
        X = np.random.default_rng(0).normal(size=(50, 2))
        y = (X[:, 0] > 0).astype(float)
        s = D.logistic_regression(X, y)
        P = np.array([[1e4, -1e4, 3e3], [-1e4, 1e4, -5e3]])
        for out in (s.f(P), s.grad(P), s.hess(P)):
            assert np.all(np.isfinite(out))


def test_check_raises_on_overflow_and_check_false_does_not_warn(reg):
    # (1e200)^2 overflows to inf: check=True names the point, check=False returns inf quietly
    s = D.linear_regression(*reg)
    with pytest.raises(SurfaceError, match="not finite at"):
        s.f([1e200, 0.0, 0.0])
    assert s.f([1e200, 0.0, 0.0], check=False) == np.inf


def test_build_does_no_per_sample_work():
    # Nothing at build time depends on N: no sympy term per sample (the symbolic view is
    # built on first use), window and minima lazy, no copy of the data. The build-time
    # comparison N = 100,000 vs N = 10 is a row of benchmarks/bench_surfaces.py.
    ds = D.make_blobs(100_000, 3, seed=0)
    s = D.logistic_regression(ds)
    for lazy in ("expression", "gradient", "hessian", "latex", "text", "window", "minima"):
        assert lazy not in vars(s), lazy
    for value in vars(s).values():
        if isinstance(value, np.ndarray) and value.size >= ds.n_samples:
            assert np.shares_memory(value, ds.X_aug) or np.shares_memory(value, ds.y)


# -- the notes' surfaces -------------------------------------------------------------------------
def test_notes_four_point_surface_by_hand():
    # E(w) = sum_{i=1}^4 (y^i - sigma(w . x^i))^2 on ((-3,-3),1), ((-2,-2),1), ((4,4),0),
    # ((2,-5),0), no bias (notes 002, line 138).
    s = D.sigmoid_four_point_surface()
    assert s.variables == ("w1", "w2") and s.n_samples == 4 and not s.bias

    def sgm(t):
        return 1 / (1 + math.exp(-t))

    # w = 0: every sigma is 1/2, so E = 2 (1 - 1/2)^2 + 2 (1/2)^2 = 1
    assert s.f([0.0, 0.0]) == pytest.approx(1.0, abs=1e-15)
    # w = (1, -1): z = 0, 0, 0, 2 + 5 = 7, so E = 3/4 + sigma(7)^2
    assert s.f([1.0, -1.0]) == pytest.approx(0.75 + sgm(7) ** 2, rel=1e-14)
    # w = (-1, 0.2) separates the classes: z = 2.4, 1.6, -3.2, -3
    want = (1 - sgm(2.4)) ** 2 + (1 - sgm(1.6)) ** 2 + sgm(-3.2) ** 2 + sgm(-3.0) ** 2
    assert s.f([-1.0, 0.2]) == pytest.approx(want, rel=1e-14)
    # gradient at 0: sum -2 (y - 1/2)(1/4) x = -(y - 1/2)/2 x
    #   = (0.75, 0.75) + (0.5, 0.5) + (1, 1) + (0.5, -1.25) = (2.75, 1.0)
    np.testing.assert_allclose(s.grad([0.0, 0.0]), [2.75, 1.0], rtol=1e-14)
    # separable data: no minimizer, nothing reported
    assert s.minima == []


def test_notes_four_point_symbolic_expression_is_explicit_and_exact():
    s = D.sigmoid_four_point_surface()
    w1, w2 = s.symbols
    sg = D.sigmoid
    want = (
        (1 - sg(-3 * w1 - 3 * w2)) ** 2
        + (1 - sg(-2 * w1 - 2 * w2)) ** 2
        + sg(4 * w1 + 4 * w2) ** 2
        + sg(2 * w1 - 5 * w2) ** 2
    )
    assert sp.simplify(s.expression - want) == 0
    assert s.symbolic_exact
    # the exact symbolic gradient / Hessian agree with the numeric ones (evalf path)
    pt = {w1: sp.Rational(3, 10), w2: sp.Rational(-1, 2)}
    x = np.array([0.3, -0.5])
    g = np.array([float(e.subs(pt).evalf(30)) for e in s.gradient])
    H = np.array([[float(s.hessian[i, j].subs(pt).evalf(30)) for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(s.grad(x), g, rtol=1e-13)
    np.testing.assert_allclose(s.hess(x), H, rtol=1e-12, atol=1e-15)
    # an ordinary lambdify of the expression works (sigmoid carries its numpy form)
    fn = sp.lambdify([w1, w2], s.expression, modules="numpy")
    assert fn(0.3, -0.5) == pytest.approx(float(s.f(x)), rel=1e-13)
    assert r"\sigma" in s.latex["f"]


def test_toy_sigmoid_surface():
    # L(w, b) = sum_i 1/2 (sigma(w x_i + b) - y_i)^2 on X = [0.5, 2.5], Y = [0.2, 0.9]
    # (notes 001, line 463 and eq. 9). At the notes' GD start (w, b) = (-2, -2):
    # z = -3 and -7.
    s = D.toy_sigmoid_surface()
    assert s.variables == ("w", "b")

    def sgm(t):
        return 1 / (1 + math.exp(-t))

    a, c = sgm(-3.0), sgm(-7.0)
    assert s.f([-2.0, -2.0]) == pytest.approx(
        0.5 * (a - 0.2) ** 2 + 0.5 * (c - 0.9) ** 2, rel=1e-14
    )
    # eq. 9: dw = sum (f - y) f (1 - f) x, db = sum (f - y) f (1 - f)
    ga, gc = (a - 0.2) * a * (1 - a), (c - 0.9) * c * (1 - c)
    np.testing.assert_allclose(s.grad([-2.0, -2.0]), [0.5 * ga + 2.5 * gc, ga + gc], rtol=1e-13)
    # the exact minimizer: sigma(0.5 w + b) = 0.2 and sigma(2.5 w + b) = 0.9, loss 0
    (m,) = s.minima
    assert m.value == 0.0
    assert s.f(m.point) == pytest.approx(0.0, abs=1e-25)
    np.testing.assert_allclose(s.grad(m.point), 0.0, atol=1e-14)


# -- data sets -------------------------------------------------------------------------------------
def test_builtin_datasets():
    four = D.notes_four_points()
    np.testing.assert_array_equal(four.X, [[-3, -3], [-2, -2], [4, 4], [2, -5]])
    np.testing.assert_array_equal(four.y, [1, 1, 0, 0])
    toy = D.toy_sigmoid()
    np.testing.assert_array_equal(toy.X[:, 0], [0.5, 2.5])
    np.testing.assert_array_equal(toy.y, [0.2, 0.9])
    with pytest.raises(ValueError):
        four.X[0, 0] = 7.0  # read-only


def test_from_points_rows_and_pairs():
    a = D.Dataset.from_points([[1, 2, 0], [3, 4, 1]])
    b = D.Dataset.from_points(([[1, 2], [3, 4]], [0, 1]))
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.feature_names == ("x1", "x2") and a.n_samples == 2 and a.dim == 2
    with pytest.raises(SurfaceError, match="point 1 has 2 values; point 0 has 3"):
        D.Dataset.from_points([[1, 2, 0], [3, 1]])
    with pytest.raises(SurfaceError, match="point 0, column x2: 'a' is not a number"):
        D.Dataset.from_points([[1, "a", 0]])


def test_csv_round_trip(tmp_path):
    ds = D.make_linear(25, 3, noise=0.3, seed=4)
    path = ds.to_csv(tmp_path / "lin.csv")
    back = D.Dataset.from_csv(path, target="y")
    np.testing.assert_array_equal(back.X, ds.X)  # repr floats: bit-exact
    np.testing.assert_array_equal(back.y, ds.y)
    assert back.feature_names == ("x1", "x2", "x3")
    # feature selection
    two = D.Dataset.from_csv(path, target="y", features=["x3", "x1"])
    np.testing.assert_array_equal(two.X, ds.X[:, [2, 0]])


def test_csv_errors(tmp_path):
    with pytest.raises(SurfaceError, match="does not exist"):
        D.Dataset.from_csv(tmp_path / "missing.csv")
    p = tmp_path / "d.csv"
    p.write_text("a,b,label\n1,2,0\n3,4,1\n")
    with pytest.raises(
        SurfaceError,
        match=r"target column 'lable' not found \(did you mean "
        r"'label'\?\); columns: a, b, label",
    ):
        D.Dataset.from_csv(p, target="lable")
    p.write_text("a,b,y\n1,2,0\n3,x4,1\n")
    with pytest.raises(SurfaceError, match=r"row 3, column 'b': 'x4' is not a number"):
        D.Dataset.from_csv(p)
    p.write_text("a,b,y\n1,2,0\n3,1\n")
    with pytest.raises(SurfaceError, match="row 3 has 2 cells; the header has 3"):
        D.Dataset.from_csv(p)
    p.write_text("a,b,y\n1,nan,0\n")
    with pytest.raises(SurfaceError, match=r"row 2, column 'b': 'nan' is not a finite"):
        D.Dataset.from_csv(p)
    p.write_text("")
    with pytest.raises(SurfaceError, match="is empty"):
        D.Dataset.from_csv(p)


def test_dataset_validation():
    with pytest.raises(SurfaceError, match="non-finite value nan at sample 1, column 'x2'"):
        D.Dataset([[0, 1], [2, np.nan]], [0, 1])
    with pytest.raises(SurfaceError, match=r"y must have shape \(2,\)"):
        D.Dataset([[0, 1], [2, 3]], [0, 1, 1])
    with pytest.raises(SurfaceError, match="labels in \\[0, 1\\].*label 2"):
        D.logistic_regression([[0.0], [1.0]], [0.0, 2.0])


def test_generators_reproducible_by_seed():
    a, b, c = (D.make_blobs(60, 3, seed=s, separation=2.0) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    assert sorted(set(a.y.tolist())) == [0.0, 1.0] and a.y.sum() == 30  # n // 2 of each
    # centres -/+ separation/2 * (1,..,1)/sqrt(dim): class means differ by ~separation
    gap = np.linalg.norm(a.X[a.y == 1].mean(0) - a.X[a.y == 0].mean(0))
    assert 1.0 < gap < 3.0
    la, lb = D.make_linear(40, 2, noise=0.1, seed=9), D.make_linear(40, 2, noise=0.1, seed=9)
    np.testing.assert_array_equal(la.X, lb.X)
    np.testing.assert_array_equal(la.y, lb.y)
    # noise 0: y is exactly X w + b with the recorded true weights
    exact = D.make_linear(10, 2, noise=0.0, seed=1)
    np.testing.assert_allclose(
        exact.y, exact.X @ exact.info["weights"] + exact.info["bias"], rtol=1e-15
    )


# -- minima, regularization ---------------------------------------------------------------------
def test_linear_regression_minimum_is_lstsq(reg):
    X, y = reg
    s = D.linear_regression(X, y)
    (m,) = s.minima
    ref, *_ = np.linalg.lstsq(aug(X), y, rcond=None)
    np.testing.assert_allclose(m.point, ref, rtol=1e-12)
    assert m.value == pytest.approx(np.mean((aug(X) @ ref - y) ** 2), rel=1e-12)
    np.testing.assert_allclose(s.grad(m.point), 0.0, atol=1e-12)
    lo, hi = s.window.T
    assert np.all((lo < m.point) & (m.point < hi)) and np.all((lo < 0) & (0 < hi))


def test_ridge_minimum_does_not_penalize_bias(reg):
    # f = 1/N ||Xa w - y||^2 + l2/2 ||w||^2 (bias excluded):
    # (2/N Xa^T Xa + l2 D) x = 2/N Xa^T y with D = diag(1, 1, 0)
    X, y = reg
    s = D.linear_regression(X, y).regularized(l2=0.5)
    Xa = aug(X)
    want = np.linalg.solve(2 / 30 * Xa.T @ Xa + 0.5 * np.diag([1.0, 1.0, 0.0]), 2 / 30 * Xa.T @ y)
    np.testing.assert_allclose(s.minima[0].point, want, rtol=1e-12)
    np.testing.assert_allclose(s.grad(want), 0.0, atol=1e-12)


def test_regularization_weights_only(clf):
    X, y = clf
    s = D.logistic_regression(X, y)
    r = s.regularized(l1=0.1, l2=2.0)
    w = W4[:3]
    # f adds l2/2 ||w||^2 + l1 ||w||_1; gradient adds l2 w + l1 sign(w) on weights, 0 on b
    assert r.f(W4) == pytest.approx(s.f(W4) + 1.0 * w @ w + 0.1 * np.abs(w).sum(), rel=1e-14)
    np.testing.assert_allclose(
        r.grad(W4) - s.grad(W4), [*(2.0 * w + 0.1 * np.sign(w)), 0.0], rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(r.hess(W4) - s.hess(W4), np.diag([2.0, 2.0, 2.0, 0.0]), atol=1e-12)
    P = np.stack([W4, -W4])
    np.testing.assert_allclose(r.grad(P)[1], r.grad(-W4), rtol=1e-13)
    b = s.symbols[-1]
    assert b not in r.expression.free_symbols - s.expression.free_symbols
    assert "||w||^2" in r.text


def test_with_parameters_is_refused(clf):
    s = D.logistic_regression(*clf)
    assert s.with_parameters() is s
    with pytest.raises(SurfaceError, match="no parameters"):
        s.with_parameters(a=1)


def test_logistic_minimum_by_newton_when_it_exists():
    # overlapping blobs: the cross-entropy is strictly convex with a finite minimizer
    s = D.logistic_regression(D.make_blobs(200, 2, seed=3, separation=1.0))
    (m,) = s.minima
    np.testing.assert_allclose(s.grad(m.point), 0.0, atol=1e-8)
    assert np.all(np.linalg.eigvalsh(s.hess(m.point)) > 0)
    # separable data (the notes' four points): the infimum 0 is not attained
    assert D.logistic_regression(D.notes_four_points(), bias=False).minima == []
    # ... but with l2 > 0 it is
    ridge = D.logistic_regression(D.notes_four_points(), bias=False).regularized(l2=1.0)
    (mr,) = ridge.minima
    np.testing.assert_allclose(ridge.grad(mr.point), 0.0, atol=1e-12)


def test_large_n_symbolic_form_is_an_indexed_sum():
    s = D.logistic_regression(D.make_blobs(100, 2, seed=0))
    assert not s.symbolic_exact
    assert s.expression.has(sp.Sum)
    assert "\\sum_{i=1}^{100}" in s.latex["f"]
    assert s.gradient.shape == (3, 1) and s.hessian.shape == (3, 3)
    assert "softplus" in s.text and "i = 1..100" in s.text


def test_sample_loss_is_symbolic_in_weights_x_and_y():
    s = D.logistic_regression(D.make_blobs(30, 2, seed=0))
    names = {str(v) for v in s.sample_loss.free_symbols}
    assert names == {"w1", "w2", "b", "x1", "x2", "y"}


def test_mini_batch_sampling_is_seeded():
    s = D.logistic_regression(D.make_blobs(20, 2, seed=0))
    a = s.sample_batch(5, np.random.default_rng(1))
    b = s.sample_batch(5, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) == 5
    it = s.epoch_batches(6, seed=0)
    epoch = np.concatenate([next(it) for _ in range(4)])  # 6 + 6 + 6 + 2
    assert sorted(epoch.tolist()) == list(range(20))


# -- config dictionaries ---------------------------------------------------------------------------
def test_make_data_surface_kinds(tmp_path):
    s = D.make_data_surface(
        {"data": "sigmoid_mse", "dataset": {"builtin": "notes_four_points"}, "bias": False}
    )
    assert s.f([1.0, -1.0]) == D.sigmoid_four_point_surface().f([1.0, -1.0])
    lin = D.make_data_surface(
        {
            "data": "linear",
            "dataset": {"generate": "linear", "n": 50, "dim": 2, "seed": 1, "noise": 0.2},
        }
    )
    assert lin.reduction == "mean" and lin.loss == "squared_error" and lin.n == 3
    D.make_linear(12, 1, seed=2).to_csv(tmp_path / "d.csv")
    c = D.make_data_surface({"data": "linear", "dataset": {"csv": "d.csv"}}, base_dir=tmp_path)
    assert c.n_samples == 12
    pts = D.make_data_surface(
        {
            "data": "logistic",
            "dataset": {"points": [[0, 0], [1, 1]]},
            "reduction": "mean",
            "l2": 0.1,
        }
    )
    assert pts.loss == "cross_entropy" and pts.l2 == 0.1
    blobs = D.make_data_surface(
        {"data": "logistic", "dataset": {"generate": "blobs", "n": 30, "separation": 2}}
    )
    assert blobs.n_samples == 30


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            {"data": "logistc", "dataset": {"builtin": "toy"}},
            r"'data' must be one of logistic, sigmoid_mse, linear; got 'logistc' \(did you mean "
            r"'logistic'\?\)",
        ),
        (
            {"data": "linear", "dataset": {"builtin": "toy"}, "loss": "cross_entropy"},
            r"'loss' must be one of squared_error, half_squared_error; got 'cross_entropy'",
        ),
        (
            {"data": "logistic", "dataset": {"builtin": "toy"}, "reduction": "avg"},
            r"'reduction' must be one of sum, mean; got 'avg'",
        ),
        (
            {"data": "logistic", "dataset": {"builtin": "four"}},
            r"'dataset.builtin' must be one of notes_four_points, toy; got 'four'",
        ),
        (
            {"data": "logistic", "dataset": {"generate": "moons"}},
            r"'dataset.generate' must be one of blobs, linear; got 'moons'",
        ),
        (
            {"data": "logistic", "dataset": {"builtin": "toy", "csv": "x.csv"}},
            r"exactly one of points, csv, generate, builtin",
        ),
        (
            {"data": "logistic", "dataset": {"generate": "blobs", "n": 0}},
            r"'n' must be an integer >= 2; got 0",
        ),
        (
            {"data": "logistic", "datset": {"builtin": "toy"}},
            r"unknown key 'datset'.*\(did you mean 'dataset'\?\)",
        ),
        ({"data": "logistic"}, r"missing required key 'dataset'"),
        (
            {"data": "logistic", "dataset": {"builtin": "toy"}, "bias": "yes"},
            r"'bias' must be true or false; got 'yes'",
        ),
        (
            {"data": "logistic", "dataset": {"generate": "blobs", "noise": 0.1}},
            r"'dataset.noise' is for generate: linear",
        ),
    ],
)
def test_make_data_surface_errors(spec, message):
    with pytest.raises(SurfaceError, match=message):
        D.make_data_surface(spec)


def test_data_set_sizes_are_limited_before_allocating():
    # 10^9 generated samples would need 16 GB before anything could fail; 10^5 features
    # would make a 100001-variable surface (symbolic surfaces are capped at 100 variables).
    from optiviz.data import make_blobs, make_linear

    with pytest.raises(SurfaceError, match="at most 10000000 samples"):
        make_blobs(n=10**9, dim=2, seed=0)
    with pytest.raises(SurfaceError, match="at most 99 are allowed"):
        make_linear(n=10, dim=10**5, seed=0)
    assert make_blobs(n=10, dim=99, seed=0).X.shape == (10, 99)


def test_errors_carry_structured_fields():
    # the config parser reads owner / key / value / allowed instead of the message text
    with pytest.raises(SurfaceError) as e:
        D.make_blobs(n=0)
    assert (e.value.key, e.value.value, e.value.allowed) == ("n", 0, "an int in the range [2, inf)")
    with pytest.raises(SurfaceError) as e:
        D.make_data_surface({"data": "logistic", "dataset": {"builtin": "toy"}, "loss": "mse"})
    assert (e.value.owner, e.value.key, e.value.value) == ("data surface", "loss", "mse")
    assert e.value.allowed == "one of cross_entropy, squared_error, half_squared_error"
    with pytest.raises(SurfaceError) as e:
        D.make_data_surface({"data": "logistic", "datset": {"builtin": "toy"}})
    assert (e.value.key, e.value.value) == ("datset", "datset")
    with pytest.raises(SurfaceError, match="at most 99 are allowed") as e:
        D.make_linear(n=10, dim=10**5)
    assert (e.value.key, e.value.value) == ("features", 10**5)
    # bools are never numbers (one rule for every layer)
    with pytest.raises(SurfaceError, match="'n' must be an integer >= 2; got True"):
        D.make_blobs(n=True)
