"""Writing figures to disk atomically, with one layout pass and one draw per PNG."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from optiviz.errors import OptivizError
from optiviz.plotting.style import DPI, agg_canvas, layout, rc

FORMATS = ("png", "svg", "pdf")


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def _laid_out_once(fig: Figure, fmt: str, dpi: float) -> Iterator[None]:
    """While inside, ``fig`` is laid out for ``savefig`` and draws without a layout pass.

    With a layout engine, ``savefig`` draws the figure twice: once, rendering nothing, to
    lay it out, then for real. Only the layout is needed from the first: here it is made
    (:func:`~optiviz.plotting.style.layout`, the same constrained-layout pass at the same
    size and dpi) and the engine is detached during the save, so the figure is drawn once;
    the image is the same. Raster output at the figure's own dpi only: a vector backend
    measures text with its own renderer, so its layout is left to matplotlib.
    """
    engine = fig.get_layout_engine()
    if fmt != "png" or dpi != fig.dpi or engine is None:
        yield
        return
    layout(fig)
    fig.set_layout_engine(None)
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def save_figure(
    fig: Figure,
    path_without_ext: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    dpi: float = DPI,
) -> list[Path]:
    """Write ``fig`` as ``<path>.<fmt>`` for each format; returns the paths written.

    Each file is written to a temporary name in the same directory, then moved into place
    with ``os.replace`` (atomic: a reader never sees a half-written figure, and a failure
    leaves no temporary file behind). Missing parent directories are created. Vector
    formats carry no creation date, so reruns give identical files.
    """
    if isinstance(formats, str):
        formats = (formats,)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise OptivizError(
            f"figure format {bad[0]!r} is not supported; choose from {', '.join(FORMATS)}"
        )
    base = Path(path_without_ext)
    base.parent.mkdir(parents=True, exist_ok=True)
    agg_canvas(fig)
    written = []
    for fmt in dict.fromkeys(formats):
        target = base.parent / f"{base.name}.{fmt}"
        fd, tmp = tempfile.mkstemp(prefix=f".{base.name}.", suffix=f".{fmt}.tmp", dir=base.parent)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; figures are to share
        try:
            metadata = {"Software": None} if fmt == "png" else {"Date": None}
            if fmt == "pdf":
                metadata["CreationDate"] = None
                metadata.pop("Date")
            with os.fdopen(fd, "wb") as fh, rc(), _laid_out_once(fig, fmt, dpi):
                fig.savefig(fh, format=fmt, dpi=dpi, metadata=metadata)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        written.append(target)
    return written
