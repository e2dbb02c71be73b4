"""The ``optiviz`` typer app: the top-level options, the error guard every command wears,
the option parsers commands share, and :func:`main`.

Bad input (any :class:`~optiviz.errors.OptivizError`) prints ``error: ...`` lines to stderr
and exits with code 2, never a traceback; any other exception prints a short message and
exits 1 (``--debug`` shows the traceback). Ctrl-C (SIGINT) prints ``interrupted`` and
exits 130; SIGTERM while the outputs are written exits 143 (the writer raises
``SystemExit(143)`` after cleaning up; elsewhere SIGTERM ends the process as usual, which a
shell reports as 143 too). The commands live one file per command group in
:mod:`optiviz.cli` and import heavy modules (sympy, matplotlib, the engine) inside their
bodies, so ``optiviz --help`` and ``optiviz list optimizers`` stay fast.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import typer

from optiviz import __version__
from optiviz.cli.progress import interrupted
from optiviz.errors import ConfigError, OptivizError

app = typer.Typer(
    name="optiviz",
    epilog="Examples: optiviz init my-experiment; optiviz run configs/quickstart.yaml; "
    "optiviz report rosenbrock --at=1,1; optiviz describe adam",
    invoke_without_command=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_STATE = {"debug": False}  # set by --debug


def fail(exc: BaseException) -> typer.Exit:
    """Print an error and return the Exit to raise (2 for bad input, 1 otherwise)."""
    if isinstance(exc, OptivizError):
        errors = getattr(exc, "errors", None) or [str(exc)]
        if isinstance(exc, ConfigError) and len(errors) > 1:
            typer.echo(f"error: {len(errors)} problems found:", err=True)
        for line in errors:
            typer.echo(f"error: {line}", err=True)
        if _STATE["debug"]:
            traceback.print_exception(exc, file=sys.stderr)
        return typer.Exit(2)
    if _STATE["debug"]:
        traceback.print_exception(exc, file=sys.stderr)
    else:
        typer.echo(
            f"error: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback)",
            err=True,
        )
    return typer.Exit(1)


F = TypeVar("F", bound=Callable[..., Any])


def guard(fn: F) -> F:
    """Turn library exceptions into messages and exit codes (see the module docstring).

    Every command wears it, under ``@app.command()``.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, BrokenPipeError):
            raise
        except KeyboardInterrupt:
            raise interrupted() from None
        except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
            if type(exc).__module__.startswith("typer") or type(exc).__name__ in (
                "BadParameter",
                "UsageError",
            ):
                raise
            raise fail(exc) from None

    return cast(F, wrapper)


def parse_vector(text: str, option: str) -> list[float]:
    """``"x,y"`` -> floats, strictly (brackets and spaces allowed)."""
    body = text.strip().strip("[]()")
    parts = [p.strip() for p in body.split(",")] if body else []
    out = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            v = math.nan
        if not p or not math.isfinite(v):
            raise OptivizError(
                f"{option}: {text!r} is not allowed: must be finite numbers "
                "separated by commas, e.g. -1.2,1.0"
            )
        out.append(v)
    if not out:
        raise OptivizError(
            f"{option}: {text!r} is not allowed: must be finite numbers "
            "separated by commas, e.g. -1.2,1.0"
        )
    return out


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?inf$", re.IGNORECASE)
_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}


#: Deepest nesting of brackets in a -p value (a matrix is 2 levels) and most numbers in it.
MAX_VALUE_DEPTH = 3
MAX_VALUE_NUMBERS = 10_000
_TOKEN = re.compile(r"\s*(\[|\]|,|[^\[\],\s]+)")


