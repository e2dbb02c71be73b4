"""Suites: the Moré-Wild test and profiles against hand computations, suite.csv as the data
the profiles are computed from, the ``suite:`` block's errors at their key paths, the cost."""

from __future__ import annotations

import csv
import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from optiviz.cli import app  # noqa: E402
from optiviz.config import apply_overrides, parse_config  # noqa: E402
from optiviz.errors import ConfigError  # noqa: E402
from optiviz.experiment import run_experiment  # noqa: E402
from optiviz.suite import (  # noqa: E402
    average_ranks,
    cost_to_pass,
    data_profile,
    performance_profile,
    performance_ratios,
    read_suite_csv,
)

# -- a hand-made suite.csv: four problems, three optimizers --------------------------------------
#   problem  n   A     B     C        ratios r = t / min_s t
#   0        2   10    20    fail     1, 2, inf
#   1        3   40    10    5        8, 2, 1
#   2        2   fail  fail  fail     inf, inf, inf   (no one solves it)
#   3        1   0     0     0        1, 1, 1         (the start passes: every solver ties)
HAND = {
    (0, "A"): 10,
    (0, "B"): 20,
    (0, "C"): None,
    (1, "A"): 40,
    (1, "B"): 10,
    (1, "C"): 5,
    (2, "A"): None,
    (2, "B"): None,
    (2, "C"): None,
    (3, "A"): 0,
    (3, "B"): 0,
    (3, "C"): 0,
}
N = {0: 2, 1: 3, 2: 2, 3: 1}
HEAD = (
    "problem,surface,n,start,x0,f0,f_star,f_star_source,optimizer,label,lr,schedule,cost,"
    "cost_unit,final_loss,best_loss,status,run_status,n_steps,diverged_at"
)


def _hand_csv() -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEAD.split(","))
    for (p, label), t in HAND.items():
        status = "unsolved" if t is None else "solved"
        w.writerow(
            [p, f"s{p}", N[p], 0, "0.0 0.0", 1.0, 0.0, "known minimum", "gd", label, 0.1, ""]
            + ["" if t is None else t, "steps", 0.5, 0.5, status, "max_steps", 100, ""]
        )
    return buf.getvalue()


def test_performance_profiles_match_a_direct_computation_from_suite_csv():
    table = read_suite_csv(_hand_csv())
    assert table.labels == ["A", "B", "C"]
    assert table.n.tolist() == [2, 3, 2, 1]
    # rho_s(tau) = |{p : r_ps <= tau}| / |P|, counted by hand from the ratios above
    taus = [1.0, 2.0, 7.9, 8.0, 1e9]
    expected = {
        "A": [2 / 4, 2 / 4, 2 / 4, 3 / 4, 3 / 4],  # p0, p3; then p1 at tau = 8
        "B": [1 / 4, 3 / 4, 3 / 4, 3 / 4, 3 / 4],  # p3; p0 and p1 at tau = 2
        "C": [2 / 4, 2 / 4, 2 / 4, 2 / 4, 2 / 4],  # p1, p3; p0 and p2 never
    }
    rho = performance_profile(table.costs, taus)
    for k, label in enumerate(table.labels):
        assert rho[k].tolist() == pytest.approx(expected[label], abs=0), label
    r = performance_ratios(table.costs)
    assert r[:, 0].tolist() == [1.0, 8.0, math.inf, 1.0]


def test_data_profiles_match_a_direct_computation_from_suite_csv():
    table = read_suite_csv(_hand_csv())
    # d_s(alpha) = |{p : t_ps / (n_p + 1) <= alpha}| / |P|: the budgets t / (n + 1) are
    #   A: 10/3, 40/4 = 10, -, 0     B: 20/3, 10/4 = 2.5, -, 0     C: -, 5/4 = 1.25, -, 0
    alphas = [0.0, 1.25, 2.5, 10 / 3, 20 / 3, 10.0]
    expected = {
        "A": [1 / 4, 1 / 4, 1 / 4, 2 / 4, 2 / 4, 3 / 4],
        "B": [1 / 4, 1 / 4, 2 / 4, 2 / 4, 3 / 4, 3 / 4],
        "C": [1 / 4, 2 / 4, 2 / 4, 2 / 4, 2 / 4, 2 / 4],
    }
    d = data_profile(table.costs, table.n, alphas)
    for k, label in enumerate(table.labels):
        assert d[k].tolist() == pytest.approx(expected[label], abs=0), label


