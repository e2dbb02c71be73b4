"""The ``data_profile`` figure of a suite: Moré-Wild d_s(alpha) per optimizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optiviz._validation import Interval, OrNone
from optiviz.figures._suite import SUITE, profile_csv
from optiviz.figures.registry import Drawn, FigureKind, Option, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """The data profile of ``result.table("cost")`` with each problem's n, and its numbers
    as ``data_profile.csv`` (alpha, then d of each optimizer)."""
    from optiviz.plotting.profiles import alpha_grid, data_profile
    from optiviz.suite.profiles import data_profile as d

    costs = result.table("cost")
    n = np.array([p.n for p in result.problems], dtype=float)
    cfg = result.config
    unit = cfg.spec.cost
    alpha_max = options.get("alpha_max") or cfg.steps / (float(n.min()) + 1 if n.size else 2.0)
    title = options.get("title") or (
        f"Data profile: {len(result.problems)} problems, tolerance {cfg.spec.tolerance:g}, "
        f"cost in {unit}"
    )
    fig = data_profile(
        costs,
        n,
        result.labels,
        alpha_max=alpha_max,
        unit=unit,
        title=title,
        colors=colors,
        figsize=options.get("size"),
        **({"dpi": options["dpi"]} if options.get("dpi") else {}),
    )
    alphas = alpha_grid(costs, n, alpha_max)
    text = profile_csv("alpha", alphas, d(costs, n, alphas), result.labels)
    return Drawn([fig], {"data_profile.csv": text})


KIND = register(
    FigureKind(
        name="data_profile",
        build=build,
        doc="Moré-Wild data profile of a suite: the fraction of problems each optimizer solves "
        "within a budget of alpha (n_p + 1) steps (data in data_profile.csv)",
        needs=(SUITE,),
        order=201,
        options=(
            Option(
                "alpha_max",
                OrNone(Interval("float", 0.0, None, closed="neither"), "null"),
                None,
                "the right end of the budget axis, in units of n_p + 1 steps (default: the "
                "whole budget of the smallest problems)",
            ),
        ),
    )
)
