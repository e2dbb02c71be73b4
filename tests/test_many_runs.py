"""Issue 9, "Many runs" and "Several starts": colours, line styles, start markers, legends
that fit, start lists in configs and on the command line, the run order, lr sweeps over two
hyperparameters and the hyperparameter columns of trajectories.csv."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb

import optiviz
from optiviz import make_optimizer, plotting, run
from optiviz.config import load_config, parse_config
from optiviz.errors import ConfigError
from optiviz.plotting.style import MARKERS, PALETTE, START_EDGE, ColorMap

ROOT = Path(__file__).resolve().parents[1]

# -- the palette is colour-blind safe -------------------------------------------------------
#: Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
#: color vision deficiency", IEEE TVCG 15(6), Table 1 at severity 1.0 (linear RGB).
MACHADO = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}


def _lab(rgb_linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear-sRGB colour (IEC 61966-2-1 matrix, CIE 1976 formulas)."""
    M = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    t = M @ np.clip(rgb_linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _seen(color: str, vision: str) -> np.ndarray:
    c = np.array(to_rgb(color))
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    if vision != "normal":
        lin = np.array(MACHADO[vision]) @ lin
    return _lab(lin)


def _closest_pair(colors, vision: str) -> float:
    return min(
        float(np.linalg.norm(_seen(a, vision) - _seen(b, vision)))
        for a, b in itertools.combinations(colors, 2)
    )


def test_twelve_colours_stay_apart_for_every_kind_of_colour_vision():
    # the README's claim: CIELAB distance >= 10 between any two of the 12 colours under
    # simulated protanopia, deuteranopia and tritanopia, >= 22 for normal vision; the first
    # six (Okabe-Ito) >= 16 for all four
    assert len(set(PALETTE)) == 12
    for vision in ("protanopia", "deuteranopia", "tritanopia"):
        assert _closest_pair(PALETTE, vision) >= 10.0, vision
    assert _closest_pair(PALETTE, "normal") >= 22.0
    for vision in ("normal", *MACHADO):
        assert _closest_pair(PALETTE[:6], vision) >= 16.0, vision


def test_colour_follows_the_entry_and_line_style_the_run_within_it():
    cm = ColorMap()
    colours = [cm.color_for(f"entry {i}") for i in range(12)]
    assert len(set(colours)) == 12  # no two of twelve entries share a colour
    # a thirteenth repeats the first colour with another marker
    assert cm.color_for("entry 12") == colours[0]
    assert cm.marker_for("entry 12") != cm.marker_for("entry 0")
    assert len({(cm.color_for(f"entry {i}"), cm.marker_for(f"entry {i}")) for i in range(24)}) == 24
    assert len(MARKERS) == 8
    # the runs of one entry: one colour, a line style each
    styles = [cm.style_for("entry 3", k) for k in range(4)]
    assert len({s["color"] for s in styles}) == 1
    assert len({str(s["linestyle"]) for s in styles}) == 4


# -- figures of many runs -------------------------------------------------------------------
@pytest.fixture(scope="module")
def rosen():
    return optiviz.load_surface("rosenbrock")


QUICK = [
    ("gd", {"lr": 1e-3}),
    ("momentum", {"lr": 1e-3, "momentum": 0.9}),
    ("nesterov", {"lr": 1e-3, "momentum": 0.9}),
    ("adagrad", {"lr": 0.5}),
    ("rmsprop", {"lr": 1e-2}),
    ("adadelta", {"lr": 1.0, "rho": 0.95, "eps": 1e-6}),
    ("adam", {"lr": 2e-2}),
    ("newton", {"lr": 1.0}),
]


def _runs(surface, k: int, steps: int = 40, labels: bool = False):
    """k runs of different entries from (-1.2, 1): the quickstart's eight, then the same
    with half the learning rate (different labels, so different entries). ``labels``: labels
    of 22 to 30 characters ("momentum, lr=0.0005, entry 09"), the lengths that ran off the
    figure with three legend columns."""
    out = []
    for i in range(k):
        name, h = QUICK[i % 8]
        h = dict(h, lr=h["lr"] * 0.5 ** (i // 8))
        traj = run(surface, make_optimizer(name, **h), [-1.2, 1.0], steps)
        if labels:
            traj.optimizer_label = f"{name}, lr={h['lr']:.3g}, entry {i:02d}"
        out.append(traj)
    return out


def _drawn_colours(fig) -> set[str]:
    ax = fig.axes[0]
    return {to_hex(ln.get_color()) for ln in ax.get_lines() if len(ln.get_xdata()) > 1}


def test_quickstart_entries_get_eight_colours_and_the_start_is_neutral(rosen):
    runs = _runs(rosen, 8)
    fig = plotting.contour(rosen, runs, grid=60)
    legend = fig.axes[0].get_legend()
    handles = [h for h in legend.legend_handles if h.get_label().split(" ")[0] in dict(QUICK)]
    colours = [to_hex(h.get_color()) for h in handles]
    # gd (entry 0) and newton (entry 7) shared vermilion with the 7-colour palette
    assert len(colours) == 8 and len(set(colours)) == 8
    assert _drawn_colours(fig) >= set(colours)
    # the start marker: one neutral circle (white, dark edge), not the last run's colour
    starts = [
        ln
        for ln in fig.axes[0].get_lines()
        if ln.get_marker() == "o" and len(ln.get_xdata()) == 1 and ln.get_markersize() >= 7
    ]
    assert starts
    for ln in starts:
        assert to_hex(ln.get_markerfacecolor()) == "#ffffff"
        assert to_hex(ln.get_markeredgecolor()) == to_hex(START_EDGE)
        assert np.allclose([ln.get_xdata()[0], ln.get_ydata()[0]], [-1.2, 1.0])


def _legends_inside(fig) -> list:
    FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [a.get_legend() for a in fig.axes if a.get_legend()]
    assert legends
    box = fig.bbox
    for leg in legends:
        e = leg.get_window_extent(renderer)
        assert e.x0 >= box.x0 - 0.5 and e.y0 >= box.y0 - 0.5, (e, box)
        assert e.x1 <= box.x1 + 0.5 and e.y1 <= box.y1 + 0.5, (e, box)
    return legends


@pytest.mark.parametrize("k", [1, 8, 16])
@pytest.mark.parametrize("kind", ["contour", "loss", "effective_lr"])
def test_legends_fit_inside_the_saved_image(rosen, kind, k):
    runs = _runs(rosen, k, labels=True)
    if kind == "contour":
        fig = plotting.contour(rosen, runs, grid=60)
    elif kind == "loss":
        fig = plotting.loss(runs)
    else:  # one panel per coordinate: the legend lists every run
        fig = plotting.effective_lr(runs, per="coordinate", max_runs=16)
    legends = _legends_inside(fig)
    shown = {t.get_text() for leg in legends for t in leg.get_texts()}
    for r in runs:  # every run is in the legend
        assert r.label in shown
    # the plot keeps a usable height beside a long legend
    assert fig.axes[0].get_window_extent().height > 0.35 * fig.bbox.height


def test_long_labels_wrap_to_the_figure_width(rosen):
    traj = run(rosen, make_optimizer("gd", lr=1e-3), [-1.2, 1.0], 20)
    traj.optimizer_label = "a gradient-descent run with a very long label " * 4
    fig = plotting.loss([traj])
    (leg,) = _legends_inside(fig)
    assert "\n" in leg.get_texts()[0].get_text()


# -- several starts -------------------------------------------------------------------------
BASE = {
    "name": "s",
    "surface": "rosenbrock",
    "steps": 30,
    "optimizers": [{"name": "gd", "lr": 1e-3}, {"name": "momentum", "lr": 1e-3, "momentum": 0.9}],
    "figures": ["contour", "loss"],
}


def _errors(raw) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "x.yaml")
    return "\n".join(info.value.errors or [str(info.value)])


def test_start_accepts_one_point_or_a_list_of_points():
    one = parse_config({**BASE, "start": [-1.2, 1]}, "x.yaml")
    assert one.start == (-1.2, 1.0) and one.starts == ((-1.2, 1.0),) and one.n_runs == 2
    two = parse_config({**BASE, "start": [[-1.2, 1], [0, 0]]}, "x.yaml")
    assert two.starts == ((-1.2, 1.0), (0.0, 0.0)) and two.start == (-1.2, 1.0)
    assert two.n_runs == 4  # 2 entries x 2 starts
    assert two.to_dict()["start"] == [[-1.2, 1.0], [0.0, 0.0]]
    # the cost counts every run: twice the work of one start
    assert two.cost().work == 2 * one.cost().work == 2 * 2 * 30


@pytest.mark.parametrize(
    "start, message",
    [
        ([[-1.2, 1], [0, "a"]], "start[1][1]: 'a' is not allowed: must be a finite number"),
        ([[-1.2, 1], [0]], "start[1]: [0.0] is not allowed: it has 1 number but the surface has 2"),
        ([[-1.2, 1], 0], "not a mixture of numbers and lists"),
        ([[1, 2]] * 1001, "start: '[1001 points]' is not allowed: must be at most 1000 points"),
        ([], "start: [] is not allowed: must be a point [x1, ..., xn]"),
    ],
)
def test_bad_start_lists_are_refused_naming_the_field(start, message):
    assert message in _errors({**BASE, "start": start})


def test_start_prev_gives_one_previous_iterate_per_start():
    raw = {**BASE, "start": [[-1.2, 1], [0, 0]]}
    cfg = parse_config({**raw, "start_prev": [[-1.3, 0.9], [0.1, 0.1]]}, "x.yaml")
    assert cfg.starts_prev == ((-1.3, 0.9), (0.1, 0.1)) and cfg.start_prev == (-1.3, 0.9)
    text = _errors({**raw, "start_prev": [-1.3, 0.9]})
    assert "start_prev: [-1.3, 0.9] is not allowed: must be one previous iterate per start: " in (
        text
    )
    assert "a list of 2 points" in text
    assert "start_prev[1]: [0.1] is not allowed: it has 1 number" in _errors(
        {**raw, "start_prev": [[-1.3, 0.9], [0.1]]}
    )


def test_expect_indices_count_entries_times_starts():
    raw = {**BASE, "start": [[-1.2, 1], [0, 0]], "expect": [{"run": 4, "status": "max_steps"}]}
    assert "expect[0].run: 4 is not allowed: the config has 4 runs (0..3" in _errors(raw)
    raw = {**BASE, "start": [[-1.2, 1], [0, 0]]}
    raw["optimizers"] = [{**BASE["optimizers"][0], "label": "GD"}, BASE["optimizers"][1]]
    raw["expect"] = [{"run": "GD", "status": "max_steps"}]
    text = _errors(raw)
    assert "'GD' is not allowed: with 2 starts that entry has several runs" in text
    assert "runs 0..1" in text


def test_each_entry_runs_from_each_start_in_the_documented_order(rosen):
    from optiviz.experiment import run_experiment

    starts = [[-1.2, 1.0], [0.5, -0.5]]
    prevs = [[-1.25, 0.95], [0.45, -0.45]]
    raw = {**BASE, "start": starts, "start_prev": prevs, "figures": []}
    raw["optimizers"] = [
        {"name": "gd", "lr": 1e-3},
        {"name": "momentum", "lr": {"grid": {"values": [1e-4, 1e-3]}}, "momentum": 0.9},
    ]
    result = run_experiment(parse_config(raw, "x.yaml"), write=False)
    # entry by entry, start by start, grid point by grid point
    expected = [("gd", 0, None), ("gd", 1, None)] + [
        ("momentum", s, lr) for s in (0, 1) for lr in (1e-4, 1e-3)
    ]
    assert [r.run for r in result.runs] == list(range(6))
    for rec, (name, s, lr) in zip(result.runs, expected, strict=True):
        tr = rec.trajectory
        assert tr.optimizer == name
        assert rec.label.endswith("from " + ("(-1.2, 1)", "(0.5, -0.5)")[s])
        # the same numbers as a run of its own from that start and history
        h = {"lr": 1e-3} if lr is None else {"lr": lr, "momentum": 0.9}
        alone = run(rosen, make_optimizer(name, **h), starts[s], 30, x_prev=prevs[s])
        np.testing.assert_allclose(tr.points, alone.points, rtol=1e-12, atol=1e-15)
        assert tr.status == alone.status


def test_cli_start_replaces_the_start_and_is_validated(tmp_path):
    from typer.testing import CliRunner

    from optiviz.cli import app

    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({**BASE, "start": [-1.2, 1], "figures": []}))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["run", str(p), "--out", str(out), "--start", "-1.2,1", "--start", "(0, 0)", "-q"]
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((out / "trajectories.csv").open()))
    firsts = {
        r["run"]: (float(r["x"]), float(r["y"]), r["start"]) for r in rows if r["step"] == "0"
    }
    assert firsts == {
        "0": (-1.2, 1.0, "0"),
        "1": (0.0, 0.0, "1"),
        "2": (-1.2, 1.0, "0"),
        "3": (0.0, 0.0, "1"),
    }
    for args, message in [
        (["--start", "1,abc"], "--start[0][1]: 'abc' is not allowed: must be a finite number"),
        (["--start", "1,2,3"], "--start: [1.0, 2.0, 3.0] is not allowed: it has 3 numbers"),
        (["--start", "1,2", "--start", "1"], "--start[1]: [1.0] is not allowed: it has 1 number"),
    ]:
        res = CliRunner().invoke(app, ["run", str(p), "--out", str(tmp_path / "no"), *args])
        assert res.exit_code == 2, res.output
        assert message in res.output
        assert not (tmp_path / "no").exists()
    # the limits count the runs from every start: 1000 starts x 2 entries x 10^7 steps
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump({**BASE, "start": [-1.2, 1], "steps": 3_000_000}))
    many = [a for i in range(1000) for a in ("--start", f"{i},0")]
    res = CliRunner().invoke(app, ["run", str(big), "--out", str(tmp_path / "no"), *many])
    assert res.exit_code == 2 and "too much work: 6e+09 run-steps" in res.output


