"""A loaded YAML document -> a validated :class:`ExperimentConfig`, every problem at once.

:func:`parse_config` reads each top-level block with its own parser (surface, optimizers,
expect in their modules; the run settings, figures, projection and report here), then
checks what depends on several blocks: lengths against the surface's variables, the
projection, mini-batches, the amount of work, what figures need, the runs ``expect``
names, and -- when the surface is built -- that every relative learning rate can be
resolved. The rule: whatever ``optiviz run`` would refuse, this refuses first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from optiviz._validation import Interval
from optiviz.config.cost import check_cost, config_cost
from optiviz.config.expect import parse_expect
from optiviz.config.fields import (
    INVALID,
    NONNEG,
    POSITIVE,
    Problems,
    choice,
    join,
    lowered,
    mapping,
    number,
    safe_name,
    show,
    unknown_keys,
    vector,
)
from optiviz.config.optimizers import parse_optimizer
from optiviz.config.repeats import check_seeds, parse_evaluation_weights, parse_seeds, repeats
from optiviz.config.schema import (
    FIGURES,
    FORMATS,
    MAX_GRID,
    MAX_STARTS,
    MAX_STEPS,
    RECORDS,
    SURFACE_FIGURES,
    TOP_KEYS,
)
from optiviz.config.specs import (
    ExperimentConfig,
    ReportSpec,
    Tolerance,
    default_label,
    expand_grid,
)
from optiviz.config.surface import build_surface, parse_surface, surface_error_path
from optiviz.config.tune import check_tune, parse_tune
from optiviz.errors import ConfigError, OptivizError, suggest
from optiviz.figures.registry import TWO_VARIABLES, missing_needs, option_defaults

STEPS = Interval("int", 1, MAX_STEPS)
SEED = Interval("int", 0, 2**32 - 1)
_T = Interval("int", 0, MAX_STEPS)


def parse_config(
    raw: Any, source: str = "<config>", *, build: bool = True, start_key: str = "start"
) -> ExperimentConfig:
    """Validate an already-loaded YAML document (a mapping) and return the config.

    ``source`` names the file in messages. With ``build`` (the default) the surface is
    built, so start lengths, the projection and the report point are checked against its
    variables and relative learning rates are resolved. ``start_key`` names where
    ``raw["start"]`` came from in messages (``--start`` when the command line gave it).
    Raises :class:`ConfigError` listing every problem.
    """
    if not isinstance(raw, Mapping):
        kind = "empty" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError(
            f"{source}: the file is {kind}; a config is a YAML mapping "
            "(name: ..., surface: ..., start: ..., optimizers: [...])"
        )
    if "suite" in raw:  # surfaces x starts x optimizers: optiviz.config.suite
        from optiviz.config.suite import parse_suite_config

        return parse_suite_config(raw, source, build=build, start_key=start_key)
    errs = Problems()
    unknown_keys(errs, "", raw, TOP_KEYS)
    v = _parse_blocks(errs, raw, source, start_key)
    surface, variables = _build(errs, v["surface"], build)
    if variables:
        _check_lengths(errs, v, variables)
        v["projection"] = _resolve_projection(errs, v["projection"], variables)
    eta_opt = None
    if surface is not None:
        _check_batches(errs, v["optimizers"], surface)
        eta_opt = _check_eta_opt(errs, v["optimizers"], v["report"], surface)
    check_seeds(errs, v["seeds"], v["optimizers"])
    check_tune(errs, v, surface, raw)
    _check_work(errs, v, variables)
    _check_figures(errs, v, variables)
    _check_expect(errs, v, variables)
    if surface is not None and not errs:
        _check_start(errs, v, surface, eta_opt)
        _check_hessian_projection(errs, v, surface)
    if errs:
        lines = [f"{source}: {p}: {m}" if p else f"{source}: {m}" for p, m in errs.items]
        head = (
            lines[0]
            if len(lines) == 1
            else f"{source}: {len(lines)} problems:\n" + "\n".join(lines)
        )
        raise errs.error(lines, head)
    v.pop("_start_key")
    cfg = ExperimentConfig(
        **v, path=None if source.startswith("<") else source, variables=variables
    )
    object.__setattr__(cfg, "_surface", surface)
    return cfg


# -- the blocks ----------------------------------------------------------------------------
def _parse_blocks(errs: Problems, raw: Mapping, source: str, start_key: str = "start") -> dict:
    """Every top-level block parsed on its own (INVALID where it failed)."""
    surface = parse_surface(errs, raw.get("surface"))
    if surface is not INVALID and surface.kind == "data" and not source.startswith("<"):
        surface = replace(surface, base_dir=str(Path(source).parent))
    starts = (
        parse_starts(errs, start_key, raw["start"])
        if "start" in raw
        else errs.missing("start", "a list of numbers, one per variable, or a list of such points")
    )
    prev = raw.get("start_prev")
    starts_prev = None if prev is None else parse_starts(errs, "start_prev", prev)
    if starts_prev not in (None, INVALID) and starts not in (None, INVALID):
        starts_prev = _check_prev_count(errs, starts, starts_prev)
    return {
        "_start_key": start_key,
        "name": _name(errs, raw, source),
        "description": _description(errs, raw.get("description", "")),
        "surface": surface,
        "start": starts if starts is INVALID else starts[0],
        "starts": starts,
        "start_prev": starts_prev if starts_prev in (None, INVALID) else starts_prev[0],
        "starts_prev": starts_prev,
        "steps": number(errs, "steps", raw.get("steps", 1000), STEPS),
        "tolerance": _parse_tolerance(errs, raw.get("tolerance")),
        "divergence_bound": number(
            errs, "divergence_bound", raw.get("divergence_bound"), POSITIVE, optional=True
        ),
        "record": choice(errs, "record", raw.get("record", "all"), RECORDS),
        "seed": number(errs, "seed", raw.get("seed", 0), SEED),
        "seeds": parse_seeds(errs, raw.get("seeds")),
        "evaluation_weights": parse_evaluation_weights(errs, raw.get("evaluation_weights")),
        "optimizers": _parse_optimizers(errs, raw.get("optimizers")),
        **_parse_figures(errs, raw.get("figures")),
        "formats": parse_list_of(errs, "formats", raw.get("formats"), FORMATS, ("png",)),
        "projection": _parse_projection(errs, raw.get("projection")),
        "report": _parse_report(errs, raw.get("report")),
        "expect": parse_expect(errs, raw.get("expect")),
        "tune": parse_tune(errs, raw.get("tune"), raw.get("seed", 0)),
        "backend": _parse_backend(errs, raw.get("backend", "numpy")),
    }


def _parse_backend(errs: Problems, value: Any) -> Any:
    """``backend: numpy | jax | auto`` (optiviz.backends); ``jax`` needs JAX installed."""
    from optiviz import backends

    out = choice(errs, "backend", value, backends.BACKENDS)
    if out == "jax" and not backends.available():
        return errs.bad(
            "backend",
            value,
            "numpy or auto: JAX is not installed (pip install 'optiviz[jax]' for jax)",
        )
    return out


def _parse_figures(errs: Problems, value: Any) -> dict:
    """``figures: [NAME | {NAME: {option: value}}, ...]`` (or comma-separated names):
    ``{"figures": names, "figure_options": {name: {option: value}}}``, the options checked
    against the kind's declared :class:`~optiviz.figures.Option` constraints."""
    if not isinstance(value, (list, tuple)) or all(isinstance(v, str) for v in value):
        names = parse_list_of(errs, "figures", value, FIGURES, ("contour", "loss"))
        return {"figures": names, "figure_options": {}}
    out: list[str] = []
    options: dict[str, dict[str, Any]] = {}
    ok = True
    for i, item in enumerate(value):
        path = join("figures", i)
        if isinstance(item, Mapping) and len(item) == 1:
            ((kind, given),) = item.items()
            name = choice(errs, path, kind, FIGURES)
            if name is INVALID:
                ok = False
                continue
            opts = _figure_options(errs, path, name, given)
            if opts is INVALID:
                ok = False
            elif name in options and options[name] != opts:
                errs.bad(path, item, f"one {name} figure: {name!r} is listed twice")
                ok = False
            else:
                options[name] = opts
        else:
            if isinstance(item, Mapping):
                errs.bad(path, item, "a figure name or a mapping {NAME: {option: value}}")
                ok = False
                continue
            name = choice(errs, path, item, FIGURES)
            if name is INVALID:
                ok = False
                continue
        if name not in out:
            out.append(name)
    return {
        "figures": tuple(out) if ok else INVALID,
        "figure_options": {k: v for k, v in options.items() if v},
    }


