"""Gradient descent and its momentum forms: ``gd``, ``sgd`` (torch), ``momentum``, ``nesterov``.

``sgd`` follows ``torch.optim.SGD`` step for step (its buffer starts at the first gradient;
its Nesterov form is g + μ b). ``momentum`` is the lecture notes' heavy ball (eq. 13) and
``nesterov`` is Sutskever's look-ahead form, which evaluates the gradient at w + β v through
the oracle (one extra gradient per step, counted by the engine).

Histories (``x_prev``): the heavy-ball velocity x0 − x_prev is expressed in the buffer's units
(torch form θ ← θ − γ b, so b0 = (x_prev − x0) / γ with γ the base ``lr``); Nesterov's
velocity is v0 = x0 − x_prev directly.

Linear theory (the four classes define it): on ``f = λ z²/2`` each is the 2x2 iteration of
the state ``(z_t, z_{t−1})``

* GD: ``[[1 − γλ, 0], [1, 0]]``, rate ``max |1 − γλ|``, stable for ``γ < 2/λ_max``;
* heavy ball (``momentum``; ``sgd`` with μ > 0, whose buffer form is the same iteration in
  θ, its dampening τ scaling the step to γ(1 − τ)): ``[[1 + β − γλ, −β], [1, 0]]``, stable
  for ``γ(1 − τ) < (2 + 2β)/λ_max``;
* Nesterov (Sutskever's look-ahead; ``sgd(nesterov=True)``, whose form g + μ b gives the same
  recurrence in θ, hence the same trace and determinant):
  ``[[(1 + μ)(1 − γλ), −μ(1 − γλ)], [1, 0]]``, stable for ``γ < (2 + 2μ)/((1 + 2μ) λ_max)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

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
from optiviz.optimizers.base import Optimizer, Param, StepPart, register
from optiviz.optimizers.linear import companion

if TYPE_CHECKING:
    from optiviz.explain import StepExplanation

_GD_RATE = "GD: max |1 - lr lambda|"
_HEAVY_BALL_RATE = "heavy ball: spectral radius of the 2x2 iteration"
_NESTEROV_RATE = "Nesterov: spectral radius of the 2x2 iteration"


def _gd_matrix(lam, lr):
    """GD on λ z²/2: z_{t+1} = (1 − γλ) z_t."""
    return companion(1.0 - lr * lam, 0.0)


def _heavy_ball_matrix(lam, lr, mu):
    """Heavy ball: z_{t+1} = z_t − γλ z_t + β (z_t − z_{t−1})."""
    return companion(1.0 + mu - lr * lam, -mu)


def _nesterov_matrix(lam, lr, mu):
    """Nesterov: y = z_t + μ (z_t − z_{t−1}), z_{t+1} = (1 − γλ) y."""
    a = 1.0 - lr * lam
    return companion((1.0 + mu) * a, -mu * a)


def _stability_limit(lambda_max: float, mu: float, damp: float, nesterov: bool):
    """The closed-form lr stability limits of GD, heavy ball and Nesterov, with labels."""
    if damp >= 1.0:  # the step γ(1 − τ) is 0: no learning rate is unstable
        return None, None
    if mu == 0.0:
        return 2.0 / lambda_max, "$2/\\lambda_{max}$ (GD)"
    if nesterov:
        return (
            (2.0 + 2.0 * mu) / ((1.0 + 2.0 * mu) * lambda_max),
            f"$(2 + 2\\mu)/((1 + 2\\mu)\\lambda_{{max}})$ (Nesterov, $\\mu$ = {mu:g})",
        )
    if damp:
        return (
            (2.0 + 2.0 * mu) / ((1.0 - damp) * lambda_max),
            f"$(2 + 2\\beta)/((1 - d)\\lambda_{{max}})$ (heavy ball, $\\beta$ = {mu:g}, "
            f"dampening $d$ = {damp:g})",
        )
    return (
        (2.0 + 2.0 * mu) / lambda_max,
        f"$(2 + 2\\beta)/\\lambda_{{max}}$ (heavy ball, $\\beta$ = {mu:g})",
    )


def _polyak(lambda_min: float, lambda_max: float) -> dict | None:
    """Polyak's heavy-ball pair: γ = 4/(√L + √m)², β = q², rate q = (√κ − 1)/(√κ + 1)."""
    if not 0.0 < lambda_min <= lambda_max:
        return None
    sk = math.sqrt(lambda_max / lambda_min)
    q = (sk - 1.0) / (sk + 1.0)
    return {
        "lr": 4.0 / (math.sqrt(lambda_max) + math.sqrt(lambda_min)) ** 2,
        "momentum": q * q,
        "rate": q,
    }


