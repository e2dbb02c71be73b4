"""Per-coordinate adaptive learning rates: ``adagrad``, ``rmsprop``, ``adadelta`` (torch forms).

Each follows the ``torch.optim`` class of the same name step for step; ``eps_placement``
("outside" = torch, "inside" = the lecture notes' γ/√(v + ε), eq. 15 and 16) is explicit.
"""

from __future__ import annotations

import numpy as np

from optiviz.optimizers._util import (
    EPS_PLACEMENT,
    MAXIMIZE,
    WEIGHT_DECAY,
    drop_quantities,
    eps_param,
    full_like,
    is_zero,
    lr_param,
    torch_preamble,
)
from optiviz.optimizers.base import Optimizer, Param, register


class _Adaptive(Optimizer):
    """Common preparation: maximize and L2 weight decay on the gradient."""

    def _check(self):
        self._wd = self.h.get("weight_decay", 0.0)
        self._use_wd = not is_zero(self._wd)
        self._max = self.h.get("maximize", False)
        self._inside = self.h.get("eps_placement") == "inside"
        self._eps = self.h.get("eps", 0.0)

    def _grad(self, x, g):
        return torch_preamble(x, g, 0.0, maximize=self._max, weight_decay=self._wd)[1]


@register
class Adagrad(_Adaptive):
    """AdaGrad: steps shrink with the accumulated squared gradients (torch.optim.Adagrad)."""

    name = "adagrad"
    lr_factor_name = "γ̃/(√s+ε): multiplier of g (eq. 15)"
    equations = """\
γ = lr, η = lr_decay, λ = weight_decay, s₀ = initial_accumulator_value, ε = eps, maximize,
eps_placement   (torch.optim.Adagrad; lecture notes eq. 15 with ε inside the root)
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  g ← g + λ θ               (if λ ≠ 0)
  γ̃ = γ / (1 + (t − 1) η)
  s ← s + g²                s starts at s₀
  η_eff = γ̃ / (√s + ε)      eps_placement = "outside" (torch)
        = γ̃ / √(s + ε)      eps_placement = "inside" (notes)
  θ ← θ − η_eff g
lr factor: η_eff"""
    params = {
        "lr": lr_param(1e-2),
        "lr_decay": Param(0.0, "float", low=0.0, doc="η: the lr is divided by 1 + (t − 1) η"),
        "weight_decay": WEIGHT_DECAY,
        "initial_accumulator_value": Param(
            0.0, "float", low=0.0, doc="s₀: starting value of the sum of squares"
        ),
        "eps": eps_param(1e-10),
        "maximize": MAXIMIZE,
        "eps_placement": EPS_PLACEMENT,
    }
    accumulators = ("sum",)
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "clr": "decayed lr γ̃",
        "sum": "sum of squared gradients s",
        "eff_lr": "lr factor γ̃/(√s+ε)",
        "update": "update η_eff·g (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        return {"sum": full_like(x0, self.h["initial_accumulator_value"])}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        g = self._grad(x, g)
        decay = self.h["lr_decay"]
        clr = lr if is_zero(decay) else lr / (1.0 + (t - 1) * decay)
        s = state["sum"] + g * g
        denom = xp.sqrt(s + self._eps) if self._inside else xp.sqrt(s) + self._eps
        eff = clr / denom
        upd = eff * g
        return x - upd, {"g": g, "clr": clr, "sum": s, "eff_lr": eff, "update": upd}


