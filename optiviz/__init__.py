"""optiviz: an optimizer comparison workbench on analytic loss surfaces.

The public API is imported lazily so that ``optiviz --help`` does not pay for sympy or
matplotlib::

    import optiviz
    s = optiviz.load_surface("rosenbrock")
    opt = optiviz.make_optimizer("adam", lr=0.02)
    traj = optiviz.run(s, opt, x0=[-1.2, 1.0], steps=2000)
    result = optiviz.run_config("configs/quickstart.yaml")   # a config file, from Python
    print(optiviz.report.to_markdown(optiviz.analyze(s)))    # submodules need no import

Every public submodule (``optiviz.report``, ``optiviz.plotting``, ``optiviz.experiment``,
...) is an attribute of the package, imported on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "Surface": "optiviz.surface",
    "load_surface": "optiviz.library",
    "available_surfaces": "optiviz.library",
    "make_optimizer": "optiviz.optimizers",
    "make_schedule": "optiviz.schedules",
    "run": "optiviz.engine",
    "Trajectory": "optiviz.trajectory",
    "analyze": "optiviz.analysis",
    "Analysis": "optiviz.analysis",
    "lr_relative_to_eta_opt": "optiviz.analysis",
    "explain_step": "optiviz.explain",
    "run_config": "optiviz.experiment",
    "ExpressionError": "optiviz.errors",
    "SurfaceError": "optiviz.errors",
    "OptimizerError": "optiviz.errors",
    "ConfigError": "optiviz.errors",
    "OptivizError": "optiviz.errors",
}

#: Submodules reachable as attributes after ``import optiviz`` (``optiviz.report.to_json(a)``),
#: imported on first use: every public module and package of optiviz.
_SUBMODULES = (
    "analysis",
    "backends",
    "cli",
    "config",
    "data",
    "engine",
    "errors",
    "experiment",
    "explain",
    "expr",
    "figures",
    "library",
    "limits",
    "optimizers",
    "page",
    "plotting",
    "protocols",
    "report",
    "schedules",
    "suite",
    "structured",
    "surface",
    "trajectory",
    "tuning",
)

#: The submodules ``from optiviz import *`` brings in (the others stay unimported).
_STAR_SUBMODULES = ("data", "plotting", "report")

__all__ = sorted(_LAZY) + ["__version__", *_STAR_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"optiviz.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optiviz' has no attribute {name!r}")


def __dir__():
    return sorted({*__all__, *_SUBMODULES})
