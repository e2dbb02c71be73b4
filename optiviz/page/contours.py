"""The page's static picture as SVG: the filled contours of f over the window (the levels and
colours of the static contour figure: :func:`optiviz.plotting.contour.make_levels`, log
levels of f - f* where the surface needs them, :data:`~optiviz.plotting.style.BACKGROUND_CMAP`),
their lines, the colorbar, the axes with the surface's variable names, the known minima and
the start.

Everything is placed in pixels of the plot area (``x`` right, ``y`` down) so the page's
script maps data to pixels with the same affine map (:class:`Frame`).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Frame", "Picture", "contour_picture", "frame_for"]

#: The largest plot area, in CSS pixels.
MAX_WIDTH = 560.0
MAX_HEIGHT = 500.0
#: Grid points per side where f is evaluated for the contours.
GRID = 161
LINE_COLOR = "#34506E"
#: Margins around the plot area: left (y ticks and label), top, right (colorbar), bottom.
MARGIN = (62.0, 12.0, 100.0, 46.0)


@dataclass(frozen=True)
class Frame:
    """The affine map from the window ``[[x0, x1], [y0, y1]]`` to a ``width`` x ``height``
    pixel area (y pointing down)."""

    window: tuple[tuple[float, float], tuple[float, float]]
    width: float
    height: float

    def px(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.window
        u = (np.asarray(x, dtype=float) - x0) / (x1 - x0) * self.width
        v = (1.0 - (np.asarray(y, dtype=float) - y0) / (y1 - y0)) * self.height
        return u, v


def frame_for(window: Any) -> Frame:
    """Equal aspect (true shapes) when the window's sides are within a factor 3 of each
    other, as the static contour figure; else the full area."""
    win = np.asarray(window, dtype=float)
    dx, dy = float(win[0, 1] - win[0, 0]), float(win[1, 1] - win[1, 0])
    if 1 / 3 <= dy / dx <= 3:
        s = min(MAX_WIDTH / dx, MAX_HEIGHT / dy)
        w, h = dx * s, dy * s
    else:
        w, h = MAX_WIDTH, MAX_HEIGHT * 0.8
    win_t = ((float(win[0, 0]), float(win[0, 1])), (float(win[1, 0]), float(win[1, 1])))
    return Frame(win_t, round(w, 1), round(h, 1))


@dataclass(frozen=True)
class Picture:
    """The SVG of the static layers, the frame, and what the levels are."""

    svg: str  # the inner layers (contours, axes, colorbar, marks) of the plot's <svg>
    frame: Frame
    log: bool  # log levels of f - f*
    f_ref: float  # f* (or min f over the window when f* is not known)
    known: bool  # f_ref is the known minimum value
    levels: np.ndarray


def _path(rings: list[np.ndarray], frame: Frame) -> str:
    out = []
    for ring in rings:
        if len(ring) < 2:
            continue
        u, v = frame.px(ring[:, 0], ring[:, 1])
        pts = " ".join(f"{a:.1f} {b:.1f}" for a, b in zip(u, v, strict=True))
        out.append(f"M{pts}Z")
    return "".join(out)


def _hex(rgba: Any) -> str:
    r, g, b = (int(round(255 * c)) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _ticks(lo: float, hi: float) -> list[float]:
    from matplotlib.ticker import MaxNLocator

    t = MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    span = hi - lo
    return [float(v) for v in t if lo - 1e-9 * span <= v <= hi + 1e-9 * span]


def _tick_text(v: float) -> str:
    return "0" if v == 0 else f"{v:.6g}"


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def contour_picture(
    surface: Any,
    window: Any,
    *,
    f_min: float | None,
    levels: Any = None,
    log_levels: bool | None = None,
    start: Any = None,
) -> Picture:
    """The static SVG layers of the page's contour panel (see the module doc)."""
    import contourpy

    from optiviz.plotting.contour import (
        evaluate,
        make_levels,
        reference_value,
        surface_log_hint,
        wants_log,
    )
    from optiviz.plotting.style import BACKGROUND_CMAP, MINIMUM_COLOR, START_EDGE

    frame = frame_for(window)
    (x0, x1), (y0, y1) = frame.window
    u = np.linspace(x0, x1, GRID)
    v = np.linspace(y0, y1, GRID)
    U, V = np.meshgrid(u, v)
    Z = evaluate(surface, np.stack([U, V], axis=-1))
    W, H = frame.width, frame.height
    parts: list[str] = [f'<rect x="0" y="0" width="{W}" height="{H}" fill="#d9d9d9"/>']
    log, f_ref, known = False, 0.0, False
    lv = np.array([0.0, 1.0])
    if np.isfinite(Z).any():
        f_ref, known = reference_value(surface, Z, f_min)
        with np.errstate(all="ignore"):
            D = Z - f_ref
        log = wants_log(D, surface_log_hint(surface), log_levels)
        lv = make_levels(D, Z, log, levels)
        data = np.clip(D if log else Z, lv[0], lv[-1])
        if log:
            from matplotlib.colors import LogNorm

            norm: Any = LogNorm(vmin=lv[0], vmax=lv[-1])
        else:
            from matplotlib.colors import Normalize

            norm = Normalize(vmin=lv[0], vmax=lv[-1])
        gen = contourpy.contour_generator(
            u, v, np.ma.masked_invalid(data), fill_type="OuterOffset", line_type="Separate"
        )
        mids = 0.5 * (lv[:-1] + lv[1:])
        colors = [_hex(BACKGROUND_CMAP(float(norm(m)))) for m in mids]
        span = lv[-1] - lv[0]
        for k in range(lv.size - 1):
            lo = lv[k] - (1e-9 * span if k == 0 else 0.0)
            hi = lv[k + 1] + (1e-9 * span if k == lv.size - 2 else 0.0)
            filled: Any = gen.filled(lo, hi)  # FillType.OuterOffset: (points, offsets)
            pts, offs = filled[0], filled[1]
            rings = [
                p[o[i] : o[i + 1]]
                for p, o in zip(pts, offs, strict=True)
                for i in range(len(o) - 1)
            ]
            d = _path(rings, frame)
            if d:
                parts.append(f'<path d="{d}" fill="{colors[k]}" fill-rule="evenodd"/>')
        lines = []
        for level in lv[1:-1]:
            d = _path([np.asarray(p) for p in gen.lines(level)], frame)
            lines.append(d.replace("Z", ""))
        parts.append(
            f'<path d="{"".join(lines)}" fill="none" stroke="{LINE_COLOR}" '
            'stroke-width="0.5" stroke-opacity="0.5"/>'
        )
        parts.append(_colorbar(lv, colors, log, known, W, H))
    else:
        parts.append(
            f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">f is not finite anywhere in '
            "this window</text>"
        )
    parts.append(_axes(frame, surface.variables))
    for m in getattr(surface, "minima", None) or []:
        p = np.asarray(m.point, dtype=float)
        if x0 <= p[0] <= x1 and y0 <= p[1] <= y1:
            a, b = (float(c) for c in frame.px(p[0], p[1]))
            star = " ".join(
                f"{a + r * math.sin(k * math.pi / 5):.1f},{b - r * math.cos(k * math.pi / 5):.1f}"
                for k, r in zip(range(10), [9.0, 3.8] * 5, strict=True)
            )
            parts.append(
                f'<polygon class="minimum" points="{star}" fill="{MINIMUM_COLOR}" stroke="white" '
                f'stroke-width="0.8"><title>known minimum ({_tick_text(p[0])}, '
                f"{_tick_text(p[1])}), f = {_tick_text(float(m.value))}</title></polygon>"
            )
    if start is not None:
        a, b = (float(c) for c in frame.px(start[0], start[1]))
        edge = START_EDGE if START_EDGE.startswith("#") else _grey(START_EDGE)
        parts.append(
            f'<circle class="start" cx="{a:.1f}" cy="{b:.1f}" r="6.5" fill="white" '
            f'stroke="{edge}" stroke-width="2"><title>start</title></circle>'
        )
    return Picture("".join(parts), frame, log, float(f_ref), bool(known), lv)


