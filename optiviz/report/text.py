"""The plain-text report of an analysis for a terminal (aligned columns; needs nothing
beyond numpy)."""

from __future__ import annotations

from typing import Any

from optiviz.report.notes import notes_text
from optiviz.report.table import (
    _LR_HEAD,
    _POINT_HEAD,
    _RUN_HEAD,
    _bounded,
    _lr_rows,
    _point_lines,
    _points_rows,
    _reg_lines,
    _runs,
    runs_rows,
    text_table,
)


def to_table(analysis: Any, runs: Any = None) -> str:
    """A plain-text report for a terminal (aligned columns; needs nothing beyond numpy)."""
    s = analysis.surface
    out = [
        f"{s.name}: f({', '.join(s.variables)}) = {getattr(s, 'text', '')}",
        f"bounded below: {_bounded(analysis)}",
        "",
    ]
    out.append(f"stationary points ({analysis.method}):")
    if analysis.stationary_points:
        rows, rest = _points_rows(analysis)
        out.append(text_table(_POINT_HEAD, rows))
        if rest:
            out.append(f"... {rest}")
    else:
        out.append("  none found")
    lr = _lr_rows(analysis)
    if lr:
        out += ["", "learning rates at the minima:", text_table(_LR_HEAD, lr)]
    if analysis.at is not None:
        out += [
            "",
            "at the given point:",
            text_table(["quantity", "value"], [list(x) for x in _point_lines(analysis.at)]),
        ]
    if analysis.regularization:
        out += [
            "",
            "regularization:",
            text_table(
                ["quantity", "value"], [list(x) for x in _reg_lines(analysis.regularization)]
            ),
        ]
    rr = _runs(analysis, runs)
    if rr:
        out += [
            "",
            "runs (measured vs predicted linear rate):",
            text_table(_RUN_HEAD, runs_rows(rr)),
        ]
    if analysis.notes:
        out += ["", "notes:"] + [f"  - {n}" for n in notes_text(analysis)]
    return "\n".join(out)
