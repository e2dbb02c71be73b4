"""Per-sample losses ``l(z, y)`` of a one-neuron model: sympy forms, derived once, compiled.

``l(z, y)`` is a sympy expression in two internal symbols (the linear predictor ``z`` and
the label ``y``); its derivatives ``l'`` and ``l''`` in ``z`` are derived once per
``(link, loss)`` and compiled with ``lambdify(..., cse=True)`` into a module-level cache
(:func:`clear_compile_cache` empties it). A data surface sums these kernels over its
samples with numpy: no sympy term per sample.

``sigma`` and ``softplus`` are the sympy functions :class:`sigmoid` and :class:`softplus`
whose numpy forms are overflow-free (``0.5 + 0.5 tanh(z/2)`` and
``max(z, 0) + log1p(exp(-|z|))``): no warning and finite values for ``|z| ~ 1e4``;
``sigma' = sigma (1 - sigma)`` keeps every derivative in those stable forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps

from optiviz.errors import SurfaceError, suggest

LINKS = ("sigmoid", "identity")
LOSSES = ("cross_entropy", "squared_error", "half_squared_error")
LINEAR_LOSSES = ("squared_error", "half_squared_error")
REDUCTIONS = ("sum", "mean")


def np_sigmoid(z: Any) -> Any:
    """The logistic function ``1 / (1 + exp(-z))`` as ``0.5 + 0.5 tanh(z / 2)``.

    Never overflows (tanh saturates), so no warning for any finite ``z``; absolute error
    ~1e-16 in both tails. Arrays are computed with a single temporary.
    """
    if isinstance(z, np.ndarray) and z.ndim:
        t = np.multiply(z, 0.5)
        np.tanh(t, out=t)
        t *= 0.5
        t += 0.5
        return t
    return 0.5 + 0.5 * np.tanh(0.5 * np.asarray(z, dtype=float))


def np_softplus(z: Any) -> Any:
    """``log(1 + exp(z))`` as ``max(z, 0) + log1p(exp(-|z|))``: linear growth, no overflow."""
    if isinstance(z, np.ndarray) and z.ndim:
        a = np.abs(z)
        out = np.negative(a)
        np.exp(out, out=out)
        np.log1p(out, out=out)
        a += z
        a *= 0.5
        out += a
        return out
    z = np.asarray(z, dtype=float)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


class sigmoid(sp.Function):  # noqa: N801 (printed name)
    r"""The logistic sigmoid :math:`\sigma(z) = 1/(1 + e^{-z})`.

    Derivative ``sigma (1 - sigma)``; ``lambdify`` uses :func:`np_sigmoid` (via ``_imp_``),
    ``evalf`` the exponential form; LaTeX ``\sigma(z)``.
    """

    nargs = 1
    _imp_ = staticmethod(np_sigmoid)

    @classmethod
    def eval(cls, z):  # sympy's Function.eval hook (auto-simplification), not Python's eval
        if z.is_zero:
            return sp.S.Half
        return None

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sp.exp(-z))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp).evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        head = r"\sigma" if exp is None else rf"\sigma^{{{exp}}}"
        return rf"{head}\left({arg}\right)"


class softplus(sp.Function):  # noqa: N801 (printed name)
    r"""``softplus(z) = log(1 + e^z)``; derivative :class:`sigmoid`; numpy :func:`np_softplus`."""

    nargs = 1
    _imp_ = staticmethod(np_softplus)

    @classmethod
    def eval(cls, z):  # sympy's Function.eval hook (auto-simplification), not Python's eval
        if z.is_zero:
            return sp.log(2)
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return sp.log(1 + sp.exp(z))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp).evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        head = r"\operatorname{softplus}"
        if exp is not None:
            head = rf"{head}^{{{exp}}}"
        return rf"{head}\left({arg}\right)"


# ---------------------------------------------------------------------------------------
# Per-sample loss kernels: symbolic l(z, y), derived and compiled once per kind
# ---------------------------------------------------------------------------------------
# Internal names (never a user's variable name): the linear predictor and the label.
_Z = sp.Symbol("_z", real=True)
_YS = sp.Symbol("_y", real=True)


def _sample_loss(link: str, loss: str) -> sp.Expr:
    p = sigmoid(_Z) if link == "sigmoid" else _Z
    if loss == "cross_entropy":
        if link != "sigmoid":
            raise SurfaceError("loss 'cross_entropy' needs the sigmoid link")
        return softplus(_Z) - _YS * _Z
    if loss == "squared_error":
        return (_YS - p) ** 2
    if loss == "half_squared_error":
        return (p - _YS) ** 2 / 2
    raise SurfaceError(
        f"loss must be one of {', '.join(LOSSES)}; got {loss!r}{suggest(loss, LOSSES)}"
    )


@dataclass
class _Kernel:
    """``l(z, y)``, ``l'`` and ``l''`` in z: sympy forms and compiled numpy functions."""

    link: str
    loss: str
    expr: sp.Expr
    d1: sp.Expr
    d2: sp.Expr
    f: Any
    d: Any
    dd: Any
    fd: Any
    dd_const: float | None


_KERNELS: dict[tuple[str, str], _Kernel] = {}


def clear_compile_cache() -> None:
    """Forget the compiled per-sample losses (the next build derives and compiles again)."""
    _KERNELS.clear()


def _kernel(link: str, loss: str) -> _Kernel:
    key = (link, loss)
    k = _KERNELS.get(key)
    if k is None:
        expr = _sample_loss(link, loss)
        d1 = sp.diff(expr, _Z)
        d2 = sp.diff(d1, _Z)

        def comp(e):
            return sp.lambdify([_Z, _YS], e, modules="numpy", cse=True)

        const = float(d2) if not d2.free_symbols else None
        k = _Kernel(
            link, loss, expr, d1, d2, comp(expr), comp(d1), comp(d2), comp([expr, d1]), const
        )
        _KERNELS[key] = k
    return k
