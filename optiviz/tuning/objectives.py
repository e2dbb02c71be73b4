"""What a trial is judged by: one number per run, lower is better, then one per trial.

``final_loss``
    the loss at the end of the run (at the horizon, or where a tolerance stopped it).
``best_loss``
    the lowest loss the run reached.
``steps_to_tol``
    the steps the run took to meet the config's tolerance (``tolerance: {loss | grad}``);
    ``inf`` when it did not within the horizon.
``area``
    the area under the log-suboptimality curve per step,
    ``(1/T) sum_{t=1..T} log10(max(f(x_t) - f*, 1e-16))`` over the horizon ``T`` (a run
    stopped early by a tolerance stays where it stopped), in decades; needs the surface's
    minimum value ``f*``.

A diverged run's objective is ``inf`` whatever the objective (and so is a trial's when any
of its runs diverged). A trial run from several starts is judged by the mean of its runs'
objectives (``inf`` if any is ``inf``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["AREA_FLOOR", "OBJECTIVES", "needs_losses", "run_objectives", "trial_objectives"]

#: The objectives a tune block may name, with a one-line description each.
OBJECTIVES = {
    "final_loss": "the loss at the end of the run",
    "best_loss": "the lowest loss the run reached",
    "steps_to_tol": "steps to meet the config's tolerance (inf when not met)",
    "area": "mean over steps of log10(f - f*), the area under the log-suboptimality curve per step",
}
#: Suboptimalities below this count as this (log10 of 0 would be -inf).
AREA_FLOOR = 1e-16


def needs_losses(objective: str) -> bool:
    """Whether the objective reads every step's loss (the trials keep ``record: path``)."""
    return objective == "area"


def run_objectives(traj: Any, objective: str, horizon: int) -> np.ndarray:
    """The objective of every run of a batched (or single) trajectory, ``(R,)``."""
    status = np.atleast_1d(np.asarray(traj.status))
    if objective == "final_loss":
        v = np.atleast_1d(np.asarray(traj.final_loss, dtype=float))
    elif objective == "best_loss":
        v = np.atleast_1d(np.asarray(traj.best_loss, dtype=float))
    elif objective == "steps_to_tol":
        stt = traj.steps_to_tolerance
        s = np.atleast_1d(np.asarray(-1 if stt is None else stt, dtype=float))
        v = np.where(s >= 0, s, np.inf)
    elif objective == "area":
        v = _area(traj, horizon)
    else:
        raise ValueError(f"unknown objective {objective!r}")
    v = np.where(status == "diverged", np.inf, v.astype(float))
    return np.where(np.isnan(v), np.inf, v)


def _area(traj: Any, horizon: int) -> np.ndarray:
    if traj.f_min is None or traj.losses is None:
        raise ValueError("the area objective needs per-step losses and the surface's f*")
    losses = np.atleast_2d(np.asarray(traj.losses, dtype=float))
    n_steps = np.atleast_1d(np.asarray(traj.n_steps))
    R, cols = losses.shape
    full = np.empty((R, horizon + 1))
    full[:, :cols] = losses[:, : horizon + 1]
    if cols < horizon + 1:
        full[:, cols:] = np.nan
    for i in range(R):  # a run stopped early stays at its last point
        k = int(n_steps[i])
        full[i, k + 1 :] = losses[i, k]
    with np.errstate(all="ignore"):
        sub = np.maximum(full[:, 1:] - traj.f_min, AREA_FLOOR)
        return np.log10(sub).mean(axis=1)


def trial_objectives(per_run: np.ndarray, n_trials: int, n_starts: int) -> np.ndarray:
    """Per-run objectives of ``n_starts * n_trials`` runs (start by start) -> the mean of
    each trial's runs, ``(n_trials,)`` (``inf`` where any of them is)."""
    v = np.asarray(per_run, dtype=float).reshape(n_starts, n_trials)
    with np.errstate(invalid="ignore"):
        out = v.mean(axis=0)
    return np.where(np.isfinite(v).all(axis=0), out, np.inf)


def trial_status(statuses: np.ndarray, n_trials: int, n_starts: int) -> list[str]:
    """One status per trial from its runs': ``diverged`` if any diverged, else
    ``converged`` if all met the tolerance, else ``max_steps`` (else the runs' own)."""
    s = np.asarray(statuses).reshape(n_starts, n_trials)
    out = []
    for j in range(n_trials):
        col = set(s[:, j].tolist())
        if "interrupted" in col:
            out.append("interrupted")
        elif "diverged" in col:
            out.append("diverged")
        elif col == {"converged"}:
            out.append("converged")
        else:
            out.append("max_steps" if "max_steps" in col else sorted(col)[0])
    return out
