"""Every config in configs/ runs (step budgets capped) and its answers hold; every broken
config in tests/broken_configs/ exits 2 with its message and writes nothing; figures are
real images; the CSV round-trips to the trajectories."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.image import imread  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from optiviz.cli import app  # noqa: E402
from optiviz.config import load_config  # noqa: E402
from optiviz.experiment import run_experiment  # noqa: E402
from optiviz.plotting.style import DPI, FIGSIZE  # noqa: E402
from optiviz.trajectory import Trajectory  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
BROKEN = sorted((ROOT / "tests" / "broken_configs").glob("*.yaml"))
MAX_STEPS = 200
#: Figure kinds that run their own grid of runs are drawn on a coarser grid here (their
#: full-size work is `make bench`'s; their correctness has its own tests: test_basins.py,
#: test_rate_map.py): at most this many starts / cells per side.
MAX_SIDE = 60


def _lighter(cfg):
    """``cfg`` with the basins resolution and the rate-map axes capped at MAX_SIDE (the
    runs, the answers and every other figure are the config's own)."""
    import dataclasses

    opts = {k: dict(v) for k, v in cfg.figure_options.items()}
    if "resolution" in opts.get("basins", {}):
        opts["basins"]["resolution"] = min(opts["basins"]["resolution"], MAX_SIDE)
    for axis in ("x", "y"):
        for name, grid in dict(opts.get("rate_map", {}).get(axis, {})).items():
            form, args = next(iter(grid.items()))
            if form in ("logspace", "linspace") and args[2] > MAX_SIDE:
                opts["rate_map"][axis] = {name: {form: [args[0], args[1], MAX_SIDE]}}
    return dataclasses.replace(cfg, figure_options=opts)


#: The configs the project promises (quickstart, one per worked problem, the seed figures).
REQUIRED = [
    "quickstart",
    "lr-dependence",
    "adagrad-sparse-dense",
    "rmsprop-adadelta-effective-lr",
    "sgd-minibatch-sigmoid",
    "momentum-beta",
    "worked-a-correlated-quadratic",
    "worked-b-diagonal-quadratic",
    "worked-c-l2-saddle",
    "worked-c-l1",
    "worked-d1-relu-squared-error",
    "worked-d2-relu-sigmoid-cross-entropy",
    "worked-d3-softmax-cross-entropy",
    "worked-d4-sigmoid-outputs",
    "worked-e1-xy-gradient-ascent",
    "worked-e2-adam-adamax-effective-lr",
]


def test_the_promised_configs_exist():
    names = {p.stem for p in CONFIGS}
    assert set(REQUIRED) <= names, set(REQUIRED) - names


def test_quickstart_has_the_promised_optimizers_and_figures():
    cfg = load_config(ROOT / "configs" / "quickstart.yaml")
    assert cfg.build_surface().name == "rosenbrock"
    assert [o.name for o in cfg.optimizers] == [
        "gd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adadelta",
        "adam",
        "newton",
    ]
    assert set(cfg.figures) == {"contour", "loss", "effective_lr"}


def test_lr_dependence_uses_relative_learning_rates():
    cfg = load_config(ROOT / "configs" / "lr-dependence.yaml")
    assert [o.lr_times_eta_opt for o in cfg.optimizers] == [0.75, 1.0, 1.5, 2.0, 2.1]


@pytest.mark.slow
@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_runs_and_its_answers_hold(path, tmp_path):
    if "suite:" in path.read_text(encoding="utf-8"):  # a suite: its lighter path
        _check_suite_config(path, tmp_path)
        return
    cfg = load_config(path)
    if path.stem.startswith("worked-"):
        assert cfg.expect, f"{path.name} must state its answers in an expect: block"
        assert cfg.description
    result = run_experiment(_lighter(cfg), out_dir=tmp_path, formats=["png"], max_steps=MAX_STEPS)
    failed = [e.message for e in result.failed_expectations()]
    assert not failed, "\n".join(failed)
    assert {"config.yaml", "trajectories.csv", "run.json", "report.md"} <= set(result.files)
    figures = [n for n in result.files if n.endswith(".png")]
    pages = [n for n in result.files if n.endswith(".html")]  # the page kind draws no image
    assert len(figures) + len(pages) >= len(cfg.figures)
    for name in figures:
        _assert_not_blank(tmp_path / name)
    report = (tmp_path / "report.md").read_text()
    assert report.startswith(f"# Experiment `{cfg.name}`") and "## Results" in report
    # the stationary-point table stays short (a ReLU network has hundreds of degenerate
    # points: a few are listed, the rest counted in one line)
    section = report.split("### Stationary points", 1)[1].split("\n###", 1)[0]
    assert len([ln for ln in section.splitlines() if ln.startswith("| ")]) - 2 <= 12
    # the resolved config is itself a valid config that describes the same experiment
    again = load_config(tmp_path / "config.yaml")
    assert again.to_dict() == result.config.to_dict()


def test_the_lighter_configs_cap_only_the_grids_of_basins_and_rate_maps():
    rate = load_config(ROOT / "configs" / "rate-map-heavy-ball.yaml")
    light = _lighter(rate).figure_options["rate_map"]
    assert light["x"] == {"lr": {"logspace": [-3.0, 0.0, MAX_SIDE]}}
    assert light["y"] == {"momentum": {"linspace": [0.0, 0.99, MAX_SIDE]}}
    basins = _lighter(load_config(ROOT / "configs" / "basins-himmelblau.yaml"))
    assert basins.figure_options["basins"] == {"resolution": MAX_SIDE}
    quick = load_config(ROOT / "configs" / "quickstart.yaml")
    assert _lighter(quick).to_dict() == quick.to_dict()


#: A suite's lighter path (compiling a suite's dozen surfaces alone costs seconds): the
#: whole file is validated without building its surfaces, then the config runs end to end on
#: its first SUITE_SURFACES surfaces for SUITE_STEPS steps, no figures (tests/test_suite.py
#: draws them and checks the numbers).
SUITE_SURFACES = 2
SUITE_STEPS = 20


def _check_suite_config(path, tmp_path):
    import yaml

    from optiviz.config import parse_config

    load_config(path, build=False)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["suite"]["surfaces"] = raw["suite"]["surfaces"][:SUITE_SURFACES]
    cfg = parse_config(raw, str(path))
    result = run_experiment(cfg, out_dir=tmp_path, figures=[], max_steps=SUITE_STEPS)
    assert {"config.yaml", "suite.csv", "run.json", "report.md"} <= set(result.files)
    assert len(result.rows) == len(cfg.problems) * len(cfg.optimizers)
    report = (tmp_path / "report.md").read_text()
    assert report.startswith(f"# Suite `{cfg.name}`") and "## Ranks" in report
    again = load_config(tmp_path / "config.yaml")
    assert again.to_dict() == result.config.to_dict()


def _assert_not_blank(path: Path) -> np.ndarray:
    img = imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200, path.name
    rgb = img[..., :3]
    assert float(rgb.std()) > 0.05, f"{path.name} looks blank"
    assert (rgb.reshape(-1, 3).min(axis=1) < 0.5).mean() > 0.005, f"{path.name} has no ink"
    return img


@pytest.mark.slow
def test_figures_are_real_images_of_the_expected_size(tmp_path):
    cfg = load_config(ROOT / "configs" / "quickstart.yaml")
    result = run_experiment(
        cfg,
        out_dir=tmp_path,
        max_steps=MAX_STEPS,
        figures=["contour", "loss", "effective_lr", "surface3d"],
    )
    w, h = round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI)
    for name in ("contour", "loss", "effective_lr", "surface3d"):
        assert f"{name}.png" in result.files
        img = _assert_not_blank(tmp_path / f"{name}.png")
        if name in ("loss", "surface3d"):
            assert abs(img.shape[1] - w) <= 2, (name, img.shape, (w, h))
    assert abs(imread(tmp_path / "loss.png").shape[0] - h) <= 2


