"""Dimension benchmarks (issue 13): structured surfaces at n = 100 and n = 1000.

(a) building an n = 100 quadratic (tridiagonal A, through ``load_surface("quadratic")``)
    and an n = 100 Rosenbrock (``load_surface("rosenbrock", n=100)``): median CPU time of
    the build < 0.5 s (the expanded symbolic surfaces were refused or took 6-18 s);
(b) Adam at n = 100 on each, ``record="all"``: time per step <= 1.5 x a hand-written numpy
    Adam loop with a hand-written gradient (``A x + b``; the Rosenbrock slices) recording
    points and losses, interleaved in the same process;
(c) n = 1000 works: both surfaces build, their gradients match the hand-written ones, and
    Adam's per-step ratio is shown (information);
(d) with ``backend="jax"`` (skipped where JAX is not installed): Adam at n = 100 on each,
    ``record="path"``, time per step <= 1.5 x a hand-written JAX ``lax.scan`` Adam loop
    with the hand-written gradient doing the work optiviz's run does (each step's loss and
    squared gradient norm, optiviz's divergence rule with a run frozen at its first
    failing step, the best loss, the stop step, and each step's point, loss and norm
    kept); the bare update (points and losses only, no rule) is timed too, and compile time
    (the first call of each side minus its median) and the surface's own per-step cost
    against the hand-written gradient's (each alone in a scan) are in the note.

Timings are CPU time (``time.process_time``) for (a)-(c) and wall time
(``time.perf_counter``) for (d) (CPU time under-counts XLA's worker thread, as in
``bench_jax.py``), medians of interleaved repeats (the first, cold build of the process is
reported in the note, not in the median).

    python benchmarks/bench_dimension.py
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections.abc import Callable

import numpy as np

B1, B2, EPS = 0.9, 0.999, 1e-8
LR = 1e-3


def tridiagonal(n: int) -> np.ndarray:
    """A positive definite tridiagonal A (the 1-D Laplacian plus 0.1 I): eigenvalues in
    (0.1, 4.1)."""
    return 2.1 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)


def quadratic(n: int):
    from optiviz.library import load_surface

    return load_surface("quadratic", A=tridiagonal(n).tolist(), b=1.0)


def rosenbrock(n: int):
    from optiviz.library import load_surface

    return load_surface("rosenbrock", n=n)


def _cpu(fn: Callable[[], object], clock: Callable[[], float] = time.process_time):
    t0 = clock()
    out = fn()
    return clock() - t0, out


def _medians(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    clock: Callable[[], float] = time.process_time,
) -> tuple[dict, dict]:
    """Interleaved repeats (the order rotated each round): median time (CPU by default)
    and last result."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    out: dict[str, object] = {}
    keys = list(fns)
    for r in range(repeats):
        for k in keys[r % len(keys) :] + keys[: r % len(keys)]:
            out[k] = None
            t, out[k] = _cpu(fns[k], clock)
            times[k].append(t)
    return {k: statistics.median(v) for k, v in times.items()}, out


# -- hand-written numpy ----------------------------------------------------------------------
def adam_quadratic(A: np.ndarray, b: np.ndarray, x0: np.ndarray, steps: int):
    """Adam on 1/2 x^T A x + b^T x, the way a user writes it (points and losses kept)."""
    n = x0.size
    x = x0.copy()
    m = np.zeros(n)
    v = np.zeros(n)
    points = np.empty((steps + 1, n))
    losses = np.empty(steps + 1)
    ax = A @ x
    points[0], losses[0] = x, 0.5 * (x @ ax) + b @ x
    for t in range(1, steps + 1):
        g = ax + b
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        x = x - LR * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + EPS)
        ax = A @ x
        points[t], losses[t] = x, 0.5 * (x @ ax) + b @ x
    return points, losses


def rosen_value_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
    r = x[1:] - x[:-1] ** 2
    u = 1 - x[:-1]
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * r - 2 * u
    g[1:] += 200 * r
    return float(np.sum(100 * r * r + u * u)), g


