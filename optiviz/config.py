"""Experiment configs: YAML -> validated, frozen dataclasses.

A config file describes one experiment (see ``configs/quickstart.yaml`` and ``optiviz init``)::

    name: rosenbrock-classics
    surface: rosenbrock
    start: [-1.2, 1.0]
    steps: 2000
    optimizers:
      - {name: gd, lr: 1.0e-3}
      - {name: adam, lr: {grid: {logspace: [-4, -1, 50]}}}
    figures: [contour, loss]

:func:`load_config` reads a file with ``yaml.safe_load`` and validates **everything** before
any work starts -- unknown keys (with the nearest valid key suggested), wrong types,
out-of-range values, a start point of the wrong length, unknown surface / optimizer /
schedule names, hyperparameters an optimizer does not take -- and reports every problem of
the file together in one :class:`~optiviz.errors.ConfigError`, each line naming the file,
the key path, the value and what is allowed::

    configs/x.yaml: optimizers[3].lr: -1 is not allowed: must be a float in the range [0, inf)

Numbers may be written the YAML way (``1.0e-3``) or as plain numeric text (``1e-3``, which
YAML 1.1 reads as a string); nothing else is converted.

The full schema is documented in :data:`SCHEMA` (what ``optiviz init`` writes and the docs
show). Relative learning rates (``lr: {times_eta_opt: 1.5}``) are resolved by
:mod:`optiviz.experiment`, which knows the surface's Hessian.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from optiviz.errors import ConfigError, OptivizError, suggest

__all__ = [
    "ExperimentConfig",
    "SurfaceSpec",
    "OptimizerSpec",
    "GridSpec",
    "ScheduleSpec",
    "Tolerance",
    "ReportSpec",
    "Expectation",
    "load_config",
    "parse_config",
    "apply_overrides",
    "FIGURES",
    "FORMATS",
    "RECORDS",
    "MAX_STEPS",
    "MAX_GRID",
    "SCHEMA",
    "is_config_path",
]

#: Figures a config may ask for.
FIGURES = ("contour", "surface3d", "loss", "effective_lr", "lr_sweep")
#: Figures that draw the surface itself (``projection`` chooses the plane for n > 2).
SURFACE_FIGURES = ("contour", "surface3d")
#: Image formats.
FORMATS = ("png", "svg", "pdf")
#: What the engine keeps of each run: every iterate, or only the final one.
RECORDS = ("all", "final")
#: Largest step budget of one run.
MAX_STEPS = 10_000_000
#: Largest number of runs in one grid entry.
MAX_GRID = 100_000
#: Largest number of recorded floats (runs x (steps + 1) x variables) of one entry with
#: ``record: all``; above it the config must say ``record: final``.
MAX_RECORDED = 200_000_000
#: Runs x steps of one entry above which a config is refused (about an hour of work).
MAX_WORK = 5_000_000_000

EXPECT_QUANTITIES = (
    "point",
    "loss",
    "grad_norm",
    "effective_lr",
    "lr_factor",
    "status",
    "diverged_at",
    "n_steps",
    "steps_to_tolerance",
)

SCHEMA = """\
name: str              file-name-safe name (letters, digits, . _ -); default: the file's stem
description: str       free text shown in the report
surface: NAME | mapping
    NAME                             a library surface (optiviz list surfaces)
    {name: NAME, parameters: {p: v}, l1: float, l2: float, window: [[lo, hi], ...]}
    {expression: TEXT, variables: [x, y], parameters: {p: v}, l1, l2, window,
     minima: [{point: [...], value: float}], description: TEXT}
    {data: KIND, dataset: {...}, ...}   a data surface (see optiviz.data)
start: [x1, ..., xn]   the first iterate (one finite number per variable)
start_prev: [...]      the iterate before start (problems stated from a history)
steps: int             step budget of every run, 1 .. 10^7 (default 1000)
tolerance: {grad: float > 0 | null, loss: float | null}   stop when met (default none)
divergence_bound: float > 0 | null   a run whose |loss| exceeds it has diverged
                       (default 1e12 x max(1, |initial loss|); non-finite values always do)
record: all | final    keep every iterate (default) or only the final one
seed: int >= 0         seeds mini-batch sampling (default 0)
optimizers:            a list; each entry is one run, or one batched run if it has a grid
  - name: NAME         optiviz list optimizers
    label: TEXT        legend label (default: name and the hyperparameters set)
    <hyperparameter>: value | {grid: GRID}     e.g. lr: 0.01, momentum: 0.9, betas: [0.9, 0.999]
    lr: {times_eta_opt: float | {grid: GRID}}  relative to the Hessian-derived eta_opt
    schedule: {name: NAME, <schedule hyperparameter>: value}   optiviz list schedules
    batch_size: int > 0  mini-batch size (data surfaces only)
    steps: int         this entry's step budget (default: the top-level steps)
    record: all | final
  GRID: {logspace: [a, b, n]} (10^a .. 10^b) | {linspace: [a, b, n]} | {values: [v1, ...]};
        several grids in one entry form their Cartesian product (one batched run)
figures: [contour, surface3d, loss, effective_lr, lr_sweep]   (default [contour, loss])
formats: [png, svg, pdf]                                      (default [png])
projection: [var_a, var_b] | hessian   the plane the surface figures show for n > 2
                       (default: the top two Hessian eigenvectors at the minimum)
report:                the analysis in report.md
  at: [x1, ..., xn]    also analyse the local quadratic model at this point (and take
                       eta_opt there for times_eta_opt)
  l1: float, l2: float regularized optima through the Hessian (analysis only)
  early_stopping: {lr: float, t: int}   GD-from-the-origin shrink factors
expect:                a list of checks of the results (the test suite asserts them)
  - {run: INDEX | LABEL, step: int, point | loss | grad_norm | effective_lr: value, tol: float}
  - {run: INDEX | LABEL, status | diverged_at | n_steps | steps_to_tolerance: value}
  - {analysis: dotted.path, value: value, tol: float}
    note: TEXT  (optional on any check: the question, the answer, the erratum)
