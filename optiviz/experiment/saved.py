"""Results as data: ``results.npz``, the lossless record of an experiment's runs, and an
output folder read back as an :class:`~optiviz.experiment.ExperimentResult` without running
anything (what ``optiviz plot`` and ``optiviz compare`` draw from).

``results.npz`` (written by :func:`results_npz` beside trajectories.csv) is a numpy archive
read with ``allow_pickle=False``:

* ``meta``: a 0-d unicode array holding JSON text: ``format`` (``"optiviz-results"``),
  ``version`` (:data:`VERSION`), ``config`` (the resolved config, ``config.to_dict()``),
  ``config_path``, ``eta_opt``, ``entries`` (per optimizer entry, every field of its
  :class:`~optiviz.trajectory.Trajectory`, batched for grids and several starts) and
  ``runs`` (per run: its number, entry and label);
* ``a0``, ``a1``, ...: the arrays the JSON refers to (``{"__array__": "a3"}``), at their
  own dtype (floats bit for bit; str arrays as unicode; an object array of str is written
  as unicode and read back as object).

Values are encoded losslessly: a finite float as JSON's shortest repr (which reads back
to the same float), a non-finite one as ``{"__float__": "nan"}``, numpy scalars with their
dtype, tuples as ``{"__tuple__": [...]}``, dicts as ``{"__dict__": [[key, value], ...]}``
(key order kept). So the trajectories read back equal to those the run made, field by
field and bit by bit, and the figures drawn from them are the same figures.

:func:`load_output` reads a folder back: the config from ``meta`` (validated again, without
the zero-step start runs validation otherwise makes), the surface built from it, the
trajectories and runs from the archive, and the analysis recomputed from the surface and
the runs (no optimizer is run). :func:`merge_outputs` joins several outputs on one surface
into one result for ``optiviz compare``.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from optiviz.errors import OptivizError

__all__ = [
    "FORMAT",
    "RESULTS_FILE",
    "VERSION",
    "Output",
    "decode",
    "encode",
    "load_output",
    "merge_outputs",
    "read_results",
    "results_npz",
]

FORMAT = "optiviz-results"
#: The version of ``results.npz`` this optiviz writes (and the newest it reads).
VERSION = 1
RESULTS_FILE = "results.npz"
#: run.json's ``format`` marker and the file that tells an optiviz output folder.
RUN_JSON = "run.json"


# -- lossless encoding -------------------------------------------------------------------
class _Arrays:
    """The arrays of one archive, named ``a0``, ``a1``, ... in order of encoding."""

    def __init__(self) -> None:
        self.items: dict[str, np.ndarray] = {}

    def add(self, a: np.ndarray) -> dict:
        name = f"a{len(self.items)}"
        kind = "object" if a.dtype == object else None
        if kind == "object":
            a = a.astype(str)  # allow_pickle=False reads no object arrays
        self.items[name] = np.ascontiguousarray(a)
        return {"__array__": name, **({"dtype": "object"} if kind else {})}


def encode(value: Any, arrays: _Arrays) -> Any:
    """``value`` as JSON-ready data, arrays moved into ``arrays`` (see the module doc)."""
    from collections.abc import Sequence

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return {"__scalar__": value.dtype.str, "value": encode(value.item(), arrays)}
    if isinstance(value, np.ndarray):
        return arrays.add(value)
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k, arrays), encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (list, Sequence)):  # a list, or RunLabels (saved as the list)
        return [encode(v, arrays) for v in value]
    raise OptivizError(f"results.npz cannot hold a value of type {type(value).__name__}")


def decode(data: Any, arrays: Any) -> Any:
    """The inverse of :func:`encode` (``arrays``: the archive)."""
    if isinstance(data, list):
        return [decode(v, arrays) for v in data]
    if not isinstance(data, dict):
        return data
    if "__array__" in data:
        a = np.asarray(arrays[data["__array__"]])
        return a.astype(object) if data.get("dtype") == "object" else a
    if "__float__" in data:
        return float(data["__float__"])
    if "__scalar__" in data:
        return np.dtype(data["__scalar__"]).type(decode(data["value"], arrays))
    if "__tuple__" in data:
        return tuple(decode(v, arrays) for v in data["__tuple__"])
    if "__dict__" in data:
        return {_key(decode(k, arrays)): decode(v, arrays) for k, v in data["__dict__"]}
    raise ValueError(f"unknown encoded value {sorted(data)}")


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


# -- writing -----------------------------------------------------------------------------
def results_npz(config: Any, result: Any) -> bytes:
    """The bytes of ``results.npz`` for ``result`` (the experiment's config and runs)."""
    arrays = _Arrays()
    entries = [
        {f.name: encode(getattr(t, f.name), arrays) for f in fields(t)} for t in result.trajectories
    ]
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": encode(config.to_dict(), arrays),
        "config_path": config.path,
        "eta_opt": encode(result.eta_opt, arrays),
        "entries": entries,
        "runs": [[int(r.run), int(r.entry), str(r.label)] for r in result.runs],
    }
    buf = io.BytesIO()
    text = json.dumps(meta, allow_nan=False, ensure_ascii=False)
    np.savez(buf, meta=np.array(text), **arrays.items)  # type: ignore[arg-type]
    return buf.getvalue()


