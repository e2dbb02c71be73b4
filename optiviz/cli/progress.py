"""The progress bar of long commands: a rich bar on stderr, shown only after a delay."""

from __future__ import annotations

import threading
from typing import Any


class LazyBar:
    """A rich progress bar (on stderr) that appears only once the work has taken
    ``delay`` seconds; silent for quick runs."""

    def __init__(self, delay: float = 1.0, force: bool = False):
        self.delay = delay
        self.force = force  # draw even when stderr is not a terminal (tests)
        self.total = 0
        self.done = 0
        self.desc = ""
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
            self._task = self._bar.add_task(self.desc, total=self.total, completed=self.done)

    def describe(self, description: str) -> None:
        with self._lock:
            self.desc = description
            if self._bar is not None:
                self._bar.update(self._task, description=description)

    def advance(self) -> None:
        with self._lock:
            self.done += 1
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
