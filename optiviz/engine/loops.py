"""The stepping loops: one run (``x`` of shape ``(n,)``) and R runs together (``(R, n)``).

Both return the fields of a :class:`~optiviz.trajectory.Trajectory` as a dict and apply
the rules of :mod:`optiviz.engine.stopping`. With ``keep`` they record every iterate, loss
and gradient norm; with ``keep_eff`` also, per step, the optimizer's own factor
``state["eff_lr"]`` (``lr_factor``) and the gradient handed to the optimizer, from which
the step per unit gradient (``effective_lr``, :mod:`optiviz.engine.effective`) is
computed vectorized over the recorded rows, never per step.

Progress and interrupts: with ``progress`` a loop calls ``progress(0, T)`` first,
``progress(done, T)`` after a block of steps when :data:`TICK_SECONDS` have passed since the
last call (never per step), and ``progress(done, T)`` once at the end (``done = T`` unless
interrupted: a run that stopped early needs no more steps). A ``KeyboardInterrupt`` raised
while the loop steps (by Ctrl-C, the progress callback, the optimizer or the surface) ends
it: the loop returns the steps completed so far, and every run still going gets the status
``"interrupted"``. A step is completed once its iterate is evaluated and recorded: an
interrupt during step ``t`` keeps steps ``1 .. t - 1``, tested by the stopping rules (R runs
keep only their last tested block if the interrupt comes while a block's rates are being
computed). The loops keep that state consistent by committing each step (and each tested
block) with plain assignments, which an interrupt cannot split (CPython raises a
KeyboardInterrupt only at calls and loop jumps). The one inexact count: a single run with
``keep`` and no mini-batches (the hot loop, which keeps no per-step counters) includes in
``n_f`` / ``n_grad`` / ``n_hess`` the optimizer's own evaluations within the step cut short
(its per-step counts, ``step_evals``, do not).

Per-step evaluation counts (``step_evals``, with ``keep``): row t holds the f, gradient and
Hessian evaluations of step t (the optimizer's oracle calls and the engine's evaluation of
x_t; row 0: ``init``'s calls and the engine's evaluation of x0), so that their cumulative
sum up to row t is the cost of reaching x_t and the sum of every row the totals. A single
run's oracle notes the step of each call (:class:`_StepOracle`: one attribute store per
step in the loop, nothing for optimizers that make no calls); a batched run takes them
from its per-step history of the oracle's counts (shared by its runs: every call serves
them all).
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from optiviz.engine.effective import step_per_unit_gradient
from optiviz.engine.stopping import (
    CONVERGED,
    DIVERGED,
    INTERRUPTED,
    RUNNING,
    STATUS,
    StoppingRules,
    default_divergence_bound,
    first_stops,
)
from optiviz.optimizers.base import Oracle

__all__ = ["loop_single", "loop_batched"]

_INF = math.inf
_NAN = math.nan

#: Seconds between two progress reports of a loop (at most one per block of steps).
TICK_SECONDS = 0.1

Progress = Callable[[int, int], Any]  # progress(steps done, steps total)


def _ticker(progress: Progress | None, total: int) -> Callable[[int], None] | None:
    """Report ``(0, total)`` now; return ``tick(done)``, which reports ``(done, total)``
    when :data:`TICK_SECONDS` have passed since the last report (None without progress)."""
    if progress is None:
        return None
    progress(0, total)
    due = time.perf_counter() + TICK_SECONDS

    def tick(done: int) -> None:
        nonlocal due
        now = time.perf_counter()
        if now >= due:
            due = now + TICK_SECONDS
            progress(done, total)

    return tick


# -- single run: x has shape (n,), scalars are Python / numpy floats ----------------------
_CHUNK = 64


def _flush(P, L, G, GR, E, t0, xs, fs, gs, grs, es, n):
    """Copy rows t0+1 .. t0+len(xs) collected in lists into the preallocated arrays."""
    k = len(xs)
    if not k:
        return
    P[t0 + 1 : t0 + 1 + k] = np.concatenate(xs).reshape(k, n)
    L[t0 + 1 : t0 + 1 + k] = fs
    G[t0 + 1 : t0 + 1 + k] = gs
    GR[t0 + 1 : t0 + 1 + k] = np.concatenate(grs).reshape(k, n)
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
    if g.shape[0] > 32:  # cumsum adds sequentially too (the same sum, without a Python loop)
        return float(np.cumsum(g * g)[-1])
    total = 0.0
    for v in g.tolist():  # sequential, the order of the batched reduction over coordinates
        total += v * v
    return total


class _StepOracle(Oracle):
    """The single loop's oracle with ``keep``: besides the counts, the step ``t`` of each
    call (``t`` is set by the loop before each step; 0 during ``init``), packed as
    ``4 t + kind`` (0 f, 1 gradient, 2 Hessian, 3 value and gradient) in a compact array."""

    def __init__(self, surface: Any):
        super().__init__(surface)
        self.t = 0
        self.calls = array("q")

    def value(self, x):
        self.calls.append(4 * self.t)
        return super().value(x)

    def grad(self, x):
        self.calls.append(4 * self.t + 1)
        return super().grad(x)

    def hess(self, x):
        self.calls.append(4 * self.t + 2)
        return super().hess(x)

    def value_and_grad(self, x):
        self.calls.append(4 * self.t + 3)
        return super().value_and_grad(x)

    def per_step(self, k: int, engine: bool) -> np.ndarray:
        """``(k + 1, 3)`` int32: the f / gradient / Hessian evaluations of steps 0 .. k
        (calls noted at a step after k, one cut short, are left out); ``engine``: add the
        engine's own evaluation of each iterate (1 f and 1 gradient per row)."""
        c = np.frombuffer(self.calls, dtype=np.int64) if len(self.calls) else np.zeros(0, int)
        t, kind = c >> 2, c & 3
        keep = t <= k
        t, kind = t[keep], kind[keep]
        out = np.empty((k + 1, 3), dtype=np.int32)
        out[:, 0] = np.bincount(t[(kind == 0) | (kind == 3)], minlength=k + 1)
        out[:, 1] = np.bincount(t[(kind == 1) | (kind == 3)], minlength=k + 1)
        out[:, 2] = np.bincount(t[kind == 2], minlength=k + 1)
        if engine:
            out[:, :2] += 1
        return out


