"""``optiviz report`` and ``optiviz step`` (issue 9, "Command line"): expressions, matrix
parameters, one meaning of -p, histories (--prev) and later steps (--t); ``optiviz list``
with no argument, ``optiviz`` alone and shell completion."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from optiviz.cli import app, parse_value
from optiviz.cli.app import expression_names, parse_nested
from optiviz.explain import explain_step, uses_history
from optiviz.library import load_surface
from optiviz.optimizers import available, get_class, make_optimizer

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args) -> str:
    r = invoke(*args)
    assert r.exit_code == 0, r.stderr + r.output
    return r.output


def refused(*args) -> str:
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output + r.stderr
    return r.stderr


# -- values ------------------------------------------------------------------------------------
def test_matrix_values_are_parsed_without_eval():
    assert parse_value("[[4,1],[1,2]]") == [[4, 1], [1, 2]]
    assert parse_value("[[4, 1], [1, 2.5e-1]]") == [[4, 1], [1, 0.25]]
    assert parse_value("[0.9, 0.999]") == (0.9, 0.999)  # flat lists stay pairs, as before
    # not a matrix of finite numbers: left as text, for the surface to refuse with its message
    for text in ("[[4,1],[1,2]", "[[1,x]]", "[[1,inf]]", "[[__import__('os')]]", "[[[[1]]]]"):
        assert parse_value(text) == text
    assert parse_nested("[[1]]" + "]") is None


def test_expression_names_are_read_by_the_tokenizer():
    assert expression_names("x**4 - 3*x**2 + y**2 + x*y") == ["x", "y"]
    assert expression_names("w10*w2 + exp(w1) + pi") == ["w1", "w2", "w10"]  # natural order
    assert expression_names("sin(x) + Max(0, y) + E") == ["x", "y"]


# -- report --------------------------------------------------------------------------------------
def test_report_takes_an_expression():
    # issue 9's example. grad = (4x^3 - 6x + y, 2y + x) = 0: y = -x/2, 4x^3 = 6.5x, so the
    # minima are x = +-sqrt(13/8) = +-1.27475, y = -+0.637377, f = x^4 - 3.25x^2 = -2.64063,
    # and (0, 0) is a saddle (Hessian [[-6, 1], [1, 2]], det -13 < 0)
    out = ok("report", "x**4 - 3*x**2 + y**2 + x*y")
    assert "(-1.27475, 0.637377)  -2.64063  minimum" in out
    assert "(1.27475, -0.637377)  -2.64063  minimum" in out
    assert "(0, 0)                0         saddle" in out
    md = ok("report", "x**4 - 3*x**2 + y**2 + x*y", "-f", "md")
    assert "# Analysis of `expression`" in md


def test_report_takes_a_matrix_parameter():
    # quadratic 1/2 w^T A w with A = [[4, 1], [1, 2]]: eigenvalues 3 -+ sqrt(2)
    out = ok("report", "quadratic", "-p", "A=[[4,1],[1,2]]")
    assert f"({3 - math.sqrt(2):.6g}, {3 + math.sqrt(2):.6g})" in out  # (1.58579, 4.41421)


def test_report_expression_parameters_come_from_p():
    # a*x^2 + y^2 with a = 3: Hessian diag(6, 2), minimum 0 at the origin
    out = ok("report", "a*x**2 + y**2", "-p", "a=3")
    assert "(0, 0)  0      minimum  (2, 6)" in out
    assert "not allowed: the expression does not use it" in refused(
        "report", "x**2 + y**2", "-p", "a=3"
    )


def test_report_vars_orders_the_variables():
    # f = x^2 + 3y^2 with the variables (y, x): at (y, x) = (1, 0) the gradient is (6, 0)
    out = ok("report", "x**2 + 3*y**2", "--vars", "y,x", "--at", "1,0", "-f", "json")
    assert '"variables": [\n      "y",\n      "x"\n    ]' in out
    assert '"gradient": [\n      6.0,\n      0.0\n    ]' in out
    assert "only an expression takes its variables" in refused(
        "report", "rosenbrock", "--vars", "x,y"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["x**2 + import"], "invalid syntax at column 8 near 'import'"),
        (["2 + 3"], "the expression has no variables"),
        (["a*b", "-p", "a=1", "-p", "b=2"], "the expression has no variables"),
        (["__import__('os').system('true')"], "'__import__' is not a valid name"),
    ],
)
def test_report_refuses_bad_expressions(args, message):
    assert message in refused("report", *args)


# -- -p means the same in every command ---------------------------------------------------------
def test_p_sets_a_surface_parameter_in_report_and_in_step():
    # rosenbrock (a - x)^2 + b (y - x^2)^2 with b = 10. At the minimum (1, 1) the Hessian is
    # [[2 + 8b, -4b], [-4b, 2b]] = [[82, -40], [-40, 20]]: eigenvalues 51 -+ sqrt(2561)
    lo, hi = 51 - math.sqrt(2561), 51 + math.sqrt(2561)
    assert f"({lo:.6g}, {hi:.6g})" in ok("report", "rosenbrock", "-p", "b=10")
    # at (1, 0): grad = (-2(a - x) - 4bx(y - x^2), 2b(y - x^2)) = (40, -20); lr = 0.001
    out = ok("step", "-s", "rosenbrock", "-o", "gd", "-p", "lr=0.001", "-p", "b=10", "--at=1,0")
    assert "= (1, 0) - 0.001 * (40, -20) = (0.96, 0.02)" in out


def test_step_takes_an_expression_and_a_matrix():
    # gd on 1/2 w^T A w: g = A w = (5, 3) at (1, 1); w - 0.1 g = (0.5, 0.7)
    out = ok(
        "step", "-s", "quadratic", "-o", "gd", "-p", "lr=0.1", "-p", "A=[[4,1],[1,2]]", "--at=1,1"
    )
    assert "(1, 1) - 0.1 * (5, 3) = (0.5, 0.7)" in out
    out = ok("step", "-s", "a*x**2 + y**2", "-o", "gd", "-p", "a=3", "-p", "lr=0.1", "--at=1,1")
    assert "(1, 1) - 0.1 * (6, 2) = (0.4, 0.8)" in out


def test_a_name_of_both_needs_the_explicit_option():
    # armijo's c (sufficient decrease) and quadratic's c (the constant term) share a name
    msg = refused("step", "-s", "quadratic", "-o", "armijo", "-p", "c=0.1", "--at=1,1")
    assert "'c' is both a hyperparameter of armijo and a parameter of the surface" in msg
    # f = 1/2 w^T w + c at (1, 1) with c = 5: 1 + 5
    out = ok(
        "step", "-s", "quadratic", "-o", "armijo", "--set", "c=0.1", "--surface-param", "c=5",
        "--at=1,1",
    )  # fmt: skip
    assert "f(w(t)) = 6" in out and "armijo (lr=1, c=0.1)" in out


def test_an_unknown_name_is_refused_naming_both_sets():
    msg = refused("step", "-s", "seed_quadratic", "-o", "gd", "-p", "lrr=0.1", "--at=1,1")
    assert "gd does not take the hyperparameter 'lrr' (did you mean 'lr'?)" in msg
    assert "nor is 'lrr' a parameter of the surface 'seed_quadratic' (its parameters: none)" in msg
    msg = refused("step", "-s", "x**2 + y**2", "-o", "gd", "-p", "momentum=0.9", "--at=1,1")
    assert "nor is 'momentum' used by the expression (its names: x, y)" in msg


# -- --prev: every optimizer with a history -----------------------------------------------------
W_PREV, W_T = [1.0, 1.0], [1.5, 2.0]


def _grad_a(w):
    """Worked problem A's gradient, by hand: E = 0.05 + (w1-3)^2/4 + (w2-4)^2/9 -
    (w1-3)(w2-4)/6."""
    a, b = w[0] - 3, w[1] - 4
    return np.array([a / 2 - b / 6, 2 * b / 9 - a / 6])


@pytest.mark.parametrize(
    "args, expected",
    [
        # worked problem A: heavy ball w + mu (w - w_prev) - lr g
        (["-o", "momentum", "-p", "lr=0.3", "-p", "momentum=0.9"], "(2.075, 2.95833)"),
        (["-o", "sgd", "-p", "lr=0.3", "-p", "momentum=0.9"], "(2.075, 2.95833)"),
        # worked problem A: Nesterov's look-ahead (1.95, 2.9)
        (["-o", "nesterov", "-p", "lr=0.3", "-p", "momentum=0.9"], "(2.0525, 2.92083)"),
        # torch's Nesterov form with b0 = (w_prev - w)/lr: w - lr (1 + mu) g + mu^2 (w - w_prev)
        (
            ["-o", "sgd", "-p", "lr=0.3", "-p", "momentum=0.9", "-p", "nesterov=true"],
            "(2.1425, 2.92083)",
        ),
        # worked problem A: the lecture Rprop rule, no sign change -> w + 1.5 (w - w_prev)
        (["-o", "rprop", "-p", "variant=lecture", "-p", "etas=0.6,1.5"], "(2.25, 3.5)"),
    ],
)
def test_prev_is_honoured_by_every_method_with_a_history(args, expected):
    out = ok("step", "-s", "seed_quadratic", *args, "--at=1.5,2", "--prev=1,1")
    assert "w(t-1) = (1, 1)\n" in out and expected in out


def test_the_methods_with_a_history_are_the_momentum_methods_and_lecture_rprop():
    s = load_surface("seed_quadratic")
    uses = set()
    for name in available():
        for hp in ({}, {"momentum": 0.9}, {"variant": "lecture"}):
            if set(hp) <= set(get_class(name).params):
                if uses_history(s, make_optimizer(name, **hp), W_T, W_PREV):
                    uses.add((name, *hp))
    assert uses == {
        ("momentum",),
        ("momentum", "momentum"),
        ("nesterov",),
        ("nesterov", "momentum"),
        ("sgd", "momentum"),
        ("rprop", "variant"),
    }


#: With their defaults, momentum and nesterov keep a history (momentum = 0.9); the others not
NO_HISTORY = [n for n in available() if n not in ("momentum", "nesterov")]


@pytest.mark.parametrize("name", NO_HISTORY)
def test_prev_for_a_method_without_history_is_marked_unused(name):
    assert not uses_history(load_surface("seed_quadratic"), make_optimizer(name), W_T, W_PREV)
    out = ok("step", "-s", "seed_quadratic", "-o", name, "--at=1.5,2", "--prev=1,1")
    assert f"w(t-1) = (1, 1)  (not used: {name} keeps no history" in out
    # the step is the one taken without the history
    base = ok("step", "-s", "seed_quadratic", "-o", name, "--at=1.5,2")
    assert out.replace(out.splitlines()[2] + "\n", "") == base


# -- --t N ---------------------------------------------------------------------------------------
def test_t_gives_adams_lr_factor_at_step_2_worked_problem_e():
    # worked problem E: gradient 1 at step 1, 0 at step 2, eta = 1, beta2 = 0.999:
    # v2 = 0.999 * 0.001 = 0.000999, v_hat2 = 0.000999 / (1 - 0.999^2) = 0.49975,
    # eta / sqrt(v_hat2) = 1.414567. (x + 1)^2/2 has gradient 1 at x = 0 and the first step
    # (of size eta, eps = 0) lands on its minimum x = -1.
    out = ok("step", "-s", "(x + 1)**2/2", "-o", "adam", "-p", "lr=1", "-p", "eps=0", "--at=0",
             "--t", "2")  # fmt: skip
    assert "one step at t = 2" in out and "(a run from w(1) = 0: step 1 was taken first)" in out
    assert "w(t)   = -1\n" in out and "[g] = 1 -> 0" in out
    assert "lr factor η_eff [eff_lr] = 1 -> 1.41457" in out
    # the number to 7 digits, through the same path (explain_step with run_up)
    s = load_surface_from_cli("(x + 1)**2/2")
    e = explain_step(s, make_optimizer("adam", lr=1.0, eps=0.0), [0.0], t=2, run_up=True)
    assert float(np.ravel(e.lr_factor)[0]) == pytest.approx(
        1 / math.sqrt(0.000999 / 0.001999), abs=5e-7
    )
    assert float(np.ravel(e.lr_factor)[0]) == pytest.approx(1.414567, abs=5e-7)


def load_surface_from_cli(text):
    from optiviz.cli.app import load_surface_arg

    return load_surface_arg(text)[0]


def test_t_with_adamax_lecture_on_the_worked_problem_config():
    # worked problem E: AdaMax's eta / u, u = max(beta2 u, |g|): 1, then 1/0.999 = 1.001001
    cfg = CONFIGS / "worked-e2-adam-adamax-effective-lr.yaml"
    out = ok("step", "-s", cfg, "-o", "adamax", "-p", "variant=lecture", "-p", "eps=0",
             "-p", "lr=1", "--at=0", "--t=2")  # fmt: skip
    assert "[eff_lr] = 1 -> 1.001\n" in out  # 1.001001 to 6 digits


def test_t_runs_the_earlier_steps_from_the_history():
    # heavy ball from w(0) = w(1) = (1, 1): w(k+1) = w(k) - lr g(w(k)) + mu (w(k) - w(k-1))
    w_prev, w = np.array([1.0, 1.0]), np.array([1.0, 1.0])
    for _ in range(3):
        w_prev, w = w, w - 0.3 * _grad_a(w) + 0.9 * (w - w_prev)
    out = ok("step", "-s", "seed_quadratic", "-o", "momentum", "-p", "lr=0.3",
             "-p", "momentum=0.9", "--at=1,1", "--prev=1,1", "--t", "3")  # fmt: skip
    assert "with the history w(0) = (1, 1): steps 1 to 2 were taken first" in out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("  w(t+1) = w(t) - lr * v")]
    assert line.endswith(f" = ({w[0]:.6g}, {w[1]:.6g})")
    assert ok("step", "-s", "seed_quadratic", "-o", "gd", "--at=1,1", "--t", "1") == ok(
        "step", "-s", "seed_quadratic", "-o", "gd", "--at=1,1"
    )


@pytest.mark.parametrize("t", ["0", "-1", "10001"])
def test_t_out_of_range_is_refused(t):
    msg = refused("step", "-s", "seed_quadratic", "-o", "gd", "--at=1,1", "--t", t)
    assert f"--t: {t} is not allowed: must be a step number in [1, 10000]" in msg


# -- list, bare optiviz, completion ---------------------------------------------------------------
def test_list_with_no_argument_lists_everything():
    out = ok("list")  # issue 9: "Missing argument" and exit 2
    lines = out.splitlines()
    assert lines[0] == "optimizers:" and "surfaces:" in lines and "schedules:" in lines
    for kind in ("optimizers", "surfaces", "schedules"):
        section = ok("list", kind).splitlines()
        assert all(f"  {line}" in lines for line in section)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "optiviz", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
        timeout=120,
    )


def test_bare_optiviz_prints_help_with_exit_0():
    r = _cli()
    assert r.returncode == 0 and r.stdout.startswith("Usage: optiviz")


def test_shell_completion_script_and_install(tmp_path):
    # typer's own switch for tests: the shell is the one named, not the one detected from
    # the process tree (detection failed under pytest-xdist on a loaded machine, and then
    # "bash" was ignored)
    named = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    r = _cli("--show-completion", "bash", env=named)
    assert r.returncode == 0 and "_OPTIVIZ_COMPLETE=complete_bash" in r.stdout
    # the completion the script asks for completes command names
    r = _cli(env={"_OPTIVIZ_COMPLETE": "complete_bash", "COMP_WORDS": "optiviz li",
                  "COMP_CWORD": "1"})  # fmt: skip
    assert r.returncode == 0 and r.stdout.split() == ["list"]
    # --install-completion writes the script and sources it from ~/.bashrc
    r = _cli("--install-completion", "bash", env={"HOME": str(tmp_path), **named})
    assert r.returncode == 0, r.stderr
    assert "_OPTIVIZ_COMPLETE" in (tmp_path / ".bash_completions" / "optiviz.sh").read_text()
    assert "optiviz.sh" in (tmp_path / ".bashrc").read_text()