def test_the_convergence_test_and_its_cost_in_a_given_unit():
    # f(x0) = 10, f* = 0, tol = 1e-3: passed at the first loss <= 0.01, step 3
    losses = np.array([[10.0, 5.0, 1.0, 0.01, 0.001], [10.0, 20.0, np.nan, np.nan, np.nan]])
    assert cost_to_pass(losses, 10.0, 0.0, 1e-3).tolist() == [3.0, math.inf]
    # the unit is one argument: cumulative cost 0, 2, 4, 6, 8 (two evaluations a step)
    spent = np.tile(np.arange(5) * 2.0, (2, 1))
    assert cost_to_pass(losses, 10.0, 0.0, 1e-3, spent).tolist() == [6.0, math.inf]
    # f* = 3: the threshold is 3 + 1e-3 (10 - 3) = 3.007
    assert cost_to_pass([[10.0, 3.1, 3.007]], 10.0, 3.0, 1e-3).tolist() == [2.0]


def test_ranks_order_solved_then_unsolved_then_diverged_and_ties_share():
    # classes 0 solved (by cost), 1 unsolved (by final objective), 2 diverged
    classes = [[0, 0, 1, 2], [1, 1, 2, 0]]
    values = [[5.0, 5.0, 0.1, np.nan], [0.3, 0.2, np.inf, 100.0]]
    assert average_ranks(classes, values).tolist() == [[1.5, 1.5, 3.0, 4.0], [3.0, 2.0, 4.0, 1.0]]


