"""The ``surface:`` block: a library name, an inline expression or a data surface; and
building the surface a validated block describes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from optiviz.config.fields import (
    FINITE,
    INVALID,
    NONNEG,
    Problems,
    as_number,
    finite,
    join,
    mapping,
    number,
    safe_name,
    show,
    text,
    unknown_keys,
    vector,
)
from optiviz.config.schema import EXPRESSION_SURFACE_KEYS, LIBRARY_SURFACE_KEYS
from optiviz.config.specs import SurfaceSpec
from optiviz.errors import ConfigError


def parse_window(errs: Problems, path: str, value: Any) -> Any:
    allowed = "a list of [low, high] pairs, one per variable, with low < high"
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value:
        return errs.bad(path, value, allowed)
    out = []
    for i, pair in enumerate(value):
        p = join(path, i)
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            errs.bad(p, pair, "a [low, high] pair")
            return INVALID
        lo, hi = finite(pair[0]), finite(pair[1])
        if lo is None or hi is None or lo >= hi:
            errs.bad(p, pair, "a [low, high] pair of finite numbers with low < high")
            return INVALID
        out.append((lo, hi))
    return tuple(out)


def parse_parameters(errs: Problems, path: str, value: Any) -> Any:
    if value is None:
        return {}
    m = mapping(errs, path, value, "a mapping of parameter names to numbers")
    if m is INVALID:
        return INVALID
    out: dict[str, Any] = {}
    ok = True
    for k, v in m.items():
        if isinstance(v, str) and as_number(v) is None:
            out[k] = v  # a constant expression such as "0.15*pi": the safe parser checks it
            continue
        if isinstance(v, (list, tuple)):
            nested = nested_numbers(v)
            if nested is None:
                errs.bad(
                    join(path, k),
                    v,
                    "a finite number, a list (or matrix) of finite "
                    "numbers, or a constant expression string",
                )
                ok = False
            else:
                out[k] = nested
            continue
        f = finite(v)
        if f is None:
            errs.bad(
                join(path, k),
                v,
                "a finite number, a list (or matrix) of finite "
                "numbers, or a constant expression string",
            )
            ok = False
            continue
        out[k] = v if isinstance(v, int) and not isinstance(v, bool) else f
    return out if ok else INVALID


def nested_numbers(v: Any) -> Any:
    """A (nested) list of finite numbers with numeric text converted, or None."""
    if isinstance(v, (list, tuple)):
        if not v:
            return None
        items = [nested_numbers(x) for x in v]
        return None if any(x is None for x in items) else items
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    return finite(v)


def parse_surface(errs: Problems, value: Any) -> Any:
    path = "surface"
    if value is None:
        return errs.missing(
            path, "a library surface name, or a mapping with 'name', 'expression' or 'data'"
        )
    if isinstance(value, str):
        if not value.strip():
            return errs.bad(path, value, "a surface name")
        return SurfaceSpec(kind="library", name=value.strip())
    m = mapping(
        errs,
        path,
        value,
        "a library surface name, or a mapping with 'name', 'expression' or 'data'",
    )
    if m is INVALID:
        return INVALID
    if "data" in m:
        return SurfaceSpec(kind="data", name=str(m.get("data")), data=dict(m))
    keys: tuple[str, ...]
    if "expression" in m:
        kind, keys = "expression", EXPRESSION_SURFACE_KEYS
    elif "name" in m:
        kind, keys = "library", LIBRARY_SURFACE_KEYS
    else:
        errs.add(
            path,
            f"{show(value)} is not allowed: a surface mapping needs one of "
            "'name' (a library surface), 'expression' (with 'variables') or "
            "'data' (a data surface)",
        )
        unknown_keys(errs, path, m, sorted(set(EXPRESSION_SURFACE_KEYS) | {"data"}), "a surface")
        return INVALID
    unknown_keys(errs, path, m, keys, f"a {kind} surface")
    ok = True
    name = None
    if "name" in m:
        name = (
            safe_name(errs, join(path, "name"), m["name"])
            if kind == "expression"
            else text(errs, join(path, "name"), m["name"], "a surface name")
        )
        ok &= name is not INVALID
    params = parse_parameters(errs, join(path, "parameters"), m.get("parameters"))
    l1 = number(errs, join(path, "l1"), m.get("l1", 0.0), NONNEG)
    l2 = number(errs, join(path, "l2"), m.get("l2", 0.0), NONNEG)
    vector_window = kind == "expression" and "n" in m  # parsed with n below
    window = None if vector_window else parse_window(errs, join(path, "window"), m.get("window"))
    transform = (
        None
        if vector_window
        else parse_transform(errs, join(path, "transform"), m.get("transform"))
    )
    ok &= all(v is not INVALID for v in (params, l1, l2, window, transform))
    if kind == "library":
        return (
            SurfaceSpec(
                kind="library",
                name=name,
                parameters=params,
                l1=l1,
                l2=l2,
                window=window,
                transform=transform,
            )
            if ok
            else INVALID
        )
    expression = m.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        errs.bad(
            join(path, "expression"),
            expression,
            "an expression string such as '0.1*x1**2 + 2*x2**2'",
        )
        ok = False
    variables = m.get("variables")
    n_vars = None
    if "n" in m:  # an expression over the vector x[1] .. x[n], with sum(term, i, lo, hi)
        n_vars, variables = _parse_n(errs, join(path, "n"), m["n"]), ()
        ok &= n_vars is not INVALID
        for key in ("variables", "transform"):
            if key in m:
                why = (
                    "the variables are x[1] .. x[n] (named x1 .. xn)"
                    if key == "variables"
                    else "a transform substitutes into an expression of named variables"
                )
                errs.add(
                    join(path, key),
                    f"{show(m[key])} is not allowed with 'n': {why}; give either 'n' or "
                    "'variables'",
                )
                ok = False
        window = _parse_vector_window(errs, join(path, "window"), m.get("window"))
        ok &= window is not INVALID
    elif (
        not isinstance(variables, (list, tuple))
        or not variables
        or not all(isinstance(v, str) for v in variables)
    ):
        if "variables" not in m and isinstance(expression, str) and _SUM.search(expression):
            errs.missing(
                join(path, "n"),
                "the number of variables of a sum(term, i, lo, hi) expression over "
                "x[1] .. x[n] (an int >= 1)",
            )
        elif "variables" not in m:
            errs.missing(
                join(path, "variables"),
                "a list of variable names, e.g. [x, y] (or 'n' for an expression over "
                "x[1] .. x[n] with sum(...))",
            )
        else:
            errs.bad(join(path, "variables"), variables, "a list of variable names, e.g. [x, y]")
        ok = False
    minima = m.get("minima")
    if minima is not None:
        mp = join(path, "minima")
        if not isinstance(minima, (list, tuple)):
            errs.bad(mp, minima, "a list of {point: [...], value: number}")
            ok = False
        else:
            parsed = []
            for i, item in enumerate(minima):
                ip = join(mp, i)
                if not isinstance(item, Mapping) or "point" not in item:
                    errs.bad(ip, item, "a mapping {point: [...], value: number}")
                    ok = False
                    continue
                unknown_keys(errs, ip, item, ("point", "value"))
                pt = vector(errs, join(ip, "point"), item["point"])
                val = (
                    number(errs, join(ip, "value"), item["value"], FINITE)
                    if "value" in item
                    else errs.missing(join(ip, "value"), "the loss at the minimum (a number)")
                )
                if pt is INVALID or val is INVALID:
                    ok = False
                    continue
                parsed.append({"point": list(pt), "value": val})
            minima = tuple(parsed)
    desc = m.get("description", "")
    if not isinstance(desc, str):
        errs.bad(join(path, "description"), desc, "a string")
        ok = False
    if not ok:
        return INVALID
    return SurfaceSpec(
        kind="expression",
        name=name or "custom",
        expression=expression,
        variables=tuple(variables),
        n=n_vars,
        parameters=params,
        l1=l1,
        l2=l2,
        window=window,
        minima=minima,
        description=desc,
        transform=transform,
    )


_SUM = re.compile(r"\bsum\s*\(")


def _parse_n(errs: Problems, path: str, value: Any) -> Any:
    """The number of variables of an expression over ``x[1] .. x[n]``."""
    from optiviz.limits import MAX_STRUCTURED_VARIABLES

    if isinstance(value, bool) or not isinstance(value, int):
        return errs.bad(path, value, f"an int from 1 to {MAX_STRUCTURED_VARIABLES:,}")
    if not 1 <= value <= MAX_STRUCTURED_VARIABLES:
        return errs.bad(path, value, f"an int from 1 to {MAX_STRUCTURED_VARIABLES:,}")
    return value


def _parse_vector_window(errs: Problems, path: str, value: Any) -> Any:
    """The window of an ``n`` surface: one ``[low, high]`` for every variable, or one pair
    per variable (the count is checked when the surface is built)."""
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and not any(isinstance(v, (list, tuple)) for v in value)
    ):
        lo, hi = finite(value[0]), finite(value[1])
        if lo is None or hi is None or lo >= hi:
            return errs.bad(path, value, "a [low, high] pair of finite numbers with low < high")
        return ((lo, hi),)
    return parse_window(errs, path, value)


_TRANSFORM_KEYS = ("rotate", "scale", "plane")


def parse_transform(errs: Problems, path: str, value: Any) -> Any:
    """``transform: {rotate: degrees, scale: [s1, ..., sn], plane: [a, b]}`` (each key
    optional; ``plane`` names the two variables ``rotate`` turns, needed for n > 2). The
    lengths against the variables are checked when the surface is built."""
    if value is None:
        return None
    m = mapping(errs, path, value, "a mapping {rotate: degrees, scale: [...], plane: [a, b]}")
    if m is INVALID:
        return INVALID
    unknown_keys(errs, path, m, _TRANSFORM_KEYS, "a transform")
    out: dict[str, Any] = {}
    if "rotate" in m:
        out["rotate"] = number(errs, join(path, "rotate"), m["rotate"], FINITE)
    if "scale" in m:
        sc = vector(
            errs, join(path, "scale"), m["scale"], what="a list of numbers > 0, one per variable"
        )
        if sc is not INVALID and any(not v > 0 for v in sc):
            sc = errs.bad(
                join(path, "scale"), m["scale"], "a list of numbers > 0, one per variable"
            )
        out["scale"] = sc if sc is INVALID else list(sc)
    if "plane" in m:
        p = m["plane"]
        if (
            not isinstance(p, (list, tuple))
            or len(p) != 2
            or not all(isinstance(v, str) for v in p)
        ):
            out["plane"] = errs.bad(join(path, "plane"), p, "two variable names [a, b]")
        else:
            out["plane"] = list(p)
    return INVALID if INVALID in out.values() else out


def build_surface(spec: SurfaceSpec):
    """Build the :class:`~optiviz.surface.Surface` a spec describes (raises OptivizError)."""
    if spec.kind == "library":
        from optiviz.library import load_surface

        reg = {k: v for k, v in (("l1", spec.l1), ("l2", spec.l2)) if v}
        s = _transform(load_surface(spec.name or "", **spec.parameters, **reg), spec)
        if spec.window is not None:
            _set_window(s, spec.window)
        return s
    if spec.kind == "expression" and spec.n is not None:
        from optiviz.structured import SumSurface

        vw = None if spec.window is None else [list(w) for w in spec.window]
        return SumSurface.from_expression(
            spec.expression or "",
            spec.n,
            dict(spec.parameters),
            name=spec.name,
            window=vw[0] if vw is not None and len(vw) == 1 else vw,
            minima=None if spec.minima is None else [dict(m) for m in spec.minima],
            l1=spec.l1,
            l2=spec.l2,
            description=spec.description,
        )
    if spec.kind == "expression":
        from optiviz.surface import Surface

        window = None if spec.window is None else [list(w) for w in spec.window]
        s = Surface.from_expression(
            spec.expression or "",
            list(spec.variables),
            dict(spec.parameters),
            name=spec.name,
            window=window if spec.transform is None else None,
            minima=None if spec.minima is None else [dict(m) for m in spec.minima],
            l1=spec.l1,
            l2=spec.l2,
            description=spec.description,
        )
        s = _transform(s, spec)
        if spec.transform is not None and spec.window is not None:
            _set_window(s, spec.window)
        return s
    from optiviz.data import make_data_surface

    return make_data_surface(dict(spec.data or {}), base_dir=spec.base_dir)


def _transform(surface, spec: SurfaceSpec):
    """The surface with the spec's transform (the window and start are then in the new
    coordinates, the expression's minima in the old ones)."""
    t = spec.transform
    if not t:
        return surface
    return surface.transformed(t.get("rotate", 0.0), t.get("scale"), t.get("plane"))


def _set_window(surface, window) -> None:
    import numpy as np

    w = np.asarray(window, dtype=float)
    if w.shape != (surface.n, 2):
        raise ConfigError(
            f"surface.window: needs one [low, high] pair per variable "
            f"({', '.join(surface.variables)}); got {len(window)}"
        )
    surface.window = w


def surface_error_path(spec: SurfaceSpec, exc: Exception) -> str:
    """The key path a surface-building error belongs to."""
    from optiviz.errors import ExpressionError

    msg = str(exc)
    if "transform." in msg:
        return "surface.transform"
    if spec.kind == "expression" and isinstance(exc, ExpressionError):
        return "surface.expression"
    if spec.kind != "data" and spec.parameters and "parameter" in msg:
        return "surface.parameters"
    if "window" in msg:
        return "surface.window"
    return "surface"
