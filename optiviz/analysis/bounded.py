"""Whether a surface is bounded below, decided soundly or left unknown.

* A quadratic: exactly (a positive semidefinite Hessian and the linear term in its range).
* Interval bounds (:func:`interval`): every term of ``f`` is bounded below over all of
  ``R^n`` -- squares, ``|.|``, ``exp``, ``cos``, ``sqrt``, products and sums of bounded
  pieces -- so ``f`` is (Rastrigin, Ackley, sums of squares plus ``|.|`` terms).
* A polynomial: odd degree, or a leading form negative along a direction, is unbounded
  below; a positive definite leading form (certified on the faces of the cube
  ``[-1, 1]^n`` by branch and bound with a Lipschitz bound, :func:`form_positive_definite`)
  or dominating pure powers (:func:`pure_powers_dominate`) bound it below.
* A sum of a polynomial bounded below and terms with finite interval bounds.
* A data surface: each per-sample loss is nonnegative; logistic regression on linearly
  separable data has no minimizer (:func:`separating_direction` finds a direction that
  separates the classes: a proof), and ``l2 > 0`` (or ``l1 > 0``) gives one.

Everything not decided by these sound arguments stays ``None`` ("unknown").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiviz._format import fmt_number
from optiviz.analysis._hessian import EIG_TOL, _sym
from optiviz.analysis._surface import _is_data, _is_quadratic

Array = np.ndarray
INF = math.inf

#: Box evaluations allowed to certify a leading form positive definite (else: unknown).
PD_BUDGET = 200_000


def bounded_below(surface: Any) -> tuple[bool | None, str]:
    """Whether f is bounded below: ``(True | False | None, reason)``; None is unknown.

    Every True and False is proved (see the module docstring); anything else is None.
    """
    if _is_data(surface):
        return _data_bounded(surface)
    if _is_quadratic(surface):
        return _quadratic_bounded(surface)
    if not getattr(surface, "symbolic_exact", True):
        return None, "not decided (no exact symbolic form)"
    summed = _sum_bounded(surface)
    if summed is not None:
        return summed
    import sympy as sp

    try:
        expr = surface.expression
        syms = list(surface.symbols)
    except AttributeError:
        return None, "no symbolic form"
    try:
        if expr.is_nonnegative:
            return True, "the expression is a sum of nonnegative terms"
    except Exception:  # noqa: BLE001 - sympy assumption queries can fail on odd input
        pass
    lo, _ = interval(expr)
    if lo > -INF:
        return True, (
            f"every term is bounded below: interval bounds over R^n give f >= "
            f"{fmt_number(lo)}, up to round-off"
        )
    if getattr(surface, "is_polynomial", False):
        from optiviz.surface import expand_refusal

        refusal = expand_refusal(surface)
        if refusal is not None:
            return None, f"a polynomial, not expanded: {refusal}"
        return _polynomial_bounded(sp.Poly(sp.expand(expr), *syms))
    # a polynomial part plus terms with finite interval bounds
    from optiviz.surface import MAX_EXPAND_TERMS, expansion_terms

    if expansion_terms(expr, syms) > MAX_EXPAND_TERMS:
        return None, "not decided (too large to expand)"
    terms = sp.Add.make_args(sp.expand(expr))
    poly_terms = []
    for t in terms:
        if t.is_polynomial(*syms):
            poly_terms.append(t)
        elif interval(t)[0] == -INF:
            return None, "not decided"
    if poly_terms and len(poly_terms) < len(terms):
        ok, why = _polynomial_bounded(sp.Poly(sp.Add(*poly_terms), *syms))
        if ok:
            return True, (
                f"the polynomial part is bounded below: {why}; the other terms have finite "
                "interval bounds"
            )
        if ok is False:
            # the other terms are bounded (below and maybe not above): undecided in general
            return None, "not decided (its polynomial part is unbounded below)"
    return None, "not decided"


def _quadratic_bounded(surface: Any) -> tuple[bool, str]:
    n = surface.n
    z = np.zeros(n)
    H = _sym(surface.hess(z, check=False))
    b = np.asarray(surface.grad(z, check=False), dtype=float)
    lam = np.linalg.eigvalsh(H)
    scale = max(float(np.max(np.abs(lam))), 0.0)
    if lam[0] < -EIG_TOL * max(scale, 1e-300):
        return False, (
            f"the Hessian has a negative eigenvalue ({fmt_number(lam[0])}): unbounded "
            "below along its eigenvector"
        )
    if lam[0] > EIG_TOL * scale:  # definite: H x = -b is solvable (no least squares needed)
        return True, "quadratic with a positive semidefinite Hessian and a stationary point"
    x, *_ = np.linalg.lstsq(H, -b, rcond=None)
    if np.linalg.norm(H @ x + b) > 1e-10 * max(1.0, float(np.linalg.norm(b))):
        return False, "the linear term has a component where the Hessian is flat"
    return True, "quadratic with a positive semidefinite Hessian and a stationary point"


# -- interval bounds ------------------------------------------------------------------------------
def _mul(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Interval product with 0 * inf = 0 (an endpoint 0 is exactly 0)."""

    def m(u: float, v: float) -> float:
        return 0.0 if u == 0.0 or v == 0.0 else u * v

    ps = [m(a[0], b[0]), m(a[0], b[1]), m(a[1], b[0]), m(a[1], b[1])]
    return min(ps), max(ps)


