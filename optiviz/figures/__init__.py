"""Figure kinds: what ``figures: [...]`` in a config may name, one module per kind.

Each module of this package (other than :mod:`optiviz.figures.registry`) declares one kind
with :func:`~optiviz.figures.registry.register`: its builder (which draws with
:mod:`optiviz.plotting`), what it needs, its doc line and its file names. Importing the
package imports them all, in no particular order (the kinds' ``order`` fixes listings), and
never imports matplotlib: the builders import the plotting code when they run.

Adding a figure kind is one new module here plus its test.
"""

from __future__ import annotations

import importlib
import pkgutil

from optiviz.figures.registry import (
    FIGURE_NAMES,
    SURFACE_FIGURE_NAMES,
    Drawn,
    FigureKind,
    Need,
    Option,
    default_figures,
    draw,
    figures_of,
    get,
    kinds,
    markdown_table,
    missing_needs,
    option_defaults,
    options_table,
    register,
    schema_line,
    stems,
    unregister,
)

__all__ = [
    "FIGURE_NAMES",
    "SURFACE_FIGURE_NAMES",
    "Drawn",
    "FigureKind",
    "Need",
    "Option",
    "default_figures",
    "draw",
    "figures_of",
    "get",
    "kinds",
    "markdown_table",
    "missing_needs",
    "option_defaults",
    "options_table",
    "register",
    "schema_line",
    "stems",
    "unregister",
]

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
