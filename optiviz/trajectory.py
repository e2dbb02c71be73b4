"""The result of :func:`optiviz.engine.run`: one run or R runs stepped together.

Shapes (T = the number of steps the longest run took, n = the number of variables):

=================  =====================  ==========================
field              single run             batched (R runs)
=================  =====================  ==========================
``points``         ``(T+1, n)``           ``(R, T+1, n)``
``losses``         ``(T+1,)``             ``(R, T+1)``
``grad_norms``     ``(T+1,)``             ``(R, T+1)``
``effective_lr``   ``(T, n)``             ``(R, T, n)``
``lr_factor``      ``(T, n)``             ``(R, T, n)``
``status``         ``str``                ``(R,)`` array of str
``diverged_at``    ``int`` or ``None``    ``(R,)`` int, ``-1`` = did not diverge
``n_steps``        ``int``                ``(R,)`` int
``n_f`` ...        ``int``                ``(R,)`` int
``step_evals``     ``(T+1, 3)`` int       ``(R, T+1, 3)`` int
=================  =====================  ==========================

Conventions:

* Row ``t`` of ``points`` / ``losses`` / ``grad_norms`` is the iterate ``x_t`` (row 0 is
  ``x0``) with its loss and gradient norm; row ``t - 1`` of ``effective_lr`` and
  ``lr_factor`` belongs to step ``t`` (the step from ``x_{t-1}`` to ``x_t``).
* ``effective_lr`` is the **step taken per unit gradient**, ``-(x_t - x_{t-1})_i / g_i``
  per coordinate, with ``g`` the gradient the engine handed to the optimizer at
  ``x_{t-1}`` (in stochastic runs the mini-batch gradient, not the full-batch one): the
  same quantity for every optimizer (``lr`` for gradient descent; momentum, adaptive,
  Newton and line-search steps included). It is **nan where** ``g_i = 0`` (no gradient to
  measure the step by, including the 0/0 of no step); a diverged step may give inf / nan.
* ``lr_factor`` is the optimizer's own factor, ``state["eff_lr"]`` of each step (Adam's
  multiplier of ``m̂``, Rprop's step sizes, heavy ball's ``lr``), named by
  ``lr_factor_name``: a per-family diagnostic, not comparable across families.
* Arrays are sized to the **longest run**: a single run that stops after ``n_steps`` steps
  has exactly ``n_steps + 1`` points. In a batched trajectory each run fills rows
  ``0..n_steps[i]`` and the rows after that are **nan** (so plots simply end there);
  :meth:`Trajectory.run` returns run ``i`` trimmed to its own length, identical to a
  single run.
* A diverged run keeps the point at which divergence was detected (``diverged_at ==
  n_steps``): its last row may hold inf / nan or a huge value.
* ``status`` is ``"converged"`` (a tolerance was met), ``"diverged"``, ``"max_steps"``
  or ``"interrupted"`` (a KeyboardInterrupt stopped the run before its budget: the arrays,
  ``n_steps``, counts and ``final_*`` fields hold the steps it completed, see
  :func:`optiviz.engine.run`); a trajectory read back from CSV has status ``"unknown"``.
* With ``record="path"`` ``effective_lr`` and ``lr_factor`` are ``None``; with
  ``record="final"`` every per-step array is; the ``final_*`` fields, status,
  counts and ``best_loss`` are always present.
* ``distance_to_min`` is the distance from each iterate to the nearest known minimum of
  the surface; ``suboptimality`` is ``loss - f_min`` with ``f_min`` the lowest known
  minimum value. Both are ``None`` when the surface lists no minima.
* ``n_f`` / ``n_grad`` / ``n_hess`` count surface evaluations made for the algorithm
  (the engine's gradient at every iterate, including the final one, plus the optimizer's
  own oracle calls). A batched call on R points counts once for each run it serves. In
  stochastic runs the full-batch evaluations that only feed the recorded loss are not
  counted.
* ``step_evals`` (``record`` "all" or "path"; None with "final") splits those counts by
  step: row ``t`` holds the f, gradient and Hessian evaluations (columns
  :data:`EVAL_KINDS`) that step ``t`` made, the engine's evaluation of ``x_t`` included
  (row 0: before the first step, the evaluation of ``x0`` and the optimizer's ``init``),
  so the cumulative sum up to row ``t`` is what reaching ``x_t`` cost and the sum of
  every row is ``n_f`` / ``n_grad`` / ``n_hess``. In a batched trajectory from one engine
  run every oracle call serves every run: the rows are shared (a read-only view) and rows
  after a run's ``n_steps`` are the batch's, not the run's (:meth:`Trajectory.run` and
  :meth:`Trajectory.evaluations` cut them). :meth:`Trajectory.evaluations` weighs them
  into one cost per iterate (:func:`evaluation_weights`: by default a Hessian counts as n
  gradients).
* ``seeds`` (repeats, :meth:`Trajectory.stack`): a batched trajectory whose runs are
  settings repeated over these seeds, seed fastest: run ``i`` is setting ``i // N`` with
  seed ``seeds[i % N]`` (``N = len(seeds)``); None otherwise.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from optiviz._format import json_float, json_safe, plural_count
from optiviz.errors import OptivizError

Array = np.ndarray

__all__ = [
    "Trajectory",
    "RunLabels",
    "EVAL_KINDS",
    "EVAL_COLUMNS",
    "DEFAULT_EVALUATION_WEIGHTS",
    "evaluation_weights",
    "weights_text",
]

_FIXED_BEFORE = ("run", "label", "optimizer", "step")
_FIXED_AFTER = ("loss", "grad_norm")
#: Per-step rates exported after the fixed columns, one column per variable each.
_RATES = ("effective_lr", "lr_factor")
#: The kinds of evaluation counted (the columns of ``step_evals``).
EVAL_KINDS = ("f", "grad", "hess")
#: The CSV columns of the per-step counts (after the rates).
EVAL_COLUMNS = tuple(f"evals_{k}" for k in EVAL_KINDS)
#: What one evaluation of each kind costs by default, in evaluations: a Hessian costs as
#: much as n gradients ("n": the surface's number of variables).
DEFAULT_EVALUATION_WEIGHTS: dict[str, float | str] = {"f": 1, "grad": 1, "hess": "n"}


def evaluation_weights(weights: Any = None, n: int = 1) -> Array:
    """The weights ``(w_f, w_grad, w_hess)`` of ``weights`` (a mapping of some of
    :data:`EVAL_KINDS` to a number >= 0 or ``"n"``, the number of variables ``n``; missing
    kinds take :data:`DEFAULT_EVALUATION_WEIGHTS`). Raises :class:`OptivizError` naming a
    bad kind or value."""
    given = dict(weights or {})
    bad = [k for k in given if k not in EVAL_KINDS]
    if bad:
        raise OptivizError(
            f"evaluation weights: unknown kind {bad[0]!r}; the kinds are {', '.join(EVAL_KINDS)}",
            key=str(bad[0]),
            allowed=", ".join(EVAL_KINDS),
        )
    out = []
    for kind in EVAL_KINDS:
        v = given.get(kind, DEFAULT_EVALUATION_WEIGHTS[kind])
        if isinstance(v, str) and v == "n":
            v = n
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        if not ok or not math.isfinite(float(v)) or float(v) < 0:
            raise OptivizError(
                f"evaluation weight of {kind!r} must be a finite number >= 0 or 'n' (the "
                f"number of variables); got {v!r}",
                key=kind,
                value=v,
                allowed="a finite number >= 0 or 'n'",
            )
        out.append(float(v))
    return np.array(out)


def _num(v: Any) -> str:
    """Shortest text that reads back to the same float (``repr``): full precision."""
    return repr(float(v))


def weights_text(weights: Any, n: int) -> str:
    """The weights as an axis label says them: ``f + grad + 2 Hessian`` (n = 2)."""
    from optiviz._format import fmt_number

    w = evaluation_weights(weights, n)
    names = {"f": "f", "grad": "grad", "hess": "Hessian"}
    parts = [
        names[kind] if v == 1 else f"{fmt_number(v)} {names[kind]}"
        for kind, v in zip(EVAL_KINDS, w, strict=True)
        if v != 0
    ]
    return " + ".join(parts)


def _same(a: Any, b: Any) -> bool:
    """Whether two hyperparameter values are equal (numbers, pairs, text)."""
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return a == b


class RunLabels(Sequence):
    """Per-run legend labels of a batched trajectory, computed on first use.

    Behaves as a read-only list of str (a sweep of 10,000 runs does not pay for 10,000
    labels nobody shows). ``label_of(i)`` gives the label of run ``i``.
    """

    def __init__(self, label_of: Callable[[int], str], n: int):
        self._label_of = label_of
        self._n = n
        self._cache: list[str] | None = None

    def _all(self) -> list[str]:
        if self._cache is None:
            self._cache = [self._label_of(i) for i in range(self._n)]
        return self._cache

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if self._cache is None and isinstance(i, (int, np.integer)):
            if not -self._n <= i < self._n:
                raise IndexError(f"run index {i} out of range for {self._n} runs")
            return self._label_of(int(i) % self._n)
        return self._all()[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._all())


@dataclass
class Trajectory:
    """Points, losses, gradient norms and effective learning rates of one or R runs.

    See the module docstring for shapes and conventions (``effective_lr``: the step per
    unit gradient; ``lr_factor``: the optimizer's own factor, named ``lr_factor_name``).
    """

    points: Array | None
    losses: Array | None
    grad_norms: Array | None
    effective_lr: Array | None
    status: Any
    diverged_at: Any
    n_steps: Any
    n_f: Any = 0
    n_grad: Any = 0
    n_hess: Any = 0
    steps_to_tolerance: Any = None
    final_point: Array | None = None
    final_loss: Any = None
    final_grad_norm: Any = None
    best_loss: Any = None
    lr_factor: Array | None = None
    lr_factor_name: str = ""
    variables: tuple[str, ...] = ()
    optimizer: str = ""
    optimizer_label: str = ""
    hyperparameters: dict = field(default_factory=dict)
    run_labels: Sequence[str] | None = None  # list or RunLabels (batched runs)
    surface: str = ""
    minima: Array | None = None  # (k, n) known minima points
    f_min: float | None = None
    schedule: str | None = None
    batched: bool = False
    record: str = "all"
    steps: int = 0  # steps requested
    wall_time: float = 0.0
    settings: dict = field(default_factory=dict)
    loss_steps: tuple[int, ...] = ()  # run(loss_steps=...): the steps of losses_at's columns
    losses_at: Array | None = None  # (R, len(loss_steps)) kept losses (nan after a stop)
    step_evals: Array | None = None  # (T+1, 3) / (R, T+1, 3): evaluations of each step
    seeds: tuple[int, ...] | None = None  # repeats: run i has seed seeds[i % len(seeds)]

    # -- basic facts -------------------------------------------------------------------
    @property
    def n_runs(self) -> int | None:
        """R for a batched trajectory, ``None`` for a single run."""
        return len(self.n_steps) if self.batched else None

    @property
    def n(self) -> int:
        return len(self.variables)

    @property
    def converged(self):
        """``status == "converged"`` (a bool, or a bool array for batched runs)."""
        return self.status == "converged"

    @property
    def interrupted(self) -> bool:
        """Whether a KeyboardInterrupt cut a run short (any run of a batch): its
        records end at the last step it completed, with status ``"interrupted"``."""
        return bool(np.any(np.asarray(self.status) == "interrupted"))

    @property
    def label(self) -> str:
        return self.optimizer_label or self.optimizer

    def _has_minima(self) -> bool:
        return self.minima is not None and len(self.minima) > 0

    def _dist(self, pts: Array) -> Array:
        d = np.linalg.norm(pts[..., None, :] - self.minima, axis=-1)
        return d.min(axis=-1)

    @property
    def distance_to_min(self) -> Array | None:
        """Per-step distance to the nearest known minimum (``(T+1,)`` or ``(R, T+1)``)."""
        if not self._has_minima() or self.points is None:
            return None
        with np.errstate(all="ignore"):
            return self._dist(self.points)

    @property
    def final_distance_to_min(self):
        """Distance from the final point to the nearest known minimum (float or (R,))."""
        if not self._has_minima() or self.final_point is None:
            return None
        with np.errstate(all="ignore"):
            d = self._dist(self.final_point)
        return float(d) if not self.batched else d

    @property
    def suboptimality(self) -> Array | None:
        """Per-step ``loss - f_min`` (``f_min``: lowest known minimum value)."""
        if self.f_min is None or self.losses is None:
            return None
        with np.errstate(all="ignore"):  # inf - inf (data of 1e308) is nan, not a warning
            return self.losses - self.f_min

    @property
    def final_suboptimality(self):
        """Final ``loss - f_min`` (float or (R,)); nan when both are inf (data of 1e308
        make the known minimum value inf), with no RuntimeWarning."""
        if self.f_min is None or self.final_loss is None:
            return None
        with np.errstate(all="ignore"):
            out = np.asarray(self.final_loss) - self.f_min
        return float(out) if not self.batched else out

    # -- views -------------------------------------------------------------------------
    def run(self, i: int) -> Trajectory:
        """Run ``i`` of a batched trajectory as a single-run trajectory (trimmed)."""
        if not self.batched:
            if i in (0, -1):
                return self
            raise IndexError(f"a single-run trajectory has only run 0; got {i}")
        R = len(self.n_steps)
        if not -R <= i < R:
            raise IndexError(f"run index {i} out of range for {R} runs")
        i = i % R
        k = int(self.n_steps[i])

        def cut(a, rows):
            return None if a is None else a[i, :rows].copy()

        hyper = {
            key: (v[i] if isinstance(v, list) else v) for key, v in self.hyperparameters.items()
        }
        d = int(self.diverged_at[i])
        stt = int(self.steps_to_tolerance[i])
        settings = dict(self.settings)
        if self.seeds:
            settings["seed"] = int(self.seeds[i % len(self.seeds)])
        return replace(
            self,
            points=cut(self.points, k + 1),
            losses=cut(self.losses, k + 1),
            grad_norms=cut(self.grad_norms, k + 1),
            effective_lr=cut(self.effective_lr, k),
            lr_factor=cut(self.lr_factor, k),
            status=str(self.status[i]),
            diverged_at=None if d < 0 else d,
            n_steps=k,
            n_f=int(self.n_f[i]),
            n_grad=int(self.n_grad[i]),
            n_hess=int(self.n_hess[i]),
            steps_to_tolerance=None if stt < 0 else stt,
            final_point=np.asarray(self.final_point)[i].copy(),
            final_loss=float(self.final_loss[i]),
            final_grad_norm=float(self.final_grad_norm[i]),
            best_loss=float(self.best_loss[i]),
            optimizer_label=self.run_labels[i] if self.run_labels else self.optimizer_label,
            hyperparameters=hyper,
            run_labels=None,
            batched=False,
            settings=settings,
            loss_steps=(),
            losses_at=None,
            step_evals=None if self.step_evals is None else np.array(self.step_evals[i, : k + 1]),
            seeds=None,
        )

    def runs(self) -> list[Trajectory]:
        """Every run as a single-run trajectory."""
        return [self.run(i) for i in range(len(self.n_steps))] if self.batched else [self]

    @classmethod
    def from_runs(
        cls, runs: Sequence[Trajectory], run_labels: Sequence[str] | None = None, **fields: Any
    ) -> Trajectory:
        """One batched trajectory of single-run trajectories (their order kept): per-step
        arrays nan padded to the longest (counts zero padded), summaries as arrays,
        hyperparameters as lists where the runs differ. The first run gives the
        metadata (surface, optimizer, record, ...); ``fields`` override any field."""
        if not runs:
            raise OptivizError("from_runs needs at least one run")
        runs = [r for tr in runs for r in tr.runs()]
        first = runs[0]
        R = len(runs)
        kmax = max(int(r.n_steps) for r in runs)

        def pad(name: str, rows: int, fill: float = math.nan, dtype: Any = float):
            if getattr(first, name) is None:
                return None
            a0 = np.asarray(getattr(first, name))
            out = np.full((R, rows, *a0.shape[1:]), fill, dtype=dtype)
            for i, r in enumerate(runs):
                a = np.asarray(getattr(r, name))
                out[i, : len(a)] = a
            return out

        hyper: dict[str, Any] = {}
        for key in first.hyperparameters:
            vals = [r.hyperparameters.get(key) for r in runs]
            same = all(_same(v, vals[0]) for v in vals)
            hyper[key] = vals[0] if same else vals

        def arr(name: str, dtype: Any = float, none: Any = -1) -> Array:
            vals = [getattr(r, name) for r in runs]
            return np.array([none if v is None else v for v in vals], dtype=dtype)

        out = replace(
            first,
            points=pad("points", kmax + 1),
            losses=pad("losses", kmax + 1),
            grad_norms=pad("grad_norms", kmax + 1),
            effective_lr=pad("effective_lr", kmax),
            lr_factor=pad("lr_factor", kmax),
            step_evals=pad("step_evals", kmax + 1, 0, np.int32),
            status=np.array([str(r.status) for r in runs]),
            diverged_at=arr("diverged_at", np.int64),
            n_steps=arr("n_steps", np.int64),
            n_f=arr("n_f", np.int64),
            n_grad=arr("n_grad", np.int64),
            n_hess=arr("n_hess", np.int64),
            steps_to_tolerance=arr("steps_to_tolerance", np.int64),
            final_point=np.array([np.asarray(r.final_point, dtype=float) for r in runs]),
            final_loss=arr("final_loss", float, math.nan),
            final_grad_norm=arr("final_grad_norm", float, math.nan),
            best_loss=arr("best_loss", float, math.nan),
            hyperparameters=hyper,
            run_labels=list(run_labels) if run_labels is not None else [r.label for r in runs],
            batched=True,
            wall_time=float(sum(r.wall_time for r in runs)),
            settings=dict(first.settings),
            loss_steps=(),
            losses_at=None,
            seeds=None,
        )
        return replace(out, **fields) if fields else out

    @classmethod
    def stack(
        cls,
        trajectories: Sequence[Trajectory],
        seeds: Sequence[int],
        run_labels: Sequence[str] | None = None,
    ) -> Trajectory:
        """Repeats: ``trajectories[k]`` is one engine run (single or batched, every one with
        the same R settings) with seed ``seeds[k]``. Returns one batched trajectory of
        ``R x N`` runs, seed fastest (run ``j N + k``: setting ``j``, seed ``seeds[k]``),
        with ``seeds`` set and ``settings["seed"]`` the list of seeds; its wall time is the
        sum of the runs'."""
        if len(trajectories) != len(seeds) or not seeds:
            raise OptivizError("stack: one trajectory per seed")
        per_seed = [tr.runs() for tr in trajectories]
        R = len(per_seed[0])
        if any(len(p) != R for p in per_seed):
            raise OptivizError("stack: every seed's trajectory must have the same runs")
        runs = [per_seed[k][j] for j in range(R) for k in range(len(seeds))]
        out = cls.from_runs(runs, run_labels)
        out.seeds = tuple(int(v) for v in seeds)
        out.settings = {**out.settings, "seed": list(out.seeds)}
        out.wall_time = float(sum(tr.wall_time for tr in trajectories))
        return out

    # -- evaluations -------------------------------------------------------------------
    def evaluations(self, weights: Any = None) -> Array | None:
        """The cost of reaching each iterate, in weighted evaluations: the cumulative sum of
        ``step_evals`` weighed by :func:`evaluation_weights` (``(T+1,)``, or ``(R, T+1)``
        nan after each run's stop); None without per-step counts (``record="final"``)."""
        if self.step_evals is None:
            return None
        w = evaluation_weights(weights, self.n)
        c = np.cumsum(np.asarray(self.step_evals, dtype=float) @ w, axis=-1)
        if self.batched:
            t = np.arange(c.shape[-1])
            c = np.where(t[None, :] <= np.asarray(self.n_steps)[:, None], c, math.nan)
        return c

    def cost(self, weights: Any = None) -> Any:
        """The total cost of the run(s) in weighted evaluations, ``w_f n_f + w_grad n_grad +
        w_hess n_hess`` (:func:`evaluation_weights`): a float, or ``(R,)`` for R runs."""
        w = evaluation_weights(weights, self.n)
        c = w[0] * np.asarray(self.n_f) + w[1] * np.asarray(self.n_grad)
        c = c + w[2] * np.asarray(self.n_hess)
        return c if self.batched else float(c)

    # -- export ------------------------------------------------------------------------
    def _rates(self) -> list[str]:
        """The per-step rates this trajectory holds (of ``_RATES``, in that order)."""
        return [name for name in _RATES if getattr(self, name) is not None]

    def columns(self) -> list[str]:
        """``run, label, optimizer, step, <variables>, loss, grad_norm``, then, when
        recorded, ``effective_lr_<v>`` and ``lr_factor_<v>`` for each variable ``v``, then
        ``evals_f, evals_grad, evals_hess`` (the evaluations of each step, ``step_evals``)."""
        rates = [f"{name}_{v}" for name in self._rates() for v in self.variables]
        evals = list(EVAL_COLUMNS) if self.step_evals is not None else []
        return [*_FIXED_BEFORE, *self.variables, *_FIXED_AFTER, *rates, *evals]

    def to_rows(self, run_offset: int = 0, label: str | None = None) -> list[list]:
        """Long-format rows ``[run, label, optimizer, step, *x, loss, grad_norm, *rates]``
        (the columns of :meth:`columns`).

        One row per recorded iterate of each run (rows 0..n_steps; no padding rows). Row
        ``t`` holds the rates of step ``t`` (the step that reached ``x_t``): nan in row 0.
        ``label`` overrides the per-run labels.
        """
        if self.points is None:
            raise OptivizError(
                "this trajectory was recorded with record='final' and has no per-step "
                "rows; rerun with record='all' to export steps"
            )
        rows = []
        names = self._rates()
        nan_row = [math.nan] * (len(names) * self.n)
        for i, tr in enumerate(self.runs()):
            lab = label if label is not None else tr.label
            P, L, G = (np.asarray(a) for a in (tr.points, tr.losses, tr.grad_norms))
            rates = (
                np.concatenate([getattr(tr, name) for name in names], axis=1).tolist()
                if names
                else []
            )
            counts = None if tr.step_evals is None else np.asarray(tr.step_evals).tolist()
            for t in range(int(tr.n_steps) + 1):
                rows.append(
                    [
                        run_offset + i,
                        lab,
                        self.optimizer,
                        t,
                        *P[t].tolist(),
                        float(L[t]),
                        float(G[t]),
                        *(rates[t - 1] if t and names else nan_row),
                        *(counts[t] if counts is not None else ()),
                    ]
                )
        return rows

    def to_csv(
        self,
        path_or_buffer: Any,
        run_offset: int = 0,
        label: str | None = None,
        header: bool = True,
    ) -> None:
        """Write :meth:`to_rows` as CSV (floats at full precision, ``repr``).

        ``path_or_buffer`` is a path (overwritten) or an open text buffer (appended to);
        pass ``header=False`` and a ``run_offset`` to append several trajectories to one
        file.
        """
        if isinstance(path_or_buffer, (str, Path)):
            with open(path_or_buffer, "w", newline="") as fh:
                self.to_csv(fh, run_offset, label, header)
            return
        w = csv.writer(path_or_buffer, lineterminator="\n")
        if header:
            w.writerow(self.columns())
        counts = len(EVAL_COLUMNS) if self.step_evals is not None else 0
        for row in self.to_rows(run_offset, label):
            end = len(row) - counts
            w.writerow(row[:4] + [_num(v) for v in row[4:end]] + [str(c) for c in row[end:]])

    @classmethod
    def from_csv(cls, path_or_buffer: Any, label: str | None = None) -> Trajectory:
        """Read a trajectory written by :meth:`to_csv` (points, losses, gradient norms, the
        per-step rates and evaluation counts when the file has their columns; columns after
        those, such as an experiment's ``seed``, ``start`` and hyperparameter columns, are
        not read; the totals ``n_f`` / ``n_grad`` / ``n_hess`` are the counts' sums).

        ``label`` keeps only the rows with that label (default: every row). One run gives a
        single trajectory, several a batched one (nan padded, runs in the order of their
        ``run`` numbers, renumbered from 0; each run keeps its label in ``run_labels``).
        Fields that the CSV does not hold are left empty (``status`` is ``"unknown"``).
        """
        if isinstance(path_or_buffer, (str, Path)):
            with open(path_or_buffer, newline="") as fh:
                return cls.from_csv(fh, label)
        reader = csv.reader(path_or_buffer)
        try:
            head = next(reader)
        except StopIteration:
            raise OptivizError("trajectory CSV is empty") from None
        # <variables> end at "loss, grad_norm"; after them the rates, then any further
        # columns (an experiment's trajectories.csv: start, hyperparameters), not read here
        ends = [i for i in range(5, len(head) - 1) if head[i : i + 2] == ["loss", "grad_norm"]]
        stop = ends[0] + 2 if ends else len(head)
        rest = list(head[4:stop])
        variables = tuple(rest[:-2])
        after = head[stop:]
        names = [name for name in _RATES if variables and f"{name}_{variables[0]}" in after]
        rate_cols = after[: len(names) * len(variables)]
        has_evals = tuple(after[len(rate_cols) : len(rate_cols) + 3]) == EVAL_COLUMNS
        if (
            tuple(head[:4]) != _FIXED_BEFORE
            or tuple(rest[-2:]) != _FIXED_AFTER
            or not variables
            or rate_cols != [f"{name}_{v}" for name in names for v in variables]
        ):
            raise OptivizError(
                "not a trajectory CSV: expected columns run,label,optimizer,step,"
                "<variables...>,loss,grad_norm[,effective_lr_<variable>...]"
                f"[,lr_factor_<variable>...]; got {','.join(head)}"
            )
        rows = list(reader)
        if label is not None:
            labels = list(dict.fromkeys(r[1] for r in rows))
            if label not in labels:
                raise OptivizError(f"label {label!r} not in the CSV; labels: {labels}")
            rows = [r for r in rows if r[1] == label]
        if not rows:
            raise OptivizError("trajectory CSV has no rows")
        by_run: dict[int, list] = {}
        for r in rows:
            by_run.setdefault(int(r[0]), []).append(r)
        nv = len(variables)
        runs = []
        for run_id in sorted(by_run):
            rr = sorted(by_run[run_id], key=lambda r: int(r[3]))
            width = stop + len(rate_cols)
            vals = np.array([[float(v) for v in r[4:width]] for r in rr], dtype=float)
            counts = (
                np.array([[int(c) for c in r[width : width + 3]] for r in rr], dtype=np.int32)
                if has_evals
                else None
            )
            runs.append((rr[0][1], rr[0][2], vals, counts))
        optimizer = runs[0][1]
        lab = runs[0][0]
        kmax = max(len(v) for _, _, v, _ in runs)
        R = len(runs)
        P = np.full((R, kmax, nv), np.nan)
        L = np.full((R, kmax), np.nan)
        G = np.full((R, kmax), np.nan)
        rates = {name: np.full((R, kmax - 1, nv), np.nan) for name in names}
        E: Array | None = np.zeros((R, kmax, 3), dtype=np.int32) if has_evals else None
        for i, (_, _, v, cnt) in enumerate(runs):
            if E is not None:
                E[i, : len(v)] = cnt
            P[i, : len(v)] = v[:, :nv]
            L[i, : len(v)] = v[:, nv]
            G[i, : len(v)] = v[:, nv + 1]
            for j, name in enumerate(names):
                a = nv + 2 + j * nv
                rates[name][i, : len(v) - 1] = v[1:, a : a + nv]
        n_steps = np.array([len(v) - 1 for _, _, v, _ in runs])
        totals = E.sum(axis=1) if E is not None else np.zeros((R, 3), int)
        last = n_steps
        idx = np.arange(R)
        best = np.fmin.reduce(L, axis=1)  # ignores the nan padding
        traj = cls(
            points=P,
            losses=L,
            grad_norms=G,
            effective_lr=rates.get("effective_lr"),
            lr_factor=rates.get("lr_factor"),
            status=np.array(["unknown"] * R, dtype=object).astype(str),
            diverged_at=np.full(R, -1),
            n_steps=n_steps,
            n_f=totals[:, 0],
            n_grad=totals[:, 1],
            n_hess=totals[:, 2],
            step_evals=E,
            steps_to_tolerance=np.full(R, -1),
            final_point=P[idx, last],
            final_loss=L[idx, last],
            final_grad_norm=G[idx, last],
            best_loss=best,
            variables=variables,
            optimizer=optimizer,
            optimizer_label=lab,
            run_labels=[lb for lb, _, _, _ in runs],
            batched=True,
            steps=int(n_steps.max()),
        )
        return traj.run(0) if R == 1 else traj

    # -- summaries ---------------------------------------------------------------------
    def status_counts(self) -> dict[str, int]:
        """How many runs ended with each status."""
        names, counts = np.unique(np.asarray(self.status, dtype=str).ravel(), return_counts=True)
        return {str(k): int(v) for k, v in zip(names, counts, strict=True)}

    def summary(self) -> dict:
        """A JSON-safe dict for ``run.json`` (non-finite floats become ``None``)."""

        def lst(a, conv):
            return [conv(v) for v in np.asarray(a).ravel()]

        def opt_int(v):
            v = int(v)
            return None if v < 0 else v

        out: dict[str, Any] = {
            "surface": self.surface,
            "variables": list(self.variables),
            "optimizer": self.optimizer,
            "label": self.label,
            "hyperparameters": json_safe(self.hyperparameters),
            "schedule": self.schedule,
            "record": self.record,
            "lr_factor_name": self.lr_factor_name,
            "steps": int(self.steps),
            "batched": bool(self.batched),
            "n_runs": self.n_runs,
            "wall_time": float(self.wall_time),
            "settings": json_safe(self.settings),
        }
        fd = self.final_distance_to_min
        fs = self.final_suboptimality
        if not self.batched:
            out.update(
                status=str(self.status),
                n_steps=int(self.n_steps),
                diverged_at=None if self.diverged_at is None else int(self.diverged_at),
                steps_to_tolerance=(
                    None if self.steps_to_tolerance is None else int(self.steps_to_tolerance)
                ),
                n_f=int(self.n_f),
                n_grad=int(self.n_grad),
                n_hess=int(self.n_hess),
                final_point=lst(self.final_point, json_float),
                final_loss=json_float(self.final_loss),
                final_grad_norm=json_float(self.final_grad_norm),
                best_loss=json_float(self.best_loss),
                final_distance_to_min=None if fd is None else json_float(fd),
                final_suboptimality=None if fs is None else json_float(fs),
            )
        else:
            out.update(
                run_labels=list(self.run_labels) if self.run_labels else None,
                status=[str(s) for s in self.status],
                status_counts=self.status_counts(),
                n_steps=lst(self.n_steps, int),
                diverged_at=lst(self.diverged_at, opt_int),
                steps_to_tolerance=lst(self.steps_to_tolerance, opt_int),
                n_f=lst(self.n_f, int),
                n_grad=lst(self.n_grad, int),
                n_hess=lst(self.n_hess, int),
                final_point=[lst(p, json_float) for p in np.asarray(self.final_point)],
                final_loss=lst(self.final_loss, json_float),
                final_grad_norm=lst(self.final_grad_norm, json_float),
                best_loss=lst(self.best_loss, json_float),
                final_distance_to_min=None if fd is None else lst(fd, json_float),
                final_suboptimality=None if fs is None else lst(fs, json_float),
            )
        return out

    def _repr_markdown_(self) -> str:
        """Jupyter's view: optimizer, hyperparameters, status, steps, final point and loss
        (:func:`optiviz.report.display.trajectory_markdown`)."""
        from optiviz.report.display import trajectory_markdown

        return trajectory_markdown(self)

    def __repr__(self) -> str:
        if self.batched:
            st = ", ".join(f"{k}: {v}" for k, v in self.status_counts().items())
            return (
                f"Trajectory({self.label!r} on {self.surface!r}, "
                f"{plural_count(int(self.n_runs or 0), 'run')}, "
                f"up to {int(np.max(self.n_steps))} steps; {st})"
            )
        return (
            f"Trajectory({self.label!r} on {self.surface!r}, {self.n_steps} steps, "
            f"{self.status}, final loss {float(self.final_loss):.6g})"
        )
