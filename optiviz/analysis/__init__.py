"""Analysis of a surface through its Hessian: stationary points, learning rates, theory vs runs.

::

    import optiviz
    s = optiviz.load_surface("seed_diagonal")
    a = optiviz.analyze(s)
    a.minimum.eta["stability_limit"]        # 2 / lambda_max = 0.25
    a.to_dict()                             # JSON-safe; optiviz.report renders it

What is computed (each piece is also a plain function, re-exported here from the module
of its question: :mod:`~optiviz.analysis.stationary`, :mod:`~optiviz.analysis.spectra`,
:mod:`~optiviz.analysis.rates`, :mod:`~optiviz.analysis.regularization`,
:mod:`~optiviz.analysis.bounded`, :mod:`~optiviz.analysis.core`). The analysis returns
data: its remarks are :class:`~optiviz.analysis.findings.Note` records (a kind and the
numbers) that :mod:`optiviz.report` words, and the slide errata come from the surfaces'
YAML (``errata:``).

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
  de-duplicated (tolerance ``1e-6`` of the window diagonal). From the same starts a
  saddle-free Newton descent (``-|H|^-1 grad``, backtracked on ``f``, a step radius
  growing from a quarter of the starts' spacing) finds the minimum of every start's basin
  inside the window (Rastrigin's and Ackley's 121 minima). The minima the surface lists
  are always included (where f is not twice differentiable, with ``hessian_defined``
  False); a numeric search notes when it may be incomplete (``search_incomplete``).
* **Classification** from the Hessian eigenvalues (``numpy.linalg.eigh``, tolerance
  ``1e-9 * max|lambda|``): minimum, maximum, saddle or degenerate. Minima come first,
  sorted by value; every minimum is kept, and MAX_POINTS of the others. Degenerate points
  are grouped into families of one value (``summary["families"]``).
* **Learning rates** at each minimum (and at ``at=``): per-direction ``1/lambda_i``
  (named: ``eta["directions"]``, and ``eta["per_variable"]`` for a diagonal Hessian),
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

from typing import Any

from optiviz.analysis._hessian import EIG_TOL as EIG_TOL
from optiviz.analysis._hessian import KINDS as KINDS
from optiviz.analysis._hessian import classify
from optiviz.analysis._surface import KINK_TOL as KINK_TOL
from optiviz.analysis._surface import _at_kinks as _at_kinks
from optiviz.analysis._surface import _has_kinks as _has_kinks
from optiviz.analysis.bounded import bounded_below
from optiviz.analysis.core import Analysis, analyze, lr_relative_to_eta_opt
from optiviz.analysis.core import _cached_stationary as _cached_stationary
from optiviz.analysis.findings import Note, findings
from optiviz.analysis.rates import (
    RunComparison,
    Sharpness,
    compare_runs,
    gd_closed_form,
    gd_rate,
    heavy_ball_rate,
    measured_rate,
    nesterov_rate,
    predicted_rate,
    sharpness_along,
)
from optiviz.analysis.regularization import (
    early_stopping_factors,
    l1_optimum,
    l2_optimum,
    regularization,
)
from optiviz.analysis.spectra import PointAnalysis, end_kind, point_analysis
from optiviz.analysis.stationary import MAX_POINTS as MAX_POINTS
from optiviz.analysis.stationary import SYMBOLIC_MAX_BEZOUT as SYMBOLIC_MAX_BEZOUT
from optiviz.analysis.stationary import SYMBOLIC_MAX_VARS as SYMBOLIC_MAX_VARS
from optiviz.analysis.stationary import _run_with_timeout as _run_with_timeout
from optiviz.analysis.stationary import _summary as _summary
from optiviz.analysis.stationary import stationary_points

__all__ = [
    "Analysis",
    "PointAnalysis",
    "RunComparison",
    "Sharpness",
    "Note",
    "ERRATA",
    "analyze",
    "classify",
    "findings",
    "stationary_points",
    "point_analysis",
    "end_kind",
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


def __getattr__(name: str) -> Any:
    """Names that moved out of the analysis, still reachable here: ``table_points`` and
    ``KINK_NOTE`` (wording: :mod:`optiviz.report`), ``ERRATA`` (surface name -> its
    slide errata, read from the library's YAML ``errata:`` lists)."""
    if name in ("table_points", "KINK_NOTE"):
        from optiviz.report import notes as _notes
        from optiviz.report import table as _table

        return getattr(_table if name == "table_points" else _notes, name)
    if name == "ERRATA":
        from optiviz.library import available_surfaces, surface_info

        errata = {n: list(surface_info(n).get("errata", [])) for n in available_surfaces()}
        return {n: e for n, e in errata.items() if e}
    raise AttributeError(f"module 'optiviz.analysis' has no attribute {name!r}")