def _figure_options(errs: Problems, path: str, name: str, given: Any) -> Any:
    """The options a config sets for the figure kind ``name``, checked and normalized."""
    from optiviz.figures import get

    kind = get(name)
    allowed = tuple(o.name for o in kind.options)
    if given is None:
        return {}
    if not allowed:
        return errs.bad(join(path, name), given, f"nothing: the {name} figure has no options")
    gm = mapping(errs, join(path, name), given, f"a mapping of {name}'s options")
    if gm is INVALID:
        return INVALID
    unknown_keys(errs, join(path, name), gm, allowed)
    out = {}
    for key, v in gm.items():
        if key in allowed:
            out[key] = errs.check(join(join(path, name), key), v, kind.option(key).constraint)
    if INVALID in out.values():
        return INVALID
    clash = kind.check(out) if kind.check is not None else None
    if clash is not None:  # valid one by one, not together
        return errs.bad(join(join(path, name), clash[0]), clash[1], clash[2])
    return out


#: What ``start`` (and ``start_prev``) may be.
START_FORMS = "a point [x1, ..., xn] (one finite number per variable) or a list of points"


def parse_starts(errs: Problems, path: str, value: Any) -> Any:
    """``start``: one point ``[x, y]`` or several ``[[x, y], [u, v]]`` -> a tuple of points
    (tuples of floats), every bad number reported at its place (``start[1][0]``)."""
    if not isinstance(value, (list, tuple)) or not value:
        return errs.bad(path, value, START_FORMS)
    nested = [isinstance(v, (list, tuple)) for v in value]
    if not any(nested):
        point = vector(errs, path, value, what=START_FORMS)
        return INVALID if point is INVALID else (point,)
    if not all(nested):
        return errs.bad(
            path,
            value,
            f"{START_FORMS}, not a mixture of numbers and lists (e.g. [[-1.2, 1], [0, 0]])",
        )
    if len(value) > MAX_STARTS:
        return errs.bad(path, f"[{len(value)} points]", f"at most {MAX_STARTS} points")
    points = [
        vector(errs, join(path, i), p, what="a point: a list of finite numbers")
        for i, p in enumerate(value)
    ]
    return INVALID if INVALID in points else tuple(points)


