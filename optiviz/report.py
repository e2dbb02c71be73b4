"""Renderings of an :class:`~optiviz.analysis.Analysis`: Markdown, JSON and a terminal table.

::

    from optiviz import analyze, report
    a = analyze(surface, trajectories=[traj1, traj2])
    print(report.to_table(a))        # plain text; no dependency on rich
    md = report.to_markdown(a)       # LaTeX in $$...$$, tables, notes, slide errata
    js = report.to_json(a)           # the JSON of Analysis.to_dict()

Numbers are shown with 6 significant digits; undefined values as ``n/a``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["to_markdown", "to_json", "to_table", "fmt", "runs_rows"]

NA = "n/a"
#: Degenerate points and points on a kink listed in the stationary-point table (the rest
#: are counted in one line; the JSON keeps up to analysis.MAX_POINTS with their Hessians).
IRREGULAR_ROWS = 3
#: Longer LaTeX (a Hessian of a network loss) is left to the JSON report.
MAX_LATEX = 3000


def fmt(v: Any, digits: int = 6) -> str:
    """A number with ``digits`` significant digits; vectors as ``(a, b)``; None as ``n/a``."""
    if v is None:
        return NA
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        x = float(a)
        if x != x:
            return NA
        return f"{x + 0.0:.{digits}g}"
    if a.ndim == 1:
        return "(" + ", ".join(fmt(x, digits) for x in a) + ")"
    return "[" + ", ".join(fmt(r, digits) for r in a) + "]"


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    for r in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for r in rows:
        widths = [max(w, len(str(c))) for w, c in zip(widths, r, strict=True)]

    def join(cells: Sequence[Any]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    line = join(headers)
    sep = "  ".join("-" * w for w in widths)
    body = [join(r) for r in rows]
    return "\n".join([line, sep, *body])


# -- rows shared by the three renderings ---------------------------------------------------------
def _kind(p: Any) -> str:
    kind = p.kind or "not stationary"
    return f"{kind} (on a kink)" if getattr(p, "at_kink", False) else kind


def _points_rows(analysis: Any) -> tuple[list[list[str]], str | None]:
    """Rows of the stationary-point table and the line summarising the points left out.

    Every minimum, saddle and maximum is listed, but only the first few degenerate points
    and points on a kink (see :func:`optiviz.analysis.table_points`): on a ReLU network
    they come by the hundred, samples of flat regions rather than isolated points.
    """
    from optiviz.analysis import table_points

    shown, rest = table_points(analysis, IRREGULAR_ROWS)
    rows = [
        [str(i), fmt(p.point), fmt(p.value), _kind(p), fmt(p.eigenvalues), fmt(p.condition_number)]
        for i, p in shown
    ]
    return rows, rest


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


_POINT_HEAD = ["#", "point", "value", "kind", "Hessian eigenvalues", "condition number"]
_LR_HEAD = [
    "minimum",
    "1/lambda_i",
    "1/lambda_max",
    "2/lambda_max (stability)",
    "2/(lambda_min+lambda_max)",
    "its rate",
    "heavy-ball lr",
    "momentum",
    "heavy-ball rate",
]


def _lr_rows(analysis: Any) -> list[list[str]]:
    rows = []
    for p in analysis.minima:
        e, m = p.eta, p.momentum
        if e is None:
            continue
        where = fmt(p.point) + (" (on a kink)" if getattr(p, "at_kink", False) else "")
        rows.append(
            [
                where,
                fmt(e["per_direction"]),
                fmt(e["inverse_lambda_max"]),
                fmt(e["stability_limit"]),
                fmt(e["optimal_fixed"]),
                fmt(e["optimal_rate"]),
                fmt(m["lr"]),
                fmt(m["momentum"]),
                fmt(m["rate"]),
            ]
        )
    return rows


_RUN_HEAD = [
    "label",
    "status",
    "steps",
    "final loss",
    "distance to min",
    "measured rate",
    "predicted rate",
    "theory",
]


#: Shown for a rate that does not exist (a run too short to fit one, a method without a
#: linear-rate theory).
NO_RATE = "-"


def _rate(v: Any) -> str:
    return NO_RATE if v is None else fmt(v)


def runs_rows(runs: Sequence[Any]) -> list[list[str]]:
    """Rows of the runs table (label, status, steps, final loss, distance, rates, theory).

    A missing rate is ``-``: no measured rate for a run with fewer than 2 steps (or that
    starts at the minimum), no predicted rate without a linear-rate theory for the method.
    """
    return [
        [
            r.label,
            r.status,
            str(r.steps),
            fmt(r.final_loss),
            fmt(r.distance_to_min),
            _rate(r.measured_rate),
            _rate(r.predicted_rate),
            r.theory or NA,
        ]
        for r in runs
    ]


def _runs(analysis: Any, runs: Any) -> list[Any] | None:
    if runs is None:
        return analysis.runs
    runs = list(runs) if isinstance(runs, (list, tuple)) else [runs]
    if runs and all(hasattr(r, "measured_rate") for r in runs):
        return runs
    return analysis.compare(runs)


def _bounded(analysis: Any) -> str:
    b = analysis.bounded_below
    word = {True: "yes", False: "no", None: "unknown"}[b]
    return f"{word} ({analysis.bounded_reason})" if analysis.bounded_reason else word


def _point_lines(p: Any) -> list[tuple[str, str]]:
    items = [
        ("point", fmt(p.point)),
        ("value", fmt(p.value)),
        ("kind", p.kind or "not stationary"),
        ("gradient", fmt(p.gradient)),
        ("Hessian", fmt(p.hessian)),
        ("eigenvalues", fmt(p.eigenvalues)),
        ("eigenvectors (columns)", fmt(p.eigenvectors.T)),
        ("condition number", fmt(p.condition_number)),
    ]
    if p.eta is not None:
        e = p.eta
        items += [
            ("1/lambda_i", fmt(e["per_direction"])),
            ("1/lambda_max", fmt(e["inverse_lambda_max"])),
            ("stability limit 2/lambda_max", fmt(e["stability_limit"])),
            ("best fixed lr 2/(lambda_min+lambda_max)", fmt(e["optimal_fixed"])),
            ("its rate (kappa-1)/(kappa+1)", fmt(e["optimal_rate"])),
        ]
    nw = p.newton
    if nw is not None:
        items += [("Newton step -H^-1 g", fmt(nw["step"])), ("Newton point", fmt(nw["point"]))]
    return items


def _reg_lines(reg: dict) -> list[tuple[str, str]]:
    items = [
        ("model", str(reg.get("model"))),
        ("reference point w*", fmt(reg.get("reference_point"))),
        ("Hessian eigenvalues", fmt(reg.get("hessian_eigenvalues"))),
    ]
    l2 = reg.get("l2")
    if l2:
        items += [
            (
                f"L2 alpha = {fmt(l2['alpha'])}: H + alpha I eigenvalues",
                fmt(l2["regularized_eigenvalues"]),
            ),
            ("L2 shrink factors lambda/(lambda+alpha)", fmt(l2["shrink_factors"])),
            (
                "L2 optimum",
                fmt(l2["optimum"]) if l2["optimum"] is not None else "none: " + l2["note"],
            ),
        ]
    l1 = reg.get("l1")
    if l1:
        items += [
            (f"L1 alpha = {fmt(l1['alpha'])}: soft-threshold", fmt(l1.get("soft_threshold"))),
            (
                "L1 optimum",
                fmt(l1.get("optimum")) if l1.get("optimum") is not None else "none: " + l1["note"],
            ),
            ("L1 method", str(l1.get("method") or NA)),
        ]
    es = reg.get("early_stopping")
    if es:
        items += [
            (f"early stopping lr = {fmt(es['lr'])}, t = {es['t']}: factors", fmt(es["factors"])),
            ("early-stopping point", fmt(es["point"])),
        ]
    return items


# -- Markdown --------------------------------------------------------------------------------------
def to_markdown(analysis: Any, runs: Any = None) -> str:
    """A Markdown report: f, gradient and Hessian in LaTeX, tables, runs, notes, errata.

    ``runs``: trajectories (compared with the theory here) or RunComparison rows; by
    default the runs stored in the analysis.
    """
    s = analysis.surface
    lines = [f"# Analysis of `{s.name}`", ""]
    try:
        latex = s.latex
    except Exception:  # noqa: BLE001 - data surfaces have no closed form
        latex = None
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
        lines += [_md_table(_POINT_HEAD, rows), ""]
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
            _md_table(_LR_HEAD, lr),
            "",
        ]
    if analysis.at is not None:
        lines += [
            "## At the given point",
            "",
            _md_table(["quantity", "value"], [[k, v] for k, v in _point_lines(analysis.at)]),
            "",
        ]
    if analysis.regularization:
        lines += [
            "## Regularization",
            "",
            _md_table(
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
            _md_table(_RUN_HEAD, runs_rows(rr)),
            "",
        ]
    from optiviz.analysis import KINK_NOTE

    # the kinks paragraph above the stationary points says what KINK_NOTE says
    notes = [
        n
        for n in analysis.notes
        if not n.startswith("slide erratum: ") and not (kinks and n == KINK_NOTE)
    ]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    if analysis.errata:
        lines += ["## Slide errata", ""] + [f"- {e}" for e in analysis.errata] + [""]
    return "\n".join(lines)


# -- JSON ------------------------------------------------------------------------------------------
def to_json(analysis: Any, indent: int = 2) -> str:
    """``Analysis.to_dict()`` as JSON (strict: no NaN or Infinity; undefined is null)."""
    return json.dumps(analysis.to_dict(), indent=indent, allow_nan=False)


# -- terminal --------------------------------------------------------------------------------------
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
        out.append(_text_table(_POINT_HEAD, rows))
        if rest:
            out.append(f"... {rest}")
    else:
        out.append("  none found")
    lr = _lr_rows(analysis)
    if lr:
        out += ["", "learning rates at the minima:", _text_table(_LR_HEAD, lr)]
    if analysis.at is not None:
        out += [
            "",
            "at the given point:",
            _text_table(["quantity", "value"], [list(x) for x in _point_lines(analysis.at)]),
        ]
    if analysis.regularization:
        out += [
            "",
            "regularization:",
            _text_table(
                ["quantity", "value"], [list(x) for x in _reg_lines(analysis.regularization)]
            ),
        ]
    rr = _runs(analysis, runs)
    if rr:
        out += [
            "",
            "runs (measured vs predicted linear rate):",
            _text_table(_RUN_HEAD, runs_rows(rr)),
        ]
    if analysis.notes:
        out += ["", "notes:"] + [f"  - {n}" for n in analysis.notes]
    return "\n".join(out)
