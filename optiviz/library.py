"""The surface library: one YAML file per surface in the repository's ``surfaces/`` folder.

::

    from optiviz.library import load_surface, available_surfaces, surface_info
    s = load_surface("rosenbrock", b=10)          # parameter override (rebuilt exactly)
    r = load_surface("quadratic", l2=0.1)         # + 0.1/2 ||w||^2 (l1, l2 are reserved)
    available_surfaces()                           # ['ackley', 'beale', ...]
    surface_info("beale")                          # the YAML content; no sympy imported

:func:`available_surfaces` and :func:`surface_info` read YAML only: they never import
sympy, so ``optiviz list surfaces`` stays fast. :func:`load_surface` imports the safe parser
and :class:`~optiviz.surface.Surface` lazily. Parsed YAML is cached per process (never the
surfaces: they are cheap to share but callers may hold different overrides).

The YAML schema is :data:`SCHEMA` below (also rendered at the top of ``docs/surfaces.md``,
which :func:`surfaces_markdown` generates so that the table never drifts from the files).
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optiviz._format import fmt_number
from optiviz._validation import Flag, Interval, Text, check
from optiviz.errors import SurfaceError, suggest
from optiviz.limits import MAX_STRUCTURED_VARIABLES

if TYPE_CHECKING:  # pragma: no cover
    from optiviz.surface import Surface

SCHEMA = """\
Each surface is one file `surfaces/<name>.yaml`; every file is validated strictly when it is
read (an unknown key is an error that names the file, the key and the nearest valid key).

Keys (required ones marked *):

- `name`*: the surface name; must equal the file name without `.yaml`.
- `description`*: one line shown by `optiviz list surfaces`.
- `source`*: where the function comes from (a paper or book, or `notes 000 worked
  problem A`).
- `expression` or `family` (exactly one): `expression` is formula text for the safe parser
  (`optiviz.expr`: `+ - * / **`, `exp log sqrt sin cos tan tanh sinh cosh abs Max Min
  sigmoid softplus relu`, `pi`, `E`); `family` names a parametric family built in Python
  with sympy: `quadratic` or `rosenbrock`.
- `variables` (* with `expression`): variable names in coordinate order; families derive
  theirs.
- `parameters`: mapping name -> default value, a number or a constant expression such as
  `"0.15*pi"` (the quadratic family also takes a matrix `A` and a vector `b`). `l1` and
  `l2` are reserved for regularization.
- `window`: the plot window, `[low, high]` for every variable or one `[low, high]` per
  variable (default `[-2, 2]`); entries may be expressions of the parameters. Families
  compute theirs.
- `minima`: known minima (global and local), a list of `{point: [...], value: v}`;
  coordinates and values may be expressions of the parameters
  (`"-0.86033358901937976/c"`). Families compute theirs.
- `log_levels`*: plotting hint, `true` where the values span many decades (use log-spaced
  contour levels); available as `surface.extra["log_levels"]`.
- `notes`: anything a user should know (kinks, unboundedness, parameter ranges); available
  as `surface.extra["notes"]`.
- `errata`: errors in the lecture slides about this surface, a list of non-empty strings
  (the corrected answers); available as `surface.errata` and printed by `optiviz report`.

Parameter overrides (`load_surface(name, **overrides)`) re-substitute the parameters and
rebuild the exact gradient and Hessian. Known minima are evaluated at the actual parameter
values, so a minimum written as an expression of the parameters follows them. As a safety
net, when parameters are overridden a listed minimum is dropped unless the exact gradient
there is still zero, the Hessian has no negative eigenvalue and the value matches (minima at
kinks, where the gradient is undefined, are kept). Families recompute their minima: the
quadratic's `w* = -A^-1 b` when `A` is positive definite, Rosenbrock's `(a, a^2)` for `n = 2`
and `(1, ..., 1)` for `a = 1`.

Families:

- `quadratic`: `f(w) = 1/2 w^T A w + b^T w + c`. `A` is a symmetric n x n matrix (default
  `[[1, 0], [0, 1]]`), `b` a vector of length n or one number used for every coordinate
  (default `0`), `c` a number (default `0`). The dimension n is taken from `A` (at most
  10,000).
