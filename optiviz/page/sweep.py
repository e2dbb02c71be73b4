"""The page's sweep: one optimizer entry over a grid of learning rates (and optionally a
second hyperparameter), run as one batched run that keeps every iterate, with the gradient
at every iterate (what the page's hover shows).

Run ``r`` of the batch is cell ``(j, i)``: ``r = j * n_lr + i``, ``i`` the learning rate's
index and ``j`` the second hyperparameter's (0 without one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiviz.analysis.maps import Axis, sweepable, with_axes

__all__ = ["DEFAULT_LR_VALUES", "Sweep", "default_lr_axis", "run_sweep", "sweep_axes"]

#: Values of the default learning-rate axis: lr/10 .. 10 lr, log-spaced (the entry's lr is
#: the middle one).
DEFAULT_LR_VALUES = 21


@dataclass
class Sweep:
    """A finished sweep; arrays are indexed by run ``r = j * lr.size + i``."""

    optimizer: str  # the registry name
    label: str  # the entry's label, else its optimizer's name
    color_key: str  # the entry's key in the figures' ColorMap (its runs' optimizer label)
    lr: Axis
    second: Axis | None
    fixed: dict  # the entry's other hyperparameters
    steps: int
    points: np.ndarray  # (R, T + 1, 2); nan after a run stopped
    grads: np.ndarray  # (R, T + 1, 2)
    losses: np.ndarray  # (R, T + 1)
    n_steps: np.ndarray  # (R,) steps each run took
    status: np.ndarray  # (R,) converged | max_steps | diverged | ...
    wall_time: float

    @property
    def runs(self) -> int:
        return int(self.points.shape[0])

    def index(self, i: int, j: int = 0) -> int:
        """The run of learning rate ``i`` and second value ``j``."""
        return int(j) * self.lr.size + int(i)


def axis_from(name: str, grid: Mapping[str, Any]) -> Axis:
    """The :class:`Axis` of ``{logspace | linspace: [a, b, n]}`` or ``{values: [...]}``."""
    from optiviz.figures.rate_map import axis_of

    return axis_of({name: grid})


def default_lr_axis(lr: float) -> Axis:
    """lr/10 .. 10 lr in :data:`DEFAULT_LR_VALUES` log-spaced values (lr in the middle)."""
    e = float(np.log10(lr))
    return Axis("lr", np.logspace(e - 1.0, e + 1.0, DEFAULT_LR_VALUES), log=True)


def sweep_axes(
    spec: Any, options: Mapping[str, Any], eta_opt: float | None
) -> tuple[Axis | None, Axis | None]:
    """The learning-rate axis and the second axis of the page for the entry ``spec``.

    ``lr``: the option's grid; else the entry's own lr grid (``lr: {grid: ...}`` or a
    ``times_eta_opt`` grid); else the entry's lr (or the optimizer's default) /10 .. x10.
    ``second``: the option's ``{name: grid}``; else the entry's one other grid, if it has
    exactly one; else none. The lr axis is None where it rests on ``eta_opt`` and that is
    not given (validation, before the surface's analysis).
    """
    from optiviz.config.specs import GridSpec
    from optiviz.optimizers import get_class

    def from_spec(name: str, g: GridSpec, factor: float = 1.0) -> Axis:
        return Axis(name, np.asarray(g.values, dtype=float) * factor, log=g.form == "logspace")

    lr: Axis | None
    if options.get("lr") is not None:
        lr = axis_from("lr", options["lr"])
    elif spec.lr_times_eta_opt is not None and eta_opt is None:
        lr = None
    elif "lr" in spec.grids:
        lr = from_spec("lr", spec.grids["lr"])
    elif isinstance(spec.lr_times_eta_opt, GridSpec):
        lr = from_spec("lr", spec.lr_times_eta_opt, float(eta_opt or 0.0))
    else:
        if spec.lr_times_eta_opt is not None:
            base = float(spec.lr_times_eta_opt) * float(eta_opt or 0.0)
        else:
            base = float(spec.hyperparameters.get("lr", get_class(spec.name).params["lr"].default))
        lr = default_lr_axis(base)
    second = None
    if options.get("second") is not None:
        ((name, grid),) = options["second"].items()
        second = axis_from(name, grid)
    else:
        others = [k for k in spec.grids if k != "lr"]
        if len(others) == 1:
            second = from_spec(others[0], spec.grids[others[0]])
    return lr, second


def run_sweep(result: Any, options: Mapping[str, Any]) -> Sweep:
    """Run the page's sweep for ``result`` (an experiment result): the entry
    ``options["entry"]`` from the config's first start, for the option's steps (else the
    entry's), with the entry's schedule and the config's tolerances and divergence bound,
    full-batch, every iterate kept."""
    from optiviz.config import expand_grid
    from optiviz.engine import run
    from optiviz.figures.basins import entry_schedule
    from optiviz.optimizers import get_class, make_optimizer

    config = result.config
    spec = config.optimizers[options["entry"]]
    cls = get_class(spec.name)
    lr, second = sweep_axes(spec, options, result.eta_opt)
    if lr is None:
        raise ValueError("run_sweep: a relative learning rate needs the result's eta_opt")
    names = {"lr"} | ({second.name} if second is not None else set())
    hp = expand_grid(replace_grids(spec), result.eta_opt)  # with_axes overwrites the swept
    ny = 1 if second is None else second.size
    lrs = np.tile(lr.values, ny)
    axes: dict[str, Any] = {"lr": lrs}
    if second is not None:
        axes[second.name] = np.repeat(second.values, lr.size)
    opt = make_optimizer(spec.name, **with_axes(cls, hp, axes))
    steps = int(options.get("steps") or config.steps_of(spec))
    x0 = np.asarray(config.starts[0], dtype=float)
    xp = None if config.start_prev is None else np.asarray(config.start_prev, dtype=float)
    traj = run(
        result.surface,
        opt,
        x0,
        steps,
        x_prev=xp,
        schedule=entry_schedule(spec),
        tol_grad=config.tolerance.grad,
        tol_loss=config.tolerance.loss,
        record="all",
        divergence_bound=config.divergence_bound,
    )
    points = np.asarray(traj.points, dtype=float)
    with np.errstate(all="ignore"):
        grads = np.asarray(result.surface.grad(points, check=False), dtype=float)
    grads = np.where(np.isfinite(points), grads, np.nan)
    from optiviz.plotting._runs import traj_label

    key = traj_label(result.trajectories[options["entry"]])  # as the static figures key it
    return Sweep(
        optimizer=spec.name,
        label=str(spec.label or spec.name),
        color_key=str(key),
        lr=lr,
        second=second,
        fixed={k: v for k, v in hp.items() if k not in names},
        steps=steps,
        points=points,
        grads=grads,
        losses=np.asarray(traj.losses, dtype=float),
        n_steps=np.asarray(traj.n_steps, dtype=int).reshape(-1),
        status=np.asarray(traj.status).reshape(-1),
        wall_time=float(traj.wall_time),
    )


def replace_grids(spec: Any) -> Any:
    """``spec`` without its grids (the page's axes replace them); a relative learning rate
    grid becomes no learning rate (the axis sets it)."""
    from dataclasses import replace

    from optiviz.config.specs import GridSpec

    rel = spec.lr_times_eta_opt
    return replace(spec, grids={}, lr_times_eta_opt=None if isinstance(rel, GridSpec) else rel)


def check_axes(spec: Any, lr: Axis | None, second: Axis | None) -> str | None:
    """Why the axes do not fit the entry (None: they do): a name the optimizer cannot
    sweep, a value out of its range, an int hyperparameter given non-ints, the same name
    twice, and the optimizer's rules across hyperparameters on the whole grid."""
    from optiviz.analysis.maps import split_name
    from optiviz.errors import OptivizError
    from optiviz.optimizers import get_class, make_optimizer

    cls = get_class(spec.name)
    able = sweepable(cls)
    if "lr" not in able:
        return f": {spec.name} has no learning rate to sweep"
    for key, ax in (("lr", lr), ("second", second)):
        if ax is None:
            continue
        if ax.name not in able:
            return (
                f": {key} sweeps {ax.name!r}, which {spec.name} does not have as a number; it "
                f"can sweep {', '.join(able)}"
            )
        base, elem = split_name(ax.name)
        p = cls.params[base]
        c = getattr(p.constraint, "inner") if elem is not None else p.constraint  # noqa: B009
        bad = c.check_array(ax.values) if hasattr(c, "check_array") else None
        if bad is not None:
            return (
                f": {key} gives {ax.name} the value {ax.values[bad]:g}, out of its range; "
                f"{spec.name}'s {ax.name} must be {c.describe()}"
            )
        if p.kind == "int" and not np.all(ax.values == np.round(ax.values)):
            return f": {key} gives the int hyperparameter {ax.name} values that are not ints"
    if second is not None and second.name == "lr":
        return ": second sweeps 'lr' again; the second slider needs another hyperparameter"
    if lr is None:
        return None
    try:
        fixed = dict(spec.hyperparameters)  # with_axes overwrites the swept ones
        axes: dict[str, Any] = {"lr": np.tile(lr.values, 1 if second is None else second.size)}
        if second is not None:
            axes[second.name] = np.repeat(second.values, lr.size)
        make_optimizer(spec.name, **with_axes(cls, fixed, axes))
    except OptivizError as exc:
        return f": optimizers[{spec.index}] ({spec.name}) refuses the page's grid: {exc}"
    return None
