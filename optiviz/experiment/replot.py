"""Redrawing figures from saved outputs, running nothing: what ``optiviz plot`` and
``optiviz compare`` call.

:func:`plot_output` redraws the figures of one output folder (its config's figures, or
those named) from its ``results.npz`` and the data files its figure kinds saved
(:attr:`~optiviz.figures.FigureKind.redraw`); :func:`compare_outputs` draws the runs of
several outputs on one surface in one set of figures
(:func:`~optiviz.experiment.saved.merge_outputs`).

Where the figures go:

* ``plot OUTDIR`` (no ``--out``): into ``OUTDIR`` itself, each image replaced atomically
  (written beside it, renamed over it); run.json's ``files`` list gains the names of new
  files (another format), nothing else in the folder changes;
* ``--out DIR`` (``compare`` always): ``DIR`` is replaced as a whole, as ``optiviz run``
  replaces an output folder (it must be new, empty, or hold exactly the files of an earlier
  run or plot), holding the figures, their data files and ``plot.json``: what was drawn,
  from which outputs (their run.json's ``created``), with this optiviz's provenance and the
  list of files.

Every problem is an :class:`~optiviz.errors.OptivizError` raised before anything is written:
a folder that is no optiviz output, a missing or corrupt ``results.npz`` or data file, an
unknown figure or format, a figure the saved runs cannot draw (its needs), a figure kind
that runs its own runs and has no ``redraw``.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optiviz.errors import OptivizError, suggest

__all__ = ["Redrawn", "compare_outputs", "plot_output"]

PLOT_JSON = "plot.json"


@dataclass
class Redrawn:
    """What :func:`plot_output` / :func:`compare_outputs` did: the folder written, the
    files (name -> path), the kinds drawn and those left out (``kind -> why``)."""

    out_dir: Path
    files: dict[str, Path]
    figures: list[str]
    skipped: dict[str, str] = field(default_factory=dict)


def _shown(path: Path) -> str:
    return str(path) if str(path).isprintable() else repr(str(path))


def _check_names(figures: Sequence[str] | None, formats: Sequence[str] | None) -> None:
    from optiviz.config.schema import FORMATS
    from optiviz.figures import FIGURE_NAMES

    for key, given, allowed in (
        ("--figures", figures, FIGURE_NAMES),
        ("--formats", formats, FORMATS),
    ):
        if given is None:
            continue
        if not given:
            raise OptivizError(f"{key}: give at least one of {', '.join(allowed)}")
        for name in given:
            if name not in allowed:
                raise OptivizError(
                    f"{key}: {name!r} is not allowed: must be one of {', '.join(allowed)}"
                    f"{suggest(name, allowed)}",
                    key=key,
                    value=name,
                    allowed=", ".join(allowed),
                )


def _kinds(config: Any, asked: Sequence[str] | None, *, compare: bool) -> tuple[list, dict]:
    """The kinds to draw and those left out (kind -> why). Named kinds that cannot be
    drawn are refused; of the config's own figures, those are left out with the reason."""
    from optiviz.figures import get

    chosen = list(dict.fromkeys(asked)) if asked is not None else list(config.figures)
    out, skipped = [], {}
    for name in chosen:
        kind = get(name)
        why = None
        if not kind.redrawable:
            why = "it runs its own runs and has no redraw from saved data; rerun the config"
        elif compare and kind.work is not None:
            why = (
                "it draws the runs of its own of one output (from its data file); "
                "use optiviz plot on that output"
            )
        else:
            unmet = [need for need in kind.needs if not need.met(config)]
            if unmet:
                why = f"{name!r} is not allowed{unmet[0].because(name, config)}"
        if why is None:
            out.append(name)
        elif asked is not None:
            raise OptivizError(f"--figures: {name}: {why}", key="--figures", value=name)
        else:
            skipped[name] = why
    return out, skipped


