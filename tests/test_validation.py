"""The one validation mechanism (optiviz._validation): each constraint's text and its
accept/refuse boundaries, the structured fields of the errors optimizers, schedules and
configs raise, and the rule that ``optiviz validate`` refuses whatever ``optiviz run``
would (exit 2 with the key path, before any run)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from optiviz import make_optimizer
from optiviz._validation import (
    Choice,
    Flag,
    Interval,
    Invalid,
    Mapping,
    OrNone,
    Pair,
    Real,
    SafeName,
    Text,
    Vector,
    check,
    format_bound,
)
from optiviz.cli import app
from optiviz.config import parse_config
from optiviz.errors import NO_VALUE, ConfigError, OptimizerError, SurfaceError
from optiviz.schedules import make_schedule


def refused(constraint, value) -> Invalid:
    with pytest.raises(Invalid) as info:
        constraint.check(value)
    return info.value


# -- describe(): the phrase every message uses ---------------------------------------------
@pytest.mark.parametrize(
    "constraint, text",
    [
        (Interval("float", 0.0, None), "a float in the range [0, inf)"),
        (Interval("int", 1, 100000), "an int in the range [1, 100000]"),
        (Interval("float", 0, 1, closed="neither"), "a float in the range (0, 1)"),
        (Interval("float", 0, 1, closed="left"), "a float in the range [0, 1)"),
        (Interval("float", 0, 1, closed="right"), "a float in the range (0, 1]"),
        (Interval("float"), "a float in the range (-inf, inf)"),
        (Interval("float", 0, math.inf, closed="right"), "a float in the range (0, inf]"),
        (Interval("int", 1, 10_000_000), "an int in the range [1, 10000000]"),
        (Interval("float", 1e-8, 0.5), "a float in the range [1e-08, 0.5]"),
        (Choice(["all", "final"]), "one of 'all', 'final'"),
        (Choice(["png", "svg", "pdf"], quote=False), "one of png, svg, pdf"),
        (Flag(), "a bool"),
        (
            Pair(Interval("float", 0, 1, closed="left")),
            "a pair of floats, each in the range [0, 1)",
        ),
        (Vector(), "a list of finite numbers"),
        (Real(), "a finite number"),
        (
            OrNone(Interval("float", 0, None, closed="right")),
            "a float in the range (0, inf) or None",
        ),
        (OrNone(Interval("float", 0, None), "null"), "a float in the range [0, inf) or null"),
        (Text(), "a string"),
    ],
)
def test_describe_is_todays_phrase(constraint, text):
    assert constraint.describe() == text


def test_safe_name_text_and_bounds():
    assert SafeName().describe().startswith("a file-name-safe string: letters, digits")
    assert SafeName().check("rosenbrock-1.0_a") == "rosenbrock-1.0_a"
    for bad in ("..", "a/b", "../x", ".hidden", "", "x" * 101, 3):
        refused(SafeName(), bad)


def test_bound_text():
    assert [format_bound(v) for v in (0.0, 1, 1e7, 0.5, 1e-8, math.inf, -math.inf)] == [
        "0",
        "1",
        "10000000",
        "0.5",
        "1e-08",
        "inf",
        "-inf",
    ]


# -- check(): boundaries ------------------------------------------------------------------
def test_closed_and_open_ends():
    closed = Interval("float", 0, 1)
    assert closed.check(0) == 0.0 and closed.check(1) == 1.0
    half_open = Interval("float", 0, 1, closed="left")
    assert half_open.check(0) == 0.0
    refused(half_open, 1)
    refused(half_open, 1.0000000000000002)
    opened = Interval("float", 0, 1, closed="neither")
    refused(opened, 0)
    refused(opened, 1)
    assert opened.check(5e-324) == 5e-324  # the smallest positive float is inside (0, 1)


def test_infinity_only_where_the_range_includes_it():
    unbounded = Interval("float", 0, None)
    for v in (math.inf, float("-inf"), "inf"):
        refused(unbounded, v)
    with_inf = Interval("float", 0, math.inf, closed="right")
    assert with_inf.check(math.inf) == math.inf
    refused(Interval("float", 0, math.inf, closed="neither"), math.inf)
    refused(Real(), math.inf)


def test_nan_is_refused_everywhere():
    for c in (Interval("float"), Interval("float", 0, math.inf), Interval("int"), Real()):
        refused(c, float("nan"))
        refused(c, "nan")
        refused(c, np.float64("nan"))


def test_bools_are_never_numbers():
    for c in (Interval("float"), Interval("int", 0, 1), Real()):
        refused(c, True)
        refused(c, np.bool_(False))
    assert Flag().check(True) is True and Flag().check(np.bool_(False)) is False
    for v in (1, 0, "true", None):
        refused(Flag(), v)


def test_huge_ints_are_refused_with_the_message_not_overflow():
    # 10**400 is beyond the float range (about 1.8e308): float(10**400) raises
    # OverflowError, which must become the usual refusal.
    e = refused(Interval("float", 0, None), 10**400)
    assert e.allowed == "a float in the range [0, inf)" and e.value == 10**400
    refused(Interval("int", 1, 100000), 10**400)  # simply above the bound, compared exactly
    refused(Interval("int", 0, None), 10**400)  # also beyond what a float can carry
    refused(Real(), -(10**400))
    assert Interval("int", 0, None).check(2**62) == 2**62  # exact, no float rounding


def test_number_types_and_text():
    f = Interval("float", 0, None)
    assert f.check(3) == 3.0 and isinstance(f.check(3), float)
    assert f.check("1e-3") == 0.001 and f.check(" 2 ") == 2.0
    assert f.check(np.float32(0.5)) == 0.5
    for v in ("abc", "1e", None, [1], {}, "0x10"):
        refused(f, v)
    i = Interval("int", 1, 10)
    assert i.check(3.0) == 3 and isinstance(i.check(3.0), int)
    assert i.check(np.int64(7)) == 7 and i.check("4") == 4
    refused(i, 2.5)
    refused(i, "2.5")
    strict = Interval("int", 1, 10, strict=True)
    assert strict.check(np.int32(3)) == 3
    for v in (3.0, "3", True):
        refused(strict, v)
    refused(i, 0)
    refused(i, 11)


def test_check_array_finds_the_first_refused_value():
    c = Interval("float", 0, 1, closed="left")
    assert c.check_array(np.array([0.0, 0.5, 0.999])) is None
    assert c.check_array(np.array([0.0, 1.0, -1.0])) == 1
    assert c.check_array(np.array([0.2, np.nan])) == 1
    assert Interval("int", 1, None).check_array(np.array([1.0, 2.5])) == 1
    assert Interval("float", 0, None).check_array(np.array([1.0, np.inf])) == 1


def test_choice_pair_vector_mapping_ornone():
    c = Choice(["outside", "inside"])
    assert c.check("inside") == "inside"
    e = refused(c, "insde")
    assert e.hint == " (did you mean 'inside'?)"
    refused(Choice([1, 2]), True)  # True == 1, but a bool is not the int choice 1
    p = Pair(Interval("float", 0, 1, closed="left"))
    assert p.check([0.9, 0.999]) == (0.9, 0.999)
    for bad in ([0.9], [0.9, 1.0], (0.9, 0.99, 0.9), "ab", 0.9):
        assert refused(p, bad).value == bad  # the whole pair is named
    v = Vector()
    assert v.check([1, "2", 3.5]) == (1.0, 2.0, 3.5)
    e = refused(v, [1.0, float("nan"), 2.0])
    assert e.at == (1,) and e.allowed == "a finite number"
    refused(v, [])
    refused(Vector(n=2), [1, 2, 3])
    m = Mapping(("grad", "loss"))
    assert m.check({"grad": 1}) == {"grad": 1}
    assert refused(m, {"grd": 1}).at == ("grd",)
    assert m.unknown({"grd": 1, "loss": 2, "x": 3}) == ["grd", "x"]
    assert "did you mean 'grad'?" in m.unknown_message("grd")
    o = OrNone(Interval("int", 1, None))
    assert o.check(None) is None and o.check(2) == 2
    assert refused(o, 0).allowed == "an int in the range [1, inf) or None"


def test_check_helper_raises_the_callers_error_with_fields():
    with pytest.raises(OptimizerError) as info:
        check("adam", "lr", -1, Interval("float", 0.0, None))
    e = info.value
    assert str(e) == (
        "The 'lr' hyperparameter of adam must be a float in the range [0, inf). Got -1 instead."
    )
    assert (e.owner, e.key, e.value, e.allowed) == ("adam", "lr", -1, e.allowed)
    assert e.allowed == "a float in the range [0, inf)"
    with pytest.raises(SurfaceError, match="^'l1' of s must be a float"):
        check(
            "s",
            "l1",
            -1,
            Interval("float", 0, None),
            error=SurfaceError,
            message="{key!r} of {owner} must be {allowed}; got {value!r}",
        )


# -- structured errors from optimizers and schedules -----------------------------------
def test_optimizer_errors_carry_owner_key_value_allowed():
    with pytest.raises(OptimizerError) as info:
        make_optimizer("adam", lr=-1)
    e = info.value
    assert str(e) == (
        "The 'lr' hyperparameter of adam must be a float in the range [0, inf). Got -1 instead."
    )
    assert (e.owner, e.key, e.value, e.allowed) == (
        "adam",
        "lr",
        -1,
        "a float in the range [0, inf)",
    )
    with pytest.raises(OptimizerError) as info:
        make_optimizer("adam", betas=(0.9, 1.0))
    e = info.value
    assert (e.key, e.value) == ("betas", (0.9, 1.0))
    assert e.allowed == "a pair of floats, each in the range [0, 1)"
    with pytest.raises(OptimizerError) as info:
        make_optimizer("rmsprop", eps_placement="insde")
    assert str(info.value).endswith("Got 'insde' instead (did you mean 'inside'?).")
    with pytest.raises(OptimizerError) as info:
        make_optimizer("sgd", momentun=0.9)
    assert (info.value.owner, info.value.key, info.value.value) == ("sgd", "momentun", NO_VALUE)


def test_optimizer_numbers_follow_the_table_rules():
    with pytest.raises(OptimizerError, match="Got True instead"):
        make_optimizer("gd", lr=True)
    with pytest.raises(OptimizerError, match="must be a float in the range"):
        make_optimizer("gd", lr=10**400)
    with pytest.raises(OptimizerError, match="must be a float in the range"):
        make_optimizer("gd", lr=math.inf)  # [0, inf) excludes infinity
    # max_step defaults to inf ("no cap"), so its range is (0, inf] and inf is accepted
    opt = make_optimizer("line_search", max_step=math.inf)
    assert opt.h["max_step"] == math.inf
    assert type(opt).params["max_step"].describe_range() == "a float in the range (0, inf]"


def test_batched_hyperparameters_are_checked_value_by_value():
    opt = make_optimizer("gd", lr=[0.1, 0.2, 0.3])
    assert opt.n_runs == 3 and opt.h["lr"].shape == (3, 1)
    for bad in ([0.1, -1.0], [0.1, float("nan")], [], [[0.1]], ["a"]):
        with pytest.raises(OptimizerError) as info:
            make_optimizer("gd", lr=bad)
        assert info.value.key == "lr" and info.value.value == bad
    # an element of a pair may itself be batched
    opt = make_optimizer("adam", betas=([0.8, 0.9], 0.999))
    assert opt.n_runs == 2
    with pytest.raises(OptimizerError) as info:
        make_optimizer("adam", betas=([0.8, 1.0], 0.999))
    assert info.value.allowed == "a pair of floats, each in the range [0, 1)"
    with pytest.raises(OptimizerError, match="same length") as info:
        make_optimizer("adam", lr=[0.1, 0.2], betas=([0.8, 0.9, 0.7], 0.999))
    assert info.value.key == "betas"


def test_schedule_errors_carry_owner_key_value_allowed():
    with pytest.raises(OptimizerError) as info:
        make_schedule("step", step_size=0)
    e = info.value
    assert str(e) == (
        "The 'step_size' hyperparameter of the 'step' schedule must be an int in the range "
        "[1, inf). Got 0 instead."
    )
    assert (e.owner, e.key, e.value) == ("schedule 'step'", "step_size", 0)
    assert e.allowed == "an int in the range [1, inf)"
    with pytest.raises(OptimizerError) as info:
        make_schedule("exponential", k=0.1, eta0=0)
    assert info.value.allowed == "a float in the range (0, inf) or None"
    with pytest.raises(OptimizerError) as info:
        make_schedule("cosine")
    assert (info.value.key, info.value.value) == ("T_max", NO_VALUE)
    with pytest.raises(OptimizerError, match="Got True instead"):
        make_schedule("step", step_size=True)


# -- configs read the fields ---------------------------------------------------------------
def base(**changes) -> dict:
    d = {
        "name": "t",
        "surface": "rosenbrock",
        "start": [-1.2, 1.0],
        "optimizers": [{"name": "gd", "lr": 1e-3}],
    }
    d.update(changes)
    return d


def config_error(**changes) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(base(**changes), "x.yaml")
    return info.value


def test_config_errors_carry_the_first_problems_fields():
    e = config_error(optimizers=[{"name": "adam", "lr": -1}])
    assert e.errors == [
        "x.yaml: optimizers[0].lr: -1 is not allowed: must be a float in the range [0, inf)"
    ]
    assert (e.owner, e.key, e.value, e.allowed) == (
        "config",
        "optimizers[0].lr",
        -1,
        "a float in the range [0, inf)",
    )
    e = config_error(steps=10**400)  # a huge int: refused, not an OverflowError
    assert e.key == "steps" and e.allowed == "an int in the range [1, 10000000]"


def test_config_places_cross_rule_errors_by_their_key():
    # rprop's rule 0 < eta- < 1 < eta+ names its key: placed at optimizers[0].etas
    e = config_error(optimizers=[{"name": "rprop", "etas": [1.2, 0.5]}])
    assert e.errors[0].startswith("x.yaml: optimizers[0].etas: [1.2, 0.5] is not allowed: ")
    # nesterov needs momentum names no single key: placed on the entry
    e = config_error(optimizers=[{"name": "sgd", "nesterov": True}])
    assert e.errors[0].startswith("x.yaml: optimizers[0]: sgd with nesterov=True requires")
    # a schedule's refusal at schedule.<key>
    e = config_error(
        optimizers=[{"name": "gd", "schedule": {"name": "cyclical", "max_lr": 1, "mode": "tri"}}]
    )
    assert (
        "optimizers[0].schedule.mode: 'tri' is not allowed: must be one of 'triangular'"
        in (e.errors[0])
    )


# -- whatever run refuses, validate refuses first ------------------------------------------
RUNNER = CliRunner()

HOLES = {
    # engine.run refuses tol_loss < 0 after the config passed
    "negative_loss_tolerance": (
        base(tolerance={"loss": -1}),
        "tolerance.loss: -1 is not allowed: must be a float in the range [0, inf) or null",
    ),
    # a saddle has no minimum, so eta_opt = 1/lambda_max cannot be taken there
    "eta_opt_on_a_saddle": (
        base(
            surface="saddle",
            start=[0.5, 0.2],
            optimizers=[{"name": "gd", "lr": {"times_eta_opt": 1}}],
        ),
        "optimizers[0].lr: times_eta_opt cannot be resolved",
    ),
    # a known minimum without its value made validate end with an internal error (exit 1)
    "minimum_without_value": (
        base(
            surface={
                "expression": "x**2 + y**2",
                "variables": ["x", "y"],
                "minima": [{"point": [0, 0]}],
            },
            start=[0.5, 0.2],
        ),
        "surface.minima[0].value: is required",
    ),
    # the heavy-ball velocity x0 - x_prev is stored divided by lr, so lr = 0 cannot start
    "history_with_zero_lr": (
        base(start_prev=[-1.0, 1.0], optimizers=[{"name": "momentum", "lr": 0}]),
        "optimizers[0]: momentum was given a history (x_prev) but its 'lr' is 0",
    ),
    # the lr_sweep figure draws lr on a log axis: a swept lr of 0 failed after the runs
    "lr_sweep_through_zero": (
        base(
            figures=["lr_sweep"], optimizers=[{"name": "gd", "lr": {"grid": {"values": [0, 1e-3]}}}]
        ),
        "figures[0]: 'lr_sweep' is not allowed: it draws learning rates on a log axis",
    ),
    # projection: hessian needs a minimum with a finite Hessian; the saddle has none
    "hessian_projection_without_minimum": (
        base(surface="saddle", start=[0.5, 0.2], projection="hessian", figures=["contour"]),
        "projection: 'hessian' is not allowed",
    ),
}


@pytest.mark.parametrize("name", list(HOLES))
def test_validate_refuses_what_run_would(name, tmp_path, monkeypatch):
    raw, message = HOLES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    v = RUNNER.invoke(app, ["validate", str(path)])
    assert v.exit_code == 2, v.output
    assert v.stderr.startswith("error: ") and message in v.stderr, v.stderr
    assert "internal error" not in v.output
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    r = RUNNER.invoke(app, ["run", str(path), "--out", str(out), "-q"])
    assert r.exit_code == 2 and message in r.stderr, r.output
    assert not out.exists()  # refused before any run


def test_the_broken_eta_opt_config_is_refused_by_validate():
    path = Path(__file__).parent / "broken_configs" / "eta_opt_without_minimum.yaml"
    v = RUNNER.invoke(app, ["validate", str(path)])
    assert v.exit_code == 2 and "optimizers[0].lr: times_eta_opt cannot be resolved" in v.stderr


# -- issue 14: extreme arguments of the Python API -----------------------------------------
def test_a_huge_int_learning_rate_is_refused_not_overflow():
    # already held by the constraint table: 10**400 is above every float, so it is simply
    # outside [0, inf) and gets the usual message
    with pytest.raises(OptimizerError, match=r"'lr' hyperparameter of gd must be a float"):
        make_optimizer("gd", lr=10**400)


def test_run_refuses_records_beyond_memory_with_the_estimate_and_the_record_that_fits(
    monkeypatch,
):
    # was MemoryError ("Unable to allocate 14.9 GiB") after a long allocation attempt.
    # A single 2-variable run keeps 3n + 2 = 8 floats and 3 int32 evaluation counts per
    # step with record="all": (10**9 + 1) x (8 x 8 + 12) bytes = 70.8 GiB; record="final"
    # keeps none of them.
    from optiviz import load_surface, run
    from optiviz.engine import checks

    monkeypatch.setattr(checks, "memory_limit", lambda: 16 * 2**30)
    s = load_surface("rosenbrock")
    with pytest.raises(OptimizerError) as info:
        run(s, make_optimizer("gd", lr=1e-3), [0.0, 0.0], 10**9)
    msg = str(info.value)
    assert "70.8 GiB" in msg and "16.0 GiB" in msg and "record='final' fits" in msg
    # a batched run also keeps three oracle counts (48 bytes) per step: record="path" of
    # 10 runs at 10**7 steps is 8 x 10 x 4 x (10**7 + 1) + 144 x (10**7 + 1) bytes = 4.32 GB
    monkeypatch.setattr(checks, "memory_limit", lambda: 5 * 10**9)
    assert checks.record_bytes("path", 10**7, 10, 2) == 8 * 10 * 4 * (10**7 + 1) + 144 * (10**7 + 1)
    with pytest.raises(OptimizerError, match=r"record='path' fits"):
        run(s, make_optimizer("gd", lr=[1e-3] * 10), [0.0, 0.0], 10**7)


def test_run_refuses_steps_beyond_any_array_dimension():
    # was numpy's "ValueError: Maximum allowed dimension exceeded"
    from optiviz import load_surface, run

    with pytest.raises(OptimizerError, match=r"'steps' must be at most 1e\+18"):
        run(load_surface("rosenbrock"), make_optimizer("gd", lr=1e-3), [0.0, 0.0], 10**30)


@pytest.mark.parametrize("name", ["ackley", "quadratic", "rosenbrock", "xy"])
def test_explain_step_and_analyze_far_out_are_results_without_warnings(name):
    # RuntimeWarnings are errors in this suite (pyproject filterwarnings); at 1e308 the
    # gradient (ackley, quadratic) or the gradient norm overflowed with a warning. Now the
    # result holds the overflow: a non-finite new point / gradient norm.
    from optiviz import OptivizError, analyze, explain_step, load_surface

    s = load_surface(name)
    x = [1e308] * s.n
    for opt in ("gd", "adam", "momentum"):
        e = explain_step(s, make_optimizer(opt, lr=1e-3), x)
        assert e.quantities["w(t)"].tolist() == x
        # the polynomial surfaces square 1e308: inf (ackley's terms give inf - inf: nan)
        assert not np.isfinite(e.quantities["f(w(t))"])
    try:
        a = analyze(s, at=x)
    except OptivizError as exc:  # a non-finite Hessian is refused by name
        assert "not finite" in str(exc)
    else:  # quadratic, xy: constant Hessian; the value overflows to inf (or is nan)
        assert not np.isfinite(a.at.value)


@pytest.mark.parametrize("lr", ["1.0e+307", "1.0e+308"])
def test_the_effective_lr_figure_copes_with_huge_learning_rates(lr, tmp_path, monkeypatch):
    # lr 1e307: the first step's rates (~1e307) crashed matplotlib's log-axis ticks
    # ("OverflowError: cannot convert float infinity to integer"); they now leave gaps
    # like the non-finite rates of the diverged steps after it
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text(
        "name: huge-lr\nsurface: booth\nstart: [-1.2, 1.0]\nsteps: 5\n"
        f"optimizers:\n  - {{name: gd, lr: {lr}}}\n  - {{name: adam, lr: 0.1}}\n"
        "figures: [effective_lr, lr_factor]\n"
    )
    res = RUNNER.invoke(app, ["run", "c.yaml", "--out", "out"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "effective_lr.png").stat().st_size > 0
    assert (tmp_path / "out" / "lr_factor.png").stat().st_size > 0
