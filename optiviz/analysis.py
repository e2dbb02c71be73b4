"""Analysis of a surface through its Hessian: stationary points, learning rates, theory vs runs.

::

    import optiviz
    s = optiviz.load_surface("seed_diagonal")
    a = optiviz.analyze(s)
    a.minimum.eta["stability_limit"]        # 2 / lambda_max = 0.25
    a.to_dict()                             # JSON-safe; optiviz.report renders it

What is computed (each piece is also a plain function of this module):

* **Stationary points** (``grad f = 0``). A quadratic (degree <= 2) is solved as the linear
  system ``H x = -b``. Another polynomial with rational coefficients and a small system
  (at most 4 variables and a Bezout bound ``prod(deg grad_i) <= 36``) is solved
  symbolically: a lex Groebner basis (sympy), exact real roots of its univariate element,
  numeric back-substitution, then two Newton polishing steps in float64. The symbolic job
  runs in a daemon worker thread and is abandoned after ``time_budget`` seconds (it cannot
  be interrupted; the size bound keeps that rare). Everything else (transcendental
  surfaces, Goldstein-Price's degree-7 gradient, data surfaces) uses a **numeric
  multi-start Newton** search on the gradient: starts on a grid (n <= 2) or a seeded Latin
  hypercube in ``surface.window`` plus the surface's known minima, all stepped together as
  one ``(S, n)`` array; the Newton direction uses the pseudo-inverse of the Hessian (so
  saddles and maxima are found too), is capped at a quarter of the window diagonal and
  backtracked on ``||grad||``; converged points (``||grad|| < 1e-10`` relative to the
  gradient scale) inside the window enlarged by half its width on each side are
  de-duplicated (tolerance ``1e-6`` of the window diagonal).
* **Classification** from the Hessian eigenvalues (``numpy.linalg.eigh``, tolerance
  ``1e-9 * max|lambda|``): minimum, maximum, saddle or degenerate. Minima come first,
  sorted by value.
* **Learning rates** at each minimum (and at ``at=``): per-direction ``1/lambda_i``,
  ``1/lambda_max`` (the notes' "optimal" rate), the stability limit ``2/lambda_max``, the
  best fixed step ``2/(lambda_min + lambda_max)`` with contraction ``(kappa-1)/(kappa+1)``,
  and the optimal heavy-ball pair ``lr = 4/(sqrt(l_max) + sqrt(l_min))^2``,
  ``momentum = ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2`` with rate ``sqrt(momentum)``; heavy
  ball is stable for ``0 < lr lambda < 2 + 2 momentum``. The Newton step ``-H^-1 grad``.
* **Regularization** through the quadratic model: the L2 optimum ``(H + aI)^-1 H w*`` with
  shrink factors ``lambda_i / (lambda_i + a)`` (no minimizer when ``H + aI`` is not positive
  definite); the L1 soft-threshold ``w*_i - sign(w*_i) a / H_ii`` clipped at 0, exact for a
  diagonal Hessian; otherwise flagged as an approximation, with the true optimum of the
  model beside it from cyclic coordinate descent (exact minimization along one
  coordinate at a time is a soft-threshold; it converges for a positive semidefinite H).
  Early stopping: GD from the origin after t steps keeps the factors
  ``1 - (1 - lr lambda_i)^t`` of ``w*`` per eigen-direction.
* **Theory beside measurement**: the linear rate measured on a trajectory (a least-squares
  fit of ``log ||x_t - x*||`` over the second half of the steps before the distance reaches
  round-off, ``1e-12`` of the scale; robust to the oscillation of heavy ball) next to the
  rate predicted from the Hessian at the minimum (exact on a quadratic, "local" otherwise):
  GD ``max_i |1 - lr lambda_i|``; heavy ball and Nesterov the spectral radius of their 2x2
  iteration matrices per eigenvalue (torch's buffer forms give the same iteration in x).
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiviz.errors import OptivizError, SurfaceError
from optiviz.optimizers import REGISTRY
from optiviz.optimizers.sgd import GD, Momentum, Nesterov

Array = np.ndarray

__all__ = [
    "Analysis",
    "PointAnalysis",
    "RunComparison",
    "Sharpness",
    "ERRATA",
    "analyze",
    "classify",
    "stationary_points",
    "point_analysis",
    "bounded_below",
    "regularization",
    "l2_optimum",
    "l1_optimum",
    "early_stopping_factors",
    "gd_rate",
    "heavy_ball_rate",
    "nesterov_rate",
    "predicted_rate",
    "measured_rate",
    "compare_runs",
    "sharpness_along",
    "lr_relative_to_eta_opt",
    "gd_closed_form",
    "table_points",
]

KINDS = ("minimum", "saddle", "maximum", "degenerate")
#: Relative tolerance on Hessian eigenvalues (of max |lambda|) for the classification.
EIG_TOL = 1e-9
#: Symbolic solving is attempted only below these sizes (Bezout bound, number of variables).
SYMBOLIC_MAX_BEZOUT = 36
SYMBOLIC_MAX_VARS = 4
#: Largest number of stationary points reported (a continuum gives many numeric points).
MAX_POINTS = 50

# -- slide errata (one table, keyed by surface name) ------------------------------------------
#: Errors in the lecture slides, shown in the notes whenever the surface is analyzed. The
#: numbers are the corrected answers of docs/worked-problems (tests check them against the
#: computed values).
ERRATA: dict[str, list[str]] = {
    "seed_diagonal": [
        "the largest learning rate that converges is 2/lambda_max = 0.25 (the slide says "
        "0.333: min(2/6, 2/4, 2/8) is 0.25)",
        "the slide's 'optimal learning rate' 1/lambda_max = 0.125 only zeroes the steepest "
        "direction in one step; the fixed step with the fastest worst-case rate is "
        "2/(lambda_min + lambda_max) = 0.166667, contracting by 1/3 per step",
    ],
    "seed_quadratic": [
        "the RProp slide prints +0.4167 for dE/dw1 at w(t) = (1.5, 2); the gradient there is "
        "(-0.416667, -0.194444), so neither coordinate changes sign and the lecture RProp "
        "step gives (2.25, 3.5), not (1.3, 3.5)",
        "the Nesterov slide writes the look-ahead as '1.5 + 0.9*1.5'; it is 1.5 + 0.9*0.5 = "
        "1.95 (and 2 + 0.9*1 = 2.9); the printed results (2.0525, 2.920833) are right",
    ],
    "seed_saddle": [
        "the slide answers (0, 0) for the L2-regularized minimizer; (0, 0) is a saddle "
        "(Hessian eigenvalues 10.324555 and -2.324555), the loss is unbounded below and "
        "adding 0.1 I leaves the Hessian indefinite: there is no minimizer",
    ],
    "seed_l1": [
        "the slide writes theta* = 1/6 on one line; the unregularized optimum is x = 1 and "
        "the slide's final answer (0.983333, 0) = (1 - 0.1/6, 0) is right",
    ],
}


# =============================================================================================
# Small numeric helpers
# =============================================================================================
def _f(v: Any) -> float | None:
    """A JSON-safe float: None for None / nan / inf."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _jsonable(obj: Any) -> Any:
    """Recursively turn numpy values into floats / lists, non-finite floats into None."""
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _f(obj)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def _fmt_point(x: Iterable[float]) -> str:
    return "(" + ", ".join(f"{float(v) + 0.0:.6g}" for v in x) + ")"


def _sym(H: Array) -> Array:
    H = np.asarray(H, dtype=float)
    return (H + np.swapaxes(H, -1, -2)) / 2


def _eigh(H: Array) -> tuple[Array, Array]:
    """Eigenvalues (ascending) and eigenvectors (columns) with a deterministic sign: the
    largest-magnitude component of each eigenvector is positive."""
    lam, V = np.linalg.eigh(_sym(H))
    idx = np.argmax(np.abs(V), axis=0)
    signs = np.sign(V[idx, np.arange(V.shape[1])])
    signs[signs == 0] = 1.0
    return lam, V * signs


def classify(eigenvalues: Sequence[float], tol: float = EIG_TOL, abs_tol: float = 0.0) -> str:
    """'minimum', 'maximum', 'saddle' or 'degenerate' from Hessian eigenvalues.

    An eigenvalue counts as zero when ``|lambda| <= max(tol * max|lambda|, abs_tol)``
    (``abs_tol``: for numerically located points, a floor relative to the surface's
    typical curvature).
    """
    lam = np.asarray(eigenvalues, dtype=float)
    scale = float(np.max(np.abs(lam))) if lam.size else 0.0
    if not np.all(np.isfinite(lam)) or scale == 0.0:
        return "degenerate"
    t = max(tol * scale, abs_tol)
    pos, neg = lam > t, lam < -t
    if pos.all():
        return "minimum"
    if neg.all():
        return "maximum"
    if pos.any() and neg.any():
        return "saddle"
    return "degenerate"


def _is_data(surface: Any) -> bool:
    return getattr(surface, "n_samples", None) is not None


