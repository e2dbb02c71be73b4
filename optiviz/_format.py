"""The one number formatter and the one JSON-safe converter of optiviz.

* :func:`fmt`: a value as report text, ``digits`` significant digits (6 by default);
  vectors as ``(a, b)``, matrices as ``[(a, b), (c, d)]``; None and nan as ``n/a``;
  booleans as ``yes``/``no``; ``-0`` as ``0``.
* :func:`fmt_point`: a point as ``(a, b)`` in running text (messages, notes); the same
  digits, but a non-finite coordinate shows as ``nan``/``inf`` (it is the thing to see in
  an error message).
* :func:`json_safe`: numpy values, tuples and objects with ``to_dict()`` turned into plain
  JSON values recursively; non-finite floats become None (strict JSON has no NaN).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["NA", "fmt", "fmt_number", "fmt_point", "json_float", "json_safe"]

#: Text of an undefined value.
NA = "n/a"


def fmt_number(x: float, digits: int = 6) -> str:
    """One float with ``digits`` significant digits (``%g``); ``-0`` shows as ``0``."""
    return f"{float(x) + 0.0:.{digits}g}"


def fmt(v: Any, digits: int = 6) -> str:
    """A number with ``digits`` significant digits; vectors as ``(a, b)``; None as ``n/a``."""
    if v is None:
        return NA
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        x = float(a)
        if x != x:
            return NA
        return fmt_number(x, digits)
    if a.ndim == 1:
        return "(" + ", ".join(fmt(x, digits) for x in a) + ")"
    return "[" + ", ".join(fmt(r, digits) for r in a) + "]"


def fmt_point(x: Iterable[float], digits: int = 6) -> str:
    """A point in running text: ``(a, b)``, each coordinate as :func:`fmt_number`."""
    return "(" + ", ".join(fmt_number(v, digits) for v in x) + ")"


def json_float(v: Any) -> float | None:
    """A JSON-safe float: None for None, nan and +-inf."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def json_safe(obj: Any) -> Any:
    """Recursively turn numpy values into floats / lists, non-finite floats into None.

    Mappings get string keys, tuples become lists, objects with a ``to_dict()`` method are
    replaced by its result, anything else unknown by its ``str``.
    """
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return json_float(obj)
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def plural_count(k: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 run``, ``2 runs``, ``0 runs`` (``plural_noun`` for irregular plurals)."""
    return f"{k} {noun if k == 1 else (plural_noun or noun + 's')}"
