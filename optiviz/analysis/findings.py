"""What an analysis found worth a remark, as data: one :class:`Note` per finding.

A note is a kind and the numbers behind it; :mod:`optiviz.report.notes` words it. The kinds
(and their ``data`` keys):

* found while searching stationary points (:func:`~optiviz.analysis.stationary_points`):
  ``affine_stationary`` (singular Hessian, least-norm point of an affine set shown),
  ``gradient_never_vanishes``, ``not_isolated`` (a continuum; numeric sample shown),
  ``symbolic_timeout`` (``time_budget``), ``points_cut`` (``found``, ``kept``),
  ``search_incomplete`` (``reasons``: why a numeric search may have missed points);
* about the whole analysis (:func:`findings`): ``stationary_method`` (``method``,
  ``starts``), ``kinks``, ``unbounded`` (``reason``), ``separable`` (logistic
  regression on separable data: ``w``, ``b``, ``l1``, ``l2``), ``no_hessian`` (``point``: a listed
  minimum where f is not twice differentiable), ``minimum_rates`` (``point``,
  ``at_kink``, GD's ``stability_limit``, ``inverse_lambda_max``,
  ``inverse_lambda_max_rate``, ``optimal_fixed``, ``optimal_rate``; heavy ball's
  ``hb_lr``, ``hb_momentum``, ``hb_rate``), ``newton_one_step``, ``saddle`` (``point``,
  ``escape_eigenvalue``), ``maximum`` (``point``), ``degenerate`` (``point``),
  ``more_points`` (``kind``, ``count``), ``degenerate_continuum`` (``count``, ``values``
  [lo, hi], ``relu_net``, ``kinks``, ``families``: value, count, affine_dim, examples;
  ``starts``), ``on_kink`` (``count``, ``kinds``: per kind),
  ``no_stationary_point``, ``at_point`` (``point``, ``kind``, ``at_kink``, ``lambda_max``,
  ``stability_limit`` or None), ``regularization`` (``penalty`` "L1"/"L2", ``alpha``,
  ``note``), ``run_ends_off_minimum`` (``label``, ``kind``: saddle, maximum or
  degenerate, ``point``), ``run_no_convergence`` (``label``, ``predicted_rate``, ``status``),
  ``run_rate_differs`` (``label``, ``measured_rate``, ``predicted_rate``, ``theory``),
  ``erratum`` (``text``: a lecture-slide erratum of the surface's YAML).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from optiviz.analysis._hessian import KINDS
from optiviz.analysis._surface import _is_relu_net

if TYPE_CHECKING:  # pragma: no cover
    from optiviz.analysis.core import Analysis

#: Of each kind but minima, the points beyond this many get one "... and k more" note.
POINT_NOTES = 4


@dataclass(frozen=True)
class Note:
    """One finding: its ``kind`` (see the module docstring) and the numbers behind it."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        """The note in words (:func:`optiviz.report.note_text`)."""
        from optiviz.report.notes import note_text

        return note_text(self)


def _point(x: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(x, dtype=float).reshape(-1))


def _irregular(a: Analysis, summary: dict) -> list[Note]:
    """On a surface with kinks: one note for the degenerate points (flat pieces) and one
    for the points on a kink."""
    out = []
    n_deg = summary["kinds"]["degenerate"] - summary["at_kink"]["degenerate"]
    if n_deg:
        out.append(_continuum(a, summary, n_deg))
    k = sum(summary["at_kink"].values())
    if k:
        out.append(Note("on_kink", {"count": k, "kinds": dict(summary["at_kink"])}))
    return out


def _continuum(a: Analysis, summary: dict, count: int) -> Note:
    lo, hi = summary["degenerate_values"]
    return Note(
        "degenerate_continuum",
        {
            "count": count,
            "values": (lo, hi),
            "relu_net": _is_relu_net(a.surface),
            "kinks": a.kinks,
            "families": list(summary.get("families") or []),
            "starts": (a.search or {}).get("starts"),
        },
    )


def findings(a: Analysis) -> list[Note]:
    """The notes on an analysis, in the order a report lists them."""
    from optiviz.analysis.stationary import _summary

    notes: list[Note] = []
    if a.method is not None:
        notes.append(
            Note(
                "stationary_method", {"method": a.method, "starts": (a.search or {}).get("starts")}
            )
        )
    kinks = a.kinks
    if kinks:
        notes.append(Note("kinks"))
    if a.bounded_below is False:
        notes.append(Note("unbounded", {"reason": a.bounded_reason}))
    if a.separation:
        notes.append(Note("separable", dict(a.separation)))
    notes.extend(
        Note("no_hessian", {"point": _point(p.point)}) for p in a.minima if not p.hessian_defined
    )
    m = a.minimum
    if m is not None and m.eta is not None:
        e, mo = m.eta, m.momentum
        assert mo is not None  # defined wherever eta is (a positive definite Hessian)
        notes.append(
            Note(
                "minimum_rates",
                {
                    "point": _point(m.point),
                    "at_kink": m.at_kink,
                    "stability_limit": e["stability_limit"],
                    "inverse_lambda_max": e["inverse_lambda_max"],
                    "inverse_lambda_max_rate": e["inverse_lambda_max_rate"],
                    "optimal_fixed": e["optimal_fixed"],
                    "optimal_rate": e["optimal_rate"],
                    "hb_lr": mo["lr"],
                    "hb_momentum": mo["momentum"],
                    "hb_rate": mo["rate"],
                },
            )
        )
        if m.exact:
            notes.append(Note("newton_one_step"))
    # one note per point for the first few of each kind; on a surface with kinks the
    # points on a kink and the degenerate ones (flat pieces) are summarised in one note
    summary = a.summary or _summary(a.stationary_points)
    # more than a few degenerate points on a smooth surface: a family, summarised as one
    family = not kinks and summary["kinds"]["degenerate"] > POINT_NOTES
    noted: dict[str, int] = {}
    for p in a.stationary_points:
        kind = str(p.kind)  # every stationary point is classified
        if kinks and (p.at_kink or kind == "degenerate"):
            continue
        if family and kind == "degenerate":
            continue
        noted[kind] = noted.get(kind, 0) + 1
        if kind != "minimum" and noted[kind] > POINT_NOTES:
            continue
        if kind == "saddle":
            neg = p.eigenvalues[p.eigenvalues < 0]
            notes.append(
                Note("saddle", {"point": _point(p.point), "escape_eigenvalue": float(neg[0])})
            )
        elif kind in ("maximum", "degenerate"):
            notes.append(Note(kind, {"point": _point(p.point)}))
    for kind in KINDS:
        total = summary["kinds"][kind] - (summary["at_kink"][kind] if kinks else 0)
        if kind == "degenerate" and (kinks or family):
            continue
        if kind != "minimum" and total > POINT_NOTES:
            notes.append(Note("more_points", {"kind": kind, "count": total - POINT_NOTES}))
    if kinks:
        notes.extend(_irregular(a, summary))
    elif family:
        notes.append(_continuum(a, summary, summary["kinds"]["degenerate"]))
    if not a.stationary_points:
        notes.append(Note("no_stationary_point"))
    if a.at is not None:
        p = a.at
        notes.append(
            Note(
                "at_point",
                {
                    "point": _point(p.point),
                    "kind": p.kind,
                    "at_kink": p.at_kink,
                    "lambda_max": p.lambda_max,
                    "stability_limit": None if p.eta is None else p.eta["stability_limit"],
                },
            )
        )
    reg = a.regularization
    if reg:
        for penalty in ("l2", "l1"):
            if reg.get(penalty):
                r = reg[penalty]
                notes.append(
                    Note(
                        "regularization",
                        {"penalty": penalty.upper(), "alpha": r["alpha"], "note": r["note"]},
                    )
                )
    for r in a.runs or []:
        if r.ends_at in ("saddle", "maximum", "degenerate"):
            notes.append(
                Note(
                    "run_ends_off_minimum",
                    {"label": r.label, "kind": r.ends_at, "point": _point(r.final_point)},
                )
            )
        if r.predicted_rate is None:
            continue
        if r.predicted_rate >= 1.0:
            notes.append(
                Note(
                    "run_no_convergence",
                    {"label": r.label, "predicted_rate": r.predicted_rate, "status": r.status},
                )
            )
        elif (
            r.measured_rate is not None
            and r.measured_rate > 0
            and (abs(r.measured_rate - r.predicted_rate) > 0.1 * r.predicted_rate)
        ):
            notes.append(
                Note(
                    "run_rate_differs",
                    {
                        "label": r.label,
                        "measured_rate": r.measured_rate,
                        "predicted_rate": r.predicted_rate,
                        "theory": r.theory,
                    },
                )
            )
    notes.extend(Note("erratum", {"text": e}) for e in a.errata)
    return notes
