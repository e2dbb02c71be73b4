"""The sharpness figure: the sharpness along a path against each method's threshold,
checked against closed forms and independently computed Hessians and preconditioners."""

from __future__ import annotations

import csv
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from optiviz import load_surface, make_optimizer  # noqa: E402
from optiviz.analysis.edge import edge_of_stability  # noqa: E402
from optiviz.config import parse_config  # noqa: E402
from optiviz.engine import run  # noqa: E402
from optiviz.experiment import run_experiment  # noqa: E402
from optiviz.schedules import make_schedule  # noqa: E402


def eig2(a, b, c):
    """Eigenvalues (min, max) of the symmetric [[a, b], [b, c]], closed form."""
    m, d = (a + c) / 2, np.sqrt(((a - c) / 2) ** 2 + b * b)
    return m - d, m + d


def test_sharpness_along_a_quadratic_is_lambda_max_and_the_thresholds_are_closed_forms():
    s = load_surface("ill_conditioned")  # 0.1 x1^2 + 2 x2^2: Hessian diag(0.2, 4)
    cases = [
        ("gd", {"lr": 0.3}, 2 / 0.3),
        ("momentum", {"lr": 0.05, "momentum": 0.5}, (2 + 2 * 0.5) / 0.05),
        ("nesterov", {"lr": 0.05, "momentum": 0.5}, (2 + 2 * 0.5) / ((1 + 2 * 0.5) * 0.05)),
        ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}, 3.8 / (0.5 * 0.05)),
    ]
    for name, h, want in cases:
        tr = run(s, make_optimizer(name, **h), [3.0, 1.5], 30)
        e = edge_of_stability(tr, s)
        np.testing.assert_allclose(e.lambda_max, 4.0, rtol=1e-12)
        np.testing.assert_allclose(e.lambda_min, 0.2, rtol=1e-12)
        np.testing.assert_allclose(e.threshold, want, rtol=1e-12)
        assert e.preconditioned is None


def test_a_schedule_moves_the_threshold_step_by_step():
    s = load_surface("ill_conditioned")
    sched = make_schedule("exponential_range", lr_min=0.01, lr_max=0.4, steps=11)
    tr = run(s, make_optimizer("gd", lr=0.01), [3.0, 1.5], 10, schedule=sched)
    e = edge_of_stability(tr, s, sched)
    # x_t is left by step t + 1, at lr 0.01 * 40^(t/10) (the last at lr_max)
    lr = 0.01 * 40.0 ** (np.arange(11) / 10)
    np.testing.assert_allclose(e.lr, lr, rtol=1e-12)
    np.testing.assert_allclose(e.threshold, 2 / lr, rtol=1e-12)


def test_sharpness_along_gd_on_rosenbrock_is_the_hessian_s_top_eigenvalue():
    s = load_surface("rosenbrock")
    tr = run(s, make_optimizer("gd", lr=1e-3), [-1.2, 1.0], 300)
    e = edge_of_stability(tr, s)
    x, y = tr.points[:, 0], tr.points[:, 1]
    # (1 - x)^2 + 100 (y - x^2)^2: Hessian [[2 - 400 y + 1200 x^2, -400 x], [-400 x, 200]]
    lo, hi = eig2(2 - 400 * y + 1200 * x**2, -400 * x, 200.0)
    np.testing.assert_allclose(e.lambda_max, hi, rtol=1e-10)
    np.testing.assert_allclose(e.lambda_min, lo, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(e.threshold, 2000.0)


def _adam_reference(x0, lr, b1, b2, eps, T, grad):
    """Adam (torch form) written out; returns the iterates and Cohen et al.'s
    P_t = (1 - b1^t) (sqrt(v_hat_t) + eps) of each step t = 1 .. T."""
    x = np.array(x0, dtype=float)
    m = np.zeros(2)
    v = np.zeros(2)
    xs, ps = [x.copy()], []
    for t in range(1, T + 1):
        g = grad(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vh = v / (1 - b2**t)
        ps.append((1 - b1**t) * (np.sqrt(vh) + eps))
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(vh) + eps)
        xs.append(x.copy())
    return np.array(xs), np.array(ps)


def test_adam_s_preconditioned_sharpness_and_its_38_over_lr_threshold():
    s = load_surface("rosenbrock")
    lr, T = 0.01, 150
    tr = run(s, make_optimizer("adam", lr=lr), [-1.2, 1.0], T)
    e = edge_of_stability(tr, s)

    def grad(p):
        x, y = p
        return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])

    xs, P = _adam_reference([-1.2, 1.0], lr, 0.9, 0.999, 1e-8, T, grad)
    np.testing.assert_allclose(tr.points, xs, rtol=0, atol=1e-10)
    x, y = xs[:T, 0], xs[:T, 1]
    # lambda_max(P^-1/2 H P^-1/2), H at x_t and P of the step t + 1 leaving it
    d = 1.0 / P
    a = (2 - 400 * y + 1200 * x**2) * d[:, 0]
    b = -400 * x * np.sqrt(d[:, 0] * d[:, 1])
    c = 200.0 * d[:, 1]
    np.testing.assert_allclose(e.preconditioned[:T], eig2(a, b, c)[1], rtol=1e-9)
    assert np.isnan(e.preconditioned[T])  # no step leaves the last iterate
    # (2 + 2 beta1)/((1 - beta1) lr) = 38/lr at beta1 = 0.9 (Cohen et al. 2022)
    np.testing.assert_allclose(e.preconditioned_threshold[:T], 38 / lr, rtol=1e-12)
    assert e.threshold is None  # raw sharpness: no threshold for Adam
    assert "Cohen" in e.preconditioned_label