def _is_quadratic(surface: Any) -> bool:
    if _is_data(surface):
        return False
    try:
        return bool(surface.is_polynomial) and (surface.degree or 0) <= 2
    except Exception:  # noqa: BLE001 - a surface without symbolic form
        return False


def _run_with_timeout(fn: Callable[[], Any], timeout: float) -> tuple[bool, Any]:
    """Run ``fn`` in a daemon thread; ``(True, result)`` or ``(False, None)`` on timeout.

    A thread cannot be interrupted: a job that overruns keeps running in the background
    (daemon, so it never blocks interpreter exit) and its result is discarded.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except Exception as exc:  # noqa: BLE001 - reported to the caller as a failure
            box["error"] = exc

    th = threading.Thread(target=target, name="optiviz-symbolic-solve", daemon=True)
    th.start()
    th.join(max(0.0, timeout))
    if th.is_alive() or "error" in box:
        return False, None
    return True, box["result"]


# =============================================================================================
# Per-point analysis: Hessian spectrum and learning rates
# =============================================================================================
@dataclass
class PointAnalysis:
    """The local picture at one point: value, gradient, Hessian spectrum, learning rates.

    ``kind`` is the classification of a stationary point, or ``None`` at a point where the
    gradient is not zero (an ``at=`` point). ``eta`` and ``momentum`` are defined where the
    Hessian is positive definite (the local quadratic model has a minimum).
    """

    point: Array
    value: float
    kind: str | None
    gradient: Array
    hessian: Array
    eigenvalues: Array
    eigenvectors: Array  # columns
    exact: bool = False  # the quadratic model is the surface (a quadratic)
    eig_tol: float = 0.0  # absolute floor below which an eigenvalue counts as zero
    #: On a kink of a piecewise surface (the argument of a relu/Max/Min/abs at its switch):
    #: the Hessian there is one-sided, so ``kind`` and the learning rates are not reliable.
    at_kink: bool = False

    # -- spectrum ------------------------------------------------------------------------
    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def lambda_min(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def positive_definite(self) -> bool:
        return classify(self.eigenvalues, abs_tol=self.eig_tol) == "minimum"

    @property
    def condition_number(self) -> float | None:
        """kappa = lambda_max / lambda_min, or None unless the Hessian is positive definite."""
        if not self.positive_definite:
            return None
        return self.lambda_max / self.lambda_min

    # -- learning rates ------------------------------------------------------------------
    @property
    def eta(self) -> dict | None:
        """Learning rates of GD on the local quadratic model (None unless H is PD).

        ``per_direction`` follows ``eigenvalues`` (ascending); ``inverse_lambda_max`` is the
        notes' "optimal" rate (contraction ``1 - 1/kappa``); ``stability_limit`` the
        exclusive upper bound ``2/lambda_max``; ``optimal_fixed`` the step with the best
        worst-case contraction ``optimal_rate = (kappa-1)/(kappa+1)``.
        """
        if not self.positive_definite:
            return None
        lo, hi = self.lambda_min, self.lambda_max
        kappa = hi / lo
        return {
            "per_direction": [1.0 / float(v) for v in self.eigenvalues],
            "inverse_lambda_max": 1.0 / hi,
            "inverse_lambda_max_rate": 1.0 - 1.0 / kappa,
            "stability_limit": 2.0 / hi,
            "optimal_fixed": 2.0 / (lo + hi),
            "optimal_rate": (kappa - 1.0) / (kappa + 1.0),
        }

    @property
    def momentum(self) -> dict | None:
        """Optimal heavy-ball pair (Polyak) on the local quadratic model (None unless PD)."""
        if not self.positive_definite:
            return None
        best = Momentum.optimal_hyperparameters(self.lambda_min, self.lambda_max)
        if best is None:
            return None
        return {
            "lr": best["lr"],
            "momentum": best["momentum"],
            "rate": best["rate"],
            "max_lr": self.max_lr_for_momentum(best["momentum"]),
            "stability": "0 < lr*lambda < 2 + 2*momentum for every eigenvalue lambda",
        }

    def max_lr_for_momentum(self, momentum: float) -> float | None:
        """Heavy ball converges for ``0 < lr < (2 + 2 momentum) / lambda_max`` (0 <= mu < 1)."""
        if self.lambda_max <= 0:
            return None
        return (2.0 + 2.0 * float(momentum)) / self.lambda_max

    def gd_rate(self, lr: float) -> float:
        return gd_rate(self.eigenvalues, lr)

    def heavy_ball_rate(self, lr: float, momentum: float) -> float:
        return heavy_ball_rate(self.eigenvalues, lr, momentum)

    def early_stopping_factors(self, lr: float, t: int | Array) -> Array:
        return early_stopping_factors(self.eigenvalues, lr, t)

    # -- Newton --------------------------------------------------------------------------
    @property
    def newton_step(self) -> Array | None:
        """``-H^-1 grad`` (None when the Hessian is singular)."""
        lam = self.eigenvalues
        scale = float(np.max(np.abs(lam))) if lam.size else 0.0
        if scale == 0.0 or np.min(np.abs(lam)) <= EIG_TOL * scale:
            return None
        V = self.eigenvectors
        return -(V @ ((V.T @ self.gradient) / lam))

    @property
    def newton(self) -> dict | None:
        step = self.newton_step
        if step is None:
            return None
        return {
            "step": step,
            "point": self.point + step,
            "one_step_to_minimum": bool(self.exact and self.positive_definite),
        }

    # -- output --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return _jsonable(
            {
                "point": self.point,
                "value": self.value,
                "kind": self.kind,
                "gradient": self.gradient,
                "hessian": self.hessian,
                "eigenvalues": self.eigenvalues,
                "eigenvectors": self.eigenvectors.T,  # eigenvectors[i] is the i-th eigenvector
                "condition_number": self.condition_number,
                "eta": self.eta,
                "momentum": self.momentum,
                "newton": self.newton,
                "at_kink": self.at_kink,
            }
        )


def point_analysis(
    surface: Any,
    x: Any,
    *,
    kind: str | None = "auto",
    exact: bool | None = None,
    eig_tol: float = 0.0,
) -> PointAnalysis:
    """Evaluate value, gradient and Hessian at ``x`` and build a :class:`PointAnalysis`.

    ``kind="auto"`` classifies the point if its gradient is (numerically) zero and gives
    ``None`` otherwise.
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.shape != (surface.n,):
        raise SurfaceError(
            f"the point {list(map(float, x))} must have {surface.n} coordinates "
            f"({', '.join(surface.variables)})"
        )
    with np.errstate(all="ignore"):
        value = float(surface.f(x, check=False))
        g = np.asarray(surface.grad(x, check=False), dtype=float).reshape(-1)
        H = _sym(surface.hess(x, check=False))
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
        raise SurfaceError(
            f"the gradient or Hessian of surface {surface.name!r} is not finite at {_fmt_point(x)}"
        )
    lam, V = _eigh(H)
    if kind == "auto":
        gscale = max(1.0, float(np.max(np.abs(H))) * (1.0 + float(np.max(np.abs(x)))))
        kind = classify(lam, abs_tol=eig_tol) if np.linalg.norm(g) <= 1e-8 * gscale else None
    if exact is None:
        exact = _is_quadratic(surface)
    return PointAnalysis(x, value, kind, g, H, lam, V, exact=bool(exact), eig_tol=eig_tol)


# =============================================================================================
# Stationary points
# =============================================================================================
def _newton_polish(surface: Any, X: Array, iters: int = 2) -> Array:
    """A few undamped Newton steps on grad f (pseudo-inverse), for points already close."""
    X = np.array(X, dtype=float, copy=True)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            G = surface.grad(X, check=False)
            H = _sym(surface.hess(X, check=False))
            ok = np.all(np.isfinite(G), axis=-1) & np.all(np.isfinite(H), axis=(-1, -2))
            if not ok.any():
                break
            D = np.zeros_like(X)
            D[ok] = _pinv_solve(H[ok], G[ok])
            X = X - D
    return X


def _pinv_solve(H: Array, G: Array) -> Array:
    """``H^+ G`` for stacks (S, n, n), (S, n) via eigh; tiny eigenvalues are dropped."""
    lam, V = np.linalg.eigh(H)
    scale = np.max(np.abs(lam), axis=-1, keepdims=True)
    keep = np.abs(lam) > 1e-12 * np.maximum(scale, 1e-300)
    inv = np.where(keep, 1.0 / np.where(keep, lam, 1.0), 0.0)
    c = np.einsum("sji,sj->si", V, G) * inv
    return np.einsum("sij,sj->si", V, c)


def _dedupe(X: Array, tol: float) -> Array:
    out: list[Array] = []
    for x in X:
        if not any(np.max(np.abs(x - y)) <= tol for y in out):
            out.append(x)
    return np.array(out).reshape(-1, X.shape[-1]) if out else np.zeros((0, X.shape[-1]))