# -- a small suite, run end to end -----------------------------------------------------------------
SMALL = {
    "name": "small-suite",
    "steps": 60,
    "seed": 3,
    "suite": {
        "surfaces": [
            "booth",
            # no minimum listed: judged against the best value found
            {"expression": "(x - 1)**2 + 4*(y + 2)**2", "variables": ["x", "y"], "name": "bowl"},
        ],
        "starts": [[0.0, 0.0], [2.0, -1.0]],
        "optimizers": [
            {"name": "gd", "lr": 0.05},
            {"name": "gd", "lr": 0.5, "label": "gd fast"},
            {"name": "newton", "lr": 1.0},
        ],
        "tolerance": 1e-3,
    },
    "figures": [{"performance_profile": {"dpi": 40}}, {"data_profile": {"dpi": 40}}],
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite") / "out"
    cfg = parse_config(SMALL, "<small>")
    return cfg, run_experiment(cfg, out_dir=out), out


def _booth_gd_cost(x0, lr, tol, steps):
    """GD on Booth written out here: f = (x + 2y - 7)^2 + (2x + y - 5)^2, f* = 0."""
    x = np.array(x0, dtype=float)

    def f(p):
        return (p[0] + 2 * p[1] - 7) ** 2 + (2 * p[0] + p[1] - 5) ** 2

    f0 = f(x)
    for t in range(steps + 1):
        if f(x) <= tol * f0:
            return t
        a, b = x[0] + 2 * x[1] - 7, 2 * x[0] + x[1] - 5
        x = x - lr * np.array([2 * a + 4 * b, 4 * a + 2 * b])
    return None


def test_a_suite_writes_one_row_per_problem_and_optimizer(small):
    cfg, result, out = small
    rows = list(csv.DictReader(io.StringIO((out / "suite.csv").read_text())))
    assert len(rows) == 2 * 2 * 3 == len(result.rows)
    booth = [r for r in rows if r["surface"] == "booth"]
    for r in booth:
        assert r["f_star"] == "0.0" and r["f_star_source"] == "known minimum"
        x0 = [float(v) for v in r["x0"].split()]
        if r["label"] == "gd (lr=0.05)":  # GD's cost against the loop above
            want = _booth_gd_cost(x0, 0.05, 1e-3, 60)
            assert r["cost"] == ("" if want is None else f"{float(want)!r}")
            assert r["lr"] == "0.05"
        if r["optimizer"] == "newton":  # a quadratic: Newton lands on the minimum in 1 step
            assert r["cost"] == "1.0" and r["status"] == "solved"
        if r["label"] == "gd fast":  # lr 0.5 > 2 / lambda_max = 2 / 18: GD diverges
            assert r["status"] == "diverged" and r["cost"] == ""
    # no minimum listed: f* is the lowest loss of a run that did not diverge (Newton: 0)
    bowl = [r for r in rows if r["surface"] == "bowl"]
    assert {r["f_star_source"] for r in bowl} == {"best found"}
    for p in {r["problem"] for r in bowl}:
        best = min(
            float(r["best_loss"])
            for r in bowl
            if r["problem"] == p and r["run_status"] != "diverged"
        )
        assert {float(r["f_star"]) for r in bowl if r["problem"] == p} == {best}
    report = (out / "report.md").read_text()
    assert "## Ranks" in report and "| 1 | newton (lr=1) | 4 |" in report
    assert "Judged against the best value found (no known minimum): bowl." in report


def test_the_profile_figures_data_is_the_profile_of_suite_csv(small):
    cfg, result, out = small
    table = read_suite_csv((out / "suite.csv").read_text())
    for kind in ("performance_profile", "data_profile"):
        rows = list(csv.reader(io.StringIO((out / f"{kind}.csv").read_text())))
        assert rows[0][1:] == table.labels
        xs = np.array([float(r[0]) for r in rows[1:]])
        drawn = np.array([[float(v) for v in r[1:]] for r in rows[1:]]).T
        direct = (
            performance_profile(table.costs, xs)
            if kind == "performance_profile"
            else data_profile(table.costs, table.n, xs)
        )
        assert drawn.tolist() == direct.tolist()
    assert {"performance_profile.png", "data_profile.png"} <= set(result.files)


def test_the_resolved_config_reparses_to_the_same_suite(small, tmp_path):
    cfg, result, out = small
    from optiviz.config import load_config

    again = load_config(out / "config.yaml")
    assert again.to_dict() == cfg.to_dict()
    assert [p.x0 for p in again.problems] == [p.x0 for p in cfg.problems]
    assert [s.label for s in again.spec.surfaces] == ["booth", "bowl"]
    capped = apply_overrides(cfg, max_steps=5)
    assert capped.steps == 5 and capped.suite == cfg.suite
    with pytest.raises(ConfigError, match="'contour' is not allowed in a suite config"):
        run_experiment(cfg, out_dir=tmp_path / "o", figures=["contour"])
    assert not (tmp_path / "o").exists()


# -- starts, cost, errors -----------------------------------------------------------------------
def _suite(**changes):
    raw = {**SMALL, "suite": {**SMALL["suite"], **changes}}
    return raw


def test_random_starts_are_seeded_and_inside_each_window():
    cfg = parse_config(_suite(starts={"random": 3}, surfaces=["booth"]), "<r>")
    again = parse_config(_suite(starts={"random": 3}, surfaces=["booth"]), "<r>")
    other = parse_config({**_suite(starts={"random": 3}, surfaces=["booth"]), "seed": 4}, "<r>")
    pts = np.array([p.x0 for p in cfg.problems])
    assert pts.shape == (3, 2) and [p.x0 for p in again.problems] == [tuple(p) for p in pts]
    assert [p.x0 for p in other.problems] != [p.x0 for p in cfg.problems]
    w = cfg.build_surfaces()[0].window  # booth: [-4, 6] x [-2, 8]
    assert ((pts >= w[:, 0]) & (pts <= w[:, 1])).all()


def test_a_family_item_gives_one_surface_per_value_and_the_work_counts_every_run():
    raw = _suite(
        surfaces=[
            {
                "name": "quadratic",
                "parameters": {
                    "A": {"values": [[[1, 0], [0, 2]], [[1, 0, 0], [0, 2, 0], [0, 0, 3]]]}
                },
                "starts": {"random": 2},
            }
        ],
        optimizers=[{"name": "gd", "lr": 1e-3}, {"name": "newton"}],
    )
    cfg = parse_config(raw, "<f>")
    assert [s.label for s in cfg.spec.surfaces] == [
        "quadratic (A=[[1,0],[0,2]])",
        "quadratic (A=[[1,0,0],[0,2,0],[0,0,3]])",
    ]
    assert [len(p.x0) for p in cfg.problems] == [2, 2, 3, 3]
    # work: 2 surfaces x 2 starts x 60 steps, weighted 1 for gd and 1 + n for newton
    assert cfg.cost().work == 2 * 2 * 60 * 1 + 2 * 60 * (1 + 2) + 2 * 60 * (1 + 3)


def test_errors_name_the_field_and_validate_refuses_them(tmp_path):
    raw = {
        **_suite(
            surfaces=["booth", "nope", {"name": "seed_diagonal"}],
            optimizers=[
                {"name": "gd", "lr": -1},
                {"name": "adam", "lr": {"grid": {"values": [0.1, 1]}}},
            ],
            tolerance=2,
        ),
        "surface": "booth",
    }
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, "s.yaml")
    text = "\n".join(exc.value.errors)
    assert "s.yaml: surface: is not allowed in a suite config" in text
    assert "suite.optimizers[0].lr: -1 is not allowed" in text
    assert "suite.optimizers[1].lr: a grid is not allowed in a suite entry" in text
    assert "suite.tolerance: 2 is not allowed: must be a float in the range (0, 1)" in text
    # once the blocks are valid, the surfaces are built and the starts checked against them
    with pytest.raises(ConfigError) as exc:
        parse_config(_suite(surfaces=["booth", "nope"]), "s.yaml")
    assert "suite.surfaces[1]: nope: unknown surface 'nope'" in str(exc.value)
    with pytest.raises(
        ConfigError,
        match=r"suite.starts\[0\]: \[0.0, 0.0\] has 2 numbers but "
        r"suite.surfaces\[1\] \(seed_diagonal\) has 3 variables",
    ):
        parse_config(_suite(surfaces=["booth", "seed_diagonal"]), "s.yaml")
    with pytest.raises(ConfigError, match=r"figures\[0\]: 'contour' is not allowed in a suite"):
        parse_config({**SMALL, "figures": ["contour"]}, "s.yaml")
    with pytest.raises(ConfigError, match=r"figures\[0\]: 'performance_profile' is not allowed: "):
        parse_config(
            {
                "surface": "booth",
                "start": [0, 0],
                "optimizers": ["gd"],
                "figures": ["performance_profile"],
            },
            "x.yaml",
        )
    import yaml

    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(_suite(cost="seconds")))
    res = CliRunner().invoke(app, ["validate", str(p)])
    assert res.exit_code == 2 and "suite.cost: 'seconds' is not allowed" in res.output
    assert sorted(tmp_path.iterdir()) == [p]
    # the commands that analyse one surface refuse a suite (which one would they take?)
    p.write_text(yaml.safe_dump(SMALL))
    res = CliRunner().invoke(app, ["report", str(p)])
    assert res.exit_code == 2 and "is a suite of 2 surfaces: name one surface" in res.output


