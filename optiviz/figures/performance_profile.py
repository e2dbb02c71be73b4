"""The ``performance_profile`` figure of a suite: Moré-Wild rho_s(tau) per optimizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz._validation import Interval, OrNone
from optiviz.figures._suite import SUITE, profile_csv
from optiviz.figures.registry import Drawn, FigureKind, Option, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """The profile of ``result.table("cost")`` (a :class:`~optiviz.suite.SuiteResult`), and
    its numbers as ``performance_profile.csv`` (tau, then rho of each optimizer)."""
    from optiviz.plotting.profiles import performance_profile, tau_grid
    from optiviz.suite.profiles import performance_profile as rho
    from optiviz.suite.profiles import performance_ratios

    costs = result.table("cost")
    cfg = result.config
    unit = cfg.spec.cost
    title = options.get("title") or (
        f"Performance profile: {len(result.problems)} problems, tolerance "
        f"{cfg.spec.tolerance:g}, cost in {unit} ({cfg.steps}-step budget)"
    )
    fig = performance_profile(
        costs,
        result.labels,
        tau_max=options.get("tau_max"),
        title=title,
        colors=colors,
        figsize=options.get("size"),
        **({"dpi": options["dpi"]} if options.get("dpi") else {}),
    )
    taus = tau_grid(performance_ratios(costs), options.get("tau_max"))
    text = profile_csv("tau", taus, rho(costs, taus), result.labels)
    return Drawn([fig], {"performance_profile.csv": text})


KIND = register(
    FigureKind(
        name="performance_profile",
        build=build,
        doc="Moré-Wild performance profile of a suite: the fraction of problems each optimizer "
        "solves within a factor tau of the fastest one's cost, tau on a log2 axis (data in "
        "performance_profile.csv)",
        needs=(SUITE,),
        order=200,
        options=(
            Option(
                "tau_max",
                OrNone(Interval("float", 1.0, None, closed="neither"), "null"),
                None,
                "the right end of the tau axis (default: twice the largest finite ratio)",
            ),
        ),
    )
)
