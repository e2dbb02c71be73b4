"""The output folder of ``optiviz run``: nothing of the user's is ever replaced, a failed or
interrupted write leaves the folder as it was, and output problems are one-line user errors.

The rule under test (optiviz.experiment.outputs): a folder may be replaced only when it is
new, empty, or holds exactly the files its run.json lists (an earlier optiviz run); the new
outputs are staged in a temporary sibling folder and swapped in at once.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optiviz.cli import app

ROOT = Path(__file__).resolve().parents[1]
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


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def small(tmp_path) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(SMALL)
    return p


@pytest.fixture
def calls(monkeypatch) -> list:
    """The calls to ``run_entries``: empty when the run was refused before any run."""
    import optiviz.experiment.run as experiment_run

    seen: list = []
    real = experiment_run.run_entries

    def counted(*a, **k):
        seen.append(a)
        return real(*a, **k)

    monkeypatch.setattr(experiment_run, "run_entries", counted)
    return seen


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry of ``folder`` (recursively): file bytes, "<dir>" for a folder, "-> where"
    for a symbolic link."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        name = str(p.relative_to(folder))
        if p.is_symlink():
            out[name] = f"-> {os.readlink(p)}"
        else:
            out[name] = "<dir>" if p.is_dir() else p.read_bytes()
    return out


def temporaries(*folders: Path) -> list[Path]:
    return [p for f in folders if f.is_dir() for p in f.iterdir() if p.name.startswith(".tmp")]


def earlier_run(small: Path, out: Path, *extra: str) -> dict[str, bytes | str]:
    r = invoke("run", small, "--out", out, "-q", *extra)
    assert r.exit_code == 0, r.output + r.stderr
    return snapshot(out)


def one_error_line(r, path: Path | str) -> str:
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: output folder {path}: "), r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    return lines[0]


# -- unsafe --out: the user's own files are never replaced ------------------------------------
def test_out_empty_is_refused_and_the_current_folder_is_untouched(
    small, tmp_path, monkeypatch, calls
):
    # the bug: `--out ''` wrote into the current folder over the user's report.md/config.yaml
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.md").write_text("my report")
    (tmp_path / "config.yaml").write_text("my config")
    before = snapshot(tmp_path)
    r = invoke("run", small, "--out", "")
    assert r.exit_code == 2, r.output + r.stderr
    assert r.stderr.strip() == "error: --out: '' is not allowed: must name a folder"
    assert calls == [] and snapshot(tmp_path) == before


@pytest.mark.parametrize("how", ["dot", "absolute", "holds the current folder"])
def test_out_the_current_folder_is_refused(small, tmp_path, monkeypatch, calls, how):
    # even empty: swapping the current folder would leave the shell in a deleted folder
    here = tmp_path / "here"
    (here / "deeper").mkdir(parents=True)
    monkeypatch.chdir(here / "deeper" if how == "holds the current folder" else here)
    out = {"dot": Path("."), "absolute": here, "holds the current folder": here}[how]
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2
    assert "the current folder" in one_error_line(r, out)
    assert calls == [] and snapshot(here) == {"deeper": "<dir>"}


def test_out_the_home_folder_is_refused(small, tmp_path, monkeypatch, calls):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    r = invoke("run", small, "--out", home)
    assert r.exit_code == 2 and "the home folder" in one_error_line(r, home)
    assert calls == [] and list(home.iterdir()) == []


def test_a_folder_holding_a_file_optiviz_did_not_write_is_refused_naming_it(small, tmp_path, calls):
    out = tmp_path / "out"
    earlier_run(small, out)
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    calls.clear()
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2
    assert str(out / "notes.txt") in one_error_line(r, out)
    assert calls == [] and snapshot(out) == before and temporaries(tmp_path, out) == []


def test_a_folder_without_run_json_is_not_an_earlier_run(small, tmp_path, calls):
    # a report.md of the user's own, with no run.json saying optiviz wrote it
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("my report")
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2 and str(out / "report.md") in one_error_line(r, out)
    assert calls == [] and snapshot(out) == {"report.md": b"my report"}


def test_an_empty_or_earlier_run_folder_is_replaced(small, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    earlier_run(small, out)  # empty: allowed
    run = json.loads((out / "run.json").read_text())
    assert sorted(run["files"]) == sorted(p.name for p in out.iterdir())
    r = invoke("run", small, "--out", out, "-q", "--seed", "5")  # an earlier run: allowed
    assert r.exit_code == 0, r.output + r.stderr
    assert json.loads((out / "run.json").read_text())["seed"] == 5
    assert temporaries(tmp_path, out) == []


def test_figures_of_an_earlier_run_do_not_stand_beside_the_new_outputs(small, tmp_path):
    out = tmp_path / "out"
    small.write_text(SMALL.replace("[contour, loss]", "[contour, loss, surface3d]"))
    assert {"loss.png", "surface3d.png"} <= set(earlier_run(small, out))
    small.write_text(SMALL.replace("[contour, loss]", "[contour]"))
    assert invoke("run", small, "--out", out, "-q").exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    # exactly what the second run wrote: its six files, no loss.png or surface3d.png
    assert names == [
        "config.yaml",
        "contour.png",
        "report.md",
        "results.npz",
        "run.json",
        "trajectories.csv",
    ]
    assert sorted(json.loads((out / "run.json").read_text())["files"]) == names


# -- a failed write replaces nothing -----------------------------------------------------------
def test_report_md_a_folder_fails_and_leaves_the_folder_as_it_was(small, tmp_path):
    out = tmp_path / "out"
    earlier_run(small, out)
    (out / "report.md").unlink()
    (out / "report.md").mkdir()
    before = snapshot(out)
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2
    assert str(out / "report.md") in one_error_line(r, out)
    assert snapshot(out) == before  # config.yaml and trajectories.csv untouched
    assert temporaries(tmp_path, out) == []


def test_a_full_disk_during_the_write_leaves_the_old_outputs(small, tmp_path, monkeypatch):
    import optiviz.experiment.outputs as outputs

    out = tmp_path / "out"
    before = earlier_run(small, out)
    real = outputs._write_file
    written: list[Path] = []

    def full_after_two(path, fill):
        if len(written) == 2:  # config.yaml and trajectories.csv went through, then ENOSPC
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        real(path, fill)

    monkeypatch.setattr(outputs, "_write_file", full_after_two)
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2 and len(written) == 2
    assert f"no space left on {out}" in one_error_line(r, out)
    assert snapshot(out) == before and temporaries(tmp_path, out) == []


def test_a_full_disk_into_a_new_folder_leaves_nothing(small, tmp_path, monkeypatch):
    import optiviz.experiment.outputs as outputs

    def full(path, fill):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(outputs, "_write_file", full)
    out = tmp_path / "new" / "out"
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2 and f"no space left on {out}" in one_error_line(r, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def test_a_failing_figure_leaves_the_old_outputs(small, tmp_path, monkeypatch):
    import optiviz.plotting

    out = tmp_path / "out"
    before = earlier_run(small, out)

    def boom(*a, **k):
        raise RuntimeError("the figure broke")

    monkeypatch.setattr(optiviz.plotting, "save_figure", boom)
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 1 and "the figure broke" in r.stderr
    assert snapshot(out) == before and temporaries(tmp_path, out) == []


def test_a_failed_swap_puts_the_old_folder_back(small, tmp_path, monkeypatch):
    import optiviz.experiment.outputs as outputs

    out = tmp_path / "out"
    before = earlier_run(small, out)
    real = os.rename

    def no_moving_in(src, dst):
        if Path(dst) == out and ".tmp-" in Path(src).name and "-old" not in Path(src).name:
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        real(src, dst)

    monkeypatch.setattr(outputs.os, "rename", no_moving_in)
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2 and str(out) in one_error_line(r, out)
    assert snapshot(out) == before and temporaries(tmp_path, out) == []


# -- output problems are user errors, found before any run -------------------------------------
def _bad_out(tmp_path: Path, case: str) -> Path:
    if case == "existing file":
        (tmp_path / "taken").write_text("mine\n")
        return tmp_path / "taken"
    if case == "/dev/null":
        return Path("/dev/null")
    if case == "dangling symlink":
        (tmp_path / "link").symlink_to(tmp_path / "nowhere")
        return tmp_path / "link"
    if case == "300-character component":
        return tmp_path / ("a" * 300) / "out"
    if case == "under /proc":
        return Path("/proc/optiviz-out")
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["existing file", "/dev/null", "dangling symlink", "300-character component", "under /proc"],
)
def test_an_unusable_out_is_a_one_line_error_before_any_run(small, tmp_path, calls, case):
    out = _bad_out(tmp_path, case)
    before = snapshot(tmp_path)
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 2, r.output + r.stderr
    one_error_line(r, out)
    assert calls == [] and r.stdout == ""
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_an_unwritable_out_is_a_one_line_error_before_any_run(small, tmp_path, calls):
    out = tmp_path / "locked"
    earlier_run(small, out)
    tmp_path.chmod(0o555)  # the swap needs the parent: the staging folder is its sibling
    try:
        r = invoke("run", small, "--out", out)
    finally:
        tmp_path.chmod(0o755)
    assert r.exit_code == 2 and calls == []
    one_error_line(r, out)


# -- signals during the write phase ------------------------------------------------------------
_SLOW_WRITE = """
import os, sys, time
import optiviz.experiment.outputs as outputs
real = outputs._write_file
def slow(path, fill):  # the first file is staged, then the write phase stalls
    real(path, fill)
    open(os.environ["OPTIVIZ_TEST_READY"], "w").close()
    time.sleep(120)