def adam_rosenbrock(x0: np.ndarray, steps: int):
    """Adam on the chained Rosenbrock function with a hand-written sliced gradient."""
    n = x0.size
    x = x0.copy()
    m = np.zeros(n)
    v = np.zeros(n)
    points = np.empty((steps + 1, n))
    losses = np.empty(steps + 1)
    f, g = rosen_value_grad(x)
    points[0], losses[0] = x, f
    for t in range(1, steps + 1):
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        x = x - LR * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + EPS)
        f, g = rosen_value_grad(x)
        points[t], losses[t] = x, f
    return points, losses


# -- (a) builds ------------------------------------------------------------------------------
def _build(name: str, make: Callable[[int], object], n: int = 100, repeats: int = 5) -> dict:
    cold, _ = _cpu(lambda: make(n))
    times = [_cpu(lambda: make(n))[0] for _ in range(repeats)]
    med = statistics.median(times)
    return dict(
        name=f"(a) build n = {n} {name}",
        optiviz_s=med,
        baseline_s=None,
        ratio=med,
        target=0.5,
        unit="s CPU",
        note=f"median of {repeats} builds {med:.3f} s; first build of the process {cold:.3f} s",
    )


def bench_build_quadratic_100() -> dict:
    return _build("quadratic", quadratic)


def bench_build_rosenbrock_100() -> dict:
    return _build("rosenbrock", rosenbrock)


# -- (b) Adam per step ---------------------------------------------------------------------
def _adam_row(label: str, n: int, steps: int, repeats: int, target: float | None) -> dict:
    import optiviz
    from optiviz.engine import run

    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1.0, 1.0, n)
    t0 = time.process_time()
    if label == "quadratic":
        s = quadratic(n)
        A, b = tridiagonal(n), np.ones(n)

        def baseline():
            return adam_quadratic(A, b, x0, steps)

    else:
        s = rosenbrock(n)

        def baseline():
            return adam_rosenbrock(x0, steps)

    build = time.process_time() - t0
    opt = optiviz.make_optimizer("adam", lr=LR)
    med, out = _medians({"optiviz": lambda: run(s, opt, x0, steps), "baseline": baseline}, repeats)
    tr = out["optiviz"]
    pts, losses = out["baseline"]
    assert tr.n_steps == steps
    np.testing.assert_allclose(tr.points[:50], pts[:50], rtol=0, atol=1e-10)
    np.testing.assert_allclose(tr.losses[:50], losses[:50], rtol=1e-12, atol=1e-12)
    o, b_ = med["optiviz"] / steps, med["baseline"] / steps
    return dict(
        name=f"({'b' if target else 'c'}) adam n = {n} {label}, {steps} steps",
        optiviz_s=med["optiviz"],
        baseline_s=med["baseline"],
        ratio=o / b_,
        target=target,
        unit="x time",
        note=(
            f"CPU {o * 1e6:.1f} us/step vs hand numpy {b_ * 1e6:.1f} us/step (median of "
            f"{repeats}); build {build:.3f} s"
        ),
    )


def bench_adam_quadratic_100() -> dict:
    return _adam_row("quadratic", 100, 2000, 7, 1.5)


def bench_adam_rosenbrock_100() -> dict:
    return _adam_row("rosenbrock", 100, 2000, 7, 1.5)


# -- (c) n = 1000 ----------------------------------------------------------------------------
def bench_adam_quadratic_1000() -> dict:
    return _adam_row("quadratic", 1000, 300, 3, None)


def bench_adam_rosenbrock_1000() -> dict:
    return _adam_row("rosenbrock", 1000, 1000, 3, None)


