"""The short text ``optiviz run`` prints about the runs."""

from __future__ import annotations

from typing import Any

import numpy as np

from optiviz._format import fmt_point
from optiviz.experiment.results import ExperimentResult, RunRecord
from optiviz.report.notes import end_words, plural_count


def settings_of(result: ExperimentResult) -> list[dict[str, Any]]:
    """The repeated settings of ``result``: for every entry run with several seeds, each
    of its settings (a grid point from a start) with ``entry``, ``runs`` (its run
    numbers, consecutive: seed fastest), ``label`` (the runs' label without the seed),
    ``seeds``, ``trajectories`` (one per seed) and ``evaluations`` (each run's cost in
    the config's ``evaluation_weights``). Empty without repeats."""
    config = result.config
    out = []
    by_entry: dict[int, list[RunRecord]] = {}
    for r in result.runs:
        by_entry.setdefault(r.entry, []).append(r)
    for spec in config.optimizers:
        N = config.repeats_of(spec)
        recs = by_entry.get(spec.index, [])
        if N < 2:
            continue
        for j in range(0, len(recs), N):
            group = recs[j : j + N]
            trs = [r.trajectory for r in group]
            seeds = [r.seed for r in group]
            suffix = f" seed {seeds[0]}"
            label = group[0].label
            out.append(
                {
                    "entry": spec.index,
                    "runs": [r.run for r in group],
                    "label": label[: -len(suffix)] if label.endswith(suffix) else label,
                    "seeds": seeds,
                    "trajectories": trs,
                    "evaluations": [tr.cost(config.evaluation_weights) for tr in trs],
                }
            )
    return out


def summarize(result: ExperimentResult) -> list[str]:
    """Short text lines describing the runs (what ``optiviz run`` prints): one line per
    single run, one line per grid entry; an entry with repeats (``seeds: N``) one line per
    setting, its final loss as median [q10, q90] over the seeds (and a grid of repeats one
    line, with its best setting by median final loss). A run whose final gradient is ~0 at
    a saddle, a maximum or a degenerate point is flagged (``at a saddle (x=0, y=0), not a
    minimum``)."""
    lines = []
    by_entry: dict[int, list[RunRecord]] = {}
    for r in result.runs:
        by_entry.setdefault(r.entry, []).append(r)
    repeated: dict[int, list[dict]] = {}
    for st in settings_of(result):
        repeated.setdefault(st["entry"], []).append(st)
    for spec in result.config.optimizers:
        recs = by_entry.get(spec.index, [])
        if not recs:
            continue
        if spec.index in repeated:
            lines += _repeat_lines(spec, repeated[spec.index])
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


def _repeat_lines(spec: Any, settings: list[dict]) -> list[str]:
    """The summary of an entry's repeated settings (see :func:`summarize`)."""
    from optiviz.report.table import fmt_spread

    def status(st: dict) -> str:
        counts: dict[str, int] = {}
        for tr in st["trajectories"]:
            counts[str(tr.status)] = counts.get(str(tr.status), 0) + 1
        return ", ".join(f"{v} {k}" for k, v in counts.items())

    def span(values: list) -> str:
        return f"{values[0]}-{values[-1]}" if len(values) > 1 else str(values[0])

    def finals(st: dict) -> list[float]:
        return [float(tr.final_loss) for tr in st["trajectories"]]

    N = len(settings[0]["seeds"])
    if not spec.is_grid:
        return [
            f"  [{span(st['runs'])}] {st['label']}, {N} seeds ({span(st['seeds'])}): "
            f"{status(st)}; final loss median [q10, q90] {fmt_spread(finals(st))}"
            for st in settings
        ]
    from optiviz._stats import spread

    med = np.array([spread(finals(st))[0] for st in settings])
    runs = [r for st in settings for r in st["runs"]]
    ok = np.isfinite(med)
    best = ""
    if ok.any():
        b = settings[int(np.flatnonzero(ok)[np.argmin(med[ok])])]
        best = (
            f"; best median final loss {fmt_spread(finals(b))} (median [q10, q90]): "
            f"[{span(b['runs'])}] {b['label']}"
        )
    return [
        f"  [{runs[0]}-{runs[-1]}] grid of {len(settings)} settings x {N} seeds "
        f"({spec.label or spec.name}){best}"
    ]


def _end(result: ExperimentResult, tr: Any) -> str | None:
    """What the run's final point is where the gradient vanishes (saddle, maximum, ...)."""
    from optiviz.analysis import end_kind

    fp = getattr(tr, "final_point", None)
    if fp is None:
        return None
    return end_kind(result.surface, fp)  # None where it cannot say (non-finite, no Hessian)
