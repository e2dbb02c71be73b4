"""Results as data: results.npz round-trips every run, ``optiviz plot`` redraws identical
figures without running anything, ``optiviz compare`` merges outputs on one surface, and
every bad input is a one-line error with exit code 2."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from optiviz.cli import app

runner = CliRunner()

#: One small config drawing the two figure kinds that run their own runs (basins, rate_map)
#: and one that draws the entries' runs (loss); low dpi and few steps keep it cheap. (Every
#: other kind draws from the saved runs like loss: lr_range, modes and sharpness were
#: checked byte-identical on the shipped configs, see the report of issue 11 item 5.)
TINY = """\
name: tiny
surface:
  expression: "0.5*x**2 + 2*y**2 + 0.3*x*y"
  variables: [x, y]
  window: [[-2, 2], [-2, 2]]
  minima: [{point: [0, 0], value: 0}]
  name: tiny_quadratic
start: [1.5, 1.0]
steps: 12
optimizers:
  - {name: gd, lr: 0.1, label: GD}
  - {name: momentum, lr: 0.05, momentum: 0.5}
figures:
  - {loss: {dpi: 30, size: [3, 3]}}
  - {basins: {resolution: 5, dpi: 30, size: [3, 3]}}
  - rate_map:
      x: {lr: {logspace: [-2, -0.5, 4]}}
      y: {momentum: {linspace: [0, 0.9, 3]}}
      entry: 1
      dpi: 30
      size: [4, 3]
formats: [png]
"""

#: A second output on the same surface from another start, whose one label ("GD")
#: repeats one of TINY's.
OTHER = """\
name: other
surface:
  expression: "0.5*x**2 + 2*y**2 + 0.3*x*y"
  variables: [x, y]
  window: [[-2, 2], [-2, 2]]
  minima: [{point: [0, 0], value: 0}]
  name: tiny_quadratic
start: [-1.0, 1.5]
steps: 8
optimizers:
  - {name: adam, lr: 0.2, label: GD}
