"""Time, injected: production code asks a Clock, tests hand it a fixed or stepped one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that says what it is told; `advance` moves it forward."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant = self.instant + delta


def local_today(clock: Clock, timezone: str) -> date:
    """The calendar date it is now in `timezone`."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()


class FileClock:
    """A clock that reads the current instant from a file: a rehearsal clock shared by
    every process of a test or a dry run (`LIAISON_CLOCK_FILE`), so that a scheduler and
    its workers, each a process of its own, agree on a simulated time that the test moves.

    The file holds one ISO 8601 instant with an offset. It is read again only when its
    modification time changes, so asking often costs one `stat`. Never set in production.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: int | None = None
        self._instant = datetime.now(UTC)

    def now(self) -> datetime:
        stamp = self.path.stat().st_mtime_ns
        if stamp != self._stamp:
            text = self.path.read_text(encoding="utf-8").strip()
            instant = datetime.fromisoformat(text)
            if instant.tzinfo is None:
                raise ValueError(f"{self.path}: {text!r} has no UTC offset")
            self._instant = instant.astimezone(UTC)
            self._stamp = stamp
        return self._instant

    @staticmethod
    def write(path: Path, instant: datetime) -> None:
        """Set the rehearsal time of every process reading `path` (atomically)."""
        partial = path.with_suffix(".partial")
        partial.write_text(instant.isoformat(), encoding="utf-8")
        partial.replace(path)
