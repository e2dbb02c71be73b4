"""The tuning protocol (optiviz.tuning, the tune: block): samplers against known points of
their sequences, the tuning curve against enumeration, objectives against closed forms,
exactly `budget` trials per optimizer, best.yaml rerunning to the reported objective,
identical tune.csv for one seed, and every refusal at its field."""

from __future__ import annotations

import csv
import io
import itertools
import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from optiviz import Surface, load_surface, make_optimizer, run
from optiviz.cli import app
from optiviz.config import load_config, parse_config
from optiviz.errors import ConfigError, OptivizError
from optiviz.experiment import run_experiment
from optiviz.optimizers import REGISTRY
from optiviz.optimizers.base import Search
from optiviz.tuning import TuneSpec, parse_space, tune, tuning_curve
from optiviz.tuning.curve import best_of_k_probabilities
from optiviz.tuning.objectives import run_objectives
from optiviz.tuning.samplers import (
    grid_counts,
    grid_points,
    halton_points,
    sobol_points,
    unit_points,
)

START = [-1.2, 1.0]


# -- samplers ------------------------------------------------------------------------------
def test_sobol_first_points_are_the_published_ones():
    # the unscrambled 3-D Sobol sequence in Gray-code order (Joe & Kuo's direction numbers;
    # scipy.stats.qmc.Sobol(d=2, scramble=False).random(8) lists the first two columns)
    expected = [
        [0.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.75, 0.25, 0.25],
        [0.25, 0.75, 0.75],
        [0.375, 0.375, 0.625],
        [0.875, 0.875, 0.125],
        [0.625, 0.125, 0.875],
        [0.125, 0.625, 0.375],
    ]
    np.testing.assert_array_equal(sobol_points(8, 3), expected)


def _natural_order_sobol(n_bits: int, d: int) -> np.ndarray:
    """The first 2^m Sobol points by the definition x_i = XOR_k bit_k(i) v_k (natural
    order; Gray-code order permutes them within each block of 2^m): an independent
    implementation from the direction numbers of the Joe-Kuo table, written out here."""
    table = {  # d: (s, a, m_1..m_s), new-joe-kuo-6.21201
        2: (1, 0, (1,)),
        3: (2, 1, (1, 3)),
        4: (3, 1, (1, 3, 1)),
        5: (3, 2, (1, 1, 1)),
        6: (4, 1, (1, 1, 3, 3)),
    }
    cols = []
    for j in range(1, d + 1):
        if j == 1:
            m = [1] * n_bits
        else:
            s, a, m0 = table[j]
            m = list(m0)
            for k in range(s, n_bits):
                new = m[k - s] ^ (m[k - s] << s)  # m_k = 2^s m_{k-s} xor ...
                for i in range(1, s):
                    if (a >> (s - 1 - i)) & 1:
                        new ^= m[k - i] << i
                m.append(new)
        v = [m[k] << (n_bits - 1 - k) for k in range(n_bits)]
        col = []
        for i in range(2**n_bits):
            x = 0
            for k in range(n_bits):
                if (i >> k) & 1:
                    x ^= v[k]
            col.append(x / 2**n_bits)
        cols.append(col)
    return np.array(cols).T


def test_sobol_matches_the_definition_from_the_direction_numbers():
    ours = sobol_points(64, 6)
    ref = _natural_order_sobol(6, 6)
    assert sorted(map(tuple, ours)) == sorted(map(tuple, ref))


def test_sobol_is_stratified_in_every_dimension_and_the_digital_shift_keeps_it():
    for pts in (sobol_points(256, 12), unit_points("sobol", 256, 12, seed=7)):
        for m in range(9):
            cells = (pts[: 2**m] * 2**m).astype(int)
            assert all(len(set(cells[:, j])) == 2**m for j in range(12))


