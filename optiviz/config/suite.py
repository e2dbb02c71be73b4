"""The ``suite:`` block: surfaces x starts x optimizers, judged by one convergence test.

A config with a ``suite:`` block is a :class:`SuiteConfig`::

    name: suite-library
    steps: 1000
    seed: 0                               # seeds the drawn starts
    suite:
      surfaces:                           # library names, or surface mappings
        - rosenbrock
        - {name: rosenbrock, parameters: {n: {values: [3, 4]}}}   # a family: 2 surfaces
        - {name: booth, starts: [[0, 0]]}                          # its own starts
      starts: {random: 4}                 # or [[x, y], ...] (every surface of that size)
      optimizers:                         # fixed settings, the optimizers: entry syntax
        - {name: gd, lr: 1.0e-3}
        - {name: adam, lr: {times_eta_opt: 10}}   # resolved on each surface
      tolerance: 1.0e-3                   # f(x_t) <= f* + tol (f(x0) - f*)
      cost: steps
    figures: [performance_profile, data_profile]

The suite's surfaces, starts and optimizers live inside the block: the experiment keys
``surface``, ``start``, ``optimizers`` (and ``tolerance``, ``record``, ``report``,
``projection``, ``expect``, which describe one surface's runs) are refused in a suite config
with a message saying where each goes. Every problem is found at once, at its key path
(``suite.surfaces[2].parameters.n``, ``suite.optimizers[1].lr``, ``suite.starts[0]``); with
``build`` (the default) every surface is built, the starts checked against its variables
and drawn, each start's loss checked finite, and relative learning rates resolved on each
surface.

Problems are the pairs (surface, start); each optimizer entry runs on each problem. An
entry is fixed settings today; :attr:`SuiteSpec.tune` holds one slot per entry (``None``:
fixed) where a tuned entry will say how to tune it (``tune:`` in an entry is refused until
then).
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from optiviz._validation import Choice, Interval
from optiviz.config.cost import ConfigCost, suite_cost
from optiviz.config.fields import INVALID, Problems, join, mapping, number, show, unknown_keys
from optiviz.config.schema import MAX_STARTS
from optiviz.config.specs import ExperimentConfig, OptimizerSpec, SurfaceSpec, with_defaults
from optiviz.errors import OptivizError

#: Keys of a suite config (besides these, an experiment's keys are refused, saying why).
SUITE_TOP_KEYS = (
    "name",
    "description",
    "steps",
    "divergence_bound",
    "seed",
    "figures",
    "formats",
    "suite",
)
#: Keys of the ``suite:`` block.
SUITE_KEYS = ("surfaces", "starts", "optimizers", "tolerance", "cost", "tune")
#: Units the cost to pass the test may be counted in (optiviz.suite.convergence).
COST_UNITS = ("steps", "evaluations")
#: Most problems (surfaces x starts) in one suite.
MAX_PROBLEMS = 10_000
#: The figures of a suite config that names none.
SUITE_FIGURES = ("performance_profile", "data_profile")

_WHY = {
    "surface": "a suite lists its surfaces in suite.surfaces",
    "start": "a suite gives its starts in suite.starts (or per surface: {name: ..., starts: "
    "[...]})",
    "start_prev": "suite runs start without a history",
    "optimizers": "a suite lists its optimizers in suite.optimizers",
    "tolerance": "a suite runs every budget to the end and judges the runs by "
    "suite.tolerance (f(x_t) <= f* + tolerance (f(x0) - f*))",
    "record": "a suite keeps the loss of every step and nothing else",
    "projection": "a suite draws no surface",
    "report": "a suite's report is its rank table and counts",
    "expect": "a suite has no expect: checks",
}
_TOLERANCE = Interval("float", 0.0, 1.0, closed="neither")
_COUNT = Interval("int", 1, MAX_STARTS)
_ENTRY_REFUSED = {
    "steps": "every optimizer of a suite has the same budget (the top-level steps)",
    "record": "a suite keeps the loss of every step and nothing else",
    "batch_size": "suites run full-batch",
    "tune": "a suite tunes every entry alike: give suite.tune (one budget for all)",
}
_STARTS_TEXT = (
    "a list of points [[x1, ..., xn], ...] (for every surface with n variables), or "
    "{random: K}: K points drawn uniformly from each surface's window (seeded by seed)"
)


@dataclass(frozen=True)
class StartsSpec:
    """``points``: explicit starts; ``random``: a count drawn from each window."""

    points: tuple[tuple[float, ...], ...] = ()
    random: int | None = None

    def to_dict(self) -> Any:
        return (
            {"random": self.random} if self.random is not None else [list(p) for p in self.points]
        )


@dataclass(frozen=True)
class SuiteSurface:
    """One surface of the suite: ``index`` its item in ``suite.surfaces`` (a family item
    gives several), ``label`` its name and the parameters written, ``starts`` its own."""

    index: int
    label: str
    spec: SurfaceSpec
    starts: StartsSpec | None = None


@dataclass(frozen=True)
class Problem:
    """A (surface, start) pair: ``surface`` indexes ``SuiteSpec.surfaces``, ``start`` the
    starts of that surface."""

    index: int
    surface: int
    start: int
    x0: tuple[float, ...]


@dataclass(frozen=True)
class SuiteSpec:
    """The validated ``suite:`` block (its optimizer entries are the config's
    ``optimizers``)."""

    items: tuple[Any, ...]  # suite.surfaces as written (normalized), for to_dict
    surfaces: tuple[SuiteSurface, ...]
    starts: StartsSpec
    tolerance: float = 1e-3
    cost: str = "steps"
    #: One slot per optimizer entry: None for fixed settings (tuning goes here)
    tune: tuple[Any, ...] = ()

    def to_dict(self, optimizers: tuple[OptimizerSpec, ...]) -> dict:
        from optiviz.config.tune import tune_to_dict

        tuning = next((t for t in self.tune if t is not None), None)
        out = {
            "surfaces": list(self.items),
            "starts": self.starts.to_dict(),
            # a tuned entry lists only what it fixes (its defaults would fix the search)
            "optimizers": [
                o.to_dict() if tuning is not None else with_defaults(o) for o in optimizers
            ],
            "tolerance": self.tolerance,
            "cost": self.cost,
        }
        if tuning is not None:
            out["tune"] = tune_to_dict(tuning)
        return out


@dataclass(frozen=True)
class SuiteConfig(ExperimentConfig):
    """A suite config (see the module docstring). The inherited single-surface fields
    describe the first problem (``surface``, ``start``, ``starts``, ``variables``: the first
    surface's), so code that reads one surface sees a real one; ``optimizers`` are the
    suite's entries, ``record`` is ``"final"`` (the losses are kept by the suite)."""

    suite: SuiteSpec | None = None
    problems: tuple[Problem, ...] = ()
    #: eta_opt of each surface where an entry's lr is relative to it (else None)
    eta_opts: tuple[float | None, ...] = ()
    _surfaces: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def spec(self) -> SuiteSpec:
        assert self.suite is not None
        return self.suite

    def build_surfaces(self) -> tuple[Any, ...]:
        """Every surface of the suite (built once during validation and cached)."""
        if not self._surfaces:
            built = tuple(suite_surface(s.spec) for s in self.spec.surfaces)
            object.__setattr__(self, "_surfaces", built)
        return self._surfaces

    def build_surface(self):
        return self.build_surfaces()[0]

    @property
    def n_runs(self) -> int:
        return len(self.problems) * len(self.optimizers)

    def cost(self) -> ConfigCost:
        tuned = next((t for t in self.spec.tune if t is not None), None)
        trials = 0 if tuned is None else int(tuned.budget)
        return suite_cost(self.optimizers, self.steps, _problem_sizes(self), trials)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "steps": self.steps,
            "divergence_bound": self.divergence_bound,
            "seed": self.seed,
            "suite": self.spec.to_dict(self.optimizers),
            "figures": [
                {f: dict(self.figure_options[f])} if self.figure_options.get(f) else f
                for f in self.figures
            ],
            "formats": list(self.formats),
        }