def _drawn_files(
    result: Any, kinds: list[str], formats: Sequence[str], saved_of: Any
) -> list[tuple[str, Any]]:
    """Every figure and data file, drawn in memory: ``[(file name, Figure | text |
    bytes)]`` (a figure once per stem, with its kind's dpi in ``_dpi``)."""
    from optiviz.figures import draw

    config = result.config
    from optiviz.plotting import ColorMap

    colors = ColorMap()  # one map for every figure, in the config's order, as optiviz run
    out: list[tuple[str, Any]] = []
    for kind in kinds:
        try:
            figures, data = draw(
                kind, result, colors, config.figure_options.get(kind), saved=saved_of(kind)
            )
        except OptivizError as exc:
            raise OptivizError(f"figure {kind}: {exc}") from None
        except (ValueError, KeyError, IndexError, UnicodeDecodeError) as exc:
            from optiviz.figures import get

            if get(kind).redraw is None or saved_of(kind) is None:
                raise  # a builder's own failure: not the saved data's
            raise OptivizError(f"figure {kind}: its saved data is not readable ({exc})") from None
        dpi = config.options_of(kind).get("dpi")
        for stem, fig in figures:
            out.append((stem, (fig, dpi)))
        for name, body in data.items():
            out.append((name, body))
    return out


def _write_into(staged: Path, drawn: list[tuple[str, Any]], formats: Sequence[str]) -> list[str]:
    """Write the drawn figures (each format) and data files into ``staged``."""
    from optiviz.experiment.outputs import _put, _write_bytes, _write_file
    from optiviz.plotting import save_figure

    names: list[str] = []
    for name, item in drawn:
        if isinstance(item, tuple):
            fig, dpi = item
            save_figure(fig, staged / name, list(formats), *([dpi] if dpi else []))
            names += [f"{name}.{fmt}" for fmt in formats]
            fig.clear()
        elif isinstance(item, bytes):
            _write_bytes(staged / name, item)
            names.append(name)
        else:
            _write_file(staged / name, functools.partial(_put, item))
            names.append(name)
    return names


def _plot_json(
    command: str, sources: list[Any], kinds: list[str], formats: Any, files: list[str]
) -> str:
    from optiviz._format import json_safe
    from optiviz.experiment.outputs import provenance

    body = {
        "command": command,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **provenance(),
        "sources": [
            {
                "folder": str(o.folder),
                "name": o.config.name,
                "created": o.run_json.get("created"),
                "optiviz": (o.run_json.get("versions") or {}).get("optiviz"),
            }
            for o in sources
        ],
        "figures": kinds,
        "formats": list(formats),
        "files": files,
    }
    return json.dumps(json_safe(body), indent=2, allow_nan=False)


def _write_folder(
    target: Path, drawn: list, formats: Sequence[str], plot_json: Any
) -> dict[str, Path]:
    """Replace the folder ``target`` by the drawn files and ``plot.json`` (the atomic
    policy of :func:`~optiviz.experiment.outputs.write_outputs`)."""
    from optiviz.experiment.outputs import (
        _os_error,
        _swap_in,
        _terminate_cleanly,
        _write_file,
        check_output_folder,
    )

    real = check_output_folder(target)
    made = [p for p in reversed(real.parents) if not p.exists()]
    staged: Path | None = None
    try:
        with _terminate_cleanly():
            for folder in made:
                folder.mkdir(exist_ok=True)
            staged = real.parent / f".tmp-{real.name[:100]}-{secrets.token_hex(4)}"
            staged.mkdir()
            names = _write_into(staged, drawn, formats) + [PLOT_JSON]
            text = plot_json(names)
            _write_file(staged / PLOT_JSON, lambda fh: fh.write(text))
            _swap_in(target, real, staged)
            staged = None
    except BaseException as exc:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise _os_error(target, exc) from None
        raise
    return {name: target / name for name in names}


def _write_in_place(output: Any, drawn: list, formats: Sequence[str]) -> dict[str, Path]:
    """Replace the figures (and data files) in the output folder itself, each file
    written beside it and renamed over it; new names are added to run.json's ``files``."""
    from optiviz.experiment.outputs import _os_error, _terminate_cleanly

    folder = output.folder
    # staged beside the folder (never inside it: a leftover would be a file not its run's)
    staged = (
        folder.resolve().parent / f".tmp-{folder.resolve().name[:100]}-plot-{secrets.token_hex(4)}"
    )
    try:
        with _terminate_cleanly():
            staged.mkdir()
            names = _replace_files(output, staged, drawn, formats)
    except OSError as exc:
        raise _os_error(folder, exc) from None
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return {name: folder / name for name in names}


