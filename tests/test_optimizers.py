"""Lockstep tests: every optimizer and variant against an independent reference.

Each reference below is plain per-step numpy written from the documented equations
(torch.optim's pseudo-code for the torch names, the lecture notes' equations for the textbook
names), without calling optiviz. Both are stepped 200 times on a 2-D quadratic and on 2-D
Rosenbrock, each from its own iterate, and every iterate must agree to a relative 1e-12
(‖x − x_ref‖ ≤ 1e-12 · max(‖x_ref‖, 1)): only floating-point rounding order may differ.
Maximize cases run on the negated surface, so they still converge.
"""

from __future__ import annotations

import numpy as np
import pytest

from optiviz.optimizers import Oracle, make_optimizer

try:
    from test_optimizers_surfaces import Negated, Quadratic, Rosenbrock
except ImportError:  # tests imported as a package
    from tests.test_optimizers_surfaces import Negated, Quadratic, Rosenbrock

STEPS = 200
RTOL = 1e-12


# ---------------------------------------------------------------------------------------
# References (one small class per algorithm; state lives in attributes, never shared)
# ---------------------------------------------------------------------------------------


class RefGD:
    def __init__(self, surf, x0, lr, maximize=False):
        self.lr, self.maximize = lr, maximize

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        return x - self.lr * g


class RefSGD:
    """torch.optim.SGD pseudo-code: b1 = g1, then b = μb + (1−τ)g; nesterov g + μb."""

    def __init__(
        self,
        surf,
        x0,
        lr,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        maximize=False,
    ):
        self.lr, self.mu, self.tau, self.wd = lr, momentum, dampening, weight_decay
        self.nesterov, self.maximize = nesterov, maximize
        self.b = None

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            g = g + self.wd * x
        if self.mu != 0:
            if t > 1:
                self.b = self.mu * self.b + (1 - self.tau) * g
            else:
                self.b = g
            g = g + self.mu * self.b if self.nesterov else self.b
        return x - self.lr * g


class RefMomentum:
    """Lecture notes eq. 13: u_t = β u_{t−1} + ∇w_t, w_{t+1} = w_t − η u_t, u_{−1} = 0."""

    def __init__(self, surf, x0, lr, momentum=0.9):
        self.lr, self.beta = lr, momentum
        self.u = np.zeros(2)

    def step(self, x, g, t):
        self.u = self.beta * self.u + g
        return x - self.lr * self.u


class RefNesterov:
    """Sutskever: v ← βv − η∇f(w + βv), w ← w + v, v0 = 0."""

    def __init__(self, surf, x0, lr, momentum=0.9):
        self.surf, self.lr, self.beta = surf, lr, momentum
        self.v = np.zeros(2)

    def step(self, x, g, t):
        g_look = self.surf.grad(x + self.beta * self.v)
        self.v = self.beta * self.v - self.lr * g_look
        return x + self.v


class RefAdagrad:
    """torch.optim.Adagrad: clr = γ/(1+(t−1)η), s += g², θ −= clr g/(√s + ε)."""

    def __init__(
        self,
        surf,
        x0,
        lr=1e-2,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        maximize=False,
        eps_placement="outside",
    ):
        self.lr, self.decay, self.wd, self.eps = lr, lr_decay, weight_decay, eps
        self.maximize, self.inside = maximize, eps_placement == "inside"
        self.s = np.full(2, float(initial_accumulator_value))

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            g = g + self.wd * x
        clr = self.lr / (1 + (t - 1) * self.decay)
        self.s = self.s + g * g
        denom = np.sqrt(self.s + self.eps) if self.inside else np.sqrt(self.s) + self.eps
        return x - clr * g / denom


class RefRMSprop:
    """torch.optim.RMSprop pseudo-code (centered, momentum, weight decay)."""

    def __init__(
        self,
        surf,
        x0,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        maximize=False,
        eps_placement="outside",
    ):
        self.lr, self.alpha, self.eps, self.wd, self.mu = lr, alpha, eps, weight_decay, momentum
        self.centered, self.maximize = centered, maximize
        self.inside = eps_placement == "inside"
        self.v = np.zeros(2)
        self.gavg = np.zeros(2)
        self.b = np.zeros(2)

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            g = g + self.wd * x
        self.v = self.alpha * self.v + (1 - self.alpha) * g**2
        vt = self.v
        if self.centered:
            self.gavg = self.alpha * self.gavg + (1 - self.alpha) * g
            vt = vt - self.gavg**2
        denom = np.sqrt(vt + self.eps) if self.inside else np.sqrt(vt) + self.eps
        if self.mu > 0:
            self.b = self.mu * self.b + g / denom
            return x - self.lr * self.b
        return x - self.lr * g / denom


