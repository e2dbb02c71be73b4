"""Plot geometry: clipping paths to the window, 2-D planes through n-D surfaces, levels.

Pure numpy, no matplotlib: these are the parts of the figures that are worth unit tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiviz.errors import OptivizError

Array = np.ndarray


# -- clipping ------------------------------------------------------------------------------
def inside(P: Array, lo: Array, hi: Array) -> Array:
    """Boolean mask of the rows of ``P`` (k, d) inside the box [lo, hi] (closed)."""
    with np.errstate(invalid="ignore"):
        return np.all((P >= lo) & (P <= hi), axis=-1)


def clip_polyline(P: Array, lo: Any, hi: Any) -> tuple[Array, Array | None, int | None]:
    """Clip a polyline of finite points ``P`` (k, 2) to the box ``[lo, hi]``.

    Returns ``(line, exit_point, exit_segment)``: ``line`` is an (m, 2) array with nan rows
    separating the pieces inside the box (ready for ``ax.plot``); ``exit_point`` is where
    the path last crossed the box boundary outwards, when its final point lies outside
    (``None`` otherwise), and ``exit_segment`` the index k of that segment P[k] -> P[k+1].
    Liang-Barsky clipping, vectorized over the segments.
    """
    P = np.asarray(P, dtype=float)
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    if len(P) == 0:
        return np.empty((0, 2)), None, None
    inn = inside(P, lo, hi)
    if inn.all():
        return P.copy(), None, None
    if len(P) == 1:
        return np.empty((0, 2)), None, None
    p0 = P[:-1]
    with np.errstate(all="ignore"):
        d = P[1:] - p0
        t0 = np.zeros(len(d))
        t1 = np.ones(len(d))
        valid = np.isfinite(d).all(axis=1)
        for k in range(P.shape[1]):
            for p, q in ((-d[:, k], p0[:, k] - lo[k]), (d[:, k], hi[k] - p0[:, k])):
                valid &= ~((p == 0) & (q < 0))
                r = q / p
                neg = p < 0
                pos = p > 0
                t0 = np.where(neg, np.maximum(t0, r), t0)
                t1 = np.where(pos, np.minimum(t1, r), t1)
        valid &= t0 <= t1
        a = p0 + t0[:, None] * d
        b = p0 + t1[:, None] * d
    pieces: list[Array] = []
    nan = np.full(2, np.nan)
    for k in np.flatnonzero(valid).tolist():
        # continue the previous piece when segment k-1 ended inside and k starts there
        cont = k > 0 and valid[k - 1] and t1[k - 1] >= 1.0 and t0[k] <= 0.0
        if not cont:
            if pieces:
                pieces.append(nan)
            pieces.append(a[k])
        pieces.append(b[k])
    line = np.array(pieces) if pieces else np.empty((0, 2))
    exit_point, exit_seg = None, None
    if not inn[-1]:
        leaving = np.flatnonzero(valid & (t1 < 1.0))
        if leaving.size:
            exit_seg = int(leaving[-1])
            exit_point = b[exit_seg]
    return line, exit_point, exit_seg


# -- planes --------------------------------------------------------------------------------
@dataclass
class Plane:
    """A 2-D plane through an n-D space on which contours and paths are drawn.

    ``lift(U)`` maps plane coordinates (..., 2) to points (..., n); ``project(P)`` maps
    points (..., n) to plane coordinates (..., 2). ``labels`` are the two axis labels and
    ``note`` says how the plane was chosen (empty for a plain 2-D surface).
    """

    origin: Array  # (n,)
    basis: Array  # (n, 2): columns are the plane's directions
    labels: tuple[str, str]
    note: str = ""
    coords: tuple[int, int] | None = None  # plane spanned by two coordinates

    def lift(self, U: Array) -> Array:
        U = np.asarray(U, dtype=float)
        if self.coords is not None:
            out = np.broadcast_to(self.origin, U.shape[:-1] + self.origin.shape).copy()
            out[..., self.coords[0]] = U[..., 0]
            out[..., self.coords[1]] = U[..., 1]
            return out
        return self.origin + U @ self.basis.T

    def project(self, P: Array) -> Array:
        P = np.asarray(P, dtype=float)
        if self.coords is not None:
            return P[..., list(self.coords)]
        with np.errstate(all="ignore"):
            return (P - self.origin) @ self.basis


def coordinate_plane(
    n: int, i: int, j: int, origin: Array, labels: tuple[str, str], note: str = ""
) -> Plane:
    basis = np.zeros((n, 2))
    basis[i, 0] = 1.0
    basis[j, 1] = 1.0
    return Plane(np.asarray(origin, dtype=float), basis, labels, note, coords=(i, j))


def resolve_projection(variables: Sequence[str], projection: Any) -> tuple[int, int]:
    """Indices of the two variables named in ``projection`` (names or integer indices)."""
    if isinstance(projection, str) or len(projection) != 2:
        raise OptivizError(
            f"projection must name two of the variables ({', '.join(variables)}) or be "
            f"'hessian'; got {projection!r}"
        )
    out = []
    for p in projection:
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            if not 0 <= p < len(variables):
                raise OptivizError(
                    f"projection index {p} out of range for {len(variables)} variables"
                )
            out.append(int(p))
        elif p in variables:
            out.append(list(variables).index(p))
        else:
            from optiviz.errors import suggest

            raise OptivizError(
                f"projection variable {p!r} is not a variable of the surface"
                f"{suggest(str(p), variables)}; variables: {', '.join(variables)}"
            )
    if out[0] == out[1]:
        raise OptivizError(f"projection must name two different variables; got {projection!r}")
    return out[0], out[1]


# -- levels --------------------------------------------------------------------------------
def log_levels_for(lo: float, hi: float, count: int | None = None) -> Array:
    """Geometric levels from a decade at or below ``lo`` to one at or above ``hi``.

    With ``count`` None: 3 levels per decade up to 8 decades, 2 up to 14, else 1.
    """
    a = np.floor(np.log10(lo))
    b = np.ceil(np.log10(hi))
    if b <= a:
        b = a + 1
    decades = int(b - a)
    if count is None:
        per = 3 if decades <= 8 else 2 if decades <= 14 else 1
        count = decades * per + 1
    return np.logspace(a, b, max(int(count), 2))


def is_geometric(levels: Array, rtol: float = 1e-6) -> bool:
    lv = np.asarray(levels, dtype=float)
    if lv.size < 3 or np.any(lv <= 0):
        return False
    r = lv[1:] / lv[:-1]
    return bool(np.allclose(r, r[0], rtol=rtol))


def is_arithmetic(levels: Array, rtol: float = 1e-6) -> bool:
    lv = np.asarray(levels, dtype=float)
    if lv.size < 3:
        return False
    d = np.diff(lv)
    return bool(np.allclose(d, d[0], rtol=rtol, atol=1e-12 * np.abs(lv).max()))


def grid_min_location(U: Array, V: Array, Z: Array) -> tuple[float, float] | None:
    if not np.isfinite(Z).any():
        return None
    k = np.nanargmin(np.where(np.isfinite(Z), Z, np.nan))
    return float(U.ravel()[k]), float(V.ravel()[k])