def _problem_sizes(config: SuiteConfig) -> list[tuple[int, int, str]]:
    """``(variables, starts, where)`` of every surface, for the cost."""
    counts: dict[int, int] = {}
    for p in config.problems:
        counts[p.surface] = counts.get(p.surface, 0) + 1
    surfaces = config._surfaces
    return [
        (
            surfaces[j].n if surfaces else len(s.spec.variables) or 2,
            counts.get(j, 0),
            join("suite.surfaces", s.index),
        )
        for j, s in enumerate(config.spec.surfaces)
    ]


# -- parsing ---------------------------------------------------------------------------------
def parse_suite_config(
    raw: Mapping, source: str = "<config>", *, build: bool = True, start_key: str = "start"
) -> SuiteConfig:
    """Validate a config with a ``suite:`` block (see the module docstring); raise
    :class:`~optiviz.errors.ConfigError` listing every problem."""
    from optiviz.config.fields import POSITIVE
    from optiviz.config.parse import SEED, STEPS, _description, _name, _parse_figures, parse_list_of
    from optiviz.config.schema import FORMATS

    errs = Problems()
    for key in raw:
        if key in _WHY:
            where = start_key if key == "start" else key
            errs.add(where, f"is not allowed in a suite config: {_WHY[key]}")
    unknown_keys(errs, "", {k: v for k, v in raw.items() if k not in _WHY}, SUITE_TOP_KEYS)
    v: dict[str, Any] = {
        "name": _name(errs, raw, source),
        "description": _description(errs, raw.get("description", "")),
        "steps": number(errs, "steps", raw.get("steps", 1000), STEPS),
        "divergence_bound": number(
            errs, "divergence_bound", raw.get("divergence_bound"), POSITIVE, optional=True
        ),
        "seed": number(errs, "seed", raw.get("seed", 0), SEED),
        "formats": parse_list_of(errs, "formats", raw.get("formats"), FORMATS, ("png",)),
    }
    v.update(
        _parse_figures(errs, raw["figures"])
        if "figures" in raw
        else {"figures": SUITE_FIGURES, "figure_options": {}}
    )
    _check_suite_figures(errs, v["figures"])
    block = _parse_block(errs, raw.get("suite"), v["seed"])
    surfaces: tuple = ()
    problems: tuple = ()
    eta_opts: tuple = ()
    if block is not INVALID and build and not errs:
        spec, optimizers = block
        surfaces = _build_all(errs, spec)
        if surfaces:
            problems = _problems(errs, spec, surfaces, v["seed"])
            eta_opts = _eta_opts(errs, spec, optimizers, surfaces)
    if errs:
        lines = [f"{source}: {p}: {m}" if p else f"{source}: {m}" for p, m in errs.items]
        head = (
            lines[0]
            if len(lines) == 1
            else f"{source}: {len(lines)} problems:\n" + "\n".join(lines)
        )
        raise errs.error(lines, head)
    spec, optimizers = block
    first = spec.surfaces[0]
    variables = tuple(surfaces[0].variables) if surfaces else tuple(first.spec.variables)
    starts = tuple(p.x0 for p in problems if p.surface == 0) or ((0.0,) * len(variables),)
    cfg = SuiteConfig(
        **v,
        surface=first.spec,
        start=starts[0],
        starts=starts,
        optimizers=optimizers,
        record="final",
        path=None if source.startswith("<") else source,
        variables=variables,
        suite=spec,
        problems=problems,
        eta_opts=eta_opts,
        _surfaces=surfaces,
    )
    from optiviz.config.cost import check_cost

    check_cost(errs, cfg.cost())
    if errs:
        lines = [f"{source}: {p}: {m}" for p, m in errs.items]
        raise errs.error(lines, lines[0] if len(lines) == 1 else "\n".join(lines))
    return cfg


