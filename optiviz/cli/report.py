"""Commands that inspect a surface or a step: ``report``, ``step``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from optiviz.cli.app import app, guard, load_surface_arg, parse_assignments, parse_vector
from optiviz.cli.progress import LazyBar
from optiviz.errors import OptivizError, suggest


@app.command()
@guard
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
    surface, cfg = load_surface_arg(target, params)
    point = (
        parse_vector(at, "--at")
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

    bar = LazyBar()  # the symbolic solve of stationary points can take a few seconds
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
        typer.echo(out if isinstance(out, str) else json.dumps(out, indent=2))
    else:
        typer.echo(rep.to_table(analysis))


@app.command()
@guard
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
    surf, _ = load_surface_arg(surface, parse_assignments(param, "--param"))
    x = parse_vector(at, "--at")
    xp = None if prev is None else parse_vector(prev, "--prev")
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
