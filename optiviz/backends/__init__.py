"""Backends of the engine: numpy (always) and a compiled JAX program (optional).

``backend="numpy"`` steps with the loops of :mod:`optiviz.engine.loops`. ``backend="jax"``
compiles the surface (sympy's printer to ``jax.numpy``), the optimizer's own ``step``
(traced with ``xp = jax.numpy``: each update rule is written once, against an array
namespace) and the loop (``lax.scan`` over steps, broadcasting over runs, the stopping and
divergence rules of :mod:`optiviz.engine.stopping`, records ``all`` / ``path`` / ``final``)
into one jitted program in float64 (:mod:`optiviz.backends.jax`). ``backend="auto"``
chooses JAX when it is installed, the run can be compiled, and compiling pays: when
numpy's loop is estimated to take at least :data:`AUTO_MIN_SECONDS` (:func:`numpy_seconds`).
Measured 2026-12-02 on the 2-core machine (Adam on Rosenbrock, ``record="final"``, wall
time): numpy takes 8.4 us a step for
one run, 21.6 us for 100 runs, 46.9 us for 1000 and 349 us for 10^4 (35 ns a run-step);
compiled, 0.049, 1.8, 12.3 and 150 us (2026-12-03, without fused multiply-adds, the call
included); compiling takes 0.2-0.25 s, and ~1.25 s for the first
compiled run of a process (JAX's own start-up). Compiling has paid for itself from 155,000
steps of one run in a fresh process (numpy's 1.3 s) and from 1,000-10,000 steps of
10^4-100 runs once JAX is warm (numpy's 0.2-0.35 s); the threshold takes the fresh process.

This module imports neither jax nor numpy: ``import optiviz`` stays light.
"""

from __future__ import annotations

import importlib.util

__all__ = ["BACKENDS", "AUTO_MIN_SECONDS", "available", "choose", "numpy_seconds"]

#: The values of ``backend=`` / a config's ``backend:``.
BACKENDS = ("auto", "numpy", "jax")

#: ``auto`` compiles runs whose numpy loop is estimated to take at least this long (the
#: first compiled run of a process costs ~1.25 s: JAX's start-up and the compilation).
AUTO_MIN_SECONDS = 1.5
#: numpy's cost model: a step's Python overhead, and the time per run and coordinate of a
#: step (measured: 8.4 us a step for one 2-D run, 35 ns per run-step on wide batches)
NUMPY_STEP_SECONDS = 8e-6
NUMPY_ELEMENT_SECONDS = 1.7e-8


def numpy_seconds(runs: int, steps: int, n: int = 2) -> float:
    """Estimated time of numpy's loop for ``runs`` runs of ``steps`` steps in ``n``
    variables (the model of :data:`NUMPY_STEP_SECONDS`, :data:`NUMPY_ELEMENT_SECONDS`)."""
    return steps * (NUMPY_STEP_SECONDS + NUMPY_ELEMENT_SECONDS * runs * n)


_FOUND = False


def available() -> bool:
    """True when ``jax`` can be imported (``pip install optiviz[jax]``; once found, not
    looked for again: a lookup costs ~10 us, measured, on every compiled run)."""
    global _FOUND
    if not _FOUND:
        _FOUND = importlib.util.find_spec("jax") is not None
    return _FOUND


def choose(backend: str, runs: int, steps: int, n: int = 2) -> str:
    """``"numpy"`` or ``"jax"`` for ``backend`` (one of :data:`BACKENDS`) and the work."""
    if backend == "auto":
        fits = numpy_seconds(runs, steps, n) >= AUTO_MIN_SECONDS
        return "jax" if fits and available() else "numpy"
    return backend
