"""The ``page`` figure kind and ``optiviz page``: the sweep's numbers (against the closed form
of GD and a heavy-ball recurrence written here), the data format the page's script reads,
what the page holds (self-contained, the palette, the variable names, log levels, the
learning-rate table), validation, the cost, and the command. The page in a real browser:
tests/test_page_browser.py."""

from __future__ import annotations

import base64
import json
import re
import zlib

import numpy as np
import pytest
from typer.testing import CliRunner

from optiviz import run_config
from optiviz.cli import app
from optiviz.config import parse_config
from optiviz.errors import ConfigError
from optiviz.figures import draw
from optiviz.page import pack, unpack
from optiviz.page.sweep import run_sweep, sweep_axes
from optiviz.plotting import ColorMap
from optiviz.plotting.style import PALETTE

#: f = (x^2 + 4 y^2) / 2: gradient A z with A = diag(1, 4), minimum 0 at the origin.
QUAD = {
    "expression": "x**2/2 + 2*y**2",
    "variables": ["x", "y"],
    "window": [[-2, 2], [-1.5, 1.5]],
    "minima": [{"point": [0, 0], "value": 0}],
    "name": "quad14",
}
A = np.diag([1.0, 4.0])
X0 = np.array([-1.5, 1.0])
LRS = [0.05, 0.1, 0.2]
BETAS = [0.0, 0.5]


def _config(**page):
    return {
        "name": "page-small",
        "surface": QUAD,
        "start": X0.tolist(),
        "steps": 6,
        "optimizers": [{"name": "momentum", "label": "heavy ball", "lr": 0.1, "momentum": 0.5}],
        "figures": [{"page": page}] if page else ["page"],
    }


PAGE = {"entry": 1, "lr": {"values": LRS}, "second": {"momentum": {"values": BETAS}}}


@pytest.fixture(scope="module")
def small():
    """The small sweep's experiment result and its page (of the second entry)."""
    cfg = _config(**PAGE)
    cfg["optimizers"] = [{"name": "gd", "lr": 0.1}, *cfg["optimizers"]]
    result = run_config(cfg, figures=["page"])
    options = result.config.options_of("page")
    sweep = run_sweep(result, options)
    _, files = draw("page", result, ColorMap(), result.config.figure_options.get("page"))
    return result, sweep, files["page.html"]


