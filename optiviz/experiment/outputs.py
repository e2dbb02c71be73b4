"""Writing an experiment's outputs atomically: config.yaml, trajectories.csv, report.md,
the figures and run.json (see :mod:`optiviz.experiment` for the policy)."""

from __future__ import annotations

import csv
import json
import os
import platform
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from optiviz._format import json_safe
from optiviz.config import ExperimentConfig
from optiviz.errors import OptivizError
from optiviz.experiment.markdown import report_markdown
from optiviz.experiment.results import ExperimentResult, Progress, RunRecord


def _versions() -> dict:
    import importlib.metadata as md

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("optiviz", "numpy", "sympy", "matplotlib", "pyyaml"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            out[pkg] = None
    return out


def _surface_info(surface: Any) -> dict:
    return {
        "name": surface.name,
        "expression": surface.text,
        "variables": list(surface.variables),
        "parameters": json_safe(
            {
                k: (v if isinstance(v, (int, float, list)) else str(v))
                for k, v in surface.parameters.items()
            }
        ),
        "l1": float(getattr(surface, "l1", 0.0)),
        "l2": float(getattr(surface, "l2", 0.0)),
        "n_samples": getattr(surface, "n_samples", None),
        "minima": [m.to_dict() for m in surface.minima],
    }


def _run_json(config: ExperimentConfig, result: ExperimentResult, files: list[str]) -> dict:
    runs = []
    entry_of = {s.index: s for s in config.optimizers}
    by_entry: dict[int, int] = {}
    for r in result.runs:
        by_entry[r.entry] = by_entry.get(r.entry, 0) + 1
    for r in result.runs:
        tr = r.trajectory
        spec = entry_of[r.entry]
        s = tr.summary()
        ent_traj = result.trajectories[r.entry]
        runs.append(
            {
                "run": r.run,
                "entry": r.entry,
                "label": r.label,
                "optimizer": tr.optimizer,
                "hyperparameters": s["hyperparameters"],
                "schedule": s["schedule"],
                "steps": config.steps_of(spec),
                "record": config.record_of(spec),
                "batch_size": spec.batch_size,
                "status": s["status"],
                "n_steps": s["n_steps"],
                "diverged_at": s["diverged_at"],
                "steps_to_tolerance": s["steps_to_tolerance"],
                "final_point": s["final_point"],
                "final_loss": s["final_loss"],
                "final_grad_norm": s["final_grad_norm"],
                "best_loss": s["best_loss"],
                "final_distance_to_min": s.get("final_distance_to_min"),
                "n_f": s["n_f"],
                "n_grad": s["n_grad"],
                "n_hess": s["n_hess"],
                # a grid is one batched run: its wall time is shared by its grid points
                "wall_time": float(ent_traj.wall_time),
                "wall_time_shared_by": by_entry[r.entry],
            }
        )
    return json_safe(
        {
            "name": config.name,
            "config": config.path,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": _versions(),
            "seed": config.seed,
            "surface": _surface_info(result.surface),
            "start": list(config.start),
            "start_prev": None if config.start_prev is None else list(config.start_prev),
            "eta_opt": result.eta_opt,
            "n_runs": len(result.runs),
            "wall_time": result.wall_time,
            "runs": runs,
            "expectations": [e.to_dict() for e in result.expectations],
            "files": files,
        }
    )


def _csv_text_rows(records: list[RunRecord]):
    for r in records:
        tr = r.trajectory
        if tr.points is not None:
            yield from tr.to_rows(run_offset=r.run, label=r.label)
        else:  # record: final -> one row per run: its final point
            yield [
                r.run,
                r.label,
                tr.optimizer,
                int(tr.n_steps),
                *np.asarray(tr.final_point, dtype=float).tolist(),
                float(tr.final_loss),
                float(tr.final_grad_norm),
            ]


def write_csv(path_or_buffer: Any, surface: Any, records: list[RunRecord]) -> None:
    """Write the long-format CSV of every run (see the module docstring for the policy)."""
    if isinstance(path_or_buffer, (str, Path)):
        with open(path_or_buffer, "w", newline="", encoding="utf-8") as fh:
            write_csv(fh, surface, records)
        return
    w = csv.writer(path_or_buffer, lineterminator="\n")
    nv = len(surface.variables)
    w.writerow(["run", "label", "optimizer", "step", *surface.variables, "loss", "grad_norm"])
    for row in _csv_text_rows(records):
        w.writerow(row[:4] + [repr(float(v)) for v in row[4 : 4 + nv + 2]])


def _config_yaml(config: ExperimentConfig) -> str:
    import yaml

    head = (
        f"# Resolved config of experiment {config.name!r}"
        + (f" (from {config.path})" if config.path else "")
        + ": every default filled in.\n"
    )
    return head + yaml.safe_dump(
        json_safe(config.to_dict()), sort_keys=False, default_flow_style=None, width=100
    )


def check_output_folder(target: Path) -> None:
    """Refuse, before anything runs, an output folder that cannot be used.

    ``target`` must be a folder this process can write in, or not exist and be creatable:
    a probe folder is made (and removed at once) in it, or else in its nearest existing
    ancestor. Raises :class:`OptivizError`, one line naming the path, otherwise (an
    existing file, a file in the way, a read-only place).
    """
    if target.exists() and not target.is_dir():
        raise OptivizError(f"output folder {target}: is an existing file, not a folder")
    place = target.absolute()
    while not place.exists():
        place = place.parent
    if not place.is_dir():
        raise OptivizError(
            f"output folder {target}: cannot be created: {place} is a file, not a folder"
        )
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".optiviz-probe-", dir=place))
    except OSError as exc:
        what = "written" if place == target.absolute() else "created"
        raise OptivizError(
            f"output folder {target}: cannot be {what} ({place}: {exc.strerror})"
        ) from None


