"""Writing figures to disk atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from optiviz.errors import OptivizError
from optiviz.plotting.style import DPI, rc

FORMATS = ("png", "svg", "pdf")


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


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
            with os.fdopen(fd, "wb") as fh, rc():
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