def loop_single(
    surface: Any,
    optimizer: Any,
    x: np.ndarray,
    x_prev: np.ndarray | None,
    T: int,
    sched: Any,
    tol_grad: float | None,
    tol_loss: float | None,
    f_min: float | None,
    bound: float | None,
    batches: Any,
    keep: bool,
    keep_eff: bool,
    progress: Progress | None = None,
) -> dict:
    """One run. Engine evaluations are counted arithmetically (k + 1 for k steps), the
    optimizer's own through the oracle, so the hot loop carries no counters. Gradient
    norms are handled squared (one sqrt over the records at the end)."""
    n = x.shape[0]
    two = n == 2
    oracle: Any = _StepOracle(surface) if keep else Oracle(surface)
    if hasattr(surface, "point_value_and_grad"):
        vg = surface.point_value_and_grad()
    else:  # any object with the Surface evaluation methods

        def vg(x):
            return surface.value_and_grad(x, check=False)

    step = optimizer.step
    base = lr = optimizer.lr
    stoch = batches is not None

    state = optimizer.init(x, oracle, x_prev)
    f, g = vg(x)
    g2 = _sq_norm1(g, two)
    rules = StoppingRules(
        default_divergence_bound(f) if bound is None else bound, tol_grad, tol_loss, f_min
    )
    check = rules.scalar()
    if keep:
        P = np.empty((T + 1, n))
        L = np.empty(T + 1)
        G = np.empty(T + 1)
        GR = np.empty((T + 1, n))  # row t: the gradient handed to the optimizer at x_t
        E = np.empty((T, n))  # row t - 1: state["eff_lr"] of step t
        P[0] = x
        L[0] = f
        G[0] = g2
        GR[0] = g
    best = float(f) if f == f else _INF

    tick = _ticker(progress, T)
    t = k = 0  # t: the step being taken; k: the steps completed
    nf, ng, nh = oracle.n_f, oracle.n_grad, oracle.n_hess  # the oracle's counts after step k
    code = check(f, g2, _NAN)
    if code == RUNNING and keep and not stoch:
        # The hot loop (record="all", deterministic). Rows are appended to lists and
        # flushed into the preallocated arrays every _CHUNK steps: appending is much
        # cheaper than a row assignment, and small chunks keep the lists cache-resident.
        # A row is complete once its last list (es) has it: an interrupt keeps those rows.
        f_prev = f
        t0 = 0
        xs: list[np.ndarray] = []
        fs: list[float] = []
        gs: list[float] = []
        grs: list[np.ndarray] = []
        es: list[Any] = []
        try:
            while t < T and code == RUNNING:
                t0 = t
                xs, fs, gs, grs, es = [], [], [], [], []
                xa, fa, ga, gra, ea = xs.append, fs.append, gs.append, grs.append, es.append
                for t in range(t0 + 1, min(T, t0 + _CHUNK) + 1):
                    if sched is not None:
                        lr = sched(t, base)
                    oracle.t = t
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
                    gra(g)
                    ea(state["eff_lr"])
                    code = check(f, g2, f_prev)
                    if code:
                        break
                    f_prev = f
                _flush(P, L, G, GR, E, t0, xs, fs, gs, grs, es, n)
                if tick is not None:
                    tick(t)
            k = t
        except KeyboardInterrupt:
            m = len(es)
            k = t0 + m
            _flush(P, L, G, GR, E, t0, xs[:m], fs[:m], gs[:m], grs[:m], es[:m], n)
            x, f, g2 = P[k], float(L[k]), float(G[k])
            # row k may not have been tested yet (row 0 was, before the loop)
            code = check(f, g2, L[k - 1]) if k else RUNNING
            if code == RUNNING and k < T:
                code = INTERRUPTED
        # (per-step counts would cost the hot loop: a step cut short may add its own calls)
        nf, ng, nh = oracle.n_f, oracle.n_grad, oracle.n_hess
    elif code == RUNNING:
        # Each step is computed into new names and committed at its end by plain
        # assignments, so an interrupt leaves x, f, g2, k and the oracle's counts at the
        # last completed step.
        try:
            while k < T and code == RUNNING:
                for t in range(k + 1, min(T, k + _CHUNK) + 1):
                    if sched is not None:
                        lr = sched(t, base)
                    oracle.t = t
                    if stoch:
                        oracle.batch = next(batches)
                        g = oracle.value_and_grad(x)[1]
                    if keep:
                        GR[t - 1] = g
                    xn, state = step(x, g, state, oracle, lr, t)
                    oracle.batch = None
                    fn, gn = vg(xn)
                    g2n = _sq_norm1(gn, two)
                    cn = check(fn, g2n, f)
                    if keep:
                        P[t] = xn
                        L[t] = fn
                        G[t] = g2n
                        E[t - 1] = state["eff_lr"]
                    # commit (no call in these two lines: an interrupt cannot split them)
                    x, f, g, g2, k, code = xn, fn, gn, g2n, t, cn
                    nf, ng, nh = oracle.n_f, oracle.n_grad, oracle.n_hess
                    if not keep and f < best:
                        best = float(f)
                    if code:
                        break
                if tick is not None:
                    tick(k)
        except KeyboardInterrupt:
            if not keep and f < best:  # the last completed step may have missed it
                best = float(f)
            if code == RUNNING and k < T:
                code = INTERRUPTED

    points = losses = norms = eff = factor = evals = None
    if keep:
        # (a single run's records are cheap; "path" only drops the per-step rates)
        points, losses, norms = P[: k + 1], L[: k + 1], G[: k + 1]
        evals = oracle.per_step(k, not stoch)
        if keep_eff:
            eff = step_per_unit_gradient(points[:-1], points[1:], GR[:k])
            factor = E[:k]
        np.sqrt(norms, out=norms)
        best = float(np.fmin.reduce(losses))
    elif not best < _INF:
        best = float(f)
    if progress is not None:
        progress(k if code == INTERRUPTED else T, T)
    engine_evals = 0 if stoch else k + 1
    return single_fields(
        (points, losses, norms, eff, factor),
        code,
        k,
        (nf + engine_evals, ng + engine_evals, nh),
        (np.array(x, dtype=float), float(f), math.sqrt(g2)),
        best,
        step_evals=evals,
    )


