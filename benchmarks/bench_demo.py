"""The main job (issue 9): ``make demo`` end to end against a hand-written script.

(e) The quickstart (configs/quickstart.yaml: eight optimizers x 3000 steps on Rosenbrock
    from (-1.2, 1); figures contour, loss and effective_lr as PNG) the way
    ``optiviz run configs/quickstart.yaml --out DIR`` does it, in this process (the CLI's
    own entry point: config, runs, analysis, every output written: config.yaml,
    trajectories.csv, report.md, the three PNGs, run.json), against a plain numpy +
    matplotlib script that runs the same eight optimizers (their update rules written out
    by hand, torch's defaults, the same gradient-norm stop) and saves the same three
    figures (the same contents, sizes and dpi): time ratio <= 1.2.

Checks next to the timing: the script's iterates are optiviz's (the first 500 steps of
every run to 1e-9, the final losses), and each of its PNGs has the pixel size of optiviz's.
The two sides alternate (which goes first alternates too); the ratio is the median over
the repeats of the per-repeat ratio of CPU times (``time.process_time``: waiting for a
busy CPU does not count); the median wall times are in the note. Interpreter start-up and
imports are not timed (both sides run warm, in one process).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "quickstart.yaml"
X0 = np.array([-1.2, 1.0])
STEPS = 3000
TOL_GRAD = 1e-8
WINDOW = ((-2.0, 2.0), (-1.0, 3.0))  # the library's Rosenbrock window
#: (label, name, hyperparameters) as in configs/quickstart.yaml
ENTRIES = [
    ("gd (lr=0.001)", "gd", {"lr": 1e-3}),
    ("momentum (lr=0.001, momentum=0.9)", "momentum", {"lr": 1e-3, "mu": 0.9}),
    ("nesterov (lr=0.001, momentum=0.9)", "nesterov", {"lr": 1e-3, "mu": 0.9}),
    ("adagrad (lr=0.5)", "adagrad", {"lr": 0.5}),
    ("rmsprop (lr=0.01)", "rmsprop", {"lr": 1e-2}),
    ("adadelta (lr=1, rho=0.95)", "adadelta", {"lr": 1.0, "rho": 0.95, "eps": 1e-6}),
    ("adam (lr=0.02)", "adam", {"lr": 2e-2}),
    ("newton (lr=1)", "newton", {"lr": 1.0}),
]


# -- the hand-written script -------------------------------------------------------------
def f(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def hess(x):
    return np.array([[2 - 400 * x[1] + 1200 * x[0] ** 2, -400 * x[0]], [-400 * x[0], 200.0]])


def run_one(name: str, hp: dict):
    """One run: iterates, losses, per-coordinate effective learning rates -dx/g."""
    lr = hp["lr"]
    x = X0.copy()
    pts, eff = [x], []
    s1 = np.zeros(2)  # momentum buffer or velocity / AdaGrad's sum / RMS of g / Adam's m
    s2 = np.zeros(2)  # AdaDelta's RMS of the steps / Adam v
    for t in range(1, STEPS + 1):
        g = grad(x)
        if np.sqrt(g @ g) <= TOL_GRAD:
            break
        if name == "gd":
            step = lr * g
        elif name == "momentum":  # heavy ball, torch SGD's buffer form (b = g at t = 1)
            s1 = hp["mu"] * s1 + g
            step = lr * s1
        elif name == "nesterov":  # Sutskever's look-ahead: v = mu v - lr grad(x + mu v)
            s1 = hp["mu"] * s1 - lr * (grad(x + hp["mu"] * s1) if t > 1 else g)
            step = -s1
        elif name == "adagrad":  # torch defaults: eps 1e-10, no lr decay
            s1 = s1 + g * g
            step = lr / (np.sqrt(s1) + 1e-10) * g
        elif name == "rmsprop":  # torch defaults: alpha 0.99, eps 1e-8
            s1 = 0.99 * s1 + (1.0 - 0.99) * (g * g)
            step = lr / (np.sqrt(s1) + 1e-8) * g
        elif name == "adadelta":
            rho, eps = hp["rho"], hp["eps"]
            s1 = rho * s1 + (1.0 - rho) * (g * g)
            delta = np.sqrt(s2 + eps) / np.sqrt(s1 + eps) * g
            s2 = rho * s2 + (1.0 - rho) * (delta * delta)
            step = lr * delta
        elif name == "adam":  # torch defaults: betas (0.9, 0.999), eps 1e-8
            s1 = 0.9 * s1 + 0.1 * g
            s2 = 0.999 * s2 + 0.001 * g * g
            step = lr * (s1 / (1 - 0.9**t)) / (np.sqrt(s2 / (1 - 0.999**t)) + 1e-8)
        else:  # newton
            step = lr * np.linalg.solve(hess(x), g)
        with np.errstate(divide="ignore", invalid="ignore"):
            eff.append(step / g)
        x = x - step
        pts.append(x)
    P = np.array(pts)
    return P, np.array([f(p) for p in P]), np.array(eff)


BACKGROUND = ["#FFFFFF", "#EDF2F7", "#D6E1EC", "#B9CCDF", "#9AB4CE", "#7E9DBD"]
COLORS = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#5D5D5D"]
STYLES = ["-", "--", "-.", (0, (1.2, 1.3))]
MARKERS = ["o", "s", "^", "D", "v", "P", "<", "h"]
RC: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "lines.linewidth": 1.6,
    "axes.linewidth": 0.8,
    "figure.constrained_layout.h_pad": 0.06,
    "figure.constrained_layout.w_pad": 0.06,
    "mathtext.fontset": "dejavusans",
}


def style(i: int) -> dict:
    return dict(color=COLORS[i % 7], linestyle=STYLES[i % 4], marker=MARKERS[i % 8])


#: The figures' sizes in pixels at 150 dpi (optiviz's; :func:`bench_demo` reads them from
#: its warm-up run, so the script keeps up with changes of optiviz's layout).
SIZES = {"contour": (781, 825), "loss": (1050, 825), "effective_lr": (1050, 1170)}


def inches(name: str) -> tuple[float, float]:
    return SIZES[name][0] / 150, SIZES[name][1] / 150


def baseline_figures(runs: list, out: Path) -> None:
    """The three figures, as a user writes them with pyplot."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap, LogNorm
    from matplotlib.lines import Line2D
    from matplotlib.ticker import LogLocator

    with plt.rc_context(cast(Any, RC)):
        # contour: log-spaced filled levels of f - f* on a 300 x 300 grid, the paths on top
        fig, ax = plt.subplots(figsize=inches("contour"), dpi=150, layout="constrained")
        u, v = np.linspace(*WINDOW[0], 300), np.linspace(*WINDOW[1], 300)
        U, V = np.meshgrid(u, v)
        Z = (1 - U) ** 2 + 100 * (V - U**2) ** 2
        levels = np.logspace(-2, 4, 19)
        Zc = np.clip(Z, levels[0], levels[-1])
        cmap = LinearSegmentedColormap.from_list("bg", BACKGROUND)
        norm = LogNorm(levels[0], levels[-1])
        cf = ax.contourf(U, V, Zc, levels=levels, norm=norm, cmap=cmap, zorder=0)
        ax.contour(U, V, Zc, levels=levels, colors="#34506E", linewidths=0.4, alpha=0.5)
        cb = fig.colorbar(cf, cax=ax.inset_axes((1.035, 0.0, 0.035, 1.0)))
        cb.set_label("$f - f^*$  (log scale)")
        cb.ax.tick_params(labelsize=8.5)
        cb.set_ticks(LogLocator(base=10, numticks=12).tick_values(levels[0], levels[-1]))
        handles = []
        for i, (label, (P, _, _)) in enumerate(runs):
            st = style(i)
            ax.plot(P[:, 0], P[:, 1], color=st["color"], linestyle=st["linestyle"], zorder=3)
            k = max(1, int(np.ceil(len(P) / 120)))
            ax.plot(P[::k, 0], P[::k, 1], "none", marker=st["marker"], ms=3.2, mew=0,
                    color=st["color"], alpha=0.75, zorder=3)  # fmt: skip
            ax.plot(*P[0], "o", ms=7.5, color=st["color"], mec="white", zorder=5)
            ax.plot(*P[-1], "X", ms=9, color=st["color"], mec="white", zorder=5)
            handles.append(Line2D([], [], markersize=4, label=label, **st))
        ax.plot(1, 1, "*", ms=15, color="black", mec="white", zorder=6)
        handles += [
            Line2D([], [], color="0.25", marker="o", ls="none", mec="white", label="start"),
            Line2D([], [], color="0.25", marker="X", ls="none", mec="white", label="end"),
            Line2D([], [], color="k", marker="*", ls="none", label="global minimum ($f^*$ = 0)"),
        ]
        ax.set(xlim=WINDOW[0], ylim=WINDOW[1], xlabel="$x$", ylabel="$y$", aspect="equal")
        ax.set_title(
            r"rosenbrock:  $f(x, y) = \left(1 - x\right)^{2} + 100 \left(- x^{2} + y\right)^{2}$",
            pad=10,
        )
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2,
                  frameon=False, handlelength=2.6)  # fmt: skip
        fig.savefig(out / "contour.png", dpi=150)
        plt.close(fig)

        # loss: f - f* per step, log scale
        fig, ax = plt.subplots(figsize=inches("loss"), dpi=150, layout="constrained")
        for i, (label, (_, losses, _)) in enumerate(runs):
            st = style(i)
            ax.semilogy(losses, color=st["color"], linestyle=st["linestyle"], lw=1.8, label=label)
        ax.grid(True, which="major", alpha=0.3, linewidth=0.6)
        ax.grid(True, which="minor", alpha=0.12, linewidth=0.4)
        ax.set(xlabel="step $t$", ylabel="$f(x_t) - f^*$", xlim=(0, None))
        fig.legend(loc="outside lower center", ncol=2, frameon=False, handlelength=2.6)
        fig.savefig(out / "loss.png", dpi=150)
        plt.close(fig)

        # effective learning rate: one panel per first-order run, coordinates by line style
        fig, axes = plt.subplots(
            3, 3, figsize=inches("effective_lr"), dpi=150, sharex=True, sharey=True,
            layout="constrained",
        )  # fmt: skip
        for i, (pax, (label, (_, _, E))) in enumerate(zip(axes.flat, runs[:7], strict=False)):
            t = np.arange(1, len(E) + 1)
            with np.errstate(invalid="ignore"):
                E = np.where(E > 0, E, np.nan)
            pax.semilogy(t, E[:, 0], color=COLORS[i], lw=1.7)
            pax.semilogy(t, E[:, 1], color=COLORS[i], lw=1.7, linestyle="--")
            pax.set_title(label.replace(", ", ",\n"), fontsize=9.5, color=COLORS[i])
            pax.grid(True, which="major", alpha=0.3, linewidth=0.6)
            pax.grid(True, which="minor", alpha=0.12, linewidth=0.4)
            if i % 3 == 0:
                pax.set_ylabel(r"effective learning rate $-\Delta x_i / g_i$")
            if i >= 4:
                pax.set_xlabel("step $t$")
                pax.xaxis.set_tick_params(labelbottom=True)
        for pax in axes.flat[7:]:
            pax.set_visible(False)
        fig.legend(
            handles=[
                Line2D([], [], color="0.2", lw=1.7, label="coordinate $x$"),
                Line2D([], [], color="0.2", lw=1.7, linestyle="--", label="coordinate $y$"),
            ],
            loc="outside lower center",
            ncol=2,
            frameon=False,
        )
        fig.savefig(out / "effective_lr.png", dpi=150)
        plt.close(fig)


