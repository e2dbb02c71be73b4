"""What every loss surface offers: the :class:`SurfaceLike` protocol.

:class:`optiviz.surface.Surface` (a closed-form expression) and
:class:`optiviz.data.DataSurface` (a model's loss on a data set) both implement it, and
code that accepts a surface (the engine, analysis, plotting, the explainer, experiments)
relies on these members only. Questions that used to be asked by trying an attribute and
catching the failure are answered by flags: :attr:`SurfaceLike.has_symbolic_form`,
:attr:`SurfaceLike.symbolic_exact` and :attr:`SurfaceLike.n_samples`.

Shapes (``n`` the number of variables): points ``X`` are ``(n,)`` or ``(..., n)``;
``f`` returns ``()`` or ``(...)``, ``grad`` ``(n,)`` or ``(..., n)``, ``hess`` ``(n, n)``
or ``(..., n, n)``. One point gives a numpy scalar value.

``isinstance(obj, SurfaceLike)`` checks that every member is present, looking each one up
without evaluating it (``inspect.getattr_static``, as Python 3.12 does for every runtime
protocol): asking never computes a lazy attribute such as a data surface's known minima.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, _ProtocolMeta, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import sympy as sp

    from optiviz.surface import KnownMinimum

Array = np.ndarray


class _StaticProtocolMeta(_ProtocolMeta):
    """Runtime protocol check by static lookup: ``hasattr`` would run properties."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if not cls.__dict__.get("_is_protocol", False):  # a class deriving from the protocol
            return super().__instancecheck__(instance)
        return all(_present(instance, name) for name in _members(cls))


def _members(protocol: type) -> set[str]:
    """Public members declared by a protocol and the protocols it extends."""
    return {
        name
        for base in protocol.__mro__
        if base.__dict__.get("_is_protocol", False) and base is not Protocol
        for name in vars(base)
        if not name.startswith("_")
    }


def _present(instance: Any, name: str) -> bool:
    try:
        inspect.getattr_static(instance, name)
    except AttributeError:
        return False
    return True


