"""Figure options (issue 9): the common title/size/dpi, contour levels/level_scale/window/layout,
loss log_x/layout, surface3d view angles; one f* for contour and loss (0 at rounding level);
diverging runs clipped; titles naming surface, start and budget; small multiples; the
history point; data weights named after the data's columns."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from optiviz.config import parse_config  # noqa: E402
from optiviz.data import Dataset, DataSurface  # noqa: E402
from optiviz.data.surface import weight_names  # noqa: E402
from optiviz.engine import run  # noqa: E402
from optiviz.errors import ConfigError  # noqa: E402
from optiviz.experiment import run_experiment  # noqa: E402
from optiviz.figures import figures_of, get, kinds  # noqa: E402
from optiviz.figures._surface import caption, f_star  # noqa: E402
from optiviz.optimizers import make_optimizer  # noqa: E402
from optiviz.plotting import ColorMap, contour, loss  # noqa: E402
from optiviz.plotting._reference import round_f_star  # noqa: E402
from optiviz.plotting._runs import RunGroup, RunView  # noqa: E402
from optiviz.plotting.contour import auto_window  # noqa: E402
from optiviz.plotting.curves import wants_log_x  # noqa: E402
from optiviz.plotting.style import run_caption  # noqa: E402

QUAD = {
    "expression": "0.5*w1**2 + 1.5*w2**2",
    "variables": ["w1", "w2"],
    "window": [[-2.5, 2.5], [-2, 2]],
    "minima": [{"point": [0, 0], "value": 0}],
    "name": "quad",
}
BASE = {
    "name": "small",
    "surface": QUAD,
    "start": [-2.0, 1.5],
    "steps": 8,
    "optimizers": [{"name": "gd", "lr": 0.25}, {"name": "gd", "lr": 0.5}],
}


def _config(**changes):
    return parse_config({**BASE, **changes}, "x.yaml")


def _texts(fig) -> str:
    """Every title and suptitle of a figure, joined."""
    out = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_title("left"), ax.get_title("right")]
    return "\n".join(out)


def _inside(fig, artist) -> bool:
    """The artist's rendered box lies inside the saved image."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    b, f = artist.get_window_extent(r), fig.bbox
    return b.x0 >= f.x0 - 1 and b.x1 <= f.x1 + 1 and b.y0 >= f.y0 - 1 and b.y1 <= f.y1 + 1


# -- declared once, checked by the config --------------------------------------------------------
def test_every_kind_has_the_common_options():
    for k in kinds():
        names = [o.name for o in k.options]
        assert {"title", "size", "dpi"} <= set(names), k.name
    assert [o.name for o in get("contour").options][:4] == [
        "levels",
        "level_scale",
        "window",
        "layout",
    ]
    assert {"elev", "azim", "window"} <= {o.name for o in get("surface3d").options}
    assert {"log_x", "layout"} <= {o.name for o in get("loss").options}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"contour": {"levels": 1}}, "figures[0].contour.levels: 1 is not allowed"),
        ({"contour": {"levels": [1, 1]}}, "figures[0].contour.levels: [1, 1] is not allowed"),
        (
            {"contour": {"levels": [-1, 1], "level_scale": "log"}},
            "figures[0].contour.levels: [-1.0, 1.0] is not allowed: must be positive numbers with "
            "level_scale: log",
        ),
        ({"contour": {"window": "fit"}}, "figures[0].contour.window: 'fit' is not allowed"),
        ({"contour": {"window": [[1, 0], [0, 1]]}}, "figures[0].contour.window[0]"),
        ({"contour": {"layout": "grid"}}, "figures[0].contour.layout: 'grid' is not allowed"),
        ({"loss": {"log_x": "yes"}}, "must be 'auto' or a bool"),
        ({"surface3d": {"elev": 120}}, "figures[0].surface3d.elev: 120 is not allowed"),
        ({"loss": {"size": [0.1, 3]}}, "figures[0].loss.size"),
        ({"loss": {"dpi": 5}}, "figures[0].loss.dpi: 5 is not allowed"),
    ],
)
def test_bad_options_are_refused_before_any_run(item, message):
    with pytest.raises(ConfigError) as info:
        _config(figures=[item])
    assert message in str(info.value)


