"""Stationary points (``grad f = 0``): the linear solve of a quadratic, a symbolic
Groebner solve of a small polynomial system under a size gate and a time budget, else a
numeric multi-start Newton search; de-duplicated, classified and sorted."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from optiviz.analysis._hessian import EIG_TOL, KINDS, _sym, classify
from optiviz.analysis._surface import _at_kinks, _has_kinks, _is_data, _is_quadratic
from optiviz.analysis.findings import Note
from optiviz.analysis.spectra import PointAnalysis, point_analysis
from optiviz.errors import SurfaceError

Array = np.ndarray

#: Symbolic solving is attempted only below these sizes (Bezout bound, number of variables).
SYMBOLIC_MAX_BEZOUT = 36
SYMBOLIC_MAX_VARS = 4
#: Largest number of stationary points other than minima reported (a continuum gives many
#: numeric points); every minimum is kept, up to MAX_MINIMA.
MAX_POINTS = 50
MAX_MINIMA = 1000
#: The numeric search evaluates (and decomposes) one n x n Hessian per start at once: by
#: default it uses at most as many starts as fit this many bytes of Hessians (all 4,000 up
#: to 22 variables; 200 at n = 100, 8 from n = 500 on).
START_HESSIAN_BYTES = 16_000_000


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
    """The points of ``X`` at max-norm distance > ``tol`` from every earlier kept one."""
    X = np.asarray(X, dtype=float).reshape(-1, X.shape[-1])
    if len(X) > 1 and tol > 0:
        # one point per cell of a tol-grid first (in order), then the exact test on those
        with np.errstate(all="ignore"):
            cells = np.floor(X / tol)
        if np.all(np.isfinite(cells)):
            _, first = np.unique(cells, axis=0, return_index=True)
            X = X[np.sort(first)]
    kept = np.zeros((0, X.shape[-1]))
    for x in X:
        if not len(kept) or np.min(np.max(np.abs(kept - x), axis=-1)) > tol:
            kept = np.vstack([kept, x])
    return kept


def _width(lo: Array, hi: Array) -> Array:
    """``hi - lo``, at most the largest float (``[-1e308, 1e308]`` is 2e308 wide)."""
    with np.errstate(over="ignore"):
        return np.minimum(hi - lo, np.finfo(float).max)


def _diagonal(width: Array) -> float:
    """The length of a window's diagonal, at most the largest float."""
    with np.errstate(over="ignore"):
        return min(float(np.linalg.norm(width)), float(np.finfo(float).max))