def test_rmsprop_s_threshold_is_2_over_lr_and_heavy_ball_s_with_momentum():
    s = load_surface("ill_conditioned")
    tr = run(s, make_optimizer("rmsprop", lr=0.01), [3.0, 1.5], 20)
    e = edge_of_stability(tr, s)
    np.testing.assert_allclose(e.preconditioned_threshold[:-1], 2 / 0.01)
    # P^-1 = 1/D with D = sqrt(v) + eps: diagonal H, so lambda_max = max(H_ii / D_i)
    D = 0.01 / np.asarray(tr.lr_factor)
    want = np.max(np.array([0.2, 4.0]) / D, axis=1)
    np.testing.assert_allclose(e.preconditioned[:-1], want, rtol=1e-12)
    tr = run(s, make_optimizer("rmsprop", lr=0.01, momentum=0.5), [3.0, 1.5], 20)
    np.testing.assert_allclose(edge_of_stability(tr, s).preconditioned_threshold[:-1], 3 / 0.01)
    # weight decay moves the minimum: no threshold claimed
    tr = run(s, make_optimizer("adam", lr=0.01, weight_decay=0.1), [3.0, 1.5], 5)
    assert edge_of_stability(tr, s).preconditioned is None


def test_the_figure_and_sharpness_csv_from_a_config(tmp_path):
    raw = {
        "name": "sharp",
        "surface": "ill_conditioned",
        "start": [3.0, 1.5],
        "steps": 20,
        "optimizers": [{"name": "gd", "lr": 0.3}, {"name": "adam", "lr": 0.1}],
        "figures": ["sharpness"],
    }
    result = run_experiment(parse_config(raw, "x.yaml"), out_dir=tmp_path / "out")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "sharpness.csv").read_text())))
    assert list(rows[0]) == [
        "entry",
        "step",
        "lr",
        "lambda_max",
        "lambda_min",
        "threshold",
        "preconditioned_sharpness",
        "preconditioned_threshold",
    ]
    assert len(rows) == 2 * 21
    gd = [r for r in rows if r["entry"] == "0"]
    assert all(float(r["lambda_max"]) == pytest.approx(4.0) for r in gd)
    assert all(float(r["threshold"]) == pytest.approx(2 / 0.3) for r in gd)
    assert all(r["preconditioned_sharpness"] == "" for r in gd)
    adam = [r for r in rows if r["entry"] == "1"]
    assert all(r["threshold"] == "" for r in adam)
    assert float(adam[0]["preconditioned_threshold"]) == pytest.approx(380.0)
    assert "sharpness.png" in result.files and "sharpness.csv" in result.files


def test_sharpness_needs_a_single_run_with_every_iterate():
    from optiviz.errors import ConfigError

    raw = {
        "name": "sharp",
        "surface": "ill_conditioned",
        "start": [3.0, 1.5],
        "steps": 20,
        "record": "final",
        "optimizers": [{"name": "gd", "lr": 0.3}],
        "figures": ["sharpness"],
    }
    with pytest.raises(ConfigError, match="'sharpness' is not allowed"):
        parse_config(raw, "x.yaml")
