"""Methods that look at more of the surface than one gradient: ``newton`` (Hessian),
``line_search`` (exact line search along −∇f) and ``armijo`` (backtracking).

Every evaluation goes through the oracle, so the engine counts f / gradient / Hessian calls.
All three work on R runs at once: per-run quantities have shape (R, 1) ((1,) for a single run).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiviz.optimizers._util import column, drop_quantities, lr_param, row_sum
from optiviz.optimizers.base import Optimizer, Param, register

# -- Newton --------------------------------------------------------------------------------


def _solve(H: np.ndarray, g: np.ndarray, xp: Any = np) -> np.ndarray:
    """Solve H d = g over a batch; a singular system gives a non-finite d instead of raising
    (``xp``: the array namespace; jax.numpy's solve never raises)."""
    if xp is not np:
        return xp.linalg.solve(H, g[..., None])[..., 0]
    try:
        return np.linalg.solve(H, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        if H.ndim == 2:
            return np.full(g.shape, np.nan)
        out = np.empty(g.shape)
        for r in range(H.shape[0]):
            try:
                out[r] = np.linalg.solve(H[r], g[r])
            except np.linalg.LinAlgError:
                out[r] = np.nan
        return out


def _abs_solve(H: np.ndarray, g: np.ndarray, xp: Any = np):
    """d = |H|⁻¹ g with |H| = V |Λ| Vᵀ rebuilt from the absolute eigenvalues (eigh)."""
    if xp is not np:
        w, V = xp.linalg.eigh(H)
        coef = xp.einsum("...ji,...j->...i", V, g)
        return xp.einsum("...ij,...j->...i", V, coef / xp.abs(w)), w
    try:
        w, V = np.linalg.eigh(H)
    except np.linalg.LinAlgError:
        return np.full(g.shape, np.nan), np.full(g.shape, np.nan)
    coef = np.einsum("...ji,...j->...i", V, g)
    with np.errstate(all="ignore"):
        d = np.einsum("...ij,...j->...i", V, coef / np.abs(w))
    return d, w


@register
class Newton(Optimizer):
    """Newton's method with an optional modification for indefinite Hessians."""

    name = "newton"
    order = 2
    lr_factor_name = "|γ d_i / g_i|: Newton step per unit gradient (γ where g_i = 0)"
    equations = """\
γ = lr, hessian_modification, δ = damping
  g ← ∇f(θ),  H ← ∇²f(θ)    (one Hessian evaluation per step)
  hessian_modification = "none":       solve H d = g
                       = "abs":        H = V Λ Vᵀ (eigh);  d = V |Λ|⁻¹ Vᵀ g  (saddle-free)
                       = "levenberg":  solve (H + δ I) d = g
  θ ← θ − γ d
A singular (H + δI) makes d non-finite (the engine reports divergence); nothing is raised.
lr factor: |γ d_i / g_i| per coordinate (γ where g_i = 0): the step a GD method would have
  needed on that coordinate to move as far."""
    params = {
        "lr": lr_param(1.0, "γ: scale of the Newton step (1 = full step)"),
        "hessian_modification": Param(
            "none",
            "choice",
            choices=("none", "abs", "levenberg"),
            batchable=False,
            doc="how an indefinite Hessian is handled",
        ),
        "damping": Param(
            1e-3, "float", low=0.0, doc="δ: added to the Hessian's diagonal ('levenberg')"
        ),
    }
    quantities = {
        "g": "gradient g",
        "H": "Hessian H (after the modification)",
        "eigenvalues": "eigenvalues of H ('abs')",
        "direction": "Newton direction d",
        "eff_lr": "lr factor |γd/g|",
        "update": "update γd (θ ← θ − update)",
    }

    def _check(self):
        if self.h["hessian_modification"] != "abs":
            drop_quantities(self, "eigenvalues")

    def init(self, x0, oracle, x_prev=None):
        return {}

    def step(self, x, g, state, oracle, lr, t):
        xp = self.xp
        H = oracle.hess(x)
        mode = self.h["hessian_modification"]
        w = None
        if mode == "levenberg":
            damping = self.h["damping"]
            if isinstance(damping, np.ndarray):
                damping = damping[..., None]
            H = H + damping * xp.eye(H.shape[-1])
        if mode == "abs":
            d, w = _abs_solve(H, g, xp)
        else:
            d = _solve(H, g, xp)
        upd = lr * d
        with np.errstate(all="ignore"):
            eff = xp.where(g != 0, xp.abs(upd / xp.where(g != 0, g, 1.0)), lr)
        return x - upd, {
            "g": g,
            "H": H,
            "eigenvalues": w,
            "direction": d,
            "eff_lr": eff,
            "update": upd,
        }


# -- exact line search -----------------------------------------------------------------------


#: Scan grid of the line search: α0 · 2^(k/2), k = −60 … 60 (121 trial steps around α0).
_GRID = 2.0 ** (np.arange(-60, 61) / 2.0)


def exact_line_search(
    oracle, x, g, alpha0, max_step=np.inf, tol=1e-12, max_iter=100, n_candidates=3
):
    """α = argmin_{0 ≤ α ≤ max_step} φ(α), φ(α) = f(x − α g), for every run at once.

    1. Scan: φ and φ'(α) = −g·∇f(x − αg) on the grid α0·2^(k/2), k = −60 … 60 (capped at
       ``max_step``), in one batched oracle call. Every grid cell where φ' goes from < 0 to
       ≥ 0 brackets a local minimizer; the ``n_candidates`` cells with the lowest φ are kept.
    2. Refine each bracket with the Illinois (safeguarded secant) method on φ', falling back
       to bisection when the secant point leaves the bracket, until |φ'(α)| ≤ tol·‖g‖²
       (i.e. |α − α*| ≲ tol·α*) or the bracket is narrower than tol·α. On a quadratic
       restriction the first secant step is exact (φ' is linear).
    3. Keep the refined minimizer with the lowest φ (the smallest α among values within the
       rounding noise of f). No bracket (φ still falling at the end of the grid): the largest
       grid step. ‖g‖ = 0 or a non-finite f(x): α = 0.

    ``x`` and ``g`` are (R, n) or (n,); ``alpha0`` broadcasts to (R, 1) / (1,). Returns
    (α with shape (R, 1) / (1,), number of oracle calls).
    """
    shape = (1,) if x.ndim == 1 else (x.shape[0], 1)
    n = x.shape[-1]
    X = x.reshape(-1, n)
    G = g.reshape(-1, n)
    R = X.shape[0]
    gg = np.sum(G * G, axis=1)
    calls = 0
    with np.errstate(all="ignore"):
        f0 = np.asarray(oracle.value(X), dtype=float).reshape(R)
        calls += 1
        alpha = np.zeros(R)
        active = (gg > 0) & np.isfinite(gg) & np.isfinite(f0)
        if not active.any():
            return alpha.reshape(shape), calls
        a0 = np.broadcast_to(np.asarray(alpha0, dtype=float).reshape(-1), (R,))
        A = np.minimum(a0[:, None] * _GRID[None, :], max_step)
        A = np.concatenate([np.zeros((R, 1)), A], axis=1)  # (R, K): φ(0) = f0, φ'(0) = −gg
        F, GR = oracle.value_and_grad(X[:, None, :] - A[..., None] * G[:, None, :])
        calls += 1
        F = np.asarray(F, dtype=float).reshape(A.shape)
        D = -np.einsum("rn,rkn->rk", G, GR)
        F[:, 0], D[:, 0] = f0, -gg
        bad = ~(np.isfinite(F) & np.isfinite(D))
        F = np.where(bad, np.inf, F)
        D = np.where(bad, np.inf, D)  # overflow counts as "past the minimum"
        dtol = tol * gg
        fnoise = 16.0 * np.finfo(float).eps * np.abs(f0)
        falling = D < -dtol[:, None]
        cells = falling[:, :-1] & ~falling[:, 1:] & active[:, None]  # (R, K − 1)
        score = np.where(cells, np.minimum(F[:, :-1], F[:, 1:]), np.inf)
        C = min(n_candidates, score.shape[1])
        pick = np.argsort(score, axis=1, kind="stable")[:, :C]  # (R, C) cell indices
        valid = np.take_along_axis(cells, pick, axis=1)
        # no bracket: φ falls over the whole grid -> the largest step scanned
        none = active & ~valid.any(axis=1)
        alpha = np.where(none, A[:, -1], alpha)

        rows = np.repeat(np.arange(R), C)
        Xc, Gc = X[rows], G[rows]
        k = pick.reshape(-1)
        lo, hi = A[rows, k], A[rows, k + 1]
        dlo, dhi = D[rows, k], D[rows, k + 1]
        flo, fhi = F[rows, k], F[rows, k + 1]
        tol_c = dtol[rows]
        refine = valid.reshape(-1).copy()
        res_a = np.where(refine & (np.abs(dhi) <= tol_c), hi, np.nan)
        res_f = np.where(refine & (np.abs(dhi) <= tol_c), fhi, np.inf)
        refine &= np.isnan(res_a)
        dlo_s, dhi_s = dlo.copy(), dhi.copy()
        last = np.zeros(lo.shape, dtype=int)  # +1: hi moved last, −1: lo moved last
        for _ in range(max_iter):
            if not refine.any():
                break
            width = hi - lo
            a_sec = lo - dlo_s * width / (dhi_s - dlo_s)
            use_sec = (a_sec > lo) & (a_sec < hi)
            a = np.where(refine, np.where(use_sec, a_sec, lo + 0.5 * width), lo)
            fa, ga = oracle.value_and_grad(Xc - a[:, None] * Gc)
            calls += 1
            fa = np.asarray(fa, dtype=float).reshape(a.shape)
            da = -np.sum(Gc * ga, axis=1)
            finite = np.isfinite(fa) & np.isfinite(da)
            hit = refine & finite & (np.abs(da) <= tol_c)
            res_a = np.where(hit, a, res_a)
            res_f = np.where(hit, fa, res_f)
            refine &= ~hit
            down = refine & finite & (da < 0)
            up = refine & ~down
            lo, dlo, flo = np.where(down, a, lo), np.where(down, da, dlo), np.where(down, fa, flo)
            dhi_new = np.where(finite, da, np.inf)
            hi, dhi, fhi = np.where(up, a, hi), np.where(up, dhi_new, dhi), np.where(up, fa, fhi)
            # Illinois: halve the value at an end kept twice in a row, so the secant moves it
            dlo_s = np.where(down, dlo, np.where(up & (last == 1), 0.5 * dlo_s, dlo_s))
            dhi_s = np.where(up, dhi, np.where(down & (last == -1), 0.5 * dhi_s, dhi_s))
            last = np.where(up, 1, np.where(down, -1, last))
            narrow = refine & (hi - lo <= tol * hi)
            use_hi = np.abs(dhi) < np.abs(dlo)
            res_a = np.where(narrow, np.where(use_hi, hi, lo), res_a)
            res_f = np.where(narrow, np.where(use_hi, fhi, flo), res_f)
            refine &= ~narrow
        # out of iterations: the lower end (φ' < 0 there, φ below its left neighbour)
        res_a = np.where(refine, lo, res_a)
        res_f = np.where(refine, flo, res_f)

        res_a = res_a.reshape(R, C)
        res_f = np.where(np.isnan(res_a), np.inf, res_f.reshape(R, C))
        best_f = res_f.min(axis=1)
        near = res_f <= (best_f + fnoise)[:, None]
        chosen = np.where(near, np.nan_to_num(res_a, nan=np.inf), np.inf).min(axis=1)
        has = active & valid.any(axis=1)
        alpha = np.where(has, chosen, alpha)
    return alpha.reshape(shape), calls


@register
class LineSearch(Optimizer):
    """Gradient descent with exact line search along the negative gradient (notes 002)."""

    name = "line_search"
    searches_step = True
    lr_factor_name = "α: step length found by the line search"
    equations = """\
α_max = max_step, tol, max_iter   (lecture notes 002: GD with exact line search)
  g ← ∇f(θ),  d = −g
  α = argmin_{0 ≤ α ≤ α_max} f(θ + α d)   (the first local minimizer along the ray)
  θ ← θ + α d
How α is found (vectorized over runs, through the oracle's f and ∇f):
  1. scan φ(α) = f(θ − α g) and φ'(α) = −g·∇f(θ − α g) on the grid α0·2^(k/2), k = −60 … 60
     (α0 = the previous step's α, 1/‖g‖ at the first step; capped at α_max), one batched call;
  2. every cell where φ' turns from < 0 to ≥ 0 brackets a local minimizer: the 3 lowest are
     refined by a safeguarded secant (Illinois) on φ' to |φ'(α)| ≤ tol·‖g‖², i.e.
     |α − α*| ≲ tol·α* (exact after one secant step when the restriction is quadratic,
     α = gᵀg / gᵀHg);
  3. the refined minimizer with the lowest φ is taken (the global one along the scanned
     range). φ still falling at the end of the grid: the largest step scanned.
  The lr (and any schedule) is not used.
lr factor: α (one per run)"""
    params = {
        "max_step": Param(
            np.inf, "float", low=0.0, low_open=True, doc="α_max: largest step allowed"
        ),
        "tol": Param(
            1e-12,
            "float",
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
            doc="relative tolerance on α",
        ),
        "max_iter": Param(
            100,
            "int",
            low=1,
            high=10000,
            batchable=False,
            doc="largest number of refinement evaluations per step",
        ),
    }
    quantities = {
        "g": "gradient g",
        "alpha": "step length α",
        "n_calls": "oracle calls used by the search",
        "eff_lr": "lr factor α",
        "update": "update αg (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        return {"alpha": None}

    def step(self, x, g, state, oracle, lr, t):
        with np.errstate(all="ignore"):
            alpha0 = 1.0 / np.sqrt(row_sum(g * g))
        prev = state.get("alpha")
        if prev is not None:  # the previous step's α, where it is usable
            alpha0 = np.where(np.isfinite(prev) & (prev > 0), prev, alpha0)
        alpha0 = np.where(np.isfinite(alpha0) & (alpha0 > 0), alpha0, 1.0)
        alpha, n = exact_line_search(
            oracle, x, g, alpha0, self.h["max_step"], self.h["tol"], self.h["max_iter"]
        )
        upd = alpha * g
        return x - upd, {"g": g, "alpha": alpha, "n_calls": n, "eff_lr": alpha, "update": upd}


# -- Armijo backtracking ----------------------------------------------------------------------


@register
class Armijo(Optimizer):
    """Gradient descent with Armijo backtracking (sufficient decrease)."""

    name = "armijo"
    searches_step = True
    lr_factor_name = "α: step length accepted by backtracking"
    equations = """\
γ = lr (first trial step), c, ρ = shrink, K = max_backtracks
  g ← ∇f(θ)
  α ← γ;  while f(θ − α g) > f(θ) − c α ‖g‖² and fewer than K shrinks:  α ← ρ α
  θ ← θ − α g
(vectorized: every run backtracks on its own; after K shrinks the last α = γ ρᴷ is taken)
lr factor: α (one per run)"""
    params = {
        "lr": lr_param(1.0, "γ: first trial step"),
        "c": Param(
            1e-4,
            "float",
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
            doc="sufficient-decrease constant",
        ),
        "shrink": Param(
            0.5,
            "float",
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
            doc="ρ: factor applied to α on each rejection",
        ),
        "max_backtracks": Param(
            50,
            "int",
            low=0,
            high=10000,
            batchable=False,
            doc="K: largest number of shrinks per step",
        ),
    }
    quantities = {
        "g": "gradient g",
        "alpha": "accepted step α",
        "backtracks": "number of shrinks",
        "eff_lr": "lr factor α",
        "update": "update αg (θ ← θ − update)",
    }

    def init(self, x0, oracle, x_prev=None):
        return {}

    def step(self, x, g, state, oracle, lr, t):
        c, rho = self.h["c"], self.h["shrink"]
        gg = row_sum(g * g)
        f0 = column(oracle.value(x), x)
        alpha = np.zeros_like(gg) + lr
        k = np.zeros(gg.shape, dtype=int)
        active = np.ones(gg.shape, dtype=bool)
        for i in range(self.h["max_backtracks"] + 1):
            with np.errstate(all="ignore"):
                ft = column(oracle.value(x - alpha * g), x)
                ok = ft <= f0 - c * alpha * gg
            active &= ~ok
            if i == self.h["max_backtracks"] or not active.any():
                break
            alpha = np.where(active, alpha * rho, alpha)
            k = k + active
        upd = alpha * g
        return x - upd, {"g": g, "alpha": alpha, "backtracks": k, "eff_lr": alpha, "update": upd}
