"""The short text ``optiviz run`` prints about the runs."""

from __future__ import annotations

import numpy as np

from optiviz.experiment.results import ExperimentResult, RunRecord


def summarize(result: ExperimentResult) -> list[str]:
    """Short text lines describing the runs (what ``optiviz run`` prints): one line per
    single run, one line per grid entry."""
    lines = []
    by_entry: dict[int, list[RunRecord]] = {}
    for r in result.runs:
        by_entry.setdefault(r.entry, []).append(r)
    for spec in result.config.optimizers:
        recs = by_entry.get(spec.index, [])
        if not recs:
            continue
        if not spec.is_grid:
            for r in recs:  # one run, or one per start
                tr = r.trajectory
                extra = ""
                if tr.status == "diverged":
                    extra = f" at step {tr.diverged_at}"
                elif tr.steps_to_tolerance is not None:
                    extra = f" in {tr.steps_to_tolerance} steps"
                lines.append(
                    f"  [{r.run}] {r.label}: {tr.status}{extra}, final loss "
                    f"{float(tr.final_loss):.6g}"
                )
            continue
        status: dict[str, int] = {}
        for r in recs:
            status[str(r.trajectory.status)] = status.get(str(r.trajectory.status), 0) + 1
        losses = np.array([float(r.trajectory.final_loss) for r in recs])
        ok = np.isfinite(losses)
        best = ""
        if ok.any():
            i = int(np.flatnonzero(ok)[np.argmin(losses[ok])])
            best = f"; best final loss {losses[i]:.6g}: [{recs[i].run}] {recs[i].label}"
        counts = ", ".join(f"{v} {k}" for k, v in status.items())
        lines.append(
            f"  [{recs[0].run}-{recs[-1].run}] grid of {len(recs)} runs "
            f"({spec.label or spec.name}): {counts}{best}"
        )
    return lines
