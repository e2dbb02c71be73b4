"""Data-driven surfaces: logistic regression, linear regression, the sigmoid neuron.

A :class:`DataSurface` is the loss of a one-neuron model on a data set ``(X, y)``::

    z_i = w . x_i + b                      (the linear predictor; b only if bias=True)
    f(w, b) = scale * sum_i l(z_i, y_i) + l2/2 ||w||^2 + l1 ||w||_1

with ``scale = 1`` (``reduction="sum"``) or ``1/N`` (``reduction="mean"``; on a mini-batch
``batch=idx`` it is ``1/len(idx)``). The per-sample losses ``l(z, y)``:

================================  =============================  ==========================
``link``, ``loss``                 l(z, y)                        where it comes from
================================  =============================  ==========================
sigmoid, ``cross_entropy``         softplus(z) - y z              logistic regression,
                                   (= -y log s - (1-y) log(1-s))  labels in [0, 1]
sigmoid, ``squared_error``         (y - sigma(z))^2               notes 002, lines 113, 138
sigmoid, ``half_squared_error``    1/2 (sigma(z) - y)^2           notes 001, lines 463, 473
identity, ``squared_error``        (z - y)^2                      notes 004, line 129 (MSE)
identity, ``half_squared_error``   1/2 (z - y)^2                  (the 1/2 convention)
================================  =============================  ==========================

How it is computed (the architecture's "O(1) symbolic, O(N) numeric"): ``l(z, y)`` and
its derivatives in ``z`` are derived and compiled once per loss kind; the sum over the
samples is numpy, so building a surface costs the same for 10 or 10^6 samples.

Known minima: linear regression's least-squares minimizer (``np.linalg.lstsq``; the ridge
normal equations with ``l2``) and its value; logistic cross-entropy's minimizer by damped
Newton when one exists (``l2 > 0`` or non-separable data; on separable data the infimum is
only approached as ``||w|| -> inf`` and none is reported); none for the non-convex sigmoid
squared errors (the toy set's exact zero-loss point is given by hand) or with ``l1``.

Regularization (``l1``, ``l2`` and :meth:`DataSurface.regularized`) applies to the weights
only, never to the bias (as in scikit-learn and in weight decay on a neuron's weights): the
bias only shifts the decision boundary, penalizing it would make the fit depend on where
the origin of the data is.

The package, one question per module:

* :mod:`optiviz.data.datasets` -- :class:`Dataset` (inline points, CSV files), the seeded
  generators :func:`make_blobs` / :func:`make_linear`, the notes' sets
  :func:`notes_four_points` and :func:`toy_sigmoid`, the size limits;
* :mod:`optiviz.data.kernels` -- the per-sample losses, :class:`sigmoid` and
  :class:`softplus` with overflow-free numpy forms, the compile cache;
* :mod:`optiviz.data.surface` -- :class:`DataSurface` (a
  :class:`optiviz.protocols.SurfaceLike`);
* :mod:`optiviz.data.build` -- :func:`logistic_regression`, :func:`linear_regression`
  and the notes' surfaces;
* :mod:`optiviz.data.spec` -- :func:`make_dataset` and :func:`make_data_surface` for
  config dictionaries;
* :mod:`optiviz.data.checks` -- the allowed values (constraints of
  :mod:`optiviz._validation`) and the size limits.
"""

from __future__ import annotations

from optiviz.data.build import (
    linear_regression,
    logistic_regression,
    sigmoid_four_point_surface,
    toy_sigmoid_surface,
)
from optiviz.data.checks import MAX_SAMPLES, MAX_VALUES
from optiviz.data.datasets import (
    BUILTIN_DATASETS,
    Dataset,
    make_blobs,
    make_linear,
    notes_four_points,
    toy_sigmoid,
)
from optiviz.data.kernels import (
    LINEAR_LOSSES,
    LINKS,
    LOSSES,
    REDUCTIONS,
    clear_compile_cache,
    np_sigmoid,
    np_softplus,
    sigmoid,
    softplus,
)
from optiviz.data.spec import DATA_KINDS, make_data_surface, make_dataset
from optiviz.data.surface import SYMBOLIC_MAX_SAMPLES, DataSurface

__all__ = [
    "BUILTIN_DATASETS",
    "DATA_KINDS",
    "LINEAR_LOSSES",
    "LINKS",
    "LOSSES",
    "MAX_SAMPLES",
    "MAX_VALUES",
    "REDUCTIONS",
    "SYMBOLIC_MAX_SAMPLES",
    "DataSurface",
    "Dataset",
    "clear_compile_cache",
    "linear_regression",
    "logistic_regression",
    "make_blobs",
    "make_data_surface",
    "make_dataset",
    "make_linear",
    "notes_four_points",
    "np_sigmoid",
    "np_softplus",
    "sigmoid",
    "sigmoid_four_point_surface",
    "softplus",
    "toy_sigmoid",
    "toy_sigmoid_surface",
]
