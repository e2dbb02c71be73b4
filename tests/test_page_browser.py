"""The interactive page in a real browser: headless Chromium (Debian package ``chromium``,
which ``.ci/run`` installs when missing) driven over the DevTools protocol with the standard
library only: ``--remote-debugging-pipe`` reads JSON commands from fd 3 and writes replies
and events to fd 4, each message ending in a NUL byte.

One browser for the module; one page (a 40 x 20 sweep of heavy ball on Rosenbrock, 200
steps: the size-budget case) loaded from ``file://``. The checks: no console error or
uncaught exception, no request to anything but ``file:``/``data:``, a screenshot that is not
blank, the path's pixels change when a slider moves (and only near the path), the step
slider and the hover readout.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: The browser tests (.ci/run installs chromium; elsewhere they are skipped without it).
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs chromium (apt-get install chromium)"
)


def _high(fd: int) -> int:
    """``fd`` moved to a number >= 10 (close-on-exec), clear of the child's 3 and 4."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Browser:
    """Headless Chromium over ``--remote-debugging-pipe`` (one page target, flat session)."""

    def __init__(self, width: int = 1280, height: int = 900):
        self.profile = tempfile.mkdtemp(prefix="optiviz-chromium-")
        to_child_r, self._to_child = (_high(fd) for fd in os.pipe())
        self._from_child, from_child_w = (_high(fd) for fd in os.pipe())

        def fds() -> None:  # in the child: its fd 3 reads our commands, fd 4 answers
            os.dup2(to_child_r, 3)  # dup2 leaves the copies inheritable; all else is CLOEXEC
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--mute-audio",
                "--force-device-scale-factor=1",
                f"--window-size={width},{height}",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=fds,
            close_fds=False,  # keep 3 and 4 (Python opens every other fd close-on-exec)
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no message from chromium")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict:
        """Send a command and return its result (events met meanwhile are kept)."""
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self.session is not None and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, expression: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.eval(expression):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{expression} did not become true")

    def eval(self, expression: str) -> Any:
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, clip: dict | None = None) -> np.ndarray:
        """An RGB screenshot (of ``clip``: x, y, width, height in CSS pixels) as uint8."""
        from PIL import Image

        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params["clip"] = {**clip, "scale": 1}
        png = base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    def close(self) -> None:
        try:
            os.close(self._to_child)  # chromium exits when its pipe closes
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._from_child)
            shutil.rmtree(self.profile, ignore_errors=True)


CONFIG = {
    "name": "page-browser",
    "surface": "rosenbrock",
    "start": [-1.2, 1.0],
    "steps": 200,
    "optimizers": [{"name": "momentum", "label": "heavy ball", "lr": 1e-3, "momentum": 0.5}],
    "figures": [
        {
            "page": {
                "lr": {"logspace": [-4, -2.5, 40]},
                "second": {"momentum": {"linspace": [0, 0.95, 20]}},
            }
        }
    ],
}


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    """The page of the size-budget case, written by a real run (``optiviz run``'s files)."""
    from optiviz import run_config

    out = tmp_path_factory.mktemp("page")
    run_config(CONFIG, out / "run")
    return out / "run" / "page.html"


def test_a_40_by_20_sweep_of_200_steps_is_within_the_size_budget(page_file):
    size = page_file.stat().st_size
    # measured 2.79 MB (5 floats per iterate of 800 runs x 201 iterates: 3.2 MB as float32,
    # 1.9 MB shuffled and deflated, 2.5 MB in base64; the picture and script 0.3 MB)
    assert size <= 5_000_000, size


def test_log_levels_where_the_surface_needs_them(page_file):
    """Rosenbrock's hint asks for log levels of f - f* (as the static contour): a log
    colorbar, bands in the background colormap's colours from its white end up, and the
    loss panel on a log axis of f - f*."""
    import re

    from optiviz.plotting.style import BACKGROUND_CMAP

    html = page_file.read_text()
    assert "f &#8722; f* (log scale)" in html
    fills = re.findall(r'<path d="[^"]*" fill="(#[0-9a-f]{6})" fill-rule', html)
    assert len(fills) >= 10
    cmap = {
        "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in BACKGROUND_CMAP(t)[:3]))
        for t in np.linspace(0, 1, 2001)
    }
    assert set(fills) <= cmap
    brightness = [sum(int(f[k : k + 2], 16) for k in (1, 3, 5)) for f in fills]
    assert brightness[0] > 750 and brightness == sorted(brightness, reverse=True)
    data = json.loads(html.split('type="application/json">', 1)[1].split("</script>", 1)[0])
    assert data["loss"]["log"] is True and data["f_star"] == 0.0


@pytest.fixture(scope="module")
def loaded(page_file):
    """The page loaded from file:// in one headless Chromium (one browser per module)."""
    page = page_file
    b = Browser()
    try:
        b.call("Page.navigate", url=page.as_uri())
        b.wait_for("window.optivizReady === true")
        yield b, page
    finally:
        b.close()


def _rect(b: Browser, selector: str) -> dict:
    r = b.eval(
        f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
        ".getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })()"
    )
    return {k: float(v) for k, v in r.items()}


