"""optiviz in Jupyter: inline figures without pyplot, Markdown reprs, lazy submodules, the
config one-liner; and docs/notebook.ipynb executed in a real kernel (nbclient + ipykernel)."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

import optiviz
from optiviz import plotting
from optiviz.analysis import analyze
from optiviz.analysis.basins import basins
from optiviz.analysis.edge import edge_of_stability
from optiviz.analysis.lr_range import lr_range_test
from optiviz.analysis.maps import Axis, rate_map
from optiviz.analysis.modes import modes
from optiviz.engine import run
from optiviz.explain import explain_step
from optiviz.library import load_surface
from optiviz.optimizers import make_optimizer

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "notebook.ipynb"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR), read independently of matplotlib."""
    assert data[:8] == PNG_MAGIC
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture(scope="module")
def seed():
    return load_surface("seed_quadratic")


@pytest.fixture(scope="module")
def traj(seed):
    return run(seed, make_optimizer("gd", lr=0.3), [1.5, 2.0], 5)


# -- figures display inline --------------------------------------------------------------------
def _entry_points(seed, traj):
    """Every public plotting function of optiviz.plotting, called with what it draws."""
    return {
        "contour": lambda: plotting.contour(seed, [traj]),
        "surface3d": lambda: plotting.surface3d(seed, [traj]),
        "loss": lambda: plotting.loss([traj]),
        "effective_lr": lambda: plotting.effective_lr([traj]),
        "lr_sweep": lambda: plotting.lr_sweep([0.1, 0.3, 1.0], [0.2, 0.1, 0.05]),
        # seed_quadratic's Hessian is constant: lambda_max = 0.578062 along the whole path
        "sharpness": lambda: plotting.sharpness(traj, 0.3, np.full(len(traj.points), 0.578062)),
        "sharpness_panels": lambda: plotting.sharpness_panels(
            [("gd", traj.losses, edge_of_stability(traj, seed))]
        ),
        "basins": lambda: plotting.basins(
            [
                basins(
                    seed, make_optimizer("gd", lr=0.3), minima=_minima(seed), steps=20, resolution=8
                )
            ],
            ["gd"],
        ),
        "lr_range": lambda: plotting.lr_range(
            [("gd", lr_range_test(np.geomspace(1e-3, 10, 30), _range_run(seed).losses))]
        ),
        "rate_map": lambda: plotting.rate_map(
            rate_map(
                seed,
                "momentum",
                Axis("lr", np.geomspace(0.1, 1, 4), True),
                Axis("momentum", np.linspace(0, 0.9, 3), False),
                [1.5, 2.0],
                20,
            )
        ),
        # two problems, two solvers: (1, 2) and (3, failed)
        "performance_profile": lambda: plotting.performance_profile(
            np.array([[1.0, 2.0], [3.0, np.inf]]), ["a", "b"]
        ),
        "data_profile": lambda: plotting.data_profile(
            np.array([[1.0, 2.0], [3.0, np.inf]]), [2, 2], ["a", "b"], alpha_max=2.0
        ),
        "step": lambda: plotting.step(
            explain_step(seed, make_optimizer("momentum", lr=0.3), [1.5, 2.0], [1.0, 1.0]),
            grid=30,
        ),
        "modes": lambda: plotting.modes(
            [("gd", modes(traj.points, analyze(seed).minimum, make_optimizer("gd", lr=0.3)))]
        ),
        "tune_sensitivity": lambda: plotting.tune_sensitivity(_tuning(seed)),
        "tune_curve": lambda: plotting.tune_curve(_tuning(seed)),
        "tune_comparison": lambda: plotting.tune_comparison([traj], _tuning(seed)),
    }


def _tuning(surface):
    from optiviz.tuning import tune

    return tune(surface, ["gd"], {"budget": 4}, start=[1.5, 2.0], steps=5)


def _minima(surface):
    a = analyze(surface)
    return [(i, p.point) for i, p in enumerate(a.stationary_points, 1) if p.kind == "minimum"]


def _range_run(surface):
    from optiviz.schedules import make_schedule

    sched = make_schedule("exponential_range", lr_max=10.0, steps=30, lr_min=1e-3)
    return run(surface, make_optimizer("gd", lr=1e-3), [1.5, 2.0], 30, schedule=sched)


def test_every_plotting_entry_point_is_covered():
    from optiviz.plotting import __all__ as names

    drawing = {n for n in names if n[0].islower() and n not in ("save_figure", "formula_title")}
    drawing -= {"var_label"}
    assert drawing == set(_entry_points(None, None))


