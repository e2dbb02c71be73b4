"""Eigen-modes (optiviz.analysis.modes, figures/modes.py): measured projections against the
closed forms (1 - lr lambda)^t and the heavy-ball recurrence written out here."""

from __future__ import annotations

import csv
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import optiviz  # noqa: E402
from optiviz.analysis.modes import modes  # noqa: E402

# a rotated quadratic: Hessian H = Q diag(1, 10) Q^T with Q the rotation by 30 degrees
TH = np.radians(30)
Q = np.array([[np.cos(TH), -np.sin(TH)], [np.sin(TH), np.cos(TH)]])
H = Q @ np.diag([1.0, 10.0]) @ Q.T
X_STAR = np.array([0.5, -1.0])


@pytest.fixture(scope="module")
def quad():
    (a, b), (_, c) = (map(float, row) for row in H)
    expr = f"({a!r}*(x - 0.5)**2 + 2*{b!r}*(x - 0.5)*(y + 1) + {c!r}*(y + 1)**2)/2"
    return optiviz.Surface.from_expression(
        expr, ["x", "y"], minima=[{"point": list(X_STAR), "value": 0}]
    )


def _minimum(quad):
    return optiviz.analyze(quad).minimum


def test_gd_modes_are_one_minus_lr_lambda_to_the_t(quad):
    lr, T = 0.15, 40
    tr = optiviz.run(quad, optiviz.make_optimizer("gd", lr=lr), [2.0, 1.0], T)
    md = modes(tr.points, _minimum(quad), optiviz.make_optimizer("gd", lr=lr))
    np.testing.assert_allclose(md.eigenvalues, [1.0, 10.0], rtol=1e-12)
    z0 = md.eigenvectors.T @ (np.array([2.0, 1.0]) - X_STAR)
    t = np.arange(T + 1)[:, None]
    want = (1 - lr * np.array([1.0, 10.0]))[None, :] ** t * z0[None, :]
    np.testing.assert_allclose(md.measured, want, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(md.closed_form, want, rtol=1e-9, atol=1e-13)


def test_heavy_ball_modes_follow_the_two_term_recurrence(quad):
    lr, beta, T = 0.1, 0.6, 60
    opt = optiviz.make_optimizer("momentum", lr=lr, momentum=beta)
    tr = optiviz.run(quad, opt, [2.0, 1.0], T)
    md = modes(tr.points, _minimum(quad), opt)
    # z(t+1) = (1 + beta - lr lambda) z(t) - beta z(t-1), z(1) = (1 - lr lambda) z(0)
    z0 = md.eigenvectors.T @ (np.array([2.0, 1.0]) - X_STAR)
    lam = np.array([1.0, 10.0])
    want = np.empty((T + 1, 2))
    want[0], want[1] = z0, (1 - lr * lam) * z0
    for k in range(1, T):
        want[k + 1] = (1 + beta - lr * lam) * want[k] - beta * want[k - 1]
    np.testing.assert_allclose(md.measured, want, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(md.closed_form, want, rtol=1e-8, atol=1e-12)


def test_adaptive_methods_have_no_closed_form(quad):
    opt = optiviz.make_optimizer("adam", lr=0.1)
    tr = optiviz.run(quad, opt, [2.0, 1.0], 10)
    md = modes(tr.points, _minimum(quad), opt)
    assert md.closed_form is None and md.measured.shape == (11, 2)


def test_modes_config_writes_the_csv(tmp_path):
    from optiviz.config import load_config
    from optiviz.experiment import run_experiment

    cfg = load_config("configs/modes-gd.yaml")
    result = run_experiment(cfg, out_dir=tmp_path, figures=["modes"])
    assert "modes.png" in result.files
    rows = list(csv.DictReader(io.StringIO((tmp_path / "modes.csv").read_text())))
    assert len(rows) == 2 * 61 * 2  # 2 entries x 61 steps x 2 modes
    gd = [r for r in rows if r["entry"] == "0" and r["mode"] == "2"]
    # y mode of GD lr 0.15 on lambda 10: (1 - 1.5)^t
    for r in gd[:20]:
        assert float(r["measured"]) == pytest.approx((-0.5) ** int(r["step"]), rel=1e-12)
        assert float(r["closed_form"]) == pytest.approx((-0.5) ** int(r["step"]), rel=1e-12)