def _check_prev_count(errs: Problems, starts: tuple, prev: tuple) -> Any:
    """One previous iterate per start: ``start_prev`` lists as many points as ``start``."""
    if len(prev) == len(starts):
        return prev
    if len(starts) == 1:
        return errs.bad(
            "start_prev",
            [list(p) for p in prev],
            "one point (the iterate before start), like start",
        )
    return errs.bad(
        "start_prev",
        [list(p) for p in prev] if len(prev) > 1 else list(prev[0]),
        f"one previous iterate per start: a list of {len(starts)} points, in the order of start",
    )


def _name(errs: Problems, raw: Mapping, source: str) -> Any:
    if "name" in raw:
        return safe_name(errs, "name", raw["name"])
    stem = Path(source).stem if source and not source.startswith("<") else "experiment"
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip("._-") or "experiment"


def _description(errs: Problems, desc: Any) -> Any:
    if desc is None:
        return ""
    if not isinstance(desc, str):
        return errs.bad("description", desc, "a string")
    return " ".join(desc.split())


def _parse_tolerance(errs: Problems, value: Any) -> Any:
    """``tolerance: {grad: float > 0, loss: float >= 0}`` (either may be null)."""
    if value is None:
        return Tolerance()
    tm = mapping(errs, "tolerance", value, "a mapping {grad: float, loss: float}")
    if tm is INVALID:
        return INVALID
    unknown_keys(errs, "tolerance", tm, ("grad", "loss"))
    g = number(errs, "tolerance.grad", tm.get("grad"), POSITIVE, optional=True)
    lo = number(errs, "tolerance.loss", tm.get("loss"), NONNEG, optional=True)
    return Tolerance(grad=g, loss=lo) if INVALID not in (g, lo) else INVALID