def _pow_int(a: tuple[float, float], k: int) -> tuple[float, float]:
    lo, hi = a
    if k == 0:
        return 1.0, 1.0
    if k > 0:
        p = lambda v: v**k if abs(v) < INF else (INF if (k % 2 == 0 or v > 0) else -INF)  # noqa: E731
        if k % 2 == 1:
            return p(lo), p(hi)
        if lo >= 0:
            return p(lo), p(hi)
        if hi <= 0:
            return p(hi), p(lo)
        return 0.0, max(p(lo), p(hi))
    # negative powers: 1 / a^|k|
    lo_k, hi_k = _pow_int(a, -k)
    if lo_k > 0:
        return (0.0 if hi_k == INF else 1.0 / hi_k), 1.0 / lo_k
    if hi_k < 0:
        return 1.0 / hi_k, (0.0 if lo_k == -INF else 1.0 / lo_k)
    return -INF, INF


def _sum_bounded(surface: Any) -> tuple[bool, str] | None:
    """A sum of one term over an index (:class:`optiviz.structured.SumSurface`) is bounded
    below when each summed term is: ``f >= sum over the parts of (terms) x (the term's
    lower bound)``, decided on the term once instead of on the explicit sum of O(n) terms
    (measured: 28.7 s for the explicit 1000-D Rosenbrock's sympy assumptions). None when a
    term is not bounded below this way, or uses the index as a number: the explicit sum
    then decides."""
    from optiviz.structured import SumSurface

    if not isinstance(surface, SumSurface):
        return None
    total, every_nonnegative = 0.0, True
    for part in surface._parts:
        if part.uses_index:
            return None
        try:
            nonneg = bool(part.expr.is_nonnegative)
        except Exception:  # noqa: BLE001 - sympy assumption queries can fail on odd input
            nonneg = False
        lo = interval(part.expr)[0]
        lo = max(lo, 0.0) if nonneg else lo
        if lo == -INF:
            return None
        total += part.m * lo
        every_nonnegative &= nonneg
    # (l1 |w|_1 and l2 / 2 |w|^2 are nonnegative: they keep the bound)
    if every_nonnegative:
        return True, "the expression is a sum of nonnegative terms (each summed term is)"
    return True, (
        f"every summed term is bounded below: interval bounds give f >= {fmt_number(total)}, "
        "up to round-off"
    )


