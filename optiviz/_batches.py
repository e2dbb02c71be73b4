"""The one mini-batch sampler (the engine's stochastic runs and ``DataSurface.epoch_batches``).

Each epoch is a fresh permutation of the samples from ``np.random.default_rng(seed)``, cut
into consecutive mini-batches of ``batch_size`` (the last one of an epoch may be smaller,
like PyTorch's ``DataLoader`` with ``drop_last=False``). The same seed gives the same
sequence of mini-batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["epoch_batches"]


def epoch_batches(n_samples: int, batch_size: int, seed: Any = None) -> Iterator[np.ndarray]:
    """Endless shuffled epochs of mini-batch index arrays over ``range(n_samples)``.

    ``n_samples`` and ``batch_size`` are ints >= 1 (checked by the caller); ``seed`` is
    anything ``np.random.default_rng`` accepts.
    """
    rng = np.random.default_rng(seed)
    while True:
        perm = rng.permutation(n_samples)
        for a in range(0, n_samples, batch_size):
            yield perm[a : a + batch_size]
