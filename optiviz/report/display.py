"""What Jupyter shows for an :class:`~optiviz.analysis.Analysis`, a
:class:`~optiviz.trajectory.Trajectory` and a :class:`~optiviz.explain.StepExplanation`.

Their ``_repr_markdown_`` methods call these functions (imported when a notebook displays
one), so the wording and number formats stay those of the reports: an analysis shows its
Markdown report (:func:`~optiviz.report.markdown.to_markdown`: stationary points, the
learning-rate table, notes, slide errata), a step the text ``optiviz step`` prints, a
trajectory a table of its optimizer, hyperparameters, status, steps and final point and
loss (numbers by :func:`~optiviz._format.fmt`, tables by :func:`md_table`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiviz._format import NA, fmt
from optiviz.report.markdown import to_markdown
from optiviz.report.table import md_table

__all__ = ["MAX_RUN_ROWS", "analysis_markdown", "step_markdown", "trajectory_markdown"]

#: Rows of a batched trajectory's table; the rest are counted in one line.
MAX_RUN_ROWS = 20


def analysis_markdown(analysis: Any) -> str:
    """The analysis' Markdown report (what ``optiviz report -f md`` prints)."""
    return to_markdown(analysis)


def step_markdown(explanation: Any) -> str:
    """The step's text (what ``optiviz step`` prints), as a fenced block so the columns of
    the arithmetic stay aligned."""
    return "```text\n" + explanation.render() + "\n```"


def _value(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple, np.ndarray)) and any(
        isinstance(x, (bool, np.bool_, str)) for x in np.ravel(np.asarray(v, dtype=object))
    ):
        return "(" + ", ".join(_value(x) for x in np.ravel(np.asarray(v, dtype=object))) + ")"
    return fmt(v)


def _hyperparameters(traj: Any) -> str:
    hp = dict(traj.hyperparameters or {})
    return ", ".join(f"{k} = {_value(v)}" for k, v in hp.items()) or "none"


def _opt(v: Any) -> str:
    return NA if v is None else fmt(v)


def trajectory_markdown(traj: Any) -> str:
    """A trajectory as a compact Markdown summary (one table row per run when batched)."""
    point_head = f"final point ({', '.join(traj.variables)})"
    head = f"**`{traj.label}`** on `{traj.surface}`"
    if not traj.batched:
        fs = traj.final_suboptimality
        rows = [
            ["optimizer", f"`{traj.optimizer}`"],
            ["hyperparameters", _hyperparameters(traj)],
            ["schedule", traj.schedule or "none"],
            ["status", str(traj.status)],
            ["steps", f"{int(traj.n_steps)} of {int(traj.steps)}"],
            [point_head, fmt(traj.final_point)],
            ["final loss", fmt(traj.final_loss)],
            ["f - f*", _opt(fs)],
            ["final gradient norm", fmt(traj.final_grad_norm)],
            ["evaluations f/grad/hess", f"{traj.n_f}/{traj.n_grad}/{traj.n_hess}"],
        ]
        return head + "\n\n" + md_table(["", ""], rows)
    counts = ", ".join(f"{k}: {v}" for k, v in traj.status_counts().items())
    labels = list(traj.run_labels) if traj.run_labels else [str(i) for i in range(traj.n_runs)]
    fs = traj.final_suboptimality
    rows = []
    for i in range(min(traj.n_runs, MAX_RUN_ROWS)):
        rows.append(
            [
                str(i),
                labels[i],
                str(traj.status[i]),
                str(int(traj.n_steps[i])),
                fmt(traj.final_point[i]),
                fmt(traj.final_loss[i]),
                NA if fs is None else fmt(fs[i]),
            ]
        )
    lines = [
        f"{head}: {traj.n_runs} runs of up to {int(traj.steps)} steps ({counts})",
        "",
        f"optimizer `{traj.optimizer}`; hyperparameters: {_hyperparameters(traj)}; "
        f"schedule: {traj.schedule or 'none'}",
        "",
        md_table(
            ["run", "label", "status", "steps", point_head, "final loss", "f - f*"],
            rows,
        ),
    ]
    if traj.n_runs > MAX_RUN_ROWS:
        lines += ["", f"({traj.n_runs - MAX_RUN_ROWS} more runs)"]
    return "\n".join(lines)
