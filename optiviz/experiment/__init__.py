"""Run a validated experiment config and write its outputs: what ``optiviz run`` calls.

:func:`run_experiment` builds the surface, resolves relative learning rates
(``lr: {times_eta_opt: ...}``) from the Hessian-derived eta_opt, runs every optimizer entry
(an entry with a grid is **one batched run** of all its grid points), computes the analysis
and writes, into ``outputs/<name>/`` (or ``out_dir``):

============================  =========================================================
``config.yaml``               the resolved config, every default filled in
``trajectories.csv``          long format, one row per run and recorded step:
                              ``run,label,optimizer,step,<variables...>,loss,grad_norm``
``results.npz``               every run losslessly, with the resolved config
                              (:mod:`~optiviz.experiment.saved`: what ``optiviz plot``
                              and ``optiviz compare`` redraw from)
``run.json``                  provenance (versions, platform, Python, seeds, the
                              resolved config), surface, and per run: hyperparameters,
                              status, diverged_at, final point and loss, steps to
                              tolerance, evaluation counts, wall time; the ``expect``
                              checks and the list of files written
``report.md``                 the analysis report plus a results table
``<figure>.<format>``         each figure asked for, in each format: the kinds of
                              :mod:`optiviz.figures` (contour, surface3d, loss,
                              effective_lr, lr_sweep, ...); a kind that makes several
                              figures names them <kind>, <kind>_2, ...
============================  =========================================================

CSV policy: every recorded iterate of every run is written, grid runs included (a grid of
R runs over T steps writes about R * (T + 1) rows). An entry (or config) with
``record: final`` keeps only final states, and the CSV then holds one row per run: its
final point (``step`` = the number of steps it took). Configs whose ``record: all`` would
keep an unreasonable amount of data are refused at load time with a hint to use
``record: final``.

Atomicity: nothing is written until every run, the analysis and every figure are done;
then every file is written into a temporary sibling folder that replaces the output folder
as a whole. The output folder must be new, empty or hold exactly the files of an earlier run
(those its run.json lists): any other file in it is the user's, and the run is refused
before it starts. If writing fails or is interrupted, the folder is left as it was.

The package, by question: :mod:`~optiviz.experiment.run` (running the entries),
:mod:`~optiviz.experiment.expect` (the ``expect`` checks), :mod:`~optiviz.experiment.outputs`
(the atomic writer, run.json, CSV, config.yaml), :mod:`~optiviz.experiment.markdown`
(report.md), :mod:`~optiviz.experiment.summary` (what ``optiviz run`` prints),
:mod:`~optiviz.experiment.results` (the result types), :mod:`~optiviz.experiment.api`
(:func:`run_config`: a config file run from Python in one line),
:mod:`~optiviz.experiment.saved` (results.npz; an output folder read back) and
:mod:`~optiviz.experiment.replot` (``optiviz plot`` and ``compare``). The figures come
from the registry of :mod:`optiviz.figures`.
"""

from optiviz.experiment.api import run_config
from optiviz.experiment.expect import check_expectations
from optiviz.experiment.markdown import MAX_TABLE_ROWS, RESULTS_HEAD, report_markdown, results_rows
from optiviz.experiment.outputs import write_csv, write_outputs
from optiviz.experiment.results import ExpectationResult, ExperimentResult, Progress, RunRecord
from optiviz.experiment.run import resolve_eta_opt, run_entries, run_experiment
from optiviz.experiment.summary import summarize
from optiviz.figures.lr_sweep import sweep_stability_limit

__all__ = [
    "MAX_TABLE_ROWS",
    "RESULTS_HEAD",
    "ExpectationResult",
    "ExperimentResult",
    "Progress",
    "RunRecord",
    "check_expectations",
    "report_markdown",
    "resolve_eta_opt",
    "results_rows",
    "run_config",
    "run_entries",
    "run_experiment",
    "summarize",
    "sweep_stability_limit",
    "write_csv",
    "write_outputs",
]
