"""Learning-rate schedules: the learning rate of each step as a function of the step number.

A schedule is a small object built by :func:`make_schedule` and called as
``schedule(t, base_lr)``:

* ``t`` is the **1-based** step number (the engine's step ``t`` moves ``x_{t-1}`` to
  ``x_t``). The first step, ``t = 1``, always uses the initial rate, exactly as a PyTorch
  scheduler does when ``scheduler.step()`` is called after each ``optimizer.step()``:
  PyTorch's epoch counter ``last_epoch`` is ``t - 1``. ``t`` may also be an integer array
  (to plot a schedule).
* ``base_lr`` is the optimizer's ``lr`` hyperparameter: a float, or an ``(R, 1)`` array in a
  batched sweep. The result has the same shape (a Python float for a float ``base_lr`` and
  an int ``t``, which keeps the engine's single-run loop cheap).

Each schedule states its formula once in ``equations`` (used by :func:`describe_schedule`);
hyperparameters are validated eagerly and errors are :class:`~optiviz.errors.OptimizerError`
naming the field, the value and the allowed range. Schedule hyperparameters are scalars;
``base_lr`` carries any per-run variation.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from optiviz._validation import Choice, Constraint, Interval, OrNone, check
from optiviz.errors import OptimizerError, suggest

__all__ = [
    "Schedule",
    "make_schedule",
    "available_schedules",
    "describe_schedule",
    "SCHEDULES",
]

_REQUIRED = object()
_MESSAGE = (
    "The {key!r} hyperparameter of the {name!r} schedule must be {allowed}. "
    "Got {value!r} instead{hint}."
)


@dataclass(frozen=True)
class _Spec:
    """One schedule hyperparameter: default (or required), kind and allowed range."""

    default: Any = _REQUIRED
    kind: str = "float"  # "float" | "int" | "choice"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    optional: bool = False  # None allowed (means: use base_lr)
    choices: tuple = ()
    doc: str = ""

    @functools.cached_property
    def constraint(self) -> Constraint:
        """The constraint object of this row (``OrNone`` around it when ``optional``)."""
        if self.kind == "choice":
            inner: Constraint = Choice(self.choices)
        else:
            closed = "right" if self.low_open else "both"
            inner = Interval(
                "int" if self.kind == "int" else "float", self.low, self.high, closed=closed
            )
        return OrNone(inner) if self.optional else inner

    def describe_range(self) -> str:
        """The allowed values as text: ``"a float in the range (0, inf)"``."""
        return self.constraint.describe()


class Schedule:
    """Base class: validated hyperparameters and ``__call__(t, base_lr) -> lr``."""

    name: ClassVar[str] = ""
    equations: ClassVar[str] = ""
    params: ClassVar[dict[str, _Spec]] = {}
    #: True for a learning-rate range test (the ``lr_range`` figure draws such runs).
    range_test: ClassVar[bool] = False

    def __init__(self, **hyperparameters: Any):
        unknown = [k for k in hyperparameters if k not in self.params]
        if unknown:
            k = unknown[0]
            raise OptimizerError(
                f"the {self.name!r} schedule does not take the hyperparameter {k!r}"
                f"{suggest(k, self.params)}; it takes: {', '.join(self.params) or 'none'}.",
                owner=f"schedule {self.name!r}",
                key=k,
            )
        self.hyper: dict[str, Any] = {}
        for key, spec in self.params.items():
            if key not in hyperparameters and spec.default is _REQUIRED:
                raise OptimizerError(
                    f"the {self.name!r} schedule needs the hyperparameter {key!r} "
                    f"({spec.describe_range()}); it takes: {', '.join(self.params)}.",
                    owner=f"schedule {self.name!r}",
                    key=key,
                    allowed=spec.describe_range(),
                )
            value = hyperparameters.get(key, spec.default)
            self.hyper[key] = self._validate(key, spec, value)
        self._setup()

    def _validate(self, key: str, spec: _Spec, value: Any) -> Any:
        return check(
            f"schedule {self.name!r}",
            key,
            value,
            spec.constraint,
            message=_MESSAGE,
            name=self.name,
        )

    def _setup(self) -> None:
        """Cross-hyperparameter checks and precomputation (override)."""

    # -- evaluation --------------------------------------------------------------------
    def __call__(self, t: Any, base_lr: Any) -> Any:
        if isinstance(t, (int, np.integer)):
            if t < 1:
                raise OptimizerError(f"schedule step t must be >= 1 (1-based); got {t!r}")
            if isinstance(base_lr, (float, int)) and not isinstance(base_lr, bool):
                return self._scalar(int(t), float(base_lr))
            return self._array(np.asarray(t), np.asarray(base_lr, dtype=float))
        t = np.asarray(t)
        if t.size and (not np.issubdtype(t.dtype, np.integer) or t.min() < 1):
            raise OptimizerError("schedule steps t must be integers >= 1 (1-based)")
        return self._array(t.astype(np.int64), np.asarray(base_lr, dtype=float))

    def _scalar(self, t: int, base: float) -> float:
        """lr of step ``t`` (int) for a float ``base`` (Python floats: cheap)."""
        return float(self._array(np.asarray(t), np.asarray(base)))

    def _array(self, t: np.ndarray, base: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- presentation ------------------------------------------------------------------
    def label(self) -> str:
        """``name(k=v, ...)`` with required and non-default hyperparameters."""
        parts = []
        for key, spec in self.params.items():
            v = self.hyper[key]
            if spec.default is _REQUIRED or v != spec.default:
                parts.append(f"{key}={v:.4g}" if isinstance(v, float) else f"{key}={v}")
        return f"{self.name}(" + ", ".join(parts) + ")" if parts else self.name

    def to_dict(self) -> dict:
        return {"name": self.name, **self.hyper}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"make_schedule({self.name!r}{', ' if args else ''}{args})"


SCHEDULES: dict[str, type[Schedule]] = {}


def _register(cls: type[Schedule]) -> type[Schedule]:
    SCHEDULES[cls.name] = cls
    cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n\nSchedule::\n\n" + cls.equations
    return cls


@_register
class Constant(Schedule):
    """The optimizer's own learning rate at every step."""

    name = "constant"
    equations = "    lr_t = base_lr"
    params = {}

    def _scalar(self, t, base):
        return base

    def _array(self, t, base):
        return base * np.ones_like(t, dtype=float)


