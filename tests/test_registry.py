"""The registries: a figure kind declared once (optiviz.figures) is what config validation
accepts, what the schema and the docs table list and what a run draws; the command line is
the union of its command-group modules (optiviz.cli)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

import optiviz.cli  # noqa: E402
import optiviz.figures  # noqa: E402
from optiviz.cli import app  # noqa: E402
from optiviz.config import FIGURES, SCHEMA, SURFACE_FIGURES, parse_config  # noqa: E402
from optiviz.errors import ConfigError  # noqa: E402
from optiviz.experiment import run_experiment  # noqa: E402
from optiviz.figures import (  # noqa: E402
    FigureKind,
    get,
    kinds,
    markdown_table,
    missing_needs,
    register,
    schema_line,
    stems,
    unregister,
)
from optiviz.plotting.style import DPI  # noqa: E402

SUITE_KINDS = ("performance_profile", "data_profile")
BASE = {
    "name": "small",
    "surface": "booth",
    "start": [0.0, 0.0],
    "steps": 5,
    "optimizers": [{"name": "gd", "lr": 0.05}, {"name": "adam", "lr": 0.1}],
}


def _config(**changes):
    return parse_config({**BASE, **changes}, "x.yaml")


# -- the built-in kinds -------------------------------------------------------------------------
def test_the_builtin_kinds_in_their_listing_order():
    assert tuple(FIGURES) == (
        "contour",
        "surface3d",
        "loss",
        "effective_lr",
        "lr_factor",
        "lr_sweep",
        "basins",
        "rate_map",
        "modes",
        "sharpness",
        "lr_range",
        "animation",
        "page",
        "tune_sensitivity",
        "tune_curve",
        "tune_comparison",
        "performance_profile",
        "data_profile",
    )
    assert tuple(SURFACE_FIGURES) == ("contour", "surface3d")
    assert FIGURES[:6] == ("contour", "surface3d", "loss", "effective_lr", "lr_factor", "lr_sweep")
    assert _config().figures == ("contour", "loss")  # the kinds marked default


def test_every_kind_module_registers_its_kind():
    names = []
    for m in pkgutil.iter_modules(optiviz.figures.__path__):
        if m.name == "registry" or m.name.startswith("_"):
            continue
        module = importlib.import_module(f"optiviz.figures.{m.name}")
        assert get(module.KIND.name) is module.KIND, m.name
        names.append(module.KIND.name)
    assert sorted(names) == sorted(FIGURES)


def test_the_schema_and_the_docs_table_list_every_kind():
    assert schema_line() in SCHEMA
    # the names in registry order, wrapped to the schema's width
    assert " ".join(schema_line().split()).startswith(f"figures: [{', '.join(FIGURES)}]")
    table = markdown_table().splitlines()
    assert [row.split(" | ")[0] for row in table[2:]] == [f"| `{k}`" for k in FIGURES]


def test_stems_number_the_files_of_a_kind():
    assert stems("lr_sweep", 3) == ["lr_sweep", "lr_sweep_2", "lr_sweep_3"]
    assert stems("contour", 1) == ["contour"]


@pytest.mark.parametrize(
    ("figure", "changes"),
    [
        ("surface3d", {"surface": "one_d_quadratic", "start": [1.0]}),
        ("effective_lr", {"record": "final"}),
        ("lr_sweep", {}),
    ],
)
def test_a_kind_whose_needs_are_not_met_is_refused_and_the_registry_says_why(figure, changes):
    if changes.get("surface") == "one_d_quadratic":
        changes = {"surface": {"expression": "x**2", "variables": ["x"]}, "start": [1.0]}
    config = _config(**changes)  # without the figure: valid
    unmet = [need for need in get(figure).needs if not need.met(config)]
    assert len(unmet) == 1
    with pytest.raises(ConfigError) as info:
        _config(**changes, figures=[figure])
    assert f"figures[0]: '{figure}' is not allowed" in str(info.value)


#: What the map kinds need besides a grid entry: a single run of a method with two numeric
#: hyperparameters (modes, rate_map), and the rate map's axes.
MAP_ENTRY = {"name": "momentum", "lr": 0.05, "momentum": 0.5}
MAP_OPTIONS = {
    "rate_map": {
        "entry": 1,
        "x": {"lr": {"logspace": [-2, -1, 3]}},
        "y": {"momentum": {"values": [0.0, 0.5]}},
    }
}


def test_a_config_meeting_every_need_has_none_missing():
    range_test = {"name": "exponential_range", "lr_max": 1.0, "steps": 5}
    # the tuning kinds need a tune: block, whose entries have no grids (test_tuning.py)
    untuned = tuple(k for k in FIGURES if not k.startswith("tune_") and k not in SUITE_KINDS)
    config = _config(
        optimizers=[
            {"name": "gd", "lr": {"grid": {"values": [0.01, 0.05]}}},
            MAP_ENTRY,  # modes, rate_map (entry 1)
            {"name": "gd", "lr": 0.01, "schedule": range_test},  # basins, sharpness, lr_range
        ],
        figures=[MAP_OPTIONS if k == "rate_map" else k for k in untuned],
    )
    assert config.figures == untuned
    assert missing_needs(config) == []


# -- a new kind is one registered function ------------------------------------------------------
def _toy_build(result, colors, options):
    """Two figures: each run's final loss, then each run's step count."""
    figs = []
    for values in (
        [float(r.trajectory.final_loss) for r in result.runs],
        [int(r.trajectory.n_steps) for r in result.runs],
    ):
        fig = Figure(figsize=(3, 2), dpi=50)
        fig.add_subplot().plot(values, color=colors.color_for(result.runs[0].label))
        figs.append(fig)
    return figs


@pytest.fixture
def toy():
    kind = register(FigureKind(name="toy", build=_toy_build, doc="a toy", each="quantity"))
    try:
        yield kind
    finally:
        unregister("toy")


def test_an_unregistered_kind_is_refused():
    with pytest.raises(ConfigError) as info:
        _config(figures=["toy"])
    assert "figures[0]: 'toy' is not allowed: must be one of contour, surface3d" in str(info.value)


def test_a_registered_toy_kind_is_accepted_listed_and_drawn(toy, tmp_path):
    assert "toy" in FIGURES and FIGURES[-1] == "toy"  # after the built-in kinds (order 1000)
    assert "toy" not in SURFACE_FIGURES
    assert "| `toy` | a toy | `toy.<format>`, `toy_2.<format>`, ... (one per quantity) | - |" in (
        markdown_table()
    )
    config = _config(figures=["loss", "toy"])
    assert config.figures == ("loss", "toy")
    result = run_experiment(config, out_dir=tmp_path / "out")
    written = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert written == ["loss.png", "toy.png", "toy_2.png"]
    for name in ("toy.png", "toy_2.png"):
        # the figure's 3 x 2 inches at the dpi every output figure is saved with
        assert imread(tmp_path / "out" / name).shape[:2] == (2 * DPI, 3 * DPI)
        assert name in result.files


def test_unregistering_the_toy_kind_refuses_it_again(toy):
    unregister("toy")
    try:
        assert "toy" not in FIGURES
        with pytest.raises(ConfigError):
            _config(figures=["toy"])
    finally:
        register(toy)  # the fixture unregisters it


def test_a_kind_name_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        register(FigureKind(name="contour", build=_toy_build, doc="again"))
    assert [k.name for k in kinds()].count("contour") == 1


# -- commands: one module per command group -----------------------------------------------------
def test_every_command_lives_in_a_command_group_module():
    groups = {
        m.name
        for m in pkgutil.iter_modules(optiviz.cli.__path__)
        if not m.name.startswith("_") and m.name not in ("app", "progress")
    }
    assert set(optiviz.cli.GROUPS) <= groups
    owners = {c.callback.__module__ for c in app.registered_commands}
    assert owners == {f"optiviz.cli.{g}" for g in groups}  # each group adds a command
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert names[:3] == ["run", "validate", "init"]  # GROUPS order: `optiviz --help` order


def test_the_console_script_and_python_dash_m_use_the_same_main():
    import optiviz.__main__ as dunder_main

    assert dunder_main.main is optiviz.cli.main
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'optiviz = "optiviz.cli:main"' in text


def test_config_validation_refuses_a_kind_by_the_registry_s_own_need():
    # The config has no hand-written rule for a new kind: it asks the registry's needs, and
    # the refusal says what the need says.
    from optiviz.figures import FigureKind, Need

    three = Need(
        "a surface of three or more variables",
        lambda config: len(config.variables) >= 3,
        lambda kind, config: (
            f": {kind} needs three variables, the surface has {len(config.variables)}"
        ),
    )
    register(FigureKind(name="toy3", build=_toy_build, doc="toy", needs=(three,)))
    try:
        with pytest.raises(
            ConfigError,
            match=r"figures\[0\]: 'toy3' is not allowed: toy3 "
            "needs three variables, the surface has 2",
        ):
            _config(figures=["toy3"])
    finally:
        unregister("toy3")


# -- options: declared once on the kind, checked by the config, given to the builder -------------
def _options_build(result, colors, options):
    """One figure whose size is the ``width`` option (so the saved image shows it was used)."""
    _options_build.seen = dict(options)
    fig = Figure(figsize=(options["width"], 2), dpi=50)
    fig.add_subplot().plot([float(r.trajectory.final_loss) for r in result.runs])
    return [fig]


@pytest.fixture
def with_options():
    from optiviz._validation import Choice, Interval
    from optiviz.figures import Option

    kind = register(
        FigureKind(
            name="toyopt",
            build=_options_build,
            doc="a toy with options",
            options=(
                Option("width", Interval("float", 1.0, 10.0), 3.0, "width in inches"),
                Option("scale", Choice(("linear", "log")), "log", "the y scale"),
            ),
        )
    )
    register(FigureKind(name="toyplain", build=_toy_build, doc="a toy without options"))
    try:
        yield kind
    finally:
        unregister("toyopt")
        unregister("toyplain")


def test_figure_options_reach_the_builder_with_defaults_filled(with_options, tmp_path):
    config = _config(figures=["loss", {"toyopt": {"width": 4}}])
    assert config.figures == ("loss", "toyopt")
    assert config.figure_options == {"toyopt": {"width": 4.0}}  # Interval float: 4 -> 4.0
    # defaults filled, the common options (title, size, dpi: decided by the figure) too
    filled = {"width": 4.0, "scale": "log", "title": None, "size": None, "dpi": None}
    assert config.options_of("toyopt") == filled
    run_experiment(config, out_dir=tmp_path / "out")
    assert _options_build.seen == filled
    # 4 x 2 inches at the saved dpi: the option, not the default 3 inches, made the figure
    assert imread(tmp_path / "out" / "toyopt.png").shape[:2] == (2 * DPI, 4 * DPI)
    # the resolved config.yaml writes the options back and reads as the same config
    again = parse_config(config.to_dict(), "<again>")
    assert again.figures == config.figures and again.figure_options == config.figure_options


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"toyopt": {"width": 20}},
            "figures[0].toyopt.width: 20 is not allowed: must be a float in the range [1, 10]",
        ),
        ({"toyopt": {"scale": "symlog"}}, "figures[0].toyopt.scale: 'symlog' is not allowed"),
        ({"toyopt": {"widht": 2}}, "figures[0].toyopt.widht"),
        ({"toyopt": [1, 2]}, "figures[0].toyopt: [1, 2] is not allowed: must be a mapping"),
        (  # a kind declaring no options has the common ones only (title, size, dpi)
            {"toyplain": {"width": 2}},
            "figures[0].toyplain.width: unknown key 'width'; allowed keys: title, size, dpi",
        ),
        ({"toyopt": {}, "loss": {}}, "figures[0]"),
    ],
)
def test_bad_figure_options_are_refused_naming_the_option(with_options, item, message):
    with pytest.raises(ConfigError) as info:
        _config(figures=[item])
    assert message in str(info.value)


def test_a_kind_listed_twice_must_carry_the_same_options(with_options):
    same = _config(figures=[{"toyopt": {"width": 2}}, {"toyopt": {"width": 2}}])
    assert same.figures == ("toyopt",)
    with pytest.raises(ConfigError, match=r"figures\[1\].*'toyopt' is listed twice"):
        _config(figures=[{"toyopt": {"width": 2}}, {"toyopt": {"width": 3}}])


def test_the_docs_table_lists_every_option_with_its_allowed_values(with_options):
    from optiviz.figures import options_table

    table = options_table()
    assert (
        "| `toyopt` | `width` | a float in the range [1, 10] | `3.0` | width in inches |" in table
    )
    assert "every kind: title, size, dpi; more for: " in schema_line()
    assert "toyopt" in schema_line().split("more for:")[1]


def test_overriding_figures_keeps_the_options_of_the_kinds_kept(with_options):
    from optiviz.config import apply_overrides

    config = _config(figures=["loss", {"toyopt": {"width": 2}}])
    assert apply_overrides(config, figures=["toyopt"]).figure_options == {"toyopt": {"width": 2.0}}
    assert apply_overrides(config, figures=["loss"]).figure_options == {}


def _data_build(result, colors, options):
    """One figure and the numbers it shows as a CSV beside it."""
    from optiviz.figures import Drawn

    losses = [float(r.trajectory.final_loss) for r in result.runs]
    fig = Figure(figsize=(3, 2), dpi=50)
    fig.add_subplot().plot(losses)
    return Drawn([fig], {"toydata.csv": "final_loss\n" + "".join(f"{v!r}\n" for v in losses)})


def test_a_kind_s_data_files_are_written_beside_its_image_and_listed(tmp_path):
    import json

    register(FigureKind(name="toydata", build=_data_build, doc="a toy writing data"))
    try:
        config = _config(figures=["toydata"])
        result = run_experiment(config, out_dir=tmp_path / "out")
    finally:
        unregister("toydata")
    out = tmp_path / "out"
    rows = (out / "toydata.csv").read_text().splitlines()
    # one row per run, the value the trajectory holds (repr round-trips a float exactly)
    assert rows[0] == "final_loss"
    assert [float(v) for v in rows[1:]] == [float(r.trajectory.final_loss) for r in result.runs]
    assert "toydata.csv" in json.loads((out / "run.json").read_text())["files"]


def test_a_data_file_must_carry_its_kind_s_name():
    from optiviz.figures import Drawn, draw

    def bad(result, colors, options):
        return Drawn([], {"report.md": "overwritten"})

    register(FigureKind(name="toybad", build=bad, doc="a toy writing a foreign file"))
    try:
        with pytest.raises(ValueError, match="'toybad' wrote a data file named 'report.md'"):
            draw("toybad", None, None)
    finally:
        unregister("toybad")
