"""Data surfaces and data sets from config mappings (the ``data:`` / ``dataset:`` keys).

Errors name the key, the value and the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optiviz.data.checks import check_choice, check_flag, check_float, check_keys
from optiviz.data.datasets import BUILTIN_DATASETS, Dataset, make_blobs, make_linear
from optiviz.data.kernels import LINEAR_LOSSES, LOSSES, REDUCTIONS
from optiviz.data.surface import DataSurface
from optiviz.errors import SurfaceError

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
    check_keys(f"dataset ({kind})", spec, _DATASET_KEYS[kind])
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
        name = check_choice("dataset.builtin", spec["builtin"], tuple(BUILTIN_DATASETS))
        return BUILTIN_DATASETS[name]()
    gen = check_choice("dataset.generate", spec["generate"], _GENERATORS)
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
    check_keys("the data surface spec", spec, _SPEC_KEYS)
    for key in ("data", "dataset"):
        if key not in spec:
            raise SurfaceError(f"data surface: missing required key {key!r}")
    kind = check_choice("data", spec["data"], tuple(DATA_KINDS))
    link, loss0, losses, red0 = DATA_KINDS[kind]
    loss = check_choice("loss", spec.get("loss", loss0), losses)
    reduction = check_choice("reduction", spec.get("reduction", red0), REDUCTIONS)
    bias = check_flag("bias", spec.get("bias", True))
    dataset = make_dataset(spec["dataset"], base_dir)
    kw = {k: spec[k] for k in ("name", "variables", "window", "description") if k in spec}
    for k in ("l1", "l2"):
        if k in spec:
            kw[k] = check_float(k, spec[k])
    return DataSurface(dataset, link=link, loss=loss, reduction=reduction, bias=bias, **kw)