@_register
class Step(Schedule):
    """Multiply by ``gamma`` every ``step_size`` steps (PyTorch ``StepLR``)."""

    name = "step"
    equations = "    lr_t = base_lr * gamma ** floor((t - 1) / step_size)"
    params = {
        "step_size": _Spec(kind="int", low=1, doc="steps between decays"),
        "gamma": _Spec(0.1, low=0.0, low_open=True, doc="decay factor"),
    }

    def _scalar(self, t, base):
        return base * self.hyper["gamma"] ** ((t - 1) // self.hyper["step_size"])

    def _array(self, t, base):
        k = (t - 1) // self.hyper["step_size"]
        return base * np.power(self.hyper["gamma"], k.astype(float))


@_register
class Exponential(Schedule):
    """Exponential decay, ``exp(-k)`` per step (PyTorch ``ExponentialLR`` with gamma = e^-k)."""

    name = "exponential"
    equations = "    lr_t = eta0 * exp(-k * (t - 1))        (eta0 = base_lr when None)"
    params = {
        "k": _Spec(low=0.0, doc="decay rate per step"),
        "eta0": _Spec(None, low=0.0, low_open=True, optional=True, doc="initial rate"),
    }

    def _scalar(self, t, base):
        eta0 = base if self.hyper["eta0"] is None else self.hyper["eta0"]
        return eta0 * math.exp(-self.hyper["k"] * (t - 1))

    def _array(self, t, base):
        eta0 = base if self.hyper["eta0"] is None else self.hyper["eta0"]
        return eta0 * np.exp(-self.hyper["k"] * (t - 1.0))


@_register
class InverseTime(Schedule):
    """Inverse-time decay; eta0 = 1, k = 1 gives the notes' SGD steps 1, 1/2, 1/3, ..."""

    name = "inverse_time"
    equations = "    lr_t = eta0 / (1 + k * (t - 1))        (eta0 = base_lr when None)"
    params = {
        "eta0": _Spec(None, low=0.0, low_open=True, optional=True, doc="initial rate"),
        "k": _Spec(1.0, low=0.0, doc="decay rate"),
    }

    def _scalar(self, t, base):
        eta0 = base if self.hyper["eta0"] is None else self.hyper["eta0"]
        return eta0 / (1.0 + self.hyper["k"] * (t - 1))

    def _array(self, t, base):
        eta0 = base if self.hyper["eta0"] is None else self.hyper["eta0"]
        return eta0 / (1.0 + self.hyper["k"] * (t - 1.0))


@_register
class Cosine(Schedule):
    """Cosine annealing (PyTorch ``CosineAnnealingLR``, closed form).

    After ``T_max`` steps the closed form continues periodically (it rises back to base_lr
    at ``t - 1 = 2 T_max``), as PyTorch's closed form does.
    """

    name = "cosine"
    equations = "    lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * (t - 1) / T_max)) / 2"
    params = {
        "T_max": _Spec(kind="int", low=1, doc="half period in steps"),
        "eta_min": _Spec(0.0, low=0.0, doc="minimum rate"),
    }

    def _scalar(self, t, base):
        lo = self.hyper["eta_min"]
        return lo + (base - lo) * (1.0 + math.cos(math.pi * (t - 1) / self.hyper["T_max"])) / 2

    def _array(self, t, base):
        lo = self.hyper["eta_min"]
        return lo + (base - lo) * (1.0 + np.cos(np.pi * (t - 1.0) / self.hyper["T_max"])) / 2


@_register
class WarmRestarts(Schedule):
    """Cosine annealing with warm restarts (PyTorch ``CosineAnnealingWarmRestarts``).

    The first cycle lasts ``T_0`` steps, each later one ``T_mult`` times longer; ``T_cur``
    is the number of steps since the last restart (computed in exact integer arithmetic).
    """

    name = "warm_restarts"
    equations = (
        "    e = t - 1;  cycle i lasts T_i = T_0 * T_mult**i steps;  T_cur = e - (start of\n"
        "    the cycle containing e)\n"
        "    lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2"
    )
    params = {
        "T_0": _Spec(kind="int", low=1, doc="length of the first cycle"),
        "T_mult": _Spec(1, kind="int", low=1, doc="growth factor of the cycle length"),
        "eta_min": _Spec(0.0, low=0.0, doc="minimum rate"),
    }

    def _cycle(self, e: int) -> tuple[int, int]:
        t0, m = self.hyper["T_0"], self.hyper["T_mult"]
        if m == 1:
            return e % t0, t0
        ti = t0
        while e >= ti:
            e -= ti
            ti *= m
        return e, ti

    def _scalar(self, t, base):
        cur, ti = self._cycle(t - 1)
        lo = self.hyper["eta_min"]
        return lo + (base - lo) * (1.0 + math.cos(math.pi * cur / ti)) / 2

    def _array(self, t, base):
        e = np.asarray(t, dtype=np.int64) - 1
        t0, m = self.hyper["T_0"], self.hyper["T_mult"]
        if m == 1:
            cur, ti = e % t0, np.full_like(e, t0)
        else:
            # cycle n starts at T_0 (m^n - 1) / (m - 1); estimate n by logs, then fix up.
            n = np.floor(np.log(e / t0 * (m - 1) + 1.0) / math.log(m)).astype(np.int64)
            n = np.maximum(n, 0)
            for _ in range(2):
                start = t0 * (m**n - 1) // (m - 1)
                n = np.where(start > e, n - 1, n)
                n = np.where(t0 * (m ** (n + 1) - 1) // (m - 1) <= e, n + 1, n)
            start = t0 * (m**n - 1) // (m - 1)
            cur, ti = e - start, t0 * m**n
        lo = self.hyper["eta_min"]
        return lo + (base - lo) * (1.0 + np.cos(np.pi * cur / ti)) / 2


@_register
class Cyclical(Schedule):
    """Cyclical learning rate (PyTorch ``CyclicLR``; default mode "triangular").

    ``base_lr`` (None: the optimizer's lr) is the low end, ``max_lr`` the high end; the rate
    climbs for ``step_size_up`` steps and falls for ``step_size_down`` (None: same as up).
    "triangular2" halves the amplitude every cycle; "exp_range" scales it by gamma**(t-1).
    """

    name = "cyclical"
    equations = (
        "    e = t - 1;  L = step_size_up + step_size_down;  cycle = floor(1 + e / L)\n"
        "    x = 1 + e / L - cycle;  s = x / r if x <= r else (x - 1) / (r - 1),"
        "  r = step_size_up / L\n"
        "    lr_t = base_lr + (max_lr - base_lr) * s * scale\n"
        "    scale = 1 (triangular), 1 / 2**(cycle - 1) (triangular2), gamma**e (exp_range)"
    )
    params = {
        "max_lr": _Spec(low=0.0, low_open=True, doc="upper end of the cycle"),
        "base_lr": _Spec(None, low=0.0, low_open=True, optional=True, doc="lower end"),
        "step_size_up": _Spec(2000, kind="int", low=1, doc="steps rising"),
        "step_size_down": _Spec(None, kind="int", low=1, optional=True, doc="steps falling"),
        "mode": _Spec(
            "triangular", kind="choice", choices=("triangular", "triangular2", "exp_range")
        ),
        "gamma": _Spec(1.0, low=0.0, low_open=True, high=1.0, doc="exp_range factor"),
    }

    def _setup(self):
        up = self.hyper["step_size_up"]
        down = self.hyper["step_size_down"]
        down = up if down is None else down
        self._total = up + down
        self._ratio = up / self._total

    def _parts(self, e, floor):
        cycle = floor(1 + e / self._total)
        x = 1.0 + e / self._total - cycle
        return cycle, x

    def _scale(self, cycle, e):
        mode = self.hyper["mode"]
        if mode == "triangular":
            return 1.0
        if mode == "triangular2":
            return 1.0 / (2.0 ** (cycle - 1))
        return self.hyper["gamma"] ** e

    def _scalar(self, t, base):
        e = t - 1
        cycle, x = self._parts(e, math.floor)
        r = self._ratio
        s = x / r if x <= r else (x - 1) / (r - 1)
        lo = base if self.hyper["base_lr"] is None else self.hyper["base_lr"]
        return lo + (self.hyper["max_lr"] - lo) * s * self._scale(cycle, e)

    def _array(self, t, base):
        e = np.asarray(t, dtype=float) - 1.0
        cycle, x = self._parts(e, np.floor)
        r = self._ratio
        s = np.where(x <= r, x / r, (x - 1) / (r - 1))
        lo = base if self.hyper["base_lr"] is None else self.hyper["base_lr"]
        return lo + (self.hyper["max_lr"] - lo) * s * self._scale(cycle, e)


@_register
class ExponentialRange(Schedule):
    """The learning-rate range test's sweep: lr_min to lr_max geometrically over ``steps``.

    The LR range test (Smith 2017, "Cyclical learning rates for training neural networks",
    section 3.3; fastai's ``lr_find``) raises the rate exponentially over one run and reads
    the loss against it. ``lr_min`` None starts at the optimizer's lr; after ``steps`` steps
    the rate stays at ``lr_max``. Any optimizer can use it.
    """

    name = "exponential_range"
    equations = (
        "    lr_t = lr_min * (lr_max / lr_min) ** ((min(t, steps) - 1) / (steps - 1))\n"
        "    (lr_min = base_lr when None; lr_1 = lr_min, lr_steps = lr_max)"
    )
    params = {
        "lr_max": _Spec(low=0.0, low_open=True, doc="the rate reached at step `steps`"),
        "steps": _Spec(kind="int", low=2, doc="steps from lr_min to lr_max"),
        "lr_min": _Spec(None, low=0.0, low_open=True, optional=True, doc="the first rate"),
    }

    #: A range test: the ``lr_range`` figure reads the loss of such a run against its rate.
    range_test: ClassVar[bool] = True

    def _setup(self):
        lo, hi = self.hyper["lr_min"], self.hyper["lr_max"]
        if lo is not None and not lo < hi:
            raise OptimizerError(
                f"the 'exponential_range' schedule needs lr_min < lr_max; got lr_min={lo!r}, "
                f"lr_max={hi!r}",
                owner="schedule 'exponential_range'",
                key="lr_min",
                value=lo,
                allowed=f"a float in the range (0, {hi!r})",
            )

    def _scalar(self, t, base):
        lo = base if self.hyper["lr_min"] is None else self.hyper["lr_min"]
        k = self.hyper["steps"]
        return lo * (self.hyper["lr_max"] / lo) ** ((min(t, k) - 1) / (k - 1))

    def _array(self, t, base):
        lo = base if self.hyper["lr_min"] is None else self.hyper["lr_min"]
        k = self.hyper["steps"]
        e = (np.minimum(t, k) - 1.0) / (k - 1)
        # (+ 0 * base: the shape of a batched base_lr also when lr_min is given)
        return lo * np.power(self.hyper["lr_max"] / lo, e) + np.zeros_like(base)


# -- registry API ----------------------------------------------------------------------
def available_schedules() -> list[str]:
    """Names accepted by :func:`make_schedule`."""
    return list(SCHEDULES)


def _get(name: Any) -> type[Schedule]:
    if not isinstance(name, str) or name not in SCHEDULES:
        raise OptimizerError(
            f"unknown schedule {name!r}{suggest(str(name), SCHEDULES)}; "
            f"available: {', '.join(SCHEDULES)}"
        )
    return SCHEDULES[name]


def make_schedule(name: str, **hyperparameters: Any) -> Schedule:
    """Build the schedule ``name`` with validated hyperparameters.

    >>> make_schedule("inverse_time", eta0=1.0, k=1.0)(3, 0.1)
    0.3333333333333333
    """
    return _get(name)(**hyperparameters)


def describe_schedule(name: str) -> str:
    """The formula and hyperparameters (defaults and ranges) of a schedule, as text."""
    cls = _get(name)
    doc = (cls.__doc__ or "").split("\n\nSchedule::")[0].strip()
    lines = [f"{cls.name}: {doc.splitlines()[0] if doc else ''}".rstrip(": "), ""]
    lines += [cls.equations, "", "t is the 1-based step number; t = 1 uses the initial rate."]
    if cls.params:
        lines.append("")
        lines.append("hyperparameters:")
        for key, spec in cls.params.items():
            default = "required" if spec.default is _REQUIRED else f"default {spec.default!r}"
            desc = f" ({spec.doc})" if spec.doc else ""
            lines.append(f"  {key}: {spec.describe_range()}, {default}{desc}")
    return "\n".join(lines)
