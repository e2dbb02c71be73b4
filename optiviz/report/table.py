"""The rows and tables of a report: which stationary points a table lists, the rows of
the stationary-point, learning-rate, point, regularization, runs and repeats tables, and
the two table layouts (Markdown, aligned plain text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optiviz._format import NA, fmt
from optiviz._stats import BAND, spread
from optiviz.analysis import KINDS, _summary
from optiviz.report.notes import end_words, flat_words, plural

#: Degenerate points and points on a kink listed in the stationary-point table (the rest
#: are counted in one line; the JSON keeps up to analysis.MAX_POINTS with their Hessians).
IRREGULAR_ROWS = 3
#: Minima, saddles and maxima listed per kind (Rastrigin has 121 minima in its window).
REGULAR_ROWS = 12


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    for r in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
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

    The first REGULAR_ROWS points of each kind are listed, and only the first few
    degenerate points and points on a kink (see :func:`table_points`): on a ReLU network
    they come by the hundred, samples of flat regions rather than isolated points.
    """
    shown, rest = table_points(analysis, IRREGULAR_ROWS)
    rows = [
        [str(i), fmt(p.point), fmt(p.value), _kind(p), _eigs(p), fmt(p.condition_number)]
        for i, p in shown
    ]
    return rows, rest


#: The eigenvalue cell of a point where f is not twice differentiable.
NO_HESSIAN = "undefined (f not differentiable here)"


def _eigs(p: Any) -> str:
    return fmt(p.eigenvalues) if getattr(p, "hessian_defined", True) else NO_HESSIAN


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


def per_direction(eta: dict) -> str:
    """``1/lambda_i`` with its direction: by variable in variable order when the Hessian is
    diagonal (``x 0.166667, y 0.25, z 0.125``, as a slide lists them), else each value
    along its unit eigenvector (ascending eigenvalues)."""
    pv = eta.get("per_variable")
    if pv:
        items = [f"{k} {fmt(v)}" for k, v in pv.items()]
        return ", ".join(_elide(items))
    values = eta["per_direction"]
    dirs = eta.get("directions") or [None] * len(values)
    if len(values) > MAX_DIRECTIONS:  # the eigenvectors would be n^2 numbers (run.json)
        return (
            "; ".join(_elide([fmt(r) for r in values]))
            + f" ({len(values)} values, ascending eigenvalues; the eigenvectors: "
            "optiviz.analyze(surface).minima[k].eta['directions'])"
        )
    return "; ".join(
        fmt(r) if d is None else f"{fmt(r)} along {fmt(d)}"
        for r, d in zip(values, dirs, strict=True)
    )


#: Beyond this many directions a report lists the values 1/lambda_i without their
#: eigenvectors, the first and last few (the 1000-D Rosenbrock's full list was 11.6 MB of
#: markdown: 10^6 numbers; the report is for reading).
MAX_DIRECTIONS = 10


def _elide(items: list[str], head: int = 6, tail: int = 2) -> list[str]:
    """``items``, or its first ``head`` and last ``tail`` with "…" between when longer
    than :data:`MAX_DIRECTIONS`."""
    if len(items) <= MAX_DIRECTIONS:
        return items
    return items[:head] + ["…"] + items[-tail:]


def _lr_rows(analysis: Any) -> list[list[str]]:
    rows = []
    for p in analysis.minima[:REGULAR_ROWS]:
        e, m = p.eta, p.momentum
        if e is None:
            continue
        where = fmt(p.point) + (" (on a kink)" if getattr(p, "at_kink", False) else "")
        rows.append(
            [
                where,
                per_direction(e),
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
            _status(r.status, getattr(r, "ends_at", None)),
            str(r.steps),
            fmt(r.final_loss),
            fmt(r.distance_to_min),
            _rate(r.measured_rate),
            _rate(r.predicted_rate),
            r.theory or NA,
        ]
        for r in runs
    ]


def fmt_spread(values: Any, band: tuple[float, float] = BAND, digits: int = 4) -> str:
    """Values over the seeds of a setting as ``median [q10, q90]`` (``band``'s quantiles;
    a non-finite value, a diverged run's, counts as +inf: :mod:`optiviz._stats`)."""
    m, lo, hi = spread(values, band)
    return f"{fmt(m, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