def test_halton_first_points_are_the_published_ones():
    # bases 2 and 3, points 1..9 (Halton 1960; the sequence as listed on Wikipedia)
    expected = [
        (1 / 2, 1 / 3),
        (1 / 4, 2 / 3),
        (3 / 4, 1 / 9),
        (1 / 8, 4 / 9),
        (5 / 8, 7 / 9),
        (3 / 8, 2 / 9),
        (7 / 8, 5 / 9),
        (1 / 16, 8 / 9),
        (9 / 16, 1 / 27),
    ]
    np.testing.assert_allclose(halton_points(9, 2), expected, rtol=0, atol=1e-15)
    # base 5 (third coordinate): 1/5, 2/5, 3/5, 4/5, 1/25, 6/25
    np.testing.assert_allclose(halton_points(6, 3)[:, 2], [0.2, 0.4, 0.6, 0.8, 0.04, 0.24])


@pytest.mark.parametrize("sampler", ["random", "sobol", "halton"])
def test_seeded_samplers_repeat_for_a_seed_and_differ_across_seeds(sampler):
    a, b, c = (unit_points(sampler, 16, 3, s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (16, 3) and (a >= 0).all() and (a < 1).all()


def test_halton_rotation_is_the_sequence_shifted_modulo_one():
    u = unit_points("halton", 10, 2, seed=3)
    shift = np.random.default_rng(3).random(2)
    np.testing.assert_allclose(u, (halton_points(10, 2) + shift) % 1.0)


def test_grid_counts_split_the_budget_exactly():
    assert grid_counts(64, (None, None, None)) == (4, 4, 4)
    assert grid_counts(64, (None, None)) == (8, 8)
    assert grid_counts(12, (2, None)) == (2, 6)  # a values dimension keeps its count
    assert grid_counts(50, (None, None)) == (10, 5)
    assert grid_counts(7, (None, None)) is None  # 7 = 7 x 1: no factor >= 2 for both
    assert grid_counts(9, (2, None)) is None  # 2 does not divide 9
    g = grid_points((2, 3))
    np.testing.assert_array_equal(g, [[0, 0], [0, 0.5], [0, 1], [1, 0], [1, 0.5], [1, 1]])


# -- the tuning curve ------------------------------------------------------------------------
def test_tuning_curve_is_the_mean_of_the_best_over_every_subset():
    v = np.array([3.0, 0.5, 2.0, np.inf, 1.0, 4.0])
    c = tuning_curve(v)
    for k in range(1, 7):
        bests = [min(s) for s in itertools.combinations(v.tolist(), k)]
        expected = math.inf if any(b == math.inf for b in bests) else float(np.mean(bests))
        assert c.expected[k - 1] == pytest.approx(expected, rel=1e-12)
        assert c.median[k - 1] == np.quantile(bests, 0.5, method="inverted_cdf")
        assert c.low[k - 1] == np.quantile(bests, 0.1, method="inverted_cdf")
        assert c.high[k - 1] == np.quantile(bests, 0.9, method="inverted_cdf")
    assert c.expected[-1] == 0.5  # all trials: the best one


def test_best_of_k_probabilities_are_the_hypergeometric_ones():
    for n, k in [(5, 2), (64, 10), (10, 10), (7, 1)]:
        ref = [math.comb(n - i, k - 1) / math.comb(n, k) for i in range(1, n + 1)]
        np.testing.assert_allclose(best_of_k_probabilities(n, k), ref, rtol=1e-12, atol=1e-300)


# -- objectives ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def parabola():
    return Surface.from_expression("x**2/2", ["x"], minima=[{"point": [0], "value": 0}])


def test_area_and_steps_to_tol_follow_the_closed_form_of_gd_on_a_parabola(parabola):
    # GD on f = x^2/2 from x0 = 1: x_t = (1 - lr)^t, f_t = (1 - lr)^(2t) / 2, so
    # mean_{t=1..T} log10 f_t = log10(1/2) + (T + 1) log10(1 - lr)
    lrs, T = np.array([0.1, 0.3]), 20
    tr = run(parabola, make_optimizer("gd", lr=lrs), [1.0], T, record="path")
    area = run_objectives(tr, "area", T)
    np.testing.assert_allclose(area, np.log10(0.5) + (T + 1) * np.log10(1 - lrs), rtol=1e-12)
    # steps to f - f* <= 1e-4: the first t with (1 - lr)^(2t) / 2 <= 1e-4
    tr = run(parabola, make_optimizer("gd", lr=lrs), [1.0], 200, tol_loss=1e-4, record="final")
    expected = np.ceil(np.log(2e-4) / (2 * np.log(1 - lrs)))
    np.testing.assert_array_equal(run_objectives(tr, "steps_to_tol", 200), expected)


def test_a_diverged_run_counts_as_inf(parabola):
    tr = run(parabola, make_optimizer("gd", lr=[0.5, 3.0]), [1.0], 50, record="path")
    assert list(tr.status) == ["max_steps", "diverged"]
    for objective in ("final_loss", "best_loss", "area"):
        v = run_objectives(tr, objective, 50)
        assert np.isfinite(v[0]) and v[1] == math.inf


# -- search spaces ---------------------------------------------------------------------------
def test_default_spaces_come_from_the_params():
    assert REGISTRY["gd"].search_space() == {"lr": Search("log", 1e-5, 10.0)}
    adam = REGISTRY["adam"].search_space()
    assert adam["betas"] == (Search("uniform", 0.0, 0.99),) * 2
    assert set(REGISTRY["rmsprop"].search_space()) == {"lr", "alpha", "momentum"}
    assert set(REGISTRY["sgd"].search_space()) == {"lr", "momentum"}  # not dampening, eps
    assert REGISTRY["line_search"].search_space() == {}
    space = parse_space("adam")
    assert space.names == ("lr", "betas_1", "betas_2")


def test_a_space_is_overridden_key_by_key_and_an_entry_fixes_what_it_sets():
    s = parse_space("adam", {"betas": [{"uniform": [0.5, 0.9]}, 0.999], "eps": 1e-6})
    assert s.names == ("lr", "betas_1")
    assert s.setting([0.01, 0.7]) == {"lr": 0.01, "betas": (0.7, 0.999), "eps": 1e-6}
    s = parse_space("momentum", fixed={"momentum": 0.9})
    assert s.names == ("lr",) and s.fixed == {"momentum": 0.9}
    # log-uniform: the unit interval maps onto log lr
    np.testing.assert_allclose(
        parse_space("gd").values(np.array([[0.0], [0.5], [1.0]])).ravel(),
        [1e-5, 1e-5**0.5 * 10**0.5, 10.0],
    )


@pytest.mark.parametrize(
    ("optimizer", "given", "fixed", "key"),
    [
        ("adam", {"lr": {"log": [0, 1]}}, {}, "tune.space.adam.lr.log"),
        ("adam", {"lr": {"lg": [1e-3, 1]}}, {}, "tune.space.adam.lr.lg"),
        (
            "adam",
            {"betas": [{"uniform": [0, 1.5]}, 0.9]},
            {},
            "tune.space.adam.betas[0].uniform[1]",
        ),
        ("adam", {"lr": {"uniform": [1, 0.1]}}, {}, "tune.space.adam.lr.uniform"),
        ("adam", {"bogus": 1}, {}, "tune.space.adam.bogus"),
        ("sgd", {"nesterov": {"values": [0, 1]}}, {}, "tune.space.sgd.nesterov"),
        ("gd", {"lr": {"log": [1e-3, 1]}}, {"lr": 0.1}, "tune.space.gd.lr"),
    ],
)
def test_a_bad_space_is_refused_at_its_field(optimizer, given, fixed, key):
    with pytest.raises(OptivizError) as info:
        parse_space(optimizer, given, fixed)
    assert info.value.key == key


# -- the protocol ------------------------------------------------------------------------------
OPTS = ["gd", "momentum", "adam", {"name": "sgd", "nesterov": True, "momentum": 0.9}]


@pytest.fixture(scope="module")
def rosen():
    return load_surface("rosenbrock")


@pytest.mark.parametrize("sampler", ["grid", "random", "sobol", "halton"])
def test_every_optimizer_gets_exactly_budget_trials(rosen, sampler):
    result = tune(rosen, OPTS, TuneSpec(budget=16, sampler=sampler), start=START, steps=30)
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    for entry in range(len(OPTS)):
        mine = [r for r in rows if r["entry"] == str(entry)]
        assert len(mine) == 16 == len(result.optimizers[entry].objectives)
        assert [r["trial"] for r in mine] == [str(j) for j in range(16)]
        assert sum(r["best"] == "true" for r in mine) == 1
    # the grid of 16 over (lr, momentum) is 4 x 4: 4 distinct values of each
    if sampler == "grid":
        mom = result.optimizers[1].values
        assert len(set(mom[:, 0])) == 4 and len(set(mom[:, 1])) == 4


def test_the_same_seed_gives_the_same_tune_csv_and_another_seed_another(rosen):
    a, b, c = (
        tune(rosen, OPTS[:2], {"budget": 8, "sampler": "random", "seed": s}, start=START, steps=30)
        for s in (3, 3, 4)
    )
    assert a.to_csv() == b.to_csv()
    assert a.to_csv() != c.to_csv()


@pytest.mark.parametrize("objective", ["final_loss", "best_loss", "steps_to_tol", "area"])
def test_the_best_setting_rerun_alone_gives_the_reported_objective(rosen, objective):
    starts = [START, [0.5, -0.5]]
    result = tune(
        rosen,
        ["gd", "adam", "rmsprop"],
        TuneSpec(budget=8, objective=objective),
        start=starts,
        steps=60,
        tol_loss=1e-1 if objective == "steps_to_tol" else None,
    )
    for t in result.optimizers:
        per_start = []
        for x0 in starts:
            tr = run(
                rosen,
                make_optimizer(t.name, **t.best_setting),
                x0,
                60,
                tol_loss=1e-1 if objective == "steps_to_tol" else None,
                record="path",
            )
            per_start.append(run_objectives(tr, objective, 60)[0])
        assert np.mean(per_start) == t.best_objective  # exactly: the same arithmetic
        assert t.best_objective == t.objectives.min()


def test_an_optimizer_with_nothing_to_search_is_refused(rosen):
    with pytest.raises(OptivizError, match="nothing to tune") as info:
        tune(rosen, ["line_search"], {"budget": 4}, start=START, steps=5)
    assert info.value.key == "optimizers[0]"


# -- the tune: block -------------------------------------------------------------------------
BASE = {
    "name": "tiny-tune",
    "surface": "rosenbrock",
    "start": START,
    "steps": 40,
    "optimizers": [{"name": "gd"}, {"name": "adam", "label": "Adam"}],
    "tune": {
        "budget": 8,
        "sampler": "sobol",
        "seed": 1,
        "space": {"gd": {"lr": {"log": [1e-4, 1e-2]}}},
    },
    # one figure at low dpi (the others are drawn by test_notebook and the shipped config)
    "figures": [{"tune_curve": {"dpi": 30}}],
}


@pytest.fixture(scope="module")
def tuned_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tuned")
    cfg = parse_config(BASE)
    return cfg, run_experiment(cfg, out_dir=out / "run", formats=["png"]), out


def _tune_rows(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))


def test_a_tune_config_writes_tune_csv_best_yaml_and_its_figures(tuned_run):
    cfg, result, out = tuned_run
    files = set(result.files)
    assert {"tune.csv", "best.yaml", "tune_curve.csv", "tune_curve.png"} <= files
    curve = list(csv.DictReader(open(result.files["tune_curve.csv"], encoding="utf-8")))
    assert len(curve) == 16 and curve[7]["k"] == "8"
    rows = _tune_rows(result.files["tune.csv"])
    assert len(rows) == 16
    assert list(rows[0]) == [
        "entry",
        "optimizer",
        "label",
        "trial",
        "lr",
        "betas_1",
        "betas_2",
        "final_loss",
        "status",
        "best",
    ]
    report = result.files["report.md"].read_text()
    assert "## Results" in report
    from optiviz.figures.tune_comparison import report as tuning_section

    text = tuning_section(result, {})  # what tune_comparison adds to report.md
    assert "8 trials (sobol, seed 1) of 40 steps" in text and "| Adam |" in text
    # config.yaml is the tune config itself (it reruns the tuning, not the best settings)
    assert load_config(result.files["config.yaml"]).to_dict() == cfg.to_dict()


def test_best_yaml_is_a_normal_config_that_reruns_to_the_reported_objective(tuned_run):
    _, result, out = tuned_run
    rows = _tune_rows(result.files["tune.csv"])
    best = yaml.safe_load(result.files["best.yaml"].read_text())
    assert "tune" not in best and best["figures"] == []  # the tuning figures left out
    again = run_experiment(load_config(result.files["best.yaml"]), write=False)
    for entry, traj in enumerate(again.trajectories):
        (row,) = [r for r in rows if r["entry"] == str(entry) and r["best"] == "true"]
        assert float(row["final_loss"]) == traj.final_loss  # repr round-trips exactly
        assert float(result.trajectories[entry].final_loss) == traj.final_loss
    assert again.trajectories[1].label == "Adam"


def test_the_same_config_gives_the_same_tune_csv(tuned_run):
    _, result, out = tuned_run
    cfg = parse_config(BASE)
    again = run_experiment(cfg, out_dir=out / "again", figures=[])
    assert again.files["tune.csv"].read_text() == result.files["tune.csv"].read_text()
    assert again.files["best.yaml"].read_text() == result.files["best.yaml"].read_text()


def _problems(changes, drop=()):
    raw = {**BASE, **changes}
    for k in drop:
        raw.pop(k)
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    return "\n".join(info.value.errors or [str(info.value)])


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"tune": {"budget": 0}}, "tune.budget: 0 is not allowed"),
        ({"tune": {"budget": 8, "sampler": "sobl"}}, "tune.sampler: 'sobl' is not allowed"),
        ({"tune": {"objective": "final"}}, "tune.objective: 'final' is not allowed"),
        (
            {"tune": {"budget": 8, "space": {"adam": {"lr": {"log": [-1, 1]}}}}},
            "tune.space.adam.lr.log[0]: -1 is not allowed",
        ),
        (
            {"tune": {"budget": 8, "space": {"adam": {"betas": [{"uniform": [0, 0.9]}, 1.0]}}}},
            "tune.space.adam.betas[1]: 1.0 is not allowed",
        ),
        ({"tune": {"space": {"nadam": {"lr": 0.1}}}}, "tune.space.nadam: no optimizers entry"),
        ({"tune": {"objective": "steps_to_tol"}}, "tune.objective: 'steps_to_tol' is not allowed"),
        ({"tune": {"horizon": 50}}, "tune.horizon: 50 is not allowed: steps is 40"),
        ({"tune": {"budget": 7, "sampler": "grid"}}, "tune.budget: 7 is not allowed"),
        ({"tune": {"budget": 8, "bugdet": 8}}, "tune.bugdet"),
        ({"tune": {"budget": 100000}, "steps": 100000}, "tune.budget: the config is too much work"),
        (
            {"optimizers": [{"name": "gd", "lr": {"grid": {"values": [0.1, 0.2]}}}]},
            "optimizers[0]: a grid or a relative learning rate is not allowed",
        ),
    ],
)
def test_a_bad_tune_block_is_refused_at_its_field(changes, where):
    assert where in _problems(changes)


