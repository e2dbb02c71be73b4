"""Trajectory: run views, CSV round trip at full precision, JSON summaries."""

from __future__ import annotations

import io
import json
from collections import namedtuple

import numpy as np
import pytest

from optiviz.engine import run
from optiviz.errors import OptivizError
from optiviz.optimizers.base import Optimizer, Param
from optiviz.trajectory import Trajectory

KnownMin = namedtuple("KnownMin", "point value")


class TwoWells:
    """f = (x^2 - 1)^2 + y^2 / 3: minima at (+-1, 0); irrational-looking floats everywhere."""

    n_samples = None
    n = 2
    variables = ("x", "y")
    name = "two_wells"
    minima = [KnownMin(np.array([-1.0, 0.0]), 0.0), KnownMin(np.array([1.0, 0.0]), 0.0)]
    f_min = 0.0

    def value_and_grad(self, X, check=False, batch=None):
        X = np.asarray(X, dtype=float)
        x, y = X[..., 0], X[..., 1]
        f = (x * x - 1) ** 2 + y * y / 3
        return f, np.stack([4 * x * (x * x - 1), 2 * y / 3], axis=-1)


class GD(Optimizer):
    name = "gd_standin"
    params = {"lr": Param(0.1, low=0.0), "tag": Param(0.0)}

    def init(self, x0, oracle, x_prev=None):
        return {}

    def step(self, x, g, state, oracle, lr, t):
        return x - lr * g, {"eff_lr": lr}


def batched():
    # run 0 converges, run 1 hits max_steps, run 2 diverges to inf / nan
    return run(
        TwoWells(),
        GD(lr=[0.05, 0.001, 0.9]),
        [[0.3, 0.7], [2.1, -1.3], [3.0, 1.0]],
        1000,
        tol_grad=1e-6,
        divergence_bound=float("inf"),
    )


def test_shapes_padding_and_run_views():
    tr = batched()
    assert list(tr.status) == ["converged", "max_steps", "diverged"]
    assert tr.n_runs == 3 and tr.points.shape == (3, 1001, 2)
    assert tr.effective_lr.shape == (3, 1000, 2)
    k0 = int(tr.n_steps[0])
    assert k0 < 1000 and np.isnan(tr.points[0, k0 + 1 :]).all()
    one = tr.run(0)
    assert one.points.shape == (k0 + 1, 2) and one.effective_lr.shape == (k0, 2)
    assert one.status == "converged" and one.steps_to_tolerance == k0
    assert one.optimizer_label == "gd_standin (lr=0.05)" and one.hyperparameters["lr"] == 0.05
    assert tr.run(-1).status == "diverged" and tr.run(2).diverged_at == tr.n_steps[2]
    assert not np.isfinite(tr.run(2).grad_norms[-1])  # ||g||^2 overflowed
    assert [r.status for r in tr.runs()] == list(tr.status)
    with pytest.raises(IndexError):
        tr.run(3)
    assert tr.converged.tolist() == [True, False, False]


def test_distance_to_nearest_minimum():
    tr = run(TwoWells(), GD(lr=0.05), [0.3, 0.7], 100)
    d = np.minimum(
        np.linalg.norm(tr.points - [1, 0], axis=1), np.linalg.norm(tr.points - [-1, 0], axis=1)
    )
    np.testing.assert_allclose(tr.distance_to_min, d, rtol=1e-15)
    assert tr.final_distance_to_min == pytest.approx(d[-1], rel=1e-15)
    trb = batched()
    assert trb.distance_to_min.shape == (3, 1001)
    assert np.isnan(trb.distance_to_min[0, int(trb.n_steps[0]) + 1 :]).all()


