"""What an experiment produces: its runs, its expectation checks, and the progress hook."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from optiviz._format import json_safe
from optiviz.config import Expectation, ExperimentConfig

#: What each entry of ``ExperimentResult.timing`` (and run.json's ``timing``) measures, in
#: wall-clock seconds. The parts do not add up to the total: building the surface and
#: checking the output folder are in the total only.
TIMING_KEYS = {
    "runs": "running every optimizer entry (and first the trials of a tune: block)",
    "analysis": "the analysis of the surface and the expect: checks",
    "figures": "drawing and writing the figures",
    "other_files": "writing config.yaml, trajectories.csv and report.md (run.json's few "
    "milliseconds are not counted)",
    "total": "all of run_experiment, the config already loaded, to the outputs in place "
    "(in run.json: up to writing run.json itself, the last file written)",
}


@dataclass
class RunRecord:
    """One run of the experiment (a grid entry contributes one record per grid point)."""

    run: int  # global 0-based index (the CSV's ``run`` column)
    entry: int  # index in the config's ``optimizers`` list
    label: str
    trajectory: Any  # single-run Trajectory
    seed: int | None = None  # its mini-batch seed (None: the run draws no mini-batches)


@dataclass
class ExpectationResult:
    expectation: Expectation
    passed: bool
    actual: Any
    message: str

    def to_dict(self) -> dict:
        return {
            **self.expectation.to_dict(),
            "passed": self.passed,
            "actual": json_safe(self.actual),
            "message": self.message,
        }


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` returns: where everything went, and the results."""

    config: ExperimentConfig
    out_dir: Path | None
    files: dict[str, Path]  # short name (e.g. "csv", "contour.png") -> path
    surface: Any
    trajectories: list  # one Trajectory per optimizer entry (batched for grids)
    runs: list[RunRecord]
    analysis: Any
    eta_opt: float | None
    expectations: list[ExpectationResult] = field(default_factory=list)
    #: seconds, the whole of :func:`~optiviz.experiment.run_experiment` (= ``timing["total"]``)
    wall_time: float = 0.0
    #: seconds per part of the work (:data:`TIMING_KEYS`); run.json's ``timing``
    timing: dict[str, float] = field(default_factory=dict)
    #: Ctrl-C stopped the runs: only the entries run so far, no analysis, nothing written
    interrupted: bool = False
    #: The trials of a ``tune:`` block (:class:`~optiviz.tuning.TuneResult`), or None; the
    #: runs are then the final comparison of the tuned settings
    tuning: Any = None

    @property
    def expectations_passed(self) -> bool:
        return all(e.passed for e in self.expectations)

    def failed_expectations(self) -> list[ExpectationResult]:
        return [e for e in self.expectations if not e.passed]

    def _repr_markdown_(self) -> str | None:
        """Jupyter's view: the text of report.md (None, the plain repr, when interrupted:
        there is no analysis)."""
        if self.analysis is None:
            return None
        from optiviz.experiment.markdown import report_markdown

        return report_markdown(self.config, self)


class Progress(Protocol):
    """Progress hook interface (the CLI passes a rich progress bar; None is silent).

    ``begin(total)`` once; for each unit of work (one optimizer entry -- a grid entry is one
    unit --, the analysis, one kind of figure, writing the files) ``describe(text)`` before
    it and ``advance()`` after it; ``end()`` at the end, also after an error. Within an
    entry, ``steps(done, total)`` reports its steps done (the engine's ``progress``
    callback: ``(0, total)`` first, then at most every ~0.1 s, ``(total, total)`` at the
    end).
    """

    def begin(self, total: int) -> None: ...

    def describe(self, description: str) -> None: ...

    def advance(self) -> None: ...

    def steps(self, done: int, total: int) -> None: ...

    def end(self) -> None: ...