def _set(b: Browser, slider: str, value: int) -> None:
    b.eval(
        f"(() => {{ const s = document.getElementById({json.dumps(slider)}); s.value = {value}; "
        "s.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )


def _path_pixels(b: Browser, origin: dict) -> np.ndarray:
    """Screen pixels (x, y) of the drawn path's vertices, relative to ``origin``."""
    pts = b.eval(
        "(() => { const p = document.getElementById('path-full'); const m = p.getScreenCTM();"
        " return Array.from(p.points).map(q => { const s = q.matrixTransform(m);"
        " return [s.x, s.y]; }); })()"
    )
    return np.asarray(pts, dtype=float) - [origin["x"], origin["y"]]


def _near(mask: np.ndarray, pts: np.ndarray, radius: float) -> np.ndarray:
    """Which True pixels of ``mask`` lie within ``radius`` of the polyline through ``pts``."""
    ys, xs = np.nonzero(mask)
    q = np.stack([xs, ys], axis=1).astype(float)
    best = np.full(len(q), np.inf)
    for a, c in zip(pts[:-1], pts[1:], strict=True):
        d = c - a
        t = np.clip(((q - a) @ d) / max(float(d @ d), 1e-12), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(q - (a + t[:, None] * d), axis=1))
    return best <= radius


@needs_chromium
def test_page_loads_offline_without_errors(loaded):
    b, page = loaded
    assert b.eval("document.title").startswith("rosenbrock")
    errors = []
    requests = []
    for e in b.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            errors.append(p["exceptionDetails"])
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(p["args"])
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append(p["entry"])
        elif m == "Network.requestWillBeSent":
            requests.append(p["request"]["url"])
    assert errors == []
    assert requests, "the navigation itself is a request: the Network domain saw nothing"
    leaving = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert leaving == []
    assert page.as_uri() in requests


@needs_chromium
def test_screenshot_is_not_blank(loaded):
    b, _ = loaded
    img = b.screenshot()
    # a page of many colours: contour bands, the path, text; not one flat colour
    rgb = img.astype(np.int32)
    colours = np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2])
    assert colours.size > 50
    assert img.std() > 20
    # the path's colour (Okabe-Ito vermillion, the first entry's) is on screen
    vermillion = np.array([0xD5, 0x5E, 0x00])
    assert (np.abs(img.astype(int) - vermillion).sum(axis=2) < 30).sum() > 200


@needs_chromium
def test_moving_the_lr_slider_changes_the_path_where_it_is_drawn(loaded):
    b, _ = loaded
    _set(b, "second-slider", 10)
    _set(b, "lr-slider", 5)
    clip = _rect(b, "#contour")
    before = b.screenshot(clip)
    path_before = _path_pixels(b, clip)
    _set(b, "lr-slider", 30)
    after = b.screenshot(clip)
    path_after = _path_pixels(b, clip)
    assert not np.allclose(path_before[-1], path_after[-1])  # the path ends elsewhere
    # visibly changed pixels (Chromium repaints the tiles under a change with anti-aliasing
    # that differs by a few levels: the contour lines there change by at most ~4 in the sum
    # of the channels; the path's colour over the pale background changes by ~300)
    diff = np.abs(before.astype(int) - after.astype(int)).sum(axis=2)
    changed = diff > 24
    assert changed.sum() > 300  # a path of 200 steps moved: hundreds of pixels
    # the changed pixels are the two paths (line width 2.4, dots 4.2, the end marker r 6
    # with its white rim): none far from either polyline
    near = _near(changed, path_before, 10.0) | _near(changed, path_after, 10.0)
    assert near.all(), np.argwhere(changed)[~near][:10]


@needs_chromium
def test_step_slider_and_hover_readout(loaded):
    b, _ = loaded
    _set(b, "second-slider", 0)
    _set(b, "lr-slider", 20)
    _set(b, "step-slider", 3)
    assert b.eval("document.getElementById('path-done').points.length") == 4
    text = b.eval("document.getElementById('readout').textContent")
    assert text.startswith("step t = 3 of 200")
    for line in ("\nx, y = (", "\nf    = ", "\n\u2207f   = (", "\nstep = x_4 \u2212 x_3 = ("):
        assert line in text
    # hover the start: the readout names step 0 with f(-1.2, 1) = 24.2 (Rosenbrock)
    x, y = b.eval(
        "(() => { const c = document.querySelector('circle.start').getBoundingClientRect();"
        " return [c.x + c.width / 2, c.y + c.height / 2]; })()"
    )
    b.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
    text = b.eval("document.getElementById('readout').textContent")
    assert text.startswith("step t = 0 (hovered)")
    assert "\nf    = 24.2 " in text
    # grad f(-1.2, 1) = (-2(1 - x) - 400 x (y - x^2), 200 (y - x^2)) = (-215.6, -88)
    assert "\n\u2207f   = (-215.6, -88) " in text


@needs_chromium
def test_play_advances_the_step(loaded):
    b, _ = loaded
    _set(b, "step-slider", 0)
    b.eval("document.getElementById('play').click()")
    b.wait_for("+document.getElementById('step-slider').value > 5", timeout=10)
    b.eval("document.getElementById('play').click()")  # pause
    assert b.eval("document.getElementById('play').textContent").endswith("play")
