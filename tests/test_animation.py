"""The ``animation`` figure kind and :mod:`optiviz.plotting.animation`: which steps the frames
show, what each frame draws, the GIF / HTML / MP4 files, the shared colours and the
validation of its options."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from PIL import Image  # noqa: E402

import optiviz.plotting.animation as anim_mod  # noqa: E402
from optiviz import make_optimizer, run  # noqa: E402
from optiviz.config import parse_config  # noqa: E402
from optiviz.errors import ConfigError, OptivizError  # noqa: E402
from optiviz.figures import draw  # noqa: E402
from optiviz.plotting import PALETTE, ColorMap  # noqa: E402
from optiviz.plotting.animation import animate, frame_steps, offline_player  # noqa: E402
from optiviz.surface import Surface  # noqa: E402

TINY = dict(figsize=(4.0, 2.6), dpi=30, grid=30)


# -- which steps the frames show ------------------------------------------------------------
def test_log_spacing_is_even_in_log_one_plus_step():
    # round((T + 1)^(k/(F-1)) - 1): T = 9, F = 4 gives 0, 1.154, 3.642, 9 -> 0, 1, 4, 9
    assert frame_steps(9, 4, "log").tolist() == [0, 1, 4, 9]
    # T = 1000, F = 5: 0, 4.62, 30.64, 176.96, 1000
    assert frame_steps(1000, 5, "log").tolist() == [0, 5, 31, 177, 1000]


def test_log_spacing_moves_repeated_early_steps_on():
    # T = 20, F = 15: 21^(k/14) - 1 = 0, 0.24, 0.54, 0.92, 1.39, 1.97, 2.69, 3.58, 4.70,
    # 6.08, 7.80, 9.94, 12.59, 15.90, 20; rounded the early ones repeat (0, 0, 1, 1, 1, 2,
    # ...), so each is moved to one past the frame before; from 13 on they are apart again
    expect = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 16, 20]
    assert frame_steps(20, 15, "log").tolist() == expect


def test_linear_spacing_and_short_runs():
    assert frame_steps(9, 4, "linear").tolist() == [0, 3, 6, 9]
    assert frame_steps(3000, 4, "linear").tolist() == [0, 1000, 2000, 3000]
    # a run with fewer iterates than frames: every step, once
    assert frame_steps(3, 10, "log").tolist() == [0, 1, 2, 3]
    assert frame_steps(3, 4, "linear").tolist() == [0, 1, 2, 3]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 5000), st.integers(2, 400), st.sampled_from(["log", "linear"]))
def test_frame_steps_are_distinct_whole_steps_from_0_to_the_last(total, frames, spacing):
    s = frame_steps(total, frames, spacing)
    assert len(s) == min(frames, total + 1)
    assert s[0] == 0 and s[-1] == total
    assert np.all(np.diff(s) >= 1)


# -- one small animation, shared by the tests ------------------------------------------------
@pytest.fixture(scope="module")
def surface():
    return Surface.from_expression("x**2 + 3*y**2", ["x", "y"], window=[[-2, 2], [-2, 2]])


@pytest.fixture(scope="module")
def runs(surface):
    gd = run(surface, make_optimizer("gd", lr=0.1), [1.5, 1.0], 30)
    gd.optimizer_label = "gd, lr 0.1"
    newton = run(surface, make_optimizer("newton", lr=1.0), [-1.5, 1.0], 30, tol_grad=1e-10)
    newton.optimizer_label = "newton"
    return [gd, newton]


@pytest.fixture(scope="module")
def colors():
    cm = ColorMap()
    cm.color_for("drawn before")  # a label another figure drew first keeps the first colour
    return cm


@pytest.fixture(scope="module")
def anim(surface, runs, colors):
    return animate(surface, runs, frames=8, trail=3, colors=colors, f_min=0.0, **TINY)


def test_the_frames_show_the_chosen_steps_and_the_counter_says_which(anim, runs):
    assert runs[0].n_steps == 30 and runs[1].n_steps == 1  # newton is done in one step
    assert anim.steps.tolist() == frame_steps(30, 8, "log").tolist()
    art = anim._artists
    for k in (0, 3, 7):
        anim.frame(k)
        s = int(anim.steps[k])
        assert art.counter.get_text() == f"step {s} of 30"
        # current points: gd at its step s, newton at its last point (it stopped)
        pts = np.asarray(art.points.get_offsets())
        np.testing.assert_allclose(pts[0], runs[0].points[s])
        np.testing.assert_allclose(pts[1], runs[1].points[min(s, 1)])
        # the loss panel's marker: f - f* = f (f* = 0) at that step
        lp = np.asarray(art.loss_points.get_offsets())
        np.testing.assert_allclose(lp[0], [s, runs[0].losses[s]])


def test_the_next_step_arrow_ends_at_the_next_iterate(anim, runs):
    art = anim._artists
    anim.frame(2)
    s = int(anim.steps[2])
    x, x_next = runs[0].points[s], runs[0].points[s + 1]
    tail = np.asarray(art.heads.get_offsets())[0]
    tip = tail + np.array([art.heads.U[0], art.heads.V[0]])
    np.testing.assert_allclose(tip, x_next)
    np.testing.assert_allclose(art.nexts.get_segments()[0], [x, x_next])
    # newton has stopped: no next step
    assert art.heads.U[1] == 0 and art.heads.V[1] == 0


def test_the_trail_covers_the_last_trail_frames_and_fades(anim, runs):
    art = anim._artists
    k = 6  # trail 3: from the step of frame 3 to the step of frame 6
    anim.frame(k)
    a, b = int(anim.steps[k - 3]), int(anim.steps[k])
    segs = art.trails.get_segments()
    alpha = np.asarray(art.trails.get_edgecolor())[:, 3]
    gd = [
        i for i, c in enumerate(art.trails.get_edgecolor()) if np.allclose(c[:3], art.rgba[0][:3])
    ]
    pieces = [segs[i] for i in gd]
    np.testing.assert_allclose(pieces[0][0], runs[0].points[a])
    np.testing.assert_allclose(pieces[-1][-1], runs[0].points[b])
    assert np.all(np.diff(alpha[gd]) > 0)  # older bands fainter
    assert alpha[gd][-1] == pytest.approx(1.0)


def test_trail_0_draws_the_whole_path_so_far(anim, runs):
    art = anim._artists
    art.trail = 0
    try:
        anim.frame(7)
        segs = art.trails.get_segments()
    finally:
        art.trail = 3
    np.testing.assert_allclose(segs[0], runs[0].points[:31])  # gd: steps 0..30, unfaded
    np.testing.assert_allclose(segs[1], runs[1].points[:2])  # newton: its one step


# -- the files -------------------------------------------------------------------------------
def test_the_gif_decodes_to_every_frame_at_the_frame_size(anim):
    data = anim.gif()
    im = Image.open(io.BytesIO(data))
    assert im.format == "GIF"
    assert im.n_frames == 8
    w, h = (round(v) for v in anim.fig.get_size_inches() * anim.fig.dpi)
    assert im.size == (w, h) == anim.size
    # 12 frames per second: 83.3 ms, stored by a GIF in centiseconds: 80 ms
    assert im.info["duration"] == 80


def test_the_html_player_is_offline_and_holds_every_frame(anim):
    page = anim.html()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", page)  # matplotlib's template links a CDN: removed
    assert len(re.findall(r"data:image/png;base64,", page)) == 8
    # every icon class the player's buttons use has an inline rule
    used = set(re.findall(r'class="fa (fa-[a-z-]+)', page))
    assert used >= {"fa-play", "fa-pause", "fa-step-forward", "fa-fast-backward"}
    for cls in used:
        assert f".fa.{cls}::before" in page


def test_offline_player_drops_only_the_stylesheet_link():
    snippet = (
        '<link rel="stylesheet"\nhref="https://cdn.x/font-awesome/4.4/f.css">\n<script>1</script>'
    )
    out = offline_player(snippet)
    assert "https" not in out and "<script>1</script>" in out


@pytest.mark.skipif(not anim_mod.mp4_available(), reason="imageio-ffmpeg is not installed")
def test_the_mp4_has_every_frame(anim):
    import os
    import tempfile

    import imageio_ffmpeg

    data = anim.mp4()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "a.mp4")
        with open(path, "wb") as fh:
            fh.write(data)
        frames = imageio_ffmpeg.read_frames(path)
        meta = next(frames)
        assert sum(1 for _ in frames) == 8
    w, h = anim.size
    assert tuple(meta["size"]) == (w + w % 2, h + h % 2)  # padded to even sides


def test_without_imageio_ffmpeg_mp4_is_refused_naming_the_extra(monkeypatch, anim):
    monkeypatch.setattr(anim_mod, "mp4_available", lambda: False)
    with pytest.raises(OptivizError, match=r"optiviz\[mp4\]"):
        anim.mp4()
    raw = dict(
        name="a",
        surface="booth",
        start=[0.0, 0.0],
        steps=5,
        optimizers=[{"name": "gd", "lr": 0.05}],
        figures=[{"animation": {"format": ["gif", "mp4"]}}],
    )
    with pytest.raises(ConfigError) as exc:  # at validation, before any run
        parse_config(raw, "a.yaml", build=False)
    text = str(exc.value)
    assert "figures[0].animation.format" in text and "pip install 'optiviz[mp4]'" in text


def test_bad_options_are_refused_with_the_field():
    raw = dict(
        name="a",
        surface="booth",
        start=[0.0, 0.0],
        steps=5,
        optimizers=[{"name": "gd", "lr": 0.05}],
    )
    for opts, where in (
        ({"format": "avi"}, "format"),
        ({"format": ["gif", "gif"]}, "format"),
        ({"frames": 1}, "frames"),
        ({"spacing": "cubic"}, "spacing"),
        ({"trail": -1}, "trail"),
    ):
        with pytest.raises(ConfigError, match=rf"figures\[0\]\.animation\.{where}"):
            parse_config({**raw, "figures": [{"animation": opts}]}, "a.yaml", build=False)
    with pytest.raises(ConfigError, match="animation"):  # record: final keeps no path
        parse_config({**raw, "record": "final", "figures": ["animation"]}, "a.yaml", build=False)


# -- the figure kind: the static figures' colours -------------------------------------------
def test_the_animation_uses_the_static_contours_colours(tmp_path):
    from optiviz.experiment import run_experiment

    raw = dict(
        name="a",
        surface="booth",
        start=[0.0, 0.0],
        steps=6,
        optimizers=[
            {"name": "gd", "lr": 0.05},
            {"name": "momentum", "lr": 0.05, "momentum": 0.5},
            {"name": "adam", "lr": 0.1},
        ],
    )
    cfg = parse_config(
        {**raw, "figures": [{"animation": {"frames": 4, "size": [4, 3], "dpi": 30}}]}, "a.yaml"
    )
    result = run_experiment(cfg, write=False)
    colors = ColorMap()
    # the animation drawn first, then the contour, with one map (as a run draws them)
    _, files = draw("animation", result, colors, cfg.figure_options.get("animation"))
    assert set(files) == {"animation.gif"}
    assert Image.open(io.BytesIO(files["animation.gif"])).n_frames == 4
    ((_, fig),) = draw("contour", result, colors, {"size": (4, 3), "dpi": 30})[0]
    labels = [r.label for r in result.runs]
    legend = fig.axes[0].get_legend()
    static = {
        t.get_text(): h.get_color()
        for t, h in zip(legend.texts, legend.legend_handles, strict=True)
    }
    for i, lab in enumerate(labels):
        # entry i takes the palette's i-th colour in both figures
        assert to_rgba(static[lab]) == to_rgba(PALETTE[i])
        assert to_rgba(colors.color_for(lab)) == to_rgba(PALETTE[i])


def test_the_animation_artists_take_the_colormaps_colours(anim):
    # the map's order is kept: gd gets the second colour, newton the third
    anim.frame(2)
    art = anim._artists
    faces = np.asarray(art.points.get_facecolor())
    np.testing.assert_allclose(faces[0], to_rgba(PALETTE[1]))
    np.testing.assert_allclose(faces[1], to_rgba(PALETTE[2]))
    lines = np.asarray(art.loss_lines.get_edgecolor())
    np.testing.assert_allclose(lines[:, :3], [to_rgba(PALETTE[i])[:3] for i in (1, 2)])
