"""The short text ``optiviz run`` prints about the runs."""

from __future__ import annotations

from typing import Any

import numpy as np

from optiviz._format import fmt_point
from optiviz.experiment.results import ExperimentResult, RunRecord
from optiviz.report.notes import end_words, plural_count


def summarize(result: ExperimentResult) -> list[str]:
    """Short text lines describing the runs (what ``optiviz run`` prints): one line per
    single run, one line per grid entry. A run whose final gradient is ~0 at a saddle, a
    maximum or a degenerate point is flagged (``at a saddle (x=0, y=0), not a minimum``)."""
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
                    extra = f" in {plural_count(int(tr.steps_to_tolerance), 'step')}"
                flag = end_words(_end(result, tr))
                if flag:
                    extra += f", {flag} {fmt_point(tr.final_point)}, not a minimum"
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
        ends: dict[str, int] = {}
        for r in recs:
            flag = end_words(_end(result, r.trajectory))
            if flag:
                ends[flag] = ends.get(flag, 0) + 1
        off = "".join(f" ({v} {'ends' if v == 1 else 'end'} {k})" for k, v in ends.items())
        lines.append(
            f"  [{recs[0].run}-{recs[-1].run}] grid of {len(recs)} "
            f"{'run' if len(recs) == 1 else 'runs'} ({spec.label or spec.name}): "
            f"{counts}{off}{best}"
        )
    return lines


def _end(result: ExperimentResult, tr: Any) -> str | None:
    """What the run's final point is where the gradient vanishes (saddle, maximum, ...)."""
    from optiviz.analysis import end_kind

    fp = getattr(tr, "final_point", None)
    if fp is None:
        return None
    return end_kind(result.surface, fp)  # None where it cannot say (non-finite, no Hessian)
