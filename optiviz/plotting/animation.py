"""Animations: every run's path moving over the contour, with its loss beside it.

``animate(surface, runs)`` lays out one figure, the surface's contours (the same background,
plane, window, minima and colours as :func:`optiviz.plotting.contour`) on the left and the
loss per step on the right, and returns a :class:`PathAnimation`: its frames as RGBA arrays
and the encoders :meth:`~PathAnimation.gif`, :meth:`~PathAnimation.mp4` and
:meth:`~PathAnimation.html`.

Each frame shows, for every run, a fading trail of its path, its current point (the entry's
marker), the next step (an arrow to the next iterate) and, in the loss panel, its loss up to
the current step; a counter names the step.

* **Frames.** A run of T steps has T + 1 iterates; an animation of F frames shows F of them
  (every step when T + 1 <= F). :func:`frame_steps` chooses them: ``spacing="log"`` (the
  default) evenly in log(1 + step), so the fast early motion gets a frame per step and the
  slow tail is sampled sparsely; ``"linear"``: evenly in steps. Steps are whole numbers,
  distinct, from 0 to T (the longest run); a run that stopped earlier stays at its last
  point.
* **Speed.** The contour, its colourbar, the loss axes and the faint full loss curves are
  drawn once; each frame restores that background on the Agg canvas and draws only the
  artists that move (trails, points, arrows, the loss prefixes, the counter), never the
  whole figure. A 200-frame GIF of ``configs/quickstart.yaml`` (layout, frames, encoding)
  took 9.9 s of CPU on a shared 2-core machine under load 16, against 165 s for a
  hand-written ``FuncAnimation`` + ``PillowWriter`` of the same frames
  (``benchmarks/bench_animation.py``).
* **Files.** GIF through Pillow (which matplotlib requires; written as matplotlib's
  ``PillowWriter`` writes it, with one palette for all frames); MP4 through the optional
  package ``imageio-ffmpeg`` (``pip install 'optiviz[mp4]'``); an HTML page with matplotlib's
  JavaScript player (``Animation.to_jshtml``), made self-contained: the player's icons,
  which matplotlib loads from a CDN, are inline characters, so it works offline.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import IdentityTransform

from optiviz.errors import OptivizError
from optiviz.plotting._runs import RunView, flat, normalize
from optiviz.plotting.style import (
    START_EDGE,
    ColorMap,
    finish_axes,
    fitted_title,
    legend_below,
    new_figure,
    rc,
    set_formula_title,
)

if TYPE_CHECKING:
    from optiviz.protocols import SurfaceLike

Array = np.ndarray

__all__ = [
    "FORMATS",
    "MP4_HINT",
    "PathAnimation",
    "animate",
    "frame_steps",
    "mp4_available",
    "require_mp4",
]

#: The file formats an animation is written in.
FORMATS = ("gif", "mp4", "html")
#: Default size (inches) and resolution of an animation's frames.
ANIM_FIGSIZE = (10.5, 5.4)
ANIM_DPI = 100
#: A trail fades out in this many bands of equal length in frames (each one polyline).
TRAIL_BANDS = 8
#: A band of a trail is drawn with at most this many points (evenly chosen).
TRAIL_POINTS = 200
#: A loss line up to the current step is drawn with at most about this many points.
LOSS_POINTS = 400
#: How to get MP4 output.
MP4_HINT = (
    "MP4 needs the optional package imageio-ffmpeg (it brings its own ffmpeg): "
    "pip install 'optiviz[mp4]' (or pip install imageio-ffmpeg); gif and html need nothing"
)


def mp4_available() -> bool:
    """Whether ``imageio-ffmpeg`` is installed (MP4 output)."""
    import importlib.util

    return importlib.util.find_spec("imageio_ffmpeg") is not None


def require_mp4() -> None:
    """Raise an :class:`OptivizError` naming the missing package unless MP4 can be written."""
    if not mp4_available():
        raise OptivizError(
            f"format: 'mp4' is not available: {MP4_HINT}",
            key="format",
            value="mp4",
            allowed="gif or html (mp4 with imageio-ffmpeg installed)",
        )


# -- which steps the frames show -------------------------------------------------------------
def frame_steps(total: int, frames: int, spacing: str = "log") -> Array:
    """The steps ``0 <= s_0 < s_1 < ... <= total`` that ``frames`` frames show.

    Every step ``0..total`` when ``total + 1 <= frames``. Otherwise ``frames`` distinct whole
    steps, the first 0 and the last ``total``: ``spacing="linear"``: ``round(k total / (F -
    1))``; ``"log"``: ``round((total + 1)^(k / (F - 1)) - 1)`` (evenly in log(1 + step)),
    where steps that would repeat (early on, several frames round to one step) are moved
    on to the next step, and none passes its place from the end (step ``total - j`` for the
    ``j``-th frame from the last).
    """
    total, frames = int(total), int(frames)
    if total < 0 or frames < 1:
        raise OptivizError(f"frame_steps: total {total} and frames {frames} must be >= 0, >= 1")
    if spacing not in ("log", "linear"):
        raise OptivizError(f"spacing must be 'log' or 'linear'; got {spacing!r}")
    if total + 1 <= frames:
        return np.arange(total + 1)
    if frames == 1:
        return np.array([total])
    k = np.arange(frames)
    if spacing == "linear":
        return np.rint(k * total / (frames - 1)).astype(int)
    s = np.rint((total + 1.0) ** (k / (frames - 1)) - 1.0).astype(int)
    s[0], s[-1] = 0, total
    for i in range(1, frames):  # distinct: move repeats forward ...
        s[i] = max(s[i], s[i - 1] + 1)
    for i in range(frames - 1, -1, -1):  # ... and keep room for the frames after
        s[i] = min(s[i], total - (frames - 1 - i))
    return s


# -- the animation ---------------------------------------------------------------------------
class PathAnimation:
    """A laid-out animation: the figure, the steps of its frames, and the encoders.

    ``steps`` are the steps the frames show (:func:`frame_steps`); ``frame(k)`` draws frame
    ``k`` and returns it as an ``(height, width, 4)`` uint8 array; ``frames()`` all of them
    (drawn once, then kept). ``gif()``, ``mp4()`` return the file's bytes, ``html()`` a
    self-contained page. ``colors`` is the :class:`ColorMap` the runs were drawn with.
    """

    def __init__(self, fig: Figure, steps: Array, fps: float, artists: _Artists):
        self.fig = fig
        self.steps = np.asarray(steps, dtype=int)
        self.fps = float(fps)
        self._artists = artists
        self._background: Any = None
        self._frames: list[Array] | None = None
        self._images: list[Any] | None = None

    @property
    def gif_duration(self) -> int:
        """Milliseconds per GIF frame: ``1000 / fps`` to the 10 ms a GIF can store."""
        return max(10, int(round(100.0 / self.fps)) * 10)

    def __len__(self) -> int:
        return len(self.steps)

    # -- drawing ----------------------------------------------------------------------
    def _prepare(self) -> None:
        if self._background is not None:
            return
        from optiviz.plotting.style import agg_canvas

        canvas = agg_canvas(self.fig)
        for a in self._artists.moving():
            a.set_animated(True)
        canvas.draw()  # everything that does not move, with the layout done once
        self.fig.set_layout_engine("none")  # frames must not move the axes
        self._background = canvas.copy_from_bbox(self.fig.bbox)

    def frame(self, k: int) -> Array:
        """Draw frame ``k`` (of ``len(self)``) and return it as RGBA, (height, width, 4)."""
        self._prepare()
        canvas = self.fig.canvas
        canvas.restore_region(self._background)  # type: ignore[attr-defined]
        self._artists.update(int(k), self.steps)
        for a in self._artists.moving():
            self.fig.draw_artist(a)
        return np.array(canvas.buffer_rgba(), copy=True)  # type: ignore[attr-defined]

    def frames(self) -> list[Array]:
        """Every frame, RGBA (drawn once)."""
        if self._frames is None:
            self._frames = [self.frame(k) for k in range(len(self))]
        return self._frames

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of a frame in pixels."""
        h, w = self.frames()[0].shape[:2]
        return w, h

    # -- files ------------------------------------------------------------------------
    def _paletted(self) -> list[Any]:
        """Every frame as a 256-colour PIL image, one palette for all (chosen from the
        first, middle and last frames; no dithering, so flat areas stay flat)."""
        if self._images is None:
            from PIL import Image

            rgb = [f[..., :3] for f in self.frames()]
            picks = sorted({0, len(rgb) // 2, len(rgb) - 1})
            sample = Image.fromarray(np.concatenate([rgb[i] for i in picks], axis=0))
            palette = sample.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            self._images = [
                Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in rgb
            ]
        return self._images

    def gif(self) -> bytes:
        """The animation as an animated GIF (looping, ``1000 / fps`` ms per frame), with
        one 256-colour palette for all frames: what matplotlib's ``PillowWriter`` writes
        (Pillow's ``save_all``), from frames drawn once."""
        images = self._paletted()
        out = io.BytesIO()
        images[0].save(
            out,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=self.gif_duration,
            loop=0,
        )
        return out.getvalue()

    def mp4(self) -> bytes:
        """The animation as an H.264 MP4 (needs ``imageio-ffmpeg``: :data:`MP4_HINT`)."""
        require_mp4()
        import os
        import tempfile

        import imageio_ffmpeg

        frames = [f[..., :3] for f in self.frames()]
        h, w = frames[0].shape[:2]
        H, W = h + h % 2, w + w % 2  # yuv420p needs even sides: pad with white
        with tempfile.TemporaryDirectory(prefix="optiviz-mp4-") as tmp:
            path = os.path.join(tmp, "animation.mp4")
            writer = imageio_ffmpeg.write_frames(
                path,
                (W, H),
                fps=self.fps,
                codec="libx264",
                pix_fmt_in="rgb24",
                pix_fmt_out="yuv420p",
                macro_block_size=2,
                quality=8,
                ffmpeg_log_level="error",
            )
            writer.send(None)
            for f in frames:
                if (H, W) != (h, w):
                    g = np.full((H, W, 3), 255, dtype=np.uint8)
                    g[:h, :w] = f
                    f = g
                writer.send(np.ascontiguousarray(f))
            writer.close()
            with open(path, "rb") as fh:
                return fh.read()

    def html(self, title: str = "optiviz animation") -> str:
        """A self-contained HTML page with matplotlib's JavaScript player (the page
        ``Animation.to_jshtml`` writes: its :class:`~matplotlib.animation.HTMLWriter`,
        every frame an inline PNG) that works offline: the icon font the player links
        from a CDN is replaced by inline characters (:func:`offline_player`)."""
        pngs = []
        for im in self._paletted():
            buf = io.BytesIO()
            im.save(buf, format="PNG")
            pngs.append(buf.getvalue())
        return jshtml_page(pngs, self.fig, self.fps, title)


def jshtml_page(pngs: Sequence[bytes], fig: Figure, fps: float, title: str) -> str:
    """PNG frames as a page with matplotlib's ``to_jshtml`` player.

    ``Animation.to_jshtml`` would draw the whole figure again for each frame and encode
    it as a full-colour PNG (45 s and 46 MB for 200 frames of the quickstart, measured);
    the frames here are drawn once and encoded as palette PNGs, then handed to
    matplotlib's own :class:`~matplotlib.animation.HTMLWriter`, which writes the same
    player. The CDN stylesheet is then dropped and the icons it provided defined inline."""
    import html as _html
    import os
    import tempfile

    from matplotlib.animation import HTMLWriter

    class _Frames(HTMLWriter):
        """HTMLWriter whose frames are given PNGs (``grab_frame`` takes the next one)."""

        def grab_frame(self, **savefig_kwargs: Any) -> None:
            cast(Any, self)._saved_frames.append(base64.encodebytes(next(frames)).decode("ascii"))

    frames = iter(pngs)
    writer = _Frames(
        fps=cast(Any, fps), embed_frames=True, default_mode="loop", embed_limit=10_000.0
    )
    with tempfile.TemporaryDirectory(prefix="optiviz-html-") as tmp:
        path = os.path.join(tmp, "animation.html")
        with writer.saving(fig, path, dpi=fig.dpi):
            for _ in pngs:
                writer.grab_frame()
        with open(path, encoding="utf-8") as fh:
            snippet = fh.read()
    snippet = offline_player(snippet)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_html.escape(title)}</title>\n</head>\n<body>\n{snippet}\n</body>\n</html>\n"
    )