def _starts(surface: Any, n_starts: int | None, seed: int = 0) -> Array:
    n = surface.n
    lo, hi = surface.window[:, 0], surface.window[:, 1]
    if n_starts is None:
        n_starts = 400 if n <= 2 else min(4000, 150 * n)
    n_starts = max(1, int(n_starts))
    if n <= 2:
        k = max(1, int(math.ceil(n_starts ** (1.0 / n))))
        axes = [lo[i] + (np.arange(k) + 0.5) / k * (hi[i] - lo[i]) for i in range(n)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, n)
    else:
        rng = np.random.default_rng(seed)
        u = np.argsort(rng.random((n, n_starts)), axis=1).T + rng.random((n_starts, n))
        grid = lo + u / n_starts * (hi - lo)
    known = [m.point for m in getattr(surface, "minima", []) or []]
    if known:
        grid = np.vstack([grid, np.array(known, dtype=float).reshape(-1, n)])
    return grid


def _numeric_stationary(
    surface: Any, n_starts: int | None, time_budget: float, max_iter: int = 80
) -> tuple[Array, dict]:
    """Multi-start damped Newton on grad f, all starts stepped together as (S, n)."""
    t0 = time.perf_counter()
    X = _starts(surface, n_starts)
    S, n = X.shape
    lo, hi = surface.window[:, 0], surface.window[:, 1]
    width = hi - lo
    diag = float(np.linalg.norm(width))
    max_step = 0.25 * diag
    with np.errstate(all="ignore"):
        G = surface.grad(X, check=False)
        gn = np.linalg.norm(G, axis=-1)
        finite0 = np.isfinite(gn)
        gscale = float(np.median(gn[finite0])) if finite0.any() else 1.0
        gtol = 1e-10 * max(1.0, gscale)
        alive = finite0.copy()
        done = alive & (gn <= gtol)
        curvature = 0.0
        small_step = np.zeros(S, dtype=bool)
        it = 0
        for it in range(max_iter):  # noqa: B007 - reported below
            work = alive & ~done
            if not work.any() or time.perf_counter() - t0 > time_budget:
                break
            idx = np.nonzero(work)[0]
            H = _sym(surface.hess(X[idx], check=False))
            okh = np.all(np.isfinite(H), axis=(-1, -2))
            if it == 0 and okh.any():
                curv = np.max(np.abs(np.linalg.eigvalsh(H[okh])), axis=-1)
                curvature = float(np.median(curv))
            alive[idx[~okh]] = False
            idx, H = idx[okh], H[okh]
            if idx.size == 0:
                break
            D = -_pinv_solve(H, G[idx])
            dn = np.linalg.norm(D, axis=-1)
            D *= np.minimum(1.0, max_step / np.maximum(dn, 1e-300))[:, None]
            # backtracking on ||grad||
            t = np.ones(idx.size)
            acc = np.zeros(idx.size, dtype=bool)
            Xn = X[idx].copy()
            Gn = G[idx].copy()
            for _ in range(12):
                todo = ~acc
                Xt = X[idx[todo]] + t[todo, None] * D[todo]
                Gt = surface.grad(Xt, check=False)
                nt = np.linalg.norm(Gt, axis=-1)
                ok = np.isfinite(nt) & (nt < gn[idx[todo]] * (1 - 1e-4 * t[todo]))
                sel = np.nonzero(todo)[0][ok]
                Xn[sel], Gn[sel] = Xt[ok], Gt[ok]
                acc[sel] = True
                t[np.nonzero(todo)[0][~ok]] *= 0.5
                if acc.all():
                    break
            # no decrease even with a tiny step: stalled (a flat or non-smooth region)
            step_len = np.linalg.norm(Xn - X[idx], axis=-1)
            small_step[idx] = acc & (step_len <= 1e-13 * (1 + np.linalg.norm(X[idx], axis=-1)))
            alive[idx[~acc]] = False
            X[idx], G[idx] = Xn, Gn
            gn[idx] = np.linalg.norm(Gn, axis=-1)
            done |= alive & ((gn <= gtol) | (small_step & (gn <= 1e-6 * max(1.0, gscale))))
        keep = done & np.all((X >= lo - 0.5 * width) & (X <= hi + 0.5 * width), axis=-1)
        pts = X[keep]
        pts = _newton_polish(surface, pts, iters=2) if len(pts) else pts
        if len(pts):
            g2 = np.linalg.norm(surface.grad(pts, check=False), axis=-1)
            pts = pts[np.isfinite(g2) & (g2 <= max(gtol, 1e-6 * max(1.0, gscale)))]
    pts = _dedupe(pts, 1e-6 * diag)
    info = {
        "starts": int(S),
        "iterations": int(it + 1),
        "seconds": time.perf_counter() - t0,
        "curvature_scale": curvature,
    }
    return pts, info


def _groebner_solve(gradient: Sequence[Any], symbols: Sequence[Any]) -> Array | None:
    """Real solutions of a zero-dimensional polynomial system, or None if not isolated.

    Lex Groebner basis; exact real roots (sympy ``real_roots``) of the univariate element in
    the last variable; the other variables by numeric roots of the basis elements after
    substitution (float64 companion-matrix roots of coefficients computed with 40-digit
    sympy Floats); the caller polishes and verifies every candidate with Newton steps.
    """
    import sympy as sp

    syms = list(symbols)
    n = len(syms)
    G = sp.groebner(list(gradient), *syms, order="lex")
    exprs = list(G.exprs)
    if exprs == [1]:
        return np.zeros((0, n))
    if not G.is_zero_dimensional:
        return None
    polys = [sp.Poly(e, *syms) for e in exprs]
    # level k holds the basis elements whose first variable is syms[k]
    levels: dict[int, list] = {k: [] for k in range(n)}
    for p in polys:
        degs = p.degree_list()
        first = next(i for i, d in enumerate(degs) if d > 0)
        levels[first].append(p)
    last = min(levels[n - 1], key=lambda p: p.degree())
    roots = sp.Poly(last.as_expr(), syms[-1]).real_roots()
    # sympy Floats carry their own precision (no global mpmath state is touched)
    partial = [{n - 1: sp.Float(sp.N(r, 40), 40)} for r in dict.fromkeys(roots)]
    tiny = sp.Float("1e-25", 40)
    for k in range(n - 2, -1, -1):
        new = []
        for sol in partial:
            best = None
            for p in levels[k]:
                d = p.degree(syms[k])
                coeffs = [sp.Float(0, 40)] * (d + 1)
                for monom, c in p.terms():
                    term = sp.Float(c, 40)
                    for j in range(k + 1, n):
                        if monom[j]:
                            term *= sol[j] ** monom[j]
                    coeffs[d - monom[k]] += term
                scale = max(abs(c) for c in coeffs)
                while len(coeffs) > 1 and abs(coeffs[0]) <= tiny * scale:
                    coeffs.pop(0)
                if scale == 0 or len(coeffs) == 1:
                    continue
                if best is None or len(coeffs) < len(best):
                    best = coeffs
            if best is None:
                continue
            for z in np.roots(np.array([float(c) for c in best])):
                if abs(z.imag) <= 1e-6 * (1.0 + abs(z.real)):
                    new.append({**sol, k: sp.Float(float(z.real), 40)})
        partial = new
    return np.array([[float(s[k]) for k in range(n)] for s in partial], dtype=float).reshape(-1, n)


def _symbolic_candidates(surface: Any) -> tuple[str, Any]:
    """Decide whether a symbolic solve is worth trying: ('ok', (polys, syms)) or a reason."""
    import sympy as sp

    if _is_data(surface):
        return "data surface", None
    try:
        if not surface.is_polynomial:
            return "the gradient is not polynomial", None
    except Exception:  # noqa: BLE001
        return "no symbolic form", None
    syms = list(surface.symbols)
    if len(syms) > SYMBOLIC_MAX_VARS:
        return f"more than {SYMBOLIC_MAX_VARS} variables", None
    from optiviz.surface import MAX_EXPAND_DEGREE

    if (surface.degree or 0) > MAX_EXPAND_DEGREE:
        return f"the degree {surface.degree} is too high to expand", None
    polys = [sp.Poly(sp.expand(g), *syms) for g in surface.gradient]
    if any(not (p.domain.is_ZZ or p.domain.is_QQ) for p in polys):
        return "coefficients are not rational", None
    bezout = 1
    for p in polys:
        bezout *= max(1, p.total_degree())
    if bezout > SYMBOLIC_MAX_BEZOUT:
        return (
            f"the gradient system is too large (Bezout bound {bezout} > {SYMBOLIC_MAX_BEZOUT})"
        ), None
    return "ok", (polys, syms)


def _quadratic_stationary(surface: Any) -> tuple[Array, str]:
    """Stationary points of a quadratic: the linear system H x = -b (exact structure)."""
    n = surface.n
    z = np.zeros(n)
    H = _sym(surface.hess(z, check=False))
    b = np.asarray(surface.grad(z, check=False), dtype=float)
    lam = np.linalg.eigvalsh(H)
    scale = float(np.max(np.abs(lam))) if lam.size else 0.0
    if scale > 0 and np.min(np.abs(lam)) > EIG_TOL * scale:
        return np.linalg.solve(H, -b).reshape(1, n), "unique"
    x, *_ = np.linalg.lstsq(H, -b, rcond=None)
    if np.linalg.norm(H @ x + b) <= 1e-10 * max(1.0, float(np.linalg.norm(b))):
        return x.reshape(1, n), "affine"
    return np.zeros((0, n)), "none"


