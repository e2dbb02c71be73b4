"""The cost of the main job (issue 9, "Speed of the main job"): figures are laid out and
drawn once, math text is parsed once, and the times printed and stored say what they hold.

The images themselves must not change: each fast path is compared pixel for pixel with
matplotlib's own way of doing the same (``savefig`` with its layout pass, the draw-based
measurement the figure fitting used to make).
"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from typer.testing import CliRunner

from optiviz import plotting
from optiviz.cli import app
from optiviz.engine import run
from optiviz.experiment.results import TIMING_KEYS
from optiviz.library import load_surface
from optiviz.optimizers import make_optimizer
from optiviz.plotting.style import agg_canvas, fit_figure_to_axes, rc

runner = CliRunner()

SMALL = """\
name: small
surface: booth
start: [0.0, 0.0]
steps: 20
optimizers:
  - {name: gd, lr: 0.05}
  - {name: adam, lr: 0.1}
figures: [contour, loss]
"""


def count_draws(fig: Figure) -> list:
    """Every ``fig.draw`` call (a layout-only pass of matplotlib's draws too) is appended."""
    calls: list = []
    real = fig.draw

    def counted(renderer):
        calls.append(renderer)
        return real(renderer)

    fig.draw = counted  # type: ignore[method-assign]
    return calls


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


@pytest.fixture(scope="module")
def rosen_runs():
    s = load_surface("rosenbrock")
    return s, [
        run(s, make_optimizer("gd", lr=1e-3), [-1.2, 1.0], 300),
        run(s, make_optimizer("adam", lr=2e-2), [-1.2, 1.0], 300),
    ]


def matplotlib_png(fig: Figure) -> bytes:
    """The PNG matplotlib's own savefig makes (a layout-only draw, then the draw)."""
    buf = io.BytesIO()
    with rc():
        fig.savefig(buf, format="png", dpi=fig.dpi, metadata={"Software": None})
    return buf.getvalue()


# -- one draw per PNG --------------------------------------------------------------------------
def test_save_figure_draws_a_png_once_and_the_image_is_matplotlibs(rosen_runs, tmp_path):
    _, runs = rosen_runs
    fig = plotting.effective_lr(runs)  # constrained layout, log axes, shared axes
    ours_calls = count_draws(fig)
    plotting.save_figure(fig, tmp_path / "eff", ["png"])
    # matplotlib's savefig of a figure with a layout engine draws twice (the first to lay it
    # out, rendering nothing); save_figure lays it out without drawing, then draws once
    assert len(ours_calls) == 1
    ours = pixels((tmp_path / "eff.png").read_bytes())
    # the same figure built again, saved by matplotlib (each layout pass starts from the
    # positions of the previous one, so the first save of each is compared)
    twin = plotting.effective_lr(runs)
    theirs_calls = count_draws(twin)
    theirs = pixels(matplotlib_png(twin))
    assert len(theirs_calls) == 2
    assert ours.shape == theirs.shape and np.array_equal(ours, theirs)
    # the figure keeps its layout engine (a notebook shows it laid out again)
    assert fig.get_layout_engine() is not None


def test_save_figure_vector_formats_keep_matplotlibs_layout_pass(rosen_runs, tmp_path):
    _, runs = rosen_runs
    fig = plotting.loss(runs)
    calls = count_draws(fig)
    plotting.save_figure(fig, tmp_path / "loss", ["svg"])
    assert len(calls) == 2  # svg measures text with its own renderer: matplotlib lays out


def test_contour_figure_is_drawn_once_from_build_to_png(rosen_runs, tmp_path):
    s, runs = rosen_runs
    real_draw = Figure.draw
    calls: list = []

    def counted(self, renderer):
        calls.append(self)
        return real_draw(self, renderer)

    mp = pytest.MonkeyPatch()
    mp.setattr(Figure, "draw", counted)
    try:
        fig = plotting.contour(s, runs, grid=80)
        assert calls == []  # fitting the figure to the window measures, it does not draw
        plotting.save_figure(fig, tmp_path / "c", ["png"])
    finally:
        mp.undo()
    # before: two draws to fit the figure, two more in savefig
    assert calls == [fig]


def _fit_by_drawing(fig: Figure, ax, min_size=(4.8, 3.4), rounds=4, margin=0.08) -> None:
    """The figure fitting as it was written before (full draws to measure), as a
    reference for the layout-only one."""
    import math

    FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    slot, box = ax.get_position(original=True), ax.get_position(original=False)
    w, h = fig.get_size_inches()
    dw, dh = (slot.width - box.width) * w, (slot.height - box.height) * h
    if max(dw, dh) < 0.05:
        return
    axis = 1 if dh >= dw else 0
    for _ in range(rounds):
        size = fig.get_size_inches()
        extent = fig.get_tightbbox()
        used = extent.height if axis else extent.width
        new = math.ceil(max(min_size[axis], used + 2 * margin) * fig.dpi) / fig.dpi
        if new >= size[axis] - 0.02:
            return
        size[axis] = new
        fig.set_size_inches(*size)
        fig.draw_without_rendering()


@pytest.mark.parametrize(
    "name, window",
    [
        ("rosenbrock", None),  # wide figure, square window: the width shrinks
        ("rosenbrock", [[-2.0, 2.0], [-0.5, 1.5]]),  # a wide window: the height shrinks
        ("booth", [[-10.0, 10.0], [-10.0, 25.0]]),  # a tall window
    ],
)
def test_fit_figure_to_axes_matches_the_draw_based_fit(name, window):
    s = load_surface(name)
    traj = run(s, make_optimizer("gd", lr=1e-3), [-1.2, 1.0], 50)
    sizes, images = [], []
    for fit in (fit_figure_to_axes, _fit_by_drawing):
        fig = plotting.contour(s, [traj], grid=60, window=window, ax=None)
        # undo the fitting contour() made, then fit with the method under comparison
        fig.set_size_inches(7.0, 5.5)
        with rc():
            fit(fig, fig.axes[0])
        sizes.append(tuple(fig.get_size_inches()))
        images.append(pixels(matplotlib_png(fig)))
    assert sizes[0] != (7.0, 5.5)  # the fit did shrink the figure
    assert sizes[0] == sizes[1]
    assert np.array_equal(images[0], images[1])


# -- math text parsed once -----------------------------------------------------------------------
def test_math_text_is_parsed_once_across_figures_and_sizes(rosen_runs, tmp_path):
    import matplotlib._mathtext as mathtext_impl

    _, runs = rosen_runs
    parsed: list[str] = []
    real = mathtext_impl.Parser.parse

    def counted(self, s, *a, **k):
        parsed.append(s)
        return real(self, s, *a, **k)

    mp = pytest.MonkeyPatch()
    mp.setattr(mathtext_impl.Parser, "parse", counted)
    try:
        plotting.save_figure(plotting.loss(runs), tmp_path / "a", ["png"])
        first = list(parsed)
        parsed.clear()
        fig = plotting.loss(runs)  # the same tick labels and axis labels
        fig.set_size_inches(6.0, 5.0)  # a new size: a new renderer
        plotting.save_figure(fig, tmp_path / "b", ["png"])
    finally:
        mp.undo()
    assert any("10^{" in s for s in first)  # the log axis' labels are math text
    # every label of the second figure was parsed for the first (one parser, one cache)
    assert parsed == []


def test_agg_canvas_keeps_a_real_canvas():
    fig = Figure()
    canvas = agg_canvas(fig)
    assert isinstance(canvas, FigureCanvasAgg) and agg_canvas(fig) is canvas
    other = Figure()
    mine = FigureCanvasAgg(other)
    assert agg_canvas(other) is mine  # a canvas of the caller's (pyplot's, a GUI's) stays


# -- what the times say -------------------------------------------------------------------------
LINE = re.compile(
    r"^small: 2 runs on booth; runs (?P<runs>[\d.]+) s, analysis (?P<analysis>[\d.]+) s, "
    r"figures (?P<figures>[\d.]+) s, other files (?P<other_files>[\d.]+) s; "
    r"total (?P<total>[\d.]+) s$"
)


@pytest.mark.slow
def test_printed_time_line_and_run_json_timing_say_what_they_hold(tmp_path, monkeypatch):
    import optiviz.experiment.run as experiment_run
    import optiviz.plotting as plotting_pkg

    # known delays in two parts: each shows up in its own key, and only there
    real_entries, real_save = experiment_run.run_entries, plotting_pkg.save_figure

    def slow_entries(*a, **k):
        time.sleep(1.5)
        return real_entries(*a, **k)

    def slow_save(*a, **k):
        time.sleep(0.75)
        return real_save(*a, **k)

    monkeypatch.setattr(experiment_run, "run_entries", slow_entries)
    monkeypatch.setattr(plotting_pkg, "save_figure", slow_save)
    cfg = tmp_path / "small.yaml"
    cfg.write_text(SMALL)
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(cfg), "--out", str(out)])
    assert r.exit_code == 0, r.output + r.stderr
    m = LINE.match(r.output.splitlines()[0])
    assert m, r.output.splitlines()[0]
    doc = json.loads((out / "run.json").read_text())
    t = doc["timing"]
    assert set(t) == set(TIMING_KEYS)
    assert doc["wall_time"] == t["total"]
    assert t["runs"] >= 1.5 and t["figures"] >= 1.5  # two figures, 0.75 s each
    # neither delay is counted in another part (the small analysis and files of this
    # config take well under a second, also on a busy machine)
    assert t["analysis"] < 1.5 and t["other_files"] < 1.5
    assert sum(t[k] for k in ("runs", "analysis", "figures", "other_files")) <= t["total"]
    # the printed parts are run.json's; the printed total adds moving the folder in place
    for k in ("runs", "analysis", "figures", "other_files"):
        assert float(m[k]) == pytest.approx(t[k], abs=0.006), k
    assert t["total"] - 0.006 <= float(m["total"]) <= t["total"] + 2.0