"""


# --------------------------------------------------------------------------------------
# dataclasses
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridSpec:
    """A swept hyperparameter: the YAML form and its expanded values."""

    form: str  # "logspace" | "linspace" | "values"
    args: tuple
    values: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"grid": {self.form: list(self.args)}}


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, **self.params}


@dataclass(frozen=True)
class SurfaceSpec:
    """Where the surface comes from: ``kind`` is "library", "expression" or "data"."""

    kind: str
    name: str | None = None
    expression: str | None = None
    variables: tuple[str, ...] = ()
    parameters: dict = field(default_factory=dict)
    l1: float = 0.0
    l2: float = 0.0
    window: tuple | None = None
    minima: tuple | None = None
    description: str = ""
    data: dict | None = None  # the whole mapping for data surfaces
    base_dir: str | None = field(default=None, compare=False)  # resolves dataset.csv paths

    def to_dict(self) -> dict:
        if self.kind == "data":
            return dict(self.data or {})
        out: dict[str, Any] = {}
        if self.kind == "library":
            out["name"] = self.name
        else:
            out["expression"] = self.expression
            out["variables"] = list(self.variables)
        out["parameters"] = dict(self.parameters)
        out["l1"] = self.l1
        out["l2"] = self.l2
        if self.window is not None:
            out["window"] = [list(w) for w in self.window]
        if self.kind == "expression":
            if self.minima is not None:
                out["minima"] = [dict(m) for m in self.minima]
            if self.description:
                out["description"] = self.description
        return out


@dataclass(frozen=True)
class OptimizerSpec:
    """One ``optimizers`` entry.

    ``hyperparameters`` holds fixed values, ``grids`` the swept ones (Cartesian product in
    the order given), ``lr_times_eta_opt`` a relative learning rate (a float, or a
    :class:`GridSpec` of factors).
    """

    index: int
    name: str
    label: str | None = None
    hyperparameters: dict = field(default_factory=dict)
    grids: dict = field(default_factory=dict)  # name -> GridSpec
    lr_times_eta_opt: Any = None  # float | GridSpec | None
    schedule: ScheduleSpec | None = None
    batch_size: int | None = None
    steps: int | None = None
    record: str | None = None

    @property
    def is_grid(self) -> bool:
        return bool(self.grids) or isinstance(self.lr_times_eta_opt, GridSpec)

    @property
    def sweeps_lr(self) -> bool:
        return "lr" in self.grids or isinstance(self.lr_times_eta_opt, GridSpec)

    @property
    def n_runs(self) -> int:
        n = 1
        for g in self.grids.values():
            n *= len(g.values)
        if isinstance(self.lr_times_eta_opt, GridSpec):
            n *= len(self.lr_times_eta_opt.values)
        return n

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name}
        if self.label is not None:
            out["label"] = self.label
        out.update(
            {k: list(v) if isinstance(v, tuple) else v for k, v in self.hyperparameters.items()}
        )
        for k, g in self.grids.items():
            out[k] = g.to_dict()
        if self.lr_times_eta_opt is not None:
            f = self.lr_times_eta_opt
            out["lr"] = {"times_eta_opt": f.to_dict() if isinstance(f, GridSpec) else f}
        if self.schedule is not None:
            out["schedule"] = self.schedule.to_dict()
        if self.batch_size is not None:
            out["batch_size"] = self.batch_size
        if self.steps is not None:
            out["steps"] = self.steps
        if self.record is not None:
            out["record"] = self.record
        return out


@dataclass(frozen=True)
class Tolerance:
    grad: float | None = None
    loss: float | None = None


@dataclass(frozen=True)
class ReportSpec:
    """What the analysis adds: a point ``at``, regularized optima, early stopping."""

    at: tuple[float, ...] | None = None
    l1: float | None = None
    l2: float | None = None
    early_stopping: tuple[float, int] | None = None  # (lr, t)

    def to_dict(self) -> dict:
        return {
            "at": None if self.at is None else list(self.at),
            "l1": self.l1,
            "l2": self.l2,
            "early_stopping": None
            if self.early_stopping is None
            else {"lr": self.early_stopping[0], "t": self.early_stopping[1]},
        }


@dataclass(frozen=True)
class Expectation:
    """One check of the results: ``quantity`` of run ``run`` (after ``step``), or an
    ``analysis`` value at a dotted path."""

    index: int
    quantity: str  # one of EXPECT_QUANTITIES, or "analysis"
    value: Any
    run: int | str | None = None
    step: int | None = None
    path: str | None = None  # analysis path
    tol: float = 1e-6
    note: str = ""

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        if self.quantity == "analysis":
            out["analysis"] = self.path
            out["value"] = self.value
        else:
            out["run"] = self.run
            if self.step is not None:
                out["step"] = self.step
            out[self.quantity] = self.value
        if isinstance(self.value, (float, int, list)) and not isinstance(self.value, bool):
            out["tol"] = self.tol
        if self.note:
            out["note"] = self.note
        return out

    def describe(self) -> str:
        if self.quantity == "analysis":
            return f"analysis {self.path} == {self.value!r}"
        when = "final" if self.step is None else f"step {self.step}"
        return f"run {self.run!r} {self.quantity} ({when}) == {self.value!r}"


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment (see :data:`SCHEMA`). ``path`` is the file it came from."""

    name: str
    surface: SurfaceSpec
    start: tuple[float, ...]
    optimizers: tuple[OptimizerSpec, ...]
    description: str = ""
    start_prev: tuple[float, ...] | None = None
    steps: int = 1000
    tolerance: Tolerance = Tolerance()
    divergence_bound: float | None = None
    record: str = "all"
    seed: int = 0
    figures: tuple[str, ...] = ("contour", "loss")
    formats: tuple[str, ...] = ("png",)
    projection: tuple[str, str] | str | None = None
    report: ReportSpec = ReportSpec()
    expect: tuple[Expectation, ...] = ()
    path: str | None = None
    variables: tuple[str, ...] = ()  # the surface's variables (filled in by validation)
    _surface: Any = field(default=None, repr=False, compare=False)

    # -- derived -----------------------------------------------------------------------
    def steps_of(self, spec: OptimizerSpec) -> int:
        return spec.steps if spec.steps is not None else self.steps

    def record_of(self, spec: OptimizerSpec) -> str:
        return spec.record if spec.record is not None else self.record

    @property
    def n_runs(self) -> int:
        return sum(o.n_runs for o in self.optimizers)

    def build_surface(self):
        """The surface (built once during validation and cached)."""
        if self._surface is None:
            object.__setattr__(self, "_surface", build_surface(self.surface))
        return self._surface

    def to_dict(self) -> dict:
        """The resolved config: every default filled in (what ``config.yaml`` holds)."""
        surf = self.surface
        surface = (
            surf.name
            if (
                surf.kind == "library"
                and not surf.parameters
                and not surf.l1
                and not surf.l2
                and surf.window is None
            )
            else surf.to_dict()
        )
        return {
            "name": self.name,
            "description": self.description,
            "surface": surface,
            "start": list(self.start),
            "start_prev": None if self.start_prev is None else list(self.start_prev),
            "steps": self.steps,
            "tolerance": {"grad": self.tolerance.grad, "loss": self.tolerance.loss},
            "divergence_bound": self.divergence_bound,
            "record": self.record,
            "seed": self.seed,
            "optimizers": [_with_defaults(o) for o in self.optimizers],
            "figures": list(self.figures),
            "formats": list(self.formats),
            "projection": (
                self.projection if self.projection in (None, "hessian") else list(self.projection)
            ),
            "report": self.report.to_dict(),
            "expect": [e.to_dict() for e in self.expect],
        }


def _with_defaults(spec: OptimizerSpec) -> dict:
    """An entry's dict with every hyperparameter the optimizer takes (defaults filled)."""
    from optiviz.optimizers import get_class

    out = spec.to_dict()
    for key, param in get_class(spec.name).params.items():
        if key not in out:
            d = param.default
            out[key] = list(d) if isinstance(d, tuple) else d
    if spec.schedule is not None:
        from optiviz.schedules import make_schedule

        sched = make_schedule(spec.schedule.name, **spec.schedule.params)
        out["schedule"] = {"name": spec.schedule.name, **sched.hyper}
    return out


