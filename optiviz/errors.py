"""The exception types optiviz raises for bad input.

Every error a user can cause is an :class:`OptivizError` (a ``ValueError``), so the CLI can
turn any of them into a message and exit code 2 without a traceback. Messages name the
field, the value and what is allowed; errors raised by a constraint check
(:func:`optiviz._validation.check`) also carry those as fields, so code that re-words an
error (the config parser) reads ``owner``, ``key``, ``value`` and ``allowed`` instead of
matching message text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

#: ``OptivizError.value`` when the error is not about one value.
NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "NO_VALUE"})()


class OptivizError(ValueError):
    """Base class of every user-facing optiviz error.

    Structured fields (``None`` / :data:`NO_VALUE` when the error has none):

    ``owner``
        who refused the value: ``"adam"``, ``"schedule 'step'"``, ``"run"``, ``"config"``;
    ``key``
        the field: ``"lr"``, ``"optimizers[0].lr"``;
    ``value``
        the value as given;
    ``allowed``
        what is allowed, the constraint's ``describe()`` text (``"a float in the range
        [0, inf)"``).

    ``str(exc)`` is the full message.
    """

    def __init__(
        self,
        message: str = "",
        *,
        owner: str | None = None,
        key: str | None = None,
        value: Any = NO_VALUE,
        allowed: str | None = None,
    ):
        super().__init__(message)
        self.owner = owner
        self.key = key
        self.value = value
        self.allowed = allowed


class ExpressionError(OptivizError):
    """A user expression was refused by the safe parser."""


class SurfaceError(OptivizError):
    """A surface could not be built or evaluated (unknown name, bad parameter, non-finite value)."""


class OptimizerError(OptivizError):
    """Unknown optimizer or schedule name, or an invalid hyperparameter."""


class ConfigError(OptivizError):
    """A config file is invalid; ``errors`` lists every problem found."""

    def __init__(self, message: str, errors: list[str] | None = None, **fields: Any):
        super().__init__(message, **fields)
        self.errors = list(errors or [message])


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    adjacent letters each cost 1 (so "adma" is 1 away from "adam")."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the nearest of ``choices``, or ``""``.

    The nearest is the choice with the fewest edits when that is at most a third of the
    name's length (at least 1); otherwise difflib's closest match, if any.
    """
    name = str(name)
    choices = [str(c) for c in choices]
    if not choices:
        return ""
    best = min(choices, key=lambda c: (edit_distance(name, c), c))
    if edit_distance(name, best) <= max(1, len(name) // 3):
        return f" (did you mean {best!r}?)"
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""
