"""Figures: headless (no pyplot), non-blank, right size, right levels, labels and legends."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from optiviz import plotting
from optiviz.engine import run
from optiviz.library import load_surface
from optiviz.optimizers import make_optimizer
from optiviz.plotting import _geometry as geo
from optiviz.plotting.style import ColorMap, formula_title, mathtext_ok, var_label
from optiviz.surface import Surface

GRID = 60  # small grids keep the tests fast


# -- helpers --------------------------------------------------------------------------------
def render(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3]


def assert_figure_ok(fig: Figure, size=(7.0, 5.5), dpi=150, fitted=False) -> np.ndarray:
    """``fitted``: a contour figure sized to its equal-aspect window is at most ``size``,
    with one side exactly that size."""
    assert isinstance(fig, Figure)
    if fitted:
        w, h = fig.get_size_inches()
        assert w <= size[0] + 1e-9 and h <= size[1] + 1e-9, (w, h)
        assert np.isclose(w, size[0]) or np.isclose(h, size[1]), (w, h)
        size = (w, h)
    img = render(fig)
    assert img.shape[:2] == (round(size[1] * dpi), round(size[0] * dpi))
    # non-blank: many distinct colours and real variance
    assert img.std() > 20
    assert len(np.unique(img.reshape(-1, 3)[::7], axis=0)) > 30
    return img


def filled_contours(ax) -> list[ContourSet]:
    return [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]


def legend_texts(fig: Figure) -> list[str]:
    out = []
    for leg in fig.legends:
        out += [t.get_text() for t in leg.get_texts()]
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
    return out


def colorbar_labels(fig: Figure) -> list[str]:
    """Labels of every colorbar, including inset ones (children of an axes)."""
    out = []
    for ax in fig.axes:
        for a in [ax, *ax.child_axes]:
            cb = getattr(a, "_colorbar", None)
            if cb is not None:
                out.append(a.get_ylabel() or a.get_xlabel())
    return out


def main_axes(fig: Figure):
    """The plotting axes (not a colorbar)."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][0]


def fake_traj(
    points,
    *,
    losses=None,
    eff=None,
    status="max_steps",
    diverged_at=None,
    label="fake (lr=0.1)",
    hyper=None,
    f_min=None,
):
    points = np.asarray(points, dtype=float)
    return SimpleNamespace(
        points=points,
        losses=None if losses is None else np.asarray(losses, float),
        effective_lr=eff,
        status=status,
        diverged_at=diverged_at,
        n_steps=len(points) - 1,
        label=label,
        hyperparameters=hyper or {},
        f_min=f_min,
        optimizer=label.split()[0],
        variables=(),
    )


@pytest.fixture(scope="module")
def rosen():
    return load_surface("rosenbrock")


@pytest.fixture(scope="module")
def rosen_runs(rosen):
    x0 = [-1.2, 1.0]
    return [
        run(rosen, make_optimizer("gd", lr=1e-3), x0, 400),
        run(rosen, make_optimizer("momentum", lr=1e-3, momentum=0.8), x0, 400),
        run(rosen, make_optimizer("adam", lr=0.02), x0, 400),
    ]


# -- contour ----------------------------------------------------------------------------------
def test_contour_rosenbrock_log_levels(rosen, rosen_runs):
    fig = plotting.contour(rosen, rosen_runs, grid=GRID)
    assert_figure_ok(fig, fitted=True)
    ax = main_axes(fig)
    (cs,) = filled_contours(ax)
    assert geo.is_geometric(cs.levels)
    assert cs.levels[-1] / cs.levels[0] >= 1e3
    # the colorbar says what is on the log scale
    assert any("f - f^*" in lb and "log" in lb for lb in colorbar_labels(fig))
    assert ax.get_xlabel() == var_label("x") == "$x$"
    assert ax.get_ylabel() == "$y$"
    # the title is the formula, rendered as math text
    title = ax.get_title()
    assert title.count("$") == 2 and mathtext_ok(title[title.index("$") :])


def test_contour_auto_log_without_hint():
    """A custom surface (no hint) with Rosenbrock's range gets log levels automatically."""
    import sympy as sp

    x, y = sp.symbols("x y", real=True)
    s = Surface.from_sympy((1 - x) ** 2 + 100 * (y - x**2) ** 2, [x, y], window=[-2, 2])
    ax = main_axes(plotting.contour(s, grid=GRID))
    assert geo.is_geometric(filled_contours(ax)[0].levels)
    q = Surface.from_sympy(x**2 + y**2, [x, y])
    ax = main_axes(plotting.contour(q, grid=GRID))
    assert geo.is_arithmetic(filled_contours(ax)[0].levels)


