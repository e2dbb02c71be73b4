"""The optimizer protocol shared by every optimizer, the engine and the explainer.

An optimizer is a small object holding validated hyperparameters plus two methods with
explicit state (optax-style, but handed an *oracle* so look-ahead, line-search and Newton
methods can evaluate the surface while every evaluation is still counted by the engine):

``init(x0, oracle, x_prev=None) -> state``
    ``x0`` has shape ``(R, n)`` (R runs stepped together), or ``(n,)`` for a single run
    whose hyperparameters are all scalars (the engine's fast path: numpy scalar arithmetic
    is several times cheaper than 1-element arrays). Code must therefore be shape-agnostic:
    elementwise arithmetic, reductions over ``axis=-1`` with ``keepdims=True``. ``state`` is a
    plain ``dict`` of arrays / floats. ``x_prev`` (``(R, n)`` or ``None``) is the iterate
    before ``x0`` for problems stated from a history (heavy-ball velocity ``x0 - x_prev``;
    lecture Rprop's last displacement and previous gradient).

``step(x, g, state, oracle, lr, t) -> (x_new, state)``
    ``x`` is the current iterate ``(R, n)``; ``g`` the gradient at ``x`` that the engine has
    already evaluated (a mini-batch gradient for stochastic runs); ``lr`` the learning rate
    of this step (the ``lr`` hyperparameter after any schedule: a float or an ``(R, 1)``
    array); ``t`` the 1-based step number. It returns the new iterate and a *new* state dict
    (never mutate arrays of the old state in place: the explainer compares before/after).
    ``state["eff_lr"]`` must hold the per-coordinate effective learning rate of this step,
    broadcastable to ``(R, n)``.

Hyperparameters are declared once in ``params`` (a table of :class:`Param`), validated
eagerly, and may be given as arrays of R values (a batched sweep): they are stored in
``self.h`` as floats, or as ``(R, 1)`` arrays that broadcast against ``(R, n)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from optiviz._validation import (
    HYPERPARAMETER,
    Choice,
    Constraint,
    Flag,
    Interval,
    Invalid,
    Pair,
)
from optiviz.errors import OptimizerError, suggest

Array = np.ndarray


@dataclass(frozen=True)
class Param:
    """One hyperparameter: default, kind and allowed range (a row of the validation table).

    ``constraint`` is the :mod:`optiviz._validation` object these fields describe (its
    ``describe()`` is :meth:`describe_range`). An unbounded upper end (``high=None``)
    excludes infinity, except where the default itself is infinite (``max_step=inf``:
    the range is then ``(0, inf]``).
    """

    default: Any
    kind: str = "float"  # "float" | "int" | "bool" | "pair" | "choice"
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: low is excluded
    high_open: bool = False
    choices: tuple = ()
    doc: str = ""
    batchable: bool = True  # may be an array of R values

    @functools.cached_property
    def constraint(self) -> Constraint:
        """The constraint object of this row."""
        if self.kind == "bool":
            return Flag()
        if self.kind == "choice":
            return Choice(self.choices)
        if self.kind not in ("float", "int", "pair"):
            raise ValueError(f"unknown Param kind {self.kind!r}")
        high = self.high
        if high is None and isinstance(self.default, float) and self.default == math.inf:
            high = math.inf
        lo_closed = self.low is not None and not self.low_open
        hi_closed = high is not None and not self.high_open
        closed = {(True, True): "both", (True, False): "left", (False, True): "right"}.get(
            (lo_closed, hi_closed), "neither"
        )
        number = Interval("int" if self.kind == "int" else "float", self.low, high, closed=closed)
        return Pair(number) if self.kind == "pair" else number

    def describe_range(self) -> str:
        """The allowed values as text: ``"a float in the range [0, inf)"``."""
        return self.constraint.describe()


class Oracle:
    """Counts evaluations of a surface and hands them to optimizers.

    ``surface`` needs ``f``/``grad``/``hess`` accepting ``(..., n)`` arrays. ``batch`` (an
    index array or ``None``) selects the mini-batch for data surfaces; it is applied to
    ``grad`` / ``value`` / ``hess`` calls made through the oracle.
    """

    def __init__(self, surface, batch=None):
        self.surface = surface
        self.batch = batch
        self.n_f = 0
        self.n_grad = 0
        self.n_hess = 0

    def _kw(self):
        return {} if self.batch is None else {"batch": self.batch}

    def value(self, x: Array) -> Array:
        self.n_f += 1
        return self.surface.f(x, check=False, **self._kw())

    def grad(self, x: Array) -> Array:
        self.n_grad += 1
        return self.surface.grad(x, check=False, **self._kw())

    def value_and_grad(self, x: Array) -> tuple[Array, Array]:
        self.n_f += 1
        self.n_grad += 1
        return self.surface.value_and_grad(x, check=False, **self._kw())

    def hess(self, x: Array) -> Array:
        self.n_hess += 1
        return self.surface.hess(x, check=False, **self._kw())


class Optimizer:
    """Base class: validated hyperparameters + ``init`` / ``step`` (see module docstring)."""

    name: ClassVar[str] = ""
    #: The update equations, written once: docstring, ``describe`` and reports use this text.
    equations: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    #: Names of state entries the explainer shows, in order, with a short label each.
    quantities: ClassVar[dict[str, str]] = {}
    #: Hyperparameters a legend always shows (others only when they differ from defaults).
    legend_params: ClassVar[tuple[str, ...]] = ("lr",)

    def __init__(self, **hyperparameters: Any):
        unknown = [k for k in hyperparameters if k not in self.params]
        if unknown:
            k = unknown[0]
            allowed = ", ".join(self.params) or "none"
            raise OptimizerError(
                f"{self.name} does not take the hyperparameter {k!r}"
                f"{suggest(k, self.params)}; it takes: {allowed}.",
                owner=self.name,
                key=k,
            )
        self.hyper: dict[str, Any] = {}
        self.h: dict[str, Any] = {}
        self.n_runs: int | None = None
        for key, spec in self.params.items():
            value = hyperparameters.get(key, spec.default)
            self.hyper[key], self.h[key] = self._validate(key, spec, value)
        self._check()

    # -- validation ------------------------------------------------------------------
    def _fail(self, key: str, spec: Param, value: Any, hint: str = "") -> OptimizerError:
        allowed = spec.describe_range()
        return OptimizerError(
            HYPERPARAMETER.format(
                owner=self.name, key=key, value=value, allowed=allowed, hint=hint
            ),
            owner=self.name,
            key=key,
            value=value,
            allowed=allowed,
        )

    def _batch_size(self, key: str, arr: Array) -> None:
        r = arr.shape[0]
        if self.n_runs is None:
            self.n_runs = r
        elif self.n_runs != r:
            raise OptimizerError(
                f"The {key!r} hyperparameter of {self.name} has {r} values but another "
                f"hyperparameter has {self.n_runs}; batched hyperparameters must have the same "
                "length.",
                owner=self.name,
                key=key,
            )

    def _number(self, key: str, spec: Param, number: Interval, value: Any) -> tuple[Any, Any]:
        """A scalar, or (batchable) a list / 1-D array of R values -> ``(hyper, h)``."""
        if spec.batchable and isinstance(value, (list, tuple, np.ndarray)):
            try:
                arr = np.asarray(value, dtype=float)
            except (TypeError, ValueError, OverflowError):
                raise self._fail(key, spec, value) from None
            if arr.ndim != 1 or arr.size == 0 or number.check_array(arr) is not None:
                raise self._fail(key, spec, value)
            self._batch_size(key, arr)
            return arr.tolist(), arr[:, None]
        try:
            v = number.check(value)
        except Invalid:
            raise self._fail(key, spec, value) from None
        return v, v

    def _validate(self, key: str, spec: Param, value: Any) -> tuple[Any, Any]:
        """Check one hyperparameter against its row; return ``(hyper, h)`` (the value as
        given back to the user, and as the optimizer computes with it)."""
        c = spec.constraint
        if isinstance(c, Interval):
            return self._number(key, spec, c, value)
        if isinstance(c, Pair):
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise self._fail(key, spec, value)
            element = replace(spec, kind="float", default=0.0)
            try:
                items = [self._number(key, element, c.inner, v) for v in value]  # type: ignore[arg-type]
            except OptimizerError as exc:
                if exc.allowed is None:  # a batch-length mismatch
                    raise
                raise self._fail(key, spec, value) from None
            return (items[0][0], items[1][0]), (items[0][1], items[1][1])
        try:
            v = c.check(value)
        except Invalid as exc:
            raise self._fail(key, spec, value, exc.hint) from None
        return v, v

    def _check(self) -> None:
        """Cross-hyperparameter checks (override); raise OptimizerError."""

    # -- protocol --------------------------------------------------------------------
    def init(self, x0: Array, oracle: Oracle, x_prev: Array | None = None) -> dict:
        raise NotImplementedError

    def step(self, x: Array, g: Array, state: dict, oracle: Oracle, lr, t: int):
        raise NotImplementedError

    # -- presentation ----------------------------------------------------------------
    @property
    def lr(self):
        """The base learning rate (float or (R, 1) array), or 1.0 if the method has none."""
        return self.h.get("lr", 1.0)

    def label(self) -> str:
        """A short legend label: name and the hyperparameters that differ from defaults."""
        parts = []
        for key, spec in self.params.items():
            v = self.hyper[key]
            if key in self.legend_params or v != spec.default:
                if isinstance(v, list):
                    v = f"[{len(v)} values]"
                elif isinstance(v, float):
                    v = f"{v:.4g}"
                parts.append(f"{key}={v}")
        return f"{self.name} (" + ", ".join(parts) + ")" if parts else self.name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"


#: Registry filled by ``register``: name -> class.
REGISTRY: dict[str, type[Optimizer]] = {}


def register(cls: type[Optimizer]) -> type[Optimizer]:
    """Class decorator adding ``cls`` to the registry under ``cls.name``.

    The class docstring is extended with its ``equations`` text so both say the same.
    """
    REGISTRY[cls.name] = cls
    cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n\nUpdate::\n\n" + cls.equations
    return cls
