"""Repeats with bands: ``seeds: N`` / ``--repeats N`` run every mini-batch entry with the
seeds seed .. seed + N - 1 (numbered seed fastest, labelled by seed), refused where no entry
draws mini-batches; the loss figure draws each setting's median and quantile band; the
summary and report give median [q10, q90]."""

from __future__ import annotations

import csv

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import optiviz  # noqa: E402
from optiviz._format import fmt  # noqa: E402
from optiviz._stats import quantile_rows, spread  # noqa: E402
from optiviz.config import apply_overrides, parse_config  # noqa: E402
from optiviz.errors import ConfigError  # noqa: E402
from optiviz.experiment import run_experiment, summarize  # noqa: E402
from optiviz.trajectory import Trajectory  # noqa: E402

SURFACE = {
    "data": "linear",
    "bias": False,
    "dataset": {"generate": "linear", "n": 12, "dim": 2, "noise": 0.5, "seed": 1},
}
RAW = {
    "name": "reps",
    "surface": SURFACE,
    "start": [-2.0, 3.0],
    "steps": 8,
    "seed": 4,
    "seeds": 3,
    "optimizers": [
        {"name": "gd", "lr": 0.05, "label": "GD"},
        {"name": "gd", "lr": 0.05, "batch_size": 3, "label": "SGD"},
    ],
    "figures": [{"loss": {"dpi": 40, "size": [4, 3]}}],
}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("reps") / "out"
    return run_experiment(parse_config(RAW), out)


def test_every_minibatch_entry_runs_once_per_seed_seed_fastest(result):
    runs = result.runs
    assert [(r.run, r.entry, r.seed) for r in runs] == [
        (0, 0, None),  # full-batch GD: deterministic, one run
        (1, 1, 4),
        (2, 1, 5),
        (3, 1, 6),
    ]
    assert [r.label for r in runs] == ["GD", "SGD seed 4", "SGD seed 5", "SGD seed 6"]
    traj = result.trajectories[1]
    assert traj.seeds == (4, 5, 6) and traj.run(1).settings["seed"] == 5
    # each repeat is the engine's run with that seed (its own shuffles)
    surface = result.surface
    for r in runs[1:]:
        gd = optiviz.make_optimizer("gd", lr=0.05)
        direct = optiviz.run(surface, gd, [-2.0, 3.0], 8, batch_size=3, seed=r.seed)
        np.testing.assert_array_equal(r.trajectory.losses, direct.losses)
        np.testing.assert_array_equal(r.trajectory.step_evals, direct.step_evals)
    assert not np.array_equal(runs[1].trajectory.losses, runs[2].trajectory.losses)


def test_csv_says_which_seed_and_round_trips(result):
    path = result.out_dir / "trajectories.csv"
    head = next(csv.reader(path.open()))
    assert head[:12] == [
        "run", "label", "optimizer", "step", "w1", "w2", "loss", "grad_norm",
        "evals_f", "evals_grad", "evals_hess", "seed",
    ]  # fmt: skip
    rows = list(csv.DictReader(path.open()))
    assert {r["run"]: r["seed"] for r in rows} == {"0": "", "1": "4", "2": "5", "3": "6"}
    # a mini-batch step: one value and gradient on the batch (row 0: none, the full-batch
    # values only feed the record); full-batch GD: the engine's one per iterate
    sgd = [r for r in rows if r["run"] == "2"]
    assert [(r["evals_f"], r["evals_grad"]) for r in sgd] == [("0", "0")] + [("1", "1")] * 8
    back = Trajectory.from_csv(path, label="SGD seed 5")
    np.testing.assert_array_equal(back.losses, result.runs[2].trajectory.losses)
    np.testing.assert_array_equal(back.step_evals, result.runs[2].trajectory.step_evals)


