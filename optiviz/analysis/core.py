"""The analysis of a surface as one object: :class:`Analysis` and :func:`analyze`, the
per-surface cache of stationary points, learning rates relative to ``eta_opt``."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optiviz._format import fmt_number, fmt_point, json_safe
from optiviz.analysis._hessian import KINDS
from optiviz.analysis._surface import _at_kinks, _has_kinks, _is_relu_net
from optiviz.analysis.bounded import bounded_below, minimizer_status
from optiviz.analysis.findings import Note, findings
from optiviz.analysis.rates import RunComparison, compare_runs
from optiviz.analysis.regularization import regularization
from optiviz.analysis.spectra import PointAnalysis, point_analysis
from optiviz.analysis.stationary import stationary_points
from optiviz.errors import OptivizError

if TYPE_CHECKING:
    from optiviz.protocols import SurfaceLike

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_stationary(
    surface: Any, time_budget: float, n_starts: int | None
) -> tuple[list[PointAnalysis], dict]:
    """:func:`stationary_points` once per surface object and settings (weakly keyed)."""
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
        where = f"at {fmt_point(pa.point)}"
    else:
        pts, _ = _cached_stationary(surface, 5.0, None)
        mins = [p for p in pts if p.kind == "minimum"]
        if not mins:
            raise OptivizError(
                f"learning rate relative to eta_opt: surface {surface.name!r} has no minimum "
                "(eta_opt = 1/lambda_max is taken at a minimum); give a point with at=[...]"
            )
        pa = mins[0]
        where = f"at the minimum {fmt_point(pa.point)}"
    if not pa.hessian_defined:
        raise OptivizError(
            f"learning rate relative to eta_opt: f is not twice differentiable {where} "
            "(a kink), so its Hessian and eta_opt = 1/lambda_max are undefined there; give "
            "the learning rate directly, or a point with at=[...]"
        )
    if not pa.lambda_max > 0:
        raise OptivizError(
            f"learning rate relative to eta_opt: the largest Hessian eigenvalue {where} is "
            f"{fmt_number(pa.lambda_max)} <= 0, so eta_opt = 1/lambda_max is undefined"
        )
    return float(factor) / pa.lambda_max


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
    #: Findings as data (kind and numbers); :func:`optiviz.report.notes_text` words them.
    notes: list[Note] = field(default_factory=list)
    #: The lecture-slide errata of the surface (its YAML's ``errata:``).
    errata: list[str] = field(default_factory=list)
    search: dict | None = None
    #: Counts over every stationary point found (``stationary_points`` keeps at most
    #: MAX_POINTS of them); see :func:`_summary`.
    summary: dict | None = None
    #: Logistic regression on linearly separable data: the separating (w, b) found and the
    #: penalties (:func:`~optiviz.analysis.bounded.minimizer_status`); else None.
    separation: dict | None = None

    @property
    def kinks(self) -> bool:
        """The surface has kinks (relu, Max, Min, abs): smooth only piecewise."""
        return _has_kinks(self.surface)

    @property
    def relu_network(self) -> bool:
        """The surface is a ReLU network's loss (its formula uses relu)."""
        return _is_relu_net(self.surface)

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
        if m is not None and not m.hessian_defined:
            raise OptivizError(
                f"surface {self.surface.name!r}: the Hessian is undefined at the minimum "
                f"{fmt_point(m.point)} (f is not twice differentiable there)"
            )
        if m is None or not m.lambda_max > 0:
            raise OptivizError(f"surface {self.surface.name!r}: no minimum with lambda_max > 0")
        return float(factor) / m.lambda_max

    def compare(self, trajectories: Any) -> list[RunComparison]:
        return compare_runs(self, trajectories)

    def to_dict(self) -> dict:
        """The JSON report: every field as plain JSON values; the notes as text."""
        from optiviz.report.notes import notes_text

        s = self.surface
        latex = dict(s.latex) if getattr(s, "has_symbolic_form", False) else None
        expr = getattr(s, "text", None) or str(getattr(s, "expression", ""))
        reg = []
        if getattr(s, "l2", 0):
            reg.append(f"{fmt_number(s.l2)}/2*||w||^2")
        if getattr(s, "l1", 0):
            reg.append(f"{fmt_number(s.l1)}*||w||_1")
        if reg:
            expr = f"{expr} + " + " + ".join(reg)
        return json_safe(
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
                "separation": self.separation,
                "kinks": self.kinks,
                "at": None if self.at is None else self.at.to_dict(),
                "regularization": self.regularization,
                "runs": None if self.runs is None else [r.to_dict() for r in self.runs],
                "notes": notes_text(self),
                "errata": list(self.errata),
            }
        )

    def _repr_markdown_(self) -> str:
        """Jupyter's view: the Markdown report (:func:`optiviz.report.to_markdown`)."""
        from optiviz.report.display import analysis_markdown

        return analysis_markdown(self)

    def __repr__(self) -> str:
        c = self.counts()
        parts = ", ".join(
            f"{v} {k}{'' if v == 1 else ('a' if k == 'maximum' else 's')}"
            for k, v in c.items()
            if v
        )
        parts = parts.replace("maximuma", "maxima").replace("minimums", "minima")
        return f"Analysis({self.surface.name!r}: {parts or 'no stationary points'})"


def analyze(
    surface: SurfaceLike,
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
        errata=list(getattr(surface, "errata", ())),
    )
    a.separation = minimizer_status(surface)
    # the quadratic model needs a Hessian: skip a listed minimum where f has none (a kink)
    with_hessian = [p for p in points if p.hessian_defined]
    lowest = next((p for p in with_hessian if p.kind == "minimum"), None)
    model = at_pa if at_pa is not None else (lowest or (with_hessian[0] if with_hessian else None))
    a.regularization = regularization(model, l1=l1, l2=l2, early_stopping=early_stopping)
    if trajectories is not None:
        a.runs = compare_runs(a, trajectories)
    a.notes = list(info["notes"]) + findings(a)
    return a
