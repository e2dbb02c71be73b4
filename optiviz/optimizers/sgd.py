"""Gradient descent and its momentum forms: ``gd``, ``sgd`` (torch), ``momentum``, ``nesterov``.

``sgd`` follows ``torch.optim.SGD`` step for step (its buffer starts at the first gradient;
its Nesterov form is g + μ b). ``momentum`` is the lecture notes' heavy ball (eq. 13) and
``nesterov`` is Sutskever's look-ahead form, which evaluates the gradient at w + β v through
the oracle (one extra gradient per step, counted by the engine).

Histories (``x_prev``): the heavy-ball velocity x0 − x_prev is expressed in the buffer's units
(torch form θ ← θ − γ b, so b0 = (x_prev − x0) / γ with γ the base ``lr``); Nesterov's
velocity is v0 = x0 − x_prev directly.
"""

from __future__ import annotations

import numpy as np

from optiviz.errors import OptimizerError
from optiviz.optimizers._util import (
    MAXIMIZE,
    WEIGHT_DECAY,
    any_zero,
    as_float_array,
    drop_quantities,
    is_zero,
    lr_param,
)
from optiviz.optimizers.base import Optimizer, Param, register


def _velocity_buffer(opt: Optimizer, x0, x_prev):
    """b0 = (x_prev − x0) / lr: the heavy-ball velocity x0 − x_prev in torch's buffer units."""
    lr = opt.h["lr"]
    if any_zero(lr):
        raise OptimizerError(
            f"{opt.name} was given a history (x_prev) but its 'lr' is 0: the velocity "
            "x0 - x_prev is stored as (x_prev - x0) / lr, so 'lr' must be > 0."
        )
    return (as_float_array(x_prev) - as_float_array(x0)) / lr