def stationary_points(
    surface: Any, *, time_budget: float = 5.0, n_starts: int | None = None
) -> tuple[list[PointAnalysis], dict]:
    """All stationary points found, classified and sorted; and how they were found.

    Returns ``(points, info)`` with ``info["method"]`` in ``"linear"`` (quadratic),
    ``"symbolic"`` or ``"numeric"``, ``info["complete"]`` True when every real stationary
    point is guaranteed found (linear and symbolic), and ``info["notes"]``.
    """
    notes: list[str] = []
    info: dict[str, Any] = {"method": None, "complete": False, "notes": notes}
    pts: Array | None = None
    quadratic = _is_quadratic(surface)
    if quadratic:
        pts, how = _quadratic_stationary(surface)
        info.update(method="linear", complete=True)
        if how == "affine":
            notes.append(
                "the Hessian is singular and the stationary points form an affine "
                "subspace; the one of least norm is shown"
            )
        elif how == "none":
            notes.append(
                "the gradient never vanishes: the linear term is outside the range "
                "of the (singular) Hessian"
            )
    else:
        status, data = _symbolic_candidates(surface)
        if status == "ok":
            polys, syms = data
            ok, res = _run_with_timeout(lambda: _groebner_solve(polys, syms), time_budget)
            if ok and res is not None:
                cand = _newton_polish(surface, res, iters=3) if len(res) else res
                good = []
                for c0, c in zip(res, cand, strict=True):
                    with np.errstate(all="ignore"):
                        gn = float(np.linalg.norm(surface.grad(c, check=False)))
                    moved = float(np.max(np.abs(c - c0))) if len(c) else 0.0
                    if np.isfinite(gn) and moved <= 1e-6 * (1 + float(np.max(np.abs(c0)))):
                        good.append(c)
                diag = float(np.linalg.norm(surface.window[:, 1] - surface.window[:, 0]))
                pts = _dedupe(np.array(good).reshape(-1, surface.n), 1e-9 * diag)
                info.update(method="symbolic", complete=True)
            elif ok:
                notes.append(
                    "the stationary points are not isolated (a curve or surface of "
                    "them); a numeric search shows a sample"
                )
            else:
                notes.append(
                    f"the symbolic solve did not finish within {time_budget:g} s; "
                    "stationary points were searched numerically"
                )
        else:
            info["symbolic_skipped"] = status
        if pts is None:
            pts, ninfo = _numeric_stationary(surface, n_starts, max(time_budget, 1.0))
            info.update(method="numeric", complete=False, search=ninfo)
    if len(pts):
        # snap round-off residue (-0.0, 1e-17) to exact zeros
        span = float(np.max(np.abs(surface.window)))
        pts = np.where(np.abs(pts) <= 1e-14 * max(1.0, span), 0.0, pts) + 0.0
    # numerically located points are stationary only to the search tolerance: eigenvalues
    # below 1e-6 of the typical curvature in the window count as zero there
    eig_tol = 1e-6 * info.get("search", {}).get("curvature_scale", 0.0)
    out = [point_analysis(surface, p, kind="auto", exact=quadratic, eig_tol=eig_tol) for p in pts]
    for pa in out:
        if pa.kind is None:  # numerically stationary; classify anyway
            pa.kind = classify(pa.eigenvalues, abs_tol=eig_tol)
    if out and _has_kinks(surface):
        flags = _at_kinks(surface, np.array([p.point for p in out]))
        for pa, flag in zip(out, flags, strict=True):
            pa.at_kink = bool(flag)
    order = {k: i for i, k in enumerate(KINDS)}
    vtol = 1e-9 * (1.0 + max((abs(p.value) for p in out), default=0.0))
    out.sort(key=lambda p: (order[p.kind], round(p.value / vtol), tuple(np.round(p.point, 9))))
    info["summary"] = _summary(out)
    if len(out) > MAX_POINTS:
        notes.append(
            f"{len(out)} stationary points found; the first {MAX_POINTS} are kept "
            "(they may form a continuum)"
        )
        out = out[:MAX_POINTS]
    return out, info


def _summary(points: Sequence[PointAnalysis]) -> dict:
    """Counts over every stationary point found (before the list is cut to MAX_POINTS):
    ``found``, ``kept`` (listed in ``stationary_points``), ``kinds`` (per kind),
    ``at_kink`` (per kind, the points on a kink), ``degenerate_values`` ([min, max] of
    the degenerate points' values, or None)."""
    kinds = {k: 0 for k in KINDS}
    at_kink = {k: 0 for k in KINDS}
    for p in points:
        kinds[p.kind] += 1
        at_kink[p.kind] += bool(p.at_kink)
    deg = [p.value for p in points if p.kind == "degenerate"]
    return {
        "found": len(points),
        "kept": min(len(points), MAX_POINTS),
        "kinds": kinds,
        "at_kink": at_kink,
        "degenerate_values": [min(deg), max(deg)] if deg else None,
    }


# =============================================================================================
# Bounded below
# =============================================================================================
def bounded_below(surface: Any) -> tuple[bool | None, str]:
    """Whether f is bounded below: exact for quadratics, None (unknown) unless obvious.

    A quadratic is bounded below iff its Hessian is positive semidefinite and the linear
    part lies in the Hessian's range. Obvious cases otherwise: sympy proves the expression
    nonnegative (sums of squares of real terms); a polynomial of odd degree, or whose
    leading form is negative along some sampled direction, is unbounded below.
    """
    if _is_data(surface):
        return None, "data surface: not decided"
    if _is_quadratic(surface):
        n = surface.n
        z = np.zeros(n)
        H = _sym(surface.hess(z, check=False))
        b = np.asarray(surface.grad(z, check=False), dtype=float)
        lam = np.linalg.eigvalsh(H)
        scale = max(float(np.max(np.abs(lam))), 0.0)
        if lam[0] < -EIG_TOL * max(scale, 1e-300):
            return False, (
                f"the Hessian has a negative eigenvalue ({lam[0]:.6g}): unbounded "
                "below along its eigenvector"
            )
        x, *_ = np.linalg.lstsq(H, -b, rcond=None)
        if np.linalg.norm(H @ x + b) > 1e-10 * max(1.0, float(np.linalg.norm(b))):
            return False, "the linear term has a component where the Hessian is flat"
        return True, "quadratic with a positive semidefinite Hessian and a stationary point"
    import sympy as sp

    try:
        expr = surface.expression
        syms = surface.symbols
    except AttributeError:
        return None, "no symbolic form"
    try:
        if expr.is_nonnegative:
            return True, "the expression is a sum of nonnegative terms"
    except Exception:  # noqa: BLE001 - sympy assumption queries can fail on odd input
        pass
    if getattr(surface, "is_polynomial", False):
        from optiviz.surface import MAX_EXPAND_DEGREE

        if (surface.degree or 0) > MAX_EXPAND_DEGREE:
            return None, f"a polynomial of degree {surface.degree}: too high to expand"
        poly = sp.Poly(sp.expand(expr), *syms)
        deg = poly.total_degree()
        if deg % 2 == 1:
            return False, f"a polynomial of odd degree {deg} is unbounded below"
        top = sum(
            c * sp.prod([s**e for s, e in zip(syms, m, strict=True)])
            for m, c in poly.terms()
            if sum(m) == deg
        )
        ftop = sp.lambdify(list(syms), top, modules="numpy")
        rng = np.random.default_rng(0)
        dirs = rng.standard_normal((256, len(syms)))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        vals = np.broadcast_to(ftop(*dirs.T), (256,))
        if np.min(vals) < -1e-9 * max(1.0, float(np.max(np.abs(vals)))):
            return False, f"the degree-{deg} leading form is negative along some direction"
    return None, "not decided"


# =============================================================================================
# Regularization and early stopping
# =============================================================================================
def l2_optimum(H: Array, w_star: Array, alpha: float) -> dict:
    """L2: minimizer of the quadratic model plus ``alpha/2 ||w||^2``.

    ``w = (H + alpha I)^-1 H w*``; per eigen-direction the component of ``w*`` is scaled by
    ``lambda_i / (lambda_i + alpha)``. No minimizer when ``H + alpha I`` is not positive
    definite.
    """
    H = _sym(H)
    w_star = np.asarray(w_star, dtype=float)
    lam, V = _eigh(H)
    lam_r = lam + alpha
    pd = classify(lam_r) == "minimum"
    with np.errstate(all="ignore"):
        shrink = np.where(lam_r != 0, lam / np.where(lam_r != 0, lam_r, 1.0), np.nan)
    stationary = None
    if np.min(np.abs(lam_r)) > EIG_TOL * max(float(np.max(np.abs(lam_r))), 1e-300):
        stationary = np.linalg.solve(H + alpha * np.eye(len(lam)), H @ w_star)
    if pd:
        note = "minimizer (H + alpha I)^-1 H w*"
    else:
        shown = ", ".join(f"{v:.6g}" for v in lam_r)
        note = (
            f"no minimizer: H + {alpha:g} I has eigenvalues {shown} "
            f"({'indefinite' if lam_r[-1] > 0 else 'not positive'}), the regularized "
            "loss is unbounded below"
        )
    return {
        "alpha": float(alpha),
        "hessian_eigenvalues": lam,
        "regularized_eigenvalues": lam_r,
        "positive_definite": bool(pd),
        "shrink_factors": shrink,
        "optimum": stationary if pd else None,
        "stationary_point": stationary,
        "note": note,
    }


