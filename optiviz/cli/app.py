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
    no_args_is_help=True,
    add_completion=False,
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


def parse_value(text: str) -> Any:
    """A hyperparameter value from the command line, parsed safely (no eval).

    ``true``/``false`` (also yes/no, on/off) -> bool; a number -> float (int when written
    as an integer); ``a,b`` -> a pair of numbers; anything else stays text (a choice such
    as ``inside``).
    """
    t = text.strip()
    if t.lower() in _BOOLS:
        return _BOOLS[t.lower()]
    if _NUMBER.match(t):
        return int(t) if re.fullmatch(r"[+-]?\d+", t) else float(t)
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


def load_surface_arg(text: str, params: dict | None = None):
    """A surface from a library name or a config file (its surface)."""
    from optiviz.config import is_config_path, load_config

    if is_config_path(text) or Path(text).is_file():
        cfg = load_config(text)
        surface = cfg.build_surface()
        if params:
            surface = surface.with_parameters(**params)
        return surface, cfg
    from optiviz.library import load_surface

    return load_surface(text, **(params or {})), None


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"optiviz {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
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
    `optiviz list optimizers`. Every command has --help. Bad input exits with code 2 and a
    message naming the problem; --debug adds tracebacks.
    """
    _STATE["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``optiviz``) and ``python -m optiviz``."""
    try:
        app(args=argv, prog_name="optiviz")
    except BrokenPipeError:  # e.g. `optiviz list optimizers | head -3`
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