def single_fields(
    records: tuple, code: int, k: int, counts: tuple, final: tuple, best: float, **extra: Any
) -> dict:
    """The fields a one-run loop returns (``loop_single``'s, the compiled backend's):
    ``records`` (points, losses, gradient norms, effective learning rates, lr factors:
    arrays or None), the status ``code`` and the stop step ``k``, the evaluation
    ``counts`` (f, gradient, Hessian), ``final`` (point, loss, gradient norm) and the
    best loss."""
    points, losses, norms, eff, factor = records
    n_f, n_grad, n_hess = counts
    x, f, gn = final
    return dict(
        points=points,
        losses=losses,
        grad_norms=norms,
        effective_lr=eff,
        lr_factor=factor,
        status=str(STATUS[code]),
        diverged_at=k if code == DIVERGED else None,
        n_steps=k,
        n_f=n_f,
        n_grad=n_grad,
        n_hess=n_hess,
        steps_to_tolerance=k if code == CONVERGED else None,
        final_point=x,
        final_loss=f,
        final_grad_norm=gn,
        best_loss=best,
        **extra,
    )


# -- R runs: x has shape (R, n) ------------------------------------------------------------
def _all_healthy(F: np.ndarray, G2: np.ndarray, bound_min: float) -> bool:
    """Whether every value of a block is healthy by three reductions: ``|f| <= bound_min``
    (the smallest bound) and ``g2 < inf`` everywhere (a nan fails both). True implies
    :meth:`StoppingRules.healthy` everywhere; False means: apply the rules."""
    return max(F.max(), -F.min()) <= bound_min and G2.max() < _INF


