"""Commands that inspect a surface or a step: ``report``, ``step``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from optiviz.cli.app import (
    app,
    guard,
    load_surface_arg,
    parse_assignments,
    parse_names,
    parse_vector,
)
from optiviz.cli.progress import LazyBar
from optiviz.errors import OptivizError, suggest

#: What ``optiviz step --figure FILE`` may write (optiviz.plotting.save.FORMATS).
FIGURE_FORMATS = ("png", "svg", "pdf")

#: Largest --t (steps 1 to N-1 are taken one by one, as explained steps).
_MAX_T = 10_000

#: What -p/--param means, in every command that takes it.
_PARAM_HELP = (
    "A parameter NAME=VALUE (repeatable), the same in every command: of the surface "
    '(-p b=10, a matrix -p "A=[[4,1],[1,2]]", a constant -p "a=0.15*pi"; an '
    "expression's parameters are the names given this way) and, in `optiviz step`, of "
    "the optimizer (-p lr=0.3), told apart by name. Values are parsed, never evaluated."
)
_VARS_HELP = (
    "An expression's variables in order, e.g. --vars=y,x (default: its names other than "
    "functions, constants and -p parameters, in alphabetical order: x, y; w1, w2, w10)."
)


@app.command()
@guard
def report(
    target: Annotated[
        str,
        typer.Argument(
            metavar="SURFACE|CONFIG|EXPRESSION",
            help="A library surface name, a config file, or an expression such as "
            '"x**4 - 3*x**2 + y**2 + x*y" (read by the safe parser, never evaluated).',
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
            help=_PARAM_HELP + " Here: a parameter of the surface.",
        ),
    ] = None,
    vars_: Annotated[
        str | None,
        typer.Option("--vars", metavar="X,Y,...", help=_VARS_HELP),
    ] = None,
) -> None:
    """Hessian analysis of a surface: stationary points, eigenvalues, eta bounds and optima.

    \b
    Examples:
      optiviz report rosenbrock --at=1,1
      optiviz report "x**4 - 3*x**2 + y**2 + x*y"
      optiviz report quadratic -p "A=[[4,1],[1,2]]" -f md
    """
    fmts = ("md", "json", "table")
    if format not in fmts:
        raise OptivizError(
            f"--format: {format!r} is not allowed: must be one of "
            f"{', '.join(fmts)}{suggest(format, fmts)}"
        )
    params = parse_assignments(param, "--param")
    surface, cfg = load_surface_arg(target, params, parse_names(vars_, "--vars"))
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
            metavar="SURFACE|CONFIG|EXPRESSION",
            help="A library surface name, a config file (its surface) or an expression "
            'such as "(x + 1)**2/2".',
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
            help="The current iterate w(t), e.g. --at=1.5,2.0 (with --t N: where the run "
            "starts, w(1)).",
            show_default=False,
        ),
    ],
    prev: Annotated[
        str | None,
        typer.Option(
            metavar="X,Y,...",
            help="The previous iterate w(t-1): it starts the state of every optimizer with "
            "a history (momentum, nesterov, sgd with momentum > 0: the velocity w(t) - "
            "w(t-1); lecture rprop: the last step and gradient); the others' step does not "
            "depend on it, and the output says so.",
        ),
    ] = None,
    t: Annotated[
        int | None,
        typer.Option(
            "--t",
            "-t",
            metavar="N",
            help="Explain step N of a run that starts at --at (and --prev): steps 1 to N-1 "
            "are taken first, e.g. Adam's lr factor at step 2 (default: 1).",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", metavar="NAME=VALUE", help=_PARAM_HELP),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help="A hyperparameter of the optimizer only (repeatable): numbers (0.3, 1e-3), "
            "booleans (true/false), pairs (betas=0.9,0.999) or choices "
            "(eps_placement=inside).",
        ),
    ] = None,
    surface_param: Annotated[
        list[str] | None,
        typer.Option(
            "--surface-param",
            metavar="NAME=VALUE",
            help="A parameter of the surface only (repeatable), for a name that is also a "
            "hyperparameter of the optimizer (armijo's c and quadratic's c).",
        ),
    ] = None,
    vars_: Annotated[
        str | None,
        typer.Option("--vars", metavar="X,Y,...", help=_VARS_HELP),
    ] = None,
    figure: Annotated[
        str | None,
        typer.Option(
            "--figure",
            metavar="FILE.png|svg|pdf",
            help="Also draw the step on the local contour into FILE: the gradient, the "
            "momentum part, Nesterov's look-ahead point, the accumulators as per-coordinate "
            "bars, the update arrow, with the numbers printed here (surfaces of two or more "
            "variables).",
        ),
    ] = None,
) -> None:
    """Explain one optimizer step: every intermediate quantity of the update.

    Parameters are given as repeated -p name=value options, parsed safely (never
    evaluated): numbers (lr=0.3, eps=1e-8), booleans (nesterov=true), pairs
    (betas=0.9,0.999), matrices (A=[[4,1],[1,2]]) and choices (eps_placement=inside). A
    name of one of the optimizer's hyperparameters sets it; any other name is a parameter
    of the surface. Unset hyperparameters take the optimizer's defaults (optiviz describe
    NAME lists them).

    \b
    Examples (worked problems A and E):
      optiviz step -s seed_quadratic -o momentum -p lr=0.3 -p momentum=0.9 \\
                   --at=1.5,2.0 --prev=1,1
      optiviz step -s "(x + 1)**2/2" -o adam -p lr=1 -p eps=0 --at=0 --t 2
      optiviz step -s seed_quadratic -o nesterov -p lr=0.3 --at=1.5,2 --prev=1,1 \\
                   --figure nesterov.png
    """
    from pathlib import Path

    from optiviz.cli.app import expression_names, is_expression
    from optiviz.optimizers import get_class, make_optimizer

    figure_path = None if figure is None else Path(figure)
    if figure_path is not None and figure_path.suffix.lstrip(".") not in FIGURE_FORMATS:
        raise OptivizError(
            f"--figure: {figure!r} is not allowed: the file must end in "
            f"{', '.join('.' + f for f in FIGURE_FORMATS)}"
        )
    cls = get_class(optimizer)
    given = parse_assignments(param, "--param")
    hp = parse_assignments(set_, "--set")
    sp = parse_assignments(surface_param, "--surface-param")
    for key in given:
        if key in hp or key in sp:
            raise OptivizError(f"--param: {key!r} is given twice (also by --set/--surface-param)")
    if t is not None and not 1 <= t <= _MAX_T:
        raise OptivizError(f"--t: {t} is not allowed: must be a step number in [1, {_MAX_T}]")
    variables = parse_names(vars_, "--vars")
    expression = is_expression(surface)
    surface_names = set(expression_names(surface) or []) if expression else None
    surf = None
    if not expression:
        surf, _ = load_surface_arg(surface, sp)
        surface_names = set(getattr(surf, "parameters", None) or {})
    assert surface_names is not None
    unknown: list[str] = []
    for key, value in given.items():
        if key in cls.params and key in surface_names:
            raise OptivizError(
                f"--param: {key!r} is both a hyperparameter of {cls.name} and a parameter of "
                f"the surface: write --set {key}=... for the optimizer's or "
                f"--surface-param {key}=... for the surface's"
            )
        if key in cls.params:
            hp[key] = value
        elif key in surface_names:
            sp[key] = value
        else:
            unknown.append(key)
    if unknown:
        try:
            make_optimizer(optimizer, **hp, **{k: given[k] for k in unknown})
        except OptivizError as exc:
            names = ", ".join(sorted(surface_names)) or "none"
            where = (
                f"used by the expression (its names: {names})"
                if surf is None
                else f"a parameter of the surface {surf.name!r} (its parameters: {names})"
            )
            raise OptivizError(
                f"--param: {str(exc).rstrip('.')}; nor is {unknown[0]!r} {where}"
            ) from None
    opt = make_optimizer(optimizer, **hp)  # validates the values before the surface is built
    if expression:
        surf, _ = load_surface_arg(surface, sp, variables)
    else:
        assert surf is not None
        if variables is not None:
            load_surface_arg(surface, None, variables)  # refuses --vars, with its message
        extra = {k: v for k, v in sp.items() if k in given}
        if extra:
            surf = surf.with_parameters(**extra)
    x = parse_vector(at, "--at")
    xp = None if prev is None else parse_vector(prev, "--prev")
    for opt_name, vec in (("--at", x), ("--prev", xp)):
        if vec is not None and len(vec) != surf.n:
            raise OptivizError(
                f"{opt_name}: {len(vec)} numbers given but the surface "
                f"{surf.name!r} has {surf.n} variables "
                f"({', '.join(surf.variables)})"
            )
    if figure_path is not None and surf.n < 2:
        raise OptivizError(
            f"--figure: the surface {surf.name!r} has one variable; the step figure draws the "
            "step on the contours of two or more (the text below explains it)"
        )
    import numpy as np

    from optiviz.explain import explain_step

    x0 = np.asarray(x, dtype=float)
    xp0 = None if xp is None else np.asarray(xp, dtype=float)
    ex = explain_step(surf, opt, x0, xp0, t=t or 1, run_up=True)
    typer.echo(ex.render())
    if figure_path is not None:
        from optiviz.plotting import save_figure

        fmt = figure_path.suffix.lstrip(".")
        save_figure(ex.plot(), figure_path.with_suffix(""), [fmt])
        typer.echo(f"wrote {figure_path}")
