"""The compiled backend: a surface, an optimizer and the engine's loop as one jitted program.

:func:`loop_jax` returns the same fields as :func:`optiviz.engine.loops.loop_batched`
(and, for one run, as ``loop_single``), computed by

- the surface's exact value and gradient (and Hessian, for second-order methods), printed
  by sympy's JAX printer with the numpy backend's product powers (``x**2`` as ``x*x``), so
  both backends evaluate the same IEEE operations;
- the optimizer's own ``step``, traced on a copy whose array namespace ``xp`` is
  ``jax.numpy`` (no second copy of any update rule);
- ``lax.scan`` over blocks of steps, each run frozen at its first stop by the rules of
  :mod:`optiviz.engine.stopping` (the same expressions, on jax arrays).

When the optimizer's initial state has its steady structure, every step is compiled;
otherwise (a buffer that is None before the first step, or a first step that evaluates
differently: ``Optimizer.first_step_differs``) the first steps run in numpy, exactly as
the numpy loops take them, until it has: from then on every step has the same structure
and is compiled once. Evaluation counts: the numpy
steps' are counted by the oracle; a compiled step makes the evaluations its trace makes.

Not compiled (a clear :class:`Unsupported` naming why; ``backend="auto"`` then uses numpy):
data surfaces and mini-batches, optimizers that search their step (line searches: a
data-dependent number of evaluations), steps that branch in Python on array values.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from optiviz.engine.effective import step_per_unit_gradient
from optiviz.engine.loops import single_fields
from optiviz.engine.stopping import (
    CONVERGED,
    DIVERGED,
    INTERRUPTED,
    RUNNING,
    STATUS,
    StoppingRules,
    default_divergence_bound,
)
from optiviz.errors import OptimizerError
from optiviz.optimizers.base import Oracle

__all__ = [
    "Unsupported",
    "loop_jax",
    "compile_surface",
    "supports",
    "load_jax",
    "fuses_multiply_add",
]

#: Steps per compiled block, at most (the loop reports progress, and stops once every run
#: has stopped, between blocks). A call of the compiled block costs ~0.05-0.2 ms beyond
#: its steps (measured: one Adam run of 20,000 steps took 13.7 ms in blocks of 512 and
#: 4.8 ms in one block), so blocks are long; :func:`_blocks` splits the steps evenly.
BLOCK = 4096
#: Record elements (runs x columns x steps) a block may return, past which blocks are no
#: longer than :data:`BLOCK`: one run keeping its path steps 20,000 steps in one block
#: (measured: 1.24 ms against 1.75 ms in seven blocks of 2,857), a wide batch in
#: blocks of BLOCK steps as before. Blocks never exceed :data:`BLOCK_MAX` steps.
BLOCK_RECORDS = 1 << 20
BLOCK_MAX = 1 << 16
#: Batches of at least this many runs step unfrozen while every run is going (one run's
#: step costs the same either way: the frozen loop needs no second compilation).
FAST_MIN_RUNS = 2
#: Steps run in numpy before compiling, at most (until the state's structure is steady).
MAX_EAGER = 8


class Unsupported(OptimizerError):
    """The run cannot be compiled (the message says why); numpy can run it."""


#: The XLA flag that keeps XLA's CPU code to the AVX instruction set: AVX has no fused
#: multiply-add, so ``a * b + c`` rounds twice, as numpy rounds it. With FMA (AVX2 and
#: later), XLA contracts a product and a sum into one rounding (measured: 23% of 10^5
#: random ``x * y + z`` differ from numpy's by an ulp), and a run that amplifies rounding
#: (centered RMSprop near its minimum, a chaotic large learning rate, a start on a basin
#: boundary) then ends elsewhere: the lockstep case of centered RMSprop on the quadratic
#: ended 2e-3 from numpy's after 200 steps. Without FMA the compiled runs equal numpy's
#: bit for bit in every case tests/test_backend_jax.py runs; the cost, measured in
#: ``make bench``: wide batches ~1.4x slower (10^4 x 10^4 final: 1.39 s against 1.01 s),
#: one run unchanged.
EXACT_FLAG = "--xla_cpu_max_isa=AVX"


def _exact_flags() -> None:
    """Add :data:`EXACT_FLAG` to ``XLA_FLAGS`` before JAX starts its CPU backend, on x86
    machines, unless ``XLA_FLAGS`` already chooses an instruction set (the user's choice
    stands). Once JAX's backend is running (another library used JAX first) the flag can
    no longer apply: :func:`fuses_multiply_add` tells."""
    import os
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return  # (an ARM CPU's NEON always has FMA: no flag turns it off)
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_max_isa" in flags:
        return
    try:
        from jax._src import xla_bridge

        if xla_bridge.backends_are_initialized():
            return
    except (ImportError, AttributeError):  # pragma: no cover - another JAX version
        pass
    os.environ["XLA_FLAGS"] = f"{flags} {EXACT_FLAG}".strip()


_LOADED: tuple[Any, Any] | None = None


def _jax():
    global _LOADED
    if _LOADED is None or not _LOADED[0].config.jax_enable_x64:  # (~10-30 us a call)
        _exact_flags()
        import jax

        jax.config.update("jax_enable_x64", True)
        _LOADED = (jax, jax.numpy)
    return _LOADED


def load_jax() -> tuple[Any, Any]:
    """``(jax, jax.numpy)`` as the compiled backend uses them: float64, and (on x86, when
    JAX has not started yet) no fused multiply-add (:data:`EXACT_FLAG`). A program that
    is to be compared with the backend's, bit for bit or for speed, takes JAX from here."""
    return _jax()


