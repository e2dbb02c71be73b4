"""A suite's results as data and words: suite.csv (written and read back), the rank table,
the success / diverged counts and report.md."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiviz._format import fmt_number, fmt_point

#: The columns of suite.csv before the hyperparameters, and after them.
HEAD = [
    "problem",
    "surface",
    "n",
    "start",
    "x0",
    "f0",
    "f_star",
    "f_star_source",
    "optimizer",
    "label",
]
TAIL = [
    "schedule",
    "cost",
    "cost_unit",
    "final_loss",
    "best_loss",
    "status",
    "run_status",
    "n_steps",
    "diverged_at",
]


def _num(v: float | None) -> str:
    return "" if v is None or not math.isfinite(v) else repr(float(v))


def _hyper_columns(rows: list) -> list[tuple[str, str, int | None]]:
    """``(column, key, part)`` of every hyperparameter of the rows, in order of first
    appearance; a pair (``betas``) is two columns ``betas_1``, ``betas_2``."""
    seen: dict[str, int | None] = {}
    for r in rows:
        for key, v in r.hyperparameters.items():
            size = len(v) if isinstance(v, (tuple, list, np.ndarray)) else None
            if key not in seen or (size or 0) > (seen[key] or 0):
                seen[key] = size
    out = []
    taken = set(HEAD) | set(TAIL)
    for key, size in seen.items():
        for part in [None] if size is None else range(size):
            col = key if part is None else f"{key}_{part + 1}"
            out.append((f"hp_{col}" if col in taken else col, key, part))
    return out


def _cell(hyper: dict, key: str, part: int | None) -> str:
    if key not in hyper:
        return ""
    v = hyper[key]
    if part is not None:
        v = v[part] if isinstance(v, (tuple, list, np.ndarray)) and part < len(v) else None
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def suite_csv(result: Any) -> str:
    """suite.csv: one row per problem and optimizer entry, problem by problem. ``cost`` is
    empty where the run never passed the test (a failure: an infinite ratio); ``x0`` is the
    start's coordinates separated by spaces; floats at full precision."""
    hyper = _hyper_columns(result.rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEAD + [c for c, _, _ in hyper] + TAIL)
    unit = result.config.spec.cost
    for r in result.rows:
        p = result.problems[r.problem]
        w.writerow(
            [
                p.index,
                p.surface,
                p.n,
                p.start,
                " ".join(repr(float(v)) for v in p.x0),
                _num(p.f0),
                _num(p.f_star),
                p.f_star_source,
                r.optimizer,
                r.label,
                *(_cell(r.hyperparameters, key, part) for _, key, part in hyper),
                r.schedule or "",
                _num(r.cost),
                unit,
                _num(r.final_loss),
                _num(r.best_loss),
                r.status,
                r.run_status,
                r.n_steps,
                "" if r.diverged_at is None else r.diverged_at,
            ]
        )
    return buf.getvalue()


@dataclass(frozen=True)
class CsvTable:
    """What the profiles need of a suite.csv: the optimizer labels (in file order), each
    problem's n, the cost table (problems x optimizers, inf where empty) and the statuses."""

    labels: list[str]
    n: np.ndarray
    costs: np.ndarray
    status: np.ndarray


def read_suite_csv(text: str) -> CsvTable:
    """Read suite.csv text back into the tables the profiles are computed from."""
    rows = list(csv.DictReader(io.StringIO(text)))
    labels: list[str] = []
    problems: dict[int, int] = {}
    for row in rows:
        if row["label"] not in labels:
            labels.append(row["label"])
        problems[int(row["problem"])] = int(row["n"])
    order = sorted(problems)
    at = {p: i for i, p in enumerate(order)}
    costs = np.full((len(order), len(labels)), np.inf)
    status = np.full((len(order), len(labels)), "", dtype=object)
    for row in rows:
        i, k = at[int(row["problem"])], labels.index(row["label"])
        costs[i, k] = float(row["cost"]) if row["cost"] else np.inf
        status[i, k] = row["status"]
    return CsvTable(labels, np.array([problems[p] for p in order]), costs, status)


# -- ranks and counts ------------------------------------------------------------------------
_CLASS = {"solved": 0, "unsolved": 1, "diverged": 2}


