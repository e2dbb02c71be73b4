"""The rate map (optiviz.analysis.maps, figures/rate_map.py): theory against closed forms,
measured against theory on a quadratic, the engine's kept losses, the figure and its CSV."""

from __future__ import annotations

import csv
import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import optiviz  # noqa: E402
from optiviz import Surface  # noqa: E402
from optiviz.analysis.maps import (  # noqa: E402
    REGIMES,
    Axis,
    fit_rates,
    loss_windows,
    rate_map,
    theory_on_grid,
)
from optiviz.config import parse_config  # noqa: E402
from optiviz.errors import ConfigError, OptimizerError  # noqa: E402
from optiviz.optimizers import get_class  # noqa: E402

QUAD = "(x**2 + 10*y**2)/2"  # Hessian diag(1, 10)
LAM = np.array([1.0, 10.0])


@pytest.fixture(scope="module")
def quad():
    return Surface.from_expression(QUAD, ["x", "y"], minima=[{"point": [0, 0], "value": 0}])


# -- theory against closed forms ----------------------------------------------------------
def test_gd_boundary_is_two_over_lambda_max():
    # sgd with momentum 0 is GD: rate max_i |1 - lr lambda_i|, which crosses 1 at
    # lr = 2/lambda_max = 0.2 (lr 0.15: max(0.85, 0.5))
    lr = Axis("lr", np.array([0.1999, 0.2001, 0.15, 2 / 11]))
    th = theory_on_grid(get_class("sgd"), LAM, lr, Axis("momentum", np.array([0.0])))
    assert th is not None
    np.testing.assert_allclose(th.rate[0], [0.999, 1.001, 0.85, 9 / 11], rtol=1e-12)
    # the best fixed step 2/(m + L) = 2/11 has rate (kappa - 1)/(kappa + 1) = 9/11
    opt = get_class("gd").optimal_hyperparameters(1.0, 10.0)
    assert opt["lr"] == pytest.approx(2 / 11) and opt["rate"] == pytest.approx(9 / 11)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.6, 0.9])
def test_heavy_ball_boundary_is_two_plus_two_beta_over_lambda(beta):
    # heavy ball is stable for 0 < lr lambda < 2 (1 + beta) (Polyak): the theory rate is
    # just below 1 inside and just above 1 outside the closed-form limit at lambda_max
    limit = 2 * (1 + beta) / LAM.max()
    lr = Axis("lr", np.array([limit * (1 - 1e-6), limit * (1 + 1e-6)]))
    mom = Axis("momentum", np.array([beta]))
    th = theory_on_grid(get_class("momentum"), LAM, lr, mom)
    assert th.rate[0, 0] < 1 < th.rate[0, 1]
    assert th.regime[0, 1] == REGIMES.index("divergent")


def test_polyak_pair_and_its_rate():
    L, mu = 10.0, 1.0
    kappa = L / mu
    lr_star = 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2
    beta_star = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    lr = Axis("lr", np.array([lr_star]))
    mom = Axis("momentum", np.array([beta_star]))
    th = theory_on_grid(get_class("momentum"), LAM, lr, mom)
    assert th.optimum["lr"] == pytest.approx(lr_star, rel=1e-14)
    assert th.optimum["momentum"] == pytest.approx(beta_star, rel=1e-14)
    # at Polyak's pair both modes have rate sqrt(beta*) (Polyak 1964)
    assert th.rate[0, 0] == pytest.approx(math.sqrt(beta_star), rel=1e-7)
    assert th.optimum["rate"] == pytest.approx(math.sqrt(beta_star), rel=1e-14)


def test_critical_damping_curve_is_one_minus_sqrt_lr_lambda_squared():
    # the discriminant tr^2 - 4 det of M(lambda) vanishes on beta = (1 - sqrt(lr lambda))^2
    lrs = np.array([0.001, 0.01, 0.05, 0.09])
    for lam in (1.0, 10.0):
        for lr in lrs:
            b = (1 - math.sqrt(lr * lam)) ** 2
            th = theory_on_grid(
                get_class("momentum"),
                LAM,
                Axis("lr", np.array([lr])),
                Axis("momentum", np.array([b * (1 - 1e-6), b, b * (1 + 1e-6)])),
            )
            d = th.discriminant[lam][:, 0]
            assert d[0] > 0 > d[2]  # real roots below the curve, complex above
            assert abs(d[1]) < 1e-9


