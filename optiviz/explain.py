"""One optimizer step, written out: every intermediate quantity with its value.

::

    import optiviz
    s = optiviz.load_surface("seed_quadratic")
    e = optiviz.explain_step(s, optiviz.make_optimizer("gd", lr=0.3), [1.5, 2.0])
    print(e.render())
    # gd (lr=0.3) on seed_quadratic: one step at t = 1
    #   w(t)   = (1.5, 2)
    #   g      = grad f(w(t)) = (-0.416667, -0.194444)
    #   w(t+1) = w(t) - lr * g = (1.5, 2) - 0.3 * (-0.416667, -0.194444) = (1.625, 2.05833)

:func:`explain_step` runs ``optimizer.init`` on ``x`` (and the history ``x_prev``) through an
:class:`~optiviz.optimizers.base.Oracle`, evaluates the gradient as the engine does, and takes
ONE step at ``t = 1`` (or continues from a given ``state`` at step ``t``). The optimizer's
``quantities`` table names the state entries to show; each is listed with the value after the
step, and with its value before the step where the state carried it in (a velocity, a
previous gradient). An optimizer class may write its step out as arithmetic with the numbers
substituted (:meth:`~optiviz.optimizers.base.Optimizer.render_step`: gd, sgd, momentum,
nesterov and lecture Rprop do); every other step is rendered as ``label = value`` lines,
which is generic over the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from optiviz._format import fmt_number
from optiviz.engine.effective import step_per_unit_gradient
from optiviz.errors import OptimizerError, SurfaceError
from optiviz.optimizers.base import Oracle

if TYPE_CHECKING:
    from optiviz.protocols import SurfaceLike

Array = np.ndarray

__all__ = ["MAX_T", "StepExplanation", "explain_step", "fmt_value", "uses_history"]

#: Largest step number ``explain_step(..., t=N, run_up=True)`` runs up to.
MAX_T = 10_000


def _num(v: Any) -> str:
    return fmt_number(float(v))


def fmt_value(v: Any) -> str:
    """Scalars as ``0.3``, vectors as ``(1.5, 2)``, booleans as ``(True, False)``."""
    if v is None:
        return "none"
    a = np.asarray(v)
    if a.dtype == bool:
        items = [str(bool(b)) for b in a.ravel()]
        return items[0] if a.ndim == 0 else "(" + ", ".join(items) + ")"
    if a.ndim == 0:
        return _num(a)
    a = a.reshape(-1) if a.ndim > 1 and a.shape[0] == 1 else a
    if a.ndim > 1:
        return "[" + ", ".join(fmt_value(r) for r in a) + "]"
    if a.size == 1:
        return _num(a[0])
    return "(" + ", ".join(_num(x) for x in a) + ")"


def _arr(v: Any) -> Any:
    """A private copy (the explanation must not alias optimizer state)."""
    return None if v is None else np.array(v, copy=True)


@dataclass
class StepExplanation:
    """One step of one optimizer, with every intermediate quantity.

    ``quantities`` is ordered: ``w(t)``, ``w(t-1)`` (given a history), ``f(w(t))``,
    ``g = grad f(w(t))``, then the optimizer's own state entries (after the step), then
    ``w(t+1)`` and ``f(w(t+1))``. ``before`` holds the state values from before the step
    for the entries the state carried in. ``labels`` maps every name to a description.
    """

    surface_name: str
    optimizer: Any
    t: int
    lr: Any
    x: Array
    x_prev: Array | None
    gradient: Array
    new_point: Array
    quantities: dict[str, Any]
    labels: dict[str, str]
    before: dict[str, Any] = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    evaluations: dict[str, int] = field(default_factory=dict)
    variables: tuple[str, ...] = ()
    #: Where the run started when steps 1 to t-1 were taken first (``run_up``), else None.
    start: Array | None = None
    #: Given ``x_prev``: whether the optimizer's state started from it (False: the method
    #: has no history and the step does not depend on it); None without ``x_prev``.
    history_used: bool | None = None
    #: The history ``x_prev`` the run started from (``run_up``), else None.
    start_prev: Array | None = None
    #: The surface the step was taken on (what :meth:`plot` draws the contours of).
    surface: Any = field(default=None, repr=False, compare=False)

    @property
    def effective_lr(self) -> Any:
        """The step taken per unit gradient, ``-(w(t+1) - w(t)) / g`` per coordinate (nan
        where ``g_i = 0``): the same quantity as ``Trajectory.effective_lr``."""
        x, new, g = (np.asarray(v, dtype=float) for v in (self.x, self.new_point, self.gradient))
        with np.errstate(all="ignore"):
            return step_per_unit_gradient(x, new, g)

    @property
    def lr_factor(self) -> Any:
        """The optimizer's own factor of this step (``state["eff_lr"]``, named by the class's
        ``lr_factor_name``): ``Trajectory.lr_factor``."""
        return self.state.get("eff_lr")

    def to_dict(self) -> dict:
        def j(v):
            if v is None:
                return None
            a = np.asarray(v)
            if a.dtype == bool:
                return a.tolist()
            return (
                [x if np.isfinite(x) else None for x in a.astype(float).ravel().tolist()]
                if a.ndim
                else (float(a) if np.isfinite(a) else None)
            )

        return {
            "surface": self.surface_name,
            "optimizer": self.optimizer.name,
            "label": self.optimizer.label(),
            "t": self.t,
            "quantities": [
                {
                    "name": k,
                    "label": self.labels.get(k, k),
                    "value": j(v),
                    "before": j(self.before.get(k)),
                }
                for k, v in self.quantities.items()
            ],
            "new_point": j(self.new_point),
            "evaluations": dict(self.evaluations),
        }

    def render(self, equations: bool = False) -> str:
        """Readable arithmetic for the step (name = value lines for generic methods)."""
        opt = self.optimizer
        lines = [f"{opt.label()} on {self.surface_name}: one step at t = {self.t}"]
        if self.start is not None:
            earlier = "step 1 was" if self.t == 2 else f"steps 1 to {self.t - 1} were"
            prev = (
                ""
                if self.start_prev is None
                else f" with the history w(0) = {fmt_value(self.start_prev)}"
            )
            lines.append(
                f"  (a run from w(1) = {fmt_value(self.start)}{prev}: {earlier} taken first)"
            )
        if equations and opt.equations:
            lines.append("")
            lines.extend("  " + ln for ln in opt.equations.splitlines())
            lines.append("")
        lines.append(f"  w(t)   = {fmt_value(self.x)}")
        if self.x_prev is not None:
            unused = (
                f"  (not used: {opt.name} keeps no history, its step depends on w(t) only)"
                if self.history_used is False
                else ""
            )
            lines.append(f"  w(t-1) = {fmt_value(self.x_prev)}{unused}")
        lines.append(f"  f(w(t)) = {fmt_value(self.quantities.get('f(w(t))'))}")
        body = opt.render_step(self)  # the class's arithmetic, or None: list the quantities
        written_out = body is not None
        if body is None:
            body = []
            if "g" not in self.quantities:
                body.append(f"  g      = grad f(w(t)) = {fmt_value(self.gradient)}")
            for key in opt.quantities:
                if key not in self.quantities:
                    continue
                lab = self.labels.get(key, key)
                after = fmt_value(self.quantities[key])
                if key in self.before and self.before[key] is not None:
                    lines_val = f"{fmt_value(self.before[key])} -> {after}"
                else:
                    lines_val = after
                body.append(f"  {lab} [{key}] = {lines_val}")
            body.append(f"  w(t+1) = {fmt_value(self.new_point)}")
        lines.extend(body)
        lines.append(f"  f(w(t+1)) = {fmt_value(self.quantities.get('f(w(t+1))'))}")
        if "eff_lr" in self.state and written_out:
            lines.append(f"  lr factor = {fmt_value(self.state['eff_lr'])}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def plot(self, **kwargs: Any) -> Any:
        """The step drawn on the local contour (:func:`optiviz.plotting.step.step`: the
        gradient, the momentum part, Nesterov's look-ahead point, the accumulators as
        per-coordinate bars, the update arrow; the numbers of :meth:`render`); returns
        the Figure. ``kwargs``: ``window``, ``title``, ``figsize``, ``dpi``, ``ax``."""
        from optiviz.plotting.step import step

        return step(self, **kwargs)

    def _repr_markdown_(self) -> str:
        """Jupyter's view: the text of :meth:`render`, in a fenced block."""
        from optiviz.report.display import step_markdown

        return step_markdown(self)

    def fmt(self, v: Any) -> str:
        """A value in the explainer's format (:func:`fmt_value`), for ``render_step``."""
        return fmt_value(v)


