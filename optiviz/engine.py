"""The engine: run an optimizer on a surface and record a :class:`~optiviz.trajectory.Trajectory`.

``run(surface, optimizer, x0, steps, ...)`` steps one run (``x0`` of shape ``(n,)`` and
scalar hyperparameters: the fast path, ``x`` stays an ``(n,)`` array) or R runs together
(``x0`` of shape ``(R, n)``, or hyperparameters given as arrays of R values: ``x`` is
``(R, n)``). Each step ``t = 1..T``:

1. the loss and gradient at ``x_{t-1}`` come from one fused ``value_and_grad`` call made
   at the end of the previous step (or before the loop for ``x0``);
2. ``lr_t = schedule(t, optimizer.lr)`` (or ``optimizer.lr`` without a schedule);
3. ``x_t, state = optimizer.step(x_{t-1}, g, state, oracle, lr_t, t)``;
4. loss and gradient at ``x_t`` are evaluated, recorded and tested for stopping.

Stopping rules (each run of a batch stops on its own; its ``x`` is then frozen and its
rows after the stop are nan; the loop ends when every run has stopped):

* ``tol_grad``: ``||grad f(x_t)|| <= tol_grad`` -> ``"converged"`` (tested as
  ``||g||^2 <= tol_grad^2``, the same arithmetic for single and batched runs).
* ``tol_loss``: if the surface knows its minimum value ``f_min``, ``f(x_t) - f_min <=
  tol_loss``; otherwise ``|f(x_t) - f(x_{t-1})| <= tol_loss`` (first tested at t = 1)
  -> ``"converged"``.
* divergence: a non-finite loss or gradient (hence also a non-finite point; a gradient
  whose squared norm overflows, ``||g|| > ~1e154``, counts as non-finite), or
  ``|f(x_t)| > bound`` with ``bound = divergence_bound`` or, by default,
  ``1e12 * max(1, |f(x0)|)`` per run -> ``"diverged"`` with ``diverged_at = t``. Never an
  exception and never a numpy warning: the loop runs under ``np.errstate(all="ignore")``.
  A run that grows but stays under the bound is recorded in full.
* otherwise ``"max_steps"`` after ``steps`` steps.

Stochastic runs (``batch_size`` on a data surface, ``surface.n_samples`` not None): each
epoch is a fresh permutation of the samples from ``np.random.default_rng(seed)``, cut into
consecutive mini-batches of ``batch_size`` (the last one of an epoch may be smaller, like
PyTorch's ``DataLoader`` with ``drop_last=False``). At each step the oracle's ``batch`` is
set to the mini-batch, so the optimizer's own evaluations use it too, and ``g`` is the
mini-batch gradient. The **recorded** loss and gradient norm, and the stopping tests, use
the full-batch values (one extra full evaluation per step, not counted in ``n_f`` /
``n_grad``). All R runs of a batch see the same mini-batch sequence; the same seed gives
identical trajectories.

``record="all"`` keeps every iterate; ``record="final"`` keeps only final states and
summaries (final point, loss and gradient norm, best loss, status, diverged_at, n_steps,
steps_to_tolerance) and allocates nothing of size T * R * n.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np

from optiviz.errors import OptimizerError, SurfaceError
from optiviz.optimizers.base import Oracle
from optiviz.trajectory import RunLabels, Trajectory

__all__ = ["run", "RECORD_MODES", "default_divergence_bound"]

RECORD_MODES = ("all", "path", "final")
_INF = math.inf
_MAX, _CONV, _DIV = 0, 1, 2
_STATUS = np.array(["max_steps", "converged", "diverged"])


def default_divergence_bound(f0: Any) -> Any:
    """``1e12 * max(1, |f(x0)|)``: the default bound on ``|loss|`` (float or array)."""
    with np.errstate(all="ignore"):
        b = 1e12 * np.maximum(1.0, np.abs(f0))
    return (
        np.where(np.isfinite(b), b, 1e12)
        if np.ndim(b)
        else (float(b) if math.isfinite(b) else 1e12)
    )


# -- validation ----------------------------------------------------------------------------
def _check_surface(surface: Any) -> None:
    for attr in ("value_and_grad", "n", "variables"):
        if not hasattr(surface, attr):
            raise SurfaceError(
                f"run() needs a Surface (with value_and_grad, n, variables); got "
                f"{type(surface).__name__} without {attr!r}"
            )


def _check_optimizer(optimizer: Any) -> None:
    if isinstance(optimizer, str):
        raise OptimizerError(
            f"run() needs an optimizer object, e.g. make_optimizer({optimizer!r}, lr=...); "
            f"got the string {optimizer!r}"
        )
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "step")):
        raise OptimizerError(
            f"run() needs an optimizer with init() and step(); got {type(optimizer).__name__}"
        )


def _points(name: str, value: Any, surface: Any) -> np.ndarray:
    n = surface.n
    names = ", ".join(surface.variables)
    sname = getattr(surface, "name", "custom")
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise SurfaceError(
            f"{name} must be {n} numbers for the variables ({names}) of surface {sname!r}, "
            f"or an (R, {n}) array of R starting points; got {value!r}"
        ) from None
    if arr.ndim not in (1, 2) or arr.shape[-1] != n:
        k = arr.shape[-1] if arr.ndim in (1, 2) else 0
        got = f"{k} value{'s' if k != 1 else ''}" if arr.ndim in (1, 2) else f"shape {arr.shape}"
        raise SurfaceError(
            f"{name} has {got} but surface {sname!r} has {n} variable"
            f"{'s' if n != 1 else ''} ({names}); give {n} numbers or an (R, {n}) array"
        )
    if arr.shape[0] == 0:
        raise SurfaceError(f"{name} is empty; give {n} numbers for ({names})")
    if not np.all(np.isfinite(arr)):
        raise SurfaceError(f"{name} must be finite; got {value!r}")
    return arr


def _int(name: str, value: Any, low: int, high: int | None = None) -> int:
    ok = not isinstance(value, (bool, np.bool_))
    try:
        v = float(value)
        ok = ok and math.isfinite(v) and v == int(v)
    except (TypeError, ValueError):
        ok = False
    if ok:
        v = int(v)
        ok = v >= low and (high is None or v <= high)
    if not ok:
        hi = "inf)" if high is None else f"{high}]"
        raise OptimizerError(f"{name!r} must be an int in the range [{low}, {hi}; got {value!r}")
    return v


def _nonneg(name: str, value: Any, *, positive: bool = False, allow_inf: bool = False):
    if value is None:
        return None
    try:
        v = float(value)
        ok = not isinstance(value, (bool, np.bool_)) and not math.isnan(v)
    except (TypeError, ValueError):
        ok = False
    if ok:
        ok = (v > 0 if positive else v >= 0) and (allow_inf or math.isfinite(v))
    if not ok:
        lb = "(0" if positive else "[0"
        rb = "inf]" if allow_inf else "inf)"
        raise OptimizerError(
            f"{name!r} must be None or a float in the range {lb}, {rb}; got {value!r}"
        )
    return v


def _schedule(schedule: Any):
    if schedule is None:
        return None, None
    if isinstance(schedule, str):
        from optiviz.schedules import make_schedule

        schedule = make_schedule(schedule)
    if not callable(schedule):
        raise OptimizerError(
            f"'schedule' must be None, a schedule name or make_schedule(...); got {schedule!r}"
        )
    label = schedule.label() if hasattr(schedule, "label") else repr(schedule)
    return schedule, label


class _Batches:
    """Shuffled epochs of mini-batch indices (the last batch of an epoch may be smaller)."""

    def __init__(self, n_samples: int, batch_size: int, seed: Any):
        self.rng = np.random.default_rng(seed)
        self.n = n_samples
        self.size = batch_size
        self.perm = np.arange(0)
        self.pos = 0

    def next(self) -> np.ndarray:
        if self.pos >= self.perm.size:
            self.perm = self.rng.permutation(self.n)
            self.pos = 0
        idx = self.perm[self.pos : self.pos + self.size]
        self.pos += self.size
        return idx


def _run_labels(optimizer: Any, R: int) -> RunLabels | None:
    """Lazy per-run labels: ``optimizer.label()`` with run i's hyperparameter values."""
    hyper = getattr(optimizer, "hyper", None)
    if getattr(optimizer, "n_runs", None) is None or not isinstance(hyper, dict):
        return None
    hyper = dict(hyper)

    def label_of(i: int) -> str:
        one = copy.copy(optimizer)
        one.hyper = {k: (v[i] if isinstance(v, list) else v) for k, v in hyper.items()}
        return one.label()

    return RunLabels(label_of, R)


