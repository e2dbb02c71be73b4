"""Backends of the engine: numpy (always) and a compiled JAX program (optional).

``backend="numpy"`` steps with the loops of :mod:`optiviz.engine.loops`. ``backend="jax"``
compiles the surface (sympy's printer to ``jax.numpy``), the optimizer's own ``step``
(traced with ``xp = jax.numpy``: each update rule is written once, against an array
namespace) and the loop (``lax.scan`` over steps, broadcasting over runs, the stopping and
divergence rules of :mod:`optiviz.engine.stopping`, records ``all`` / ``path`` / ``final``)
into one jitted program in float64 (:mod:`optiviz.backends.jax`). ``backend="auto"``
chooses JAX when it is installed, the run can be compiled, and the work is large enough
that compiling pays (:data:`AUTO_MIN_WORK` run-steps).

This module imports neither jax nor numpy: ``import optiviz`` stays light.
"""

from __future__ import annotations

import importlib.util

__all__ = ["BACKENDS", "AUTO_MIN_WORK", "available", "choose"]

#: The values of ``backend=`` / a config's ``backend:``.
BACKENDS = ("auto", "numpy", "jax")

#: Run-steps (runs x steps) from which ``auto`` compiles: below it numpy finishes before
#: JAX has compiled (compiling costs 0.3-2 s per surface and optimizer; see
#: benchmarks/bench_jax.py for the measured crossover).
AUTO_MIN_WORK = 20_000_000


def available() -> bool:
    """True when ``jax`` can be imported (``pip install optiviz[jax]``)."""
    return importlib.util.find_spec("jax") is not None


def choose(backend: str, runs: int, steps: int) -> str:
    """``"numpy"`` or ``"jax"`` for ``backend`` (one of :data:`BACKENDS`) and the work."""
    if backend == "auto":
        return "jax" if available() and runs * steps >= AUTO_MIN_WORK else "numpy"
    return backend