def parse_nested(text: str) -> list | None:
    """``"[[4, 1], [1, 2]]"`` -> ``[[4, 1], [1, 2]]``: nested bracketed lists of numbers,
    parsed by a small recursive reader (no eval); None when ``text`` is not one."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text) or not tokens or tokens[0] != "[":
        return None
    if len(tokens) > 4 * MAX_VALUE_NUMBERS:
        return None
    pos = 0

    def item(depth: int) -> Any:
        nonlocal pos
        if depth > MAX_VALUE_DEPTH:
            raise ValueError
        tok = tokens[pos]
        pos += 1
        if tok != "[":
            if not _NUMBER.match(tok) or not math.isfinite(float(tok)):
                raise ValueError
            return int(tok) if re.fullmatch(r"[+-]?\d+", tok) else float(tok)
        out = [item(depth + 1)]
        while tokens[pos] == ",":
            pos += 1
            out.append(item(depth + 1))
        if tokens[pos] != "]":
            raise ValueError
        pos += 1
        return out

    try:
        value = item(0)
    except (ValueError, IndexError):
        return None
    return value if pos == len(tokens) else None


def parse_value(text: str) -> Any:
    """A parameter value from the command line, parsed safely (no eval).

    ``true``/``false`` (also yes/no, on/off) -> bool; a number -> float (int when written
    as an integer); ``a,b`` or ``[a, b]`` -> a tuple of numbers; nested brackets
    ``[[4,1],[1,2]]`` -> a matrix (a list of lists of numbers); anything else stays text
    (a choice such as ``inside``, or a constant such as ``0.15*pi`` that the surface's
    safe parser reads).
    """
    t = text.strip()
    if t.lower() in _BOOLS:
        return _BOOLS[t.lower()]
    if _NUMBER.match(t):
        return int(t) if re.fullmatch(r"[+-]?\d+", t) else float(t)
    if t.startswith("[["):  # a matrix, or text for the surface to refuse with its message
        nested = parse_nested(t)
        return t if nested is None else nested
    body = t.strip("[]()")
    if "," in body:
        parts = [p.strip() for p in body.split(",")]
        if all(_NUMBER.match(p) for p in parts):
            return tuple(float(p) for p in parts)
    return t


def parse_assignments(items: list[str] | None, option: str = "--set") -> dict[str, Any]:
    """``["lr=0.3", "momentum=0.9"]`` -> ``{"lr": 0.3, "momentum": 0.9}``."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) or not value.strip():
            raise OptivizError(
                f"{option}: {item!r} is not allowed: write name=value, e.g. -p lr=0.3"
            )
        if key in out:
            raise OptivizError(f"{option}: {key!r} is given twice")
        out[key] = parse_value(value)
    return out


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _natural(name: str) -> list:
    """Sort key: ``x2`` before ``x10``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def expression_names(text: str) -> list[str] | None:
    """The names an expression uses, other than functions and constants, in natural order
    (``x, y``; ``w1, w2, w10``); None when the text does not tokenize (the parser then says
    why). Python's tokenizer only splits the text: nothing is evaluated."""
    import io
    import keyword
    import tokenize

    from optiviz.expr import CONSTANTS, FUNCTIONS, MAX_LENGTH

    if len(text) > MAX_LENGTH:
        return None
    names: dict[str, None] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(" ".join(text.split())).readline):
            if tok.type == tokenize.NAME and _NAME.fullmatch(tok.string):
                names[tok.string] = None
    except (tokenize.TokenError, SyntaxError):
        return None
    skip = set(FUNCTIONS) | set(CONSTANTS)
    return sorted((n for n in names if n not in skip and not keyword.iskeyword(n)), key=_natural)


def is_expression(text: str) -> bool:
    """A SURFACE argument that is neither a file, a YAML name nor a bare name is a formula."""
    from optiviz.config import is_config_path

    t = text.strip()
    return not (is_config_path(t) or Path(t).is_file() or _NAME.fullmatch(t))


