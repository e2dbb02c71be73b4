"""The ``animation`` figure: every run moving over the contour, its loss beside it, as a GIF,
an MP4 (with ``imageio-ffmpeg``) or an offline HTML player."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz._validation import Choice, Constraint, Interval, Invalid
from optiviz.figures._options import WINDOW
from optiviz.figures._surface import caption, common, f_star, plane_and_marks
from optiviz.figures.registry import PER_STEP, TWO_VARIABLES, Drawn, FigureKind, Option, register

#: The file formats (``animation.<format>``), in the order they are written.
FORMATS = ("gif", "mp4", "html")


class Formats(Constraint):
    """One format of :data:`FORMATS` or a list of distinct ones -> a tuple."""

    def describe(self) -> str:
        return "one of gif, mp4, html, or a list of them (mp4 needs imageio-ffmpeg)"

    def check(self, value: Any) -> Any:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items:
            raise Invalid(value, self.describe())
        out = []
        for v in items:
            try:
                c = Choice(FORMATS, quote=False).check(v)
            except Invalid as exc:
                raise Invalid(v, self.describe(), exc.hint) from None
            if c in out:
                raise Invalid(value, f"{self.describe()}, each once")
            out.append(c)
        return tuple(out)


def check(options: Mapping[str, Any]) -> tuple[str, Any, str] | None:
    """MP4 is refused at validation, before any run, when imageio-ffmpeg is missing."""
    from optiviz.plotting.animation import MP4_HINT, mp4_available

    formats = options.get("format", ("gif",))
    if "mp4" in formats and not mp4_available():
        return ("format", list(formats), f"gif or html here: {MP4_HINT}")
    return None


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> Drawn:
    """The animation of every entry's runs (:func:`optiviz.plotting.animation.animate`),
    written in each format asked for; no still image."""
    from optiviz.plotting.animation import ANIM_DPI, animate, require_mp4

    formats = options.get("format") or ("gif",)
    if "mp4" in formats:
        require_mp4()  # a config was validated before; a direct call is checked here
    projection, marks = plane_and_marks(result)
    kw = common(options)
    anim = animate(
        result.surface,
        result.trajectories,
        analysis=marks,
        frames=options["frames"],
        fps=options["fps"],
        trail=options["trail"],
        spacing=options["spacing"],
        window=options.get("window"),
        projection=projection,
        f_min=f_star(result),
        history=result.config.start_prev,
        colors=colors,
        caption=caption(result, named=False),
        title=kw.get("title"),
        figsize=kw.get("figsize"),
        dpi=kw.get("dpi", ANIM_DPI),
    )
    data: dict[str, str | bytes] = {}
    for fmt in formats:
        if fmt == "gif":
            data["animation.gif"] = anim.gif()
        elif fmt == "mp4":
            data["animation.mp4"] = anim.mp4()
        else:
            data["animation.html"] = anim.html(title=f"{result.config.name}: animation")
    anim.fig.clear()
    return Drawn([], data)


KIND = register(
    FigureKind(
        name="animation",
        build=build,
        doc="every run moving over the contours (the contour figure's plane, window and "
        "colours) with a fading trail, its current point and next step, a step counter and "
        "the loss beside it; `animation.gif` (and `.mp4`, `.html` with `format`)",
        needs=(PER_STEP, TWO_VARIABLES),
        order=90,
        options=(
            Option(
                "frames",
                Interval("int", 2, 2000),
                100,
                "at most this many frames; a longer run is subsampled (see `spacing`), a "
                "shorter one shows every step",
            ),
            Option("fps", Interval("float", 0.5, 60.0), 12.0, "frames per second of the files"),
            Option(
                "format",
                Formats(),
                ("gif",),
                "the files written: animation.gif (Pillow, no extra dependency), "
                "animation.mp4 (needs `pip install 'optiviz[mp4]'`), animation.html (an "
                "offline page with matplotlib's JavaScript player)",
            ),
            Option(
                "trail",
                Interval("int", 0, 2000),
                20,
                "frames of path behind each current point, fading out; 0: the whole path so "
                "far, unfaded",
            ),
            Option(
                "spacing",
                Choice(("log", "linear")),
                "log",
                "which steps the frames show when the run is longer than `frames`: 'log' "
                "evenly in log(1 + step) (every early step, the slow tail sparsely), "
                "'linear' evenly in steps",
            ),
            WINDOW,
        ),
        check=check,
    )
)