def test_regimes_at_known_points():
    mom = get_class("momentum")
    cells = {
        (0.05, 0.0): "monotone",  # GD with lr lambda < 1 for both modes
        # GD, lr 0.19: |1 - 0.19| = 0.81 < |1 - 1.9| = 0.9, the top mode sets the rate and
        # flips sign (at lr 0.15 the slow mode's 0.85 would set it: monotone)
        (0.19, 0.0): "oscillating",
        (0.15, 0.0): "monotone",
        (0.05, 0.9): "ripples",  # beta above (1 - sqrt(0.05))^2 = 0.60
        (0.5, 0.5): "divergent",  # lr lambda_max = 5 > 2 (1 + 0.5)
    }
    for (lr, b), name in cells.items():
        th = theory_on_grid(mom, LAM, Axis("lr", np.array([lr])), Axis("momentum", np.array([b])))
        assert REGIMES[th.regime[0, 0]] == name, (lr, b)


def test_no_theory_for_adaptive_methods_or_without_a_minimum():
    lr = Axis("lr", np.array([0.1]))
    assert theory_on_grid(get_class("adam"), LAM, lr, Axis("beta2", np.array([0.9]))) is None
    mom = Axis("momentum", np.array([0.5]))
    assert theory_on_grid(get_class("momentum"), [-1.0, 1.0], lr, mom) is None


# -- the engine's kept losses and the rate fit ---------------------------------------------
def test_kept_losses_equal_the_full_record(quad):
    opt = optiviz.make_optimizer("momentum", lr=[0.01, 0.1, 0.5], momentum=[0.5, 0.5, 0.5])
    full = optiviz.run(quad, opt, [1.0, 1.0], 50, record="all")
    kept = optiviz.run(quad, opt, [1.0, 1.0], 50, record="final", loss_steps=[0, 7, 50])
    assert kept.loss_steps == (0, 7, 50)
    want = full.losses[:, [0, 7, 50]].copy()
    # the third run diverges (lr lambda_max = 5 > 3): losses after its stop are nan
    stop = int(full.n_steps[2])
    assert full.status[2] == "diverged" and stop < 50
    want[2, 2] = np.nan
    np.testing.assert_array_equal(kept.losses_at, want)
    with pytest.raises(OptimizerError, match="loss_steps"):
        optiviz.run(quad, optiviz.make_optimizer("gd", lr=0.1), [1.0, 1.0], 5, loss_steps=[3])