def write_outputs(
    target: Path,
    config: ExperimentConfig,
    result: ExperimentResult,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Write every output of ``result`` into ``target`` (created if missing), atomically:
    each file under a temporary name, renamed into place once all are written; on any
    failure the temporary files (and a folder this call created) are removed. Returns
    file name -> path."""
    report = report_markdown(config, result)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    token = f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
    pending: list[tuple[Path, Path]] = []  # (temporary, final)

    def temp_for(final_name: str) -> Path:
        tmp = target / f"{token}-{final_name}"
        pending.append((tmp, target / final_name))
        return tmp

    try:
        temp_for("config.yaml").write_text(_config_yaml(config), encoding="utf-8")
        write_csv(temp_for("trajectories.csv"), result.surface, result.runs)
        temp_for("report.md").write_text(report, encoding="utf-8")
        if config.figures:
            from optiviz.figures import figures_of
            from optiviz.plotting import ColorMap, save_figure

            colors = ColorMap()  # one map: a label keeps its colour in every figure
            for kind in config.figures:
                if progress is not None:
                    progress.describe(f"drawing {kind}")
                for name, fig in figures_of(kind, result, colors):
                    save_figure(fig, target / f"{token}-{name}", list(config.formats))
                    for fmt in config.formats:
                        pending.append((target / f"{token}-{name}.{fmt}", target / f"{name}.{fmt}"))
                    fig.clear()
                if progress is not None:
                    progress.advance()
        if progress is not None:
            progress.describe(f"writing {target}")
        names = [final.name for _, final in pending] + ["run.json"]
        run_json = _run_json(config, result, names)
        temp_for("run.json").write_text(
            json.dumps(run_json, indent=2, allow_nan=False), encoding="utf-8"
        )
        for tmp, _final in pending:
            if not tmp.exists():
                raise OptivizError(f"expected output {tmp.name} was not written")
        for tmp, final in pending:
            os.replace(tmp, final)
        if progress is not None:
            progress.advance()
    except BaseException:
        for tmp, _ in pending:
            try:
                tmp.unlink()
            except OSError:
                pass
        for stray in target.glob(f"{token}-*"):
            try:
                stray.unlink()
            except OSError:
                pass
        if created:
            try:
                target.rmdir()
            except OSError:
                pass
        raise
    files: dict[str, Path] = {}
    for _, final in pending:
        files[final.name] = final
    return files
