"""``seeds: N`` (repeats of the stochastic entries) and ``evaluation_weights`` (the cost of
one f, gradient and Hessian evaluation): their parsers and the check across blocks.

What repeats mean: the only randomness of a run is its mini-batch sampling (``batch_size``
on a data surface, seeded by ``seed``). With ``seeds: N`` every entry that draws
mini-batches runs N times, with the seeds ``seed, seed + 1, ..., seed + N - 1``; an entry
without mini-batches is deterministic (every seed gives the same run) and runs once. A
config whose entries are all deterministic is refused with ``seeds`` > 1: its repeats
would all be one run.
"""

from __future__ import annotations

from typing import Any

from optiviz._validation import Interval
from optiviz.config.fields import INVALID, Problems, join, mapping, number, unknown_keys
from optiviz.trajectory import DEFAULT_EVALUATION_WEIGHTS, EVAL_KINDS

#: Largest number of repeats (``seeds``, ``--repeats``).
MAX_SEEDS = 1000
SEEDS = Interval("int", 1, MAX_SEEDS)
_WEIGHT = Interval("float", 0.0, None)
WEIGHT_FORMS = "a finite number >= 0, or 'n' (the number of variables)"


def parse_seeds(errs: Problems, value: Any, path: str = "seeds") -> Any:
    """``seeds: N``: an int in 1 .. MAX_SEEDS (default 1: one run per setting)."""
    return number(errs, path, 1 if value is None else value, SEEDS)


def parse_evaluation_weights(errs: Problems, value: Any) -> Any:
    """``evaluation_weights: {f: w, grad: w, hess: w}``: each a number >= 0 or ``n``;
    kinds left out keep their defaults (f 1, grad 1, hess n). Returns the full mapping."""
    if value is None:
        return dict(DEFAULT_EVALUATION_WEIGHTS)
    forms = "a mapping {f: w, grad: w, hess: w}, each " + WEIGHT_FORMS
    wm = mapping(errs, "evaluation_weights", value, forms)
    if wm is INVALID:
        return INVALID
    unknown_keys(errs, "evaluation_weights", wm, EVAL_KINDS)
    out: dict[str, Any] = dict(DEFAULT_EVALUATION_WEIGHTS)
    ok = True
    for kind in EVAL_KINDS:
        if kind not in wm:
            continue
        v = wm[kind]
        path = join("evaluation_weights", kind)
        if isinstance(v, str):
            if v.strip() != "n":
                errs.bad(path, v, WEIGHT_FORMS)
                ok = False
            else:
                out[kind] = "n"
            continue
        w = number(errs, path, v, _WEIGHT)
        if w is INVALID:
            ok = False
        else:
            out[kind] = w
    if ok and all(out[k] == 0 for k in EVAL_KINDS):
        errs.bad("evaluation_weights", value, "weights that are not all 0 (an evaluation axis)")
        return INVALID
    return out if ok and set(wm) <= set(EVAL_KINDS) else INVALID


def check_seeds(errs: Problems, seeds: Any, optimizers: Any, key: str = "seeds") -> None:
    """``seeds`` > 1 needs an entry that draws mini-batches (else every repeat is one run)."""
    if seeds is INVALID or optimizers is INVALID or seeds == 1:
        return
    if not any(o.batch_size is not None for o in optimizers):
        errs.add(
            key,
            f"{seeds} is not allowed: repeats differ only by their mini-batches (seeds "
            "seed, seed + 1, ...), and no optimizer entry draws mini-batches (batch_size "
            "on a data surface): every repeat would be the same run. Leave it at 1, or "
            "give an entry a batch_size",
            value=seeds,
            allowed="1 (no entry draws mini-batches)",
        )


def repeats(seeds: int, spec: Any) -> int:
    """How many times the entry ``spec`` runs: ``seeds`` if it draws mini-batches, else 1."""
    return seeds if getattr(spec, "batch_size", None) is not None else 1
