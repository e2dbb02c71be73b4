"""The Adam family: ``adam``, ``adamw``, ``adamax``, ``nadam``, ``radam`` (torch forms) and the
lecture notes' ``maxprop`` (eq. 20); ``adamax`` also has the notes' form (eq. 19).

Effective learning rate, one definition for the family: the factor that multiplies the
bias-corrected first moment m̂ (for AdaMax m̂ = m / (1 − β₁ᵗ), so torch's lr/(1 − β₁ᵗ) · m/u
has lr factor γ/u; worked problem E's "η / v").

``step`` is kept lean (the engine's single-run Adam must cost no more than a hand-written numpy
loop): scalar constants are Python floats prepared in ``_check``, bias corrections use Python
powers, and one small dict is built per step.
"""

from __future__ import annotations

import math

import numpy as np

from optiviz.optimizers._util import (
    EPS_PLACEMENT,
    MAXIMIZE,
    WEIGHT_DECAY,
    betas_param,
    drop_quantities,
    eps_param,
    fast_const,
    is_zero,
    lr_param,
    per_run,
    powers,
    torch_preamble,
)
from optiviz.optimizers.base import Optimizer, Param, register

_ADAM_EQ = """\
γ = lr, (β₁, β₂) = betas, ε = eps, λ = weight_decay, amsgrad, maximize, eps_placement{extra}
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
{decay}
  m ← β₁ m + (1 − β₁) g     m₀ = 0
  v ← β₂ v + (1 − β₂) g²    v₀ = 0
  if amsgrad: v_max ← max(v_max, v) and v̂ uses v_max   (torch: the max of the raw v)
  m̂ = m / (1 − β₁ᵗ)
  v̂ = v / (1 − β₂ᵗ)
  η_eff = γ / (√v̂ + ε)      eps_placement = "outside" (torch)
        = γ / √(v̂ + ε)      eps_placement = "inside" (lecture notes eq. 18)
  θ ← θ − η_eff m̂
lr factor: η_eff"""