- `rosenbrock`: `a` (default 1), `b` (default 100), `n` (default 2, an int from 2 to
  10,000). `n = 2` is `(a - x)^2 + b (y - x^2)^2`; `n > 2` is the chained form
  `sum_{i=1}^{n-1} [b (x_{i+1} - x_i^2)^2 + (a - x_i)^2]`.

From 11 variables on, both families are structured surfaces (`optiviz.structured`): the
quadratic in matrix form (gradient `A w + b`, Hessian `A`), Rosenbrock as one term
compiled once and summed in numpy; the derivatives are exact as before, nothing is
expanded, and `latex`/`describe` show the compact formula.

Variable names of the families: `x` for n = 1, `x, y` for n = 2 (as the classic 2-D test
functions and the plot axes), `x1 ... xn` for n >= 3.
"""

_KEYS = (
    "name",
    "description",
    "source",
    "expression",
    "family",
    "variables",
    "parameters",
    "window",
    "minima",
    "log_levels",
    "notes",
    "errata",
)
_REQUIRED = ("name", "description", "source", "log_levels")
_MINIMUM_KEYS = ("point", "value")
_RESERVED = ("l1", "l2")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: The plain fields of a surface file and what each may be.
_FIELDS = {
    "name": Text("a non-empty string"),
    "description": Text("a non-empty string"),
    "source": Text("a non-empty string"),
    "notes": Text("a non-empty string"),
    "log_levels": Flag("true or false"),
}
_FIELD_MESSAGE = "{owner}: {key!r} must be {allowed}; got {value!r}"


def surfaces_dir() -> Path:
    """The folder holding the surface YAML files.

    The repository's top-level ``surfaces/`` next to the package (the single source of
    truth; editable installs and checkouts), else ``<prefix>/share/optiviz/surfaces`` where a
    wheel installs a copy (``[tool.setuptools.data-files]`` in pyproject.toml).
    """
    import sys

    here = Path(__file__).resolve().parent
    candidates = (here.parent / "surfaces", Path(sys.prefix) / "share" / "optiviz" / "surfaces")
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise SurfaceError(
        "the surface library folder was not found (looked in "
        + " and ".join(str(c) for c in candidates)
        + ")"
    )


# -- reading and validating YAML (no sympy) -------------------------------------------------
def available_surfaces() -> list[str]:
    """Names of the library surfaces, sorted."""
    return sorted(p.stem for p in surfaces_dir().glob("*.yaml"))


def surface_info(name: str) -> dict:
    """The validated YAML content of one surface (a copy; cheap, does not import sympy)."""
    return copy.deepcopy(_read(_check_name(name)))


def _check_name(name: Any) -> str:
    names = available_surfaces()
    if not isinstance(name, str) or name not in names:
        raise SurfaceError(
            f"unknown surface {name!r}{suggest(str(name), names)}; "
            f"available surfaces: {', '.join(names)}"
        )
    return name


@functools.cache
def _read(name: str) -> dict:
    import yaml

    path = surfaces_dir() / f"{name}.yaml"
    where = f"surfaces/{name}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SurfaceError(f"{where}: invalid YAML: {exc}") from exc
    return validate_info(data, where, name)


def validate_info(data: Any, where: str, name: str | None = None) -> dict:
    """Check one surface mapping against :data:`SCHEMA`; return it (unchanged) or raise."""

    def fail(msg: str) -> SurfaceError:
        return SurfaceError(f"{where}: {msg}")

    if not isinstance(data, dict):
        raise fail(f"must be a mapping of keys to values; got {type(data).__name__}")
    for key in data:
        if key not in _KEYS:
            raise fail(
                f"unknown key {key!r}{suggest(str(key), _KEYS)}; allowed keys: {', '.join(_KEYS)}"
            )
    for key in _REQUIRED:
        if key not in data:
            raise fail(f"missing required key {key!r}")
    if name is not None and data["name"] != name:
        raise fail(f"'name' is {data['name']!r} but must equal the file name {name!r}")
    for key, constraint in _FIELDS.items():
        if key in data:
            check(where, key, data[key], constraint, error=SurfaceError, message=_FIELD_MESSAGE)
    errata = data.get("errata", [])
    if not isinstance(errata, list) or not all(isinstance(e, str) and e.strip() for e in errata):
        raise fail(f"'errata' must be a list of non-empty strings; got {errata!r}")

    has_expr, has_family = "expression" in data, "family" in data
    if has_expr == has_family:
        raise fail("give exactly one of 'expression' (formula text) and 'family'")
    params = data.get("parameters", {})
    if not isinstance(params, dict):
        raise fail(f"'parameters' must be a mapping name -> default; got {params!r}")
    for p in params:
        if not isinstance(p, str) or not _NAME.match(p):
            raise fail(f"parameter name {p!r} is not a valid identifier")
        if p in _RESERVED:
            raise fail(f"parameter name {p!r} is reserved for regularization (l1, l2)")

    if has_family:
        family = data["family"]
        if family not in FAMILIES:
            raise fail(
                f"unknown family {family!r}{suggest(str(family), FAMILIES)}; "
                f"families: {', '.join(FAMILIES)}"
            )
        for key in ("variables", "window", "minima"):
            if key in data:
                raise fail(f"{key!r} is computed by the {family!r} family; remove it")
        allowed = FAMILIES[family].parameters
        for p in params:
            if p not in allowed:
                raise fail(
                    f"family {family!r} has no parameter {p!r}{suggest(p, allowed)}; "
                    f"parameters: {', '.join(allowed)}"
                )
        return data

    if not isinstance(data["expression"], str) or not data["expression"].strip():
        raise fail(f"'expression' must be a non-empty string; got {data['expression']!r}")
    variables = data.get("variables")
    if (
        not isinstance(variables, list)
        or not variables
        or not all(isinstance(v, str) and _NAME.match(v) for v in variables)
    ):
        raise fail(f"'variables' must be a non-empty list of names; got {variables!r}")
    if len(set(variables)) != len(variables):
        raise fail(f"'variables' has repeated names: {variables!r}")
    clash = sorted(set(variables) & set(params))
    if clash:
        raise fail(f"{clash[0]!r} is both a variable and a parameter")
    for p, v in params.items():
        if not _is_scalar(v):
            raise fail(f"parameter {p!r}: default must be a number or an expression; got {v!r}")
    n = len(variables)
    if "window" in data:
        w = data["window"]
        ok = isinstance(w, list) and (_is_pair(w) or (len(w) == n and all(_is_pair(p) for p in w)))
        if not ok:
            raise fail(
                f"'window' must be [low, high] or {n} pairs [low, high] (one per variable "
                f"{', '.join(variables)}); got {w!r}"
            )
    minima = data.get("minima", [])
    if not isinstance(minima, list):
        raise fail(f"'minima' must be a list of {{point, value}}; got {minima!r}")
    for i, m in enumerate(minima):
        if not isinstance(m, dict):
            raise fail(f"minima[{i}] must be a mapping with keys point, value; got {m!r}")
        for key in m:
            if key not in _MINIMUM_KEYS:
                raise fail(
                    f"minima[{i}]: unknown key {key!r}{suggest(str(key), _MINIMUM_KEYS)}; "
                    f"allowed keys: point, value"
                )
        for key in _MINIMUM_KEYS:
            if key not in m:
                raise fail(f"minima[{i}]: missing key {key!r}")
        point = m["point"]
        if not isinstance(point, list) or len(point) != n or not all(map(_is_scalar, point)):
            raise fail(
                f"minima[{i}]: 'point' must list {n} coordinates ({', '.join(variables)}); "
                f"got {point!r}"
            )
        if not _is_scalar(m["value"]):
            raise fail(f"minima[{i}]: 'value' must be a number or an expression")
    return data


def _is_scalar(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) or (
        isinstance(v, str) and bool(v.strip())
    )


def _is_pair(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(map(_is_scalar, v))


# -- exact values -------------------------------------------------------------------------
def _exact(value: Any, what: str):
    """A parameter value (number or constant-expression text) as an exact sympy number."""
    from optiviz.errors import ExpressionError
    from optiviz.expr import parse_constant
    from optiviz.surface import to_exact

    try:
        if isinstance(value, str):
            return parse_constant(value)
        return to_exact(value)
    except (SurfaceError, ExpressionError) as exc:
        raise SurfaceError(f"{what}: {exc}") from exc


def _evaluate(value: Any, subs: Mapping, names: list[str], what: str) -> float:
    """A window/minimum entry: a number, or a constant expression of the parameters."""
    if not isinstance(value, str):
        return float(value)
    from optiviz.errors import ExpressionError
    from optiviz.expr import parse_expression, substitute

    try:
        expr = parse_expression(value, [], names)
    except ExpressionError as exc:
        raise SurfaceError(f"{what}: {exc}") from exc
    try:
        out = substitute(expr, subs).evalf(30)
    except ExpressionError as exc:
        raise SurfaceError(f"{what}: {exc}") from exc
    if not out.is_number or not out.is_real:
        raise SurfaceError(f"{what}: {value!r} does not evaluate to a real number")
    return float(out)


# -- families (trusted sympy code) ----------------------------------------------------------
#: From this many variables the ``quadratic`` and ``rosenbrock`` families build a
#: structured surface (:mod:`optiviz.structured`: matrix form, or one term compiled once and
#: summed in numpy) instead of deriving the expanded expression symbolically (below it the
#: expanded surface builds in well under a second and keeps its full symbolic view).
STRUCTURED_FROM = 11


@dataclass(frozen=True)
class FamilyBuild:
    expression: Any  # sympy.Expr (None for a structured build)
    symbols: tuple
    window: list
    minima: list
    text: str
    #: a structured surface instead of an expression: called with the surface's common
    #: keyword arguments (name, description, source, extra, parameters, rebuild)
    structured: Callable[..., Any] | None = None


@dataclass(frozen=True)
class Family:
    name: str
    parameters: dict  # name -> default
    formula: str
    build: Callable[[dict], FamilyBuild]
    variables: Callable[[dict], list[str]]  # cheap, from default-like values (no sympy)


def _family_variable_names(n: int) -> list[str]:
    if n == 1:
        return ["x"]
    if n == 2:
        return ["x", "y"]
    return [f"x{i}" for i in range(1, n + 1)]


def _quadratic_n(A: Any) -> int:
    if hasattr(A, "tolist"):
        A = A.tolist()
    n = len(A) if isinstance(A, (list, tuple)) else 0
    if n > MAX_STRUCTURED_VARIABLES:
        raise SurfaceError(
            f"quadratic parameter 'A' is {n} x {n}; at most {MAX_STRUCTURED_VARIABLES:,} "
            "variables are allowed"
        )
    return n


def _check_quadratic_size(A_raw: list, n: int) -> None:
    """Refuse, before anything symbolic is built, an ``A`` whose surface would exceed the
    derivation size limit: a nonzero entry above the diagonal is a term ``a x_i x_j`` of at
    least 3 nodes touching 5 derivative entries (15), one on it ``a/2 x_i**2`` at least 3
    nodes and 2 entries (6); entries given as text are not counted (a lower bound)."""
    from optiviz.surface import MAX_DERIVATION_SIZE

    def nonzero(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0

    off = sum(nonzero(A_raw[i][j]) for i in range(n) for j in range(i + 1, n))
    diag = sum(nonzero(A_raw[i][i]) for i in range(n))
    size = 15 * off + 6 * diag
    if size > MAX_DERIVATION_SIZE:
        raise SurfaceError(
            f"surface 'quadratic' is too large to derive: 'A' has {off:,} nonzero entries "
            f"above the diagonal and {diag:,} on it, a derivation size of at least {size:,} "
            f"(at most {MAX_DERIVATION_SIZE:,}): use a sparser A or fewer variables"
        )


def _build_quadratic(params: dict) -> FamilyBuild:
    import numpy as np
    import sympy as sp

    from optiviz.expr import symbol

    A_raw, b_raw = params["A"], params["b"]
    if hasattr(A_raw, "tolist"):
        A_raw = A_raw.tolist()
    if hasattr(b_raw, "tolist"):
        b_raw = b_raw.tolist()
    n = _quadratic_n(A_raw)
    if n == 0 or not all(isinstance(row, (list, tuple)) and len(row) == n for row in A_raw):
        raise SurfaceError(
            f"quadratic parameter 'A' must be a square n x n matrix (a list of n rows of n "
            f"numbers); got {_short(params['A'])}"
        )
    if n >= STRUCTURED_FROM:
        return _structured_quadratic(A_raw, b_raw, params, n)
    _check_quadratic_size(A_raw, n)
    A = sp.Matrix(n, n, lambda i, j: _exact(A_raw[i][j], f"quadratic parameter 'A'[{i}][{j}]"))
    for i in range(n):
        for j in range(i + 1, n):
            if not (A[i, j] == A[j, i] or sp.simplify(A[i, j] - A[j, i]) == 0):
                raise SurfaceError(
                    f"quadratic parameter 'A' must be symmetric; got A[{i}][{j}] = "
                    f"{A_raw[i][j]!r} but A[{j}][{i}] = {A_raw[j][i]!r}"
                )
    if isinstance(b_raw, (list, tuple)):
        if len(b_raw) != n:
            raise SurfaceError(
                f"quadratic parameter 'b' must have length {n} (A is {n} x {n}); "
                f"got {params['b']!r}"
            )
        b = sp.Matrix([_exact(v, f"quadratic parameter 'b'[{i}]") for i, v in enumerate(b_raw)])
    else:
        b = sp.Matrix([_exact(b_raw, "quadratic parameter 'b'")] * n)
    c = _exact(params["c"], "quadratic parameter 'c'")
    syms = tuple(symbol(v) for v in _family_variable_names(n))
    # 1/2 w^T A w + b^T w + c, expanded, written term by term (the matrix product of a
    # 100 x 100 A is 10,000 symbolic products: seconds), skipping zero entries.
    half = sp.Rational(1, 2)
    terms = [half * A[i, i] * syms[i] ** 2 for i in range(n) if A[i, i] != 0]
    terms += [
        A[i, j] * syms[i] * syms[j] for i in range(n) for j in range(i + 1, n) if A[i, j] != 0
    ]
    terms += [b[i] * syms[i] for i in range(n) if b[i] != 0]
    expr = sp.Add(*terms, c)
    if not all(e.is_Rational for e in [*A, *b, c]):  # rational terms are expanded already
        expr = sp.expand(expr)

    from optiviz.structured import quadratic_window_and_minimum

    An = np.array(A.evalf(30).tolist(), dtype=float)
    bn = np.array(b.evalf(30), dtype=float).reshape(-1)
    cn = float(c.evalf(30))
    window, minima = quadratic_window_and_minimum(An, bn, cn)
    return FamilyBuild(expr, syms, window, minima, str(expr))


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _numbers(raw: Any, what: str) -> tuple[Any, Any]:
    """``(floats, exact)`` of a quadratic parameter (a number, or nested lists): plain
    numbers are read by numpy (each float is the decimal it prints as, as ``to_exact``
    reads it), text entries (``"1/3"``) exactly; ``exact`` is None when there are none."""
    import numpy as np

    def has_text(v: Any) -> bool:
        return isinstance(v, str) or (isinstance(v, (list, tuple)) and any(has_text(u) for u in v))

    if not has_text(raw):
        try:
            arr = np.array(raw, dtype=float)
        except (TypeError, ValueError):
            raise SurfaceError(f"{what} must hold numbers; got {_short(raw)}") from None
        if not np.all(np.isfinite(arr)):
            raise SurfaceError(f"{what} must hold finite numbers; got {_short(raw)}")
        if any(isinstance(v, bool) for v in np.ravel(np.array(raw, dtype=object))):
            raise SurfaceError(f"{what} must hold numbers, not bools; got {_short(raw)}")
        return arr, None
    exact = np.vectorize(lambda v: _exact(v, what), otypes=[object])(np.array(raw, dtype=object))
    return np.vectorize(lambda e: float(e.evalf(30)), otypes=[float])(exact), exact


def _structured_quadratic(A_raw: list, b_raw: Any, params: dict, n: int) -> FamilyBuild:
    """A quadratic of :data:`STRUCTURED_FROM` or more variables in matrix form."""
    import numpy as np

    An, A_exact = _numbers(A_raw, "quadratic parameter 'A'")
    if An.shape != (n, n):
        raise SurfaceError(
            f"quadratic parameter 'A' must be a square n x n matrix (a list of n rows of n "
            f"numbers); got shape {An.shape}"
        )
    bad = np.argwhere(An != An.T)
    if len(bad):
        i, j = bad[0]
        raise SurfaceError(
            f"quadratic parameter 'A' must be symmetric; got A[{i}][{j}] = "
            f"{A_raw[i][j]!r} but A[{j}][{i}] = {A_raw[j][i]!r}"
        )
    if isinstance(b_raw, (list, tuple)) and len(b_raw) != n:
        raise SurfaceError(
            f"quadratic parameter 'b' must have length {n} (A is {n} x {n}); "
            f"got {_short(params['b'])}"
        )
    bn, b_exact = _numbers(b_raw, "quadratic parameter 'b'")
    bn = np.broadcast_to(bn, (n,)).copy()
    c = _exact(params["c"], "quadratic parameter 'c'")
    cn = float(c.evalf(30))
    exact = None
    if A_exact is not None or b_exact is not None or not c.is_Rational:
        from optiviz.surface import to_exact

        Ae = A_exact if A_exact is not None else np.vectorize(to_exact, otypes=[object])(An)
        be = b_exact if b_exact is not None else [to_exact(float(v)) for v in bn]
        exact = (Ae, list(np.broadcast_to(np.array(be, dtype=object), (n,))), c)

    def make(**common: Any) -> Any:
        from optiviz.structured import QuadraticSurface

        return QuadraticSurface(
            An, bn, cn, variables=_family_variable_names(n), exact=exact, **common
        )

    return FamilyBuild(None, (), [], [], "1/2 x^T A x + b^T x + c", structured=make)


def _rosenbrock_n(params: dict) -> int:
    return check(
        "rosenbrock",
        "n",
        params["n"],
        Interval("int", 2, MAX_STRUCTURED_VARIABLES, strict=True),
        error=SurfaceError,
        message="{owner} parameter {key!r} must be {allowed}; got {value!r}",
    )


def _build_rosenbrock(params: dict) -> FamilyBuild:
    import sympy as sp

    from optiviz.expr import symbol

    n = _rosenbrock_n(params)
    a = _exact(params["a"], "rosenbrock parameter 'a'")
    b = _exact(params["b"], "rosenbrock parameter 'b'")
    names = _family_variable_names(n)
    xs = tuple(symbol(v) for v in names)
    af, bf = float(a.evalf(30)), float(b.evalf(30))
    if n >= STRUCTURED_FROM:

        def make(**common: Any) -> Any:
            from optiviz.structured import rosenbrock

            window = [[min(-2.0, af - 1.0), max(2.0, af + 1.0)]] * n
            minima = [{"point": [1.0] * n, "value": 0.0}] if bf > 0 and a == 1 else []
            common["parameters"] = {**common["parameters"], "n": n}
            return rosenbrock(n, a, b, window=window, minima=minima, **common)

        return FamilyBuild(None, (), [], [], "", structured=make)
    if n == 2:
        x, y = xs
        expr = (a - x) ** 2 + b * (y - x**2) ** 2
    else:
        expr = sp.Add(*[b * (xs[i + 1] - xs[i] ** 2) ** 2 + (a - xs[i]) ** 2 for i in range(n - 1)])
    minima: list = []
    if bf > 0:
        if n == 2:
            minima = [{"point": [af, af * af], "value": 0.0}]
        elif a == 1:
            minima = [{"point": [1.0] * n, "value": 0.0}]
    if n == 2:
        window = [
            [min(-2.0, af - 1.0), max(2.0, af + 1.0)],
            [min(-1.0, af * af - 1.0), max(3.0, af * af + 1.0)],
        ]
    else:
        window = [[min(-2.0, af - 1.0), max(2.0, af + 1.0)]] * n
    return FamilyBuild(expr, xs, window, minima, str(expr))


FAMILIES: dict[str, Family] = {
    "quadratic": Family(
        "quadratic",
        {"A": [[1, 0], [0, 1]], "b": 0, "c": 0},
        "1/2 w^T A w + b^T w + c",
        _build_quadratic,
        lambda p: _family_variable_names(_quadratic_n(p["A"])),
    ),
    "rosenbrock": Family(
        "rosenbrock",
        {"a": 1, "b": 100, "n": 2},
        "(a - x)**2 + b*(y - x**2)**2; n > 2: sum_i b*(x_{i+1} - x_i**2)**2 + (a - x_i)**2",
        _build_rosenbrock,
        lambda p: _family_variable_names(p["n"] if isinstance(p["n"], int) else 2),
    ),
}


# -- loading --------------------------------------------------------------------------------
def load_surface(name: str, **overrides: Any) -> Surface:
    """Build a library surface; keyword arguments override its parameters.

    ``l1`` and ``l2`` are reserved: they add ``l1 * ||w||_1 + l2 / 2 * ||w||^2`` (see
    :meth:`Surface.regularized`). Unknown names and parameters raise :class:`SurfaceError`
    with the nearest valid name and the allowed ones.
    """
    info = _read(_check_name(name))
    l1 = overrides.pop("l1", 0.0)
    l2 = overrides.pop("l2", 0.0)
    defaults = (
        {**FAMILIES[info["family"]].parameters, **info.get("parameters", {})}
        if "family" in info
        else dict(info.get("parameters", {}))
    )
    for key in overrides:
        if key not in defaults:
            allowed = ", ".join([*defaults, *_RESERVED])
            raise SurfaceError(
                f"surface {name!r} has no parameter {key!r}{suggest(key, [*defaults, *_RESERVED])}"
                f"; parameters: {allowed}"
            )
    params = {**defaults, **overrides}

    def rebuild(**more: Any) -> Surface:
        return load_surface(name, **{**overrides, **more})

    if "family" in info:
        surface = _load_family(name, info, params, rebuild)
    else:
        surface = _load_expression(name, info, params, rebuild, overridden=bool(overrides))
    if l1 or l2:
        surface = surface.regularized(l1=l1, l2=l2)
    return surface


def _common(name: str, info: dict) -> dict:
    return dict(
        name=name,
        description=info["description"],
        source=info["source"],
        extra={
            "log_levels": info["log_levels"],
            "notes": info.get("notes", ""),
            "family": info.get("family"),
            "errata": tuple(info.get("errata", ())),
        },
    )


def _load_family(name: str, info: dict, params: dict, rebuild: Callable) -> Surface:
    from optiviz.surface import BUILD_BUDGET, _OutOfTime, cpu_budget

    # The family's expression is built within the surface's build budget too (a dense
    # 100 x 100 quadratic is 5,050 symbolic terms); the surface gets what is left of it.
    try:
        with cpu_budget(BUILD_BUDGET):
            built = FAMILIES[info["family"]].build(params)
            if built.structured is None:
                return _family_surface(name, info, params, rebuild, built)
    except _OutOfTime:
        raise SurfaceError(
            f"surface {name!r}: building the {info['family']!r} family's expression, its "
            f"exact gradient and Hessian takes longer than {BUILD_BUDGET:g} s of CPU time "
            "(the limit): use fewer variables"
        ) from None
    # a structured surface derives nothing symbolically: no build budget to keep
    return built.structured(parameters=params, rebuild=rebuild, **_common(name, info))


def _family_surface(
    name: str, info: dict, params: dict, rebuild: Callable, built: FamilyBuild
) -> Surface:
    from optiviz.surface import Surface

    return Surface(
        built.expression,
        built.symbols,
        text=built.text,
        parameters=params,
        window=built.window,
        minima=built.minima,
        rebuild=rebuild,
        **_common(name, info),
    )


def _load_expression(
    name: str, info: dict, params: dict, rebuild: Callable, *, overridden: bool
) -> Surface:
    from optiviz.errors import ExpressionError
    from optiviz.expr import parse_expression, substitute, symbol
    from optiviz.surface import Surface

    where = f"surfaces/{name}.yaml"
    variables = list(info["variables"])
    names = list(params)
    values = {symbol(k): _exact(v, f"surface {name!r} parameter {k!r}") for k, v in params.items()}
    try:
        expr = parse_expression(info["expression"], variables, names)
    except ExpressionError as exc:
        raise SurfaceError(f"{where}: 'expression': {exc}") from exc
    if values:
        try:
            expr = substitute(expr, values)
        except ExpressionError as exc:
            raise SurfaceError(f"{where}: 'expression': {exc}") from exc

    window = info.get("window")
    if window is not None:
        pairs = [window] if _is_pair(window) else window
        window = [
            [_evaluate(v, values, names, f"{where}: 'window'") for v in pair] for pair in pairs
        ]
        if len(window) == 1:
            window = window[0]
    minima = [
        {
            "point": [
                _evaluate(v, values, names, f"{where}: minima[{i}].point") for v in m["point"]
            ],
            "value": _evaluate(m["value"], values, names, f"{where}: minima[{i}].value"),
        }
        for i, m in enumerate(info.get("minima", []))
    ]
    surface = Surface(
        expr,
        [symbol(v) for v in variables],
        text=info["expression"],
        parameters=params,
        window=window,
        minima=minima,
        rebuild=rebuild,
        **_common(name, info),
    )
    if overridden and surface.minima:
        surface.minima = [m for m in surface.minima if _still_minimum(surface, m)]
    return surface


def _still_minimum(surface: Surface, m: Any) -> bool:
    """Safety net after a parameter override: is ``m`` still a stationary minimum?"""
    import numpy as np

    with np.errstate(all="ignore"):
        f = float(surface.f(m.point, check=False))
        g = surface.grad(m.point, check=False)
        H = surface.hess(m.point, check=False)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return math.isfinite(f) and abs(f - m.value) <= 1e-8 * (1 + abs(m.value))  # a kink
    scale = 1.0 + float(np.abs(H).max()) * (1.0 + float(np.abs(m.point).max()))
    if float(np.abs(g).max()) > 1e-6 * scale:
        return False
    if float(np.linalg.eigvalsh(H)[0]) < -1e-8 * scale:
        return False
    return abs(f - m.value) <= 1e-8 * (1 + abs(m.value))


# -- documentation --------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return fmt_number(v, 10)
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def surface_table_markdown(surfaces: Mapping[str, Surface] | None = None) -> str:
    """The markdown table of every library surface (defaults), built from the YAML files.

    ``surfaces`` may pass already-built default surfaces (name -> Surface) to save time.
    """
    rows = [
        "| name | formula | variables | parameters (defaults) | window | known minima "
        "(point: value) | log levels | source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in available_surfaces():
        info = _read(name)
        s = (surfaces or {}).get(name) or load_surface(name)
        if "family" in info:
            formula = f"family `{info['family']}`: `{FAMILIES[info['family']].formula}`"
            params = {**FAMILIES[info["family"]].parameters, **info.get("parameters", {})}
        else:
            formula = f"`{info['expression']}`"
            params = info.get("parameters", {})
        shown_params = ", ".join(f"{k} = {_fmt(v)}" for k, v in params.items()) or "-"
        window = "; ".join(
            f"{v} in [{lo:g}, {hi:g}]" for v, (lo, hi) in zip(s.variables, s.window, strict=True)
        )
        minima = (
            "<br>".join(
                "(" + ", ".join(f"{p:.10g}" for p in m.point) + f"): {m.value:.10g}"
                for m in s.minima
            )
            or "none"
        )
        rows.append(
            f"| `{name}` | {formula.replace('|', '&#124;')} | {', '.join(s.variables)} | "
            f"{shown_params} | {window} | {minima} | {'yes' if info['log_levels'] else 'no'} | "
            f"{info['source']} |"
        )
    return "\n".join(rows) + "\n"


def surfaces_markdown(surfaces: Mapping[str, Surface] | None = None) -> str:
    """The whole of ``docs/surfaces.md``: schema, table, per-surface notes."""
    parts = [
        "# Surface library",
        "",
        "<!-- generated by optiviz.library.write_surfaces_doc(); do not edit by hand -->",
        "",
        "The library lives in `surfaces/`, one YAML file per surface; load one with "
        "`optiviz.load_surface(name, **parameter_overrides)`.",
        "",
        "## Schema",
        "",
        SCHEMA.rstrip(),
        "",
        "## Surfaces",
        "",
        "Values at the default parameters; minima are shown to 10 significant digits (the "
        "files store about 17).",
        "",
        surface_table_markdown(surfaces).rstrip(),
        "",
        "## Notes",
        "",
    ]
    for name in available_surfaces():
        info = _read(name)
        text = info["description"] + "."
        if info.get("notes"):
            text += " " + " ".join(info["notes"].split())
        parts.append(f"- `{name}`: {text}")
    return "\n".join(parts) + "\n"


def write_surfaces_doc(path: str | Path | None = None) -> Path:
    """Write :func:`surfaces_markdown` to ``docs/surfaces.md`` (or ``path``)."""
    path = (
        Path(path)
        if path is not None
        else Path(__file__).resolve().parent.parent / "docs" / "surfaces.md"
    )
    path.write_text(surfaces_markdown(), encoding="utf-8")
    return path
