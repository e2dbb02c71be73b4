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

How it is computed (the architecture's "O(1) symbolic, O(N) numeric"): ``l(z, y)`` is a
sympy expression in two symbols. Its derivatives ``l'`` and ``l''`` in ``z`` are derived
once per loss kind and compiled with ``lambdify(..., cse=True)`` (a module-level cache,
:func:`clear_compile_cache`); the sum over samples is numpy::

    f    = scale * sum(l(z, y))
    grad = scale * X_aug^T l'(z, y)                      (one matrix-vector product)
    hess = scale * X_aug^T diag(l''(z, y)) X_aug        (X_aug = [X, 1] if bias)

so building a surface costs the same for 10 or 10^6 samples and evaluation is vectorized
O(N): there is no sympy term per sample, a :class:`Dataset` is validated once when it is
made (and keeps ``X_aug = [X, 1]`` in one buffer, ``X`` being a view of it), and the
window, the known minima and the symbolic forms are computed lazily on first use.
``sigma`` and ``softplus`` are the sympy functions :class:`sigmoid` and :class:`softplus`
whose numpy forms are overflow-free (``0.5 + 0.5 tanh(z/2)`` and
``max(z, 0) + log1p(exp(-|z|))``): no warning and finite values for ``|z| ~ 1e4``;
``sigma' = sigma (1 - sigma)`` keeps every derivative in those stable forms.

Symbolic view (``expression``, ``gradient``, ``hessian``, ``latex``), computed lazily on
first use:

* ``N <= SYMBOLIC_MAX_SAMPLES`` (20): the explicit sum of the N per-sample losses in the
  weight symbols, data as exact numbers (the notes' 4-point surface is
  ``(1 - sigma(-3 w1 - 3 w2))^2 + ...``). ``gradient`` and ``hessian`` are its exact
  derivatives; ``symbolic_exact`` is True.
* larger N: a ``sympy.Sum`` over ``i = 1..N`` of the per-sample loss with the data as
  ``IndexedBase`` symbols ``x[i, j]`` and ``y[i]``; ``gradient`` / ``hessian`` are sums
  of the per-sample derivatives. Readable and correct as formulas (LaTeX for reports),
  but they contain the data symbols, so ``symbolic_exact`` is False and numbers must come
  from :meth:`DataSurface.f` / ``grad`` / ``hess``.

Known minima: linear regression's least-squares minimizer (``np.linalg.lstsq``; the ridge
normal equations with ``l2``) and its value; logistic cross-entropy's minimizer by damped
Newton when one exists (``l2 > 0`` or non-separable data; on separable data the infimum is
only approached as ``||w|| -> inf`` and none is reported); none for the non-convex sigmoid
squared errors (the toy set's exact zero-loss point is given by hand) or with ``l1``.

Regularization (``l1``, ``l2`` and :meth:`DataSurface.regularized`) applies to the weights
only, never to the bias (as in scikit-learn and in weight decay on a neuron's weights): the
bias only shifts the decision boundary, penalizing it would make the fit depend on where
the origin of the data is.

Data sets: :class:`Dataset` (inline points, CSV files, seeded generators
:func:`make_blobs` / :func:`make_linear`, the notes' sets :func:`notes_four_points` and
:func:`toy_sigmoid`), and :func:`make_data_surface` for config dictionaries.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps

from optiviz.errors import SurfaceError, suggest
from optiviz.surface import KnownMinimum, Surface, _strip_distributions, to_exact

Array = np.ndarray

SYMBOLIC_MAX_SAMPLES = 20
"""Up to this many samples the symbolic expression is the explicit sum over the samples."""

LOSSES = ("cross_entropy", "squared_error", "half_squared_error")
LINEAR_LOSSES = ("squared_error", "half_squared_error")
REDUCTIONS = ("sum", "mean")

# Largest temporary (elements) of a batched evaluation; larger batches are done in chunks.
_CHUNK_ELEMENTS = 1 << 22


# ---------------------------------------------------------------------------------------
# Stable numpy forms and the sympy functions that use them
# ---------------------------------------------------------------------------------------
def np_sigmoid(z: Any) -> Any:
    """The logistic function ``1 / (1 + exp(-z))`` as ``0.5 + 0.5 tanh(z / 2)``.

    Never overflows (tanh saturates), so no warning for any finite ``z``; absolute error
    ~1e-16 in both tails. Arrays are computed with a single temporary.
    """
    if isinstance(z, np.ndarray) and z.ndim:
        t = np.multiply(z, 0.5)
        np.tanh(t, out=t)
        t *= 0.5
        t += 0.5
        return t
    return 0.5 + 0.5 * np.tanh(0.5 * np.asarray(z, dtype=float))


def np_softplus(z: Any) -> Any:
    """``log(1 + exp(z))`` as ``max(z, 0) + log1p(exp(-|z|))``: linear growth, no overflow."""
    if isinstance(z, np.ndarray) and z.ndim:
        a = np.abs(z)
        out = np.negative(a)
        np.exp(out, out=out)
        np.log1p(out, out=out)
        a += z
        a *= 0.5
        out += a
        return out
    z = np.asarray(z, dtype=float)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


class sigmoid(sp.Function):  # noqa: N801 (printed name)
    r"""The logistic sigmoid :math:`\sigma(z) = 1/(1 + e^{-z})`.

    Derivative ``sigma (1 - sigma)``; ``lambdify`` uses :func:`np_sigmoid` (via ``_imp_``),
    ``evalf`` the exponential form; LaTeX ``\sigma(z)``.
    """

    nargs = 1
    _imp_ = staticmethod(np_sigmoid)

    @classmethod
    def eval(cls, z):  # sympy's Function.eval hook (auto-simplification), not Python's eval
        if z.is_zero:
            return sp.S.Half
        return None

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sp.exp(-z))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp).evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        head = r"\sigma" if exp is None else rf"\sigma^{{{exp}}}"
        return rf"{head}\left({arg}\right)"


class softplus(sp.Function):  # noqa: N801 (printed name)
    r"""``softplus(z) = log(1 + e^z)``; derivative :class:`sigmoid`; numpy :func:`np_softplus`."""

    nargs = 1
    _imp_ = staticmethod(np_softplus)

    @classmethod
    def eval(cls, z):  # sympy's Function.eval hook (auto-simplification), not Python's eval
        if z.is_zero:
            return sp.log(2)
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return sp.log(1 + sp.exp(z))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp).evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        head = r"\operatorname{softplus}"
        if exp is not None:
            head = rf"{head}^{{{exp}}}"
        return rf"{head}\left({arg}\right)"