def test_size_dpi_and_title_reach_the_saved_image(tmp_path):
    # today: no kind had options; now 4 x 3 inches at 40 dpi is a 160 x 120 pixel image
    config = _config(figures=[{"loss": {"size": [4, 3], "dpi": 40, "title": "My own title"}}])
    run_experiment(config, out_dir=tmp_path / "out")
    assert imread(tmp_path / "out" / "loss.png").shape[:2] == (120, 160)
    fig = figures_of(
        "loss", run_experiment(config, write=False), ColorMap(), config.options_of("loss")
    )[0][1]
    assert "My own title" in _texts(fig)


# -- titles: surface, start, budget, fitted -------------------------------------------------
def test_run_caption_states_surface_start_history_and_budget():
    assert run_caption("quad", [-2, 1.5], [25]) == "quad, start (-2, 1.5), 25 steps"
    assert run_caption("q", [1.5, 2], 1, history=[1, 1]) == "q, start (1.5, 2) after (1, 1), 1 step"
    assert run_caption("q", [[0, 0], [1, 1], [2, 2]], [10, 30]) == "q, 3 starts, 10–30 steps"
    assert run_caption("q", list(range(6)), 5) == "q, start (0, 1, 2, 3, …), 5 steps"


def test_every_figure_kind_titles_surface_start_and_budget_inside_the_image():
    config = _config(
        optimizers=[
            {"name": "gd", "lr": {"grid": {"values": [0.1, 0.3]}}},
            {"name": "adam", "lr": 0.1},
        ],
        figures=["contour", "surface3d", "loss", "effective_lr", "lr_factor", "lr_sweep"],
    )
    result = run_experiment(config, write=False)
    colors = ColorMap()
    for kind in config.figures:
        for _, fig in figures_of(kind, result, colors, config.options_of(kind)):
            text = _texts(fig)
            assert "start (-2, 1.5)" in text and "8 steps" in text, (kind, text)
            assert "quad" in text, (kind, text)
            titles = [fig._suptitle] if fig._suptitle is not None else []
            titles += [ax.title for ax in fig.axes if ax.get_title()]
            assert titles and all(_inside(fig, t) for t in titles), kind


# -- f*: one source, 0 at rounding level -----------------------------------------------------------
def test_f_star_at_rounding_level_is_zero_and_a_real_one_is_kept():
    assert round_f_star(5.37e-31, 1.0) == 0.0  # the data surface's least-squares minimum
    assert round_f_star(-2e-17, 40.0) == 0.0
    assert round_f_star(0.05, 1.0) == 0.05  # worked problem A's minimum 0.05
    assert round_f_star(1e-20, 1e-15) == 1e-20  # tiny values, but not tiny against them
    assert round_f_star(None, 1.0) is None


def _linear_data_config():
    # adagrad-sparse-dense's data: y = 2 x_dense + 3 x_sparse exactly, so min f = 0, which
    # the least-squares solve finds as 5.37e-31
    pts = [[1.0, 0.0, 2.0], [0.8, 0.0, 1.6], [1.2, 1.0, 5.4], [1.3, 1.0, 5.6]]
    return _config(
        surface={
            "data": "linear",
            "bias": False,
            "dataset": {"features": ["x_dense", "x_sparse"], "points": pts},
            "window": [[-0.5, 3.5], [-0.5, 3.5]],
        },
        start=[0.0, 0.0],
        steps=30,
        optimizers=[{"name": "gd", "lr": 0.2}],
        figures=["contour", "loss"],
    )


def test_contour_and_loss_use_one_f_star_shown_as_zero_on_a_data_surface():
    config = _linear_data_config()
    result = run_experiment(config, write=False)
    assert 0 < result.surface.f_min < 1e-25  # what the figures said before: 5.37e-31
    assert f_star(result) == 0.0
    colors = ColorMap()
    fig = figures_of("loss", result, colors, config.options_of("loss"))[0][1]
    ylabel = fig.axes[0].get_ylabel()
    assert ylabel == "$f(x_t) - f^*$", ylabel  # no "(f* = 5.37e-31)"
    # the curve is f itself (f* = 0 subtracted): its first value is the mean squared error
    # at w = 0, mean(y^2)
    y0 = fig.axes[0].lines[0].get_ydata()[0]
    assert y0 == pytest.approx((2.0**2 + 1.6**2 + 5.4**2 + 5.6**2) / 4)
    cfig = figures_of("contour", result, colors, config.options_of("contour"))[0][1]
    labels = [t.get_text() for t in cfig.axes[0].get_legend().get_texts()]
    assert "global minimum ($f^*$ = 0)" in labels, labels


