"""Config files: parsing into frozen dataclasses, validation with every error collected."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optiviz.config import (
    FIGURES,
    ExperimentConfig,
    GridSpec,
    apply_overrides,
    expand_grid,
    load_config,
    parse_config,
    read_yaml,
)
from optiviz.errors import ConfigError

EXAMPLE = """\
name: rosenbrock-classics
surface: rosenbrock            # a library name
start: [-1.2, 1.0]
steps: 2000
tolerance: {grad: 1.0e-8}
optimizers:
  - {name: gd, lr: 1.0e-3}
  - {name: momentum, lr: 1.0e-3, momentum: 0.9}
  - {name: nesterov, lr: 1.0e-3, momentum: 0.9}
  - {name: adam, lr: 2.0e-2, label: "Adam (lr 0.02)"}
  - {name: rmsprop, lr: 1.0e-2, eps_placement: inside}
  - {name: gd, lr: {times_eta_opt: 1.5}}
  - {name: adam, lr: {grid: {logspace: [-4, -1, 50]}}}
figures: [contour, loss, effective_lr]
formats: [png]
seed: 0
"""


def parse(text: str, **kw) -> ExperimentConfig:
    return parse_config(yaml.safe_load(text), "x.yaml", **kw)


def errors_of(text: str, **kw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(text, **kw)
    return info.value.errors


def base(**changes) -> dict:
    d = {
        "name": "t",
        "surface": "rosenbrock",
        "start": [-1.2, 1.0],
        "optimizers": [{"name": "gd", "lr": 1e-3}],
    }
    d.update(changes)
    return d


# -- the issue's example ------------------------------------------------------------------
def test_issue_example_parses_into_frozen_dataclasses():
    cfg = parse(EXAMPLE)
    assert cfg.name == "rosenbrock-classics"
    assert cfg.variables == ("x", "y")
    assert cfg.start == (-1.2, 1.0) and cfg.steps == 2000
    assert cfg.tolerance.grad == 1e-8 and cfg.tolerance.loss is None
    assert len(cfg.optimizers) == 7 and cfg.n_runs == 6 + 50
    assert cfg.optimizers[3].label == "Adam (lr 0.02)"
    assert cfg.optimizers[4].hyperparameters == {"lr": 1e-2, "eps_placement": "inside"}
    assert cfg.optimizers[5].lr_times_eta_opt == 1.5
    grid = cfg.optimizers[6].grids["lr"]
    assert isinstance(grid, GridSpec) and len(grid.values) == 50
    assert grid.values[0] == pytest.approx(1e-4) and grid.values[-1] == pytest.approx(0.1)
    assert cfg.figures == ("contour", "loss", "effective_lr") and cfg.formats == ("png",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 5  # type: ignore[misc]


def test_resolved_config_fills_defaults_and_round_trips():
    cfg = parse(EXAMPLE)
    d = cfg.to_dict()
    assert d["record"] == "all" and d["divergence_bound"] is None and d["projection"] is None
    adam = d["optimizers"][3]
    assert adam["betas"] == [0.9, 0.999] and adam["eps"] == 1e-8  # defaults filled in
    again = parse_config(yaml.safe_load(yaml.safe_dump(d)), "x.yaml")
    assert again.to_dict() == d


def test_defaults_and_name_from_file(tmp_path):
    p = tmp_path / "my_exp.yaml"
    p.write_text("surface: booth\nstart: [0, 0]\noptimizers: [gd]\n")
    cfg = load_config(p)
    assert cfg.name == "my_exp" and cfg.steps == 1000 and cfg.seed == 0
    assert cfg.figures == ("contour", "loss") and cfg.formats == ("png",)
    assert cfg.optimizers[0].name == "gd" and cfg.path == str(p)


def test_numeric_text_is_accepted_as_a_number():
    # YAML 1.1 reads 1e-3 (no dot) as a string; the config accepts it as a number
    cfg = parse("surface: booth\nstart: [0, 0]\noptimizers: [{name: gd, lr: 1e-3}]\n")
    assert cfg.optimizers[0].hyperparameters["lr"] == 1e-3


def test_inline_expression_surface_with_overrides():
    cfg = parse("""
