"""Structured surfaces: exact derivatives that keep the structure instead of expanding it.

A :class:`~optiviz.surface.Surface` derives and compiles its gradient and Hessian entry by
entry from one sympy expression, which is exact and quick for a few variables but grows
with the square of ``n`` (a dense 100-variable quadratic has 5,050 terms and is refused).
Two kinds of surface keep their structure instead, with the same exact derivatives:

:class:`QuadraticSurface`
    ``f(x) = 1/2 x^T A x + b^T x + c`` in matrix form: ``grad = A x + b`` and ``hess = A``
    are numpy products with the given numbers (no symbolic expansion at all).
:class:`SumSurface`
    a sum of one term over an index, ``f(x) = sum_{i=lo}^{hi} t(x_{i+o_1}, ..., x_{i+o_k}, i)``
    (the n-D Rosenbrock function, separable test functions, a user expression written
    with ``sum(term, i, lo, hi)``, see :func:`optiviz.expr.parse_indexed`). The term is
    differentiated and compiled **once** (``k`` gradient entries, ``k (k + 1) / 2``
    Hessian entries), evaluated on the slices ``x[lo + o_j - 1 : hi + o_j]`` and summed
    in numpy, as a data surface sums its per-sample loss over the samples::

        f    = sum_i t_i
        grad[i + o_j] += dt/dx_{i+o_j}                      (one slice add per slot)
        hess[i + o_j, i + o_l] += d2t/dx_{i+o_j} dx_{i+o_l}  (one band per slot pair)

Both implement :class:`optiviz.protocols.SurfaceLike` for ``n`` up to
:data:`~optiviz.limits.MAX_STRUCTURED_VARIABLES`. The symbolic view is built on first use
only: a sum surface's ``expression``, ``gradient`` and ``hessian`` are the explicit sympy
forms in the variables (``symbolic_exact``; they have O(n) terms); a quadratic's are
explicit while ``A`` has at most :data:`EXPLICIT_MAX_TERMS` nonzero entries on and above
the diagonal, else compact ``Sum`` forms over ``A[i, j]``, ``b[i]``, ``x[i]``
(``symbolic_exact`` False, like a data surface with many samples: numbers then come from
:meth:`f`, :meth:`grad`, :meth:`hess`). ``latex`` and ``text`` are compact in every case
(a sum sign, ``A x + b``), so reports stay short at any ``n``.

Build with :class:`QuadraticSurface` (numbers), :func:`rosenbrock`,
:func:`separable` (named separable test functions), :meth:`SumSurface.from_expression`
(user text), or :func:`optiviz.load_surface` (the ``quadratic`` and ``rosenbrock``
families use these above :data:`optiviz.library.STRUCTURED_FROM` variables).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Self

import numpy as np
import sympy as sp

from optiviz.errors import SurfaceError
from optiviz.limits import MAX_STRUCTURED_VARIABLES
from optiviz.surface import (
    KnownMinimum,
    _as_points,
    _check_reg,
    _lambdify,
    _strip_distributions,
    checked_finite,
    make_window,
    nearest_minimum,
    to_exact,
)

Array = np.ndarray

#: A quadratic's symbolic view is its explicit expression (``symbolic_exact``) while ``A``
#: and ``b`` have at most this many nonzero entries (on and above A's diagonal, plus b's):
#: about 0.3 s to build; a dense 100-variable A (5,150) gets the compact Sum form.
EXPLICIT_MAX_TERMS = 5_000


def _default_names(n: int, vector: str = "x") -> list[str]:
    """The variables of an n-vector: ``x1 .. xn``."""
    return [f"{vector}{i}" for i in range(1, n + 1)]


def _check_n(n: int, name: str) -> int:
    if not 0 < n <= MAX_STRUCTURED_VARIABLES:
        raise SurfaceError(
            f"surface {name!r} has {n} variables; a structured surface has 1 to "
            f"{MAX_STRUCTURED_VARIABLES:,}"
        )
    return n


def _short_numbers(values: Any) -> str:
    """``(1, 1, ..., 1)`` for a long point: every value when there are at most 6, else the
    first three and the last (``all 1`` when they are equal)."""
    v = [float(x) for x in values]
    if len(v) > 6 and all(x == v[0] for x in v):
        return f"({v[0]:.6g}, ..., {v[0]:.6g}) (all {len(v)} equal)"
    if len(v) > 6:
        return "(" + ", ".join(f"{x:.6g}" for x in v[:3]) + f", ..., {v[-1]:.6g})"
    return "(" + ", ".join(f"{x:.6g}" for x in v) + ")"


class StructuredSurface:
    """What the structured surfaces share: identity, window, minima, regularization, the
    checked evaluation methods of the protocol, presentation. Subclasses supply
    ``_eval(P, want_f, want_g)``, ``_eval_hess(P)``, ``_point_vg()`` (the unregularized
    function on points ``P`` of shape ``(n,)`` or ``(..., n)``) and the symbolic view."""

    n_samples: int | None = None
    has_symbolic_form: bool = True

    def __init__(
        self,
        n: int,
        *,
        name: str,
        variables: Sequence[str] | None,
        vector: str,
        text: str,
        parameters: Mapping[str, Any] | None,
        window: Any,
        minima: Iterable[Any] | None,
        description: str,
        source: str,
        l1: float,
        l2: float,
        rebuild: Callable[..., Any] | None,
        extra: Mapping[str, Any] | None,
    ):
        from optiviz.expr import symbol

        self.name = name
        self.n = _check_n(int(n), name)
        names = _default_names(self.n, vector) if variables is None else [str(v) for v in variables]
        if len(names) != self.n or len(set(names)) != self.n:
            raise SurfaceError(
                f"surface {name!r}: variables must be {self.n} distinct names; got "
                f"{len(names)} ({len(set(names))} distinct)"
            )
        self.variables = tuple(names)
        self.symbols = tuple(symbol(v) for v in names)
        self.vector = vector
        self.text = text
        self.description = description
        self.source = source
        self.parameters = dict(parameters or {})
        self.extra = dict(extra or {})
        self.l1 = _check_reg("l1", l1)
        self.l2 = _check_reg("l2", l2)
        self._rebuild = rebuild
        self._window_arg = window
        self.window = make_window(window, name, self.variables)
        self.minima = self._make_minima(minima)

    # -- facts -----------------------------------------------------------------------------
    @property
    def errata(self) -> tuple[str, ...]:
        return tuple(self.extra.get("errata", ()))

    @property
    def f_min(self) -> float | None:
        return min((m.value for m in self.minima), default=None)

    def nearest_minimum(self, x: Any) -> KnownMinimum | None:
        return nearest_minimum(self.minima, x)

    def _make_minima(self, minima: Iterable[Any] | None) -> list[KnownMinimum]:
        out = []
        for m in minima or ():
            if not isinstance(m, KnownMinimum):
                m = KnownMinimum(np.asarray(m["point"], dtype=float).reshape(-1), float(m["value"]))
            if m.point.shape != (self.n,):
                raise SurfaceError(
                    f"surface {self.name!r}: a known minimum must have {self.n} coordinates; "
                    f"got {m.point.shape[0]}"
                )
            out.append(m)
        return out

    # -- evaluation ------------------------------------------------------------------------
    def _prepare(self, X: Any, batch: Any) -> Array:
        if batch is not None:
            raise SurfaceError(f"surface {self.name!r} has no samples; batch must be None")
        if type(X) is np.ndarray and X.dtype == np.float64 and X.ndim and X.shape[-1] == self.n:
            return X
        return _as_points(X, self.n, self.variables)

    def _checked(self, what: str, out: Array, X: Array) -> Array:
        return checked_finite(out, X, what, self.name, self.variables)

    def _values(self, P: Array, want_f: bool, want_g: bool) -> tuple[Any, Any]:
        f, g = self._eval(P, want_f, want_g)
        if self.l1 or self.l2:
            if want_f:
                f = f + (0.5 * self.l2) * np.sum(P * P, axis=-1)
                f = f + self.l1 * np.sum(np.abs(P), axis=-1)
            if want_g:
                g += self.l2 * P + self.l1 * np.sign(P)
        if want_f and P.ndim == 1:
            f = np.float64(f)
        return f, g

    def f(self, X: Any, *, check: bool = True, batch: Any = None) -> Any:
        """Value at ``X`` of shape ``(n,)`` or ``(..., n)``: a numpy scalar or ``(...)``."""
        P = self._prepare(X, batch)
        with np.errstate(all="ignore"):
            f, _ = self._values(P, True, False)
        return self._checked("f", np.asarray(f), P)[()] if check else f

    def grad(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact gradient at ``X``; ``(n,)`` or ``(..., n)``."""
        P = self._prepare(X, batch)
        with np.errstate(all="ignore"):
            _, g = self._values(P, False, True)
        return self._checked("the gradient", g, P) if check else g

    def value_and_grad(self, X: Any, *, check: bool = True, batch: Any = None) -> tuple[Any, Array]:
        """``(f(X), grad(X))`` from one evaluation (shared subexpressions)."""
        P = self._prepare(X, batch)
        with np.errstate(all="ignore"):
            f, g = self._values(P, True, True)
        if check:
            f = self._checked("f", np.asarray(f), P)[()]
            g = self._checked("the gradient", g, P)
        return f, g

    def hess(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact Hessian at ``X``, symmetric; ``(n, n)`` or ``(..., n, n)``."""
        P = self._prepare(X, batch)
        with np.errstate(all="ignore"):
            H = self._eval_hess(P)
            if self.l2:
                idx = np.arange(self.n)
                H[..., idx, idx] += self.l2
        return self._checked("the Hessian", H, P) if check else H

    def point_value_and_grad(self) -> Callable[[Array], tuple[float, Array]]:
        """A callable ``x -> (f, g)`` for one float64 point ``(n,)``, unchecked: the
        engine's single-run loop (``f`` a Python float, ``g`` a fresh array)."""
        base = self._point_vg()
        l1, l2 = self.l1, self.l2
        if not (l1 or l2):
            return base
        absolute, sign = np.abs, np.sign

        def vg(x: Array) -> tuple[float, Array]:
            f, g = base(x)
            f += 0.5 * l2 * float(x @ x) + l1 * float(absolute(x).sum())
            g += l2 * x + l1 * sign(x)
            return f, g

        return vg

    def jax_functions(self, jnp: Any, printer: Callable[[], Any]) -> tuple[Callable, Callable]:
        """``(vg, hess)`` in ``jnp`` (``jax.numpy``) for the compiled backend: ``vg(X)`` of
        points ``(R, n)`` gives ``(F (R,), G (R, n))`` and ``hess(X)`` the Hessians
        ``(R, n, n)``, the same operations as :meth:`value_and_grad` and :meth:`hess`
        (regularization included). ``printer``: a function making a fresh sympy printer to
        ``jax.numpy`` (the backend's). Built once per surface and namespace."""
        cache = self.__dict__.setdefault("_jax_cache", {})
        hit = cache.get(id(jnp))
        if hit is not None:
            return hit
        base_vg, base_hess = self._jax_eval(jnp, printer)
        l1, l2, n = self.l1, self.l2, self.n

        if not (l1 or l2):
            vg, hess = base_vg, base_hess
        else:

            def vg(X: Any) -> tuple[Any, Any]:
                F, G = base_vg(X)
                F = F + (0.5 * l2) * jnp.sum(X * X, axis=-1)
                F = F + l1 * jnp.sum(jnp.abs(X), axis=-1)
                return F, G + (l2 * X + l1 * jnp.sign(X))

            def hess(X: Any) -> Any:
                H = base_hess(X)
                if l2:
                    idx = np.arange(n)
                    H = H.at[:, idx, idx].add(l2)
                return H

        cache[id(jnp)] = (vg, hess)
        return vg, hess

    # -- to implement ----------------------------------------------------------------------
    def _jax_eval(self, jnp: Any, printer: Callable[[], Any]) -> tuple[Callable, Callable]:
        raise NotImplementedError

    def _eval(self, P: Array, want_f: bool, want_g: bool) -> tuple[Any, Any]:
        raise NotImplementedError

    def _eval_hess(self, P: Array) -> Array:
        raise NotImplementedError

    def _point_vg(self) -> Callable[[Array], tuple[float, Array]]:
        raise NotImplementedError

    def _copy(self, **changes: Any) -> Self:
        raise NotImplementedError

    # -- derived surfaces ------------------------------------------------------------------
    def with_parameters(self, **overrides: Any) -> Any:
        """The same surface with some parameters changed (itself when none is given)."""
        if not overrides:
            return self
        if self._rebuild is None:
            raise SurfaceError(f"surface {self.name!r} has no parameters to override")
        new = self._rebuild(**overrides)
        if (new.l1, new.l2) != (self.l1, self.l2):
            new = new._copy(l1=self.l1, l2=self.l2)
        return new

    def regularized(self, l1: float = 0.0, l2: float = 0.0) -> Self:
        """A new surface with ``l1 * ||w||_1 + l2 / 2 * ||w||^2`` added (the compiled
        structure is shared, nothing is compiled again)."""
        return self._copy(l1=self.l1 + _check_reg("l1", l1), l2=self.l2 + _check_reg("l2", l2))

    def transformed(self, rotate: float = 0.0, scale: Any = None, plane: Any = None) -> Any:
        """Not available: a transform substitutes into a symbolic expression."""
        raise SurfaceError(
            f"surface {self.name!r} is a structured surface ({self.n} variables): "
            "transform (rotate, scale) needs an expression surface; transform the data instead"
        )

    # -- symbolic view -------------------------------------------------------------------
    def _reg_expr(self) -> sp.Expr:
        e = sp.S.Zero
        if self.l2:
            e += to_exact(self.l2) / 2 * sp.Add(*[s**2 for s in self.symbols])
        if self.l1:
            e += to_exact(self.l1) * sp.Add(*[sp.Abs(s) for s in self.symbols])
        return e

    def _reg_gradient(self) -> list[sp.Expr]:
        out = []
        for s in self.symbols:
            e = sp.S.Zero
            if self.l2:
                e += to_exact(self.l2) * s
            if self.l1:
                e += to_exact(self.l1) * sp.sign(s)
            out.append(e)
        return out

    def _reg_latex(self) -> str:
        v = self.vector
        out = ""
        if self.l2:
            out += rf" + \frac{{{sp.latex(to_exact(self.l2))}}}{{2}} \lVert {v} \rVert_2^{{2}}"
        if self.l1:
            out += rf" + {sp.latex(to_exact(self.l1))} \lVert {v} \rVert_1"
        return out

    # -- presentation ----------------------------------------------------------------------
    def _parameter_lines(self) -> list[str]:
        shown = ", ".join(f"{k}={v}" for k, v in self.parameters.items())
        return [f"  parameters: {shown}"] if shown else []

    def describe(self) -> str:
        """Formula, parameters, window, known minima and source, compact at any n."""
        lines = [f"{self.name}: {self.description}".rstrip(": ")]
        head = (
            ", ".join(self.variables)
            if self.n <= 4
            else (f"{self.variables[0]}, ..., {self.variables[-1]}")
        )
        lines.append(f"  f({head}) = {self.text}")
        lines += self._parameter_lines()
        if self.l1 or self.l2:
            lines.append(f"  regularization: l1={self.l1:g}, l2={self.l2:g}")
        w = self.window
        if self.n > 4 and np.all(w == w[0]):
            lines.append(
                f"  window: {self.variables[0]}, ..., {self.variables[-1]} each in "
                f"[{w[0, 0]:g}, {w[0, 1]:g}]"
            )
        else:
            shown = [
                f"{v} in [{lo:g}, {hi:g}]" for v, (lo, hi) in zip(self.variables, w, strict=True)
            ]
            if len(shown) > 6:
                shown = shown[:3] + ["...", shown[-1]]
            lines.append("  window: " + ", ".join(shown))
        for m in self.minima:
            lines.append(f"  known minimum: {_short_numbers(m.point)}, f = {m.value:.6g}")
        if self.source:
            lines.append(f"  source: {self.source}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, f={self.text!r}, n={self.n})"


class _Latex(Mapping):
    """name -> LaTeX, each rendered by a function on first use."""

    def __init__(self, makers: dict[str, Callable[[], str]]):
        self._makers = makers
        self._text: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if key not in self._text:
            self._text[key] = self._makers[key]()
        return self._text[key]

    def __iter__(self):
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __repr__(self) -> str:
        return repr(dict(self))


# -- the quadratic -----------------------------------------------------------------------------
#: Above this many variables positive definiteness is decided by a Cholesky factorization
#: (a third of the work of the eigenvalues: 1000 variables take 0.3 s instead of 3 s).
EIGEN_MAX_N = 200


def quadratic_window_and_minimum(A: Array, b: Array, c: float) -> tuple[list, list]:
    """The window and known minimum of ``1/2 x^T A x + b^T x + c``: ``w* = -A^-1 b`` when A
    is positive definite (its smallest eigenvalue above ``1e-12`` of the largest
    magnitude; for more than :data:`EIGEN_MAX_N` variables: a Cholesky factorization
    exists), and the box around it scaled so its narrowest side has half-width 2 (the flat
    directions of an ill-conditioned A get up to 5x more room); ``[-2, 2]`` around 0 and
    no minimum otherwise."""
    n = A.shape[0]
    minima: list = []
    centre = np.zeros(n)
    half = np.full(n, 2.0)
    L = None
    if n <= EIGEN_MAX_N:
        eig = np.linalg.eigvalsh(A)
        definite = bool(eig[0] > 1e-12 * max(1.0, float(np.abs(eig).max())))
    else:
        try:
            L = np.linalg.cholesky(A)
            definite = True
        except np.linalg.LinAlgError:
            definite = False
    if definite:
        if L is None:
            wstar = -np.linalg.solve(A, b)
            spread = np.sqrt(np.diag(np.linalg.inv(A)))
        else:  # A = L L^T: diag(A^-1) = column sums of squares of L^-1
            Linv = np.linalg.solve(L, np.eye(n))
            wstar = -(Linv.T @ (Linv @ b))
            spread = np.sqrt(np.einsum("ij,ij->j", Linv, Linv))
        wstar = wstar + 0.0  # no -0.0 in the listed point
        minima = [{"point": wstar.tolist(), "value": c + 0.5 * float(b @ wstar)}]
        centre = wstar
        half = 2.0 * np.minimum(spread / spread.min(), 5.0)
    window = [[float(m - h), float(m + h)] for m, h in zip(centre, half, strict=True)]
    return window, minima


class QuadraticSurface(StructuredSurface):
    """``f(x) = 1/2 x^T A x + b^T x + c`` in matrix form: ``grad = A x + b``, ``hess = A``.

    ``A``: a symmetric ``n x n`` array of finite numbers (exactly symmetric), ``b`` a vector
    of length n or one number for every coordinate, ``c`` a number. ``exact``: optional
    exact sympy values ``(A, b, c)`` for the symbolic view (the library passes the
    parameters as written, e.g. ``1/3``); by default each float is read as the rational of
    its shortest decimal form, as :func:`optiviz.surface.to_exact` does. Known minima:
    ``w* = -(A + l2 I)^-1 b`` when that matrix is positive definite and ``l1 = 0`` (unless
    ``minima`` is given); the default window is centred on it.
    """

    def __init__(
        self,
        A: Any,
        b: Any = 0.0,
        c: float = 0.0,
        *,
        name: str = "quadratic",
        variables: Sequence[str] | None = None,
        vector: str = "x",
        parameters: Mapping[str, Any] | None = None,
        window: Any = None,
        minima: Iterable[Any] | None = None,
        description: str = "",
        source: str = "",
        l1: float = 0.0,
        l2: float = 0.0,
        rebuild: Callable[..., Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        exact: tuple[Any, Any, Any] | None = None,
    ):
        An = np.array(A, dtype=float)
        if An.ndim != 2 or An.shape[0] != An.shape[1] or An.shape[0] == 0:
            raise SurfaceError(
                f"surface {name!r}: A must be a square n x n matrix; got shape {An.shape}"
            )
        n = _check_n(An.shape[0], name)
        if not np.all(np.isfinite(An)):
            raise SurfaceError(f"surface {name!r}: A must hold finite numbers")
        if not np.array_equal(An, An.T):
            i, j = np.argwhere(An != An.T)[0]
            raise SurfaceError(
                f"surface {name!r}: A must be symmetric; got A[{i}][{j}] = {An[i, j]!r} but "
                f"A[{j}][{i}] = {An[j, i]!r}"
            )
        bn = (
            np.broadcast_to(np.asarray(b, dtype=float), (n,)).copy()
            if np.ndim(b) == 0
            else (np.array(b, dtype=float).reshape(-1))
        )
        if bn.shape != (n,) or not np.all(np.isfinite(bn)):
            raise SurfaceError(
                f"surface {name!r}: b must be one finite number or {n} of them; got shape "
                f"{np.shape(b)}"
            )
        cn = float(c)
        if not np.isfinite(cn):
            raise SurfaceError(f"surface {name!r}: c must be a finite number; got {c!r}")
        self.A, self.b, self.c = An, bn, cn
        self.A.setflags(write=False)
        self.b.setflags(write=False)
        self._exact = exact
        self._b_zero = not bn.any()
        given_window = window
        if minima is None and not l1:
            Ar = An + l2 * np.eye(n) if l2 else An
            auto_window, minima = quadratic_window_and_minimum(Ar, bn, cn)
            if given_window is None:
                given_window = auto_window
        super().__init__(
            n,
            name=name,
            variables=variables,
            vector=vector,
            text="1/2 x^T A x + b^T x + c".replace("x", vector),
            parameters=parameters,
            window=given_window,
            minima=minima,
            description=description
            or f"quadratic 1/2 x^T A x + b^T x + c in matrix form ({n} variables)",
            source=source,
            l1=l1,
            l2=l2,
            rebuild=rebuild,
            extra=extra,
        )
        self._given_minima = minima is not None and window is not None

    # -- evaluation ------------------------------------------------------------------------
    def _eval(self, P: Array, want_f: bool, want_g: bool) -> tuple[Any, Any]:
        AP = P @ self.A  # A is symmetric: (A x)^T = x^T A, for every point of the batch
        g = AP + self.b if want_g else None
        f = None
        if want_f:
            f = 0.5 * np.einsum("...i,...i->...", P, AP)
            if not self._b_zero:
                f = f + P @ self.b
            if self.c:
                f = f + self.c
        return f, g

    def _eval_hess(self, P: Array) -> Array:
        return np.array(np.broadcast_to(self.A, P.shape[:-1] + self.A.shape))

    def _jax_eval(self, jnp: Any, printer: Callable[[], Any]) -> tuple[Callable, Callable]:
        """``X @ A.T + b`` (A symmetric: the numpy path's ``X @ A``), ``1/2 x.(A x) + b.x +
        c``, and ``A`` broadcast to every point."""
        A, b, c, b_zero = jnp.asarray(self.A), jnp.asarray(self.b), self.c, self._b_zero
        An = self.A

        def vg(X: Any) -> tuple[Any, Any]:
            AX = X @ A.T
            F = 0.5 * jnp.sum(X * AX, axis=-1)
            if not b_zero:
                F = F + X @ b
            if c:
                F = F + c
            return F, AX + b

        def hess(X: Any) -> Any:
            return jnp.broadcast_to(jnp.asarray(An), X.shape[:-1] + An.shape)

        return vg, hess

    def _point_vg(self) -> Callable[[Array], tuple[float, Array]]:
        A, b, c = self.A, self.b, self.c
        if self._b_zero:

            def vg(x: Array) -> tuple[float, Array]:
                ax = A @ x
                return 0.5 * float(x @ ax) + c, ax

            return vg

        def vg_b(x: Array) -> tuple[float, Array]:
            ax = A @ x
            g = ax + b
            return 0.5 * float(x @ ax) + float(b @ x) + c, g

        return vg_b

    def _copy(self, **changes: Any) -> Self:
        kw: dict[str, Any] = dict(
            name=self.name,
            variables=self.variables,
            vector=self.vector,
            parameters=self.parameters,
            window=self._window_arg,
            minima=None,
            description=self.description,
            source=self.source,
            l1=self.l1,
            l2=self.l2,
            rebuild=self._rebuild,
            extra=self.extra,
            exact=self._exact,
        )
        kw.update(changes)
        return type(self)(self.A, self.b, self.c, **kw)

    # -- facts -----------------------------------------------------------------------------
    @cached_property
    def _terms(self) -> int:
        """Nonzero entries on and above A's diagonal, plus b's: the explicit terms."""
        return int(np.count_nonzero(np.triu(self.A))) + int(np.count_nonzero(self.b))

    @property
    def symbolic_exact(self) -> bool:
        """True when the symbolic view is the explicit expression (at most
        :data:`EXPLICIT_MAX_TERMS` nonzero entries); else compact Sum forms."""
        return self._terms <= EXPLICIT_MAX_TERMS

    @property
    def is_polynomial(self) -> bool:
        return not self.l1

    @property
    def degree(self) -> int | None:
        if self.l1:
            return None
        if self.A.any() or self.l2:
            return 2
        return 1 if not self._b_zero else 0

    def _parameter_lines(self) -> list[str]:
        A = self.A
        nnz = int(np.count_nonzero(A))
        lam = np.linalg.eigvalsh(A) if self.n <= EIGEN_MAX_N else None
        eig = f", eigenvalues in [{lam[0]:.6g}, {lam[-1]:.6g}]" if lam is not None else ""
        lines = [f"  A: {self.n} x {self.n}, {nnz:,} nonzero entries{eig}"]
        b = (
            f"{self.b[0]:g} in every coordinate"
            if np.all(self.b == self.b[0])
            else _short_numbers(self.b)
        )
        lines.append(f"  b: {b}; c: {self.c:g}")
        return lines

    # -- symbolic view ---------------------------------------------------------------------
    def _exact_values(self) -> tuple[Any, list, Any]:
        """Exact (A entry function, b list, c)."""
        if self._exact is not None:
            A, b, c = self._exact
            return (lambda i, j: A[i, j]), list(b), c
        A, b = self.A, self.b
        return (
            (lambda i, j: to_exact(float(A[i, j]))),
            [to_exact(float(v)) for v in b],
            (to_exact(self.c)),
        )

    def _indexed(self) -> tuple[Any, Any, Any, Any, Any]:
        X = sp.IndexedBase(self.vector)
        A, b = sp.IndexedBase("A"), sp.IndexedBase("b")
        i, j = sp.symbols("i j", integer=True, positive=True)
        return X, A, b, i, j

    @cached_property
    def base_expression(self) -> sp.Expr:
        """Without regularization: explicit, or a compact Sum (not ``symbolic_exact``)."""
        n, syms = self.n, self.symbols
        if not self.symbolic_exact:
            X, A, b, i, j = self._indexed()
            return (
                sp.Rational(1, 2) * sp.Sum(A[i, j] * X[i] * X[j], (i, 1, n), (j, 1, n))
                + sp.Sum(b[i] * X[i], (i, 1, n))
                + to_exact(self.c)
            )
        Ae, be, ce = self._exact_values()
        half = sp.Rational(1, 2)
        rows, cols = np.nonzero(np.triu(self.A))
        terms = [
            half * Ae(i, i) * syms[i] ** 2 if i == j else Ae(i, j) * syms[i] * syms[j]
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True)
        ]
        terms += [be[i] * syms[i] for i in np.flatnonzero(self.b).tolist()]
        return sp.Add(*terms, ce)

    @cached_property
    def expression(self) -> sp.Expr:
        return self.base_expression + self._reg_expr()

    @cached_property
    def gradient(self) -> sp.Matrix:
        """``A x + b`` (+ regularization), an ``n x 1`` Matrix (built on first use)."""
        n, syms = self.n, self.symbols
        reg = self._reg_gradient()
        if not self.symbolic_exact:
            X, A, b, i, j = self._indexed()
            return sp.Matrix(
                [sp.Sum(A[k + 1, j] * X[j], (j, 1, n)) + b[k + 1] + reg[k] for k in range(n)]
            )
        Ae, be, _ = self._exact_values()
        out = []
        for k in range(n):
            cols = np.flatnonzero(self.A[k]).tolist()
            out.append(sp.Add(*[Ae(k, j) * syms[j] for j in cols], be[k], reg[k]))
        return sp.Matrix(out)

    @cached_property
    def hessian(self) -> sp.Matrix:
        """``A`` (+ ``l2 I``) as an exact ``n x n`` Matrix (built on first use; seconds for
        thousands of variables)."""
        Ae, _, _ = self._exact_values()
        l2 = to_exact(self.l2) if self.l2 else sp.S.Zero
        H = sp.zeros(self.n, self.n)
        rows, cols = np.nonzero(self.A)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            H[i, j] = Ae(i, j)
        if l2:
            for i in range(self.n):
                H[i, i] += l2
        return H

    @cached_property
    def latex(self) -> Mapping[str, str]:
        """Compact LaTeX: ``\\frac{1}{2} x^T A x + b^T x + c``, ``A x + b``, ``A``."""
        v = self.vector
        b_part = "" if self._b_zero else rf" + b^{{\top}} {v}"
        c_part = "" if not self.c else f" + {sp.latex(to_exact(self.c))}"
        reg = self._reg_latex()
        grad_reg = (rf" + {sp.latex(to_exact(self.l2))} {v}" if self.l2 else "") + (
            rf" + {sp.latex(to_exact(self.l1))} \operatorname{{sign}}({v})" if self.l1 else ""
        )
        hess_reg = rf" + {sp.latex(to_exact(self.l2))} I" if self.l2 else ""
        return _Latex(
            {
                "f": lambda: rf"\frac{{1}}{{2}} {v}^{{\top}} A {v}{b_part}{c_part}{reg}",
                "gradient": lambda: f"A {v}" + (" + b" if not self._b_zero else "") + grad_reg,
                "hessian": lambda: "A" + hess_reg,
            }
        )


# -- sums over an index ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Part:
    """One summed term, compiled once: slots at ``starts`` (0-based) of length ``m``."""

    expr: sp.Expr  # coefficient * term, in the slot symbols (and the index)
    slots: tuple[sp.Symbol, ...]
    offsets: tuple[int, ...]
    index: sp.Symbol | None  # the summation index (None: the part outside every sum)
    uses_index: bool
    lo: int
    hi: int
    d1: tuple[sp.Expr, ...]
    d2: tuple[tuple[int, int, sp.Expr], ...]  # (j, l, d2t/ds_j ds_l) for j <= l
    fn: Callable
    fg: Callable
    h: Callable | None

    @property
    def m(self) -> int:
        return self.hi - self.lo + 1

    @property
    def starts(self) -> tuple[int, ...]:
        return tuple(self.lo + o - 1 for o in self.offsets)

    def args(self, P: Array) -> list:
        m = self.m
        out: list = [P[..., s : s + m] for s in self.starts]
        if self.uses_index:
            out.append(np.arange(self.lo, self.hi + 1, dtype=float))
        return out


def _compile_part(p: Any) -> _Part:
    """Differentiate and compile one :class:`optiviz.expr.IndexedSum` (parameters already
    substituted)."""
    expr = p.coefficient * p.term
    slots = tuple(p.slots)
    args = list(slots) + ([p.index_symbol] if p.uses_index else [])
    d1 = tuple(_strip_distributions(sp.diff(expr, s)) for s in slots)
    d2 = tuple(
        (j, k, _strip_distributions(sp.diff(d1[j], slots[k])))
        for j in range(len(slots))
        for k in range(j, len(slots))
    )
    d2 = tuple(e for e in d2 if e[2] != 0)
    return _Part(
        expr=expr,
        slots=slots,
        offsets=tuple(p.offsets),
        index=p.index_symbol,
        uses_index=bool(p.uses_index),
        lo=int(p.lo),
        hi=int(p.hi),
        d1=d1,
        d2=d2,
        fn=_lambdify(args, expr),
        fg=_lambdify(args, [expr, *d1]),
        h=_lambdify(args, [e for _, _, e in d2]) if d2 else None,
    )


class SumSurface(StructuredSurface):
    """A sum of terms over an index, each differentiated and compiled once.

    ``parts``: :class:`optiviz.expr.IndexedSum` objects (from
    :func:`optiviz.expr.parse_indexed`, or built by trusted code) with their parameters
    substituted; ``n`` the number of variables (``x[1] .. x[n]``). Build user text with
    :meth:`from_expression`. ``symbolic_exact`` is True: the symbolic view (built on first
    use) is the explicit sum in the variables, O(n) terms.
    """

    symbolic_exact: bool = True

    def __init__(
        self,
        parts: Sequence[Any],
        n: int,
        *,
        name: str = "custom",
        text: str = "",
        variables: Sequence[str] | None = None,
        vector: str = "x",
        parameters: Mapping[str, Any] | None = None,
        window: Any = None,
        minima: Iterable[Any] | None = None,
        description: str = "",
        source: str = "",
        l1: float = 0.0,
        l2: float = 0.0,
        rebuild: Callable[..., Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        _compiled: tuple[_Part, ...] | None = None,
    ):
        super().__init__(
            n,
            name=name,
            variables=variables,
            vector=vector,
            text=text,
            parameters=parameters,
            window=window,
            minima=minima,
            description=description,
            source=source,
            l1=l1,
            l2=l2,
            rebuild=rebuild,
            extra=extra,
        )
        if _compiled is None:
            for p in parts:
                free = (
                    p.term.free_symbols
                    - set(p.slots)
                    - ({p.index_symbol} if p.index_symbol else set())
                )
                if free:
                    raise SurfaceError(
                        f"surface {name!r}: a summed term uses undeclared names "
                        f"{', '.join(sorted(map(str, free)))}"
                    )
                for o in p.offsets:
                    lo, hi = (p.lo + o, p.hi + o)
                    if lo < 1 or hi > self.n:
                        raise SurfaceError(
                            f"surface {name!r}: a term reaches {vector}[{lo}] .. {vector}[{hi}]; "
                            f"the variables are {vector}[1] .. {vector}[{self.n}]"
                        )
            _compiled = tuple(_compile_part(p) for p in parts)
        self._parts = _compiled

    @classmethod
    def from_expression(
        cls,
        text: str,
        n: int,
        parameters: Mapping[str, Any] | None = None,
        *,
        vector: str = "x",
        **kwargs: Any,
    ) -> SumSurface:
        """Parse ``text`` with :func:`optiviz.expr.parse_indexed` over ``x[1] .. x[n]`` (the
        variables are named ``x1 .. xn``) and build the surface; ``parameters`` maps the
        names in the text to values (numbers or constant text such as ``"0.15*pi"``)."""
        from optiviz.errors import ExpressionError
        from optiviz.expr import parse_constant, parse_indexed, substitute, symbol, validate_name

        params = dict(parameters or {})
        for key in params:
            validate_name(key)
        parsed = parse_indexed(text, vector, n, list(params))
        values = {
            symbol(k): (parse_constant(v) if isinstance(v, str) else to_exact(v))
            for k, v in params.items()
        }
        name = kwargs.get("name", "custom")
        parts = []
        for p in parsed.parts:
            try:
                term = substitute(p.term, values) if values else p.term
                coefficient = substitute(p.coefficient, values) if values else p.coefficient
            except ExpressionError as exc:
                raise SurfaceError(
                    f"surface {name!r}: after substituting the parameters, {exc}"
                ) from None
            if term.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                raise SurfaceError(
                    f"surface {name!r}: the expression is undefined for the parameter values"
                )
            parts.append(p._replace(term=term, coefficient=coefficient))

        def rebuild(**overrides: Any) -> SumSurface:
            unknown = [k for k in overrides if k not in params]
            if unknown:
                raise SurfaceError(
                    f"surface {name!r} has no parameter {unknown[0]!r}; parameters: "
                    f"{', '.join(params) or 'none'}"
                )
            kw = {**kwargs, "minima": None}
            return cls.from_expression(text, n, {**params, **overrides}, vector=vector, **kw)

        kw = {"text": text, **kwargs}
        return cls(parts, n, vector=vector, parameters=params, rebuild=rebuild, **kw)

    def _copy(self, **changes: Any) -> Self:
        kw: dict[str, Any] = dict(
            name=self.name,
            text=self.text,
            variables=self.variables,
            vector=self.vector,
            parameters=self.parameters,
            window=self.window,
            minima=None if (changes.get("l1") or changes.get("l2")) else self.minima,
            description=self.description,
            source=self.source,
            l1=self.l1,
            l2=self.l2,
            rebuild=self._rebuild,
            extra=self.extra,
        )
        kw.update(changes)
        return type(self)((), self.n, _compiled=self._parts, **kw)

    # -- evaluation ------------------------------------------------------------------------
    def _eval(self, P: Array, want_f: bool, want_g: bool) -> tuple[Any, Any]:
        lead = P.shape[:-1]
        f: Any = np.zeros(lead) if want_f else None
        g = np.zeros(P.shape) if want_g else None
        for p in self._parts:
            m = p.m
            args = p.args(P)
            if want_g:
                out = p.fg(*args)
                val = out[0]
                assert g is not None
                for s, d in zip(p.starts, out[1:], strict=True):
                    g[..., s : s + m] += d
            else:
                val = p.fn(*args)
            if want_f:
                f = f + np.sum(np.broadcast_to(val, lead + (m,)), axis=-1)
        return f, g

    def _jax_eval(self, jnp: Any, printer: Callable[[], Any]) -> tuple[Callable, Callable]:
        """Each term printed to ``jax.numpy`` once (its value, slot derivatives and Hessian
        entries), evaluated on the static slices ``X[:, s : s + m]`` and scattered as
        :meth:`_eval` and :meth:`_eval_hess` do (one slice add per slot, one band per slot
        pair, mirrored)."""
        from optiviz.surface import _POWERS

        n = self.n
        plan = []
        for p in self._parts:
            args = list(p.slots) + ([p.index] if p.uses_index else [])
            modules = [{**_POWERS, "heaviside": jnp.heaviside}, "jax"]
            fg = sp.lambdify(args, [p.expr, *p.d1], modules=modules, cse=True, printer=printer())
            h = (
                sp.lambdify(
                    args, [e for _, _, e in p.d2], modules=modules, cse=True, printer=printer()
                )  # fmt: skip
                if p.d2
                else None
            )
            iv = np.arange(p.lo, p.hi + 1, dtype=float) if p.uses_index else None
            plan.append((p, fg, h, iv))

        def arguments(X: Any, p: _Part, iv: Any) -> list:
            m = p.m
            out: list = [X[..., s : s + m] for s in p.starts]
            if iv is not None:
                out.append(jnp.asarray(iv))
            return out

        def vg(X: Any) -> tuple[Any, Any]:
            lead = X.shape[:-1]
            F = jnp.zeros(lead)
            G = jnp.zeros(X.shape)
            for p, fg, _, iv in plan:
                m = p.m
                val, *ds = fg(*arguments(X, p, iv))
                for s, d in zip(p.starts, ds, strict=True):
                    G = G.at[..., s : s + m].add(d)
                F = F + jnp.sum(jnp.broadcast_to(val, lead + (m,)), axis=-1)
            return F, G

        def hess(X: Any) -> Any:
            lead = X.shape[:-1]
            H = jnp.zeros(lead + (n, n))
            for p, _, h, iv in plan:
                if h is None:
                    continue
                m = p.m
                rows = [np.arange(s, s + m) for s in p.starts]
                for (j, k, _), v in zip(p.d2, h(*arguments(X, p, iv)), strict=True):
                    v = jnp.broadcast_to(v, lead + (m,))
                    H = H.at[..., rows[j], rows[k]].add(v)
                    if j != k:
                        H = H.at[..., rows[k], rows[j]].add(v)
            return H

        return vg, hess

    def _eval_hess(self, P: Array) -> Array:
        lead = P.shape[:-1]
        H = np.zeros(lead + (self.n, self.n))
        for p in self._parts:
            if p.h is None:
                continue
            m = p.m
            rows = [np.arange(s, s + m) for s in p.starts]
            for (j, k, _), v in zip(p.d2, p.h(*p.args(P)), strict=True):
                v = np.broadcast_to(v, lead + (m,))
                H[..., rows[j], rows[k]] += v
                if j != k:  # offsets are sorted: (j, k) is above the diagonal, mirrored
                    H[..., rows[k], rows[j]] += v
        return H

    def _point_vg(self) -> Callable[[Array], tuple[float, Array]]:
        n = self.n
        zeros = np.zeros
        plan = [
            (p.fg, p.starts, p.m, np.arange(p.lo, p.hi + 1, dtype=float) if p.uses_index else None)
            for p in self._parts
        ]
        if len(plan) == 1 and plan[0][3] is None:
            fg, starts, m = plan[0][:3]
            if len(starts) == 2:  # the common case (Rosenbrock): unrolled
                s0, s1 = starts

                def vg2(x: Array) -> tuple[float, Array]:
                    v, d0, d1 = fg(x[s0 : s0 + m], x[s1 : s1 + m])
                    g = zeros(n)
                    g[s0 : s0 + m] += d0
                    g[s1 : s1 + m] += d1
                    return float(v.sum()) if type(v) is np.ndarray else float(v) * m, g

                return vg2

        def vg(x: Array) -> tuple[float, Array]:
            g = zeros(n)
            f = 0.0
            for fg, starts, m, iv in plan:
                args = [x[s : s + m] for s in starts]
                if iv is not None:
                    args.append(iv)
                v, *ds = fg(*args)
                f += float(v.sum()) if type(v) is np.ndarray and v.shape else float(v) * m
                for s, d in zip(starts, ds, strict=True):
                    g[s : s + m] += d
            return f, g

        return vg

    # -- facts -----------------------------------------------------------------------------
    @cached_property
    def is_polynomial(self) -> bool:
        if self.l1:
            return False
        return all(p.expr.is_polynomial(*p.slots) for p in self._parts)

    @cached_property
    def degree(self) -> int | None:
        """Total degree (None if not a polynomial): the largest over the terms, exact
        unless terms of different sums cancel."""
        if not self.is_polynomial:
            return None
        d = (
            max(
                (int(sp.Poly(p.expr, *p.slots).total_degree()) if p.slots else 0)
                for p in self._parts
            )
            if self._parts
            else 0
        )
        return max(d, 2) if self.l2 else d

    # -- symbolic view ---------------------------------------------------------------------
    def _instances(self, p: _Part) -> Iterable[tuple[int, dict]]:
        syms = self.symbols
        for i in range(p.lo, p.hi + 1):
            sub: dict = {s: syms[i + o - 1] for s, o in zip(p.slots, p.offsets, strict=True)}
            if p.uses_index:
                sub[p.index] = sp.Integer(i)
            yield i, sub

    @cached_property
    def base_expression(self) -> sp.Expr:
        """The explicit sum in the variables (no regularization), built on first use."""
        terms = [p.expr.xreplace(sub) for p in self._parts for _, sub in self._instances(p)]
        return sp.Add(*terms)

    @cached_property
    def expression(self) -> sp.Expr:
        return self.base_expression + self._reg_expr()

    @cached_property
    def gradient(self) -> sp.Matrix:
        """Exact gradient (an ``n x 1`` Matrix): each entry the slot derivatives of the
        terms that hold the variable."""
        entries: list[list] = [[] for _ in range(self.n)]
        for p in self._parts:
            for i, sub in self._instances(p):
                for o, d in zip(p.offsets, p.d1, strict=True):
                    entries[i + o - 1].append(d.xreplace(sub))
        reg = self._reg_gradient()
        return sp.Matrix([sp.Add(*e, r) for e, r in zip(entries, reg, strict=True)])

    @cached_property
    def hessian(self) -> sp.Matrix:
        """Exact Hessian (an ``n x n`` symmetric Matrix, mostly zeros)."""
        H = sp.zeros(self.n, self.n)
        for p in self._parts:
            for i, sub in self._instances(p):
                for j, k, e in p.d2:
                    a, b = i + p.offsets[j] - 1, i + p.offsets[k] - 1
                    v = e.xreplace(sub)
                    H[a, b] += v
                    if a != b:
                        H[b, a] += v
        if self.l2:
            for i in range(self.n):
                H[i, i] += to_exact(self.l2)
        return H

    def _compact(self, which: str) -> sp.Expr:
        """The sum written once with ``x[i]`` (``sympy.Indexed``) and a sum sign: the
        function, or its gradient with unit vectors ``e_k`` / Hessian with ``E_{kl}``."""
        X = sp.IndexedBase(self.vector)
        e, E = sp.IndexedBase(r"\mathbf{e}"), sp.IndexedBase(r"\mathbf{E}")
        out = []
        for p in self._parts:
            idx = p.index if p.index is not None else sp.S.Zero
            sub: dict = {s: X[idx + o] for s, o in zip(p.slots, p.offsets, strict=True)}
            if which == "f":
                body = p.expr.xreplace(sub)
            elif which == "gradient":
                body = sp.Add(
                    *[d.xreplace(sub) * e[idx + o] for o, d in zip(p.offsets, p.d1, strict=True)]
                )
            else:
                body = sp.Add(
                    *[
                        v.xreplace(sub)
                        * (
                            E[idx + p.offsets[j], idx + p.offsets[k]]
                            if j == k
                            else E[idx + p.offsets[j], idx + p.offsets[k]]
                            + E[idx + p.offsets[k], idx + p.offsets[j]]
                        )
                        for j, k, v in p.d2
                    ]
                )
            out.append(sp.Sum(body, (p.index, p.lo, p.hi)) if p.index is not None else body)
        return sp.Add(*out)

    @cached_property
    def latex(self) -> Mapping[str, str]:
        """Compact LaTeX with sum signs (``\\mathbf{e}_k``: unit vectors, ``\\mathbf{E}_{kl}``:
        unit matrices), rendered on first use."""
        v = self.vector
        reg = self._reg_latex()
        grad_reg = (rf" + {sp.latex(to_exact(self.l2))} {v}" if self.l2 else "") + (
            rf" + {sp.latex(to_exact(self.l1))} \operatorname{{sign}}({v})" if self.l1 else ""
        )
        hess_reg = rf" + {sp.latex(to_exact(self.l2))} I" if self.l2 else ""
        return _Latex(
            {
                "f": lambda: sp.latex(self._compact("f")) + reg,
                "gradient": lambda: sp.latex(self._compact("gradient")) + grad_reg,
                "hessian": lambda: sp.latex(self._compact("hessian")) + hess_reg,
            }
        )


# -- builders ----------------------------------------------------------------------------------
ROSENBROCK_TERM = "b*(x[i+1] - x[i]**2)**2 + (a - x[i])**2"


def rosenbrock(n: int, a: Any = 1, b: Any = 100, **kwargs: Any) -> SumSurface:
    """The chained n-D Rosenbrock function ``sum_{i=1}^{n-1} b (x_{i+1} - x_i^2)^2 +
    (a - x_i)^2`` as a :class:`SumSurface` (minimum 0 at ``(1, ..., 1)`` when ``a = 1``).
    ``kwargs`` go to the constructor (name, window, minima, ...)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_STRUCTURED_VARIABLES:
        raise SurfaceError(
            f"rosenbrock parameter 'n' must be an int in the range [2, "
            f"{MAX_STRUCTURED_VARIABLES}]; got {n!r}"
        )
    if "minima" not in kwargs:
        kwargs["minima"] = [{"point": [1.0] * n, "value": 0.0}] if a == 1 and b != 0 else []
    kwargs.setdefault("name", "rosenbrock")
    kwargs.setdefault("description", f"chained Rosenbrock function ({n} variables)")
    shown = kwargs.pop("parameters", None)  # the library's parameters, as given
    rebuild = kwargs.pop("rebuild", None)
    text = f"sum({ROSENBROCK_TERM}, i, 1, n-1)"
    s = SumSurface.from_expression(text, n, {"a": a, "b": b}, **kwargs)
    if shown is not None:
        s.parameters = dict(shown)
    if rebuild is not None:
        s._rebuild = rebuild
    return s


@dataclass(frozen=True)
class Separable:
    """A separable test function ``f(x) = sum_i t(x_i)``: text, window and minimum."""

    term: str  # in x[i] (and n)
    low: float
    high: float
    #: the minimizer of t (every coordinate) and f* / n (the constant included), if known
    argmin: float | None
    min_per_coordinate: float | None
    constant: str = ""  # added once (e.g. Rastrigin's 10 n)
    source: str = ""


#: Named separable test functions for :func:`separable`.
SEPARABLE: dict[str, Separable] = {
    "sphere": Separable("x[i]**2", -2.0, 2.0, 0.0, 0.0, source="De Jong 1975"),
    "rastrigin": Separable(
        "x[i]**2 - 10*cos(2*pi*x[i])",
        -5.12,
        5.12,
        0.0,
        0.0,
        constant="10*n",
        source="Rastrigin 1974; n-D form as in Muehlenbein et al. 1991",
    ),
    "styblinski_tang": Separable(
        "(x[i]**4 - 16*x[i]**2 + 5*x[i])/2",
        -5.0,
        5.0,
        -2.903534027771177,  # the root of 4 t^3 - 32 t + 5 near -2.9 (sympy nsolve, 30 digits)
        -39.16616570377141,
        source="Styblinski & Tang 1990",
    ),
}


def separable(kind: str, n: int, **kwargs: Any) -> SumSurface:
    """A named separable test function of :data:`SEPARABLE` in ``n`` variables, as a
    :class:`SumSurface` with its window and known global minimum."""
    from optiviz.errors import suggest

    spec = SEPARABLE.get(kind)
    if spec is None:
        raise SurfaceError(
            f"unknown separable function {kind!r}{suggest(str(kind), SEPARABLE)}; "
            f"available: {', '.join(SEPARABLE)}"
        )
    text = f"sum({spec.term}, i, 1, n)"
    if spec.constant:
        text = f"{spec.constant} + {text}"
    if "minima" not in kwargs and spec.argmin is not None:
        kwargs["minima"] = [
            {"point": [spec.argmin] * n, "value": (spec.min_per_coordinate or 0.0) * n}
        ]
    kwargs.setdefault("window", [spec.low, spec.high])
    kwargs.setdefault("name", kind)
    kwargs.setdefault("source", spec.source)
    kwargs.setdefault("description", f"separable {kind} function ({n} variables)")
    return SumSurface.from_expression(text, n, **kwargs)
