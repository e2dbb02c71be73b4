"""The engine: run an optimizer on a surface and record a :class:`~optiviz.trajectory.Trajectory`.

``run(surface, optimizer, x0, steps, ...)`` steps one run (``x0`` of shape ``(n,)`` and
scalar hyperparameters: the fast path, ``x`` stays an ``(n,)`` array) or R runs together
(``x0`` of shape ``(R, n)``, or hyperparameters given as arrays of R values: ``x`` is
``(R, n)``). Each step ``t = 1..T``:

1. the loss and gradient at ``x_{t-1}`` come from one fused ``value_and_grad`` call made
   at the end of the previous step (or before the loop for ``x0``);
2. ``lr_t = schedule(t, optimizer.lr)`` (or ``optimizer.lr`` without a schedule);
3. ``x_t, state = optimizer.step(x_{t-1}, g, state, oracle, lr_t, t)``;
4. loss and gradient at ``x_t`` are evaluated, recorded and tested for stopping.

Stopping rules (:mod:`optiviz.engine.stopping`; each run of a batch stops on its own; its
``x`` is then frozen and its rows after the stop are nan; the loop ends when every run has
stopped):

* ``tol_grad``: ``||grad f(x_t)|| <= tol_grad`` -> ``"converged"`` (tested as
  ``||g||^2 <= tol_grad^2``, the same arithmetic for single and batched runs).
* ``tol_loss``: if the surface knows its minimum value ``f_min``, ``f(x_t) - f_min <=
  tol_loss``; otherwise ``|f(x_t) - f(x_{t-1})| <= tol_loss`` (first tested at t = 1)
  -> ``"converged"``.
* divergence: a non-finite loss or gradient (hence also a non-finite point; a gradient
  whose squared norm overflows, ``||g|| > ~1e154``, counts as non-finite), or
  ``|f(x_t)| > bound`` with ``bound = divergence_bound`` or, by default,
  ``1e12 * max(1, |f(x0)|)`` per run -> ``"diverged"`` with ``diverged_at = t``. Never an
  exception and never a numpy warning: the loop runs under ``np.errstate(all="ignore")``.
  A run that grows but stays under the bound is recorded in full.
* otherwise ``"max_steps"`` after ``steps`` steps.
* Ctrl-C (a KeyboardInterrupt while the runs step) -> ``"interrupted"`` for every run still
  going, which keeps the steps it completed (see :func:`~optiviz.engine.run.run`, whose
  ``progress=`` callback is told the steps done every ~0.1 s).

Effective learning rate (:mod:`optiviz.engine.effective`): ``Trajectory.effective_lr`` is
the step taken per unit gradient, ``-(x_t - x_{t-1})_i / g_i`` with ``g`` the gradient
handed to the optimizer at ``x_{t-1}`` (nan where ``g_i = 0``), the same quantity for every
optimizer; ``Trajectory.lr_factor`` is the optimizer's own factor ``state["eff_lr"]``
(named by its class's ``lr_factor_name``), a diagnostic.

Stochastic runs (``batch_size`` on a data surface, ``surface.n_samples`` not None): the
mini-batches come from :func:`optiviz._batches.epoch_batches` (shuffled epochs from
``np.random.default_rng(seed)``; the last batch of an epoch may be smaller, like PyTorch's
``DataLoader`` with ``drop_last=False``). At each step the oracle's ``batch`` is set to the
mini-batch, so the optimizer's own evaluations use it too, and ``g`` is the mini-batch
gradient. The **recorded** loss and gradient norm, and the stopping tests, use the
full-batch values (one extra full evaluation per step, not counted in ``n_f`` /
``n_grad``). All R runs of a batch see the same mini-batch sequence; the same seed gives
identical trajectories.

``record="all"`` keeps every iterate; ``record="path"`` the same without the per-step
rates; ``record="final"`` keeps only final states and summaries (final point, loss and
gradient norm, best loss, status, diverged_at, n_steps, steps_to_tolerance) and allocates
nothing of size T * R * n.

Modules: :mod:`~optiviz.engine.run` (the entry point), :mod:`~optiviz.engine.checks`
(argument checks), :mod:`~optiviz.engine.stopping`, :mod:`~optiviz.engine.loops`,
:mod:`~optiviz.engine.effective`, :mod:`~optiviz.engine.batches`.
"""

from optiviz.engine.run import RECORD_MODES, run
from optiviz.engine.stopping import default_divergence_bound

__all__ = ["run", "RECORD_MODES", "default_divergence_bound"]