def _parse_optimizers(errs: Problems, opts: Any) -> Any:
    if opts is None:
        return errs.missing(
            "optimizers", "a list of optimizer entries, e.g. [{name: gd, lr: 0.01}]"
        )
    if not isinstance(opts, (list, tuple)) or not opts:
        return errs.bad(
            "optimizers", opts, "a non-empty list of optimizer entries, e.g. [{name: gd, lr: 0.01}]"
        )
    parsed = [parse_optimizer(errs, i, o) for i, o in enumerate(opts)]
    return INVALID if INVALID in parsed else tuple(parsed)


def parse_list_of(
    errs: Problems, path: str, value: Any, choices: Sequence[str], default: tuple
) -> Any:
    """A list (or comma-separated text) of names drawn from ``choices``, without repeats."""
    if value is None:
        return default
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, (list, tuple)):
        return errs.bad(path, value, f"a list drawn from {', '.join(choices)}")
    out = []
    ok = True
    for i, v in enumerate(value):
        c = choice(errs, join(path, i), v, choices)
        if c is INVALID:
            ok = False
        elif c not in out:
            out.append(c)
    return tuple(out) if ok else INVALID


def _parse_projection(errs: Problems, projection: Any) -> Any:
    """The written form (resolved against the variables by :func:`_resolve_projection`)."""
    if projection is None or projection == "hessian":
        return projection
    if (
        not isinstance(projection, (list, tuple))
        or len(projection) != 2
        or not all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in projection)
    ):
        return errs.bad(
            "projection",
            projection,
            "two variable names (or 0-based indices), e.g. [w1, w2], "
            "or 'hessian' (the top two Hessian eigenvectors)",
        )
    return projection


def _parse_report(errs: Problems, rep: Any) -> Any:
    """``report: {at: [...], l1, l2, early_stopping: {lr, t}}``."""
    if rep is None:
        return ReportSpec()
    rm = mapping(
        errs,
        "report",
        rep,
        "a mapping {at: [x1, ..., xn], l1: float, l2: float, early_stopping: {lr: float, t: int}}",
    )
    if rm is INVALID:
        return INVALID
    unknown_keys(errs, "report", rm, ("at", "l1", "l2", "early_stopping"))
    at = rm.get("at")
    at = None if at is None else vector(errs, "report.at", at)
    rl1 = number(errs, "report.l1", rm.get("l1"), NONNEG, optional=True)
    rl2 = number(errs, "report.l2", rm.get("l2"), NONNEG, optional=True)
    es = rm.get("early_stopping")
    if es is not None:
        em = mapping(errs, "report.early_stopping", es, "a mapping {lr: float, t: int}")
        if em is not INVALID:
            unknown_keys(errs, "report.early_stopping", em, ("lr", "t"))
            elr = number(errs, "report.early_stopping.lr", em.get("lr"), POSITIVE)
            et = number(errs, "report.early_stopping.t", em.get("t"), _T)
            es = (elr, et) if INVALID not in (elr, et) else INVALID
        else:
            es = INVALID
    if INVALID in (at, rl1, rl2, es):
        return INVALID
    return ReportSpec(at=at, l1=rl1, l2=rl2, early_stopping=es)


# -- checks across blocks --------------------------------------------------------------------
def _build(errs: Problems, spec: Any, build: bool) -> tuple[Any, tuple[str, ...]]:
    """The built surface (``None`` without ``build``) and its variables (if known)."""
    if spec is INVALID:
        return None, ()
    if not build:
        return None, spec.variables if spec.kind == "expression" else ()
    try:
        surface = build_surface(spec)
    except OptivizError as exc:
        errs.add(surface_error_path(spec, exc), str(exc))
        return None, ()
    return surface, tuple(surface.variables)


