"""Test-session setup: the compiled backend's arithmetic before any test starts JAX.

:func:`optiviz.backends.jax._exact_flags` keeps XLA's CPU code free of fused
multiply-adds (so compiled runs round as numpy's do); it can only apply before JAX's
backend starts, and a test module using ``jax.numpy`` first would start it without."""

import importlib.util

if importlib.util.find_spec("jax") is not None:
    from optiviz.backends.jax import _exact_flags

    _exact_flags()
