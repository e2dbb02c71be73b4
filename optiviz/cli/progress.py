"""The progress bar of long commands (a rich bar on stderr, shown only after a delay) and
what a command prints when Ctrl-C stops it."""

from __future__ import annotations

import threading
from typing import Any

import typer

#: The exit code of a command stopped by Ctrl-C (128 + SIGINT, the shell's convention).
EXIT_INTERRUPTED = 130


class LazyBar:
    """A rich progress bar (on stderr) that appears only once the work has taken
    ``delay`` seconds; silent for quick runs."""

    def __init__(self, delay: float = 1.0, force: bool = False):
        self.delay = delay
        self.force = force  # draw even when stderr is not a terminal (tests)
        self.total = 0
        self.done = 0
        self.partial = 0.0  # the fraction of the current unit done (from steps())
        self.desc = ""
        self.detail = ""  # e.g. "1,200/20,000 steps", shown after the description
        self._bar: Any = None  # rich.progress.Progress once shown
        self._task: Any = None
        self._ended = False
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def begin(self, total: int) -> None:
        self.total = total
        self._timer = threading.Timer(self.delay, self._show)
        self._timer.daemon = True
        self._timer.start()

    def _show(self) -> None:
        with self._lock:
            if self._ended:
                return
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            console = Console(stderr=True, force_terminal=True if self.force else None)
            if not console.is_terminal:  # no bar in logs and pipes
                return
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(
                self._text(), total=self.total, completed=self.done + self.partial
            )

    def _text(self) -> str:
        return f"{self.desc}: {self.detail}" if self.detail else self.desc

    def describe(self, description: str) -> None:
        with self._lock:
            self.desc = description
            self.detail = ""
            if self._bar is not None:
                self._bar.update(self._task, description=description)

    def steps(self, done: int, total: int) -> None:
        """Progress within the current unit: ``done`` of its ``total`` steps (moves the
        bar by that fraction of the unit and shows the counts)."""
        with self._lock:
            self.partial = min(done / total, 1.0) if total else 1.0
            self.detail = f"{done:,}/{total:,} steps"
            if self._bar is not None:
                self._bar.update(
                    self._task, description=self._text(), completed=self.done + self.partial
                )

    def advance(self) -> None:
        with self._lock:
            self.done += 1
            self.partial = 0.0
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done)

    def end(self) -> None:
        with self._lock:
            self._ended = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None


def interrupted(result: Any = None) -> typer.Exit:
    """Print the one line of a command stopped by Ctrl-C (to stderr) and return the
    :data:`EXIT_INTERRUPTED` exit to raise. ``result``: the interrupted
    :class:`~optiviz.experiment.ExperimentResult` of ``optiviz run``, whose counts the line
    states (nothing was written)."""
    if result is None:
        typer.echo("interrupted", err=True)
        return typer.Exit(EXIT_INTERRUPTED)
    statuses = [str(r.trajectory.status) for r in result.runs]
    cut = statuses.count("interrupted")
    left = len(result.config.optimizers) - len(result.trajectories)
    typer.echo(
        f"interrupted: {len(statuses) - cut} run{'' if len(statuses) - cut == 1 else 's'} "
        f"finished, {cut} cut short, {left} optimizer entr{'y' if left == 1 else 'ies'} "
        "not run; nothing written",
        err=True,
    )
    return typer.Exit(EXIT_INTERRUPTED)
