"""The effective learning rate of a step: the step taken per unit gradient.

For the step from ``x_t`` to ``x_{t+1}`` and the gradient ``g`` that the engine handed to the
optimizer at ``x_t`` (the mini-batch gradient in stochastic runs), coordinate i's effective
learning rate is ``-(x_{t+1,i} - x_{t,i}) / g_i``: ``lr`` for gradient descent, whatever the
optimizer (momentum, adaptive, Newton, line searches). It is nan where ``g_i = 0`` (no
gradient to measure the step by, including the 0/0 of no step at all), and follows IEEE
arithmetic on non-finite values (a diverged step).
"""

from __future__ import annotations

import numpy as np

__all__ = ["step_per_unit_gradient"]


def step_per_unit_gradient(
    x_before: np.ndarray,
    x_after: np.ndarray,
    g: np.ndarray,
    out: np.ndarray | None = None,
    scratch: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``(x_before - x_after) / g`` elementwise, nan where ``g == 0``.

    The arrays have one shape (rows of steps, any layout); ``out`` may be ``g`` itself
    (computed in place). ``scratch``, a float and a bool array of that shape, holds the
    intermediate values (a loop that calls this per block allocates nothing). Call it
    under ``np.errstate(all="ignore")`` for non-finite rows.
    """
    if scratch is None:
        scratch = (np.empty(g.shape), np.empty(g.shape, dtype=bool))
    step, zero = scratch
    np.equal(g, 0, out=zero)
    out = np.divide(np.subtract(x_before, x_after, out=step), g, out=out)
    np.copyto(out, np.nan, where=zero)
    return out