def interval(expr: Any) -> tuple[float, float]:
    """Bounds ``(lo, hi)`` of a sympy expression over all real values of its symbols.

    Sound interval arithmetic (``lo`` may be ``-inf``, ``hi`` ``inf``): a finite ``lo``
    proves the expression bounded below. Correlations are lost (``x^2 - x`` gets
    ``-inf``), so a ``-inf`` decides nothing. Floating-point rounding moves the finite
    bounds by round-off only.
    """
    import sympy as sp

    e = expr
    if e.is_Number or e is sp.pi or e is sp.E or (e.is_number and e.is_real):
        try:
            v = float(e)
        except (TypeError, ValueError):
            return -INF, INF
        return (v, v) if math.isfinite(v) else (-INF, INF)
    if e.is_Symbol:
        if e.is_nonnegative:
            return 0.0, INF
        if e.is_nonpositive:
            return -INF, 0.0
        return -INF, INF
    if e.is_Add:
        lo = hi = 0.0
        for a in e.args:
            alo, ahi = interval(a)
            lo, hi = lo + alo, hi + ahi
            if math.isnan(lo):
                lo = -INF
            if math.isnan(hi):
                hi = INF
        return lo, hi
    if e.is_Mul:
        acc = (1.0, 1.0)
        for a in e.args:
            acc = _mul(acc, interval(a))
        return acc
    if e.is_Pow:
        base, ex = e.args
        if ex.is_Integer:
            return _pow_int(interval(base), int(ex))
        if base is sp.E:
            lo, hi = interval(ex)
            return _exp(lo), _exp(hi)
        if ex.is_number and ex.is_real:
            q = float(ex)
            blo, bhi = interval(base)
            blo = max(blo, 0.0)  # real powers with non-integer exponents need base >= 0
            if bhi < 0:
                return -INF, INF
            if q > 0:
                return blo**q, (INF if bhi == INF else bhi**q)
            if blo > 0:
                return (0.0 if bhi == INF else bhi**q), blo**q
        return -INF, INF
    if isinstance(e, sp.exp):
        lo, hi = interval(e.args[0])
        return _exp(lo), _exp(hi)
    if isinstance(e, (sp.cos, sp.sin)):
        return -1.0, 1.0
    if isinstance(e, (sp.tanh, sp.sign)):
        return -1.0, 1.0
    if isinstance(e, sp.Heaviside):
        return 0.0, 1.0
    if isinstance(e, sp.atan):
        return -math.pi / 2, math.pi / 2
    if isinstance(e, sp.Abs):
        lo, hi = interval(e.args[0])
        if lo >= 0:
            return lo, hi
        if hi <= 0:
            return -hi, -lo
        return 0.0, max(-lo, hi)
    if isinstance(e, sp.cosh):
        lo, hi = interval(e.args[0])
        m = 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
        big = max(abs(lo), abs(hi))
        return math.cosh(m), (INF if big > 700 else math.cosh(big))
    if isinstance(e, sp.log):
        lo, hi = interval(e.args[0])
        if hi <= 0:
            return -INF, INF
        return (math.log(lo) if lo > 0 else -INF), (INF if hi == INF else math.log(hi))
    if isinstance(e, sp.Max):
        bs = [interval(a) for a in e.args]
        return max(b[0] for b in bs), max(b[1] for b in bs)
    if isinstance(e, sp.Min):
        bs = [interval(a) for a in e.args]
        return min(b[0] for b in bs), min(b[1] for b in bs)
    return -INF, INF


def _exp(v: float) -> float:
    if v == -INF:
        return 0.0
    if v == INF or v > 709:
        return INF
    return math.exp(v)


# -- polynomials ----------------------------------------------------------------------------------
def _polynomial_bounded(poly: Any) -> tuple[bool | None, str]:
    deg = poly.total_degree()
    if deg <= 0:
        return True, "a constant"
    if deg % 2 == 1:
        return False, f"a polynomial of odd degree {deg} is unbounded below"
    n = len(poly.gens)
    terms = [(tuple(m), float(c)) for m, c in poly.terms()]
    top = [(m, c) for m, c in terms if sum(m) == deg]
    exps = np.array([m for m, _ in top], dtype=float).reshape(-1, n)
    coef = np.array([c for _, c in top])
    rng = np.random.default_rng(0)
    dirs = rng.standard_normal((256, n))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    vals = _eval_form(exps, coef, dirs)
    if np.min(vals) < -1e-9 * max(1.0, float(np.max(np.abs(vals)))):
        return False, f"the degree-{deg} leading form is negative along some direction"
    if form_positive_definite(exps, coef):
        return True, (
            f"the degree-{deg} leading form is positive definite (certified by branch and "
            f"bound): f grows like |x|^{deg}"
        )
    if pure_powers_dominate(terms, n):
        return True, (
            "each variable's highest pure power is even with a positive coefficient and "
            "dominates every other monomial"
        )
    return None, "not decided"


