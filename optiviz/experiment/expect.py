"""The config's ``expect`` checks, evaluated against the runs and the analysis."""

from __future__ import annotations

from typing import Any

import numpy as np

from optiviz._format import fmt_number
from optiviz.config import ExperimentConfig
from optiviz.experiment.results import ExpectationResult, RunRecord


def _lookup(obj: Any, path: str) -> Any:
    """Follow a dotted path: attributes of the analysis objects (``minimum``,
    ``eta_opt``, ``at``, ...), then keys of their ``to_dict()``, mapping keys and list
    indices (numeric parts). Methods and private names are never reached."""
    cur = obj
    for part in path.split("."):
        if part.startswith("_"):
            raise KeyError(f"{part!r} is private")
        if isinstance(cur, dict):
            if part not in cur:
                raise KeyError(f"{part!r} not found (available: {', '.join(map(str, cur))})")
            cur = cur[part]
        elif isinstance(cur, (list, tuple, np.ndarray)):
            if not part.lstrip("-").isdigit():
                raise KeyError(f"{part!r} is not an index of a list")
            cur = cur[int(part)]
        elif hasattr(type(cur), part) or (hasattr(cur, part) and not callable(getattr(cur, part))):
            value = getattr(cur, part)
            if callable(value) and not isinstance(value, type):
                raise KeyError(f"{part!r} is a method, not a value")
            cur = value
        elif hasattr(cur, "to_dict"):
            d = cur.to_dict()
            if part not in d:
                raise KeyError(f"{part!r} not found (available: {', '.join(map(str, d))})")
            cur = d[part]
        else:
            raise KeyError(f"{part!r} not found")
    if hasattr(cur, "to_dict") and not isinstance(cur, dict):
        cur = cur.to_dict()
    return cur


def _close(actual: Any, expected: Any, tol: float) -> bool:
    if isinstance(expected, bool) or isinstance(expected, str) or expected is None:
        return actual == expected
    try:
        a = np.asarray(actual, dtype=float)
        e = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return actual == expected
    if a.shape != e.shape:
        return False
    return bool(np.all(np.abs(a - e) <= tol + 0 * np.abs(e)))


def _find_run(records: list[RunRecord], run: int | str | None) -> RunRecord | None:
    if isinstance(run, int):
        return records[run] if 0 <= run < len(records) else None
    for r in records:
        if r.label == run:
            return r
    return None


def _run_value(tr: Any, quantity: str, step: int | None) -> Any:
    if step is None:
        if quantity == "point":
            return tr.final_point
        if quantity == "loss":
            return tr.final_loss
        if quantity == "grad_norm":
            return tr.final_grad_norm
        if quantity in ("effective_lr", "lr_factor"):
            rates = getattr(tr, quantity)
            if rates is None or len(rates) == 0:
                raise KeyError(f"no {quantity} values were recorded")
            return rates[-1]
        return getattr(tr, quantity)
    if quantity in ("point", "loss", "grad_norm"):
        arr = {"point": tr.points, "loss": tr.losses, "grad_norm": tr.grad_norms}[quantity]
        if arr is None:
            raise KeyError("per-step values were not recorded (record: final)")
        if step >= len(arr):
            raise KeyError(f"the run took {len(arr) - 1} steps; there is no step {step}")
        return arr[step]
    if quantity in ("effective_lr", "lr_factor"):
        rates = getattr(tr, quantity)
        if rates is None:
            raise KeyError(f"{quantity} values were not recorded (record: final)")
        if not 1 <= step <= len(rates):
            raise KeyError(f"{quantity} exists for steps 1..{len(rates)}")
        return rates[step - 1]
    raise KeyError(f"{quantity!r} has no per-step value; drop 'step'")


def check_expectations(
    config: ExperimentConfig, records: list[RunRecord], analysis: Any
) -> list[ExpectationResult]:
    """Evaluate the config's ``expect`` checks against the runs and the analysis."""
    out = []
    for e in config.expect:
        try:
            if e.quantity == "analysis":
                actual = _lookup(analysis, e.path or "")
            else:
                rec = _find_run(records, e.run)
                if rec is None:
                    raise KeyError(f"no run {e.run!r}")
                actual = _run_value(rec.trajectory, e.quantity, e.step)
                if e.quantity in ("effective_lr", "lr_factor") and not isinstance(e.value, list):
                    actual = np.asarray(actual, dtype=float).ravel()
                    actual = actual[0] if np.allclose(actual, actual[0]) else actual
        except (KeyError, IndexError, AttributeError, TypeError) as exc:
            out.append(
                ExpectationResult(e, False, None, f"expect[{e.index}]: {e.describe()}: {exc}")
            )
            continue
        if hasattr(actual, "tolist"):
            actual = actual.tolist()
        ok = _close(actual, e.value, e.tol)
        shown = _fmt_value(actual)
        numeric = not isinstance(e.value, (str, bool)) and e.value is not None
        msg = f"expect[{e.index}]: {e.describe()}: got {shown}" + (
            "" if ok or not numeric else f" (tolerance {e.tol:g})"
        )
        out.append(ExpectationResult(e, ok, actual, msg))
    return out


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return fmt_number(v, 10)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    return repr(v)
