"""The words of an analysis' notes: one sentence per :class:`~optiviz.analysis.Note` kind.

:func:`note_text` words one note, :func:`notes_text` every note of an analysis (as the
terminal report and the JSON report list them). Numbers are shown with
:func:`optiviz._format.fmt_number` (6 significant digits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optiviz._format import fmt_number as num
from optiviz._format import fmt_point as pt
from optiviz._format import plural_count  # noqa: F401 - re-exported

__all__ = [
    "KINK_NOTE",
    "note_text",
    "notes_text",
    "plural",
    "plural_count",
    "flat_words",
    "end_words",
]

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


def plural(kind: str, k: int) -> str:
    """The name of ``k`` points of a kind: ``1 minimum``, ``2 minima``, ``degenerate points``."""
    if k == 1:
        return "degenerate point" if kind == "degenerate" else kind
    return _PLURALS[kind]


def flat_words(relu_net: bool) -> str:
    """What the degenerate points of a surface with kinks are samples of."""
    return "flat regions of the ReLU network" if relu_net else "flat pieces of the surface"


def _method(d: dict) -> str:
    if d["method"] == "linear":
        return "quadratic: the stationary point solves H x = -b exactly"
    if d["method"] == "symbolic":
        return "stationary points: every real solution of grad f = 0, solved symbolically"
    starts = "?" if d.get("starts") is None else d["starts"]
    return (
        f"stationary points: numeric multi-start Newton search from {starts} "
        "starts in the plot window; points far outside it are not searched"
    )


def _minimum_rates(d: dict) -> str:
    where = f"at the minimum {pt(d['point'])}" + (
        " (on a kink: this quadratic model holds on one side of it only)" if d["at_kink"] else ""
    )
    return (
        f"{where}: GD converges for 0 < lr < 2/lambda_max = "
        f"{num(d['stability_limit'])}; lr = 1/lambda_max = {num(d['inverse_lambda_max'])} "
        f"(the notes' optimal rate) contracts by 1 - 1/kappa = "
        f"{num(d['inverse_lambda_max_rate'])} per step; the best fixed lr "
        f"2/(lambda_min + lambda_max) = {num(d['optimal_fixed'])} contracts by "
        f"(kappa-1)/(kappa+1) = {num(d['optimal_rate'])}; heavy ball with lr = "
        f"{num(d['hb_lr'])}, momentum = {num(d['hb_momentum'])} contracts by {num(d['hb_rate'])}"
    )


def _degenerate_continuum(d: dict) -> str:
    n, (lo, hi) = d["count"], d["values"]
    fams = d.get("families") or []
    where = f" ({flat_words(d['relu_net'])})" if d.get("kinks", True) else ""
    if not fams:  # an analysis from before families were recorded
        vals = (
            f"value {num(lo)}"
            if abs(hi - lo) <= 1e-9 * max(1.0, abs(lo))
            else f"values {num(lo)} to {num(hi)}"
        )
        return (
            f"{plural_count(n, 'degenerate stationary point')} ({vals}; a zero Hessian "
            f"eigenvalue){where}: whole continua of points are stationary there, not "
            "isolated ones; the numeric search only samples them"
        )
    head = (
        f"{plural_count(n, 'degenerate stationary point')} (a zero Hessian eigenvalue) "
        f"sample {'a family' if len(fams) == 1 else f'{len(fams)} families'} of "
        f"stationary points{where}, continua rather than isolated points"
    )
    starts = d.get("starts")
    if starts and n >= 0.5 * starts:
        head += f" ({plural_count(n, 'point')} from {plural_count(starts, 'start')}: "
        head += "the search samples them, it cannot list them)"
    parts = []
    for f in fams:
        shape = _SHAPES.get(f["affine_dim"]) if f["affine_dim"] else None
        what = shape or "a continuum"
        eg = " and ".join(pt(e) for e in f["examples"])
        parts.append(f"{what} with f = {num(f['value'])}, {f['count']} sampled, e.g. {eg}")
    rest = n - sum(f["count"] for f in fams)
    tail = f"; {plural_count(rest, 'more point')} in smaller families" if rest > 0 else ""
    return head + ": " + "; ".join(parts) + tail


_SHAPES = {1: "a line", 2: "a plane", 3: "a 3-dimensional affine set"}


def _on_kink(d: dict) -> str:
    k = d["count"]
    parts = ", ".join(f"{v} {plural(kind, v)}" for kind, v in d["kinds"].items() if v)
    return (
        f"{k} stationary {'point lies' if k == 1 else 'points lie'} on a kink ({parts}): "
        "the gradient vanishes there only for one-sided derivatives, so the Hessian "
        "classification (and any learning rate derived from it) does not hold there"
    )


def _at_point(d: dict) -> str:
    kind = (d["kind"] or "not stationary") + (", on a kink" if d["at_kink"] else "")
    if d["stability_limit"] is not None:
        return (
            f"at {pt(d['point'])} ({kind}): the local quadratic model has lambda_max = "
            f"{num(d['lambda_max'])}, GD is locally stable for lr < {num(d['stability_limit'])}"
        )
    return (
        f"at {pt(d['point'])} ({kind}): the Hessian is not positive "
        "definite, so no learning rate makes the local quadratic model converge"
    )


_WORDS: dict[str, Callable[[dict], str]] = {
    "affine_stationary": lambda d: (
        "the Hessian is singular and the stationary points form an affine "
        "subspace; the one of least norm is shown"
    ),
    "gradient_never_vanishes": lambda d: (
        "the gradient never vanishes: the linear term is outside the range "
        "of the (singular) Hessian"
    ),
    "not_isolated": lambda d: (
        "the stationary points are not isolated (a curve or surface of "
        "them); a numeric search shows a sample"
    ),
    "symbolic_timeout": lambda d: (
        f"the symbolic solve did not finish within {num(d['time_budget'])} s; "
        "stationary points were searched numerically"
    ),
    "points_cut": lambda d: (
        f"{plural_count(d['found'], 'stationary point')} found; every minimum and the "
        f"first of the others are kept, {d['kept']} in all (they may form a continuum)"
    ),
    "search_incomplete": lambda d: (
        "the numeric search may have missed stationary points: "
        + "; ".join(_incomplete_reason(r) for r in d["reasons"])
    ),
    "no_hessian": lambda d: (
        f"at the minimum {pt(d['point'])} (listed by the surface) f is not twice "
        "differentiable: its Hessian is undefined there, so no curvature, condition number "
        "or learning rate is derived from it"
    ),
    "separable": lambda d: _separable(d),
    "stationary_method": _method,
    "kinks": lambda d: KINK_NOTE,
    "unbounded": lambda d: f"unbounded below: no minimizer ({d['reason']})",
    "minimum_rates": _minimum_rates,
    "newton_one_step": lambda d: (
        "Newton's method reaches this quadratic's minimum in one step from any start"
    ),
    "saddle": lambda d: (
        f"saddle at {pt(d['point'])}: no learning rate converges to it (GD leaves "
        f"along the eigenvector with lambda = {num(d['escape_eigenvalue'])} unless it starts "
        "exactly on the stable directions)"
    ),
    "maximum": lambda d: (
        f"maximum at {pt(d['point'])}: gradient descent moves away from it at every learning rate"
    ),
    "degenerate": lambda d: (
        f"degenerate stationary point at {pt(d['point'])}: a zero Hessian "
        "eigenvalue, so convergence there is slower than linear"
    ),
    "more_points": lambda d: f"... and {d['count']} more {plural(d['kind'], d['count'])}",
    "degenerate_continuum": _degenerate_continuum,
    "on_kink": _on_kink,
    "no_stationary_point": lambda d: "no stationary point found",
    "at_point": _at_point,
    "regularization": lambda d: f"{d['penalty']} (alpha = {num(d['alpha'])}): {d['note']}",
    "run_ends_off_minimum": lambda d: (
        f"{d['label']} ends on a {_END_WORDS[d['kind']]} at {pt(d['point'])}, not a "
        "minimum: the gradient vanishes there but the Hessian is " + _END_HESSIAN[d["kind"]]
    ),
    "run_no_convergence": lambda d: (
        f"{d['label']}: the theory predicts no convergence (rate "
        f"{num(d['predicted_rate'])} >= 1); status {d['status']}"
    ),
    "run_rate_differs": lambda d: (
        f"{d['label']}: measured rate {num(d['measured_rate'])} differs from the "
        f"predicted {num(d['predicted_rate'])} ({d['theory']} theory; the run may "
        "not have reached its asymptotic regime)"
    ),
    "erratum": lambda d: f"slide erratum: {d['text']}",
}


def _separable(d: dict) -> str:
    sep = f"w = {pt(d['w'])}" + ("" if d["b"] is None else f", b = {num(d['b'])}")
    head = f"the data are linearly separable ({sep} classifies every sample correctly)"
    if d["l1"] or d["l2"]:
        return (
            f"{head}; without a penalty the loss would have no minimizer, the "
            f"{'l2' if d['l2'] else 'l1'} penalty gives it one"
        )
    return (
        f"{head}: no minimizer -- the loss tends to its infimum 0 only as ||w|| -> inf "
        "along such a direction, so gradient methods never converge; l2 > 0 gives a "
        "minimizer (the loss becomes coercive in w)"
    )


def _incomplete_reason(r: dict) -> str:
    if r["reason"] == "budget":
        return f"the time budget of {num(r['time_budget'])} s was reached"
    what = (
        plural_count(r["count"], "minimum", "minima")
        if r["reason"] == "minima"
        else (plural_count(r["count"], "stationary point"))
    )
    return (
        f"{what} found from {plural_count(r['starts'], 'start')}, fewer than {r['per']} "
        f"starts per {'minimum' if r['reason'] == 'minima' else 'point'}"
    )


_END_WORDS: dict[str, str] = {
    "saddle": "saddle",
    "maximum": "maximum",
    "degenerate": "degenerate point",
}
_END_HESSIAN: dict[str, str] = {
    "saddle": "indefinite (a small perturbation lets descent continue)",
    "maximum": "negative definite",
    "degenerate": "singular (a zero eigenvalue), so the classification is undecided",
}


def end_words(kind: str | None) -> str:
    """The flag of a run that ends where the gradient vanishes but not at a minimum
    (``"at a saddle"``), or ``""``."""
    if kind in ("saddle", "maximum"):
        return f"at a {kind}"
    if kind == "degenerate":
        return "at a degenerate point"
    return ""


def note_text(note: Any) -> str:
    """One :class:`~optiviz.analysis.Note` in words."""
    return _WORDS[note.kind](note.data)


def notes_text(analysis: Any) -> list[str]:
    """Every note of an analysis in words, in order."""
    return [note_text(n) for n in analysis.notes]