# --------------------------------------------------------------------------------------
# error collection and value checks
# --------------------------------------------------------------------------------------
_NUMBER_TEXT = re.compile(
    r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$", re.IGNORECASE
)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_INVALID = object()


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else _yamlish(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _yamlish(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_yamlish(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yamlish(v) for v in value) + "]"
    return str(value)


class _Errors:
    """Collects ``key.path: message`` lines."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def bad(self, path: str, value: Any, allowed: str) -> object:
        self.add(path, f"{_show(value)} is not allowed: must be {allowed}")
        return _INVALID

    def missing(self, path: str, allowed: str) -> object:
        self.add(path, f"is required: {allowed}")
        return _INVALID

    def __bool__(self) -> bool:
        return bool(self.items)


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _to_number(value: Any) -> float | None:
    """A float from an int / float / numeric text (not bools); ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER_TEXT.match(value.strip()):
        return float(value.strip())
    return None


def _range_text(what: str, low, high, low_open, high_open) -> str:
    def num(v) -> str:
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e16 else f"{v:g}"

    lo = "-inf" if low is None else num(low)
    hi = "inf" if high is None else num(high)
    lb = "(" if (low is None or low_open) else "["
    rb = ")" if (high is None or high_open) else "]"
    return f"{what} in the range {lb}{lo}, {hi}{rb}"


def _float(
    errs: _Errors,
    path: str,
    value: Any,
    low=None,
    high=None,
    low_open=False,
    high_open=False,
    allow_none=False,
) -> Any:
    allowed = _range_text("a float", low, high, low_open, high_open)
    if allow_none:
        allowed += " or null"
    if value is None and allow_none:
        return None
    v = _to_number(value)
    if v is None or not math.isfinite(v):
        return errs.bad(path, value, allowed)
    if low is not None and (v < low or (low_open and v == low)):
        return errs.bad(path, value, allowed)
    if high is not None and (v > high or (high_open and v == high)):
        return errs.bad(path, value, allowed)
    return v


def _int(errs: _Errors, path: str, value: Any, low=None, high=None, allow_none=False) -> Any:
    allowed = _range_text("an int", low, high, False, False)
    if allow_none:
        allowed += " or null"
    if value is None and allow_none:
        return None
    v = _to_number(value)
    if (
        v is None
        or not math.isfinite(v)
        or v != int(v)
        or (isinstance(value, float) and not value.is_integer())
    ):
        return errs.bad(path, value, allowed)
    v = int(v)
    if (low is not None and v < low) or (high is not None and v > high):
        return errs.bad(path, value, allowed)
    return v


def _str(errs: _Errors, path: str, value: Any, allowed: str = "a string") -> Any:
    if not isinstance(value, str) or not value.strip():
        return errs.bad(path, value, allowed)
    return value


def _choice(errs: _Errors, path: str, value: Any, choices: Sequence[str]) -> Any:
    if not isinstance(value, str) or value not in choices:
        hint = suggest(str(value), choices) if isinstance(value, str) else ""
        errs.add(path, f"{_show(value)} is not allowed: must be one of {', '.join(choices)}{hint}")
        return _INVALID
    return value


def _vector(
    errs: _Errors,
    path: str,
    value: Any,
    n: int | None = None,
    what: str = "a list of finite numbers",
) -> Any:
    if not isinstance(value, (list, tuple)) or not value:
        return errs.bad(path, value, what)
    out = []
    ok = True
    for i, v in enumerate(value):
        f = _to_number(v)
        if f is None or not math.isfinite(f):
            errs.bad(_join(path, i), v, "a finite number")
            ok = False
        else:
            out.append(f)
    if not ok:
        return _INVALID
    return tuple(out)


def _mapping(errs: _Errors, path: str, value: Any, allowed: str = "a mapping") -> Any:
    if not isinstance(value, Mapping):
        return errs.bad(path, value, allowed)
    bad_keys = [k for k in value if not isinstance(k, str)]
    for k in bad_keys:
        errs.add(_join(path, str(k)), f"the key {k!r} is not allowed: keys must be strings")
    return value if not bad_keys else _INVALID


def _unknown_keys(
    errs: _Errors, path: str, mapping: Mapping, allowed: Sequence[str], what: str = ""
) -> None:
    for key in mapping:
        if isinstance(key, str) and key not in allowed:
            where = f" in {what}" if what else ""
            errs.add(
                _join(path, key),
                f"unknown key {key!r}{where}{suggest(key, allowed)}; "
                f"allowed keys: {', '.join(allowed)}",
            )


def _safe_name(errs: _Errors, path: str, value: Any) -> Any:
    allowed = (
        "a file-name-safe string: letters, digits, '.', '_' and '-', starting with a "
        "letter or digit (no path separators, no '..')"
    )
    if (
        not isinstance(value, str)
        or not _SAFE_NAME.match(value)
        or ".." in value
        or len(value) > 100
    ):
        return errs.bad(path, value, allowed)
    return value


def is_safe_name(value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(_SAFE_NAME.match(value))
        and ".." not in value
        and len(value) <= 100
    )


# --------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------
TOP_KEYS = (
    "name",
    "description",
    "surface",
    "start",
    "start_prev",
    "steps",
    "tolerance",
    "divergence_bound",
    "record",
    "seed",
    "optimizers",
    "figures",
    "formats",
    "projection",
    "report",
    "expect",
)
LIBRARY_SURFACE_KEYS = ("name", "parameters", "l1", "l2", "window")
EXPRESSION_SURFACE_KEYS = (
    "expression",
    "variables",
    "parameters",
    "l1",
    "l2",
    "window",
    "minima",
    "description",
    "name",
)
ENTRY_KEYS = ("name", "label", "schedule", "batch_size", "steps", "record")
GRID_FORMS = ("logspace", "linspace", "values")


def _parse_window(errs: _Errors, path: str, value: Any) -> Any:
    allowed = "a list of [low, high] pairs, one per variable, with low < high"
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value:
        return errs.bad(path, value, allowed)
    out = []
    for i, pair in enumerate(value):
        p = _join(path, i)
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            errs.bad(p, pair, "a [low, high] pair")
            return _INVALID
        lo, hi = _to_number(pair[0]), _to_number(pair[1])
        if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
            errs.bad(p, pair, "a [low, high] pair of finite numbers with low < high")
            return _INVALID
        out.append((lo, hi))
    return tuple(out)


def _parse_parameters(errs: _Errors, path: str, value: Any) -> Any:
    if value is None:
        return {}
    m = _mapping(errs, path, value, "a mapping of parameter names to numbers")
    if m is _INVALID:
        return _INVALID
    out = {}
    ok = True
    for k, v in m.items():
        if isinstance(v, str) and _to_number(v) is None:
            out[k] = v  # a constant expression such as "0.15*pi": the safe parser checks it
            continue
        if isinstance(v, (list, tuple)):
            nested = _nested_numbers(v)
            if nested is None:
                errs.bad(
                    _join(path, k),
                    v,
                    "a finite number, a list (or matrix) of finite "
                    "numbers, or a constant expression string",
                )
                ok = False
            else:
                out[k] = nested
            continue
        f = _to_number(v)
        if f is None or not math.isfinite(f):
            errs.bad(
                _join(path, k),
                v,
                "a finite number, a list (or matrix) of finite "
                "numbers, or a constant expression string",
            )
            ok = False
            continue
        out[k] = int(v) if isinstance(v, int) and not isinstance(v, bool) else f
    return out if ok else _INVALID


def _nested_numbers(v: Any) -> Any:
    """A (nested) list of finite numbers with numeric text converted, or None."""
    if isinstance(v, (list, tuple)):
        if not v:
            return None
        items = [_nested_numbers(x) for x in v]
        return None if any(x is None for x in items) else items
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    f = _to_number(v)
    return f if f is not None and math.isfinite(f) else None


def _parse_surface(errs: _Errors, value: Any) -> Any:
    path = "surface"
    if value is None:
        return errs.missing(
            path, "a library surface name, or a mapping with 'name', 'expression' or 'data'"
        )
    if isinstance(value, str):
        if not value.strip():
            return errs.bad(path, value, "a surface name")
        return SurfaceSpec(kind="library", name=value.strip())
    m = _mapping(
        errs,
        path,
        value,
        "a library surface name, or a mapping with 'name', 'expression' or 'data'",
    )
    if m is _INVALID:
        return _INVALID
    if "data" in m:
        return SurfaceSpec(kind="data", name=str(m.get("data")), data=dict(m))
    if "expression" in m:
        kind, keys = "expression", EXPRESSION_SURFACE_KEYS
    elif "name" in m:
        kind, keys = "library", LIBRARY_SURFACE_KEYS
    else:
        errs.add(
            path,
            f"{_show(value)} is not allowed: a surface mapping needs one of "
            "'name' (a library surface), 'expression' (with 'variables') or "
            "'data' (a data surface)",
        )
        _unknown_keys(errs, path, m, sorted(set(EXPRESSION_SURFACE_KEYS) | {"data"}), "a surface")
        return _INVALID
    _unknown_keys(errs, path, m, keys, f"a {kind} surface")
    ok = True
    name = None
    if "name" in m:
        name = (
            _safe_name(errs, _join(path, "name"), m["name"])
            if kind == "expression"
            else _str(errs, _join(path, "name"), m["name"], "a surface name")
        )
        ok &= name is not _INVALID
    params = _parse_parameters(errs, _join(path, "parameters"), m.get("parameters"))
    l1 = _float(errs, _join(path, "l1"), m.get("l1", 0.0), low=0.0)
    l2 = _float(errs, _join(path, "l2"), m.get("l2", 0.0), low=0.0)
    window = _parse_window(errs, _join(path, "window"), m.get("window"))
    ok &= all(v is not _INVALID for v in (params, l1, l2, window))
    if kind == "library":
        return (
            SurfaceSpec(kind="library", name=name, parameters=params, l1=l1, l2=l2, window=window)
            if ok
            else _INVALID
        )
    text = m.get("expression")
    if not isinstance(text, str) or not text.strip():
        errs.bad(
            _join(path, "expression"), text, "an expression string such as '0.1*x1**2 + 2*x2**2'"
        )
        ok = False
    variables = m.get("variables")
    if (
        not isinstance(variables, (list, tuple))
        or not variables
        or not all(isinstance(v, str) for v in variables)
    ):
        if "variables" not in m:
            errs.missing(_join(path, "variables"), "a list of variable names, e.g. [x, y]")
        else:
            errs.bad(_join(path, "variables"), variables, "a list of variable names, e.g. [x, y]")
        ok = False
    minima = m.get("minima")
    if minima is not None:
        mp = _join(path, "minima")
        if not isinstance(minima, (list, tuple)):
            errs.bad(mp, minima, "a list of {point: [...], value: number}")
            ok = False
        else:
            parsed = []
            for i, item in enumerate(minima):
                ip = _join(mp, i)
                if not isinstance(item, Mapping) or "point" not in item:
                    errs.bad(ip, item, "a mapping {point: [...], value: number}")
                    ok = False
                    continue
                _unknown_keys(errs, ip, item, ("point", "value"))
                pt = _vector(errs, _join(ip, "point"), item["point"])
                val = _float(errs, _join(ip, "value"), item.get("value"), allow_none=True)
                if pt is _INVALID or val is _INVALID:
                    ok = False
                    continue
                parsed.append({"point": list(pt), "value": val})
            minima = tuple(parsed)
    desc = m.get("description", "")
    if not isinstance(desc, str):
        errs.bad(_join(path, "description"), desc, "a string")
        ok = False
    if not ok:
        return _INVALID
    return SurfaceSpec(
        kind="expression",
        name=name or "custom",
        expression=text,
        variables=tuple(variables),
        parameters=params,
        l1=l1,
        l2=l2,
        window=window,
        minima=minima,
        description=desc,
    )


def _parse_grid(
    errs: _Errors,
    path: str,
    value: Any,
    low=None,
    low_open=False,
    high=None,
    high_open=False,
    kind: str = "float",
) -> Any:
    allowed = "{logspace: [a, b, n]}, {linspace: [a, b, n]} or {values: [v1, v2, ...]}"
    m = _mapping(errs, path, value, allowed)
    if m is _INVALID:
        return _INVALID
    if len(m) != 1 or next(iter(m)) not in GRID_FORMS:
        for k in m:
            if k not in GRID_FORMS:
                errs.add(
                    _join(path, k),
                    f"unknown grid form {k!r}{suggest(k, GRID_FORMS)}; a grid is one of {allowed}",
                )
                return _INVALID
        return errs.bad(path, value, f"exactly one of {allowed}")
    form, args = next(iter(m.items()))
    p = _join(path, form)
    import numpy as np

    if form in ("logspace", "linspace"):
        if not isinstance(args, (list, tuple)) or len(args) != 3:
            return errs.bad(p, args, f"[a, b, n]: {form} from a to b in n points")
        a = _float(errs, _join(p, 0), args[0])
        b = _float(errs, _join(p, 1), args[1])
        n = _int(errs, _join(p, 2), args[2], low=1, high=MAX_GRID)
        if _INVALID in (a, b, n):
            return _INVALID
        if form == "logspace":
            if max(abs(a), abs(b)) > 300:
                return errs.bad(p, args, "exponents a, b within [-300, 300] (10^a .. 10^b)")
            vals = np.logspace(a, b, n)
        else:
            vals = np.linspace(a, b, n)
        values = tuple(float(v) for v in vals)
        args = (a, b, n)
    else:
        if not isinstance(args, (list, tuple)) or not args or len(args) > MAX_GRID:
            return errs.bad(p, args, f"a non-empty list of at most {MAX_GRID} numbers")
        vec = _vector(errs, p, args)
        if vec is _INVALID:
            return _INVALID
        values = vec
        args = tuple(
            int(v) if float(v).is_integer() and isinstance(o, int) else v
            for v, o in zip(vec, args, strict=False)
        )
    # range check of the expanded values
    rng = _range_text("a float" if kind != "int" else "an int", low, high, low_open, high_open)
    for v in values:
        bad = (
            (low is not None and (v < low or (low_open and v == low)))
            or (high is not None and (v > high or (high_open and v == high)))
            or (kind == "int" and v != int(v))
        )
        if bad:
            errs.add(
                p,
                f"{_show(list(args))} is not allowed: the value {v:g} is out of range; "
                f"every value must be {rng}",
            )
            return _INVALID
    return GridSpec(form=form, args=tuple(args), values=values)


def _parse_schedule(errs: _Errors, path: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"name": value}
    m = _mapping(errs, path, value, "a mapping {name: SCHEDULE, <hyperparameter>: value}")
    if m is _INVALID:
        return _INVALID
    if "name" not in m:
        return errs.missing(_join(path, "name"), "a schedule name (optiviz list schedules)")
    from optiviz.schedules import available_schedules, make_schedule

    name = m["name"]
    names = available_schedules()
    if not isinstance(name, str) or name not in names:
        errs.add(
            _join(path, "name"),
            f"{_show(name)} is not allowed: unknown schedule"
            f"{suggest(str(name), names)}; available: "
            f"{', '.join(names)}",
        )
        return _INVALID
    params = {k: _number_or_raw(v) for k, v in m.items() if k != "name"}
    try:
        make_schedule(name, **params)
    except OptivizError as exc:
        key = _find_key(str(exc), params)
        errs.add(_join(path, key) if key else path, _clean(str(exc), params.get(key, _INVALID)))
        return _INVALID
    return ScheduleSpec(name=name, params=params)


def _number_or_raw(v: Any) -> Any:
    """Numeric text -> float; ints stay ints; everything else unchanged."""
    if isinstance(v, str):
        f = _to_number(v)
        return v if f is None else f
    if isinstance(v, list):
        return [_number_or_raw(x) for x in v]
    return v


def _find_key(message: str, keys) -> str | None:
    for k in keys:
        if f"'{k}'" in message:
            return k
    return None


def _clean(message: str, value: Any) -> str:
    """Turn an optimizer/schedule error into ``<value> is not allowed: ...`` form."""
    msg = message.strip()
    if value is not _INVALID:
        m = re.match(
            r"^The '(\w+)' hyperparameter of (.+?) must be (.+?)\. Got .* instead(.*)$", msg, re.S
        )
        if m:
            return (
                f"{_show(value)} is not allowed: the {m.group(1)!r} hyperparameter of "
                f"{m.group(2)} must be {m.group(3)}{m.group(4).rstrip('.')}"
            )
    return msg[0].lower() + msg[1:] if msg[:4] in ("The ", "Unkn") else msg


def _parse_optimizer(errs: _Errors, i: int, value: Any) -> Any:
    path = _join("optimizers", i)
    if isinstance(value, str):
        value = {"name": value}
    m = _mapping(errs, path, value, "a mapping {name: OPTIMIZER, <hyperparameter>: value, ...}")
    if m is _INVALID:
        return _INVALID
    from optiviz.optimizers import available, get_class

    names = list(available())
    if "name" not in m:
        return errs.missing(_join(path, "name"), f"an optimizer name, one of {', '.join(names)}")
    name = m["name"]
    if not isinstance(name, str) or name not in names:
        errs.add(
            _join(path, "name"),
            f"{_show(name)} is not allowed: unknown optimizer"
            f"{suggest(str(name), names)}; available: "
            f"{', '.join(names)}",
        )
        return _INVALID
    cls = get_class(name)
    table = cls.params
    ok = True
    label = m.get("label")
    if label is not None and not isinstance(label, str):
        label = str(label)
    schedule = _parse_schedule(errs, _join(path, "schedule"), m.get("schedule"))
    batch_size = _int(errs, _join(path, "batch_size"), m.get("batch_size"), low=1, allow_none=True)
    steps = _int(errs, _join(path, "steps"), m.get("steps"), low=1, high=MAX_STEPS, allow_none=True)
    record = (
        None
        if m.get("record") is None
        else _choice(errs, _join(path, "record"), m["record"], RECORDS)
    )
    ok &= all(v is not _INVALID for v in (schedule, batch_size, steps, record))

    fixed: dict[str, Any] = {}
    grids: dict[str, GridSpec] = {}
    rel: Any = None
    allowed_keys = list(ENTRY_KEYS) + list(table)
    for key, raw in m.items():
        if key in ENTRY_KEYS:
            continue
        kp = _join(path, key)
        if key not in table:
            errs.add(
                kp,
                f"{name} does not take the hyperparameter {key!r}"
                f"{suggest(key, allowed_keys)}; it takes: {', '.join(table) or 'none'}"
                f" (and the entry keys {', '.join(ENTRY_KEYS)})",
            )
            ok = False
            continue
        spec = table[key]
        if isinstance(raw, Mapping):
            if key == "lr" and "times_eta_opt" in raw:
                _unknown_keys(errs, kp, raw, ("times_eta_opt",))
                f = raw["times_eta_opt"]
                fp = _join(kp, "times_eta_opt")
                if isinstance(f, Mapping) and "grid" in f:
                    _unknown_keys(errs, fp, f, ("grid",))
                    rel = _parse_grid(errs, _join(fp, "grid"), f["grid"], low=0.0, low_open=True)
                else:
                    rel = _float(errs, fp, f, low=0.0, low_open=True)
                ok &= rel is not _INVALID and len(raw) == 1
                continue
            if "grid" in raw:
                _unknown_keys(errs, kp, raw, ("grid",))
                if not spec.batchable or spec.kind not in ("float", "int"):
                    errs.add(
                        kp,
                        f"{key!r} of {name} cannot be swept by a grid "
                        f"(it is {spec.describe_range()}); give one value",
                    )
                    ok = False
                    continue
                g = _parse_grid(
                    errs,
                    _join(kp, "grid"),
                    raw["grid"],
                    low=spec.low,
                    low_open=spec.low_open,
                    high=spec.high,
                    high_open=spec.high_open,
                    kind=spec.kind,
                )
                if g is _INVALID:
                    ok = False
                else:
                    grids[key] = g
                continue
            hint = " or {times_eta_opt: factor}" if key == "lr" else ""
            errs.bad(kp, raw, f"{spec.describe_range()}, or {{grid: GRID}}{hint}")
            ok = False
            continue
        val = _number_or_raw(raw)
        if spec.kind == "pair" and isinstance(val, list):
            val = tuple(val)
        elif isinstance(val, list) and spec.kind != "pair":
            errs.bad(
                kp,
                raw,
                f"{spec.describe_range()} (to sweep values write {{grid: {{values: [...]}}}})",
            )
            ok = False
            continue
        if spec.kind == "int" and isinstance(val, float) and val.is_integer():
            val = int(val)
        try:
            cls(**{key: val})
        except OptivizError as exc:
            if _find_key(str(exc), [key]) and "must be" in str(exc):
                hint = suggest(str(raw), map(str, spec.choices)) if spec.kind == "choice" else ""
                errs.bad(kp, raw, spec.describe_range() + hint)
                ok = False
                continue
            # a cross-hyperparameter rule that only holds with others: checked below
        fixed[key] = val
    n_runs = 1
    for g in grids.values():
        n_runs *= len(g.values)
    if isinstance(rel, GridSpec):
        n_runs *= len(rel.values)
        if "lr" in grids:
            errs.add(_join(path, "lr"), "give either a grid of lr or a grid of times_eta_opt")
            ok = False
    if n_runs > MAX_GRID:
        errs.add(
            path, f"the grids make {n_runs} runs; at most {MAX_GRID} runs are allowed in one entry"
        )
        ok = False
    if not ok:
        return _INVALID
    spec_out = OptimizerSpec(
        index=i,
        name=name,
        label=label,
        hyperparameters=fixed,
        grids=grids,
        lr_times_eta_opt=rel,
        schedule=schedule,
        batch_size=batch_size,
        steps=steps,
        record=record,
    )
    # cross-hyperparameter rules (e.g. nesterov needs momentum): one construction, with a
    # placeholder eta_opt for relative learning rates
    try:
        cls(**expand_grid(spec_out, eta_opt=1e-3))
    except OptivizError as exc:
        key = _find_key(str(exc), list(fixed) + list(grids))
        errs.add(
            _join(path, key) if key and key in fixed else path,
            _clean(str(exc), fixed.get(key, _INVALID) if key else _INVALID),
        )
        return _INVALID
    return spec_out


def expand_grid(spec: OptimizerSpec, eta_opt: float | None = None) -> dict:
    """The hyperparameters of an entry with grids expanded to per-run arrays.

    Grids form a Cartesian product in the order written, the relative-lr grid last
    (fastest-varying). ``eta_opt`` resolves ``lr: {times_eta_opt: ...}``. A grid entry
    returns 1-D numpy arrays of length ``spec.n_runs`` for the swept keys.
    """
    import numpy as np

    hp = dict(spec.hyperparameters)
    axes: list[tuple[str, np.ndarray]] = [(k, np.asarray(g.values)) for k, g in spec.grids.items()]
    rel = spec.lr_times_eta_opt
    if isinstance(rel, GridSpec):
        axes.append(("lr", np.asarray(rel.values) * float(eta_opt)))
    elif rel is not None:
        hp["lr"] = float(rel) * float(eta_opt)
    if axes:
        mesh = np.meshgrid(*[a for _, a in axes], indexing="ij")
        for (k, _), arr in zip(axes, mesh, strict=False):
            hp[k] = arr.reshape(-1)
    return hp


def _parse_expect(errs: _Errors, value: Any) -> Any:
    path = "expect"
    if value is None:
        return ()
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return errs.bad(path, value, "a list of checks, e.g. [{run: 0, point: [1.0, 2.0]}]")
    out = []
    ok = True
    keys = ("run", "step", "tol", "note", "analysis", "value", *EXPECT_QUANTITIES)
    for i, item in enumerate(value):
        p = _join(path, i)
        if not isinstance(item, Mapping):
            errs.bad(p, item, "a mapping such as {run: 0, point: [1.0, 2.0], tol: 1e-6}")
            ok = False
            continue
        n_before = len(errs.items)
        _unknown_keys(errs, p, item, keys, "an expect check")
        whats = [q for q in EXPECT_QUANTITIES if q in item]
        if "analysis" in item:
            whats.append("analysis")
        if len(whats) != 1:
            errs.add(
                p,
                f"{_show(dict(item))} is not allowed: a check names exactly one of "
                f"{', '.join(EXPECT_QUANTITIES)}, or 'analysis' with 'value'",
            )
            ok = False
            continue
        q = whats[0]
        tol = _float(errs, _join(p, "tol"), item.get("tol", 1e-6), low=0.0)
        note = item.get("note", "")
        if not isinstance(note, str):
            note = str(note)
        step = _int(errs, _join(p, "step"), item.get("step"), low=0, allow_none=True)
        if q == "analysis":
            ap = item["analysis"]
            if not isinstance(ap, str) or not re.match(r"^[\w]+(\.[\w]+)*$", ap):
                errs.bad(_join(p, "analysis"), ap, "a dotted path such as 'eta.max'")
            if "value" not in item:
                errs.missing(_join(p, "value"), "the expected value")
            for k in ("run", "step"):
                if k in item:
                    errs.add(_join(p, k), "is not allowed with 'analysis'")
            expected = _number_or_raw(item.get("value"))
            run = None
        else:
            if "value" in item:
                errs.add(
                    _join(p, "value"), f"is not allowed here: write the expected value as {q}: ..."
                )
            run = item.get("run", 0)
            if not (
                isinstance(run, str)
                or (isinstance(run, int) and not isinstance(run, bool) and run >= 0)
            ):
                errs.bad(_join(p, "run"), run, "a run index (0, 1, ...) or a run label")
            expected = _number_or_raw(item[q])
            qp = _join(p, q)
            if q == "point":
                expected = _vector(errs, qp, item[q])
                expected = expected if expected is _INVALID else list(expected)
            elif q in ("loss", "grad_norm"):
                expected = _float(errs, qp, item[q])
            elif q in ("effective_lr", "lr_factor"):
                if isinstance(item[q], (list, tuple)):
                    expected = _vector(errs, qp, item[q])
                    expected = expected if expected is _INVALID else list(expected)
                else:
                    expected = _float(errs, qp, item[q])
            elif q == "status":
                expected = _choice(errs, qp, item[q], ("converged", "diverged", "max_steps"))
            else:
                expected = _int(errs, qp, item[q], low=0, allow_none=True)
        if len(errs.items) > n_before:
            ok = False
            continue
        out.append(
            Expectation(
                index=i,
                quantity=q,
                value=expected,
                run=run,
                step=step,
                path=item.get("analysis"),
                tol=tol,
                note=note,
            )
        )
    return tuple(out) if ok else _INVALID


def _parse_list_of(
    errs: _Errors, path: str, value: Any, choices: Sequence[str], default: tuple
) -> Any:
    if value is None:
        return default
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, (list, tuple)):
        return errs.bad(path, value, f"a list drawn from {', '.join(choices)}")
    out = []
    ok = True
    for i, v in enumerate(value):
        c = _choice(errs, _join(path, i), v, choices)
        if c is _INVALID:
            ok = False
        elif c not in out:
            out.append(c)
    return tuple(out) if ok else _INVALID


# --------------------------------------------------------------------------------------
# building the surface
# --------------------------------------------------------------------------------------
def build_surface(spec: SurfaceSpec):
    """Build the :class:`~optiviz.surface.Surface` a spec describes (raises OptivizError)."""
    if spec.kind == "library":
        from optiviz.library import load_surface

        reg = {k: v for k, v in (("l1", spec.l1), ("l2", spec.l2)) if v}
        s = load_surface(spec.name, **spec.parameters, **reg)
        if spec.window is not None:
            _set_window(s, spec.window)
        return s
    if spec.kind == "expression":
        from optiviz.surface import Surface

        return Surface.from_expression(
            spec.expression,
            list(spec.variables),
            dict(spec.parameters),
            name=spec.name,
            window=None if spec.window is None else [list(w) for w in spec.window],
            minima=None if spec.minima is None else [dict(m) for m in spec.minima],
            l1=spec.l1,
            l2=spec.l2,
            description=spec.description,
        )
    from optiviz.data import make_data_surface

    return make_data_surface(dict(spec.data or {}), base_dir=spec.base_dir)


def _set_window(surface, window) -> None:
    import numpy as np

    w = np.asarray(window, dtype=float)
    if w.shape != (surface.n, 2):
        raise ConfigError(
            f"surface.window: needs one [low, high] pair per variable "
            f"({', '.join(surface.variables)}); got {len(window)}"
        )
    surface.window = w


def _surface_error_path(spec: SurfaceSpec, exc: Exception) -> str:
    """The key path a surface-building error belongs to."""
    from optiviz.errors import ExpressionError

    msg = str(exc)
    if spec.kind == "expression" and isinstance(exc, ExpressionError):
        return "surface.expression"
    if spec.kind != "data" and spec.parameters and "parameter" in msg:
        return "surface.parameters"
    if "window" in msg:
        return "surface.window"
    return "surface"


# --------------------------------------------------------------------------------------
# the top level
# --------------------------------------------------------------------------------------
def parse_config(raw: Any, source: str = "<config>", *, build: bool = True) -> ExperimentConfig:
    """Validate an already-loaded YAML document (a mapping) and return the config.

    ``source`` names the file in messages. With ``build`` (the default) the surface is
    built, so start lengths, the projection and the report point are checked against its
    variables. Raises :class:`ConfigError` listing every problem.
    """
    errs = _Errors()
    if not isinstance(raw, Mapping):
        kind = "empty" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError(
            f"{source}: the file is {kind}; a config is a YAML mapping "
            "(name: ..., surface: ..., start: ..., optimizers: [...])"
        )
    _unknown_keys(errs, "", raw, TOP_KEYS)
    stem = Path(source).stem if source and not source.startswith("<") else "experiment"
    if "name" in raw:
        name = _safe_name(errs, "name", raw["name"])
    else:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip("._-") or "experiment"
    desc = raw.get("description", "")
    if desc is None:
        desc = ""
    if not isinstance(desc, str):
        desc = errs.bad("description", desc, "a string")
    else:
        desc = " ".join(desc.split())
    surface = _parse_surface(errs, raw.get("surface"))
    if surface is not _INVALID and surface.kind == "data" and not source.startswith("<"):
        surface = replace(surface, base_dir=str(Path(source).parent))
    start = (
        _vector(errs, "start", raw["start"], what="a list of finite numbers, one per variable")
        if "start" in raw
        else errs.missing("start", "a list of numbers, one per variable")
    )
    start_prev = (
        None if raw.get("start_prev") is None else _vector(errs, "start_prev", raw["start_prev"])
    )
    steps = _int(errs, "steps", raw.get("steps", 1000), low=1, high=MAX_STEPS)
    tol = raw.get("tolerance")
    tolerance: Any = Tolerance()
    if tol is not None:
        tm = _mapping(errs, "tolerance", tol, "a mapping {grad: float, loss: float}")
        if tm is not _INVALID:
            _unknown_keys(errs, "tolerance", tm, ("grad", "loss"))
            g = _float(
                errs, "tolerance.grad", tm.get("grad"), low=0.0, low_open=True, allow_none=True
            )
            lo = _float(errs, "tolerance.loss", tm.get("loss"), allow_none=True)
            tolerance = Tolerance(grad=g, loss=lo) if _INVALID not in (g, lo) else _INVALID
        else:
            tolerance = _INVALID
    bound = _float(
        errs,
        "divergence_bound",
        raw.get("divergence_bound"),
        low=0.0,
        low_open=True,
        allow_none=True,
    )
    record = _choice(errs, "record", raw.get("record", "all"), RECORDS)
    seed = _int(errs, "seed", raw.get("seed", 0), low=0, high=2**32 - 1)
    figures = _parse_list_of(errs, "figures", raw.get("figures"), FIGURES, ("contour", "loss"))
    formats = _parse_list_of(errs, "formats", raw.get("formats"), FORMATS, ("png",))
    projection = raw.get("projection")
    if projection is not None and projection != "hessian":
        if (
            not isinstance(projection, (list, tuple))
            or len(projection) != 2
            or not all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in projection)
        ):
            projection = errs.bad(
                "projection",
                projection,
                "two variable names (or 0-based indices), e.g. [w1, w2], "
                "or 'hessian' (the top two Hessian eigenvectors)",
            )
    report = ReportSpec()
    rep = raw.get("report")
    if rep is not None:
        rm = _mapping(
            errs,
            "report",
            rep,
            "a mapping {at: [x1, ..., xn], l1: float, "
            "l2: float, early_stopping: {lr: float, t: int}}",
        )
        if rm is not _INVALID:
            _unknown_keys(errs, "report", rm, ("at", "l1", "l2", "early_stopping"))
            at = rm.get("at")
            at = None if at is None else _vector(errs, "report.at", at)
            rl1 = _float(errs, "report.l1", rm.get("l1"), low=0.0, allow_none=True)
            rl2 = _float(errs, "report.l2", rm.get("l2"), low=0.0, allow_none=True)
            es = rm.get("early_stopping")
            if es is not None:
                em = _mapping(errs, "report.early_stopping", es, "a mapping {lr: float, t: int}")
                if em is not _INVALID:
                    _unknown_keys(errs, "report.early_stopping", em, ("lr", "t"))
                    elr = _float(
                        errs, "report.early_stopping.lr", em.get("lr"), low=0.0, low_open=True
                    )
                    et = _int(errs, "report.early_stopping.t", em.get("t"), low=0, high=MAX_STEPS)
                    es = (elr, et) if _INVALID not in (elr, et) else _INVALID
                else:
                    es = _INVALID
            report = (
                ReportSpec(at=at, l1=rl1, l2=rl2, early_stopping=es)
                if _INVALID not in (at, rl1, rl2, es)
                else _INVALID
            )
        else:
            report = _INVALID
    opts = raw.get("optimizers")
    optimizers: Any
    if opts is None:
        optimizers = errs.missing(
            "optimizers", "a list of optimizer entries, e.g. [{name: gd, lr: 0.01}]"
        )
    elif not isinstance(opts, (list, tuple)) or not opts:
        optimizers = errs.bad(
            "optimizers", opts, "a non-empty list of optimizer entries, e.g. [{name: gd, lr: 0.01}]"
        )
    else:
        parsed = [_parse_optimizer(errs, i, o) for i, o in enumerate(opts)]
        optimizers = _INVALID if _INVALID in parsed else tuple(parsed)
    expect = _parse_expect(errs, raw.get("expect"))

    # -- checks across sections ---------------------------------------------------------
    surf_obj = None
    variables: tuple[str, ...] = ()
    if build and surface is not _INVALID:
        try:
            surf_obj = build_surface(surface)
            variables = tuple(surf_obj.variables)
        except OptivizError as exc:
            errs.add(_surface_error_path(surface, exc), str(exc))
    elif surface is not _INVALID and surface.kind == "expression":
        variables = surface.variables
    if variables:
        n = len(variables)
        names = (
            ", ".join(variables)
            if n <= 12
            else (", ".join(variables[:10]) + f", ..., {variables[-1]}")
        )
        for key, vec in (
            ("start", start),
            ("start_prev", start_prev),
            ("report.at", None if report is _INVALID else report.at),
        ):
            if vec is not None and vec is not _INVALID and len(vec) != n:
                errs.add(
                    key,
                    f"{_show(list(vec))} is not allowed: it has {len(vec)} "
                    f"number{'s' if len(vec) != 1 else ''} but the surface has "
                    f"{n} variable{'s' if n != 1 else ''} ({names})",
                )
        if projection is not None and projection is not _INVALID and projection != "hessian":
            proj = []
            for j, p in enumerate(projection):
                if isinstance(p, int):
                    if not 0 <= p < n:
                        errs.bad(
                            _join("projection", j), p, f"an index in 0..{n - 1} or one of {names}"
                        )
                    else:
                        proj.append(variables[p])
                elif p not in variables:
                    errs.add(
                        _join("projection", j),
                        f"{_show(p)} is not allowed: must be one "
                        f"of the variables {names}"
                        f"{suggest(p, variables)}",
                    )
                else:
                    proj.append(p)
            if len(proj) == 2 and proj[0] == proj[1]:
                errs.bad("projection", list(projection), "two different variables")
            projection = tuple(proj) if len(proj) == 2 else _INVALID
        if figures is not _INVALID and n < 2 and "surface3d" in figures:
            errs.add(
                _join("figures", figures.index("surface3d")),
                f"'surface3d' is not allowed: the surface has one variable ({names}); "
                "a 3-D plot needs at least two (contour draws f(x) for one variable)",
            )
    if optimizers is not _INVALID and surf_obj is not None:
        is_data = getattr(surf_obj, "n_samples", None) is not None
        for o in optimizers:
            if o.batch_size is not None and not is_data:
                errs.add(
                    _join(_join("optimizers", o.index), "batch_size"),
                    f"{o.batch_size} is not allowed: mini-batches need a data surface "
                    f"(surface: {{data: ...}}); {surf_obj.name!r} has no samples",
                )
            elif (
                o.batch_size is not None
                and surf_obj.n_samples is not None
                and o.batch_size > surf_obj.n_samples
            ):
                errs.add(
                    _join(_join("optimizers", o.index), "batch_size"),
                    f"{o.batch_size} is not allowed: must be an int in the range "
                    f"[1, {surf_obj.n_samples}] (the number of samples)",
                )
    if optimizers is not _INVALID and steps is not _INVALID:
        rec_all = record is not _INVALID and record == "all"
        n = len(variables) or 1
        for o in optimizers:
            st = o.steps if o.steps is not None else steps
            r = o.n_runs
            o_rec = o.record if o.record is not None else (record if rec_all else "final")
            if r * st > MAX_WORK:
                errs.add(
                    _join("optimizers", o.index),
                    f"{r} runs x {st} steps is too much work (at most {MAX_WORK:.0e} "
                    "run-steps per entry); use fewer steps or a coarser grid",
                )
            elif o_rec == "all" and r * (st + 1) * (n + 3) > MAX_RECORDED:
                errs.add(
                    _join("optimizers", o.index),
                    f"{r} runs x {st} steps with record: all would keep "
                    f"{r * (st + 1) * (n + 3):.2g} numbers (at most "
                    f"{MAX_RECORDED:.0e}); add 'record: final' to the entry or use "
                    "fewer steps",
                )
    if figures is not _INVALID and optimizers is not _INVALID and "lr_sweep" in figures:
        if not any(o.sweeps_lr for o in optimizers):
            errs.add(
                _join("figures", figures.index("lr_sweep")),
                "'lr_sweep' is not allowed: it plots the final loss of a learning-rate "
                "grid and no optimizer entry sweeps lr (e.g. lr: {grid: {logspace: "
                "[-4, -1, 30]}} or lr: {times_eta_opt: {grid: {values: [0.5, 1, 2]}}})",
            )
    if figures is not _INVALID and optimizers is not _INVALID and "effective_lr" in figures:
        rec = record if record is not _INVALID else "all"
        if all((o.record or rec) == "final" for o in optimizers):
            errs.add(
                _join("figures", figures.index("effective_lr")),
                "'effective_lr' is not allowed with record: final (no per-step values)",
            )
    if optimizers is not _INVALID and expect is not _INVALID:
        labels = {_default_label(o) for o in optimizers}
        total = sum(o.n_runs for o in optimizers)
        for e in expect:
            if e.quantity == "analysis":
                continue
            p = _join(_join("expect", e.index), "run")
            if isinstance(e.run, int) and e.run >= total:
                errs.add(
                    p,
                    f"{e.run} is not allowed: the config has {total} run"
                    f"{'s' if total != 1 else ''} (0..{total - 1})",
                )
            elif isinstance(e.run, str) and e.run not in labels:
                errs.add(
                    p,
                    f"{e.run!r} is not allowed: no entry has that label"
                    f"{suggest(e.run, labels)}; labels: "
                    f"{', '.join(sorted(labels))}",
                )
            if e.quantity == "point" and variables and len(e.value) != len(variables):
                errs.add(
                    _join(_join("expect", e.index), "point"),
                    f"{_show(e.value)} is not allowed: the surface has {len(variables)} variables",
                )

    if errs:
        lines = [f"{source}: {p}: {m}" if p else f"{source}: {m}" for p, m in errs.items]
        head = (
            lines[0]
            if len(lines) == 1
            else f"{source}: {len(lines)} problems:\n" + "\n".join(lines)
        )
        raise ConfigError(head, errors=lines)
    cfg = ExperimentConfig(
        name=name,
        description=desc,
        surface=surface,
        start=start,
        start_prev=start_prev,
        steps=steps,
        tolerance=tolerance,
        divergence_bound=bound,
        record=record,
        seed=seed,
        optimizers=optimizers,
        figures=figures,
        formats=formats,
        projection=projection,
        report=report,
        expect=expect,
        path=None if source.startswith("<") else source,
        variables=variables,
    )
    object.__setattr__(cfg, "_surface", surf_obj)
    return cfg


