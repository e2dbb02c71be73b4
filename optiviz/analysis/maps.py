"""Rate maps: a grid over two hyperparameters of one optimizer, run as one batched run, and
the linear theory of the optimizer's class on the same grid.

Measured (:func:`rate_map`): every cell of the grid is one run of a single batched
:func:`optiviz.run` with ``record="final"``; besides the final state the engine keeps the
losses of a few short windows (``loss_steps``), enough for the rate fit:

rate fit
    the error ``e_t = sqrt(f(x_t) - f*)`` (proportional to ``||x_t - x*||`` near a
    minimum, so the measured rate is comparable with the spectral radius of the
    iteration) is kept over windows of :data:`WINDOW` steps ending at ``T, T/2, T/4, ...,
    2`` (at most the later half of the steps up to their end), and at step 0. Each
    window's envelope is its largest error (robust to the oscillation of momentum, which
    a single step's value is not). The rate is ``(env_b / env_a)^(1 / (s_b - s_a))`` for
    the latest window ``b`` whose values are finite and above round-off and the next
    earlier such window ``a`` (or step 0), ``s`` being the windows' first steps.
    Round-off: ``f - f*`` below ``1e3 eps |f*| + (100 eps ||x*||)^2 lambda_max / 2 +
    1e-280`` when the minimum ``x*`` and its Hessian are known (the error cannot shrink
    below ``eps ||x*||``), else below ``1e-24 (f_0 - f*) + 1e3 eps |f*|``. A run that
    stops early (tolerance, divergence) is fitted on the windows before its stop; a cell
    with no such pair has no measured rate (nan).

Theory (:func:`theory_on_grid`), where the class has a linear iteration on a quadratic
(:meth:`~optiviz.optimizers.base.Optimizer.iteration_matrix`) and a positive definite
Hessian is known at the minimum (exact on a quadratic, local elsewhere):

* the rate: ``max_i rho(M(lambda_i))`` over the Hessian eigenvalues; the stability boundary
  is its level 1;
* the regime of the mode that sets the rate (Goh, "Why momentum really works", 2017):
  ``divergent`` (rate >= 1), ``ripples`` (complex eigenvalues of M: the error spirals),
  ``oscillating`` (a negative real dominant eigenvalue: the sign flips every step),
  ``monotone`` (a positive real one);
* the critical-damping curves: the zero set of the discriminant ``tr(M)^2 - 4 det(M)`` at
  ``lambda_min`` and ``lambda_max`` (for heavy ball ``beta = (1 - sqrt(lr lambda))^2``);
* the optimal pair: the class's
  :meth:`~optiviz.optimizers.base.Optimizer.optimal_hyperparameters` when it names both
  swept hyperparameters (heavy ball: Polyak's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiviz._format import json_float
from optiviz.errors import OptimizerError

__all__ = [
    "REGIMES",
    "WINDOW",
    "Axis",
    "MapTheory",
    "RateMap",
    "fit_rates",
    "loss_windows",
    "rate_map",
    "theory_on_grid",
]

#: The regimes of a cell, in code order (:attr:`MapTheory.regime` holds the index).
REGIMES = ("monotone", "oscillating", "ripples", "divergent")
#: Steps per window of the rate fit.
WINDOW = 20
#: Round-off floor of ``f - f*``: relative to ``f_0 - f*`` and to ``|f*|`` (see module doc).
_REL_FLOOR = 1e-24
_ABS_FLOOR = 1e3 * np.finfo(float).eps


@dataclass(frozen=True)
class Axis:
    """One axis of a map: a hyperparameter ``name`` and its increasing ``values``; ``log``
    when the values were given as a logspace (drawn on a log axis)."""

    name: str
    values: np.ndarray
    log: bool = False

    @property
    def size(self) -> int:
        return int(self.values.size)


@dataclass
class MapTheory:
    """The linear theory on a map's grid (arrays of shape ``(ny, nx)``)."""

    eigenvalues: np.ndarray
    rate: np.ndarray
    regime: np.ndarray  # int codes into REGIMES
    discriminant: dict[float, np.ndarray]  # lambda -> tr^2 - 4 det of M(lambda)
    optimum: dict | None  # {x.name: .., y.name: .., "rate": ..} or None
    exact: bool  # the surface is its quadratic model


