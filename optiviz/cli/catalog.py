"""Commands that list and describe what optiviz knows: ``list``, ``describe``."""

from __future__ import annotations

from typing import Annotated

import typer

from optiviz.cli.app import app, guard
from optiviz.errors import OptivizError, suggest

_KINDS = ("optimizers", "surfaces", "schedules")


def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


@app.command("list")
@guard
def list_(
    kind: Annotated[
        str | None,
        typer.Argument(
            metavar="[optimizers|surfaces|schedules]",
            help="What to list (default: everything, under one heading each).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List the available optimizers, surfaces and schedules (or one kind of them)."""
    if kind is None:
        for i, k in enumerate(_KINDS):
            typer.echo(("\n" if i else "") + f"{k}:")
            for line in _rows(k):
                typer.echo("  " + line)
        return
    kinds = {k: k for k in _KINDS}
    kinds.update({k[:-1]: k for k in _KINDS})  # singular forms
    if kind not in kinds:
        raise OptivizError(
            f"list: {kind!r} is not allowed: must be one of "
            f"{', '.join(_KINDS)}{suggest(kind, _KINDS)}"
        )
    for line in _rows(kinds[kind]):
        typer.echo(line)


def _rows(kind: str) -> list[str]:
    """``name  first line of its description`` lines of one kind, names aligned."""
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
    return [f"{name:<{width}}  {desc}".rstrip() for name, desc in rows]


@app.command()
@guard
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