def _coordinate_descent_l1(
    H: Array, w_star: Array, alpha: float, *, max_sweeps: int = 20000, tol: float = 1e-15
) -> tuple[Array, bool]:
    """Minimize ``1/2 (w - w*)^T H (w - w*) + alpha ||w||_1`` by cyclic coordinate descent."""
    n = len(w_star)
    w = np.array(w_star, dtype=float)
    Hd = np.diag(H).copy()
    for _ in range(max_sweeps):
        w_old = w.copy()
        for i in range(n):
            if Hd[i] <= 0:
                w[i] = 0.0
                continue
            # off-diagonal part of the i-th partial derivative, then the 1-D minimizer
            r = H[i] @ (w - w_star) - Hd[i] * (w[i] - w_star[i])
            z = w_star[i] - r / Hd[i]
            w[i] = np.sign(z) * max(abs(z) - alpha / Hd[i], 0.0)
        if np.max(np.abs(w - w_old)) <= tol * (1.0 + np.max(np.abs(w))):
            return w, True
    return w, False


def l1_optimum(H: Array, w_star: Array, alpha: float) -> dict:
    """L1: soft-threshold ``w*_i - sign(w*_i) alpha / H_ii`` clipped at 0 (the notes' rule).

    Exact when H is diagonal; otherwise labelled an approximation, with the true minimizer
    of ``1/2 (w - w*)^T H (w - w*) + alpha ||w||_1`` from cyclic coordinate descent beside
    it. A Hessian with a negative eigenvalue has no minimizer (L1 grows only linearly).
    """
    H = _sym(H)
    w_star = np.asarray(w_star, dtype=float)
    lam = np.linalg.eigvalsh(H)
    scale = max(float(np.max(np.abs(lam))), 1e-300)
    off = H - np.diag(np.diag(H))
    diagonal = bool(np.max(np.abs(off)) <= 1e-12 * scale) if H.size else True
    out: dict[str, Any] = {
        "alpha": float(alpha),
        "unregularized_optimum": w_star,
        "diagonal_hessian": diagonal,
    }
    if lam[0] < -EIG_TOL * scale:
        out.update(
            soft_threshold=None,
            optimum=None,
            exact=False,
            method=None,
            note=(
                f"no minimizer: the Hessian has a negative eigenvalue ({lam[0]:.6g}) "
                "and an L1 penalty grows only linearly"
            ),
        )
        return out
    Hd = np.diag(H)
    with np.errstate(all="ignore"):
        thr = np.where(Hd > 0, alpha / np.where(Hd > 0, Hd, 1.0), np.inf)
    soft = np.sign(w_star) * np.maximum(np.abs(w_star) - thr, 0.0)
    if diagonal:
        out.update(
            soft_threshold=soft,
            optimum=soft,
            exact=True,
            method="soft-threshold (exact: the Hessian is diagonal)",
            note="w_i = sign(w*_i) max(|w*_i| - alpha/H_ii, 0)",
        )
        return out
    w, conv = _coordinate_descent_l1(H, w_star, alpha)
    out.update(
        soft_threshold=soft,
        optimum=w,
        exact=False,
        numeric_converged=conv,
        method="coordinate descent on the quadratic model (the soft-threshold is an "
        "approximation: the Hessian is not diagonal)",
        difference=float(np.max(np.abs(w - soft))),
        note="approximation: soft-threshold ignores the off-diagonal Hessian entries",
    )
    return out


