"""The learning-rate range test, read the usual way and graded against the Hessian.

A range test is one run whose learning rate rises exponentially (the
``exponential_range`` schedule; Smith 2017, "Cyclical learning rates for training neural
networks", section 3.3; fastai's ``lr_find``). :func:`lr_range_test` reads it as fastai
does: the loss recorded at step ``t`` is the loss at the iterate the step starts from,
``f(x_{t-1})``, paired with the step's rate ``lr_t``; it is smoothed by a debiased
exponential moving average (``smoothing`` = fastai's beta, 0.98), cut where the smoothed
loss first exceeds 4 times its best value (fastai's ``stop_div``), and the suggestion is the
rate where the smoothed loss falls fastest against ``log lr`` (fastai's ``steep``: the most
negative forward difference, taken at its left end).

Beside it, the Hessian's answer at the minimum: ``1/lambda_max`` (the notes' eta_opt),
``2/(lambda_min + lambda_max)`` (the best fixed step of GD) and ``2/lambda_max`` (GD's
stability limit), with the ratio of each to the suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiviz._format import json_safe
from optiviz.errors import OptivizError

__all__ = ["HESSIAN_RATES", "LRRange", "lr_range_test"]

Array = np.ndarray

#: The Hessian's learning rates drawn beside the suggestion: key of ``PointAnalysis.eta``,
#: and its label.
HESSIAN_RATES = (
    ("inverse_lambda_max", "1/\\lambda_{max}"),
    ("optimal_fixed", "2/(\\lambda_{min}+\\lambda_{max})"),
    ("stability_limit", "2/\\lambda_{max}"),
)


@dataclass
class LRRange:
    """A range test read (see the module docstring): ``lr[i]``, ``loss[i]`` the pairs,
    ``smoothed`` and ``slope`` (per unit of ``ln lr``) over the first ``used`` of them,
    ``suggestion`` (``lr[index]``), ``hessian`` the Hessian's rates and ``ratios`` each
    divided by the suggestion."""

    lr: Array
    loss: Array
    smoothed: Array
    slope: Array
    used: int
    index: int | None
    suggestion: float | None
    hessian: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def lr_range_test(
    lr: Any,
    losses: Any,
    *,
    smoothing: float = 0.98,
    stop_factor: float = 4.0,
    hessian: dict[str, float] | None = None,
) -> LRRange:
    """Read a range test: ``lr`` ``(T,)`` the rate of each step ``t = 1 .. T`` and
    ``losses`` ``(T + 1,)`` the loss at ``x_0 .. x_T`` (a trajectory's ``losses``).

    ``hessian``: the Hessian's rates (keys of :data:`HESSIAN_RATES`) to compare with.
    """
    lr = np.asarray(lr, dtype=float).reshape(-1)
    losses = np.asarray(losses, dtype=float).reshape(-1)
    if not 0.0 <= smoothing < 1.0:
        raise OptivizError(f"smoothing must be in [0, 1); got {smoothing!r}")
    T = min(len(lr), len(losses) - 1)
    lr, loss = lr[:T], losses[:T]  # step t: (lr_t, f(x_{t-1})), as fastai records them
    smoothed = np.full(T, np.nan)
    avg, best, used = 0.0, np.inf, 0
    for i in range(T):
        if not np.isfinite(loss[i]):
            break
        avg = smoothing * avg + (1.0 - smoothing) * loss[i]
        s = avg / (1.0 - smoothing ** (i + 1))
        smoothed[i] = s
        used = i + 1
        if s > stop_factor * best:  # fastai's stop_div: the loss has blown up
            break
        best = min(best, s)
    slope = np.full(T, np.nan)
    index = None
    if used >= 2:
        d = np.diff(smoothed[:used]) / np.diff(np.log(lr[:used]))
        slope[: used - 1] = d
        ok = np.isfinite(d)
        if ok.any():
            index = int(np.argmin(np.where(ok, d, np.inf)))
    suggestion = None if index is None else float(lr[index])
    rates = {k: float(v) for k, v in (hessian or {}).items() if v is not None and np.isfinite(v)}
    ratios = (
        {}
        if suggestion is None or not suggestion > 0
        else {k: v / suggestion for k, v in rates.items()}
    )
    return LRRange(lr, loss, smoothed, slope, used, index, suggestion, rates, ratios)