# ---------------------------------------------------------------------------------------
# Per-sample loss kernels: symbolic l(z, y), derived and compiled once per kind
# ---------------------------------------------------------------------------------------
# Internal names (never a user's variable name): the linear predictor and the label.
_Z = sp.Symbol("_z", real=True)
_YS = sp.Symbol("_y", real=True)


def _sample_loss(link: str, loss: str) -> sp.Expr:
    p = sigmoid(_Z) if link == "sigmoid" else _Z
    if loss == "cross_entropy":
        if link != "sigmoid":
            raise SurfaceError("loss 'cross_entropy' needs the sigmoid link")
        return softplus(_Z) - _YS * _Z
    if loss == "squared_error":
        return (_YS - p) ** 2
    if loss == "half_squared_error":
        return (p - _YS) ** 2 / 2
    raise SurfaceError(
        f"loss must be one of {', '.join(LOSSES)}; got {loss!r}{suggest(loss, LOSSES)}"
    )


@dataclass
class _Kernel:
    """``l(z, y)``, ``l'`` and ``l''`` in z: sympy forms and compiled numpy functions."""

    link: str
    loss: str
    expr: sp.Expr
    d1: sp.Expr
    d2: sp.Expr
    f: Any
    d: Any
    dd: Any
    fd: Any
    dd_const: float | None


_KERNELS: dict[tuple[str, str], _Kernel] = {}


def clear_compile_cache() -> None:
    """Forget the compiled per-sample losses (the next build derives and compiles again)."""
    _KERNELS.clear()


def _kernel(link: str, loss: str) -> _Kernel:
    key = (link, loss)
    k = _KERNELS.get(key)
    if k is None:
        expr = _sample_loss(link, loss)
        d1 = sp.diff(expr, _Z)
        d2 = sp.diff(d1, _Z)

        def comp(e):
            return sp.lambdify([_Z, _YS], e, modules="numpy", cse=True)

        const = float(d2) if not d2.free_symbols else None
        k = _Kernel(
            link, loss, expr, d1, d2, comp(expr), comp(d1), comp(d2), comp([expr, d1]), const
        )
        _KERNELS[key] = k
    return k


# ---------------------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------------------
def _readonly(a: Array) -> Array:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Dataset:
    """Samples ``X`` (N, d) and targets ``y`` (N,) with names; validated once, read-only.

    Build with ``Dataset(X, y)``, :meth:`from_points`, :meth:`from_csv` or a generator
    (:func:`make_blobs`, :func:`make_linear`); :meth:`to_csv` writes a file that
    :meth:`from_csv` reads back exactly.
    """

    X: Array
    y: Array
    feature_names: tuple[str, ...] = ()
    target_name: str = "y"
    name: str = "data"
    source: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)

    y_range: tuple[float, float] = field(init=False, repr=False, default=(0.0, 0.0))
    X_aug: Array = field(init=False, repr=False, default=None)

    def __post_init__(self):
        try:
            X = np.array(self.X, dtype=float)  # a private copy: the data set is immutable
            y = np.array(self.y, dtype=float)
        except (TypeError, ValueError) as e:
            raise SurfaceError(
                f"data set {self.name!r}: X and y must be numeric arrays ({e})"
            ) from None
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise SurfaceError(f"data set {self.name!r}: X must have shape (N, d); got {X.shape}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise SurfaceError(
                f"data set {self.name!r}: y must have shape ({X.shape[0]},) to match X "
                f"{X.shape}; got {y.shape}"
            )
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise SurfaceError(f"data set {self.name!r} is empty (X has shape {X.shape})")
        _check_size(self.name, X.shape[0], X.shape[1])
        names = tuple(str(v) for v in self.feature_names) or tuple(
            f"x{j + 1}" for j in range(X.shape[1])
        )
        if len(names) != X.shape[1]:
            raise SurfaceError(
                f"data set {self.name!r}: {len(names)} feature names {list(names)} for "
                f"{X.shape[1]} columns"
            )
        if len(set(names) | {self.target_name}) != len(names) + 1:
            raise SurfaceError(
                f"data set {self.name!r}: column names must be distinct; got features "
                f"{list(names)} and target {self.target_name!r}"
            )
        for arr, what in ((X, "X"), (y, "y")):
            finite = np.isfinite(arr)
            if not finite.all():
                bad = tuple(int(i) for i in np.argwhere(~finite)[0])
                col = f", column {names[bad[1]]!r}" if len(bad) == 2 else ""
                raise SurfaceError(
                    f"data set {self.name!r}: {what} has a non-finite value "
                    f"{float(arr[bad])!r} at sample {bad[0]}{col}"
                )
        # One buffer [X, 1]: X is a view of its first d columns, and a surface with a bias
        # uses the whole buffer as X_aug (z = X_aug @ (w, b): one matrix-vector product).
        Xa = np.empty((X.shape[0], X.shape[1] + 1))
        Xa[:, :-1] = X
        Xa[:, -1] = 1.0
        object.__setattr__(self, "X_aug", _readonly(Xa))
        object.__setattr__(self, "X", _readonly(Xa[:, :-1]))
        object.__setattr__(self, "y", _readonly(y))
        object.__setattr__(self, "feature_names", names)
        object.__setattr__(self, "info", dict(self.info))
        object.__setattr__(self, "y_range", (float(y.min()), float(y.max())))

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_points(
        cls,
        points: Any,
        *,
        feature_names: Sequence[str] | None = None,
        target_name: str = "y",
        name: str = "points",
    ) -> Dataset:
        """From rows ``[[x1, ..., xd, y], ...]`` (the last value of each row is the target)
        or from a pair ``(X, y)``."""
        if isinstance(points, tuple) and len(points) == 2:
            return cls(points[0], points[1], tuple(feature_names or ()), target_name, name)
        if isinstance(points, (str, bytes)) or not isinstance(points, Sequence | np.ndarray):
            raise SurfaceError(f"data set {name!r}: points must be a list of rows [x1, ..., y]")
        rows = list(points)
        if not rows:
            raise SurfaceError(f"data set {name!r}: points is empty")
        width = None
        values = []
        for r, row in enumerate(rows):
            if isinstance(row, (str, bytes)) or not isinstance(row, Sequence | np.ndarray):
                raise SurfaceError(
                    f"data set {name!r}: point {r} must be a list [x1, ..., y]; got {row!r}"
                )
            if width is None:
                width = len(row)
                if width < 2:
                    raise SurfaceError(
                        f"data set {name!r}: point {r} {list(row)!r} needs at least one "
                        "feature and the target [x1, ..., y]"
                    )
            if len(row) != width:
                raise SurfaceError(
                    f"data set {name!r}: point {r} has {len(row)} values; point 0 has {width}"
                )
            vals = []
            for c, cell in enumerate(row):
                col = "y" if c == width - 1 else f"x{c + 1}"
                vals.append(_number(cell, f"data set {name!r}: point {r}, column {col}"))
            values.append(vals)
        A = np.array(values, dtype=float)
        return cls(A[:, :-1], A[:, -1], tuple(feature_names or ()), target_name, name)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        target: str = "y",
        *,
        features: Sequence[str] | None = None,
        name: str | None = None,
    ) -> Dataset:
        """Read a CSV file with a header row; ``target`` names the label column and
        ``features`` (default: every other column) the inputs."""
        p = Path(path)
        if not p.is_file():
            raise SurfaceError(f"data file '{p}' does not exist (csv: {str(path)!r})")
        with p.open(newline="", encoding="utf-8") as fh:
            rows = [
                (i, row)
                for i, row in enumerate(csv.reader(fh), start=1)
                if row and any(c.strip() for c in row)
            ]
        if not rows:
            raise SurfaceError(f"data file '{p}' is empty; a header row and data rows are needed")
        header = [h.strip() for h in rows[0][1]]
        if len(set(header)) != len(header):
            dup = next(h for h in header if header.count(h) > 1)
            raise SurfaceError(f"data file '{p}': the header repeats the column {dup!r}")
        if target not in header:
            raise SurfaceError(
                f"data file '{p}': target column {target!r} not found{suggest(target, header)}; "
                f"columns: {', '.join(header)}"
            )
        if features is None:
            features = [h for h in header if h != target]
        else:
            features = list(features)
            for f_ in features:
                if f_ not in header or f_ == target:
                    raise SurfaceError(
                        f"data file '{p}': feature column {f_!r} not found{suggest(f_, header)}"
                        f"; columns: {', '.join(h for h in header if h != target)}"
                    )
        if not features:
            raise SurfaceError(f"data file '{p}' has no feature columns besides {target!r}")
        cols = [header.index(f_) for f_ in features] + [header.index(target)]
        data = rows[1:]
        if not data:
            raise SurfaceError(f"data file '{p}' has a header but no data rows")
        out = np.empty((len(data), len(cols)))
        for r, (line, row) in enumerate(data):
            if len(row) != len(header):
                raise SurfaceError(
                    f"data file '{p}': row {line} has {len(row)} cells; the header has "
                    f"{len(header)}"
                )
            for k, c in enumerate(cols):
                out[r, k] = _number(
                    row[c], f"data file '{p}': row {line}, column {header[c]!r}", text=True
                )
        return cls(out[:, :-1], out[:, -1], tuple(features), target, name or p.stem, source=str(p))

    def to_csv(self, path: str | Path) -> Path:
        """Write a header row and one row per sample (``repr`` floats: exact round trip)."""
        p = Path(path)
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([*self.feature_names, self.target_name])
            for xi, yi in zip(self.X.tolist(), self.y.tolist(), strict=True):
                w.writerow([repr(v) for v in xi] + [repr(yi)])
        return p

    # -- views ---------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])

    def __len__(self) -> int:
        return self.n_samples

    def subset(self, index: Any) -> Dataset:
        """The samples ``index`` (an index array) as a new data set."""
        idx = np.asarray(index)
        return Dataset(
            self.X[idx],
            self.y[idx],
            self.feature_names,
            self.target_name,
            f"{self.name}[subset]",
            self.source,
            self.info,
        )

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n_samples={self.n_samples}, "
            f"features={list(self.feature_names)}, target={self.target_name!r})"
        )


