"""Learning-rate schedules: exact values at known steps, vectorization, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optiviz.errors import OptimizerError
from optiviz.schedules import (
    Schedule,
    available_schedules,
    describe_schedule,
    make_schedule,
)


def lrs(s: Schedule, steps, base=1.0):
    return [s(t, base) for t in steps]


def test_available_names():
    assert available_schedules() == [
        "constant",
        "step",
        "exponential",
        "inverse_time",
        "cosine",
        "warm_restarts",
        "cyclical",
        "exponential_range",
    ]


def test_constant():
    s = make_schedule("constant")
    assert lrs(s, [1, 2, 1000], 0.3) == [0.3, 0.3, 0.3]
    assert s.label() == "constant"


def test_step_torch_steplr_semantics():
    s = make_schedule("step", step_size=2, gamma=0.5)
    # t = 1, 2 use the initial lr; decays after every step_size steps
    assert lrs(s, range(1, 8), 0.8) == [0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.1]
    assert make_schedule("step", step_size=3)(4, 1.0) == pytest.approx(0.1, abs=0, rel=1e-15)


def test_exponential_first_step_uses_eta0():
    s = make_schedule("exponential", k=0.5)
    assert s(1, 0.2) == 0.2
    assert s(2, 0.2) == 0.2 * math.exp(-0.5)
    assert s(11, 0.2) == 0.2 * math.exp(-5.0)
    fixed = make_schedule("exponential", k=1.0, eta0=2.0)
    assert fixed(1, 123.0) == 2.0  # eta0 overrides the optimizer's lr
    assert fixed(3, 123.0) == 2.0 * math.exp(-2.0)


def test_inverse_time_matches_notes_sgd():
    # the notes' SGD uses gamma_k = 1 / (k + 1), k = 0, 1, 2, ...: steps 1, 1/2, 1/3
    s = make_schedule("inverse_time", eta0=1.0, k=1.0)
    assert lrs(s, [1, 2, 3, 4], base=0.01) == [1.0, 0.5, 1.0 / 3.0, 0.25]
    # eta0 None -> the optimizer's lr
    s2 = make_schedule("inverse_time", k=0.5)
    assert lrs(s2, [1, 2, 3], base=0.3) == [0.3, 0.3 / 1.5, 0.3 / 2.0]


def test_cosine_closed_form():
    s = make_schedule("cosine", T_max=10)
    assert s(1, 1.0) == 1.0
    assert s(6, 1.0) == pytest.approx(0.5, abs=1e-15)
    assert s(11, 1.0) == pytest.approx(0.0, abs=1e-15)
    assert s(21, 1.0) == pytest.approx(1.0, abs=1e-15)  # periodic beyond T_max (torch closed form)
    s2 = make_schedule("cosine", T_max=4, eta_min=0.1)
    assert s2(3, 0.5) == pytest.approx(0.1 + 0.4 * (1 + math.cos(math.pi / 2)) / 2, abs=1e-16)
    assert s2(5, 0.5) == pytest.approx(0.1, abs=1e-16)


def test_warm_restarts_tmult_1():
    s = make_schedule("warm_restarts", T_0=3)
    got = lrs(s, range(1, 8))
    c = [1.0, (1 + math.cos(math.pi / 3)) / 2, (1 + math.cos(2 * math.pi / 3)) / 2]
    assert got == pytest.approx(c + c + [1.0], abs=1e-15)


def test_warm_restarts_tmult_2():
    # cycles of length 2, 4, 8 start at epochs 0, 2, 6, 14 (epoch = t - 1)
    s = make_schedule("warm_restarts", T_0=2, T_mult=2, eta_min=0.0)
    got = lrs(s, range(1, 16))
    assert got[0] == 1.0 and got[2] == 1.0 and got[6] == 1.0 and got[14] == 1.0
    assert got[1] == pytest.approx(0.5, abs=1e-15)
    assert got[3] == pytest.approx((1 + math.cos(math.pi / 4)) / 2, abs=1e-15)
    assert got[13] == pytest.approx((1 + math.cos(7 * math.pi / 8)) / 2, abs=1e-15)
    # the vectorized form agrees, including exact cycle boundaries far out
    t = np.arange(1, 5000)
    assert np.allclose(s(t, 1.0), lrs(s, t.tolist()), rtol=0, atol=1e-14)
    s3 = make_schedule("warm_restarts", T_0=5, T_mult=3, eta_min=0.01)
    assert np.allclose(s3(t, 0.2), lrs(s3, t.tolist(), 0.2), rtol=0, atol=1e-14)


def test_cyclical_triangular():
    s = make_schedule("cyclical", base_lr=0.1, max_lr=1.0, step_size_up=2)
    assert lrs(s, range(1, 10)) == pytest.approx(
        [0.1, 0.55, 1.0, 0.55, 0.1, 0.55, 1.0, 0.55, 0.1], abs=1e-15
    )
    # base_lr None -> the optimizer's lr is the low end
    s2 = make_schedule("cyclical", max_lr=1.0, step_size_up=1)
    assert lrs(s2, [1, 2, 3], base=0.5) == [0.5, 1.0, 0.5]


def test_cyclical_modes():
    s = make_schedule("cyclical", base_lr=0.1, max_lr=1.0, step_size_up=2, mode="triangular2")
    assert lrs(s, range(1, 12)) == pytest.approx(
        [0.1, 0.55, 1.0, 0.55, 0.1, 0.325, 0.55, 0.325, 0.1, 0.2125, 0.325], abs=1e-15
    )
    e = make_schedule(
        "cyclical", base_lr=0.0 + 1e-3, max_lr=1.0, step_size_up=2, mode="exp_range", gamma=0.5
    )
    assert e(3, 1.0) == pytest.approx(1e-3 + (1.0 - 1e-3) * 0.25, abs=1e-15)
    asym = make_schedule(
        "cyclical", base_lr=0.0 + 1e-9, max_lr=1.0, step_size_up=1, step_size_down=3
    )
    assert lrs(asym, range(1, 6)) == pytest.approx([1e-9, 1.0, 2 / 3, 1 / 3, 1e-9], abs=1e-9)


def test_exponential_range_closed_form():
    # lr_t = lr_min (lr_max / lr_min)^((t - 1)/(steps - 1)): 1e-4 to 1 over 5 steps is one
    # decade per step, and the rate stays at lr_max after the last step of the range
    s = make_schedule("exponential_range", lr_min=1e-4, lr_max=1.0, steps=5)
    assert lrs(s, [1, 2, 3, 4, 5, 6, 50]) == pytest.approx(
        [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1.0, 1.0], rel=1e-13
    )
    # the ratio of consecutive rates is (lr_max/lr_min)^(1/(steps-1)) at every step
    s = make_schedule("exponential_range", lr_min=0.003, lr_max=7.0, steps=101)
    r = np.array(lrs(s, range(1, 102)))
    assert np.allclose(r[1:] / r[:-1], (7.0 / 0.003) ** (1 / 100), rtol=1e-12, atol=0)
    assert r[0] == 0.003 and r[-1] == pytest.approx(7.0, rel=1e-14)
    # lr_min None: the optimizer's lr is the first rate (per run in a batched sweep)
    s = make_schedule("exponential_range", lr_max=1.0, steps=3)
    assert s(1, 0.01) == 0.01 and s(2, 0.01) == pytest.approx(0.1) and s(3, 0.01) == 1.0
    assert s.range_test and not make_schedule("constant").range_test
    assert s.label() == "exponential_range(lr_max=1, steps=3)"
    with pytest.raises(OptimizerError, match="lr_min < lr_max"):
        make_schedule("exponential_range", lr_min=2.0, lr_max=1.0, steps=3)


@pytest.mark.parametrize(
    "name,kw",
    [
        ("constant", {}),
        ("step", {"step_size": 3, "gamma": 0.5}),
        ("exponential", {"k": 0.1}),
        ("inverse_time", {"k": 0.3}),
        ("cosine", {"T_max": 7, "eta_min": 0.001}),
        ("warm_restarts", {"T_0": 3, "T_mult": 2}),
        ("cyclical", {"max_lr": 0.5, "step_size_up": 3}),
        ("exponential_range", {"lr_max": 10.0, "steps": 20}),
        ("exponential_range", {"lr_min": 1e-4, "lr_max": 10.0, "steps": 20}),
    ],
)
def test_vectorized_forms_agree_with_scalar(name, kw):
    s = make_schedule(name, **kw)
    base = np.array([[0.01], [0.1], [0.2]])
    for t in (1, 2, 5, 17):
        got = s(t, base)
        assert got.shape == (3, 1)
        want = [s(t, float(b)) for b in base[:, 0]]
        assert np.allclose(got[:, 0], want, rtol=1e-15, atol=0)
        assert isinstance(s(t, 0.1), float)
    t = np.arange(1, 30)
    assert np.allclose(s(t, 0.1), [s(int(k), 0.1) for k in t], rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    "name,kw,field",
    [
        ("step", {"step_size": 0}, "step_size"),
        ("step", {"step_size": 2.5}, "step_size"),
        ("step", {"step_size": 2, "gamma": -1}, "gamma"),
        ("exponential", {"k": -0.1}, "k"),
        ("exponential", {"k": float("nan")}, "k"),
        ("inverse_time", {"eta0": 0.0}, "eta0"),
        ("cosine", {"T_max": 0}, "T_max"),
        ("cosine", {"T_max": True}, "T_max"),
        ("warm_restarts", {"T_0": 2, "T_mult": 0}, "T_mult"),
        ("cyclical", {"max_lr": "big"}, "max_lr"),
        ("cyclical", {"max_lr": 1.0, "mode": "triangle"}, "mode"),
        ("exponential_range", {"lr_max": 0.0, "steps": 10}, "lr_max"),
        ("exponential_range", {"lr_max": 1.0, "steps": 1}, "steps"),
        ("exponential_range", {"lr_max": 1.0, "steps": 10, "lr_min": -1e-3}, "lr_min"),
    ],
)
def test_validation_names_field_value_and_range(name, kw, field):
    with pytest.raises(OptimizerError) as err:
        make_schedule(name, **kw)
    msg = str(err.value)
    assert repr(field) in msg and "Got" in msg and ("range" in msg or "one of" in msg)


def test_messages():
    with pytest.raises(OptimizerError, match=r"'gamma'.*\(0, inf\).*Got -1"):
        make_schedule("step", step_size=1, gamma=-1)
    with pytest.raises(OptimizerError, match="did you mean 'triangular'"):
        make_schedule("cyclical", max_lr=1.0, mode="triangle")
    with pytest.raises(OptimizerError, match="needs the hyperparameter 'T_max'"):
        make_schedule("cosine")
    with pytest.raises(OptimizerError, match="does not take .*'tmax'.*did you mean 'T_max'"):
        make_schedule("cosine", tmax=3)
    with pytest.raises(OptimizerError, match="unknown schedule 'cosin'.*did you mean 'cosine'"):
        make_schedule("cosin")
    with pytest.raises(OptimizerError, match="1-based"):
        make_schedule("constant")(0, 0.1)


def test_describe_and_label():
    text = describe_schedule("inverse_time")
    assert "eta0 / (1 + k * (t - 1))" in text and "t = 1 uses the initial rate" in text
    assert "k: a float in the range [0, inf), default 1.0" in text
    for name in available_schedules():
        assert describe_schedule(name).startswith(name)
    s = make_schedule("cosine", T_max=100, eta_min=0.001)
    assert s.label() == "cosine(T_max=100, eta_min=0.001)"
    assert s.hyper == {"T_max": 100, "eta_min": 0.001}
    assert make_schedule("step", step_size=10).label() == "step(step_size=10)"
    assert eval(repr(s), {"make_schedule": make_schedule}).hyper == s.hyper
    with pytest.raises(OptimizerError, match="unknown schedule"):
        describe_schedule("nope")
