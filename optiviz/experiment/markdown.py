"""report.md of an experiment: its runs, a results table, the checks and the analysis."""

from __future__ import annotations

from optiviz.config import ExperimentConfig
from optiviz.experiment.results import ExperimentResult
from optiviz.report.notes import plural_count

MAX_TABLE_ROWS = 200


def results_rows(result: ExperimentResult) -> list[list[str]]:
    """Rows of the results table: one per run (at most MAX_TABLE_ROWS); the status of a
    run that ends on a saddle, a maximum or a degenerate point says so."""
    from optiviz.experiment.summary import _end
    from optiviz.report import fmt
    from optiviz.report.table import _status

    rows = []
    for r in result.runs[:MAX_TABLE_ROWS]:
        tr = r.trajectory
        rows.append(
            [
                str(r.run),
                r.label.replace("|", "\\|"),
                _status(str(tr.status), _end(result, tr)),
                str(tr.n_steps),
                fmt(tr.cost(result.config.evaluation_weights)),
                "n/a" if tr.diverged_at is None else str(tr.diverged_at),
                "n/a" if tr.steps_to_tolerance is None else str(tr.steps_to_tolerance),
                fmt(tr.final_loss),
                fmt(tr.final_point),
                fmt(tr.final_grad_norm),
                f"{tr.n_f}/{tr.n_grad}/{tr.n_hess}",
            ]
        )
    return rows


RESULTS_HEAD = [
    "run",
    "label",
    "status",
    "steps",
    "evaluations",
    "diverged at",
    "steps to tol",
    "final loss",
    "final point",
    "final grad norm",
    "evals f/grad/hess",
]


def _evaluations_line(config: ExperimentConfig, result: ExperimentResult) -> str:
    """What the evaluations column counts."""
    from optiviz.trajectory import weights_text

    return (
        "Evaluations: the cost of each run in weighted evaluations, "
        f"{weights_text(config.evaluation_weights, result.surface.n)} "
        "(`evaluation_weights`; every iterate's value and gradient count, the engine's "
        "included; evals f/grad/hess: the counts)."
    )


def _repeats_section(result: ExperimentResult) -> list[str]:
    """The repeats table: each repeated setting's values over its seeds."""
    from optiviz.experiment.summary import settings_of
    from optiviz.report.table import REPEATS_HEAD, md_table, repeats_rows

    settings = settings_of(result)
    if not settings:
        return []
    N = len(settings[0]["seeds"])
    return [
        "## Repeats (median [q10, q90] over the seeds)",
        "",
        f"Each setting ran with {N} seeds (`seeds: {N}`): its mini-batches differ. Entries "
        "without mini-batches are deterministic and ran once.",
        "",
        md_table(REPEATS_HEAD, repeats_rows(settings[:MAX_TABLE_ROWS])),
        "",
    ]


def _figure_sections(config: ExperimentConfig, result: ExperimentResult) -> list[str]:
    """The sections the config's figure kinds add to the report (their ``report``)."""
    from optiviz.figures import get

    lines: list[str] = []
    for kind in config.figures:
        hook = get(kind).report
        text = hook(result, config.options_of(kind)) if hook is not None else ""
        if text:
            lines += [text.rstrip(), ""]
    return lines


def report_markdown(config: ExperimentConfig, result: ExperimentResult) -> str:
    """The text of report.md."""
    from optiviz.report import to_markdown

    title = f"# Experiment `{config.name}`"
    lines = [title, ""]
    if config.description:
        lines += [config.description.strip(), ""]
    lines += [
        f"Surface `{result.surface.name}`, "
        + (
            f"start {list(config.start)}"
            if len(config.starts) == 1
            else f"{len(config.starts)} starts {', '.join(str(list(p)) for p in config.starts)} "
            "(runs entry by entry, start by start)"
        )
        + (
            f" (previous iterate{'s' if len(config.starts) > 1 else ''} "
            f"{', '.join(str(list(p)) for p in config.starts_prev)})"
            if config.starts_prev
            else ""
        )
        + (
            f", seed {config.seed}"
            if config.seeds == 1
            else f", seeds {config.seed}..{config.seed + config.seeds - 1} "
            f"(`seeds: {config.seeds}`)"
        )
        + f"; {plural_count(len(result.runs), 'run')}.",
        "",
    ]
    if result.eta_opt is not None:
        lines += [
            f"Relative learning rates (`times_eta_opt`) were resolved with "
            f"eta_opt = 1/lambda_max = {result.eta_opt:.6g}.",
            "",
        ]
    lines += ["## Results", ""]
    rows = results_rows(result)
    lines.append("| " + " | ".join(RESULTS_HEAD) + " |")
    lines.append("| " + " | ".join("---" for _ in RESULTS_HEAD) + " |")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if len(result.runs) > MAX_TABLE_ROWS:
        lines.append(
            f"\n({plural_count(len(result.runs) - MAX_TABLE_ROWS, 'more run')} in run.json "
            "and trajectories.csv)"
        )
    lines.append("")
    lines.append(_evaluations_line(config, result))
    lines.append("")
    lines += _repeats_section(result)
    if result.expectations:
        lines += ["## Expected answers (`expect`)", ""]
        for e in result.expectations:
            mark = "ok" if e.passed else "FAILED"
            note = f" -- {' '.join(e.expectation.note.split())}" if e.expectation.note else ""
            lines.append(f"- [{mark}] {e.message}{note}")
        lines.append("")
    lines += _figure_sections(config, result)
    analysis_md = to_markdown(result.analysis).rstrip()
    # demote the analysis headings one level under the experiment's title
    analysis_md = "\n".join(
        "#" + ln if ln.startswith("#") else ln for ln in analysis_md.splitlines()
    )
    lines += [analysis_md, ""]
    return "\n".join(lines)
