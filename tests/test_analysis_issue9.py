"""Issue 9, "Analysis and reports": missed minima, runs ending on saddles, named directions,
bounded-below decisions, plurals and families of stationary points.

Every expected value comes from a closed form, a literature value or an independent
computation written here (bisection, a brute-force grid), never from the analysis itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optiviz.analysis import analyze, lr_relative_to_eta_opt
from optiviz.errors import OptivizError
from optiviz.library import load_surface
from optiviz.report import to_markdown, to_table


def _inside(a, s):
    lo, hi = s.window[:, 0], s.window[:, 1]
    return [m for m in a.minima if np.all((m.point >= lo) & (m.point <= hi))]


def _bisect(fn, a, b, it=200):
    fa = fn(a)
    for _ in range(it):
        m = 0.5 * (a + b)
        fm = fn(m)
        if (fm < 0) == (fa < 0):
            a, fa = m, fm
        else:
            b = m
    return 0.5 * (a + b)


def _rastrigin_minima_1d(A=10.0, lo=-5.12, hi=5.12):
    """Minima of A + t^2 - A cos(2 pi t): roots of 2t + 2 pi A sin(2 pi t) near each
    integer k (the derivative changes sign from - to + on [k - 0.25, k + 0.25])."""
    d = lambda t: 2 * t + 2 * math.pi * A * math.sin(2 * math.pi * t)  # noqa: E731
    out = []
    for k in range(math.ceil(lo), math.floor(hi) + 1):
        t = 0.0 if k == 0 else _bisect(d, k - 0.25, k + 0.25)
        out.append((t, A + t * t - A * math.cos(2 * math.pi * t)))
    return out


# -- 1. missed minima ---------------------------------------------------------------------------
def test_rastrigin_every_minimum_in_the_window_against_the_separable_closed_form():
    """Today: (+-0.995, 0) and (0, +-0.995) were missing (a 20x20 grid of Newton-on-grad
    starts lands on saddles and maxima). The 121 minima are the products of the 11
    one-dimensional minima of each coordinate."""
    s = load_surface("rastrigin")
    a = analyze(s)
    ref = sorted(
        ((tx + ty, (x, y)) for x, tx in _rastrigin_minima_1d() for y, ty in _rastrigin_minima_1d()),
    )
    got = _inside(a, s)
    assert len(ref) == 121 == len(got)
    for v, p in ref:
        d = [float(np.max(np.abs(m.point - np.array(p)))) for m in got]
        i = int(np.argmin(d))
        assert d[i] <= 1e-9 and got[i].value == pytest.approx(v, rel=1e-9, abs=1e-12)
    # listed by value: the origin, then the four at distance 0.994959 (f = 0.994959)
    assert [tuple(m.point) for m in a.minima[:1]] == [(0.0, 0.0)]
    near = sorted(tuple(np.round(m.point, 6)) for m in a.minima[1:5])
    assert near == [(-0.994959, 0.0), (0.0, -0.994959), (0.0, 0.994959), (0.994959, 0.0)]
    vals = [m.value for m in a.minima]  # ties (to 1e-9) are ordered by point
    assert all(b >= v - 1e-9 * (1 + abs(v)) for v, b in zip(vals, vals[1:], strict=False))


def _ackley_grid_minima(h=0.005):
    """Strict local minima of Ackley's function on a grid of spacing h over [-5, 5]^2
    (each compared with its 8 neighbours): an independent brute force."""
    g = np.linspace(-5, 5, int(round(10 / h)) + 1)
    X, Y = np.meshgrid(g, g, indexing="ij")
    F = (
        -20 * np.exp(-0.2 * np.sqrt((X**2 + Y**2) / 2))
        - np.exp((np.cos(2 * np.pi * X) + np.cos(2 * np.pi * Y)) / 2)
        + 20
        + np.e
    )
    c = F[1:-1, 1:-1]
    loc = np.ones_like(c, dtype=bool)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                loc &= c < F[1 + dx : F.shape[0] - 1 + dx, 1 + dy : F.shape[1] - 1 + dy]
    i, j = np.nonzero(loc)
    return np.stack([X[i + 1, j + 1], Y[i + 1, j + 1]], axis=-1), c[i, j]


def test_ackley_global_minimum_is_found_and_its_hessian_is_undefined():
    """Today the origin (f = 0, listed in ackley.yaml) was missing: its gradient is 0/0, so
    the search dropped it, and ``minimum`` was the local (-0.968, -0.968), f = 3.57."""
    s = load_surface("ackley")
    a = analyze(s)
    m = a.minimum
    assert tuple(m.point) == (0.0, 0.0) and abs(m.value) <= 1e-15
    assert m.kind == "minimum" and not m.hessian_defined and m.eta is None
    assert m.condition_number is None and m.newton is None
    # every minimum in the window, against the brute-force grid (spacing 0.005)
    ref, vals = _ackley_grid_minima()
    got = _inside(a, s)
    assert len(ref) == 121 == len(got)
    for p, v in zip(ref, vals, strict=True):
        d = [float(np.max(np.abs(q.point - p))) for q in got]
        i = int(np.argmin(d))
        assert d[i] <= 0.005 and got[i].value <= v + 1e-12
    # the second lowest: the four at (+-0.952, 0), (0, +-0.952) with f = 2.57993
    assert [round(q.value, 5) for q in a.minima[1:5]] == [2.57993] * 4
    # times_eta_opt has no Hessian to refer to at the origin: refused, saying why
    with pytest.raises(OptivizError, match="not twice differentiable"):
        lr_relative_to_eta_opt(s, 1.0)
    with pytest.raises(OptivizError, match="Hessian is undefined"):
        a.lr_relative_to_eta_opt(1.0)
    for text in (to_table(a), to_markdown(a)):
        assert "undefined (f not differentiable here)" in text
        assert "nan" not in text.lower().replace("nan ", "")  # no garbage numbers
        assert "its Hessian is undefined there" in text
    d = a.to_dict()["stationary_points"][0]
    assert d["hessian_defined"] is False and d["eigenvalues"] == [None, None]


# literature minima counts inside the library windows
MINIMA = {
    "himmelblau": 4,  # Himmelblau 1972
    "six_hump_camel": 6,  # Dixon & Szego 1978
    "styblinski_tang": 4,  # separable: 2 minima per coordinate
    "three_hump_camel": 3,
    "goldstein_price": 4,  # global (0, -1) and three local
    "beale": 1,
    "rosenbrock": 1,
}


@pytest.mark.parametrize("name", sorted(MINIMA))
def test_library_minima_are_all_found_and_include_the_listed_ones(name):
    s = load_surface(name)
    a = analyze(s)
    got = _inside(a, s)
    assert len(got) == MINIMA[name]
    for known in s.minima:
        d = min(float(np.max(np.abs(m.point - np.asarray(known.point)))) for m in a.minima)
        assert d <= 1e-7
    assert a.minimum.value == pytest.approx(min(k.value for k in s.minima), abs=1e-9)


def test_report_says_when_the_numeric_search_may_be_incomplete():
    """121 minima from 401 starts: the search cannot vouch for completeness."""
    a = analyze(load_surface("rastrigin"))
    kinds = [n.kind for n in a.notes]
    assert "search_incomplete" in kinds
    assert "the numeric search may have missed stationary points" in to_markdown(a)
    # Goldstein-Price: 9 points from 400 starts, no sign of a miss
    g = analyze(load_surface("goldstein_price"))
    assert "search_incomplete" not in [n.kind for n in g.notes]
    # the report lists the lowest minima and counts the rest
    md = to_markdown(a)
    assert "and 117 more minima" in md


# -- 2. a run that ends on a saddle or a maximum ---------------------------------------------
def _saddle_config(optimizers, start=(0.2, -0.1), steps=20):
    from optiviz.config.parse import parse_config

    return parse_config(
        {
            "name": "newton-saddle",
            "surface": {
                "expression": "x**4 - 3*x**2 + y**2 + x*y",
                "variables": ["x", "y"],
                "window": [[-2, 2], [-2, 2]],
            },
            "start": list(start),
            "steps": steps,
            "optimizers": optimizers,
            "figures": [],
        }
    )


def test_newton_stopping_at_the_saddle_is_flagged_in_summary_and_reports():
    """grad f = (4x^3 - 6x + y, 2y + x) vanishes at (0, 0), where the Hessian
    [[-6, 1], [1, 2]] has eigenvalues -2 -+ sqrt(17) of both signs: a saddle. Newton from
    (0.2, -0.1) converges to it (today: reported "converged" like a minimum)."""
    from optiviz.experiment.markdown import report_markdown
    from optiviz.experiment.run import run_experiment
    from optiviz.experiment.summary import summarize

    cfg = _saddle_config([{"name": "newton"}, {"name": "gd", "lr": 0.05}], steps=400)
    result = run_experiment(cfg, write=False)
    newton = result.runs[0].trajectory
    assert np.max(np.abs(newton.final_point)) <= 1e-12  # it did stop at the saddle
    lines = summarize(result)
    assert "at a saddle (0, 0), not a minimum" in lines[0]
    assert "saddle" not in lines[1]  # GD leaves the saddle for a minimum
    md = report_markdown(cfg, result)
    assert "(at a saddle, not a minimum)" in md  # the results table and the runs table
    assert md.count("(at a saddle, not a minimum)") == 2
    assert "ends on a saddle at (0, 0), not a minimum" in md  # the notes
    assert result.analysis.runs[0].ends_at == "saddle"
    assert result.analysis.runs[1].ends_at == "minimum"
    assert "; 2 runs." in md


def test_a_run_at_a_maximum_is_flagged():
    """-(x^2 + y^2): Newton jumps to (0, 0) in one step, where the Hessian is -2 I."""
    from optiviz.config.parse import parse_config
    from optiviz.experiment.run import run_experiment
    from optiviz.experiment.summary import summarize

    cfg = parse_config(
        {
            "name": "newton-max",
            "surface": {
                "expression": "-(x**2 + y**2)",
                "variables": ["x", "y"],
                "window": [[-2, 2], [-2, 2]],
            },
            "start": [1.0, 0.5],
            "steps": 3,
            "optimizers": [{"name": "newton"}],
            "figures": [],
        }
    )
    result = run_experiment(cfg, write=False)
    assert "at a maximum (0, 0), not a minimum" in summarize(result)[0]
    assert "; 1 run." in __import__(
        "optiviz.experiment.markdown", fromlist=["report_markdown"]
    ).report_markdown(cfg, result)


# -- 3. per-direction quantities name their direction -----------------------------------------
def test_worked_b_per_direction_rates_are_named_by_variable():
    """Worked problem B: E = 3x^2 + 2y^2 + 4z^2 + 6, H = diag(6, 4, 8); the slide lists
    1/lambda_i by x, y, z: 1/6, 1/4, 1/8 (today: (0.25, 0.166667, 0.125), eigenvalue order,
    no direction)."""
    a = analyze(load_surface("seed_diagonal"))
    eta = a.minimum.eta
    assert eta["per_variable"] == pytest.approx({"x": 1 / 6, "y": 1 / 4, "z": 1 / 8}, rel=1e-12)
    assert eta["directions"] == ["y", "x", "z"]  # ascending eigenvalues 4, 6, 8
    assert eta["per_direction"] == pytest.approx([1 / 4, 1 / 6, 1 / 8], rel=1e-12)  # kept
    for text in (to_table(a), to_markdown(a)):
        assert "x 0.166667, y 0.25, z 0.125" in text


def test_worked_a_per_direction_rates_name_their_eigenvector():
    """Worked problem A: H = [[1/2, -1/6], [-1/6, 2/9]] is not diagonal; each 1/lambda is
    given with its unit eigenvector, checked here against H v = lambda v, lambda the
    closed-form roots (13/18 -+ sqrt((5/18)^2 + 4/36)) / 2 = 0.144160, 0.578062."""
    a = analyze(load_surface("seed_quadratic"))
    eta = a.minimum.eta
    assert eta["per_variable"] is None
    H = np.array([[0.5, -1 / 6], [-1 / 6, 2 / 9]])
    disc = math.sqrt((0.5 - 2 / 9) ** 2 + 4 / 36)
    lams = [(13 / 18 - disc) / 2, (13 / 18 + disc) / 2]
    assert [round(v, 6) for v in lams] == [0.14416, 0.578062]
    for r, v, lam in zip(eta["per_direction"], eta["directions"], lams, strict=True):
        v = np.array(v)
        assert r == pytest.approx(1 / lam, rel=1e-12)
        assert np.linalg.norm(v) == pytest.approx(1.0, rel=1e-12)
        assert H @ v == pytest.approx(lam * v, abs=1e-12)
    assert "6.93675 along (0.424155, 0.905589)" in to_markdown(a)


# -- 4. bounded below, decided -----------------------------------------------------------------
def _surf(expr_fn):
    import sympy as sp

    from optiviz.surface import Surface

    x, y = sp.symbols("x y", real=True)
    return Surface.from_sympy(expr_fn(x, y, sp), [x, y], name="t", window=[-2, 2])


@pytest.mark.parametrize("name", ["ackley", "rastrigin"])
def test_ackley_and_rastrigin_are_bounded_below(name):
    """Both are >= 0 with minimum 0 (closed forms); today: "unknown"."""
    a = analyze(load_surface(name))
    assert a.bounded_below is True
    assert "interval bounds" in a.bounded_reason


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("six_hump_camel", "pure power"),  # x^6/3 and 4y^4 dominate; top form x^6/3 is only PSD
        ("three_hump_camel", "pure power"),
        ("styblinski_tang", "positive definite"),  # top form (x^4 + y^4)/2
    ],
)
def test_library_polynomials_are_bounded_below(name, why):
    a = analyze(load_surface(name))
    assert a.bounded_below is True and why in a.bounded_reason


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y, sp: (x - y) ** 2 + sp.Abs(x) - 3 * sp.cos(y),  # >= -3
        lambda x, y, sp: x**4 - x * y**3 + y**4 - 5 * x**2,  # PD top form (x^4 - x + 1 > 0)
        lambda x, y, sp: x**4 - 3 * x**2 + y**2 + x * y,  # x^4 and y^2 dominate x y
        lambda x, y, sp: x**4 - 3 * x**2 + 2 * sp.Abs(y - 1) + sp.exp(-(x**2)),
    ],
)
def test_bounded_below_decided(fn):
    assert analyze(_surf(fn)).bounded_below is True


@pytest.mark.parametrize(
    "fn",
    [
        # (x^2 - y^2)^2 + x: PSD top form, and f(t, t) = t -> -inf; must not be called bounded
        lambda x, y, sp: x**4 - 2 * x**2 * y**2 + y**4 + x,
        lambda x, y, sp: x**2 * y**2 + x,  # f(t, 0) = t
        lambda x, y, sp: x * sp.cos(y) + y**2,  # f(t, 0) = t
    ],
)
def test_unbounded_surfaces_are_never_called_bounded(fn):
    assert analyze(_surf(fn)).bounded_below is not True


def test_goldstein_price_stays_unknown():
    """Bounded below (by 3, its minimum) but none of the sound rules proves it: unknown."""
    assert analyze(load_surface("goldstein_price")).bounded_below is None


def test_separable_logistic_data_has_no_minimizer_and_l2_gives_one():
    from optiviz.data import logistic_regression
    from optiviz.report import notes_text

    X = np.array([[0.0, 0.0], [1.0, 0.2], [0.3, 1.0], [3.0, 3.0], [4.0, 2.5], [2.8, 4.0]])
    y = np.array([0, 0, 0, 1, 1, 1])  # x1 + x2 < 2 vs > 5: separable
    s = logistic_regression(X, y)
    a = analyze(s)
    assert a.bounded_below is True  # cross-entropy >= 0
    sep = a.separation
    z = X @ np.array(sep["w"]) + sep["b"]
    assert np.all((2 * y - 1) * z > 0)  # the proof: it separates every sample
    text = " ".join(notes_text(a))
    assert "no minimizer" in text and "l2 > 0 gives a minimizer" in text
    assert a.minimum is None
    r = analyze(s.regularized(l2=0.1))
    assert "the l2 penalty gives it one" in " ".join(notes_text(r))
    assert r.minimum is not None
    # the gradient of the regularized loss vanishes there (an independent numpy formula)
    w, b = r.minimum.point[:2], r.minimum.point[2]
    p = 1 / (1 + np.exp(-(X @ w + b)))
    g = np.append(X.T @ (p - y) + 0.1 * w, np.sum(p - y))
    assert np.linalg.norm(g) <= 1e-8


def test_xor_data_are_not_called_separable():
    from optiviz.data import logistic_regression

    X = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    s = logistic_regression(X, np.array([0, 0, 1, 1]))
    a = analyze(s)
    assert a.separation is None
    assert not any(n.kind == "separable" for n in a.notes)


# -- 5. plurals; families of stationary points -------------------------------------------------
def test_one_step_and_one_run_are_singular():
    """Newton on a quadratic converges in one step: "in 1 step", "; 1 run." (today:
    "in 1 steps", "1 runs")."""
    from optiviz.config.parse import parse_config
    from optiviz.experiment.markdown import report_markdown
    from optiviz.experiment.run import run_experiment
    from optiviz.experiment.summary import summarize

    cfg = parse_config(
        {
            "name": "one",
            "surface": "seed_quadratic",
            "start": [1.0, 1.0],
            "steps": 5,
            "tolerance": {"grad": 1e-8},
            "optimizers": [
                {"name": "newton"},
                {"name": "gd", "lr": {"grid": {"values": [0.1, 0.2]}}},
            ],
            "figures": [],
        }
    )
    result = run_experiment(cfg, write=False)
    lines = summarize(result)
    assert "converged in 1 step," in lines[0]
    assert "grid of 2 runs" in lines[1]
    md = report_markdown(cfg, result)
    assert "; 3 runs." in md
    assert not __import__("re").search(r"\b1 (runs|steps|points|starts|minima)\b", md)


def test_worked_d1_relu_family_is_summarised_not_enumerated():
    """Worked problem D1's loss is 0 on the whole set w31 relu(w11 + w12) + w32
    relu(w21 + w22) = 0 (a 5-dimensional continuum): today 900 sampled points were listed;
    now one family is described with two examples and the table keeps 3 sample rows."""
    from optiviz.config.io import load_config
    from optiviz.experiment.markdown import report_markdown
    from optiviz.experiment.run import run_experiment

    cfg = load_config("configs/worked-d1-relu-squared-error.yaml")
    result = run_experiment(cfg, write=False)
    a = result.analysis
    fam = a.summary["families"]
    assert len(fam) == 1 and fam[0]["count"] == a.summary["kinds"]["degenerate"] > 100
    assert abs(fam[0]["value"]) <= 1e-12  # f = 0 on the family
    for e in fam[0]["examples"]:  # on the zero-loss set: the network output is 0
        w11, w12, w21, w22, w31, w32 = e
        assert abs(w31 * max(0, w11 + w12) + w32 * max(0, w21 + w22)) <= 1e-6
    md = report_markdown(cfg, result)
    assert "sample a family of stationary points" in md
    assert "a continuum with f = " in md and "sampled, e.g. (" in md
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and "degenerate" in ln]
    assert len(rows) == 3  # IRREGULAR_ROWS samples, the rest counted in one line
    assert "degenerate stationary point at" not in md  # no per-point notes
    assert "; 1 run." in md


@pytest.mark.parametrize(("dim", "shape"), [(2, "a line"), (3, "a plane")])
def test_a_smooth_family_is_named_by_its_shape(dim, shape):
    """(x + y - 1)^4 (and (x + y + z - 1)^4): grad = 4 (s - 1)^3 (1, ..., 1) vanishes on
    the whole hyperplane s = x + y (+ z) = 1, a line in 2-D and a plane in 3-D, f = 0."""
    import sympy as sp

    from optiviz.report import notes_text
    from optiviz.surface import Surface

    xs = sp.symbols("x y z", real=True)[:dim]
    s = Surface.from_sympy((sum(xs) - 1) ** 4, list(xs), name="trough", window=[-2, 2])
    a = analyze(s)
    fam = a.summary["families"]
    assert fam and fam[0]["affine_dim"] == dim - 1
    for e in fam[0]["examples"]:
        assert sum(e) == pytest.approx(1.0, abs=1e-3)
    text = " ".join(notes_text(a))
    assert f"{shape} with f = 0" in text or f"{shape} with f = " in text
    assert "degenerate stationary point at" not in text
