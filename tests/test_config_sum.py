"""A config surface written as a sum over an index: ``{expression: "sum(...)", n: N}``.

The built surface is checked against hand formulas (the n-D Rosenbrock function and its
gradient written out in numpy here, not the code's output); bad input is refused at
validation with the field, the value and what is allowed, exit code 2 from the CLI.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from optiviz.cli import app
from optiviz.config import parse_config
from optiviz.errors import ConfigError
from optiviz.structured import SumSurface

ROSEN = "sum(b*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2, i, 1, n-1)"


def _config(surface: dict, n: int = 12) -> dict:
    return {
        "name": "t",
        "surface": surface,
        "start": [0.5] * n,
        "steps": 3,
        "optimizers": [{"name": "gd", "lr": 1e-3}],
        "figures": [],
    }


def _errors(surface: dict, n: int = 12) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(_config(surface, n), "x.yaml")
    return info.value.errors


def test_a_sum_expression_with_n_builds_the_structured_surface():
    cfg = parse_config(
        _config({"expression": ROSEN, "n": 12, "parameters": {"b": 100}, "window": [-2, 2]}),
        "x.yaml",
    )
    s = cfg.build_surface()
    assert isinstance(s, SumSurface) and s.n == 12
    assert s.variables == tuple(f"x{i}" for i in range(1, 13))
    assert np.array_equal(s.window, np.tile([-2.0, 2.0], (12, 1)))
    x = np.linspace(-1.0, 1.5, 12)
    f = np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)  # by hand
    g = np.zeros(12)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    F, G = s.value_and_grad(x)
    assert F == pytest.approx(f, rel=1e-14)
    np.testing.assert_allclose(G, g, rtol=1e-13, atol=1e-14 * np.abs(g).max())  # cancellation
    # the resolved config writes n, not variables, and parses again to the same spec
    again = cfg.surface.to_dict()
    assert again["n"] == 12 and "variables" not in again
    assert parse_config(_config(again), "x.yaml").surface == cfg.surface


@pytest.mark.parametrize(
    "surface,where,says",
    [
        ({"expression": ROSEN, "parameters": {"b": 1}}, "surface.n", "is required"),
        ({"expression": ROSEN, "n": 0, "parameters": {"b": 1}}, "surface.n", "an int from 1"),
        ({"expression": ROSEN, "n": 2.5, "parameters": {"b": 1}}, "surface.n", "2.5"),
        ({"expression": ROSEN, "n": "12", "parameters": {"b": 1}}, "surface.n", "'12'"),
        ({"expression": ROSEN, "n": True}, "surface.n", "an int from 1"),
        (
            {"expression": ROSEN, "n": 12, "variables": ["a"], "parameters": {"b": 1}},
            "surface.variables",
            "not allowed with 'n'",
        ),
        (
            {"expression": ROSEN, "n": 12, "transform": {"rotate": 30}, "parameters": {"b": 1}},
            "surface.transform",
            "not allowed with 'n'",
        ),
        ({"expression": "sum(x[i]**2, n, 1, n)", "n": 12}, "surface.expression", "index 'n'"),
        ({"expression": "sum(x[i]**2, 3, 1, n)", "n": 12}, "surface.expression", "new name"),
        (
            {"expression": "sum(x[i+1]**2, i, 1, n)", "n": 12},
            "surface.expression",
            "x[2] .. x[13]",
        ),
        ({"expression": "sum(x[i]**2, i, 0, n)", "n": 12}, "surface.expression", "x[0]"),
        ({"expression": "sum(foo(x[i]), i, 1, n)", "n": 12}, "surface.expression", "'foo'"),
        (
            {"expression": "sum(x[i]**2, i, 1, n)", "n": 12, "window": [2, 1]},
            "surface.window",
            "low < high",
        ),  # fmt: skip
        (
            {"expression": "sum(x[i]**2, i, 1, n)", "n": 12, "window": [[0, 1]] * 3},
            "surface.window",
            "",
        ),  # fmt: skip
    ],
)
def test_bad_sum_surfaces_are_refused_naming_the_field(surface, where, says):
    errors = _errors(surface)
    assert any(f": {where}: " in e and says in e for e in errors), errors


def test_the_cli_exits_2_before_any_run(tmp_path):
    bad = _config({"expression": "sum(x[i+1]**2, i, 1, n)", "n": 12})
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(bad))
    runner = CliRunner()
    for command in ("validate", "run"):
        args = [command, str(p)] + (["-o", str(tmp_path / "out")] if command == "run" else [])
        r = runner.invoke(app, args)
        assert r.exit_code == 2, r.output
        assert "surface.expression" in r.stderr and "x[2] .. x[13]" in r.stderr
    assert not (tmp_path / "out").exists()
