"""Renderings of an :class:`~optiviz.analysis.Analysis`: Markdown, JSON and a terminal table.

::

    from optiviz import analyze, report
    a = analyze(surface, trajectories=[traj1, traj2])
    print(report.to_table(a))        # plain text; no dependency on rich
    md = report.to_markdown(a)       # LaTeX in $$...$$, tables, notes, slide errata
    js = report.to_json(a)           # the JSON of Analysis.to_dict()

The analysis returns data; every sentence, plural, table and number format of a report is
here: :mod:`~optiviz.report.notes` words the analysis' notes, :mod:`~optiviz.report.table`
builds the tables' rows, :mod:`~optiviz.report.markdown`, :mod:`~optiviz.report.text` and
:mod:`~optiviz.report.json` lay them out. Numbers are shown with 6 significant digits
(:func:`fmt`, the one formatter of :mod:`optiviz._format`); undefined values as ``n/a``.
"""

from __future__ import annotations

from optiviz._format import NA, fmt
from optiviz.report.json import to_json
from optiviz.report.markdown import MAX_LATEX, to_markdown
from optiviz.report.notes import KINK_NOTE, note_text, notes_text
from optiviz.report.table import (
    IRREGULAR_ROWS,
    NO_RATE,
    REPEATS_HEAD,
    fmt_spread,
    repeats_rows,
    runs_rows,
    table_points,
)
from optiviz.report.text import to_table

__all__ = [
    "to_markdown",
    "to_json",
    "to_table",
    "fmt",
    "runs_rows",
    "repeats_rows",
    "fmt_spread",
    "REPEATS_HEAD",
    "note_text",
    "notes_text",
    "table_points",
    "KINK_NOTE",
    "IRREGULAR_ROWS",
    "MAX_LATEX",
    "NA",
    "NO_RATE",
]