class RefAdadelta:
    """torch.optim.Adadelta: Δ = √(u+ε)/√(v+ε) g, u ← ρu + (1−ρ)Δ², θ −= γΔ."""

    def __init__(self, surf, x0, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        self.lr, self.rho, self.eps, self.wd, self.maximize = lr, rho, eps, weight_decay, maximize
        self.v = np.zeros(2)
        self.u = np.zeros(2)

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            g = g + self.wd * x
        self.v = self.rho * self.v + (1 - self.rho) * g**2
        delta = np.sqrt(self.u + self.eps) / np.sqrt(self.v + self.eps) * g
        self.u = self.rho * self.u + (1 - self.rho) * delta**2
        return x - self.lr * delta


class RefAdam:
    """torch.optim.Adam / AdamW (decoupled=True); amsgrad keeps the max of the raw v."""

    def __init__(
        self,
        surf,
        x0,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        maximize=False,
        eps_placement="outside",
        decoupled=False,
    ):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.amsgrad, self.maximize, self.decoupled = amsgrad, maximize, decoupled
        self.inside = eps_placement == "inside"
        self.m = np.zeros(2)
        self.v = np.zeros(2)
        self.vmax = np.zeros(2)

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            if self.decoupled:
                x = x - self.lr * self.wd * x
            else:
                g = g + self.wd * x
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g**2
        m_hat = self.m / (1 - self.b1**t)
        v = self.v
        if self.amsgrad:
            self.vmax = np.maximum(self.vmax, self.v)
            v = self.vmax
        v_hat = v / (1 - self.b2**t)
        denom = np.sqrt(v_hat + self.eps) if self.inside else np.sqrt(v_hat) + self.eps
        return x - self.lr * m_hat / denom


class RefAdamax:
    """torch.optim.Adamax (u = max(β₂u, |g|+ε), θ −= γ/(1−β₁ᵗ) m/u) or notes eq. 19."""

    def __init__(
        self,
        surf,
        x0,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        maximize=False,
        variant="torch",
    ):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.maximize, self.variant = maximize, variant
        self.m = np.zeros(2)
        self.u = np.zeros(2)

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            g = g + self.wd * x
        self.m = self.b1 * self.m + (1 - self.b1) * g
        if self.variant == "torch":
            self.u = np.maximum(self.b2 * self.u, np.abs(g) + self.eps)
            return x - self.lr / (1 - self.b1**t) * self.m / self.u
        self.u = np.maximum(self.b2 * self.u, np.abs(g))
        m_hat = self.m / (1 - self.b1**t)
        return x - self.lr / (self.u + self.eps) * m_hat


class RefMaxProp:
    """Lecture notes eq. 20: v = max(βv, |g|), w −= η/(v+ε) g."""

    def __init__(self, surf, x0, lr=1e-3, beta=0.999, eps=1e-8, weight_decay=0.0, maximize=False):
        self.lr, self.beta, self.eps, self.wd, self.maximize = lr, beta, eps, weight_decay, maximize
        self.v = np.zeros(2)

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            g = g + self.wd * x
        self.v = np.maximum(self.beta * self.v, np.abs(g))
        return x - self.lr / (self.v + self.eps) * g


class RefNAdam:
    """torch.optim.NAdam pseudo-code with the running product of μ's."""

    def __init__(
        self,
        surf,
        x0,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        maximize=False,
        eps_placement="outside",
    ):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.psi, self.decoupled, self.maximize = momentum_decay, decoupled_weight_decay, maximize
        self.inside = eps_placement == "inside"
        self.m = np.zeros(2)
        self.v = np.zeros(2)
        self.mus = []

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            if self.decoupled:
                x = x - self.lr * self.wd * x
            else:
                g = g + self.wd * x
        mu_t = self.b1 * (1 - 0.5 * 0.96 ** (t * self.psi))
        mu_t1 = self.b1 * (1 - 0.5 * 0.96 ** ((t + 1) * self.psi))
        self.mus.append(mu_t)
        prod_t = float(np.prod(self.mus))
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g**2
        m_hat = mu_t1 * self.m / (1 - prod_t * mu_t1) + (1 - mu_t) * g / (1 - prod_t)
        v_hat = self.v / (1 - self.b2**t)
        denom = np.sqrt(v_hat + self.eps) if self.inside else np.sqrt(v_hat) + self.eps
        return x - self.lr * m_hat / denom


class RefRAdam:
    """torch.optim.RAdam pseudo-code (rectified when ρ_t > 5)."""

    def __init__(
        self,
        surf,
        x0,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        decoupled_weight_decay=False,
        maximize=False,
    ):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.decoupled, self.maximize = decoupled_weight_decay, maximize
        self.m = np.zeros(2)
        self.v = np.zeros(2)

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        if self.wd != 0:
            if self.decoupled:
                x = x - self.lr * self.wd * x
            else:
                g = g + self.wd * x
        b1, b2 = self.b1, self.b2
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g**2
        m_hat = self.m / (1 - b1**t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t > 5:
            l_t = np.sqrt(1 - b2**t) / (np.sqrt(self.v) + self.eps)
            r_t = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            return x - self.lr * m_hat * r_t * l_t
        return x - self.lr * m_hat


class RefRprop:
    """torch.optim.Rprop: per-coordinate loop, exactly as the pseudo-code reads."""

    def __init__(self, surf, x0, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
        self.em, self.ep = etas
        self.smin, self.smax = step_sizes
        self.maximize = maximize
        self.s = [lr, lr]
        self.prev = [0.0, 0.0]

    def step(self, x, g, t):
        if self.maximize:
            g = -g
        g = [float(v) for v in g]
        out = [float(v) for v in x]
        for i in range(2):
            if self.prev[i] * g[i] > 0:
                self.s[i] = min(self.s[i] * self.ep, self.smax)
            elif self.prev[i] * g[i] < 0:
                self.s[i] = max(self.s[i] * self.em, self.smin)
                g[i] = 0.0
            out[i] = out[i] - self.s[i] * float(np.sign(g[i]))
            self.prev[i] = g[i]
        return np.array(out)


class RefRpropLecture:
    """Worked problem A's rule; the first step (no history) is w −= lr sign(g)."""

    def __init__(self, surf, x0, lr=1e-2, etas=(0.6, 1.5)):
        self.lr, (self.em, self.ep) = lr, etas
        self.w_prev = None
        self.g_prev = None

    def step(self, x, g, t):
        if self.w_prev is None:
            new = x - self.lr * np.sign(g)
        else:
            d = x - self.w_prev
            new = np.array(
                [
                    x[i] + self.ep * d[i]
                    if np.sign(g[i]) == np.sign(self.g_prev[i])
                    else self.w_prev[i] + self.em * d[i]
                    for i in range(2)
                ]
            )
        self.w_prev, self.g_prev = x, g
        return new


def _cramer_solve(H, g):
    det = H[0, 0] * H[1, 1] - H[0, 1] * H[1, 0]
    return np.array([H[1, 1] * g[0] - H[0, 1] * g[1], H[0, 0] * g[1] - H[1, 0] * g[0]]) / det


class RefNewton:
    """θ −= γ H⁻¹g (Cramer's rule), (H + δI)⁻¹g, or V|Λ|⁻¹Vᵀg."""

    def __init__(self, surf, x0, lr=1.0, hessian_modification="none", damping=1e-3):
        self.surf, self.lr, self.mode, self.damping = surf, lr, hessian_modification, damping

    def step(self, x, g, t):
        H = self.surf.hess(x)
        if self.mode == "levenberg":
            H = H + self.damping * np.eye(2)
        if self.mode == "abs":
            w, V = np.linalg.eigh(H)
            d = V @ ((V.T @ g) / np.abs(w))
        else:
            d = _cramer_solve(H, g)
        return x - self.lr * d


def _exact_alpha(surf, x, g):
    """argmin_{α ≥ 0} f(x − αg): closed form on the quadratic, quartic roots on Rosenbrock."""
    if isinstance(surf, Quadratic):
        return float(g @ g / (g @ surf.A @ g))
    P = np.polynomial.Polynomial
    p0, p1 = P([x[0], -g[0]]), P([x[1], -g[1]])
    phi = (1 - p0) ** 2 + 100 * (p1 - p0**2) ** 2
    dphi = phi.deriv()
    cands = [
        r.real
        for r in dphi.roots()
        if abs(r.imag) <= 1e-9 * max(1.0, abs(r)) and r.real > 0 and dphi.deriv()(r.real) > 0
    ]
    a = min(cands, key=phi)
    for _ in range(3):  # polish on the exact derivative φ'(α) = −g·∇f(x − αg), φ'' = gᵀHg
        xa = x - a * g
        a -= -(g @ surf.grad(xa)) / (g @ surf.hess(xa) @ g)
    return a


class RefLineSearch:
    def __init__(self, surf, x0, **kw):
        self.surf = surf

    def step(self, x, g, t):
        if not np.any(g):
            return x
        return x - _exact_alpha(self.surf, x, g) * g


class RefArmijo:
    def __init__(self, surf, x0, lr=1.0, c=1e-4, shrink=0.5, max_backtracks=50):
        self.surf, self.lr, self.c, self.shrink, self.K = surf, lr, c, shrink, max_backtracks

    def step(self, x, g, t):
        f0 = self.surf.f(x)
        alpha = self.lr
        for _ in range(self.K):
            if self.surf.f(x - alpha * g) <= f0 - self.c * alpha * (g @ g):
                break
            alpha *= self.shrink
        return x - alpha * g


# ---------------------------------------------------------------------------------------
# Cases: (optimizer name, hyperparameters on the quadratic, on Rosenbrock, reference)
# ---------------------------------------------------------------------------------------

WD = 0.01
CASES = [
    ("gd", {"lr": 0.1}, {"lr": 1e-3}, RefGD),
    ("gd", {"lr": 0.1, "maximize": True}, {"lr": 1e-3, "maximize": True}, RefGD),
    ("sgd", {"lr": 0.1}, {"lr": 1e-3}, RefSGD),
    (
        "sgd",
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": WD},
        {"lr": 2e-4, "momentum": 0.9, "dampening": 0.1, "weight_decay": WD},
        RefSGD,
    ),
    (
        "sgd",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": WD},
        {"lr": 2e-4, "momentum": 0.9, "nesterov": True, "weight_decay": WD},
        RefSGD,
    ),
    (
        "sgd",
        {"lr": 0.05, "momentum": 0.5, "maximize": True},
        {"lr": 5e-4, "momentum": 0.5, "maximize": True},
        RefSGD,
    ),
    ("momentum", {"lr": 0.05, "momentum": 0.9}, {"lr": 2e-4, "momentum": 0.9}, RefMomentum),
    ("nesterov", {"lr": 0.05, "momentum": 0.9}, {"lr": 2e-4, "momentum": 0.9}, RefNesterov),
    (
        "adagrad",
        {"lr": 0.5, "lr_decay": 0.01, "weight_decay": WD, "initial_accumulator_value": 0.1},
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": WD, "initial_accumulator_value": 0.1},
        RefAdagrad,
    ),
    (
        "adagrad",
        {"lr": 0.5, "eps_placement": "inside", "maximize": True},
        {"lr": 0.1, "eps_placement": "inside", "maximize": True},
        RefAdagrad,
    ),
    ("rmsprop", {"lr": 0.01}, {"lr": 1e-3}, RefRMSprop),
    (
        "rmsprop",
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": WD},
        {"lr": 1e-3, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": WD},
        RefRMSprop,
    ),
    (
        "rmsprop",
        {"lr": 0.01, "eps_placement": "inside", "maximize": True},
        {"lr": 1e-3, "eps_placement": "inside", "maximize": True},
        RefRMSprop,
    ),
    ("adadelta", {}, {}, RefAdadelta),
    (
        "adadelta",
        {"rho": 0.95, "eps": 1e-5, "lr": 0.5, "weight_decay": WD, "maximize": True},
        {"rho": 0.95, "eps": 1e-5, "lr": 0.5, "weight_decay": WD, "maximize": True},
        RefAdadelta,
    ),
    ("adam", {"lr": 0.05}, {"lr": 0.01}, RefAdam),
    (
        "adam",
        {"lr": 0.05, "amsgrad": True, "weight_decay": WD, "betas": (0.8, 0.99)},
        {"lr": 0.01, "amsgrad": True, "weight_decay": WD, "betas": (0.8, 0.99)},
        RefAdam,
    ),
    (
        "adam",
        {"lr": 0.05, "eps_placement": "inside", "maximize": True},
        {"lr": 0.01, "eps_placement": "inside", "maximize": True},
        RefAdam,
    ),
    ("adamw", {"lr": 0.05}, {"lr": 0.01}, RefAdam),
    (
        "adamw",
        {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "eps_placement": "inside"},
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "eps_placement": "inside"},
        RefAdam,
    ),
    ("adamax", {"lr": 0.05, "weight_decay": WD}, {"lr": 0.01, "weight_decay": WD}, RefAdamax),
    (
        "adamax",
        {"lr": 0.05, "variant": "lecture", "maximize": True},
        {"lr": 0.01, "variant": "lecture", "maximize": True},
        RefAdamax,
    ),
    (
        "maxprop",
        {"lr": 0.05, "beta": 0.99, "weight_decay": WD},
        {"lr": 0.005, "beta": 0.99, "weight_decay": WD},
        RefMaxProp,
    ),
    ("maxprop", {"lr": 0.05, "maximize": True}, {"lr": 0.005, "maximize": True}, RefMaxProp),
    ("nadam", {"lr": 0.05, "weight_decay": WD}, {"lr": 0.01, "weight_decay": WD}, RefNAdam),
    (
        "nadam",
        {
            "lr": 0.05,
            "weight_decay": 0.1,
            "decoupled_weight_decay": True,
            "momentum_decay": 0.01,
            "eps_placement": "inside",
        },
        {
            "lr": 0.01,
            "weight_decay": 0.1,
            "decoupled_weight_decay": True,
            "momentum_decay": 0.01,
            "eps_placement": "inside",
        },
        RefNAdam,
    ),
    ("nadam", {"lr": 0.05, "maximize": True}, {"lr": 0.01, "maximize": True}, RefNAdam),
    ("radam", {"lr": 0.05, "weight_decay": WD}, {"lr": 0.01, "weight_decay": WD}, RefRAdam),
    (
        "radam",
        {
            "lr": 0.05,
            "weight_decay": 0.1,
            "decoupled_weight_decay": True,
            "betas": (0.9, 0.99),
            "maximize": True,
        },
        {
            "lr": 0.01,
            "weight_decay": 0.1,
            "decoupled_weight_decay": True,
            "betas": (0.9, 0.99),
            "maximize": True,
        },
        RefRAdam,
    ),
    ("rprop", {}, {}, RefRprop),
    (
        "rprop",
        {"lr": 0.1, "etas": (0.4, 1.3), "step_sizes": (1e-3, 0.2), "maximize": True},
        {"lr": 0.1, "etas": (0.4, 1.3), "step_sizes": (1e-3, 0.2), "maximize": True},
        RefRprop,
    ),
    (
        "rprop",
        {"variant": "lecture", "lr": 0.1},
        {"variant": "lecture", "lr": 0.01},
        RefRpropLecture,
    ),
    ("newton", {}, {}, RefNewton),
    (
        "newton",
        {"lr": 0.5, "hessian_modification": "levenberg", "damping": 0.1},
        {"lr": 0.5, "hessian_modification": "levenberg", "damping": 0.1},
        RefNewton,
    ),
    ("newton", {"hessian_modification": "abs"}, {"hessian_modification": "abs"}, RefNewton),
    ("line_search", {}, {}, RefLineSearch),
    ("armijo", {}, {}, RefArmijo),
    (
        "armijo",
        {"lr": 0.5, "c": 0.3, "shrink": 0.7, "max_backtracks": 30},
        {"lr": 0.5, "c": 0.3, "shrink": 0.7, "max_backtracks": 30},
        RefArmijo,
    ),
]

SURFACES = {
    "quadratic": (Quadratic, np.array([2.0, -1.5])),
    "rosenbrock": (Rosenbrock, np.array([-1.2, 1.0])),
}


def _case_id(case):
    name, hq, _, _ = case
    extra = ",".join(f"{k}={v}" for k, v in hq.items() if k != "lr")
    return f"{name}[{extra}]" if extra else name


def _reference(name, hp, ref_cls, surf, x0):
    """The reference of a lockstep case on ``surf``, from ``x0``."""
    ref_hp = {k: v for k, v in hp.items() if k != "variant" or name != "rprop"}
    if name == "adamw":
        ref_hp = {"weight_decay": 1e-2, **ref_hp, "decoupled": True}
    return ref_cls(surf, np.array(x0, dtype=float), **ref_hp)


def _surface(hp, surf_name):
    """The lockstep case's surface (negated for maximize cases) and start."""
    make_surface, x0 = SURFACES[surf_name]
    base = make_surface()
    return (Negated(base) if hp.get("maximize") else base), x0


def reference_path(name, hp, ref_cls, surf, x0, steps=STEPS):
    """The reference's iterates x_0 ... x_steps on ``surf`` (anything with ``f`` and
    ``grad`` of a point), (steps + 1, 2), each step from its own iterate: what another
    way of running the optimizer is checked against."""
    ref = _reference(name, hp, ref_cls, surf, x0)
    path = [np.array(x0, dtype=float)]
    for t in range(1, steps + 1):
        path.append(ref.step(path[-1].copy(), np.asarray(surf.grad(path[-1])), t))
    return np.array(path)


def assert_lockstep(x, x_ref, t):
    """The lockstep criterion: ||x - x_ref|| <= 1e-12 max(||x_ref||, 1)."""
    assert np.all(np.isfinite(x)), f"step {t}: non-finite iterate {x}"
    err = np.linalg.norm(x - x_ref)
    scale = max(np.linalg.norm(x_ref), 1.0)
    assert err <= RTOL * scale, f"step {t}: {x} vs reference {x_ref} (error {err:.3g})"


def _run_lockstep(name, hp, ref_cls, surf_name):
    surf, x0 = _surface(hp, surf_name)
    ref = _reference(name, hp, ref_cls, surf, x0)
    opt = make_optimizer(name, **hp)
    oracle = Oracle(surf)
    x = x0.copy()
    x_ref = x0.copy()
    state = opt.init(x, oracle)
    for t in range(1, STEPS + 1):
        g = oracle.grad(x)
        x, state = opt.step(x, g, state, oracle, opt.lr, t)
        x_ref = ref.step(x_ref, surf.grad(x_ref), t)
        assert_lockstep(x, x_ref, t)
    return x


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
@pytest.mark.parametrize("surf_name", ["quadratic", "rosenbrock"])
def test_lockstep_against_reference(case, surf_name):
    """200 steps in lockstep with the reference written from the documented equations."""
    name, hq, hr, ref_cls = case
    hp = hq if surf_name == "quadratic" else hr
    _run_lockstep(name, hp, ref_cls, surf_name)


def test_every_optimizer_has_a_lockstep_case():
    from optiviz.optimizers import available

    covered = {c[0] for c in CASES}
    assert covered == set(available())


@pytest.mark.parametrize(
    "name, hp",
    [
        ("gd", {"lr": 0.1}),
        ("newton", {}),
        ("line_search", {}),
        ("armijo", {}),
        ("adam", {"lr": 0.05}),
        ("nesterov", {"lr": 0.05}),
    ],
)
def test_quadratic_runs_reach_the_minimizer(name, hp):
    """Sanity beside the lockstep: the quadratic runs end at w* = −A⁻¹b."""
    surf = Quadratic()
    opt = make_optimizer(name, **hp)
    oracle = Oracle(surf)
    x = np.array([2.0, -1.5])
    state = opt.init(x, oracle)
    for t in range(1, 2001):
        x, state = opt.step(x, oracle.grad(x), state, oracle, opt.lr, t)
    np.testing.assert_allclose(x, surf.x_star, atol=1e-6)