# -- the public entry point --------------------------------------------------------------
def run(
    surface: Any,
    optimizer: Any,
    x0: Any,
    steps: int,
    *,
    x_prev: Any = None,
    schedule: Any = None,
    tol_grad: float | None = None,
    tol_loss: float | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    record: str = "all",
    divergence_bound: float | None = None,
) -> Trajectory:
    """Run ``optimizer`` on ``surface`` from ``x0`` for up to ``steps`` steps.

    Parameters
    ----------
    surface : Surface
        Anything with ``value_and_grad(X, check=False, batch=None)``, ``n``, ``variables``
        (and optionally ``name``, ``minima``, ``f_min``, ``n_samples``).
    optimizer : Optimizer
        From :func:`optiviz.make_optimizer`. Hyperparameters given as arrays of R values
        make R runs.
    x0 : array_like, shape (n,) or (R, n)
        Starting point(s). ``(n,)`` is broadcast to the R runs of a batched optimizer.
    steps : int
        Maximum number of steps T (>= 0).
    x_prev : array_like, optional
        The iterate before ``x0`` (same shape rules), passed to ``optimizer.init``.
    schedule : Schedule, str or callable ``(t, base_lr) -> lr``, optional
    tol_grad, tol_loss : float, optional
        Stopping tolerances (see the module docstring).
    batch_size, seed : int, optional
        Mini-batch size on a data surface and the seed of the shuffling.
    record : {"all", "path", "final"}
        "all" keeps every iterate, loss, gradient norm and effective learning rate;
        "path" the same without the effective learning rates (half the memory of a large
        sweep); "final" only final states and summaries.
    divergence_bound : float, optional
        Bound on ``|loss|`` beyond which a run is "diverged" (default
        ``1e12 * max(1, |f(x0)|)``).

    Returns
    -------
    Trajectory
    """
    _check_surface(surface)
    _check_optimizer(optimizer)
    T = _int("steps", steps, 0)
    if record not in RECORD_MODES:
        raise OptimizerError(f"'record' must be one of 'all', 'path', 'final'; got {record!r}")
    tol_grad = _nonneg("tol_grad", tol_grad)
    tol_loss = _nonneg("tol_loss", tol_loss)
    bound = _nonneg("divergence_bound", divergence_bound, positive=True, allow_inf=True)
    sched, sched_label = _schedule(schedule)
    X0 = _points("x0", x0, surface)
    XP = None if x_prev is None else _points("x_prev", x_prev, surface)
    n_runs = getattr(optimizer, "n_runs", None)

    batches = None
    if batch_size is not None:
        n_samples = getattr(surface, "n_samples", None)
        if n_samples is None:
            raise SurfaceError(
                f"batch_size={batch_size!r} needs a data surface with samples; surface "
                f"{getattr(surface, 'name', 'custom')!r} has none (leave batch_size unset)"
            )
        bs = _int("batch_size", batch_size, 1, int(n_samples))
        if seed is not None:
            seed = _int("seed", seed, 0)
        batches = _Batches(int(n_samples), bs, seed)

    single = X0.ndim == 1 and n_runs is None and (XP is None or XP.ndim == 1)
    if single:
        R = None
    else:
        R = n_runs if n_runs is not None else X0.shape[0] if X0.ndim == 2 else (XP.shape[0])
        for name, arr in (("x0", X0), ("x_prev", XP)):
            if arr is not None and arr.ndim == 2 and arr.shape[0] != R:
                raise OptimizerError(
                    f"{name} has {arr.shape[0]} starting points but the optimizer "
                    f"{'has hyperparameters for' if n_runs is not None else 'runs'} {R} "
                    f"runs; give one point (n,) to share or an ({R}, {surface.n}) array"
                )
        X0 = np.ascontiguousarray(np.broadcast_to(X0, (R, surface.n)), dtype=float)
        if XP is not None:
            XP = np.ascontiguousarray(np.broadcast_to(XP, (R, surface.n)), dtype=float)

    minima = getattr(surface, "minima", None) or []
    f_min = getattr(surface, "f_min", None)
    if f_min is None and minima:
        f_min = min(float(m.value) for m in minima)
    min_pts = (
        np.array([np.asarray(m.point, dtype=float) for m in minima])
        if minima
        else np.zeros((0, surface.n))
    )

    t0 = time.perf_counter()
    loop = _loop_single if single else _loop_batched
    try:
        with np.errstate(all="ignore"):
            res = loop(
                surface,
                optimizer,
                X0,
                XP,
                T,
                sched,
                tol_grad,
                tol_loss,
                f_min,
                bound,
                batches,
                record != "final",
                record == "all",
            )
    except KeyError as exc:
        if exc.args == ("eff_lr",):
            raise OptimizerError(
                f"{getattr(optimizer, 'name', type(optimizer).__name__)}.step() must return "
                "a state with 'eff_lr' (the effective learning rate of the step)"
            ) from None
        raise
    wall = time.perf_counter() - t0

    hyper = dict(getattr(optimizer, "hyper", {}) or {})
    label = optimizer.label() if hasattr(optimizer, "label") else type(optimizer).__name__
    return Trajectory(
        **res,
        variables=tuple(surface.variables),
        optimizer=getattr(optimizer, "name", "") or type(optimizer).__name__,
        optimizer_label=label,
        hyperparameters=hyper,
        run_labels=None if single else _run_labels(optimizer, R),
        surface=getattr(surface, "name", "custom"),
        minima=min_pts,
        f_min=None if f_min is None else float(f_min),
        schedule=sched_label,
        batched=not single,
        record=record,
        steps=T,
        wall_time=wall,
        settings={
            "tol_grad": tol_grad,
            "tol_loss": tol_loss,
            "batch_size": batch_size,
            "seed": seed,
            "divergence_bound": divergence_bound,
        },
    )


