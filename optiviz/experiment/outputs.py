"""Writing an experiment's outputs atomically: config.yaml, trajectories.csv, report.md,
the figures and run.json (see :mod:`optiviz.experiment` for the policy)."""

from __future__ import annotations

import contextlib
import csv
import errno
import functools
import json
import os
import platform
import secrets
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from optiviz._format import json_safe
from optiviz.config import ExperimentConfig
from optiviz.config.specs import points_as_written
from optiviz.errors import OptivizError
from optiviz.experiment.markdown import report_markdown
from optiviz.experiment.results import ExperimentResult, Progress, RunRecord
from optiviz.experiment.saved import FORMAT, RESULTS_FILE, VERSION, results_npz
from optiviz.trajectory import EVAL_COLUMNS


def _versions() -> dict:
    import importlib.metadata as md

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("optiviz", "numpy", "sympy", "matplotlib", "pyyaml"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            out[pkg] = None
    return out


def provenance() -> dict:
    """Where and with what a run (or a redraw) was made: package versions (python,
    optiviz, numpy, sympy, matplotlib, pyyaml), the platform and the Python."""
    return {
        "versions": _versions(),
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
    }


def _seeds(config: ExperimentConfig) -> dict:
    """The seeds of the runs: the config's ``seed``, its ``seeds`` (repeats of each
    mini-batch entry) and, per entry, the seeds its mini-batch sampler ran with (None for a
    full-batch entry, which draws nothing at random)."""
    return {
        "seed": config.seed,
        "repeats": config.seeds,
        "entries": [
            list(config.seeds_of(s)) if s.batch_size is not None else None
            for s in config.optimizers
        ],
    }


def _surface_info(surface: Any) -> dict:
    return {
        "name": surface.name,
        "expression": surface.text,
        "variables": list(surface.variables),
        "parameters": json_safe(
            {
                k: (v if isinstance(v, (int, float, list)) else str(v))
                for k, v in surface.parameters.items()
            }
        ),
        "l1": float(getattr(surface, "l1", 0.0)),
        "l2": float(getattr(surface, "l2", 0.0)),
        "n_samples": getattr(surface, "n_samples", None),
        "minima": [m.to_dict() for m in surface.minima],
    }


def _run_json(config: ExperimentConfig, result: ExperimentResult, files: list[str]) -> dict:
    runs = []
    entry_of = {s.index: s for s in config.optimizers}
    by_entry: dict[int, int] = {}
    for r in result.runs:
        by_entry[r.entry] = by_entry.get(r.entry, 0) + 1
    for r in result.runs:
        tr = r.trajectory
        spec = entry_of[r.entry]
        s = tr.summary()
        ent_traj = result.trajectories[r.entry]
        runs.append(
            {
                "run": r.run,
                "entry": r.entry,
                "label": r.label,
                "optimizer": tr.optimizer,
                "hyperparameters": s["hyperparameters"],
                "schedule": s["schedule"],
                "steps": config.steps_of(spec),
                "record": config.record_of(spec),
                "batch_size": spec.batch_size,
                "status": s["status"],
                "n_steps": s["n_steps"],
                "diverged_at": s["diverged_at"],
                "steps_to_tolerance": s["steps_to_tolerance"],
                "final_point": s["final_point"],
                "final_loss": s["final_loss"],
                "final_grad_norm": s["final_grad_norm"],
                "best_loss": s["best_loss"],
                "final_distance_to_min": s.get("final_distance_to_min"),
                "n_f": s["n_f"],
                "n_grad": s["n_grad"],
                "n_hess": s["n_hess"],
                "evaluations": float(tr.cost(config.evaluation_weights)),
                "seed": r.seed,
                # a grid is one batched run: its wall time is shared by its grid points
                "wall_time": float(ent_traj.wall_time),
                "wall_time_shared_by": by_entry[r.entry],
            }
        )
    return json_safe(
        {
            "name": config.name,
            "config": config.path,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **provenance(),
            "seed": config.seed,
            "seeds": _seeds(config),
            "evaluation_weights": dict(config.evaluation_weights),
            "resolved_config": config.to_dict(),
            "results": {"file": RESULTS_FILE, "format": FORMAT, "version": VERSION},
            "surface": _surface_info(result.surface),
            "start": points_as_written(config.starts),
            "start_prev": None
            if config.starts_prev is None
            else points_as_written(config.starts_prev),
            "eta_opt": result.eta_opt,
            "n_runs": len(result.runs),
            # seconds: see optiviz.experiment.results.TIMING_KEYS (the same as "timing.total")
            "wall_time": result.timing.get("total", result.wall_time),
            "timing": dict(result.timing),
            "runs": runs,
            "expectations": [e.to_dict() for e in result.expectations],
            "files": files,
        }
    )


def _csv_text_rows(records: list[RunRecord], nv: int):
    """Per record, its rows ``[run, label, optimizer, step, *x, loss, grad_norm, evals_f,
    evals_grad, evals_hess]`` (the evaluations of each step; the totals on the one row of
    a ``record: final`` run)."""
    for r in records:
        tr = r.trajectory
        if tr.points is not None:
            counts = None if tr.step_evals is None else np.asarray(tr.step_evals).tolist()
            for t, row in enumerate(tr.to_rows(run_offset=r.run, label=r.label)):
                c = ["", "", ""] if counts is None else counts[t]
                yield r, [*row[: 4 + nv + 2], *c]
        else:  # record: final -> one row per run: its final point and its totals
            yield (
                r,
                [
                    r.run,
                    r.label,
                    tr.optimizer,
                    int(tr.n_steps),
                    *np.asarray(tr.final_point, dtype=float).tolist(),
                    float(tr.final_loss),
                    float(tr.final_grad_norm),
                    int(tr.n_f),
                    int(tr.n_grad),
                    int(tr.n_hess),
                ],
            )


def hyperparameter_columns(records: list[RunRecord], taken: Any = ()) -> list[tuple]:
    """The hyperparameter columns of trajectories.csv: ``(column, key, part)`` for every
    hyperparameter of every run, in order of first appearance (entry order, then each
    optimizer's own order). A pair such as ``betas`` is two columns, ``betas_1`` and
    ``betas_2`` (``part`` 0 and 1; ``None`` for a single value). A name already ``taken``
    (a variable of the surface, a fixed column) gets the prefix ``hp_``."""
    seen: dict[str, int | None] = {}
    for r in records:
        for key, v in (r.trajectory.hyperparameters or {}).items():
            size = len(v) if isinstance(v, (tuple, list, np.ndarray)) else None
            if key not in seen or (size or 0) > (seen[key] or 0):
                seen[key] = size
    taken = set(taken)
    out = []
    for key, size in seen.items():
        for part in [None] if size is None else range(size):
            col = key if part is None else f"{key}_{part + 1}"
            if col in taken:
                col = f"hp_{col}"
            taken.add(col)
            out.append((col, key, part))
    return out


def _cell(hyper: dict, key: str, part: int | None) -> str:
    """One hyperparameter cell: floats at full precision (``repr``), ints, ``true`` /
    ``false``, text; empty where the run's optimizer has no such hyperparameter."""
    if key not in hyper:
        return ""
    v = hyper[key]
    if part is not None:
        if not isinstance(v, (tuple, list, np.ndarray)) or part >= len(v):
            return ""
        v = v[part]
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def _start_indices(records: list[RunRecord], config: ExperimentConfig) -> dict[int, int]:
    """Run number -> index of its start in ``config.starts`` (an entry's runs are its grid
    from each start in turn)."""
    grid = {s.index: s.n_runs * config.repeats_of(s) for s in config.optimizers}
    within: dict[int, int] = {}
    out = {}
    for r in records:
        k = within.get(r.entry, 0)
        within[r.entry] = k + 1
        out[r.run] = k // grid[r.entry]
    return out


def write_csv(
    path_or_buffer: Any,
    surface: Any,
    records: list[RunRecord],
    config: ExperimentConfig | None = None,
) -> None:
    """Write the long-format CSV of every run: ``run, label, optimizer, step, <variables>,
    loss, grad_norm, evals_f, evals_grad, evals_hess`` (the evaluations each step made,
    :attr:`~optiviz.trajectory.Trajectory.step_evals`; a ``record: final`` run's one row has
    its totals), then (with ``seeds`` > 1 in ``config``) ``seed``, the run's mini-batch
    seed (empty for an entry without mini-batches), then (with several starts) ``start``,
    the index of the run's start in the config's list, then one column per hyperparameter
    (:func:`hyperparameter_columns`; empty where a run's optimizer lacks it)."""
    if isinstance(path_or_buffer, (str, Path)):
        with open(path_or_buffer, "w", newline="", encoding="utf-8") as fh:
            write_csv(fh, surface, records, config)
        return
    w = csv.writer(path_or_buffer, lineterminator="\n")
    nv = len(surface.variables)
    head = ["run", "label", "optimizer", "step", *surface.variables, "loss", "grad_norm"]
    head += [c if c not in head else f"hp_{c}" for c in EVAL_COLUMNS]
    seeds = config is not None and config.seeds > 1
    if seeds:
        head.append("seed" if "seed" not in head else "hp_seed")
    starts = None
    if config is not None and len(config.starts) > 1:
        starts = _start_indices(records, config)
        head.append("start" if "start" not in head else "hp_start")
    hyper = hyperparameter_columns(records, head)
    w.writerow(head + [col for col, _, _ in hyper])
    cells: tuple = ()
    last: Any = None
    for r, row in _csv_text_rows(records, nv):
        if r is not last:  # the same cells on every row of one run
            h = r.trajectory.hyperparameters or {}
            cells = (
                *([] if not seeds else ["" if r.seed is None else str(r.seed)]),
                *([str(starts[r.run])] if starts is not None else []),
            ) + tuple(_cell(h, key, part) for _, key, part in hyper)
            last = r
        w.writerow(
            row[:4]
            + [repr(float(v)) for v in row[4 : 4 + nv + 2]]
            + [str(c) for c in row[4 + nv + 2 :]]
            + list(cells)
        )


def _config_yaml(config: ExperimentConfig) -> str:
    import yaml

    head = (
        f"# Resolved config of experiment {config.name!r}"
        + (f" (from {config.path})" if config.path else "")
        + ": every default filled in.\n"
    )
    return head + yaml.safe_dump(
        json_safe(config.to_dict()), sort_keys=False, default_flow_style=None, width=100
    )


#: Folders under these are the system's, never an output folder.
_SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _earlier_run_files(folder: Path) -> set[str]:
    """The files ``folder/run.json`` says an earlier optiviz run wrote, or
    ``folder/plot.json`` an earlier ``optiviz plot --out`` / ``compare`` (empty if none)."""
    for listing in ("run.json", "plot.json"):
        try:
            files = json.loads((folder / listing).read_text(encoding="utf-8")).get("files")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            continue
        if isinstance(files, list):
            return {f for f in files if isinstance(f, str) and f == Path(f).name}
    return set()


def _refuse(target: Path, why: str) -> OptivizError:
    shown = str(target) if str(target).isprintable() else repr(str(target))  # one line
    return OptivizError(f"output folder {shown}: {why}")


def check_output_folder(target: Path) -> Path:
    """Refuse, before anything runs, an output folder that cannot be used or must not be
    replaced; return its real path (symbolic links resolved).

    The rule: ``target`` may be replaced only when it is new, empty, or holds exactly the
    files of an earlier optiviz run (those its ``run.json`` lists); any other entry in it is
    the user's and the run is refused naming it. The current folder (or one holding it), the
    home folder, ``/`` and system folders (/proc, /sys, /dev) are refused outright. The
    folder beside it (where the new outputs are staged) must be writable: a probe folder is
    made and removed there, or in the nearest existing ancestor. Raises
    :class:`OptivizError`, one line naming the path.
    """
    try:
        return _check_output_folder(target)
    except OSError as exc:  # a name too long, a loop of links, ...: the path is unusable
        raise _refuse(target, exc.strerror or str(exc)) from None


def _check_output_folder(target: Path) -> Path:
    if target.is_symlink() and not target.exists():
        raise _refuse(target, f"is a symbolic link to {os.readlink(target)}, which does not exist")
    if target.exists() and not target.is_dir():
        raise _refuse(target, "is an existing file, not a folder")
    real = Path(os.path.realpath(target))
    if any(real == s or s in real.parents for s in _SYSTEM_FOLDERS):
        raise _refuse(target, f"is under {real.parts[0]}{real.parts[1]}, a system folder")
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        what = "is the current folder" if real == cwd else f"holds the current folder {cwd}"
        raise _refuse(target, f"{what}; choose a subfolder, e.g. --out outputs/<name>")
    if real == Path.home().resolve() or real == Path(real.anchor):
        what = "the home folder" if real != Path(real.anchor) else "the root folder"
        raise _refuse(target, f"is {what}; choose a subfolder, e.g. --out outputs/<name>")
    if real.is_dir():
        _check_replaceable(target, real)
    place = real.parent
    while not place.exists():
        place = place.parent
    if not place.is_dir():
        raise _refuse(target, f"cannot be created: {place} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tmp-optiviz-probe-", dir=place))
    except OSError as exc:
        what = "replaced" if real.exists() else "created"
        raise _refuse(target, f"cannot be {what} ({place}: {exc.strerror})") from None
    return real


