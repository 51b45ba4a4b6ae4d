"""A clock for the outage loop that moves only when the loop sleeps: tests wait nothing
and patch nothing process-wide."""

from __future__ import annotations

from services.notifier.outages import Pauses


class PauseClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    @property
    def pauses(self) -> Pauses:
        return Pauses(monotonic=lambda: self.now, sleep=self.sleep)
