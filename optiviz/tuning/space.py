"""Search spaces: which hyperparameters of one optimizer a tuning searches, over what.

A :class:`SearchSpace` holds the searched :class:`Dimension` s of one optimizer and the
values it fixes. Each optimizer class ships a default space
(:meth:`~optiviz.optimizers.base.Optimizer.search_space`: ``lr`` log-uniform over
1e-5 .. 10, averaging coefficients such as ``momentum`` and ``betas`` uniform over
[0, 0.99]); a config (``tune: {space: {NAME: {...}}}``) or a caller overrides it key by key,
the same for every surface it is used on. A written dimension is one of::

    {log: [a, b]}        log-uniform on [a, b], 0 < a < b
    {uniform: [a, b]}    uniform on [a, b], a < b
    {values: [v1, ...]}  one of the listed values
    v                    a fixed value (not searched)

and a pair hyperparameter (``betas``) is a list of two of these, ``[{uniform: [0, 0.99]},
0.999]``. Every end and value must be allowed by the hyperparameter's own range, and only a
batchable hyperparameter (one that may take R values in one batched run) can be searched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiviz.errors import OptivizError, suggest

__all__ = ["DIMENSION_FORMS", "Dimension", "SearchSpace", "parse_space"]

#: What a written dimension may be.
DIMENSION_FORMS = "{log: [a, b]}, {uniform: [a, b]}, {values: [v1, ...]} or a fixed value"


@dataclass(frozen=True)
class Dimension:
    """One searched number: hyperparameter ``key`` (element ``part`` of a pair, else None),
    ``scale`` "log" / "uniform" on ``[low, high]``, or "values" (one of ``values``)."""

    key: str
    scale: str
    low: float = 0.0
    high: float = 0.0
    values: tuple[float, ...] = ()
    part: int | None = None

    @property
    def name(self) -> str:
        """The column name: ``lr``, ``betas_1`` (pairs counted from 1, as in the CSVs)."""
        return self.key if self.part is None else f"{self.key}_{self.part + 1}"

    @property
    def count(self) -> int | None:
        """The number of values of a "values" dimension (None for a range)."""
        return len(self.values) if self.scale == "values" else None

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map ``u`` in [0, 1] onto the dimension (a grid's 0 and 1 are the ends)."""
        u = np.asarray(u, dtype=float)
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            return np.exp(lo + u * (hi - lo))
        if self.scale == "uniform":
            return self.low + u * (self.high - self.low)
        idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
        return np.asarray(self.values, dtype=float)[idx]

    def grid(self, count: int) -> np.ndarray:
        """``count`` evenly spaced values (log-spaced on a log scale), ends included."""
        if self.scale == "values":
            return np.asarray(self.values, dtype=float)
        if self.scale == "log":
            return np.logspace(math.log10(self.low), math.log10(self.high), count)
        return np.linspace(self.low, self.high, count)

    def to_written(self) -> Any:
        """The written form (``{log: [a, b]}``, ...)."""
        if self.scale == "values":
            return {"values": list(self.values)}
        return {self.scale: [self.low, self.high]}

    def describe(self) -> str:
        if self.scale == "values":
            return f"{self.name} in {{{', '.join(f'{v:g}' for v in self.values)}}}"
        how = "log-uniform" if self.scale == "log" else "uniform"
        return f"{self.name} {how} on [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class SearchSpace:
    """The searched dimensions of one optimizer and the hyperparameters it fixes."""

    optimizer: str
    dimensions: tuple[Dimension, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def d(self) -> int:
        return len(self.dimensions)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dim.name for dim in self.dimensions)

    def values(self, u: np.ndarray) -> np.ndarray:
        """``(N, d)`` unit points -> ``(N, d)`` values of the dimensions."""
        u = np.asarray(u, dtype=float).reshape(-1, self.d)
        return np.stack([dim.from_unit(u[:, j]) for j, dim in enumerate(self.dimensions)], -1)

    def grid_values(self, counts: tuple[int, ...]) -> np.ndarray:
        """The full grid with ``counts[j]`` values in dimension ``j``, ``(prod, d)``, the
        last dimension varying fastest."""
        axes = [dim.grid(c) for dim, c in zip(self.dimensions, counts, strict=True)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.reshape(-1) for m in mesh], axis=-1)

    def hyperparameters(self, values: np.ndarray) -> dict[str, Any]:
        """``(N, d)`` values -> the optimizer's keyword arguments: the fixed values plus
        each searched one as N floats (a pair as two lists, or a list and a fixed value)."""
        values = np.asarray(values, dtype=float).reshape(-1, self.d)
        out: dict[str, Any] = dict(self.fixed)
        pairs: dict[str, list[Any]] = {}
        for j, dim in enumerate(self.dimensions):
            col = values[:, j].tolist()
            if dim.part is None:
                out[dim.key] = col
            else:
                pair = pairs.setdefault(dim.key, list(out.get(dim.key, (None, None))))
                pair[dim.part] = col
        for key, pair in pairs.items():
            out[key] = tuple(pair)
        return out

    def setting(self, row: np.ndarray) -> dict[str, Any]:
        """One trial's hyperparameters (floats), the fixed ones included."""
        h = self.hyperparameters(np.asarray(row, dtype=float).reshape(1, -1))
        return {
            k: (
                tuple(v[0] if isinstance(v, list) else v for v in val)
                if isinstance(val, tuple)
                else (val[0] if isinstance(val, list) else val)
            )
            for k, val in h.items()
        }

    def describe(self) -> str:
        return "; ".join(dim.describe() for dim in self.dimensions) or "nothing searched"