# -- lr sweeps ------------------------------------------------------------------------------
def test_lr_sweep_takes_a_trajectory_and_draws_a_line_per_second_hyperparameter():
    s = optiviz.load_surface("ill_conditioned")
    lrs = np.geomspace(1e-3, 1.0, 9)
    mom = np.array([0.0, 0.5, 0.9])
    L, M = (a.ravel() for a in np.meshgrid(lrs, mom, indexing="xy"))
    traj = run(s, make_optimizer("momentum", lr=L, momentum=M), [-3.5, 1.5], 50, record="final")
    fig = plotting.lr_sweep(traj)  # needed the arrays before
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 9]
    assert len(lines) == 3  # not one zig-zag line through the 27 runs
    assert len({to_hex(ln.get_color()) for ln in lines}) == 3
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    for m in ("0", "0.5", "0.9"):
        assert any(t.endswith(f"momentum={m}") for t in labels), labels
    # each line: its runs' final f - f* (f* = 0) against increasing lr
    for ln, m in zip(lines, mom, strict=True):
        np.testing.assert_allclose(ln.get_xdata(), lrs)
        sel = M == m
        want = np.where(traj.status[sel] == "diverged", np.nan, traj.final_loss[sel])
        want = np.where(want > 0, want, np.nan)
        np.testing.assert_allclose(np.asarray(ln.get_ydata(), float), want, equal_nan=True)


