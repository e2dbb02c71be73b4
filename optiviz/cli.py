"""The ``optiviz`` command line (typer): parse, validate, call the library, print.

Commands::

    optiviz run CONFIG [--out DIR] [--format png,svg,pdf] [--steps N] [--seed N] [--quiet]
    optiviz report SURFACE|CONFIG [--at x,y] [--format md|json|table] [-p name=value]
    optiviz step --surface S --optimizer NAME [-p lr=0.3 ...] --at x,y [--prev x,y]
    optiviz list optimizers|surfaces|schedules
    optiviz describe NAME
    optiviz validate CONFIG
    optiviz init [NAME]
    optiviz --version

Bad input (any :class:`~optiviz.errors.OptivizError`) prints ``error: ...`` lines to stderr
and exits with code 2, never a traceback; any other exception prints a short message and
exits 1 (``--debug`` shows the traceback). Heavy modules (sympy, matplotlib, the engine)
are imported inside the commands that need them, so ``optiviz --help`` and ``optiviz list
optimizers`` stay fast.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import threading
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer

from optiviz import __version__
from optiviz.errors import ConfigError, OptivizError, suggest

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

_STATE = {"debug": False}


# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------
def _fail(exc: BaseException) -> typer.Exit:
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


def _guard(fn):
    """Turn library exceptions into messages and exit codes (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
            if type(exc).__module__.startswith("typer") or type(exc).__name__ in (
                "BadParameter",
                "UsageError",
            ):
                raise
            raise _fail(exc) from None

    return wrapper


def _vector(text: str, option: str) -> list[float]:
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


def _load_surface_arg(text: str, params: dict | None = None):
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


class _LazyBar:
    """A rich progress bar (on stderr) that appears only once the work has taken
    ``delay`` seconds; silent for quick runs."""

    def __init__(self, delay: float = 1.0, force: bool = False):
        self.delay = delay
        self.force = force  # draw even when stderr is not a terminal (tests)
        self.total = 0
        self.done = 0
        self.desc = ""
        self._bar = None
        self._task = None
        self._ended = False
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def begin(self, total: int) -> None:
        self.total = total
        self._timer = threading.Timer(self.delay, self._show)
        self._timer.daemon = True
        self._timer.start()

    def _show(self) -> None:
        with self._lock:
            if self._ended:
                return
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            console = Console(stderr=True, force_terminal=True if self.force else None)
            if not console.is_terminal:  # no bar in logs and pipes
                return
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.desc, total=self.total, completed=self.done)

    def describe(self, description: str) -> None:
        with self._lock:
            self.desc = description
            if self._bar is not None:
                self._bar.update(self._task, description=description)

    def advance(self) -> None:
        with self._lock:
            self.done += 1
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done)

    def end(self) -> None:
        with self._lock:
            self._ended = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None


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


# --------------------------------------------------------------------------------------
# run / validate / init
# --------------------------------------------------------------------------------------
@app.command()
@_guard
def run(
    config: Annotated[
        Path,
        typer.Argument(metavar="CONFIG", help="The experiment config (YAML).", show_default=False),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="DIR", help="Output folder (default: outputs/<name>/)."
        ),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="png,svg,pdf",
            help="Figure formats, comma-separated (default: the config's formats).",
        ),
    ] = None,
    steps: Annotated[
        int | None, typer.Option(metavar="N", help="Replace every step budget.")
    ] = None,
    seed: Annotated[int | None, typer.Option(metavar="N", help="Replace the seed.")] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar, print only where the outputs went."),
    ] = False,
) -> None:
    """Run an experiment config and write its outputs.

    Writes config.yaml (resolved), trajectories.csv, run.json, report.md and the figures
    the config asks for into outputs/<name>/ (or --out), replacing only those files.
    Exit code 2 for an invalid config (nothing is written), 1 if a check in the config's
    expect: block fails (the outputs are written).
    """
    from optiviz.config import apply_overrides, load_config

    cfg = load_config(config)
    fmts = None if format is None else [f.strip() for f in format.split(",") if f.strip()]
    cfg = apply_overrides(cfg, steps=steps, seed=seed, formats=fmts)
    from optiviz.experiment import run_experiment, summarize

    bar = None if quiet else _LazyBar()
    result = run_experiment(cfg, out_dir=out, progress=bar)
    if not quiet:
        typer.echo(
            f"{cfg.name}: {len(result.runs)} run{'s' if len(result.runs) != 1 else ''}"
            f" on {result.surface.name} in {result.wall_time:.2f} s"
        )
        for line in summarize(result):
            typer.echo(line)
        if result.eta_opt is not None:
            typer.echo(f"  eta_opt = {result.eta_opt:.6g} (relative learning rates)")
        for e in result.expectations:
            typer.echo(f"  {'ok' if e.passed else 'FAILED'}: {e.message}")
    typer.echo(f"wrote {len(result.files)} files to {result.out_dir}/:")
    for name in result.files:
        typer.echo(f"  {result.out_dir / name}")
    if not result.expectations_passed:
        typer.echo(f"error: {len(result.failed_expectations())} expect check(s) failed", err=True)
        raise typer.Exit(1)


