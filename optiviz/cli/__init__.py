"""The ``optiviz`` command line (typer): parse, validate, call the library, print.

Commands::

    optiviz run CONFIG [--out DIR] [--format png,svg,pdf] [--steps N] [--seed N] [--quiet]
    optiviz report SURFACE|CONFIG|EXPRESSION [--at x,y] [--format md|json|table]
                   [-p name=value] [--vars x,y]
    optiviz step --surface S --optimizer NAME [-p lr=0.3 ...] --at x,y [--prev x,y] [--t N]
    optiviz list [optimizers|surfaces|schedules]
    optiviz describe NAME
    optiviz validate CONFIG
    optiviz page CONFIG [--out FILE] [--steps N]
    optiviz plot OUTDIR [--figures KIND,...] [--formats png,svg,pdf] [--out DIR]
    optiviz compare OUT1 OUT2 ... --out DIR [--figures KIND,...] [--formats ...]
    optiviz init [NAME]
    optiviz --version | --install-completion | --show-completion

:mod:`optiviz.cli.app` holds the typer app, the error guard and the shared option parsers;
``-p NAME=VALUE`` means one thing in every command: a parameter, of the surface and (in
``step``) of the optimizer, told apart by name. Every other public module of this package
is a command group whose commands register themselves on that app with ``@app.command()``
and ``@guard``. Importing the package
imports every group: those of :data:`GROUPS` first (the order of ``optiviz --help``),
then any other module here, by name. Adding a command is one new module here plus its
test.
"""

from __future__ import annotations

import importlib
import pkgutil

from optiviz.cli.app import app, main, parse_assignments, parse_value
from optiviz.cli.progress import LazyBar

__all__ = ["GROUPS", "LazyBar", "app", "main", "parse_assignments", "parse_value"]

#: The built-in command groups, in the order ``optiviz --help`` lists their commands.
GROUPS = ("run", "report", "catalog")
#: Modules of this package that are not command groups.
_NOT_GROUPS = ("app", "progress")

_found = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
for _name in [*GROUPS, *sorted(set(_found) - set(GROUPS) - set(_NOT_GROUPS))]:
    importlib.import_module(f"{__name__}.{_name}")