def _gd_lines(e: StepExplanation) -> list[str]:
    fv = e.fmt
    opt = e.optimizer
    sign = "+" if opt.hyper.get("maximize") else "-"
    what = "gradient ascent: " if opt.hyper.get("maximize") else ""
    g = e.gradient
    return [
        f"  g      = grad f(w(t)) = {fv(g)}",
        f"  {what}w(t+1) = w(t) {sign} lr * grad f = {fv(e.x)} {sign} {fv(e.lr)} * {fv(g)} "
        f"= {fv(e.new_point)}",
    ]


def _heavy_ball_lines(e: StepExplanation, buf_key: str) -> list[str]:
    fv = e.fmt
    mu = e.optimizer.hyper.get("momentum")
    q = e.quantities
    g = q.get("g", e.gradient)
    b0 = e.before.get(buf_key)
    b1 = q.get(buf_key)
    out = [f"  g      = grad f(w(t)) = {fv(g)}"]
    if b0 is None:
        out.append(f"  {buf_key} = g = {fv(b1)}   (the first step starts the buffer at g)")
    else:
        out.append(
            f"  {buf_key} = momentum * {buf_key} + g = {fv(mu)} * {fv(b0)} + {fv(g)} = {fv(b1)}"
        )
    out.append(
        f"  w(t+1) = w(t) - lr * {buf_key} = {fv(e.x)} - {fv(e.lr)} * {fv(b1)} = {fv(e.new_point)}"
    )
    if e.x_prev is not None:
        out.append(
            f"         (heavy ball: w(t) - lr * g + momentum * (w(t) - w(t-1)) = {fv(e.x)} - "
            f"{fv(e.lr)} * {fv(g)} + {fv(mu)} * {fv(e.x - e.x_prev)} = {fv(e.new_point)})"
        )
    return out


def _gradient_part(e: StepExplanation, g, lr) -> StepPart:
    """The plain gradient step -lr g (+lr g when maximizing: g is then already -grad f)."""
    return StepPart(f"gradient part -lr * g = -{e.fmt(lr)} * {e.fmt(g)}", -lr * np.asarray(g))


