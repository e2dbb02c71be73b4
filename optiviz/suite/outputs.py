"""Writing a suite's outputs, staged and swapped in like an experiment's
(:func:`optiviz.experiment.outputs.write_outputs`): config.yaml (resolved), suite.csv,
report.md, the profile figures with their data files, run.json (last)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from optiviz._format import json_safe


def _run_json(result: Any, files: list[str]) -> dict:
    from optiviz.experiment.outputs import _versions

    cfg = result.config
    return json_safe(
        {
            "name": cfg.name,
            "config": cfg.path,
            "kind": "suite",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": _versions(),
            "seed": cfg.seed,
            "steps": cfg.steps,
            "tolerance": cfg.spec.tolerance,
            "cost_unit": cfg.spec.cost,
            "n_problems": len(result.problems),
            "n_runs": len(result.rows),
            "problems": [
                {
                    "problem": p.index,
                    "surface": p.surface,
                    "n": p.n,
                    "start": p.start,
                    "x0": list(p.x0),
                    "f0": p.f0,
                    "f_star": p.f_star,
                    "f_star_source": p.f_star_source,
                }
                for p in result.problems
            ],
            # seconds: see optiviz.experiment.results.TIMING_KEYS
            "wall_time": result.timing.get("total", result.wall_time),
            "timing": dict(result.timing),
            "files": files,
        }
    )


def stage_suite(staged: Path, result: Any, progress: Any = None) -> list[str]:
    """Write every output of the suite ``result`` into the folder ``staged``; return the
    file names (run.json last)."""
    from optiviz.experiment.outputs import _config_yaml, _write_file, write_kind
    from optiviz.suite.report import suite_csv, suite_markdown

    t0 = time.perf_counter()
    cfg = result.config
    _write_file(staged / "config.yaml", lambda fh: fh.write(_config_yaml(cfg)))
    _write_file(staged / "suite.csv", lambda fh: fh.write(suite_csv(result)))
    _write_file(staged / "report.md", lambda fh: fh.write(suite_markdown(result)))
    names = ["config.yaml", "suite.csv", "report.md"]
    t_figures = time.perf_counter()
    if cfg.figures:
        from optiviz.plotting import ColorMap

        colors = ColorMap()
        for label in result.labels:  # entry order: the colours of the optimizers list
            colors.index(label)
        for kind in cfg.figures:
            names += write_kind(staged, kind, result, colors, cfg, progress)
    names.append("run.json")
    now = time.perf_counter()
    result.timing["figures"] = now - t_figures
    result.timing["other_files"] = t_figures - t0
    result.timing["total"] = result.timing.get("total", 0.0) + (now - t0)
    text = json.dumps(_run_json(result, names), indent=2, allow_nan=False)
    _write_file(staged / "run.json", lambda fh: fh.write(text))
    return names