@register
class Adam(Optimizer):
    """Adam: bias-corrected moment estimates (torch.optim.Adam)."""

    name = "adam"
    lr_factor_name = "γ/(√v̂+ε): multiplier of m̂ (eq. 18)"
    equations = "(torch.optim.Adam)\n" + _ADAM_EQ.format(
        extra=", decoupled_weight_decay",
        decay="  g ← g + λ θ               (L2 penalty, if λ ≠ 0; θ ← θ (1 − γ λ) instead\n"
        "                            when decoupled_weight_decay, i.e. AdamW)",
    )
    params = {
        "lr": lr_param(1e-3),
        "betas": betas_param(),
        "eps": eps_param(1e-8),
        "weight_decay": WEIGHT_DECAY,
        "amsgrad": Param(
            False, "bool", batchable=False, doc="use the running maximum of v (AMSGrad)"
        ),
        "decoupled_weight_decay": Param(
            False, "bool", batchable=False, doc="apply λ as θ ← θ(1 − γλ) (AdamW) instead of in g"
        ),
        "maximize": MAXIMIZE,
        "eps_placement": EPS_PLACEMENT,
    }
    accumulators = ("m", "v", "v_max")
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "m": "first moment m",
        "v": "second moment v",
        "v_max": "running maximum of v (amsgrad)",
        "m_hat": "bias-corrected m̂",
        "v_hat": "bias-corrected v̂",
        "eff_lr": "lr factor η_eff",
        "update": "update η_eff·m̂ (θ ← θ − update)",
    }

    def _check(self):
        h = self.h
        b1, b2 = h["betas"]
        # Python floats (per-run arrays: their PerRunPower) for the powers β^t; 0-d arrays
        # for the elementwise products: numpy multiplies an array by a 0-d array about twice
        # as fast as by a float.
        self._b1, self._b2 = powers(b1), powers(b2)
        self._kb1, self._kb2 = fast_const(b1), fast_const(b2)
        self._kc1, self._kc2 = fast_const(1.0 - b1), fast_const(1.0 - b2)
        self._eps = fast_const(h["eps"])
        self._wd = h["weight_decay"]
        self._kwd = fast_const(self._wd)
        self._use_wd = not is_zero(self._wd)
        self._decoupled = h["decoupled_weight_decay"]
        self._max = h["maximize"]
        self._ams = h["amsgrad"]
        self._inside = h["eps_placement"] == "inside"
        if not self._ams:
            drop_quantities(self, "v_max")

    def init(self, x0, oracle, x_prev=None):
        z = np.zeros_like(x0, dtype=float)
        return {"m": z, "v": z, "v_max": z} if self._ams else {"m": z, "v": z}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        x_in = x
        if self._max:
            g = -g
        if self._use_wd:
            if self._decoupled:
                x = x * (1.0 - lr * self._wd)
            else:
                g = g + self._kwd * x
        # In-place updates of fresh temporaries: the same IEEE operations as
        # m = β₁ m + (1 − β₁) g etc., with fewer allocations (the hot loop of every sweep).
        m = state["m"] * self._kb1
        m += self._kc1 * g
        v = g * g
        v *= self._kc2
        v += state["v"] * self._kb2
        m_hat = m / (1.0 - self._b1**t)
        if self._ams:
            v_max = xp.maximum(state["v_max"], v)
            v_hat = v_max / (1.0 - self._b2**t)
        else:
            v_hat = v / (1.0 - self._b2**t)
        if self._inside:
            d = v_hat + self._eps
            d = np.sqrt(d, out=d) if xp is np else xp.sqrt(d)
        else:
            d = xp.sqrt(v_hat)
            d += self._eps
        eff = lr / d
        upd = eff * m_hat
        new = {"g": g, "m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat, "eff_lr": eff, "update": upd}
        if self._ams:
            new["v_max"] = v_max
        x = x - upd
        if x_in is not x:  # decoupled decay moved θ too: the update is the whole step
            new["update"] = x_in - x
        return x, new

    @classmethod
    def preconditioned_stability(cls, h=None):
        """Adam with its preconditioner frozen is heavy ball with lr ``γ(1 − β₁)`` and
        momentum ``β₁`` on ``P⁻¹H``: stable for ``γ λ_max(P⁻¹H) < (2 + 2β₁)/(1 − β₁)``, i.e.
        38/γ at β₁ = 0.9 (Cohen et al. 2022, "Adaptive gradient methods at the edge of
        stability", arXiv:2207.14484). None with weight decay or maximize."""
        hf = cls.theory_hyperparameters(h)
        if hf is None:
            return None
        b1 = float(hf["betas"][0])
        if not b1 < 1.0:
            return None
        c = (2.0 + 2.0 * b1) / (1.0 - b1)
        return c, f"$(2+2\\beta_1)/((1-\\beta_1)\\eta)$ (Cohen et al. 2022), $\\beta_1$ = {b1:g}"

    @classmethod
    def inverse_preconditioner(cls, lr_factor, lr, t, h=None):
        """``P_t⁻¹ = η_eff / (γ (1 − β₁ᵗ))``: Cohen et al.'s ``P_t = (1 − β₁ᵗ) diag(√v̂ + ε)``
        (the bias correction of m folded into P), so that ``θ ← θ − γ P_t⁻¹ m``."""
        hf = cls.theory_hyperparameters(h)
        if hf is None:
            return None
        b1 = float(hf["betas"][0])
        t = np.asarray(t, dtype=float)
        return np.asarray(lr_factor, dtype=float) / (np.asarray(lr) * (1.0 - b1**t))


@register
class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (torch.optim.AdamW)."""

    name = "adamw"
    equations = "(torch.optim.AdamW)\n" + _ADAM_EQ.format(
        extra="",
        decay="  θ ← θ (1 − γ λ)           (decoupled weight decay, before the Adam step)",
    )
    params = {
        **{k: v for k, v in Adam.params.items() if k != "decoupled_weight_decay"},
        "weight_decay": Param(
            1e-2, "float", low=0.0, doc="λ: decoupled weight decay, θ ← θ(1 − γλ) each step"
        ),
    }
    quantities = {
        **Adam.quantities,
        "update": "update γλθ + η_eff·m̂ (θ ← θ − update)",
    }

    def _check(self):
        self.h.setdefault("decoupled_weight_decay", True)  # AdamW's decay is always decoupled
        super()._check()


@register
class Adamax(Optimizer):
    """AdaMax: Adam with the infinity norm in place of the root mean square (torch.optim.Adamax)."""

    name = "adamax"
    lr_factor_name = "γ/u: multiplier of m̂ (eq. 19; γ/(u+ε) in torch's form)"
    equations = """\
γ = lr, (β₁, β₂) = betas, ε = eps, λ = weight_decay, maximize, variant
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  g ← g + λ θ               (if λ ≠ 0)
  m ← β₁ m + (1 − β₁) g     m₀ = 0
  m̂ = m / (1 − β₁ᵗ)
  variant = "torch" (torch.optim.Adamax):
      u ← max(β₂ u, |g| + ε)           u₀ = 0
      η_eff = γ / u
  variant = "lecture" (lecture notes eq. 19; the notes print max(β₂ v, ∇w) but mean |∇w|):
      u ← max(β₂ u, |g|)               u₀ = 0
      η_eff = γ / (u + ε)
  θ ← θ − η_eff m̂
lr factor: η_eff (the bias correction belongs to m̂; worked problem E: γ = 1, β₂ = 0.999,
  g = 1 then 0 gives 1 then 1/0.999 = 1.001001)"""
    params = {
        "lr": lr_param(2e-3),
        "betas": betas_param("(β₁, β₂): decay of the first moment and of the infinity norm"),
        "eps": eps_param(1e-8),
        "weight_decay": WEIGHT_DECAY,
        "maximize": MAXIMIZE,
        "variant": Param(
            "torch",
            "choice",
            choices=("torch", "lecture"),
            batchable=False,
            doc="'torch': u = max(β₂u, |g|+ε), γ/u; 'lecture': u = max(β₂u, |g|), γ/(u+ε)",
        ),
    }
    accumulators = ("m", "u")
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "m": "first moment m",
        "u": "infinity-norm estimate u",
        "m_hat": "bias-corrected m̂",
        "eff_lr": "lr factor η_eff",
        "update": "update η_eff·m̂ (θ ← θ − update)",
    }

    def _check(self):
        self._wd = self.h["weight_decay"]
        self._use_wd = not is_zero(self._wd)

    def init(self, x0, oracle, x_prev=None):
        z = np.zeros_like(x0, dtype=float)
        return {"m": z, "u": z}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        _, g = torch_preamble(x, g, lr, maximize=self.h["maximize"], weight_decay=self._wd)
        b1, b2 = self.h["betas"]
        eps = self.h["eps"]
        m = b1 * state["m"] + (1.0 - b1) * g
        m_hat = m / (1.0 - per_run(self, "b1", b1)(t))
        if self.h["variant"] == "torch":
            u = xp.maximum(b2 * state["u"], xp.abs(g) + eps)
            eff = lr / u
        else:
            u = xp.maximum(b2 * state["u"], xp.abs(g))
            eff = lr / (u + eps)
        upd = eff * m_hat
        return x - upd, {"g": g, "m": m, "u": u, "m_hat": m_hat, "eff_lr": eff, "update": upd}


@register
class MaxProp(Optimizer):
    """MaxProp: RMSprop with the infinity norm (lecture notes eq. 20)."""

    name = "maxprop"
    lr_factor_name = "γ/(v+ε): multiplier of g"
    equations = """\
γ = lr, β = beta, ε = eps, λ = weight_decay, maximize   (lecture notes eq. 20; the notes print
max(β v, ∇w) but mean |∇w|, as in the text before eq. 19)
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  g ← g + λ θ               (if λ ≠ 0)
  v ← max(β v, |g|)         v₀ = 0
  η_eff = γ / (v + ε)
  θ ← θ − η_eff g
lr factor: η_eff"""
    params = {
        "lr": lr_param(1e-3),
        "beta": Param(
            0.999,
            "float",
            low=0.0,
            high=1.0,
            high_open=True,
            doc="β: decay of the infinity-norm estimate",
        ),
        "eps": eps_param(1e-8),
        "weight_decay": WEIGHT_DECAY,
        "maximize": MAXIMIZE,
    }
    accumulators = ("v",)
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "v": "infinity-norm estimate v",
        "eff_lr": "lr factor γ/(v+ε)",
        "update": "update η_eff·g (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        return {"v": np.zeros_like(x0, dtype=float)}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        _, g = torch_preamble(
            x, g, lr, maximize=self.h["maximize"], weight_decay=self.h["weight_decay"]
        )
        v = xp.maximum(self.h["beta"] * state["v"], xp.abs(g))
        eff = lr / (v + self.h["eps"])
        upd = eff * g
        return x - upd, {"g": g, "v": v, "eff_lr": eff, "update": upd}


@register
class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum and a momentum schedule (torch.optim.NAdam)."""

    name = "nadam"
    lr_factor_name = "γ/(√v̂+ε): multiplier of the Nesterov-corrected m̂"
    equations = """\
γ = lr, (β₁, β₂) = betas, ε = eps, λ = weight_decay, ψ = momentum_decay,
decoupled_weight_decay, maximize, eps_placement   (torch.optim.NAdam)
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  if λ ≠ 0:  θ ← θ (1 − γ λ) if decoupled_weight_decay, else g ← g + λ θ
  μ_t = β₁ (1 − ½ · 0.96^(t ψ));   μ_{t+1} = β₁ (1 − ½ · 0.96^((t+1) ψ))
  Π_t = μ₁ μ₂ ⋯ μ_t         (the product of the μ's, kept in the state; Π₀ = 1)
  m ← β₁ m + (1 − β₁) g     m₀ = 0
  v ← β₂ v + (1 − β₂) g²    v₀ = 0
  m̂ = μ_{t+1} m / (1 − Π_t μ_{t+1}) + (1 − μ_t) g / (1 − Π_t)
  v̂ = v / (1 − β₂ᵗ)
  η_eff = γ / (√v̂ + ε)      eps_placement = "outside" (torch);  γ / √(v̂ + ε) "inside"
  θ ← θ − η_eff m̂
(the lecture notes' eq. 21 is the same idea with a constant μ = β₁)
lr factor: η_eff"""
    params = {
        "lr": lr_param(2e-3),
        "betas": betas_param(),
        "eps": eps_param(1e-8),
        "weight_decay": WEIGHT_DECAY,
        "momentum_decay": Param(4e-3, "float", low=0.0, doc="ψ: momentum decay of the μ schedule"),
        "decoupled_weight_decay": Param(
            False, "bool", batchable=False, doc="apply λ as θ ← θ(1 − γλ) (NAdamW) instead of in g"
        ),
        "maximize": MAXIMIZE,
        "eps_placement": EPS_PLACEMENT,
    }
    accumulators = ("m", "v")
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "mu": "momentum μ_t",
        "mu_next": "next momentum μ_{t+1}",
        "mu_product": "product Π_t of the μ's",
        "m": "first moment m",
        "v": "second moment v",
        "m_hat": "Nesterov-corrected m̂",
        "v_hat": "bias-corrected v̂",
        "eff_lr": "lr factor η_eff",
        "update": "update η_eff·m̂ (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        z = np.zeros_like(x0, dtype=float)
        return {"m": z, "v": z, "mu_product": 1.0}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        h = self.h
        x_in = x
        x, g = torch_preamble(
            x,
            g,
            lr,
            maximize=h["maximize"],
            weight_decay=h["weight_decay"],
            decoupled=h["decoupled_weight_decay"],
        )
        b1, b2 = h["betas"]
        psi = h["momentum_decay"]
        decay = per_run(self, "psi", psi).map
        mu = b1 * (1.0 - 0.5 * decay(lambda p, t: 0.96 ** (t * p), t))
        mu_next = b1 * (1.0 - 0.5 * decay(lambda p, t: 0.96 ** ((t + 1) * p), t))
        prod = state["mu_product"] * mu
        m = b1 * state["m"] + (1.0 - b1) * g
        v = b2 * state["v"] + (1.0 - b2) * (g * g)
        m_hat = (mu_next / (1.0 - prod * mu_next)) * m + ((1.0 - mu) / (1.0 - prod)) * g
        v_hat = v / (1.0 - per_run(self, "b2", b2)(t))
        if h["eps_placement"] == "inside":
            eff = lr / xp.sqrt(v_hat + h["eps"])
        else:
            eff = lr / (xp.sqrt(v_hat) + h["eps"])
        upd = eff * m_hat
        x = x - upd
        return x, {
            "g": g,
            "mu": mu,
            "mu_next": mu_next,
            "mu_product": prod,
            "m": m,
            "v": v,
            "m_hat": m_hat,
            "v_hat": v_hat,
            "eff_lr": eff,
            "update": x_in - x,
        }


def _rectification_square(rho_t, rho_inf):
    """RAdam's r_t squared (torch.optim.RAdam's ``_compute_rect`` before its ``** 0.5``)."""
    return (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)


def _rectification(b2: float, t) -> float:
    """RAdam's r_t for one run's β₂ (a float) at step t, as the one-run step computes it;
    nan where ρ_t <= 5 (no rectification)."""
    b2t = b2**t
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    rho_t = rho_inf - 2.0 * t * b2t / (1.0 - b2t)
    return _rectification_square(rho_t, rho_inf) ** 0.5 if rho_t > 5.0 else math.nan


@register
class RAdam(Optimizer):
    """RAdam: Adam with a rectified adaptive learning rate (torch.optim.RAdam)."""

    name = "radam"
    lr_factor_name = "γ r_t l_t: multiplier of m̂ (γ while un-adapted)"
    equations = """\
γ = lr, (β₁, β₂) = betas, ε = eps, λ = weight_decay, decoupled_weight_decay, maximize
(torch.optim.RAdam)
  g ← ∇f(θ)                 (g ← −∇f(θ) if maximize)
  if λ ≠ 0:  θ ← θ (1 − γ λ) if decoupled_weight_decay, else g ← g + λ θ
  m ← β₁ m + (1 − β₁) g     m₀ = 0
  v ← β₂ v + (1 − β₂) g²    v₀ = 0
  m̂ = m / (1 − β₁ᵗ)
  ρ_∞ = 2 / (1 − β₂) − 1;   ρ_t = ρ_∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)
  if ρ_t > 5:
      l_t = √(1 − β₂ᵗ) / (√v + ε)
      r_t = √( (ρ_t − 4)(ρ_t − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_t) )
      η_eff = γ r_t l_t
  else:
      η_eff = γ                (un-adapted step: SGD with momentum m̂)
  θ ← θ − η_eff m̂
lr factor: η_eff"""
    params = {
        "lr": lr_param(1e-3),
        "betas": betas_param(),
        "eps": eps_param(1e-8),
        "weight_decay": WEIGHT_DECAY,
        "decoupled_weight_decay": Param(
            False, "bool", batchable=False, doc="apply λ as θ ← θ(1 − γλ) (RAdamW) instead of in g"
        ),
        "maximize": MAXIMIZE,
    }
    accumulators = ("m", "v")
    quantities = {
        "g": "gradient g (after maximize / weight decay)",
        "m": "first moment m",
        "v": "second moment v",
        "m_hat": "bias-corrected m̂",
        "rho_t": "SMA length ρ_t",
        "r_t": "rectification r_t",
        "l_t": "adaptive factor l_t",
        "eff_lr": "lr factor η_eff",
        "update": "update η_eff·m̂ (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        z = np.zeros_like(x0, dtype=float)
        return {"m": z, "v": z}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        h = self.h
        x_in = x
        x, g = torch_preamble(
            x,
            g,
            lr,
            maximize=h["maximize"],
            weight_decay=h["weight_decay"],
            decoupled=h["decoupled_weight_decay"],
        )
        b1, b2 = h["betas"]
        m = b1 * state["m"] + (1.0 - b1) * g
        v = b2 * state["v"] + (1.0 - b2) * (g * g)
        m_hat = m / (1.0 - per_run(self, "b1", b1)(t))
        b2t = per_run(self, "b2", b2)(t)
        bc2 = 1.0 - b2t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2t / bc2
        if xp is not np or isinstance(rho_t, np.ndarray):  # batched betas or traced t: per run
            on = rho_t > 5.0
            with np.errstate(all="ignore"):
                l_t = xp.sqrt(bc2) / (xp.sqrt(v) + h["eps"])
                if xp is np:  # r_t of each run's beta_2 as a run alone takes it (``** 0.5``)
                    r_t = per_run(self, "b2", b2).map(_rectification, t)
                else:
                    r_t = xp.sqrt(_rectification_square(rho_t, rho_inf))
                r_t = xp.where(on, r_t, np.nan)
                eff = xp.where(on, lr * r_t * l_t, lr)
        elif rho_t > 5.0:
            l_t = xp.sqrt(bc2) / (xp.sqrt(v) + h["eps"])
            r_t = _rectification_square(rho_t, rho_inf) ** 0.5
            eff = lr * r_t * l_t
        else:
            l_t = r_t = None
            eff = lr
        upd = eff * m_hat
        x = x - upd
        return x, {
            "g": g,
            "m": m,
            "v": v,
            "m_hat": m_hat,
            "rho_t": rho_t,
            "r_t": r_t,
            "l_t": l_t,
            "eff_lr": eff,
            "update": x_in - x,
        }
