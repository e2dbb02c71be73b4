"""Whether a surface is bounded below: exact for a quadratic, decided in the obvious cases
otherwise (a sum of nonnegative terms, a polynomial of odd degree or with a negative
leading form), unknown in the rest."""

from __future__ import annotations

from typing import Any

import numpy as np

from optiviz._format import fmt_number
from optiviz.analysis._hessian import EIG_TOL, _sym
from optiviz.analysis._surface import _is_data, _is_quadratic


def bounded_below(surface: Any) -> tuple[bool | None, str]:
    """Whether f is bounded below: exact for quadratics, None (unknown) unless obvious.

    A quadratic is bounded below iff its Hessian is positive semidefinite and the linear
    part lies in the Hessian's range. Obvious cases otherwise: sympy proves the expression
    nonnegative (sums of squares of real terms); a polynomial of odd degree, or whose
    leading form is negative along some sampled direction, is unbounded below.
    """
    if _is_data(surface):
        return None, "data surface: not decided"
    if _is_quadratic(surface):
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
        x, *_ = np.linalg.lstsq(H, -b, rcond=None)
        if np.linalg.norm(H @ x + b) > 1e-10 * max(1.0, float(np.linalg.norm(b))):
            return False, "the linear term has a component where the Hessian is flat"
        return True, "quadratic with a positive semidefinite Hessian and a stationary point"
    import sympy as sp

    try:
        expr = surface.expression
        syms = surface.symbols
    except AttributeError:
        return None, "no symbolic form"
    try:
        if expr.is_nonnegative:
            return True, "the expression is a sum of nonnegative terms"
    except Exception:  # noqa: BLE001 - sympy assumption queries can fail on odd input
        pass
    if getattr(surface, "is_polynomial", False):
        from optiviz.surface import expand_refusal

        refusal = expand_refusal(surface)
        if refusal is not None:
            return None, f"a polynomial, not expanded: {refusal}"
        poly = sp.Poly(sp.expand(expr), *syms)
        deg = poly.total_degree()
        if deg % 2 == 1:
            return False, f"a polynomial of odd degree {deg} is unbounded below"
        top = sum(
            c * sp.prod([s**e for s, e in zip(syms, m, strict=True)])
            for m, c in poly.terms()
            if sum(m) == deg
        )
        ftop = sp.lambdify(list(syms), top, modules="numpy")
        rng = np.random.default_rng(0)
        dirs = rng.standard_normal((256, len(syms)))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        vals = np.broadcast_to(ftop(*dirs.T), (256,))
        if np.min(vals) < -1e-9 * max(1.0, float(np.max(np.abs(vals)))):
            return False, f"the degree-{deg} leading form is negative along some direction"
    return None, "not decided"