def test_contour_quadratic_linear_levels():
    s = load_surface("seed_quadratic")
    runs = [run(s, make_optimizer("gd", lr=lr), [1.0, 1.0], 30) for lr in (0.5, 1.7)]
    fig = plotting.contour(s, runs, grid=GRID)
    assert_figure_ok(fig, fitted=True)
    ax = main_axes(fig)
    (cs,) = filled_contours(ax)
    assert geo.is_arithmetic(cs.levels)
    assert not geo.is_geometric(cs.levels)
    assert ax.get_xlabel() == var_label("w1") == "$w_{1}$"
    assert ax.get_ylabel() == "$w_{2}$"


def test_levels_forced_and_explicit(rosen):
    ax = main_axes(plotting.contour(rosen, grid=GRID, log_levels=False))
    assert geo.is_arithmetic(filled_contours(ax)[0].levels)
    ax = main_axes(plotting.contour(rosen, grid=GRID, levels=[0.1, 1, 10, 100, 1000]))
    assert list(filled_contours(ax)[0].levels) == [0.1, 1, 10, 100, 1000]


def test_legend_has_hyperparameters_and_minimum(rosen, rosen_runs):
    texts = " | ".join(legend_texts(plotting.contour(rosen, rosen_runs, grid=GRID)))
    assert "gd (lr=0.001)" in texts
    assert "momentum=0.8" in texts
    assert "adam (lr=0.02)" in texts
    assert "minimum" in texts and "start" in texts and "end" in texts


def test_label_pairs_and_mapping(rosen, rosen_runs):
    fig = plotting.contour(rosen, [("my run", rosen_runs[0])], grid=GRID)
    assert "my run" in legend_texts(fig)
    fig = plotting.contour(rosen, {"A": rosen_runs[0], "B": rosen_runs[2]}, grid=GRID)
    assert {"A", "B"} <= set(legend_texts(fig))


def test_diverged_path_gets_exit_marker_inside_window(rosen):
    traj = run(rosen, make_optimizer("gd", lr=3e-3), [-1.5, 2.0], 200)
    assert traj.status == "diverged"
    fig = plotting.contour(rosen, [traj], grid=GRID)
    assert_figure_ok(fig, fitted=True)
    ax = main_axes(fig)
    lo, hi = rosen.window[:, 0], rosen.window[:, 1]
    exits = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
    assert exits
    for ln in exits:
        px, py = ln.get_xdata()[0], ln.get_ydata()[0]
        assert lo[0] - 1e-9 <= px <= hi[0] + 1e-9 and lo[1] - 1e-9 <= py <= hi[1] + 1e-9
        on_edge = np.isclose([px, px, py, py], [lo[0], hi[0], lo[1], hi[1]]).any()
        assert on_edge
    assert any(f"diverged at step {traj.diverged_at}" in t for t in legend_texts(fig))
    # every drawn path vertex lies inside the window (clipped, no huge coordinates)
    for ln in ax.get_lines():
        xy = np.column_stack([ln.get_xdata(), ln.get_ydata()]).astype(float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) > 1:
            assert geo.inside(xy, lo - 1e-9, hi + 1e-9).all()


def test_nonfinite_hand_made_trajectory(rosen):
    """nan / inf rows (a diverged run) are cut off, never warned about."""
    pts = np.array([[-1.0, 1.0], [-0.5, 0.5], [5.0, -7.0], [1e200, -1e200], [np.inf, np.nan]])
    traj = fake_traj(
        pts,
        losses=[4, 3, 1e5, np.inf, np.nan],
        status="diverged",
        diverged_at=4,
        label="wild (lr=9)",
    )
    fig = plotting.contour(rosen, [traj], grid=GRID)
    assert_figure_ok(fig, fitted=True)
    fig = plotting.loss([traj], f_min=0.0)
    assert_figure_ok(fig)
    assert any("diverged at step 4" in t for t in legend_texts(fig))


