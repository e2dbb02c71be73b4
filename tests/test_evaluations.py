"""Cost in oracle calls: the evaluations each step records (``Trajectory.step_evals``) match
the update equations of GD, Sutskever's Nesterov, Armijo backtracking and Newton, and an
independent count (a surface that logs every call made to it); the weighted cost
(``evaluations`` / ``cost`` / ``evaluation_weights``) and its config key."""

from __future__ import annotations

import numpy as np
import pytest

import optiviz
from optiviz.config import parse_config
from optiviz.errors import ConfigError, OptivizError
from optiviz.trajectory import Trajectory, evaluation_weights


class CallLog:
    """A surface that logs each evaluation made of it, in order: ``"vg"`` (value and
    gradient), ``"f"``, ``"g"``, ``"h"``. It offers no fused single-point path, so the
    engine's own evaluation of each iterate is one ``value_and_grad`` call: the log split
    at those calls gives the evaluations of each step, counted without the oracle."""

    def __init__(self, surface):
        self._s = surface
        self.log: list[str] = []

    def __getattr__(self, name):
        if name == "point_value_and_grad":  # the fused path would bypass the log
            raise AttributeError(name)
        return getattr(self._s, name)

    def f(self, X, **kw):
        self.log.append("f")
        return self._s.f(X, **kw)

    def grad(self, X, **kw):
        self.log.append("g")
        return self._s.grad(X, **kw)

    def hess(self, X, **kw):
        self.log.append("h")
        return self._s.hess(X, **kw)

    def value_and_grad(self, X, **kw):
        self.log.append("vg")
        return self._s.value_and_grad(X, **kw)

    def per_step(self) -> np.ndarray:
        """(f, grad, hess) of each step: the calls up to and including each "vg" (the
        optimizers below never call value_and_grad themselves)."""
        rows, cur = [], [0, 0, 0]
        for c in self.log:
            if c == "f":
                cur[0] += 1
            elif c == "g":
                cur[1] += 1
            elif c == "h":
                cur[2] += 1
            else:
                rows.append([cur[0] + 1, cur[1] + 1, cur[2]])
                cur = [0, 0, 0]
        assert cur == [0, 0, 0], "calls after the last iterate's evaluation"
        return np.array(rows)


STEPS = 12
X0 = [-1.2, 1.0]


@pytest.fixture(scope="module")
def rosen():
    return optiviz.load_surface("rosenbrock")


def _run(surface, name, **kw):
    log = CallLog(surface)
    tr = optiviz.run(log, optiviz.make_optimizer(name, **kw), X0, STEPS)
    return tr, log.per_step()


def test_gd_one_gradient_per_step(rosen):
    # theta <- theta - lr g: the only evaluation of a step is the engine's value and
    # gradient at the new iterate (row 0: at x0)
    tr, logged = _run(rosen, "gd", lr=1e-3)
    expected = np.tile([1, 1, 0], (STEPS + 1, 1))
    np.testing.assert_array_equal(tr.step_evals, expected)
    np.testing.assert_array_equal(logged, expected)
    assert (tr.n_f, tr.n_grad, tr.n_hess) == (STEPS + 1, STEPS + 1, 0)


def test_sutskever_nesterov_one_look_ahead_gradient(rosen):
    # g~ = grad f(theta + beta v) through the oracle: one more gradient per step, skipped
    # while beta v = 0 (step 1: v0 = 0, the look-ahead point is theta itself)
    tr, logged = _run(rosen, "nesterov", lr=1e-3, momentum=0.9)
    expected = np.array([[1, 1, 0], [1, 1, 0]] + [[1, 2, 0]] * (STEPS - 1))
    np.testing.assert_array_equal(tr.step_evals, expected)
    np.testing.assert_array_equal(logged, expected)
    assert tr.n_grad == tr.step_evals[:, 1].sum() == 2 * STEPS


def _backtracks(s, x, lr=1.0, c=1e-4, rho=0.5, K=50):
    """An independent Armijo backtracking from x: (shrinks, accepted alpha)."""
    g = s.grad(x)
    f0, gg, alpha = float(s.f(x)), float(g @ g), lr
    for b in range(K + 1):
        if float(s.f(x - alpha * g)) <= f0 - c * alpha * gg or b == K:
            return b, alpha
        alpha *= rho
    raise AssertionError


def test_armijo_f_evaluations_are_one_plus_the_backtracks(rosen):
    # per step: f(theta) evaluated again (f0), one f per trial point (1 + backtracks), and
    # the engine's value and gradient at the new iterate
    tr, logged = _run(rosen, "armijo")
    b = []
    for t in range(STEPS):
        k, alpha = _backtracks(rosen, tr.points[t])
        g = rosen.grad(tr.points[t])
        np.testing.assert_allclose(tr.points[t + 1], tr.points[t] - alpha * g, rtol=1e-12)
        b.append(k)
    assert max(b) > min(b) > 0  # the count varies from step to step here
    expected = np.array([[1, 1, 0]] + [[1 + 1 + (1 + k), 1, 0] for k in b])
    np.testing.assert_array_equal(tr.step_evals, expected)
    np.testing.assert_array_equal(logged, expected)
    assert tr.n_f == expected[:, 0].sum()