# -- single run: x has shape (n,), scalars are Python / numpy floats ----------------------
_CHUNK = 64


def _flush(P, L, G, E, t0, xs, fs, gs, es, n):
    """Copy rows t0+1 .. t0+len(xs) collected in lists into the preallocated arrays."""
    k = len(xs)
    if not k:
        return
    P[t0 + 1 : t0 + 1 + k] = np.concatenate(xs).reshape(k, n)
    L[t0 + 1 : t0 + 1 + k] = fs
    G[t0 + 1 : t0 + 1 + k] = gs
    try:
        e = np.concatenate(es)
        ok = e.size == k * n
    except (ValueError, TypeError):  # scalars (e.g. GD's lr) or mixed shapes
        ok = False
    if ok:
        E[t0 : t0 + k] = e.reshape(k, n)
    else:
        for i, row in enumerate(es):
            E[t0 + i] = row


def _sq_norm1(g: np.ndarray, two: bool) -> float:
    """||g||^2 of one (n,) gradient, summed in the batched form's order (bit-identical)."""
    if two:
        a, b = g.tolist()
        return a * a + b * b
    total = 0.0
    for v in g.tolist():  # sequential, the order of the batched reduction over coordinates
        total += v * v
    return total


def _loop_single(
    surface,
    optimizer,
    x,
    x_prev,
    T,
    sched,
    tol_grad,
    tol_loss,
    f_min,
    bound,
    batches,
    keep,
    keep_eff,
):
    """One run. Engine evaluations are counted arithmetically (k + 1 for k steps), the
    optimizer's own through the oracle, so the hot loop carries no counters. Gradient
    norms are handled squared (one sqrt over the records at the end)."""
    n = x.shape[0]
    two = n == 2
    oracle = Oracle(surface)
    if hasattr(surface, "point_value_and_grad"):
        vg = surface.point_value_and_grad()
    else:  # any object with the Surface evaluation methods

        def vg(x):
            return surface.value_and_grad(x, check=False)

    step = optimizer.step
    base = lr = optimizer.lr
    stoch = batches is not None
    loss_target = None if (tol_loss is None or f_min is None) else f_min + tol_loss
    loss_delta = tol_loss if (tol_loss is not None and f_min is None) else None
    tg2 = -1.0 if tol_grad is None else tol_grad * tol_grad
    conv_checks = tol_grad is not None or tol_loss is not None
    inf = _INF

    state = optimizer.init(x, oracle, x_prev)
    f, g = vg(x)
    g2 = _sq_norm1(g, two)
    if bound is None:
        bound = default_divergence_bound(f)
    if keep:
        P = np.empty((T + 1, n))
        L = np.empty(T + 1)
        G = np.empty(T + 1)
        E = np.empty((T, n))
        P[0] = x
        L[0] = f
        G[0] = g2
    best = float(f) if f == f else inf

    code, t = _MAX, 0
    if not (abs(f) <= bound and g2 < inf):
        code = _DIV
    elif g2 <= tg2 or (loss_target is not None and f <= loss_target):
        code = _CONV
    elif keep and not stoch:
        # The hot loop (record="all", deterministic). Rows are appended to lists and
        # flushed into the preallocated arrays every _CHUNK steps: appending is much
        # cheaper than a row assignment, and small chunks keep the lists cache-resident.
        f_prev = f
        while t < T and code == _MAX:
            t0 = t
            xs, fs, gs, es = [], [], [], []
            xa, fa, ga, ea = xs.append, fs.append, gs.append, es.append
            for t in range(t0 + 1, min(T, t0 + _CHUNK) + 1):
                if sched is not None:
                    lr = sched(t, base)
                xn, state = step(x, g, state, oracle, lr, t)
                if xn is x:  # never let a later in-place change alter a recorded row
                    xn = xn.copy()
                x = xn
                f, g = vg(x)
                if two:
                    a, b = g.tolist()
                    g2 = a * a + b * b
                else:
                    g2 = _sq_norm1(g, False)
                xa(x)
                fa(f)
                ga(g2)
                ea(state["eff_lr"])
                if not (abs(f) <= bound and g2 < inf):
                    code = _DIV
                    break
                if conv_checks and (
                    g2 <= tg2
                    or (loss_target is not None and f <= loss_target)
                    or (loss_delta is not None and abs(f - f_prev) <= loss_delta)
                ):
                    code = _CONV
                    break
                f_prev = f
            _flush(P, L, G, E, t0, xs, fs, gs, es, n)
    else:
        f_prev = f
        for t in range(1, T + 1):
            if sched is not None:
                lr = sched(t, base)
            if stoch:
                oracle.batch = batches.next()
                g = oracle.value_and_grad(x)[1]
                x, state = step(x, g, state, oracle, lr, t)
                oracle.batch = None
            else:
                x, state = step(x, g, state, oracle, lr, t)
            f, g = vg(x)
            g2 = _sq_norm1(g, two)
            if keep:
                P[t] = x
                L[t] = f
                G[t] = g2
                E[t - 1] = state["eff_lr"]
            elif f < best:
                best = float(f)
            if not (abs(f) <= bound and g2 < inf):
                code = _DIV
                break
            if conv_checks and (
                g2 <= tg2
                or (loss_target is not None and f <= loss_target)
                or (loss_delta is not None and abs(f - f_prev) <= loss_delta)
            ):
                code = _CONV
                break
            f_prev = f

    k = t
    if keep:
        # (a single run's effective lr is cheap to record; "path" only drops it)
        P, L, G, E = P[: k + 1], L[: k + 1], G[: k + 1], (E[:k] if keep_eff else None)
        np.sqrt(G, out=G)
        best = float(np.fmin.reduce(L))
    else:
        P = L = G = E = None
        if not best < inf:
            best = float(f)
    engine_evals = 0 if stoch else k + 1
    return dict(
        points=P,
        losses=L,
        grad_norms=G,
        effective_lr=E,
        status=str(_STATUS[code]),
        diverged_at=k if code == _DIV else None,
        n_steps=k,
        n_f=oracle.n_f + engine_evals,
        n_grad=oracle.n_grad + engine_evals,
        n_hess=oracle.n_hess,
        steps_to_tolerance=k if code == _CONV else None,
        final_point=np.array(x, dtype=float),
        final_loss=float(f),
        final_grad_norm=math.sqrt(g2),
        best_loss=best,
    )