def _names(variables: Sequence[str]) -> str:
    """The variables as a message lists them (long lists shortened)."""
    if len(variables) <= 12:
        return ", ".join(variables)
    return ", ".join(variables[:10]) + f", ..., {variables[-1]}"


def _check_lengths(errs: Problems, v: dict, variables: tuple[str, ...]) -> None:
    n = len(variables)
    report = v["report"]
    checks: list[tuple[str, Any]] = []
    for key, points in ((v["_start_key"], v["starts"]), ("start_prev", v["starts_prev"])):
        if points is None or points is INVALID:
            continue
        checks += [(join(key, i) if len(points) > 1 else key, p) for i, p in enumerate(points)]
    checks.append(("report.at", None if report is INVALID else report.at))
    for key, vec in checks:
        if vec is not None and vec is not INVALID and len(vec) != n:
            errs.add(
                key,
                f"{show(list(vec))} is not allowed: it has {len(vec)} "
                f"number{'s' if len(vec) != 1 else ''} but the surface has "
                f"{n} variable{'s' if n != 1 else ''} ({_names(variables)})",
            )


def _resolve_projection(errs: Problems, projection: Any, variables: tuple[str, ...]) -> Any:
    """Names or indices -> two different variable names (or INVALID)."""
    if projection is None or projection is INVALID or projection == "hessian":
        return projection
    n, names = len(variables), _names(variables)
    proj = []
    for j, p in enumerate(projection):
        if isinstance(p, int):
            if not 0 <= p < n:
                errs.bad(join("projection", j), p, f"an index in 0..{n - 1} or one of {names}")
            else:
                proj.append(variables[p])
        elif p not in variables:
            errs.add(
                join("projection", j),
                f"{show(p)} is not allowed: must be one of the variables {names}"
                f"{suggest(p, variables)}",
            )
        else:
            proj.append(p)
    if len(proj) == 2 and proj[0] == proj[1]:
        errs.bad("projection", list(projection), "two different variables")
    return tuple(proj) if len(proj) == 2 else INVALID


def _check_batches(errs: Problems, optimizers: Any, surface: Any) -> None:
    """``batch_size`` needs a data surface and at most its number of samples."""
    if optimizers is INVALID:
        return
    n_samples = getattr(surface, "n_samples", None)
    for o in optimizers:
        if o.batch_size is None:
            continue
        path = join(join("optimizers", o.index), "batch_size")
        if n_samples is None:
            errs.add(
                path,
                f"{o.batch_size} is not allowed: mini-batches need a data surface "
                f"(surface: {{data: ...}}); {surface.name!r} has no samples",
            )
        elif o.batch_size > n_samples:
            errs.add(
                path,
                f"{o.batch_size} is not allowed: must be an int in the range "
                f"[1, {n_samples}] (the number of samples)",
            )


def _check_eta_opt(errs: Problems, optimizers: Any, report: Any, surface: Any) -> float | None:
    """Relative learning rates need eta_opt = 1/lambda_max of the surface (at
    ``report.at``, else at its lowest minimum) to exist and be finite and positive; return
    it (``None`` when no entry needs it or it cannot be resolved)."""
    if optimizers is INVALID or report is INVALID:
        return None
    rel = [o for o in optimizers if o.lr_times_eta_opt is not None]
    if not rel:
        return None
    eta_opt = resolve_eta_opt(surface, report.at)
    if isinstance(eta_opt, str):
        errs.add(join(join("optimizers", rel[0].index), "lr"), eta_opt)
        return None
    return eta_opt


