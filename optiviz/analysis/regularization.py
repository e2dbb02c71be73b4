"""Regularization through the quadratic model: the L2 optimum and its shrink factors, the
L1 soft-threshold (and the model's true L1 optimum by coordinate descent when the
Hessian is not diagonal), early-stopping factors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from optiviz._format import fmt_number, fmt_point, json_safe
from optiviz.analysis._hessian import EIG_TOL, _eigh, _sym, classify

if TYPE_CHECKING:  # pragma: no cover
    from optiviz.analysis.spectra import PointAnalysis

Array = np.ndarray


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
        shown = ", ".join(fmt_number(v) for v in lam_r)
        note = (
            f"no minimizer: H + {fmt_number(alpha)} I has eigenvalues {shown} "
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
                f"no minimizer: the Hessian has a negative eigenvalue ({fmt_number(lam[0])}) "
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


def early_stopping_factors(eigenvalues: ArrayLike, lr: float, t: int | Array) -> Array:
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
        else f"local quadratic model at {fmt_point(model.point)}",
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
            "t": json_safe(t),
            "factors": fac,
            "point": pts,
            "formula": "1 - (1 - lr*lambda_i)^t per eigen-direction (GD from the origin)",
            "comparable_l2_alpha": 1.0 / (lr * float(np.max(t))) if np.max(t) > 0 else None,
        }
    return out