def _replace_files(output: Any, staged: Path, drawn: list, formats: Sequence[str]) -> list[str]:
    """Write into ``staged``, then rename each file over its old one in the folder; the
    new names are added to run.json's ``files`` (before run.json itself)."""
    from optiviz.experiment.outputs import _write_file

    folder = output.folder
    names = _write_into(staged, drawn, formats)
    for name in names:
        os.replace(staged / name, folder / name)
    new = [n for n in names if n not in output.files]
    if new:
        old = list(output.files)
        last = old[-1:] if old[-1:] == ["run.json"] else []
        body = {**output.run_json, "files": [*old[: len(old) - len(last)], *new, *last]}
        text = json.dumps(body, indent=2, allow_nan=False)
        _write_file(staged / "run.json", lambda fh: fh.write(text))
        os.replace(staged / "run.json", folder / "run.json")
    return names


def _formats(config: Any, formats: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(formats)) if formats is not None else tuple(config.formats)


def plot_output(
    folder: str | Path,
    *,
    figures: Sequence[str] | None = None,
    formats: Sequence[str] | None = None,
    out: str | Path | None = None,
) -> Redrawn:
    """Redraw the figures of the output folder ``folder`` (see the module docstring):
    ``figures`` (default: its config's), in ``formats`` (default its config's), into
    ``out`` (default the folder itself). Runs no optimizer."""
    from optiviz.experiment.saved import load_output

    _check_names(figures, formats)
    folder = Path(folder)
    output = load_output(folder)
    result = output.result
    kinds, skipped = _kinds(result.config, figures, compare=False)
    fmts = _formats(result.config, formats)
    in_place = out is None or _same(Path(out), folder)
    if not in_place:
        from optiviz.experiment.outputs import check_output_folder

        check_output_folder(Path(out))  # type: ignore[arg-type]  # before drawing anything
    drawn = _drawn_files(result, kinds, fmts, output.data_files)
    if in_place:
        files = _write_in_place(output, drawn, fmts)
        return Redrawn(folder, files, kinds, skipped)
    target = Path(out)  # type: ignore[arg-type]
    files = _write_folder(
        target, drawn, fmts, lambda names: _plot_json("plot", [output], kinds, fmts, names)
    )
    return Redrawn(target, files, kinds, skipped)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def compare_outputs(
    folders: Sequence[str | Path],
    out: str | Path,
    *,
    figures: Sequence[str] | None = None,
    formats: Sequence[str] | None = None,
) -> Redrawn:
    """Draw the runs of several output folders on one surface in one set of figures, into
    ``out`` (see :func:`~optiviz.experiment.saved.merge_outputs` for what may differ).
    ``figures`` default: every figure any of the outputs drew that draws the entries' runs
    (kinds with runs of their own, basins and rate_map, are per output: left out)."""
    from optiviz.experiment.saved import load_output, merge_outputs

    _check_names(figures, formats)
    if len(folders) < 2:
        raise OptivizError("compare: give at least two output folders (OUT1 OUT2 ...)")
    paths = [Path(f) for f in folders]
    for i, p in enumerate(paths):
        for q in paths[:i]:
            if _same(p, q):
                raise OptivizError(f"compare: {_shown(p)} is given twice")
    target = Path(out)
    for p in paths:
        if _same(target, p):
            raise OptivizError(
                f"compare: --out {_shown(target)} is one of the outputs compared; give a new folder"
            )
    from optiviz.experiment.outputs import check_output_folder

    check_output_folder(target)  # before reading or drawing anything
    outputs = [load_output(p) for p in paths]
    asked = figures
    if asked is None:
        from optiviz.figures import get

        union = dict.fromkeys(k for o in outputs for k in o.config.figures)
        merged_kinds = [k for k in union if get(k).work is None and get(k).redrawable]
    else:
        merged_kinds = list(asked)
    from optiviz.figures import get as get_kind

    result = merge_outputs(outputs, tuple(k for k in merged_kinds if get_kind(k).work is None))
    kinds, skipped = _kinds(result.config, asked if asked is not None else None, compare=True)
    if asked is None:
        for k in dict.fromkeys(k for o in outputs for k in o.config.figures):
            if k not in kinds and k not in skipped:
                skipped[k] = "it draws the runs of its own of one output; use optiviz plot"
    fmts = _formats(outputs[0].config, formats)
    drawn = _drawn_files(result, kinds, fmts, lambda kind: {})
    files = _write_folder(
        target, drawn, fmts, lambda names: _plot_json("compare", outputs, kinds, fmts, names)
    )
    return Redrawn(target, files, kinds, skipped)