def _grey(spec: str) -> str:
    g = int(round(255 * float(spec)))
    return f"#{g:02x}{g:02x}{g:02x}"


def _axes(frame: Frame, variables: Any) -> str:
    (x0, x1), (y0, y1) = frame.window
    W, H = frame.width, frame.height
    out = [f'<rect x="0" y="0" width="{W}" height="{H}" fill="none" stroke="#333"/>']
    for t in _ticks(x0, x1):
        a = float(frame.px(t, y0)[0])
        out.append(
            f'<line x1="{a:.1f}" y1="{H}" x2="{a:.1f}" y2="{H + 5}" stroke="#333"/>'
            f'<text x="{a:.1f}" y="{H + 18}" text-anchor="middle">{_tick_text(t)}</text>'
        )
    for t in _ticks(y0, y1):
        b = float(frame.px(x0, t)[1])
        out.append(
            f'<line x1="-5" y1="{b:.1f}" x2="0" y2="{b:.1f}" stroke="#333"/>'
            f'<text x="-8" y="{b + 4:.1f}" text-anchor="end">{_tick_text(t)}</text>'
        )
    xn, yn = (_esc(v) for v in list(variables)[:2])
    out.append(f'<text class="label" x="{W / 2:.1f}" y="{H + 38}" text-anchor="middle">{xn}</text>')
    out.append(
        f'<text class="label" transform="translate({-46} {H / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{yn}</text>'
    )
    return "".join(out)


