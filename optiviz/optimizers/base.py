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

What is known about a method lives on its class, so that analysis, experiments and the
explainer never ask for an optimizer by name:

* traits: ``order`` (1: gradients, 2: Hessians) and ``searches_step`` (the step length is
  searched along the direction each step, so there is no fixed learning rate);
* linear theory on a quadratic, for fixed-step methods: a class overrides
  :meth:`Optimizer.iteration_matrix` (and optionally ``rate_theory``,
  ``stability_formula``, ``optimal_hyperparameters``); the base class derives the predicted
  rate (:meth:`Optimizer.rate_for`, :meth:`Optimizer.linear_rate`) and the learning-rate
  stability limit (:meth:`Optimizer.lr_stability_limit`, by bisection without a formula);
* :meth:`Optimizer.render_step`: the explainer's arithmetic for one step.

The theory methods are classmethods taking a hyperparameter mapping ``h`` (missing keys take
the ``params`` defaults; values may be numpy arrays, which broadcast), so a theory can be
drawn over a grid of hyperparameters without building optimizers. For one optimizer's own
settings: ``opt.rate(eigenvalues)``, ``opt.linear_iteration(lam, opt.h)`` (the ``(R, 1)``
arrays of a batched optimizer broadcast against ``lam``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

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
from optiviz.optimizers.linear import bisect_stability_limit, is_batched, spectral_radius

if TYPE_CHECKING:
    from optiviz.explain import StepExplanation
    from optiviz.protocols import SurfaceLike

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


@dataclass(frozen=True)
class Search:
    """A hyperparameter's default search range for tuning (:mod:`optiviz.tuning`):
    ``scale`` is ``"log"`` (log-uniform on ``[low, high]``, ``low > 0``) or ``"uniform"``."""

    scale: str
    low: float
    high: float


#: The default search ranges, by the role a hyperparameter's name gives it (PyTorch's
#: vocabulary): the learning rate log-uniform over 1e-5 .. 10; averaging coefficients
#: (momentum, Adam's betas, RMSprop's alpha, Adadelta's rho, MaxProp's beta) uniform over
#: [0, 0.99]. A range is used only where the Param's own range holds it; everything else
#: (eps, weight decay, flags, choices, ints) is not searched by default.
DEFAULT_SEARCH: dict[str, Search] = {
    "lr": Search("log", 1e-5, 10.0),
    "momentum": Search("uniform", 0.0, 0.99),
    "betas": Search("uniform", 0.0, 0.99),
    "beta": Search("uniform", 0.0, 0.99),
    "alpha": Search("uniform", 0.0, 0.99),
    "rho": Search("uniform", 0.0, 0.99),
}


class Oracle:
    """Counts evaluations of a surface and hands them to optimizers.

    ``surface`` needs ``f``/``grad``/``hess`` accepting ``(..., n)`` arrays. ``batch`` (an
    index array or ``None``) selects the mini-batch for data surfaces; it is applied to
    ``grad`` / ``value`` / ``hess`` calls made through the oracle.
    """

    def __init__(self, surface: SurfaceLike, batch: Any = None):
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


class StepPart(NamedTuple):
    """One piece of a step, for the step figure: its ``label`` (with its numbers, as the
    explainer writes them), its displacement ``vector`` and, when the point it reaches has
    a name (Nesterov's look-ahead point), ``reaches``."""

    label: str
    vector: Any
    reaches: str = ""


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
    #: 1 for methods driven by gradients, 2 for methods that evaluate the Hessian (Newton).
    order: ClassVar[int] = 1
    #: True when the step length is searched along the direction at every step (exact line
    #: search, Armijo backtracking): the method has no fixed learning rate.
    searches_step: ClassVar[bool] = False
    #: What ``state["eff_lr"]`` is (``Trajectory.lr_factor``): a short label for figures.
    lr_factor_name: ClassVar[str] = "lr factor"
    #: The array namespace ``step`` computes with: numpy, or ``jax.numpy`` on a copy the
    #: compiled backend (:mod:`optiviz.backends`) traces. A step written against ``xp``
    #: (no in-place change of its inputs, no Python branch on array values) is written
    #: once for both.
    xp: ClassVar[Any] = np
    #: True when the first step differs from the later ones in what it evaluates, though
    #: the state keeps its structure (Nesterov's look-ahead gradient, skipped while the
    #: velocity is zero): the compiled backend takes that step in numpy, as it takes every
    #: step before the state's structure is steady.
    first_step_differs: ClassVar[bool] = False
    #: State entries the step figure draws as per-coordinate bars: the running sums and
    #: averages a method keeps per coordinate (AdaGrad's sum of squares, Adam's m and v).
    accumulators: ClassVar[tuple[str, ...]] = ()

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

    # -- tuning ------------------------------------------------------------------------
    @classmethod
    def search_space(cls) -> dict[str, Search | tuple[Search, Search]]:
        """The default search space of :mod:`optiviz.tuning`: hyperparameter -> its
        :class:`Search` range (a pair such as ``betas``: one per element), derived from
        ``params`` by :data:`DEFAULT_SEARCH` where the Param is a batchable float (or pair)
        whose allowed range holds the default range. Override to change a class's space;
        an empty space means a config must declare one to tune the method."""
        out: dict[str, Search | tuple[Search, Search]] = {}
        for key, spec in cls.params.items():
            rng = DEFAULT_SEARCH.get(key)
            if rng is None or not spec.batchable or spec.kind not in ("float", "pair"):
                continue
            c = spec.constraint
            number = c.inner if isinstance(c, Pair) else c
            try:
                number.check(rng.low)
                number.check(rng.high)
            except Invalid:
                continue
            out[key] = (rng, rng) if spec.kind == "pair" else rng
        return out

    # -- protocol --------------------------------------------------------------------
    def init(self, x0: Array, oracle: Oracle, x_prev: Array | None = None) -> dict:
        raise NotImplementedError

    def step(self, x: Array, g: Array, state: dict, oracle: Oracle, lr, t: int):
        raise NotImplementedError

    # -- linear theory on a quadratic (override iteration_matrix and friends) --------------
    @classmethod
    def iteration_matrix(cls, lam: Array, h: dict[str, Any]) -> Array | None:
        """The method's linear iteration on ``f = lam z^2 / 2`` (override; None: no theory).

        Returns ``M`` with ``(z_{t+1}, z_t) = M (z_t, z_{t-1})`` for the iterates of a run
        from its second step on (torch's buffers start at the first gradient, so the first
        step may differ), shape ``broadcast(lam, *h.values()).shape + (2, 2)``. ``lam`` is a
        float array of eigenvalues; ``h`` holds every hyperparameter (defaults filled in;
        floats, bools, or arrays that broadcast against ``lam``), and neither ``maximize``
        nor a nonzero ``weight_decay`` reaches it (see :meth:`linear_iteration`). Return
        None when these hyperparameters make the method non-linear.
        """
        return None

    @classmethod
    def rate_theory(cls, h: dict[str, Any]) -> str:
        """How the predicted rate is obtained, for these hyperparameters (override)."""
        return f"{cls.name}: spectral radius of the 2x2 iteration"

    @classmethod
    def stability_formula(
        cls, lambda_max: float, h: dict[str, Any]
    ) -> tuple[float | None, str | None] | None:
        """A closed form of :meth:`lr_stability_limit` (override): ``(limit, label)``.

        ``h`` has scalar values with defaults filled in, ``lambda_max > 0``; ``label`` is
        the figure legend's text (matplotlib mathtext). ``(None, None)`` when no learning
        rate is unstable; None (the default) when the class has no formula, and the limit
        is then found by bisection on :meth:`iteration_matrix`.
        """
        return None

    @classmethod
    def optimal_hyperparameters(cls, lambda_min: float, lambda_max: float) -> dict | None:
        """The hyperparameters with the fastest worst-case rate over quadratics whose
        Hessian eigenvalues lie in ``[lambda_min, lambda_max]`` (override), as a dict of
        hyperparameters plus ``"rate"``; None unless ``0 < lambda_min <= lambda_max``, or
        when the class knows no optimum.
        """
        return None

    @classmethod
    def has_linear_theory(cls) -> bool:
        """True when the class (or a parent other than Optimizer) defines iteration_matrix."""
        return any("iteration_matrix" in vars(k) for k in cls.__mro__ if k is not Optimizer)

    @classmethod
    def theory_hyperparameters(cls, h: Mapping[str, Any] | None = None) -> dict | None:
        """``h`` with the ``params`` defaults filled in, restricted to ``params``, lists made
        arrays; None when ``maximize`` is set or a ``weight_decay`` is nonzero (the run
        ascends, or its minimum is not the surface's: no linear theory about that minimum).
        """
        given = {k: spec.default for k, spec in cls.params.items()} | dict(h or {})
        if np.any(given.get("maximize", False)) or np.any(given.get("weight_decay", 0.0)):
            return None
        return {
            k: np.asarray(given[k], dtype=float) if isinstance(given[k], list) else given[k]
            for k in cls.params
        }

    @classmethod
    def linear_iteration(cls, lam: Any, h: Mapping[str, Any] | None = None) -> Array | None:
        """:meth:`iteration_matrix` for eigenvalues ``lam`` and hyperparameters ``h`` (a
        mapping, missing keys default; values may be arrays); None without a linear theory,
        with ``maximize`` or with weight decay. Shape ``broadcast(lam, *h).shape + (2, 2)``.
        """
        hf = cls.theory_hyperparameters(h)
        if hf is None or not cls.has_linear_theory():
            return None
        return cls.iteration_matrix(np.asarray(lam, dtype=float), hf)

    @classmethod
    def linear_rate(cls, eigenvalues: Any, h: Mapping[str, Any] | None = None) -> Any:
        """The linear rate over a spectrum: the spectral radius of the iteration maximized
        over ``eigenvalues`` (1-D). Array hyperparameters give an array of rates of their
        broadcast shape (e.g. a grid of (lr, momentum)); scalars give a float. None when
        :meth:`linear_iteration` is None.
        """
        hf = cls.theory_hyperparameters(h)
        if hf is None:
            return None
        lam = np.asarray(eigenvalues, dtype=float).reshape(-1)
        nd = max([np.ndim(v) for v in hf.values() if isinstance(v, np.ndarray)], default=0)
        with np.errstate(over="ignore", invalid="ignore"):  # lr 1e308: the rate is inf
            M = cls.linear_iteration(lam.reshape(lam.shape + (1,) * nd), hf)
        if M is None:
            return None
        rate = np.max(spectral_radius(M), axis=0)
        return float(rate) if rate.ndim == 0 else rate

    @classmethod
    def rate_for(cls, eigenvalues: Any, h: Mapping[str, Any]) -> tuple[float | None, str]:
        """The predicted linear rate ``(rate, why)`` of a run with hyperparameters ``h``
        near a minimum with Hessian ``eigenvalues``; ``rate`` is None, and ``why`` says
        why, without a scalar ``lr`` in ``h``, with maximize, weight decay, batched
        hyperparameters, or for a method without a fixed linear iteration.
        """
        h = dict(h)
        lr = h.get("lr")
        if lr is None or is_batched(lr):
            return None, "no scalar learning rate"
        if h.get("maximize"):
            return None, "maximize: the run ascends"
        wd = h.get("weight_decay", 0.0)
        if not is_batched(wd) and wd:
            return None, "weight decay moves the minimum"
        if not cls.has_linear_theory():
            return None, f"no linear-rate theory for {cls.name}"
        if any(is_batched(h[k]) for k in cls.params if k in h):
            return None, "batched hyperparameters"
        hf = cls.theory_hyperparameters(h)
        rate = None if hf is None else cls.linear_rate(eigenvalues, hf)
        if hf is None or rate is None:
            return None, f"no linear-rate theory for {cls.name} with these hyperparameters"
        return float(rate), cls.rate_theory(hf)

    def rate(self, eigenvalues: Any) -> tuple[float | None, str]:
        """:meth:`rate_for` with this optimizer's own hyperparameters."""
        return self.rate_for(eigenvalues, self.hyper)

    @classmethod
    def lr_stability_limit(
        cls, lambda_max: float, h: Mapping[str, Any] | None = None
    ) -> tuple[float | None, str | None]:
        """The largest stable learning rate, given the other hyperparameters ``h`` (scalars;
        ``h["lr"]`` is not used), on a quadratic with top Hessian eigenvalue ``lambda_max``,
        and its label for the lr-sweep figure: :meth:`stability_formula` where the class
        has one, else a bisection on the spectral radius of :meth:`iteration_matrix` at
        ``lambda_max``. ``(None, None)`` without a linear theory, for ``lambda_max <= 0``,
        with maximize or weight decay, with several values of a hyperparameter other than
        lr, and when no learning rate is unstable.
        """
        hf = cls.theory_hyperparameters(h)
        if not lambda_max > 0 or hf is None or not cls.has_linear_theory():
            return None, None
        if any(is_batched(v) for k, v in hf.items() if k != "lr"):
            return None, None
        closed = cls.stability_formula(lambda_max, hf)
        if closed is not None:
            return closed
        limit = cls.bisect_lr_stability_limit(lambda_max, hf)
        if limit is None:
            return None, None
        return limit, f"{cls.name}: largest stable lr (its iteration matrix, by bisection)"

    @classmethod
    def bisect_lr_stability_limit(
        cls, lambda_max: float, h: Mapping[str, Any] | None = None
    ) -> float | None:
        """The largest lr whose iteration at ``lambda_max`` has spectral radius < 1, by
        bisection (the generic form of :meth:`lr_stability_limit`); None when there is none.
        """
        hf = cls.theory_hyperparameters(h)
        if not lambda_max > 0 or hf is None or not cls.has_linear_theory():
            return None
        lam = np.array([float(lambda_max)])

        def radius_at(lr: float) -> float:
            M = cls.iteration_matrix(lam, {**hf, "lr": lr})
            return np.inf if M is None else float(spectral_radius(M)[0])

        return bisect_stability_limit(radius_at, 1.0 / float(lambda_max))

    # -- edge of stability of a preconditioned method (override both) --------------------
    @classmethod
    def preconditioned_stability(
        cls, h: Mapping[str, Any] | None = None
    ) -> tuple[float, str] | None:
        """``(c, label)`` for a diagonally preconditioned method: with its preconditioner
        ``P`` frozen, the method on a quadratic with Hessian ``H`` is stable for
        ``lr * lambda_max(P^-1 H) < c`` (the threshold of the preconditioned sharpness is
        ``c / lr``; Cohen et al. 2022, "Adaptive gradient methods at the edge of
        stability"). None (the default): the method is not such a method, or not with
        these hyperparameters. Classes that override it also override
        :meth:`inverse_preconditioner`.
        """
        return None

    @classmethod
    def inverse_preconditioner(
        cls, lr_factor: Any, lr: Any, t: Any, h: Mapping[str, Any] | None = None
    ) -> Array | None:
        """The diagonal of ``P_t^-1`` of step ``t`` from its recorded lr factor
        (``state["eff_lr"]``, ``Trajectory.lr_factor``) and learning rate ``lr``
        (broadcast over ``(..., n)``); None without :meth:`preconditioned_stability`."""
        return None

    # -- explainer ---------------------------------------------------------------------
    def render_step(self, e: StepExplanation) -> list[str] | None:
        """The explainer's arithmetic for one step ``e`` (override), as indented lines from
        the gradient to ``w(t+1)``; format numbers with ``e.fmt``. None (the default): the
        explainer lists the ``quantities`` as ``label = value`` lines.
        """
        return None

    def step_parts(self, e: StepExplanation) -> list[StepPart] | None:
        """The step ``e`` as displacements drawn tip to tail from w(t) in the step figure
        (override): :class:`StepPart` s whose vectors sum to ``w(t+1) - w(t)`` (heavy
        ball: the momentum part, then the gradient part). None (the default): the update
        is drawn as one arrow."""
        return None

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
                elif isinstance(v, tuple) and all(isinstance(u, float) for u in v):
                    v = "(" + ", ".join(f"{u:.4g}" for u in v) + ")"
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
