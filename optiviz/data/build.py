"""Data surfaces by model: logistic and linear regression, and the notes' two surfaces."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiviz.data.datasets import Dataset, notes_four_points, toy_sigmoid
from optiviz.data.surface import DataSurface
from optiviz.errors import SurfaceError
from optiviz.surface import KnownMinimum


def _as_dataset(X: Any, y: Any) -> Dataset:
    if isinstance(X, Dataset):
        if y is not None:
            raise SurfaceError("pass either a Dataset or (X, y), not both")
        return X
    if y is None:
        raise SurfaceError("targets y are required with an array X (or pass a Dataset)")
    return Dataset(X, y)


def logistic_regression(
    X: Any,
    y: Any = None,
    bias: bool = True,
    loss: str = "cross_entropy",
    reduction: str = "sum",
    name: str | None = None,
    **kwargs: Any,
) -> DataSurface:
    """A sigmoid neuron's loss on ``(X, y)`` (or a :class:`Dataset` as ``X``).

    ``loss``: ``cross_entropy`` (``sum softplus(z) - y z``, labels in [0, 1]),
    ``squared_error`` (``sum (y - sigma(z))^2``, notes 002) or ``half_squared_error``
    (``1/2 sum (sigma(z) - y)^2``, notes 001). Keywords: ``variables``, ``window``, ``l1``,
    ``l2``, ``description``, ``source``.
    """
    return DataSurface(
        _as_dataset(X, y),
        link="sigmoid",
        loss=loss,
        reduction=reduction,
        bias=bias,
        name=name,
        **kwargs,
    )


def linear_regression(
    X: Any,
    y: Any = None,
    bias: bool = True,
    reduction: str = "mean",
    name: str | None = None,
    loss: str = "squared_error",
    **kwargs: Any,
) -> DataSurface:
    """Linear least squares; default the notes' MSE ``1/N sum (w.x_i + b - y_i)^2`` (notes
    004, line 129, no 1/2). ``loss="half_squared_error"`` gives the ``1/2`` convention."""
    return DataSurface(
        _as_dataset(X, y),
        link="identity",
        loss=loss,
        reduction=reduction,
        bias=bias,
        name=name,
        **kwargs,
    )


def sigmoid_four_point_surface() -> DataSurface:
    """The notes' sigmoid-neuron surface ``E(w) = sum_{i=1}^4 (y^i - sigma(w1 x1^i + w2 x2^i))^2``.

    Notes 002, line 138 (and 145, 383): a sum (not a mean), no 1/2, no bias, two weights.
    The data are linearly separable (e.g. w = (-1, 0.2) classifies all four), so E has
    no minimizer: it tends to 0 along a cone to infinity.
    """
    return logistic_regression(
        notes_four_points(),
        bias=False,
        loss="squared_error",
        reduction="sum",
        name="sigmoid_four_points",
        source="notes 002, line 138: E = sum_{i=1}^4 (y^i - 1/(1+exp(-[w11 x1^i + w12 x2^i])))^2",
    )


def toy_sigmoid_surface() -> DataSurface:
    """The notes' toy sigmoid neuron on X = [0.5, 2.5], Y = [0.2, 0.9], variables (w, b).

    Notes 001: per-sample loss ``1/2 (f(x) - y)^2`` with ``f(x) = sigma(w x + b)`` (line
    463) and gradients summed over the points (eq. 9, lines 473-477; the GD code at lines
    750-763 accumulates ``dw``, ``db`` over ``zip(X, Y)``): ``L = sum_i 1/2 (sigma(w x_i +
    b) - y_i)^2``. Minimizer where ``sigma(0.5 w + b) = 0.2`` and ``sigma(2.5 w + b) = 0.9``.
    """
    z1, z2 = math.log(0.2 / 0.8), math.log(0.9 / 0.1)
    w = (z2 - z1) / 2.0
    return logistic_regression(
        toy_sigmoid(),
        bias=True,
        loss="half_squared_error",
        reduction="sum",
        name="toy_sigmoid",
        variables=("w", "b"),
        source="notes 001, lines 463 and 473-477, GD code lines 750-763",
        minima=[KnownMinimum(np.array([w, z1 - 0.5 * w]), 0.0)],
    )