def test_clip_polyline_exit_point():
    P = np.array([[0.0, 0.0], [0.5, 0.5], [3.0, 0.5]])
    line, exit_pt, seg = geo.clip_polyline(P, [-1, -1], [1, 1])
    assert seg == 1
    np.testing.assert_allclose(exit_pt, [1.0, 0.5])
    np.testing.assert_allclose(line, [[0, 0], [0.5, 0.5], [1.0, 0.5]])
    # out and back in: two pieces separated by nan, no exit (ends inside)
    P = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 0.5]])
    line, exit_pt, _ = geo.clip_polyline(P, [-1, -1], [1, 1])
    assert exit_pt is None
    assert np.isnan(line).any(axis=1).sum() == 1
    # a segment crossing the whole box from outside to outside
    P = np.array([[-2.0, 0.0], [2.0, 0.0]])
    line, exit_pt, seg = geo.clip_polyline(P, [-1, -1], [1, 1])
    np.testing.assert_allclose(line, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(exit_pt, [1, 0])


def test_batched_family_colorbar():
    s = load_surface("seed_quadratic")
    lrs = np.geomspace(0.05, 3.0, 9)
    traj = run(s, make_optimizer("gd", lr=lrs), [1.0, 1.0], 30)
    fig = plotting.contour(s, [traj], grid=GRID)
    assert_figure_ok(fig, fitted=True)
    assert any(lb.startswith("lr") for lb in colorbar_labels(fig))
    assert any("lr=0.05…3" in t and "9 runs" in t for t in legend_texts(fig))
    # a small batch is drawn as individual runs with their own labels
    traj3 = run(s, make_optimizer("gd", lr=[0.1, 0.5, 1.0]), [1.0, 1.0], 30)
    texts = legend_texts(plotting.contour(s, [traj3], grid=GRID))
    assert sum("lr=" in t for t in texts) == 3
    fig = plotting.loss([traj])
    assert_figure_ok(fig)


def test_one_dimensional_surface():
    s = load_surface("cosh")
    runs = [
        run(s, make_optimizer("gd", lr=0.1), [2.0], 30),
        run(s, make_optimizer("gd", lr=3.0), [2.0], 30),
    ]
    fig = plotting.contour(s, runs, grid=GRID)
    assert_figure_ok(fig)
    ax = main_axes(fig)
    assert ax.get_xlabel() == "$x$"


def test_three_variables_projection_and_hessian_plane():
    from optiviz.analysis import analyze

    s = load_surface("seed_diagonal")
    runs = [run(s, make_optimizer("gd", lr=0.1), [1.5, 1.8, -1.2], 40)]
    fig = plotting.contour(s, runs, projection=("x", "z"), grid=GRID)
    assert_figure_ok(fig, fitted=True)
    ax = main_axes(fig)
    # the axis label is the variable; how the plane was chosen is a note above the axes
    assert ax.get_xlabel() == "$x$"
    assert any("slice" in t.get_text() for t in ax.texts)
    assert ax.get_ylabel() == "$z$"
    fig = plotting.contour(s, runs, analysis=analyze(s), grid=GRID)
    assert_figure_ok(fig, fitted=True)
    ax = main_axes(fig)
    assert "v_1" in ax.get_xlabel() and "v_2" in ax.get_ylabel()
    # default for n = 3 without analysis: the first two variables
    ax = main_axes(plotting.contour(s, runs, grid=GRID))
    assert ax.get_ylabel() == "$y$"
    with pytest.raises(ValueError, match="not a variable"):
        plotting.contour(s, runs, projection=("x", "q"), grid=GRID)


def test_paths_across_the_hessian_plane_are_drawn_on_their_own_plane():
    """f = 50 a^2 + 25 b^2 + (c^2 + d^2) / 2: the top Hessian eigenvectors are e_a, e_b.
    GD from (0, 0, 1, 1) moves in c and d only, so on the Hessian plane its path is a dot;
    the default plane is then the one through x* = 0 spanned by u1 = (0, 0, 1, 1) / sqrt(2),
    towards the start, and the path's widest spread across u1: the start projects to
    (sqrt 2, 0) and every point of the path (it stays on the line c = d) lies in the
    plane. From (1, 0, 1, 1) the path moves in a too and the Hessian plane shows it: kept."""
    from optiviz.analysis import analyze
    from optiviz.plotting._runs import normalize
    from optiviz.plotting.contour import make_plane

    s = Surface.from_expression("50*a**2 + 25*b**2 + (c**2 + d**2)/2", ["a", "b", "c", "d"])
    an = analyze(s)
    gd = make_optimizer("gd", lr=0.005)
    across = run(s, gd, [0.0, 0.0, 1.0, 1.0], 100)
    plane, win = make_plane(s, normalize([across]), an, None)
    assert "u_1" in plane.labels[0] and "u_2" in plane.labels[1]
    np.testing.assert_allclose(plane.basis[:, 0], [0, 0, 2**-0.5, 2**-0.5], atol=1e-12)
    np.testing.assert_allclose(plane.project(across.points[0]), [2**0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(plane.lift(plane.project(across.points)), across.points, atol=1e-12)
    U = plane.project(across.points)
    assert (win[:, 0] <= U.min(axis=0)).all() and (U.max(axis=0) <= win[:, 1]).all()
    fig = plotting.contour(s, [across], analysis=an, grid=GRID)
    assert_figure_ok(fig, fitted=True)
    assert "u_1" in main_axes(fig).get_xlabel()
    along = run(s, gd, [1.0, 0.0, 1.0, 1.0], 100)
    plane, _ = make_plane(s, normalize([along]), an, None)
    assert "v_1" in plane.labels[0]
    # asked for by name, the Hessian plane is drawn even where it hides the paths
    plane, _ = make_plane(s, normalize([across]), an, "hessian")
    assert "v_1" in plane.labels[0]


def test_analysis_marks_saddles():
    from optiviz.analysis import analyze

    s = load_surface("himmelblau")
    texts = legend_texts(plotting.contour(s, analysis=analyze(s), grid=GRID))
    assert "saddle point" in texts and "local maximum" in texts


def test_title_mathtext_and_fallback():
    s = load_surface("rosenbrock")
    t = formula_title(s)
    assert "$" in t and mathtext_ok(t[t.index("$") :])
    stub = SimpleNamespace(
        name="weird",
        variables=("x", "y"),
        text="piecewise(x, y)",
        latex={"f": r"\begin{cases} x & y \end{cases}"},
    )
    t = formula_title(stub)
    assert "$" not in t.replace(r"\$", "")
    assert "piecewise(x, y)" in t
    # a figure with the fallback title still renders
    fig = Figure()
    fig.add_subplot().set_title(t)
    render(fig)


def test_var_label():
    assert var_label("x1") == "$x_{1}$"
    assert var_label("w12") == "$w_{12}$"
    assert var_label("theta") == "$\\theta$"
    assert var_label("x") == "$x$"
    assert var_label("bias") == "bias"


# -- surface3d ---------------------------------------------------------------------------------
def test_surface3d(rosen, rosen_runs):
    fig = plotting.surface3d(rosen, rosen_runs, grid=30)
    assert_figure_ok(fig)
    ax = fig.axes[0]
    assert "log_{10}" in ax.get_zlabel()
    s = load_surface("seed_diagonal")
    fig = plotting.surface3d(
        s, [run(s, make_optimizer("gd", lr=0.1), [1, 1, 1], 20)], projection=("x", "y"), grid=30
    )
    assert_figure_ok(fig)
    assert fig.axes[0].get_zlabel() == "$f$"


# -- curves ------------------------------------------------------------------------------------
def test_loss_figure(rosen, rosen_runs):
    fig = plotting.loss(rosen_runs, f_min=0.0)
    assert_figure_ok(fig)
    ax = main_axes(fig)
    assert ax.get_yscale() == "log"
    assert "f^*" in ax.get_ylabel()
    assert "adam (lr=0.02)" in legend_texts(fig)
    # f* from the trajectories themselves
    assert main_axes(plotting.loss(rosen_runs)).get_yscale() == "log"


def test_loss_negative_values_use_symlog():
    t = fake_traj(np.zeros((4, 2)), losses=[1.0, 0.1, -0.05, -0.2])
    ax = main_axes(plotting.loss([t], f_min=0.0))
    assert ax.get_yscale() == "symlog"
    assert "symmetric log" in ax.get_ylabel()


def test_effective_lr_panels(rosen):
    runs = [
        run(rosen, make_optimizer(n, **kw), [-1.2, 1.0], 80)
        for n, kw in [
            ("adagrad", {"lr": 0.5}),
            ("rmsprop", {"lr": 0.01}),
            ("adadelta", {"lr": 1.0}),
        ]
    ]
    fig = plotting.effective_lr(runs)
    assert_figure_ok(fig)
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 3
    assert all(a.get_yscale() == "log" for a in visible)
    assert any("coordinate $x$" in t for t in legend_texts(fig))
    fig = plotting.effective_lr(runs, per="coordinate")
    assert_figure_ok(fig)
    assert len([a for a in fig.axes if a.get_visible()]) == 2
    assert "rmsprop (lr=0.01)" in legend_texts(fig)
    with pytest.raises(ValueError, match="per"):
        plotting.effective_lr(runs, per="bogus")


def test_lr_sweep():
    lrs = np.geomspace(0.01, 1.0, 8)
    final = np.array([1.0, 0.5, 0.1, 1e-3, 1e-6, 0.0, np.inf, np.nan])
    status = ["max_steps"] * 6 + ["diverged", "diverged"]
    fig = plotting.lr_sweep(
        lrs, final, status, label="gd", f_min=0.0, eta_opt=0.25, stability_limit=0.5
    )
    assert_figure_ok(fig, size=(7.0, 4.8))
    ax = main_axes(fig)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    texts = " | ".join(legend_texts(fig))
    assert "diverged (2)" in texts and "1/\\lambda_{max}" in texts and "2/\\lambda_{max}" in texts
    xs = [np.asarray(ln.get_xdata(), float) for ln in ax.get_lines()]
    vlines = [x for x in xs if len(x) == 2 and (np.allclose(x, 0.25) or np.allclose(x, 0.5))]
    assert len(vlines) == 2
    # diverged markers sit on the top edge (axes coordinate y = 1)
    tops = [ln for ln in ax.get_lines() if ln.get_marker() == "^"]
    assert tops and np.allclose(tops[0].get_ydata(), 1.0)
    with pytest.raises(ValueError, match="same length"):
        plotting.lr_sweep([0.1, 0.2], [1.0])


def test_sharpness(rosen):
    from optiviz.analysis import sharpness_along

    traj = run(rosen, make_optimizer("gd", lr=2e-3), [-1.2, 1.0], 100)
    sh = sharpness_along(traj, rosen)
    fig = plotting.sharpness(traj, 2e-3, sh.lambda_max)
    assert_figure_ok(fig)
    assert any("2/\\eta" in t for t in legend_texts(fig))


# -- ax=: drawing into the caller's figure ----------------------------------------------------
def _draw(kind: str, ax, rosen, rosen_runs) -> Figure:
    if kind == "contour":
        return plotting.contour(rosen, rosen_runs, grid=GRID, ax=ax)
    if kind == "surface3d":
        return plotting.surface3d(rosen, rosen_runs, grid=GRID, ax=ax)
    if kind == "loss":
        return plotting.loss(rosen_runs, title="loss", ax=ax)
    if kind == "lr_sweep":
        lrs = np.geomspace(0.01, 1.0, 5)
        final = np.array([1.0, 0.1, 1e-3, 1e-6, np.inf])
        return plotting.lr_sweep(lrs, final, f_min=0.0, stability_limit=0.5, title="t", ax=ax)
    from optiviz.analysis import sharpness_along

    traj = rosen_runs[0]
    return plotting.sharpness(traj, 1e-3, sharpness_along(traj, rosen).lambda_max, title="t", ax=ax)


@pytest.mark.parametrize("kind", ["contour", "surface3d", "loss", "lr_sweep", "sharpness"])
def test_drawing_into_a_subplot_returns_its_figure_and_leaves_the_other_panel_empty(
    kind, rosen, rosen_runs
):
    fig = Figure(figsize=(12.0, 5.0), dpi=60, layout="constrained")
    left = fig.add_subplot(1, 2, 1, projection="3d" if kind == "surface3d" else None)
    right = fig.add_subplot(1, 2, 2)
    out = _draw(kind, left, rosen, rosen_runs)
    assert out is fig
    assert np.allclose(fig.get_size_inches(), (12.0, 5.0))  # the caller's size is kept
    assert left.has_data()
    assert not right.has_data() and not right.get_title() and right.get_legend() is None
    assert not right.child_axes and not fig.legends  # legends sit under the drawn axes
    drawn = [a for a in fig.axes if a is not right and a.get_label() != "<colorbar>"]
    # sharpness splits its slot into the loss and the sharpness panels; the rest use one
    assert len(drawn) == (2 if kind == "sharpness" else 1)
    assert all(a.has_data() for a in drawn)
    img = render(fig)
    assert img.shape[:2] == (300, 720)  # 5 x 12 inches at 60 dpi


def test_an_axes_in_a_subfigure_returns_the_root_figure(rosen_runs):
    fig = Figure(figsize=(8.0, 4.0), layout="constrained")
    sub = fig.subfigures(1, 2)[1]
    assert plotting.loss(rosen_runs, ax=sub.add_subplot()) is fig


def test_ax_must_fit_what_is_drawn(rosen, rosen_runs):
    from optiviz.errors import OptivizError

    fig = Figure()
    with pytest.raises(OptivizError, match="3-D Axes"):
        plotting.surface3d(rosen, rosen_runs, grid=GRID, ax=fig.add_subplot())
    placed = fig.add_axes((0.1, 0.1, 0.3, 0.3))  # not a subplot: its slot cannot be split
    with pytest.raises(OptivizError, match="must be a subplot"):
        _draw("sharpness", placed, rosen, rosen_runs)


# -- colours, saving, headless --------------------------------------------------------------------
def test_colormap_consistent_across_figures(rosen, rosen_runs):
    cm = ColorMap()
    plotting.contour(rosen, rosen_runs, grid=GRID, colors=cm)
    first = [cm.color_for(t.label) for t in rosen_runs]
    fig = plotting.loss(list(reversed(rosen_runs)), colors=cm)
    assert [cm.color_for(t.label) for t in rosen_runs] == first
    ax = main_axes(fig)
    drawn = {ln.get_color() for ln in ax.get_lines()}
    assert set(first) <= drawn
    assert len(set(first)) == 3
    # entries differ by colour and by marker (greyscale); line style tells apart the runs
    # of one entry (its starts or swept values), so one run per entry is drawn solid
    assert len({cm.marker_for(t.label) for t in rosen_runs}) == 3
    assert {cm.linestyle_for(t.label) for t in rosen_runs} == {"-"}


def test_save_figure_formats_atomic(tmp_path):
    fig = plotting.loss([fake_traj(np.zeros((4, 2)), losses=[1.0, 0.1, 0.01, 1e-3])])
    out = plotting.save_figure(fig, tmp_path / "sub" / "rosen", formats=("png", "svg", "pdf"))
    names = sorted(p.name for p in (tmp_path / "sub").iterdir())
    assert names == ["rosen.pdf", "rosen.png", "rosen.svg"]
    assert [p.name for p in out] == ["rosen.png", "rosen.svg", "rosen.pdf"]
    assert (tmp_path / "sub" / "rosen.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "sub" / "rosen.pdf").read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in (tmp_path / "sub" / "rosen.svg").read_bytes()[:2000]
    with pytest.raises(ValueError, match="not supported"):
        plotting.save_figure(fig, tmp_path / "x", formats=("bmp",))
    assert not any(p.name.startswith(".") for p in (tmp_path / "sub").iterdir())
    assert not (tmp_path / "x.bmp").exists()


def test_save_failure_leaves_no_temp_file(tmp_path):
    class Boom(Exception):
        pass

    fig = Figure()
    fig.add_subplot().plot([0, 1])

    def bad_savefig(*a, **k):
        raise Boom

    fig.savefig = bad_savefig
    with pytest.raises(Boom):
        plotting.save_figure(fig, tmp_path / "f")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_no_pyplot_imported():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from optiviz import plotting\n"
        "from optiviz.library import load_surface\n"
        "f = plotting.contour(load_surface('booth'), grid=20)\n"
        "plotting.save_figure(f, sys.argv[1])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        res = subprocess.run(
            [sys.executable, "-c", code, os.path.join(d, "f")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        assert os.path.exists(os.path.join(d, "f.png"))


def test_long_formula_title_fits_or_falls_back():
    s = load_surface("goldstein_price")
    fig = plotting.contour(s, grid=20)
    title = main_axes(fig).get_title()
    if "$" in title:  # the math version fitted at some font size
        assert mathtext_ok(title[title.index("$") :])
    else:
        assert 1 <= title.count("\n") + 1 <= 3
        assert "f(x, y) =" in title


def test_undefined_region_is_grey_and_explained():
    import sympy as sp

    x, y = sp.symbols("x y", real=True)
    s = Surface.from_sympy(x - sp.log(x) + y**2, [x, y], window=[[-1, 3], [-2, 2]])
    traj = run(s, make_optimizer("gd", lr=0.9), [2.5, 1.0], 20)
    fig = plotting.contour(s, [traj], grid=GRID)
    assert_figure_ok(fig, fitted=True)
    assert any("not finite" in t for t in legend_texts(fig))


def test_explicit_window_and_swapped_axes():
    s = load_surface("seed_quadratic")
    traj = run(s, make_optimizer("gd", lr=1.0), [1.0, 1.0], 20)
    ax = main_axes(plotting.contour(s, [traj], window=[[0, 5], [1, 6]], grid=GRID))
    assert ax.get_xlim() == (0, 5) and ax.get_ylim() == (1, 6)
    ax = main_axes(plotting.contour(s, [traj], projection=("w2", "w1"), grid=GRID))
    assert ax.get_xlabel() == "$w_{2}$" and ax.get_ylabel() == "$w_{1}$"


# -- layout: nothing clipped, no empty bands, readable titles ------------------------------------
def text_boxes(fig: Figure) -> list[tuple[str, object]]:
    """(text, window extent in pixels) of every visible, non-empty text drawn."""
    from matplotlib.text import Text

    render(fig)
    # tick labels exist for ticks outside the view too; only those drawn count
    all_ticks, drawn = set(), set()
    axes = [a for ax in fig.axes for a in (ax, *ax.child_axes)]
    for ax in axes:
        if ax.name == "3d":
            continue
        for axis in ax._axis_map.values():
            for tick in axis._update_ticks():  # the ticks inside the view interval
                drawn |= {id(tick.label1), id(tick.label2)}
    for ax in axes:
        for axis in ax._axis_map.values():
            for tick in axis.majorTicks + axis.minorTicks:
                all_ticks |= {id(tick.label1), id(tick.label2)}
        if ax.name == "3d":  # placed by the 3-D projection at draw time: no 2-D extent
            all_ticks |= {id(t) for t in ax.findobj(Text) if t is not ax.title}
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        if id(t) in all_ticks and id(t) not in drawn:
            continue
        out.append((t.get_text(), t.get_window_extent()))
    return out


def assert_nothing_clipped(fig: Figure) -> None:
    W, H = fig.get_size_inches() * fig.dpi
    for text, bb in text_boxes(fig):
        assert bb.x0 >= -1 and bb.y0 >= -1 and bb.x1 <= W + 1 and bb.y1 <= H + 1, (
            f"text {text!r} is cut off: {bb} outside (0, 0, {W}, {H})"
        )


def blank_margins(img: np.ndarray) -> tuple[int, int]:
    """(blank rows above + below, blank columns left + right) of a rendered figure."""
    ink = (img < 245).any(axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return (rows[0] + len(ink) - 1 - rows[-1], cols[0] + ink.shape[1] - 1 - cols[-1])


def test_slice_note_of_a_many_variable_surface_is_wrapped_not_clipped():
    expr = "(w31*relu(w11 + w12) + w32*relu(w21 + w22))**2/2"
    names = ["w11", "w12", "w21", "w22", "w31", "w32"]
    s = Surface.from_expression(expr, names, window=[[-1, 1.5]] * 6)
    traj = run(s, make_optimizer("gd", lr=0.1), [0.25, 0.75, 0.75, 0.25, 0.67, 0.33], 10)
    fig = plotting.contour(s, [traj], projection=("w31", "w12"), grid=GRID)
    ax = main_axes(fig)
    assert ax.get_xlabel() == "$w_{31}$" and ax.get_ylabel() == "$w_{12}$"
    (note,) = [t for t in ax.texts if "slice" in t.get_text()]
    assert "\n" in note.get_text()  # wrapped: it lists the other four coordinates
    assert_nothing_clipped(fig)
    fig3 = plotting.surface3d(s, [traj], projection=("w31", "w12"), grid=GRID)
    assert_nothing_clipped(fig3)


def test_equal_aspect_contour_is_sized_to_its_window():
    wide = load_surface("ill_conditioned")  # window 8 x 4
    traj = run(wide, make_optimizer("momentum", lr=0.05, momentum=0.9), [-3.5, 1.5], 50)
    fig = plotting.contour(wide, [traj], grid=GRID)
    assert main_axes(fig).get_aspect() == 1.0
    w, h = fig.get_size_inches()
    assert w == 7.0 and h < 5.0  # shorter, not narrower
    img = assert_figure_ok(fig, fitted=True)
    rows, _ = blank_margins(img)
    assert rows < 0.35 * fig.dpi, rows  # no empty bands above and below the plot
    assert_nothing_clipped(fig)
    tall = load_surface("seed_quadratic")
    fig = plotting.contour(
        tall,
        [run(tall, make_optimizer("gd", lr=0.3), [1.5, 2.0], 5)],
        window=[[0.5, 3.5], [0.5, 4.5]],
        grid=GRID,
    )
    w, h = fig.get_size_inches()
    assert h == 5.5 and w < 6.5  # narrower, as wide as its legend needs
    assert_nothing_clipped(fig)
    # an extreme window (10:1) gives up equal aspect and keeps the standard size
    fig = plotting.contour(wide, [traj], window=[[-5, 5], [-0.5, 0.5]], grid=GRID)
    assert main_axes(fig).get_aspect() == "auto"
    assert tuple(fig.get_size_inches()) == (7.0, 5.5)


def test_effective_lr_panel_titles_wrap_and_do_not_overlap(rosen):
    # five panels: three columns, two long labels side by side (as in the quickstart)
    runs = [run(rosen, make_optimizer("gd", lr=1e-3), [-1.2, 1.0], 30)]
    runs += [
        run(rosen, make_optimizer(name, lr=1e-3, momentum=0.9), [-1.2, 1.0], 30)
        for name in ("momentum", "nesterov")
    ]
    runs += [
        run(rosen, make_optimizer(name, lr=0.01), [-1.2, 1.0], 30)
        for name in ("adagrad", "rmsprop")
    ]
    fig = plotting.effective_lr(runs)
    assert_nothing_clipped(fig)
    titles = [
        ax.title.get_window_extent() for ax in fig.axes if ax.get_visible() and ax.get_title()
    ]
    assert len(titles) == 5
    for i, a in enumerate(titles):
        for b in titles[i + 1 :]:
            assert not a.overlaps(b)


def test_lr_sweep_stability_limit_of_the_swept_method():
    lrs = np.geomspace(0.01, 1.0, 8)
    final = np.geomspace(1.0, 1e-6, 8)
    fig = plotting.lr_sweep(
        lrs,
        final,
        label="heavy ball",
        f_min=0.0,
        eta_opt=0.25,
        stability_limit=0.95,
        stability_label="$(2 + 2\\beta)/\\lambda_{max}$",
    )
    texts = " | ".join(legend_texts(fig))
    assert "stability limit $(2 + 2\\beta)/\\lambda_{max}$ = 0.95" in texts
    assert "2/\\lambda_{max}$ =" not in texts.replace("2\\beta)/\\lambda_{max}$ =", "")
    xs = [np.asarray(ln.get_xdata(), float) for ln in main_axes(fig).get_lines()]
    assert any(len(x) == 2 and np.allclose(x, 0.95) for x in xs)
    assert_nothing_clipped(fig)
    # default: GD's 2/lambda_max
    fig = plotting.lr_sweep(lrs, final, f_min=0.0, stability_limit=0.5)
    assert "stability limit $2/\\lambda_{max}$ = 0.5" in legend_texts(fig)


def test_start_and_end_markers_on_the_window_edge_are_not_clipped():
    s = load_surface("xy")
    traj = run(s, make_optimizer("gd", lr=0.2, maximize=True), [2.95, -1.52], 8)
    fig = plotting.contour(s, [traj], grid=GRID)
    ends = [
        ln
        for ln in main_axes(fig).get_lines()
        if ln.get_marker() in ("o", "X") and len(ln.get_xdata()) == 1 and ln.get_markersize() >= 7
    ]
    assert ends and all(not ln.get_clip_on() for ln in ends)


def test_loss_that_touches_f_star_and_leaves_stays_connected():
    # Adam's first step on (x + 1)^2 / 2 from 0 lands exactly on -1, then overshoots
    traj = fake_traj(
        np.zeros((5, 1)), losses=[0.5, 0.0, 0.2, 0.05, 0.1], f_min=0.0, label="adam (lr=1)"
    )
    fig = plotting.loss([traj])
    ax = main_axes(fig)
    (line,) = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 5]
    y = np.asarray(line.get_ydata(), float)
    assert np.isfinite(y).all() and y[1] == pytest.approx(ax.get_ylim()[0])
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == "v"]
    assert [float(m.get_xdata()[0]) for m in marks] == [1.0]
    assert any("reached $f^*$" in t for t in legend_texts(fig))


def test_contour_of_values_near_the_float_limit_has_finite_levels():
    # f reaches 1.7e308 in the window: decades of levels rounded up would be inf, and the
    # colorbar's log ticks overflow; levels are capped at 1e300 (log) / 1e307 (linear).
    from optiviz.plotting.contour import make_levels

    Z = np.array([[0.0, 1e-3], [1e200, 1.6e308]])
    lv = make_levels(Z, Z, True, None)
    assert np.all(np.isfinite(lv)) and lv[-1] <= 1e300 and np.all(np.diff(lv) > 0)
    lin = make_levels(Z, Z, False, None)
    assert np.all(np.isfinite(lin)) and np.all(np.diff(lin) > 0)


def test_an_isolated_effective_lr_value_is_marked():
    # Worked problem E2: Adam's effective lr is 1 at step 1 and undefined at step 2 (g = 0),
    # so a line alone never drew the step-1 value; it gets a marker at (1, 1).
    import numpy as np

    from optiviz.plotting.curves import isolated

    assert isolated(np.array([1.0, np.nan, 2.0, 3.0, np.nan])).tolist() == [
        True,
        False,
        False,
        False,
        False,
    ]
    from optiviz.config import load_config
    from optiviz.experiment import run_experiment
    from optiviz.figures import figures_of
    from optiviz.plotting import ColorMap

    config = load_config("configs/worked-e2-adam-adamax-effective-lr.yaml")
    result = run_experiment(config, write=False)
    fig = figures_of("effective_lr", result, ColorMap(), config.options_of("effective_lr"))[0][1]
    marks = [
        (float(ln.get_xdata()[0]), float(ln.get_ydata()[0]))
        for ax in fig.axes
        for ln in ax.lines
        if ln.get_marker() == "o" and ln.get_linestyle() == "None"
    ]
    assert (1.0, 1.0) in marks