@register
class RMSprop(_Adaptive):
    """RMSprop: an average of squared gradients scales the step (torch.optim.RMSprop)."""

    name = "rmsprop"
    lr_factor_name = "γ/D: multiplier of g (eq. 16)"
    equations = """\
γ = lr, α = alpha, ε = eps, λ = weight_decay, μ = momentum, centered, maximize, eps_placement
(torch.optim.RMSprop; lecture notes eq. 16 with β = α and ε inside the root)
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  g ← g + λ θ               (if λ ≠ 0)
  v ← α v + (1 − α) g²      v₀ = 0
  if centered:  ḡ ← α ḡ + (1 − α) g;   ṽ = v − ḡ²   (as torch: if rounding makes it
                negative, √ṽ is nan and the run is reported as diverged)
  else:         ṽ = v
  D = √ṽ + ε                eps_placement = "outside" (torch);   D = √(ṽ + ε) "inside"
  if μ > 0:  b ← μ b + g / D;   θ ← θ − γ b          b₀ = 0
  else:      θ ← θ − γ g / D
lr factor: γ / D"""
    params = {
        "lr": lr_param(1e-2),
        "alpha": Param(
            0.99,
            "float",
            low=0.0,
            high=1.0,
            doc="α: smoothing constant of the squared-gradient average",
        ),
        "eps": eps_param(1e-8),
        "weight_decay": WEIGHT_DECAY,
        "momentum": Param(
            0.0, "float", low=0.0, high=1.0, doc="μ: momentum factor on the scaled gradient"
        ),
        "centered": Param(
            False, "bool", batchable=False, doc="divide by the estimated variance √(v − ḡ²)"
        ),
        "maximize": MAXIMIZE,
        "eps_placement": EPS_PLACEMENT,
    }
    accumulators = ("square_avg", "grad_avg", "buf")
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "square_avg": "average of g², v",
        "grad_avg": "average of g, ḡ (centered)",
        "denom": "denominator D",
        "buf": "momentum buffer b",
        "eff_lr": "lr factor γ/D",
        "update": "update (θ ← θ − update)",
    }

    def _check(self):
        super()._check()
        off = () if self.h["centered"] else ("grad_avg",)
        if is_zero(self.h["momentum"]):
            off += ("buf",)
        drop_quantities(self, *off)

    def init(self, x0, oracle, x_prev=None):
        z = np.zeros_like(x0, dtype=float)
        return {
            "square_avg": z,
            "grad_avg": z if self.h["centered"] else None,
            "buf": z if not is_zero(self.h["momentum"]) else None,
        }

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        g = self._grad(x, g)
        a = self.h["alpha"]
        v = a * state["square_avg"] + (1.0 - a) * (g * g)
        ga = None
        if self.h["centered"]:
            ga = a * state["grad_avg"] + (1.0 - a) * g
            vt = v - ga * ga
        else:
            vt = v
        denom = xp.sqrt(vt + self._eps) if self._inside else xp.sqrt(vt) + self._eps
        eff = lr / denom
        buf = None
        if state["buf"] is not None:
            buf = self.h["momentum"] * state["buf"] + g / denom
            upd = lr * buf
        else:
            upd = eff * g
        return x - upd, {
            "g": g,
            "square_avg": v,
            "grad_avg": ga,
            "denom": denom,
            "buf": buf,
            "eff_lr": eff,
            "update": upd,
        }

    @classmethod
    def preconditioned_stability(cls, h=None):
        """RMSprop with its denominator ``D`` frozen is GD on ``D⁻¹H`` (heavy ball with
        momentum μ when μ > 0): stable for ``γ λ_max(D⁻¹H) < 2 + 2μ`` (2/γ without
        momentum; Cohen et al. 2022, "Adaptive gradient methods at the edge of
        stability"). None with weight decay or maximize."""
        hf = cls.theory_hyperparameters(h)
        if hf is None:
            return None
        mu = float(hf["momentum"])
        if mu:
            return 2.0 + 2.0 * mu, f"$(2+2\\mu)/\\eta$ (Cohen et al. 2022), $\\mu$ = {mu:g}"
        return 2.0, "$2/\\eta$ (Cohen et al. 2022)"

    @classmethod
    def inverse_preconditioner(cls, lr_factor, lr, t, h=None):
        """``P_t⁻¹ = 1/D = (γ/D)/γ``."""
        if cls.theory_hyperparameters(h) is None:
            return None
        return np.asarray(lr_factor, dtype=float) / np.asarray(lr)


@register
class Adadelta(_Adaptive):
    """AdaDelta: the numerator averages past squared updates (torch.optim.Adadelta)."""

    name = "adadelta"
    lr_factor_name = "γ √(u+ε)/√(v+ε): multiplier of g"
    equations = """\
γ = lr, ρ = rho, ε = eps, λ = weight_decay, maximize   (torch.optim.Adadelta; lecture notes
eq. 17 with β = ρ and γ = 1)
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  g ← g + λ θ               (if λ ≠ 0)
  v ← ρ v + (1 − ρ) g²                      v₀ = 0
  Δ = √(u + ε) / √(v + ε) · g               u is the previous update average, u₀ = 0
  u ← ρ u + (1 − ρ) Δ²
  θ ← θ − γ Δ
lr factor: γ √(u + ε) / √(v + ε)   (with the u before this step)"""
    params = {
        "lr": lr_param(1.0, "γ: coefficient scaling Δ before it is applied"),
        "rho": Param(0.9, "float", low=0.0, high=1.0, doc="ρ: decay rate of both running averages"),
        "eps": eps_param(1e-6),
        "weight_decay": WEIGHT_DECAY,
        "maximize": MAXIMIZE,
    }
    accumulators = ("square_avg", "acc_delta")
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "square_avg": "average of g², v",
        "delta": "Δ",
        "acc_delta": "average of Δ², u",
        "eff_lr": "lr factor",
        "update": "update γΔ (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        z = np.zeros_like(x0, dtype=float)
        return {"square_avg": z, "acc_delta": z}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        g = self._grad(x, g)
        rho, eps = self.h["rho"], self._eps
        v = rho * state["square_avg"] + (1.0 - rho) * (g * g)
        ratio = xp.sqrt(state["acc_delta"] + eps) / xp.sqrt(v + eps)
        delta = ratio * g
        u = rho * state["acc_delta"] + (1.0 - rho) * (delta * delta)
        upd = lr * delta
        return x - upd, {
            "g": g,
            "square_avg": v,
            "delta": delta,
            "acc_delta": u,
            "eff_lr": lr * ratio,
            "update": upd,
        }
