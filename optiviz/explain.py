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
previous gradient). A few update rules (gd, sgd, momentum, nesterov, lecture Rprop) are also
rendered as arithmetic with the numbers substituted; every other method is rendered as
``label = value`` lines, which is generic over the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiviz.errors import OptimizerError, SurfaceError
from optiviz.optimizers.base import Oracle

Array = np.ndarray

__all__ = ["StepExplanation", "explain_step", "fmt_value"]


def _num(v: float) -> str:
    v = float(v)
    if v != v:
        return "nan"
    return f"{v + 0.0:.6g}"


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

    @property
    def effective_lr(self) -> Any:
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
        if equations and getattr(opt, "equations", ""):
            lines.append("")
            lines.extend("  " + ln for ln in opt.equations.splitlines())
            lines.append("")
        lines.append(f"  w(t)   = {fmt_value(self.x)}")
        if self.x_prev is not None:
            lines.append(f"  w(t-1) = {fmt_value(self.x_prev)}")
        lines.append(f"  f(w(t)) = {fmt_value(self.quantities.get('f(w(t))'))}")
        special = _RENDERERS.get(_render_key(opt))
        body = special(self) if special is not None else None
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
        if "eff_lr" in self.state and special is not None:
            lines.append(f"  effective lr = {fmt_value(self.state['eff_lr'])}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


# -- arithmetic renderers for the classic rules ------------------------------------------------
def _render_key(opt: Any) -> str:
    if opt.name == "rprop" and opt.hyper.get("variant") == "lecture":
        return "rprop-lecture"
    if opt.name == "sgd":
        if (
            opt.hyper.get("weight_decay") or opt.hyper.get("dampening") or opt.hyper.get("nesterov")
        ):  # torch's Nesterov form (d = g + mu b) has no arithmetic renderer: list quantities
            return "generic"
        return "sgd-momentum" if opt.hyper.get("momentum") else "gd"
    return opt.name


def _fv(v: Any) -> str:
    return fmt_value(v)


def _gd_lines(e: StepExplanation) -> list[str]:
    opt = e.optimizer
    sign = "+" if opt.hyper.get("maximize") else "-"
    what = "gradient ascent: " if opt.hyper.get("maximize") else ""
    g = e.gradient
    return [
        f"  g      = grad f(w(t)) = {_fv(g)}",
        f"  {what}w(t+1) = w(t) {sign} lr * grad f = {_fv(e.x)} {sign} {_fv(e.lr)} * {_fv(g)} "
        f"= {_fv(e.new_point)}",
    ]


def _momentum_lines(e: StepExplanation, buf_key: str) -> list[str]:
    opt = e.optimizer
    mu = opt.hyper.get("momentum")
    q = e.quantities
    g = q.get("g", e.gradient)
    b0 = e.before.get(buf_key)
    b1 = q.get(buf_key)
    out = [f"  g      = grad f(w(t)) = {_fv(g)}"]
    if b0 is None:
        out.append(f"  {buf_key} = g = {_fv(b1)}   (the first step starts the buffer at g)")
    else:
        out.append(
            f"  {buf_key} = momentum * {buf_key} + g = {_fv(mu)} * {_fv(b0)} + {_fv(g)} = {_fv(b1)}"
        )
    out.append(
        f"  w(t+1) = w(t) - lr * {buf_key} = {_fv(e.x)} - {_fv(e.lr)} * {_fv(b1)} "
        f"= {_fv(e.new_point)}"
    )
    if e.x_prev is not None:
        out.append(
            f"         (heavy ball: w(t) - lr * g + momentum * (w(t) - w(t-1)) = {_fv(e.x)} - "
            f"{_fv(e.lr)} * {_fv(g)} + {_fv(mu)} * {_fv(e.x - e.x_prev)} = {_fv(e.new_point)})"
        )
    return out


def _nesterov_lines(e: StepExplanation) -> list[str]:
    mu = e.optimizer.hyper.get("momentum")
    q = e.quantities
    v0 = q.get("v_prev", e.before.get("v"))
    out = []
    if q.get("x_look") is not None:
        out.append(
            f"  look-ahead = w(t) + momentum * v = {_fv(e.x)} + {_fv(mu)} * {_fv(v0)} "
            f"= {_fv(q['x_look'])}"
        )
        out.append(f"  g_look = grad f(look-ahead) = {_fv(q.get('g_look'))}")
    out.append(
        f"  v = momentum * v - lr * g_look = {_fv(mu)} * {_fv(v0)} - {_fv(e.lr)} * "
        f"{_fv(q.get('g_look'))} = {_fv(q.get('v'))}"
    )
    out.append(f"  w(t+1) = w(t) + v = {_fv(e.x)} + {_fv(q.get('v'))} = {_fv(e.new_point)}")
    if q.get("x_look") is not None:
        out.append(
            f"         (= look-ahead - lr * g_look = {_fv(q['x_look'])} - {_fv(e.lr)} * "
            f"{_fv(q.get('g_look'))})"
        )
    return out


def _rprop_lecture_lines(e: StepExplanation) -> list[str]:
    em, ep = e.optimizer.hyper["etas"]
    q = e.quantities
    g = q.get("g", e.gradient)
    gp = e.before.get("g_prev")
    d0 = e.before.get("d")
    out = [f"  g(t)   = grad f(w(t)) = {_fv(g)}"]
    if gp is None or d0 is None:
        out.append(f"  no history: a sign step w(t+1) = w(t) - lr * sign(g) = {_fv(e.new_point)}")
        return out
    out.append(f"  g(t-1) = grad f(w(t-1)) = {_fv(gp)}")
    out.append(f"  d = w(t) - w(t-1) = {_fv(d0)}")
    x = np.asarray(e.x).reshape(-1)
    xp = np.asarray(e.before.get("x_prev")).reshape(-1)
    g1, g0 = np.asarray(g).reshape(-1), np.asarray(gp).reshape(-1)
    d = np.asarray(d0).reshape(-1)
    new = np.asarray(e.new_point).reshape(-1)
    names = list(e.variables) or [f"w{i + 1}" for i in range(len(x))]
    for i in range(len(x)):
        nm = names[i] if i < len(names) else f"w{i + 1}"
        if np.sign(g1[i]) == np.sign(g0[i]):
            out.append(
                f"  {nm}: same gradient sign ({_num(g0[i])}, {_num(g1[i])}): "
                f"{nm}(t+1) = {nm}(t) + eta+ * d = {_num(x[i])} + {_num(ep)} * "
                f"{_num(d[i])} = {_num(new[i])}"
            )
        else:
            out.append(
                f"  {nm}: gradient sign changed ({_num(g0[i])}, {_num(g1[i])}): "
                f"{nm}(t+1) = {nm}(t-1) + eta- * d = {_num(xp[i])} + {_num(em)} * "
                f"{_num(d[i])} = {_num(new[i])}"
            )
    out.append(f"  w(t+1) = {_fv(e.new_point)}")
    return out


_RENDERERS: dict[str, Callable[[StepExplanation], list[str] | None]] = {
    "gd": _gd_lines,
    "sgd-momentum": lambda e: _momentum_lines(e, "buf"),
    "momentum": lambda e: _momentum_lines(e, "v"),
    "nesterov": _nesterov_lines,
    "rprop-lecture": _rprop_lecture_lines,
}


# -- the explainer ------------------------------------------------------------------------------
def explain_step(
    surface: Any,
    optimizer: Any,
    x: Any,
    x_prev: Any = None,
    *,
    lr: float | None = None,
    t: int = 1,
    state: dict | None = None,
) -> StepExplanation:
    """Take one step of ``optimizer`` from ``x`` and record every intermediate quantity.

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
    """
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
    if x_prev is not None:
        xp = np.asarray(x_prev, dtype=float).reshape(-1)
        if xp.shape != (n,):
            raise SurfaceError(f"x_prev must have {n} coordinates; got {xp.tolist()}")
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
    with np.errstate(all="ignore"):
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
    )