def fuses_multiply_add() -> bool:
    """True when JAX's compiled ``x * y + z`` rounds once (a fused multiply-add), so the
    compiled runs may differ from numpy's by rounding: ``x = y = 1 + 2^-30`` and
    ``z = -(1 + 2^-29)`` give ``x * y + z = 2^-60`` fused and 0 rounded twice."""
    jax, jnp = _jax()
    x = 1.0 + 2.0**-30
    out = jax.jit(lambda x, y, z: x * y + z)(x, x, -(1.0 + 2.0**-29))
    return float(out) != 0.0


# -- surfaces ------------------------------------------------------------------------------
_COMPILED: dict[int, tuple[Any, Callable, Callable | None]] = {}


def _printer():
    from sympy.printing.numpy import JaxPrinter

    from optiviz.surface import _PRINTER_SETTINGS, _ProductPowers

    class _JaxProductPowers(_ProductPowers, JaxPrinter):
        """The numpy backend's printer (product powers, positive-first sums) for jax."""

    return _JaxProductPowers(dict(_PRINTER_SETTINGS))


def compile_surface(surface: Any) -> tuple[Callable, Callable | None]:
    """``(vg, hess)``: jax functions of ``X`` (R, n) giving ``(F (R,), G (R, n))`` and the
    Hessians ``(R, n, n)`` (None until asked for: compiled on first use)."""
    from optiviz.structured import StructuredSurface
    from optiviz.surface import _POWERS, Surface, _swap_minmax

    if isinstance(surface, StructuredSurface):  # matrix form / one term over slices
        return surface.jax_functions(_jax()[1], _printer)
    if not isinstance(surface, Surface) or getattr(surface, "n_samples", None) is not None:
        raise Unsupported(
            f"backend 'jax' compiles expression and structured surfaces; "
            f"{getattr(surface, 'name', '?')!r} is neither (data surfaces run with backend "
            "'numpy')"
        )
    key = id(surface)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is surface:
        return hit[1], hit[2]
    import sympy as sp

    _, jnp = _jax()
    syms = list(surface.symbols)
    n = len(syms)
    memo: dict = {}
    expr = _swap_minmax(surface.expression, True, memo)
    grad = [_swap_minmax(g, True, memo) for g in surface.gradient]
    # the numpy backend's own common subexpressions (optiviz.surface._part_cse: sums shared
    # as a person writes them), so both backends evaluate the same operations
    compiled = surface._c
    shared = getattr(compiled, "_cse", True)
    grad = list(getattr(compiled, "_gradient", grad))
    fvg = sp.lambdify(syms, [expr, *grad], modules=[_POWERS, "jax"], cse=shared, printer=_printer())

    def vg(X):
        R = X.shape[0]
        out = fvg(*[X[:, i] for i in range(n)])
        F = jnp.broadcast_to(jnp.asarray(out[0], dtype=jnp.float64), (R,))
        G = jnp.stack(
            [jnp.broadcast_to(jnp.asarray(o, dtype=jnp.float64), (R,)) for o in out[1:]], 1
        )
        return F, G

    H = surface.hessian
    entries = [_swap_minmax(H[i, j], True, memo) for i in range(n) for j in range(n)]
    fh = sp.lambdify(syms, entries, modules=[_POWERS, "jax"], cse=True, printer=_printer())

    def hess(X):
        R = X.shape[0]
        out = fh(*[X[:, i] for i in range(n)])
        cols = [jnp.broadcast_to(jnp.asarray(o, dtype=jnp.float64), (R,)) for o in out]
        return jnp.stack(cols, 1).reshape(R, n, n)

    _COMPILED[key] = (surface, vg, hess)
    return vg, hess


class _TracedOracle:
    """The oracle a compiled step calls: jax evaluations, counted while tracing."""

    def __init__(self, vg: Callable, hess: Callable | None):
        self._vg, self._hess = vg, hess
        self.n_f = self.n_grad = self.n_hess = 0
        self.batch = None

    def value(self, x):
        self.n_f += 1
        return self._vg(x)[0]

    def grad(self, x):
        self.n_grad += 1
        return self._vg(x)[1]

    def value_and_grad(self, x):
        self.n_f += 1
        self.n_grad += 1
        return self._vg(x)

    def hess(self, x):
        self.n_hess += 1
        return self._hess(x)


def supports(surface: Any, optimizer: Any, batches: Any = None) -> str | None:
    """None when the run can be compiled, else the reason it cannot."""
    from optiviz.structured import StructuredSurface
    from optiviz.surface import Surface

    if batches is not None:
        return "mini-batches are drawn in Python per step (run them with backend 'numpy')"
    if not isinstance(surface, (Surface, StructuredSurface)):
        return (
            f"surface {getattr(surface, 'name', '?')!r} is not an expression or structured surface"
        )
    if getattr(optimizer, "searches_step", False):
        return (
            f"optimizer {optimizer.name!r} searches its step (a data-dependent number of "
            "evaluations per step); it runs with backend 'numpy'"
        )
    return None


# -- the loop ------------------------------------------------------------------------------
def _record_rows(eff: Any, R: int, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(eff, dtype=float), (R, n))


