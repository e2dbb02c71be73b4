"""Reports: Markdown with LaTeX, strict JSON, plain-text table."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from optiviz import report
from optiviz.analysis import analyze
from optiviz.engine import run
from optiviz.library import load_surface
from optiviz.optimizers import make_optimizer


@pytest.fixture(scope="module")
def diag_analysis():
    s = load_surface("seed_diagonal")
    runs = [run(s, make_optimizer("gd", lr=f / 8), [1.0, 1.0, 1.0], 200) for f in (0.75, 2.1)]
    return s, runs, analyze(s, at=[1, 1, 1], trajectories=runs, l1=0.1, l2=0.1,
                            early_stopping=(0.1, 10))


def test_markdown(diag_analysis):
    s, runs, a = diag_analysis
    md = report.to_markdown(a)
    assert md.startswith("# Analysis of `seed_diagonal`")
    assert "$$f(x, y, z) = 3 x^{2} + 2 y^{2} + 4 z^{2} + 6$$" in md
    assert "$$\\nabla f =" in md and "$$\\nabla^2 f =" in md
    assert "| 1 | (0, 0, 0) | 6 | minimum | (4, 6, 8) | 2 |" in md
    assert "| (0, 0, 0) | (0.25, 0.166667, 0.125) | 0.125 | 0.25 | 0.166667 | 0.333333 |" in md
    assert "## Runs: measured vs predicted rates" in md
    assert "| gd (lr=0.09375) | max_steps | 200 |" in md
    assert "| diverged |" in md
    assert "## Slide errata" in md and "0.333" in md
    assert "## Regularization" in md and "## At the given point" in md


def test_markdown_runs_argument(diag_analysis):
    s, runs, a = diag_analysis
    bare = analyze(s)
    assert "## Runs" not in report.to_markdown(bare)
    md = report.to_markdown(bare, runs=runs)
    assert "| gd (lr=0.2625) | diverged |" in md
    assert report.to_markdown(bare, runs=a.runs) == md


def test_json(diag_analysis):
    _, _, a = diag_analysis
    d = json.loads(report.to_json(a))
    assert d["surface"]["name"] == "seed_diagonal"
    assert d["stationary_points"][0]["eta"]["stability_limit"] == pytest.approx(0.25)
    assert d["runs"][0]["measured_rate"] == pytest.approx(0.625, rel=1e-6)
    assert d["runs"][1]["status"] == "diverged"
    assert d["regularization"]["l1"]["optimum"] == [0.0, 0.0, 0.0]
    sad = json.loads(report.to_json(analyze(load_surface("seed_saddle"), l2=0.1)))
    assert sad["bounded_below"] is False
    assert sad["regularization"]["l2"]["optimum"] is None
    assert sad["stationary_points"][0]["condition_number"] is None


def test_table(diag_analysis):
    _, _, a = diag_analysis
    t = report.to_table(a)
    assert "stationary points (linear):" in t
    assert "runs (measured vs predicted linear rate):" in t
    lines = t.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("#  point"))
    assert set(lines[head + 1]) <= {"-", " "}
    assert "slide erratum" in t


def test_table_needs_no_rich():
    code = (
        "import sys\n"
        "from optiviz import report\n"
        "from optiviz.analysis import analyze\n"
        "from optiviz.library import load_surface\n"
        "print(report.to_table(analyze(load_surface('himmelblau'))))\n"
        "assert 'rich' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("minimum") >= 4


def test_fmt():
    assert report.fmt(None) == "n/a"
    assert report.fmt(float("nan")) == "n/a"
    assert report.fmt(1 / 3) == "0.333333"
    assert report.fmt(-0.0) == "0"
    assert report.fmt(np.array([1.0, 2.5])) == "(1, 2.5)"
    assert report.fmt(123456789.0) == "1.23457e+08"
    assert report.fmt(True) == "yes"