# -- reading -----------------------------------------------------------------------------
def _bad(folder: Path, why: str) -> OptivizError:
    shown = str(folder) if str(folder).isprintable() else repr(str(folder))
    return OptivizError(f"{shown}: {why}")


def read_results(folder: str | Path) -> dict:
    """The decoded ``meta`` of ``folder/results.npz``, with ``entries`` decoded into
    :class:`~optiviz.trajectory.Trajectory` objects. :class:`OptivizError` (naming the
    folder) for a folder that is no optiviz output, a missing, corrupt or newer file."""
    from optiviz.trajectory import Trajectory

    folder = Path(folder)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise _bad(folder, f"{what}; expected an output folder of optiviz run")
    if not (folder / RUN_JSON).is_file():
        raise _bad(folder, "is not an optiviz output folder (it has no run.json)")
    path = folder / RESULTS_FILE
    if not path.is_file():
        raise _bad(
            folder,
            f"has no {RESULTS_FILE} (written by optiviz run since results became data); "
            "rerun its config with optiviz run to redraw it",
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("not an optiviz results archive")
        version = meta.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise _bad(
                folder,
                f"{RESULTS_FILE} has format version {version!r}; this optiviz reads "
                f"versions up to {VERSION} (upgrade optiviz)",
            )
        names = {f.name for f in fields(Trajectory)}
        entries = []
        for e in meta["entries"]:
            d = {k: decode(v, arrays) for k, v in e.items()}
            unknown = sorted(set(d) - names)
            if unknown:
                raise ValueError(f"unknown trajectory fields {unknown}")
            if isinstance(d.get("variables"), list):
                d["variables"] = tuple(d["variables"])
            entries.append(Trajectory(**d))
        out = {
            "config": decode(meta["config"], arrays),
            "config_path": meta.get("config_path"),
            "eta_opt": decode(meta.get("eta_opt"), arrays),
            "entries": entries,
            "runs": [(int(r), int(e), str(lab)) for r, e, lab in meta["runs"]],
        }
    except OptivizError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as exc:
        raise _bad(folder, f"{RESULTS_FILE} is not readable ({exc})") from None
    return out


class Output:
    """One output folder read back: ``folder``, ``result`` (an
    :class:`~optiviz.experiment.ExperimentResult` with no timing, expectations or files)
    and ``files`` (run.json's list of the files the run wrote)."""

    def __init__(self, folder: Path, result: Any, files: list[str], run_json: dict):
        self.folder = folder
        self.result = result
        self.files = files
        self.run_json = run_json

    @property
    def config(self) -> Any:
        return self.result.config

    def data_files(self, kind: str) -> dict[str, bytes]:
        """The data files the kind ``kind`` wrote beside its images (``<kind>.csv``, ...:
        every listed file of its stems that is not an image), read as bytes."""
        from optiviz.config.schema import FORMATS

        out = {}
        for name in self.files:
            stem, _, ext = name.partition(".")
            if (stem == kind or stem.startswith(f"{kind}_")) and ext not in FORMATS:
                try:
                    out[name] = (self.folder / name).read_bytes()
                except OSError:
                    continue  # a missing file: the kind's redraw says which it needs
        return out


def _restored_config(raw: Any, path: str | None, folder: Path) -> Any:
    """The resolved config validated again (without the zero-step runs of ``build``), its
    variables and surface filled in."""
    from optiviz.config.parse import parse_config
    from optiviz.errors import ConfigError

    try:
        config = parse_config(raw, path or "<saved config>", build=False)
        surface = config.build_surface()
    except (ConfigError, OptivizError) as exc:
        raise _bad(folder, f"its saved config does not load: {exc}") from None
    config = replace(config, variables=tuple(surface.variables), path=path)
    object.__setattr__(config, "_surface", surface)
    return config


def load_output(folder: str | Path) -> Output:
    """Read the output folder ``folder`` of ``optiviz run`` back, running nothing: the
    config, surface, trajectories and runs as they were, the analysis recomputed from
    them (see the module docstring)."""
    from optiviz.experiment.results import ExperimentResult
    from optiviz.experiment.run import _analyze

    folder = Path(folder)
    saved = read_results(folder)
    try:
        run_json = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
        files = run_json["files"]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ValueError("files is not a list of names")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise _bad(folder, f"{RUN_JSON} is not readable ({exc})") from None
    config = _restored_config(saved["config"], saved["config_path"], folder)
    trajectories = saved["entries"]
    if len(trajectories) != len(config.optimizers):
        raise _bad(
            folder,
            f"{RESULTS_FILE} holds {len(trajectories)} entries and its config "
            f"{len(config.optimizers)}",
        )
    runs = records_of(trajectories)
    if [(r.run, r.entry, r.label) for r in runs] != saved["runs"]:
        raise _bad(folder, f"{RESULTS_FILE}: its runs do not match its entries")
    surface = config.build_surface()
    analysis = _analyze(config, surface, trajectories)
    result = ExperimentResult(
        config=config,
        out_dir=folder,
        files={},
        surface=surface,
        trajectories=trajectories,
        runs=runs,
        analysis=analysis,
        eta_opt=saved["eta_opt"],
    )
    return Output(folder, result, list(files), run_json)


def records_of(trajectories: list) -> list:
    """The :class:`~optiviz.experiment.RunRecord` of every run of the entries'
    trajectories, numbered in order (as :func:`~optiviz.experiment.run_entries` numbers
    them)."""
    from optiviz.experiment.results import RunRecord

    runs: list[RunRecord] = []
    for index, traj in enumerate(trajectories):
        for tr in traj.runs():
            runs.append(RunRecord(run=len(runs), entry=index, label=tr.label, trajectory=tr))
    return runs


# -- several outputs -----------------------------------------------------------------------
def _names(outputs: list[Output]) -> list[str]:
    """What names each output in merged labels: its config's name, else its folder's, else
    its position (``#2``), whichever is unique."""
    for pick in (lambda o, i: o.config.name, lambda o, i: o.folder.name):
        names = [pick(o, i) for i, o in enumerate(outputs)]
        if len(set(names)) == len(names):
            return names
    return [f"#{i + 1}" for i in range(len(outputs))]


def _shown(folder: Path) -> str:
    return str(folder) if str(folder).isprintable() else repr(str(folder))


def merge_outputs(outputs: list[Output], figures: tuple[str, ...]) -> Any:
    """One :class:`~optiviz.experiment.ExperimentResult` holding the runs of every output
    (entries in order, output by output), for ``optiviz compare``.

    Every output must be on the same surface (the same resolved ``surface`` block): a
    comparison's figures draw one surface, its f* and its analysis. Different starts,
    step budgets, tolerances and records are allowed (each entry keeps its own; the
    figures' captions list every start). Where entry labels repeat across outputs, every
    label is prefixed by its output's name (``quickstart: gd``). The first output gives the
    rest of the config (report block, projection, formats, figure options). Raises
    :class:`OptivizError` naming the output that does not fit.
    """
    from optiviz.config.parse import parse_config
    from optiviz.errors import ConfigError
    from optiviz.experiment.results import ExperimentResult
    from optiviz.experiment.run import _analyze

    first = outputs[0]
    base = first.config.to_dict()
    for o in outputs[1:]:
        d = o.config.to_dict()
        if d["surface"] != base["surface"]:
            raise OptivizError(
                f"{_shown(o.folder)}: its surface ({_surface_text(d['surface'])}) is not the "
                f"surface of {_shown(first.folder)} ({_surface_text(base['surface'])}); "
                "optiviz compare draws the runs of outputs on one surface"
            )
    labels = [
        [
            spec.label or t.optimizer_label
            for spec, t in zip(o.config.optimizers, o.result.trajectories, strict=True)
        ]
        for o in outputs
    ]
    flat = [lab for ls in labels for lab in ls]
    prefix = len(set(flat)) != len(flat)
    names = _names(outputs)
    entries: list[dict] = []
    trajectories: list = []
    starts: list = []
    for o, name, ls in zip(outputs, names, labels, strict=True):
        d = o.config.to_dict()
        for p in d["start"] if _is_points(d["start"]) else [d["start"]]:
            if p not in starts:
                starts.append(p)
        for spec, raw, traj, lab in zip(
            o.config.optimizers, d["optimizers"], o.result.trajectories, ls, strict=True
        ):
            entry = {**raw, "steps": o.config.steps_of(spec), "record": o.config.record_of(spec)}
            if prefix:
                entry["label"] = f"{name}: {lab}"
                traj = replace(traj, optimizer_label=f"{name}: {traj.optimizer_label}")
                if traj.run_labels:
                    traj.run_labels = [f"{name}: {r}" for r in traj.run_labels]
            entries.append(entry)
            trajectories.append(traj)
    raw = {
        **base,
        "name": "compare-" + "-".join(names) if len(names) <= 4 else f"compare-{len(names)}",
        "description": "optiviz compare of " + ", ".join(_shown(o.folder) for o in outputs),
        "start": starts[0] if len(starts) == 1 else starts,
        "start_prev": base["start_prev"] if len(starts) == 1 else None,
        "optimizers": entries,
        "figures": [
            {k: _options_of(outputs, k)} if _options_of(outputs, k) else k for k in figures
        ],
        "expect": [],
    }
    try:
        config = parse_config(raw, "<compare>", build=False)
    except (ConfigError, OptivizError) as exc:
        raise OptivizError(f"the outputs cannot be compared: {exc}") from None
    surface = first.result.surface
    config = replace(config, variables=tuple(surface.variables))
    object.__setattr__(config, "_surface", surface)
    runs = records_of(trajectories)
    return ExperimentResult(
        config=config,
        out_dir=None,
        files={},
        surface=surface,
        trajectories=trajectories,
        runs=runs,
        analysis=_analyze(config, surface, trajectories),
        eta_opt=first.result.eta_opt,
    )


def _options_of(outputs: list[Output], kind: str) -> dict:
    for o in outputs:
        if kind in o.config.figure_options:
            return dict(o.config.figure_options[kind])
    return {}


def _is_points(start: Any) -> bool:
    return bool(start) and isinstance(start[0], list)


def _surface_text(surface: Any) -> str:
    if isinstance(surface, str):
        return surface
    if isinstance(surface, dict):
        name = surface.get("name") or surface.get("expression") or surface.get("kind")
        return f"{name}, with its settings" if name else "a surface block"
    return repr(surface)