def test_a_suite_beyond_the_work_limit_is_refused_at_its_entry():
    from optiviz.config.schema import MAX_WORK

    raw = {**_suite(starts={"random": 1000}), "steps": MAX_WORK // 1000 + 1}
    with pytest.raises(ConfigError, match=r"suite.optimizers\[\d\]: the config is too much work"):
        parse_config(raw, "<w>")


def test_a_suite_counted_in_evaluations_charges_newton_its_hessians():
    # Booth is a quadratic: Newton (lr 1) solves it in one step, which evaluates f, the
    # gradient and the Hessian at x_1 (engine: f and gradient; Newton: the Hessian at x_0,
    # counted in step 1): weights f 1, gradient 1, Hessian n = 2 give 1 + 1 + 2 = 4;
    # GD (lr 0.05) pays 2 evaluations a step, so its cost is twice its steps.
    from optiviz.config import parse_config
    from optiviz.experiment import run_experiment

    raw = {
        "name": "evals",
        "steps": 60,
        "suite": {
            "surfaces": ["booth"],
            "starts": [[0.0, 0.0]],
            "optimizers": [{"name": "newton", "lr": 1.0}, {"name": "gd", "lr": 0.05}],
            "cost": "evaluations",
        },
    }
    by_steps = {**raw, "suite": {**raw["suite"], "cost": "steps"}}
    rows = {}
    for unit, cfg in (("evaluations", raw), ("steps", by_steps)):
        result = run_experiment(parse_config(cfg, "x.yaml"), write=False, figures=[])
        rows[unit] = {r.label: r for r in result.rows}
    assert rows["evaluations"]["newton (lr=1)"].cost == 4.0
    assert rows["steps"]["newton (lr=1)"].cost == 1.0
    gd_steps = rows["steps"]["gd (lr=0.05)"].cost
    assert math.isfinite(gd_steps) and rows["evaluations"]["gd (lr=0.05)"].cost == 2 * gd_steps


def test_a_tuned_suite_runs_each_entry_s_best_trial_per_surface():
    # suite.tune: every entry gets the same 8 Sobol trials on each surface (over its two
    # starts); the suite then runs the best setting, so the mean final loss of its rows on
    # a surface is the best trial's objective (final_loss, the mean over the starts), and
    # the trials count in the work validate checks (budget + 1 runs of the entry)
    from optiviz.config import parse_config
    from optiviz.experiment import run_experiment
    from optiviz.tuning import tune

    raw = {
        "name": "tuned",
        "steps": 50,
        "suite": {
            "surfaces": ["booth", "himmelblau"],
            "starts": [[0.0, 0.0], [1.0, -1.0]],
            "optimizers": [{"name": "gd"}, {"name": "momentum", "momentum": 0.5}],
            "tune": {"budget": 8, "space": {"gd": {"lr": {"log": [1e-4, 0.1]}}}},
        },
    }
    cfg = parse_config(raw, "x.yaml")
    fixed = parse_config({**raw, "suite": {k: v for k, v in raw["suite"].items() if k != "tune"}})
    assert cfg.cost().work == 9 * fixed.cost().work
    result = run_experiment(cfg, write=False, figures=[])
    for j, name in enumerate(["booth", "himmelblau"]):
        surf = cfg.build_surfaces()[j]
        for k, entry in enumerate(cfg.optimizers):
            rows = [r for r in result.rows if r.entry == k and r.problem // 2 == j]
            want = tune(
                surf,
                [{"name": entry.name, **dict(entry.hyperparameters)}],
                cfg.spec.tune[k],
                start=[[0.0, 0.0], [1.0, -1.0]],
                steps=50,
            ).optimizers[0]
            assert rows[0].hyperparameters["lr"] == pytest.approx(want.best_setting["lr"])
            mean = sum(r.final_loss for r in rows) / len(rows)
            assert mean == pytest.approx(want.best_objective, rel=1e-12), (name, entry.name)
    bad = {**raw, "suite": {**raw["suite"], "tune": {"budget": 0, "horizon": 5}}}
    with pytest.raises(ConfigError) as err:
        parse_config(bad, "x.yaml")
    text = str(err.value)
    assert "suite.tune.budget" in text and "suite.tune.horizon" in text