def test_lr_sweep_title_fits_within_the_figure():
    lrs = np.geomspace(1e-3, 1.0, 6)
    title = "heavy ball (all momentum values): final loss after 200 steps against the lr " * 2
    fig = plotting.lr_sweep(lrs, np.geomspace(1.0, 1e-3, 6), title=title)
    FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    e = fig.axes[0].title.get_window_extent(fig.canvas.get_renderer())
    assert e.x0 >= 0 and e.x1 <= fig.bbox.x1 and e.y1 <= fig.bbox.y1
    assert "\n" in fig.axes[0].get_title()


# -- trajectories.csv -----------------------------------------------------------------------
def test_csv_has_a_column_per_hyperparameter(tmp_path):
    from optiviz.experiment import run_experiment

    raw = {
        **BASE,
        "start": [[-1.2, 1], [0, 0]],
        "record": "final",
        "figures": [],
        "optimizers": [
            {"name": "gd", "lr": 1e-3},
            {"name": "adam", "lr": {"grid": {"values": [0.01, 0.02]}}, "betas": [0.8, 0.99]},
        ],
    }
    run_experiment(parse_config(raw, "x.yaml"), out_dir=tmp_path / "o")
    path = tmp_path / "o" / "trajectories.csv"
    head = next(csv.reader(path.open()))
    assert head[:12] == [
        "run", "label", "optimizer", "step", "x", "y", "loss", "grad_norm",
        "evals_f", "evals_grad", "evals_hess", "start",
    ]  # fmt: skip
    assert {"lr", "maximize", "betas_1", "betas_2", "eps", "amsgrad"} <= set(head[12:])
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 2 + 4  # record: final, one row per run
    # record: final: the one row of a run holds its total evaluations (gd: one value and
    # gradient per iterate, x0 and every step's)
    assert {(r["evals_f"], r["evals_grad"], r["evals_hess"]) for r in rows} == {
        (str(BASE["steps"] + 1), str(BASE["steps"] + 1), "0")
    }
    by_run = {int(r["run"]): r for r in rows}
    # gd: runs 0, 1 (start 0, 1); adam: runs 2..5 = start 0 (lr 0.01, 0.02), start 1 (...)
    assert [by_run[i]["start"] for i in range(6)] == ["0", "1", "0", "0", "1", "1"]
    assert [float(by_run[i]["lr"]) for i in range(6)] == [1e-3, 1e-3, 0.01, 0.02, 0.01, 0.02]
    assert by_run[0]["betas_1"] == "" and by_run[0]["eps"] == ""  # gd has none
    assert (by_run[3]["betas_1"], by_run[3]["betas_2"]) == ("0.8", "0.99")
    assert by_run[3]["amsgrad"] == "false" and by_run[0]["maximize"] == "false"
    assert by_run[3]["eps"] == "1e-08"  # Adam's default


def test_shipped_several_starts_config_runs_every_entry_from_every_start():
    cfg = load_config(ROOT / "configs" / "several-starts.yaml")
    assert len(cfg.starts) == 4 and cfg.n_runs == 3 * 4


def test_what_only_a_start_refuses_is_found_for_every_entry():
    # a history with lr = 0 cannot give heavy ball its velocity (x0 - x_prev) / lr: each
    # entry is refused once, naming the start
    raw = {
        **BASE,
        "start": [[-1.2, 1], [0, 0]],
        "start_prev": [[-1.3, 1], [0.1, 0]],
        "optimizers": [
            {"name": "momentum", "lr": 0.0, "momentum": 0.9},
            {"name": "momentum", "lr": 0.0, "momentum": 0.5},
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "x.yaml")
    errors = info.value.errors
    assert len(errors) == 2
    for i, line in enumerate(errors):
        assert line.startswith(f"x.yaml: optimizers[{i}]: momentum was given a history")
        assert line.endswith("(from start[0])")
