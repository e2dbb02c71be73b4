"""The data package's allowed values, stated with the constraint table of
:mod:`optiviz._validation`.

Every refusal is a :class:`~optiviz.errors.SurfaceError` carrying the structured fields
``owner``, ``key``, ``value`` and ``allowed`` (the constraint's ``describe()`` text); the
message keeps the data package's wording (``'n' must be an integer >= 2; got 0``,
``data surface: 'loss' must be one of ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from optiviz._validation import Choice, Flag, Interval, Invalid, check
from optiviz._validation import Mapping as Keys
from optiviz.errors import SurfaceError
from optiviz.limits import MAX_VARIABLES

#: Data-set limits: a surface has at most MAX_VARIABLES variables (features + bias), like a
#: symbolic one, and the data at most MAX_SAMPLES rows and MAX_VALUES numbers (400 MB).
MAX_SAMPLES = 10_000_000
MAX_VALUES = 50_000_000

FEATURES = Interval("int", 1, MAX_VARIABLES - 1)
SAMPLES = Interval("int", 1, MAX_SAMPLES)
BIAS = Flag("true or false")


def check_int(key: str, value: Any, low: int, owner: str = "data set") -> int:
    """``value`` as an int ``>= low``: ``'KEY' must be an integer >= LOW; got VALUE``."""
    return check(
        owner,
        key,
        value,
        Interval("int", low, None),
        error=SurfaceError,
        message="'{key}' must be an integer >= {low}; got {value!r}",
        low=low,
    )


def check_float(key: str, value: Any, low: float = 0.0, owner: str = "data set") -> float:
    """``value`` as a finite float ``>= low``."""
    return check(
        owner,
        key,
        value,
        Interval("float", low, None),
        error=SurfaceError,
        message="'{key}' must be a finite number >= {low:g}; got {value!r}",
        low=low,
    )


#: Messages of a refused config key (``data surface: 'loss' must be ...``) and of a refused
#: constructor argument (``loss must be ...``).
SPEC_MESSAGE = "data surface: '{key}' must be {allowed}; got {value!r}{hint}"
ARG_MESSAGE = "{key} must be {allowed}; got {value!r}{hint}"


def check_choice(key: str, value: Any, allowed: Sequence[str], message: str = SPEC_MESSAGE) -> str:
    """``value`` if it is one of ``allowed`` (text ``one of a, b``, the nearest choice as a
    did-you-mean hint)."""
    constraint = Choice(allowed, quote=False)
    return check("data surface", key, value, constraint, error=SurfaceError, message=message)


def check_flag(key: str, value: Any, message: str = SPEC_MESSAGE) -> bool:
    """``value`` as a bool (text ``true or false``)."""
    return check("data surface", key, value, BIAS, error=SurfaceError, message=message)


def check_keys(where: str, spec: Mapping, allowed: Sequence[str]) -> None:
    """Refuse the first key of ``spec`` not in ``allowed``: ``data surface: unknown key
    'datset' in WHERE (did you mean 'dataset'?); allowed keys: ...``."""
    keys = Keys(allowed)
    try:
        keys.check(spec)
    except Invalid as exc:
        key = exc.at[0]
        raise SurfaceError(
            f"data surface: {keys.unknown_message(str(key), where)}",
            owner="data surface",
            key=str(key),
            value=key,
            allowed=f"one of the keys {', '.join(allowed)}",
        ) from None


def check_size(name: str, n: int, dim: int) -> None:
    """Refuse a data set with more than ``MAX_VARIABLES - 1`` features, more than
    :data:`MAX_SAMPLES` samples or more than :data:`MAX_VALUES` numbers (before any
    allocation: the generators call this first)."""
    owner = f"data set {name!r}"
    if not FEATURES.contains(dim):
        raise SurfaceError(
            f"{owner} has {dim} features; at most {MAX_VARIABLES - 1} are allowed "
            f"(with the bias, a surface has at most {MAX_VARIABLES} variables)",
            owner=owner,
            key="features",
            value=dim,
            allowed=FEATURES.describe(),
        )
    if not SAMPLES.contains(n) or n * dim > MAX_VALUES:
        raise SurfaceError(
            f"{owner} has {n} samples x {dim} features; at most {MAX_SAMPLES} "
            f"samples and {MAX_VALUES} values are allowed",
            owner=owner,
            key="samples",
            value=n,
            allowed=f"{SAMPLES.describe()}, at most {MAX_VALUES} values in all",
        )