def expression_surface(text: str, params: dict | None = None, variables: list[str] | None = None):
    """A surface from a formula typed on the command line (``"x**4 - 3*x**2 + y**2"``),
    read by the whitelist parser of :mod:`optiviz.expr`. Its variables are ``variables``
    (``--vars``) or every name in it that is not a function, a constant or a parameter
    (``-p``), in natural order."""
    from optiviz.expr import parse_expression
    from optiviz.limits import MAX_VARIABLES
    from optiviz.surface import Surface

    params = dict(params or {})
    names = expression_names(text)
    if names is None:
        parse_expression(text, [])  # raises the parser's message (syntax, length)
        names = []
    if variables is None:
        variables = [n for n in names if n not in params]
    unused = [p for p in params if p not in names]
    if unused:
        raise OptivizError(
            f"--param: {unused[0]!r} is not allowed: the expression does not use it "
            f"(its names: {', '.join(names) or 'none'})"
        )
    if not variables:
        raise OptivizError(
            f"SURFACE: {text!r} is not allowed: the expression has no variables "
            "(every name in it is a parameter, a function or a constant)"
        )
    if len(variables) > MAX_VARIABLES:
        raise OptivizError(
            f"SURFACE: {text!r} is not allowed: {len(variables)} variables "
            f"(at most {MAX_VARIABLES})"
        )
    return Surface.from_expression(text, variables, params, name="expression")


def load_surface_arg(text: str, params: dict | None = None, variables: list[str] | None = None):
    """A surface from a library name, a config file (its surface) or an expression.

    Returns ``(surface, config or None)``. ``params`` override the surface's parameters
    (an expression's parameters are declared by them); ``variables`` (``--vars``) names an
    expression's variables in order (refused for the other two).
    """
    from optiviz.config import is_config_path, load_config

    if variables is not None and not is_expression(text):
        raise OptivizError(
            f"--vars: not allowed with {text!r}: only an expression takes its variables "
            "from --vars (a library or config surface names its own)"
        )
    if is_expression(text):
        return expression_surface(text, params, variables), None
    if is_config_path(text) or Path(text).is_file():
        cfg = load_config(text)
        suite = getattr(cfg, "suite", None)
        if suite is not None:
            raise OptivizError(
                f"{text}: is a suite of {len(suite.surfaces)} surfaces: name one surface "
                f"(e.g. {suite.surfaces[0].label!r}), or run the suite with optiviz run"
            )
        surface = cfg.build_surface()
        if params:
            surface = surface.with_parameters(**params)
        return surface, cfg
    from optiviz.library import load_surface

    return load_surface(text, **(params or {})), None


def parse_names(text: str | None, option: str) -> list[str] | None:
    """``"x,y"`` -> ``["x", "y"]`` (``--vars``)."""
    if text is None:
        return None
    names = [n.strip() for n in text.strip().strip("[]()").split(",")]
    if not names or not all(_NAME.fullmatch(n) for n in names):
        raise OptivizError(
            f"{option}: {text!r} is not allowed: must be names separated by commas, e.g. x,y"
        )
    return names


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"optiviz {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    """Optimizer comparison workbench on analytic loss surfaces: exact gradients and
    Hessians, many optimizers, figures and Hessian-based learning-rate reports.

    Start with `optiviz init` (a commented starter config), `optiviz run CONFIG` or
    `optiviz list`. Every command has --help. A SURFACE argument is a library name, a
    config file or an expression ("x**4 - 3*x**2 + y**2 + x*y"); -p NAME=VALUE sets a
    parameter (of the surface, and in `step` of the optimizer) in every command. Bad input
    exits with code 2 and a message naming the problem; --debug adds tracebacks.
    `optiviz --install-completion` installs shell completion.
    """
    _STATE["debug"] = debug
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        typer.echo(ctx.get_help())  # `optiviz` alone: the help, exit 0
        raise typer.Exit(0)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``optiviz``) and ``python -m optiviz``."""
    try:
        app(args=argv, prog_name="optiviz")
    except BrokenPipeError:  # e.g. `optiviz list optimizers | head -3`
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