def test_the_tuning_figures_are_accepted_with_a_tune_block():
    from optiviz.figures import missing_needs

    kinds = ["tune_sensitivity", "tune_curve", "tune_comparison"]
    cfg = parse_config({**BASE, "figures": kinds})
    assert cfg.figures == tuple(kinds) and missing_needs(cfg) == []


def test_area_needs_f_star_and_tuning_figures_need_a_tune_block():
    no_min = {"expression": "x**2 + y**2 + 0.1*x*y", "variables": ["x", "y"]}
    assert "tune.objective: 'area' is not allowed" in _problems(
        {"surface": no_min, "tune": {"objective": "area"}}
    )
    assert "figures[0]: 'tune_curve' is not allowed: it draws the trials of a tune: block" in (
        _problems({}, drop=("tune",))
    )


def test_horizon_without_steps_sets_the_steps_and_counts_in_the_cost():
    raw = {k: v for k, v in BASE.items() if k != "steps"}
    cfg = parse_config({**raw, "tune": {"budget": 8, "horizon": 25}})
    assert cfg.steps == 25
    # 2 entries x 8 trials x 25 steps of trials + 2 runs x 25 steps of the comparison
    assert cfg.cost().work == 2 * 8 * 25 + 2 * 25


def test_validate_refuses_a_bad_tune_block(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**BASE, "tune": {"budget": -1}}))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2 and "tune.budget" in res.output