@pytest.mark.parametrize("name", sorted(_entry_points(None, None)))
def test_returned_figures_display_as_png(seed, traj, name):
    # Today's defect: a bare matplotlib Figure has no _repr_png_, so IPython shows only
    # "<Figure size 1050x825 with 1 Axes>" unless pyplot's inline backend registered one.
    fig = _entry_points(seed, traj)[name]()
    assert isinstance(fig, Figure)
    data = fig._repr_png_()
    # the image has the figure's pixel size: inches times dpi
    w, h = fig.get_size_inches() * fig.dpi
    assert _png_size(data) == (round(w), round(h))


def test_the_displayed_png_is_the_saved_png(seed, traj, tmp_path):
    # two figures drawn alike, one shown and one saved: the same bytes (a figure's second
    # draw may differ from its first in a few anti-aliased pixels, so each is drawn once)
    shown = plotting.contour(seed, [traj])._repr_png_()
    (path,) = plotting.save_figure(plotting.contour(seed, [traj]), tmp_path / "c", ["png"])
    assert shown == path.read_bytes()


def test_ipython_formats_a_figure_as_png_without_pyplot(seed, traj):
    from IPython.core.formatters import DisplayFormatter

    fig = plotting.contour(seed, [traj])
    data, _ = DisplayFormatter().format(fig)
    assert "image/png" in data and data["image/png"][:8] == PNG_MAGIC


def test_a_figure_given_by_the_caller_is_left_as_it_is(seed, traj):
    fig = Figure()
    ax = fig.add_subplot()
    assert plotting.contour(seed, [traj], ax=ax) is fig


# -- rich reprs -------------------------------------------------------------------------------
def test_analysis_markdown_is_the_report(seed):
    a = analyze(seed)
    md = a._repr_markdown_()
    assert md == optiviz.report.to_markdown(a)
    # worked problem A: the minimizer (3, 4), f* = 0.05, 1/lambda_max = 1/0.578062 = 1.72992
    assert "| 1 | (3, 4) | 0.05 | minimum |" in md
    assert "1.72992" in md and "## Learning rates at the minima" in md


def test_trajectory_markdown_names_optimizer_hyperparameters_status_and_final_point(seed):
    tr = run(seed, make_optimizer("gd", lr=0.3), [1.5, 2.0], 1)
    md = tr._repr_markdown_()
    assert "**`gd (lr=0.3)`** on `seed_quadratic`" in md
    assert "| hyperparameters | lr = 0.3, maximize = false |" in md
    assert "| status | max_steps |" in md and "| steps | 1 of 1 |" in md
    # worked problem A: one GD step from (1.5, 2) lands on (1.625, 2.058333)
    assert "| final point (w1, w2) | (1.625, 2.05833) |" in md
    # f(1.625, 2.058333) = 0.05 + 1.375^2/4 + 1.941667^2/9 - 1.375*1.941667/6 = 0.496588
    assert "| final loss | 0.496588 |" in md


def test_batched_trajectory_markdown_has_a_row_per_run(seed):
    tr = run(seed, make_optimizer("gd", lr=np.array([0.3, 100.0])), [1.5, 2.0], 50)
    md = tr._repr_markdown_()
    assert "2 runs of up to 50 steps" in md
    rows = [ln for ln in md.splitlines() if ln.startswith("| 0 |") or ln.startswith("| 1 |")]
    assert len(rows) == 2
    assert "| gd (lr=0.3) | max_steps | 50 |" in rows[0]
    # lr = 100 > 2/lambda_max = 3.46: GD diverges
    assert "| gd (lr=100) | diverged |" in rows[1]


def test_step_markdown_is_its_text(seed):
    e = explain_step(seed, make_optimizer("momentum", lr=0.3, momentum=0.9), [1.5, 2], [1, 1])
    md = e._repr_markdown_()
    assert md == "```text\n" + e.render() + "\n```"
    assert "(2.075, 2.95833)" in md  # worked problem A, heavy ball