#: The player's icons (font-awesome classes in matplotlib's template) as characters.
_ICONS = {
    "fa-minus": "\u2212",
    "fa-plus": "+",
    "fa-fast-backward": "\u23ee",
    "fa-step-backward": "\u23f4\u2759",
    "fa-play": "\u25b6",
    "fa-pause": "\u23f8",
    "fa-step-forward": "\u2759\u23f5",
    "fa-fast-forward": "\u23ed",
}


def offline_player(snippet: str) -> str:
    """matplotlib's ``to_jshtml`` output without its one network request: the
    ``<link>`` to the font-awesome stylesheet on a CDN is removed and each icon class the
    buttons use gets an inline CSS rule drawing a character instead."""
    out = re.sub(r"<link[^>]*font-awesome[^>]*>", "", snippet, flags=re.S)
    rules = "\n".join(f'.fa.{cls}::before {{ content: "{char}"; }}' for cls, char in _ICONS.items())
    style = (
        "<style>\n.fa { font-style: normal; font-family: sans-serif; display: inline-block; "
        "min-width: 1.2em; }\n"
        f"{rules}\n.fa-flip-horizontal {{ transform: scaleX(-1); }}\n</style>\n"
    )
    return style + out


# -- the artists that move -------------------------------------------------------------------
class _Artists:
    """Per run: its projected path, losses and colour; the few artists drawn per frame,
    each holding every run (one trail collection, one set of points, one of arrows, one
    of loss lines, ...): a frame costs a handful of draws, whatever the number of runs."""

    def __init__(
        self,
        paths: list[Array],
        losses: list[Array | None],
        colors: list[Any],
        markers: list[str],
        trail: int,
        contour_ax: Any,
        loss_ax: Any,
        total: int,
    ):
        from matplotlib.collections import PathCollection
        from matplotlib.markers import MarkerStyle

        self.paths, self.losses = paths, losses
        self.rgba = np.array([to_rgba(c) for c in colors])
        self.trail = int(trail)
        self.total = total
        R = len(paths)
        self.trails = LineCollection(
            [], linewidths=2.0, capstyle="round", facecolors="none", zorder=3
        )
        contour_ax.add_collection(self.trails)
        self.nexts = LineCollection(
            [],
            linewidths=1.2,
            linestyles=(0, (2, 1.5)),
            edgecolors=self.rgba,
            facecolors="none",
            zorder=4,
        )
        contour_ax.add_collection(self.nexts)
        self.heads = contour_ax.quiver(
            np.zeros(R),
            np.zeros(R),
            np.zeros(R),
            np.zeros(R),
            color=self.rgba,
            angles="xy",
            scale_units="xy",
            scale=1.0,
            width=0.004,
            headwidth=4.0,
            headlength=5.0,
            headaxislength=4.5,
            minlength=0.0,
            zorder=4,
        )
        shapes = []
        for m in markers:
            ms = MarkerStyle(m)
            shapes.append(ms.get_path().transformed(ms.get_transform()))
        self.points = PathCollection(
            shapes,
            sizes=[56.0],
            offsets=np.zeros((R, 2)),
            offset_transform=contour_ax.transData,
            facecolors=self.rgba,
            edgecolors=START_EDGE,
            linewidths=1.0,
            zorder=5,
        )
        contour_ax.add_collection(self.points, autolim=False)
        self.points.set_transform(IdentityTransform())  # marker sizes in points, as scatter
        self.loss_lines = LineCollection([], linewidths=1.6, facecolors="none", zorder=3)
        loss_ax.add_collection(self.loss_lines, autolim=False)
        self.loss_points = loss_ax.scatter(
            np.zeros(R), np.ones(R), s=22.0, c=self.rgba, zorder=4, edgecolors="none"
        )
        self.now = loss_ax.axvline(0.0, color="0.35", linewidth=0.9, linestyle=":", zorder=2)
        self.counter = contour_ax.text(
            0.02,
            0.97,
            "",
            transform=contour_ax.transAxes,
            ha="left",
            va="top",
            fontsize=10,
            zorder=6,
            bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="0.6", alpha=0.9),
        )
        # the steps a loss line is drawn through: every one early, then evenly in
        # log(1 + step) (the panel's step axis is symmetric-log by default)
        self.loss_index = [
            np.unique(
                np.concatenate(
                    [
                        np.arange(min(len(y), LOSS_POINTS // 2)),
                        np.rint(np.geomspace(1, len(y), LOSS_POINTS // 2)).astype(int) - 1,
                    ]
                )
            )
            if y is not None and len(y)
            else np.zeros(0, dtype=int)
            for y in losses
        ]

    def moving(self) -> list[Any]:
        """The artists a frame draws, bottom to top."""
        return [
            self.trails,
            self.nexts,
            self.heads,
            self.points,
            self.loss_lines,
            self.loss_points,
            self.now,
            self.counter,
        ]

    def _trail(
        self, P: Array, first: int, at: int, steps: Array, lo_frame: int
    ) -> tuple[list[Array], Array]:
        """The trail from step ``first`` to ``at`` as polylines of :data:`TRAIL_BANDS`
        bands of frames, each with its opacity (older: fainter); one unfaded polyline
        without fading (``trail`` 0)."""
        if at <= first:
            return [], np.zeros(0)
        if self.trail <= 0:
            return [_thin(P[first : at + 1], TRAIL_POINTS * TRAIL_BANDS)], np.ones(1)
        # the frame position of every step of the window, and the band it falls in
        idx = np.arange(first, at + 1)
        pos = np.interp(idx, steps, np.arange(len(steps))) - lo_frame
        band = np.clip((pos / self.trail * TRAIL_BANDS).astype(int), 0, TRAIL_BANDS - 1)
        cuts = np.flatnonzero(np.diff(band)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(idx)]])
        segs, alphas = [], []
        for a, b in zip(starts, ends, strict=True):
            # each band's polyline reaches the next band's first point: no gaps
            piece = _thin(P[idx[a] : idx[min(b, len(idx) - 1)] + 1], TRAIL_POINTS)
            if len(piece) >= 2:
                segs.append(piece)
                alphas.append(((band[a] + 1) / TRAIL_BANDS) ** 1.5)
        return segs, np.asarray(alphas, dtype=float)

    def update(self, k: int, steps: Array) -> None:
        """Set every moving artist to frame ``k`` (step ``steps[k]``)."""
        s = int(steps[k])
        lo_frame = k - self.trail
        first_step = int(steps[lo_frame]) if self.trail > 0 and lo_frame > 0 else 0
        trail_segs: list[Array] = []
        trail_rgba: list[Array] = []
        nexts, offsets, vectors, lsegs = [], [], [], []
        lpts: list[tuple[float, float]] = []
        for i, P in enumerate(self.paths):
            last = len(P) - 1
            at = min(s, last)
            segs, alphas = self._trail(P, min(first_step, at), at, steps, lo_frame)
            trail_segs += segs
            c = np.tile(self.rgba[i], (len(segs), 1))
            c[:, 3] = alphas
            trail_rgba.append(c)
            if at < last:
                d = P[at + 1] - P[at]
                nexts.append(P[at : at + 2])
            else:  # the run has stopped (converged, budget, diverged): no next step
                d = np.zeros(2)
                nexts.append(P[at : at + 1].repeat(2, axis=0))
            offsets.append(P[at])
            vectors.append(d)
            y = self.losses[i]
            if y is not None and len(y):
                j = min(s, len(y) - 1)
                xs = self.loss_index[i]
                xs = np.append(xs[xs < j], j)
                lsegs.append(np.column_stack([xs, y[xs]]))
                lpts.append((j, y[j]))
            else:
                lsegs.append(np.zeros((0, 2)))
                lpts.append((np.nan, np.nan))
        self.trails.set_segments(trail_segs)
        self.trails.set_edgecolor(
            cast(Any, np.concatenate(trail_rgba) if trail_rgba else np.zeros((0, 4)))
        )
        self.nexts.set_segments(nexts)
        O, V = np.asarray(offsets), np.asarray(vectors)
        # the arrow head sits at the next iterate: the arrow draws the last 35% of the step
        self.heads.set_offsets(O + 0.65 * V)
        self.heads.set_UVC(0.35 * V[:, 0], 0.35 * V[:, 1])
        self.points.set_offsets(O)
        self.loss_lines.set_segments(lsegs)
        self.loss_lines.set_edgecolor(cast(Any, self.rgba))
        self.loss_points.set_offsets(np.asarray(lpts, dtype=float))
        self.now.set_xdata([s, s])
        self.counter.set_text(f"step {s} of {self.total}")


def _thin(P: Array, most: int) -> Array:
    """At most ``most`` points of the polyline ``P``, evenly chosen (its ends kept)."""
    if len(P) <= most:
        return P
    return P[np.unique(np.rint(np.linspace(0, len(P) - 1, most)).astype(int))]


# -- layout ----------------------------------------------------------------------------------
def _prefix(r: RunView) -> Array:
    """The run's points up to the first non-finite one, (k, n)."""
    P = r.finite_prefix()
    return np.zeros((0, 2)) if P is None else P


def _loss_values(r: RunView, f_ref: float | None) -> tuple[Array | None, bool]:
    """The loss panel's values of one run: ``f - f*`` (True) or ``f`` (False)."""
    if r.losses is None:
        return None, False
    y = np.asarray(r.losses, dtype=float)
    if f_ref is None:
        return y, False
    with np.errstate(all="ignore"):
        return y - f_ref, True


def animate(
    surface: SurfaceLike,
    runs: Any,
    *,
    analysis: Any = None,
    frames: int = 100,
    fps: float = 12.0,
    trail: int = 20,
    spacing: str = "log",
    window: Any = None,
    projection: Any = None,
    levels: Any = None,
    log_levels: bool | None = None,
    f_min: float | None = None,
    history: Any = None,
    colors: ColorMap | None = None,
    title: str | bool | None = None,
    caption: str = "",
    max_runs: int = 40,
    grid: int = 200,
    figsize: tuple[float, float] | None = None,
    dpi: float = ANIM_DPI,
) -> PathAnimation:
    """Lay out the animation of ``runs`` over the contours of ``surface``.

    ``runs`` as for :func:`optiviz.plotting.contour` (trajectories with per-step points);
    ``frames``: at most this many frames (:func:`frame_steps` with ``spacing``); ``fps``:
    frames per second of the files; ``trail``: frames of path behind the current point,
    fading out (0: the whole path so far, unfaded). ``window``, ``projection``, ``levels``,
    ``log_levels``, ``f_min``, ``history``, ``analysis``, ``title``, ``caption``,
    ``colors`` as for the contour figure (the same plane, window and colours). At most
    ``max_runs`` runs are animated (evenly chosen beyond). Needs a surface of two or more
    variables.
    """
    from optiviz.plotting.contour import _contour_2d, _reference, _resolve_window, make_plane

    if surface.n < 2:
        raise OptivizError("an animation needs a surface of two or more variables")
    if int(frames) < 2:
        raise OptivizError(f"frames must be an int >= 2; got {frames!r}")
    if not (isinstance(fps, (int, float)) and fps > 0):
        raise OptivizError(f"fps must be a number > 0; got {fps!r}")
    groups = normalize(runs)
    colors = colors if colors is not None else ColorMap()
    views = [r for r in flat(groups) if len(_prefix(r))]
    if not views:
        raise OptivizError("an animation needs runs with per-step points (record: all)")
    if len(views) > max_runs:
        keep = np.unique(np.rint(np.linspace(0, len(views) - 1, max_runs)).astype(int))
        views = [views[i] for i in keep]
    f_ref = _reference(surface, groups, f_min)
    with rc():
        fig = new_figure(figsize or ANIM_FIGSIZE, dpi)
        ax, lax = fig.subplots(1, 2, width_ratios=(1.45, 1.0))
        plane, win = make_plane(surface, groups, analysis, projection)
        win = _resolve_window(window, win, groups, plane, surface.n, history)
        handles, note = _contour_2d(
            fig,
            ax,
            surface,
            [],
            colors,
            analysis=analysis,
            levels=levels,
            log_levels=log_levels,
            window=win,
            projection=projection,
            grid=grid,
            max_runs=max_runs,
            family_threshold=10**9,
            f_min=f_ref,
            history=history,
            plane=plane,
        )
        lo, hi = win[:, 0], win[:, 1]
        paths, losses, cols, marks, run_handles = [], [], [], [], []
        relative = False
        for r in views:
            P = plane.project(_prefix(r))
            # far outside the window a point would make Agg draw huge segments: clamp it
            span = hi - lo
            P = np.clip(P, lo - 3 * span, hi + 3 * span)
            st = colors.style_for(r.key, r.variant)
            paths.append(P)
            y, relative = _loss_values(r, f_ref)
            losses.append(y)
            cols.append(st["color"])
            marks.append(st["marker"])
            run_handles.append(
                Line2D(
                    [],
                    [],
                    color=st["color"],
                    linestyle=st["linestyle"],
                    marker=st["marker"],
                    markersize=5,
                    markeredgecolor=START_EDGE,
                    label=r.legend_label,
                )
            )
            # the start, as on the static contour: a white circle
            ax.plot(
                P[0, 0],
                P[0, 1],
                marker="o",
                markersize=6,
                markerfacecolor="white",
                markeredgecolor=START_EDGE,
                markeredgewidth=1.4,
                linestyle="none",
                zorder=4,
            )
        total = max(len(r.points) - 1 for r in views if r.points is not None)
        steps = frame_steps(total, frames, spacing)
        _loss_axes(lax, views, losses, cols, relative, total, spacing, colors)
        artists = _Artists(paths, losses, cols, marks, trail, ax, lax, total)
        pad = 10.0
        if title is None or title is True:
            set_formula_title(ax, surface, fig, extra=caption, pad=pad)
        elif isinstance(title, str) and title:
            fitted_title(ax, title, fig, pad=pad)
        if note:  # how an n > 2 surface's plane was chosen, wrapped over the loss panel
            lax.set_title("")
            fitted_title(lax, note, fig, size=8, width=0.36, max_lines=3)
            lax.title.set_color("0.3")
        legend_below(fig, run_handles + handles)
        finish_axes(ax)
        finish_axes(lax, grid=True)
    return PathAnimation(fig, steps, fps, artists)


def _loss_axes(lax, views, losses, cols, relative, total, spacing, colors) -> None:
    """The loss panel: axes, limits and each run's full curve, faint (the part up to the
    current step is drawn over it, per frame)."""
    finite = [y[np.isfinite(y)] for y in losses if y is not None]
    vals = np.concatenate(finite) if finite else np.zeros(0)
    log_y = relative and vals.size > 0 and bool(np.all(vals >= 0))
    if log_y:
        pos = vals[vals > 0]
        top = float(pos.max()) if pos.size else 1.0
        floor = max(float(pos.min()) if pos.size else top * 1e-12, top * 1e-16)
        for i, y in enumerate(losses):
            if y is not None:  # exact zeros (f* reached) sit on the bottom edge
                losses[i] = np.where(y > 0, y, floor)
        lax.set_yscale("log")
        lax.set_ylim(floor / 2.0, top * 2.0)
    elif vals.size:
        a, b = float(vals.min()), float(vals.max())
        pad = 0.05 * (b - a) if b > a else 1.0
        lax.set_ylim(a - pad, b + pad)
    for r, y, c in zip(views, losses, cols, strict=True):
        if y is None:
            continue
        st = colors.style_for(r.key, r.variant)
        lax.plot(
            np.arange(len(y)), y, color=c, linestyle=st["linestyle"], linewidth=1.0, alpha=0.45
        )
    if spacing == "log":
        lax.set_xscale("symlog", linthresh=1.0)
        lax.set_xlim(0, max(total, 1) * 1.05)
        lax.set_xlabel("step (symmetric-log scale)")
    else:
        lax.set_xlim(0, max(total, 1))
        lax.set_xlabel("step")
    lax.set_ylabel("$f - f^*$" if relative else "$f$")
    lax.set_title("loss", fontsize=10)


def frames_to_png(frames: Sequence[Array], indices: Sequence[int]) -> list[bytes]:
    """PNG bytes of the given frames (for looking at them)."""
    from PIL import Image

    out = []
    for i in indices:
        buf = io.BytesIO()
        Image.fromarray(np.asarray(frames[i])).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out
