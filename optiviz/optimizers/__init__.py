"""Optimizer registry: ``make_optimizer``, ``available``, ``describe``, ``get_class``.

Names follow ``torch.optim`` (``sgd``, ``adam``, ``adamw``, ``adamax``, ``nadam``, ``radam``,
``rmsprop``, ``adagrad``, ``adadelta``, ``rprop``: same keywords and defaults) plus the
textbook methods of the lecture notes (``gd``, ``momentum``, ``nesterov``, ``maxprop``) and
``newton``, ``line_search``, ``armijo``. The protocol is in :mod:`optiviz.optimizers.base`.

>>> opt = make_optimizer("adam", lr=0.02)
>>> print(describe("adam"))          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from optiviz._format import fmt_number
from optiviz.errors import OptimizerError, suggest
from optiviz.optimizers.base import REGISTRY, Optimizer, Oracle, Param, register

#: Modules of this package that define no optimizer family.
_NOT_FAMILIES = ("base", "linear")
# Every other public module is a family whose classes register themselves: adding an
# optimizer is one module here (or a class in an existing one) plus its test.
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if not _module.startswith("_") and _module not in _NOT_FAMILIES:
        importlib.import_module(f"{__name__}.{_module}")

__all__ = [
    "Optimizer",
    "Oracle",
    "Param",
    "REGISTRY",
    "available",
    "describe",
    "get_class",
    "make_optimizer",
    "register",
    "summary",
]


def available() -> list[str]:
    """The registered optimizer names, sorted."""
    return sorted(REGISTRY)


def get_class(name: str) -> type[Optimizer]:
    """The optimizer class registered as ``name`` (case-insensitive); OptimizerError otherwise."""
    key = str(name).strip().lower()
    try:
        return REGISTRY[key]
    except KeyError:
        raise OptimizerError(
            f"Unknown optimizer {name!r}{suggest(key, REGISTRY)}. "
            f"Available optimizers: {', '.join(available())}."
        ) from None


def make_optimizer(name: str, **hyperparameters: Any) -> Optimizer:
    """Build optimizer ``name``; hyperparameters are validated (floats or arrays of R values)."""
    return get_class(name)(**hyperparameters)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return fmt_number(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return repr(value)


def summary(name: str) -> str:
    """The one-line summary of an optimizer (first line of its docstring)."""
    doc = (get_class(name).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def describe(name: str) -> str:
    """Name, one-line summary, hyperparameter table (default, allowed range) and equations."""
    cls = get_class(name)
    rows = [
        (key, _fmt(spec.default), spec.describe_range(), spec.doc)
        for key, spec in cls.params.items()
    ]
    w0 = max([len("hyperparameter")] + [len(r[0]) for r in rows])
    w1 = max([len("default")] + [len(r[1]) for r in rows])
    w2 = max([len("allowed")] + [len(r[2]) for r in rows])
    lines = [
        f"{cls.name}: {summary(cls.name)}",
        "",
        f"  {'hyperparameter':<{w0}}  {'default':<{w1}}  {'allowed':<{w2}}  meaning",
        f"  {'-' * w0}  {'-' * w1}  {'-' * w2}  -------",
    ]
    lines += [f"  {a:<{w0}}  {b:<{w1}}  {c:<{w2}}  {d}" for a, b, c, d in rows]
    if not rows:
        lines.append("  (none)")
    lines += ["", "Update:", ""]
    lines += ["  " + line for line in cls.equations.splitlines()]
    return "\n".join(lines)