def loop_jax(
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
    progress: Any = None,
    loss_steps: tuple[int, ...] = (),
    single: bool = False,
) -> dict:
    """R runs (``X`` (R, n)) compiled with JAX: the fields of ``loop_batched`` (of
    ``loop_single`` with ``single``, ``X`` then (1, n))."""
    why = supports(surface, optimizer, batches)
    if why is not None:
        raise Unsupported(f"backend 'jax': {why}")
    jax, jnp = _jax()
    vg_j, hess_j = compile_surface(surface)
    R, n = X.shape
    oracle = Oracle(surface)
    base = lr = optimizer.lr
    state = optimizer.init(X, oracle, X_prev)
    stopped_early = False  # a Ctrl-C during a whole run: no step counts
    if T >= 1 and (keep or R == 1) and not optimizer.first_step_differs:
        try:
            whole = _whole_run(
                jax, jnp, surface, optimizer, vg_j, hess_j, X, X_prev, state, T, sched, base,
                tol_grad, tol_loss, f_min, bound, keep, keep_eff, tuple(loss_steps), single,
            )  # fmt: skip
        except KeyboardInterrupt:
            whole, stopped_early, T = None, True, 0
        if whole is not None:
            if progress is not None:
                progress(T, T)
            return whole
    F, G = surface.value_and_grad(X, check=False)
    F = np.array(np.broadcast_to(F, (R,)), dtype=float)
    G = np.array(G, dtype=float)
    bound_v = default_divergence_bound(F) if bound is None else bound
    rules = StoppingRules(bound_v, tol_grad, tol_loss, f_min)
    g2 = np.add.reduce(G * G, axis=1)

    code = np.where(
        ~rules.healthy(F, g2), DIVERGED, np.where(rules.met(F, g2, np.nan), CONVERGED, RUNNING)
    ).astype(np.int8)
    stop_at = np.zeros(R, dtype=np.int64)
    best = F.copy()
    counts = np.zeros((3, R), dtype=np.int64)  # the optimizer's own evaluations
    kept = list(loss_steps)
    row_of = {s: i for i, s in enumerate(kept)}
    LA = np.full((len(kept), R), np.nan) if kept else None
    if LA is not None and 0 in row_of:
        LA[row_of[0]] = F
    # with keep: blocks of record rows (steps, R, columns), the columns of a compiled
    # block's records: x (n), f, ||g||, and with keep_eff the gradient handed to the
    # step (n) and the optimizer's factor (n); row 0 is x_0 (no step: nan rates)
    rows: list[np.ndarray] = []
    if keep:
        first = [X, F[:, None], np.sqrt(g2)[:, None]]
        if keep_eff:
            first.append(np.full((R, 2 * n), np.nan))
        rows.append(np.concatenate(first, 1)[None])

    def eager_step(t, X, F, G, g2, state, code, stop_at, best):
        nonlocal lr
        if sched is not None:
            lr = sched(t, base)
        nf, ng, nh = oracle.n_f, oracle.n_grad, oracle.n_hess
        Xn, state = optimizer.step(X, G, state, oracle, lr, t)
        step_counts = np.array([oracle.n_f - nf, oracle.n_grad - ng, oracle.n_hess - nh])
        Fn, Gn = surface.value_and_grad(Xn, check=False)
        Fn = np.array(np.broadcast_to(Fn, (R,)), dtype=float)
        g2n = np.add.reduce(Gn * Gn, axis=1)
        active = code == RUNNING
        verdict = np.where(
            ~rules.healthy(Fn, g2n), DIVERGED, np.where(rules.met(Fn, g2n, F), CONVERGED, RUNNING)
        )
        counts[:, active] += step_counts[:, None]
        if keep:
            cols = [Xn, Fn[:, None], np.sqrt(g2n)[:, None]]
            if keep_eff:
                cols += [G, _record_rows(state["eff_lr"], R, n)]
            rows.append(np.concatenate(cols, 1)[None])
        a = active
        X = np.where(a[:, None], Xn, X)
        G = np.where(a[:, None], Gn, G)
        best = np.where(a, np.fmin(best, Fn), best)
        F = np.where(a, Fn, F)
        g2 = np.where(a, g2n, g2)
        stop_at = np.where(a, t, stop_at)
        code = np.where(a, verdict, code).astype(np.int8)
        if LA is not None and t in row_of:
            LA[row_of[t]] = np.where(a, Fn, np.nan)
        return X, F, G, g2, state, code, stop_at, best

    key = (id(surface), id(optimizer), R, n, T, keep, keep_eff, np.shape(bound_v), tol_grad,
           tol_loss, f_min, sched is None, bool(kept))  # fmt: skip
    hit = _BLOCKS.get(key)
    if hit is not None and not (hit[0] is surface and hit[1] is optimizer):
        hit = None
    jopt = copy.copy(optimizer)  # the step on jax arrays (traced only on a cache miss)
    jopt.xp = jnp
    reads: set = set()
    t = 0
    # numpy steps until the state's structure is steady (none when the initial state is:
    # a numpy step of one run costs ~0.07 ms, measured, a twentieth of a 20,000-step run)
    steady = hit is not None or (
        T > 0
        and not optimizer.first_step_differs
        and bool((code == RUNNING).any())
        and _steady(jax, jnp, jopt, vg_j, hess_j, X, G, state, lr, 1, reads)
    )
    eager_max = hit[2] if hit else 0 if steady else MAX_EAGER
    with np.errstate(all="ignore"):
        while t < T and (code == RUNNING).any() and t < eager_max:
            t += 1
            X, F, G, g2, state, code, stop_at, best = eager_step(
                t, X, F, G, g2, state, code, stop_at, best
            )
            if hit is None and _steady(jax, jnp, jopt, vg_j, hess_j, X, G, state, lr, t + 1, reads):
                break
    running = t < T and (code == RUNNING).any()
    if running and hit is None and t >= MAX_EAGER:
        if not _steady(jax, jnp, jopt, vg_j, hess_j, X, G, state, lr, t + 1, reads):
            raise Unsupported(
                f"backend 'jax': the state of {optimizer.name!r} changes shape from step to "
                "step; it runs with backend 'numpy'"
            )
    if running and hit is None:  # a few more numpy steps: the blocks then end at T exactly
        width = (n + 2 + 2 * n * keep_eff) if keep else int(LA is not None)
        L, extra = _blocks(T - t, _block_cap(R, width))
        with np.errstate(all="ignore"):
            for _ in range(extra):
                if not (code == RUNNING).any():
                    break
                t += 1
                X, F, G, g2, state, code, stop_at, best = eager_step(
                    t, X, F, G, g2, state, code, stop_at, best
                )
        running = t < T and (code == RUNNING).any()
    elif hit is not None:
        L = hit[6]
    t_eager = t

    interrupted = False
    if running:
        if hit is None:
            keys = tuple(sorted(reads))
            sample = (jnp.asarray(X), jnp.asarray(G), _entries(jnp, state, keys))
            body, fast, per_step = _compiled_block(
                jax, jnp, jopt, vg_j, hess_j, rules, keep, keep_eff, R, n, L, sample, lr, t + 1,
                keys, sched is not None, keep or LA is not None,
            )  # fmt: skip
            if len(_BLOCKS) >= 16:
                _BLOCKS.pop(next(iter(_BLOCKS)))
            _BLOCKS[key] = (surface, optimizer, t_eager, keys, (body, fast), per_step, L)
        else:
            keys, (body, fast), per_step = hit[3], hit[4], hit[5]
        # numpy arguments: the jitted block moves them itself, in one call (a jnp.asarray
        # each cost ~60 us, measured: a tenth of a 20,000-step run)
        jbound = np.asarray(bound_v, dtype=float)
        carry = (X, F, G, g2, _entries(np, state, keys), code, stop_at, best)
        blocks = []
        # while every run is going, a block first runs without freezing stopped runs (the
        # frozen loop's selects cost ~2x its steps on wide batches, measured); a block in
        # which a run stopped is run again, frozen, from its start: the results are the
        # frozen loop's, exactly. Runs keeping their records never need the frozen loop:
        # their unfrozen block tracks each run's stop step, and a stopped run's point,
        # loss, norm and best loss are read from its records (see _assemble)
        all_running = R >= FAST_MIN_RUNS and bool((code == RUNNING).all())
        try:
            while t < T and (np.asarray(carry[5]) == RUNNING).any():
                lrs = None
                if sched is not None:
                    lrs = _lr_table(sched, base, np.arange(t + 1, t + L + 1), T)
                xs = (np.int64(t), lrs)  # (the step before the block, its learning rates)
                if keep:
                    carry, ys = fast(carry, xs, jbound)
                else:
                    if all_running:
                        new, ys = fast(carry, xs, jbound)
                        all_running = bool((np.asarray(new[5]) == RUNNING).all())
                        carry = new if all_running else carry
                    if not all_running:
                        carry, ys = body(carry, xs, jbound)
                blocks.append((t, ys))
                t = min(T, t + L)
                if progress is not None:
                    progress(t, T)
        except KeyboardInterrupt:  # the blocks done so far count; runs still going stop
            interrupted = True
        X, F, G, g2 = (np.asarray(c) for c in carry[:4])
        code = np.asarray(carry[5]).astype(np.int8)
        stop_at = np.asarray(carry[6]).astype(np.int64)
        best = np.asarray(carry[7])
        done_compiled = np.maximum(stop_at - t_eager, 0)
        counts += per_step[:, None] * done_compiled[None, :]
        for t_start, ys in blocks:
            if ys is None:  # (no records: record "final" without kept losses)
                continue
            m = min(L, T - t_start)
            Y = np.asarray(ys)[:m]
            if LA is not None:  # the loss column: after x with records, else the only one
                for s in kept:
                    if t_start < s <= t_start + m:
                        f_s = Y[s - t_start - 1, :, n if keep else 0]
                        LA[row_of[s]] = np.where(stop_at >= s, f_s, np.nan)
            if keep:
                rows.append(Y)
    if interrupted or stopped_early:
        code = np.where(code == RUNNING, INTERRUPTED, code).astype(np.int8)
    elif progress is not None:
        progress(T, T)
    return _assemble(X, F, g2, code, stop_at, best, counts, rows, keep, keep_eff, LA, R, n,
                     single, t)  # fmt: skip