def _check_start(errs: Problems, v: dict, surface: Any, eta_opt: float | None) -> None:
    """Each entry started as the run starts it: the optimizer built with the resolved
    learning rates and ``optiviz.run`` called for 0 steps from ``start`` (and
    ``start_prev``), so what only the start refuses (a history with ``lr = 0``) is found
    now. Only called on an otherwise valid config with a built surface."""
    from optiviz.engine import run
    from optiviz.optimizers import make_optimizer
    from optiviz.schedules import make_schedule

    tol = v["tolerance"]
    starts, prevs = v["starts"], v["starts_prev"]
    for o in v["optimizers"]:
        for k, x0 in enumerate(starts):  # each start (the first refusal of an entry)
            try:
                run(
                    surface,
                    make_optimizer(o.name, **expand_grid(o, eta_opt)),
                    x0,
                    0,
                    x_prev=None if prevs is None else prevs[k],
                    schedule=None
                    if o.schedule is None
                    else make_schedule(o.schedule.name, **o.schedule.params),
                    tol_grad=tol.grad,
                    tol_loss=tol.loss,
                    batch_size=o.batch_size,
                    seed=v["seed"] if o.batch_size is not None else None,
                    record="final",
                    divergence_bound=v["divergence_bound"],
                )
            except OptivizError as exc:
                where = f" (from {v['_start_key']}[{k}])" if len(starts) > 1 else ""
                errs.add(join("optimizers", o.index), lowered(str(exc)) + where)
                break


def resolve_eta_opt(surface: Any, at: Sequence[float] | None = None) -> float | str:
    """eta_opt = 1/lambda_max of ``surface`` (at ``at``, else at its lowest minimum), or the
    reason it cannot be resolved (``"times_eta_opt cannot be resolved: ..."``)."""
    import math

    import numpy as np

    from optiviz.analysis import lr_relative_to_eta_opt

    point = None if at is None else np.asarray(at, dtype=float)
    try:
        value = float(np.asarray(lr_relative_to_eta_opt(surface, 1.0, at=point)).ravel()[0])
    except OptivizError as exc:
        hint = (
            ""
            if at is not None
            else " (in a config: report: {at: [...]} takes eta_opt at that point)"
        )
        return f"times_eta_opt cannot be resolved: {exc}{hint}"
    if not math.isfinite(value) or value <= 0:
        return f"times_eta_opt cannot be resolved: eta_opt of surface {surface.name!r} is {value!r}"
    return value


def _check_work(errs: Problems, v: dict, variables: tuple[str, ...]) -> None:
    """The whole config within the work, memory and CSV limits (:mod:`optiviz.config.cost`),
    the figures' own runs included."""
    n = len(variables) or 1
    optimizers, steps, record = v["optimizers"], v["steps"], v["record"]
    if optimizers is INVALID or steps is INVALID or record is INVALID or v["starts"] is INVALID:
        return
    starts = len(v["starts"])
    for o in optimizers:
        if starts > 1 and o.n_runs * starts > MAX_GRID:
            errs.add(
                join("optimizers", o.index),
                f"{o.n_runs} grid points from {starts} starts make {o.n_runs * starts} runs; "
                f"at most {MAX_GRID} runs are allowed in one entry",
            )
    figures = v["figures"]
    view = _FigureView(optimizers, variables, record, steps=steps)

    named = (
        []
        if figures is INVALID
        else [(f, option_defaults(f) | dict(v["figure_options"].get(f, {}))) for f in figures]
    )
    seeds = 1 if v["seeds"] is INVALID else v["seeds"]
    tune = v.get("tune") if v.get("tune") is not INVALID else None
    check_cost(
        errs, config_cost(optimizers, steps, record, n, starts, named, view, seeds, tune=tune)
    )