@runtime_checkable
class SurfaceLike(Protocol, metaclass=_StaticProtocolMeta):
    """A loss surface: its variables, plot window, known minima and exact derivatives.

    Every member is read-only from the caller's side (a surface is immutable; derived
    surfaces come from :meth:`with_parameters` and :meth:`regularized`).
    """

    # -- identity ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        """Short identifier (a library name, ``"custom"``, ``"logistic_regression"``)."""
        ...

    @property
    def description(self) -> str:
        """One line saying what the surface is (may be empty)."""
        ...

    @property
    def source(self) -> str:
        """Where the surface comes from (lecture notes line, file, generator; may be empty)."""
        ...

    @property
    def text(self) -> str:
        """The formula as plain text, as written by the user or summarized (data surfaces)."""
        ...

    @property
    def parameters(self) -> Mapping[str, Any]:
        """Parameter values substituted into the formula (empty when there are none)."""
        ...

    @property
    def extra(self) -> Mapping[str, Any]:
        """Presentation hints from the surface's YAML (e.g. ``log_levels``; may be empty)."""
        ...

    # -- variables and domain ---------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of variables, 1 to :data:`optiviz.limits.MAX_VARIABLES` (a structured
        surface of :mod:`optiviz.structured`: 1 to ``MAX_STRUCTURED_VARIABLES``)."""
        ...

    @property
    def variables(self) -> tuple[str, ...]:
        """The ``n`` distinct variable names, in the order of a point's coordinates."""
        ...

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The ``n`` sympy symbols of the variables (same order and names)."""
        ...

    @property
    def window(self) -> Array:
        """Plot window, shape ``(n, 2)``: ``[low, high]`` per variable, ``low < high``."""
        ...

    @property
    def minima(self) -> Sequence[KnownMinimum]:
        """Known minima (point of shape ``(n,)`` and value); empty when none is known."""
        ...

    @property
    def f_min(self) -> float | None:
        """The smallest known minimum value, or None when no minimum is known."""
        ...

    @property
    def l1(self) -> float:
        """Coefficient of the added ``l1 * ||w||_1`` (0 when none); ``>= 0``."""
        ...

    @property
    def l2(self) -> float:
        """Coefficient of the added ``l2 / 2 * ||w||^2`` (0 when none); ``>= 0``."""
        ...

    @property
    def n_samples(self) -> int | None:
        """Number of data samples (mini-batches are drawn from them); None for a surface
        given by a closed-form expression, which accepts no ``batch=``."""
        ...

    # -- the symbolic view ------------------------------------------------------------
    @property
    def has_symbolic_form(self) -> bool:
        """True when :attr:`expression`, :attr:`gradient`, :attr:`hessian` and
        :attr:`latex` exist (they may still contain data symbols: see
        :attr:`symbolic_exact`)."""
        ...

    @property
    def symbolic_exact(self) -> bool:
        """True when the symbolic view is the function itself, in the variables only, so
        that exact answers (stationary points, degrees) can be read from it. False for a
        data surface with more than ``SYMBOLIC_MAX_SAMPLES`` samples, whose expression is a
        ``sympy.Sum`` over data symbols ``x[i, j]``, ``y[i]``: numbers then come from
        :meth:`f`, :meth:`grad` and :meth:`hess`."""
        ...

    @property
    def expression(self) -> sp.Expr:
        """The function as a sympy expression (regularization included)."""
        ...

    @property
    def gradient(self) -> sp.Matrix:
        """The exact gradient, an ``n x 1`` sympy Matrix."""
        ...

    @property
    def hessian(self) -> sp.Matrix:
        """The exact Hessian, an ``n x n`` symmetric sympy Matrix."""
        ...

    @property
    def latex(self) -> Mapping[str, str]:
        """LaTeX of ``"f"``, ``"gradient"`` and ``"hessian"`` (each rendered on first use)."""
        ...

    @property
    def is_polynomial(self) -> bool:
        """True when the function is a polynomial in the variables."""
        ...

    @property
    def degree(self) -> int | None:
        """Total degree of a polynomial surface (None otherwise)."""
        ...

    # -- evaluation -------------------------------------------------------------------
    def f(self, X: Any, *, check: bool = True, batch: Any = None) -> Any:
        """Value at ``X`` ``(n,)`` or ``(..., n)``: a numpy scalar or an array ``(...)``.

        ``check=True`` raises :class:`optiviz.errors.SurfaceError` naming the first point
        where the result is not finite; ``check=False`` returns inf/nan without checking
        or warning handling (the engine evaluates inside its own ``np.errstate``).
        ``batch``: sample indices, shape ``(B,)`` or ``(..., B)`` (only when
        :attr:`n_samples` is not None; otherwise it must be None).
        """
        ...

    def grad(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact gradient at ``X``; returns ``(n,)`` or ``(..., n)``."""
        ...

    def hess(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact Hessian at ``X``, symmetric; returns ``(n, n)`` or ``(..., n, n)``."""
        ...

    def value_and_grad(self, X: Any, *, check: bool = True, batch: Any = None) -> tuple[Any, Array]:
        """``(f(X), grad(X))`` from one evaluation (shared subexpressions)."""
        ...

    def nearest_minimum(self, x: Any) -> KnownMinimum | None:
        """The known minimum closest to ``x`` (Euclidean), or None when none is known."""
        ...

    # -- derived surfaces and presentation --------------------------------------------
    def with_parameters(self, **overrides: Any) -> SurfaceLike:
        """The same surface with some parameters changed (itself when none is given);
        :class:`optiviz.errors.SurfaceError` for a surface without those parameters."""
        ...

    def regularized(self, l1: float = 0.0, l2: float = 0.0) -> SurfaceLike:
        """A new surface with ``l1 * ||w||_1 + l2 / 2 * ||w||^2`` added."""
        ...

    def describe(self) -> str:
        """A few lines of text: formula, parameters, window, known minima, source."""
        ...


if TYPE_CHECKING:  # the type checker proves that the surface classes implement the protocol
    from optiviz.data import DataSurface
    from optiviz.structured import QuadraticSurface, SumSurface
    from optiviz.surface import Surface

    def _implementations(
        a: Surface, b: DataSurface, c: QuadraticSurface, d: SumSurface
    ) -> tuple[SurfaceLike, SurfaceLike, SurfaceLike, SurfaceLike]:
        return a, b, c, d
