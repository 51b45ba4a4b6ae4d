"""Progress of long work, told through a callback: shared/ reports it, the CLI draws it.

Long use cases (an import, an export, a report) call `progress(label, steps)` as their
work gets done; what the caller does with it (a rich bar on a terminal, nothing in a
pipe or a test) is the caller's business. shared/ never imports a drawing library (an
import-linter contract holds it).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told that `steps` more units of the work called `label` are done.

    The first call for a label (usually with `steps=0`) announces the work; `total`,
    when known, is how many steps it will take, and None means "unknown" (the drawer
    then counts without a goal rather than inventing one).
    """

    def __call__(self, label: str, steps: int, total: int | None = None) -> None: ...


def no_progress(label: str, steps: int, total: int | None = None) -> None:
    """The progress of a caller that shows none (a pipe, a test, a web request)."""
