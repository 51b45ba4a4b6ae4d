"""A rich progress bar for long commands, drawn on stderr only when it is a terminal.

The use cases in shared/ and services/ report progress through `shared.progress.Progress`;
this module is the one place that turns those reports into a bar. Piped, redirected or
under a test runner, stderr is not a terminal and the drawer is `no_progress`: nothing
extra is printed, so a script reading the command's output sees only the output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich import progress as rich
from rich.console import Console
from rich.progress import BarColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from shared.progress import Progress, no_progress

#: redraws a second: often enough to look alive, rarely enough to cost nothing
REFRESHES_PER_SECOND = 8


class _Bar:
    """One rich task per label, created on the label's first report."""

    def __init__(self, bar: rich.Progress, unit: str) -> None:
        self._bar = bar
        self._unit = unit
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, label: str, steps: int, total: int | None = None) -> None:
        task = self._tasks.get(label)
        if task is None:
            task = self._bar.add_task(label, total=total, unit=self._unit)
            self._tasks[label] = task
        elif total is not None:
            self._bar.update(task, total=total)
        if steps:
            self._bar.advance(task, steps)


@contextmanager
def progress_bar(unit: str = "rows", stream: TextIO | None = None) -> Iterator[Progress]:
    """A `Progress` that draws a bar on `stream` (stderr) if it is a terminal, else nothing.

    The bar pulses when a task's total is unknown and fills when it is known; beside it,
    the count of `unit` done so far and the time elapsed. It stays on screen when done
    (the last frame is the summary of what was read).
    """
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield no_progress
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} {task.fields[unit]}"),
        TimeElapsedColumn(),
    )
    console = Console(file=stream)
    with rich.Progress(*columns, console=console, refresh_per_second=REFRESHES_PER_SECOND) as bar:
        yield _Bar(bar, unit)
