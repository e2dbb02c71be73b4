"""Questions about a surface's structure that the analysis asks before computing: is it
a data surface, a quadratic, piecewise smooth (kinks), a ReLU network; which points lie
on a kink."""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray


def _is_data(surface: Any) -> bool:
    return getattr(surface, "n_samples", None) is not None


def _is_quadratic(surface: Any) -> bool:
    # is_polynomial and degree are facts about the function, also when its symbolic view
    # is a compact form (a structured quadratic of a dense A: symbolic_exact is False)
    if _is_data(surface):
        return False
    if not getattr(surface, "symbolic_exact", False) and not hasattr(surface, "is_polynomial"):
        return False
    return bool(surface.is_polynomial) and (surface.degree or 0) <= 2


def _has_kinks(surface: Any) -> bool:
    import sympy as sp

    expr = getattr(surface, "expression", None)
    if _is_data(surface) or not isinstance(expr, sp.Basic):
        return False
    return bool(expr.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign))


def _is_relu_net(surface: Any) -> bool:
    return "relu" in str(getattr(surface, "text", "") or "")


#: A point is on a kink when a switching quantity is below this fraction of the window's
#: scale (numerically located points stall on a kink to about this accuracy).
KINK_TOL = 1e-7


def _at_kinks(surface: Any, X: Array) -> Array:
    """Which points ``X (S, n)`` lie on a kink: for every ``Max``/``Min`` the gap between
    its two extreme arguments, for every ``abs``/``Heaviside``/``sign`` its argument, is
    (numerically) zero there."""
    import sympy as sp

    X = np.asarray(X, dtype=float).reshape(-1, surface.n)
    flags = np.zeros(len(X), dtype=bool)
    expr = surface.expression
    syms = list(surface.symbols)
    switches = []
    for node in expr.atoms(sp.Max):
        switches.append(("max", list(node.args)))
    for node in expr.atoms(sp.Min):
        switches.append(("min", list(node.args)))
    for node in expr.atoms(sp.Abs, sp.Heaviside, sp.sign):
        switches.append(("zero", [node.args[0]]))
    span = float(np.max(np.abs(surface.window))) if np.size(surface.window) else 1.0
    tol = KINK_TOL * max(1.0, span)
    cols = [X[:, i] for i in range(len(syms))]
    with np.errstate(all="ignore"):
        for how, args in switches:
            try:
                vals = [
                    np.broadcast_to(
                        np.asarray(sp.lambdify(syms, a, modules="numpy")(*cols), dtype=float),
                        (len(X),),
                    )
                    for a in args
                ]
            except Exception:  # noqa: BLE001 - an argument numpy cannot evaluate: no flag
                continue
            V = np.stack(vals, axis=-1)
            if how == "zero":
                gap = np.abs(V[:, 0])
            else:  # the two largest (Max) or smallest (Min) arguments tie
                Vs = np.sort(V, axis=-1)
                gap = Vs[:, -1] - Vs[:, -2] if how == "max" else Vs[:, 1] - Vs[:, 0]
            flags |= np.isfinite(gap) & (gap <= tol)
    return flags