def rank_rows(result: Any) -> list[dict]:
    """Per optimizer entry: solved / unsolved / diverged counts, the runs that diverged at
    all (also after passing the test), the mean rank (per problem: solved runs by cost, then
    unsolved ones by final objective, then diverged ones; ties share their mean rank), the
    fraction of problems where it is (one of) the fastest (rho(1)) and the median cost of its
    solved runs. Sorted by mean rank."""
    from optiviz.suite.profiles import average_ranks, performance_profile

    costs = result.table("cost")
    finals = result.table("final_loss")
    status = result.status_table()
    classes = np.vectorize(lambda s: _CLASS.get(s, 2), otypes=[float])(status)
    values = np.where(classes == 0, costs, finals)
    ranks = average_ranks(classes, values) if len(result.problems) else np.zeros(costs.shape)
    rho1 = performance_profile(costs, [1.0])[:, 0]
    ran_diverged = np.zeros(costs.shape[1], dtype=int)
    for r in result.rows:
        ran_diverged[r.entry] += r.run_status == "diverged"
    out = []
    for k, label in enumerate(result.labels):
        solved = costs[:, k][np.isfinite(costs[:, k])]
        out.append(
            {
                "label": label,
                "solved": int((status[:, k] == "solved").sum()),
                "unsolved": int((status[:, k] == "unsolved").sum()),
                "diverged": int((status[:, k] == "diverged").sum()),
                "ran_diverged": int(ran_diverged[k]),
                "mean_rank": float(ranks[:, k].mean()) if ranks.size else math.nan,
                "fastest": float(rho1[k]),
                "median_cost": float(np.median(solved)) if solved.size else None,
            }
        )
    return sorted(out, key=lambda r: (r["mean_rank"], -r["solved"]))


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def rank_table(result: Any) -> str:
    """The rank table of report.md (Markdown)."""
    P = len(result.problems)
    unit = result.config.spec.cost
    lines = [
        f"| rank | optimizer | solved (of {P}) | unsolved | diverged | mean rank | fastest "
        f"| median cost ({unit}) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(rank_rows(result), 1):
        div = str(r["diverged"])
        if r["ran_diverged"] > r["diverged"]:
            div += f" (+{r['ran_diverged'] - r['diverged']} after solving)"
        med = "n/a" if r["median_cost"] is None else fmt_number(r["median_cost"], 4)
        lines.append(
            f"| {i} | {_md(r['label'])} | {r['solved']} | {r['unsolved']} | {div} | "
            f"{r['mean_rank']:.2f} | {100 * r['fastest']:.0f}% | {med} |"
        )
    return "\n".join(lines)


def surface_table(result: Any) -> str:
    """One line per surface: n, starts, f* and where it came from, runs solved / diverged."""
    lines = [
        "| surface | n | starts | f* | f* from | solved | diverged |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    by: dict[str, list] = {}
    for p in result.problems:
        by.setdefault(p.surface, []).append(p)
    rows_of: dict[int, list] = {}
    for r in result.rows:
        rows_of.setdefault(r.problem, []).append(r)
    for label, probs in by.items():
        rs = [r for p in probs for r in rows_of.get(p.index, [])]
        fs = {p.f_star for p in probs}
        f_text = fmt_number(next(iter(fs))) if len(fs) == 1 and None not in fs else "per start"
        src = ", ".join(sorted({p.f_star_source for p in probs}))
        lines.append(
            f"| {_md(label)} | {probs[0].n} | {len(probs)} | {f_text} | {src} | "
            f"{sum(r.solved for r in rs)}/{len(rs)} | "
            f"{sum(r.run_status == 'diverged' for r in rs)} |"
        )
    return "\n".join(lines)


def suite_markdown(result: Any) -> str:
    """report.md of a suite: what ran, the test, the rank table, the counts per surface."""
    cfg = result.config
    spec = cfg.spec
    P, E = len(result.problems), len(cfg.optimizers)
    surfaces = len({p.surface for p in result.problems})
    out = [f"# Suite `{cfg.name}`", ""]
    if cfg.description:
        out += [cfg.description, ""]
    out += [
        f"{surfaces} surfaces, {P} problems (surface x start), {E} optimizers: {P * E} runs "
        f"of {cfg.steps} steps, each optimizer's runs on a surface one batched run.",
        "",
        f"A run **solves** its problem at the first step t with f(x_t) <= f* + "
        f"{spec.tolerance:g} (f(x0) - f*) (Moré & Wild 2009); its cost is the {spec.cost} "
        "taken to get there (suite.csv's `cost`, empty for a failure). f* is the surface's "
        "lowest known minimum; a surface that lists none is judged against the lowest loss "
        "a run that did not diverge reached on that problem (Moré-Wild's f_L).",
        "",
        "## Ranks",
        "",
        rank_table(result),
        "",
        "Mean rank: per problem, solved runs by cost, then unsolved ones by final objective, "
        "then diverged ones (ties share their mean rank); fastest: the share of problems "
        "where the optimizer's cost is the lowest (ties count for each), rho(1) of the "
        "performance profile.",
        "",
        "## Surfaces",
        "",
        surface_table(result),
        "",
    ]
    unsolved = [
        p for p in result.problems if not any(r.solved for r in result.rows if r.problem == p.index)
    ]
    if unsolved:
        shown = ", ".join(f"{p.surface} from {fmt_point(p.x0, 4)}" for p in unsolved[:12])
        more = f" and {len(unsolved) - 12} more" if len(unsolved) > 12 else ""
        out += [f"No optimizer solved {len(unsolved)} problem(s): {shown}{more}.", ""]
    guessed = sorted({p.surface for p in result.problems if p.f_star_source != "known minimum"})
    if guessed:
        out += [
            f"Judged against the best value found (no known minimum): {', '.join(guessed)}.",
            "",
        ]
    return "\n".join(out)
