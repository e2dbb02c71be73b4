"""Data sets: samples ``X`` (N, d) and targets ``y`` (N,), validated once, read-only.

:class:`Dataset` (inline points, CSV files), the seeded generators :func:`make_blobs` and
:func:`make_linear`, the notes' sets :func:`notes_four_points` and :func:`toy_sigmoid`
(:data:`BUILTIN_DATASETS`). Sizes are limited (:mod:`optiviz.data.checks`) before anything
is allocated.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optiviz.data.checks import check_float, check_int, check_size
from optiviz.errors import SurfaceError, suggest

Array = np.ndarray


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
    X_aug: Array = field(init=False, repr=False)

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
        check_size(self.name, X.shape[0], X.shape[1])
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
    except OverflowError:  # an int beyond every float (10**400)
        raise SurfaceError(f"{where}: {str(cell)[:20]}... is not a finite number") from None
    if not math.isfinite(v):
        raise SurfaceError(f"{where}: {cell!r} is not a finite number")
    return v


def make_blobs(
    n: int = 100, dim: int = 2, seed: int | None = 0, separation: float = 3.0
) -> Dataset:
    """Two Gaussian blobs (identity covariance) for binary classification, labels 0 / 1.

    The centres are ``-/+ separation/2 * u`` with ``u = (1, ..., 1)/sqrt(dim)`` (distance
    ``separation`` apart); ``n // 2`` samples get label 0, the rest label 1, in a seeded
    random order (``np.random.default_rng(seed)``: the same seed gives the same data).
    """
    n = check_int("n", n, 2)
    dim = check_int("dim", dim, 1)
    check_size("blobs", n, dim)  # before allocating
    separation = check_float("separation", separation)
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
    n = check_int("n", n, 1)
    dim = check_int("dim", dim, 1)
    check_size("linear", n, dim)  # before allocating
    noise = check_float("noise", noise)
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
        np.array([[-3, -3], [-2, -2], [4, 4], [2, -5]], dtype=float),
        np.array([1, 1, 0, 0], dtype=float),
        ("x1", "x2"),
        "y",
        "notes_four_points",
        "notes 002 (IE 643 lectures 6-7), data set D, lines 94-101",
    )


def toy_sigmoid() -> Dataset:
    """The notes' toy set X = [0.5, 2.5], Y = [0.2, 0.9] (notes 001, GD code lines 750-751)."""
    return Dataset(
        np.array([[0.5], [2.5]]),
        np.array([0.2, 0.9]),
        ("x",),
        "y",
        "toy_sigmoid",
        "notes 001, gradient-descent code: X = [0.5, 2.5], Y = [0.2, 0.9]",
    )


BUILTIN_DATASETS = {"notes_four_points": notes_four_points, "toy": toy_sigmoid}
