"""The ``tune:`` block: tune every optimizer entry with one budget, then compare the best.

``parse_tune`` reads the block into a :class:`~optiviz.tuning.TuneSpec` (or None when the
config has none); ``check_tune`` checks what depends on other blocks: the entries (no grids,
no relative learning rates, no step budget of their own), every optimizer's search space
(errors at ``tune.space.<optimizer>.<hyperparameter>``), a grid's budget, the tolerance
``steps_to_tol`` needs and the f* ``area`` needs. Both report at the field's key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiviz._validation import Interval
from optiviz.config.fields import INVALID, Problems, choice, join, mapping, number, unknown_keys
from optiviz.config.schema import MAX_STEPS
from optiviz.errors import OptivizError

#: Keys of the tune block.
TUNE_KEYS = ("budget", "sampler", "seed", "objective", "horizon", "space")
_BUDGET = Interval("int", 1, 100_000)
_SEED = Interval("int", 0, 2**32 - 1)
_HORIZON = Interval("int", 1, MAX_STEPS)
_FORM = "a mapping {budget: int, sampler: NAME, objective: NAME, horizon: int, space: {...}}"


def parse_tune(errs: Problems, value: Any, seed: Any = 0) -> Any:
    """The tune block -> a TuneSpec (None without one; INVALID after a problem)."""
    if value is None:
        return None
    from optiviz.tuning import OBJECTIVES, SAMPLERS, TuneSpec

    tm = mapping(errs, "tune", value, _FORM)
    if tm is INVALID:
        return INVALID
    unknown_keys(errs, "tune", tm, TUNE_KEYS)
    default_seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else 0
    fields = {
        "budget": number(errs, "tune.budget", tm.get("budget", 64), _BUDGET),
        "sampler": choice(errs, "tune.sampler", tm.get("sampler", "sobol"), SAMPLERS),
        "seed": number(errs, "tune.seed", tm.get("seed", default_seed), _SEED),
        "objective": choice(
            errs, "tune.objective", tm.get("objective", "final_loss"), tuple(OBJECTIVES)
        ),
        "horizon": number(errs, "tune.horizon", tm.get("horizon"), _HORIZON, optional=True),
        "space": _space(errs, tm.get("space")),
    }
    if INVALID in fields.values():
        return INVALID
    return TuneSpec(**fields)


def _space(errs: Problems, value: Any) -> Any:
    if value is None:
        return {}
    sm = mapping(errs, "tune.space", value, "a mapping {OPTIMIZER: {hyperparameter: range}}")
    if sm is INVALID:
        return INVALID
    out = {}
    for name, given in sm.items():
        path = join("tune.space", name)
        if given is None:
            given = {}
        gm = mapping(errs, path, given, "a mapping {hyperparameter: {log: [a, b]} | ...}")
        if gm is INVALID:
            return INVALID
        out[str(name).strip().lower()] = dict(gm)
    return out


def _add(errs: Problems, exc: OptivizError, fallback: str) -> None:
    """An error of optiviz.tuning, placed at its key (its text starts with the key)."""
    key = exc.key or fallback
    msg = str(exc)
    errs.add(key, msg[len(key) + 2 :] if msg.startswith(f"{key}: ") else msg)


def check_tune(errs: Problems, v: dict, surface: Any, raw: Mapping | None = None) -> None:
    """The tune block against the entries, the tolerance and the surface (see the module
    docstring). ``v`` holds the parsed blocks (a ``horizon`` without ``steps`` in ``raw``
    becomes the config's ``steps``); ``surface`` is the built one or None."""
    spec, optimizers = v.get("tune"), v["optimizers"]
    if spec is None or spec is INVALID:
        return
    if spec.horizon is not None and v["steps"] is not INVALID and spec.horizon != v["steps"]:
        if raw is not None and "steps" not in raw:
            v["steps"] = spec.horizon
        else:
            errs.add(
                "tune.horizon",
                f"{spec.horizon} is not allowed: steps is {v['steps']}, and the trials and "
                "the final comparison run for one horizon; leave out one of them",
            )
    if optimizers is INVALID:
        return
    from optiviz.tuning.protocol import Candidate, space_of, trial_points

    names = {o.name for o in optimizers}
    for name in spec.space:
        if name not in names:
            from optiviz.errors import suggest

            errs.add(
                join("tune.space", name),
                f"no optimizers entry is {name!r}{suggest(name, names)}; the entries are "
                f"{', '.join(sorted(names))}",
            )
    for i, o in enumerate(optimizers):
        path = join("optimizers", o.index)
        if o.is_grid or o.lr_times_eta_opt is not None:
            errs.add(
                path,
                "a grid or a relative learning rate is not allowed in a tuned entry: the "
                f"tune block searches the hyperparameters (tune.space.{o.name})",
            )
            continue
        if o.steps is not None:
            errs.add(
                join(path, "steps"),
                f"{o.steps} is not allowed: every optimizer is tuned and compared at one "
                "horizon (tune.horizon, default: steps)",
            )
        try:
            space = space_of(Candidate(o.name, o.hyperparameters, o.label, index=o.index), spec)
            trial_points(space, spec, i)
        except OptivizError as exc:
            _add(errs, exc, path)
    tol = v.get("tolerance")
    if spec.objective == "steps_to_tol" and tol is not INVALID:
        if tol is None or (tol.grad is None and tol.loss is None):
            errs.add(
                "tune.objective",
                "'steps_to_tol' is not allowed without a tolerance: add tolerance: "
                "{loss: ...} or {grad: ...} (the steps to meet it are the objective)",
            )
    if spec.objective == "area" and surface is not None and surface.f_min is None:
        errs.add(
            "tune.objective",
            f"'area' is not allowed: it integrates log10(f - f*) and surface "
            f"{surface.name!r} lists no minimum value f*; use final_loss or best_loss",
        )


def tune_to_dict(spec: Any) -> Mapping[str, Any] | None:
    """The block as config.yaml writes it (every default filled in)."""
    return None if spec is None else spec.to_dict()