#: Whole runs compiled as one program (:func:`_whole_run`), by surface, optimizer, shapes
#: and thresholds: ``(surface, optimizer, program, state keys, evaluations a step)``, the
#: program None where the initial state is not steady (the run then goes block by block).
_RUNS: dict[tuple, tuple] = {}


def _whole_run(
    jax, jnp, surface, optimizer, vg, hess, X, X_prev, state, T, sched, base, tol_grad,
    tol_loss, f_min, bound, keep, keep_eff, kept, single,
):  # fmt: skip
    """The fields of the loop for a run of one compiled block: the evaluation at x_0, the
    stopping rules' first verdict, every step and the records in one jitted call (no
    numpy evaluation or step first, no per-call conversions: one Adam run of 20,000 steps
    keeping its path spent ~0.3 ms of its ~1.9 ms on them, measured). None where it does
    not apply: more steps than one block takes, or an initial state whose structure the
    first step changes (the run then goes block by block in :func:`loop_jax`)."""
    R, n = X.shape
    width = (n + 2 + 2 * n * keep_eff) if keep else int(bool(kept))
    if T > _block_cap(R, width):
        return None
    losses = keep or bool(kept)
    key = (id(surface), id(optimizer), R, n, T, keep, keep_eff, bound is None, np.shape(bound),
           tol_grad, tol_loss, f_min, sched is None, losses, X_prev is None)  # fmt: skip
    hit = _RUNS.get(key)
    if hit is None or not (hit[0] is surface and hit[1] is optimizer):
        jopt = copy.copy(optimizer)  # the step on jax arrays
        jopt.xp = jnp
        lr1 = base if sched is None else sched(1, base)
        G0 = np.zeros_like(X)  # (the trace reads shapes only)
        reads: set = set()
        program, keys, per_step = None, (), None
        if _steady(jax, jnp, jopt, vg, hess, X, G0, state, lr1, 1, reads):
            keys = tuple(sorted(reads))
            sample = (jnp.asarray(X), jnp.asarray(G0), _entries(jnp, state, keys))
            per_step = _per_step(jax, jnp, jopt, vg, hess, sample, lr1, 1)
            rules = StoppingRules(bound, tol_grad, tol_loss, f_min)
            one = _one_step(
                jnp, jopt, vg, hess, rules, keep, keep_eff, R, n, keys, sched is not None, losses
            )
            program = _compiled_run(jax, jnp, one, vg, rules, keep, keep_eff, R, n, T, sched)
        if len(_RUNS) >= 16:
            _RUNS.pop(next(iter(_RUNS)))
        hit = _RUNS[key] = (surface, optimizer, program, keys, per_step)
    _, _, program, keys, per_step = hit
    if program is None:
        return None
    lrs = None if sched is None else _lr_table(sched, base, np.arange(1, T + 1), T)
    jbound = None if bound is None else np.asarray(bound, dtype=float)
    ys, ints, floats = program(X, _entries(np, state, keys), jbound, lrs)
    ints, floats = np.asarray(ints), np.asarray(floats)
    code, stop_at = ints[0].astype(np.int8), ints[1]
    X, F, g2, best, F0 = (
        floats[:, :n],
        floats[:, n],
        floats[:, n + 1],
        floats[:, n + 2],
        floats[:, n + 3],
    )
    counts = per_step[:, None] * stop_at[None, :]
    Y = None if ys is None else np.asarray(ys)
    LA = None
    if kept:  # the loss column: after x with records (whose row 0 is x_0), else the only one
        LA = np.full((len(kept), R), np.nan)
        for i, s in enumerate(kept):
            if s == 0:
                LA[i] = np.asarray(F0)
            else:
                f_s = Y[s, :, n] if keep else Y[s - 1, :, 0]
                LA[i] = np.where(stop_at >= s, f_s, np.nan)
    rows = [Y] if keep else []
    return _assemble(X, F, g2, code, stop_at, best, counts, rows, keep, keep_eff, LA, R, n,
                     single, T)  # fmt: skip