# -- the explainer ------------------------------------------------------------------------------
def _same_state(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if x is None or y is None:
            if not (x is None and y is None):
                return False
            continue
        try:
            if not np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True):
                return False
        except TypeError:  # non-numeric entries
            if not np.array_equal(np.asarray(x), np.asarray(y)):
                return False
    return True


def uses_history(surface: SurfaceLike, optimizer: Any, x: Any, x_prev: Any) -> bool:
    """Whether ``optimizer`` starts from a different state given the previous iterate
    ``x_prev`` (heavy-ball velocity, lecture Rprop's last displacement) than without one:
    asked of the optimizer's own ``init``, so it holds for every class (evaluations on a
    private oracle, not counted)."""
    x = np.asarray(x, dtype=float).reshape(-1)
    xp = np.asarray(x_prev, dtype=float).reshape(-1)
    with np.errstate(all="ignore"):
        oracle = Oracle(surface)
        with_prev = dict(optimizer.init(x.copy(), oracle, xp.copy()) or {})
        without = dict(optimizer.init(x.copy(), oracle, None) or {})
    return not _same_state(with_prev, without)


def explain_step(
    surface: SurfaceLike,
    optimizer: Any,
    x: Any,
    x_prev: Any = None,
    *,
    lr: float | None = None,
    t: int = 1,
    state: dict | None = None,
    run_up: bool = False,
) -> StepExplanation:
    """Take one step of ``optimizer`` from ``x`` and record every intermediate quantity.

    With ``run_up=True`` and ``t > 1``, ``x`` (and ``x_prev``) is where a run starts: steps
    1 to t-1 are taken first, as the engine takes them (each from the state the last one
    left), and step t is explained (``optiviz step --t N``); its ``start`` is ``x``. This is
    how Adam's lr factor at step 2 (worked problem E) is read off.

    A given ``x_prev`` starts the optimizer's state when the method has a history (the
    momentum methods, lecture Rprop); for the others (gd, Adam, ...) the step does not
    depend on it, and the explanation says so (``history_used`` False,
    :func:`uses_history`).

    Parameters
    ----------
    surface : Surface
    optimizer : Optimizer (from ``make_optimizer``), with scalar hyperparameters
    x : the current point w(t), shape (n,)
    x_prev : the previous point w(t-1) for rules stated from a history (heavy-ball
        velocity, lecture Rprop), or None
    lr : the learning rate of this step (default: the optimizer's ``lr``)
    t : the 1-based step number (default 1)
    state : continue from this optimizer state (e.g. ``previous.state``) instead of
        calling ``init``
    run_up : take steps 1 to t-1 from ``x`` first (see above)
    """
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= MAX_T:
        raise OptimizerError(
            f"t: {t!r} is not allowed: must be a step number, an integer in [1, {MAX_T}]",
            key="t",
            value=t,
            allowed=f"an integer in [1, {MAX_T}]",
        )
    if run_up and t > 1:
        if state is not None:
            raise OptimizerError("explain_step: give either state or run_up, not both")
        e = explain_step(surface, optimizer, x, x_prev, lr=lr)
        first_prev = e.x_prev
        for k in range(2, int(t)):
            e = explain_step(surface, optimizer, e.new_point, lr=lr, t=k, state=e.state)
        last = explain_step(surface, optimizer, e.new_point, lr=lr, t=int(t), state=e.state)
        last.start = np.asarray(x, dtype=float).reshape(-1).copy()
        last.start_prev = first_prev
        return last
    if getattr(optimizer, "n_runs", None) is not None:
        raise OptimizerError(
            f"explain_step shows one run: the hyperparameters of {optimizer.name} must be "
            "scalars, not arrays of values"
        )
    n = surface.n
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.shape != (n,):
        raise SurfaceError(
            f"x must have {n} coordinates ({', '.join(surface.variables)}); got {x.tolist()}"
        )
    xp = None
    history_used = None
    if x_prev is not None:
        xp = np.asarray(x_prev, dtype=float).reshape(-1)
        if xp.shape != (n,):
            raise SurfaceError(f"x_prev must have {n} coordinates; got {xp.tolist()}")
        history_used = state is not None or uses_history(surface, optimizer, x, xp)
    # Far from the origin the step overflows: the explanation then holds the non-finite
    # values (inf, nan) as its result, and no RuntimeWarning escapes.
    with np.errstate(all="ignore"):
        oracle = Oracle(surface)
        if state is None:
            state0 = optimizer.init(x.copy(), oracle, None if xp is None else xp.copy())
        else:
            state0 = dict(state)
        state0 = dict(state0 or {})
        before = {k: _arr(v) for k, v in state0.items()}
        f0, g = oracle.value_and_grad(x)
        g = np.asarray(g, dtype=float)
        step_lr = optimizer.lr if lr is None else float(lr)
        x_new, state1 = optimizer.step(x.copy(), g.copy(), state0, oracle, step_lr, t)
        x_new = np.asarray(x_new, dtype=float).reshape(-1)
        state1 = dict(state1 or {})
        f1 = surface.f(x_new, check=False)
    quantities: dict[str, Any] = {"w(t)": x.copy()}
    labels = {
        "w(t)": "current point w(t)",
        "w(t-1)": "previous point w(t-1)",
        "f(w(t))": "loss at w(t)",
        "grad": "gradient of f at w(t)",
        "w(t+1)": "new point w(t+1)",
        "f(w(t+1))": "loss at w(t+1)",
    }
    if xp is not None:
        quantities["w(t-1)"] = xp.copy()
    quantities["f(w(t))"] = float(f0)
    quantities["grad"] = g.copy()
    for key, lab in optimizer.quantities.items():
        if key in state1 and state1[key] is not None:
            quantities[key] = _arr(state1[key])
            labels[key] = lab
    quantities["w(t+1)"] = x_new.copy()
    quantities["f(w(t+1))"] = float(f1)
    shown_before = {k: v for k, v in before.items() if k in optimizer.quantities and v is not None}
    return StepExplanation(
        surface_name=getattr(surface, "name", "custom"),
        optimizer=optimizer,
        t=int(t),
        lr=step_lr,
        x=x,
        x_prev=xp,
        gradient=g,
        new_point=x_new,
        quantities=quantities,
        labels=labels,
        before=shown_before,
        state=state1,
        evaluations={"n_f": oracle.n_f, "n_grad": oracle.n_grad, "n_hess": oracle.n_hess},
        variables=tuple(surface.variables),
        history_used=history_used,
        surface=surface,
    )
