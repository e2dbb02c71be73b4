"""Suite benchmark (issue 11): 20 surfaces x 4 starts x 8 optimizers x 1000 steps.

The fifteen 2-D library surfaces with a known minimum, Rosenbrock n = 3, 4, 5 (the
family), seed_diagonal (3-D) and cosh (1-D); four starts drawn in each window; the eight
optimizers of configs/suite-library.yaml; one batched run of 4 starts per surface and
optimizer (160 batched runs, 640 runs). Prints the CPU and wall-clock seconds of
validating (building the 20 surfaces), running, and writing (suite.csv, report.md, two
profile figures). Run: ``python benchmarks/bench_suite.py`` from the repository root;
``--tuned``: the same suite with every optimizer tuned per surface (``suite.tune``: 64 Sobol
trials of its default space, the same budget for all, then its best setting run).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def config() -> dict:
    raw = yaml.safe_load((ROOT / "configs" / "suite-library.yaml").read_text(encoding="utf-8"))
    raw["name"] = "bench-suite"
    raw["suite"]["surfaces"] += [
        {"name": "rosenbrock", "parameters": {"n": {"values": [3, 4, 5]}}},
        "seed_diagonal",
        "cosh",
    ]
    raw["steps"] = 1000
    return raw


def tuned_config() -> dict:
    """The suite with every entry tuned (its fixed hyperparameters dropped: searched)."""
    raw = config()
    raw["name"] = "bench-suite-tuned"
    entries = []
    for i, o in enumerate(raw["suite"]["optimizers"]):
        keep = {"name": o["name"], "label": f"{o['name']} tuned #{i}"}
        entries.append(keep)
    raw["suite"]["optimizers"] = entries
    raw["suite"]["tune"] = {"budget": 64}
    return raw


def main(tuned: bool = False) -> None:
    from optiviz.config import parse_config
    from optiviz.config.suite import SuiteConfig
    from optiviz.suite import run_suite_experiment

    c0, w0 = time.process_time(), time.perf_counter()
    cfg = parse_config(tuned_config() if tuned else config(), "<bench-suite>")
    assert isinstance(cfg, SuiteConfig)
    c1, w1 = time.process_time(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_suite_experiment(cfg, Path(tmp) / "out")
        c2, w2 = time.process_time(), time.perf_counter()
    surfaces = len(cfg.spec.surfaces)
    print(
        f"suite: {surfaces} surfaces, {len(cfg.problems)} problems, "
        f"{len(cfg.optimizers)} optimizers, {cfg.steps} steps: {len(result.rows)} runs"
    )
    print(f"  validate (build surfaces): cpu {c1 - c0:.1f} s, wall {w1 - w0:.1f} s")
    print(
        f"  run + write: cpu {c2 - c1:.1f} s, wall {w2 - w1:.1f} s "
        f"(runs {result.timing['runs']:.1f} s, figures {result.timing['figures']:.1f} s wall)"
    )


if __name__ == "__main__":
    import sys

    main(tuned="--tuned" in sys.argv[1:])
