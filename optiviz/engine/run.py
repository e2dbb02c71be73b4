"""The public entry point :func:`run`: check the arguments, pick the loop, build the
:class:`~optiviz.trajectory.Trajectory` (see :mod:`optiviz.engine` for the contract)."""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from optiviz._batches import epoch_batches
from optiviz.engine.checks import (
    MAX_API_STEPS,
    _check_optimizer,
    _check_surface,
    _int,
    _nonneg,
    _points,
    _schedule,
    check_memory,
)
from optiviz.engine.loops import loop_batched, loop_single
from optiviz.errors import OptimizerError, SurfaceError
from optiviz.trajectory import RunLabels, Trajectory

if TYPE_CHECKING:
    from optiviz.protocols import SurfaceLike

__all__ = ["run", "RECORD_MODES"]

RECORD_MODES = ("all", "path", "final")


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
def _backend(backend: Any, surface: Any, optimizer: Any, batches: Any, R: int, T: int) -> str:
    """The loop to use, ``"numpy"`` or ``"jax"``, for ``backend=`` (checked here)."""
    from optiviz import backends

    if backend not in backends.BACKENDS:
        raise OptimizerError(
            f"'backend' must be one of {', '.join(map(repr, backends.BACKENDS))}; got {backend!r}"
        )
    use = backends.choose(backend, R, T, surface.n)
    if use != "jax":
        return use
    if not backends.available():
        raise OptimizerError(
            "backend 'jax' needs JAX, which is not installed: pip install 'optiviz[jax]' "
            "(or use backend 'numpy' or 'auto')"
        )
    from optiviz.backends.jax import Unsupported, supports

    why = supports(surface, optimizer, batches)
    if why is None:
        return "jax"
    if backend == "auto":
        return "numpy"
    raise Unsupported(f"backend 'jax': {why}")


def _compiled_or_numpy(
    loop: Callable[..., dict], single: bool, kept: tuple[int, ...], *args: Any
) -> dict:
    """``backend="auto"``: the compiled loop, or numpy's when the step cannot be traced
    (``args``: the loops' positional arguments, points as the compiled loop takes them)."""
    from optiviz.backends.jax import Unsupported

    try:
        return loop(*args)
    except Unsupported:
        surface, optimizer, X0, XP, *rest = args
        if single:
            return loop_single(surface, optimizer, X0[0], None if XP is None else XP[0], *rest)
        return loop_batched(surface, optimizer, X0, XP, *rest, loss_steps=kept)  # type: ignore[misc]


