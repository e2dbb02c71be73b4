"""The Markdown report of an analysis: f, gradient and Hessian in LaTeX, the tables, the
runs, the notes and the slide errata."""

from __future__ import annotations

from typing import Any

from optiviz.report.notes import note_text
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
    md_table,
    runs_rows,
)

#: Longer LaTeX (a Hessian of a network loss) is left to the JSON report.
MAX_LATEX = 3000


def _kinks_text(analysis: Any) -> str | None:
    """Plain words on what Hessian theory means on a surface with kinks (None if smooth)."""
    if not getattr(analysis, "kinks", False):
        return None
    return (
        "The surface has kinks (relu, Max, Min or abs): it is smooth only piecewise. "
        "On a kink the gradient jumps and the Hessian describes at most one side, so "
        "Hessian theory -- the classification below, the learning-rate limits and the "
        "predicted rates -- applies only where the surface is smooth. Points marked "
        '"on a kink" are stationary only for one-sided derivatives; degenerate points '
        "are samples of flat regions (continua of stationary points), not isolated ones."
    )


def to_markdown(analysis: Any, runs: Any = None) -> str:
    """A Markdown report: f, gradient and Hessian in LaTeX, tables, runs, notes, errata.

    ``runs``: trajectories (compared with the theory here) or RunComparison rows; by
    default the runs stored in the analysis.
    """
    s = analysis.surface
    lines = [f"# Analysis of `{s.name}`", ""]
    latex = s.latex if getattr(s, "has_symbolic_form", False) else None
    vars_ = ", ".join(s.variables)
    if latex:
        for lhs, key in (
            (f"f({vars_})", "f"),
            ("\\nabla f", "gradient"),
            ("\\nabla^2 f", "hessian"),
        ):
            tex = latex[key]
            if len(tex) <= MAX_LATEX:
                lines += [f"$${lhs} = {tex}$$", ""]
            else:
                lines += [
                    f"(the LaTeX of ${lhs}$ is {len(tex)} characters long; it is in the "
                    "JSON report under surface.latex)",
                    "",
                ]
    else:
        lines += [f"f({vars_}) = `{getattr(s, 'text', s.name)}`", ""]
    lines += [f"**Bounded below:** {_bounded(analysis)}", ""]
    how = {
        "linear": "solved exactly as H x = -b",
        "symbolic": "solved symbolically (all real solutions)",
        "numeric": "numeric multi-start Newton search",
    }.get(analysis.method, "")
    lines += ["## Stationary points", "", f"Method: {how}.", ""]
    kinks = _kinks_text(analysis)
    if kinks:
        lines += [kinks, ""]
    if analysis.stationary_points:
        rows, rest = _points_rows(analysis)
        lines += [md_table(_POINT_HEAD, rows), ""]
        if rest:
            lines += [f"... {rest}.", ""]
    else:
        lines += ["None found.", ""]
    lr = _lr_rows(analysis)
    if lr:
        lines += [
            "## Learning rates at the minima",
            "",
            "GD converges for 0 < lr < 2/lambda_max; 1/lambda_max is the notes' "
            '"optimal" rate; 2/(lambda_min + lambda_max) is the fixed step with the '
            "fastest worst-case rate; heavy ball (Polyak) is stable for "
            "0 < lr lambda < 2 + 2 momentum.",
            "",
            md_table(_LR_HEAD, lr),
            "",
        ]
    if analysis.at is not None:
        lines += [
            "## At the given point",
            "",
            md_table(["quantity", "value"], [[k, v] for k, v in _point_lines(analysis.at)]),
            "",
        ]
    if analysis.regularization:
        lines += [
            "## Regularization",
            "",
            md_table(
                ["quantity", "value"], [[k, v] for k, v in _reg_lines(analysis.regularization)]
            ),
            "",
        ]
    rr = _runs(analysis, runs)
    if rr:
        lines += [
            "## Runs: measured vs predicted rates",
            "",
            "Measured: least-squares rate of ||x_t - x*|| over the tail; predicted: "
            "from the Hessian at the minimum (exact on a quadratic, local otherwise); "
            "- : no rate (a run of fewer than 2 steps is too short to fit one; a "
            "method without a linear-rate theory has no prediction).",
            "",
            md_table(_RUN_HEAD, runs_rows(rr)),
            "",
        ]
    # the errata have their own section; the kinks paragraph above the stationary points
    # says what the kinks note says
    notes = [
        note_text(n)
        for n in analysis.notes
        if n.kind != "erratum" and not (kinks and n.kind == "kinks")
    ]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    if analysis.errata:
        lines += ["## Slide errata", ""] + [f"- {e}" for e in analysis.errata] + [""]
    return "\n".join(lines)
