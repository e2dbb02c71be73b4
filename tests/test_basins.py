"""The basins figure: the batched grid of starts agrees with running the starts one by one,
outcomes are the report's minimum numbers, basins.csv holds every start, the image is an
image (not patches)."""

from __future__ import annotations

import csv
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from optiviz import analyze, load_surface, make_optimizer  # noqa: E402
from optiviz.analysis.basins import DIVERGED, NOT_CONVERGED, basins, classify  # noqa: E402
from optiviz.config import parse_config  # noqa: E402
from optiviz.engine import run  # noqa: E402
from optiviz.errors import ConfigError  # noqa: E402
from optiviz.experiment import run_experiment  # noqa: E402
from optiviz.figures.basins import numbered_minima  # noqa: E402

# Himmelblau's four minima (surfaces/himmelblau.yaml, Newton to 40 digits)
HIMMELBLAU_MINIMA = np.array(
    [
        [3.0, 2.0],
        [-2.8051180869527449, 3.131312518250573],
        [-3.7793102533777469, -3.2831859912861694],
        [3.5844283403304917, -1.8481265269644036],
    ]
)


@pytest.fixture(scope="module")
def himmelblau():
    return load_surface("himmelblau")


@pytest.fixture(scope="module")
def gd_basins(himmelblau):
    a = analyze(himmelblau)
    b = basins(
        himmelblau,
        make_optimizer("gd", lr=0.005),
        minima=numbered_minima(a),
        steps=400,
        resolution=41,
        tolerance=1e-3,
    )
    return a, b


def test_the_grid_covers_the_window_one_start_per_cell(gd_basins):
    _, b = gd_basins
    assert b.starts.shape == (41 * 41, 2) and b.outcome.shape == (41 * 41,)
    np.testing.assert_allclose(b.xs, np.linspace(-5, 5, 41))
    # row i * resolution + j is the start (xs[j], ys[i]): the image's row i is ys[i]
    np.testing.assert_array_equal(b.starts[3 * 41 + 7], [b.xs[7], b.ys[3]])
    assert b.image().shape == (41, 41)


def test_gd_basins_agree_with_running_the_starts_one_by_one(himmelblau, gd_basins):
    _, b = gd_basins
    rng = np.random.default_rng(7)
    cells = rng.choice(len(b.starts), size=40, replace=False)
    numbers = {tuple(np.round(p, 9)): k for k, p in zip(b.minima, b.points, strict=True)}
    for c in cells:
        tr = run(himmelblau, make_optimizer("gd", lr=0.005), b.starts[c], 400)
        np.testing.assert_allclose(b.final_points[c], tr.final_point, rtol=0, atol=1e-12)
        # independently: the nearest of the surface's known minima, within 1e-3
        d = np.linalg.norm(HIMMELBLAU_MINIMA - tr.final_point, axis=1)
        k = int(np.argmin(d))
        if tr.status == "diverged":
            want = DIVERGED
        elif d[k] <= 1e-3:
            # the analysis's number of that minimum
            want = next(v for p, v in numbers.items() if np.allclose(p, HIMMELBLAU_MINIMA[k]))
        else:
            want = NOT_CONVERGED
        assert b.outcome[c] == want, (b.starts[c], tr.final_point)


def test_small_lr_gd_reaches_all_four_minima_and_nothing_else(gd_basins):
    _, b = gd_basins
    counts = b.counts()
    assert counts["diverged"] == 0
    assert all(counts[f"#{k}"] > 200 for k in b.minima)  # four basins of ~1/4 each
    # a start exactly at the local maximum or on a saddle's stable manifold may stay: few
    assert counts["not_converged"] <= 5


def test_outcome_numbers_are_the_report_table_s_minimum_numbers(gd_basins):
    from optiviz.report import to_markdown

    a, b = gd_basins
    assert len(b.minima) == 4
    table = to_markdown(a)
    for k, p in zip(b.minima, b.points, strict=True):
        point = a.stationary_points[k - 1]
        assert point.kind == "minimum"
        np.testing.assert_allclose(point.point, p)
        # the report's row "| k | (x, y) | ... | minimum |"
        row = next(ln for ln in table.splitlines() if ln.startswith(f"| {k} |"))
        assert "minimum" in row
        # every start labelled k ended at that point
        ended = b.final_points[b.outcome == k]
        assert np.max(np.linalg.norm(ended - p, axis=1)) <= 1e-3


def test_classify_marks_diverged_and_not_converged():
    pts = np.array([[0.0, 0.0], [5.0, 5.0]])
    final = np.array([[1e-4, 0.0], [5.0, 5.2], [np.nan, 1.0], [4.9, 5.0], [2.5, 2.5]])
    status = np.array(["converged", "max_steps", "diverged", "diverged", "max_steps"])
    got = classify(final, status, pts, (3, 8), tolerance=0.1)
    # within 0.1 of #3; 0.2 from #8: not reached; nan: diverged; diverged near #8 is
    # diverged all the same; halfway: not converged
    np.testing.assert_array_equal(got, [3, NOT_CONVERGED, DIVERGED, DIVERGED, NOT_CONVERGED])