surface: {expression: "a*x1**2 + 2*x2**2", variables: [x1, x2], parameters: {a: 0.1},
          window: [[-4, 4], [-2, 2]], minima: [{point: [0, 0], value: 0}], name: quad}
start: [1, 1]
optimizers: [{name: gd, lr: 0.1}]
""")
    s = cfg.build_surface()
    assert s.variables == ("x1", "x2") and s.name == "quad"
    assert s.f(np.array([1.0, 1.0])) == pytest.approx(2.1)
    assert s.window.tolist() == [[-4, 4], [-2, 2]]


def test_library_surface_parameters_and_regularization():
    cfg = parse("""
surface: {name: rosenbrock, parameters: {b: 10}, l2: 0.1}
start: [0, 0]
optimizers: [gd]
""")
    s = cfg.build_surface()
    assert s.parameters["b"] == 10 and s.l2 == 0.1
    assert s.f(np.array([1.0, 1.0])) == pytest.approx(0.1)


def test_data_surface():
    cfg = parse("""
surface: {data: logistic, dataset: {generate: blobs, n: 40, seed: 0}}
start: [0, 0, 0]
optimizers: [{name: sgd, lr: 0.1, batch_size: 8}]
""")
    assert cfg.build_surface().n_samples == 40 and cfg.optimizers[0].batch_size == 8


def test_schedule_grid_over_momentum_and_entry_overrides():
    cfg = parse("""
surface: ill_conditioned
start: [1, 1]
record: final
optimizers:
  - {name: momentum, lr: 0.05, momentum: {grid: {values: [0, 0.5, 0.9]}}, steps: 30,
     record: all, schedule: {name: inverse_time, eta0: 1, k: 1}}
""")
    o = cfg.optimizers[0]
    assert o.is_grid and not o.sweeps_lr and o.n_runs == 3
    assert cfg.steps_of(o) == 30 and cfg.record_of(o) == "all" and cfg.record == "final"
    assert o.schedule.name == "inverse_time" and o.schedule.params == {"eta0": 1, "k": 1}


def test_expand_grid_is_a_cartesian_product_with_the_relative_lr_last():
    cfg = parse("""
surface: ill_conditioned
start: [1, 1]
optimizers:
  - {name: momentum, momentum: {grid: {values: [0.1, 0.9]}},
     lr: {times_eta_opt: {grid: {linspace: [0.5, 1.5, 3]}}}}
""")
    o = cfg.optimizers[0]
    assert o.n_runs == 6
    hp = expand_grid(o, eta_opt=0.25)
    np.testing.assert_allclose(hp["momentum"], [0.1, 0.1, 0.1, 0.9, 0.9, 0.9])
    np.testing.assert_allclose(hp["lr"], np.tile([0.125, 0.25, 0.375], 2))


def test_apply_overrides():
    cfg = parse(
        EXAMPLE.replace("  - {name: gd, lr: 1.0e-3}", "  - {name: gd, lr: 1.0e-3, steps: 5000}")
    )
    capped = apply_overrides(cfg, max_steps=200, seed=4, formats=["svg", "png"])
    assert capped.steps == 200 and capped.optimizers[0].steps == 200 and capped.seed == 4
    assert capped.formats == ("svg", "png") and capped.build_surface() is cfg.build_surface()
    replaced = apply_overrides(cfg, steps=7)
    assert replaced.steps == 7 and replaced.optimizers[0].steps is None
    with pytest.raises(ConfigError, match="--steps: 0 is not allowed"):
        apply_overrides(cfg, steps=0)
    with pytest.raises(ConfigError, match="--format"):
        apply_overrides(cfg, formats=["gif"])


def test_expect_block():
    cfg = parse("""
surface: seed_quadratic
start: [1.5, 2.0]
start_prev: [1, 1]
steps: 1
optimizers: [{name: gd, lr: 0.3, label: GD}]
expect:
  - {run: GD, point: [1.625, 2.058333], note: "the worked answer"}
  - {run: 0, step: 0, loss: 0.556944, tol: 1.0e-6}
  - {run: 0, status: max_steps}
  - {analysis: minimum.value, value: 0.05}
