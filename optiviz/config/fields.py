"""Collecting a config's problems, and checking one field against a constraint.

Every block parser records problems in one :class:`Problems` (``key.path: message``
lines, all reported together) and checks values with the constraint objects of
:mod:`optiviz._validation`, so a config says "must be a float in the range [0, inf)" in
the same words as the optimizer, the schedule and the engine. A field that failed is
returned as :data:`INVALID` so later checks can skip it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from optiviz._validation import (
    Choice,
    Constraint,
    Interval,
    Invalid,
    OrNone,
    Real,
    SafeName,
    Text,
    to_number,
)
from optiviz._validation import Mapping as MappingOf
from optiviz.errors import NO_VALUE, ConfigError, OptivizError

#: A field that failed its check (its problem is recorded).
INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()

#: Reused constraints.
FINITE = Real()
NONNEG = Interval("float", 0.0, None)
POSITIVE = Interval("float", 0.0, None, closed="right")
SAFE_NAME = SafeName()


def show(value: Any) -> str:
    """A value as a message shows it: strings quoted, the rest YAML-like, at most 80 chars."""
    text = repr(value) if isinstance(value, str) else _yamlish(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _yamlish(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_yamlish(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yamlish(v) for v in value) + "]"
    return str(value)


def join(path: str, key: Any) -> str:
    """``optimizers`` + 0 -> ``optimizers[0]``; ``surface`` + ``name`` -> ``surface.name``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class Problems:
    """Collects ``(key path, message)`` pairs; true when any was recorded."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        #: ``(value, allowed)`` of each item (``(NO_VALUE, None)`` where it has none).
        self.fields: list[tuple[Any, str | None]] = []

    def add(self, path: str, message: str, value: Any = NO_VALUE, allowed: str | None = None):
        self.items.append((path, message))
        self.fields.append((value, allowed))

    def bad(self, path: str, value: Any, allowed: str) -> Any:
        """Record ``<value> is not allowed: must be <allowed>``; return :data:`INVALID`."""
        self.add(path, f"{show(value)} is not allowed: must be {allowed}", value, allowed)
        return INVALID

    def error(self, lines: list[str], head: str) -> ConfigError:
        """The ConfigError of these problems: ``errors`` lists every line; the structured
        fields (``owner="config"``, ``key``, ``value``, ``allowed``) are the first one's."""
        value, allowed = self.fields[0]
        key = self.items[0][0] or None
        return ConfigError(
            head, errors=lines, owner="config", key=key, value=value, allowed=allowed
        )

    def missing(self, path: str, allowed: str) -> Any:
        self.add(path, f"is required: {allowed}")
        return INVALID

    def check(self, path: str, value: Any, constraint: Constraint) -> Any:
        """``constraint.check(value)``, or the problem recorded (at the refused part of the
        value, e.g. ``start[1]``) and :data:`INVALID` returned."""
        try:
            return constraint.check(value)
        except Invalid as exc:
            where = path
            for key in exc.at:
                where = join(where, key)
            allowed = exc.allowed if exc.at else constraint.describe()
            return self.bad(where, exc.value if exc.at else value, f"{allowed}{exc.hint}")

    def refused(self, path: str, exc: OptivizError) -> None:
        """Record an error raised by a library call (an optimizer or a schedule refusing
        its hyperparameters), placed and worded from its structured fields: at
        ``path.<key>`` as ``<value> is not allowed: must be <allowed>`` when it names a
        value and what is allowed, else at ``path.<key>`` (or ``path`` if it names no key)
        with its own message."""
        if exc.key is not None and exc.allowed is not None and exc.value is not NO_VALUE:
            self.bad(join(path, exc.key), exc.value, exc.allowed)
        else:
            self.add(path if exc.key is None else join(path, exc.key), lowered(str(exc)))

    def __bool__(self) -> bool:
        return bool(self.items)


def lowered(message: str) -> str:
    """A library message as the tail of a ``path: message`` line (no capital "The")."""
    msg = message.strip()
    return msg[0].lower() + msg[1:] if msg[:4] in ("The ", "Unkn") else msg


def number(errs: Problems, path: str, value: Any, constraint: Constraint, optional=False) -> Any:
    """A number field; ``optional``: ``null`` (``None``) is allowed and returned."""
    return errs.check(path, value, OrNone(constraint, "null") if optional else constraint)


def as_number(value: Any) -> float | None:
    """A finite-or-infinite float from a number or numeric text (not bools); ``None`` for
    anything else, including ints beyond the float range."""
    v = to_number(value)
    if not isinstance(v, (int, float)):
        return None
    try:
        return float(v)
    except OverflowError:
        return None


def choice(errs: Problems, path: str, value: Any, choices: Sequence[str]) -> Any:
    """One of ``choices`` (listed unquoted: ``one of png, svg, pdf``)."""
    return errs.check(path, value, Choice(choices, quote=False))


def text(errs: Problems, path: str, value: Any, allowed: str = "a string") -> Any:
    """A non-blank string."""
    return errs.check(path, value, Text(allowed))


def vector(errs: Problems, path: str, value: Any, what: str = "a list of finite numbers") -> Any:
    """A non-empty list of finite numbers (every bad item reported); returns a tuple."""
    if not isinstance(value, (list, tuple)) or not value:
        return errs.bad(path, value, what)
    out = [errs.check(join(path, i), v, FINITE) for i, v in enumerate(value)]
    return INVALID if any(v is INVALID for v in out) else tuple(out)


def mapping(errs: Problems, path: str, value: Any, allowed: str = "a mapping") -> Any:
    """A mapping with string keys (each other key reported); returns it or INVALID."""
    if not isinstance(value, Mapping):
        return errs.bad(path, value, allowed)
    bad_keys = [k for k in value if not isinstance(k, str)]
    for k in bad_keys:
        errs.add(join(path, str(k)), f"the key {k!r} is not allowed: keys must be strings")
    return value if not bad_keys else INVALID


def unknown_keys(
    errs: Problems, path: str, value: Mapping, allowed: Sequence[str], what: str = ""
) -> None:
    """Report every key of ``value`` not in ``allowed`` (with the nearest one suggested)."""
    table = MappingOf(allowed)
    for key in table.unknown(value):
        errs.add(join(path, key), table.unknown_message(key, what))


def safe_name(errs: Problems, path: str, value: Any) -> Any:
    return errs.check(path, value, SAFE_NAME)


def is_safe_name(value: Any) -> bool:
    """True for a file-name-safe name (letters, digits, ``. _ -``; no ``..``)."""
    return SAFE_NAME.is_valid(value)


def finite(value: Any) -> float | None:
    """``as_number(value)`` if it is finite, else ``None``."""
    f = as_number(value)
    return f if f is not None and math.isfinite(f) else None