def run(
    surface: SurfaceLike,
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
    progress: Callable[[int, int], Any] | None = None,
    loss_steps: Any = (),
    backend: str = "numpy",
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
        Maximum number of steps T (>= 0). Refused up front when the records of ``record``
        would not fit in this machine's memory (the message gives the estimate and the
        ``record`` mode that fits).
    x_prev : array_like, optional
        The iterate before ``x0`` (same shape rules), passed to ``optimizer.init``.
    schedule : Schedule, str or callable ``(t, base_lr) -> lr``, optional
    tol_grad, tol_loss : float, optional
        Stopping tolerances (see :mod:`optiviz.engine.stopping`).
    batch_size, seed : int, optional
        Mini-batch size on a data surface and the seed of the shuffling.
    record : {"all", "path", "final"}
        "all" keeps every iterate, loss, gradient norm, effective learning rate and
        learning-rate factor; "path" the same without the two per-step rates (half the
        memory of a large sweep for n = 2); "final" only final states and summaries.
    divergence_bound : float, optional
        Bound on ``|loss|`` beyond which a run is "diverged" (default
        ``1e12 * max(1, |f(x0)|)``).
    progress : callable ``(done, total) -> None``, optional
        Told the steps done of ``total = steps``: ``(0, total)`` before the first step,
        then after a block of steps at most every ~0.1 s (never per step), and once at the
        end with ``(total, total)`` (a run that stopped early needs no more steps), or with
        the steps done if interrupted. For R runs, ``done`` counts the steps of the batch.
    loss_steps : sequence of int, optional
        R runs only: steps (each in 0 .. steps) whose losses are also kept, whatever
        ``record`` is, as ``Trajectory.losses_at`` ``(R, k)`` (columns in increasing step
        order, ``Trajectory.loss_steps``; nan after a run's stop): e.g. the few losses a
        rate fit over the tail of a large sweep needs with ``record="final"``.
    backend : {"numpy", "jax", "auto"}
        "numpy" (the default) steps with the numpy loops; "jax" compiles the surface, the
        optimizer's step and the loop into one jitted program (``pip install
        optiviz[jax]``; refused with the reason for runs it cannot compile: data surfaces,
        mini-batches, line searches); "auto" compiles when JAX is installed, the run can
        be compiled and compiling pays (numpy's loop estimated at 1.5 s or more: e.g.
        187,000 steps of one 2-D run, 4,400 steps of 10^4 runs; see
        :mod:`optiviz.backends`). Results agree to rounding (tests/test_backend_jax.py).
        A compiled run that fits one block returns its records as read-only views of the
        program's buffer (``np.array(traj.points)`` for a copy to write into).

    Returns
    -------
    Trajectory

    Interrupts
    ----------
    A ``KeyboardInterrupt`` (Ctrl-C) while the runs step stops them cleanly: ``run``
    returns what was computed so far, and every run still going has the status
    ``"interrupted"`` (a batched run's runs that had already converged or diverged keep
    their status). A step counts once its iterate is evaluated and recorded: an interrupt
    during step ``k`` (in the optimizer or the surface) keeps steps ``1 .. k - 1``, and one
    in ``progress(done, total)`` keeps ``done`` steps; the result equals a run given those
    steps as its budget, status aside. The recorded arrays, ``n_steps``, the evaluation
    counts and the ``final_*`` fields all describe those steps (the details, and the one
    rare exception, in :mod:`optiviz.engine.loops`). An interrupt before the first step,
    or while the trajectory is assembled, propagates.
    """
    _check_surface(surface)
    _check_optimizer(optimizer)
    T = _int("steps", steps, 0)
    if T > MAX_API_STEPS:
        raise OptimizerError(
            f"'steps' must be at most {MAX_API_STEPS:.0e} (the records of a run are numpy "
            f"arrays with one row per step); got {T}"
        )
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
        batches = epoch_batches(int(n_samples), bs, seed)

    single = X0.ndim == 1 and n_runs is None and (XP is None or XP.ndim == 1)
    if single:
        R = None
    else:
        rows = X0 if X0.ndim == 2 or XP is None else XP  # not single: one of them is (R, n)
        R = n_runs if n_runs is not None else rows.shape[0]
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

    kept = tuple(sorted({_int("loss_steps", s, 0, T) for s in loss_steps}))
    if kept and single:
        raise OptimizerError(
            "'loss_steps' keeps losses of batched runs only; this is a single run (give "
            "the hyperparameters as arrays, or x0 as (R, n), or use record='all')"
        )
    check_memory(record, T, R, surface.n)
    minima = getattr(surface, "minima", None) or []
    f_min = getattr(surface, "f_min", None)
    if f_min is None and minima:
        f_min = min(float(m.value) for m in minima)
    min_pts = (
        np.array([np.asarray(m.point, dtype=float) for m in minima])
        if minima
        else np.zeros((0, surface.n))
    )

    use = _backend(backend, surface, optimizer, batches, 1 if R is None else R, T)
    t0 = time.perf_counter()
    loop: Callable[..., dict] = (
        loop_single if single else functools.partial(loop_batched, loss_steps=kept)
    )
    if use == "jax":
        from optiviz.backends.jax import loop_jax

        loop = functools.partial(loop_jax, loss_steps=kept, single=single)
        if single:
            X0 = X0[None, :]
            XP = None if XP is None else XP[None, :]
    args = (surface, optimizer, X0, XP, T, sched, tol_grad, tol_loss, f_min, bound, batches,
            record != "final", record == "all", progress)  # fmt: skip
    try:
        with np.errstate(all="ignore"):
            if use == "jax" and backend == "auto":
                res = _compiled_or_numpy(loop, single, kept, *args)
            else:
                res = loop(*args)
    except KeyError as exc:
        if exc.args == ("eff_lr",):
            raise OptimizerError(
                f"{getattr(optimizer, 'name', type(optimizer).__name__)}.step() must return "
                "a state with 'eff_lr' (the optimizer's own learning-rate factor of the step)"
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
        lr_factor_name=getattr(optimizer, "lr_factor_name", ""),
        run_labels=None if R is None else _run_labels(optimizer, R),
        surface=getattr(surface, "name", "custom"),
        minima=min_pts,
        f_min=None if f_min is None else float(f_min),
        schedule=sched_label,
        batched=not single,
        record=record,
        steps=T,
        loss_steps=kept,
        wall_time=wall,
        settings={
            "tol_grad": tol_grad,
            "tol_loss": tol_loss,
            "batch_size": batch_size,
            "seed": seed,
            "divergence_bound": divergence_bound,
        },
    )