@app.command()
@_guard
def validate(
    config: Annotated[
        Path,
        typer.Argument(metavar="CONFIG", help="The experiment config (YAML).", show_default=False),
    ],
) -> None:
    """Check a config without running it: every problem is reported, exit code 2 if any."""
    from optiviz.config import load_config

    cfg = load_config(config)
    grids = sum(1 for o in cfg.optimizers if o.is_grid)
    typer.echo(
        f"ok: {config}: experiment {cfg.name!r} on surface {cfg.build_surface().name!r} "
        f"({', '.join(cfg.variables)}), {len(cfg.optimizers)} optimizer entr"
        f"{'y' if len(cfg.optimizers) == 1 else 'ies'} ({cfg.n_runs} run"
        f"{'' if cfg.n_runs == 1 else 's'}"
        f"{f', {grids} grid(s)' if grids else ''}), {cfg.steps} steps, figures: "
        f"{', '.join(cfg.figures) or 'none'}"
    )


STARTER = """\
# optiviz experiment config. Run it with:   optiviz run {file}
# Check it without running:                optiviz validate {file}
# Surfaces:   optiviz list surfaces      (optiviz describe rosenbrock)
# Optimizers: optiviz list optimizers    (optiviz describe adam: equations, hyperparameters)
name: {name}
description: GD, momentum and Adam on Rosenbrock's banana valley

# A library surface, or inline:
#   surface: {{expression: "0.1*x1**2 + 2*x2**2", variables: [x1, x2]}}
#   surface: {{name: rosenbrock, parameters: {{b: 10}}, l2: 0.1}}
surface: rosenbrock
start: [-1.2, 1.0]          # one number per variable
# start_prev: [-1.3, 0.9]   # the iterate before start (momentum from a history)
steps: 2000                 # step budget of every run (an entry may set its own)
tolerance: {{grad: 1.0e-8}}   # stop a run when the gradient norm falls below this
seed: 0                     # seeds mini-batch sampling on data surfaces

optimizers:
  - {{name: gd, lr: 1.0e-3}}
  - {{name: momentum, lr: 1.0e-3, momentum: 0.9}}
  - {{name: adam, lr: 2.0e-2, label: "Adam (lr 0.02)"}}
  # - {{name: gd, lr: {{times_eta_opt: 1.5}}}}                  # relative to the Hessian's eta_opt
  # - {{name: adam, lr: {{grid: {{logspace: [-4, -1, 30]}}}}}}    # 30 runs in one batch
  # - {{name: sgd, lr: 0.01, schedule: {{name: inverse_time, eta0: 1, k: 1}}}}

figures: [contour, loss, effective_lr]   # also: surface3d, lr_sweep (needs a grid)
formats: [png]                           # png, svg, pdf
# report: {{at: [1.0, 1.0]}}               # the point of the Hessian analysis
# expect:                                # checks of the results (the test suite uses them)
#   - {{run: 2, loss: 0.0, tol: 1.0e-6}}
"""