def _number(cell: Any, where: str, text: bool = False) -> float:
    if isinstance(cell, (bool, np.bool_)) or (not text and isinstance(cell, str)):
        raise SurfaceError(f"{where}: {cell!r} is not a number")
    try:
        v = float(cell.strip() if isinstance(cell, str) else cell)
    except (TypeError, ValueError):
        raise SurfaceError(f"{where}: {cell!r} is not a number") from None
    if not math.isfinite(v):
        raise SurfaceError(f"{where}: {cell!r} is not a finite number")
    return v


#: Data-set limits: a surface has at most MAX_VARIABLES variables (features + bias), like a
#: symbolic one, and the data at most MAX_SAMPLES rows and MAX_VALUES numbers (400 MB).
MAX_SAMPLES = 10_000_000
MAX_VALUES = 50_000_000


def _check_size(name: str, n: int, dim: int) -> None:
    from optiviz.limits import MAX_VARIABLES

    if dim > MAX_VARIABLES - 1:
        raise SurfaceError(
            f"data set {name!r} has {dim} features; at most {MAX_VARIABLES - 1} are allowed "
            f"(with the bias, a surface has at most {MAX_VARIABLES} variables)"
        )
    if n > MAX_SAMPLES or n * dim > MAX_VALUES:
        raise SurfaceError(
            f"data set {name!r} has {n} samples x {dim} features; at most {MAX_SAMPLES} "
            f"samples and {MAX_VALUES} values are allowed"
        )


