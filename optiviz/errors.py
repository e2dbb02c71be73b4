"""The exception types optiviz raises for bad input.

Every error a user can cause is an :class:`OptivizError` (a ``ValueError``), so the CLI can
turn any of them into a message and exit code 2 without a traceback. Messages name the
field, the value and what is allowed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class OptivizError(ValueError):
    """Base class of every user-facing optiviz error."""


class ExpressionError(OptivizError):
    """A user expression was refused by the safe parser."""


class SurfaceError(OptivizError):
    """A surface could not be built or evaluated (unknown name, bad parameter, non-finite value)."""


class OptimizerError(OptivizError):
    """Unknown optimizer or schedule name, or an invalid hyperparameter."""


class ConfigError(OptivizError):
    """A config file is invalid; ``errors`` lists every problem found."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = list(errors or [message])


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the nearest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""
