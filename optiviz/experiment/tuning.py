"""A config's ``tune:`` block: the trials, the tuned config and ``best.yaml``.

:func:`run_tuning` runs :func:`optiviz.tuning.tune` on the config's surface, starts,
tolerance and entries; :func:`tuned_config` is the config with each entry's hyperparameters
set to its best trial's (what the experiment then runs as usual: the final comparison);
:func:`best_yaml` writes that config as a normal, runnable config without the tune block
(``optiviz run best.yaml`` reruns the final comparison, and so reproduces each best trial's
objective exactly).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from optiviz._format import json_safe
from optiviz.config import ExperimentConfig

#: The figure kinds that draw a tuning (left out of best.yaml, which has no tune block).
TUNING_FIGURES = ("tune_sensitivity", "tune_curve", "tune_comparison")


def candidates(config: ExperimentConfig) -> list:
    """The config's entries as :class:`~optiviz.tuning.Candidate` s."""
    from optiviz.tuning import Candidate

    out = []
    for spec in config.optimizers:
        sched = None
        if spec.schedule is not None:
            from functools import partial

            from optiviz.schedules import make_schedule

            sched = partial(make_schedule, spec.schedule.name, **spec.schedule.params)
        out.append(
            Candidate(
                spec.name,
                dict(spec.hyperparameters),
                spec.label,
                sched,
                spec.batch_size,
                index=spec.index,
            )
        )
    return out


def run_tuning(config: ExperimentConfig, surface: Any = None, progress: Any = None):
    """The trials of the config's tune block (a :class:`~optiviz.tuning.TuneResult`)."""
    from optiviz.tuning import tune

    return tune(
        surface if surface is not None else config.build_surface(),
        candidates(config),
        config.tune,
        start=config.starts,
        steps=config.steps,
        start_prev=config.starts_prev,
        tol_grad=config.tolerance.grad,
        tol_loss=config.tolerance.loss,
        divergence_bound=config.divergence_bound,
        seed=config.seed,
        progress=progress,
    )


def tuned_config(config: ExperimentConfig, result: Any) -> ExperimentConfig:
    """``config`` with every entry's hyperparameters its best trial's and the step budget
    the horizon; the tune block is kept (the tuning figures read it)."""
    by_entry = {t.candidate.index: t for t in result.optimizers}
    opts = tuple(
        replace(o, hyperparameters=dict(by_entry[o.index].best_setting))
        if o.index in by_entry
        else o
        for o in config.optimizers
    )
    new = replace(config, optimizers=opts, steps=result.horizon)
    object.__setattr__(new, "_surface", config._surface)
    return new


def best_config_dict(config: ExperimentConfig, result: Any) -> dict:
    """The tuned config as a runnable config: no tune block, no tuning figures."""
    tuned = tuned_config(config, result)
    keep = tuple(f for f in tuned.figures if f not in TUNING_FIGURES)
    tuned = replace(
        tuned,
        tune=None,
        figures=keep,
        figure_options={k: v for k, v in tuned.figure_options.items() if k in keep},
    )
    out = tuned.to_dict()
    out["name"] = f"{config.name}-best"
    return out


def best_yaml(config: ExperimentConfig, result: Any) -> str:
    """best.yaml: :func:`best_config_dict` with a header naming the tuning."""
    import yaml

    spec = result.spec
    head = (
        f"# The tuned config of experiment {config.name!r}"
        + (f" (from {config.path})" if config.path else "")
        + f": each optimizer's best of {spec.budget} {spec.sampler} trials by "
        + f"{spec.objective} at {result.horizon} steps.\n"
        + "# A normal config: `optiviz run best.yaml` reruns the final comparison.\n"
    )
    body = yaml.safe_dump(
        json_safe(best_config_dict(config, result)),
        sort_keys=False,
        default_flow_style=None,
        width=100,
    )
    return head + body


def tuning_files(config: ExperimentConfig, result: Any) -> dict[str, str]:
    """The files a tuning adds to the outputs: tune.csv and best.yaml."""
    return {"tune.csv": result.to_csv(), "best.yaml": best_yaml(config, result)}