def _check_int(key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SurfaceError(f"'{key}' must be an integer >= {low}; got {value!r}")
    return int(value)


def _check_float(key: str, value: Any, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SurfaceError(f"'{key}' must be a number >= {low:g}; got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < low:
        raise SurfaceError(f"'{key}' must be a finite number >= {low:g}; got {value!r}")
    return v


def make_blobs(
    n: int = 100, dim: int = 2, seed: int | None = 0, separation: float = 3.0
) -> Dataset:
    """Two Gaussian blobs (identity covariance) for binary classification, labels 0 / 1.

    The centres are ``-/+ separation/2 * u`` with ``u = (1, ..., 1)/sqrt(dim)`` (distance
    ``separation`` apart); ``n // 2`` samples get label 0, the rest label 1, in a seeded
    random order (``np.random.default_rng(seed)``: the same seed gives the same data).
    """
    n = _check_int("n", n, 2)
    dim = _check_int("dim", dim, 1)
    _check_size("blobs", n, dim)  # before allocating
    separation = _check_float("separation", separation)
    rng = np.random.default_rng(seed)
    labels = np.zeros(n)
    labels[n // 2 :] = 1.0
    labels = labels[rng.permutation(n)]
    u = np.full(dim, 1.0 / math.sqrt(dim))
    X = rng.standard_normal((n, dim)) + np.outer(labels - 0.5, separation * u)
    return Dataset(
        X,
        labels,
        name="blobs",
        source=f"make_blobs(n={n}, dim={dim}, seed={seed}, separation={separation:g})",
        info={"generator": "blobs", "n": n, "dim": dim, "seed": seed, "separation": separation},
    )


def make_linear(
    n: int = 100,
    dim: int = 1,
    noise: float = 0.1,
    seed: int | None = 0,
    weights: Sequence[float] | None = None,
    bias: float | None = None,
) -> Dataset:
    """Noisy linear data ``y = X w + b + noise * eps`` for regression.

    ``X`` and ``eps`` are standard normal; ``w`` (uniform in [-2, 2]) and ``b`` (uniform in
    [-1, 1]) are drawn from the same seeded generator unless given; ``info`` keeps them.
    """
    n = _check_int("n", n, 1)
    dim = _check_int("dim", dim, 1)
    _check_size("linear", n, dim)  # before allocating
    noise = _check_float("noise", noise)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dim))
    w = rng.uniform(-2.0, 2.0, dim) if weights is None else np.asarray(weights, dtype=float)
    b = float(rng.uniform(-1.0, 1.0)) if bias is None else float(bias)
    if w.shape != (dim,):
        raise SurfaceError(f"'weights' must have {dim} values; got {weights!r}")
    y = X @ w + b + noise * rng.standard_normal(n)
    return Dataset(
        X,
        y,
        name="linear",
        source=f"make_linear(n={n}, dim={dim}, noise={noise:g}, seed={seed})",
        info={
            "generator": "linear",
            "n": n,
            "dim": dim,
            "seed": seed,
            "noise": noise,
            "weights": w.tolist(),
            "bias": b,
        },
    )


def notes_four_points() -> Dataset:
    """The notes' data set D (notes 002, lines 94-101): ((-3,-3),1), ((-2,-2),1),
    ((4,4),0), ((2,-5),0)."""
    return Dataset(
        [[-3, -3], [-2, -2], [4, 4], [2, -5]],
        [1, 1, 0, 0],
        ("x1", "x2"),
        "y",
        "notes_four_points",
        "notes 002 (IE 643 lectures 6-7), data set D, lines 94-101",
    )


def toy_sigmoid() -> Dataset:
    """The notes' toy set X = [0.5, 2.5], Y = [0.2, 0.9] (notes 001, GD code lines 750-751)."""
    return Dataset(
        [[0.5], [2.5]],
        [0.2, 0.9],
        ("x",),
        "y",
        "toy_sigmoid",
        "notes 001, gradient-descent code: X = [0.5, 2.5], Y = [0.2, 0.9]",
    )


BUILTIN_DATASETS = {"notes_four_points": notes_four_points, "toy": toy_sigmoid}


# ---------------------------------------------------------------------------------------
# The surface
# ---------------------------------------------------------------------------------------
class DataSurface(Surface):
    """The loss of a one-neuron model (linear predictor + link + per-sample loss) on data.

    Variables: the weights (``w1..wd`` unless ``variables`` names them) then the bias
    ``b`` (if ``bias``). Evaluation follows :class:`Surface` (shapes ``(n,)`` / ``(..., n)``,
    ``check=``) and adds ``batch=``: an index array of samples (shape ``(B,)``, shared by
    every point; or ``(..., B)`` matching the points' batch shape, one mini-batch per
    point) -- the loss on that subset, ``reduction="mean"`` dividing by ``B``.

    Attributes beyond :class:`Surface`: ``dataset``, ``n_samples``, ``link``, ``loss``,
    ``reduction``, ``bias``, ``weight_symbols``, ``sample_loss`` (the per-sample loss, sympy
    in weights, ``x1..xd`` and ``y``), ``symbolic_exact``.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        link: str = "sigmoid",
        loss: str = "cross_entropy",
        reduction: str = "sum",
        bias: bool = True,
        name: str | None = None,
        variables: Sequence[str] | None = None,
        window: Any = None,
        l1: float = 0.0,
        l2: float = 0.0,
        description: str = "",
        source: str = "",
    ):
        from optiviz.surface import _check_reg

        if not isinstance(dataset, Dataset):
            raise SurfaceError(f"a data surface needs a Dataset; got {type(dataset).__name__}")
        if link not in ("sigmoid", "identity"):
            raise SurfaceError(f"link must be 'sigmoid' or 'identity'; got {link!r}")
        allowed = LOSSES if link == "sigmoid" else LINEAR_LOSSES
        if loss not in allowed:
            raise SurfaceError(
                f"loss must be one of {', '.join(allowed)}; got {loss!r}{suggest(loss, allowed)}"
            )
        if reduction not in REDUCTIONS:
            raise SurfaceError(
                f"reduction must be one of {', '.join(REDUCTIONS)}; got {reduction!r}"
                f"{suggest(reduction, REDUCTIONS)}"
            )
        if not isinstance(bias, (bool, np.bool_)):
            raise SurfaceError(f"bias must be true or false; got {bias!r}")
        lo, hi = dataset.y_range
        if loss == "cross_entropy" and not (0.0 <= lo and hi <= 1.0):
            bad = dataset.y[(dataset.y < 0) | (dataset.y > 1)][0]
            raise SurfaceError(
                f"loss 'cross_entropy' needs labels in [0, 1] (0/1 classes or probabilities); "
                f"data set {dataset.name!r} has the label {bad:g}"
            )
        d = dataset.dim
        self.dataset = dataset
        self.link, self.loss, self.reduction, self.bias = link, loss, reduction, bool(bias)
        self.n_samples = dataset.n_samples
        self._d = d
        self._X, self._y = dataset.X, dataset.y
        self._A = dataset.X_aug if self.bias else dataset.X  # the design matrix of z
        self._scale = 1.0 if reduction == "sum" else 1.0 / dataset.n_samples
        self._k = _kernel(link, loss)
        n = d + int(self.bias)
        if variables is None:
            variables = [f"w{j + 1}" for j in range(d)] + (["b"] if self.bias else [])
        if isinstance(variables, str) or not isinstance(variables, Sequence):
            raise SurfaceError(f"variables must be a list of names; got {variables!r}")
        variables = [str(v) for v in variables]
        if len(variables) != n or len(set(variables)) != n:
            raise SurfaceError(
                f"variables must be {n} distinct names ({d} weights"
                f"{' and the bias' if self.bias else ''}); got {variables!r}"
            )
        self.symbols = tuple(sp.Symbol(v, real=True) for v in variables)
        self.variables = tuple(variables)
        self.n = n
        self.weight_symbols = self.symbols[:d]
        self.name = name or (
            "linear_regression"
            if link == "identity"
            else "logistic_regression"
            if loss == "cross_entropy"
            else "sigmoid_neuron"
        )
        self.description = description or self._describe_loss()
        self.source = source or dataset.source
        self.parameters = {}
        self.l1 = _check_reg("l1", l1)
        self.l2 = _check_reg("l2", l2)
        self.extra = {}
        self._rebuild = None
        self._window_arg = window
        if window is not None:
            self.__dict__["window"] = self._make_window(window)
        self._gram = None

    # -- facts -------------------------------------------------------------------------
    def _describe_loss(self) -> str:
        kind = {
            "cross_entropy": "cross-entropy",
            "squared_error": "squared error",
            "half_squared_error": "half squared error",
        }[self.loss]
        model = "linear model" if self.link == "identity" else "sigmoid neuron"
        return (
            f"{self.reduction} {kind} of a {model} on {self.dataset.name} "
            f"({self.n_samples} samples, {self._d} features"
            f"{', bias' if self.bias else ', no bias'})"
        )

    def _predictor(self, xs: Sequence[sp.Expr]) -> sp.Expr:
        z = sp.Add(*[w * x for w, x in zip(self.weight_symbols, xs, strict=True)])
        return z + self.symbols[-1] if self.bias else z

    @cached_property
    def sample_loss(self) -> sp.Expr:
        """The per-sample loss as a sympy expression in the weights, ``x1..xd`` and ``y``."""
        xs = [self._fresh(f"x{j + 1}") for j in range(self._d)]
        return self._k.expr.xreplace({_Z: self._predictor(xs), _YS: self._fresh("y")})

    def _fresh(self, name: str) -> sp.Symbol:
        """A data symbol that cannot be confused with a variable of the same name."""
        while name in self.variables:
            name += "_"
        return sp.Symbol(name, real=True)

    @property
    def symbolic_exact(self) -> bool:
        """True when ``expression`` is the explicit sum over the samples (N <= 20)."""
        return self.n_samples <= SYMBOLIC_MAX_SAMPLES

    def _reg_expr(self) -> sp.Expr:
        e = sp.S.Zero
        if self.l2:
            e += to_exact(self.l2) / 2 * sum(w**2 for w in self.weight_symbols)
        if self.l1:
            e += to_exact(self.l1) * sum(sp.Abs(w) for w in self.weight_symbols)
        return e

    @cached_property
    def base_expression(self) -> sp.Expr:
        """The data term (no regularization): explicit sum (N <= 20) or an indexed Sum."""
        N = self.n_samples
        scale = sp.S.One if self.reduction == "sum" else sp.Rational(1, N)
        if self.symbolic_exact:
            terms = []
            for xi, yi in zip(self._X.tolist(), self._y.tolist(), strict=True):
                z = self._predictor([_exact(v) for v in xi])
                terms.append(self._k.expr.xreplace({_Z: z, _YS: _exact(yi)}))
            return scale * sp.Add(*terms)
        x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
        i = sp.Symbol("i", integer=True, positive=True)
        z = self._predictor([x[i, j + 1] for j in range(self._d)])
        return scale * sp.Sum(self._k.expr.xreplace({_Z: z, _YS: y[i]}), (i, 1, N))

    @cached_property
    def expression(self) -> sp.Expr:
        return self.base_expression + self._reg_expr()

    @cached_property
    def gradient(self) -> sp.Matrix:
        return sp.Matrix([_strip_distributions(sp.diff(self.expression, s)) for s in self.symbols])

    @cached_property
    def hessian(self) -> sp.Matrix:
        g = self.gradient
        return sp.Matrix(
            self.n, self.n, lambda i, j: _strip_distributions(sp.diff(g[i], self.symbols[j]))
        )

    @property
    def is_polynomial(self) -> bool:
        return self.link == "identity" and not self.l1

    @property
    def degree(self) -> int | None:
        return 2 if self.is_polynomial else None

    @cached_property
    def text(self) -> str:
        """Plain-text formula shown by ``describe``: the per-sample loss and the sum."""
        xs = [self._fresh(f"x_i{j + 1}" if self._d > 1 else "x_i") for j in range(self._d)]
        li = self._k.expr.xreplace({_Z: self._predictor(xs), _YS: self._fresh("y_i")})
        N = self.n_samples
        head = "sum_i" if self.reduction == "sum" else f"(1/{N}) sum_i"
        text = f"{head} {_paren(str(li))}, i = 1..{N}"
        if self.l2:
            text += f" + {self.l2:g}/2 ||w||^2"
        if self.l1:
            text += f" + {self.l1:g} ||w||_1"
        return text

    @cached_property
    def window(self) -> Array:
        """Plot window (an explicit ``window=`` wins).

        Linear regression (no l1): per variable, the interval covering both 0 (the usual
        start) and the least-squares minimizer ``m``, widened by ``max(|m|, 1)`` each side.
        Sigmoid neurons: weight ``j`` in ``+-6 / rms(x_j)`` (|z| up to ~6 on typical samples,
        where the sigmoid saturates and the plateaus show), rounded up to a multiple of 0.5
        and clipped to [0.5, 20]; the bias in [-5, 5].
        """
        if self.link == "identity" and not self.l1:
            m = self.minima[0].point
            span = np.maximum(np.abs(m), 1.0)
            return np.column_stack([np.minimum(0.0, m) - span, np.maximum(0.0, m) + span])
        X = self._X
        rms = np.sqrt(np.mean(X * X, axis=0))
        h = np.clip(6.0 / np.maximum(rms, 1e-12), 0.5, 20.0)
        h = np.ceil(h * 2.0) / 2.0
        if self.bias:
            h = np.append(h, 5.0)
        return np.column_stack([-h, h])

    @cached_property
    def minima(self) -> list[KnownMinimum]:
        """Linear regression: the least-squares (ridge if l2) minimizer, exactly. Logistic
        cross-entropy: the Newton minimizer when it exists (l2 > 0, or data that are not
        separable); none for the non-convex sigmoid squared errors or with l1."""
        if self.l1:
            return []
        if self.link == "identity":
            return [self._least_squares()]
        if self.loss == "cross_entropy":
            m = self._newton_minimum()
            return [m] if m is not None else []
        return []

    def _least_squares(self) -> KnownMinimum:
        Xa = self._A
        if not self.l2:
            point = np.linalg.lstsq(Xa, self._y, rcond=None)[0]
        else:
            # scale * c * (Xa^T Xa x - Xa^T y) + l2 * D x = 0, c = l''(z) (2 or 1), D = diag(w's)
            c = self._k.dd_const * self._scale
            D = np.eye(self.n)
            if self.bias:
                D[-1, -1] = 0.0
            point = np.linalg.solve(c * (Xa.T @ Xa) + self.l2 * D, c * (Xa.T @ self._y))
        return KnownMinimum(point, float(self.f(point, check=False)))

    def _newton_minimum(self) -> KnownMinimum | None:
        """Damped Newton from 0 on the (convex) cross-entropy.

        Converged when the Newton decrement ``g^T H^-1 g`` is below ``1e-12 f``: quadratic
        convergence gets there in a few steps. On separable data the infimum is only
        approached as ``||w|| -> inf``; there the decrement stays comparable to ``f`` (an
        exponential tail), so no minimum is reported.
        """
        x = np.zeros(self.n)
        with np.errstate(all="ignore"):
            f = float(self.f(x, check=False))
            for _ in range(100):
                g = self.grad(x, check=False)
                H = self.hess(x, check=False)
                try:
                    step = np.linalg.solve(H, g)
                except np.linalg.LinAlgError:
                    return None
                dec = float(g @ step)
                if not (np.isfinite(dec) and dec >= 0.0):
                    return None
                if f > 1e-300 and dec <= 1e-12 * f:
                    xn = x - step  # one more full step: quadratic convergence -> round-off
                    fn = float(self.f(xn, check=False))
                    return KnownMinimum(xn, fn) if fn <= f else KnownMinimum(x, f)
                t = 1.0
                while t > 1e-12:
                    xn = x - t * step
                    fn = float(self.f(xn, check=False))
                    if fn <= f - 1e-4 * t * dec:
                        break
                    t *= 0.5
                else:
                    return None
                x, f = xn, fn
                if not np.all(np.isfinite(x)) or np.linalg.norm(x) > 1e6:
                    return None
        return None

    # -- evaluation ----------------------------------------------------------------------
    def f(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Loss at ``X`` of shape ``(n,)`` or ``(..., n)`` (on the samples ``batch``)."""
        P = self._prepare(X)
        with np.errstate(all="ignore"):
            out = self._run(P, batch, "f")
        return self._checked("f", out, P) if check else out

    def grad(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact gradient ``scale * X_aug^T l'(z)`` (+ regularization); ``(n,)`` or ``(..., n)``."""
        P = self._prepare(X)
        with np.errstate(all="ignore"):
            out = self._run(P, batch, "g")
        return self._checked("the gradient", out, P) if check else out

    def value_and_grad(self, X: Any, *, check: bool = True, batch: Any = None):
        """``(f(X), grad(X))`` sharing ``z`` and the per-sample subexpressions."""
        P = self._prepare(X)
        with np.errstate(all="ignore"):
            f, g = self._run(P, batch, "fg")
        if check:
            return self._checked("f", f, P), self._checked("the gradient", g, P)
        return f, g

    def hess(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact Hessian ``scale * X_aug^T diag(l''(z)) X_aug`` (+ l2 on the weights)."""
        P = self._prepare(X)
        with np.errstate(all="ignore"):
            out = self._run(P, batch, "h")
        return self._checked("the Hessian", out, P) if check else out

    def _prepare(self, X: Any, batch: Any = None) -> Array:
        if type(X) is np.ndarray and X.dtype == np.float64 and X.ndim and X.shape[-1] == self.n:
            return X
        from optiviz.surface import _as_points

        return _as_points(X, self.n, self.variables)

    def _batch_index(self, batch: Any, lead: tuple) -> Array:
        idx = np.asarray(batch)
        N = self.n_samples
        if idx.dtype == np.bool_:
            if idx.shape != (N,):
                raise SurfaceError(
                    f"surface {self.name!r}: a boolean batch mask must have shape ({N},); "
                    f"got {idx.shape}"
                )
            idx = np.flatnonzero(idx)
        if not np.issubdtype(idx.dtype, np.integer) or idx.ndim == 0:
            raise SurfaceError(
                f"surface {self.name!r}: batch must be an array of sample indices; got {batch!r}"[
                    :200
                ]
            )
        if idx.shape[-1] == 0:
            raise SurfaceError(f"surface {self.name!r}: batch is empty")
        if idx.ndim > 1 and idx.shape[:-1] != lead:
            raise SurfaceError(
                f"surface {self.name!r}: batch of shape {idx.shape} must be (B,) or match the "
                f"points' batch shape {lead} + (B,)"
            )
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= N:
            bad = lo if lo < 0 else hi
            raise SurfaceError(
                f"surface {self.name!r}: batch index {int(bad)} is out of range; the data set "
                f"has {N} samples (indices 0..{N - 1})"
            )
        return idx

    def _run(self, P: Array, batch: Any, what: str):
        """Evaluate on all samples or on ``batch``; ``A`` is the design matrix of z (X_aug
        with a bias, X without), so z = A @ x, grad = A^T l', hess = A^T diag(l'') A."""
        if batch is None:
            A, y, scale, full = self._A, self._y, self._scale, True
        else:
            idx = self._batch_index(batch, P.shape[:-1])
            scale = 1.0 if self.reduction == "sum" else 1.0 / idx.shape[-1]
            A, y, full = self._A[idx], self._y[idx], False
            if idx.ndim > 1:
                return self._add_reg(P, self._gathered(P, A, y, scale, what), what)
        if P.ndim == 1:
            out = self._one(P, A, y, scale, what, full)
        else:
            out = self._many(P, A, y, scale, what, full)
        return self._add_reg(P, out, what)

    def _one(self, p: Array, A: Array, y: Array, scale: float, what: str, full: bool):
        """One point (n,): the same three BLAS calls as a hand-written numpy version."""
        k = self._k
        z = A @ p
        if what == "f":
            return np.float64(np.sum(k.f(z, y)) * scale)
        if what == "h":
            return self._hess_block(k.dd(z, y), A, scale, full)
        if what == "fg":
            lv, r = k.fd(z, y)
            g = A.T @ r
            if scale != 1.0:
                g *= scale
            return np.float64(np.sum(lv) * scale), g
        g = A.T @ k.d(z, y)
        if scale != 1.0:
            g *= scale
        return g

    def _hess_block(self, c: Any, A: Array, scale: float, full: bool) -> Array:
        if np.ndim(c) == 0:  # constant l'' (linear regression): scale * c * A^T A
            G = self._gram if full else None
            if G is None:
                G = A.T @ A
                G = 0.5 * (G + G.T)
                if full:
                    self._gram = G
            return (float(c) * scale) * G
        H = A.T @ (A * c[:, None])
        H += H.T  # exactly symmetric
        H *= 0.5 * scale
        return H

    def _many(self, P: Array, A: Array, y: Array, scale: float, what: str, full: bool):
        """Points (..., n) sharing the samples: Z = W A^T of shape (M, N), in chunks."""
        lead, n, k = P.shape[:-1], self.n, self._k
        flat = P.reshape(-1, n)
        M, N = flat.shape[0], A.shape[0]
        per = N * (n if what == "h" else 1)
        step = max(1, _CHUNK_ELEMENTS // max(per, 1))
        f = np.empty(M) if what in ("f", "fg") else None
        g = np.empty((M, n)) if what in ("g", "fg") else None
        H = np.empty((M, n, n)) if what == "h" else None
        for a in range(0, M, step):
            Z = flat[a : a + step] @ A.T
            if what == "f":
                f[a : a + step] = np.sum(k.f(Z, y), axis=1)
            elif what == "h":
                C = k.dd(Z, y)
                if np.ndim(C) == 0:
                    H[a : a + step] = self._hess_block(C, A, 1.0, full)
                else:
                    H[a : a + step] = (A.T[None] * C[:, None, :]) @ A
            else:
                if what == "fg":
                    L, R = k.fd(Z, y)
                    f[a : a + step] = np.sum(L, axis=1)
                else:
                    R = k.d(Z, y)
                g[a : a + step] = R @ A
        outs = []
        for arr, tail in ((f, ()), (g, (n,)), (H, (n, n))):
            if arr is not None:
                if tail == (n, n):
                    arr = arr + arr.swapaxes(-1, -2)
                    arr *= 0.5
                if scale != 1.0:
                    arr *= scale
                outs.append(arr.reshape(lead + tail))
        return tuple(outs) if what == "fg" else outs[0]

    def _gathered(self, P: Array, Ag: Array, yg: Array, scale: float, what: str):
        """One mini-batch per point: Ag (..., B, n), yg (..., B)."""
        k = self._k
        Z = np.einsum("...bn,...n->...b", Ag, P)
        if what == "f":
            return np.sum(k.f(Z, yg), axis=-1) * scale
        if what == "h":
            C = np.broadcast_to(k.dd(Z, yg), Z.shape)
            H = np.einsum("...b,...bi,...bj->...ij", C, Ag, Ag)
            return (H + H.swapaxes(-1, -2)) * (0.5 * scale)
        if what == "fg":
            L, R = k.fd(Z, yg)
        else:
            R = k.d(Z, yg)
        g = np.einsum("...b,...bn->...n", R, Ag) * scale
        return (np.sum(L, axis=-1) * scale, g) if what == "fg" else g

    def _add_reg(self, P: Array, out: Any, what: str):
        if not (self.l1 or self.l2):
            return out
        W = P[..., : self._d]
        if what == "h":
            if self.l2:  # out is a fresh array on every path
                idx = np.arange(self._d)
                out[..., idx, idx] += self.l2
            return out
        f, g = (out, None) if what == "f" else (None, out) if what == "g" else out
        if f is not None:
            f = f + (0.5 * self.l2) * np.sum(W * W, axis=-1) + self.l1 * np.sum(np.abs(W), axis=-1)
        if g is not None:
            g[..., : self._d] += self.l2 * W + self.l1 * np.sign(W)
        return f if what == "f" else g if what == "g" else (f, g)

    # -- mini-batches --------------------------------------------------------------------
    def sample_batch(self, size: int, rng: np.random.Generator) -> Array:
        """``size`` distinct sample indices drawn with ``rng`` (sorted)."""
        size = _check_int("batch size", size, 1)
        if size > self.n_samples:
            raise SurfaceError(
                f"batch size {size} is larger than the data set ({self.n_samples} samples)"
            )
        return np.sort(rng.choice(self.n_samples, size=size, replace=False))

    def epoch_batches(self, size: int, seed: Any = None) -> Iterator[Array]:
        """Endless shuffled epochs of mini-batches (the last of an epoch may be smaller)."""
        size = _check_int("batch size", size, 1)
        rng = np.random.default_rng(seed)
        while True:
            perm = rng.permutation(self.n_samples)
            for a in range(0, self.n_samples, size):
                yield perm[a : a + size]

    # -- derived surfaces -----------------------------------------------------------------
    def with_parameters(self, **overrides: Any) -> Surface:
        if not overrides:
            return self
        raise SurfaceError(
            f"data surface {self.name!r} has no parameters to override "
            f"(got {', '.join(overrides)}); change the data set, loss or regularization instead"
        )

    def regularized(self, l1: float = 0.0, l2: float = 0.0) -> DataSurface:
        """A new surface with ``l1 ||w||_1 + l2/2 ||w||^2`` added (weights only, not the bias)."""
        from optiviz.surface import _check_reg

        return self._copy(l1=self.l1 + _check_reg("l1", l1), l2=self.l2 + _check_reg("l2", l2))

    def _copy(self, **changes: Any) -> DataSurface:
        kw = dict(
            link=self.link,
            loss=self.loss,
            reduction=self.reduction,
            bias=self.bias,
            name=self.name,
            variables=self.variables,
            window=self._window_arg,
            l1=self.l1,
            l2=self.l2,
            description=self.description,
            source=self.source,
        )
        kw.update(changes)
        return DataSurface(self.dataset, **kw)

    def on(self, dataset: Dataset) -> DataSurface:
        """The same loss on another data set (e.g. a subset)."""
        kw = dict(
            link=self.link,
            loss=self.loss,
            reduction=self.reduction,
            bias=self.bias,
            variables=self.variables,
            l1=self.l1,
            l2=self.l2,
        )
        return DataSurface(dataset, **kw)

    # -- presentation ---------------------------------------------------------------------
    def describe(self) -> str:
        text = super().describe()
        info = (
            f"  data: {self.dataset.name}, {self.n_samples} samples, features "
            f"{', '.join(self.dataset.feature_names)}; target {self.dataset.target_name}"
        )
        lines = text.split("\n")
        return "\n".join(lines[:2] + [info] + lines[2:])

    def __repr__(self) -> str:
        return (
            f"DataSurface(name={self.name!r}, link={self.link!r}, loss={self.loss!r}, "
            f"reduction={self.reduction!r}, n_samples={self.n_samples}, "
            f"variables={list(self.variables)})"
        )


def _exact(v: float) -> sp.Expr:
    """Data value as a sympy number: exact for short decimals (0.5 -> 1/2), else a Float."""
    if float(v).is_integer() and abs(v) < 2**53:
        return sp.Integer(int(v))
    r = repr(float(v))
    return to_exact(float(v)) if len(r) <= 8 and "e" not in r else sp.Float(v, 17)


def _paren(s: str) -> str:
    return s if s.startswith("(") and s.endswith(")") and s.count("(") == 1 else f"[{s}]"


# ---------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------
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
    s = logistic_regression(
        toy_sigmoid(),
        bias=True,
        loss="half_squared_error",
        reduction="sum",
        name="toy_sigmoid",
        variables=("w", "b"),
        source="notes 001, lines 463 and 473-477, GD code lines 750-763",
    )
    z1, z2 = math.log(0.2 / 0.8), math.log(0.9 / 0.1)
    w = (z2 - z1) / 2.0
    s.__dict__["minima"] = [KnownMinimum(np.array([w, z1 - 0.5 * w]), 0.0)]
    return s


# ---------------------------------------------------------------------------------------
# Config dictionaries
# ---------------------------------------------------------------------------------------
DATA_KINDS = {
    # kind: (link, default loss, allowed losses, default reduction)
    "logistic": ("sigmoid", "cross_entropy", LOSSES, "sum"),
    "sigmoid_mse": ("sigmoid", "squared_error", LINEAR_LOSSES, "sum"),
    "linear": ("identity", "squared_error", LINEAR_LOSSES, "mean"),
}
_SPEC_KEYS = (
    "data",
    "dataset",
    "bias",
    "loss",
    "reduction",
    "name",
    "variables",
    "l1",
    "l2",
    "window",
    "description",
)
_DATASET_SOURCES = ("points", "csv", "generate", "builtin")
_DATASET_KEYS = {
    "points": ("points", "features", "target"),
    "csv": ("csv", "target", "features"),
    "generate": ("generate", "n", "dim", "seed", "noise", "separation"),
    "builtin": ("builtin",),
}
_GENERATORS = ("blobs", "linear")


def _choice(key: str, value: Any, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        hint = suggest(value, allowed) if isinstance(value, str) else ""
        raise SurfaceError(
            f"data surface: '{key}' must be one of {', '.join(allowed)}; got {value!r}{hint}"
        )
    return value


def _unknown_keys(where: str, spec: Mapping, allowed: Sequence[str]) -> None:
    for key in spec:
        if key not in allowed:
            raise SurfaceError(
                f"data surface: unknown key {key!r} in {where}{suggest(str(key), allowed)}; "
                f"allowed keys: {', '.join(allowed)}"
            )


def make_dataset(spec: Mapping[str, Any], base_dir: str | Path | None = None) -> Dataset:
    """A :class:`Dataset` from a config ``dataset:`` mapping (one of points / csv / generate
    / builtin); relative CSV paths are resolved against ``base_dir``."""
    if not isinstance(spec, Mapping):
        raise SurfaceError(
            f"data surface: 'dataset' must be a mapping with one of "
            f"{', '.join(_DATASET_SOURCES)}; got {spec!r}"
        )
    kinds = [k for k in _DATASET_SOURCES if k in spec]
    if len(kinds) != 1:
        keys = ", ".join(map(str, spec)) or "nothing"
        raise SurfaceError(
            f"data surface: 'dataset' must have exactly one of {', '.join(_DATASET_SOURCES)}; "
            f"got {keys}"
        )
    kind = kinds[0]
    _unknown_keys(f"dataset ({kind})", spec, _DATASET_KEYS[kind])
    if kind == "points":
        return Dataset.from_points(
            spec["points"], feature_names=spec.get("features"), target_name=spec.get("target", "y")
        )
    if kind == "csv":
        path = spec["csv"]
        if not isinstance(path, (str, Path)):
            raise SurfaceError(f"data surface: 'dataset.csv' must be a file path; got {path!r}")
        p = Path(path)
        if base_dir is not None and not p.is_absolute():
            p = Path(base_dir) / p
        return Dataset.from_csv(p, spec.get("target", "y"), features=spec.get("features"))
    if kind == "builtin":
        name = _choice("dataset.builtin", spec["builtin"], tuple(BUILTIN_DATASETS))
        return BUILTIN_DATASETS[name]()
    gen = _choice("dataset.generate", spec["generate"], _GENERATORS)
    kw = {k: spec[k] for k in ("n", "dim", "seed") if k in spec}
    if gen == "blobs":
        if "noise" in spec:
            raise SurfaceError(
                "data surface: 'dataset.noise' is for generate: linear; blobs take 'separation'"
            )
        if "separation" in spec:
            kw["separation"] = spec["separation"]
        try:
            return make_blobs(**kw)
        except SurfaceError as e:
            raise SurfaceError(f"data surface: dataset.{e}") from None
    if "separation" in spec:
        raise SurfaceError(
            "data surface: 'dataset.separation' is for generate: blobs; linear data take 'noise'"
        )
    if "noise" in spec:
        kw["noise"] = spec["noise"]
    try:
        return make_linear(**kw)
    except SurfaceError as e:
        raise SurfaceError(f"data surface: dataset.{e}") from None


def make_data_surface(spec: Mapping[str, Any], base_dir: str | Path | None = None) -> DataSurface:
    """Build a data surface from a config mapping::

        {data: logistic | linear | sigmoid_mse,
         dataset: {points: [[x1, ..., y], ...]} | {csv: path, target: y}
                  | {generate: blobs | linear, n, dim, seed, separation | noise}
                  | {builtin: notes_four_points | toy},
         bias: true, loss: ..., reduction: sum | mean, name, variables, l1, l2, window}

    Defaults by ``data``: logistic -> cross_entropy, sum; sigmoid_mse -> squared_error, sum
    (the notes' sigmoid neuron); linear -> squared_error, mean (MSE). Errors name the key,
    the value and the allowed values.
    """
    if not isinstance(spec, Mapping):
        raise SurfaceError(f"data surface: the spec must be a mapping; got {spec!r}")
    _unknown_keys("the data surface spec", spec, _SPEC_KEYS)
    for key in ("data", "dataset"):
        if key not in spec:
            raise SurfaceError(f"data surface: missing required key {key!r}")
    kind = _choice("data", spec["data"], tuple(DATA_KINDS))
    link, loss0, losses, red0 = DATA_KINDS[kind]
    loss = _choice("loss", spec.get("loss", loss0), losses)
    reduction = _choice("reduction", spec.get("reduction", red0), REDUCTIONS)
    bias = spec.get("bias", True)
    if not isinstance(bias, bool):
        raise SurfaceError(f"data surface: 'bias' must be true or false; got {bias!r}")
    dataset = make_dataset(spec["dataset"], base_dir)
    kw = {k: spec[k] for k in ("name", "variables", "window", "description") if k in spec}
    for k in ("l1", "l2"):
        if k in spec:
            kw[k] = _check_float(k, spec[k])
    return DataSurface(dataset, link=link, loss=loss, reduction=reduction, bias=bias, **kw)