# -- (d) the compiled backend at n = 100 --------------------------------------------------
def _hand_jax_adam(label: str, n: int, steps: int, same_work: bool = True):
    """Adam at n variables written by hand with ``lax.scan`` and the hand-written gradient
    (``A x + b``; the Rosenbrock slices). With ``same_work`` (the baseline of the target):
    what optiviz's run computes and returns, as a person writes it: each step's loss and
    squared gradient norm, the divergence rule (``|f| <= 1e12 max(1, |f0|)`` and a finite
    norm; a run stops at its first failing step and keeps that step's point, loss and
    norm), the best loss, the stop step, and each step's point, loss and squared norm.
    Without: the bare update keeping every point and loss."""
    from optiviz.backends.jax import load_jax

    jax, jnp = load_jax()  # float64, and the backend's arithmetic (no fused multiply-add)

    if label == "quadratic":
        A, b = jnp.asarray(tridiagonal(n)), jnp.ones(n)

        def vg(x):
            ax = A @ x
            return 0.5 * (x @ ax) + b @ x, ax + b

    else:

        def vg(x):
            r = x[1:] - x[:-1] * x[:-1]
            u = 1 - x[:-1]
            g = jnp.zeros_like(x).at[:-1].set(-400 * x[:-1] * r - 2 * u).at[1:].add(200 * r)
            return jnp.sum(100 * r * r + u * u), g

    @jax.jit
    def bare(x0):
        f0, g0 = vg(x0)
        z = jnp.zeros(n)

        def body(c, t):
            x, m, v, g = c
            m = B1 * m + (1 - B1) * g
            v = B2 * v + (1 - B2) * g * g
            x = x - LR * (m / (1 - B1**t)) / (jnp.sqrt(v / (1 - B2**t)) + EPS)
            f, g = vg(x)
            return (x, m, v, g), (x, f)

        ts = jnp.arange(1, steps + 1, dtype=jnp.float64)
        _, (xs, fs) = jax.lax.scan(body, (x0, z, z, g0), ts)
        return jnp.concatenate([x0[None], xs]), jnp.concatenate([f0[None], fs])

    @jax.jit
    def same(x0):
        f0, g0 = vg(x0)
        z = jnp.zeros(n)
        bound = 1e12 * jnp.maximum(1.0, jnp.abs(f0))

        def body(c, t):
            x, m, v, g, fl, g2, best, going, stop = c
            m = B1 * m + (1 - B1) * g
            v = B2 * v + (1 - B2) * g * g
            xn = x - LR * (m / (1 - B1**t)) / (jnp.sqrt(v / (1 - B2**t)) + EPS)
            fn, g = vg(xn)
            g2n = g @ g
            x = jnp.where(going, xn, x)
            fl, g2 = jnp.where(going, fn, fl), jnp.where(going, g2n, g2)
            best = jnp.where(going, jnp.fmin(best, fn), best)
            stop = jnp.where(going, t, stop)
            going = going & (jnp.abs(fn) <= bound) & (g2n < jnp.inf)
            return (x, m, v, g, fl, g2, best, going, stop), (xn, fn, g2n)

        ts = jnp.arange(1, steps + 1, dtype=jnp.float64)
        start = (x0, z, z, g0, f0, g0 @ g0, f0, jnp.asarray(True), jnp.asarray(0.0))
        c, (xs, fs, g2s) = jax.lax.scan(body, start, ts)
        points = jnp.concatenate([x0[None], xs])
        return points, jnp.concatenate([f0[None], fs]), jnp.concatenate([start[5][None], g2s])

    program = same if same_work else bare

    def call(x0):
        out = program(x0)
        jax.block_until_ready(out)
        return out

    return call, vg


def _surface_alone(vg_of_points, n: int, steps: int):
    """A jitted scan evaluating ``vg`` on a point that moves a little each step (the
    surface's own per-step cost, without the optimizer and the engine's records)."""
    from optiviz.backends.jax import load_jax

    jax, jnp = load_jax()

    @jax.jit
    def program(x0):
        def body(x, t):
            f, g = vg_of_points(x)
            return x - 1e-9 * g, f

        return jax.lax.scan(body, x0, jnp.arange(steps, dtype=jnp.float64))

    def call(x0):
        out = program(x0)
        jax.block_until_ready(out)
        return out

    return call