def _check_suite_figures(errs: Problems, figures: Any) -> None:
    """A suite config draws the suite's figure kinds only (those that need a suite)."""
    if figures is INVALID:
        return
    from optiviz.figures import get
    from optiviz.figures._suite import SUITE, suite_kinds

    for i, name in enumerate(figures):
        if SUITE not in get(name).needs:
            errs.add(
                join("figures", i),
                f"{name!r} is not allowed in a suite config: it draws the runs of one "
                f"surface; a suite draws {', '.join(suite_kinds())}",
            )


def _rebased(errs: Problems, old: str, new: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(problems, *args)`` with its problems moved from under ``old`` to ``new``
    (``surface.name`` -> ``suite.surfaces[2].name``)."""
    sub = Problems()
    out = fn(sub, *args)
    for (p, m), (value, allowed) in zip(sub.items, sub.fields, strict=True):
        if p == old or p.startswith((old + ".", old + "[")):
            p = new + p[len(old) :]
        errs.add(p, m, value, allowed)
    return out


def _parse_suite_tune(errs: Problems, value: Any, seed: Any) -> Any:
    """``suite.tune``: the top-level ``tune:`` block's keys (config/tune.py), its errors at
    ``suite.tune.<key>``; every entry is tuned on each surface (over its starts) with the
    same budget, for the suite's steps (so no ``horizon``)."""
    if value is None:
        return None
    from optiviz.config.tune import parse_tune

    sub = Problems()
    if isinstance(value, Mapping) and "horizon" in value:
        sub.add(
            "tune.horizon",
            "is not allowed in a suite: its trials run for the suite's steps",
            value["horizon"],
        )
    out = parse_tune(sub, value, seed)
    for (path, message), (v, allowed) in zip(sub.items, sub.fields, strict=True):
        errs.add(f"suite.{path}", message, v, allowed)
    return INVALID if sub.items else out


def _parse_block(errs: Problems, value: Any, seed: Any = 0) -> Any:
    """``suite: {surfaces, starts, optimizers, tolerance, cost}`` -> (SuiteSpec, entries)."""
    if value is None:
        return errs.missing("suite", "a mapping {surfaces: [...], starts: ..., optimizers: [...]}")
    m = mapping(errs, "suite", value, "a mapping {surfaces: [...], starts: ..., optimizers: [...]}")
    if m is INVALID:
        return INVALID
    unknown_keys(errs, "suite", m, SUITE_KEYS)
    parsed = _parse_surfaces(errs, m.get("surfaces"))
    starts = (
        _parse_starts(errs, "suite.starts", m["starts"])
        if "starts" in m
        else errs.missing("suite.starts", _STARTS_TEXT)
    )
    optimizers = _parse_entries(errs, m.get("optimizers"))
    tol = number(errs, "suite.tolerance", m.get("tolerance", 1e-3), _TOLERANCE)
    cost = errs.check("suite.cost", m.get("cost", "steps"), Choice(COST_UNITS, quote=False))
    tuning = _parse_suite_tune(errs, m.get("tune"), seed)
    if INVALID in (parsed, starts, optimizers, tol, cost, tuning):
        return INVALID
    items, surfaces = parsed
    spec = SuiteSpec(
        items=items,
        surfaces=surfaces,
        starts=starts,
        tolerance=tol,
        cost=cost,
        tune=(tuning,) * len(optimizers),
    )
    return spec, optimizers


def _parse_starts(errs: Problems, path: str, value: Any) -> Any:
    from optiviz.config.parse import parse_starts

    if isinstance(value, Mapping):
        sm = mapping(errs, path, value, _STARTS_TEXT)
        if sm is INVALID:
            return INVALID
        unknown_keys(errs, path, sm, ("random",))
        if "random" not in sm:
            return errs.bad(path, value, _STARTS_TEXT)
        k = number(errs, join(path, "random"), sm["random"], _COUNT)
        return INVALID if k is INVALID or len(sm) != 1 else StartsSpec(random=k)
    if not isinstance(value, (list, tuple)) or not value:
        return errs.bad(path, value, _STARTS_TEXT)
    if not all(isinstance(p, (list, tuple)) for p in value):
        value = [value]  # one point [x, y]
    points = parse_starts(errs, path, list(value))
    return INVALID if points is INVALID else StartsSpec(points=points)


def _parse_surfaces(errs: Problems, value: Any) -> Any:
    """``suite.surfaces`` -> (items as written, expanded surfaces)."""
    if value is None:
        return errs.missing("suite.surfaces", "a list of surfaces (library names or mappings)")
    if not isinstance(value, (list, tuple)) or not value:
        return errs.bad("suite.surfaces", value, "a non-empty list of surfaces")
    items: list[Any] = []
    out: list[SuiteSurface] = []
    ok = True
    for i, item in enumerate(value):
        got = _parse_surface_item(errs, i, item)
        if got is INVALID:
            ok = False
            continue
        written, expanded = got
        items.append(written)
        out.extend(expanded)
    if not ok:
        return INVALID
    seen: dict[str, int] = {}
    for s in out:
        if s.label in seen:
            errs.add(
                join("suite.surfaces", s.index),
                f"the surface {s.label!r} is listed twice (also suite.surfaces[{seen[s.label]}])",
            )
            ok = False
        seen.setdefault(s.label, s.index)
    return (tuple(items), tuple(out)) if ok else INVALID


def _parse_surface_item(errs: Problems, i: int, item: Any) -> Any:
    """One ``suite.surfaces[i]``: a name, or a surface mapping (the ``surface:`` syntax)
    with optionally ``starts`` and parameters swept as ``{values: [...]}``."""
    from optiviz.config.surface import parse_parameters, parse_surface

    path = join("suite.surfaces", i)
    if isinstance(item, str):
        item = {"name": item}
    m = mapping(errs, path, item, "a surface name or a surface mapping")
    if m is INVALID:
        return INVALID
    body = {k: v for k, v in m.items() if k != "starts"}
    starts = None if "starts" not in m else _parse_starts(errs, join(path, "starts"), m["starts"])
    params = body.get("parameters")
    swept: dict[str, list] = {}
    if isinstance(params, Mapping):
        fixed = {}
        for k, pv in params.items():
            if isinstance(pv, Mapping):
                vals = _swept_values(errs, join(join(path, "parameters"), k), pv)
                if vals is INVALID:
                    return INVALID
                swept[k] = vals
            else:
                fixed[k] = pv
        body["parameters"] = fixed
    spec = _rebased(errs, "surface", path, parse_surface, body)
    if spec is INVALID or starts is INVALID:
        return INVALID
    combos = [dict(zip(swept, c, strict=True)) for c in itertools.product(*swept.values())]
    for k, vals in swept.items():
        for j, pv in enumerate(vals):
            where = join(join(path, "parameters"), k)
            got = _rebased(
                errs,
                where,
                join(join(where, "values"), j),
                parse_parameters,
                join(path, "parameters"),
                {k: pv},
            )
            if got is INVALID:
                return INVALID
    expanded = []
    for combo in combos or [{}]:
        s = replace(spec, parameters={**spec.parameters, **combo})
        expanded.append(SuiteSurface(index=i, label=surface_label(s), spec=s, starts=starts))
    written: Any = spec.to_dict() if spec.kind != "library" or swept else _library_written(spec)
    if spec.kind == "expression" and spec.name and spec.name != "custom":
        written["name"] = spec.name  # SurfaceSpec.to_dict leaves an expression's name out
    if swept:
        written["parameters"] = {
            **written.get("parameters", {}),
            **{k: {"values": list(v)} for k, v in swept.items()},
        }
    if starts is not None:
        written = (
            {**written, "starts": starts.to_dict()}
            if isinstance(written, dict)
            else {
                "name": written,
                "starts": starts.to_dict(),
            }
        )
    return written, expanded


def _library_written(spec: SurfaceSpec) -> Any:
    """A library surface as a config writes it: its name, or the mapping when it has more."""
    if not spec.parameters and not spec.l1 and not spec.l2 and spec.window is None:
        if spec.transform is None:
            return spec.name
    return spec.to_dict()


def _swept_values(errs: Problems, path: str, value: Mapping) -> Any:
    unknown_keys(errs, path, value, ("values",))
    vals = value.get("values")
    if not isinstance(vals, (list, tuple)) or not vals or len(vals) > MAX_PROBLEMS:
        return errs.bad(
            join(path, "values"), vals, f"a non-empty list of at most {MAX_PROBLEMS} values"
        )
    return list(vals) if len(value) == 1 else INVALID


def surface_label(spec: SurfaceSpec) -> str:
    """``rosenbrock``, ``rosenbrock (n=4)``, ``quadratic (l2=0.1)``: a suite surface's name
    and what its mapping sets."""
    from optiviz._format import fmt_number

    def value(v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return str(v).replace(" ", "")
        return fmt_number(v)

    parts = [f"{k}={value(v)}" for k, v in spec.parameters.items()]
    parts += [f"{k}={fmt_number(x)}" for k, x in (("l1", spec.l1), ("l2", spec.l2)) if x]
    if spec.transform:
        parts += [f"{k}={value(v)}" for k, v in spec.transform.items()]
    if spec.window is not None:
        parts.append("window=" + value([list(w) for w in spec.window]))
    base = spec.name or "custom" if spec.kind != "expression" else spec.name or "custom"
    return f"{base} ({', '.join(parts)})" if parts else str(base)


def _parse_entries(errs: Problems, value: Any) -> Any:
    """``suite.optimizers``: the ``optimizers:`` entry syntax, fixed settings only."""
    from optiviz.config.optimizers import parse_optimizer

    if value is None:
        return errs.missing("suite.optimizers", "a list of optimizer entries")
    if not isinstance(value, (list, tuple)) or not value:
        return errs.bad("suite.optimizers", value, "a non-empty list of optimizer entries")
    out = []
    ok = True
    for i, entry in enumerate(value):
        path = join("suite.optimizers", i)
        if isinstance(entry, Mapping):
            bad = [k for k in entry if k in _ENTRY_REFUSED]
            for k in bad:
                errs.add(join(path, k), f"is not allowed in a suite entry: {_ENTRY_REFUSED[k]}")
            if bad:
                ok = False
                continue
        spec = _rebased(errs, join("optimizers", i), path, parse_optimizer, i, entry)
        if spec is INVALID:
            ok = False
            continue
        if spec.is_grid:
            swept = next(iter(spec.grids), "lr")
            errs.add(
                join(path, swept),
                "a grid is not allowed in a suite entry: each entry is one setting (one "
                "solver of the profiles); list one entry per value",
            )
            ok = False
            continue
        out.append(replace(spec, label=spec.label or entry_label(spec)))
    if not ok:
        return INVALID
    seen: dict[str, int] = {}
    for s in out:
        if s.label in seen:
            errs.add(
                join("suite.optimizers", s.index),
                f"its label {s.label!r} is also suite.optimizers[{seen[s.label]}]'s: every "
                "entry needs its own label (label: TEXT)",
            )
            ok = False
        seen.setdefault(s.label, s.index)
    return tuple(out) if ok else INVALID


def entry_label(spec: OptimizerSpec) -> str:
    """The optimizer's own label (``gd (lr=0.001)``); a relative learning rate shows as
    ``lr=10 eta_opt``."""
    from optiviz.optimizers import make_optimizer

    rel = spec.lr_times_eta_opt
    hp = dict(spec.hyperparameters)
    if rel is None:
        return make_optimizer(spec.name, **hp).label()
    text = make_optimizer(spec.name, **hp, lr=0.123456789).label()
    return re.sub(r"lr=0\.1235", f"lr={float(rel):g} eta_opt", text)


# -- checks on the built surfaces -----------------------------------------------------------
#: Surfaces built for suites in this process, by their spec (see :func:`suite_surface`).
_BUILT: dict[str, Any] = {}
_BUILT_MAX = 64


def suite_surface(spec: SurfaceSpec) -> Any:
    """The surface ``spec`` describes, built once per process for every suite that lists
    it (a suite builds a dozen surfaces: compiling each is most of validating a suite, and
    validation, the run and the next suite share them). A suite never changes its
    surfaces; the cache holds the last 64, keyed by the spec's resolved form."""
    import json

    from optiviz.config.surface import build_surface

    if spec.kind == "data":
        return build_surface(spec)
    key = json.dumps([spec.kind, spec.to_dict()], sort_keys=True, default=str)
    if key not in _BUILT:
        surface = build_surface(spec)
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[key] = surface
    return _BUILT[key]


def _build_all(errs: Problems, spec: SuiteSpec) -> tuple:
    from optiviz.config.surface import surface_error_path

    built = []
    for s in spec.surfaces:
        try:
            built.append(suite_surface(s.spec))
        except OptivizError as exc:
            where = surface_error_path(s.spec, exc).replace(
                "surface", join("suite.surfaces", s.index), 1
            )
            errs.add(where, f"{s.label}: {exc}")
            built.append(None)  # the others are still checked
    return tuple(built)


def draw_starts(surface: Any, label: str, count: int, seed: int):
    """``count`` points uniform in ``surface.window``, from a generator seeded by ``seed``
    and the surface's label (so a surface keeps its draws when others are added)."""
    import numpy as np

    rng = np.random.default_rng([int(seed), zlib.crc32(label.encode("utf-8"))])
    w = np.asarray(surface.window, dtype=float)
    return w[:, 0] + (w[:, 1] - w[:, 0]) * rng.random((count, w.shape[0]))


def _problems(errs: Problems, spec: SuiteSpec, surfaces: tuple, seed: int) -> tuple:
    import numpy as np

    out: list[Problem] = []
    for j, (s, surf) in enumerate(zip(spec.surfaces, surfaces, strict=True)):
        if surf is None:  # it did not build: its own error says why
            continue
        own = s.starts is not None
        st = s.starts if s.starts is not None else spec.starts
        where = join(join("suite.surfaces", s.index), "starts") if own else "suite.starts"
        if st.random is not None:
            points = [tuple(map(float, p)) for p in draw_starts(surf, s.label, st.random, seed)]
        else:
            points = list(st.points)
            bad = [k for k, p in enumerate(points) if len(p) != surf.n]
            if bad:
                k = bad[0]
                hint = "" if own else "; give that surface its own: {name: ..., starts: [...]}"
                errs.add(
                    join(where, k) if len(points) > 1 else where,
                    f"{show(list(points[k]))} has {len(points[k])} numbers but "
                    f"suite.surfaces[{s.index}] ({s.label}) has {surf.n} variables "
                    f"({', '.join(surf.variables)}){hint}",
                )
                continue
        for k, x0 in enumerate(points):
            with np.errstate(all="ignore"):
                f0 = float(np.asarray(surf.f(np.asarray(x0), check=False)))
            if not np.isfinite(f0):
                errs.add(
                    join(where, k) if len(points) > 1 else where,
                    f"{s.label}: the loss at the start {show(list(x0))} is {f0!r}; a start "
                    "needs a finite loss",
                )
                continue
            out.append(Problem(index=len(out), surface=j, start=k, x0=tuple(x0)))
    if len(out) > MAX_PROBLEMS:
        errs.add("suite", f"{len(out)} problems (surfaces x starts); at most {MAX_PROBLEMS}")
    return tuple(out)


def _eta_opts(errs: Problems, spec: SuiteSpec, optimizers: tuple, surfaces: tuple) -> tuple:
    """eta_opt of every surface when an entry's lr is relative to it."""
    from optiviz.config.parse import resolve_eta_opt

    rel = [o for o in optimizers if o.lr_times_eta_opt is not None]
    if not rel:
        return (None,) * len(surfaces)
    out: list[float | None] = []
    for s, surf in zip(spec.surfaces, surfaces, strict=True):
        if surf is None:
            out.append(None)
            continue
        value = resolve_eta_opt(surf)
        if isinstance(value, str):
            errs.add(
                join(join("suite.optimizers", rel[0].index), "lr"),
                f"on suite.surfaces[{s.index}] ({s.label}): {value}",
            )
            out.append(None)
        else:
            out.append(value)
    return tuple(out)