def test_summary_and_report_give_median_and_quantiles(result):
    finals = [float(r.trajectory.final_loss) for r in result.runs[1:]]
    m, lo, hi = np.quantile(finals, [0.5, 0.1, 0.9])  # numpy's linear quantiles
    spread_text = f"{fmt(m, 4)} [{fmt(lo, 4)}, {fmt(hi, 4)}]"
    lines = summarize(result)
    assert lines[1] == (
        f"  [1-3] SGD, 3 seeds (4-6): 3 max_steps; final loss median [q10, q90] {spread_text}"
    )
    report = (result.out_dir / "report.md").read_text()
    assert "seeds 4..6 (`seeds: 3`)" in report
    assert "## Repeats (median [q10, q90] over the seeds)" in report
    row = next(ln for ln in report.splitlines() if ln.startswith("| 1-3 | SGD |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # steps, evaluations (a mini-batch step: 1 f + 1 gradient), final loss, best loss
    assert cells[2:6] == ["4-6", "3 max_steps", "8 [8, 8]", "16 [16, 16]"]
    assert cells[6] == spread_text


def test_loss_figure_draws_median_and_band(result):
    from optiviz.plotting import loss

    traj = result.trajectories[1]
    L = np.array([r.losses for r in traj.runs()])  # 3 seeds x 9 steps
    fig = loss(traj, relative=False, dpi=40, figsize=(4, 3))
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), np.median(L, axis=0))
    verts = ax.collections[0].get_paths()[0].vertices
    for t in (3, 8):
        ys = np.sort(verts[np.isclose(verts[:, 0], t), 1])
        np.testing.assert_allclose(
            [ys.min(), ys.max()], np.quantile(L[:, t], [0.1, 0.9]), rtol=1e-12
        )
    assert any("median of 3 seeds" in t.get_text() for t in fig.legends[0].get_texts())
    # x_axis evaluations: a mini-batch step costs 2 (f and gradient on the batch)
    fig = loss(traj, relative=False, dpi=40, figsize=(4, 3), x_axis="evaluations", band=None)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), 2 * np.arange(9))
    assert not ax.collections and "evaluations (f + grad + 2 Hessian)" in ax.get_xlabel()


def test_quantiles_count_non_finite_values_as_infinite():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(7, 5))
    for q in (0.1, 0.5, 0.9, 0.0, 1.0):
        np.testing.assert_allclose(quantile_rows(Y, q), np.quantile(Y, q, axis=0), rtol=1e-14)
    # a diverged run (nan or inf) sorts above the others
    assert spread([1.0, 2.0, np.nan]) == pytest.approx((2.0, 1.2, np.inf))
    assert spread([1.0, np.inf, np.inf])[0] == np.inf


def test_seeds_are_refused_without_minibatches_naming_the_field():
    det = {**RAW, "optimizers": [{"name": "gd", "lr": 0.05}]}
    with pytest.raises(ConfigError, match=r"seeds: 3 is not allowed: repeats differ only"):
        parse_config(det, build=False)
    cfg = parse_config({**det, "seeds": 1}, build=False)
    with pytest.raises(ConfigError, match=r"--repeats: 4 is not allowed: .*no optimizer entry"):
        apply_overrides(cfg, repeats=4)
    for bad in (0, 1001, 2.5, True, "many"):
        with pytest.raises(ConfigError, match=r"seeds: .* is not allowed"):
            parse_config({**RAW, "seeds": bad}, build=False)


def test_repeats_override_runs_and_cost_count_the_seeds():
    cfg = parse_config({**RAW, "seeds": 1}, build=False)
    assert cfg.n_runs == 2
    more = apply_overrides(cfg, repeats=5)
    assert (
        more.seeds == 5
        and more.n_runs == 6
        and more.seeds_of(more.optimizers[1])
        == (
            4,
            5,
            6,
            7,
            8,
        )
    )
    assert [e.runs for e in more.cost().entries] == [1, 5]
    assert more.to_dict()["seeds"] == 5
    # an expect check naming the repeated entry by label is ambiguous
    bad = {**RAW, "expect": [{"run": "SGD", "status": "max_steps"}]}
    with pytest.raises(ConfigError, match=r"with seeds: 3 that entry has several runs"):
        parse_config(bad, build=False)


def test_lr_sweep_of_repeats_draws_each_learning_rate_once_with_its_median(result):
    from optiviz.plotting import lr_sweep

    surface = result.surface
    per_seed = [
        optiviz.run(
            surface,
            optiviz.make_optimizer("gd", lr=[0.02, 0.2]),
            [-2.0, 3.0],
            6,
            batch_size=3,
            seed=s,
            record="final",
        )
        for s in (0, 1, 2)
    ]
    traj = Trajectory.stack(per_seed, (0, 1, 2))
    assert traj.n_runs == 6 and traj.hyperparameters["lr"] == [0.02] * 3 + [0.2] * 3
    finals = np.array([[tr.final_loss[i] for tr in per_seed] for i in range(2)])
    fig = lr_sweep(traj, dpi=40, figsize=(4, 3))
    line = fig.axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [0.02, 0.2])
    # f - f* of the median over the seeds at each learning rate
    np.testing.assert_array_equal(line.get_ydata(), np.median(finals, axis=1) - traj.f_min)
