"""The data surface: the loss of a one-neuron model on a data set.

A :class:`DataSurface` is the loss of a one-neuron model on a data set ``(X, y)``::

    z_i = w . x_i + b                      (the linear predictor; b only if bias=True)
    f(w, b) = scale * sum_i l(z_i, y_i) + l2/2 ||w||^2 + l1 ||w||_1

with ``scale = 1`` (``reduction="sum"``) or ``1/N`` (``reduction="mean"``; on a mini-batch
``batch=idx`` it is ``1/len(idx)``) and ``l`` a per-sample kernel of
:mod:`optiviz.data.kernels`. The sum over samples is numpy::

    f    = scale * sum(l(z, y))
    grad = scale * X_aug^T l'(z, y)                      (one matrix-vector product)
    hess = scale * X_aug^T diag(l''(z, y)) X_aug        (X_aug = [X, 1] if bias)

so building a surface costs the same for 10 or 10^6 samples; the window, the known
minima and the symbolic view are computed lazily on first use.

It implements :class:`optiviz.protocols.SurfaceLike` by composition (a :class:`Dataset`,
a compiled kernel, a lazily built symbolic view), not as a :class:`optiviz.surface.Surface`:
its values never go through a sympy expression of the N samples.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from optiviz._batches import epoch_batches
from optiviz.data.checks import ARG_MESSAGE, check_choice, check_flag, check_int
from optiviz.data.datasets import Dataset
from optiviz.data.kernels import _YS, _Z, LINEAR_LOSSES, LINKS, LOSSES, REDUCTIONS, _kernel
from optiviz.errors import SurfaceError
from optiviz.surface import (
    KnownMinimum,
    _as_points,
    _check_reg,
    _LazyLatex,
    _strip_distributions,
    checked_finite,
    describe_lines,
    make_window,
    nearest_minimum,
    to_exact,
)

Array = np.ndarray

SYMBOLIC_MAX_SAMPLES = 20
"""Up to this many samples the symbolic expression is the explicit sum over the samples."""

# Largest temporary (elements) of a batched evaluation; larger batches are done in chunks.
_CHUNK_ELEMENTS = 1 << 22


class DataSurface:
    """The loss of a one-neuron model (linear predictor + link + per-sample loss) on data.

    A :class:`optiviz.protocols.SurfaceLike`. Variables: the weights (named after the data's
    feature columns, :func:`weight_names`, unless ``variables`` names them) then the bias
    ``b`` (if ``bias``); at most
    ``MAX_VARIABLES`` (a :class:`Dataset` has at most ``MAX_VARIABLES - 1`` features).
    Evaluation has the protocol's shapes and ``check=``, and ``batch=``: an index array of
    samples (shape ``(B,)``, shared by every point; or ``(..., B)`` matching the points'
    batch shape, one mini-batch per point) -- the loss on that subset,
    ``reduction="mean"`` dividing by ``B``.

    ``minima``: known minima stated by hand (:class:`KnownMinimum` with ``n``
    coordinates), used instead of the computed ones; dropped by :meth:`regularized`.

    Attributes beyond the protocol: ``dataset``, ``link``, ``loss``, ``reduction``,
    ``bias``, ``weight_symbols``, ``sample_loss`` (the per-sample loss, sympy in weights,
    ``x1..xd`` and ``y``), ``base_expression`` (the data term without regularization).

    The symbolic view (``expression``, ``gradient``, ``hessian``, ``latex``) always exists
    (``has_symbolic_form``): for ``N <= SYMBOLIC_MAX_SAMPLES`` it is the explicit sum of
    the N per-sample losses with the data as exact numbers (``symbolic_exact``); for
    larger N a ``sympy.Sum`` over ``i = 1..N`` with the data as ``IndexedBase`` symbols
    ``x[i, j]`` and ``y[i]`` -- readable (LaTeX for reports) but not exact: numbers come
    from :meth:`f` / :meth:`grad` / :meth:`hess`.
    """

    has_symbolic_form: bool = True

    def __init__(
        self,
        dataset: Dataset,
        *,
        link: str = "sigmoid",
        loss: str = "cross_entropy",
        reduction: str = "sum",
        bias: bool = True,
        name: str | None = None,
        variables: Sequence[str] | None = None,
        window: Any = None,
        l1: float = 0.0,
        l2: float = 0.0,
        description: str = "",
        source: str = "",
        minima: Iterable[KnownMinimum] | None = None,
    ):
        if not isinstance(dataset, Dataset):
            raise SurfaceError(f"a data surface needs a Dataset; got {type(dataset).__name__}")
        link = check_choice("link", link, LINKS, ARG_MESSAGE)
        loss = check_choice(
            "loss", loss, LOSSES if link == "sigmoid" else LINEAR_LOSSES, ARG_MESSAGE
        )
        reduction = check_choice("reduction", reduction, REDUCTIONS, ARG_MESSAGE)
        bias = check_flag("bias", bias, ARG_MESSAGE)
        lo, hi = dataset.y_range
        if loss == "cross_entropy" and not (0.0 <= lo and hi <= 1.0):
            bad = dataset.y[(dataset.y < 0) | (dataset.y > 1)][0]
            raise SurfaceError(
                f"loss 'cross_entropy' needs labels in [0, 1] (0/1 classes or probabilities); "
                f"data set {dataset.name!r} has the label {bad:g}"
            )
        d = dataset.dim
        self.dataset = dataset
        self.link, self.loss, self.reduction, self.bias = link, loss, reduction, bias
        self.n_samples: int = dataset.n_samples
        self._d = d
        self._X, self._y = dataset.X, dataset.y
        self._A = dataset.X_aug if self.bias else dataset.X  # the design matrix of z
        self._scale = 1.0 if reduction == "sum" else 1.0 / dataset.n_samples
        self._k = _kernel(link, loss)
        n = d + int(self.bias)
        if variables is None:
            variables = weight_names(dataset.feature_names) + (["b"] if self.bias else [])
        if isinstance(variables, str) or not isinstance(variables, Sequence):
            raise SurfaceError(f"variables must be a list of names; got {variables!r}")
        variables = [str(v) for v in variables]
        if len(variables) != n or len(set(variables)) != n:
            raise SurfaceError(
                f"variables must be {n} distinct names ({d} weights"
                f"{' and the bias' if self.bias else ''}); got {variables!r}"
            )
        self.symbols = tuple(sp.Symbol(v, real=True) for v in variables)
        self.variables = tuple(variables)
        self.n = n
        self.weight_symbols = self.symbols[:d]
        self.name = name or (
            "linear_regression"
            if link == "identity"
            else "logistic_regression"
            if loss == "cross_entropy"
            else "sigmoid_neuron"
        )
        self.description = description or self._describe_loss()
        self.source = source or dataset.source
        self.parameters: Mapping[str, Any] = {}
        self.l1 = _check_reg("l1", l1)
        self.l2 = _check_reg("l2", l2)
        self.extra: Mapping[str, Any] = {}
        self._window_arg = window
        self._given_window = (
            None if window is None else make_window(window, self.name, self.variables)
        )
        self._given_minima = None if minima is None else self._check_minima(minima)
        self._gram: Array | None = None

    def _check_minima(self, minima: Iterable[KnownMinimum]) -> list[KnownMinimum]:
        out = list(minima)
        for m in out:
            if not isinstance(m, KnownMinimum) or np.shape(m.point) != (self.n,):
                raise SurfaceError(
                    f"surface {self.name!r}: known minima must be KnownMinimum with "
                    f"{self.n} coordinates ({', '.join(self.variables)}); got {m!r}"
                )
        return out

    # -- facts -------------------------------------------------------------------------
    def _describe_loss(self) -> str:
        kind = {
            "cross_entropy": "cross-entropy",
            "squared_error": "squared error",
            "half_squared_error": "half squared error",
        }[self.loss]
        model = "linear model" if self.link == "identity" else "sigmoid neuron"
        return (
            f"{self.reduction} {kind} of a {model} on {self.dataset.name} "
            f"({self.n_samples} samples, {self._d} features"
            f"{', bias' if self.bias else ', no bias'})"
        )

    def _predictor(self, xs: Sequence[sp.Expr]) -> sp.Expr:
        z = sp.Add(*[w * x for w, x in zip(self.weight_symbols, xs, strict=True)])
        return z + self.symbols[-1] if self.bias else z

    @cached_property
    def sample_loss(self) -> sp.Expr:
        """The per-sample loss as a sympy expression in the weights, ``x1..xd`` and ``y``."""
        xs = [self._fresh(f"x{j + 1}") for j in range(self._d)]
        return self._k.expr.xreplace({_Z: self._predictor(xs), _YS: self._fresh("y")})

    def _fresh(self, name: str) -> sp.Symbol:
        """A data symbol that cannot be confused with a variable of the same name."""
        while name in self.variables:
            name += "_"
        return sp.Symbol(name, real=True)

    @property
    def symbolic_exact(self) -> bool:
        """True when ``expression`` is the explicit sum over the samples (N <= 20)."""
        return self.n_samples <= SYMBOLIC_MAX_SAMPLES

    def _reg_expr(self) -> sp.Expr:
        e = sp.S.Zero
        if self.l2:
            e += to_exact(self.l2) / 2 * sum(w**2 for w in self.weight_symbols)
        if self.l1:
            e += to_exact(self.l1) * sum(sp.Abs(w) for w in self.weight_symbols)
        return e

    @cached_property
    def base_expression(self) -> sp.Expr:
        """The data term (no regularization): explicit sum (N <= 20) or an indexed Sum."""
        N = self.n_samples
        scale = sp.S.One if self.reduction == "sum" else sp.Rational(1, N)
        if self.symbolic_exact:
            terms = []
            for xi, yi in zip(self._X.tolist(), self._y.tolist(), strict=True):
                z = self._predictor([_exact(v) for v in xi])
                terms.append(self._k.expr.xreplace({_Z: z, _YS: _exact(yi)}))
            return scale * sp.Add(*terms)
        x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
        i = sp.Symbol("i", integer=True, positive=True)
        z = self._predictor([x[i, j + 1] for j in range(self._d)])
        return scale * sp.Sum(self._k.expr.xreplace({_Z: z, _YS: y[i]}), (i, 1, N))

    @cached_property
    def expression(self) -> sp.Expr:
        return self.base_expression + self._reg_expr()

    @cached_property
    def gradient(self) -> sp.Matrix:
        return sp.Matrix([_strip_distributions(sp.diff(self.expression, s)) for s in self.symbols])

    @cached_property
    def hessian(self) -> sp.Matrix:
        g = self.gradient
        return sp.Matrix(
            self.n, self.n, lambda i, j: _strip_distributions(sp.diff(g[i], self.symbols[j]))
        )

    @cached_property
    def latex(self) -> Mapping[str, str]:
        """LaTeX of ``"f"``, ``"gradient"`` and ``"hessian"``, each rendered on first use."""
        return _NamedLatex(
            {"f": self.expression, "gradient": self.gradient, "hessian": self.hessian},
            {
                sym: rf"{name[0]}_{{\mathrm{{{name[2:].replace('_', chr(92) + '_')}}}}}"
                for sym, name in zip(self.symbols, self.variables, strict=True)
                if _WORD_WEIGHT.fullmatch(name)
            },
        )

    @property
    def is_polynomial(self) -> bool:
        return self.link == "identity" and not self.l1

    @property
    def degree(self) -> int | None:
        return 2 if self.is_polynomial else None

    @cached_property
    def text(self) -> str:
        """Plain-text formula shown by ``describe``: the per-sample loss and the sum."""
        xs = [self._fresh(f"x_i{j + 1}" if self._d > 1 else "x_i") for j in range(self._d)]
        li = self._k.expr.xreplace({_Z: self._predictor(xs), _YS: self._fresh("y_i")})
        N = self.n_samples
        head = "sum_i" if self.reduction == "sum" else f"(1/{N}) sum_i"
        text = f"{head} {_paren(str(li))}, i = 1..{N}"
        if self.l2:
            text += f" + {self.l2:g}/2 ||w||^2"
        if self.l1:
            text += f" + {self.l1:g} ||w||_1"
        return text

    @cached_property
    def window(self) -> Array:
        """Plot window (an explicit ``window=`` wins).

        Linear regression (no l1): per variable, the interval covering both 0 (the usual
        start) and the least-squares minimizer ``m``, widened by ``max(|m|, 1)`` each side.
        Sigmoid neurons: weight ``j`` in ``+-6 / rms(x_j)`` (|z| up to ~6 on typical samples,
        where the sigmoid saturates and the plateaus show), rounded up to a multiple of 0.5
        and clipped to [0.5, 20]; the bias in [-5, 5].
        """
        if self._given_window is not None:
            return self._given_window
        if self.link == "identity" and not self.l1:
            m = self.minima[0].point
            span = np.maximum(np.abs(m), 1.0)
            return np.column_stack([np.minimum(0.0, m) - span, np.maximum(0.0, m) + span])
        X = self._X
        rms = np.sqrt(np.mean(X * X, axis=0))
        h = np.clip(6.0 / np.maximum(rms, 1e-12), 0.5, 20.0)
        h = np.ceil(h * 2.0) / 2.0
        if self.bias:
            h = np.append(h, 5.0)
        return np.column_stack([-h, h])

    @cached_property
    def minima(self) -> list[KnownMinimum]:
        """Linear regression: the least-squares (ridge if l2) minimizer, exactly. Logistic
        cross-entropy: the Newton minimizer when it exists (l2 > 0, or data that are not
        separable); none for the non-convex sigmoid squared errors or with l1. Minima given
        to the constructor win."""
        if self._given_minima is not None:
            return self._given_minima
        if self.l1:
            return []
        if self.link == "identity":
            return [self._least_squares()]
        if self.loss == "cross_entropy":
            m = self._newton_minimum()
            return [m] if m is not None else []
        return []

    def _least_squares(self) -> KnownMinimum:
        Xa = self._A
        if not self.l2:
            point = np.linalg.lstsq(Xa, self._y, rcond=None)[0]
        else:
            # scale * c * (Xa^T Xa x - Xa^T y) + l2 * D x = 0, c = l''(z) (2 or 1), D = diag(w's)
            assert self._k.dd_const is not None  # l'' of the identity link is a constant
            c = self._k.dd_const * self._scale
            D = np.eye(self.n)
            if self.bias:
                D[-1, -1] = 0.0
            point = np.linalg.solve(c * (Xa.T @ Xa) + self.l2 * D, c * (Xa.T @ self._y))
        return KnownMinimum(point, float(self.f(point, check=False)))

    def _newton_minimum(self) -> KnownMinimum | None:
        """Damped Newton from 0 on the (convex) cross-entropy.

        Converged when the Newton decrement ``g^T H^-1 g`` is below ``1e-12 f``: quadratic
        convergence gets there in a few steps. On separable data the infimum is only
        approached as ``||w|| -> inf``; there the decrement stays comparable to ``f`` (an
        exponential tail), so no minimum is reported.
        """
        x = np.zeros(self.n)
        with np.errstate(all="ignore"):
            f = float(self.f(x, check=False))
            for _ in range(100):
                g = self.grad(x, check=False)
                H = self.hess(x, check=False)
                try:
                    step = np.linalg.solve(H, g)
                except np.linalg.LinAlgError:
                    return None
                dec = float(g @ step)
                if not (np.isfinite(dec) and dec >= 0.0):
                    return None
                if f > 1e-300 and dec <= 1e-12 * f:
                    xn = x - step  # one more full step: quadratic convergence -> round-off
                    fn = float(self.f(xn, check=False))
                    return KnownMinimum(xn, fn) if fn <= f else KnownMinimum(x, f)
                t = 1.0
                while t > 1e-12:
                    xn = x - t * step
                    fn = float(self.f(xn, check=False))
                    if fn <= f - 1e-4 * t * dec:
                        break
                    t *= 0.5
                else:
                    return None
                x, f = xn, fn
                if not np.all(np.isfinite(x)) or np.linalg.norm(x) > 1e6:
                    return None
        return None

    @property
    def f_min(self) -> float | None:
        return min((m.value for m in self.minima), default=None)

    def nearest_minimum(self, x: Any) -> KnownMinimum | None:
        return nearest_minimum(self.minima, x)

    # -- evaluation ----------------------------------------------------------------------
    def f(self, X: Any, *, check: bool = True, batch: Any = None) -> Any:
        """Loss at ``X`` of shape ``(n,)`` or ``(..., n)`` (on the samples ``batch``)."""
        P = self._prepare(X)
        with np.errstate(all="ignore"):
            out = self._run(P, batch, "f")
        return self._checked("f", out, P) if check else out

    def grad(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact gradient ``scale * X_aug^T l'(z)`` (+ regularization); ``(n,)`` or ``(..., n)``."""
        P = self._prepare(X)
        with np.errstate(all="ignore"):
            out = self._run(P, batch, "g")
        return self._checked("the gradient", out, P) if check else out

    def value_and_grad(self, X: Any, *, check: bool = True, batch: Any = None) -> tuple[Any, Array]:
        """``(f(X), grad(X))`` sharing ``z`` and the per-sample subexpressions."""
        P = self._prepare(X)
        with np.errstate(all="ignore"):
            f, g = self._run(P, batch, "fg")
        if check:
            return self._checked("f", f, P), self._checked("the gradient", g, P)
        return f, g

    def hess(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact Hessian ``scale * X_aug^T diag(l''(z)) X_aug`` (+ l2 on the weights)."""
        P = self._prepare(X)
        with np.errstate(all="ignore"):
            out = self._run(P, batch, "h")
        return self._checked("the Hessian", out, P) if check else out

    def _prepare(self, X: Any) -> Array:
        if type(X) is np.ndarray and X.dtype == np.float64 and X.ndim and X.shape[-1] == self.n:
            return X
        return _as_points(X, self.n, self.variables)

    def _checked(self, what: str, out: Array, X: Array) -> Array:
        return checked_finite(out, X, what, self.name, self.variables)

    def _batch_index(self, batch: Any, lead: tuple) -> Array:
        idx = np.asarray(batch)
        N = self.n_samples
        if idx.dtype == np.bool_:
            if idx.shape != (N,):
                raise SurfaceError(
                    f"surface {self.name!r}: a boolean batch mask must have shape ({N},); "
                    f"got {idx.shape}"
                )
            idx = np.flatnonzero(idx)
        if not np.issubdtype(idx.dtype, np.integer) or idx.ndim == 0:
            raise SurfaceError(
                f"surface {self.name!r}: batch must be an array of sample indices; got {batch!r}"[
                    :200
                ]
            )
        if idx.shape[-1] == 0:
            raise SurfaceError(f"surface {self.name!r}: batch is empty")
        if idx.ndim > 1 and idx.shape[:-1] != lead:
            raise SurfaceError(
                f"surface {self.name!r}: batch of shape {idx.shape} must be (B,) or match the "
                f"points' batch shape {lead} + (B,)"
            )
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= N:
            bad = lo if lo < 0 else hi
            raise SurfaceError(
                f"surface {self.name!r}: batch index {int(bad)} is out of range; the data set "
                f"has {N} samples (indices 0..{N - 1})"
            )
        return idx

    def _run(self, P: Array, batch: Any, what: str):
        """Evaluate on all samples or on ``batch``; ``A`` is the design matrix of z (X_aug
        with a bias, X without), so z = A @ x, grad = A^T l', hess = A^T diag(l'') A."""
        if batch is None:
            A, y, scale, full = self._A, self._y, self._scale, True
        else:
            idx = self._batch_index(batch, P.shape[:-1])
            scale = 1.0 if self.reduction == "sum" else 1.0 / idx.shape[-1]
            A, y, full = self._A[idx], self._y[idx], False
            if idx.ndim > 1:
                return self._add_reg(P, self._gathered(P, A, y, scale, what), what)
        if P.ndim == 1:
            out = self._one(P, A, y, scale, what, full)
        else:
            out = self._many(P, A, y, scale, what, full)
        return self._add_reg(P, out, what)

    def _one(self, p: Array, A: Array, y: Array, scale: float, what: str, full: bool):
        """One point (n,): the same three BLAS calls as a hand-written numpy version."""
        k = self._k
        z = A @ p
        if what == "f":
            return np.float64(np.sum(k.f(z, y)) * scale)
        if what == "h":
            return self._hess_block(k.dd(z, y), A, scale, full)
        if what == "fg":
            lv, r = k.fd(z, y)
            g = A.T @ r
            if scale != 1.0:
                g *= scale
            return np.float64(np.sum(lv) * scale), g
        g = A.T @ k.d(z, y)
        if scale != 1.0:
            g *= scale
        return g

    def _hess_block(self, c: Any, A: Array, scale: float, full: bool) -> Array:
        if np.ndim(c) == 0:  # constant l'' (linear regression): scale * c * A^T A
            G = self._gram if full else None
            if G is None:
                G = A.T @ A
                G = 0.5 * (G + G.T)
                if full:
                    self._gram = G
            return (float(c) * scale) * G
        H = A.T @ (A * c[:, None])
        H += H.T  # exactly symmetric
        H *= 0.5 * scale
        return H

    def _many(self, P: Array, A: Array, y: Array, scale: float, what: str, full: bool):
        """Points (..., n) sharing the samples: Z = W A^T of shape (M, N), in chunks."""
        lead, n, k = P.shape[:-1], self.n, self._k
        flat = P.reshape(-1, n)
        M, N = flat.shape[0], A.shape[0]
        per = N * (n if what == "h" else 1)
        step = max(1, _CHUNK_ELEMENTS // max(per, 1))
        has_f, has_g, has_h = what in ("f", "fg"), what in ("g", "fg"), what == "h"
        f = np.empty(M if has_f else 0)  # an output not asked for stays empty
        g = np.empty((M if has_g else 0, n))
        H = np.empty((M if has_h else 0, n, n))
        for a in range(0, M, step):
            Z = flat[a : a + step] @ A.T
            if what == "f":
                f[a : a + step] = np.sum(k.f(Z, y), axis=1)
            elif what == "h":
                C = k.dd(Z, y)
                if np.ndim(C) == 0:
                    H[a : a + step] = self._hess_block(C, A, 1.0, full)
                else:
                    H[a : a + step] = (A.T[None] * C[:, None, :]) @ A
            else:
                if what == "fg":
                    L, R = k.fd(Z, y)
                    f[a : a + step] = np.sum(L, axis=1)
                else:
                    R = k.d(Z, y)
                g[a : a + step] = R @ A
        outs = []
        for arr, tail, used in ((f, (), has_f), (g, (n,), has_g), (H, (n, n), has_h)):
            if used:
                if tail == (n, n):
                    arr = arr + arr.swapaxes(-1, -2)
                    arr *= 0.5
                if scale != 1.0:
                    arr *= scale
                outs.append(arr.reshape(lead + tail))
        return tuple(outs) if what == "fg" else outs[0]

    def _gathered(self, P: Array, Ag: Array, yg: Array, scale: float, what: str):
        """One mini-batch per point: Ag (..., B, n), yg (..., B)."""
        k = self._k
        Z = np.einsum("...bn,...n->...b", Ag, P)
        if what == "f":
            return np.sum(k.f(Z, yg), axis=-1) * scale
        if what == "h":
            C = np.broadcast_to(k.dd(Z, yg), Z.shape)
            H = np.einsum("...b,...bi,...bj->...ij", C, Ag, Ag)
            return (H + H.swapaxes(-1, -2)) * (0.5 * scale)
        if what == "fg":
            L, R = k.fd(Z, yg)
        else:
            R = k.d(Z, yg)
        g = np.einsum("...b,...bn->...n", R, Ag) * scale
        return (np.sum(L, axis=-1) * scale, g) if what == "fg" else g

    def _add_reg(self, P: Array, out: Any, what: str):
        if not (self.l1 or self.l2):
            return out
        W = P[..., : self._d]
        if what == "h":
            if self.l2:  # out is a fresh array on every path
                idx = np.arange(self._d)
                out[..., idx, idx] += self.l2
            return out
        f, g = (out, None) if what == "f" else (None, out) if what == "g" else out
        if f is not None:
            f = f + (0.5 * self.l2) * np.sum(W * W, axis=-1) + self.l1 * np.sum(np.abs(W), axis=-1)
        if g is not None:
            g[..., : self._d] += self.l2 * W + self.l1 * np.sign(W)
        return f if what == "f" else g if what == "g" else (f, g)

    # -- mini-batches --------------------------------------------------------------------
    def sample_batch(self, size: int, rng: np.random.Generator) -> Array:
        """``size`` distinct sample indices drawn with ``rng`` (sorted)."""
        size = check_int("batch size", size, 1, owner=f"surface {self.name!r}")
        if size > self.n_samples:
            raise SurfaceError(
                f"batch size {size} is larger than the data set ({self.n_samples} samples)"
            )
        return np.sort(rng.choice(self.n_samples, size=size, replace=False))

    def epoch_batches(self, size: int, seed: Any = None) -> Iterator[Array]:
        """Endless shuffled epochs of mini-batches (the last of an epoch may be smaller)."""
        size = check_int("batch size", size, 1, owner=f"surface {self.name!r}")
        return epoch_batches(self.n_samples, size, seed)

    # -- derived surfaces -----------------------------------------------------------------
    def with_parameters(self, **overrides: Any) -> DataSurface:
        if not overrides:
            return self
        raise SurfaceError(
            f"data surface {self.name!r} has no parameters to override "
            f"(got {', '.join(overrides)}); change the data set, loss or regularization instead"
        )

    def regularized(self, l1: float = 0.0, l2: float = 0.0) -> DataSurface:
        """A new surface with ``l1 ||w||_1 + l2/2 ||w||^2`` added (weights only, not the bias)."""
        return self._copy(l1=self.l1 + _check_reg("l1", l1), l2=self.l2 + _check_reg("l2", l2))

    def _copy(self, **changes: Any) -> DataSurface:
        kw: dict[str, Any] = dict(
            link=self.link,
            loss=self.loss,
            reduction=self.reduction,
            bias=self.bias,
            name=self.name,
            variables=self.variables,
            window=self._window_arg,
            l1=self.l1,
            l2=self.l2,
            description=self.description,
            source=self.source,
            minima=None if (changes.get("l1") or changes.get("l2")) else self._given_minima,
        )
        kw.update(changes)
        return DataSurface(self.dataset, **kw)

    def on(self, dataset: Dataset) -> DataSurface:
        """The same loss on another data set (e.g. a subset)."""
        kw: dict[str, Any] = dict(
            link=self.link,
            loss=self.loss,
            reduction=self.reduction,
            bias=self.bias,
            variables=self.variables,
            l1=self.l1,
            l2=self.l2,
        )
        return DataSurface(dataset, **kw)

    # -- presentation ---------------------------------------------------------------------
    def describe(self) -> str:
        info = (
            f"  data: {self.dataset.name}, {self.n_samples} samples, features "
            f"{', '.join(self.dataset.feature_names)}; target {self.dataset.target_name}"
        )
        lines = describe_lines(self)
        return "\n".join(lines[:2] + [info] + lines[2:])

    def __repr__(self) -> str:
        return (
            f"DataSurface(name={self.name!r}, link={self.link!r}, loss={self.loss!r}, "
            f"reduction={self.reduction!r}, n_samples={self.n_samples}, "
            f"variables={list(self.variables)})"
        )


#: A weight named after a column (``w_hours``): LaTeX ``w_{\mathrm{hours}}``, as the axes.
_WORD_WEIGHT = re.compile(r"[A-Za-z]_[A-Za-z][A-Za-z0-9_]*")


class _NamedLatex(_LazyLatex):
    """:class:`optiviz.surface._LazyLatex` with the LaTeX of some symbols given."""

    def __init__(self, objects: dict, names: dict):
        super().__init__(objects)
        self._names = names

    def __getitem__(self, key: str) -> str:
        if key not in self._text:
            self._text[key] = sp.latex(self._objects[key], symbol_names=self._names)
        return self._text[key]


#: Feature names that say nothing (the defaults ``x1..xd``, ``x``, ``x_2``): weight ``w<j>``.
_GENERIC_FEATURE = re.compile(r"x_?\d*")


def weight_names(features: Sequence[str]) -> list[str]:
    """The weights' variable names for a data set's feature columns, in order.

    A column with a name gets ``w_<name>`` (``hours`` -> ``w_hours``; a leading ``x_`` is
    dropped, ``x_dense`` -> ``w_dense``), the name sanitized to an identifier: each run of
    characters other than ASCII letters, digits and ``_`` becomes one ``_``, ``_`` at the
    ends is dropped (``"hours studied"`` -> ``w_hours_studied``, ``"Temp (C)"`` ->
    ``w_Temp_C``). A generic column name (``x``, ``x1``, ``x_2``: the defaults), one left
    empty by sanitizing, or one whose name would repeat another's gets ``w<j>`` (its
    1-based position), as every weight did before the data had names; so would every
    name when two columns sanitize alike.
    """
    out = []
    for j, raw in enumerate(features):
        name = str(raw)
        stem = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
        if stem.startswith("x_") and len(stem) > 2:
            stem = stem[2:]
        if _GENERIC_FEATURE.fullmatch(name) or not stem:
            out.append(f"w{j + 1}")
        else:
            out.append(f"w_{stem}")
    if len(set(out)) != len(out):  # two columns sanitized alike: positions, as before
        return [f"w{j + 1}" for j in range(len(out))]
    return out


def _exact(v: float) -> sp.Expr:
    """Data value as a sympy number: exact for short decimals (0.5 -> 1/2), else a Float."""
    if float(v).is_integer() and abs(v) < 2**53:
        return sp.Integer(int(v))
    r = repr(float(v))
    return to_exact(float(v)) if len(r) <= 8 and "e" not in r else sp.Float(v, 17)


def _paren(s: str) -> str:
    return s if s.startswith("(") and s.endswith(")") and s.count("(") == 1 else f"[{s}]"