def _jax_row(label: str, n: int, steps: int, repeats: int) -> dict:
    import jax.numpy as jnp

    import optiviz
    from optiviz.backends.jax import compile_surface

    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1.0, 1.0, n)
    s = quadratic(n) if label == "quadratic" else rosenbrock(n)
    opt = optiviz.make_optimizer("adam", lr=LR)
    hand, hand_vg = _hand_jax_adam(label, n, steps)
    bare, _ = _hand_jax_adam(label, n, steps, same_work=False)
    jx0 = jnp.asarray(x0)

    def ours():
        return optiviz.run(s, opt, x0, steps, record="path", backend="jax")

    wall = time.perf_counter
    c0 = wall()
    ours()
    ours_first = wall() - c0
    c0 = wall()
    hand(jx0)
    hand_first = wall() - c0
    bare(jx0)
    fns = {"optiviz": ours, "jax": lambda: hand(jx0), "bare": lambda: bare(jx0)}
    med, out = _medians(fns, repeats, wall)
    tr = out["optiviz"]
    pts, losses, g2s = (np.asarray(a) for a in out["jax"])  # type: ignore[union-attr]
    np.testing.assert_allclose(tr.grad_norms[:50], np.sqrt(g2s[:50]), rtol=1e-10)
    assert tr.n_steps == steps
    np.testing.assert_allclose(tr.points[:50], pts[:50], rtol=0, atol=1e-10)
    np.testing.assert_allclose(tr.losses[:50], losses[:50], rtol=1e-12, atol=1e-12)
    # the parts: the compiled surface alone against the hand-written gradient alone, both
    # in a scan of the same length (one point: the surface's (R, n) form with R = 1)
    vg_ours = compile_surface(s)[0]
    ours_surface = _surface_alone(lambda x: (lambda F, G: (F[0], G[0]))(*vg_ours(x[None])),
                                  n, steps)  # fmt: skip
    hand_surface = _surface_alone(hand_vg, n, steps)
    ours_surface(jx0)
    hand_surface(jx0)
    parts, _ = _medians(
        {"ours": lambda: ours_surface(jx0), "hand": lambda: hand_surface(jx0)}, repeats, wall
    )
    o, h = med["optiviz"] / steps, med["jax"] / steps
    return dict(
        name=f"(d) jax: adam n = {n} {label}, {steps} steps (path)",
        optiviz_s=med["optiviz"],
        baseline_s=med["jax"],
        ratio=o / h,
        target=1.5,
        unit="x time of hand JAX",
        note=(
            f"wall {o * 1e6:.1f} us/step vs hand JAX lax.scan, same work, {h * 1e6:.1f} us/step "
            f"(median of {repeats}); bare update by hand {med['bare'] / steps * 1e6:.1f} "
            f"us/step; surface alone {parts['ours'] / steps * 1e6:.1f} us/step vs hand "
            f"gradient {parts['hand'] / steps * 1e6:.1f} us/step; compile ~"
            f"{max(0.0, ours_first - med['optiviz']):.2f} s (hand "
            f"{max(0.0, hand_first - med['jax']):.2f} s)"
        ),
    )


def bench_jax_adam_quadratic_100() -> dict:
    return _jax_row("quadratic", 100, 2000, 15)


def bench_jax_adam_rosenbrock_100() -> dict:
    return _jax_row("rosenbrock", 100, 2000, 15)


BENCHMARKS = [
    bench_build_quadratic_100,
    bench_build_rosenbrock_100,
    bench_adam_quadratic_100,
    bench_adam_rosenbrock_100,
    bench_adam_quadratic_1000,
    bench_adam_rosenbrock_1000,
] + (
    [bench_jax_adam_quadratic_100, bench_jax_adam_rosenbrock_100]
    if importlib.util.find_spec("jax") is not None
    else []
)


if __name__ == "__main__":
    for bench in BENCHMARKS:
        r = bench()
        print(f"{r['name']:<44} {r['ratio']:.3f} {r['unit']} (target {r['target']}): {r['note']}")
