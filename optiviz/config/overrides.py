"""Command-line overrides of a validated config (checked like the file's own values)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from optiviz.config.cost import check_cost
from optiviz.config.fields import INVALID, Problems, number
from optiviz.config.parse import SEED, STEPS, parse_list_of
from optiviz.config.repeats import check_seeds, parse_seeds
from optiviz.config.schema import FIGURES, FORMATS
from optiviz.config.specs import ExperimentConfig


def apply_overrides(
    config: ExperimentConfig,
    *,
    steps: int | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    formats: Sequence[str] | None = None,
    figures: Sequence[str] | None = None,
    repeats: int | None = None,
) -> ExperimentConfig:
    """A copy with command-line overrides applied (validated like the file's values).

    ``steps`` replaces every step budget (top level and per entry); ``max_steps`` caps
    them (the test suite runs every config with a cap). ``repeats`` replaces ``seeds``
    (``--repeats N``: refused, like ``seeds``, when no entry draws mini-batches). The
    result is checked against the
    whole-config limits again (:mod:`optiviz.config.cost`): ``--steps 10000000`` may turn a
    config within them into one far beyond.
    """
    errs = Problems()
    if steps is not None:
        steps = number(errs, "--steps", steps, STEPS)
    if max_steps is not None:
        max_steps = number(errs, "max_steps", max_steps, STEPS)
    if seed is not None:
        seed = number(errs, "--seed", seed, SEED)
    if formats is not None:
        formats = parse_list_of(errs, "--format", list(formats), FORMATS, ())
        if formats is not INVALID and not formats:
            formats = errs.bad("--format", "", f"at least one of {', '.join(FORMATS)}")
    if figures is not None:
        figures = parse_list_of(errs, "--figures", list(figures), FIGURES, ())
    if repeats is not None:
        repeats = parse_seeds(errs, repeats, "--repeats")
        check_seeds(errs, repeats, config.optimizers, "--repeats")
    if errs:
        lines = [f"{p}: {m}" for p, m in errs.items]
        raise errs.error(lines, lines[0] if len(lines) == 1 else "\n".join(lines))
    changes: dict[str, Any] = {}
    opts = list(config.optimizers)
    if steps is not None:
        changes["steps"] = steps
        opts = [replace(o, steps=None) for o in opts]
    if max_steps is not None:
        changes["steps"] = min(changes.get("steps", config.steps), max_steps)
        opts = [
            replace(o, steps=None if o.steps is None else min(o.steps, max_steps)) for o in opts
        ]
    changes["optimizers"] = tuple(opts)
    tune = config.tune
    if tune is not None and tune.horizon is not None and (steps or max_steps) is not None:
        horizon = None if steps is not None else tune.horizon  # None: the steps
        if max_steps is not None and horizon is not None:
            horizon = min(horizon, max_steps)
        changes["tune"] = replace(tune, horizon=horizon)
    if seed is not None:
        changes["seed"] = seed
    if repeats is not None:
        changes["seeds"] = repeats
    if formats is not None:
        changes["formats"] = tuple(formats)
    if figures is not None:
        changes["figures"] = tuple(figures)
        changes["figure_options"] = {
            k: v for k, v in config.figure_options.items() if k in changes["figures"]
        }
    new = replace(config, **changes)
    object.__setattr__(new, "_surface", config._surface)
    check_cost(errs, new.cost(), "--steps" if steps is not None else "steps")
    if errs:
        src = f"{config.path}: " if config.path else ""
        lines = [f"{src}{p}: {m}" for p, m in errs.items]
        raise errs.error(lines, lines[0] if len(lines) == 1 else "\n".join(lines))
    return new
