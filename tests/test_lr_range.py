"""The LR range test: the suggestion against the Hessian's rates on the seed quadratics
(the factor the report states), the reading rules, the figure, the CSV and report.md."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from optiviz import analyze, make_optimizer  # noqa: E402
from optiviz.analysis.lr_range import lr_range_test  # noqa: E402
from optiviz.config import load_config, parse_config  # noqa: E402
from optiviz.engine import run  # noqa: E402
from optiviz.experiment import run_experiment  # noqa: E402
from optiviz.figures.lr_range import QUADRATIC_NOTE  # noqa: E402
from optiviz.schedules import make_schedule  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = {
    # config, Hessian eigenvalues (closed forms in the configs' comments)
    "worked-a-correlated-quadratic": (0.144160, 0.578062),
    "worked-b-diagonal-quadratic": (4.0, 8.0),
    "lr-dependence": (1.0, 3.0),
}


@pytest.mark.parametrize("name", list(SEEDS))
def test_the_suggestion_lies_within_the_stated_factor_below_1_over_lambda_max(name):
    cfg = load_config(ROOT / "configs" / f"{name}.yaml")
    s = cfg.build_surface()
    lo, hi = SEEDS[name]
    eta = analyze(s).minimum.eta
    assert eta["inverse_lambda_max"] == pytest.approx(1 / hi, rel=1e-5)
    assert eta["optimal_fixed"] == pytest.approx(2 / (lo + hi), rel=1e-5)
    assert eta["stability_limit"] == pytest.approx(2 / hi, rel=1e-5)
    sched = make_schedule("exponential_range", lr_min=1e-4, lr_max=10.0, steps=100)
    tr = run(s, make_optimizer("gd", lr=1e-4), cfg.start, 100, schedule=sched)
    r = lr_range_test(
        sched(np.arange(1, 101), 1e-4),
        tr.losses,
        hessian={k: eta[k] for k in ("inverse_lambda_max", "optimal_fixed", "stability_limit")},
    )
    # QUADRATIC_NOTE (in report.md): below 1/lambda_max by a factor between 1 and 12
    assert "between 1 and 12" in QUADRATIC_NOTE
    assert 1.0 <= r.ratios["inverse_lambda_max"] <= 12.0
    assert r.ratios["inverse_lambda_max"] == pytest.approx((1 / hi) / r.suggestion)
    # and so below the best fixed step and the stability limit too
    assert r.ratios["inverse_lambda_max"] < r.ratios["optimal_fixed"] < r.ratios["stability_limit"]


def test_the_reading_rules_on_a_hand_made_curve():
    # rates 10^(-3 .. 0) over 31 steps; losses x_0 .. x_31 with the steepest drop from
    # step 12 to 13 (pairs (lr_t, f(x_{t-1})): pair 12 has f(x_11) = 10, pair 13 f(x_12) = 1)
    lr = 10.0 ** np.linspace(-3, 0, 31)
    losses = np.full(32, 10.0)
    losses[12:] = 1.0
    losses[20:] = 0.9
    losses[25:] = 100.0  # blown up: the test stops there (smoothed > 4 x best)
    r = lr_range_test(lr, losses, smoothing=0.0)
    assert r.index == 11 and r.suggestion == lr[11]  # the left end of the steepest difference
    np.testing.assert_allclose(r.slope[11], (1.0 - 10.0) / np.log(lr[12] / lr[11]))
    assert r.used == 26  # pairs 1 .. 26: pair 26 (f(x_25) = 100) is the first beyond 4 x best
    # smoothing 0.5, debiased: the first smoothed value is the first loss itself
    r = lr_range_test(lr, losses, smoothing=0.5)
    assert r.smoothed[0] == 10.0
    assert r.smoothed[12] == pytest.approx((0.5 * 10 * (1 - 0.5**12) + 0.5) / (1 - 0.5**13))


def test_the_shipped_range_test_config_writes_the_csv_the_figure_and_the_report(tmp_path):
    cfg = load_config(ROOT / "configs" / "lr-range-test.yaml")
    result = run_experiment(cfg, out_dir=tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "lr_range.png").is_file()
    rows = list(csv.DictReader(io.StringIO((out / "lr_range.csv").read_text())))
    assert list(rows[0]) == ["entry", "step", "lr", "loss", "smoothed_loss", "slope"]
    gd = [r for r in rows if r["entry"] == "0"]
    assert float(gd[0]["lr"]) == 1e-4 and float(gd[0]["loss"]) == pytest.approx(
        0.5 * 4 + 1.5 * 2.25
    )  # f(x_0) at (-2, 1.5)
    report = (out / "report.md").read_text()
    assert "## LR range test" in report and QUADRATIC_NOTE in report
    line = next(ln for ln in report.splitlines() if ln.startswith("| 0: GD"))
    traj = result.trajectories[0]
    sched = make_schedule("exponential_range", lr_min=1e-4, lr_max=10.0, steps=100)
    r = lr_range_test(
        sched(np.arange(1, traj.n_steps + 1), 1e-4),
        traj.losses,
        hessian={"inverse_lambda_max": 1 / 3, "optimal_fixed": 0.5, "stability_limit": 2 / 3},
    )
    assert f"({r.ratios['inverse_lambda_max']:.3g} x)" in line
    assert f"({r.ratios['stability_limit']:.3g} x)" in line


def test_lr_range_needs_a_range_test_entry():
    from optiviz.errors import ConfigError

    raw = {
        "name": "x",
        "surface": "ill_conditioned",
        "start": [3.0, 1.5],
        "optimizers": [{"name": "gd", "lr": 0.1}],
        "figures": ["lr_range"],
    }
    with pytest.raises(ConfigError, match="'lr_range' is not allowed: no optimizer entry"):
        parse_config(raw, "x.yaml")
    with pytest.raises(ConfigError, match=r"figures\[0\].lr_range.smoothing"):
        parse_config({**raw, "figures": [{"lr_range": {"smoothing": 1.0}}]}, "x.yaml")
