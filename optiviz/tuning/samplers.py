"""Points in the unit cube for tuning trials: grid, random, Sobol and Halton (numpy only).

Every sampler returns ``(n, d)`` floats in ``[0, 1)`` (the grid: ``[0, 1]``), which a
:class:`~optiviz.tuning.space.SearchSpace` maps onto its hyperparameters. The seeded
samplers are reproducible: the same ``(n, d, seed)`` gives the same points.

Sobol
    The unscrambled sequence in Gray-code order (Antonov and Saleev), 32-bit, with Joe and
    Kuo's direction numbers (``new-joe-kuo-6.21201``, dimensions 1..:data:`MAX_DIMENSIONS`);
    point 0 is the origin. The seeded sampler applies a random *digital shift* (XOR of every
    point with one random 32-bit vector drawn from ``seed``), which keeps the net's
    stratification: the first ``2^m`` points still hold one point in each interval
    ``[k/2^m, (k+1)/2^m)`` of every coordinate.
Halton
    The radical inverses of ``i = 1, 2, ...`` in the first ``d`` primes (point ``i`` is the
    ``i``-th of the sequence, the origin ``i = 0`` left out). The seeded sampler adds one
    random vector modulo 1 (a Cranley-Patterson rotation).
Random
    ``numpy.random.default_rng(seed).random((n, d))``.
Grid
    See :func:`grid_counts` and :func:`grid_points`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "MAX_DIMENSIONS",
    "SAMPLERS",
    "grid_counts",
    "grid_points",
    "halton_points",
    "sobol_points",
    "unit_points",
]

#: The samplers a tune block may name.
SAMPLERS = ("grid", "random", "sobol", "halton")

#: Joe and Kuo's direction numbers for dimensions 2..12: (s, a, m_1..m_s)
#: (new-joe-kuo-6.21201; dimension 1 is the van der Corput sequence, every m_k = 1).
_JOE_KUO = (
    (1, 0, (1,)),
    (2, 1, (1, 3)),
    (3, 1, (1, 3, 1)),
    (3, 2, (1, 1, 1)),
    (4, 1, (1, 1, 3, 3)),
    (4, 4, (1, 3, 5, 13)),
    (5, 2, (1, 1, 5, 5, 17)),
    (5, 4, (1, 1, 5, 5, 5)),
    (5, 7, (1, 1, 7, 11, 19)),
    (5, 11, (1, 1, 5, 1, 1)),
    (5, 13, (1, 1, 1, 3, 11)),
)
#: The most searched hyperparameters a Sobol or Halton sampler supports.
MAX_DIMENSIONS = len(_JOE_KUO) + 1
_BITS = 32
_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)


def _directions(d: int) -> np.ndarray:
    """``(d, 32)`` direction integers ``v_k = m_k 2^(32-k)`` of the first ``d`` dimensions."""
    v = np.zeros((d, _BITS), dtype=np.uint64)
    v[0] = [1 << (_BITS - 1 - k) for k in range(_BITS)]
    for j in range(1, d):
        s, a, m = _JOE_KUO[j - 1]
        row = [int(m[k]) << (_BITS - 1 - k) for k in range(s)]
        for k in range(s, _BITS):
            x = row[k - s] ^ (row[k - s] >> s)
            for i in range(1, s):
                if (a >> (s - 1 - i)) & 1:
                    x ^= row[k - i]
            row.append(x)
        v[j] = row
    return v


def _check(n: int, d: int) -> None:
    if not 1 <= d <= MAX_DIMENSIONS:
        raise ValueError(f"{d} dimensions: at most {MAX_DIMENSIONS} are supported")
    if n < 0 or n >= 2**_BITS:
        raise ValueError(f"{n} points: between 0 and 2^32 - 1")


def _sobol_ints(n: int, d: int) -> np.ndarray:
    """The first ``n`` Sobol points as ``(n, d)`` 32-bit integers (Gray-code order)."""
    _check(n, d)
    v = _directions(d)
    out = np.zeros((n, d), dtype=np.uint64)
    x = np.zeros(d, dtype=np.uint64)
    for i in range(1, n):
        x = x ^ v[:, _lowest_zero_bit(i - 1)]
        out[i] = x
    return out


def _lowest_zero_bit(i: int) -> int:
    """The index of the lowest 0 bit of ``i`` (Gray code: point ``i + 1`` flips it)."""
    return ((~i) & (i + 1)).bit_length() - 1


def sobol_points(n: int, d: int) -> np.ndarray:
    """The first ``n`` points of the unscrambled ``d``-dimensional Sobol sequence,
    ``(n, d)`` in ``[0, 1)``, starting at the origin."""
    return _sobol_ints(n, d).astype(float) / 2.0**_BITS


def _radical_inverse(i: np.ndarray, base: int) -> np.ndarray:
    out = np.zeros(i.shape, dtype=float)
    f = 1.0 / base
    i = i.copy()
    while np.any(i > 0):
        out += f * (i % base)
        i //= base
        f /= base
    return out


def halton_points(n: int, d: int) -> np.ndarray:
    """Points ``1 .. n`` of the ``d``-dimensional Halton sequence (radical inverses in the
    first ``d`` primes), ``(n, d)`` in ``(0, 1)``."""
    _check(n, d)
    i = np.arange(1, n + 1, dtype=np.int64)
    return np.stack([_radical_inverse(i, _PRIMES[j]) for j in range(d)], axis=-1).reshape(n, d)


def grid_counts(budget: int, fixed: tuple[int | None, ...]) -> tuple[int, ...] | None:
    """Points per dimension of a grid of exactly ``budget`` points: a dimension with a
    count in ``fixed`` (a list of values) keeps it; the others share what remains as
    evenly as possible (the most balanced factorization, larger counts first). None when
    it cannot be done with at least 2 points on every free dimension."""
    taken = math.prod(c for c in fixed if c is not None)
    free = [j for j, c in enumerate(fixed) if c is None]
    if budget % taken:
        return None
    rest = budget // taken
    if not free:
        return tuple(int(c or 0) for c in fixed) if rest == 1 else None
    best = _balanced(rest, len(free))
    if best is None:
        return None
    out = list(fixed)
    for j, c in zip(free, best, strict=True):
        out[j] = c
    return tuple(int(c) for c in out)  # type: ignore[arg-type]


def _balanced(n: int, k: int) -> tuple[int, ...] | None:
    """``n`` as a product of ``k`` factors >= 2, the largest factor smallest (descending)."""
    if k == 1:
        return (n,) if n >= 2 else None
    best: tuple[int, ...] | None = None
    for f in range(2, n + 1):
        if n % f:
            continue
        rest = _balanced(n // f, k - 1)
        if rest is None or rest[0] > f:
            continue
        cand = (f, *rest)
        if best is None or max(cand) < max(best):
            best = cand
    return best


def grid_points(counts: tuple[int, ...]) -> np.ndarray:
    """The grid with ``counts[j]`` evenly spaced points on ``[0, 1]`` in dimension ``j``
    (a single point at 0.5), ``(prod(counts), d)``, the last dimension varying fastest."""
    axes = [np.linspace(0.0, 1.0, c) if c > 1 else np.array([0.5]) for c in counts]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=-1)


def unit_points(sampler: str, n: int, d: int, seed: int) -> np.ndarray:
    """``n`` points of the seeded ``sampler`` ("random", "sobol", "halton") in ``[0, 1)^d``
    (see the module docstring; the grid is :func:`grid_points`)."""
    rng = np.random.default_rng(seed)
    if sampler == "random":
        return rng.random((n, d))
    if sampler == "sobol":
        shift = rng.integers(0, 2**_BITS, size=d, dtype=np.uint64)
        return (_sobol_ints(n, d) ^ shift).astype(float) / 2.0**_BITS
    if sampler == "halton":
        return (halton_points(n, d) + rng.random(d)) % 1.0
    raise ValueError(f"unknown sampler {sampler!r}; one of {', '.join(SAMPLERS)}")