def baseline_demo(out: Path) -> list:
    runs = [(label, run_one(name, hp)) for label, name, hp in ENTRIES]
    baseline_figures(runs, out)
    return runs


# -- optiviz -------------------------------------------------------------------------------
def optiviz_demo(out: Path) -> None:
    """``optiviz run configs/quickstart.yaml --out OUT -q``, in this process."""
    from optiviz.cli.app import main

    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(["run", str(CONFIG), "--out", str(out), "-q"])
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(f"optiviz run exited with {exc.code}") from None


def _check(opt_dir: Path, base_dir: Path, runs: list) -> None:
    import csv

    from PIL import Image

    for name in ("contour", "loss", "effective_lr"):
        a, b = Image.open(opt_dir / f"{name}.png"), Image.open(base_dir / f"{name}.png")
        assert a.size == b.size, f"{name}.png: optiviz {a.size}, script {b.size}"
    pts: dict[int, list] = {}
    with open(opt_dir / "trajectories.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            pts.setdefault(int(row["run"]), []).append(
                (float(row["x"]), float(row["y"]), float(row["loss"]))
            )
    assert len(pts) == len(runs)
    for i, (label, (P, losses, _)) in enumerate(runs):
        Q = np.array(pts[i])
        assert len(Q) == len(P), f"{label}: {len(Q)} iterates, script {len(P)}"
        assert np.allclose(Q[:500, :2], P[:500], rtol=0, atol=1e-9), label
        # RMSprop and AdaDelta jitter across the valley from steps ~500 and ~700 on: there
        # the rounding of the two gradient formulas (optiviz's is sympy's) is amplified
        rtol = 0.1 if label.startswith(("rmsprop", "adadelta")) else 1e-6
        assert abs(Q[-1, 2] - losses[-1]) <= rtol * abs(losses[-1]) + 1e-15, label


