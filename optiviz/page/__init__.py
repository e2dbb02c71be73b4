"""The interactive page: one self-contained ``page.html`` that works from ``file://`` with no
network (every script and style inline, a Content-Security-Policy that forbids any fetch).

It shows the contour of a two-variable surface with the path of one optimizer entry, a
slider for the learning rate and one for a second hyperparameter (values precomputed in one
batched run: :mod:`optiviz.page.sweep`), a step slider with play/pause, the values at the
hovered (else the current) iterate -- x, f, the gradient, the step -- a loss panel and the
report's learning-rate table.

The script is small and hand-written (``page.js``, ``page.css`` beside this module, package
data): plotly's inlined JavaScript alone is ~3.5 MB of the 5 MB budget, bokeh's standalone
bundle over 1 MB, and neither is needed for one path over a static contour. The static
picture is SVG written here (:mod:`optiviz.page.contours`); the iterates travel as float32
arrays, byte-shuffled and deflated (:func:`pack`), inflated by the browser's
``DecompressionStream``.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import zlib
from collections.abc import Mapping
from importlib import resources
from typing import Any

import numpy as np

from optiviz.page.sweep import Sweep, run_sweep

__all__ = ["build_page", "pack", "page_html", "unpack"]

#: What the page may load: nothing but itself (inline script and style, data: images).
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'none'; font-src 'none'; form-action 'none'"
)


def pack(arrays: list[np.ndarray]) -> str:
    """The arrays as one float32 buffer (concatenated, C order), its bytes shuffled (every
    first byte of the floats, then every second, ...: deflate then finds the repeated
    exponents) and zlib-deflated, in base64."""
    flat = np.concatenate([np.asarray(a, dtype="<f4").ravel() for a in arrays])
    shuffled = flat.view(np.uint8).reshape(-1, 4).T.copy()
    return base64.b64encode(zlib.compress(shuffled.tobytes(), 6)).decode("ascii")


def unpack(text: str) -> np.ndarray:
    """The float32 values :func:`pack` wrote (what the page's script decodes)."""
    raw = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.uint8)
    return raw.reshape(4, -1).T.copy().view("<f4").ravel()


def _window(result: Any, sweep: Sweep, option: Any) -> np.ndarray:
    """The plotted window: the option's, 'auto' (every run that did not diverge, 10%
    margin), else the surface's."""
    if option is None:
        return np.asarray(result.surface.window, dtype=float)[:2]
    if option != "auto":
        return np.asarray(option, dtype=float)
    keep = sweep.status != "diverged"
    pts = sweep.points[keep].reshape(-1, 2) if keep.any() else sweep.points.reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if not pts.size:
        return np.asarray(result.surface.window, dtype=float)[:2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum(0.1 * (hi - lo), 1e-9 * np.maximum(1.0, np.abs(hi)))
    return np.stack([lo - pad, hi + pad], axis=1)


def _lr_table(analysis: Any) -> str:
    """The report's learning-rate table (the rows of report.md's) as HTML."""
    if analysis is None:
        return ""
    from optiviz.report.table import _LR_HEAD, _lr_rows

    rows = _lr_rows(analysis)
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _LR_HEAD)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f'<table id="lr-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _stability(analysis: Any) -> float | None:
    m = getattr(analysis, "minimum", None) if analysis is not None else None
    eta = getattr(m, "eta", None)
    v = None if not eta else eta.get("stability_limit")
    return float(v) if v is not None and math.isfinite(v) and v > 0 else None


def _axis(ax: Any) -> dict | None:
    if ax is None:
        return None
    return {"name": ax.name, "values": [float(v) for v in ax.values], "log": bool(ax.log)}