@app.command()
@_guard
def init(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Experiment name; writes NAME.yaml.")
    ] = "experiment",
) -> None:
    """Write a commented starter config (NAME.yaml); never overwrites a file."""
    from optiviz.config import is_safe_name

    path = Path(name if name.lower().endswith((".yaml", ".yml")) else f"{name}.yaml")
    stem = path.stem
    if not is_safe_name(stem) or path.parent != Path(""):
        raise OptivizError(
            f"init: {name!r} is not allowed: the name must be file-name safe (letters, "
            "digits, '.', '_' and '-'; no path separators, no '..')"
        )
    if path.exists():
        raise OptivizError(
            f"init: {path} already exists; not overwriting it (choose another "
            "name or delete the file)"
        )
    text = STARTER.format(name=stem, file=path)
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise OptivizError(f"init: {path} already exists; not overwriting it") from None
    typer.echo(f"wrote {path}: run it with `optiviz run {path}`")


# --------------------------------------------------------------------------------------
# report / step
# --------------------------------------------------------------------------------------
@app.command()
@_guard
def report(
    target: Annotated[
        str,
        typer.Argument(
            metavar="SURFACE|CONFIG",
            help="A library surface name or a config file.",
            show_default=False,
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            metavar="X,Y,...",
            help="Also analyse the local quadratic model at this point, e.g. --at=1,1 "
            "(default: the config's report.at; the stationary points are always "
            "analysed).",
        ),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", metavar="md|json|table", help="Output format.")
    ] = "table",
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="NAME=VALUE",
            help="Surface parameter override name=value (repeatable), e.g. -p b=10.",
        ),
    ] = None,
) -> None:
    """Hessian analysis of a surface: stationary points, eigenvalues, eta bounds and optima."""
    fmts = ("md", "json", "table")
    if format not in fmts:
        raise OptivizError(
            f"--format: {format!r} is not allowed: must be one of "
            f"{', '.join(fmts)}{suggest(format, fmts)}"
        )
    params = parse_assignments(param, "--param")
    surface, cfg = _load_surface_arg(target, params)
    point = (
        _vector(at, "--at")
        if at is not None
        else (list(cfg.report.at) if cfg is not None and cfg.report.at is not None else None)
    )
    if point is not None and len(point) != surface.n:
        raise OptivizError(
            f"--at: {at!r} is not allowed: the surface has {surface.n} "
            f"variables ({', '.join(surface.variables)})"
        )
    import numpy as np

    from optiviz import report as rep
    from optiviz.analysis import analyze

    bar = _LazyBar()  # the symbolic solve of stationary points can take a few seconds
    bar.begin(1)
    bar.describe(f"analysing {surface.name}")
    try:
        analysis = analyze(surface, at=None if point is None else np.asarray(point, dtype=float))
        bar.advance()
    finally:
        bar.end()
    if format == "md":
        typer.echo(rep.to_markdown(analysis, []))
    elif format == "json":
        out = rep.to_json(analysis)
        typer.echo(out if isinstance(out, str) else __import__("json").dumps(out, indent=2))
    else:
        typer.echo(rep.to_table(analysis))


@app.command()
@_guard
def step(
    surface: Annotated[
        str,
        typer.Option(
            "--surface",
            "-s",
            metavar="SURFACE|CONFIG",
            help="A library surface name or a config file (its surface).",
            show_default=False,
        ),
    ],
    optimizer: Annotated[
        str,
        typer.Option(
            "--optimizer", "-o", metavar="NAME", help="Optimizer name.", show_default=False
        ),
    ],
    at: Annotated[
        str,
        typer.Option(
            metavar="X,Y,...",
            help="The current iterate x_t, e.g. --at=1.5,2.0 .",
            show_default=False,
        ),
    ],
    prev: Annotated[
        str | None,
        typer.Option(
            metavar="X,Y,...", help="The previous iterate x_(t-1) (momentum / RProp histories)."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-p",
            metavar="NAME=VALUE",
            help="A hyperparameter name=value (repeatable): numbers (0.3, 1e-3), booleans "
            "(true/false), pairs (betas=0.9,0.999) or choices (eps_placement=inside).",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="NAME=VALUE",
            help="Surface parameter override name=value (repeatable).",
        ),
    ] = None,
) -> None:
    """Explain one optimizer step: every intermediate quantity of the update.

    Hyperparameters are given as repeated -p/--set name=value options, parsed safely
    (never evaluated): numbers (lr=0.3, eps=1e-8), booleans (nesterov=true), pairs
    (betas=0.9,0.999) and choices (eps_placement=inside). Unset ones take the
    optimizer's defaults (optiviz describe NAME lists them).

    \b
    Example (worked problem A, the momentum step):
      optiviz step -s seed_quadratic -o momentum -p lr=0.3 -p momentum=0.9 \\
                   --at=1.5,2.0 --prev=1,1
    """
    from optiviz.optimizers import make_optimizer

    hp = parse_assignments(set_, "--set")
    opt = make_optimizer(optimizer, **hp)  # validates names before the surface is built
    surf, _ = _load_surface_arg(surface, parse_assignments(param, "--param"))
    x = _vector(at, "--at")
    xp = None if prev is None else _vector(prev, "--prev")
    for opt_name, vec in (("--at", x), ("--prev", xp)):
        if vec is not None and len(vec) != surf.n:
            raise OptivizError(
                f"{opt_name}: {len(vec)} numbers given but the surface "
                f"{surf.name!r} has {surf.n} variables "
                f"({', '.join(surf.variables)})"
            )
    import numpy as np

    from optiviz.explain import explain_step

    ex = explain_step(
        surf, opt, np.asarray(x, dtype=float), None if xp is None else np.asarray(xp, dtype=float)
    )
    typer.echo(ex.render())


