"""Commands that run or check an experiment config: ``run``, ``validate``, ``init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optiviz.cli.app import app, guard
from optiviz.cli.progress import LazyBar, interrupted
from optiviz.errors import OptivizError


@app.command()
@guard
def run(
    config: Annotated[
        Path,
        typer.Argument(metavar="CONFIG", help="The experiment config (YAML).", show_default=False),
    ],
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Output folder (default: outputs/<name>/): new, empty, or an earlier run's.",
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
    repeats: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Replace seeds: every entry with a batch_size runs with the seeds seed, "
            "seed+1, ..., seed+N-1 (refused when no entry draws mini-batches).",
        ),
    ] = None,
    start: Annotated[
        list[str] | None,
        typer.Option(
            "--start",
            metavar="X,Y",
            help="Replace the start: one point per --start, numbers separated by commas "
            "(repeatable: --start=-1.2,1 --start=0,0 runs every entry from each).",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar, print only where the outputs went."),
    ] = False,
) -> None:
    """Run an experiment config and write its outputs.

    Writes config.yaml (resolved), trajectories.csv, run.json, report.md and the figures
    the config asks for into outputs/<name>/ (or --out). The folder is replaced as a whole,
    and only when it is new, empty or holds exactly the files of an earlier optiviz run
    (those its run.json lists): any other file in it is left alone and the run is refused,
    naming it, before anything runs. A failed or interrupted write leaves the folder as it
    was.

    Exit codes: 0 ok; 1 an expect check failed or an internal error (the outputs of a
    failed check are written); 2 bad input: an invalid config or an unusable output folder
    (nothing is written); 130 interrupted (SIGINT, Ctrl-C): the runs stop, one line says how
    many finished, and nothing is written; 143 terminated (SIGTERM).
    """
    from optiviz.config import apply_overrides, load_config, parse_start_text

    if out is not None and not out.strip():
        raise OptivizError(f"--out: {out!r} is not allowed: must name a folder")
    cfg = load_config(config, start=parse_start_text(start) if start else None)
    fmts = None if format is None else [f.strip() for f in format.split(",") if f.strip()]
    cfg = apply_overrides(cfg, steps=steps, seed=seed, formats=fmts, repeats=repeats)
    from optiviz.experiment import run_experiment, summarize

    bar = None if quiet else LazyBar()
    result = run_experiment(cfg, out_dir=None if out is None else Path(out), progress=bar)
    if getattr(cfg, "suite", None) is not None:  # a suite: its own summary
        from optiviz.suite.cli import report_suite

        report_suite(result, quiet)
        return
    if result.interrupted:
        raise interrupted(result)
    if not quiet:
        typer.echo(
            f"{cfg.name}: {len(result.runs)} run{'s' if len(result.runs) != 1 else ''}"
            f" on {result.surface.name}; {time_line(result.timing)}"
        )
        for line in summarize(result):
            typer.echo(line)
        if result.eta_opt is not None:
            typer.echo(f"  eta_opt = {result.eta_opt:.6g} (relative learning rates)")
        for e in result.expectations:
            typer.echo(f"  {'ok' if e.passed else 'FAILED'}: {e.message}")
    typer.echo(f"wrote {len(result.files)} files to {result.out_dir}/:")
    for path in result.files.values():
        typer.echo(f"  {path}")
    if not result.expectations_passed:
        typer.echo(f"error: {len(result.failed_expectations())} expect check(s) failed", err=True)
        raise typer.Exit(1)


def time_line(timing: dict) -> str:
    """``runs 0.52 s, analysis 0.08 s, figures 1.41 s, other files 0.12 s; total 2.15 s``:
    the wall-clock seconds of each part (run.json's ``timing``; the total also holds
    building the surface and checking the output folder, not loading the config)."""
    parts = [("runs", "runs"), ("analysis", "analysis"), ("figures", "figures")]
    parts.append(("other_files", "other files"))
    shown = ", ".join(f"{name} {timing[k]:.2f} s" for k, name in parts if k in timing)
    return f"{shown}; total {timing['total']:.2f} s"


@app.command()
@guard
def validate(
    config: Annotated[
        Path,
        typer.Argument(metavar="CONFIG", help="The experiment config (YAML).", show_default=False),
    ],
) -> None:
    """Check a config without running it: every problem is reported, exit code 2 if any."""
    from optiviz.config import load_config

    cfg = load_config(config)
    if getattr(cfg, "suite", None) is not None:
        from optiviz.suite.cli import validate_line

        typer.echo(validate_line(config, cfg))
        typer.echo(cfg.cost().summary())
        return
    grids = sum(1 for o in cfg.optimizers if o.is_grid)
    typer.echo(
        f"ok: {config}: experiment {cfg.name!r} on surface {cfg.build_surface().name!r} "
        f"({', '.join(cfg.variables)}), {len(cfg.optimizers)} optimizer entr"
        f"{'y' if len(cfg.optimizers) == 1 else 'ies'} ({cfg.n_runs} run"
        f"{'' if cfg.n_runs == 1 else 's'}"
        f"{f', {grids} grid(s)' if grids else ''}), {cfg.steps} steps, figures: "
        f"{', '.join(cfg.figures) or 'none'}"
    )
    typer.echo(cfg.cost().summary())


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
@guard
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
