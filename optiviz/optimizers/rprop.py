"""Resilient backpropagation: torch's Rprop and the lecture notes' rule (worked problem A)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from optiviz.errors import OptimizerError
from optiviz.optimizers._util import MAXIMIZE, as_float_array, full_like, lr_param
from optiviz.optimizers.base import Optimizer, Param, register

if TYPE_CHECKING:
    from optiviz.explain import StepExplanation

_TORCH_ETAS = (0.5, 1.2)
_LECTURE_ETAS = (0.6, 1.5)


@register
class Rprop(Optimizer):
    """Rprop: step sizes driven by gradient signs (torch.optim.Rprop, or the lecture rule)."""

    name = "rprop"
    lr_factor_name = "Rprop step size s (lecture variant: |d|)"
    equations = """\
γ = lr, (η₋, η₊) = etas, (Γ_min, Γ_max) = step_sizes, maximize, variant
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
variant = "torch" (torch.optim.Rprop), etas default (0.5, 1.2):
  step sizes s start at γ, the previous gradient g_prev at 0
  for each coordinate i:
      g_prev,i g_i > 0:  s_i ← min(s_i η₊, Γ_max)
      g_prev,i g_i < 0:  s_i ← max(s_i η₋, Γ_min) and g_i ← 0  (this coordinate does not
                         move, and the next step is neutral)
      otherwise:         s_i unchanged
  θ ← θ − s ⊙ sign(g);   g_prev ← g
  (the lr of later steps, e.g. from a schedule, is not used: s adapts by itself)
variant = "lecture" (worked problem A), etas default (0.6, 1.5), step_sizes not used:
  with the previous gradient g(t−1) and the last displacement d = θ(t) − θ(t−1):
      sign g_i(t) = sign g_i(t−1):  θ_i(t+1) = θ_i(t) + η₊ d_i
      otherwise:                    θ_i(t+1) = θ_i(t−1) + η₋ d_i
  a history x_prev gives θ(t−1) = x_prev, d = x₀ − x_prev and g(t−1) = ∇f(x_prev) (one extra
  gradient at init); without one the first step is a plain sign step θ ← θ − γ sign(g).