@pytest.mark.slow
def test_lr_sweep_and_svg_pdf_formats(tmp_path):
    cfg = load_config(ROOT / "configs" / "lr-sweep.yaml")
    result = run_experiment(cfg, out_dir=tmp_path, formats=["png", "svg", "pdf"])
    for stem in ("lr_sweep", "lr_sweep_2"):
        for fmt in ("png", "svg", "pdf"):
            assert (tmp_path / f"{stem}.{fmt}").stat().st_size > 1000
    assert (tmp_path / "lr_sweep.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "lr_sweep.pdf").read_bytes()[:4] == b"%PDF"
    # record: final -> one CSV row per run (its final point)
    rows = list(csv.reader((tmp_path / "trajectories.csv").open()))
    assert len(rows) == 1 + len(result.runs) == 81
    assert {r[3] for r in rows[1:]} <= {str(k) for k in range(201)}


@pytest.mark.slow
def test_csv_round_trips_to_the_trajectories(tmp_path):
    cfg = load_config(ROOT / "configs" / "worked-b-diagonal-quadratic.yaml")
    result = run_experiment(cfg, out_dir=tmp_path, figures=[])
    path = tmp_path / "trajectories.csv"
    head = next(csv.reader(path.open()))
    # the evaluations of each step, then one column per hyperparameter of gd (lr,
    # maximize), with the run's value
    assert head == [
        "run", "label", "optimizer", "step", "x", "y", "z", "loss", "grad_norm",
        "evals_f", "evals_grad", "evals_hess", "lr", "maximize",
    ]  # fmt: skip
    rows = list(csv.DictReader(path.open()))
    lrs = {int(r["run"]): float(r["lr"]) for r in rows}
    assert lrs == {0: 0.125, 1: 0.1666666666666667, 2: 0.25, 3: 0.333}  # the config's lr
    assert {r["maximize"] for r in rows} == {"false"}
    for rec in result.runs:
        back = Trajectory.from_csv(path, label=rec.label)
        tr = rec.trajectory
        np.testing.assert_array_equal(back.points, tr.points)  # full precision
        np.testing.assert_array_equal(back.losses, tr.losses)
        np.testing.assert_array_equal(back.grad_norms, tr.grad_norms)
        assert back.n_steps == tr.n_steps
        np.testing.assert_array_equal(back.step_evals, tr.step_evals)
        assert (back.n_f, back.n_grad, back.n_hess) == (tr.n_f, tr.n_grad, tr.n_hess)


@pytest.mark.slow
def test_csv_of_a_grid_entry_holds_every_run(tmp_path):
    p = tmp_path / "g.yaml"
    p.write_text(
        "surface: ill_conditioned\nstart: [1, 1]\nsteps: 15\n"
        "optimizers: [{name: gd, lr: {grid: {values: [0.1, 0.2, 0.3]}}}]\n"
        "figures: [lr_sweep, loss]\n"
    )
    result = run_experiment(load_config(p), out_dir=tmp_path / "o")
    rows = list(csv.DictReader((tmp_path / "o" / "trajectories.csv").open()))
    assert len(rows) == 3 * 16 and {r["run"] for r in rows} == {"0", "1", "2"}
    for rec in result.runs:
        mine = [r for r in rows if int(r["run"]) == rec.run]
        np.testing.assert_array_equal([float(r["x1"]) for r in mine], rec.trajectory.points[:, 0])
    run = json.loads((tmp_path / "o" / "run.json").read_text())
    assert [r["hyperparameters"]["lr"] for r in run["runs"]] == pytest.approx([0.1, 0.2, 0.3])
    assert all(r["wall_time_shared_by"] == 3 for r in run["runs"])


# -- broken configs ------------------------------------------------------------------------
def _expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    m = re.match(r"# expect: (.+)$", first)
    assert m, f"{path.name} must start with '# expect: <message>'"
    return m.group(1)


def test_there_is_a_broken_config_for_each_kind_of_mistake():
    kinds = {p.stem for p in BROKEN}
    for kind in (
        "unknown_key",
        "wrong_type",
        "out_of_range_lr",
        "start_length",
        "unknown_surface",
        "unknown_optimizer",
        "unknown_hyperparameter",
        "unsafe_name",
        "too_many_steps",
        "nonfinite_start",
        "bad_format",
        "bad_figure",
        "yaml_syntax",
        "not_a_mapping",
        "unsafe_expression",
    ):
        assert kind in kinds


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_config_exits_2_with_its_message_and_writes_nothing(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default outputs/<name>/ would land here
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert _expected(path) in r.stderr, r.stderr
    assert r.stderr.startswith("error: ")
    assert "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []  # no output folder, no temporary files
    v = CliRunner().invoke(app, ["validate", str(path)])
    if path.stem != "eta_opt_without_minimum":  # found when the run resolves eta_opt
        assert v.exit_code == 2 and _expected(path) in v.stderr


@pytest.mark.slow
def test_every_run_is_in_the_rate_comparison_even_one_step_runs(tmp_path):
    # worked problem A takes a single step: too short to measure a rate, but every run
    # still appears in the comparison (in run order), its measured rate shown as "-"
    cfg = load_config(ROOT / "configs" / "worked-a-correlated-quadratic.yaml")
    result = run_experiment(cfg, out_dir=tmp_path, figures=[])
    rows = result.analysis.runs
    assert [r.label for r in rows] == [rec.label for rec in result.runs]
    assert all(r.steps == 1 and r.measured_rate is None for r in rows)
    report = (tmp_path / "report.md").read_text()
    table = report.split("Runs: measured vs predicted rates", 1)[1].split("###", 1)[0]
    for rec in result.runs:
        line = next(ln for ln in table.splitlines() if ln.startswith(f"| {rec.label} |"))
        assert line.split(" | ")[5] == "-", line  # the measured-rate column


def test_lr_sweep_figures_mark_each_methods_own_stability_limit():
    from optiviz.experiment import sweep_stability_limit
    from optiviz.figures import figures_of
    from optiviz.plotting import ColorMap

    lam = 4.0  # ill_conditioned: Hessian diag(0.2, 4)
    assert sweep_stability_limit("gd", {"lr": [0.1, 0.2]}, lam)[0] == pytest.approx(0.5)
    assert sweep_stability_limit("sgd", {"momentum": 0.0}, lam)[0] == pytest.approx(0.5)
    lim, label = sweep_stability_limit("momentum", {"momentum": 0.9}, lam)
    assert lim == pytest.approx(0.95) and "2 + 2\\beta" in label and "0.9" in label
    assert sweep_stability_limit("sgd", {"momentum": 0.5, "dampening": 0.5}, lam)[
        0
    ] == pytest.approx(3.0 / (0.5 * lam))
    # Nesterov: 0 < lr lambda < (2 + 2 mu)/(1 + 2 mu)
    assert sweep_stability_limit("nesterov", {"momentum": 0.9}, lam)[0] == pytest.approx(
        3.8 / 2.8 / lam
    )
    assert sweep_stability_limit("sgd", {"momentum": 0.9, "nesterov": True}, lam)[
        0
    ] == pytest.approx(3.8 / 2.8 / lam)
    assert sweep_stability_limit("adam", {"lr": 0.1}, lam) == (None, None)
    assert sweep_stability_limit("momentum", {"momentum": [0.5, 0.9]}, lam) == (None, None)

    cfg = load_config(ROOT / "configs" / "lr-sweep.yaml")
    result = run_experiment(cfg, write=False, figures=[])
    figs = dict(figures_of("lr_sweep", result, ColorMap()))
    gd = [t.get_text() for t in figs["lr_sweep"].legends[0].get_texts()]
    hb = [t.get_text() for t in figs["lr_sweep_2"].legends[0].get_texts()]
    assert any("stability limit $2/\\lambda_{max}$ (GD) = 0.5" in t for t in gd)
    assert any("(2 + 2\\beta)/\\lambda_{max}" in t and "= 0.95" in t for t in hb)
    assert not any("$2/\\lambda_{max}$" in t for t in hb)