def _check_replaceable(target: Path, real: Path) -> None:
    """Refuse ``real`` (an existing folder) unless it is empty or an earlier run's."""
    ours = _earlier_run_files(real)
    try:
        entries = list(os.scandir(real))
    except FileNotFoundError:  # another run is swapping it this instant: as good as new
        return
    foreign = sorted(
        e.name for e in entries if e.name not in ours or not e.is_file(follow_symlinks=False)
    )
    if foreign:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        kind = "a folder" if (real / foreign[0]).is_dir() else "a file"
        raise _refuse(
            target,
            f"holds {target / foreign[0]}{more}, {kind} no earlier optiviz run wrote (its "
            "run.json does not list it); not replacing the folder: move it away or choose "
            "another --out",
        )


def _put(text: str, fh: TextIO) -> None:
    fh.write(text)


def _write_bytes(path: Path, body: bytes) -> None:
    """A new binary file ``path`` (a data file a figure kind returned as bytes)."""
    with open(path, "xb") as fh:
        fh.write(body)


def _write_file(path: Path, fill: Callable[[TextIO], object]) -> None:
    """The one low-level write of the text outputs: a new file ``path`` filled by ``fill``."""
    with open(path, "x", newline="", encoding="utf-8") as fh:
        fill(fh)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """While inside: SIGTERM (if it would kill the process outright) raises
    ``SystemExit(143)`` instead, so the writer's cleanup runs as it does for Ctrl-C; the
    old handler is restored on the way out. A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.getsignal(signal.SIGTERM)
    if old is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _os_error(target: Path, exc: OSError) -> OptivizError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _refuse(target, f"no space left on {target}; nothing was replaced")
    where = f" ({exc.filename})" if exc.filename else ""
    return _refuse(target, f"cannot be written: {exc.strerror or exc}{where}; nothing was replaced")


def write_outputs(
    target: Path,
    config: ExperimentConfig,
    result: ExperimentResult,
    progress: Progress | None = None,
    *,
    stage: Callable[[Path], list[str]] | None = None,
) -> dict[str, Path]:
    """Write every output of ``result`` into ``target``, replacing the folder as a whole.

    ``stage(folder) -> file names``: writes the files in place of the experiment's own
    (a suite's, :mod:`optiviz.suite.outputs`), into the staged folder, with the same swap.

    ``target`` is checked by :func:`check_output_folder` (again just before the swap).
    Every file is written into a temporary sibling folder ``.tmp-<name>-XXXX``; then the
    old folder (if any) is renamed aside, the new one renamed in and the old one deleted.
    So the folder holds exactly this run's files, and on any failure (an error, a full
    disk, Ctrl-C, SIGTERM) it is as before and no temporary folder remains. An
    :class:`OSError` while writing becomes an :class:`OptivizError` naming ``target``
    ("no space left on <target>" for a full disk). Returns file name -> path (under
    ``target`` as given).
    """
    started = time.perf_counter()
    real = check_output_folder(target)
    report = report_markdown(config, result) if stage is None else ""
    made: list[Path] = []  # missing ancestors this call created, deepest last
    for parent in reversed(real.parents):
        if not parent.exists():
            made.append(parent)
    staged: Path | None = None
    try:
        with _terminate_cleanly():
            for folder in made:
                folder.mkdir(exist_ok=True)
            staged = real.parent / f".tmp-{real.name[:100]}-{secrets.token_hex(4)}"
            staged.mkdir()
            names = (
                _stage(staged, config, result, report, progress, started)
                if stage is None
                else stage(staged)
            )
            if progress is not None:
                progress.describe(f"writing {target}")
            _swap_in(target, real, staged)
            staged = None
            if progress is not None:
                progress.advance()
    except BaseException as exc:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise _os_error(target, exc) from None
        raise
    return {name: target / name for name in names}


def write_kind(
    staged: Path, kind: str, result: Any, colors: Any, config: Any, progress: Any = None
) -> list[str]:
    """Draw the figure kind ``kind`` of ``result`` with ``config``'s options and write its
    images (in each of ``config.formats``, at its ``dpi`` option) and data files into the
    folder ``staged``; return the file names (the one figure-writing loop of a run and of
    a suite)."""
    from optiviz.figures import draw
    from optiviz.plotting import save_figure

    if progress is not None:
        progress.describe(f"drawing {kind}")
    figures, data = draw(kind, result, colors, config.figure_options.get(kind))
    dpi = config.options_of(kind).get("dpi")  # the figure option, else the default
    names: list[str] = []
    for name, fig in figures:
        save_figure(fig, staged / name, list(config.formats), *([dpi] if dpi else []))
        names += [f"{name}.{fmt}" for fmt in config.formats]
        fig.clear()
    for file_name, body in data.items():
        if isinstance(body, bytes):
            _write_bytes(staged / file_name, body)
        else:
            _write_file(staged / file_name, functools.partial(_put, body))
        names.append(file_name)
    if progress is not None:
        progress.advance()
    return names


def _stage(
    staged: Path,
    config: ExperimentConfig,
    result: ExperimentResult,
    report: str,
    progress: Progress | None,
    started: float,
) -> list[str]:
    """Write every output into the folder ``staged``; return the file names, run.json last.

    ``result.timing`` gets the seconds of the figures, of the other files (from
    ``started``, when :func:`write_outputs` began, to the figures: rendering the report and
    writing config.yaml, trajectories.csv and report.md; run.json's own few milliseconds
    are not counted) and the total up to writing run.json (``timing["total"]`` held the
    total before writing began).
    """
    _write_file(staged / "config.yaml", lambda fh: fh.write(_config_yaml(config)))
    _write_file(
        staged / "trajectories.csv",
        lambda fh: write_csv(fh, result.surface, result.runs, config),
    )
    _write_file(staged / "report.md", lambda fh: fh.write(report))
    _write_bytes(staged / RESULTS_FILE, results_npz(config, result))
    names = ["config.yaml", "trajectories.csv", "report.md", RESULTS_FILE]
    if result.tuning is not None:  # tune.csv and best.yaml (optiviz.experiment.tuning)
        from optiviz.experiment.tuning import tuning_files

        for tuning_name, text in tuning_files(config, result.tuning).items():
            _write_file(staged / tuning_name, functools.partial(_put, text))
            names.append(tuning_name)
    t_figures = time.perf_counter()
    if config.figures:
        from optiviz.plotting import ColorMap

        colors = ColorMap()  # one map: a label keeps its colour in every figure
        for kind in config.figures:
            names += write_kind(staged, kind, result, colors, config, progress)
    names.append("run.json")
    now = time.perf_counter()
    timing = result.timing
    timing["figures"] = now - t_figures
    timing["other_files"] = t_figures - started
    timing["total"] = timing.get("total", result.wall_time) + (now - started)
    text = json.dumps(_run_json(config, result, names), indent=2, allow_nan=False)
    _write_file(staged / "run.json", lambda fh: fh.write(text))
    for name in names:
        if not (staged / name).is_file():
            raise OptivizError(f"expected output {name} was not written")
    return names


def _swap_in(target: Path, real: Path, staged: Path) -> None:
    """Replace the folder ``real`` by ``staged``: the old one renamed aside, the new one
    renamed in, the old one deleted; if the new one cannot be moved in, the old one is put
    back. SIGINT and SIGTERM wait until the swap is done. A folder another run swapped in
    meanwhile is checked and replaced the same way (a few tries)."""
    try:
        staged.chmod(real.stat().st_mode & 0o7777)  # the folder keeps its permissions
    except FileNotFoundError:  # a new folder: the staged one has the umask's
        pass
    with _signals_held(), _parent_locked(real.parent):
        for attempt in range(3):
            if real.is_dir():
                _check_replaceable(target, real)
            aside = real.parent / f"{staged.name}-old{attempt}"
            try:
                os.rename(real, aside)
            except FileNotFoundError:  # a new folder (or another run moved it aside)
                pass
            try:
                os.rename(staged, real)
            except OSError as exc:
                if aside.exists():
                    os.rename(aside, real)
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and attempt < 2:
                    continue  # another run moved its folder in meanwhile: replace that one
                raise
            shutil.rmtree(aside, ignore_errors=True)
            return


@contextlib.contextmanager
def _parent_locked(parent: Path) -> Iterator[None]:
    """While inside, no other optiviz swap into ``parent`` runs (an advisory ``flock`` on
    the folder itself: nothing is written beside the user's files). Runs that swap into
    one folder at once otherwise race between moving the old folder aside and putting it
    back. Without ``fcntl`` (not POSIX) nothing is locked and the swap's retries remain."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM are held back (delivered on the way out)."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
