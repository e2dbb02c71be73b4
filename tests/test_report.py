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
    return (
        s,
        runs,
        analyze(s, at=[1, 1, 1], trajectories=runs, l1=0.1, l2=0.1, early_stopping=(0.1, 10)),
    )


def test_markdown(diag_analysis):
    s, runs, a = diag_analysis
    md = report.to_markdown(a)
    assert md.startswith("# Analysis of `seed_diagonal`")
    assert "$$f(x, y, z) = 3 x^{2} + 2 y^{2} + 4 z^{2} + 6$$" in md
    assert "$$\\nabla f =" in md and "$$\\nabla^2 f =" in md
    assert "| 1 | (0, 0, 0) | 6 | minimum | (4, 6, 8) | 2 |" in md
    # 1/lambda_i by variable (H is diagonal), as worked problem B lists them (issue 9)
    assert "| (0, 0, 0) | x 0.166667, y 0.25, z 0.125 | 0.125 | 0.25 | 0.166667 | 0.333333 |" in md
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
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


# -- surfaces with kinks (ReLU networks) -------------------------------------------------------
RELU_SQUARED = "(d - (w31*relu(w11*x1 + w12*x2) + w32*relu(w21*x1 + w22*x2)))**2/2"
RELU_XENT = (
    "-d*log(sigmoid(w31*relu(w11*x1 + w12*x2) + w32*relu(w21*x1 + w22*x2))) - "
    "(1 - d)*log(1 - sigmoid(w31*relu(w11*x1 + w12*x2) + w32*relu(w21*x1 + w22*x2)))"
)
RELU_VARS = ["w11", "w12", "w21", "w22", "w31", "w32"]


def _relu_net(expr):
    from optiviz.surface import Surface

    return Surface.from_expression(
        expr,
        RELU_VARS,
        {"x1": 1, "x2": 1, "d": 0},
        name="relu_net",
        window=[[-1, 1.5], [-0.5, 1.5], [-1, 1.5], [-1, 1.5], [-0.5, 1.5], [-1, 1.5]],
    )


def _stationary_rows(text, prefix):
    return [ln for ln in text.split("tationary points", 1)[1].splitlines() if ln.startswith(prefix)]


@pytest.fixture(scope="module")
def relu_analyses():
    return analyze(_relu_net(RELU_SQUARED)), analyze(_relu_net(RELU_XENT))


def test_relu_network_stationary_table_is_short_and_says_why(relu_analyses):
    sq, xent = relu_analyses
    assert sq.summary["found"] > 100  # hundreds of samples of flat regions
    md = report.to_markdown(sq)
    rows = [r for r in _stationary_rows(md, "| ") if r[2:3].isdigit()]
    assert 1 <= len(rows) <= report.IRREGULAR_ROWS
    more = sq.summary["found"] - len(rows)
    assert f"... and {more} more degenerate points (flat regions of the ReLU network)" in md
    assert "applies only where the surface is smooth" in md
    table = report.to_table(sq)
    assert len([r for r in _stationary_rows(table, "") if r[:1].isdigit()]) == len(rows)
    assert f"and {more} more degenerate points" in table
    assert "Hessian theory" in table  # the notes say it in the terminal too
    # cross-entropy: the saddles sit on the ReLU kinks (both units at z = 0, w3 = 0)
    assert xent.saddles and all(p.at_kink for p in xent.saddles)
    md2 = report.to_markdown(xent)
    rows2 = [r for r in _stationary_rows(md2, "| ") if r[2:3].isdigit()]
    assert len(rows2) <= report.IRREGULAR_ROWS
    assert all("(on a kink)" in r for r in rows2)
    assert "more saddles on a kink" in md2
    # no per-point notes for hundreds of points: one line each for flat regions and kinks
    assert len(xent.notes) < 10 and len(sq.notes) < 10


def test_relu_network_json_is_complete_but_bounded(relu_analyses):
    from optiviz.analysis import MAX_POINTS

    for a in relu_analyses:
        text = report.to_json(a)
        d = json.loads(text)
        assert len(d["stationary_points"]) == MAX_POINTS == d["stationary_summary"]["kept"]
        summ = d["stationary_summary"]
        assert sum(summ["kinds"].values()) == summ["found"] > MAX_POINTS
        assert d["kinks"] is True
        assert all("at_kink" in p for p in d["stationary_points"])
        assert len(text) < 400_000


def test_smooth_surfaces_list_every_point():
    a = analyze(load_surface("himmelblau"))
    md = report.to_markdown(a)
    assert len([r for r in _stationary_rows(md, "| ") if r[2:3].isdigit()]) == 9
    assert "... and" not in md and "kinks" not in md
    assert not any(p.at_kink for p in a.stationary_points)
    assert json.loads(report.to_json(a))["kinks"] is False