def _compiled_run(jax, jnp, one, vg, rules, keep, keep_eff, R, n, T, sched):
    """A jitted ``(X, state, bound, lrs) -> (records, ints, floats)`` of a whole run of
    ``T`` steps from ``X`` (``bound`` None: the default divergence bound, computed as
    :func:`~optiviz.engine.stopping.default_divergence_bound` computes it; ``lrs``: the
    learning rate of each step, None without a schedule): runs keeping their records step
    unfrozen (their ends are read from the records, see :func:`_assemble`), whose row 0
    is x_0; others frozen at their stop. ``ints`` (2, R): status codes and stop steps;
    ``floats`` (R, n + 4): the last x, f, squared gradient norm, the best loss and f(x_0)
    (three outputs: each costs the call ~2-5 us, measured)."""
    frozen = not keep
    lax = jax.lax

    def summary(carry, F0):
        X, F, _, g2, _, code, stop_at, best = carry
        ints = jnp.stack([code.astype(jnp.int64), stop_at.astype(jnp.int64)])
        floats = jnp.concatenate([X, F[:, None], g2[:, None], best[:, None], F0[:, None]], 1)
        return ints, floats

    @jax.jit
    def program(X, state, bound, lrs):
        F, G = vg(X)
        g2 = _sum_squares(jnp, G, n)
        if bound is None:
            b = 1e12 * jnp.maximum(1.0, jnp.abs(F))
            bound = jnp.where(jnp.isfinite(b), b, 1e12)
        healthy = (jnp.abs(F) <= bound) & (g2 < jnp.inf)
        met = rules.met(F, g2, jnp.nan)
        code = jnp.where(~healthy, DIVERGED, jnp.where(met, CONVERGED, RUNNING)).astype(jnp.int8)
        carry = (X, F, G, g2, state, code, jnp.zeros(R, dtype=jnp.int64), F)
        # the step number counted in the carry (see _compiled_block), the learning rates
        # (scheduled) scanned over
        t0 = jnp.zeros((), dtype=jnp.int64)
        if not keep:

            def plain(c, lr):
                inner, t = c[0], c[1] + 1
                inner, ys = one(inner, t if sched is None else (t, lr), bound, frozen)
                return (inner, t), ys

            (carry, _), ys = lax.scan(plain, (carry, t0), lrs, length=T)
            return (ys,) + summary(carry, F)
        # the records: row 0 is x_0, row t step t's, written in place into one buffer
        # carried through the loop (scan's stacked rows with row 0 put before them copy
        # every record: ~4% of a 20,000-step run of one 2-D run, measured)
        first = [X, F[:, None], jnp.sqrt(g2)[:, None]]
        if keep_eff:
            first.append(jnp.full((R, 2 * n), jnp.nan))
        row0 = jnp.concatenate(first, 1)
        Y = jnp.zeros((T + 1,) + row0.shape, dtype=row0.dtype).at[0].set(row0)

        def body(c, lr):
            inner, t, Y = c[0], c[1] + 1, c[2]
            inner, row = one(inner, t if sched is None else (t, lr), bound, frozen)
            return (inner, t, lax.dynamic_update_index_in_dim(Y, row, t, 0)), None

        (carry, _, Y), _ = lax.scan(body, (carry, t0, Y), lrs, length=T)
        return (Y,) + summary(carry, F)

    return program