def test_timing_of_an_experiment_without_figures(tmp_path):
    from optiviz.config import load_config
    from optiviz.experiment import run_experiment

    cfg = tmp_path / "small.yaml"
    cfg.write_text(SMALL.replace("figures: [contour, loss]", "figures: []"))
    res = run_experiment(load_config(cfg), out_dir=tmp_path / "o")
    assert set(res.timing) == set(TIMING_KEYS)
    assert res.timing["total"] == res.wall_time
    assert res.timing["figures"] < 0.05  # nothing drawn
    unwritten = run_experiment(load_config(cfg), write=False)
    assert unwritten.timing["figures"] == 0.0 and unwritten.timing["other_files"] == 0.0
    assert unwritten.files == {}


def test_backend_is_not_changed():
    # the Agg canvas is given to figures; matplotlib's backend stays what the user chose
    before = matplotlib.get_backend()
    agg_canvas(Figure())
    assert matplotlib.get_backend() == before


def test_contour_png_same_as_matplotlib_savefig(rosen_runs, tmp_path):
    s, runs = rosen_runs
    fig = plotting.contour(s, runs, grid=80)
    plotting.save_figure(fig, tmp_path / "c", ["png"])
    ours = pixels((tmp_path / "c.png").read_bytes())
    # a twin, saved by matplotlib: the first save of each (a second layout pass of this
    # figure moves the inset colorbar and the legend by a pixel, in matplotlib too)
    twin = plotting.contour(s, runs, grid=80)
    assert np.array_equal(ours, pixels(matplotlib_png(twin)))
    assert Path(tmp_path / "c.png").stat().st_size > 10_000