def _nearest(values: np.ndarray, target: float | None, log: bool) -> int:
    if target is None or not math.isfinite(target):
        return int(values.size // 2)
    if log and target > 0 and np.all(values > 0):
        return int(np.argmin(np.abs(np.log(values) - math.log(target))))
    return int(np.argmin(np.abs(values - target)))


def _loss_range(sweep: Sweep, f_star: float | None) -> tuple[bool, float, float]:
    """(log, low, high) of the loss panel, shared by every run: f - f* on a log axis from
    10 (f0 - f*) down to the lowest value reached (at most 18 decades), where f* is known;
    else f on a linear axis from its lowest value to 1.5 f0's distance above it."""
    L = sweep.losses
    f0 = float(L[0, 0])
    fin = L[np.isfinite(L)]
    if f_star is not None:
        d = fin - f_star
        top = 10.0 * max(f0 - f_star, np.finfo(float).tiny)
        pos = d[d > 0]
        low = float(pos.min()) if pos.size else top * 1e-18
        return True, max(low, top * 1e-18), top
    lo = float(fin.min())
    return False, lo, f0 + 0.5 * max(f0 - lo, abs(f0) * 1e-3, 1e-12)


def _text(name: str) -> str:
    return resources.files("optiviz.page").joinpath(name).read_text(encoding="utf-8")


def _json(value: Any) -> str:
    """JSON safe inside an HTML <script> element (no ``</``, no ``<!--``)."""
    return (
        json.dumps(value, separators=(",", ":"), allow_nan=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def page_html(result: Any, sweep: Sweep, colors: Any, options: Mapping[str, Any]) -> str:
    """The page of a finished ``sweep`` of ``result`` (see the module doc)."""
    from optiviz._format import fmt
    from optiviz.figures._surface import caption, f_star
    from optiviz.page.contours import MARGIN, contour_picture

    surface = result.surface
    fstar = f_star(result)
    win = _window(result, sweep, options.get("window"))
    scale = options.get("level_scale", "auto")
    start = np.asarray(result.config.starts[0], dtype=float)
    pic = contour_picture(
        surface,
        win,
        f_min=fstar,
        levels=options.get("levels"),
        log_levels=None if scale == "auto" else scale == "log",
        start=start,
    )
    log_loss, lo, hi = _loss_range(sweep, fstar)
    from optiviz.plotting._runs import traj_label

    for traj in result.trajectories:  # colours in entry order, as the static figures give them
        colors.color_for(traj_label(traj))
    spec = result.config.optimizers[options["entry"]]
    fixed = ", ".join(f"{k} = {fmt(v)}" for k, v in sweep.fixed.items())
    lr_target = spec.hyperparameters.get("lr")
    second_target = None if sweep.second is None else spec.hyperparameters.get(sweep.second.name)
    default = [
        _nearest(sweep.lr.values, lr_target, sweep.lr.log),
        0
        if sweep.second is None
        else _nearest(sweep.second.values, second_target, sweep.second.log),
    ]
    title = options.get("title") or f"{surface.name}: {sweep.label} over {sweep.runs} settings"
    data = {
        "variables": [str(v) for v in list(surface.variables)[:2]],
        "window": [[float(a), float(b)] for a, b in pic.frame.window],
        "plot": {"width": pic.frame.width, "height": pic.frame.height, "margin": list(MARGIN)},
        "lr": _axis(sweep.lr),
        "second": _axis(sweep.second),
        "default": default,
        "steps": int(sweep.steps),
        "runs": sweep.runs,
        "n_steps": [int(v) for v in sweep.n_steps],
        "status": [str(s) for s in sweep.status],
        "color": colors.color_for(sweep.color_key),  # the entry's colour in every figure
        "label": sweep.label,
        "optimizer": sweep.optimizer,
        "fixed": fixed,
        "f_star": fstar,
        "loss": {"log": log_loss, "low": lo, "high": hi},
        "stability": _stability(result.analysis),
        "data": pack([sweep.points, sweep.grads, sweep.losses]),
    }
    esc = html.escape
    page = _text("page.html")
    replacements = {
        "CSP": CSP,
        "TITLE": esc(str(title)),
        "CAPTION": esc(caption(result)),
        "FORMULA": esc(f"f({', '.join(surface.variables)}) = {getattr(surface, 'text', '')}"),
        "CSS": _text("page.css"),
        "WIDTH": f"{pic.frame.width + MARGIN[0] + MARGIN[2]:.0f}",
        "HEIGHT": f"{pic.frame.height + MARGIN[1] + MARGIN[3]:.0f}",
        "ORIGIN": f"{MARGIN[0]:.0f} {MARGIN[1]:.0f}",
        "PLOT_W": f"{pic.frame.width}",
        "PLOT_H": f"{pic.frame.height}",
        "CONTOUR": pic.svg,
        "LR_TABLE": _lr_table(result.analysis)
        or "<p>No minimum with a Hessian: no learning-rate table.</p>",
        "DATA": _json(data),
        "JS": _text("page.js"),
    }
    # one pass: a replacement's text (a label, say) is never scanned for placeholders
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: replacements[m.group(1)], page)


def build_page(result: Any, colors: Any, options: Mapping[str, Any]) -> str:
    """Run the sweep the options name and write the page (the ``page`` figure kind)."""
    return page_html(result, run_sweep(result, options), colors, options)