""")
    e = cfg.expect
    assert [x.quantity for x in e] == ["point", "loss", "status", "analysis"]
    assert e[0].run == "GD" and e[0].step is None and e[0].tol == 1e-6
    assert e[1].step == 0 and e[3].path == "minimum.value"


# -- validation: every error, together ------------------------------------------------------
def test_all_errors_are_reported_together():
    errs = errors_of("""
name: bad/name
surfce: rosenbrock
start: [1, .inf]
steps: 2.5
seed: -1
optimizers:
  - {name: gd, lr: -1}
  - {name: adamm}
  - {name: gd, momentum: 0.9}
figures: [contours]
formats: [gif]
""")
    text = "\n".join(errs)
    for piece in [
        "x.yaml: name: 'bad/name' is not allowed",
        "x.yaml: surfce: unknown key 'surfce' (did you mean 'surface'?)",
        "surface: is required",
        "start[1]: inf is not allowed: must be a finite number",
        "steps: 2.5 is not allowed: must be an int in the range [1, 10000000]",
        "seed: -1 is not allowed",
        "optimizers[0].lr: -1 is not allowed: must be a float in the range [0, inf)",
        "optimizers[1].name: 'adamm' is not allowed: unknown optimizer (did you mean 'adam'?)",
        "optimizers[2].momentum: gd does not take the hyperparameter 'momentum'",
        "figures[0]: 'contours' is not allowed",
        "formats[0]: 'gif' is not allowed: must be one of png, svg, pdf",
    ]:
        assert piece in text, piece
    assert len(errs) == 11


def test_error_message_shape_names_file_key_value_and_allowed():
    errs = errors_of(
        yaml.safe_dump(
            base(
                optimizers=[
                    {"name": "gd", "lr": 0.1},
                    {"name": "gd", "lr": 0.1},
                    {"name": "gd", "lr": 0.1},
                    {"name": "adam", "lr": -1},
                ]
            )
        )
    )
    assert errs == [
        "x.yaml: optimizers[3].lr: -1 is not allowed: must be a float in the range [0, inf)"
    ]


@pytest.mark.parametrize(
    "changes, expected",
    [
        (
            {"start": [1, 2, 3]},
            "start: [1.0, 2.0, 3.0] is not allowed: it has 3 numbers but the "
            "surface has 2 variables (x, y)",
        ),
        ({"start_prev": [1]}, "start_prev: [1.0] is not allowed: it has 1 number"),
        (
            {"start": "origin"},
            "start: 'origin' is not allowed: must be a point [x1, ..., xn] (one finite number "
            "per variable) or a list of points",
        ),
        (
            {"surface": "rosenbrok"},
            "surface: unknown surface 'rosenbrok' (did you mean 'rosenbrock'?)",
        ),
        (
            {"surface": {"name": "rosenbrock", "parameters": {"c": 1}}},
            "surface.parameters: surface 'rosenbrock' has no parameter 'c'",
        ),
        ({"surface": {"expression": "x +* y", "variables": ["x", "y"]}}, "surface.expression:"),
        ({"surface": {"expression": "x*z", "variables": ["x", "y"]}}, "surface.expression:"),
        (
            {"surface": {"expresion": "x*y", "variables": ["x", "y"]}},
            "a surface mapping needs one of 'name'",
        ),
        (
            {"steps": 10**8},
            "steps: 100000000 is not allowed: must be an int in the range [1, 10000000]",
        ),
        ({"steps": True}, "steps: true is not allowed"),
        ({"name": ".."}, "name: '..' is not allowed: must be a file-name-safe string"),
        ({"name": "a/b"}, "name: 'a/b' is not allowed"),
        (
            {"tolerance": {"grad": 0}},
            "tolerance.grad: 0 is not allowed: must be a float in the range (0, inf) or null",
        ),
        ({"tolerance": {"grd": 1e-8}}, "tolerance.grd: unknown key 'grd' (did you mean 'grad'?)"),
        ({"record": "every"}, "record: 'every' is not allowed: must be one of all, final"),
        ({"divergence_bound": -1}, "divergence_bound: -1 is not allowed"),
        (
            {"projection": ["x", "w"]},
            "projection[1]: 'w' is not allowed: must be one of the variables x, y",
        ),
        ({"projection": ["x", "x"]}, "projection: [x, x] is not allowed: must be two different"),
        ({"report": {"at": [1, 2, 3]}}, "report.at: [1.0, 2.0, 3.0] is not allowed: it has 3"),
        ({"report": {"l2": -0.1}}, "report.l2: -0.1 is not allowed"),
        (
            {"figures": ["lr_sweep"]},
            "figures[0]: 'lr_sweep' is not allowed: it plots the final "
            "loss of a learning-rate grid",
        ),
        ({"optimizers": []}, "optimizers: [] is not allowed: must be a non-empty list"),
        ({"optimizers": [{"lr": 0.1}]}, "optimizers[0].name: is required"),
        (
            {"optimizers": [{"name": "gd", "lr": [0.1, 0.2]}]},
            "to sweep values write {grid: {values: [...]}}",
        ),
        (
            {"optimizers": [{"name": "adam", "betas": [0.9, 1.0]}]},
            "optimizers[0].betas: [0.9, 1.0] is not allowed: must be a pair of floats, each in the "
            "range [0, 1)",
        ),
        (
            {"optimizers": [{"name": "rmsprop", "eps_placement": "insde"}]},
            "(did you mean 'inside'?)",
        ),
        (
            {"optimizers": [{"name": "sgd", "nesterov": True}]},
            "optimizers[0]: sgd with nesterov=True requires a momentum > 0",
        ),
        (
            {"optimizers": [{"name": "gd", "lr": {"grid": {"logspace": [-4, -1]}}}]},
            "optimizers[0].lr.grid.logspace: [-4, -1] is not allowed: must be [a, b, n]",
        ),
        (
            {"optimizers": [{"name": "gd", "lr": {"grid": {"range": [1, 2]}}}]},
            "unknown grid form 'range'",
        ),
        (
            {"optimizers": [{"name": "gd", "lr": {"grid": {"values": [0.1, -0.1]}}}]},
            "the value -0.1 is out of range",
        ),
        (
            {
                "optimizers": [
                    {"name": "momentum", "momentum": {"grid": {"linspace": [0, 1, 200000]}}}
                ]
            },
            "200000 is not allowed: must be an int in the range [1, 100000]",
        ),
        (
            {"optimizers": [{"name": "adam", "amsgrad": {"grid": {"values": [0, 1]}}}]},
            "'amsgrad' of adam cannot be swept by a grid",
        ),
        (
            {"optimizers": [{"name": "gd", "lr": {"times_eta_opt": 0}}]},
            "optimizers[0].lr.times_eta_opt: 0 is not allowed: "
            "must be a float in the range (0, inf)",
        ),
        (
            {"optimizers": [{"name": "line_search", "lr": {"times_eta_opt": 1}}]},
            "line_search does not take the hyperparameter 'lr'",
        ),
        (
            {"optimizers": [{"name": "gd", "schedule": {"name": "inverse_time", "k": -1}}]},
            "optimizers[0].schedule.k: -1 is not allowed",
        ),
        (
            {"optimizers": [{"name": "gd", "schedule": {"name": "step"}}]},
            "needs the hyperparameter 'step_size'",
        ),
        (
            {"optimizers": [{"name": "gd", "batch_size": 4}]},
            "optimizers[0].batch_size: 4 is not allowed: mini-batches need a data surface",
        ),
        ({"optimizers": [{"name": "gd", "steps": 0}]}, "optimizers[0].steps: 0 is not allowed"),
        (
            {
                "optimizers": [{"name": "gd", "lr": {"grid": {"logspace": [-4, -1, 100]}}}],
                "steps": 10**7,
            },
            "record: all would keep",
        ),
        (
            {"expect": [{"run": 5, "loss": 0}]},
            "expect[0].run: 5 is not allowed: the config has 1 run (0..0)",
        ),
        (
            {"expect": [{"run": "Adam", "loss": 0}]},
            "expect[0].run: 'Adam' is not allowed: no entry has that label",
        ),
        ({"expect": [{"run": 0, "loss": 0, "point": [1, 1]}]}, "a check names exactly one of"),
        (
            {"expect": [{"run": 0, "point": [1, 1, 1]}]},
            "expect[0].point: [1.0, 1.0, 1.0] is not allowed: the surface has 2 variables",
        ),
        ({"expect": [{"run": 0, "status": "done"}]}, "expect[0].status: 'done' is not allowed"),
        ({"expect": [{"analysis": "minimum.point"}]}, "expect[0].value: is required"),
    ],
)
def test_each_kind_of_mistake(changes, expected):
    text = "\n".join(errors_of(yaml.safe_dump(base(**changes))))
    assert expected in text


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nstart: [1, 2\noptimizers: []\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line 3, column \d+: invalid YAML"):
        read_yaml(p)


@pytest.mark.parametrize(
    "text, kind",
    [("", "empty"), ("- a\n- b\n", "a list"), ("42\n", "a int"), ("just text\n", "a str")],
)
def test_top_level_must_be_a_mapping(text, kind):
    with pytest.raises(ConfigError, match=f"the file is {kind}; a config is a YAML mapping"):
        parse_config(yaml.safe_load(text), "x.yaml")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_yaml_is_read_safely(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(p)


SUITE_KINDS = ("performance_profile", "data_profile")


def test_every_figure_name_is_accepted():
    # the map kinds also need a single run with two numeric hyperparameters, and the rate
    # map its two axes; the lr-range kinds a range-test schedule
    rate_map = {
        "rate_map": {
            "entry": 1,
            "x": {"lr": {"logspace": [-3, -2, 3]}},
            "y": {"momentum": {"values": [0.0, 0.5]}},
        }
    }
    range_test = {"name": "exponential_range", "lr_max": 1.0, "steps": 5}
    # the tuning kinds need a tune: block, whose entries have no grids (test_tuning.py)
    untuned = tuple(k for k in FIGURES if not k.startswith("tune_") and k not in SUITE_KINDS)
    d = base(
        # every kind but the suite's (they need a suite: block: tests/test_suite.py) and
        # the tuning's (they need a tune: block: tests/test_tuning.py)
        figures=[rate_map if k == "rate_map" else k for k in untuned],
        optimizers=[
            {"name": "gd", "lr": {"grid": {"values": [1e-3, 1e-2]}}},  # lr_sweep
            {"name": "momentum", "lr": 1e-3, "momentum": 0.5},  # rate_map, modes
            {"name": "gd", "lr": 1e-3, "schedule": range_test},  # basins, sharpness, lr_range
        ],
    )
    assert parse_config(d, "x.yaml").figures == untuned


# -- robustness: nothing but ConfigError for any YAML-like input ------------------------------
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**9),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "gd",
            "adam",
            "rosenbrock",
            "booth",
            "x",
            "1e-3",
            "",
            "contour",
            "png",
            "all",
            "inf",
            "../x",
        ]
    ),
)
_value = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "lr",
                    "grid",
                    "values",
                    "logspace",
                    "momentum",
                    "expression",
                    "variables",
                    "times_eta_opt",
                    "run",
                    "point",
                    "at",
                    "data",
                    "steps",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
_config = st.fixed_dictionaries(
    {},
    optional={
        k: _value
        for k in (
            "name",
            "surface",
            "start",
            "start_prev",
            "steps",
            "tolerance",
            "seed",
            "optimizers",
            "figures",
            "formats",
            "projection",
            "report",
            "expect",
            "record",
            "divergence_bound",
            "bogus",
        )
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_config)
def test_fuzz_only_config_errors(raw):
    try:
        parse_config(raw, "fuzz.yaml")
    except ConfigError as exc:
        assert exc.errors and all(e.startswith("fuzz.yaml: ") for e in exc.errors)


# -- issue 14: configs decided with our own error ------------------------------------------
HUGE = 10**400  # above every float (about 1.8e308)


@pytest.mark.parametrize(
    "changes, path",
    [
        # already held by the constraint table (the usual message, no OverflowError)
        ({"optimizers": [{"name": "gd", "lr": HUGE}]}, "optimizers[0].lr"),
        ({"optimizers": [{"name": "rmsprop", "alpha": HUGE}]}, "optimizers[0].alpha"),
        ({"start": [HUGE, 1.0]}, "start[0]"),
        ({"steps": HUGE}, "steps"),
        ({"surface": {"name": "rosenbrock", "parameters": {"b": HUGE}}}, "surface.parameters.b"),
        ({"expect": [{"run": 0, "loss": HUGE}]}, "expect[0].loss"),
        ({"expect": [{"run": 0, "point": [HUGE, 1]}]}, "expect[0].point[0]"),
        # not held before: an analysis check's value was taken as written and float(10**400)
        # raised OverflowError when the check ran
        ({"expect": [{"analysis": "minimum.value", "value": HUGE}]}, "expect[0].value"),
        ({"expect": [{"analysis": "minimum.point", "value": [1, HUGE]}]}, "expect[0].value[1]"),
        # a ragged value cannot be compared with an array
        ({"expect": [{"analysis": "minimum.point", "value": [[0, 1], [2]]}]}, "expect[0].value"),
        # a ragged window: already refused pair by pair
        ({"surface": {"name": "rosenbrock", "window": [[0, 1], [2]]}}, "surface.window[1]"),
    ],
)
def test_extreme_numbers_and_ragged_lists_are_refused_with_the_key_path(changes, path):
    text = "\n".join(errors_of(yaml.safe_dump(base(**changes))))
    assert f"x.yaml: {path}: " in text, text


@pytest.mark.parametrize("name", ["evil\n", "a\nb", "ok\r", "tab\t"])
def test_names_with_control_characters_are_refused(name):
    # "evil\n" passed: the safe-name pattern's '$' matches before a trailing newline, and
    # the output folder got a newline in its name
    text = "\n".join(errors_of(yaml.safe_dump(base(name=name))))
    assert "x.yaml: name: " in text and "file-name-safe" in text


def test_duplicate_yaml_keys_are_refused_with_the_key_and_line(tmp_path):
    # YAML keeps the last of two equal keys silently: `lr` below was 0.1, not 0.001
    p = tmp_path / "dup.yaml"
    p.write_text(
        "name: dup\nsurface: rosenbrock\nstart: [-1.2, 1.0]\n"
        "optimizers:\n  - {name: gd, lr: 1.0e-3, lr: 0.1}\nsteps: 10\nsteps: 20\n"
    )
    with pytest.raises(ConfigError) as info:
        read_yaml(p)
    msg = str(info.value)
    assert "line 5" in msg and "duplicate key 'lr'" in msg
    # the first duplicate (in document order) is named; nested mappings are checked too
    q = tmp_path / "dup2.yaml"
    q.write_text("name: a\nsurface: {name: rosenbrock, name: booth}\nname: b\n")
    with pytest.raises(ConfigError, match=r"line 2, column \d+: duplicate key 'name'"):
        read_yaml(q)


# -- issue 14: limits of the whole config (after overrides) --------------------------------
def _grid_entry(k: int = 1000) -> dict:
    return {"name": "gd", "lr": {"grid": {"logspace": [-4, -1, k]}}}


def test_validate_states_the_work_and_memory_of_the_whole_config():
    # quickstart: 7 first-order entries x 3000 steps + Newton's 3000 steps x (1 + n = 3)
    # evaluations = 30000 run-steps; records: 8 single runs x 3001 steps x ((3n + 2 = 8)
    # floats x 8 bytes + 3 int32 evaluation counts) = 1.82 MB, plus Newton's one 2 x 2
    # Hessian (32 bytes)
    from typer.testing import CliRunner

    from optiviz.cli import app

    res = CliRunner().invoke(app, ["validate", "configs/quickstart.yaml"])
    assert res.exit_code == 0, res.output
    assert "work: 30000 run-steps, memory: 1.8 MB" in res.output
    cost = load_config("configs/quickstart.yaml").cost()
    assert cost.work == 30000 and cost.memory == 8 * 3001 * (8 * 8 + 12) + 32


def test_an_entry_repeated_through_a_yaml_alias_is_refused_by_the_whole_config_limits(tmp_path):
    # 178 bytes needed ~19 GB: 10 x (1000 runs x 40000 steps x 8 floats x 8 bytes = 2.56 GB)
    p = tmp_path / "alias.yaml"
    p.write_text(
        "name: big\nsurface: rosenbrock\nstart: [-1.2, 1.0]\nsteps: 39999\noptimizers:\n"
        "  - &e {name: gd, lr: {grid: {logspace: [-4, -1, 1000]}}}\n" + "  - *e\n" * 9
    )
    with pytest.raises(ConfigError) as info:
        load_config(p)
    text = "\n".join(info.value.errors)
    assert "optimizers[0]: the config needs about 25.7 GB of memory in all" in text
    assert "at most 1.0 GB per config" in text and "trajectories.csv would be" in text
    # one such entry alone (peaked at 5.7 GB, wrote a 2.4 GB CSV) is refused too; with
    # record: final it keeps 1000 final rows and is within every limit
    one = base(steps=39999, optimizers=[_grid_entry()])
    assert "the config needs about 2.6 GB" in "\n".join(errors_of(yaml.safe_dump(one)))
    parse(yaml.safe_dump({**one, "record": "final"}), build=False)


def test_many_entries_are_refused_by_their_total_work():
    # 600 entries x 10**7 steps = 6e9 run-steps > 5e9 (each entry alone is within it)
    many = base(steps=10**7, record="final", optimizers=[{"name": "gd", "lr": 1e-3}] * 600)
    text = "\n".join(errors_of(yaml.safe_dump(many), build=False))
    assert "optimizers[0]: the config is too much work: 6e+09 run-steps in all" in text


def test_steps_override_is_checked_against_the_limits_again():
    # --steps 10000000 on quickstart: 8 x 10**7 steps x (64 + 12) bytes = 6.1 GB of
    # records (was a 14.6 TiB allocation on a grid config, with no check after the override)
    cfg = load_config("configs/quickstart.yaml")
    with pytest.raises(
        ConfigError,
        match=r"quickstart.yaml: optimizers\[\d\]: the config needs "
        r"about 6\.1 GB",
    ):
        apply_overrides(cfg, steps=10_000_000)
    assert apply_overrides(cfg, steps=1000).steps == 1000


def test_line_search_evaluations_count_as_work():
    # max_iter: 10000 at the old run x step limit (1000 runs x 5e6 steps = 5e9) extrapolated
    # to ~36 h: each step takes up to 1 + 10000 evaluations
    entry = {
        "name": "line_search",
        "max_iter": 10000,
        "max_step": {"grid": {"linspace": [1.0, 2.0, 1000]}},
    }
    text = "\n".join(
        errors_of(yaml.safe_dump(base(steps=5_000_000, record="final", optimizers=[entry])))
    )
    assert "5e+13 run-steps in all" in text and "x 10001 evaluations per step" in text


def test_newton_hessians_count_as_memory():
    # 100 variables, 100,000 runs: one Hessian per run is 1e5 x 100 x 100 x 8 bytes = 8 GB
    names = [f"x{i}" for i in range(100)]
    surface = {"expression": " + ".join(f"{v}**2" for v in names), "variables": names}
    entry = {"name": "newton", "lr": {"grid": {"linspace": [0.1, 1.0, 100_000]}}}
    raw = base(surface=surface, start=[1.0] * 100, steps=3, record="final", optimizers=[entry])
    text = "\n".join(errors_of(yaml.safe_dump(raw), build=False))
    assert "its Hessians take 8.0 GB per step" in text


def test_a_huge_int_in_a_data_set_is_refused_not_overflow():
    # found by tests/test_fuzz_config.py: float(10**400) raised OverflowError (exit 1,
    # "internal error") while the data surface was built
    raw = yaml.safe_load(open("configs/adagrad-sparse-dense.yaml", encoding="utf-8"))
    raw["surface"]["dataset"]["points"][3][1] = HUGE
    text = "\n".join(errors_of(yaml.safe_dump(raw)))
    assert "x.yaml: surface: data set 'points': point 3, column x2: 1000" in text
    assert "is not a finite number" in text
