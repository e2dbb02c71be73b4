"""The step figure (``explain_step(...).plot()``, ``optiviz step --figure``): worked problem
A's four steps drawn with the explainer's numbers, the parts of a step summing to it, the
accumulators as bars."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from optiviz.cli import app  # noqa: E402
from optiviz.errors import OptivizError  # noqa: E402
from optiviz.explain import explain_step  # noqa: E402
from optiviz.library import load_surface  # noqa: E402
from optiviz.optimizers import make_optimizer  # noqa: E402
from optiviz.plotting.step import step  # noqa: E402
from optiviz.surface import Surface  # noqa: E402

# worked problem A (worked-problems.md): w(t-1) = (1, 1), w(t) = (1.5, 2), eta 0.3, beta 0.9
X, XP = [1.5, 2.0], [1.0, 1.0]
A = {
    "gd": ({"lr": 0.3}, "(1.625, 2.05833)"),
    "momentum": ({"lr": 0.3, "momentum": 0.9}, "(2.075, 2.95833)"),
    "nesterov": ({"lr": 0.3, "momentum": 0.9}, "(2.0525, 2.92083)"),
    "rprop": ({"variant": "lecture"}, "(2.25, 3.5)"),
}


@pytest.fixture(scope="module")
def seed():
    return load_surface("seed_quadratic")


@pytest.fixture(scope="module")
def steps(seed):
    return {
        name: explain_step(seed, make_optimizer(name, **hp), X, XP) for name, (hp, _) in A.items()
    }


@pytest.fixture(scope="module")
def four(steps):
    return step(list(steps.values()), grid=30, dpi=40)


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_worked_problem_a_four_steps_carry_the_answers_and_the_texts_numbers(four, steps):
    axes = [a for a in four.axes if a.get_legend() is not None]
    assert len(axes) == 4
    for ax, (name, e) in zip(axes, steps.items(), strict=True):
        texts = _legend_texts(ax)
        answer = A[name][1]  # the worked problem's w(t+1), 6 significant digits
        assert any(f"w(t+1) = {answer}" in t for t in texts), (name, texts)
        rendered = e.render()
        assert answer in rendered
        # every point the legend computes from (left of its last "=") is one the text
        # explanation prints; the results right of it are the parts' products (their sum
        # is the step: test_the_parts_of_a_step_sum_to_the_step)
        for t in texts:
            for point in re.findall(r"\([-0-9., e]+\)", t.rsplit("=", 1)[0]):
                assert point in rendered, (name, point, rendered)


def test_heavy_ball_is_drawn_as_its_momentum_and_gradient_parts(steps):
    e = steps["momentum"]
    mom, grad = e.optimizer.step_parts(e)
    # momentum part beta (w(t) - w(t-1)) = 0.9 (0.5, 1); gradient part -eta g(w(t)) with
    # g = (-0.416667, -0.194444) (worked problem A)
    np.testing.assert_allclose(mom.vector, [0.45, 0.9], atol=1e-12)
    np.testing.assert_allclose(grad.vector, [0.125, 0.0583333], atol=1e-6)


def test_nesterov_marks_the_look_ahead_point(four, steps):
    e = steps["nesterov"]
    parts = e.optimizer.step_parts(e)
    assert parts[0].reaches == "look-ahead = (1.95, 2.9)"
    np.testing.assert_allclose(np.asarray(e.x) + parts[0].vector, [1.95, 2.9])
    ax = [a for a in four.axes if a.get_legend() is not None][2]
    diamonds = [ln for ln in ax.lines if ln.get_marker() == "D"]
    np.testing.assert_allclose(np.ravel(diamonds[0].get_xydata()), [1.95, 2.9])


@pytest.mark.parametrize(
    "name, hp",
    [
        ("gd", {"lr": 0.1}),
        ("gd", {"lr": 0.1, "maximize": True}),
        ("momentum", {"lr": 0.05, "momentum": 0.7}),
        ("nesterov", {"lr": 0.05, "momentum": 0.7}),
        ("sgd", {"lr": 0.05, "momentum": 0.7}),
        ("sgd", {"lr": 0.05, "momentum": 0.7, "nesterov": True}),
        ("sgd", {"lr": 0.05, "momentum": 0.7, "dampening": 0.3, "weight_decay": 0.1}),
    ],
)
def test_the_parts_of_a_step_sum_to_the_step(seed, name, hp):
    # at step 3 of a run (the buffers are nonzero), the drawn parts add up to w(t+1) - w(t)
    e = explain_step(seed, make_optimizer(name, **hp), [0.2, -0.4], t=3, run_up=True)
    total = sum(np.asarray(p.vector, dtype=float) for p in e.optimizer.step_parts(e))
    np.testing.assert_allclose(total, e.new_point - e.x, rtol=1e-12, atol=1e-15)


def test_adagrad_accumulators_are_bars_of_their_values(seed):
    # AdaGrad's first step from w = (1.5, 2): s = g^2, lr factor lr / (sqrt(s) + eps) = lr/|g|
    e = explain_step(seed, make_optimizer("adagrad", lr=0.1, eps=0.0), X)
    g = np.array([-5 / 12, -7 / 36])  # grad E at (1.5, 2), worked problem A
    fig = e.plot(grid=30, dpi=40)
    bar_axes = [a for a in fig.axes if a.get_title().endswith(("[sum]", "[eff_lr]"))]
    assert [a.get_title().rsplit("[", 1)[1] for a in bar_axes] == ["sum]", "eff_lr]"]
    heights = [
        [p.get_height() for p in a.patches if isinstance(p, Rectangle) and p.get_fill()]
        for a in bar_axes
    ]
    np.testing.assert_allclose(heights[0], g**2, rtol=1e-12)
    # the sum before the step (its start s0 = 0) as outlines
    before = [p.get_height() for p in bar_axes[0].patches if not p.get_fill()]
    assert before == [0.0, 0.0]
    np.testing.assert_allclose(heights[1], 0.1 / np.abs(g), rtol=1e-12)


def test_a_one_variable_surface_is_refused():
    s = Surface.from_expression("(x - 1)**2", ["x"], window=[[-2, 2]])
    e = explain_step(s, make_optimizer("gd", lr=0.1), [0.0])
    with pytest.raises(OptivizError, match="two or more variables"):
        e.plot()


def test_cli_step_figure_writes_the_png(tmp_path):
    out = tmp_path / "step.png"
    args = ["step", "-s", "seed_quadratic", "-o", "momentum", "-p", "lr=0.3"]
    args += ["-p", "momentum=0.9", "--at=1.5,2", "--prev=1,1", "--figure", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    # v = 0.9 (w(t-1) - w(t)) / 0.3 + g = 0.9 (-1.66667, -3.33333) + (-0.416667, -0.194444)
    assert "w(t+1) = w(t) - lr * v = (1.5, 2) - 0.3 * (-1.91667, -3.19444) = (2.075, 2.95833)" in (
        res.output
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "step.gif")])
    assert bad.exit_code == 2 and "--figure" in bad.output
    assert not (tmp_path / "step.gif").exists()
