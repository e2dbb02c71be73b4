"""The command line: every command through typer's CliRunner, exit codes, lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optiviz import __version__
from optiviz.cli import LazyBar, app, parse_assignments, parse_value
from optiviz.errors import OptivizError

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
runner = CliRunner()

SMALL = """\
name: small
surface: booth
start: [0.0, 0.0]
steps: 20
optimizers:
  - {name: gd, lr: 0.05, label: GD}
  - {name: adam, lr: 0.1}
figures: [contour, loss]
"""


def invoke(*args: str, **kw):
    return runner.invoke(app, [str(a) for a in args], **kw)


@pytest.fixture
def small(tmp_path) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(SMALL)
    return p


# -- help and version ---------------------------------------------------------------------
def test_help_lists_every_command():
    r = invoke("--help")
    assert r.exit_code == 0
    for cmd in ("run", "report", "step", "list", "describe", "validate", "init"):
        assert cmd in r.output


@pytest.mark.parametrize("cmd", ["run", "report", "step", "list", "describe", "validate", "init"])
def test_every_command_has_help(cmd):
    r = invoke(cmd, "--help")
    assert r.exit_code == 0 and "Usage: optiviz " + cmd in r.output


def test_step_help_documents_the_hyperparameter_syntax():
    out = invoke("step", "--help").output
    # -p is --param in every command (a hyperparameter or a surface parameter, by name);
    # --set is the hyperparameter-only spelling
    assert "-p, --param NAME=VALUE" in out and "--set NAME=VALUE" in out
    assert "betas=0.9,0.999" in out and "true/false" in out


def test_no_arguments_shows_help():
    r = invoke()
    # issue 9: `optiviz` alone printed the help but exited with 2 (click's no_args_is_help)
    assert r.exit_code == 0 and "Usage: optiviz" in r.output and "Commands" in r.output


def test_version():
    r = invoke("--version")
    assert r.exit_code == 0 and r.output.strip() == f"optiviz {__version__}"


def test_unknown_command_is_a_usage_error():
    r = invoke("rn")
    assert r.exit_code == 2


# -- list / describe ------------------------------------------------------------------------
def test_list_optimizers():
    r = invoke("list", "optimizers")
    assert r.exit_code == 0
    names = [line.split()[0] for line in r.output.splitlines()]
    for name in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "newton"):
        assert name in names


def test_list_surfaces_and_schedules():
    r = invoke("list", "surfaces")
    assert r.exit_code == 0 and "rosenbrock" in r.output and "seed_quadratic" in r.output
    r = invoke("list", "schedule")  # the singular works too
    assert r.exit_code == 0 and "inverse_time" in r.output


def test_list_unknown_kind_exits_2_with_a_suggestion():
    r = invoke("list", "optimisers")
    assert r.exit_code == 2
    assert "error: list: 'optimisers' is not allowed" in r.stderr
    assert "(did you mean 'optimizers'?)" in r.stderr


def test_describe_optimizer_surface_schedule():
    r = invoke("describe", "adam")
    assert r.exit_code == 0 and "betas" in r.output and "Update:" in r.output
    r = invoke("describe", "rosenbrock")
    assert r.exit_code == 0 and "known minimum: (1, 1), f = 0" in r.output
    r = invoke("describe", "inverse_time")
    assert r.exit_code == 0 and "eta0" in r.output


def test_describe_unknown_name():
    r = invoke("describe", "adamm")
    assert r.exit_code == 2 and "unknown name 'adamm' (did you mean 'adam'?)" in r.stderr


# -- validate / init --------------------------------------------------------------------------
def test_validate_good_config(small):
    r = invoke("validate", small)
    assert r.exit_code == 0
    assert "ok:" in r.output and "2 optimizer entries (2 runs)" in r.output


def test_validate_reports_every_problem(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("surface: booth\nstart: [0, 0, 0]\nsteps: -1\noptimizers: [{name: gd, lr: -1}]\n")
    r = invoke("validate", p)
    assert r.exit_code == 2
    assert "error: 3 problems found:" in r.stderr
    assert "steps: -1 is not allowed" in r.stderr
    assert "optimizers[0].lr: -1 is not allowed" in r.stderr
    assert "start: [0.0, 0.0, 0.0] is not allowed" in r.stderr
    assert "Traceback" not in r.output


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke("init", "my-exp")
    assert r.exit_code == 0 and (tmp_path / "my-exp.yaml").is_file()
    text = (tmp_path / "my-exp.yaml").read_text()
    assert text.startswith("# optiviz experiment config") and "name: my-exp" in text
    r = invoke("validate", "my-exp.yaml")
    assert r.exit_code == 0, r.output + r.stderr
    before = (tmp_path / "my-exp.yaml").read_text()
    r = invoke("init", "my-exp")
    assert r.exit_code == 2 and "already exists; not overwriting it" in r.stderr
    assert (tmp_path / "my-exp.yaml").read_text() == before


def test_init_default_name_and_unsafe_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("init").exit_code == 0 and (tmp_path / "experiment.yaml").is_file()
    for bad in ("../escape", "a/b", ".hidden"):
        r = invoke("init", bad)
        assert r.exit_code == 2 and "is not allowed" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment.yaml"]


# -- run -----------------------------------------------------------------------------------
def test_run_writes_every_output(small, tmp_path):
    out = tmp_path / "out"
    r = invoke("run", small, "--out", out, "--format", "png,svg", "--steps", "12", "--seed", "3")
    assert r.exit_code == 0, r.output + r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "config.yaml",
            "trajectories.csv",
            "run.json",
            "report.md",
            "results.npz",
            "contour.png",
            "contour.svg",
            "loss.png",
            "loss.svg",
        ]
    )
    assert f"wrote 9 files to {out}/" in r.output
    for name in names:
        assert str(out / name) in r.output
    assert "[0] GD: max_steps" in r.output
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 3 and run["n_runs"] == 2
    assert {x["n_steps"] for x in run["runs"]} == {12}
    assert run["versions"]["optiviz"] == __version__
    assert sorted(run["files"]) == names
    resolved = (out / "config.yaml").read_text()
    assert "steps: 12" in resolved and "seed: 3" in resolved


def test_run_quiet_prints_only_where_outputs_went(small, tmp_path):
    r = invoke("run", small, "--out", tmp_path / "o", "--quiet")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0].startswith("wrote 7 files to") and len(lines) == 8


def test_run_defaults_to_outputs_name(small, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke("run", small, "-q", "--steps", "3")
    assert r.exit_code == 0
    assert (tmp_path / "outputs" / "small" / "run.json").is_file()


def test_run_replaces_only_its_own_files(small, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "loss.png").write_text("stale")
    # issue 14: no run.json lists these files, so they are the user's: the run is refused
    r = invoke("run", small, "--out", out, "-q")
    assert r.exit_code == 2 and f"holds {out / 'loss.png'} (and 1 more)" in r.stderr
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "loss.png").read_text() == "stale"
    assert not [p for p in out.iterdir() if ".tmp" in p.name]


def test_run_bad_override_exits_2_and_writes_nothing(small, tmp_path):
    out = tmp_path / "out"
    r = invoke("run", small, "--out", out, "--format", "gif")
    assert r.exit_code == 2 and "error: --format[0]: 'gif' is not allowed" in r.stderr
    r = invoke("run", small, "--out", out, "--steps", "0")
    assert r.exit_code == 2 and "--steps: 0 is not allowed" in r.stderr
    assert not out.exists()


def _no_runs(monkeypatch) -> list:
    """Make starting a run fail the test's expectations visibly: returns the list of the
    calls to ``run_entries`` (empty if no run started)."""
    import optiviz.experiment.run as experiment_run

    calls: list = []
    monkeypatch.setattr(experiment_run, "run_entries", lambda *a, **k: calls.append(a))
    return calls


@pytest.mark.parametrize("where", ["existing file", "under a file"])
def test_run_refuses_an_unusable_out_before_any_run(small, tmp_path, monkeypatch, where):
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder\n")
    out = blocker if where == "existing file" else blocker / "sub" / "out"
    calls = _no_runs(monkeypatch)
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2, r.output + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: output folder {out}: "), r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert calls == [] and r.stdout == ""  # no run started, nothing summarised
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml", "taken"]
    assert blocker.read_text() == "not a folder\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_run_refuses_an_out_under_a_read_only_folder(small, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    calls = _no_runs(monkeypatch)
    try:
        r = invoke("run", small, "--out", locked / "out")
    finally:
        locked.chmod(0o755)
    assert r.exit_code == 2 and f"error: output folder {locked / 'out'}: " in r.stderr
    assert calls == [] and list(locked.iterdir()) == []


def test_run_missing_config(tmp_path):
    r = invoke("run", tmp_path / "nope.yaml")
    assert r.exit_code == 2 and "no such config file" in r.stderr


def test_run_failed_expectation_exits_1(tmp_path):
    p = tmp_path / "e.yaml"
    p.write_text(SMALL + "expect:\n  - {run: 0, point: [9, 9]}\n")
    r = invoke("run", p, "--out", tmp_path / "o")
    assert r.exit_code == 1
    assert "FAILED: expect[0]" in r.output and "1 expect check(s) failed" in r.stderr


def test_internal_errors_exit_1_without_traceback_unless_debug(small, tmp_path, monkeypatch):
    import optiviz.experiment

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(optiviz.experiment, "run_experiment", boom)
    r = invoke("run", small, "--out", tmp_path / "o")
    assert r.exit_code == 1
    assert "error: internal error: RuntimeError: kaboom" in r.stderr
    assert "Traceback" not in r.stderr
    r = invoke("--debug", "run", small, "--out", tmp_path / "o")
    assert r.exit_code == 1 and "Traceback" in r.stderr and "kaboom" in r.stderr


def test_debug_shows_traceback_for_bad_input_too(tmp_path):
    r = invoke("--debug", "run", tmp_path / "nope.yaml")
    assert r.exit_code == 2 and "no such config file" in r.stderr and "Traceback" in r.stderr


# -- report / step -------------------------------------------------------------------------
def test_report_table_md_json():
    r = invoke("report", "seed_diagonal")
    assert r.exit_code == 0 and "minimum" in r.output and "0.125" in r.output
    r = invoke("report", "seed_diagonal", "--format", "md")
    assert r.exit_code == 0 and r.output.startswith("# Analysis of `seed_diagonal`")
    r = invoke("report", "seed_diagonal", "-f", "json")
    data = json.loads(r.output)
    assert data["stationary_points"][0]["eta"]["stability_limit"] == pytest.approx(0.25)


def test_report_at_point_parameters_and_config():
    r = invoke("report", "rosenbrock", "--at=-1.2,1", "-p", "b=10")
    assert r.exit_code == 0 and "(-1.2, 1)" in r.output
    r = invoke("report", CONFIGS / "worked-a-correlated-quadratic.yaml", "-f", "json")
    assert r.exit_code == 0
    at = json.loads(r.output)["at"]  # the config's report.at = w(t)
    assert at["gradient"] == pytest.approx([-0.416667, -0.194444], abs=1e-6)


@pytest.mark.parametrize(
    "args, message",
    [
        (["rosenbrok"], "unknown surface 'rosenbrok' (did you mean 'rosenbrock'?)"),
        (["rosenbrock", "--at", "1,x"], "--at: '1,x' is not allowed"),
        (["rosenbrock", "--at", "1,2,3"], "the surface has 2 variables"),
        (["rosenbrock", "-f", "html"], "--format: 'html' is not allowed"),
        (["rosenbrock", "-p", "c=1"], "has no parameter 'c'"),
        (["rosenbrock", "-p", "b"], "--param: 'b' is not allowed: write name=value"),
    ],
)
def test_report_bad_input(args, message):
    r = invoke("report", *args)
    assert r.exit_code == 2 and message in r.stderr


def test_step_explains_worked_problem_a():
    r = invoke(
        "step",
        "-s",
        "seed_quadratic",
        "-o",
        "momentum",
        "-p",
        "lr=0.3",
        "--set",
        "momentum=0.9",
        "--at",
        "1.5,2",
        "--prev",
        "1,1",
    )
    assert r.exit_code == 0, r.stderr
    assert "(2.075, 2.95833)" in r.output
    r = invoke(
        "step",
        "-s",
        "seed_quadratic",
        "-o",
        "rprop",
        "-p",
        "variant=lecture",
        "-p",
        "etas=0.6,1.5",
        "--at=1.5,2",
        "--prev=1,1",
    )
    assert r.exit_code == 0 and "(2.25, 3.5)" in r.output
    r = invoke(
        "step",
        "-s",
        CONFIGS / "worked-a-correlated-quadratic.yaml",
        "-o",
        "gd",
        "-p",
        "lr=0.3",
        "--at",
        "1.5,2",
    )
    assert r.exit_code == 0 and "(1.625, 2.05833)" in r.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "gd", "-p", "momentum=0.9"], "gd does not take the hyperparameter 'momentum'"),
        (["-o", "gd", "-p", "lr=-1"], "The 'lr' hyperparameter of gd must be"),
        (["-o", "gd", "--set", "lr"], "--set: 'lr' is not allowed: write name=value"),
        (["-o", "gd", "-p", "lr"], "--param: 'lr' is not allowed: write name=value"),
        (["-o", "gd", "-p", "lr=1", "-p", "lr=2"], "'lr' is given twice"),
        (["-o", "adamm"], "Unknown optimizer 'adamm'"),
        (["-o", "gd", "--at", "1"], "--at: 1 numbers given but the surface"),
    ],
)
def test_step_bad_input(args, message):
    base = ["step", "-s", "seed_quadratic", "--at", "1.5,2"]
    r = invoke(*base, *args)
    assert r.exit_code == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.output


def test_parse_value_is_safe():
    assert parse_value("0.3") == 0.3 and parse_value("1e-3") == 1e-3
    assert parse_value("5") == 5 and isinstance(parse_value("5"), int)
    assert parse_value("true") is True and parse_value("No") is False
    assert parse_value("0.9,0.999") == (0.9, 0.999) and parse_value("[0.9, 0.999]") == (0.9, 0.999)
    assert parse_value("inside") == "inside"
    assert parse_value("__import__('os')") == "__import__('os')"  # text, never evaluated
    assert parse_assignments(["lr=0.1", "nesterov=true"]) == {"lr": 0.1, "nesterov": True}
    with pytest.raises(OptivizError):
        parse_assignments(["1x=2"])


# -- the progress bar --------------------------------------------------------------------------
def test_lazy_progress_bar_appears_only_after_the_delay():
    quick = LazyBar(delay=10.0)
    quick.begin(3)
    quick.describe("a")
    quick.advance()
    quick.end()
    assert quick._bar is None  # never shown
    piped = LazyBar(delay=0.01)  # stderr is not a terminal under pytest: no bar
    piped.begin(1)
    time.sleep(0.2)
    assert piped._bar is None
    piped.end()
    slow = LazyBar(delay=0.01, force=True)
    slow.begin(2)
    time.sleep(0.2)
    slow.describe("working")
    slow.advance()
    assert slow._bar is not None
    slow.end()
    assert slow._bar is None and slow.done == 1


# -- subprocesses: python -m optiviz and lazy imports ----------------------------------------
def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


_MODULES = """
import sys
from optiviz.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print("HEAVY:", sorted(m for m in ("sympy", "matplotlib") if m in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        [],
        ["list"],
        ["list", "optimizers"],
        ["list", "surfaces"],
        ["list", "schedules"],
        ["describe", "adam"],
        ["--version"],
    ],
)
def test_light_commands_do_not_import_sympy_or_matplotlib(args):
    r = _python(_MODULES, *args)
    assert "HEAVY: []" in r.stderr, r.stderr
    assert r.stdout.strip()


def test_python_dash_m_works_the_same():
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run(
        [sys.executable, "-m", "optiviz", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0 and r.stdout.strip() == f"optiviz {__version__}"
    r = subprocess.run(
        [sys.executable, "-m", "optiviz", "list", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2 and r.stderr.startswith("error: list: 'nope'")
    assert "Traceback" not in r.stderr