def _block_rows(R: int, n: int) -> int:
    """Steps per stopping check in a batched run (checks on ~1 MB blocks)."""
    return max(1, min(64, (1 << 20) // (8 * R * n)))


#: Bytes of the records written per block of a batched run with ``keep``: small enough
#: that a block's rows are still in a core's L2 cache when its test (and, with
#: ``keep_eff``, the turn of its gradients into rates) reads them again.
RECORD_BLOCK_BYTES = 1 << 20


def _record_block_rows(R: int, n: int, keep_eff: bool) -> int:
    """The most steps per block whose records fit :data:`RECORD_BLOCK_BYTES`: per step,
    the iterate, the squared gradient, the loss and the squared norm of R runs, with
    ``keep_eff`` also the gradient and the optimizer's factor."""
    per_step = 8 * R * (2 * n + 2 + (2 * n if keep_eff else 0))
    return max(1, RECORD_BLOCK_BYTES // per_step)


#: Runs x variables per chunk of a chunked lean run (see :func:`_loop_chunked`): about
#: 360 kB per ``(R, n)`` array, so a chunk's arrays stay in the caches for all its steps.
CHUNK_ELEMENTS = 45_000


def _chunks(R: int, n: int, size: int) -> list[tuple[int, int]]:
    """``[(lo, hi), ...]``: R runs cut into chunks of about ``size // n`` runs, every
    boundary a multiple of 64 (one chunk when R is too small to cut)."""
    per = max(64, (size // max(n, 1)) // 64 * 64)
    if R < 2 * per:
        return [(0, R)]
    k = -(-R // per)  # chunks
    per = (-(-R // k) + 63) // 64 * 64
    return [(a, min(R, a + per)) for a in range(0, R, per)]


def _loop_chunked(surface, optimizer, X, X_prev, T, sched, rest, progress, loss_steps):
    """The lean loop (see :func:`loop_batched`) run chunk by chunk: each chunk of runs is
    stepped through all T steps before the next one starts (a 300 x 300 grid of starts:
    four chunks of 22,500 runs whose arrays stay in the caches, measured 1.5 x faster than
    one pass over all 90,000 runs per step).

    Exact: the runs of a batch are independent (elementwise arithmetic, the per-run
    stopping rule), so each run's fields are bit for bit those of the unchunked loop.
    Only used when nothing is shared between runs: no per-run hyperparameters and no
    oracle calls by the optimizer (the counts are per batch). A chunk whose optimizer did
    call the oracle makes the whole batch run unchunked again. None when it does not
    apply (one chunk): the caller then runs unchunked. An interrupt ends the chunk it
    comes in as usual; the chunks before it have run, those after it end at their start
    (``"interrupted"``): the runs of a chunked batch may then stop at different steps."""
    R, n = X.shape
    parts = _chunks(R, n, CHUNK_ELEMENTS)
    if len(parts) < 2:
        return None

    def chunk(lo, hi, steps, tick=None):
        return loop_batched(
            surface,
            optimizer,
            X[lo:hi],
            None if X_prev is None else X_prev[lo:hi],
            steps,
            sched,
            *rest,
            progress=tick,
            loss_steps=loss_steps,
            chunked=False,
            block_rows=1,  # the lean loop, as for the whole batch
        )

    outs = []
    for c, (lo, hi) in enumerate(parts):
        tick = None
        if progress is not None:

            def tick(done, total, c=c):
                # a chunk's first and last reports are its neighbours' (made outside
                # its loop, where an interrupt would not be caught): only the batch's own
                if (0 < done < total) or (c == 0 and not done) or (done and c == len(parts) - 1):
                    progress((c * T + done) // len(parts), T)

        out = chunk(lo, hi, T, tick)
        evals = out["n_steps"] + 1
        if (
            not np.array_equal(out["n_f"], evals)
            or not np.array_equal(out["n_grad"], evals)
            or np.any(out["n_hess"])
        ):
            return None  # the optimizer called the oracle: run the batch as one
        outs.append(out)
        if np.any(out["status"] == STATUS[INTERRUPTED]):
            # the later chunks end at their start, interrupted (the earlier ones ran)
            for lo2, hi2 in parts[c + 1 :]:
                o = chunk(lo2, hi2, 0)
                if T:
                    o["status"] = np.where(
                        o["status"] == STATUS[RUNNING], STATUS[INTERRUPTED], o["status"]
                    )
                outs.append(o)
            break
    merged: dict = {}
    for key, v in outs[0].items():
        if v is None:
            merged[key] = None
        else:
            merged[key] = np.concatenate([o[key] for o in outs], axis=0)
    return merged


def loop_batched(
    surface: Any,
    optimizer: Any,
    X: np.ndarray,
    X_prev: np.ndarray | None,
    T: int,
    sched: Any,
    tol_grad: float | None,
    tol_loss: float | None,
    f_min: float | None,
    bound: float | None,
    batches: Any,
    keep: bool,
    keep_eff: bool,
    progress: Progress | None = None,
    loss_steps: tuple[int, ...] = (),
    chunked: bool = True,
    block_rows: int | None = None,
) -> dict:
    """R runs. Stopping rules are evaluated on blocks of K steps (vectorized over the
    block), which finds exactly the same first stopping step of each run as a per-step
    test: a run detected as stopped at step s is rolled back to its row s (later rows are
    discarded and its x is frozen from then on). Engine evaluations are counted
    arithmetically; the optimizer's own oracle calls are taken from a per-step history.

    ``loss_steps``: steps (0 .. T, increasing) whose losses are also kept, whatever the
    record, as ``losses_at`` of shape ``(R, len(loss_steps))`` (nan after a run's stop)."""
    R, n = X.shape
    if (
        chunked
        and not keep
        and batches is None
        and tol_grad is None
        and tol_loss is None
        and _block_rows(R, n) == 1
        and getattr(optimizer, "n_runs", 0) is None
        and (bound is None or np.ndim(bound) == 0)
    ):
        args = (tol_grad, tol_loss, f_min, bound, batches, keep, keep_eff)
        out = _loop_chunked(surface, optimizer, X, X_prev, T, sched, args, progress, loss_steps)
        if out is not None:
            return out
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
    if block_rows is not None:
        K = block_rows
    else:
        K = _block_rows(R, n)
        if keep:
            K = min(K, _record_block_rows(R, n, keep_eff))

    state = optimizer.init(X, oracle, X_prev)
    F, G = vg(X, check=False)
    F = np.array(np.broadcast_to(F, (R,)), dtype=float)
    rules = StoppingRules(
        default_divergence_bound(F) if bound is None else bound, tol_grad, tol_loss, f_min
    )
    # without tolerances (and before any run stopped) a block is first screened
    screen = not rules.has_tolerance
    bound_min = float(np.min(rules.bound))

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
        if keep_eff:
            # GR row t: the gradient handed to the optimizer at x_t, turned into the step
            # per unit gradient of step t + 1 block by block (in place); E: the factors
            GR = np.empty((T + 1, n, R))
            E = np.empty((T, n, R))
    else:
        Xr = np.empty((K, n, R))
        Fr = np.empty((K, R))
    # the gradients of a deterministic run are in GR: their squares are taken per block
    grad_rows = keep and keep_eff and not stoch
    SQ = np.empty((K, n, R))  # squared gradient components of the current block
    ZB = np.empty((K, n, R), dtype=bool) if keep_eff else None  # scratch: g == 0
    G2r = None if keep else np.empty((K, R))
    frozen_col = np.zeros((R, 1), dtype=bool)
    n_frozen = 0
    row_of = {s: i for i, s in enumerate(loss_steps)}  # kept losses: step -> row of LA
    LA = np.full((len(loss_steps), R), np.nan) if loss_steps else None
    if LA is not None and 0 in row_of:
        LA[row_of[0]] = F

    def check_block(t0, m, f_before, X_end, F_end):
        """Test steps t0 .. t0+m-1 (rows 0..m-1 of the block); stop runs that fail.

        ``X_end``, ``F_end``: the points and losses at the block's last step. The outcome
        is computed first and committed at the end by plain assignments (no calls), so an
        interrupt leaves the state of the previous block or of this one, never a mix;
        ``t_last`` is then the last tested step and ``last`` its ``(X, F, g2)``. Only the
        in-place turn of gradient rows into rates cannot be done twice: ``dirty`` tells
        an interrupt handler that it has begun and the block cannot be tested again.
        """
        nonlocal n_frozen, X, best, t_last, last, dirty
        Xb = P[t0 : t0 + m] if keep else Xr[:m]
        Fb = L[t0 : t0 + m] if keep else Fr[:m]
        g2 = GN[t0 : t0 + m] if keep else G2r[:m]
        if grad_rows:
            np.multiply(GR[t0 : t0 + m], GR[t0 : t0 + m], out=SQ[:m])
        np.add.reduce(SQ[:m], axis=1, out=g2)
        if keep_eff and t0:  # steps t0 .. t0+m-1 start from the rows t0-1 .. t0+m-2
            lo, hi = t0 - 1, t0 + m - 1
            scratch = (SQ[:m], ZB[:m])  # the squares are summed: SQ is free
            dirty = True
            step_per_unit_gradient(P[lo:hi], P[lo + 1 : hi + 1], GR[lo:hi], GR[lo:hi], scratch)
        if screen and not n_frozen and _all_healthy(Fb, g2, bound_min):
            stop = None  # divergence is the only rule and no run fails it
        else:
            stop, ok = rules.block(Fb, g2, f_before)
            stop &= active
        if not keep:  # rows that count for best_loss: active runs, up to their stop
            valid = np.repeat(active[None, :], m, axis=0)
        X_new = X_end
        hit = None
        if stop is not None and stop.any():
            hit, j, codes = first_stops(stop, ok)
            s = t0 + j
            xh, fh, gh = Xb[j, :, hit], Fb[j, hit], g2[j, hit]  # xh: (len(hit), n)
            nh = len(hit)
            X_new = X_end.copy(order="F")  # the optimizer's array may be referenced by its state
            X_new[hit] = xh  # roll back to the stopping step and freeze there
            if not keep:
                valid[:, hit] = np.arange(m)[:, None] <= j[None, :]
        if not keep:
            best_new = np.fmin(best, np.fmin.reduce(np.where(valid, Fb, np.nan), axis=0))
        g2_end = g2[m - 1].copy()  # (a row of the ring without keep)
        if keep:  # the recorded norms, while the block is in the caches (g2 is again
            np.sqrt(g2, out=g2)  # the sum of squares if the block is tested again)
        # commit
        if hit is not None:
            stop_at[hit] = s
            code[hit] = codes
            x_fin[hit] = xh
            f_fin[hit] = fh
            g2_fin[hit] = gh
            active[hit] = False
            frozen_col[hit] = True
            n_frozen += nh
        if not keep:
            best = best_new
        X, last, t_last, dirty = X_new, (X_new, F_end, g2_end), t0 + m - 1, False

    # step 0
    if keep:
        P[0] = X.T
        L[0] = F
    else:
        Xr[0] = X.T
        Fr[0] = F
    if grad_rows:
        GR[0] = G.T
    else:
        np.multiply(G.T, G.T, out=SQ[0])
    last: tuple[Any, Any, Any]  # (X, F, g2) at t_last; g2 None after a lean step
    t_last, last, dirty = 0, (X, F, F), False
    check_block(0, 1, _NAN, X, F)
    f_last = F
    t0 = 1
    t = 0
    tick = _ticker(progress, T)
    interrupted = False
    # The lean loop (record="final", deterministic, no tolerance: the only rule is
    # divergence; and so many runs that a block is one step, K = 1: e.g. a 300 x 300 grid
    # of starts): each step is first tested by four reductions that
    # prove every active run healthy (max |f| <= the smallest bound, max |g| <= 1e150 so
    # ||g||^2 is finite); only a step that fails them is tested run by run, as a block of
    # one step. Either way each run's first stopping step is the per-step rule's, and no
    # ring rows are copied on the steps that pass.
    lean = K == 1 and not keep and not stoch and not rules.has_tolerance
    last_g = None  # the gradient at t_last when last holds no squared norm (lean steps)
    pending = None  # a lean step evaluated but not yet tested: (X, F, G)
    try:
        while lean and t < T and n_frozen < R:
            t += 1
            if sched is not None:
                lr = sched(t, base)
            Xn, state = step(X, G, state, oracle, lr, t)
            if n_frozen:
                Xn = np.asfortranarray(np.where(frozen_col, X, Xn))
            Fn, Gn = vg(Xn, check=False)
            Fn = np.asarray(Fn, dtype=float)
            pending = (Xn, Fn, Gn)
            if LA is not None and t in row_of:  # kept losses (masked after a stop below)
                LA[row_of[t]] = Fn
            hfa(oracle.n_f)
            hga(oracle.n_grad)
            hha(oracle.n_hess)
            if n_frozen:
                Fq = np.where(active, Fn, 0.0)
                Gq = np.where(frozen_col, 0.0, Gn)
            else:
                Fq, Gq = Fn, Gn
            fmax, gmax = max(Fq.max(), -Fq.min()), max(Gq.max(), -Gq.min())
            if fmax <= bound_min and gmax <= 1e150:  # every active run healthy
                np.fmin(best, Fq if not n_frozen else np.where(active, Fn, np.nan), out=best)
                # commit (no call: an interrupt cannot split it)
                X, F, G, last, last_g, t_last, pending = Xn, Fn, Gn, (Xn, Fn, None), Gn, t, None
            else:  # test this step run by run
                Xr[0] = Xn.T
                Fr[0] = Fn
                np.multiply(Gn.T, Gn.T, out=SQ[0])
                X, F, G = Xn, Fn, Gn
                check_block(t, 1, f_last, Xn, Fn)
                pending = None
            if tick is not None:
                tick(t)
        while t < T and active.any():
            m = min(K, T - t)
            for j in range(m):
                t += 1
                if sched is not None:
                    lr = sched(t, base)
                if stoch:
                    oracle.batch = next(batches)
                    Gs = oracle.value_and_grad(X)[1]
                    if keep_eff:
                        GR[t - 1] = Gs.T
                    Xn, state = step(X, Gs, state, oracle, lr, t)
                    oracle.batch = None
                else:
                    Xn, state = step(X, G, state, oracle, lr, t)
                if n_frozen:
                    Xn = np.asfortranarray(np.where(frozen_col, X, Xn))
                X = Xn
                F, G = vg(X, check=False)
                Gt = G.T
                if keep:
                    P[t] = X.T
                    L[t] = F
                    if keep_eff:
                        e = state["eff_lr"]  # (e.T: no function call for an array)
                        E[t - 1] = e.T if type(e) is np.ndarray else np.transpose(e)
                else:
                    Xr[j] = X.T
                    Fr[j] = F
                if LA is not None and t in row_of:
                    LA[row_of[t]] = F
                if grad_rows:
                    GR[t] = Gt
                else:
                    np.multiply(Gt, Gt, out=SQ[j])
                hfa(oracle.n_f)
                hga(oracle.n_grad)
                hha(oracle.n_hess)
            check_block(t0, m, f_last, X, F)
            f_last = (L[t] if keep else Fr[m - 1]).copy()
            t0 = t + 1
            if tick is not None:
                tick(t)
    except KeyboardInterrupt:
        interrupted = True
        # The steps completed after t_last (hh is appended last in a step) are tested as
        # a block of their own, unless the interrupt came after their rates were begun.
        part = len(hh) - 1 - t_last
        if part > 0 and pending is not None and not dirty:  # the lean loop's last step
            Xp, Fp, Gp = pending
            Xr[0] = Xp.T
            Fr[0] = Fp
            np.multiply(Gp.T, Gp.T, out=SQ[0])
            check_block(t_last + 1, 1, f_last, Xp, Fp)
        elif part > 0 and not dirty:
            done = t_last + part
            X_end = P[done].T if keep else Xr[part - 1].T
            check_block(t_last + 1, part, f_last, X_end, L[done] if keep else Fr[part - 1])

    # runs that never stopped end at t_last
    rest = np.flatnonzero(active)
    if rest.size:
        stop_at[rest] = t_last
        if interrupted and t_last < T:
            code[rest] = INTERRUPTED
        if keep:
            x_fin[rest] = P[t_last][:, rest].T
            f_fin[rest] = L[t_last, rest]
            g2_fin[rest] = np.asarray(last[2])[rest]  # squared (GN holds the norms)
        else:
            X_last, F_last, g2_last = last
            if g2_last is None:  # a lean step: its squared norms, summed as a block's
                g2_last = np.add.reduce(np.square(np.asarray(last_g).T), axis=0)
            x_fin[rest] = X_last[rest]
            f_fin[rest] = np.broadcast_to(F_last, (R,))[rest]
            g2_fin[rest] = g2_last[rest]
    evals = 0 if stoch else stop_at + 1  # the engine's own evaluations
    hist = np.array([h[: t_last + 1] for h in (hf, hg, hh)], dtype=np.int64)
    counts = hist[:, stop_at] + np.array([1, 1, 0])[:, None] * evals

    points = losses = norms = eff = factor = per_step = None
    if keep:
        # Arrays are time-major while recording (contiguous row writes); the trajectory
        # gets run-major transposed views (no copy). Rows after a run's end become nan.
        k = int(stop_at.max())
        # per-step counts: the history's differences (shared by the runs: a read-only
        # broadcast view; rows after a run's stop are the batch's, not the run's)
        per = np.diff(hist[:, : k + 1], axis=1, prepend=0).T.astype(np.int32)
        if not stoch:
            per[:, :2] += 1
        per_step = np.broadcast_to(per, (R, k + 1, 3))
        P, L, GN = P[: k + 1], L[: k + 1], GN[: k + 1]
        rates = [GR[:k], E[:k]] if keep_eff else []
        for i in np.flatnonzero(stop_at < k):
            j = int(stop_at[i])
            P[j + 1 :, :, i] = np.nan
            L[j + 1 :, i] = np.nan
            GN[j + 1 :, i] = np.nan
            for a in rates:
                a[j:, :, i] = np.nan
        points, losses, norms = P.transpose(2, 0, 1), L.T, GN.T
        if keep_eff:
            eff, factor = (a.transpose(2, 0, 1) for a in rates)
        best = np.fmin.reduce(losses, axis=1)
    losses_at = None
    if LA is not None:  # rows after a run's stop (or never reached) become nan
        LA[np.asarray(loss_steps)[:, None] > stop_at[None, :]] = np.nan
        losses_at = LA.T
    if progress is not None:
        progress(t_last if interrupted and rest.size and t_last < T else T, T)
    return dict(
        points=points,
        losses=losses,
        grad_norms=norms,
        effective_lr=eff,
        lr_factor=factor,
        status=STATUS[code],
        diverged_at=np.where(code == DIVERGED, stop_at, -1),
        n_steps=stop_at,
        n_f=counts[0],
        n_grad=counts[1],
        n_hess=counts[2],
        steps_to_tolerance=np.where(code == CONVERGED, stop_at, -1),
        final_point=x_fin,
        final_loss=f_fin,
        final_grad_norm=np.sqrt(g2_fin),
        best_loss=best,
        losses_at=losses_at,
        step_evals=per_step,
    )