figures: []
"""


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(r) -> str:
    """The error output of a refused command: one line, no traceback."""
    text = r.stderr.strip()
    assert "Traceback" not in r.output + r.stderr
    assert text.startswith("error: ") and "\n" not in text, text
    return text


def _run(tmp: Path, text: str, name: str) -> Path:
    from optiviz.config import load_config
    from optiviz.experiment import run_experiment

    cfg = tmp / f"{name}.yaml"
    cfg.write_text(text)
    out = tmp / name
    run_experiment(load_config(cfg), out)
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("replot")
    return {"tiny": _run(tmp, TINY, "tiny"), "other": _run(tmp, OTHER, "other")}


def forbid_runs(monkeypatch) -> None:
    """From now on, any engine run or optimizer step fails the test."""
    import sys

    import optiviz.engine
    from optiviz.optimizers import REGISTRY

    def boom(*a, **k):
        raise AssertionError("an optimizer was run")

    monkeypatch.setattr(optiviz.engine, "run", boom)
    monkeypatch.setattr(sys.modules["optiviz.engine.run"], "run", boom)
    for cls in set(REGISTRY.values()):
        monkeypatch.setattr(cls, "step", boom)


@pytest.fixture
def no_runs(monkeypatch):
    forbid_runs(monkeypatch)


def copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


# -- the archive ---------------------------------------------------------------------------
def test_values_round_trip_exactly_with_their_types():
    """The encoding keeps what JSON would lose: non-finite and negative-zero floats, numpy
    scalar types, tuples, non-str keys, object arrays of str."""
    from optiviz.experiment.saved import _Arrays, decode, encode

    value = {
        "nan": math.nan,
        "inf": -math.inf,
        "zero": -0.0,
        "tenth": 0.1,
        "f32": np.float32(0.1),
        "i8": np.int8(-3),
        "pair": (0.9, 0.999),
        "keys": {1: "a", (0, 1): "b"},
        "status": np.array(["converged", "diverged"], dtype=object),
        "grid": np.array([[1e-300, np.nan], [np.inf, 5e-324]]),
        "flag": np.bool_(True),
        "text": "λ, 漢",
    }
    arrays = _Arrays()
    back = decode(json.loads(json.dumps(encode(value, arrays), allow_nan=False)), arrays.items)
    assert list(back) == list(value)
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf
    assert math.copysign(1.0, back["zero"]) == -1.0 and back["tenth"] == 0.1
    assert type(back["f32"]) is np.float32 and back["f32"] == np.float32(0.1)
    assert type(back["i8"]) is np.int8 and back["i8"] == -3
    assert back["pair"] == (0.9, 0.999) and back["keys"] == {1: "a", (0, 1): "b"}
    assert back["status"].dtype == object and list(back["status"]) == ["converged", "diverged"]
    assert np.array_equal(back["grid"], value["grid"], equal_nan=True)
    assert back["grid"][1, 1] == 5e-324 and type(back["flag"]) is np.bool_
    assert back["text"] == "λ, 漢"


def test_results_npz_holds_every_trajectory_field_bit_for_bit(outputs, monkeypatch):
    """Read back (running nothing), each entry's trajectory equals, field by field and bit
    by bit, the one a rerun of the same (deterministic) config makes."""
    from dataclasses import fields

    from optiviz.config import load_config
    from optiviz.experiment.run import run_entries
    from optiviz.experiment.saved import load_output

    fresh, records, _ = run_entries(load_config(outputs["tiny"].parent / "tiny.yaml"))
    forbid_runs(monkeypatch)
    saved = load_output(outputs["tiny"]).result
    assert [r.label for r in saved.runs] == [r.label for r in records]
    assert saved.surface.name == "tiny_quadratic"
    for a, b in zip(fresh, saved.trajectories, strict=True):
        for f in fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if f.name == "wall_time":
                continue  # a measurement: the rerun's own
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype and x.shape == y.shape, f.name
                assert x.tobytes() == y.tobytes(), f.name
            else:
                assert type(x) is type(y) and repr(x) == repr(y), f.name


def test_kinds_drawn_from_the_saved_runs_compute_the_same_numbers_running_nothing(
    outputs, monkeypatch
):
    """modes and sharpness (no runs of their own) redraw from the saved runs: the data they
    compute from the read-back result equals, to the character, what they compute from a
    fresh run of the same config, and no optimizer step is taken for it."""
    import matplotlib.pyplot as plt

    from optiviz.config import load_config
    from optiviz.experiment import run_experiment
    from optiviz.experiment.saved import load_output
    from optiviz.figures import draw
    from optiviz.plotting import ColorMap

    fresh = run_experiment(load_config(outputs["tiny"].parent / "tiny.yaml"), write=False)
    forbid_runs(monkeypatch)
    saved = load_output(outputs["tiny"]).result
    for kind in ("modes", "sharpness"):
        made = draw(kind, fresh, ColorMap(), {"dpi": 30})
        again = draw(kind, saved, ColorMap(), {"dpi": 30}, saved={})
        assert again[1] == made[1] and len(made[1][f"{kind}.csv"].splitlines()) > 20, kind
        plt.close("all")


def test_expression_surface_name_survives_the_resolved_config():
    """config.yaml (and the saved config) used to drop an expression surface's name, so a
    config reloaded from it was on surface 'custom'."""
    import yaml

    from optiviz.config.parse import parse_config

    cfg = parse_config(yaml.safe_load(OTHER), "<x>", build=False)
    again = parse_config(cfg.to_dict(), "<x>", build=False)
    assert again.surface == cfg.surface and again.surface.name == "tiny_quadratic"


def test_run_json_provenance_and_csv_hyperparameter_columns(outputs):
    import csv
    import importlib.metadata as md
    import platform

    from optiviz.config import load_config

    out = outputs["tiny"]
    body = json.loads((out / "run.json").read_text())
    for pkg in ("optiviz", "numpy", "sympy", "matplotlib"):
        assert body["versions"][pkg] == md.version(pkg)
    assert body["python"]["version"] == platform.python_version()
    assert body["platform"]["machine"] == platform.machine()
    assert body["seeds"] == {"seed": 0, "repeats": 1, "entries": [None, None]}  # full batch
    assert [r["seed"] for r in body["runs"]] == [None, None]
    cfg = load_config(out.parent / "tiny.yaml", build=False)
    assert body["resolved_config"] == json.loads(json.dumps(cfg.to_dict()))
    assert body["results"] == {"file": "results.npz", "format": "optiviz-results", "version": 1}
    assert "results.npz" in body["files"]
    rows = list(csv.DictReader((out / "trajectories.csv").open()))
    first = {r["run"]: r for r in rows if r["step"] == "0"}
    assert (first["0"]["lr"], first["0"]["momentum"]) == ("0.1", "")
    assert (first["1"]["lr"], first["1"]["momentum"]) == ("0.05", "0.5")


# -- plot ------------------------------------------------------------------------------------
def test_plot_redraws_identical_files_without_running_anything(outputs, tmp_path, no_runs):
    """Every image and data file redrawn in place is byte-identical to the
    one the run wrote; no optimizer step is taken (engine and every step() raise)."""
    out = copy(outputs["tiny"], tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    r = invoke("plot", out)
    assert r.exit_code == 0, r.output + r.stderr
    images = [n for n in before if n.endswith(".png")]
    assert sorted(images) == ["basins.png", "loss.png", "rate_map.png"]
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same names (run.json unchanged: no new file), same bytes


def test_plot_out_dir_new_format_and_chosen_figures(outputs, tmp_path, no_runs):
    """--out DIR gets the named figures, their data files and plot.json, and may be
    replaced by a later plot; in place, a new format joins run.json's file list."""
    src = copy(outputs["tiny"], tmp_path)
    dest = tmp_path / "again"
    dest.mkdir()  # an earlier plot's folder: its plot.json lists its files
    (dest / "loss.svg").write_text("<svg/>")
    (dest / "plot.json").write_text(json.dumps({"files": ["loss.svg", "plot.json"]}))
    r = invoke("plot", src, "--figures", "basins", "--out", dest)
    assert r.exit_code == 0, r.output + r.stderr
    names = {p.name for p in dest.iterdir()}
    assert names == {"basins.png", "basins.csv", "plot.json"}  # replaced as a whole
    body = json.loads((dest / "plot.json").read_text())
    assert body["command"] == "plot" and body["figures"] == ["basins"]
    assert sorted(body["files"]) == sorted(names)
    assert body["sources"][0]["name"] == "tiny"
    assert (dest / "basins.png").read_bytes() == (src / "basins.png").read_bytes()
    assert (dest / "basins.csv").read_bytes() == (src / "basins.csv").read_bytes()
    (dest / "mine.txt").write_text("a user's file")  # no longer only the plot's files
    r = invoke("plot", src, "--figures", "basins", "--out", dest)
    assert r.exit_code == 2 and "mine.txt" in one_line_error(r)
    r = invoke("plot", src, "--figures", "loss", "-f", "svg")  # in place: a new format
    assert r.exit_code == 0, r.output + r.stderr
    files = json.loads((src / "run.json").read_text())["files"]
    assert "loss.svg" in files and files[-1] == "run.json" and (src / "loss.svg").is_file()
    assert files[:-2] == json.loads((outputs["tiny"] / "run.json").read_text())["files"][:-1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


# -- compare ---------------------------------------------------------------------------------
def test_compare_merges_runs_of_outputs_on_one_surface(outputs, tmp_path, no_runs):
    """The merged figures hold every run of both outputs; the label repeated across them
    is told apart by each output's name; basins and rate_map (one output's own runs) are
    left out, saying why."""
    from optiviz.experiment.saved import load_output, merge_outputs

    dest = tmp_path / "both"
    r = invoke("compare", outputs["tiny"], outputs["other"], "--out", dest)
    assert r.exit_code == 0, r.output + r.stderr
    assert "left out basins" in r.output and "left out rate_map" in r.output
    names = {p.name for p in dest.iterdir()}
    assert names == {"loss.png", "plot.json"}
    body = json.loads((dest / "plot.json").read_text())
    assert [s["name"] for s in body["sources"]] == ["tiny", "other"]
    merged = merge_outputs([load_output(outputs["tiny"]), load_output(outputs["other"])], ("loss",))
    assert [r.label for r in merged.runs] == [
        "tiny: GD",
        "tiny: momentum (lr=0.05, momentum=0.5)",
        "other: GD",
    ]
    assert merged.config.starts == ((1.5, 1.0), (-1.0, 1.5))
    assert [merged.config.steps_of(s) for s in merged.config.optimizers] == [12, 12, 8]


def test_compare_refuses_outputs_on_different_surfaces(outputs, tmp_path):
    third = _run(tmp_path, OTHER.replace("0.3*x*y", "0.1*x*y").replace("[{loss", "[]#"), "third")
    r = invoke("compare", outputs["tiny"], third, "--out", tmp_path / "x")
    assert r.exit_code == 2
    line = one_line_error(r)
    assert str(third) in line and "is not the surface of" in line
    assert not (tmp_path / "x").exists()


# -- bad input -------------------------------------------------------------------------------
def test_bad_inputs_are_one_line_errors_with_exit_code_2(outputs, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("mine")
    cases = [
        (["plot", tmp_path / "missing"], "does not exist"),
        (["plot", plain], "not an optiviz output folder (it has no run.json)"),
        (["plot", outputs["tiny"], "--figures", "contuor"], "did you mean 'contour'"),
        (["plot", outputs["tiny"], "--formats", "gif"], "'gif' is not allowed"),
        (["plot", outputs["other"], "--figures", "lr_sweep"], "'lr_sweep' is not allowed"),
        (["compare", outputs["tiny"], "--out", tmp_path / "c"], "at least two output folders"),
        (["compare", outputs["tiny"], outputs["other"]], "compare needs --out DIR"),
        (["compare", outputs["tiny"], outputs["other"], "--out", outputs["other"]], "is one of"),
    ]
    for args, text in cases:
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert text in one_line_error(r), (args, r.stderr)
    broken = copy(outputs["tiny"], tmp_path)
    (broken / "results.npz").unlink()
    r = invoke("plot", broken)
    assert r.exit_code == 2 and "has no results.npz" in one_line_error(r)
    (broken / "results.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    r = invoke("plot", broken)
    assert r.exit_code == 2 and "results.npz is not readable" in one_line_error(r)


def test_a_missing_or_corrupt_data_file_names_it(outputs, tmp_path, no_runs):
    out = copy(outputs["tiny"], tmp_path)
    (out / "basins.csv").unlink()
    r = invoke("plot", out, "--figures", "basins")
    assert r.exit_code == 2
    assert "figure basins: the saved data file basins.csv is missing" in one_line_error(r)
    text = (outputs["tiny"] / "rate_map.csv").read_text()
    (out / "rate_map.csv").write_text(text.replace(",diverged,", ",diverged,x", 1)[:-40])
    r = invoke("plot", out, "--figures", "rate_map")
    assert r.exit_code == 2 and "rate_map.csv" in one_line_error(r)
    assert (out / "rate_map.png").read_bytes() == (outputs["tiny"] / "rate_map.png").read_bytes()


def test_every_kind_with_runs_of_its_own_redraws_from_saved_data():
    """A kind whose build runs the engine (it declares ``work``) must declare ``redraw``,
    or ``optiviz plot`` cannot draw it (docs/INTERNALS.md, "A figure kind")."""
    from optiviz.figures import kinds

    own = [k for k in kinds() if k.work is not None]
    assert {"basins", "rate_map"} <= {k.name for k in own}
    assert [k.name for k in own if k.redraw is None] == []
