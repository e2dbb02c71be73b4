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
    ``state["eff_lr"]`` must hold the optimizer's own per-coordinate learning-rate factor
    of this step (the multiplier its rule applies, named by ``lr_factor_name``: Adam's
    ``γ/(√v̂+ε)``, Rprop's step sizes, heavy ball's ``γ``), broadcastable to ``(R, n)``.
    The engine records it as ``Trajectory.lr_factor``, a diagnostic; the effective
    learning rate ``Trajectory.effective_lr`` is measured by the engine itself, as the
    step taken per unit gradient, for every optimizer alike.

Hyperparameters are declared once in ``params`` (a table of :class:`Param`), validated
eagerly, and may be given as arrays of R values (a batched sweep): they are stored in
``self.h`` as floats, or as ``(R, 1)`` arrays that broadcast against ``(R, n)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from optiviz.errors import OptimizerError, suggest

Array = np.ndarray


@dataclass(frozen=True)
class Param:
    """One hyperparameter: default, kind and allowed range (the one validation table)."""

    default: Any
    kind: str = "float"  # "float" | "int" | "bool" | "pair" | "choice"
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: low is excluded
    high_open: bool = False
    choices: tuple = ()
    doc: str = ""
    batchable: bool = True  # may be an array of R values

    def describe_range(self) -> str:
        if self.kind == "bool":
            return "a bool"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        lb = "(" if (self.low is None or self.low_open) else "["
        rb = ")" if (self.high is None or self.high_open) else "]"
        what = {"float": "a float", "int": "an int", "pair": "a pair of floats, each"}[self.kind]
        return f"{what} in the range {lb}{lo}, {hi}{rb}"


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
    #: What ``state["eff_lr"]`` is (``Trajectory.lr_factor``): a short label for figures.
    lr_factor_name: ClassVar[str] = "lr factor"

    def __init__(self, **hyperparameters: Any):
        unknown = [k for k in hyperparameters if k not in self.params]
        if unknown:
            k = unknown[0]
            allowed = ", ".join(self.params) or "none"
            raise OptimizerError(
                f"{self.name} does not take the hyperparameter {k!r}"
                f"{suggest(k, self.params)}; it takes: {allowed}."
            )
        self.hyper: dict[str, Any] = {}
        self.h: dict[str, Any] = {}
        self.n_runs: int | None = None
        for key, spec in self.params.items():
            value = hyperparameters.get(key, spec.default)
            self.hyper[key], self.h[key] = self._validate(key, spec, value)
        self._check()

    # -- validation ------------------------------------------------------------------
    def _fail(self, key: str, spec: Param, value: Any) -> OptimizerError:
        return OptimizerError(
            f"The {key!r} hyperparameter of {self.name} must be {spec.describe_range()}. "
            f"Got {value!r} instead."
        )

    def _batch_size(self, key: str, arr: Array) -> None:
        r = arr.shape[0]
        if self.n_runs is None:
            self.n_runs = r
        elif self.n_runs != r:
            raise OptimizerError(
                f"The {key!r} hyperparameter of {self.name} has {r} values but another "
                f"hyperparameter has {self.n_runs}; batched hyperparameters must have the same "
                "length."
            )

    def _check_number(self, key: str, spec: Param, value: Any) -> Any:
        if spec.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value), bool(value)
            raise self._fail(key, spec, value)
        if spec.kind == "choice":
            if value in spec.choices:
                return value, value
            raise OptimizerError(
                f"The {key!r} hyperparameter of {self.name} must be {spec.describe_range()}. "
                f"Got {value!r} instead{suggest(str(value), map(str, spec.choices))}."
            )
        if isinstance(value, (bool, np.bool_)) or value is None:
            raise self._fail(key, spec, value)
        if isinstance(value, (list, tuple, np.ndarray)) and spec.batchable and spec.kind != "pair":
            arr = np.asarray(value, dtype=float)
            if arr.ndim != 1 or arr.size == 0:
                raise self._fail(key, spec, value)
            for v in arr:
                self._check_scalar(key, spec, float(v), value)
            self._batch_size(key, arr)
            return arr.tolist(), arr[:, None]
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise self._fail(key, spec, value) from None
        if spec.kind == "int" and v != int(v):
            raise self._fail(key, spec, value)
        self._check_scalar(key, spec, v, value)
        v = int(v) if spec.kind == "int" else v
        return v, v

    def _check_scalar(self, key: str, spec: Param, v: float, shown: Any) -> None:
        if not np.isfinite(v) and not (spec.high is None and v == np.inf and not spec.high_open):
            raise self._fail(key, spec, shown)
        if spec.low is not None and (v < spec.low or (spec.low_open and v == spec.low)):
            raise self._fail(key, spec, shown)
        if spec.high is not None and (v > spec.high or (spec.high_open and v == spec.high)):
            raise self._fail(key, spec, shown)

    def _validate(self, key: str, spec: Param, value: Any) -> tuple[Any, Any]:
        if spec.kind == "pair":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise self._fail(key, spec, value)
            items = [
                self._check_number(
                    key, Param(0.0, "float", spec.low, spec.high, spec.low_open, spec.high_open), v
                )
                for v in value
            ]
            return (items[0][0], items[1][0]), (items[0][1], items[1][1])
        return self._check_number(key, spec, value)

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