def _assert_round_trip(a: Trajectory, b: Trajectory):
    for field in ("points", "losses", "grad_norms", "effective_lr", "lr_factor"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(a.n_steps, b.n_steps)
    np.testing.assert_array_equal(a.final_point, b.final_point)
    np.testing.assert_array_equal(a.final_loss, b.final_loss)
    assert a.variables == b.variables and a.optimizer == b.optimizer
    # the per-step evaluation counts, run by run (a batch's rows after a run's stop are
    # the batch's: not written), and the totals, their sums
    for ra, rb in zip(a.runs(), b.runs(), strict=True):
        np.testing.assert_array_equal(ra.step_evals, rb.step_evals)
        if ra.step_evals is not None:
            assert (rb.n_f, rb.n_grad, rb.n_hess) == (ra.n_f, ra.n_grad, ra.n_hess)


def test_csv_round_trip_single_full_precision(tmp_path):
    tr = run(TwoWells(), GD(lr=0.0123), [0.3, 0.7], 40)
    path = tmp_path / "t.csv"
    tr.to_csv(path)
    back = Trajectory.from_csv(path)
    assert not back.batched
    _assert_round_trip(tr, back)
    assert back.optimizer_label == tr.optimizer_label and back.status == "unknown"
    header = path.read_text().splitlines()[0]
    assert header == (
        "run,label,optimizer,step,x,y,loss,grad_norm,"
        "effective_lr_x,effective_lr_y,lr_factor_x,lr_factor_y,evals_f,evals_grad,evals_hess"
    )
    # without the rates (record="path"): the fixed columns and the counts
    path_only = run(TwoWells(), GD(lr=0.0123), [0.3, 0.7], 40, record="path")
    path_only.to_csv(path)
    assert path.read_text().splitlines()[0] == (
        "run,label,optimizer,step,x,y,loss,grad_norm,evals_f,evals_grad,evals_hess"
    )
    back = Trajectory.from_csv(path)
    _assert_round_trip(path_only, back)
    assert back.effective_lr is None and back.lr_factor is None
    # files of earlier versions (no count columns) still read: no per-step counts
    lines = path.read_text().splitlines()
    path.write_text("\n".join(",".join(ln.split(",")[:-3]) for ln in lines) + "\n")
    old = Trajectory.from_csv(path)
    np.testing.assert_array_equal(old.losses, path_only.losses)
    assert old.step_evals is None and old.evaluations() is None


def test_csv_round_trip_batched_with_padding_and_non_finite_values():
    tr = batched()
    buf = io.StringIO()
    tr.to_csv(buf)
    text = buf.getvalue()
    assert "inf" in text or "nan" in text
    assert text.count("\n") == 1 + int(np.sum(tr.n_steps + 1))  # no padding rows
    back = Trajectory.from_csv(io.StringIO(text))
    assert back.batched and back.run_labels == tr.run_labels
    _assert_round_trip(tr, back)
    for i in range(3):
        _assert_round_trip(tr.run(i), back.run(i))


def test_csv_several_trajectories_in_one_file():
    a = run(TwoWells(), GD(lr=0.05), [0.3, 0.7], 10)
    b = batched()
    buf = io.StringIO()
    a.to_csv(buf, label="first")
    b.to_csv(buf, run_offset=1, label="second", header=False)
    rows = buf.getvalue().splitlines()
    assert rows[1].startswith("0,first,gd_standin,0,")
    assert rows[12].startswith("1,second,gd_standin,0,")
    both = Trajectory.from_csv(io.StringIO(buf.getvalue()))  # every row: 1 + 3 runs
    assert both.n_runs == 4 and both.run_labels == ["first"] + ["second"] * 3
    _assert_round_trip(a, both.run(0))
    _assert_round_trip(b.run(2), both.run(3))
    _assert_round_trip(a, Trajectory.from_csv(io.StringIO(buf.getvalue()), label="first"))
    _assert_round_trip(b, Trajectory.from_csv(io.StringIO(buf.getvalue()), label="second"))
    with pytest.raises(OptivizError, match="label 'third' not in the CSV"):
        Trajectory.from_csv(io.StringIO(buf.getvalue()), label="third")


def test_to_rows_long_format():
    tr = run(TwoWells(), GD(lr=0.05), [0.3, 0.7], 2)
    rows = tr.to_rows(run_offset=5)
    assert len(rows) == 3 and tr.columns() == [
        "run",
        "label",
        "optimizer",
        "step",
        "x",
        "y",
        "loss",
        "grad_norm",
        "effective_lr_x",
        "effective_lr_y",
        "lr_factor_x",
        "lr_factor_y",
        "evals_f",
        "evals_grad",
        "evals_hess",
    ]
    assert rows[0][:4] == [5, "gd_standin (lr=0.05)", "gd_standin", 0]
    assert rows[2][4:6] == tr.points[2].tolist() and rows[2][6] == tr.losses[2]
    # row t holds the rates of step t (the step that reached x_t); row 0 has none
    assert np.isnan(rows[0][8:12]).all()
    assert rows[2][8:10] == tr.effective_lr[1].tolist()
    assert rows[2][10:12] == tr.lr_factor[1].tolist()
    # GD: each row is the engine's one value-and-gradient evaluation of x_t
    assert [r[12:] for r in rows] == [[1, 1, 0]] * 3


def test_bad_csv_and_final_only_export():
    with pytest.raises(OptivizError, match="not a trajectory CSV"):
        Trajectory.from_csv(io.StringIO("a,b,c\n1,2,3\n"))
    with pytest.raises(OptivizError, match="not a trajectory CSV"):  # a rate column missing
        Trajectory.from_csv(
            io.StringIO("run,label,optimizer,step,x,y,loss,grad_norm,effective_lr_x\n")
        )
    with pytest.raises(OptivizError, match="empty"):
        Trajectory.from_csv(io.StringIO(""))
    fin = run(TwoWells(), GD(lr=0.05), [0.3, 0.7], 10, record="final")
    with pytest.raises(OptivizError, match="record='final'"):
        fin.to_csv(io.StringIO())


def test_summary_is_json_safe():
    tr = batched()
    s = tr.summary()
    text = json.dumps(s, allow_nan=False)
    back = json.loads(text)
    assert back["status"] == ["converged", "max_steps", "diverged"]
    assert back["final_grad_norm"][2] is None  # non-finite -> null
    assert back["hyperparameters"]["lr"] == [0.05, 0.001, 0.9]
    assert back["run_labels"][1] == "gd_standin (lr=0.001)"
    assert back["final_distance_to_min"][0] == pytest.approx(0.0, abs=1e-5)
    assert back["settings"]["tol_grad"] == 1e-6
    single = json.loads(json.dumps(tr.run(0).summary(), allow_nan=False))
    assert single["status"] == "converged" and single["steps_to_tolerance"] == tr.n_steps[0]
    assert "converged: 1" in repr(tr) and "converged" in repr(tr.run(0))


def test_a_batched_run_of_one_says_one_run_not_one_runs():
    import numpy as np

    from optiviz import load_surface, make_optimizer, run

    traj = run(load_surface("booth"), make_optimizer("gd", lr=np.array([0.01])), [0.0, 0.0], 3)
    assert ", 1 run, " in repr(traj)