# -- loss: divergence clipped, log x -------------------------------------------------------------
def test_a_diverging_run_is_clipped_at_the_others_range_and_marked():
    s = _config().build_surface()
    calm = run(s, make_optimizer("gd", lr=0.25), [-2.0, 1.5], 20)
    wild = run(s, make_optimizer("gd", lr=1.5), [-2.0, 1.5], 400)  # |1 - 1.5 * 3| > 1
    assert wild.status == "diverged" and np.nanmax(wild.losses) > 1e12
    fig = loss([calm, wild])
    ax = fig.axes[0]
    f0 = 0.5 * 4 + 1.5 * 2.25  # f(start) = 5.375, the calm run's largest value
    # today the axis reached 1e300 and the calm run was a flat line at its bottom
    assert ax.get_ylim()[1] == pytest.approx(f0 * math.sqrt(10), rel=1e-9)
    tri = [ln for ln in ax.lines if ln.get_marker() == "^"]
    assert len(tri) == 1 and tri[0].get_ydata()[0] == 1.0  # on the top edge (axes fraction)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "diverged: leaves the axis here (clipped)" in labels


def test_log_x_auto_when_a_run_is_very_short():
    assert wants_log_x([6, 3000], "auto")  # Newton's 6 steps in the quickstart
    assert not wants_log_x([2500, 3000], "auto")
    assert wants_log_x([3000], True) and not wants_log_x([6, 3000], False)
    s = _config().build_surface()
    newton = run(s, make_optimizer("newton"), [-2.0, 1.5], 300, tol_grad=1e-10)
    gd = run(s, make_optimizer("gd", lr=0.01), [-2.0, 1.5], 300)
    assert newton.n_steps < 5  # a quadratic: one Newton step
    assert loss([newton, gd]).axes[0].get_xscale() == "symlog"  # today: linear
    assert loss([newton, gd], logx=False).axes[0].get_xscale() == "linear"


# -- contour options -------------------------------------------------------------------------------
def _filled(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet) and c.filled][0]


def test_contour_levels_count_list_and_scale_reach_the_drawing():
    config = _config(figures=[{"contour": {"levels": 7, "level_scale": "linear"}}])
    result = run_experiment(config, write=False)
    fig = figures_of("contour", result, ColorMap(), config.options_of("contour"))[0][1]
    # 7 linear levels from min f to max f over the window: f = 0 .. 0.5*2.5^2 + 1.5*2^2
    assert np.allclose(_filled(fig.axes[0]).levels, np.linspace(0.0, 3.125 + 6.0, 7), atol=1e-3)
    lv = [0.1, 0.5, 1, 2, 5]
    config = _config(figures=[{"contour": {"levels": lv, "level_scale": "log"}}])
    fig = figures_of(
        "contour", run_experiment(config, write=False), ColorMap(), config.options_of("contour")
    )
    assert np.allclose(_filled(fig[0][1].axes[0]).levels, lv)


def _group(points, diverged=False):
    P = np.asarray(points, dtype=float)
    view = RunView("r", P, None, None, status="diverged" if diverged else "converged")
    return [RunGroup("r", [view])]


def test_auto_window_fits_the_path_with_a_margin():
    from optiviz.plotting import _geometry as geo

    plane = geo.coordinate_plane(2, 0, 1, np.zeros(2), ("x", "y"))
    win = np.array([[-10.0, 10.0], [-10.0, 10.0]])
    # extent (1, 0.5), 10% of it on each side
    got = auto_window(win, _group([[0, 0], [1, 0.5]]), plane)
    assert np.allclose(got, [[-0.1, 1.1], [-0.05, 0.55]])
    # a flat path: its height widened to 1/3 of its width, then the margin
    got = auto_window(win, _group([[0, 2], [3, 2]]), plane)
    assert np.allclose(got, [[-0.3, 3.3], [2 - 0.6, 2 + 0.6]])
    # the history point is fitted too
    got = auto_window(win, _group([[1.5, 2.0], [2.0, 3.0]]), plane, history=[1, 1])
    # box [1, 2] x [1, 3]: centre (1.5, 2), half sizes 0.6 and 1.2
    assert np.allclose(got, [[0.9, 2.1], [0.8, 3.2]])