#: The repeats table: one row per setting, its values over the seeds as median [q10, q90].
REPEATS_HEAD = [
    "runs",
    "setting",
    "seeds",
    "status",
    "steps",
    "evaluations",
    "final loss",
    "best loss",
]


def repeats_rows(settings: Sequence[Any]) -> list[list[str]]:
    """Rows of the repeats table. Each setting is a mapping with ``runs`` (the run
    numbers), ``label``, ``seeds``, ``trajectories`` (one single-run trajectory per seed)
    and ``evaluations`` (the weighted cost of each run)."""
    rows = []
    for st in settings:
        trs = st["trajectories"]
        status: dict[str, int] = {}
        for tr in trs:
            status[str(tr.status)] = status.get(str(tr.status), 0) + 1
        runs, seeds = list(st["runs"]), list(st["seeds"])
        rows.append(
            [
                f"{runs[0]}-{runs[-1]}" if len(runs) > 1 else str(runs[0]),
                str(st["label"]),
                f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0]),
                ", ".join(f"{v} {k}" for k, v in status.items()),
                fmt_spread([tr.n_steps for tr in trs]),
                fmt_spread(st["evaluations"]),
                fmt_spread([tr.final_loss for tr in trs]),
                fmt_spread([tr.best_loss for tr in trs]),
            ]
        )
    return rows


def _status(status: str, ends_at: str | None) -> str:
    """A run's status, flagged when it ends on a saddle, a maximum or a degenerate point."""
    flag = end_words(ends_at)
    return f"{status} ({flag}, not a minimum)" if flag else status


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
            ("1/lambda_i", per_direction(e)),
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


def table_points(
    a: Any, irregular_rows: int = IRREGULAR_ROWS
) -> tuple[list[tuple[int, Any]], str | None]:
    """The stationary points a report's table lists, each with its 1-based position in
    ``a.stationary_points`` (and the JSON), and one line summarising the others.

    The first REGULAR_ROWS minima (lowest first), saddles and maxima off a kink are listed
    (a listed minimum without a Hessian counts as one of them); of the degenerate points
    and the points on a kink (flat regions and kinks of a piecewise surface, where a
    numeric search finds continua of them) only the first ``irregular_rows``. The line (None when
    nothing is left out) counts the rest over every point found.
    """
    kinks = a.kinks
    shown: list[tuple[int, Any]] = []
    extra = 0
    per_kind: dict[str, int] = {}
    for i, p in enumerate(a.stationary_points, 1):
        if p.kind == "degenerate" or (p.at_kink and p.hessian_defined):
            if extra >= irregular_rows:
                continue
            extra += 1
        else:
            per_kind[str(p.kind)] = per_kind.get(str(p.kind), 0) + 1
            if per_kind[str(p.kind)] > REGULAR_ROWS:
                continue
        shown.append((i, p))
    summary = a.summary or _summary(a.stationary_points)
    rest: dict[tuple[str, bool], int] = {}
    for kind in KINDS:
        rest[(kind, False)] = summary["kinds"][kind] - summary["at_kink"][kind]
        rest[(kind, True)] = summary["at_kink"][kind]
    for _, p in shown:
        rest[(p.kind, bool(p.at_kink))] -= 1
    parts = []
    for (kind, on_kink), k in rest.items():
        if k <= 0:
            continue
        text = f"{k} more {plural(kind, k)}" + (" on a kink" if on_kink else "")
        if kind == "degenerate" and not on_kink and kinks:
            text += f" ({flat_words(a.relu_network)})"
        parts.append(text)
    if not parts:
        return shown, None
    line = "and " + ", ".join(parts)
    if summary["found"] > summary["kept"]:
        line += (
            f"; {summary['found']} found in all, the JSON report (optiviz report "
            f"-f json) keeps the first {summary['kept']}"
        )
    else:
        line += "; all are in the JSON report (optiviz report -f json)"
    return shown, line