def test_gd_with_a_large_lr_diverges_from_the_steep_corners(himmelblau):
    # f_xx = 12 x^2 + 4 y - 42 is 278 at (5, 5): GD with lr 0.03 has |1 - 0.03*278| = 7.3
    # there and overflows in a few steps; near the minima (lambda_max < 90) it is stable
    a = analyze(himmelblau)
    b = basins(
        himmelblau,
        make_optimizer("gd", lr=0.03),
        minima=numbered_minima(a),
        steps=200,
        resolution=21,
    )
    img = b.image()
    assert img[-1, -1] == DIVERGED  # the corner (5, 5)
    single = run(himmelblau, make_optimizer("gd", lr=0.03), [5.0, 5.0], 200)
    assert single.status == "diverged"
    assert (b.outcome >= 1).sum() > 0


BASE = {
    "name": "basins-test",
    "surface": "himmelblau",
    "start": [0.0, 0.0],
    "steps": 200,
    "optimizers": [
        {"name": "gd", "lr": 0.005, "label": "GD"},
        {"name": "adam", "lr": 0.05, "label": "Adam"},
    ],
}


def test_the_figure_and_basins_csv_from_a_config(tmp_path):
    config = parse_config(
        {**BASE, "figures": [{"basins": {"resolution": 30, "tolerance": 0.01}}]}, "x.yaml"
    )
    result = run_experiment(config, out_dir=tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "basins.png").is_file() and "basins.csv" in result.files
    rows = list(csv.DictReader(io.StringIO((out / "basins.csv").read_text())))
    assert list(rows[0]) == ["x", "y", "entry", "outcome"]
    assert len(rows) == 2 * 30 * 30
    assert {r["entry"] for r in rows} == {"0", "1"}
    numbers = {str(k) for k, _ in numbered_minima(result.analysis)}
    assert {r["outcome"] for r in rows} <= numbers | {"not_converged", "diverged"}
    # the CSV's GD rows are the library call's outcomes
    b = basins(
        result.surface,
        make_optimizer("gd", lr=0.005),
        minima=numbered_minima(result.analysis),
        steps=200,
        resolution=30,
        tolerance=0.01,
        base=[0.0, 0.0],
    )
    gd = [r for r in rows if r["entry"] == "0"]
    assert [r["outcome"] for r in gd] == b.outcome_text()
    np.testing.assert_array_equal([[float(r["x"]), float(r["y"])] for r in gd], b.starts)


def test_the_basins_are_drawn_as_images(himmelblau, gd_basins):
    from optiviz.plotting.basins import basins as draw

    a, b = gd_basins
    fig = draw([b, b], ["one", "two"])
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    for ax in axes:
        images = [c for c in ax.get_children() if isinstance(c, AxesImage)]
        assert len(images) == 1 and images[0].get_array().shape == (41, 41)
        assert len(ax.patches) == 0  # no patch per cell
    assert axes[0].get_xlabel() == "$x$" and axes[0].get_ylabel() == "$y$"
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "diverged" in texts and any("no minimum within tolerance" in t for t in texts)
    assert sum("reached" in t for t in texts) == 4


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"basins": {"resolution": 1}}, "figures[0].basins.resolution: 1 is not allowed"),
        ({"basins": {"resolution": 5000}}, "figures[0].basins.resolution: 5000 is not allowed"),
        ({"basins": {"tolerance": 0}}, "figures[0].basins.tolerance: 0 is not allowed"),
    ],
)
def test_bad_basins_options_are_refused(item, message):
    with pytest.raises(ConfigError) as info:
        parse_config({**BASE, "figures": [item]}, "x.yaml")
    assert message in str(info.value)


def test_a_config_of_only_grids_cannot_draw_basins():
    raw = {**BASE, "optimizers": [{"name": "gd", "lr": {"grid": {"values": [0.01, 0.02]}}}]}
    with pytest.raises(ConfigError, match="'basins' is not allowed: every optimizer entry"):
        parse_config({**raw, "figures": ["basins"]}, "x.yaml")


# -- the basins runs count in the config's limits ------------------------------------------------
def _basins_config(resolution: int, steps: int, **extra):
    return {
        "name": "basins-cost",
        "surface": "himmelblau",
        "start": [0.0, 0.0],
        "steps": 100,
        "optimizers": [{"name": "gd", "lr": 0.01}, {"name": "newton"}],
        "figures": [{"basins": {"resolution": resolution, "steps": steps}}],
        **extra,
    }


def test_the_basins_runs_count_in_the_config_s_work():
    config = parse_config(_basins_config(50, 200), "<basins>")
    # entries: 2 runs x 100 steps, gd 1 evaluation and newton 1 + n = 3 per step;
    # basins: 50^2 starts per entry x 200 steps with the same evaluations per step
    assert config.cost().work == 100 * (1 + 3) + 2500 * 200 * (1 + 3)
    assert "work: 2000400 run-steps" in config.cost().summary()


def test_a_basins_grid_beyond_the_work_limit_is_refused_at_the_figure():
    from optiviz.config.schema import MAX_WORK

    # 1000^2 starts x 100,000 steps x (1 + 3) evaluations: 4e11 run-steps > MAX_WORK
    assert 1000**2 * 100_000 * 4 > MAX_WORK
    with pytest.raises(ConfigError) as info:
        parse_config(_basins_config(1000, 100_000), "<basins>")
    assert "figures[0]: the config is too much work" in str(info.value)
    assert "basins figure's own runs: 4e+11" in str(info.value)