outputs._write_file = slow
from optiviz.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_the_write_cleans_up_and_leaves_the_old_outputs(small, tmp_path, sig, code):
    out = tmp_path / "out"
    before = earlier_run(small, out)
    ready = tmp_path / "ready"
    env = {**os.environ, "MPLBACKEND": "Agg", "OPTIVIZ_TEST_READY": str(ready)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITE, "run", str(small), "--out", str(out), "-q"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), proc.communicate(timeout=10)
        assert temporaries(tmp_path) != []  # the staging folder exists: we are mid-write
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert temporaries(tmp_path, out) == []
    assert snapshot(out) == before


def test_run_help_documents_the_exit_codes():
    text = " ".join(invoke("run", "--help").output.split())
    for part in (
        "0 ok",
        "1 an expect check failed or an internal error",
        "2 bad input",
        "130 interrupted (SIGINT, Ctrl-C)",
        "143 terminated (SIGTERM)",
    ):
        assert part in text, text


def test_concurrent_runs_into_one_folder_leave_one_whole_run(small, tmp_path):
    # each run's folder is swapped in whole: the survivor's files all agree on its seed
    import threading

    from optiviz.config import apply_overrides, load_config
    from optiviz.experiment import run_experiment

    out = tmp_path / "new" / "out"
    base = load_config(small)
    errors: list[BaseException] = []

    def one(seed: int) -> None:
        try:
            run_experiment(apply_overrides(base, seed=seed), out_dir=out, figures=[])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    run = json.loads((out / "run.json").read_text())
    assert sorted(run["files"]) == sorted(p.name for p in out.iterdir())
    assert f"seed: {run['seed']}\n" in (out / "config.yaml").read_text()
    assert temporaries(tmp_path / "new", out) == []
