"""Backends of the engine: numpy (always) and a compiled JAX program (optional).

``backend="numpy"`` steps with the loops of :mod:`optiviz.engine.loops`. ``backend="jax"``
compiles the surface (sympy's printer to ``jax.numpy``), the optimizer's own ``step``
(traced with ``xp = jax.numpy``: each update rule is written once, against an array
namespace) and the loop (``lax.scan`` over steps, broadcasting over runs, the stopping and
divergence rules of :mod:`optiviz.engine.stopping`, records ``all`` / ``path`` / ``final``)
into one jitted program in float64 (:mod:`optiviz.backends.jax`). ``backend="auto"``
chooses JAX when it is installed, the run can be compiled, and compiling pays: at least
:data:`AUTO_MIN_STEPS` steps of at most :data:`AUTO_MAX_RUNS` runs, where numpy's cost is
its per-step Python overhead (measured 2026-12-02, ``make bench`` rows "jax", wall time:
one Adam run on Rosenbrock costs ~25 us a step in hand-written numpy and 0.3 us compiled,
after ~0.3-0.9 s of compiling; 10^4 runs x 10^4 steps take ~2.8 s compiled against 3.2 s
in numpy's vectorized loop, too close to pay for compiling, so wide batches stay numpy).

This module imports neither jax nor numpy: ``import optiviz`` stays light.
"""

from __future__ import annotations

import importlib.util

__all__ = ["BACKENDS", "AUTO_MIN_STEPS", "AUTO_MAX_RUNS", "available", "choose"]

#: The values of ``backend=`` / a config's ``backend:``.
BACKENDS = ("auto", "numpy", "jax")

#: ``auto`` compiles runs of at least this many steps (compiling costs ~1 s per surface and
#: optimizer: below ~80,000 steps numpy has finished first; benchmarks/bench_jax.py)...
AUTO_MIN_STEPS = 100_000
#: ... and at most this many runs (numpy's batched loop is vectorized over the runs: the
#: compiled loop does not beat it on wide batches today).
AUTO_MAX_RUNS = 1000


def available() -> bool:
    """True when ``jax`` can be imported (``pip install optiviz[jax]``)."""
    return importlib.util.find_spec("jax") is not None


def choose(backend: str, runs: int, steps: int) -> str:
    """``"numpy"`` or ``"jax"`` for ``backend`` (one of :data:`BACKENDS`) and the work."""
    if backend == "auto":
        fits = steps >= AUTO_MIN_STEPS and runs <= AUTO_MAX_RUNS
        return "jax" if fits and available() else "numpy"
    return backend