def _momentum_parts(e: StepExplanation, g, d, lr, label: str) -> list[StepPart]:
    """A buffer method's step -lr d as the momentum part -lr (d - g) and the gradient part."""
    mom = -lr * (np.asarray(d) - np.asarray(g))
    out = [StepPart(label, mom)] if np.any(mom) else []
    return [*out, _gradient_part(e, g, lr)]


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
lr factor: γ"""
    params = {"lr": lr_param(1e-3), "maximize": MAXIMIZE}
    quantities = {
        "g": "gradient g",
        "eff_lr": "lr factor γ",
        "update": "update γg (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        return {}

    def step(self, x, g, state, oracle, lr, t):
        if self.h["maximize"]:
            g = -g
        upd = lr * g
        return x - upd, {"g": g, "eff_lr": lr, "update": upd}

    @classmethod
    def iteration_matrix(cls, lam, h):
        return _gd_matrix(lam, h["lr"])

    @classmethod
    def rate_theory(cls, h):
        return _GD_RATE

    @classmethod
    def stability_formula(cls, lambda_max, h):
        return _stability_limit(lambda_max, 0.0, 0.0, False)

    @classmethod
    def optimal_hyperparameters(cls, lambda_min, lambda_max):
        """The fixed step 2/(m + L), rate (κ − 1)/(κ + 1)."""
        if not 0.0 < lambda_min <= lambda_max:
            return None
        kappa = lambda_max / lambda_min
        return {"lr": 2.0 / (lambda_min + lambda_max), "rate": (kappa - 1.0) / (kappa + 1.0)}

    def render_step(self, e):
        return _gd_lines(e)

    def step_parts(self, e):
        return [_gradient_part(e, e.quantities.get("g", e.gradient), e.lr)]


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
lr factor: γ"""
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
        "eff_lr": "lr factor γ",
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
        xp = self.xp
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
                d = xp.where(mu == 0, g, d)
        else:
            d = g
        upd = lr * d
        return x - upd, {"g": g, "buf": buf, "d": d, "eff_lr": lr, "update": upd}

    @classmethod
    def iteration_matrix(cls, lam, h):
        """Heavy ball with step γ(1 − τ) where μ > 0; GD with step γ where μ = 0 (torch
        skips the buffer); Nesterov's matrix with ``nesterov`` (None with dampening, which
        torch refuses there)."""
        lr, mu, damp = h["lr"], h["momentum"], h["dampening"]
        if h["nesterov"]:
            return None if np.any(damp) else _nesterov_matrix(lam, lr, mu)
        step = np.where(np.asarray(mu) == 0.0, lr, lr * (1.0 - damp))
        return _heavy_ball_matrix(lam, step, mu)

    @classmethod
    def rate_theory(cls, h):
        if not np.any(h["momentum"]):
            return _GD_RATE
        return _NESTEROV_RATE if h["nesterov"] else _HEAVY_BALL_RATE

    @classmethod
    def stability_formula(cls, lambda_max, h):
        return _stability_limit(
            lambda_max, float(h["momentum"]), float(h["dampening"]), bool(h["nesterov"])
        )

    @classmethod
    def optimal_hyperparameters(cls, lambda_min, lambda_max):
        """Polyak's heavy-ball pair (``nesterov=False``, no dampening), as for ``momentum``."""
        return _polyak(lambda_min, lambda_max)

    def render_step(self, e):
        h = self.hyper
        if h["weight_decay"] or h["dampening"] or h["nesterov"]:
            return None  # torch's Nesterov form d = g + μ b is listed, not written out
        return _heavy_ball_lines(e, "buf") if h["momentum"] else _gd_lines(e)

    def step_parts(self, e):
        q = e.quantities
        g, d = q.get("g", e.gradient), q.get("d", q.get("g", e.gradient))
        return _momentum_parts(e, g, d, e.lr, "momentum part -lr * (d - g)")


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
lr factor: γ"""
    params = {
        "lr": lr_param(1e-3),
        "momentum": Param(0.9, "float", low=0.0, high=1.0, doc="β: momentum factor"),
    }
    quantities = {
        "g": "gradient g",
        "v": "velocity v",
        "eff_lr": "lr factor γ",
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

    @classmethod
    def iteration_matrix(cls, lam, h):
        return _heavy_ball_matrix(lam, h["lr"], h["momentum"])

    @classmethod
    def rate_theory(cls, h):
        return _HEAVY_BALL_RATE

    @classmethod
    def stability_formula(cls, lambda_max, h):
        return _stability_limit(lambda_max, float(h["momentum"]), 0.0, False)

    @classmethod
    def optimal_hyperparameters(cls, lambda_min, lambda_max):
        """Polyak's pair γ = 4/(√L + √m)², β = ((√κ − 1)/(√κ + 1))², rate √β."""
        return _polyak(lambda_min, lambda_max)

    def render_step(self, e):
        return _heavy_ball_lines(e, "v")

    def step_parts(self, e):
        fv = e.fmt
        v0 = e.before.get("v")
        label = (
            "momentum part"
            if v0 is None
            else f"momentum part -lr * momentum * v = -{fv(e.lr)} * {fv(self.hyper['momentum'])}"
            f" * {fv(v0)}"
        )
        return _momentum_parts(e, e.quantities.get("g", e.gradient), e.quantities["v"], e.lr, label)


