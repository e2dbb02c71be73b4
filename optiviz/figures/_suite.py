"""What the suite's figure kinds share: the need of a ``suite:`` block."""

from __future__ import annotations

from typing import Any

from optiviz.figures.registry import Need, kinds


def _has_suite(config: Any) -> bool:
    return getattr(config, "suite", None) is not None


def _no_suite(kind: str, config: Any) -> str:
    return (
        f": a {kind} figure compares the optimizers of a suite (suite: {{surfaces, starts, "
        "optimizers}, see configs/suite-library.yaml) and this config has no suite: block"
    )


#: The config is a suite (``suite:`` block); only such kinds draw in a suite config.
SUITE = Need("a `suite:` block (surfaces x starts x optimizers)", _has_suite, _no_suite)


def suite_kinds() -> list[str]:
    """The kinds a suite config may draw (those that need a suite)."""
    return [k.name for k in kinds() if SUITE in k.needs]


def profile_csv(x_name: str, xs: Any, curves: Any, labels: list[str]) -> str:
    """A profile's numbers: one row per x (``tau`` or ``alpha``), one column per optimizer
    (its label), each value the fraction of problems at that x (full precision)."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([x_name, *labels])
    for i, x in enumerate(xs):
        w.writerow([repr(float(x)), *(repr(float(c[i])) for c in curves)])
    return buf.getvalue()
