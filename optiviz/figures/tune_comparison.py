"""The ``tune_comparison`` figure: the final comparison of the tuned settings (the runs of
the tuned config, best.yaml) beside each optimizer's best objective; and the tuning's
section of report.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz.figures._surface import caption, common
from optiviz.figures._tuning import TUNED, loss_f_star, tuning_of
from optiviz.figures.registry import FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.tune_comparison` of the experiment's runs."""
    from optiviz.plotting import tune_comparison

    fig = tune_comparison(
        result.trajectories,
        tuning_of(result),
        f_min=loss_f_star(result),
        colors=colors,
        caption=caption(result),
        **common(options),
    )
    return [fig]


def report(result: Any, options: Mapping[str, Any]) -> str:
    """The tuning in report.md: the protocol, then one row per optimizer."""
    from optiviz._format import fmt_number

    tuning = getattr(result, "tuning", None)
    if tuning is None:
        return ""
    spec = tuning.spec
    lines = [
        "## Tuning",
        "",
        f"Every optimizer: {spec.budget} trials ({spec.sampler}, seed {spec.seed}) of "
        f"{tuning.horizon} steps from {len(tuning.starts)} start"
        f"{'s' if len(tuning.starts) != 1 else ''}, one batched run each, judged by "
        f"{spec.objective} (the mean over the starts; a diverged run counts as inf). The "
        "best setting of each is the run above (best.yaml); every trial is in tune.csv.",
        "",
        f"| optimizer | search space | best {spec.objective} | best setting | diverged |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in tuning.optimizers:
        setting = ", ".join(
            f"{n}={fmt_number(float(v), 4)}"
            for n, v in zip(t.space.names, t.values[t.best], strict=True)
        )
        div = sum(s == "diverged" for s in t.status)
        lines.append(
            f"| {t.label} | {t.space.describe()} | {fmt_number(t.best_objective, 4)} | "
            f"{setting} | {div} of {len(t.status)} |"
        )
    return "\n".join(lines) + "\n"


KIND = register(
    FigureKind(
        name="tune_comparison",
        build=build,
        doc="the final comparison of a tuning: the tuned settings' loss curves beside each "
        "optimizer's best objective (and the tuning's section of report.md)",
        needs=(TUNED,),
        order=92,
        report=report,
    )
)