def _starts(surface: Any, n_starts: int | None, seed: int = 0) -> Array:
    n = surface.n
    lo, hi = surface.window[:, 0], surface.window[:, 1]
    if n_starts is None:
        n_starts = 400 if n <= 2 else min(4000, 150 * n, max(8, START_HESSIAN_BYTES // (8 * n * n)))
    n_starts = max(1, int(n_starts))
    if n <= 2:
        k = max(1, int(math.ceil(n_starts ** (1.0 / n))))
        width = _width(lo, hi)
        axes = [lo[i] + (np.arange(k) + 0.5) / k * width[i] for i in range(n)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, n)
    else:
        rng = np.random.default_rng(seed)
        u = np.argsort(rng.random((n, n_starts)), axis=1).T + rng.random((n_starts, n))
        grid = lo + u / n_starts * _width(lo, hi)
    known = [m.point for m in getattr(surface, "minima", []) or []]
    if known:
        grid = np.vstack([grid, np.array(known, dtype=float).reshape(-1, n)])
    return grid


def _descend(
    surface: Any,
    X: Array,
    t_end: float,
    max_iter: int,
    max_step: float,
    gtol: float,
    near: float,
    radius0: float,
) -> tuple[Array, bool]:
    """Saddle-free Newton descent from every start, all stepped together as ``(S, n)``.

    The direction is ``-|H|^-1 grad`` (the Hessian's eigenvalues replaced by their absolute
    values, floored at ``1e-6`` of the largest), a descent direction at every point, capped
    at a per-start radius and backtracked on ``f`` (Armijo). The radius starts at
    ``radius0`` (a fraction of the spacing of the starts, so a first step cannot leap over
    the neighbouring basins into a lower one, as it would on Ackley's funnel) and doubles
    after every full capped step, up to ``max_step``. Unlike Newton on ``grad f`` (which
    goes to the nearest stationary point of any kind) each start descends into the basin
    it lies in, so every minimum whose basin holds a start is found. Returns the points
    where ``||grad|| <= gtol``, and those where the line search stalled (f's round-off)
    with ``||grad|| <= near``; and whether the time limit ``t_end`` cut the descent short.
    """
    X = np.array(X, dtype=float, copy=True)
    with np.errstate(all="ignore"):
        F = np.asarray(surface.f(X, check=False), dtype=float).reshape(-1)
        G = surface.grad(X, check=False)
        gn = np.linalg.norm(G, axis=-1)
        alive = np.isfinite(F) & np.isfinite(gn)
        done = alive & (gn <= gtol)
        stalled = np.zeros(len(X), dtype=bool)
        radius = np.full(len(X), float(min(radius0, max_step)))
        gn_before = gn.copy()
        cut = False
        for it in range(max_iter):
            if it and it % 10 == 0:
                # ||grad|| not down by 10% in 10 steps: a kink (Ackley's cone point, where
                # steps shrink towards the apex and the gradient keeps its norm); stop
                slow = alive & ~done & (gn > 0.9 * gn_before)
                stalled |= slow
                alive &= ~slow
                gn_before = gn.copy()
            work = alive & ~done
            if not work.any():
                break
            if time.perf_counter() > t_end:
                cut = True
                break
            idx = np.nonzero(work)[0]
            H = _sym(surface.hess(X[idx], check=False))
            okh = np.all(np.isfinite(H), axis=(-1, -2))
            alive[idx[~okh]] = False
            idx, H = idx[okh], H[okh]
            if idx.size == 0:
                break
            lam, V = np.linalg.eigh(H)
            absl = np.abs(lam)
            floor = 1e-6 * np.max(absl, axis=-1, keepdims=True)
            absl = np.maximum(absl, np.maximum(floor, 1e-300))
            D = -np.einsum("sij,sj->si", V, np.einsum("sji,sj->si", V, G[idx]) / absl)
            dn = np.linalg.norm(D, axis=-1)
            capped = dn > radius[idx]
            D *= np.minimum(1.0, radius[idx] / np.maximum(dn, 1e-300))[:, None]
            slope = np.einsum("si,si->s", G[idx], D)
            t = np.ones(idx.size)
            acc = np.zeros(idx.size, dtype=bool)
            Xold = X[idx]
            for _ in range(20):
                todo = np.nonzero(~acc)[0]
                Xt = X[idx[todo]] + t[todo, None] * D[todo]
                Ft = np.asarray(surface.f(Xt, check=False), dtype=float).reshape(-1)
                ok = np.isfinite(Ft) & (Ft <= F[idx[todo]] + 1e-4 * t[todo] * slope[todo])
                sel = todo[ok]
                X[idx[sel]] = Xt[ok]
                F[idx[sel]] = Ft[ok]
                acc[sel] = True
                t[todo[~ok]] *= 0.5
                if acc.all():
                    break
            # no decrease at a step of 2^-20, or a step below round-off: a kink, or f's
            # round-off near a minimum (the caller's Newton polish and gradient test decide)
            tiny = np.linalg.norm(X[idx] - Xold, axis=-1) <= 1e-12 * (
                1.0 + np.linalg.norm(Xold, axis=-1)
            )
            stop = ~acc | tiny
            stalled[idx[stop]] = True
            alive[idx[stop]] = False
            # a full capped step accepted: the model holds further out, widen the radius
            grow = acc & capped & (t == 1.0)
            radius[idx[grow]] = np.minimum(2.0 * radius[idx[grow]], max_step)
            G[idx] = surface.grad(X[idx], check=False)
            gn[idx] = np.linalg.norm(G[idx], axis=-1)
            done |= alive & (gn <= gtol)
    return X[done | (stalled & (gn <= near))], cut


def _numeric_stationary(
    surface: Any, n_starts: int | None, time_budget: float, max_iter: int = 80
) -> tuple[Array, dict]:
    """Multi-start damped Newton on grad f, all starts stepped together as (S, n)."""
    t0 = time.perf_counter()
    X = _starts(surface, n_starts)
    X0 = X.copy()
    S, n = X.shape
    lo, hi = surface.window[:, 0], surface.window[:, 1]
    width = _width(lo, hi)
    diag = _diagonal(width)
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
        newton_budget = False
        for it in range(max_iter):  # noqa: B007 - reported below
            work = alive & ~done
            if not work.any():
                break
            if time.perf_counter() - t0 > time_budget:
                newton_budget = True
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
        unfinished = int(np.sum(alive & ~done))
        inside = np.all((X >= lo - 0.5 * width) & (X <= hi + 0.5 * width), axis=-1)
        roots = X[done & inside]
        # the second search: descent into the basin of every start (finds the minima the
        # nearest-stationary-point search above steps past)
        desc, desc_budget = _descend(
            surface,
            X0[finite0],
            t0 + time_budget,
            max_iter,
            max_step,
            gtol,
            1e-4 * max(1.0, gscale),
            0.25 * float(np.min(width)) / max(1.0, S ** (1.0 / n)),
        )
        desc = desc[np.all((desc >= lo) & (desc <= hi), axis=-1)]  # basins of the window
        pts = _dedupe(np.vstack([roots, desc]), 1e-9 * diag)
        pts = _newton_polish(surface, pts, iters=2) if len(pts) else pts
        if len(pts):
            g2 = np.linalg.norm(surface.grad(pts, check=False), axis=-1)
            pts = pts[np.isfinite(g2) & (g2 <= max(gtol, 1e-6 * max(1.0, gscale)))]
    pts = _dedupe(pts, 1e-6 * diag)
    seconds = time.perf_counter() - t0
    info = {
        "starts": int(S),
        "iterations": int(it + 1),
        "seconds": seconds,
        "curvature_scale": curvature,
        "budget_reached": bool(newton_budget or desc_budget),
        "unfinished": unfinished,
        "time_budget": float(time_budget),
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
    if not getattr(surface, "symbolic_exact", False):
        return "no symbolic form", None
    if not surface.is_polynomial:
        return "the gradient is not polynomial", None
    syms = list(surface.symbols)
    if len(syms) > SYMBOLIC_MAX_VARS:
        return f"more than {SYMBOLIC_MAX_VARS} variables", None
    from optiviz.surface import expand_refusal

    refusal = expand_refusal(surface)
    if refusal is not None:
        return refusal, None
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
    point is guaranteed found (linear and symbolic), and ``info["notes"]`` (a list of
    :class:`~optiviz.analysis.findings.Note`).
    """
    notes: list[Note] = []
    info: dict[str, Any] = {"method": None, "complete": False, "notes": notes}
    pts: Array | None = None
    quadratic = _is_quadratic(surface)
    if quadratic:
        pts, how = _quadratic_stationary(surface)
        info.update(method="linear", complete=True)
        if how == "affine":
            notes.append(Note("affine_stationary"))
        elif how == "none":
            notes.append(Note("gradient_never_vanishes"))
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
                diag = _diagonal(_width(surface.window[:, 0], surface.window[:, 1]))
                pts = _dedupe(np.array(good).reshape(-1, surface.n), 1e-9 * diag)
                info.update(method="symbolic", complete=True)
            elif ok:
                notes.append(Note("not_isolated"))
            else:
                notes.append(Note("symbolic_timeout", {"time_budget": float(time_budget)}))
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
    out += _listed_minima(surface, out)
    order = {k: i for i, k in enumerate(KINDS)}
    vtol = 1e-9 * (1.0 + max((abs(p.value) for p in out), default=0.0))
    out.sort(key=lambda p: (order[str(p.kind)], round(p.value / vtol), tuple(np.round(p.point, 9))))
    info["summary"] = _summary(out)
    # every minimum is kept (up to MAX_MINIMA), of the other points the first MAX_POINTS
    n_min = min(sum(p.kind == "minimum" for p in out), MAX_MINIMA)
    keep = [p for p in out if p.kind == "minimum"][:n_min]
    keep += [p for p in out if p.kind != "minimum"][:MAX_POINTS]
    if len(keep) < len(out):
        notes.append(Note("points_cut", {"found": len(out), "kept": len(keep)}))
    info["summary"]["kept"] = len(keep)
    if info["method"] == "numeric":
        info["incomplete"] = _incomplete(info.get("search", {}), info["summary"])
        if info["incomplete"]:
            notes.append(Note("search_incomplete", {"reasons": list(info["incomplete"])}))
    return keep, info


def _listed_minima(surface: Any, found: Sequence[PointAnalysis]) -> list[PointAnalysis]:
    """The minima the surface lists (its file's ``minima:``) that the search did not find.

    A listed minimum where the gradient or Hessian is not finite (Ackley's cone point at
    the origin: f is not differentiable there) becomes a minimum with no Hessian
    (``hessian_defined`` False, ``at_kink`` True): its value is known, its curvature and
    every learning rate derived from it are not.
    """
    extra: list[PointAnalysis] = []
    known = [np.asarray(m.point, dtype=float).reshape(-1) for m in surface.minima or []]
    if not known:
        return extra
    diag = float(np.linalg.norm(surface.window[:, 1] - surface.window[:, 0]))
    tol = 1e-6 * max(diag, 1e-300)
    have = [p.point for p in found]
    for x in known:
        if any(float(np.max(np.abs(x - y))) <= tol for y in have):
            continue
        have.append(x)
        try:
            pa = point_analysis(surface, x, kind="auto", exact=_is_quadratic(surface))
        except SurfaceError:
            pa = _undefined_hessian(surface, x)
        if pa.kind is None:  # listed, though the gradient is not ~0 here: trust the file
            pa.kind = "minimum"
        extra.append(pa)
    return extra


def _undefined_hessian(surface: Any, x: Array) -> PointAnalysis:
    n = surface.n
    with np.errstate(all="ignore"):
        value = float(surface.f(x, check=False))
    nan_v, nan_m = np.full(n, np.nan), np.full((n, n), np.nan)
    return PointAnalysis(
        x,
        value,
        "minimum",
        nan_v,
        nan_m,
        nan_v.copy(),
        nan_m.copy(),
        at_kink=True,
        hessian_defined=False,
        variables=tuple(getattr(surface, "variables", ())),
    )


#: A numeric search with fewer starts than this many per minimum found may have missed some.
STARTS_PER_MINIMUM = 8
#: ... or than this many per stationary point found (saddles and maxima too).
STARTS_PER_POINT = 4


def _incomplete(search: dict, summary: dict) -> list[dict]:
    """Why a numeric search may have missed stationary points (empty: no sign of it), as
    data: ``{"reason": "budget", "time_budget"}``, ``{"reason": "minima", "count",
    "starts", "per"}`` or ``{"reason": "points", "count", "starts", "per"}``."""
    why: list[dict] = []
    starts = int(search.get("starts") or 0)
    if search.get("budget_reached"):
        why.append({"reason": "budget", "time_budget": float(search.get("time_budget", 0.0))})
    n_min = summary["kinds"]["minimum"]
    if starts and n_min * STARTS_PER_MINIMUM > starts:
        why.append(
            {"reason": "minima", "count": n_min, "starts": starts, "per": STARTS_PER_MINIMUM}
        )
    else:
        # degenerate points sample continua (a family is summarised, not listed): not counted
        # (nor are points on a kink: continua of one-sided stationary points there)
        isolated = (
            summary["found"]
            - summary["kinds"]["degenerate"]
            - sum(v for k, v in summary["at_kink"].items() if k != "degenerate")
        )
        if starts and isolated * STARTS_PER_POINT > starts:
            why.append(
                {"reason": "points", "count": isolated, "starts": starts, "per": STARTS_PER_POINT}
            )
    return why


def _summary(points: Sequence[PointAnalysis]) -> dict:
    """Counts over every stationary point found (before the list is cut to MAX_POINTS):
    ``found``, ``kept`` (listed in ``stationary_points``), ``kinds`` (per kind),
    ``at_kink`` (per kind, the points on a kink), ``degenerate_values`` ([min, max] of
    the degenerate points' values, or None), ``families`` (the degenerate points off a
    kink grouped into families of one value: :func:`_families`)."""
    kinds = {k: 0 for k in KINDS}
    at_kink = {k: 0 for k in KINDS}
    for p in points:
        kinds[str(p.kind)] += 1
        at_kink[str(p.kind)] += bool(p.at_kink)
    deg = [p.value for p in points if p.kind == "degenerate"]
    return {
        "found": len(points),
        "kept": min(len(points), MAX_POINTS),
        "kinds": kinds,
        "at_kink": at_kink,
        "degenerate_values": [min(deg), max(deg)] if deg else None,
        "families": _families([p for p in points if p.kind == "degenerate" and not p.at_kink]),
    }


#: Families of degenerate points summarised (the largest first).
MAX_FAMILIES = 5


def _families(points: Sequence[PointAnalysis]) -> list[dict]:
    """Degenerate stationary points grouped by value (equal to 1e-9 of the values' scale):
    each group is a sample of one family (a continuum) of stationary points. Per family:
    ``value``, ``count``, ``affine_dim`` (1: the samples lie on a line, 2: a plane, ... up
    to 3, to 1e-3 of their spread: numeric samples of a flat family are inexact; None when
    they lie on none, or are too few -- fewer
    than dim + 3 -- to tell) and ``examples`` (two sample points)."""
    if not points:
        return []
    vals = np.array([p.value for p in points])
    scale = 1e-9 * max(1.0, float(np.max(np.abs(vals))))
    order = np.argsort(vals, kind="stable")
    groups: list[list[int]] = []
    for i in order:
        if groups and abs(vals[i] - vals[groups[-1][0]]) <= scale:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    groups.sort(key=len, reverse=True)
    out = []
    for g in groups[:MAX_FAMILIES]:
        P = np.array([points[i].point for i in g])
        out.append(
            {
                "value": float(np.mean(vals[g])),
                "count": len(g),
                "affine_dim": _affine_dim(P),
                "examples": [P[0].tolist(), P[len(P) // 2].tolist()][: len(P)],
            }
        )
    return out


def _affine_dim(P: Array) -> int | None:
    """The smallest r <= 3 with every sample within 1e-3 of the spread of an r-dimensional
    affine subspace, if there are at least r + 3 samples; else None."""
    m, n = P.shape
    C = P - P.mean(axis=0)
    spread = float(np.max(np.abs(C))) if C.size else 0.0
    if spread == 0.0:
        return None
    _, _, Vt = np.linalg.svd(C, full_matrices=False)
    for r in range(1, min(3, n - 1) + 1):
        if m < r + 3:
            return None
        resid = C - (C @ Vt[:r].T) @ Vt[:r]
        if float(np.max(np.abs(resid))) <= 1e-3 * spread:
            return r
    return None
