"""The ``tune_curve`` figure: the expected best objective against the number of trials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optiviz.figures._surface import caption, common
from optiviz.figures._tuning import TUNED, loss_f_star, tuning_of
from optiviz.figures.registry import Drawn, FigureKind, register


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """One :func:`optiviz.plotting.tune_curve` and its numbers, tune_curve.csv
    (``label, k, expected, q10, median, q90``)."""
    from optiviz.plotting import tune_curve

    tuning = tuning_of(result)
    fig = tune_curve(
        tuning, f_min=loss_f_star(result), colors=colors, caption=caption(result), **common(options)
    )
    return Drawn([fig], {"tune_curve.csv": curve_csv(tuning)})


def curve_csv(tuning: Any) -> str:
    """Every optimizer's tuning curve as CSV text (floats by repr; inf written as inf)."""
    lines = ["label,optimizer,k,expected_best,q10,median,q90"]
    for t in tuning.optimizers:
        c = t.curve()
        for i, k in enumerate(c.k):
            nums = [c.expected[i], c.low[i], c.median[i], c.high[i]]
            text = ",".join(repr(float(v)) if np.isfinite(v) else "inf" for v in nums)
            label = t.label.replace('"', '""')
            lines.append(f'"{label}",{t.name},{int(k)},{text}')
    return "\n".join(lines) + "\n"


KIND = register(
    FigureKind(
        name="tune_curve",
        build=build,
        doc="the tuning curve: the expected best objective of k trials drawn without "
        "replacement from each optimizer's trials (exact), with its 10%-90% band",
        needs=(TUNED,),
        order=91,
    )
)