def bench_demo(repeats: int = 5) -> dict:
    """(e) make demo end to end (optiviz run quickstart) vs a hand-written script: <= 1.2x."""
    import matplotlib

    matplotlib.use("Agg")
    tmp = Path(tempfile.mkdtemp(prefix="optiviz-bench-demo-"))
    try:
        opt_dir, base_dir = tmp / "optiviz", tmp / "script"
        base_dir.mkdir()
        optiviz_demo(opt_dir)  # warm up both sides (imports, caches), then check them
        from PIL import Image

        for name in SIZES:
            SIZES[name] = Image.open(opt_dir / f"{name}.png").size
        runs = baseline_demo(base_dir)
        _check(opt_dir, base_dir, runs)
        cpu: dict[str, list[float]] = {"optiviz": [], "baseline": []}
        wall: dict[str, list[float]] = {"optiviz": [], "baseline": []}
        sides = {
            "optiviz": lambda: optiviz_demo(opt_dir),
            "baseline": lambda: baseline_demo(base_dir),
        }
        for i in range(repeats):
            for k in sorted(sides, reverse=bool(i % 2)):
                w0, c0 = time.perf_counter(), time.process_time()
                sides[k]()
                cpu[k].append(time.process_time() - c0)
                wall[k].append(time.perf_counter() - w0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratios = [o / b for o, b in zip(cpu["optiviz"], cpu["baseline"], strict=True)]
    med = {k: statistics.median(v) for k, v in cpu.items()}
    mwall = {k: statistics.median(v) for k, v in wall.items()}
    return dict(
        name="(e) make demo: quickstart end to end",
        optiviz_s=med["optiviz"],
        baseline_s=med["baseline"],
        ratio=statistics.median(ratios),
        target=1.2,
        unit="x time",
        note=(
            f"median of {repeats}: CPU {med['optiviz']:.2f} s vs script {med['baseline']:.2f} s;"
            f" wall {mwall['optiviz']:.2f} s vs {mwall['baseline']:.2f} s; per-repeat ratios "
            + ", ".join(f"{r:.2f}" for r in ratios)
        ),
    )


BENCHMARKS = [bench_demo]