def _colorbar(lv: np.ndarray, colors: list[str], log: bool, known: bool, W: float, H: float) -> str:
    x, w = W + 14.0, 14.0

    def pos(value: float) -> float:
        if log:
            t = (math.log10(value) - math.log10(lv[0])) / (math.log10(lv[-1]) - math.log10(lv[0]))
        else:
            t = (value - lv[0]) / (lv[-1] - lv[0])
        return H * (1.0 - t)

    out = []
    for k, c in enumerate(colors):
        top, bottom = pos(float(lv[k + 1])), pos(float(lv[k]))
        out.append(
            f'<rect x="{x}" y="{top:.1f}" width="{w}" height="{max(bottom - top, 0.1) + 0.3:.1f}" '
            f'fill="{c}"/>'
        )
    out.append(f'<rect x="{x}" y="0" width="{w}" height="{H}" fill="none" stroke="#333"/>')
    if log:
        e0, e1 = math.ceil(math.log10(lv[0]) - 1e-9), math.floor(math.log10(lv[-1]) + 1e-9)
        step = max(1, math.ceil((e1 - e0 + 1) / 10))
        ticks = [
            (10.0**e, f'10<tspan dy="-5" font-size="9">{e}</tspan>')
            for e in range(e0, e1 + 1, step)
        ]
    else:
        ticks = [(t, _tick_text(t)) for t in _ticks(float(lv[0]), float(lv[-1]))]
    for value, text in ticks:
        b = pos(value)
        out.append(
            f'<line x1="{x + w}" y1="{b:.1f}" x2="{x + w + 4}" y2="{b:.1f}" stroke="#333"/>'
            f'<text x="{x + w + 6}" y="{b + 4:.1f}">{text}</text>'
        )
    label = ("f &#8722; f* (log scale)" if known else "f &#8722; min f (log scale)") if log else "f"
    out.append(
        f'<text class="label" transform="translate({x + w + 60:.1f} {H / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{label}</text>'
    )
    return "".join(out)