def _eval_form(exps: Array, coef: Array, X: Array) -> Array:
    """A form given by monomial exponents ``(M, n)`` and coefficients at points ``(S, n)``."""
    with np.errstate(all="ignore"):
        return np.prod(X[:, None, :] ** exps[None, :, :], axis=-1) @ coef


def form_positive_definite(exps: Array, coef: Array, budget: int = PD_BUDGET) -> bool:
    """Certify a homogeneous form of even degree positive definite (True) or give up.

    ``p(x) > 0`` for ``x != 0`` iff ``p > 0`` on the boundary of ``[-1, 1]^n`` (scale any
    ``x`` onto it), and ``p(-x) = p(x)``, so the faces ``x_i = 1`` suffice. On the cube
    ``|p(u) - p(v)| <= L ||u - v||_inf`` with ``L = d sum |c|``; a box of half-width
    ``r`` around ``c`` is certified when ``p(c) - L r`` exceeds a round-off margin, split
    in ``2^(n-1)`` otherwise. A centre with ``p(c) <= 0`` or more than ``budget`` box
    evaluations: False (not certified).
    """
    n = exps.shape[1]
    d = float(exps.sum(axis=1).max()) if len(exps) else 0.0
    if d <= 0 or d % 2:
        return False
    if n == 1:
        return bool(coef.sum() > 0)
    if 4 ** (n - 1) > budget:  # the first grid of a face alone exceeds the budget (no alloc)
        return False
    L = d * float(np.sum(np.abs(coef)))
    margin = 1e-12 * float(np.sum(np.abs(coef)))
    k = 4
    axes = (np.arange(k) + 0.5) / k * 2 - 1
    grid = np.stack(np.meshgrid(*([axes] * (n - 1)), indexing="ij"), -1).reshape(-1, n - 1)
    r = 1.0 / k
    children = np.stack(np.meshgrid(*([[-0.5, 0.5]] * (n - 1)), indexing="ij"), -1).reshape(
        -1, n - 1
    )
    used = 0
    for face in range(n):
        boxes, rad = grid.copy(), r
        while len(boxes):
            used += len(boxes)
            if used > budget:
                return False
            X = np.insert(boxes, face, 1.0, axis=1)
            v = _eval_form(exps, coef, X)
            if not np.all(np.isfinite(v)) or np.min(v) <= margin:
                return False
            open_ = boxes[v - L * rad <= margin]
            rad /= 2
            boxes = (open_[:, None, :] + children[None, :, :] * (2 * rad)).reshape(-1, n - 1)
    return True


def pure_powers_dominate(terms: list[tuple[tuple[int, ...], float]], n: int) -> bool:
    """A polynomial is bounded below (in fact coercive) when, for each variable ``x_i``
    appearing in it, its highest pure power ``x_i^d_i`` has an even ``d_i`` and a positive
    coefficient, and every other monomial ``x^a`` has ``sum_i a_i / d_i < 1``.

    Proof: with ``N = max_i |x_i|^d_i``, ``|x^a| <= N^(sum a_i/d_i)`` and the pure powers
    sum to at least ``min_i p_i N``, which outgrows every ``N^t`` with ``t < 1``.
    """
    d = [0] * n
    p = [0.0] * n
    for m, c in terms:
        nz = [i for i, e in enumerate(m) if e]
        if len(nz) == 1 and m[nz[0]] > d[nz[0]]:
            d[nz[0]], p[nz[0]] = m[nz[0]], c
    used = {i for m, _ in terms for i, e in enumerate(m) if e}
    for i in used:
        if d[i] == 0 or d[i] % 2 or p[i] <= 0:
            return False
    for m, _ in terms:
        nz = [i for i, e in enumerate(m) if e]
        if len(nz) == 1 and m[nz[0]] == d[nz[0]]:
            continue
        if sum(m[i] / d[i] for i in nz) >= 1:
            return False
    return True