# -- lazy submodules and the one-liner --------------------------------------------------------
def _fresh(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_submodules_need_no_import():
    # Today's defect (issue 9): optiviz.report.to_markdown raised AttributeError unless
    # optiviz.report had been imported; optiviz.plotting still did.
    out = _fresh(
        "import sys, optiviz\n"
        "print(sorted(m for m in ('numpy', 'sympy', 'matplotlib') if m in sys.modules))\n"
        "print('optiviz.plotting' in sys.modules, 'optiviz.report' in sys.modules)\n"
        "s = optiviz.load_surface('seed_quadratic')\n"
        "print(optiviz.report.to_markdown(optiviz.analyze(s)).splitlines()[0])\n"
        "print(type(optiviz.plotting.contour).__name__, optiviz.experiment.run_config.__name__)\n"
    )
    assert out.splitlines() == [
        "[]",  # import optiviz stays light
        "False False",
        "# Analysis of `seed_quadratic`",
        "function run_config",
    ]


def test_every_public_module_is_an_attribute():
    import pkgutil

    found = {m.name for m in pkgutil.iter_modules(optiviz.__path__) if not m.name.startswith("_")}
    assert set(optiviz._SUBMODULES) == found
    assert found <= set(dir(optiviz))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        optiviz.nope  # noqa: B018


def test_run_config_returns_the_result_and_writes_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = ROOT / "configs" / "worked-a-correlated-quadratic.yaml"
    result = optiviz.run_config(cfg)
    assert result.files == {} and result.out_dir is None
    assert not (tmp_path / "outputs").exists()
    steps = {r.trajectory.optimizer: r.trajectory.points[1] for r in result.runs}
    # worked problem A from w(t-1) = (1, 1), w(t) = (1.5, 2): GD and heavy ball's w(t+1)
    np.testing.assert_allclose(steps["gd"], [1.625, 2.058333], atol=1e-6)
    np.testing.assert_allclose(steps["momentum"], [2.075, 2.958333], atol=1e-6)
    np.testing.assert_allclose(result.analysis.minimum.point, [3, 4], atol=1e-9)
    # in Jupyter the result shows its report.md, whose results table has these steps; the
    # heavy-ball loss E(2.075, 2.958333) = 0.05 + 0.925^2/4 + 1.041667^2/9 - 0.925*1.041667/6;
    # its evaluations: the value and gradient at w(t) and at w(t+1), 2 x (1 + 1) = 4
    md = result._repr_markdown_()
    assert md.startswith("# Experiment `worked-a-correlated-quadratic`")
    assert (
        "| 1 | heavy ball, lr 0.3, beta 0.9 | max_steps | 1 | 4 | n/a | n/a | 0.223879 "
        "| (2.075, 2.95833) |" in md
    )
    written = optiviz.run_config(cfg, tmp_path / "out", steps=3, figures=[])
    assert written.out_dir == tmp_path / "out"
    assert {"config.yaml", "trajectories.csv", "run.json", "report.md"} <= {
        p.name for p in (tmp_path / "out").iterdir()
    }
    assert all(int(r.trajectory.n_steps) <= 3 for r in written.runs)


def test_run_config_refuses_a_bad_config_before_running():
    with pytest.raises(optiviz.ConfigError, match="steps"):
        optiviz.run_config(
            {"surface": "booth", "start": [0, 0], "steps": -1, "optimizers": [{"name": "gd"}]}
        )


# -- the notebook, in a real kernel ----------------------------------------------------------
def test_python3_kernelspec_exists():
    from jupyter_client.kernelspec import KernelSpecManager

    # ipykernel installs it into the environment (<prefix>/share/jupyter/kernels/python3);
    # "python" is replaced by the interpreter that starts the kernel (jupyter_client)
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert "ipykernel_launcher" in spec.argv
    assert spec.argv[0] in ("python", sys.executable), (
        f"a python3 kernelspec of another interpreter shadows this environment's: {spec.argv}"
    )


@pytest.mark.slow
def test_notebook_executes_and_shows_images_and_markdown(monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # the kernel imports this checkout (not another install of optiviz)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # as in Jupyter: no backend chosen
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    cells = {c.source.splitlines()[-1]: c for c in nb.cells if c.cell_type == "code"}

    def data(last_line: str) -> dict:
        (out,) = [o for o in cells[last_line].outputs if o.output_type == "execute_result"]
        return out["data"]

    # a bare plotting.contour(...) cell shows the image (today: only its text/plain)
    for line in ("plotting.contour(r, [traj])", "plotting.loss(result.trajectories)"):
        png = base64.b64decode(data(line)["image/png"])
        w, h = _png_size(png)
        assert 600 <= w <= 1050 and h == 825  # 5.5 in at 150 dpi; the width fits the axes
        from PIL import Image

        image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
        assert image.std() > 10  # drawn, not blank
    assert "**`adam (lr=0.02)`** on `rosenbrock`" in data("traj")["text/markdown"]
    assert "| 1 | (3, 4) | 0.05 | minimum |" in data("optiviz.analyze(s)")["text/markdown"]
    assert "(2.075, 2.95833)" in data(")")["text/markdown"]  # worked problem A, heavy ball
    assert data("result  # its report.md")["text/markdown"].startswith("# Experiment `quickstart`")
    (printed,) = [
        o for o in cells["print(md.splitlines()[0])"].outputs if o.output_type == "stream"
    ]
    assert printed["text"] == "# Analysis of `seed_quadratic`\n"
    runs = data("[(run.label, str(run.trajectory.status)) for run in result.runs]")["text/plain"]
    assert "('newton (lr=1)', 'converged')" in runs  # Newton reaches Rosenbrock's minimum
    assert (
        data('"matplotlib.pyplot" in sys.modules  # no pyplot was needed')["text/plain"] == "False"
    )
