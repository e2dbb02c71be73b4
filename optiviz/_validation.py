"""One table of constraint objects: what a value may be, said once, checked once.

Every layer that takes user input (optimizers, schedules, ``engine.run``, configs, data
surfaces, the surface library) states its allowed values with these objects, in the spirit
of scikit-learn's ``_parameter_constraints``. A constraint has two methods:

``describe() -> str``
    The phrase used in every message: ``"a float in the range [0, inf)"``,
    ``"an int in the range [1, 100000]"``, ``"one of 'all', 'final'"``, ``"a bool"``,
    ``"a pair of floats, each in the range [0, 1)"``.
``check(value) -> normalized value``
    The value converted to its canonical type (``float``, ``int``, ``bool``, ``tuple``), or
    :class:`Invalid` raised (an :class:`~optiviz.errors.OptivizError` that knows the value,
    the ``allowed`` text, a did-you-mean ``hint`` and, inside a list, the index ``at``).

:func:`check` is the one place a refusal becomes a user-facing error: it raises the given
error class (:class:`~optiviz.errors.OptimizerError` by default) with the structured
fields ``owner``, ``key``, ``value``, ``allowed`` set and the message written from a
template (default: ``"The 'lr' hyperparameter of adam must be a float in the range [0,
inf). Got -1 instead."``), so callers such as the config parser read the fields and never
the message text.

Numbers, decided once for every layer:

* ``bool`` (and ``numpy.bool_``) is never a number: ``True`` is refused where a float or
  an int is asked for, and only :class:`Flag` accepts it.
* A number is a Python or numpy ``int`` / ``float``, or numeric text such as ``"1e-3"``
  (YAML 1.1 reads ``1e-3`` as a string); nothing else is converted.
* ``nan`` is refused everywhere. ``inf`` / ``-inf`` are accepted only where the range
  includes them: an :class:`Interval` whose bound is ``math.inf`` with that end closed
  (text ``"(0, inf]"``); an unbounded end written as ``None`` (text ``"inf)"``) excludes
  infinity.
* Ints are compared exactly (``10**400`` is simply above ``100000``); an int too large for a
  float (beyond about 1.8e308) is refused with the usual message, never an
  ``OverflowError``. An int constraint accepts an integral float (``3.0`` -> ``3``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as _AbcMapping
from typing import Any

import numpy as np

from optiviz.errors import OptimizerError, OptivizError, suggest

__all__ = [
    "Constraint",
    "Invalid",
    "Interval",
    "Real",
    "Choice",
    "Flag",
    "Pair",
    "Vector",
    "Text",
    "SafeName",
    "Mapping",
    "OrNone",
    "check",
    "to_number",
    "format_bound",
    "HYPERPARAMETER",
    "NUMBER_TEXT",
]

#: Numeric text accepted where a number is asked for (``"1e-3"``, ``"-2"``, ``"inf"``).
NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$", re.I)

#: The default message of :func:`check` (scikit-learn's shape).
HYPERPARAMETER = (
    "The {key!r} hyperparameter of {owner} must be {allowed}. Got {value!r} instead{hint}."
)

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_NOT_A_NUMBER = object()


class Invalid(OptivizError):
    """A value refused by a constraint (``check`` raised it; :func:`check` re-raises it as
    the caller's error). ``at`` is the position inside the value (``(2,)``: its item 2)
    when only a part was refused; ``value`` and ``allowed`` then describe that part."""

    def __init__(self, value: Any, allowed: str, hint: str = "", at: tuple = ()):
        super().__init__(
            f"{value!r} is not allowed: must be {allowed}{hint}",
            value=value,
            allowed=allowed,
        )
        self.hint = hint
        self.at = at


class Constraint:
    """Base class: ``describe()`` (the allowed-values phrase) and ``check(value)``."""

    def describe(self) -> str:
        raise NotImplementedError

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def is_valid(self, value: Any) -> bool:
        """True when ``check(value)`` would accept ``value``."""
        try:
            self.check(value)
        except Invalid:
            return False
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


def to_number(value: Any) -> Any:
    """``value`` as a Python ``int`` or ``float`` if it is a number (see the module
    docstring: bools are not, numeric text is), else a private sentinel; never raises."""
    if isinstance(value, (bool, np.bool_)):
        return _NOT_A_NUMBER
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str) and NUMBER_TEXT.match(value.strip()):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return float(text)
    return _NOT_A_NUMBER


def format_bound(v: float) -> str:
    """A range bound as text: ``0``, ``1``, ``10000000``, ``0.5``, ``1e-08``, ``inf``."""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if float(v).is_integer() and abs(v) < 1e16:
        return str(int(v))
    return f"{v:g}"


class Interval(Constraint):
    """A real number (``kind="float"``) or an integer (``kind="int"``) in a range.

    ``low`` / ``high`` of ``None`` leave that end unbounded (infinity excluded);
    ``math.inf`` as a bound with that end closed admits infinity itself. ``closed`` is
    ``"both"``, ``"left"``, ``"right"`` or ``"neither"`` (which finite ends are included).
    ``strict`` (ints only): accept Python / numpy ints alone, not ``2.0`` or ``"2"``.
    """

    def __init__(
        self,
        kind: str = "float",
        low: float | None = None,
        high: float | None = None,
        *,
        closed: str = "both",
        strict: bool = False,
    ):
        if kind not in ("float", "int"):
            raise ValueError(f"Interval kind must be 'float' or 'int', not {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be both/left/right/neither, not {closed!r}")
        self.kind = kind
        self.low = low
        self.high = high
        self.closed = closed
        self.strict = strict
        self.low_open = low is None or closed in ("right", "neither")
        self.high_open = high is None or closed in ("left", "neither")

    def _range(self) -> str:
        lo = "-inf" if self.low is None else format_bound(self.low)
        hi = "inf" if self.high is None else format_bound(self.high)
        lb = "(" if self.low_open else "["
        rb = ")" if self.high_open else "]"
        return f"in the range {lb}{lo}, {hi}{rb}"

    def describe(self, plural: bool = False) -> str:
        """``"a float in the range [0, inf)"``; ``plural``: ``"floats, each in the ..."``."""
        if plural:
            return f"{self.kind}s, each {self._range()}"
        return f"{'an int' if self.kind == 'int' else 'a float'} {self._range()}"

    def contains(self, v: float) -> bool:
        """Whether the number ``v`` (already a Python int / float) lies in the range."""
        if isinstance(v, float) and math.isnan(v):
            return False
        if self.low is None:
            if v == -math.inf:
                return False
        elif v < self.low or (self.low_open and v == self.low):
            return False
        if self.high is None:
            if v == math.inf:
                return False
        elif v > self.high or (self.high_open and v == self.high):
            return False
        return True

    def check(self, value: Any) -> Any:
        v = to_number(value)
        if v is _NOT_A_NUMBER or (self.strict and not isinstance(value, (int, np.integer))):
            raise Invalid(value, self.describe())
        if self.kind == "int":
            if isinstance(v, float):
                if not v.is_integer():  # also nan and +-inf
                    raise Invalid(value, self.describe())
                v = int(v)
        elif isinstance(v, int):
            try:
                v = float(v)
            except OverflowError:  # an int beyond the float range
                raise Invalid(value, self.describe()) from None
        if isinstance(v, int) and abs(v) > 2**1024:  # keep ints in the float range too
            raise Invalid(value, self.describe())
        if not self.contains(v):
            raise Invalid(value, self.describe())
        return v

    def check_array(self, arr: np.ndarray) -> int | None:
        """Index of the first value of the float array ``arr`` outside the range (or not
        integral for an int interval), or ``None`` when every value is allowed."""
        a = np.asarray(arr, dtype=float).reshape(-1)
        with np.errstate(invalid="ignore"):
            ok = ~np.isnan(a)
            if self.low is None:
                ok &= a > -np.inf
            else:
                ok &= (a > self.low) if self.low_open else (a >= self.low)
            if self.high is None:
                ok &= a < np.inf
            else:
                ok &= (a < self.high) if self.high_open else (a <= self.high)
            if self.kind == "int":
                ok &= np.isfinite(a) & (a == np.floor(a))
        bad = np.flatnonzero(~ok)
        return int(bad[0]) if bad.size else None


class Real(Constraint):
    """Any finite real number (``"a finite number"``); returns a float."""

    def __init__(self, text: str = "a finite number"):
        self.text = text

    def describe(self) -> str:
        return self.text

    def check(self, value: Any) -> float:
        v = to_number(value)
        if v is _NOT_A_NUMBER:
            raise Invalid(value, self.text)
        try:
            f = float(v)
        except OverflowError:  # an int beyond the float range
            raise Invalid(value, self.text) from None
        if not math.isfinite(f):
            raise Invalid(value, self.text)
        return f


class Choice(Constraint):
    """One of a fixed set of values (``"one of 'all', 'final'"``; ``quote=False``:
    ``"one of png, svg, pdf"``). A refused string gets the nearest choice as a hint."""

    def __init__(self, values: Iterable[Any], *, quote: bool = True):
        self.values = tuple(values)
        self.quote = quote

    def describe(self) -> str:
        shown = (repr(c) if self.quote else str(c) for c in self.values)
        return "one of " + ", ".join(shown)

    def check(self, value: Any) -> Any:
        for c in self.values:
            if type(value) is type(c) and value == c:
                return c
        hint = suggest(str(value), map(str, self.values))
        raise Invalid(value, self.describe(), hint)


class Flag(Constraint):
    """A boolean (``"a bool"``): ``True`` / ``False`` / ``numpy.bool_``, nothing else."""

    def __init__(self, text: str = "a bool"):
        self.text = text

    def describe(self) -> str:
        return self.text

    def check(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise Invalid(value, self.text)


class Pair(Constraint):
    """Two values, each allowed by ``inner`` (``"a pair of floats, each in the range [0,
    1)"``): a list or tuple of length 2; returns a tuple. A refusal names the whole pair."""

    def __init__(self, inner: Constraint):
        self.inner = inner

    def describe(self) -> str:
        inner = self.inner
        text = inner.describe(plural=True) if isinstance(inner, Interval) else inner.describe()
        return f"a pair of {text}"

    def check(self, value: Any) -> tuple:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise Invalid(value, self.describe())
        try:
            return (self.inner.check(value[0]), self.inner.check(value[1]))
        except Invalid:
            raise Invalid(value, self.describe()) from None


class Vector(Constraint):
    """A non-empty list of values allowed by ``inner`` (default: finite numbers), of length
    ``n`` if given; returns a tuple. A bad item is refused at its index (``at=(i,)``)."""

    def __init__(
        self,
        inner: Constraint | None = None,
        n: int | None = None,
        *,
        text: str | None = None,
        max_len: int | None = None,
    ):
        self.inner = inner if inner is not None else Real()
        self.n = n
        self.max_len = max_len
        self.text = text

    def describe(self) -> str:
        if self.text is not None:
            return self.text
        inner = self.inner.describe()
        plural = inner.replace("a finite number", "finite numbers", 1)
        if self.n is not None:
            return f"a list of {self.n} {plural.removeprefix('a list of ')}"
        return f"a list of {plural}"

    def check(self, value: Any) -> tuple:
        if not isinstance(value, (list, tuple)) or not value:
            raise Invalid(value, self.describe())
        if (self.n is not None and len(value) != self.n) or (
            self.max_len is not None and len(value) > self.max_len
        ):
            raise Invalid(value, self.describe())
        out = []
        for i, item in enumerate(value):
            try:
                out.append(self.inner.check(item))
            except Invalid as exc:
                raise Invalid(exc.value, exc.allowed or "", exc.hint, (i, *exc.at)) from None
        return tuple(out)


class Text(Constraint):
    """A string; non-blank unless ``blank=True`` (``"a string"``)."""

    def __init__(self, text: str = "a string", *, blank: bool = False):
        self.text = text
        self.blank = blank

    def describe(self) -> str:
        return self.text

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or (not self.blank and not value.strip()):
            raise Invalid(value, self.text)
        return value


class SafeName(Constraint):
    """A file-name-safe name: letters, digits, ``.``, ``_``, ``-``; starts with a letter or
    digit; no ``..``; at most ``max_len`` characters."""

    def __init__(self, max_len: int = 100):
        self.max_len = max_len

    def describe(self) -> str:
        return (
            "a file-name-safe string: letters, digits, '.', '_' and '-', starting with a "
            "letter or digit (no path separators, no '..')"
        )

    def check(self, value: Any) -> str:
        if (
            not isinstance(value, str)
            or not _SAFE_NAME.fullmatch(value)
            or ".." in value
            or len(value) > self.max_len
        ):
            raise Invalid(value, self.describe())
        return value


class Mapping(Constraint):
    """A mapping with string keys drawn from ``keys`` (``None``: any string keys).

    ``check`` refuses the first problem; :meth:`unknown` lists every key not allowed (the
    config parser reports them all) and :meth:`unknown_message` words one of them.
    """

    def __init__(self, keys: Sequence[str] | None = None, *, text: str = "a mapping"):
        self.keys = None if keys is None else tuple(keys)
        self.text = text

    def describe(self) -> str:
        return self.text

    def unknown(self, value: _AbcMapping) -> list[str]:
        """The string keys of ``value`` that are not allowed (in order)."""
        if self.keys is None:
            return []
        return [k for k in value if isinstance(k, str) and k not in self.keys]

    def unknown_message(self, key: str, what: str = "") -> str:
        """``unknown key 'x' in WHAT (did you mean 'y'?); allowed keys: a, b``."""
        where = f" in {what}" if what else ""
        allowed = self.keys or ()
        return (
            f"unknown key {key!r}{where}{suggest(key, allowed)}; allowed keys: {', '.join(allowed)}"
        )

    def check(self, value: Any) -> dict:
        if not isinstance(value, _AbcMapping):
            raise Invalid(value, self.text)
        for k in value:
            if not isinstance(k, str):
                raise Invalid(k, "a string key", at=(k,))
        for k in self.unknown(value):
            raise Invalid(k, f"one of the keys {', '.join(self.keys or ())}", at=(k,))
        return dict(value)


class OrNone(Constraint):
    """``inner`` or ``None`` (``"... or None"``; ``spelled="null"`` for YAML)."""

    def __init__(self, inner: Constraint, spelled: str = "None"):
        self.inner = inner
        self.spelled = spelled

    def describe(self) -> str:
        return f"{self.inner.describe()} or {self.spelled}"

    def check(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.inner.check(value)
        except Invalid as exc:
            allowed = self.describe() if not exc.at else (exc.allowed or "")
            raise Invalid(exc.value, allowed, exc.hint, exc.at) from None


def check(
    owner: str,
    key: str,
    value: Any,
    constraint: Constraint,
    *,
    error: type[OptivizError] = OptimizerError,
    message: str = HYPERPARAMETER,
    **fields: Any,
) -> Any:
    """``constraint.check(value)``, or ``error`` raised with ``owner``, ``key``, ``value``
    and ``allowed`` set and the message ``message.format(owner=, key=, value=, allowed=,
    hint=, **fields)`` (``value`` is the value as given, whole even when a part of it was
    refused).

    >>> check("adam", "lr", 0.1, Interval("float", 0.0, None))
    0.1
    """
    try:
        return constraint.check(value)
    except Invalid as exc:
        allowed = constraint.describe()
        text = message.format(
            owner=owner, key=key, value=value, allowed=allowed, hint=exc.hint, **fields
        )
        raise error(text, owner=owner, key=key, value=value, allowed=allowed) from None