@dataclass
class RateMap:
    """A measured rate map and its theory; arrays have shape ``(ny, nx)`` (row = y)."""

    optimizer: str
    x: Axis
    y: Axis
    fixed: dict
    steps: int
    status: np.ndarray
    final_loss: np.ndarray
    steps_to_tol: np.ndarray  # -1: never within tolerance
    rate: np.ndarray  # nan: not measured
    theory: MapTheory | None
    f_min: float | None
    wall_time: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def diverged(self) -> np.ndarray:
        return self.status == "diverged"

    def quantity(self, name: str) -> np.ndarray:
        """The measured quantity ``rate``, ``steps_to_tol`` or ``final_loss`` (float grid;
        nan where there is none)."""
        if name == "rate":
            return self.rate
        if name == "steps_to_tol":
            return np.where(self.steps_to_tol >= 0, self.steps_to_tol, np.nan).astype(float)
        if name == "final_loss":
            return self.final_loss
        raise ValueError(f"unknown rate-map quantity {name!r}")

    def to_csv(self) -> str:
        """``rate_map.csv``: one row per cell (x fastest), a column per swept
        hyperparameter, then status, final_loss, steps_to_tol, rate, rate_theory (empty
        where there is none)."""
        head = [self.x.name, self.y.name, "status", "final_loss", "steps_to_tol", "rate"]
        lines = [",".join([*head, "rate_theory"])]
        theory = None if self.theory is None else self.theory.rate
        for iy, yv in enumerate(self.y.values):
            for ix, xv in enumerate(self.x.values):
                stt = int(self.steps_to_tol[iy, ix])
                cells = [
                    repr(float(xv)),
                    repr(float(yv)),
                    str(self.status[iy, ix]),
                    _num(self.final_loss[iy, ix]),
                    "" if stt < 0 else str(stt),
                    _num(self.rate[iy, ix]),
                    "" if theory is None else _num(theory[iy, ix]),
                ]
                lines.append(",".join(cells))
        return "\n".join(lines) + "\n"


def split_name(name: str) -> tuple[str, int | None]:
    """``"lr"`` -> ``("lr", None)``; ``"betas[1]"`` -> ``("betas", 1)`` (one element of a
    pair hyperparameter, e.g. Adam's beta2)."""
    m = re.fullmatch(r"([A-Za-z_]\w*)\[([01])\]", name)
    return (m.group(1), int(m.group(2))) if m else (name, None)


def with_axes(cls: Any, h: Mapping[str, Any], axes: Mapping[str, Any]) -> dict:
    """``h`` with each axis ``{name: values}`` put in (a pair's element beside the other
    element's value in ``h``, else its default)."""
    out = dict(h)
    for name, values in axes.items():
        base, i = split_name(name)
        if i is None:
            out[base] = values
            continue
        pair = list(out.get(base, cls.params[base].default))
        pair[i] = values
        out[base] = tuple(pair)
    return out


def sweepable(cls: Any) -> list[str]:
    """The names a map may sweep for an optimizer class: its numeric batchable
    hyperparameters, and ``NAME[0]`` / ``NAME[1]`` for a pair (``betas[1]``)."""
    out = []
    for k, p in cls.params.items():
        if p.batchable and p.kind in ("float", "int"):
            out.append(k)
        elif p.batchable and p.kind == "pair":
            out.extend([f"{k}[0]", f"{k}[1]"])
    return out


