"""Suites: every optimizer on many problems (surfaces x starts), judged by one convergence
test, compared by Moré-Wild performance and data profiles, a rank table and counts.

- :mod:`~optiviz.suite.convergence`: the test, the cost to pass it (its unit one argument);
- :mod:`~optiviz.suite.profiles`: performance ratios, rho_s(tau), d_s(alpha), ranks
  (numbers only);
- :mod:`~optiviz.suite.run`: :func:`run_suite` (one batched run per surface and entry),
  :class:`SuiteResult`;
- :mod:`~optiviz.suite.report`: suite.csv (:func:`suite_csv`, :func:`read_suite_csv`), the
  rank table, report.md; :mod:`~optiviz.suite.outputs`: the files.

A suite is a config with a ``suite:`` block (:mod:`optiviz.config.suite`);
``optiviz run`` runs it through :func:`run_suite_experiment`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from optiviz.suite.convergence import COST_UNITS, cost_to_pass, cumulative_cost, threshold
from optiviz.suite.profiles import (
    average_ranks,
    data_profile,
    performance_profile,
    performance_ratios,
)
from optiviz.suite.report import read_suite_csv, suite_csv, suite_markdown
from optiviz.suite.run import SuiteProblem, SuiteResult, SuiteRow, run_suite

__all__ = [
    "COST_UNITS",
    "SuiteProblem",
    "SuiteResult",
    "SuiteRow",
    "average_ranks",
    "cost_to_pass",
    "cumulative_cost",
    "data_profile",
    "performance_profile",
    "performance_ratios",
    "read_suite_csv",
    "run_suite",
    "run_suite_experiment",
    "suite_csv",
    "suite_markdown",
    "threshold",
]


def run_suite_experiment(
    config: Any, out_dir: str | Path | None = None, progress: Any = None, *, write: bool = True
) -> SuiteResult:
    """Run the suite ``config`` and write its outputs (what
    :func:`optiviz.experiment.run_experiment` does for a suite config): the output folder is
    checked before any run, the files staged and swapped in as a whole; nothing is written
    when the runs are interrupted."""
    from optiviz.errors import ConfigError
    from optiviz.experiment.outputs import check_output_folder, write_outputs
    from optiviz.figures import get
    from optiviz.figures._suite import SUITE, suite_kinds
    from optiviz.suite.outputs import stage_suite

    t0 = time.perf_counter()
    for kind in config.figures:  # an override (figures=[...]) may name any kind
        if SUITE not in get(kind).needs:
            raise ConfigError(
                f"figures: {kind!r} is not allowed in a suite config: it draws the runs of one "
                f"surface; a suite draws {', '.join(suite_kinds())}"
            )
    target = Path(out_dir) if out_dir is not None else Path("outputs") / config.name
    if write:
        check_output_folder(target)
    surfaces = {p.surface for p in config.problems}
    if progress is not None:
        progress.begin(len(surfaces) + (len(config.figures) + 1 if write else 0))
    try:
        result = run_suite(config, progress)
        if result.interrupted or not write:
            return result
        result.out_dir = target
        result.timing["total"] = time.perf_counter() - t0
        result.files = write_outputs(
            target,
            config,
            result,
            progress,
            stage=lambda staged: stage_suite(staged, result, progress),
        )
        result.wall_time = result.timing["total"] = time.perf_counter() - t0
        return result
    finally:
        if progress is not None:
            progress.end()