@register
class Nesterov(Optimizer):
    """Nesterov accelerated gradient in Sutskever's look-ahead form."""

    name = "nesterov"
    first_step_differs = True  # (no look-ahead gradient while v is zero: see ``step``)
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
lr factor: γ"""
    params = {
        "lr": lr_param(1e-3),
        "momentum": Param(0.9, "float", low=0.0, high=1.0, doc="β: momentum factor"),
    }
    quantities = {
        "v_prev": "velocity before the step",
        "x_look": "look-ahead point θ + βv",
        "g_look": "gradient at the look-ahead point",
        "v": "new velocity v",
        "eff_lr": "lr factor γ",
        "update": "update −v (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        if x_prev is not None:
            return {"v": as_float_array(x0) - as_float_array(x_prev)}
        return {"v": np.zeros_like(x0, dtype=float)}

    def step(self, x, g, state, oracle, lr, t):
        beta = self.h["momentum"]
        v_prev = state["v"]
        # (compiled: t >= 2, where v_prev is nonzero, so the look-ahead is always taken)
        if (self.xp is not np or np.any(v_prev)) and not is_zero(beta):
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

    @classmethod
    def iteration_matrix(cls, lam, h):
        return _nesterov_matrix(lam, h["lr"], h["momentum"])

    @classmethod
    def rate_theory(cls, h):
        return _NESTEROV_RATE

    @classmethod
    def stability_formula(cls, lambda_max, h):
        return _stability_limit(lambda_max, float(h["momentum"]), 0.0, True)

    @classmethod
    def optimal_hyperparameters(cls, lambda_min, lambda_max):
        """The pair of Lessard, Recht and Packard (SIAM J. Optim. 2016) for quadratics:
        γ = 4/(3L + m), μ = (√(3κ + 1) − 2)/(√(3κ + 1) + 2), rate 1 − 2/√(3κ + 1)."""
        if not 0.0 < lambda_min <= lambda_max:
            return None
        s = math.sqrt(3.0 * lambda_max / lambda_min + 1.0)
        return {
            "lr": 4.0 / (3.0 * lambda_max + lambda_min),
            "momentum": (s - 2.0) / (s + 2.0),
            "rate": 1.0 - 2.0 / s,
        }

    def render_step(self, e):
        fv = e.fmt
        mu = self.hyper.get("momentum")
        q = e.quantities
        v0 = q.get("v_prev", e.before.get("v"))
        out = []
        if q.get("x_look") is not None:
            out.append(
                f"  look-ahead = w(t) + momentum * v = {fv(e.x)} + {fv(mu)} * {fv(v0)} "
                f"= {fv(q['x_look'])}"
            )
            out.append(f"  g_look = grad f(look-ahead) = {fv(q.get('g_look'))}")
        out.append(
            f"  v = momentum * v - lr * g_look = {fv(mu)} * {fv(v0)} - {fv(e.lr)} * "
            f"{fv(q.get('g_look'))} = {fv(q.get('v'))}"
        )
        out.append(f"  w(t+1) = w(t) + v = {fv(e.x)} + {fv(q.get('v'))} = {fv(e.new_point)}")
        if q.get("x_look") is not None:
            out.append(
                f"         (= look-ahead - lr * g_look = {fv(q['x_look'])} - {fv(e.lr)} * "
                f"{fv(q.get('g_look'))})"
            )
        return out

    def step_parts(self, e):
        fv = e.fmt
        q = e.quantities
        beta = self.hyper.get("momentum")
        v0 = np.asarray(q.get("v_prev", e.before.get("v")), dtype=float)
        look = np.asarray(q.get("x_look", e.x), dtype=float)
        g_look = np.asarray(q.get("g_look", e.gradient), dtype=float)
        out = []
        if np.any(look != e.x):
            out.append(
                StepPart(
                    f"momentum part momentum * v = {fv(beta)} * {fv(v0)}",
                    look - e.x,
                    f"look-ahead = {fv(look)}",
                )
            )
        out.append(StepPart(f"-lr * g_look = -{fv(e.lr)} * {fv(g_look)}", -e.lr * g_look))
        return out
