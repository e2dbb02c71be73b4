"""Experiment configs: YAML -> validated, frozen dataclasses.

A config file describes one experiment (see ``configs/quickstart.yaml`` and ``optiviz init``)::

    name: rosenbrock-classics
    surface: rosenbrock
    start: [-1.2, 1.0]
    steps: 2000
    optimizers:
      - {name: gd, lr: 1.0e-3}
      - {name: adam, lr: {grid: {logspace: [-4, -1, 50]}}}
    figures: [contour, loss]

:func:`load_config` reads a file with ``yaml.safe_load`` and validates **everything** before
any work starts -- unknown keys (with the nearest valid key suggested), wrong types,
out-of-range values, a start point of the wrong length, unknown surface / optimizer /
schedule names, hyperparameters an optimizer does not take -- and reports every problem of
the file together in one :class:`~optiviz.errors.ConfigError`, each line naming the file,
the key path, the value and what is allowed::

    configs/x.yaml: optimizers[3].lr: -1 is not allowed: must be a float in the range [0, inf)

Numbers may be written the YAML way (``1.0e-3``) or as plain numeric text (``1e-3``, which
YAML 1.1 reads as a string); nothing else is converted.

The full schema is documented in :data:`SCHEMA` (what ``optiviz init`` writes and the docs
show). Relative learning rates (``lr: {times_eta_opt: 1.5}``) are checked to be resolvable
when the surface is built (:func:`resolve_eta_opt`) and resolved by
:mod:`optiviz.experiment`.

The package, by question:

- :mod:`~optiviz.config.schema`: allowed names, limits and the :data:`SCHEMA` text;
- :mod:`~optiviz.config.specs`: the frozen dataclasses and :func:`expand_grid`;
- :mod:`~optiviz.config.fields`: collecting problems, checking one field (through
  :mod:`optiviz._validation`);
- :mod:`~optiviz.config.surface`, :mod:`~optiviz.config.optimizers`,
  :mod:`~optiviz.config.expect`: the block parsers; :mod:`~optiviz.config.parse`: the top
  level and the checks across blocks;
- :mod:`~optiviz.config.cost`: the work, memory and CSV size of a whole config against
  the limits;
- :mod:`~optiviz.config.io`: reading files; :mod:`~optiviz.config.overrides`: command-line
  overrides.
"""

from __future__ import annotations

from optiviz.config.cost import ConfigCost, EntryCost, config_cost
from optiviz.config.fields import is_safe_name
from optiviz.config.io import (
    MAX_CONFIG_BYTES,
    MAX_CONFIG_VALUES,
    is_config_path,
    load_config,
    parse_start_text,
    read_yaml,
)
from optiviz.config.overrides import apply_overrides
from optiviz.config.parse import parse_config, resolve_eta_opt
from optiviz.config.schema import (
    ENTRY_KEYS,
    EXPECT_KINDS,
    EXPECT_QUANTITIES,
    EXPRESSION_SURFACE_KEYS,
    FIGURES,
    FORMATS,
    GRID_FORMS,
    LIBRARY_SURFACE_KEYS,
    MAX_CSV_BYTES,
    MAX_GRID,
    MAX_MEMORY,
    MAX_RECORDED,
    MAX_STEPS,
    MAX_WORK,
    RECORDS,
    SCHEMA,
    SURFACE_FIGURES,
    TOP_KEYS,
)
from optiviz.config.specs import (
    Expectation,
    ExperimentConfig,
    GridSpec,
    OptimizerSpec,
    ReportSpec,
    ScheduleSpec,
    SurfaceSpec,
    Tolerance,
    expand_grid,
)
from optiviz.config.surface import build_surface

__all__ = [
    "ExperimentConfig",
    "SurfaceSpec",
    "OptimizerSpec",
    "GridSpec",
    "ScheduleSpec",
    "Tolerance",
    "ReportSpec",
    "Expectation",
    "load_config",
    "parse_start_text",
    "parse_config",
    "apply_overrides",
    "FIGURES",
    "FORMATS",
    "RECORDS",
    "MAX_STEPS",
    "MAX_GRID",
    "SCHEMA",
    "is_config_path",
    "build_surface",
    "expand_grid",
    "is_safe_name",
    "read_yaml",
    "resolve_eta_opt",
    "EXPECT_KINDS",
    "EXPECT_QUANTITIES",
    "SURFACE_FIGURES",
    "MAX_RECORDED",
    "MAX_WORK",
    "MAX_MEMORY",
    "MAX_CSV_BYTES",
    "ConfigCost",
    "EntryCost",
    "config_cost",
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_VALUES",
    "TOP_KEYS",
    "ENTRY_KEYS",
    "GRID_FORMS",
    "LIBRARY_SURFACE_KEYS",
    "EXPRESSION_SURFACE_KEYS",
]
