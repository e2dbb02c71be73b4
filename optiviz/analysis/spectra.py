"""The local picture at one point: Hessian eigen-decomposition, condition number, the
learning rates the Hessian implies (GD's limits, the optimal heavy-ball pair), the Newton
step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optiviz._format import fmt_point, json_safe
from optiviz.analysis._hessian import EIG_TOL, _eigh, _sym, classify
from optiviz.analysis._surface import _is_quadratic
from optiviz.analysis.rates import gd_rate, heavy_ball_rate
from optiviz.analysis.regularization import early_stopping_factors
from optiviz.errors import SurfaceError
from optiviz.optimizers.sgd import Momentum

Array = np.ndarray


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
    #: False at a point where f is not twice differentiable (a minimum the surface lists at
    #: a cone point, Ackley's origin): gradient, Hessian and eigenvalues are nan there and
    #: nothing derived from them (eta, momentum, Newton step) is defined.
    hessian_defined: bool = True
    #: The surface's variable names (``per_variable`` and ``directions`` name axes by them).
    variables: tuple[str, ...] = ()

    # -- spectrum ------------------------------------------------------------------------
    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def lambda_min(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def positive_definite(self) -> bool:
        if not self.hessian_defined:
            return False
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

        ``per_direction`` follows ``eigenvalues`` (ascending), ``directions`` names the
        direction of each (see :meth:`directions`); ``per_variable`` maps each variable to
        ``1/H_ii`` when the Hessian is diagonal (its eigenvectors are the coordinate axes),
        else None; ``inverse_lambda_max`` is the
        notes' "optimal" rate (contraction ``1 - 1/kappa``); ``stability_limit`` the
        exclusive upper bound ``2/lambda_max``; ``optimal_fixed`` the step with the best
        worst-case contraction ``optimal_rate = (kappa-1)/(kappa+1)``.
        """
        if not self.positive_definite:
            return None
        lo, hi = self.lambda_min, self.lambda_max
        kappa = hi / lo
        diagonal = self.diagonal
        names = self._names()
        return {
            "per_direction": [1.0 / float(v) for v in self.eigenvalues],
            "directions": self.directions(),
            "per_variable": (
                {v: 1.0 / float(h) for v, h in zip(names, np.diag(self.hessian), strict=True)}
                if diagonal
                else None
            ),
            "inverse_lambda_max": 1.0 / hi,
            "inverse_lambda_max_rate": 1.0 - 1.0 / kappa,
            "stability_limit": 2.0 / hi,
            "optimal_fixed": 2.0 / (lo + hi),
            "optimal_rate": (kappa - 1.0) / (kappa + 1.0),
        }

    @property
    def diagonal(self) -> bool:
        """The Hessian is diagonal (off-diagonal entries below EIG_TOL of its largest): its
        eigenvectors are the coordinate axes."""
        H = self.hessian
        if not self.hessian_defined or not np.all(np.isfinite(H)):
            return False
        scale = float(np.max(np.abs(H))) if H.size else 0.0
        off = H - np.diag(np.diag(H))
        return bool(np.all(np.abs(off) <= EIG_TOL * scale))

    def _names(self) -> list[str]:
        n = len(self.point)
        return list(self.variables) if len(self.variables) == n else [f"x{i + 1}" for i in range(n)]

    def directions(self) -> list[str | list[float]]:
        """The direction of each eigenvalue (ascending order): the variable's name when the
        Hessian is diagonal (the eigenvector is that coordinate axis), else the unit
        eigenvector (components in variable order, largest-magnitude component positive)."""
        names = self._names()
        out: list[str | list[float]] = []
        diagonal = self.diagonal  # once: an n x n test (per eigenvector it was O(n^3))
        for v in self.eigenvectors.T:
            if diagonal:
                out.append(names[int(np.argmax(np.abs(v)))])
            else:
                out.append([float(c) for c in v])
        if diagonal and len(set(map(str, out))) < len(out):
            # repeated eigenvalues: eigh may mix the axes; the diagonal names them
            order = np.argsort(np.diag(self.hessian), kind="stable")
            out = [names[int(i)] for i in order]
        return out

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
        if not self.hessian_defined or not np.all(np.isfinite(lam)):
            return None
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
        return json_safe(
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
                "hessian_defined": self.hessian_defined,
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
            f"the gradient or Hessian of surface {surface.name!r} is not finite at {fmt_point(x)}"
        )
    # Far out (x ~ 1e308) norms and products overflow: the analysis holds inf as its
    # values (an infinite gradient norm, say) and no RuntimeWarning escapes.
    with np.errstate(over="ignore", invalid="ignore"):
        lam, V = _eigh(H)
        if kind == "auto":
            gscale = max(1.0, float(np.max(np.abs(H))) * (1.0 + float(np.max(np.abs(x)))))
            kind = classify(lam, abs_tol=eig_tol) if np.linalg.norm(g) <= 1e-8 * gscale else None
        if exact is None:
            exact = _is_quadratic(surface)
        return PointAnalysis(
            x,
            value,
            kind,
            g,
            H,
            lam,
            V,
            exact=bool(exact),
            eig_tol=eig_tol,
            variables=tuple(getattr(surface, "variables", ())),
        )


#: A run's final gradient counts as zero below this fraction of the local gradient scale
#: ``max(1, max|H_ij| (1 + max|x_i|))`` (looser than a stationary point's 1e-8: runs stop
#: at a gradient tolerance).
END_GRAD_TOL = 1e-6


def end_kind(surface: Any, x: Any) -> str | None:
    """What a run's final point is when the gradient there is ~0: ``"minimum"``,
    ``"saddle"``, ``"maximum"`` or ``"degenerate"`` (from the Hessian's eigenvalues);
    None when the gradient is not ~0, the point is not finite or the Hessian is undefined.
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.shape != (surface.n,) or not np.all(np.isfinite(x)):
        return None
    with np.errstate(all="ignore"):
        g = np.asarray(surface.grad(x, check=False), dtype=float).reshape(-1)
        H = _sym(surface.hess(x, check=False))
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return None
    gscale = max(1.0, float(np.max(np.abs(H))) * (1.0 + float(np.max(np.abs(x)))))
    if float(np.linalg.norm(g)) > END_GRAD_TOL * gscale:
        return None
    lam, _ = _eigh(H)
    return classify(lam)
