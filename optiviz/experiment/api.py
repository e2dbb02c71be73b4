"""Running a config from Python in one line: :func:`run_config` (``optiviz.run_config``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from optiviz.config.specs import ExperimentConfig
from optiviz.experiment.results import ExperimentResult, Progress

__all__ = ["run_config"]


def run_config(
    config: str | Path | Mapping[str, Any] | ExperimentConfig,
    out_dir: str | Path | None = None,
    *,
    write: bool | None = None,
    steps: int | None = None,
    seed: int | None = None,
    formats: Sequence[str] | None = None,
    figures: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> ExperimentResult:
    """Run an experiment config, as ``optiviz run`` does, and return its result::

        result = optiviz.run_config("configs/quickstart.yaml")
        result.analysis            # the Hessian analysis (a Markdown report in Jupyter)
        result.trajectories[0]     # one Trajectory per optimizer entry
        result.runs                # per-run records: label, status, final loss, ...

    Parameters
    ----------
    config
        A config file (YAML), an already-loaded mapping (validated like a file), or an
        :class:`~optiviz.config.specs.ExperimentConfig`.
    out_dir
        Where to write the outputs (as ``optiviz run --out``); giving it writes them.
    write
        Write ``config.yaml``, ``trajectories.csv``, ``run.json``, ``report.md`` and the
        figures (default: only when ``out_dir`` is given; ``write=True`` alone writes to
        ``outputs/<name>/``, as ``optiviz run`` does). Nothing is written otherwise.
    steps, seed, formats, figures
        Overrides, checked like ``optiviz run --steps/--seed/--format``; ``figures``
        replaces the config's figure list (``[]``: none).
    progress
        A :class:`~optiviz.experiment.results.Progress` hook (default: silent).

    Bad input raises :class:`~optiviz.errors.ConfigError` (every problem at once) before
    anything runs.
    """
    from optiviz.config import apply_overrides, load_config, parse_config
    from optiviz.experiment.run import run_experiment

    if isinstance(config, ExperimentConfig):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = parse_config(dict(config), "<config>")
    else:
        cfg = load_config(config)
    if steps is not None or seed is not None or formats is not None:
        cfg = apply_overrides(cfg, steps=steps, seed=seed, formats=formats)
    do_write = out_dir is not None if write is None else bool(write)
    return run_experiment(
        cfg,
        out_dir=None if out_dir is None else Path(out_dir),
        progress=progress,
        write=do_write,
        figures=figures,
    )