def test_window_auto_shows_the_sgd_zigzag():
    # configs/sgd-minibatch-sigmoid.yaml: the paths span w1 in [-1.9, 0.3], w2 in [-0.2, 0.7]
    # of the surface's [-3, 2] x [-2, 3]; "auto" zooms on them
    from optiviz.config import load_config

    config = load_config("configs/sgd-minibatch-sigmoid.yaml")
    assert config.options_of("contour")["window"] == "auto"
    config = parse_config({**config.to_dict(), "steps": 40}, "x.yaml")
    result = run_experiment(config, write=False)
    fig = figures_of("contour", result, ColorMap(), config.options_of("contour"))[0][1]
    ax = fig.axes[0]
    P = np.concatenate([t.points.reshape(-1, 2) for t in result.trajectories])
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < P[:, 0].min() and x1 > P[:, 0].max() and y0 < P[:, 1].min() and y1 > P[:, 1].max()
    # today the whole surface window: 5 x 5; now the paths' box with 10% margins
    span = P.max(axis=0) - P.min(axis=0)
    assert x1 - x0 == pytest.approx(1.2 * span[0], rel=1e-6)
    assert y1 - y0 == pytest.approx(1.2 * max(span[1], span[0] / 3), rel=1e-6)


def test_surface3d_view_angles():
    config = _config(figures=[{"surface3d": {"elev": 12, "azim": 75}}])
    fig = figures_of(
        "surface3d", run_experiment(config, write=False), ColorMap(), config.options_of("surface3d")
    )
    ax = fig[0][1].axes[0]
    assert (ax.elev, ax.azim) == (12.0, 75.0)


# -- small multiples -------------------------------------------------------------------------------
def test_panels_one_per_entry_with_shared_window_and_entry_colours():
    config = _config(
        optimizers=[
            {"name": "gd", "lr": 0.25, "label": "slow"},
            {"name": "gd", "lr": 0.5, "label": "fast"},
            {"name": "gd", "lr": 0.7, "label": "wild"},
        ],
        figures=[{"contour": {"layout": "panels"}}, {"loss": {"layout": "panels"}}],
    )
    result = run_experiment(config, write=False)
    colors = ColorMap()
    for kind in ("contour", "loss"):
        fig = figures_of(kind, result, colors, config.options_of(kind))[0][1]
        pan = [ax for ax in fig.axes if ax.get_title()]
        assert [ax.get_title() for ax in pan] == ["slow", "fast", "wild"]
        # one colour per entry, the same in every figure of the run
        assert [ax.title.get_color() for ax in pan] == [
            colors.color_for(t) for t in ("slow", "fast", "wild")
        ]
        assert len({ax.get_xlim() for ax in pan}) == 1 and len({ax.get_ylim() for ax in pan}) == 1
        # one legend for the figure, of the markers only (the titles name the entries)
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
        assert not legends and len(fig.legends) == (1 if kind == "contour" else 0)
        for leg in fig.legends:  # contour: start, end, minimum
            assert not {"slow", "fast", "wild"} & {t.get_text() for t in leg.get_texts()}
            assert _inside(fig, leg)
        assert _inside(fig, fig._suptitle)


def test_panels_of_a_grid_entry_one_per_swept_value():
    config = _config(
        optimizers=[{"name": "gd", "lr": {"grid": {"values": [0.1, 0.2, 0.3, 0.4]}}}],
        figures=[{"contour": {"layout": "panels"}}],
    )
    fig = figures_of(
        "contour", run_experiment(config, write=False), ColorMap(), config.options_of("contour")
    )
    titles = [ax.get_title() for ax in fig[0][1].axes if ax.get_title()]
    assert len(titles) == 4 and all(
        f"lr={v}" in t for v, t in zip((0.1, 0.2, 0.3, 0.4), titles, strict=True)
    )


