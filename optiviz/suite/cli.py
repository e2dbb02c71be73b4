"""What ``optiviz run`` and ``optiviz validate`` print for a suite config."""

from __future__ import annotations

from typing import Any

import typer


def validate_line(path: Any, cfg: Any) -> str:
    """``ok: FILE: suite 'name': 15 surfaces, 60 problems, 8 optimizers (480 runs), ...``."""
    spec = cfg.spec
    return (
        f"ok: {path}: suite {cfg.name!r}: {len(spec.surfaces)} surfaces, "
        f"{len(cfg.problems)} problems (surface x start), {len(cfg.optimizers)} optimizers "
        f"({cfg.n_runs} runs), {cfg.steps} steps, tolerance {spec.tolerance:g}, cost in "
        f"{spec.cost}, figures: {', '.join(cfg.figures) or 'none'}"
    )


def report_suite(result: Any, quiet: bool) -> None:
    """The lines of ``optiviz run`` for a suite: counts, the rank table's head, the files."""
    from optiviz.cli.progress import interrupted
    from optiviz.cli.run import time_line
    from optiviz.suite.report import rank_rows

    if result.interrupted:
        raise interrupted()
    cfg = result.config
    if not quiet:
        typer.echo(
            f"{cfg.name}: {len(result.rows)} runs on {len(result.problems)} problems; "
            f"{time_line(result.timing)}"
        )
        P = len(result.problems)
        for r in rank_rows(result):
            typer.echo(
                f"  {r['label']}: solved {r['solved']}/{P}, diverged {r['diverged']}, "
                f"mean rank {r['mean_rank']:.2f}"
            )
    typer.echo(f"wrote {len(result.files)} files to {result.out_dir}/:")
    for path in result.files.values():
        typer.echo(f"  {path}")
