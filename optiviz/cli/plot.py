"""Commands that redraw saved results, running nothing: ``plot`` and ``compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optiviz.cli.app import app, guard, parse_names
from optiviz.errors import OptivizError

_FIGURES_HELP = "Figures to draw, comma-separated (default: those the output drew)."
_COMPARE_FIGURES_HELP = (
    "Figures to draw, comma-separated (default: those the outputs drew, but basins and rate_map)."
)
_FORMATS_HELP = "Figure formats, comma-separated: png, svg, pdf (default: the config's)."


def _report(done, verb: str) -> None:
    for kind, why in done.skipped.items():
        typer.echo(f"  left out {kind}: {why}")
    typer.echo(
        f"{verb} {', '.join(done.figures) or 'no figures'}: "
        f"{len(done.files)} files in {done.out_dir}/:"
    )
    for path in done.files.values():
        typer.echo(f"  {path}")


def _out(out: str | None) -> Path | None:
    if out is not None and not out.strip():
        raise OptivizError(f"--out: {out!r} is not allowed: must name a folder")
    return None if out is None else Path(out)


@app.command()
@guard
def plot(
    outdir: Annotated[
        Path,
        typer.Argument(
            metavar="OUTDIR", help="An output folder of optiviz run.", show_default=False
        ),
    ],
    figures: Annotated[
        str | None, typer.Option("--figures", metavar="KIND,...", help=_FIGURES_HELP)
    ] = None,
    formats: Annotated[
        str | None,
        typer.Option("--formats", "--format", "-f", metavar="png,svg,pdf", help=_FORMATS_HELP),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Write the figures into DIR (new, empty, or an earlier run's or plot's) "
            "instead of OUTDIR itself.",
        ),
    ] = None,
) -> None:
    """Redraw an output's figures from its saved results, without running anything.

    Reads OUTDIR/results.npz (every run, lossless), the resolved config and the data files
    figures such as basins and rate_map saved beside their images, and draws the figures
    again: the same images where nothing else changed. Without --out the images in OUTDIR
    are replaced (new formats are added to its run.json's file list). Exit code 2, with a
    message, for a folder that is not an optiviz output, a missing or corrupt file, or an
    unknown figure or format.
    """
    from optiviz.experiment.replot import plot_output

    done = plot_output(
        outdir,
        figures=parse_names(figures, "--figures"),
        formats=parse_names(formats, "--formats"),
        out=_out(out),
    )
    _report(done, "redrew")


@app.command()
@guard
def compare(
    outdirs: Annotated[
        list[Path],
        typer.Argument(
            metavar="OUT1 OUT2 ...",
            help="Output folders of optiviz run, on one surface.",
            show_default=False,
        ),
    ],
    out: Annotated[
        str,
        typer.Option("--out", "-o", metavar="DIR", help="Where the merged figures go (required)."),
    ] = "",
    figures: Annotated[
        str | None, typer.Option("--figures", metavar="KIND,...", help=_COMPARE_FIGURES_HELP)
    ] = None,
    formats: Annotated[
        str | None,
        typer.Option("--formats", "--format", "-f", metavar="png,svg,pdf", help=_FORMATS_HELP),
    ] = None,
) -> None:
    """Draw the runs of several outputs together in one set of figures.

    The outputs must be on the same surface (the same resolved surface block; otherwise
    exit code 2 naming the output that differs); starts, step budgets and records may
    differ. Labels that repeat across outputs are prefixed by the output's name. The
    figures are those of the outputs that draw their runs (contour, loss, ...); basins and
    rate_map, which rest on runs of one output's own, are left out (optiviz plot draws
    them). DIR gets the figures and plot.json (the sources and provenance).
    """
    from optiviz.experiment.replot import compare_outputs

    if not out.strip():
        raise OptivizError("--out: compare needs --out DIR, the folder of the merged figures")
    done = compare_outputs(
        outdirs,
        Path(out),
        figures=parse_names(figures, "--figures"),
        formats=parse_names(formats, "--formats"),
    )
    _report(done, "drew")
