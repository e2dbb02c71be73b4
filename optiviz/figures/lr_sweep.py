"""The ``lr_sweep`` figure: final loss against the learning rate, one per entry that sweeps
lr, marking that method's own stability limit (:func:`sweep_stability_limit`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from optiviz.figures.registry import LR_SWEEP, FigureKind, register

if TYPE_CHECKING:
    from optiviz.config import OptimizerSpec


def build(result: Any, colors: Any, options: Mapping[str, Any]) -> list[Any]:
    """One :func:`optiviz.plotting.lr_sweep` per optimizer entry that sweeps lr, in
    entry order: one line per value of the entry's other grids (and per start)."""
    from optiviz.figures._surface import caption, common

    config = result.config
    kw = common(options)
    return [
        _lr_sweep(
            spec, traj, result.analysis, result.eta_opt, colors, config.starts, caption(result), kw
        )
        for spec, traj in zip(config.optimizers, result.trajectories, strict=True)
        if spec.sweeps_lr
    ]


KIND = register(
    FigureKind(
        name="lr_sweep",
        build=build,
        doc="final loss against the learning rate, with eta_opt and the swept method's "
        "stability limit marked and diverged runs as triangles",
        needs=(LR_SWEEP,),
        each="entry that sweeps `lr`",
        order=50,
    )
)


def _one_value(h: dict, key: str, default: Any) -> Any:
    """A hyperparameter's single value, or None when a grid gives it several."""
    v = h.get(key, default)
    if isinstance(v, (list, tuple, np.ndarray)) and np.ndim(v) > 0:
        vals = np.unique(np.asarray(v, dtype=float))
        return float(vals[0]) if vals.size == 1 else None
    return v


def sweep_stability_limit(
    optimizer: str, hyperparameters: dict, lambda_max: float
) -> tuple[float | None, str | None]:
    """The largest stable learning rate of the swept method on the quadratic model with
    top Hessian eigenvalue ``lambda_max``, and its label for the lr-sweep figure.

    It is the class's :meth:`~optiviz.optimizers.base.Optimizer.lr_stability_limit` for the
    other hyperparameters: GD ``2/lambda_max``; heavy ball (``momentum``, ``sgd`` with
    momentum; torch's dampening scales the step by ``1 - dampening``)
    ``(2 + 2 beta)/lambda_max``; Nesterov ``(2 + 2 mu)/((1 + 2 mu) lambda_max)``; another
    class with an iteration matrix by bisection. A grid holding one value counts as that
    value. ``(None, None)`` for methods without a linear stability theory (adaptive ones),
    for weight decay, maximize, and for a hyperparameter other than lr that the grid varies.
    """
    from optiviz.optimizers import REGISTRY

    cls = REGISTRY.get(optimizer)
    if cls is None:
        return None, None
    h = {k: v for k, v in (hyperparameters or {}).items() if k != "lr"}
    for key, spec in cls.params.items():
        if key in h and spec.batchable and spec.kind in ("float", "int"):
            h[key] = _one_value(h, key, spec.default)
            if h[key] is None:  # the grid varies it
                return None, None
    return cls.lr_stability_limit(lambda_max, h)


def _lr_sweep(
    spec: OptimizerSpec,
    traj: Any,
    analysis: Any,
    eta_opt: float | None,
    colors: Any,
    starts: tuple = ((),),
    caption: str = "",
    common: dict | None = None,
) -> Any:
    """The lr-sweep figure of one entry's batched trajectory ``traj`` (run from
    ``starts``: its runs are the grid from each start in turn)."""
    from optiviz._format import fmt_point
    from optiviz.optimizers import get_class
    from optiviz.plotting import lr_sweep
    from optiviz.plotting.curves import sweep_series

    m = getattr(analysis, "minimum", None)
    eta = None if m is None else m.eta
    label = spec.label or spec.name
    series = {k: v for k, v in sweep_series(traj).items() if k != "start"}
    if len(starts) > 1:
        series["start"] = np.repeat(
            np.asarray([fmt_point(p, 4) for p in starts], dtype=object), spec.n_runs
        )
    title = f"{label}: final loss after {traj.steps} steps against the learning rate"
    if caption:
        title += f"\n{caption}"
    kw = dict(common or {})
    title = kw.pop("title", title)
    limit, limit_label = (
        (None, None)
        if m is None or eta is None
        else sweep_stability_limit(traj.optimizer, traj.hyperparameters, m.lambda_max)
    )
    # 1/lambda_max is GD's reference rate: marked for the GD family, or when the config
    # gave its learning rates relative to it; an adaptive method's lr has another scale
    if eta_opt is None and eta is not None and get_class(traj.optimizer).has_linear_theory():
        eta_opt = eta["inverse_lambda_max"]
    return lr_sweep(
        traj,
        series=series,
        label=label,
        f_min=traj.f_min,
        stability_limit=limit,
        stability_label=limit_label,
        eta_opt=eta_opt,
        title=title,
        colors=colors,
        **kw,
    )