# -- R runs: x has shape (R, n) ------------------------------------------------------------
def _sq_norms(G: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """Squared norms over the last axis, summed coordinate by coordinate like the single
    run's ``_sq_norm1`` (bit-identical)."""
    return np.add.reduce((G * G).T, axis=0)


def _block_rows(R: int, n: int) -> int:
    """Steps per stopping check in a batched run (checks on ~1 MB blocks)."""
    return max(1, min(64, (1 << 20) // (8 * R * n)))


def _loop_batched(
    surface,
    optimizer,
    X,
    X_prev,
    T,
    sched,
    tol_grad,
    tol_loss,
    f_min,
    bound,
    batches,
    keep,
    keep_eff,
):
    """R runs. Stopping rules are evaluated on blocks of K steps (vectorized over the
    block), which finds exactly the same first stopping step of each run as a per-step
    test: a run detected as stopped at step s is rolled back to its row s (later rows are
    discarded and its x is frozen from then on). Engine evaluations are counted
    arithmetically; the optimizer's own oracle calls are taken from a per-step history."""
    R, n = X.shape
    # Column-major (R, n) arrays: each coordinate's R values are contiguous, so the
    # compiled formulas read whole columns and an (R, 1) hyperparameter broadcasts along
    # the contiguous axis (measured: Adam's step 14 us vs 17 us for R = 1000, n = 2).
    # Records are kept time-major as (T, n, R) so a step's row is one contiguous copy.
    X = np.asfortranarray(X)
    if X_prev is not None:
        X_prev = np.asfortranarray(X_prev)
    oracle = Oracle(surface)
    vg = surface.value_and_grad
    step = optimizer.step
    base = lr = optimizer.lr
    stoch = batches is not None
    loss_target = None if (tol_loss is None or f_min is None) else f_min + tol_loss
    loss_delta = tol_loss if (tol_loss is not None and f_min is None) else None
    tg2 = None if tol_grad is None else tol_grad * tol_grad
    ones = np.ones(n)
    K = _block_rows(R, n)

    state = optimizer.init(X, oracle, X_prev)
    F, G = vg(X, check=False)
    F = np.array(np.broadcast_to(F, (R,)), dtype=float)
    if bound is None:
        bound = default_divergence_bound(F)

    # outputs
    active = np.ones(R, dtype=bool)
    code = np.zeros(R, dtype=np.int8)
    stop_at = np.full(R, -1, dtype=np.int64)
    x_fin = np.empty((R, n))
    f_fin = np.empty(R)
    g2_fin = np.empty(R)
    best = np.full(R, np.nan)
    # oracle counts after each step (lists: appending is the cheapest per-step record)
    hf, hg, hh = [oracle.n_f], [oracle.n_grad], [oracle.n_hess]
    hfa, hga, hha = hf.append, hg.append, hh.append

    # per-step rows: the full records (keep) or a ring of K rows (record="final")
    if keep:
        P = np.empty((T + 1, n, R))
        L = np.empty((T + 1, R))
        GN = np.empty((T + 1, R))
        E = np.empty((T, n, R)) if keep_eff else None
    else:
        Xr = np.empty((K, n, R))
        Fr = np.empty((K, R))
    SQ = np.empty((K, n, R))  # squared gradient components of the current block
    G2r = None if keep else np.empty((K, R))
    frozen_col = np.zeros((R, 1), dtype=bool)
    n_frozen = 0

    def check_block(t0, m, f_before):
        """Test steps t0 .. t0+m-1 (rows 0..m-1 of the block); stop runs that fail."""
        nonlocal n_frozen, X
        Xb = P[t0 : t0 + m] if keep else Xr[:m]
        Fb = L[t0 : t0 + m] if keep else Fr[:m]
        g2 = GN[t0 : t0 + m] if keep else G2r[:m]
        np.add.reduce(SQ[:m], axis=1, out=g2)
        ok = np.abs(Fb) <= bound
        ok &= g2 < _INF  # a squared norm that overflows counts as divergence
        stop = ~ok
        if tg2 is not None:
            stop |= g2 <= tg2
        if loss_target is not None:
            stop |= Fb <= loss_target
        if loss_delta is not None:
            prev = (
                np.concatenate([f_before[None], Fb[:-1]])
                if f_before is not None
                else (np.concatenate([np.full((1, R), np.nan), Fb[:-1]]))
            )
            stop |= np.abs(Fb - prev) <= loss_delta
        stop &= active
        if not keep:  # rows that count for best_loss: active runs, up to their stop
            valid = np.repeat(active[None, :], m, axis=0)
        if stop.any():
            hit = np.flatnonzero(stop.any(axis=0))
            j = stop[:, hit].argmax(axis=0)
            s = t0 + j
            stop_at[hit] = s
            code[hit] = np.where(ok[j, hit], _CONV, _DIV)
            x_fin[hit] = Xb[j, :, hit]  # (len(hit), n)
            f_fin[hit] = Fb[j, hit]
            g2_fin[hit] = g2[j, hit]
            active[hit] = False
            frozen_col[hit] = True
            n_frozen += len(hit)
            X = X.copy(order="F")  # the optimizer's array may be referenced by its state
            X[hit] = x_fin[hit]  # roll back to the stopping step and freeze there
            if not keep:
                valid[:, hit] = np.arange(m)[:, None] <= j[None, :]
        if not keep:
            np.fmin(best, np.fmin.reduce(np.where(valid, Fb, np.nan), axis=0), out=best)

    # step 0
    if keep:
        P[0] = X.T
        L[0] = F
    else:
        Xr[0] = X.T
        Fr[0] = F
    np.multiply(G.T, G.T, out=SQ[0])
    check_block(0, 1, None)
    f_last = F
    t_last = 0
    t0 = 1
    t = 0
    while t < T and active.any():
        m = min(K, T - t)
        for j in range(m):
            t += 1
            if sched is not None:
                lr = sched(t, base)
            if stoch:
                oracle.batch = batches.next()
                Gs = oracle.value_and_grad(X)[1]
                Xn, state = step(X, Gs, state, oracle, lr, t)
                oracle.batch = None
            else:
                Xn, state = step(X, G, state, oracle, lr, t)
            if n_frozen:
                Xn = np.asfortranarray(np.where(frozen_col, X, Xn))
            X = Xn
            F, G = vg(X, check=False)
            if keep:
                P[t] = X.T
                L[t] = F
                if keep_eff:
                    E[t - 1] = np.transpose(state["eff_lr"])
            else:
                Xr[j] = X.T
                Fr[j] = F
            Gt = G.T
            np.multiply(Gt, Gt, out=SQ[j])
            hfa(oracle.n_f)
            hga(oracle.n_grad)
            hha(oracle.n_hess)
        check_block(t0, m, f_last)
        f_last = (L[t] if keep else Fr[m - 1]).copy()
        t_last = t
        t0 = t + 1

    # runs that never stopped end at t_last
    rest = np.flatnonzero(active)
    if rest.size:
        stop_at[rest] = t_last
        if keep:
            x_fin[rest] = P[t_last][:, rest].T
            f_fin[rest] = L[t_last, rest]
            g2_fin[rest] = GN[t_last, rest]
        else:
            x_fin[rest] = X[rest]
            f_fin[rest] = np.broadcast_to(F, (R,))[rest]
            g2_fin[rest] = _sq_norms(G[rest], ones)
    evals = 0 if stoch else stop_at + 1  # the engine's own evaluations
    hist = np.array([hf, hg, hh], dtype=np.int64)
    counts = hist[:, stop_at] + np.array([1, 1, 0])[:, None] * evals

    if keep:
        # Arrays are time-major while recording (contiguous row writes); the trajectory
        # gets run-major transposed views (no copy). Rows after a run's end become nan.
        k = int(stop_at.max())
        P, L, GN = P[: k + 1], L[: k + 1], GN[: k + 1]
        E = E[:k] if keep_eff else None
        for i in np.flatnonzero(stop_at < k):
            j = int(stop_at[i])
            P[j + 1 :, :, i] = np.nan
            L[j + 1 :, i] = np.nan
            GN[j + 1 :, i] = np.nan
            if keep_eff:
                E[j:, :, i] = np.nan
        np.sqrt(GN, out=GN)
        P = P.transpose(2, 0, 1)
        L = L.T
        GN = GN.T
        E = E.transpose(2, 0, 1) if keep_eff else None
        best = np.fmin.reduce(L, axis=1)
    else:
        P = L = GN = E = None
    return dict(
        points=P,
        losses=L,
        grad_norms=GN,
        effective_lr=E,
        status=_STATUS[code],
        diverged_at=np.where(code == _DIV, stop_at, -1),
        n_steps=stop_at,
        n_f=counts[0],
        n_grad=counts[1],
        n_hess=counts[2],
        steps_to_tolerance=np.where(code == _CONV, stop_at, -1),
        final_point=x_fin,
        final_loss=f_fin,
        final_grad_norm=np.sqrt(g2_fin),
        best_loss=best,
    )
