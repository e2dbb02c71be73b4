"""Shared pieces of the optimizer families: hyperparameter specs and small helpers.

Kept private: the public surface is ``optiviz.optimizers`` (registry) and ``base``.
"""

from __future__ import annotations

import numpy as np

from optiviz.optimizers.base import Param

# -- hyperparameter specs reused across families (one validation table) -------------------


def lr_param(default: float, doc: str = "learning rate γ") -> Param:
    return Param(default, "float", low=0.0, doc=doc)


def eps_param(
    default: float, doc: str = "ε added to the denominator for numerical stability"
) -> Param:
    return Param(default, "float", low=0.0, doc=doc)


def betas_param(
    doc: str = "(β₁, β₂): decay rates of the first and second moment averages",
) -> Param:
    return Param((0.9, 0.999), "pair", low=0.0, high=1.0, high_open=True, doc=doc)


WEIGHT_DECAY = Param(0.0, "float", low=0.0, doc="λ: L2 penalty, added to the gradient (g ← g + λθ)")
MAXIMIZE = Param(False, "bool", doc="ascend f instead of descending it (g ← −∇f)", batchable=False)
EPS_PLACEMENT = Param(
    "outside",
    "choice",
    choices=("outside", "inside"),
    batchable=False,
    doc="'outside': γ/(√v + ε) as torch; 'inside': γ/√(v + ε) as the notes (eq. 15, 16, 18)",
)


def drop_quantities(opt, *keys: str) -> None:
    """Give ``opt`` its own ``quantities`` without ``keys`` (options that are switched off)."""
    opt.quantities = {k: v for k, v in type(opt).quantities.items() if k not in keys}


def is_zero(value) -> bool:
    """True when a hyperparameter (float or (R, 1) array) is zero for every run."""
    if isinstance(value, np.ndarray):
        return not np.any(value)
    return value == 0


def torch_preamble(x, g, lr, *, maximize: bool, weight_decay, decoupled: bool = False):
    """The gradient preamble torch.optim's algorithms share; returns ``(x, g)``.

    ``g ← −g`` if ``maximize``; then weight decay λ: added to the gradient (L2,
    ``g ← g + λθ``) or, ``decoupled``, applied to the parameters first (``θ ← θ(1 − γλ)``,
    AdamW's form).
    """
    if maximize:
        g = -g
    if not is_zero(weight_decay):
        if decoupled:
            x = x * (1.0 - lr * weight_decay)
        else:
            g = g + weight_decay * x
    return x, g


def any_zero(value) -> bool:
    """True when a hyperparameter is zero for at least one run."""
    if isinstance(value, np.ndarray):
        return not np.all(value)
    return value == 0


def fast_const(value):
    """A scalar hyperparameter as a 0-d float array ((R, 1) arrays pass through).

    ``array * 0-d array`` costs about half of ``array * python_float`` for the tiny arrays of
    a single run, and gives the same IEEE result.
    """
    if isinstance(value, np.ndarray):
        return value
    return np.asarray(float(value))


def as_float_array(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def full_like(x0: np.ndarray, value) -> np.ndarray:
    """A new float array of ``x0``'s shape filled with ``value`` (float or (R, 1) array)."""
    return np.zeros_like(x0, dtype=float) + value


def row_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the coordinate axis keeping it: (R, n) -> (R, 1), (n,) -> (1,)."""
    return np.sum(a, axis=-1, keepdims=True)


def column(values, like: np.ndarray) -> np.ndarray:
    """Reshape per-run values (shape (R,) or ()) to broadcast against ``like`` rows."""
    v = np.asarray(values, dtype=float)
    return v.reshape(v.shape + (1,)) if like.ndim > 1 else v.reshape(1)


class PerRunPower:
    """``base ** e`` for a hyperparameter ``base`` (a float, or an (R, 1) array: one value
    per run) and a scalar ``e`` (the step), rounded as Python's float power (the C
    library's ``pow``) in both cases, so a batch steps exactly as its runs alone.

    numpy's array power is not that function on every machine: with AVX-512 it is SVML's,
    which rounded 4,092 of 100,000 random ``β ** t`` differently from ``pow`` (measured
    2026-12-02), and a chaotic run (Adam at lr 4.2 on Rosenbrock) turns one ulp into a
    different final loss. The per-run values are few and fixed (a sweep's or a map's
    axis, a tuning's trials), so the distinct ones are found once and each step takes
    their powers in Python (~0.1 us each) and gathers them back.

    A traced exponent (the compiled backend) gets ``base ** e`` of the array namespace.
    """

    __slots__ = ("base", "_values", "_index")

    def __init__(self, base):
        self.base = base
        if isinstance(base, np.ndarray):
            values, index = np.unique(base.ravel(), return_inverse=True)
            self._values = values.tolist()
            self._index = index.reshape(base.shape)

    def __call__(self, e):
        b = self.base
        if not isinstance(b, np.ndarray):
            return b**e
        if not isinstance(e, (int, float, np.integer, np.floating)):
            return b**e  # traced: jax's power (its backend-parity tolerance covers it)
        e = float(e)
        return np.array([v**e for v in self._values])[self._index]

    __pow__ = __call__  # ``beta ** t`` reads the same for a float and a PerRunPower

    def map(self, fn, e):
        """``fn(base, e)``, for an array base value by value (Python floats) and gathered
        back to its shape (a traced ``e``: ``fn`` of the whole array)."""
        b = self.base
        if not isinstance(b, np.ndarray) or not isinstance(
            e, (int, float, np.integer, np.floating)
        ):
            return fn(b, e)
        return np.array([fn(v, e) for v in self._values])[self._index]


def powers(base):
    """``base`` itself when it is a float (``base ** t`` as ever: the one-run step pays
    nothing), else its :class:`PerRunPower` (which also takes ``** t``)."""
    return PerRunPower(base) if isinstance(base, np.ndarray) else base


def per_run(opt, name: str, base) -> PerRunPower:
    """The :class:`PerRunPower` of hyperparameter ``base``, its distinct values found once
    per optimizer (cached on ``opt`` under ``name`` while ``base`` is the same object)."""
    key = "_per_run_" + name
    p = opt.__dict__.get(key)
    if p is None or p.base is not base:
        p = opt.__dict__[key] = PerRunPower(base)
    return p