def test_the_lr_dependence_config_draws_one_panel_per_eta():
    from optiviz.config import load_config

    config = load_config("configs/lr-dependence.yaml")
    assert config.options_of("contour")["layout"] == "panels"
    fig = figures_of(
        "contour", run_experiment(config, write=False), ColorMap(), config.options_of("contour")
    )
    titles = [ax.get_title() for ax in fig[0][1].axes if ax.get_title()]
    assert [t.split(" (")[0] for t in titles] == [
        "eta = 0.75 eta_opt",
        "eta = eta_opt",
        "eta = 1.5 eta_opt",
        "eta = 2 eta_opt",
        "eta = 2.1 eta_opt",
    ]


# -- history ------------------------------------------------------------------------------
def test_a_problem_stated_from_a_history_draws_the_earlier_point_and_its_step():
    from optiviz.config import load_config

    config = load_config("configs/worked-a-correlated-quadratic.yaml")
    assert config.start_prev == (1.0, 1.0)
    result = run_experiment(config, write=False)
    ax = figures_of("contour", result, ColorMap(), config.options_of("contour"))[0][1].axes[0]
    hollow = [
        ln
        for ln in ax.lines
        if ln.get_marker() == "o" and ln.get_markerfacecolor() == "none" and len(ln.get_xdata())
    ]
    assert len(hollow) == 1 and (hollow[0].get_xdata()[0], hollow[0].get_ydata()[0]) == (1.0, 1.0)
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == 1
    assert tuple(arrows[0].xyann) == (1.0, 1.0) and tuple(arrows[0].xy) == (1.5, 2.0)
    assert "start (1.5, 2) after (1, 1), 1 step" in ax.get_title()
    assert "w(t-1)" in " ".join(t.get_text() for t in ax.get_legend().get_texts())


# -- data surfaces: weights named after the columns ---------------------------------------
def test_weight_names_follow_the_columns():
    assert weight_names(["hours", "sleep (h)"]) == ["w_hours", "w_sleep_h"]
    assert weight_names(["x_dense", "x_sparse"]) == ["w_dense", "w_sparse"]
    assert weight_names(["x1", "x2"]) == ["w1", "w2"]  # the defaults: as before
    assert weight_names(["x"]) == ["w1"]
    assert weight_names(["Temp (C)", "%", "x3"]) == ["w_Temp_C", "w2", "w3"]
    assert weight_names(["a b", "a-b"]) == ["w1", "w2"]  # would repeat: positions


def test_a_data_surface_titles_its_weights_by_column_in_latex():
    d = Dataset(
        np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 4.0]]),
        np.array([0.0, 1.0, 1.0]),
        ("hours", "sleep"),
    )
    s = DataSurface(d, bias=True)
    assert s.variables == ("w_hours", "w_sleep", "b")  # today: w1, w2, b
    fig = contour(s, [], grid=40)
    ax = fig.axes[0]
    assert ax.get_xlabel() == r"$w_{\mathrm{hours}}$" and ax.get_ylabel() == r"$w_{\mathrm{sleep}}$"
    assert r"$f(w_{\mathrm{hours}}, w_{\mathrm{sleep}}, b) = " in ax.get_title()
    assert _inside(fig, ax.title)


def test_configs_get_the_column_names_and_keep_their_starts():
    from optiviz.config import load_config

    config = load_config("configs/adagrad-sparse-dense.yaml")
    assert config.build_surface().variables == ("w_dense", "w_sparse")
    four = load_config("configs/sgd-minibatch-sigmoid.yaml").build_surface()
    assert four.variables == ("w1", "w2")  # the notes' data set names its columns x1, x2
    assert caption(
        run_experiment(parse_config({**config.to_dict(), "steps": 3}, "x"), write=False)
    ) == ("linear_regression, start (0, 0), 3 steps")


def test_a_title_counts_several_starts():
    # Today's defect: with four starts the title said "start (0, 0)" (the first only)
    from optiviz.config import load_config

    config = load_config("configs/several-starts.yaml")
    assert len(config.starts) == 4
    result = run_experiment(config, write=False)
    fig = figures_of("loss", result, ColorMap(), config.options_of("loss"))[0][1]
    title = " ".join(t.get_text() for t in fig.texts) + fig.axes[0].get_title()
    assert "4 starts" in title and "start (0, 0)" not in title