def early_stopping_factors(eigenvalues: Sequence[float], lr: float, t: int | Array) -> Array:
    """GD from the origin on a quadratic: ``w_t = Q diag(1 - (1 - lr lambda_i)^t) Q^T w*``.

    Returns the factors, shape ``(n,)`` for a scalar ``t`` or ``(len(t), n)``.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    t_arr = np.asarray(t, dtype=float)
    with np.errstate(all="ignore"):
        return 1.0 - (1.0 - lr * lam) ** t_arr[..., None]


def regularization(
    model: PointAnalysis | None,
    *,
    l1: float | None = None,
    l2: float | None = None,
    early_stopping: Any = None,
) -> dict | None:
    """Regularized optima through the quadratic model at ``model`` (exact for a quadratic)."""
    if l1 is None and l2 is None and early_stopping is None:
        return None
    if model is None:
        return {
            "model": None,
            "l1": None,
            "l2": None,
            "early_stopping": None,
            "note": "no stationary point to build the quadratic model on",
        }
    w_star = (
        model.point if model.kind is not None else (model.newton["point"] if model.newton else None)
    )
    out: dict[str, Any] = {
        "model": "exact (the loss is quadratic)"
        if model.exact
        else f"local quadratic model at {_fmt_point(model.point)}",
        "exact": model.exact,
        "reference_point": w_star,
        "reference_kind": model.kind,
        "hessian": model.hessian,
        "hessian_eigenvalues": model.eigenvalues,
        "l1": None,
        "l2": None,
        "early_stopping": None,
    }
    if w_star is None:
        out["note"] = "the Hessian is singular: the quadratic model has no stationary point"
        return out
    if l2 is not None:
        out["l2"] = l2_optimum(model.hessian, w_star, float(l2))
    if l1 is not None:
        out["l1"] = l1_optimum(model.hessian, w_star, float(l1))
    if early_stopping is not None:
        if isinstance(early_stopping, dict):
            lr, t = float(early_stopping["lr"]), early_stopping["t"]
        else:
            lr, t = float(early_stopping[0]), early_stopping[1]
        fac = early_stopping_factors(model.eigenvalues, lr, t)
        V = model.eigenvectors
        pts = np.einsum("ij,...j,kj,k->...i", V, fac, V, w_star)
        out["early_stopping"] = {
            "lr": lr,
            "t": _jsonable(t),
            "factors": fac,
            "point": pts,
            "formula": "1 - (1 - lr*lambda_i)^t per eigen-direction (GD from the origin)",
            "comparable_l2_alpha": 1.0 / (lr * float(np.max(t))) if np.max(t) > 0 else None,
        }
    return out


# =============================================================================================
# Rates: theory and measurement
# =============================================================================================
def gd_rate(eigenvalues: Sequence[float] | Array, lr: float) -> float:
    """GD's linear rate on a quadratic: ``max_i |1 - lr lambda_i|`` (:class:`GD`'s iteration)."""
    return float(GD.linear_rate(eigenvalues, {"lr": lr}))


def heavy_ball_rate(eigenvalues: Sequence[float] | Array, lr: float, momentum: float) -> float:
    """Spectral radius of ``[[1 + mu - lr lambda, -mu], [1, 0]]``, maximized over lambda.

    The iteration ``x+ = x - lr grad + mu (x - x_prev)``; torch's buffer form
    (``b = mu b + g; x -= lr b``) is the same iteration in x (:class:`Momentum`'s matrix).
    """
    return float(Momentum.linear_rate(eigenvalues, {"lr": lr, "momentum": momentum}))


def nesterov_rate(eigenvalues: Sequence[float] | Array, lr: float, momentum: float) -> float:
    """Nesterov (look-ahead): radius of ``[[(1 + mu)(1 - lr l), -mu (1 - lr l)], [1, 0]]``.

    torch's form (``d = g + mu b``) has the same trace and determinant, so the same rate
    (:class:`Nesterov`'s matrix).
    """
    return float(Nesterov.linear_rate(eigenvalues, {"lr": lr, "momentum": momentum}))


def predicted_rate(
    optimizer: Any, eigenvalues: Sequence[float] | Array, hyperparameters: dict | None = None
) -> tuple[float | None, str]:
    """Predicted linear rate of a run from the Hessian eigenvalues at its minimum.

    ``optimizer`` is an optimizer object or a registry name (then ``hyperparameters``
    gives its settings; given with an object, they override its own). Returns
    ``(rate, why)`` from the class's linear theory
    (:meth:`~optiviz.optimizers.base.Optimizer.rate_for`); ``rate`` is None for methods
    without a fixed linear iteration (adaptive methods, schedules, weight decay, maximize).
    """
    if isinstance(optimizer, str):
        cls, h = REGISTRY.get(optimizer), dict(hyperparameters or {})
        if cls is None:
            return None, f"no linear-rate theory for {optimizer}"
    else:
        cls, h = type(optimizer), dict(getattr(optimizer, "hyper", {}) or {})
        if hyperparameters:
            h.update(hyperparameters)
    return cls.rate_for(eigenvalues, h)


def measured_rate(
    points: Array, x_star: Any, *, tail: float = 0.5, floor: float = 1e-12
) -> float | None:
    """Linear rate of ``||x_t - x*||``: exp of the least-squares slope of its log.

    Uses the points before the distance first drops to ``floor * scale`` (round-off;
    ``scale = max(||x_0 - x*||, ||x*||, 1)``) or stops being finite, and fits the last
    ``tail`` fraction of them (at least 3 points). A least-squares slope over many steps
    averages out the oscillation of momentum methods (the geometric mean of the ratios).
    Returns 0.0 when the distance reaches round-off within two steps, None with fewer than
    three usable points otherwise (a run of 0 or 1 steps has no rate).
    """
    P = np.asarray(points, dtype=float)
    xs = np.asarray(x_star, dtype=float)
    with np.errstate(all="ignore"):
        d = np.linalg.norm(P - xs, axis=-1)
    if d.size == 0 or not np.isfinite(d[0]):
        return None
    scale = max(float(d[0]), float(np.linalg.norm(xs)), 1.0)
    bad = ~np.isfinite(d) | (d <= floor * scale) | (d > 1e150)
    cut = int(np.argmax(bad)) if bad.any() else len(d)
    if cut <= 2:
        # too few points to fit a slope: 0.0 if the distance reached round-off within two
        # steps, None (no rate) for a run too short to tell (fewer than 3 points)
        reached = cut < len(d) and np.isfinite(d[cut]) and d[cut] <= floor * scale
        return 0.0 if (cut >= 1 and reached) else None
    seg = d[:cut]
    k0 = min(int(len(seg) * (1.0 - tail)), len(seg) - 3)
    y = np.log(seg[k0:])
    t = np.arange(k0, len(seg), dtype=float)
    slope = float(np.polyfit(t, y, 1)[0])
    return math.exp(slope)


@dataclass
class RunComparison:
    """One run's outcome next to the theory at the minimum it approaches."""

    label: str
    optimizer: str
    status: str
    steps: int
    final_loss: float | None
    distance_to_min: float | None
    measured_rate: float | None
    predicted_rate: float | None
    theory: str | None  # "exact" (quadratic), "local" (Hessian at the minimum) or None
    reference_point: Array | None
    why: str = ""

    def to_dict(self) -> dict:
        return _jsonable(
            {
                "label": self.label,
                "optimizer": self.optimizer,
                "status": self.status,
                "steps": self.steps,
                "final_loss": self.final_loss,
                "distance_to_min": self.distance_to_min,
                "measured_rate": self.measured_rate,
                "predicted_rate": self.predicted_rate,
                "theory": self.theory,
                "reference_point": self.reference_point,
                "why": self.why,
            }
        )


def compare_runs(analysis: Analysis, trajectories: Any) -> list[RunComparison]:
    """Measured vs predicted rates for trajectories (single or batched; a list of them)."""
    if trajectories is None:
        return []
    if not isinstance(trajectories, (list, tuple)):
        trajectories = [trajectories]
    minima = analysis.minima
    out = []
    for traj in trajectories:
        for tr in traj.runs() if hasattr(traj, "runs") else [traj]:
            fp = np.asarray(tr.final_point, dtype=float) if tr.final_point is not None else None
            ref = None
            if minima:
                probe = (
                    fp
                    if fp is not None and np.all(np.isfinite(fp))
                    else (tr.points[0] if tr.points is not None else None)
                )
                if probe is not None:
                    ref = min(minima, key=lambda m: float(np.linalg.norm(m.point - probe)))
            dist = None
            if ref is not None and fp is not None and np.all(np.isfinite(fp)):
                dist = float(np.linalg.norm(fp - ref.point))
            meas = pred = None
            theory, why = None, "no minimum to compare with"
            if ref is not None:
                if tr.points is not None:
                    meas = measured_rate(tr.points, ref.point)
                if getattr(tr, "schedule", None) not in (None, "constant"):
                    why = "a learning-rate schedule: no fixed linear rate"
                elif ref.at_kink:
                    why = "the minimum is on a kink: no Hessian theory of the rate"
                else:
                    pred, why = predicted_rate(tr.optimizer, ref.eigenvalues, tr.hyperparameters)
                    if pred is not None:
                        theory = "exact" if ref.exact else "local"
            out.append(
                RunComparison(
                    label=tr.label,
                    optimizer=tr.optimizer,
                    status=str(tr.status),
                    steps=int(tr.n_steps),
                    final_loss=_f(tr.final_loss),
                    distance_to_min=dist,
                    measured_rate=meas,
                    predicted_rate=pred,
                    theory=theory,
                    reference_point=None if ref is None else ref.point,
                    why=why,
                )
            )
    return out


@dataclass
class Sharpness:
    """Largest Hessian eigenvalue along a path beside the GD threshold 2/lr (edge of stability).

    ``lambda_max``/``lambda_min``: ``(T+1,)`` (or ``(R, T+1)``), nan where the point is not
    finite. ``threshold``: ``2 / lr_t`` per point, with ``lr_t`` the largest per-coordinate
    effective learning rate of the step that leaves the point (the last point repeats the
    last step's value); None when the trajectory holds no effective learning rates.
    """

    steps: Array
    lambda_max: Array
    lambda_min: Array
    threshold: Array | None

    def to_dict(self) -> dict:
        return _jsonable(
            {
                "steps": self.steps,
                "lambda_max": self.lambda_max,
                "lambda_min": self.lambda_min,
                "threshold": self.threshold,
            }
        )


def sharpness_along(trajectory: Any, surface: Any = None) -> Sharpness:
    """Hessian extreme eigenvalues at every recorded point of a trajectory, and 2/lr."""
    if surface is None:
        from optiviz.library import load_surface

        surface = load_surface(trajectory.surface)
    P = np.asarray(trajectory.points, dtype=float)
    if P is None or P.ndim < 2:
        raise OptivizError("sharpness_along needs a trajectory recorded with record='all'")
    flat = P.reshape(-1, P.shape[-1])
    lmax = np.full(len(flat), np.nan)
    lmin = np.full(len(flat), np.nan)
    ok = np.all(np.isfinite(flat), axis=-1)
    if ok.any():
        with np.errstate(all="ignore"):
            H = _sym(surface.hess(flat[ok], check=False))
        good = np.all(np.isfinite(H), axis=(-1, -2))
        lam = np.linalg.eigvalsh(H[good])
        idx = np.nonzero(ok)[0][good]
        lmax[idx], lmin[idx] = lam[:, -1], lam[:, 0]
    shape = P.shape[:-1]
    thr = None
    E = getattr(trajectory, "effective_lr", None)
    if E is not None:
        E = np.asarray(E, dtype=float)
        with np.errstate(all="ignore"):
            lr_t = np.max(E, axis=-1)  # (..., T)
            lr_pts = np.concatenate([lr_t, lr_t[..., -1:]], axis=-1) if lr_t.shape[-1] else lr_t
            thr = np.where(lr_pts > 0, 2.0 / np.where(lr_pts > 0, lr_pts, 1.0), np.inf)
    return Sharpness(np.arange(shape[-1]), lmax.reshape(shape), lmin.reshape(shape), thr)


# =============================================================================================
# Closed forms and helpers for configs
# =============================================================================================
def gd_closed_form(A: Any, b: Any, x0: Any, lr: float, t: int | Sequence[int]) -> Array:
    """GD iterates on ``f = 1/2 x^T A x + b^T x (+ c)``: ``x* + (I - lr A)^t (x0 - x*)``.

    Computed with the power of the affine map ``x -> (I - lr A) x - lr b`` so that it holds
    for any A (no minimizer needed). ``t`` an int gives ``(n,)``, a sequence ``(len(t), n)``.
    """
    A = np.atleast_2d(np.asarray(A, dtype=float))
    n = A.shape[0]
    b = np.broadcast_to(np.asarray(b, dtype=float), (n,))
    x0 = np.asarray(x0, dtype=float).reshape(n)
    M = np.eye(n + 1)
    M[:n, :n] -= lr * A
    M[:n, n] = -lr * b
    v = np.append(x0, 1.0)
    ts = np.atleast_1d(np.asarray(t))
    if np.any(ts < 0) or np.any(ts != np.round(ts)):
        raise OptivizError(f"t must be a nonnegative integer or a list of them; got {t!r}")
    out = np.array([(np.linalg.matrix_power(M, int(k)) @ v)[:n] for k in ts])
    return out[0] if np.ndim(t) == 0 else out


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_stationary(surface: Any, time_budget: float, n_starts: int | None):
    key = (float(time_budget), n_starts)
    try:
        per = _CACHE.setdefault(surface, {})
    except TypeError:
        per = {}
    if key not in per:
        per[key] = stationary_points(surface, time_budget=time_budget, n_starts=n_starts)
    return per[key]


def lr_relative_to_eta_opt(surface: Any, factor: float, at: Any = None) -> float:
    """``factor / lambda_max``: a learning rate relative to the notes' eta_opt = 1/lambda_max.

    The Hessian is taken at ``at`` if given, else at the first (lowest) minimum found by
    :func:`stationary_points`.
    """
    if at is not None:
        pa = point_analysis(surface, at)
        where = f"at {_fmt_point(pa.point)}"
    else:
        pts, _ = _cached_stationary(surface, 5.0, None)
        mins = [p for p in pts if p.kind == "minimum"]
        if not mins:
            raise OptivizError(
                f"learning rate relative to eta_opt: surface {surface.name!r} has no minimum "
                "(eta_opt = 1/lambda_max is taken at a minimum); give a point with at=[...]"
            )
        pa = mins[0]
        where = f"at the minimum {_fmt_point(pa.point)}"
    if not pa.lambda_max > 0:
        raise OptivizError(
            f"learning rate relative to eta_opt: the largest Hessian eigenvalue {where} is "
            f"{pa.lambda_max:.6g} <= 0, so eta_opt = 1/lambda_max is undefined"
        )
    return float(factor) / pa.lambda_max


# =============================================================================================
# The analysis object
# =============================================================================================
@dataclass
class Analysis:
    """Everything :func:`analyze` found; ``to_dict()`` is JSON-safe."""

    surface: Any
    bounded_below: bool | None
    bounded_reason: str
    stationary_points: list[PointAnalysis]
    method: str | None
    complete: bool
    at: PointAnalysis | None = None
    regularization: dict | None = None
    runs: list[RunComparison] | None = None
    notes: list[str] = field(default_factory=list)
    errata: list[str] = field(default_factory=list)
    search: dict | None = None
    #: Counts over every stationary point found (``stationary_points`` keeps at most
    #: MAX_POINTS of them); see :func:`_summary`.
    summary: dict | None = None

    @property
    def kinks(self) -> bool:
        """The surface has kinks (relu, Max, Min, abs): smooth only piecewise."""
        return _has_kinks(self.surface)

    @property
    def minima(self) -> list[PointAnalysis]:
        return [p for p in self.stationary_points if p.kind == "minimum"]

    @property
    def minimum(self) -> PointAnalysis | None:
        """The first (lowest) minimum, or None."""
        m = self.minima
        return m[0] if m else None

    @property
    def saddles(self) -> list[PointAnalysis]:
        return [p for p in self.stationary_points if p.kind == "saddle"]

    @property
    def maxima(self) -> list[PointAnalysis]:
        return [p for p in self.stationary_points if p.kind == "maximum"]

    def counts(self) -> dict[str, int]:
        return {k: sum(p.kind == k for p in self.stationary_points) for k in KINDS}

    @property
    def eta_opt(self) -> float | None:
        """1/lambda_max at the first minimum (the notes' "optimal" learning rate)."""
        m = self.minimum
        return None if m is None or m.eta is None else m.eta["inverse_lambda_max"]

    def lr_relative_to_eta_opt(self, factor: float) -> float:
        m = self.at if self.at is not None else self.minimum
        if m is None or not m.lambda_max > 0:
            raise OptivizError(f"surface {self.surface.name!r}: no minimum with lambda_max > 0")
        return float(factor) / m.lambda_max

    def compare(self, trajectories: Any) -> list[RunComparison]:
        return compare_runs(self, trajectories)

    def to_dict(self) -> dict:
        s = self.surface
        try:
            latex = dict(s.latex)
        except Exception:  # noqa: BLE001 - data surfaces may have no closed form
            latex = None
        expr = getattr(s, "text", None) or str(getattr(s, "expression", ""))
        reg = []
        if getattr(s, "l2", 0):
            reg.append(f"{s.l2:g}/2*||w||^2")
        if getattr(s, "l1", 0):
            reg.append(f"{s.l1:g}*||w||_1")
        if reg:
            expr = f"{expr} + " + " + ".join(reg)
        return _jsonable(
            {
                "surface": {
                    "name": s.name,
                    "expression": expr,
                    "variables": list(s.variables),
                    "latex": latex,
                },
                "bounded_below": self.bounded_below,
                "bounded_below_reason": self.bounded_reason,
                "stationary_method": self.method,
                "stationary_complete": self.complete,
                "stationary_points": [p.to_dict() for p in self.stationary_points],
                "stationary_summary": self.summary,
                "kinks": self.kinks,
                "at": None if self.at is None else self.at.to_dict(),
                "regularization": self.regularization,
                "runs": None if self.runs is None else [r.to_dict() for r in self.runs],
                "notes": list(self.notes),
                "errata": list(self.errata),
            }
        )

    def __repr__(self) -> str:
        c = self.counts()
        parts = ", ".join(
            f"{v} {k}{'' if v == 1 else ('a' if k == 'maximum' else 's')}"
            for k, v in c.items()
            if v
        )
        parts = parts.replace("maximuma", "maxima").replace("minimums", "minima")
        return f"Analysis({self.surface.name!r}: {parts or 'no stationary points'})"


def _has_kinks(surface: Any) -> bool:
    import sympy as sp

    expr = getattr(surface, "expression", None)
    if _is_data(surface) or not isinstance(expr, sp.Basic):
        return False
    return bool(expr.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign))


def _is_relu_net(surface: Any) -> bool:
    return "relu" in str(getattr(surface, "text", "") or "")


#: A point is on a kink when a switching quantity is below this fraction of the window's
#: scale (numerically located points stall on a kink to about this accuracy).
KINK_TOL = 1e-7


def _at_kinks(surface: Any, X: Array) -> Array:
    """Which points ``X (S, n)`` lie on a kink: for every ``Max``/``Min`` the gap between
    its two extreme arguments, for every ``abs``/``Heaviside``/``sign`` its argument, is
    (numerically) zero there."""
    import sympy as sp

    X = np.asarray(X, dtype=float).reshape(-1, surface.n)
    flags = np.zeros(len(X), dtype=bool)
    expr = surface.expression
    syms = list(surface.symbols)
    switches = []
    for node in expr.atoms(sp.Max):
        switches.append(("max", list(node.args)))
    for node in expr.atoms(sp.Min):
        switches.append(("min", list(node.args)))
    for node in expr.atoms(sp.Abs, sp.Heaviside, sp.sign):
        switches.append(("zero", [node.args[0]]))
    span = float(np.max(np.abs(surface.window))) if np.size(surface.window) else 1.0
    tol = KINK_TOL * max(1.0, span)
    cols = [X[:, i] for i in range(len(syms))]
    with np.errstate(all="ignore"):
        for how, args in switches:
            try:
                vals = [
                    np.broadcast_to(
                        np.asarray(sp.lambdify(syms, a, modules="numpy")(*cols), dtype=float),
                        (len(X),),
                    )
                    for a in args
                ]
            except Exception:  # noqa: BLE001 - an argument numpy cannot evaluate: no flag
                continue
            V = np.stack(vals, axis=-1)
            if how == "zero":
                gap = np.abs(V[:, 0])
            else:  # the two largest (Max) or smallest (Min) arguments tie
                Vs = np.sort(V, axis=-1)
                gap = Vs[:, -1] - Vs[:, -2] if how == "max" else Vs[:, 1] - Vs[:, 0]
            flags |= np.isfinite(gap) & (gap <= tol)
    return flags


KINK_NOTE = (
    "the surface has kinks (relu, Max, Min or abs), so it is smooth only piecewise: on a "
    "kink the gradient jumps and the Hessian describes at most one side of it. Hessian "
    "theory (the classification of stationary points, the learning-rate limits, the "
    "predicted rates) applies only where the surface is smooth, inside one piece"
)

_PLURALS = {
    "minimum": "minima",
    "maximum": "maxima",
    "saddle": "saddles",
    "degenerate": "degenerate points",
}


def _plural(kind: str, k: int) -> str:
    if k == 1:
        return "degenerate point" if kind == "degenerate" else kind
    return _PLURALS[kind]


def _flat_words(surface: Any) -> str:
    if not _has_kinks(surface):
        return ""
    return (
        "flat regions of the ReLU network"
        if _is_relu_net(surface)
        else "flat pieces of the surface"
    )


def _irregular_notes(surface: Any, summary: dict) -> list[str]:
    """One note for the degenerate points and one for the points on a kink (kinked
    surfaces)."""
    out = []
    n_deg = summary["kinds"]["degenerate"] - summary["at_kink"]["degenerate"]
    if n_deg:
        lo, hi = summary["degenerate_values"]
        vals = (
            f"value {lo:.6g}"
            if abs(hi - lo) <= 1e-9 * max(1.0, abs(lo))
            else (f"values {lo:.6g} to {hi:.6g}")
        )
        out.append(
            f"{n_deg} degenerate stationary {'point' if n_deg == 1 else 'points'} ({vals}; a "
            f"zero Hessian eigenvalue): {_flat_words(surface)}, where whole continua of "
            "points are stationary, not isolated ones; the numeric search only samples them"
        )
    k = sum(summary["at_kink"].values())
    if k:
        parts = ", ".join(f"{v} {_plural(kind, v)}" for kind, v in summary["at_kink"].items() if v)
        out.append(
            f"{k} stationary {'point lies' if k == 1 else 'points lie'} on a kink ({parts}): "
            "the gradient vanishes there only for one-sided derivatives, so the Hessian "
            "classification (and any learning rate derived from it) does not hold there"
        )
    return out


def table_points(
    a: Analysis, irregular_rows: int = 3
) -> tuple[list[tuple[int, PointAnalysis]], str | None]:
    """The stationary points a report's table lists, each with its 1-based position in
    ``a.stationary_points`` (and the JSON), and one line summarising the others.

    Every minimum, saddle and maximum off a kink is listed; of the degenerate points and
    the points on a kink (flat regions and kinks of a piecewise surface, where a numeric
    search finds continua of them) only the first ``irregular_rows``. The line (None when
    nothing is left out) counts the rest over every point found.
    """
    kinks = _has_kinks(a.surface)
    shown: list[tuple[int, PointAnalysis]] = []
    extra = 0
    for i, p in enumerate(a.stationary_points, 1):
        if p.kind == "degenerate" or p.at_kink:
            if extra >= irregular_rows:
                continue
            extra += 1
        shown.append((i, p))
    summary = a.summary or _summary(a.stationary_points)
    rest: dict[tuple[str, bool], int] = {}
    for kind in KINDS:
        rest[(kind, False)] = summary["kinds"][kind] - summary["at_kink"][kind]
        rest[(kind, True)] = summary["at_kink"][kind]
    for _, p in shown:
        rest[(p.kind, bool(p.at_kink))] -= 1
    parts = []
    for (kind, on_kink), k in rest.items():
        if k <= 0:
            continue
        text = f"{k} more {_plural(kind, k)}" + (" on a kink" if on_kink else "")
        if kind == "degenerate" and not on_kink and kinks:
            text += f" ({_flat_words(a.surface)})"
        parts.append(text)
    if not parts:
        return shown, None
    line = "and " + ", ".join(parts)
    if summary["found"] > summary["kept"]:
        line += (
            f"; {summary['found']} found in all, the JSON report (optiviz report "
            f"-f json) keeps the first {summary['kept']}"
        )
    else:
        line += "; all are in the JSON report (optiviz report -f json)"
    return shown, line


def _notes(a: Analysis) -> list[str]:
    notes: list[str] = []
    if a.method == "linear":
        notes.append("quadratic: the stationary point solves H x = -b exactly")
    elif a.method == "symbolic":
        notes.append("stationary points: every real solution of grad f = 0, solved symbolically")
    elif a.method == "numeric":
        sr = a.search or {}
        notes.append(
            f"stationary points: numeric multi-start Newton search from {sr.get('starts', '?')} "
            "starts in the plot window; points far outside it are not searched"
        )
    kinks = _has_kinks(a.surface)
    if kinks:
        notes.append(KINK_NOTE)
    if a.bounded_below is False:
        notes.append(f"unbounded below: no minimizer ({a.bounded_reason})")
    m = a.minimum
    if m is not None and m.eta is not None:
        e, mo = m.eta, m.momentum
        where = (
            (
                f"at the minimum {_fmt_point(m.point)} (on a kink: this quadratic model "
                "holds on one side of it only)"
            )
            if m.at_kink
            else (f"at the minimum {_fmt_point(m.point)}")
        )
        notes.append(
            f"{where}: GD converges for 0 < lr < 2/lambda_max = "
            f"{e['stability_limit']:.6g}; lr = 1/lambda_max = {e['inverse_lambda_max']:.6g} "
            f"(the notes' optimal rate) contracts by 1 - 1/kappa = "
            f"{e['inverse_lambda_max_rate']:.6g} per step; the best fixed lr "
            f"2/(lambda_min + lambda_max) = {e['optimal_fixed']:.6g} contracts by "
            f"(kappa-1)/(kappa+1) = {e['optimal_rate']:.6g}; heavy ball with lr = "
            f"{mo['lr']:.6g}, momentum = {mo['momentum']:.6g} contracts by {mo['rate']:.6g}"
        )
        if m.exact:
            notes.append(
                "Newton's method reaches this quadratic's minimum in one step from any start"
            )
    # one note per point for the first few of each kind; on a surface with kinks the
    # points on a kink and the degenerate ones (flat pieces) are summarised in one note
    summary = a.summary or _summary(a.stationary_points)
    noted: dict[str, int] = {}
    for p in a.stationary_points:
        if kinks and (p.at_kink or p.kind == "degenerate"):
            continue
        noted[p.kind] = noted.get(p.kind, 0) + 1
        if p.kind != "minimum" and noted[p.kind] > 4:
            continue
        if p.kind == "saddle":
            neg = p.eigenvalues[p.eigenvalues < 0]
            notes.append(
                f"saddle at {_fmt_point(p.point)}: no learning rate converges to it (GD leaves "
                f"along the eigenvector with lambda = {neg[0]:.6g} unless it starts exactly on "
                "the stable directions)"
            )
        elif p.kind == "maximum":
            notes.append(
                f"maximum at {_fmt_point(p.point)}: gradient descent moves away from it "
                "at every learning rate"
            )
        elif p.kind == "degenerate":
            notes.append(
                f"degenerate stationary point at {_fmt_point(p.point)}: a zero Hessian "
                "eigenvalue, so convergence there is slower than linear"
            )
    for kind in KINDS:
        total = summary["kinds"][kind] - (summary["at_kink"][kind] if kinks else 0)
        if kind == "degenerate" and kinks:
            continue
        if kind != "minimum" and total > 4:
            notes.append(f"... and {total - 4} more {_plural(kind, total - 4)}")
    if kinks:
        notes.extend(_irregular_notes(a.surface, summary))
    if not a.stationary_points:
        notes.append("no stationary point found")
    if a.at is not None:
        p = a.at
        kind = (p.kind or "not stationary") + (", on a kink" if p.at_kink else "")
        if p.eta is not None:
            notes.append(
                f"at {_fmt_point(p.point)} ({kind}): the local quadratic model has lambda_max = "
                f"{p.lambda_max:.6g}, GD is locally stable for lr < {p.eta['stability_limit']:.6g}"
            )
        else:
            notes.append(
                f"at {_fmt_point(p.point)} ({kind}): the Hessian is not positive "
                "definite, so no learning rate makes the local quadratic model converge"
            )
    reg = a.regularization
    if reg:
        if reg.get("l2"):
            notes.append(f"L2 (alpha = {reg['l2']['alpha']:g}): {reg['l2']['note']}")
        if reg.get("l1"):
            notes.append(f"L1 (alpha = {reg['l1']['alpha']:g}): {reg['l1']['note']}")
    for r in a.runs or []:
        if r.predicted_rate is None:
            continue
        if r.predicted_rate >= 1.0:
            notes.append(
                f"{r.label}: the theory predicts no convergence (rate "
                f"{r.predicted_rate:.6g} >= 1); status {r.status}"
            )
        elif (
            r.measured_rate is not None
            and r.measured_rate > 0
            and (abs(r.measured_rate - r.predicted_rate) > 0.1 * r.predicted_rate)
        ):
            notes.append(
                f"{r.label}: measured rate {r.measured_rate:.6g} differs from the "
                f"predicted {r.predicted_rate:.6g} ({r.theory} theory; the run may "
                "not have reached its asymptotic regime)"
            )
    notes.extend(f"slide erratum: {e}" for e in a.errata)
    return notes


def analyze(
    surface: Any,
    at: Any = None,
    *,
    trajectories: Any = None,
    l1: float | None = None,
    l2: float | None = None,
    early_stopping: Any = None,
    time_budget: float = 5.0,
    n_starts: int | None = None,
) -> Analysis:
    """Analyze a surface: stationary points, learning rates, regularization, runs.

    Parameters
    ----------
    surface : Surface
    at : point, optional
        Also analyze the local quadratic model at this point (gradient, Hessian spectrum,
        learning rates where the Hessian is positive definite, Newton step).
    trajectories : Trajectory or list, optional
        Runs to compare with theory (measured vs predicted linear rates).
    l1, l2 : float, optional
        Regularization constants for the regularized optima (through the Hessian).
    early_stopping : (lr, t) or {"lr": ..., "t": ...}, optional
        Early-stopping factors ``1 - (1 - lr lambda_i)^t``.
    time_budget : float
        Seconds allowed for the symbolic solve (and the numeric search).
    n_starts : int, optional
        Starts of the numeric search (default 400 for n <= 2, else 150 n up to 4000).
    """
    points, info = _cached_stationary(surface, time_budget, n_starts)
    bb, why = bounded_below(surface)
    at_pa = point_analysis(surface, at) if at is not None else None
    if at_pa is not None and _has_kinks(surface):
        at_pa.at_kink = bool(_at_kinks(surface, at_pa.point[None, :])[0])
    a = Analysis(
        surface=surface,
        bounded_below=bb,
        bounded_reason=why,
        stationary_points=list(points),
        method=info["method"],
        complete=info["complete"],
        at=at_pa,
        search=info.get("search"),
        summary=info.get("summary"),
        errata=list(ERRATA.get(getattr(surface, "name", ""), [])),
    )
    model = at_pa if at_pa is not None else (a.minimum or (points[0] if points else None))
    a.regularization = regularization(model, l1=l1, l2=l2, early_stopping=early_stopping)
    if trajectories is not None:
        a.runs = compare_runs(a, trajectories)
    a.notes = list(info["notes"]) + _notes(a)
    return a