def _entries(xp: Any, state: dict, keys: tuple) -> dict:
    """The carried state entries as ``xp`` arrays; an entry that is None (a buffer the
    step does not use, e.g. RMSprop's momentum buffer without momentum) stays None (an
    empty leaf of the carry)."""
    return {k: None if state[k] is None else xp.asarray(state[k]) for k in keys}


class _Reads(dict):
    """A state dict that notes which entries a step reads (the compiled loop carries only
    those from step to step)."""

    def __init__(self, data: dict, seen: set):
        super().__init__(data)
        self._seen = seen

    def __getitem__(self, key):
        self._seen.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._seen.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self._seen.add(key)
        return super().__contains__(key)


def _steady(jax, jnp, jopt, vg, hess, X, G, state, lr, t, reads: set) -> bool:
    """The state after a compiled step from ``state`` has ``state``'s structure (``reads``
    gets the entries the step reads)."""
    seen: set = set()
    try:
        out = jax.eval_shape(
            lambda X, G, s: jopt.step(
                X, G, _Reads(s, seen), _TracedOracle(vg, hess), jnp.asarray(lr), jnp.asarray(t)
            ),
            jnp.asarray(X),
            jnp.asarray(G),
            jax.tree_util.tree_map(jnp.asarray, state),
        )
    except Exception as exc:  # a Python branch on array values, an unsupported call
        raise Unsupported(
            f"backend 'jax': the step of {jopt.name!r} cannot be traced "
            f"({type(exc).__name__}); it runs with backend 'numpy'"
        ) from None
    new = out[1]
    same = set(new) >= seen and all(
        (state[k] is None) == (new[k] is None)
        and (state[k] is None or np.shape(state[k]) == tuple(new[k].shape))
        for k in seen
    )
    if same:
        reads |= seen
    return same


