"""The compiled backend gives the numpy backend's results (issue 13).

Every optimizer the backend compiles is run under both backends on the same runs (batched
hyperparameters, record="all"), and every recorded field is compared: the points, losses,
gradient norms, effective learning rates and lr factors to 1e-12 relative (norm-wise: the
largest difference at most 1e-12 times the field's largest magnitude; XLA may round a few
operations differently, and Rosenbrock's valley turns an ulp of a gradient into 1e-11 of
an element near zero), the statuses, stopping steps and evaluation counts exactly. The
numpy backend is the reference: it is the one checked against torch.optim and the worked
problems (tests/test_optimizers.py). The module is skipped where JAX is not installed
(``pip install optiviz[jax]``).
"""

from __future__ import annotations

import os
import platform

import numpy as np
import pytest

import optiviz
from optiviz.errors import OptimizerError

pytest.importorskip("jax")

RTOL = 1e-12
COSINE = optiviz.make_schedule("cosine", T_max=700)
ROSEN = optiviz.load_surface("rosenbrock")

#: One setting per compiled optimizer (two learning rates: a batched run of 2) and the
#: steps to take: the update rules of tests/test_optimizers.py's lockstep cases.
CASES = [
    ("gd", {"lr": [1e-3, 2e-3]}),
    ("sgd", {"lr": [1e-3, 2e-3], "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": [1e-3, 2e-3], "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1}),
    ("momentum", {"lr": [1e-3, 2e-3], "momentum": 0.9}),
    ("nesterov", {"lr": [1e-3, 2e-3], "momentum": 0.9}),
    ("adagrad", {"lr": [0.1, 0.2], "lr_decay": 0.01}),
    ("rmsprop", {"lr": [1e-3, 1e-2], "centered": True, "momentum": 0.5}),
    ("adadelta", {"lr": [1.0, 0.5]}),
    ("adam", {"lr": [1e-2, 5e-2], "amsgrad": True}),
    ("adamw", {"lr": [1e-2, 5e-2]}),
    ("adamax", {"lr": [1e-2, 5e-2]}),
    ("nadam", {"lr": [1e-2, 5e-2]}),
    ("radam", {"lr": [1e-2, 5e-2]}),
    ("maxprop", {"lr": [1e-2, 5e-2]}),
    ("rprop", {"lr": [1e-2, 5e-2]}),
    ("newton", {"lr": [1.0, 0.5], "hessian_modification": "levenberg", "damping": 0.1}),
]


def _make(name, kw):
    return optiviz.make_optimizer(
        name, **{k: np.array(v) if isinstance(v, list) else v for k, v in kw.items()}
    )


def _same(a, b, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    assert np.array_equal(np.isnan(a), np.isnan(b)), what
    ok = ~np.isnan(a)
    if ok.any():
        scale = np.max(np.abs(a[ok]))
        assert np.max(np.abs(b[ok] - a[ok])) <= RTOL * scale, what


def _same_rates(a, b):
    """The effective learning rates -dx/g agree to 1e-12 times their conditioning: the
    step dx is a difference of iterates, so an ulp of x_t is |x_t| / |dx| of dx (a
    step of 1e-6 against x of 1 turns 1e-16 into 1e-10 of the rate), and a gradient
    component that cancels to |g_i| is known to an ulp of the run's largest |g|, which is
    max|g| / |g_i| of g_i."""
    ea, eb = np.asarray(a.effective_lr), np.asarray(b.effective_lr)
    P = np.asarray(a.points)
    with np.errstate(all="ignore"):
        dx = np.diff(P, axis=-2)
        g = np.abs(dx / ea)  # |g| handed to the optimizer: -dx / (-dx / g)
        g_scale = np.nanmax(np.where(np.isfinite(g), g, np.nan), axis=(-2, -1), keepdims=True)
        cond = (np.abs(P[..., :-1, :]) + np.abs(P[..., 1:, :])) / np.abs(dx) + g_scale / g
        both = ~np.isnan(ea) & ~np.isnan(eb) & np.isfinite(cond)
        assert np.all(np.abs(ea - eb)[both] <= RTOL * (cond * np.abs(ea))[both] + 1e-300)
    assert np.mean(np.isnan(ea) != np.isnan(eb)) <= 0.01  # g exactly 0 in one rounding


def _same_runs(a, b, factors=True):
    for field in ("points", "losses", "grad_norms") + (("lr_factor",) if factors else ()):
        if getattr(a, field) is not None:
            _same(getattr(a, field), getattr(b, field), field)
    if a.effective_lr is not None:
        _same_rates(a, b)
    for field in ("final_point", "final_loss", "best_loss"):
        _same(getattr(a, field), getattr(b, field), field)
    # a final gradient norm near the valley is a cancellation: compared on the scale of
    # the run's gradient norms (as grad_norms above)
    scale = np.nanmax(np.asarray(a.grad_norms)) if a.grad_norms is not None else 1.0
    diff = np.abs(np.asarray(a.final_grad_norm) - np.asarray(b.final_grad_norm))
    assert np.all(diff <= RTOL * max(scale, np.max(np.asarray(a.final_grad_norm))))
    for field in ("status", "n_steps", "diverged_at", "steps_to_tolerance"):
        assert np.array_equal(np.asarray(getattr(a, field)), np.asarray(getattr(b, field))), field
    for field in ("n_f", "n_grad", "n_hess"):  # the evaluations each update rule states
        assert np.array_equal(np.asarray(getattr(a, field)), np.asarray(getattr(b, field))), field


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_every_compiled_update_rule_gives_the_numpy_records(name, kw):
    opt = _make(name, kw)
    steps = 8 if name == "newton" else 40  # Newton is at the minimum (g = 0 to rounding) by 10
    a = optiviz.run(ROSEN, opt, [-1.2, 1.0], steps)
    b = optiviz.run(ROSEN, opt, [-1.2, 1.0], steps, backend="jax")
    # Newton's lr factor |γ d_i / g_i| divides by gradient components that cancel to
    # ~1e-17 at the minimum: a quotient of rounding errors (its points are compared)
    _same_runs(a, b, factors=name != "newton")


def test_stops_at_the_same_step_for_the_same_reason():
    # lr 0.1 diverges on Rosenbrock from (-1.2, 1) within a few steps; lr 1e-3 meets the
    # loose gradient tolerance; both stop, and the batch's other runs go on to the budget
    opt = optiviz.make_optimizer("gd", lr=np.array([0.1, 1e-3, 1e-4]))
    kw = dict(tol_grad=20.0, record="all")
    a = optiviz.run(ROSEN, opt, [-1.2, 1.0], 30, **kw)
    b = optiviz.run(ROSEN, opt, [-1.2, 1.0], 30, backend="jax", **kw)
    assert list(a.status) == ["diverged", "converged", "max_steps"] or "diverged" in a.status
    _same_runs(a, b)


@pytest.mark.parametrize("record", ["final", "all"])
def test_runs_stopping_inside_later_blocks_are_frozen_as_numpy_freezes_them(monkeypatch, record):
    # Blocks of at most 16 steps: GD's state is steady from the start (no numpy step), so
    # the 100 steps are ten blocks of 10 (steps 1-10, 11-20, ...; jax._blocks). From
    # (0, 0), with the loss tolerance 0.5 (f* = 0), GD with lr 1e-2, 4e-3, 3e-3 and 2e-3
    # stops at steps 20, 49, 65 and 98 (numpy's loop, the reference), in the 2nd, 5th,
    # 7th and 10th blocks, and
    # lr 1e-5 goes on to the budget. With record "final", while every run is going, a
    # block runs unfrozen first; the block in which a run stopped is run again frozen from
    # its start, and so are the blocks after it (counted below). With records, every
    # block runs unfrozen once (the stop steps tracked; a stopped run's end is read from
    # its records). Either way the results are numpy's.
    from optiviz.backends import jax as oj

    monkeypatch.setattr(oj, "BLOCK", 16)
    monkeypatch.setattr(oj, "BLOCK_MAX", 16)
    oj._BLOCKS.clear()
    calls = {"fast": 0, "frozen": 0}
    build = oj._compiled_block

    def counted(*args):
        body, fast, per_step = build(*args)

        def body_counted(*a):
            calls["frozen"] += 1
            return body(*a)

        def fast_counted(*a):
            calls["fast"] += 1
            return fast(*a)

        return body_counted, fast_counted, per_step

    monkeypatch.setattr(oj, "_compiled_block", counted)
    opt = _make("gd", {"lr": [1e-2, 4e-3, 3e-3, 2e-3, 1e-5]})
    kw = dict(tol_loss=0.5, record=record)
    a = optiviz.run(ROSEN, opt, [0.0, 0.0], 100, **kw)
    b = optiviz.run(ROSEN, opt, [0.0, 0.0], 100, backend="jax", **kw)
    oj._BLOCKS.clear()
    assert list(a.n_steps) == [20, 49, 65, 98, 100]
    assert list(a.status) == ["converged"] * 4 + ["max_steps"]
    _same_runs(a, b)
    if record == "final":
        # blocks 1 and 2 unfrozen; block 2 (a stop at step 20) again frozen, and blocks 3-10
        assert calls == {"fast": 2, "frozen": 9}
    else:  # the ten blocks, each once
        assert calls == {"fast": 10, "frozen": 0}


@pytest.mark.parametrize("record", ["path", "all"])
def test_a_single_run_that_stops_keeps_its_records_end_as_numpy(record):
    # One run keeping its records steps unfrozen in one block of all 300 steps (GD's state
    # is steady from the start) and goes on past its stop; its end (point, loss, norm,
    # best loss, stop step) is read from its records. GD at lr 2e-3 from (0, 0) reaches
    # the loss tolerance 0.5 at step 98 (the numpy loop, as in the test above); at lr 1e-2
    # from (-1.2, 1) it diverges (numpy's loop: at step 4).
    for lr, x0, kw in ((2e-3, [0.0, 0.0], {"tol_loss": 0.5}), (1e-2, [-1.2, 1.0], {})):
        opt = optiviz.make_optimizer("gd", lr=lr)
        a = optiviz.run(ROSEN, opt, x0, 300, record=record, **kw)
        b = optiviz.run(ROSEN, opt, x0, 300, record=record, backend="jax", **kw)
        assert a.status in ("converged", "diverged") and a.n_steps < 300
        _same_runs(a, b)


def test_a_batch_no_run_of_which_stops_runs_unfrozen_and_agrees(monkeypatch):
    from optiviz.backends import jax as oj

    monkeypatch.setattr(oj, "BLOCK", 16)
    monkeypatch.setattr(oj, "BLOCK_MAX", 16)
    oj._BLOCKS.clear()
    opt = _make("adam", {"lr": [1e-3, 1e-2, 3e-2]})
    a = optiviz.run(ROSEN, opt, [-1.2, 1.0], 60, record="all")
    b = optiviz.run(ROSEN, opt, [-1.2, 1.0], 60, record="all", backend="jax")
    oj._BLOCKS.clear()
    assert list(a.status) == ["max_steps"] * 3
    _same_runs(a, b)


def test_a_single_run_has_the_single_run_fields_and_record_final_and_schedules_agree():
    opt = optiviz.make_optimizer("adam", lr=0.05)
    a = optiviz.run(ROSEN, opt, [-1.2, 1.0], 700, record="final", schedule=COSINE)
    b = optiviz.run(ROSEN, opt, [-1.2, 1.0], 700, record="final", schedule=COSINE, backend="jax")
    assert not b.batched and isinstance(b.n_steps, int) and isinstance(b.status, str)
    assert b.points is None and a.points is None
    _same_runs(a, b)
    grid = optiviz.make_optimizer("adam", lr=np.array([0.01, 0.05]))
    steps = (0, 10, 600, 699)
    a = optiviz.run(ROSEN, grid, [-1.2, 1.0], 700, record="final", loss_steps=steps)
    b = optiviz.run(ROSEN, grid, [-1.2, 1.0], 700, record="final", loss_steps=steps, backend="jax")
    _same(a.losses_at, b.losses_at, "losses_at")
    _same_runs(a, b)


def test_a_run_that_fits_one_block_is_one_compiled_call_with_numpys_results():
    # A run whose records fit one block (one run keeping its path, a batch keeping all,
    # one run keeping its final state) is compiled whole: the evaluation at x_0, the first
    # verdict, the steps and the records in one program (jax._RUNS), no block program
    # (jax._BLOCKS). Against the numpy loop: the records with row 0 at x_0; the losses
    # kept at steps 0, 5 and 30 (row s of the records); a given divergence bound that x_0
    # already breaks (diverged at step 0, no step taken); and the stopping rule on the
    # change of the loss (f* unknown: the custom surface), which reads the last loss.
    from optiviz.backends import jax as oj

    oj._RUNS.clear()
    oj._BLOCKS.clear()
    single = optiviz.make_optimizer("adam", lr=0.05)
    a = optiviz.run(ROSEN, single, [-1.2, 1.0], 300, record="path")
    b = optiviz.run(ROSEN, single, [-1.2, 1.0], 300, record="path", backend="jax")
    _same_runs(a, b)
    assert np.array_equal(b.points[0], [-1.2, 1.0]) and b.points.shape == (301, 2)
    assert not b.points.flags.writeable  # (views of the program's buffer: documented)
    batch = _make("adam", {"lr": [1e-2, 5e-2, 0.3]})
    kw = dict(record="all", loss_steps=(0, 5, 30))
    a = optiviz.run(ROSEN, batch, [-1.2, 1.0], 50, **kw)
    b = optiviz.run(ROSEN, batch, [-1.2, 1.0], 50, backend="jax", **kw)
    _same_runs(a, b)
    _same(a.losses_at, b.losses_at, "losses_at")
    assert np.array_equal(b.losses_at[:, 1], b.losses[:, 5])
    kw = dict(record="final", divergence_bound=10.0)  # f(-1.2, 1) = 24.2 > 10
    a = optiviz.run(ROSEN, single, [-1.2, 1.0], 50, **kw)
    b = optiviz.run(ROSEN, single, [-1.2, 1.0], 50, backend="jax", **kw)
    assert (a.status, a.n_steps, b.status, b.n_steps) == ("diverged", 0, "diverged", 0)
    _same_runs(a, b)
    from optiviz.surface import Surface

    custom = Surface.from_expression("(x - 1)**2 + 3*(y + 2)**2", ["x", "y"])
    gd = optiviz.make_optimizer("gd", lr=0.05)
    for record in ("path", "final"):
        a = optiviz.run(custom, gd, [3.0, 1.0], 400, tol_loss=1e-6, record=record)
        b = optiviz.run(custom, gd, [3.0, 1.0], 400, tol_loss=1e-6, record=record, backend="jax")
        assert a.status == "converged" and a.n_steps < 400
        _same_runs(a, b)
    assert len(oj._RUNS) == 5 and all(hit[2] is not None for hit in oj._RUNS.values())
    assert not oj._BLOCKS


def test_ctrl_c_during_a_whole_compiled_run_keeps_x0_as_an_interrupted_run(monkeypatch):
    # (run()'s docstring: an interrupt during step k keeps steps 1 .. k - 1; the compiled
    # program is every step at once, so an interrupt during it keeps none)
    from optiviz.backends import jax as oj

    def interrupted(*args):
        def program(*a):
            raise KeyboardInterrupt

        return program

    oj._RUNS.clear()
    monkeypatch.setattr(oj, "_compiled_run", interrupted)
    opt = optiviz.make_optimizer("adam", lr=0.05)
    b = optiviz.run(ROSEN, opt, [-1.2, 1.0], 300, record="path", backend="jax")
    oj._RUNS.clear()
    assert (b.status, b.n_steps) == ("interrupted", 0)
    assert np.array_equal(b.points, [[-1.2, 1.0]]) and b.final_loss == pytest.approx(24.2)


def test_what_cannot_be_compiled_is_refused_by_jax_and_run_by_auto():
    armijo = optiviz.make_optimizer("armijo")
    with pytest.raises(OptimizerError, match="armijo.*searches its step"):
        optiviz.run(ROSEN, armijo, [-1.2, 1.0], 5, backend="jax")
    auto = optiviz.run(ROSEN, armijo, [-1.2, 1.0], 5, backend="auto")
    assert auto.n_steps == 5
    with pytest.raises(OptimizerError, match="'backend' must be one of 'auto', 'numpy', 'jax'"):
        optiviz.run(ROSEN, armijo, [-1.2, 1.0], 5, backend="gpu")


def test_the_build_budget_still_interrupts_sympy_after_jax_ran():
    # jax registers a garbage-collector callback: a budget raise landing in it is
    # swallowed ("Exception ignored in _xla_gc_callback"), so the timer must fire again
    # (tests/test_surface.py's budget test, in a process where jax has run)
    import time

    import sympy as sp

    from optiviz.surface import _OutOfTime, cpu_budget

    optiviz.run(ROSEN, optiviz.make_optimizer("gd", lr=1e-3), [-1.2, 1.0], 3, backend="jax")
    xs = sp.symbols("x1:11")
    start = time.process_time()
    with pytest.raises(_OutOfTime):
        with cpu_budget(0.2):
            sp.expand(sp.Add(*xs) ** 12)
    assert time.process_time() - start < 1.0


# -- the lockstep cases of tests/test_optimizers.py under both backends --------------------
try:
    import test_optimizers as lockstep
except ImportError:  # tests imported as a package
    from tests import test_optimizers as lockstep

#: The lockstep surfaces of tests/test_optimizers_surfaces.py as expressions (the
#: quadratic: 1/2 w^T A w + b^T w with A = [[3, 1], [1, 2]], b = (1, -2)).
LOCKSTEP_EXPRESSIONS = {
    "quadratic": "3/2*x**2 + x*y + y**2 + x - 2*y",
    "rosenbrock": "(1 - x)**2 + 100*(y - x**2)**2",
}


@pytest.mark.parametrize("case", lockstep.CASES, ids=[lockstep._case_id(c) for c in lockstep.CASES])
@pytest.mark.parametrize("surf_name", ["quadratic", "rosenbrock"])
def test_the_lockstep_cases_agree_with_their_references_under_both_backends(case, surf_name):
    """Every lockstep case of tests/test_optimizers.py (the torch.optim pseudo-code and the
    lecture notes' equations, written without optiviz), run by ``optiviz.run`` for its 200
    steps under each backend (no divergence bound: the lockstep runs every step): every
    iterate of each backend's path agrees with the reference's to the lockstep criterion
    (1e-12 relative), and the two backends' paths, losses and evaluation counts agree
    (1e-12 relative, counts exactly). The reference steps on the optiviz surface's own
    gradient (its exactness against closed forms is tests/test_surface.py's): with the
    test file's hand-written gradient, rounding differences of the gradient alone, not of
    the run, grow past 1e-12 in centered RMSprop's sqrt(v - m^2) near the minimum. An
    optimizer the backend does not compile (it searches its step) is refused by backend
    'jax' and run by 'auto' with numpy's results."""
    from optiviz.backends.jax import Unsupported, supports
    from optiviz.surface import Surface

    name, hq, hr, ref_cls = case
    hp = hq if surf_name == "quadratic" else hr
    expr = LOCKSTEP_EXPRESSIONS[surf_name]
    surf = Surface.from_expression(f"-({expr})" if hp.get("maximize") else expr, ["x", "y"])
    opt = optiviz.make_optimizer(name, **hp)
    x0 = lockstep.SURFACES[surf_name][1]
    steps = lockstep.STEPS
    kw = dict(record="path", divergence_bound=np.inf)
    a = optiviz.run(surf, opt, x0, steps, **kw)
    if supports(surf, opt) is not None:
        with pytest.raises(Unsupported, match="backend 'jax'"):
            optiviz.run(surf, opt, x0, steps, backend="jax", **kw)
        b = optiviz.run(surf, opt, x0, steps, backend="auto", **kw)
        assert np.array_equal(a.points, b.points)
        return
    b = optiviz.run(surf, opt, x0, steps, backend="jax", **kw)
    ref = lockstep.reference_path(name, hp, ref_cls, surf, x0, steps)
    for run in (a, b):
        assert run.status == "max_steps" and run.n_steps == steps, (run.status, run.n_steps)
        for t in range(1, steps + 1):
            lockstep.assert_lockstep(run.points[t], ref[t], t)
    _same(a.points, b.points, "points")
    _same(a.losses, b.losses, "losses")
    for field in ("n_f", "n_grad", "n_hess"):
        assert getattr(a, field) == getattr(b, field), field


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"),
    reason="the flag applies to x86 CPUs (an ARM CPU's NEON always fuses)",
)
def test_the_compiled_arithmetic_rounds_a_product_and_a_sum_twice_as_numpy():
    """On x86 the backend starts JAX without fused multiply-adds: (1 + 2^-30)^2 - (1 +
    2^-29) is 2^-60 exactly, and 0 when the product is rounded first, as numpy rounds it."""
    from optiviz.backends.jax import fuses_multiply_add

    x = 1.0 + 2.0**-30
    assert np.float64(x) * np.float64(x) - (1.0 + 2.0**-29) == 0.0  # numpy: two roundings
    assert not fuses_multiply_add()


def test_the_exact_flag_is_added_once_and_never_over_the_users_choice(monkeypatch):
    from jax._src import xla_bridge

    from optiviz.backends import jax as oj

    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(xla_bridge, "backends_are_initialized", lambda: False)
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    oj._exact_flags()
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_cpu_max_isa=AVX"
    oj._exact_flags()  # already chosen: unchanged
    assert os.environ["XLA_FLAGS"].count("xla_cpu_max_isa") == 1
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_max_isa=AVX512")  # the user's choice stands
    oj._exact_flags()
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_max_isa=AVX512"
    monkeypatch.delenv("XLA_FLAGS")
    monkeypatch.setattr(xla_bridge, "backends_are_initialized", lambda: True)
    oj._exact_flags()  # JAX already running: the flag could not apply, none is set
    assert "XLA_FLAGS" not in os.environ


def test_a_long_run_keeps_to_numpys_path():
    """20,000 Adam steps on Rosenbrock keeping the path (the bench's single run): every
    point within 1e-12 of numpy's (relative to the path's largest coordinate). Measured
    with XLA's fused multiply-adds: the paths parted by 6e-4 (and RMSprop's ends by 5e-3);
    without them, by 3.5e-18."""
    opt = optiviz.make_optimizer("adam", lr=1e-3)
    a = optiviz.run(ROSEN, opt, [-1.5, 2.0], 20_000, record="path")
    b = optiviz.run(ROSEN, opt, [-1.5, 2.0], 20_000, record="path", backend="jax")
    _same(a.points, b.points, "points")
    _same(a.losses, b.losses, "losses")