@register
class GD(Optimizer):
    """Plain (full-batch or stochastic) gradient descent."""

    name = "gd"
    lr_factor_name = "γ (lr): multiplier of g"
    equations = """\
γ = lr, maximize
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  θ ← θ − γ g
effective lr: γ"""
    params = {"lr": lr_param(1e-3), "maximize": MAXIMIZE}
    quantities = {
        "g": "gradient g",
        "eff_lr": "effective lr γ",
        "update": "update γg (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        return {}

    def step(self, x, g, state, oracle, lr, t):
        if self.h["maximize"]:
            g = -g
        upd = lr * g
        return x - upd, {"g": g, "eff_lr": lr, "update": upd}


@register
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, exactly as torch.optim.SGD."""

    name = "sgd"
    lr_factor_name = "γ (lr): multiplier of the direction d (momentum buffer)"
    equations = """\
γ = lr, μ = momentum, τ = dampening, λ = weight_decay, nesterov, maximize   (torch.optim.SGD)
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  g ← g + λ θ               (if λ ≠ 0)
  if μ ≠ 0:
      b ← g                          at t = 1 (torch: the buffer starts at the first gradient)
      b ← μ b + (1 − τ) g            at t > 1
      d ← g + μ b  if nesterov  else  b
  else:
      d ← g
  θ ← θ − γ d
history x_prev (a problem stated from two iterates): b₀ = (x_prev − x₀)/γ, so the first step
  uses b ← μ b₀ + (1 − τ) g, i.e. the heavy-ball velocity x₀ − x_prev (γ = the base lr).
nesterov requires μ > 0 and τ = 0 (torch's rule); its form g + μ b differs from Sutskever's
  look-ahead (see 'nesterov').
effective lr: γ"""
    params = {
        "lr": lr_param(1e-3),
        "momentum": Param(0.0, "float", low=0.0, high=1.0, doc="μ: momentum factor"),
        "dampening": Param(
            0.0, "float", low=0.0, high=1.0, doc="τ: dampening of the gradient in the buffer"
        ),
        "weight_decay": WEIGHT_DECAY,
        "nesterov": Param(
            False, "bool", batchable=False, doc="use torch's Nesterov form d = g + μ b"
        ),
        "maximize": MAXIMIZE,
    }
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "buf": "momentum buffer b",
        "d": "direction d",
        "eff_lr": "effective lr γ",
        "update": "update γd (θ ← θ − update)",
    }

    def _check(self):
        h = self.h
        if h["nesterov"] and (any_zero(h["momentum"]) or not is_zero(h["dampening"])):
            raise OptimizerError(
                "sgd with nesterov=True requires a momentum > 0 and zero dampening "
                f"(got momentum={self.hyper['momentum']!r}, dampening={self.hyper['dampening']!r})."
            )
        self._mu = h["momentum"]
        self._use_mom = not is_zero(self._mu)
        self._mixed_mu = self._use_mom and any_zero(self._mu)  # batched: some runs have μ = 0
        self._damp = 1.0 - h["dampening"]
        self._damped = not is_zero(h["dampening"])
        self._wd = h["weight_decay"]
        self._use_wd = not is_zero(self._wd)
        if not self._use_mom:
            drop_quantities(self, "buf")

    def init(self, x0, oracle, x_prev=None):
        if self._use_mom and x_prev is not None:
            return {"buf": _velocity_buffer(self, x0, x_prev)}
        return {"buf": None}

    def step(self, x, g, state, oracle, lr, t):
        if self.h["maximize"]:
            g = -g
        if self._use_wd:
            g = g + self._wd * x
        buf = None
        if self._use_mom:
            mu = self._mu
            buf = state["buf"]
            if buf is None:
                buf = g
            elif self._damped:
                buf = mu * buf + self._damp * g
            else:
                buf = mu * buf + g
            d = g + mu * buf if self.h["nesterov"] else buf
            if self._mixed_mu:  # torch skips the buffer entirely where μ = 0
                d = np.where(mu == 0, g, d)
        else:
            d = g
        upd = lr * d
        return x - upd, {"g": g, "buf": buf, "d": d, "eff_lr": lr, "update": upd}


@register
class Momentum(Optimizer):
    """Heavy-ball momentum, the lecture notes' form (eq. 13)."""

    name = "momentum"
    legend_params = ("lr", "momentum")
    lr_factor_name = "γ (lr): multiplier of the velocity v (eq. 13)"
    equations = """\
γ = lr, β = momentum   (lecture notes eq. 13; torch's SGD with momentum β is the same rule)
  g ← ∇f(θ)
  v ← β v + g               v₀ = 0, so v₁ = g₁
  θ ← θ − γ v
history x_prev: v₀ = (x_prev − x₀)/γ (the velocity x₀ − x_prev in units of γ, base lr), so
  θ₁ = θ₀ + β (x₀ − x_prev) − γ g.
β = 0 is plain gradient descent.
effective lr: γ"""
    params = {
        "lr": lr_param(1e-3),
        "momentum": Param(0.9, "float", low=0.0, high=1.0, doc="β: momentum factor"),
    }
    quantities = {
        "g": "gradient g",
        "v": "velocity v",
        "eff_lr": "effective lr γ",
        "update": "update γv (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        if x_prev is not None:
            return {"v": _velocity_buffer(self, x0, x_prev)}
        return {"v": np.zeros_like(x0, dtype=float)}

    def step(self, x, g, state, oracle, lr, t):
        v = self.h["momentum"] * state["v"] + g
        upd = lr * v
        return x - upd, {"g": g, "v": v, "eff_lr": lr, "update": upd}


@register
class Nesterov(Optimizer):
    """Nesterov accelerated gradient in Sutskever's look-ahead form."""

    name = "nesterov"
    legend_params = ("lr", "momentum")
    lr_factor_name = "γ (lr): multiplier of the look-ahead direction"
    equations = """\
γ = lr, β = momentum   (Sutskever et al. 2013; lecture notes eq. 14 up to the sign of v)
  θ̃ ← θ + β v               look-ahead point
  g̃ ← ∇f(θ̃)                evaluated through the oracle (one extra gradient per step;
                             skipped while β v = 0, where θ̃ = θ)
  v ← β v − γ g̃             v₀ = 0, or v₀ = x₀ − x_prev given a history
  θ ← θ + v
The gradient at θ that the engine hands over is not used by this form.
effective lr: γ"""
    params = {
        "lr": lr_param(1e-3),
        "momentum": Param(0.9, "float", low=0.0, high=1.0, doc="β: momentum factor"),
    }
    quantities = {
        "v_prev": "velocity before the step",
        "x_look": "look-ahead point θ + βv",
        "g_look": "gradient at the look-ahead point",
        "v": "new velocity v",
        "eff_lr": "effective lr γ",
        "update": "update −v (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        if x_prev is not None:
            return {"v": as_float_array(x0) - as_float_array(x_prev)}
        return {"v": np.zeros_like(x0, dtype=float)}

    def step(self, x, g, state, oracle, lr, t):
        beta = self.h["momentum"]
        v_prev = state["v"]
        if np.any(v_prev) and not is_zero(beta):
            x_look = x + beta * v_prev
            g_look = oracle.grad(x_look)
        else:
            x_look, g_look = x, g
        v = beta * v_prev - lr * g_look
        return x + v, {
            "v_prev": v_prev,
            "x_look": x_look,
            "g_look": g_look,
            "v": v,
            "eff_lr": lr,
            "update": -v,
        }
