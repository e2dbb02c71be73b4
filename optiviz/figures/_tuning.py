"""What the tuning figures share: the need of a ``tune:`` block, their f* and caption."""

from __future__ import annotations

from typing import Any

from optiviz.figures.registry import Need


def _tuned(config: Any) -> bool:
    return getattr(config, "tune", None) is not None


def _untuned(kind: str, config: Any) -> str:
    return (
        ": it draws the trials of a tune: block and the config has none (add e.g. "
        "tune: {budget: 32, sampler: sobol, objective: final_loss})"
    )


#: A ``tune:`` block (its trials are what the figure draws).
TUNED = Need("a `tune:` block", _tuned, _untuned)


def tuning_of(result: Any) -> Any:
    """The result's :class:`~optiviz.tuning.TuneResult` (validation guarantees one)."""
    tuning = getattr(result, "tuning", None)
    if tuning is None:
        raise ValueError("a tuning figure needs the result of a config with a tune: block")
    return tuning


def loss_f_star(result: Any) -> float | None:
    """The f* the loss objectives are drawn against (the figures' common one)."""
    from optiviz.figures._surface import f_star

    return f_star(result)