def _num(v: float) -> str:
    """A float for the CSV: repr, empty for nan; inf as 'inf'."""
    v = float(v)
    if math.isnan(v):
        return ""
    return repr(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")


# -- the theory ------------------------------------------------------------------------------
def theory_on_grid(
    cls: Any,
    eigenvalues: Any,
    x: Axis,
    y: Axis,
    fixed: Mapping[str, Any] | None = None,
    *,
    exact: bool = False,
) -> MapTheory | None:
    """The linear theory of optimizer class ``cls`` on the grid ``x`` by ``y`` (the other
    hyperparameters ``fixed``, defaults for the rest) for Hessian ``eigenvalues``.

    None when the class has no linear iteration for these hyperparameters, or unless every
    eigenvalue is > 0 (no minimum for the quadratic model).
    """
    lam = np.asarray(eigenvalues, dtype=float).reshape(-1)
    if lam.size == 0 or not np.all(np.isfinite(lam)) or not np.all(lam > 0):
        return None
    if not cls.has_linear_theory():
        return None
    XX, YY = np.meshgrid(x.values, y.values, indexing="xy")  # (ny, nx)
    h = with_axes(cls, dict(fixed or {}), {x.name: XX, y.name: YY})
    hf = cls.theory_hyperparameters(h)
    if hf is None:
        return None
    with np.errstate(all="ignore"):
        M = cls.iteration_matrix(lam[:, None, None], hf)  # (k, ny, nx, 2, 2)
    if M is None:
        return None
    M = np.broadcast_to(M, (lam.size, *XX.shape, 2, 2))
    finite = np.all(np.isfinite(M), axis=(-2, -1))
    ev = np.full((*finite.shape, 2), np.inf, dtype=complex)
    ev[finite] = np.linalg.eigvals(M[finite])
    rho = np.max(np.abs(ev), axis=-1)  # (k, ny, nx)
    rate = np.max(rho, axis=0)
    with np.errstate(all="ignore"):
        tr = M[..., 0, 0] + M[..., 1, 1]
        det = M[..., 0, 0] * M[..., 1, 1] - M[..., 0, 1] * M[..., 1, 0]
        disc = tr * tr - 4.0 * det  # (k, ny, nx); < 0: complex eigenvalues
    top = np.argmax(rho, axis=0)  # the eigenvalue (mode) that sets the rate
    pick = np.take_along_axis
    ev_top = pick(ev, top[None, ..., None], axis=0)[0]  # (ny, nx, 2)
    dom = pick(ev_top, np.argmax(np.abs(ev_top), axis=-1)[..., None], axis=-1)[..., 0]
    disc_top = pick(disc, top[None], axis=0)[0]
    regime = np.where(
        ~(rate < 1.0),
        3,
        np.where(disc_top < 0, 2, np.where(dom.real < 0, 1, 0)),
    ).astype(np.int8)
    optimum = None
    opt = cls.optimal_hyperparameters(float(lam.min()), float(lam.max()))
    if opt and x.name in opt and y.name in opt:
        optimum = {x.name: float(opt[x.name]), y.name: float(opt[y.name])}
        optimum["rate"] = float(opt["rate"])
    lams = sorted({float(lam.min()), float(lam.max())})
    discs = {lv: disc[int(np.flatnonzero(lam == lv)[0])] for lv in lams}
    return MapTheory(
        eigenvalues=lam,
        rate=rate,
        regime=regime,
        discriminant=discs,
        optimum=optimum,
        exact=exact,
    )


# -- the measured map ----------------------------------------------------------------------
def loss_windows(steps: int, window: int = WINDOW) -> list[tuple[int, int]]:
    """The windows ``(first, last)`` of the rate fit for a run of ``steps`` steps, in step
    order: ``window`` steps ending at ``T, T/2, T/4, ..., 2`` (at most the later half of
    the steps up to the end, so no two windows start at one step). Step 0 is kept too (the
    fit's fallback)."""
    out = []
    end = int(steps)
    while end >= 2:
        out.append((max(end - window + 1, end // 2 + 1), end))
        end //= 2
    return sorted(set(out))


def fit_rates(
    losses: np.ndarray,
    steps: Sequence[int],
    windows: Sequence[tuple[int, int]],
    f_min: float,
    f0: np.ndarray,
    floor: Any = None,
) -> np.ndarray:
    """The measured rate of each run from its kept losses (see the module docstring).

    ``losses`` ``(R, len(steps))`` are the losses at ``steps`` (increasing, 0 first);
    ``windows`` the fit's windows; ``f0`` the losses at step 0; ``floor`` the round-off
    level of ``f - f*`` (default relative to ``f0 - f*``). Returns ``(R,)`` rates, nan
    where no pair of windows is usable.
    """
    R = losses.shape[0]
    col = {s: i for i, s in enumerate(steps)}
    if floor is None:
        floor = _REL_FLOOR * np.abs(f0 - f_min) + _ABS_FLOOR * abs(f_min)
    floor = np.broadcast_to(np.asarray(floor, dtype=float), (R,))
    env = [np.sqrt(np.maximum(f0 - f_min, 0.0))]
    ok = [np.isfinite(f0) & (f0 - f_min > floor)]
    starts = [0]
    for a, b in windows:
        block = losses[:, [col[s] for s in range(a, b + 1)]] - f_min
        with np.errstate(invalid="ignore"):
            good = np.all(np.isfinite(block), axis=1) & np.all(block > floor[:, None], axis=1)
        env.append(np.sqrt(np.max(np.where(good[:, None], block, 0.0), axis=1)))
        ok.append(good)
        starts.append(a)
    E = np.array(env)  # (W + 1, R)
    OK = np.array(ok)
    S = np.array(starts, dtype=float)
    rate = np.full(R, np.nan)
    idx = np.arange(len(starts))[:, None]
    # b: the latest usable window (> 0); a: the latest usable one before it
    b = np.where(OK[1:], idx[1:], -1).max(axis=0)
    earlier = OK & (S[:, None] < S[np.maximum(b, 0)][None, :])
    a = np.where(earlier, idx, -1).max(axis=0)
    use = (b > 0) & (a >= 0)
    ia, ib = a[use], b[use]
    cols = np.flatnonzero(use)
    with np.errstate(all="ignore"):
        ratio = E[ib, cols] / E[ia, cols]
        rate[use] = ratio ** (1.0 / (S[ib] - S[ia]))
    return rate


def _grid_h(x: Axis, y: Axis) -> tuple[np.ndarray, np.ndarray]:
    XX, YY = np.meshgrid(x.values, y.values, indexing="xy")
    return XX.reshape(-1), YY.reshape(-1)


def rate_map(
    surface: Any,
    optimizer: str,
    x: Axis,
    y: Axis,
    x0: Any,
    steps: int,
    *,
    fixed: Mapping[str, Any] | None = None,
    x_prev: Any = None,
    schedule: Any = None,
    tol: float | None = None,
    divergence_bound: float | None = None,
    eigenvalues: Any = None,
    minimum: Any = None,
    f_min: float | None = None,
    exact: bool = False,
    progress: Any = None,
) -> RateMap:
    """Measure the map of ``optimizer`` (a registry name) over ``x`` by ``y`` as one batched
    run from ``x0`` for ``steps`` steps, the other hyperparameters ``fixed``.

    ``tol``: the engine's ``tol_loss`` (``f - f* <= tol`` when the surface knows f*; the runs
    stop there, ``steps_to_tol``). ``eigenvalues``: the Hessian at the minimum, for the
    theory (None: no theory); ``minimum``: its point x* (with ``eigenvalues``, the rate
    fit's round-off level); ``f_min``: f* for the rate fit (default the surface's).
    """
    from optiviz.engine import run
    from optiviz.optimizers import get_class, make_optimizer

    cls = get_class(optimizer)
    if x.name == y.name:
        raise OptimizerError(f"a rate map needs two different hyperparameters; got {x.name!r}")
    able = sweepable(cls)
    for ax in (x, y):
        if ax.name not in able:
            raise OptimizerError(
                f"{optimizer} has no numeric hyperparameter {ax.name!r} to sweep; it takes: "
                f"{', '.join(able)}",
                owner=optimizer,
                key=ax.name,
            )
    xs, ys = _grid_h(x, y)
    h = {k: v for k, v in dict(fixed or {}).items() if k not in (x.name, y.name)}
    opt = make_optimizer(optimizer, **with_axes(cls, h, {x.name: xs, y.name: ys}))
    windows = loss_windows(steps)
    kept = sorted({0, *(s for a, b in windows for s in range(a, b + 1))})
    traj = run(
        surface,
        opt,
        x0,
        steps,
        x_prev=x_prev,
        schedule=schedule,
        tol_loss=tol,
        record="final",
        divergence_bound=divergence_bound,
        loss_steps=kept,
        progress=progress,
    )
    shape = (y.size, x.size)
    fstar = f_min if f_min is not None else traj.f_min
    if fstar is None:
        rate = np.full(xs.size, np.nan)
    else:
        la = np.asarray(traj.losses_at)
        floor = None
        if eigenvalues is not None and minimum is not None:
            lam_max = float(np.max(np.abs(eigenvalues)))
            xs_norm = float(np.linalg.norm(np.asarray(minimum, dtype=float)))
            eps = float(np.finfo(float).eps)
            floor = _ABS_FLOOR * abs(float(fstar)) + (100 * eps * xs_norm) ** 2 * lam_max / 2
            floor += 1e-280
        rate = fit_rates(la, traj.loss_steps, windows, float(fstar), la[:, 0], floor)
    theory = None
    if eigenvalues is not None:
        theory = theory_on_grid(cls, eigenvalues, x, y, h, exact=exact)
    return RateMap(
        optimizer=optimizer,
        x=x,
        y=y,
        fixed=h,
        steps=int(steps),
        status=np.asarray(traj.status).reshape(shape),
        final_loss=np.asarray(traj.final_loss, dtype=float).reshape(shape),
        steps_to_tol=np.asarray(traj.steps_to_tolerance).reshape(shape),
        rate=rate.reshape(shape),
        theory=theory,
        f_min=None if fstar is None else float(fstar),
        wall_time=traj.wall_time,
    )


def json_summary(m: RateMap) -> dict:
    """A few numbers of a map (for a report line): cells, diverged, best measured cell."""
    r = np.where(np.isfinite(m.rate), m.rate, np.inf)
    i = np.unravel_index(int(np.argmin(r)), r.shape)
    return {
        "cells": int(m.rate.size),
        "diverged": int(m.diverged.sum()),
        "best": {m.x.name: float(m.x.values[i[1]]), m.y.name: float(m.y.values[i[0]])},
        "best_rate": json_float(float(m.rate[i])),
    }