def _block_cap(R: int, width: int) -> int:
    """The most steps a block of ``R`` runs recording ``width`` columns a step takes:
    :data:`BLOCK`, or more while the block's records stay within :data:`BLOCK_RECORDS`
    (at most :data:`BLOCK_MAX`)."""
    return max(BLOCK, min(BLOCK_MAX, BLOCK_RECORDS // max(1, R * width)))


def _blocks(steps: int, cap: int | None = None) -> tuple[int, int]:
    """``(L, extra)`` for ``steps`` steps to go: blocks of ``L`` steps, after ``extra``
    more numpy steps, so that the blocks end at the last step exactly. Of the block counts
    from the fewest blocks of at most ``cap`` steps (default :data:`BLOCK`) to twice that,
    the one leaving the fewest extra steps (each costs a numpy step, ~0.2 ms for one
    run); the fewest blocks on a tie."""
    cap = BLOCK if cap is None else cap
    k0 = max(1, -(-steps // cap))
    k = min(range(k0, 2 * k0 + 1), key=lambda k: (steps % k, k)) if steps >= 2 * k0 else k0
    L = max(1, steps // k)
    return L, steps - k * L


def _sum_squares(jnp, G, n: int):
    """``sum(G * G, axis=1)``; for a few columns, added left to right (numpy's order
    below 8 terms; XLA fuses it with the gradient instead of a reduction of its own)."""
    if n > 8:
        return jnp.sum(G * G, axis=1)
    out = G[:, 0] * G[:, 0]
    for i in range(1, n):
        out = out + G[:, i] * G[:, i]
    return out


def _lr_table(sched, base, ts, T):
    """The learning rate of each step of a block."""
    if sched is None:
        return np.broadcast_to(np.asarray(base, dtype=float), (len(ts),) + np.shape(base))
    rows = [sched(int(s), base) for s in ts]
    return np.asarray(np.broadcast_arrays(*[np.asarray(r, dtype=float) for r in rows]))


#: Compiled blocks of recent runs, by surface, optimizer (the objects: their
#: hyperparameters are constants of the program), shapes and thresholds, with the numpy
#: steps taken first and the state entries carried: running the same optimizer again (a
#: benchmark, a figure drawn twice, another start) does not trace or compile again.
_BLOCKS: dict[tuple, tuple] = {}


def _compiled_block(
    jax, jnp, jopt, vg, hess, rules, keep, keep_eff, R, n, L, sample, lr0, t0, keys, scheduled,
    losses,
):  # fmt: skip
    """A jitted ``(carry, (t, lrs), bound) -> (carry, records)`` over one block of ``L``
    steps after step ``t`` (``lrs``: the block's learning rates when ``scheduled``, else
    None), and the evaluations one step makes (counted on a trace of one step from
    ``sample``, the ``(X, G, state)`` of the first compiled step)."""
    lax = jax.lax
    per_step = _per_step(jax, jnp, jopt, vg, hess, sample, lr0, t0)
    one = _one_step(jnp, jopt, vg, hess, rules, keep, keep_eff, R, n, keys, scheduled, losses)

    def steps(carry, xs, bound, frozen):
        # the step number counted in the carry, not read from a table of the steps: the
        # table's element read in every fusion that uses t cost a 2-D run ~20% of its
        # step, measured
        def stepped(c, lr):
            inner, t = c[0], c[1] + 1
            inner, ys = one(inner, (t, lr) if scheduled else t, bound, frozen)
            return (inner, t), ys

        (carry, _), ys = lax.scan(stepped, (carry, xs[0]), xs[1], length=L)
        return carry, ys

    @jax.jit
    def block(carry, xs, bound):
        return steps(carry, xs, bound, True)

    @jax.jit
    def fast(carry, xs, bound):
        return steps(carry, xs, bound, False)

    return block, fast, per_step


def _per_step(jax, jnp, jopt, vg, hess, sample, lr0, t0) -> np.ndarray:
    """The evaluations ``(f, gradient, Hessian)`` one compiled step makes (counted on a
    trace of one step from ``sample``, the ``(X, G, state)`` of the first compiled step)."""
    counter = _TracedOracle(vg, hess)
    X0, G0, s0 = sample
    jax.eval_shape(lambda X, G, s: jopt.step(X, G, s, counter, jnp.asarray(lr0), t0), X0, G0, s0)
    return np.array([counter.n_f, counter.n_grad, counter.n_hess])


def _one_step(jnp, jopt, vg, hess, rules, keep, keep_eff, R, n, keys, scheduled, losses):
    """``one(carry, step input, bound, frozen) -> (carry, record row)``: one compiled step
    of the loop, its stopping rules and its records."""
    oracle = _TracedOracle(vg, hess)
    base = jopt.lr

    def one(carry, inp, bound, frozen):
        X, F, G, g2, state, code, stop_at, best = carry
        t, lr = inp if scheduled else (inp, base)
        Xn, state_n = jopt.step(X, G, state, oracle, lr, t)
        Fn, Gn = vg(Xn)
        g2n = _sum_squares(jnp, Gn, n)
        # (no test of t against T here: the blocks end at T; with a per-step test of t, a
        # run keeping its path took 2.1 us a step instead of 0.17, measured)
        active = code == RUNNING
        healthy = (jnp.abs(Fn) <= bound) & (g2n < jnp.inf)
        if rules.has_tolerance:
            met = rules.met(Fn, g2n, F)
            verdict = jnp.where(~healthy, DIVERGED, jnp.where(met, CONVERGED, RUNNING))
        else:  # (no tolerance: no test that cannot pass, ~2% of a one-run step, measured)
            verdict = jnp.where(healthy, RUNNING, DIVERGED)
        # A stopped run keeps its point, loss, gradient norm, best loss, status and stop
        # step; its gradient and optimizer state are not read again (they go on changing,
        # unused: freezing them too cost ~1.7 us a step for one run, measured)
        if not frozen:  # step all, keep the first verdict (and with records the stop step)
            out = (
                Xn,
                Fn,
                Gn,
                g2n,
                {k: state_n[k] for k in keys},
                jnp.where(active, verdict, code).astype(code.dtype),
                (
                    jnp.where(active, t, stop_at) if keep else jnp.broadcast_to(t, stop_at.shape)
                ).astype(stop_at.dtype),
                jnp.fmin(best, Fn),
            )
        else:
            out = (
                jnp.where(active[:, None], Xn, X),
                jnp.where(active, Fn, F),
                Gn,
                jnp.where(active, g2n, g2),
                {k: state_n[k] for k in keys},
                jnp.where(active, verdict, code).astype(code.dtype),
                jnp.where(active, t, stop_at),
                jnp.where(active, jnp.fmin(best, Fn), best),
            )
        # one record array a step (three separate ones: 2 us a step for one run, against
        # 0.12 us, measured)
        cols = ([Xn] if keep else []) + ([Fn[:, None]] if losses else [])
        cols += [jnp.sqrt(g2n)[:, None]] if keep else []  # the norm (sqrt: IEEE, as numpy's)
        if keep_eff:
            cols += [G, jnp.broadcast_to(state_n["eff_lr"], (R, n)).astype(G.dtype)]
        return out, (jnp.concatenate(cols, 1) if cols else None)

    return one


def _assemble(X, F, g2, code, stop_at, best, counts, rows, keep, keep_eff, LA, R, n, single, t_end):
    """The loop's fields (``t_end``: the last step taken by any run, stopped or not)."""
    if single:
        return _assemble_one(X, F, g2, code, stop_at, best, counts, rows, keep, keep_eff, n,
                             t_end)  # fmt: skip
    evals = stop_at + 1  # the engine's own evaluations
    n_f, n_grad, n_hess = counts[0] + evals, counts[1] + evals, counts[2]
    points = losses = norms = eff = factor = None
    norm = None
    if keep:
        # the records, (k + 1, R, columns) (see loop_jax), the fields views of them: the
        # blocks' records put together, or a whole run's own (read-only: the compiled
        # program's buffer, not copied unless runs stopped early; a copy of one 2-D run's
        # 20,000 steps cost ~70 us, measured, a twentieth of the run)
        k = int(stop_at.max())
        Y = (rows[0] if len(rows) == 1 else np.concatenate(rows))[: k + 1]
        runs = np.arange(R)
        # a run's end is its stop step's row (the unfrozen blocks step on past a stop)
        X = Y[stop_at, runs, :n].copy()
        F = Y[stop_at, runs, n].copy()
        norm = Y[stop_at, runs, n + 1].copy()  # (the records hold the norm)
        early = np.flatnonzero(stop_at < k) if R > 1 else ()
        if len(early) and not Y.flags.writeable:
            Y = Y.copy()
        for i in early:  # rows after a run's end become nan (its rates from its stop on)
            Y[stop_at[i] + 1 :, i] = np.nan
        P, L, GN = Y[:, :, :n], Y[:, :, n], Y[:, :, n + 1]
        if keep_eff and k:
            GR, E = Y[1:, :, n + 2 : 2 * n + 2], Y[1:, :, 2 * n + 2 :]
            with np.errstate(all="ignore"):
                EF = step_per_unit_gradient(P[:-1], P[1:], GR)
            for i in early:
                EF[stop_at[i] :, i] = np.nan
            eff, factor = EF.transpose(1, 0, 2), E.transpose(1, 0, 2)
        elif keep_eff:
            eff, factor = np.empty((R, 0, n)), np.empty((R, 0, n))
        points, losses, norms = P.transpose(1, 0, 2), L.T, GN.T
        # the best loss: the carry's, but for runs that stepped on after their stop
        best = np.array(best, dtype=float)
        for i in np.flatnonzero(stop_at < t_end):
            best[i] = np.fmin.reduce(L[: stop_at[i] + 1, i])
    out = dict(
        points=points,
        losses=losses,
        grad_norms=norms,
        effective_lr=eff,
        lr_factor=factor,
        status=STATUS[code],
        diverged_at=np.where(code == DIVERGED, stop_at, -1),
        n_steps=stop_at,
        n_f=n_f,
        n_grad=n_grad,
        n_hess=n_hess,
        steps_to_tolerance=np.where(code == CONVERGED, stop_at, -1),
        final_point=np.array(X, dtype=float),
        final_loss=np.array(F, dtype=float),
        final_grad_norm=np.sqrt(np.asarray(g2, dtype=float)) if norm is None else norm,
        best_loss=np.asarray(best, dtype=float),
        losses_at=None if LA is None else LA.T,
    )
    return out


def _assemble_one(X, F, g2, code, stop_at, best, counts, rows, keep, keep_eff, n, t_end):
    """The fields of ``loop_single`` for one run (``X`` (1, n)): :func:`_assemble`'s, on
    the run's own records and scalars (about a third of the numpy calls: after a compiled
    run of 20,000 steps each cost ~3-10 us, measured)."""
    k = int(stop_at[0])
    c = int(code[0])
    points = losses = norms = eff = factor = None
    if keep:
        Y = (rows[0] if len(rows) == 1 else np.concatenate(rows))[: k + 1, 0]  # (k + 1, C)
        points, losses, norms = Y[:, :n], Y[:, n], Y[:, n + 1]
        end = Y[k]
        final_point, final_loss, final_norm = end[:n].copy(), float(end[n]), float(end[n + 1])
        # the best loss: the carry's, or the records' for a run that stepped on past its
        # stop (the unfrozen blocks)
        best_loss = float(np.fmin.reduce(losses)) if k < t_end else float(best[0])
        if keep_eff and k:
            with np.errstate(all="ignore"):
                eff = step_per_unit_gradient(points[:-1], points[1:], Y[1:, n + 2 : 2 * n + 2])
            factor = Y[1:, 2 * n + 2 :]
        elif keep_eff:
            eff, factor = np.empty((0, n)), np.empty((0, n))
    else:
        final_point = np.array(X[0], dtype=float)
        final_loss, final_norm = float(F[0]), math.sqrt(float(g2[0]))
        best_loss = float(best[0])
        if not math.isfinite(best_loss):
            best_loss = final_loss
    return single_fields(
        (points, losses, norms, eff, factor),
        c,
        k,
        (int(counts[0, 0]) + k + 1, int(counts[1, 0]) + k + 1, int(counts[2, 0])),
        (final_point, final_loss, final_norm),
        best_loss,
    )