def test_loss_windows_end_at_halvings():
    w = loss_windows(1000)
    assert [b for _, b in w] == [3, 7, 15, 31, 62, 125, 250, 500, 1000]
    assert all(b - a + 1 <= 20 and a > b // 2 for a, b in w)


def test_fit_of_a_geometric_sequence_is_exact():
    # f - f* = C q^(2t): the error sqrt(f - f*) shrinks by q per step
    T = 400
    w = loss_windows(T)
    steps = sorted({0, *(s for a, b in w for s in range(a, b + 1))})
    q = np.array([0.5, 0.9, 0.99, 1.01])
    L = 3.0 * q[:, None] ** (2.0 * np.asarray(steps)[None, :]) + 2.0
    rate = fit_rates(L, steps, w, 2.0, L[:, 0], floor=1e-280)
    np.testing.assert_allclose(rate, q, rtol=1e-10)


def test_diverged_cells_match_theory_far_from_the_boundary(quad):
    # 60 x 60 heavy-ball cells on diag(1, 10): a cell with theory rate rho, |rho - 1| >
    # 0.02, is diverged exactly when rho > 1 (its error grows like rho^t past the bound)
    x = Axis("lr", np.logspace(-3, 0, 60), log=True)
    y = Axis("momentum", np.linspace(0, 0.99, 60))
    m = rate_map(quad, "momentum", x, y, [1.0, 1.0], 1000, eigenvalues=LAM, minimum=[0, 0])
    th = m.theory.rate
    far = np.abs(th - 1) > 0.02
    assert far.sum() > 2000 and (th[far] > 1).sum() > 300
    np.testing.assert_array_equal(m.diverged[far], th[far] > 1)


def test_measured_rate_matches_theory_well_inside(quad):
    # cells with theory rate in [0.3, 0.98] (well inside the stable region): measured
    # within 0.5% of theory; where the dominant mode is real (monotone, oscillating) and
    # away from critical damping the error sequence is one geometric term and the fit
    # is exact to round-off (median); ripples (a rotating pair) within 0.5%
    x = Axis("lr", np.logspace(-2, -0.5, 40), log=True)
    y = Axis("momentum", np.linspace(0, 0.9, 40))
    m = rate_map(quad, "momentum", x, y, [1.0, 1.0], 1000, eigenvalues=LAM, minimum=[0, 0])
    th = m.theory.rate
    inside = (th > 0.3) & (th < 0.98)
    assert inside.sum() > 800
    err = np.abs(m.rate[inside] - th[inside]) / th[inside]
    assert np.all(err < 5e-3)
    real = np.isin(m.theory.regime[inside], [REGIMES.index("monotone"), 1])
    assert real.sum() > 300 and np.median(err[real]) < 1e-12


def test_gd_measured_rate_is_max_abs_one_minus_lr_lambda(quad):
    x = Axis("lr", np.array([0.02, 0.05, 0.1, 0.15]))
    y = Axis("momentum", np.array([0.0]))
    m = rate_map(quad, "sgd", x, y, [1.0, 1.0], 500, eigenvalues=LAM, minimum=[0, 0])
    want = np.max(np.abs(1 - x.values[:, None] * LAM[None, :]), axis=1)
    np.testing.assert_allclose(m.rate[0], want, rtol=1e-9)


# -- config, figure, CSV -------------------------------------------------------------------
RAW = {
    "surface": {
        "expression": QUAD,
        "variables": ["x", "y"],
        "minima": [{"point": [0, 0], "value": 0}],
    },
    "start": [1.0, 1.0],
    "steps": 300,
    "optimizers": [{"name": "momentum", "lr": 0.1, "momentum": 0.5}],
}


def _cfg(**rm):
    return parse_config({**RAW, "figures": [{"rate_map": rm}]})


def test_config_refuses_bad_options():
    ok = {"x": {"lr": {"logspace": [-3, 0, 20]}}, "y": {"momentum": {"linspace": [0, 0.9, 10]}}}
    _cfg(**ok)
    with pytest.raises(ConfigError, match="needs the options x and y"):
        _cfg(x=ok["x"])
    with pytest.raises(ConfigError, match="'beta2', which optimizers\\[0\\] \\(momentum\\)"):
        _cfg(x=ok["x"], y={"beta2": {"linspace": [0, 0.9, 10]}})
    with pytest.raises(ConfigError, match="momentum the value 1.16667, out of its range"):
        _cfg(x=ok["x"], y={"momentum": {"linspace": [0, 1.5, 10]}})
    with pytest.raises(ConfigError, match=r"figures\[0\]\.rate_map\.x"):
        _cfg(x={"lr": {"logspace": [0, -3, 20]}}, y=ok["y"])
    with pytest.raises(ConfigError, match="entry 3 does not exist"):
        _cfg(**ok, entry=3)
    nest = {**RAW, "optimizers": [{"name": "sgd", "lr": 0.1, "momentum": 0.5, "nesterov": True}]}
    with pytest.raises(ConfigError, match="refuses the map's grid: sgd with nesterov=True"):
        parse_config({**nest, "figures": [{"rate_map": ok}]})  # momentum 0 in the grid
    with pytest.raises(ConfigError, match="both sweep 'lr'"):
        _cfg(x=ok["x"], y={"lr": {"linspace": [0.1, 0.2, 3]}})


def test_a_pair_element_is_swept():
    # Adam's betas is a pair: betas[1] sweeps beta2 beside the entry's beta1
    raw = {**RAW, "optimizers": [{"name": "adam", "lr": 0.01, "betas": [0.8, 0.999]}]}
    ax = {"x": {"lr": {"logspace": [-3, -1, 3]}}, "y": {"betas[1]": {"values": [0.9, 0.99]}}}
    cfg = parse_config({**raw, "figures": [{"rate_map": ax}]})
    assert cfg.options_of("rate_map")["y"] == {"betas[1]": {"values": [0.9, 0.99]}}
    bad = {"x": ax["x"], "y": {"betas[1]": {"values": [0.9, 1.5]}}}
    with pytest.raises(ConfigError, match=r"betas\[1\] the value 1.5, out of its range"):
        parse_config({**raw, "figures": [{"rate_map": bad}]})
    s = Surface.from_expression(QUAD, ["x", "y"], minima=[{"point": [0, 0], "value": 0}])
    m = rate_map(
        s,
        "adam",
        Axis("lr", np.array([0.01, 0.1])),
        Axis("betas[1]", np.array([0.9, 0.99])),
        [1.0, 1.0],
        20,
        fixed={"betas": (0.8, 0.999)},
    )
    # each cell equals a run of Adam with that (lr, (0.8, beta2)) alone
    for iy, b2 in enumerate([0.9, 0.99]):
        for ix, lr in enumerate([0.01, 0.1]):
            one = optiviz.run(
                s, optiviz.make_optimizer("adam", lr=lr, betas=(0.8, b2)), [1.0, 1.0], 20
            )
            assert m.final_loss[iy, ix] == pytest.approx(one.final_loss, rel=1e-12)
    assert m.theory is None


def test_figure_and_csv(tmp_path):
    from optiviz.experiment import run_experiment

    cfg = _cfg(x={"lr": {"logspace": [-2, 0, 12]}}, y={"momentum": {"linspace": [0, 0.9, 10]}})
    result = run_experiment(cfg, out_dir=tmp_path)
    assert "rate_map.png" in result.files and "rate_map.csv" in result.files
    rows = list(csv.DictReader(io.StringIO((tmp_path / "rate_map.csv").read_text())))
    assert len(rows) == 120
    assert list(rows[0]) == [
        "lr",
        "momentum",
        "status",
        "final_loss",
        "steps_to_tol",
        "rate",
        "rate_theory",
    ]
    lr, mom = float(rows[13]["lr"]), float(rows[13]["momentum"])  # x fastest
    assert lr == pytest.approx(10 ** (-2 + 2 / 11)) and mom == pytest.approx(0.1)
    for r in rows:
        theory = get_class("momentum").linear_rate(
            LAM, {"lr": float(r["lr"]), "momentum": float(r["momentum"])}
        )
        assert float(r["rate_theory"]) == pytest.approx(theory, rel=1e-9)
        if r["status"] == "diverged":
            assert theory > 1


def test_the_map_s_runs_count_in_the_config_s_work():
    from optiviz.config import parse_config

    config = parse_config(
        {
            "name": "map-cost",
            "surface": {"expression": "0.5*x**2 + 5*y**2", "variables": ["x", "y"]},
            "start": [1.0, 1.0],
            "steps": 100,
            "optimizers": [{"name": "momentum", "lr": 0.05, "momentum": 0.5}],
            "figures": [
                {
                    "rate_map": {
                        "x": {"lr": {"logspace": [-2, -1, 30]}},
                        "y": {"momentum": {"linspace": [0, 0.9, 20]}},
                    }
                }
            ],
        },
        "<map>",
    )
    # the entry's one run of 100 steps, and 30 x 20 cells of 100 steps (1 evaluation each)
    assert config.cost().work == 100 + 30 * 20 * 100


def test_kept_losses_survive_the_engine_s_lean_path_for_large_batches(quad):
    # 40,000 runs x 2 variables is above the engine's lean-loop threshold (R n > ~65k,
    # record="final", no tolerance): the kept losses must come out the same as on the
    # per-step path (a record="path" run of the same cells). Today's defect: every kept
    # loss after step 0 was nan there, so a 200 x 200 rate map measured no rate at all.
    lrs = np.tile(np.geomspace(1e-3, 0.5, 200), 200)
    moms = np.repeat(np.linspace(0.0, 0.9, 200), 200)
    opt = optiviz.make_optimizer("momentum", lr=lrs, momentum=moms)
    kept = optiviz.run(quad, opt, [1.0, 1.0], 30, record="final", loss_steps=[0, 10, 30])
    path = optiviz.run(quad, opt, [1.0, 1.0], 30, record="path")
    want = path.losses[:, [0, 10, 30]].copy()
    for i in np.flatnonzero(path.n_steps < 30):  # stopped runs: nan after their stop
        want[i, [s > path.n_steps[i] for s in (0, 10, 30)]] = np.nan
    assert np.isfinite(kept.losses_at[:, 1]).sum() > 30_000
    np.testing.assert_array_equal(kept.losses_at, want)
