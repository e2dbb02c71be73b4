"""The ``page`` command: write a config's interactive page (one self-contained HTML file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from optiviz.cli.app import app, guard
from optiviz.errors import OptivizError


@app.command()
@guard
def page(
    config: Annotated[
        Path,
        typer.Argument(metavar="CONFIG", help="The experiment config (YAML).", show_default=False),
    ],
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="The page to write (default: outputs/<name>.html); replaced if it exists.",
        ),
    ] = None,
    steps: Annotated[
        int | None, typer.Option(metavar="N", help="Replace every step budget.")
    ] = None,
) -> None:
    """Write the config's interactive page: one self-contained HTML file that works offline.

    The page shows the contour with one entry's path, sliders over its learning rate (and a
    second hyperparameter), precomputed in one batched run, a step slider with play/pause,
    x, f, the gradient and the step at the hovered iterate, a loss panel and the report's
    learning-rate table. The sweep is the config's `page` figure options (figures:
    [{page: {lr: {logspace: [a, b, n]}, second: {momentum: {linspace: [a, b, n]}}}}]), else
    the defaults: the entry's lr grid or its lr /10 .. x10. Only the page is written; `optiviz
    run` writes it too (as page.html) when the config lists the page figure.

    Exit codes: 0 ok; 1 an internal error; 2 bad input (an invalid config, options the
    page cannot use, an output that is a folder): nothing is written.
    """
    from optiviz.config import apply_overrides, load_config
    from optiviz.figures import missing_needs

    if out is not None and not out.strip():
        raise OptivizError(f"--out: {out!r} is not allowed: must name a file")
    cfg = load_config(config)
    cfg = apply_overrides(cfg, steps=steps, figures=["page"])
    for kind, need in missing_needs(cfg):
        raise OptivizError(
            f"{config}: figures: {kind!r} is not allowed{need.because(kind, cfg)}",
            key="figures",
            value=kind,
        )
    target = Path(out) if out is not None else Path("outputs") / f"{cfg.name}.html"
    if target.is_dir():
        raise OptivizError(f"--out: {str(target)!r} is not allowed: it is a folder; name a file")
    from optiviz.experiment import run_experiment
    from optiviz.figures import draw
    from optiviz.plotting import ColorMap

    result = run_experiment(cfg, write=False)
    if result.interrupted:
        from optiviz.cli.progress import interrupted

        raise interrupted(result)
    _, files = draw("page", result, ColorMap(), cfg.figure_options.get("page"))
    text = files["page.html"]
    body = text.encode("utf-8") if isinstance(text, str) else text
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    mask = os.umask(0)
    os.umask(mask)
    try:
        os.fchmod(fd, 0o666 & ~mask)  # as open() would make it (mkstemp makes 0600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    typer.echo(
        f"wrote {target} ({len(body) / 1e6:.1f} MB): open it in a browser (no network needed)"
    )