def test_points_on_a_kink():
    from optiviz.analysis import _at_kinks
    from optiviz.surface import Surface

    s = Surface.from_expression("abs(x) + Max(y, 1 - y, 0) + Min(x, y)", ["x", "y"])
    flags = _at_kinks(s, np.array([[0.0, 0.3], [0.5, 0.5], [0.2, 0.2], [0.3, 0.9], [0.1, -2.0]]))
    # abs at x = 0; Max ties y = 1 - y at 0.5; Min ties at x = y; nothing at (0.3, 0.9);
    # Max(y, 1 - y, 0) with y = -2: the two largest (3 and 0) do not tie
    assert flags.tolist() == [True, True, True, False, False]
    # the L1-regularized seed: its minimum (0.983333, 0) sits on the kink y = 0
    a = analyze(load_surface("seed_l1").regularized(l1=0.1))
    assert a.minimum.at_kink and a.minimum.point == pytest.approx([1 - 0.1 / 6, 0])
    md = report.to_markdown(a)
    assert "| (0.983333, 0) (on a kink) |" in md
    assert "minimum (on a kink)" in md


def test_report_is_reachable_from_import_optiviz():
    # a fresh interpreter: `import optiviz` alone must give optiviz.report (a lazy attribute)
    code = (
        "import optiviz\n"
        "a = optiviz.analyze(optiviz.load_surface('seed_diagonal'))\n"
        "print(optiviz.report.to_markdown(a).splitlines()[0])\n"
        "assert 'report' in dir(optiviz)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "# Analysis of `seed_diagonal`"


#: The lecture-slide errata as the analysis module held them before they moved into the
#: surfaces' YAML (`errata:`); the corrected numbers are those of docs/worked-problems.
SLIDE_ERRATA = {
    "seed_diagonal": [
        "the largest learning rate that converges is 2/lambda_max = 0.25 (the slide says "
        "0.333: min(2/6, 2/4, 2/8) is 0.25)",
        "the slide's 'optimal learning rate' 1/lambda_max = 0.125 only zeroes the steepest "
        "direction in one step; the fixed step with the fastest worst-case rate is "
        "2/(lambda_min + lambda_max) = 0.166667, contracting by 1/3 per step",
    ],
    "seed_quadratic": [
        "the RProp slide prints +0.4167 for dE/dw1 at w(t) = (1.5, 2); the gradient there is "
        "(-0.416667, -0.194444), so neither coordinate changes sign and the lecture RProp "
        "step gives (2.25, 3.5), not (1.3, 3.5)",
        "the Nesterov slide writes the look-ahead as '1.5 + 0.9*1.5'; it is 1.5 + 0.9*0.5 = "
        "1.95 (and 2 + 0.9*1 = 2.9); the printed results (2.0525, 2.920833) are right",
    ],
    "seed_saddle": [
        "the slide answers (0, 0) for the L2-regularized minimizer; (0, 0) is a saddle "
        "(Hessian eigenvalues 10.324555 and -2.324555), the loss is unbounded below and "
        "adding 0.1 I leaves the Hessian indefinite: there is no minimizer",
    ],
    "seed_l1": [
        "the slide writes theta* = 1/6 on one line; the unregularized optimum is x = 1 and "
        "the slide's final answer (0.983333, 0) = (1 - 0.1/6, 0) is right",
    ],
}


@pytest.mark.parametrize("name", sorted(SLIDE_ERRATA))
def test_every_slide_erratum_is_printed_for_its_surface(name):
    s = load_surface(name)
    assert s.errata == tuple(SLIDE_ERRATA[name])
    a = analyze(s)
    md = report.to_markdown(a)
    section = md.split("## Slide errata\n\n", 1)[1]
    assert section.strip().splitlines() == [f"- {e}" for e in SLIDE_ERRATA[name]]
    assert "slide erratum" not in md  # in their own section, not among the notes
    table = report.to_table(a)
    for e in SLIDE_ERRATA[name]:
        assert f"  - slide erratum: {e}" in table.splitlines()
    assert json.loads(report.to_json(a))["errata"] == SLIDE_ERRATA[name]


def test_only_surfaces_with_errata_print_a_section():
    from optiviz.library import available_surfaces, surface_info

    assert {n for n in available_surfaces() if surface_info(n).get("errata")} == set(SLIDE_ERRATA)
    md = report.to_markdown(analyze(load_surface("rosenbrock")))
    assert "Slide errata" not in md and "slide erratum" not in md


def test_errata_must_be_a_list_of_strings():
    from optiviz.errors import SurfaceError
    from optiviz.library import surface_info, validate_info

    info = surface_info("seed_l1")
    for bad in ("one string", [""], [3]):
        with pytest.raises(SurfaceError, match="'errata' must be a list of non-empty strings"):
            validate_info({**info, "errata": bad}, "surfaces/seed_l1.yaml")


def test_a_long_list_of_learning_rates_is_elided_without_its_eigenvectors():
    """Beyond 10 directions the report lists 1/lambda_i for the first 6 and last 2 (the
    eigenvectors would be n^2 numbers: 10^6 for the 1000-D Rosenbrock); up to 10, each
    value along its eigenvector. lambda_i = i: 1/lambda_i = 1, 0.5, ..., 1/12."""
    from optiviz.report.table import per_direction

    lam = np.arange(1.0, 13.0)
    eye = np.eye(12)
    text = per_direction({"per_direction": list(1 / lam), "directions": list(eye)})
    shown = "; ".join(f"{1 / v:.6g}" for v in lam[:6]) + "; …; 0.0909091; 0.0833333"
    assert text.startswith(shown + " (12 values, ascending eigenvalues")
    assert " along " not in text
    few = per_direction({"per_direction": [1.0, 0.5], "directions": [[1.0, 0.0], [0.0, 1.0]]})
    assert few == "1 along (1, 0); 0.5 along (0, 1)"
