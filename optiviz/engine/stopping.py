"""The stopping rules of a run, written once, with a scalar and a block evaluator.

A run is tested after every step ``t`` (and once at ``t = 0``) on three values: its loss
``f = f(x_t)``, its squared gradient norm ``g2 = ||grad f(x_t)||^2`` and the previous loss
``f_prev = f(x_{t-1})`` (nan at ``t = 0``: there is no previous loss). The rules, in
order:

1. **diverged** unless the run is *healthy*: ``|f| <= bound`` and ``g2 < inf`` (a nan
   loss fails the first test, an infinite one too unless ``bound`` is inf; a nan,
   infinite or overflowing gradient fails the second; ``bound`` is ``divergence_bound``
   or :func:`default_divergence_bound` of ``f(x0)``);
2. **converged** if a tolerance is *met*: ``g2 <= tol_grad^2`` (the gradient norm compared
   squared: the same arithmetic for single and batched runs); ``f <= f_min + tol_loss``
   when the surface knows its minimum value ``f_min``, else ``|f - f_prev| <= tol_loss``
   (first tested at ``t = 1``);
3. otherwise the run goes on (and ends with ``"max_steps"`` after its last step).

:meth:`StoppingRules.healthy` and :meth:`StoppingRules.met` state the rules once, as
expressions valid for Python floats and for numpy arrays alike. Two evaluators use them:
:meth:`StoppingRules.scalar` for one run stepped with Python floats (one call per step)
and :meth:`StoppingRules.block` for a block of K steps of R runs (arrays ``(K, R)``), with
:func:`first_stops` finding each run's first stopping row. Both give the same status at
the same step (tests/test_stopping.py checks it on random sequences).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "RUNNING",
    "CONVERGED",
    "DIVERGED",
    "INTERRUPTED",
    "STATUS",
    "StoppingRules",
    "default_divergence_bound",
    "first_stops",
]

#: Codes of the evaluators; ``STATUS[code]`` is the trajectory's status text (``RUNNING``
#: at the end of the budget is ``"max_steps"``). ``INTERRUPTED`` is no rule's verdict: the
#: loops give it to a run still going when a KeyboardInterrupt stopped them.
RUNNING, CONVERGED, DIVERGED, INTERRUPTED = 0, 1, 2, 3
STATUS = np.array(["max_steps", "converged", "diverged", "interrupted"])
_INF = math.inf


def default_divergence_bound(f0: Any) -> Any:
    """``1e12 * max(1, |f(x0)|)``: the default bound on ``|loss|`` (float or array)."""
    with np.errstate(all="ignore"):
        b = 1e12 * np.maximum(1.0, np.abs(f0))
    return (
        np.where(np.isfinite(b), b, 1e12)
        if np.ndim(b)
        else (float(b) if math.isfinite(b) else 1e12)
    )


class StoppingRules:
    """The thresholds of one call of :func:`~optiviz.engine.run` and the rules on them.

    ``bound`` is a float, or an ``(R,)`` array (one bound per run of a batch); the
    tolerances are None (not tested) or floats >= 0; ``f_min`` is the surface's lowest
    known minimum value, or None.
    """

    def __init__(
        self,
        bound: Any,
        tol_grad: float | None = None,
        tol_loss: float | None = None,
        f_min: float | None = None,
    ):
        self.bound = bound
        self.tol_grad = tol_grad
        self.tol_loss = tol_loss
        self.f_min = f_min
        #: ``tol_grad^2``, or -1 (met by no squared norm, nor by nan) without it.
        self.grad2_max = -1.0 if tol_grad is None else tol_grad * tol_grad
        #: ``f_min + tol_loss`` when both are known: the loss to reach.
        self.loss_target = None if tol_loss is None or f_min is None else f_min + tol_loss
        #: ``tol_loss`` when ``f_min`` is unknown: the change of loss to fall under.
        self.loss_delta = tol_loss if tol_loss is not None and f_min is None else None
        self.has_tolerance = tol_grad is not None or tol_loss is not None

    # -- the rules (floats or arrays) ---------------------------------------------------
    def healthy(self, f: Any, g2: Any) -> Any:
        """Not diverged: ``|f| <= bound`` and ``g2 < inf`` (False for nan)."""
        return (abs(f) <= self.bound) & (g2 < _INF)

    def met(self, f: Any, g2: Any, f_prev: Any) -> Any:
        """A tolerance is met (``f_prev`` nan at ``t = 0``: the delta rule is not met)."""
        out = g2 <= self.grad2_max
        target = self.loss_target
        if target is not None:
            out = out | (f <= target)
        delta = self.loss_delta
        if delta is not None:
            out = out | (abs(f - f_prev) <= delta)
        return out

    # -- evaluators ----------------------------------------------------------------------
    def scalar(self):
        """The evaluator of one run: ``check(f, g2, f_prev) -> RUNNING | CONVERGED |
        DIVERGED`` on Python floats (``f_prev`` nan at ``t = 0``).

        The same rules as :meth:`healthy` and :meth:`met`, spelled with Python's ``and`` /
        ``or`` on floats with the thresholds bound as locals: the single-run loop calls it
        once per step, where two nested calls and numpy booleans cost a tenth of an Adam
        step. ``tests/test_stopping.py`` checks that it agrees with :meth:`block` and the
        documented rules.
        """
        bound, inf = self.bound, _INF
        if not self.has_tolerance:

            def check(f: float, g2: float, f_prev: float) -> int:
                return RUNNING if abs(f) <= bound and g2 < inf else DIVERGED

            return check
        grad2_max, target, delta = self.grad2_max, self.loss_target, self.loss_delta
        no_target, no_delta = target is None, delta is None

        def check_tol(f: float, g2: float, f_prev: float) -> int:
            if not (abs(f) <= bound and g2 < inf):
                return DIVERGED
            if (
                g2 <= grad2_max
                or (not no_target and f <= target)
                or (not no_delta and abs(f - f_prev) <= delta)
            ):
                return CONVERGED
            return RUNNING

        return check_tol

    def block(self, F: Any, G2: Any, f_before: Any) -> tuple[np.ndarray, np.ndarray]:
        """The evaluator of a block of steps of R runs: ``F`` and ``G2`` are ``(m, R)``
        (row j: step t0 + j), ``f_before`` the ``(R,)`` losses of the step before the
        block (None for a block starting at ``t = 0``).

        Returns ``(stop, ok)``, both ``(m, R)`` bool: ``stop`` where a run stops at that
        step, ``ok`` where it is healthy (a stop there is convergence, else divergence).
        """
        ok = self.healthy(F, G2)
        stop = ~ok
        if self.has_tolerance:
            f_prev = F  # unused by the rules without loss_delta
            if self.loss_delta is not None:
                f_before = np.broadcast_to(np.asarray(f_before, dtype=float), F.shape[1:])
                f_prev = np.concatenate([f_before[None], F[:-1]])
            stop |= self.met(F, G2, f_prev)
        return stop, ok


def first_stops(stop: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first stopping row of each run of a block (``stop``, ``ok`` from
    :meth:`StoppingRules.block`, already restricted to the active runs).

    Returns ``(runs, rows, codes)``: the runs that stop in the block, the row of each
    one's first stop and its code (``CONVERGED`` or ``DIVERGED``).
    """
    runs = np.flatnonzero(stop.any(axis=0))
    rows = stop[:, runs].argmax(axis=0)
    codes = np.where(ok[rows, runs], CONVERGED, DIVERGED)
    return runs, rows, codes