def _default_label(spec: OptimizerSpec) -> str:
    return spec.label if spec.label is not None else spec.name


#: Limits on a config file: its size, and the number of values it expands to (YAML aliases
#: can make a few lines expand to billions of values: the "billion laughs").
MAX_CONFIG_BYTES = 1_000_000
MAX_CONFIG_VALUES = 100_000


def _too_many_values(data: Any, limit: int = MAX_CONFIG_VALUES) -> bool:
    """True if ``data`` has more than ``limit`` values counting repeats (stops early)."""
    stack, count = [data], 0
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file with ``yaml.safe_load``; syntax errors become ConfigError."""
    import yaml

    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}: the file has {p.stat().st_size} bytes; a config may have at most "
                f"{MAX_CONFIG_BYTES}"
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        detail = f"{problem} ({context})" if context else problem
        raise ConfigError(f"{path}: {where}invalid YAML: {detail}") from None
    except RecursionError:
        raise ConfigError(f"{path}: the YAML is nested too deeply") from None
    if _too_many_values(data):
        raise ConfigError(
            f"{path}: the config expands to more than {MAX_CONFIG_VALUES} values (through YAML "
            "aliases or sheer size); a config describes one experiment in a few dozen lines"
        )
    return data


def load_config(path: str | Path, *, build: bool = True) -> ExperimentConfig:
    """Read and validate a config file (see the module docstring)."""
    return parse_config(read_yaml(path), str(path), build=build)


def apply_overrides(
    config: ExperimentConfig,
    *,
    steps: int | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    formats: Sequence[str] | None = None,
    figures: Sequence[str] | None = None,
) -> ExperimentConfig:
    """A copy with command-line overrides applied (validated like the file's values).

    ``steps`` replaces every step budget (top level and per entry); ``max_steps`` caps
    them (the test suite runs every config with a cap).
    """
    errs = _Errors()
    if steps is not None:
        steps = _int(errs, "--steps", steps, low=1, high=MAX_STEPS)
    if max_steps is not None:
        max_steps = _int(errs, "max_steps", max_steps, low=1, high=MAX_STEPS)
    if seed is not None:
        seed = _int(errs, "--seed", seed, low=0, high=2**32 - 1)
    if formats is not None:
        formats = _parse_list_of(errs, "--format", list(formats), FORMATS, ())
        if formats is not _INVALID and not formats:
            formats = errs.bad("--format", "", f"at least one of {', '.join(FORMATS)}")
    if figures is not None:
        figures = _parse_list_of(errs, "--figures", list(figures), FIGURES, ())
    if errs:
        lines = [f"{p}: {m}" for p, m in errs.items]
        raise ConfigError(lines[0] if len(lines) == 1 else "\n".join(lines), errors=lines)
    changes: dict[str, Any] = {}
    opts = list(config.optimizers)
    if steps is not None:
        changes["steps"] = steps
        opts = [replace(o, steps=None) for o in opts]
    if max_steps is not None:
        changes["steps"] = min(changes.get("steps", config.steps), max_steps)
        opts = [
            replace(o, steps=None if o.steps is None else min(o.steps, max_steps)) for o in opts
        ]
    changes["optimizers"] = tuple(opts)
    if seed is not None:
        changes["seed"] = seed
    if formats is not None:
        changes["formats"] = tuple(formats)
    if figures is not None:
        changes["figures"] = tuple(figures)
    new = replace(config, **changes)
    object.__setattr__(new, "_surface", config._surface)
    return new


def is_config_path(text: str) -> bool:
    """True when ``text`` names a YAML file (by suffix) rather than a surface."""
    return text.lower().endswith((".yaml", ".yml"))