def _data(page: str) -> dict:
    m = re.search(r'<script id="optiviz-data" type="application/json">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))


# -- the numbers ---------------------------------------------------------------------------
def test_runs_are_cells_lr_fastest_and_match_gd_closed_form_and_heavy_ball(small):
    _, sweep, _ = small
    assert sweep.runs == 6 and sweep.points.shape == (6, 7, 2)
    for j, beta in enumerate(BETAS):
        for i, lr in enumerate(LRS):
            r = sweep.index(i, j)
            assert r == j * 3 + i
            # heavy ball (torch's momentum: v = beta v + g, x -= lr v) as x_{t+1} = x_t -
            # lr A x_t + beta (x_t - x_{t-1}); at beta = 0 GD's closed form (I - lr A)^t x0
            xs = [X0, X0 - lr * A @ X0]
            for _ in range(5):
                xs.append(xs[-1] - lr * A @ xs[-1] + beta * (xs[-1] - xs[-2]))
            want = np.array(xs)
            if beta == 0:
                gd = np.array(
                    [np.linalg.matrix_power(np.eye(2) - lr * A, t) @ X0 for t in range(7)]
                )
                np.testing.assert_allclose(want, gd, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(sweep.points[r], want, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(sweep.grads[r], want @ A, rtol=1e-12, atol=1e-15)
            f = 0.5 * want[:, 0] ** 2 + 2 * want[:, 1] ** 2
            np.testing.assert_allclose(sweep.losses[r], f, rtol=1e-12, atol=1e-15)


def test_pack_is_shuffled_deflated_float32_in_base64():
    a = np.array([[1.0, -2.5], [np.nan, 3.0e-8]])
    b = np.array([7.0])
    text = pack([a, b])
    raw = zlib.decompress(base64.b64decode(text))
    floats = np.array([1.0, -2.5, np.nan, 3.0e-8, 7.0], dtype="<f4")
    # byte k of every float, then byte k + 1 of every float (what page.js undoes)
    assert raw == floats.view(np.uint8).reshape(-1, 4).T.tobytes()
    np.testing.assert_array_equal(unpack(text), floats)


def test_default_axes(small):
    result, _, _ = small
    cfg = parse_config(_config(), "x.yaml")
    spec = cfg.optimizers[0]
    lr, second = sweep_axes(spec, cfg.options_of("page"), None)
    # lr / 10 .. 10 lr, 21 log-spaced values: the entry's lr 0.1 in the middle
    assert lr.log and lr.size == 21 and second is None
    np.testing.assert_allclose(lr.values[[0, 10, 20]], [0.01, 0.1, 1.0], rtol=1e-12)
    grid = _config()
    grid["optimizers"] = [
        {
            "name": "momentum",
            "lr": {"grid": {"values": [0.1, 0.2]}},
            "momentum": {"grid": {"values": [0.0, 0.9]}},
        }
    ]
    spec = parse_config(grid, "x.yaml").optimizers[0]
    lr, second = sweep_axes(spec, {"lr": None, "second": None}, None)
    assert lr.values.tolist() == [0.1, 0.2]  # the entry's own grids
    assert second.name == "momentum" and second.values.tolist() == [0.0, 0.9]


# -- the page ------------------------------------------------------------------------------
def test_page_is_self_contained(small):
    _, _, page = small
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"(src|href)\s*=", page, re.I)  # nothing loaded from anywhere
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "@import" not in page and "url(http" not in page


def test_page_data_and_picture(small):
    result, sweep, page = small
    d = _data(page)
    assert d["runs"] == 6 and d["steps"] == 6
    assert d["lr"] == {"name": "lr", "values": LRS, "log": False}
    assert d["second"]["name"] == "momentum" and d["second"]["values"] == BETAS
    assert d["default"] == [1, 1]  # the entry's own lr 0.1 and momentum 0.5
    # the second entry's colour, as in the static figures (even drawn with a new ColorMap)
    assert d["color"] == PALETTE[1]
    assert d["variables"] == ["x", "y"]
    values = unpack(d["data"])
    assert values.size == 6 * 7 * 5
    np.testing.assert_allclose(values[: 6 * 7 * 2], sweep.points.ravel(), rtol=1e-6)
    # axes labelled with the variable names
    assert '<text class="label" x=' in page and ">x</text>" in page and ">y</text>" in page
    # the report's learning-rate table: 2/lambda_max = 2/4 = 0.5 on this quadratic
    assert "2/lambda_max (stability)" in page
    table = page[page.index('<table id="lr-table">') :]
    assert "<td>0.5</td>" in table
    assert d["stability"] == pytest.approx(0.5)


def test_text_from_the_config_cannot_leave_its_element(small):
    """A label or title with markup is text on the page: escaped in HTML, and inside the
    JSON block no "</script>" can close the element."""
    from dataclasses import replace

    from optiviz.page import page_html

    result, sweep, _ = small
    bad = '</script><script>alert("x")</script><b>&'
    options = result.config.options_of("page") | {"title": bad}
    page = page_html(result, replace(sweep, label=bad), ColorMap(), options)
    assert "<script>alert" not in page and "<b>&" not in page
    assert page.count("</script>") == 2  # the data block's and the script's own
    assert "&lt;/script&gt;&lt;script&gt;alert" in page  # the title, as text
    assert _data(page)["label"] == bad  # the JSON still reads back exactly


def test_size_budget_is_far_from_reached_by_a_small_page(small):
    _, _, page = small
    assert len(page.encode()) < 300_000  # a small sweep: the picture and the script


# -- validation and cost -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("page", "where", "words"),
    [
        (
            {"second": {"betas[0]": {"values": [0.1, 0.2]}}},
            "figures[0]",
            "does not have as a number",
        ),
        ({"lr": {"linspace": [-1, 1, 5]}}, "figures[0]", "out of its range"),
        ({"lr": {"logspace": [-1, 1]}}, "figures[0].page.lr.logspace", "[a, b, n]"),
        ({"second": {"lr": {"values": [0.1, 0.2]}}}, "figures[0]", "another hyperparameter"),
        ({"entry": 3}, "figures[0]", "entry 3 does not exist"),
        (
            {
                "lr": {"logspace": [-3, -1, 1000]},
                "second": {"momentum": {"linspace": [0, 0.9, 1000]}},
            },
            "figures[0]",
            "settings",
        ),
        ({"lr": {"logspace": [-3, -1, 1000]}, "steps": 5000}, "figures[0]", "iterates per page"),
    ],
)
def test_options_the_page_cannot_use_are_refused(page, where, words):
    with pytest.raises(ConfigError) as e:
        parse_config(_config(**page), "x.yaml")
    text = str(e.value)
    assert f"{where}:" in text and words in text, text


def test_a_surface_of_other_than_two_variables_is_refused():
    cfg = _config()
    cfg["surface"] = {"expression": "x**2 + y**2 + z**2", "variables": ["x", "y", "z"]}
    cfg["start"] = [1.0, 1.0, 1.0]
    with pytest.raises(
        ConfigError, match=r"figures\[0\]: 'page' is not allowed: the surface has 3"
    ):
        parse_config(cfg, "x.yaml")


def test_the_sweep_counts_in_the_config_cost():
    cfg = parse_config(
        _config(
            lr={"logspace": [-3, -1, 10]}, second={"momentum": {"values": [0, 0.5, 0.9, 0.95]}}
        ),
        "x.yaml",
    )
    (fig,) = cfg.cost().figures
    assert fig.kind == "page" and fig.work == 10 * 4 * 6  # runs x steps, one gradient each
    # every iterate kept: the records (3n + 2 floats per run and step) and the gradients
    assert fig.memory >= 8 * 40 * 7 * 2


# -- the command ---------------------------------------------------------------------------
def test_optiviz_page_writes_the_page(tmp_path):
    import yaml

    src = tmp_path / "c.yaml"
    cfg = _config()
    cfg["figures"] = ["contour"]  # the command draws the page whatever the figures list
    src.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "deep" / "p.html"
    r = CliRunner().invoke(app, ["page", str(src), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.output
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and _data(text)["runs"] == 1 * 21
    # a folder is not a page; a one-variable surface has no contour: exit 2, nothing run
    r = CliRunner().invoke(app, ["page", str(src), "--out", str(tmp_path)])
    assert r.exit_code == 2 and "it is a folder" in r.output
    cfg["surface"] = {"expression": "x**2", "variables": ["x"]}
    cfg["start"] = [1.0]
    src.write_text(yaml.safe_dump(cfg))
    r = CliRunner().invoke(app, ["page", str(src), "--out", str(out)])
    assert r.exit_code == 2 and "the surface has 1 variable (x)" in r.output


def test_optiviz_plot_rewrites_the_saved_page_without_running(tmp_path, monkeypatch):
    # the page holds its own sweep: `optiviz plot` copies it back byte for byte, with no run
    from typer.testing import CliRunner

    import optiviz.engine
    from optiviz.cli import app

    out = tmp_path / "o"
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        "surface: rosenbrock\nstart: [-1.2, 1.0]\nsteps: 5\n"
        "optimizers: [{name: gd, lr: 0.001}]\n"
        "figures: [{page: {lr: {values: [0.0005, 0.001]}}}]\n"
    )
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(cfg), "--out", str(out), "-q"]).exit_code == 0
    before = (out / "page.html").read_bytes()

    def no_run(*a, **k):
        raise AssertionError("optiviz plot ran the engine")

    monkeypatch.setattr(optiviz.engine, "run", no_run)
    r = runner.invoke(app, ["plot", str(out), "--figures", "page", "--out", str(tmp_path / "p")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p" / "page.html").read_bytes() == before
