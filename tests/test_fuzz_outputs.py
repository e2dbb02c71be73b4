"""Fuzzing of ``optiviz run --out PATH`` over odd output paths (issue 14).

Hypothesis (seeded, bounded) draws an output path -- empty, ``.``, ``..``, a trailing
slash, an existing file of the user's, a folder holding the user's files, an earlier run's
folder, a dangling symbolic link or one to the user's file, a path through a file, long
components (255 and 300 characters, multi-byte ones), paths under ``/proc`` and
``/dev/null``, names with newlines, spaces and unicode, new nested folders -- and runs a tiny
config into it from a sandbox folder (the current directory) holding the user's own files.

The contract: the exit code is 0 or 2, the output shows no traceback and no internal error,
on exit 2 nothing at all is written (the sandbox is byte for byte as before and no
temporary folder is left), and on exit 0 no file of the user's is replaced: everything
outside the output folder is as before, and the output folder is new, was empty, or was
the earlier run's.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from optiviz.cli import app

RUNNER = CliRunner()
#: Examples of the fuzz test (the count the issue's closing note states).
PATH_EXAMPLES = 30

TINY = """\
name: tiny
surface: booth
start: [0.0, 0.0]
steps: 3
optimizers:
  - {name: gd, lr: 0.05}
figures: []
"""

#: The user's own files in the sandbox (the current directory of each run).
USER_FILES = {
    "report.md": "my notes\n",
    "config.yaml": "mine: true\n",
    "mine.txt": "do not replace\n",
    "folder/inside.txt": "a user's folder\n",
}

_SEGMENT_CHARS = "abz09 -_.\n\tÄéλ漢😀"
_SEGMENTS = st.text(_SEGMENT_CHARS, min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
#: Special paths: (kind, text); "{x}" is replaced by a drawn segment.
_SPECIAL = [
    "",
    ".",
    "./",
    "..",
    "mine.txt",
    "mine.txt/{x}",
    "report.md",
    "folder",
    "folder/",
    "folder/inside.txt",
    "earlier",
    "earlier/",
    "empty",
    "dangling",
    "to-mine",
    "to-folder",
    "/dev/null",
    "/dev/null/{x}",
    "/proc/optiviz-fuzz-{x}",
    "/proc/self/{x}",
    "a" * 255,
    "a" * 256,
    "é" * 200,
    "b" * 300 + "/{x}",
    "new/{x}/{x}",
    "{x}",
    "{x}\n",
    " {x} ",
    "{x}/",
]


@st.composite
def out_paths(draw) -> str:
    template = draw(st.sampled_from(_SPECIAL))
    while "{x}" in template:
        template = template.replace("{x}", draw(_SEGMENTS), 1)
    return template


def _snapshot(folder: Path) -> dict[str, object]:
    """Every entry below ``folder``: file bytes, "<dir>" for a folder, "-> target" for a
    symbolic link (not followed), with its mode."""
    out: dict[str, object] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            key = str(p.relative_to(folder))
            st_ = p.lstat()
            if stat.S_ISLNK(st_.st_mode):
                out[key] = f"-> {os.readlink(p)}"
            elif stat.S_ISDIR(st_.st_mode):
                out[key] = ("<dir>", st_.st_mode)
            else:
                out[key] = (p.read_bytes(), st_.st_mode)
    return out


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory) -> Path:
    """The outputs of one earlier run (copied into each sandbox as ``earlier``)."""
    base = tmp_path_factory.mktemp("earlier")
    (base / "tiny.yaml").write_text(TINY, encoding="utf-8")
    res = RUNNER.invoke(app, ["run", str(base / "tiny.yaml"), "--out", str(base / "run"), "-q"])
    assert res.exit_code == 0, res.output
    return base / "run"


def _sandbox(tmp: Path, earlier: Path) -> Path:
    box = tmp / "box"
    for name, text in USER_FILES.items():
        (box / name).parent.mkdir(parents=True, exist_ok=True)
        (box / name).write_text(text, encoding="utf-8")
    shutil.copytree(earlier, box / "earlier")
    (box / "empty").mkdir()
    (box / "dangling").symlink_to(box / "nowhere")
    (box / "to-mine").symlink_to(box / "mine.txt")
    (box / "to-folder").symlink_to(box / "folder")
    return box


def _decided(res, out: str) -> None:
    shown = f"--out {out!r}: exit {res.exit_code}\n{res.output}"
    assert res.exit_code in (0, 2), shown
    assert "Traceback" not in res.output and "internal error" not in res.output, shown
    if res.exit_code == 2:
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), shown


_FUZZ = settings(
    max_examples=PATH_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@seed(14)
@_FUZZ
@given(out_paths())
def test_odd_out_paths_are_refused_or_written_without_touching_the_users_files(
    tmp_path_factory, earlier_run, out
):
    tmp = tmp_path_factory.mktemp("o")
    box = _sandbox(tmp, earlier_run)
    (tmp / "tiny.yaml").write_text(TINY, encoding="utf-8")
    before = _snapshot(tmp)
    null_mode = os.stat("/dev/null").st_mode
    cwd = os.getcwd()
    os.chdir(box)
    try:
        target = Path(out).absolute() if out else None
        res = RUNNER.invoke(app, ["run", str(tmp / "tiny.yaml"), "--out", out])
    finally:
        os.chdir(cwd)
    _decided(res, out)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and os.stat("/dev/null").st_mode == null_mode
    after = _snapshot(tmp)
    if res.exit_code == 2:
        assert after == before, f"--out {out!r} was refused but something was written"
        return
    # exit 0: the outputs went into one folder that was new, empty or the earlier run's;
    # every other entry (the user's files above all) is as before
    assert target is not None
    folder = Path(os.path.realpath(target))
    assert (folder / "run.json").is_file(), out
    inside = (
        str(folder.relative_to(tmp.resolve())) if folder.is_relative_to(tmp.resolve()) else None
    )
    assert inside not in (None, "box", "box/folder"), (out, inside)
    kept = {k: v for k, v in before.items() if inside is None or not _below(k, inside)}
    assert {k: after.get(k) for k in kept} == kept, f"--out {out!r} changed the user's files"
    assert not [k for k in after if Path(k).name.startswith(".tmp")], after.keys()


def _below(key: str, folder: str) -> bool:
    return key == folder or key.startswith(folder + "/")