def _check_figures(errs: Problems, v: dict, variables: tuple[str, ...]) -> None:
    """What the figures need of the experiment (the figure registry's needs: a learning-rate
    grid, per-step values, two variables), and an lr-sweep's positive learning rates."""
    figures, optimizers, record = v["figures"], v["optimizers"], v["record"]
    if figures is INVALID or optimizers is INVALID:
        return
    view = _FigureView(
        optimizers,
        variables,
        record if record is not INVALID else "all",
        tuple(figures),
        v["figure_options"],
        v["steps"] if v["steps"] is not INVALID else 0,
        v.get("tune") if v.get("tune") is not INVALID else None,
    )
    for kind, need in missing_needs(view):
        if need is TWO_VARIABLES and not variables:
            continue  # the surface did not build: its own error says why
        errs.add(
            join("figures", figures.index(kind)),
            f"{kind!r} is not allowed{need.because(kind, view)}",
        )
    if "lr_sweep" in figures:
        for o in optimizers:
            lr = o.grids.get("lr")
            if lr is not None and min(lr.values) <= 0:
                errs.add(
                    join("figures", figures.index("lr_sweep")),
                    f"'lr_sweep' is not allowed: it draws learning rates on a log axis and "
                    f"optimizers[{o.index}].lr's grid has {min(lr.values):g} (every swept lr "
                    "must be > 0 for this figure)",
                )


@dataclass(frozen=True)
class _FigureView:
    """What the figure registry's needs read of a config that is still being validated."""

    optimizers: Sequence[Any]
    variables: tuple[str, ...]
    record: str
    figures: Sequence[str] = ()
    figure_options: Mapping[str, Any] = field(default_factory=dict)
    steps: int = 1000
    tune: Any = None

    def record_of(self, spec: Any) -> str:
        return spec.record if spec.record is not None else self.record

    def steps_of(self, spec: Any) -> int:
        return spec.steps if spec.steps is not None else self.steps


def _check_hessian_projection(errs: Problems, v: dict, surface: Any) -> None:
    """``projection: hessian`` needs a minimum with a finite Hessian (known, or found by
    the analysis) when a figure draws the surface."""
    figures = v["figures"]
    if v["projection"] != "hessian" or not set(figures) & set(SURFACE_FIGURES):
        return
    from optiviz.analysis import analyze
    from optiviz.plotting.contour import hessian_basis

    if hessian_basis(None, surface) is None and hessian_basis(analyze(surface), surface) is None:
        errs.add(
            "projection",
            "'hessian' is not allowed: the surface has no known or found minimum with a "
            "finite Hessian to take the top two eigenvectors at; name two variables instead",
        )


def _several(label: str, optimizers: Any, seeds: int, starts: int = 1) -> bool:
    """Whether the entry labelled ``label`` makes several runs (starts or repeats)."""
    return starts > 1 or any(
        default_label(o) == label and repeats(seeds, o) > 1 for o in optimizers
    )


def _check_expect(errs: Problems, v: dict, variables: tuple[str, ...]) -> None:
    """The runs ``expect`` names exist, and expected points have one number per variable."""
    optimizers, expect = v["optimizers"], v["expect"]
    if optimizers is INVALID or expect is INVALID:
        return
    labels = {default_label(o) for o in optimizers}
    starts = 1 if v["starts"] is INVALID else len(v["starts"])
    seeds = 1 if v["seeds"] is INVALID else v["seeds"]
    total = sum(o.n_runs * repeats(seeds, o) for o in optimizers) * starts
    for e in expect:
        if e.quantity == "analysis":
            continue
        p = join(join("expect", e.index), "run")
        if isinstance(e.run, int) and e.run >= total:
            errs.add(
                p,
                f"{e.run} is not allowed: the config has {total} run"
                f"{'s' if total != 1 else ''} (0..{total - 1}"
                + (", entry by entry, start by start)" if starts > 1 else ")"),
            )
        elif (
            isinstance(e.run, str)
            and e.run in labels
            and _several(e.run, optimizers, seeds, starts)
        ):
            first = 0
            for o in optimizers:
                if default_label(o) == e.run:
                    break
                first += o.n_runs * starts * repeats(seeds, o)
            many = o.n_runs * starts * repeats(seeds, o)
            why = f"with {starts} starts" if starts > 1 else f"with seeds: {seeds}"
            errs.add(
                p,
                f"{e.run!r} is not allowed: {why} that entry has several runs; "
                f"name one by its index (runs {first}..{first + many - 1}: "
                "start by start, grid point by grid point, seed by seed)",
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
                join(join("expect", e.index), "point"),
                f"{show(e.value)} is not allowed: the surface has {len(variables)} variables",
            )