def _fail(path: str, value: Any, allowed: str) -> OptivizError:
    from optiviz.config.fields import show

    return OptivizError(
        f"{path}: {show(value)} is not allowed: must be {allowed}",
        owner="tune",
        key=path,
        value=value,
        allowed=allowed,
    )


def _number(path: str, value: Any, param: Any) -> float:
    """A float the hyperparameter's element range allows."""
    from optiviz._validation import Invalid, Pair

    c = param.constraint
    number = c.inner if isinstance(c, Pair) else c
    try:
        return float(number.check(value))
    except Invalid:
        raise _fail(path, value, number.describe()) from None


def _dimension(path: str, key: str, part: int | None, value: Any, param: Any) -> Any:
    """A written dimension -> a :class:`Dimension`, or the fixed number (a float)."""
    if not isinstance(value, Mapping):
        return _number(path, value, param)
    if len(value) != 1 or next(iter(value)) not in ("log", "uniform", "values"):
        bad = [k for k in value if k not in ("log", "uniform", "values")]
        if bad:
            raise OptivizError(
                f"{path}.{bad[0]}: unknown form {bad[0]!r}"
                f"{suggest(str(bad[0]), ('log', 'uniform', 'values'))}; a dimension is "
                f"{DIMENSION_FORMS}",
                owner="tune",
                key=f"{path}.{bad[0]}",
            )
        raise _fail(path, dict(value), f"exactly one of {DIMENSION_FORMS}")
    ((form, args),) = value.items()
    where = f"{path}.{form}"
    if form == "values":
        if not isinstance(args, (list, tuple)) or not args or len(args) > 10_000:
            raise _fail(where, args, "a non-empty list of at most 10000 numbers")
        vals = tuple(_number(f"{where}[{i}]", v, param) for i, v in enumerate(args))
        return Dimension(key, "values", values=vals, part=part)
    if not isinstance(args, (list, tuple)) or len(args) != 2:
        raise _fail(where, args, f"[a, b]: the {form} range from a to b")
    a = _number(f"{where}[0]", args[0], param)
    b = _number(f"{where}[1]", args[1], param)
    if not a < b:
        raise _fail(where, list(args), "[a, b] with a < b")
    if form == "log" and not a > 0:
        raise _fail(where, list(args), "[a, b] with 0 < a < b (a log-uniform range)")
    return Dimension(key, form, low=a, high=b, part=part)


def parse_space(
    optimizer: str,
    given: Mapping[str, Any] | None = None,
    fixed: Mapping[str, Any] | None = None,
    path: str | None = None,
) -> SearchSpace:
    """The search space of ``optimizer``: its class's default space, overridden key by key
    by ``given`` (written dimensions, see the module docstring), with the hyperparameters
    of ``fixed`` (an optimizers entry's own values) taken out of the default. A key both in
    ``given`` and ``fixed`` is refused. Raises :class:`OptivizError` whose ``key`` is the
    path of the refused field (``tune.space.adam.lr``; ``path`` is the prefix, default
    ``tune.space.<optimizer>``)."""
    from optiviz.optimizers import get_class

    cls = get_class(optimizer)
    path = path or f"tune.space.{optimizer}"
    given = dict(given or {})
    fixed = dict(fixed or {})
    written: dict[str, Any] = {}
    for key, s in cls.search_space().items():
        if key in fixed:
            continue
        if isinstance(s, tuple):
            written[key] = [{s_.scale: [s_.low, s_.high]} for s_ in s]
        else:
            written[key] = {s.scale: [s.low, s.high]}
    for key, value in given.items():
        where = f"{path}.{key}"
        if key not in cls.params:
            raise OptivizError(
                f"{where}: {optimizer} has no hyperparameter {key!r}"
                f"{suggest(key, cls.params)}; it takes: {', '.join(cls.params)}",
                owner="tune",
                key=where,
            )
        if key in fixed:
            raise OptivizError(
                f"{where}: {key} is both fixed by the optimizers entry ({key}: "
                f"{fixed[key]!r}) and given here; keep one",
                owner="tune",
                key=where,
            )
        written[key] = value
    dims: list[Dimension] = []
    out_fixed: dict[str, Any] = dict(fixed)
    for key, value in written.items():
        where = f"{path}.{key}"
        param = cls.params[key]
        searched = _is_search(value)
        if searched and (not param.batchable or param.kind not in ("float", "pair")):
            raise _fail(
                where,
                value,
                f"a fixed value: {key} cannot vary within one batched run "
                f"({param.describe_range()}); list one optimizers entry per value instead",
            )
        if not searched:
            out_fixed[key] = _fixed(where, key, value, param, cls)
            continue
        if param.kind == "pair":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise _fail(where, value, f"a list of two dimensions ({DIMENSION_FORMS})")
            parts = [_dimension(f"{where}[{i}]", key, i, v, param) for i, v in enumerate(value)]
            dims += [p for p in parts if isinstance(p, Dimension)]
            if any(not isinstance(p, Dimension) for p in parts):
                out_fixed[key] = tuple(None if isinstance(p, Dimension) else p for p in parts)
        else:
            dims.append(_dimension(where, key, None, value, param))
    return SearchSpace(optimizer, tuple(dims), out_fixed)


def _is_search(value: Any) -> bool:
    if isinstance(value, Mapping):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, Mapping) for v in value)


def _fixed(where: str, key: str, value: Any, param: Any, cls: Any) -> Any:
    """A fixed value, checked by the optimizer's own table (the whole setting is checked
    when the trials' optimizer is built)."""
    from optiviz._validation import Invalid

    try:
        v = param.constraint.check(value)
    except Invalid:
        raise _fail(where, value, param.describe_range()) from None
    return tuple(v) if isinstance(v, list) else v