# -- data surfaces --------------------------------------------------------------------------------
def _data_bounded(surface: Any) -> tuple[bool | None, str]:
    """Every per-sample loss of a data surface is nonnegative (cross-entropy with labels in
    [0, 1], squared errors) and so are the penalties: f >= 0."""
    if getattr(surface, "loss", None) in ("cross_entropy", "squared_error", "half_squared_error"):
        return True, "every per-sample loss and penalty is nonnegative: f >= 0"
    return None, "data surface: not decided"


def separating_direction(surface: Any) -> tuple[Array, float] | None:
    """``(w, b)`` with ``(2 y_i - 1)(w . x_i + b) > 0`` for every sample of a logistic
    regression with 0/1 labels (b = 0 without a bias), or None if none was found.

    Candidates: the difference of the class means, then Newton steps on the unregularized
    cross-entropy from 0 (on separable data the iterates grow along a separating
    direction); each is checked exactly, so a returned pair proves the classes linearly
    separable. None proves nothing.
    """
    if getattr(surface, "link", None) != "sigmoid" or getattr(surface, "loss", None) != (
        "cross_entropy"
    ):
        return None
    X = np.asarray(surface.dataset.X, dtype=float)
    y = np.asarray(surface.dataset.y, dtype=float)
    if not np.all((y == 0) | (y == 1)) or y.min() == y.max():
        return None
    s = 2 * y - 1
    bias = bool(surface.bias)

    def check(w: Array) -> tuple[Array, float] | None:
        z = X @ w
        if bias:
            lo, hi = float(np.max(z[s < 0])), float(np.min(z[s > 0]))
            if lo < hi:
                b = -(lo + hi) / 2
                if np.all(s * (z + b) > 0):
                    return w, b
            return None
        return (w, 0.0) if np.all(s * z > 0) else None

    found = check(X[s > 0].mean(axis=0) - X[s < 0].mean(axis=0))
    if found:
        return found
    A = np.column_stack([X, np.ones(len(X))]) if bias else X
    theta = np.zeros(A.shape[1])
    with np.errstate(all="ignore"):
        for _ in range(30):
            z = A @ theta
            pr = 1 / (1 + np.exp(-z))
            g = A.T @ (pr - y)
            H = (A * (pr * (1 - pr))[:, None]).T @ A + 1e-10 * np.eye(A.shape[1])
            try:
                theta = theta - np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                return None
            if not np.all(np.isfinite(theta)):
                return None
            w = theta[: X.shape[1]]
            if bias:
                if np.all(s * (A @ theta) > 0):
                    return w, float(theta[-1])
            elif np.all(s * (X @ w) > 0):
                return w, 0.0
    return None


def minimizer_status(surface: Any) -> dict | None:
    """On logistic regression (cross-entropy, 0/1 labels): whether the data are linearly
    separable, as data for a report: ``{"separable": True, "w", "b", "l1", "l2"}`` when a
    separating ``(w, b)`` was found (a proof: then, without ``l1``/``l2``, the loss
    approaches its infimum 0 only as ``||w|| -> inf`` and has no minimizer; ``l2 > 0`` or
    ``l1 > 0`` makes it coercive in ``w`` and gives one). None on other surfaces, or when
    no separating direction was found (nothing proved)."""
    if not _is_data(surface):
        return None
    sep = separating_direction(surface)
    if sep is None:
        return None
    w, b = sep
    return {
        "separable": True,
        "w": [float(v) for v in w],
        "b": float(b) if surface.bias else None,
        "l1": float(surface.l1),
        "l2": float(surface.l2),
    }