def test_armijo_batched_counts_the_batch(rosen):
    # R runs backtrack together: every trial is one call on the R points, made until the
    # last run accepts, so each step costs 1 + 1 + (1 + max over runs of the shrinks)
    starts = np.array([X0, [0.5, -0.5]])
    tr = optiviz.run(rosen, optiviz.make_optimizer("armijo"), starts, 5)
    for t in range(1, 6):
        shrinks = [_backtracks(rosen, tr.points[i, t - 1])[0] for i in range(2)]
        assert tr.step_evals[0, t].tolist() == [3 + max(shrinks), 1, 0]
    np.testing.assert_array_equal(tr.step_evals[0], tr.step_evals[1])
    np.testing.assert_array_equal(tr.n_f, tr.step_evals[0].sum(axis=0)[0])


def test_newton_one_hessian_per_step(rosen):
    tr, logged = _run(rosen, "newton")
    expected = np.array([[1, 1, 0]] + [[1, 1, 1]] * STEPS)
    np.testing.assert_array_equal(tr.step_evals, expected)
    np.testing.assert_array_equal(logged, expected)


def test_counts_per_step_for_every_record_mode_and_batched_runs(rosen):
    single = optiviz.run(rosen, optiviz.make_optimizer("newton"), X0, 4, record="path")
    assert single.step_evals.tolist() == [[1, 1, 0]] + [[1, 1, 1]] * 4
    final = optiviz.run(rosen, optiviz.make_optimizer("gd"), X0, 4, record="final")
    assert final.step_evals is None
    # a batched run whose runs stop at different steps: each run's own rows
    opt = optiviz.make_optimizer("newton", lr=[1.0, 0.5])
    tr = optiviz.run(rosen, opt, X0, 40, tol_grad=1e-8)
    assert tr.n_steps[0] < tr.n_steps[1]
    for i in range(2):
        run = tr.run(i)
        k = int(run.n_steps)
        assert run.step_evals.tolist() == [[1, 1, 0]] + [[1, 1, 1]] * k
        assert (run.n_f, run.n_grad, run.n_hess) == (k + 1, k + 1, k)


def test_weighted_evaluations_and_cost(rosen):
    tr = optiviz.run(rosen, optiviz.make_optimizer("newton"), X0, 5)
    t = np.arange(6)
    # defaults: f 1, grad 1, a Hessian n = 2 gradients: 2 at x0, then 1 + 1 + 2 per step
    np.testing.assert_array_equal(tr.evaluations(), 2 + 4 * t)
    np.testing.assert_array_equal(tr.evaluations({"f": 0, "hess": 10}), 1 + 11 * t)
    assert tr.cost() == 2 + 4 * 5 and tr.cost({"hess": "n", "grad": 3}) == 6 + 3 * 6 + 2 * 5
    # batched: nan after a run's stop, the totals per run
    opt = optiviz.make_optimizer("newton", lr=[1.0, 0.5])
    b = optiviz.run(rosen, opt, X0, 40, tol_grad=1e-8)
    k0 = int(b.n_steps[0])
    ev = b.evaluations()
    np.testing.assert_array_equal(ev[0, : k0 + 1], 2 + 4 * np.arange(k0 + 1))
    assert np.isnan(ev[0, k0 + 1 :]).all() and not np.isnan(ev[1]).any()
    np.testing.assert_array_equal(b.cost(), 2 + 4 * b.n_steps)


def test_evaluation_weights_refuse_bad_kinds_and_values():
    assert evaluation_weights(None, 3).tolist() == [1, 1, 3]
    with pytest.raises(OptivizError, match="unknown kind 'hessian'"):
        evaluation_weights({"hessian": 1})
    with pytest.raises(OptivizError, match="'grad' must be a finite number >= 0 or 'n'"):
        evaluation_weights({"grad": -1})
    with pytest.raises(OptivizError, match="got 'm'"):
        evaluation_weights({"hess": "m"})


BASE = {"surface": "rosenbrock", "start": [-1.2, 1], "steps": 5, "optimizers": [{"name": "gd"}]}


def test_config_evaluation_weights_are_validated_naming_the_field():
    cfg = parse_config({**BASE, "evaluation_weights": {"hess": 5}}, build=False)
    assert cfg.evaluation_weights == {"f": 1, "grad": 1, "hess": 5.0}
    assert parse_config(BASE, build=False).evaluation_weights == {"f": 1, "grad": 1, "hess": "n"}
    cases = [
        ({"hess": -1}, "evaluation_weights.hess: -1 is not allowed"),
        ({"hess": "two"}, "evaluation_weights.hess: 'two' is not allowed"),
        ({"hessian": 1}, "evaluation_weights.hessian"),
        ({"f": 0, "grad": 0, "hess": 0}, "not all 0"),
        ([1, 2], "evaluation_weights"),
    ]
    for value, message in cases:
        with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
            parse_config({**BASE, "evaluation_weights": value}, build=False)


def test_csv_round_trip_keeps_the_counts(rosen, tmp_path):
    tr = optiviz.run(rosen, optiviz.make_optimizer("armijo"), X0, 6)
    tr.to_csv(tmp_path / "a.csv")
    back = Trajectory.from_csv(tmp_path / "a.csv")
    np.testing.assert_array_equal(back.step_evals, tr.step_evals)
    assert (back.n_f, back.n_grad, back.n_hess) == (tr.n_f, tr.n_grad, tr.n_hess)
    np.testing.assert_array_equal(back.evaluations(), tr.evaluations())