lr factor: the per-coordinate step sizes s (lecture: |θ(t+1) − θ(t)|)"""
    params = {
        "lr": lr_param(1e-2, "γ: initial step size (lecture: size of the first sign step)"),
        "etas": Param(
            _TORCH_ETAS,
            "pair",
            low=0.0,
            low_open=True,
            doc="(η₋, η₊): decrease and increase factors, 0 < η₋ < 1 < η₊; "
            "default (0.6, 1.5) for variant='lecture'",
        ),
        "step_sizes": Param(
            (1e-6, 50.0),
            "pair",
            low=0.0,
            doc="(Γ_min, Γ_max): bounds of the step sizes (torch variant)",
        ),
        "maximize": MAXIMIZE,
        "variant": Param(
            "torch",
            "choice",
            choices=("torch", "lecture"),
            batchable=False,
            doc="'torch': torch.optim.Rprop; 'lecture': the rule of worked problem A",
        ),
    }
    accumulators = ("step_size",)
    quantities = {
        "g": "gradient g (zeroed where the sign changed)",
        "prev": "previous gradient",
        "step_size": "step sizes s",
        "eff_lr": "lr factor (step sizes)",
        "update": "update (θ ← θ − update)",
    }

    _lecture_quantities = {
        "g": "gradient g(t)",
        "g_prev": "previous gradient g(t−1)",
        "same_sign": "sign g(t) = sign g(t−1)",
        "x_prev": "previous iterate θ(t)",
        "d": "displacement d = θ(t+1) − θ(t)",
        "eff_lr": "lr factor |d|",
        "update": "update −d (θ ← θ − update)",
    }

    def __init__(self, **hyperparameters):
        if hyperparameters.get("variant") == "lecture":  # the notes' factors are the default
            self.params = {
                **type(self).params,
                "etas": replace(type(self).params["etas"], default=_LECTURE_ETAS),
            }
        super().__init__(**hyperparameters)
        if self.h["variant"] == "lecture":
            self.quantities = self._lecture_quantities

    def _check(self):
        em, ep = self.h["etas"]
        if not (np.all(np.asarray(em) < 1.0) and np.all(np.asarray(ep) > 1.0)):
            raise OptimizerError(
                f"The 'etas' hyperparameter of rprop must be (η₋, η₊) with 0 < η₋ < 1 < η₊. "
                f"Got {self.hyper['etas']!r} instead.",
                owner=self.name,
                key="etas",
                value=self.hyper["etas"],
                allowed="(η₋, η₊) with 0 < η₋ < 1 < η₊",
            )
        lo, hi = self.h["step_sizes"]
        if not np.all(np.asarray(lo) <= np.asarray(hi)):
            raise OptimizerError(
                "The 'step_sizes' hyperparameter of rprop must be (Γ_min, Γ_max) with "
                f"Γ_min <= Γ_max. Got {self.hyper['step_sizes']!r} instead.",
                owner=self.name,
                key="step_sizes",
                value=self.hyper["step_sizes"],
                allowed="(Γ_min, Γ_max) with Γ_min <= Γ_max",
            )

    def init(self, x0, oracle, x_prev=None):
        if self.h["variant"] == "lecture":
            if x_prev is None:
                return {"g_prev": None, "x_prev": None, "d": None}
            x_prev = as_float_array(x_prev)
            g_prev = oracle.grad(x_prev)
            if self.h["maximize"]:
                g_prev = -g_prev
            return {"g_prev": g_prev, "x_prev": x_prev, "d": as_float_array(x0) - x_prev}
        return {"prev": np.zeros_like(x0, dtype=float), "step_size": full_like(x0, self.h["lr"])}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        if self.h["maximize"]:
            g = -g
        if self.h["variant"] == "lecture":
            return self._lecture(x, g, state, lr)
        em, ep = self.h["etas"]
        s_min, s_max = self.h["step_sizes"]
        prod = g * state["prev"]
        factor = xp.where(prod > 0, ep, xp.where(prod < 0, em, 1.0))
        step_size = xp.clip(state["step_size"] * factor, s_min, s_max)
        g = xp.where(prod < 0, 0.0, g)
        upd = xp.sign(g) * step_size
        return x - upd, {
            "g": g,
            "prev": g,
            "step_size": step_size,
            "eff_lr": step_size,
            "update": upd,
        }

    def _lecture(self, x, g, state, lr):
        xp = self.xp
        d = state["d"]
        if d is None:
            x_new = x - lr * xp.sign(g)
            same = None
        else:
            em, ep = self.h["etas"]
            same = xp.sign(g) == xp.sign(state["g_prev"])
            x_new = xp.where(same, x + ep * d, state["x_prev"] + em * d)
        d_new = x_new - x
        return x_new, {
            "g": g,
            "g_prev": g,
            "same_sign": same,
            "x_prev": x,
            "d": d_new,
            "eff_lr": xp.abs(d_new),
            "update": -d_new,
        }

    def render_step(self, e: StepExplanation) -> list[str] | None:
        """The lecture rule written out per coordinate (worked problem A); torch's: None."""
        if self.h["variant"] != "lecture":
            return None
        fv = e.fmt
        em, ep = self.hyper["etas"]
        q = e.quantities
        g = q.get("g", e.gradient)
        gp = e.before.get("g_prev")
        d0 = e.before.get("d")
        out = [f"  g(t)   = grad f(w(t)) = {fv(g)}"]
        if gp is None or d0 is None:
            out.append(
                f"  no history: a sign step w(t+1) = w(t) - lr * sign(g) = {fv(e.new_point)}"
            )
            return out
        out.append(f"  g(t-1) = grad f(w(t-1)) = {fv(gp)}")
        out.append(f"  d = w(t) - w(t-1) = {fv(d0)}")
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
                    f"  {nm}: same gradient sign ({fv(g0[i])}, {fv(g1[i])}): "
                    f"{nm}(t+1) = {nm}(t) + eta+ * d = {fv(x[i])} + {fv(ep)} * "
                    f"{fv(d[i])} = {fv(new[i])}"
                )
            else:
                out.append(
                    f"  {nm}: gradient sign changed ({fv(g0[i])}, {fv(g1[i])}): "
                    f"{nm}(t+1) = {nm}(t-1) + eta- * d = {fv(xp[i])} + {fv(em)} * "
                    f"{fv(d[i])} = {fv(new[i])}"
                )
        out.append(f"  w(t+1) = {fv(e.new_point)}")
        return out