# --------------------------------------------------------------------------------------
# list / describe
# --------------------------------------------------------------------------------------
_KINDS = ("optimizers", "surfaces", "schedules")


def _first_line(text: str) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


@app.command("list")
@_guard
def list_(
    kind: Annotated[
        str,
        typer.Argument(
            metavar="optimizers|surfaces|schedules", help="What to list.", show_default=False
        ),
    ],
) -> None:
    """List the available optimizers, surfaces or schedules."""
    kinds = {k: k for k in _KINDS}
    kinds.update({k[:-1]: k for k in _KINDS})  # singular forms
    if kind not in kinds:
        raise OptivizError(
            f"list: {kind!r} is not allowed: must be one of "
            f"{', '.join(_KINDS)}{suggest(kind, _KINDS)}"
        )
    kind = kinds[kind]
    rows: list[tuple[str, str]] = []
    if kind == "optimizers":
        from optiviz.optimizers import available, get_class

        for name in available():
            rows.append((name, _first_line(get_class(name).__doc__)))
    elif kind == "surfaces":
        from optiviz.library import available_surfaces, surface_info

        for name in available_surfaces():
            rows.append((name, _first_line(surface_info(name).get("description", ""))))
    else:
        from optiviz.schedules import SCHEDULES, available_schedules

        for name in available_schedules():
            rows.append((name, _first_line(SCHEDULES[name].__doc__)))
    width = max(len(n) for n, _ in rows) if rows else 0
    for name, desc in rows:
        typer.echo(f"{name:<{width}}  {desc}".rstrip())


@app.command()
@_guard
def describe(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", help="An optimizer, surface or schedule name.", show_default=False
        ),
    ],
) -> None:
    """Show an optimizer's equations and hyperparameters, or a surface's formula and minima,
    or a schedule's formula."""
    from optiviz.optimizers import available
    from optiviz.optimizers import describe as describe_optimizer

    if name in available():
        typer.echo(describe_optimizer(name))
        return
    from optiviz.schedules import available_schedules, describe_schedule

    if name in available_schedules():
        typer.echo(describe_schedule(name))
        return
    from optiviz.library import available_surfaces, load_surface, surface_info

    surfaces = available_surfaces()
    if name in surfaces:
        surface = load_surface(name)
        typer.echo(surface.describe())
        notes = surface_info(name).get("notes")
        if notes:
            typer.echo("  notes: " + " ".join(str(notes).split()))
        return
    everything = [*available(), *surfaces, *available_schedules()]
    raise OptivizError(
        f"describe: unknown name {name!r}{suggest(name, everything)}; see "
        "`optiviz list optimizers`, `optiviz list surfaces`, "
        "`optiviz list schedules`"
    )


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``optiviz``) and ``python -m optiviz``."""
    try:
        app(args=argv, prog_name="optiviz")
    except BrokenPipeError:  # e.g. `optiviz list optimizers | head -3`
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
