"""The ``lr_range`` figure: the learning-rate range test of each entry whose schedule is a
range test (``exponential_range``), its steepest-descent suggestion and the Hessian's
rates (:func:`optiviz.analysis.lr_range.lr_range_test`), ``lr_range.csv`` beside it and a
section of report.md stating how far the suggestion is from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optiviz._validation import Interval
from optiviz.figures._surface import caption, common, f_star
from optiviz.figures.registry import Drawn, FigureKind, Need, Option, register


def _is_range_test(spec: Any) -> bool:
    if spec.schedule is None or spec.is_grid:
        return False
    from optiviz.schedules import SCHEDULES

    cls = SCHEDULES.get(spec.schedule.name)
    return bool(cls is not None and cls.range_test)


def _has_range_test(config: Any) -> bool:
    return any(_is_range_test(o) and config.record_of(o) != "final" for o in config.optimizers)


def _no_range_test(kind: str, config: Any) -> str:
    return (
        ": no optimizer entry (without a grid, recording the losses) runs a range test; give "
        "one the schedule {name: exponential_range, lr_min: 1.0e-4, lr_max: 10, steps: 100}"
    )


#: An entry whose schedule is a learning-rate range test.
RANGE_TEST = Need(
    "an entry with a range-test schedule (`exponential_range`)", _has_range_test, _no_range_test
)

#: What the report says of the comparison, measured on the seed quadratics
#: (tests/test_lr_range.py).
QUADRATIC_NOTE = (
    "On the seed quadratics (worked problems A and B, the lr-dependence quadratic; "
    "100 steps from 1e-4 to 10, smoothing 0.98) the suggestion lies below 1/lambda_max by "
    "a factor between 1 and 12 (tests/test_lr_range.py): the loss falls fastest before the "
    "rate reaches the Hessian's, so the rule is conservative by about that factor."
)


def compute(result: Any, options: Mapping[str, Any]) -> list[tuple[int, str, Any]]:
    """``(entry index, label, LRRange)`` per range-test entry."""
    from optiviz.analysis.lr_range import HESSIAN_RATES, lr_range_test
    from optiviz.figures.basins import entry_schedule

    config = result.config
    m = getattr(result.analysis, "minimum", None)
    eta = None if m is None else m.eta
    hessian = {} if eta is None else {k: eta.get(k) for k, _ in HESSIAN_RATES}
    out = []
    for spec, traj in zip(config.optimizers, result.trajectories, strict=True):
        if not _is_range_test(spec) or traj.losses is None or traj.batched:
            continue
        sched = entry_schedule(spec)
        T = int(traj.n_steps)
        lrs = np.asarray(sched(np.arange(1, T + 1), float(traj.hyperparameters["lr"])))
        r = lr_range_test(
            lrs,
            traj.losses,
            smoothing=float(options["smoothing"]),
            hessian=hessian,
        )
        out.append((spec.index, spec.label or traj.optimizer_label, r))
    return out


def lr_range_csv(found: list[tuple[int, str, Any]]) -> str:
    """One row per (entry, step): the step's rate, the loss it is paired with, the smoothed
    loss and its slope against ln lr (empty after the test's stop)."""
    lines = ["entry,step,lr,loss,smoothed_loss,slope"]
    for entry, _, r in found:
        for i in range(len(r.lr)):
            cells = [str(entry), str(i + 1)]
            for v in (r.lr[i], r.loss[i], r.smoothed[i], r.slope[i]):
                cells.append(repr(float(v)) if np.isfinite(v) else "")
            lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def report(result: Any, options: Mapping[str, Any]) -> str:
    """The report.md section: per entry, the suggestion, the Hessian's rates and their
    ratios to it."""
    from optiviz._format import fmt_number
    from optiviz.analysis.lr_range import HESSIAN_RATES

    found = compute(result, options)
    if not found:
        return ""
    head = ["entry", "steepest-descent lr"]
    names = {
        "inverse_lambda_max": "1/lambda_max",
        "optimal_fixed": "2/(lambda_min+lambda_max)",
        "stability_limit": "2/lambda_max",
    }
    head += [f"{names[k]} (ratio)" for k, _ in HESSIAN_RATES]
    rows = []
    for entry, label, r in found:
        row = [f"{entry}: {label}", "n/a" if r.suggestion is None else fmt_number(r.suggestion)]
        for k, _ in HESSIAN_RATES:
            v, q = r.hessian.get(k), r.ratios.get(k)
            row.append(
                "n/a" if v is None else fmt_number(v) + ("" if q is None else f" ({q:.3g} x)")
            )
        rows.append(row)
    lines = [
        "## LR range test",
        "",
        "The steepest-descent suggestion (fastai's rule: the rate where the smoothed loss "
        f"falls fastest against log lr; smoothing {options['smoothing']:g}) beside the "
        "Hessian's rates at the minimum; the ratio is each rate divided by the suggestion.",
        "",
        "| " + " | ".join(head) + " |",
        "| " + " | ".join("---" for _ in head) + " |",
        *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows),
        "",
        QUADRATIC_NOTE,
    ]
    return "\n".join(lines)


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """One figure with a panel per range-test entry, and ``lr_range.csv``."""
    from optiviz.analysis.lr_range import HESSIAN_RATES
    from optiviz.plotting.range_test import lr_range

    found = compute(result, options)
    if not found:
        return Drawn([], {})
    kw = common(options)
    title = kw.pop("title", None) or (
        f"LR range test on {result.surface.name}: the steepest descent of the loss and the "
        "Hessian's rates"
        f"\n{caption(result, named=False)}"
    )
    fig = lr_range(
        [(label, r) for _, label, r in found],
        f_min=f_star(result),
        labels=HESSIAN_RATES,
        colors=colors,
        title=title,
        **kw,
    )
    return Drawn([fig], {"lr_range.csv": lr_range_csv(found)})


KIND = register(
    FigureKind(
        name="lr_range",
        build=build,
        doc="the LR range test of each entry with an `exponential_range` schedule: loss "
        "against lr, fastai's steepest-descent suggestion, and 1/lambda_max, "
        "2/(lambda_min+lambda_max), 2/lambda_max beside it (ratios in report.md); "
        "`lr_range.csv` beside it",
        needs=(RANGE_TEST,),
        order=80,
        report=report,
        options=(
            Option(
                "smoothing",
                Interval("float", 0.0, 1.0, closed="left"),
                0.98,
                "beta of the debiased moving average of the loss (fastai's 0.98; 0: none)",
            ),
        ),
    )
)
