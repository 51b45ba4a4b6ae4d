"""Time, injected: production code asks a Clock, tests hand it a fixed or stepped one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
