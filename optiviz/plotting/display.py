"""How optiviz figures show themselves in Jupyter: without pyplot and without
``%matplotlib inline``.

optiviz builds :class:`matplotlib.figure.Figure` objects directly (no pyplot: no global
figure registry, no GUI backend). IPython's inline display of figures is registered by
pyplot's inline backend, so a bare ``Figure`` in a notebook cell shows only its text,
``<Figure size 1050x825 with 1 Axes>``. :class:`InlineFigure` is a ``Figure`` that also
offers ``_repr_png_``: IPython's PNG formatter (and so Jupyter, VS Code, nbconvert) shows
the image, rendered exactly as :func:`~optiviz.plotting.save.save_figure` writes the PNG
file (same dpi, same rcParams). Everything else is ``Figure``'s: ``savefig``, ``add_subplot``,
``isinstance(fig, Figure)``. When pyplot's inline backend is active, its formatter for
``Figure`` takes precedence (IPython looks formatters up by type before ``_repr_png_``),
so a figure is never shown twice.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["InlineFigure", "png_bytes"]


def png_bytes(fig: Figure) -> bytes:
    """``fig`` as PNG bytes, as :func:`~optiviz.plotting.save.save_figure` writes it."""
    from optiviz.plotting.style import rc

    buf = io.BytesIO()
    with rc():
        fig.savefig(buf, format="png", dpi=fig.dpi, metadata={"Software": None})
    return buf.getvalue()


class InlineFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that displays as a PNG image in Jupyter."""

    def _repr_png_(self) -> bytes:
        return png_bytes(self)
