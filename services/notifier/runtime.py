"""What a delivery needs to run: the database, the senders, the renderer, the clock, limits.

`services.notifier.bootstrap.build_runtime` wires the real ones from settings; tests build
a Runtime with the real database and senders pointed at loopback servers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine

from services.notifier.claim_marks import ClaimMarks
from services.notifier.quiet_hours import DEFAULT_QUIET_END, DEFAULT_QUIET_START, release_time
from services.notifier.rate_limit import Limiter
from services.notifier.senders.base import Sender
from shared.clock import Clock, SystemClock

DEFAULT_SMS_SEGMENT_BUDGET = 5  #: SMS segments a digest may cost
DEFAULT_STALE_SENDING_S = 900  #: seconds after which a 'sending' row is taken as abandoned


class Rendered(Protocol):
    """The shape of `services.notifier.rendering.RenderedMessage`."""

    @property
    def subject(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def html(self) -> str | None: ...
    @property
    def segments(self) -> int | None: ...


class Renderer(Protocol):
    """The shape of `services.notifier.rendering.render_message`."""

    def __call__(
        self,
        kind: str,
        channel: str,
        locale: str,
        data: Mapping[str, Any],
        *,
        overrides_dir: Path | None = None,
        sms_segment_budget: int = 5,
    ) -> Rendered: ...


#: (at, timezone, quiet_start=, quiet_end=) -> when a message due at `at` may leave
ReleaseTime = Callable[..., datetime]


@dataclass
class Runtime:
    engine: Engine
    senders: Mapping[str, Sender]  #: by channel: "sms", "email"
    render: Renderer
    clock: Clock = field(default_factory=SystemClock)
    limiters: Mapping[str, Limiter] = field(default_factory=dict)  #: by channel
    max_retries: int = 8  #: retries after the first attempt before a notification is dead
    min_backoff_ms: int = 15_000
    max_backoff_ms: int = 3_600_000
    overrides_dir: Path | None = None
    sms_segment_budget: int = DEFAULT_SMS_SEGMENT_BUDGET
    quiet_start: time = DEFAULT_QUIET_START
    quiet_end: time = DEFAULT_QUIET_END
    release_time: ReleaseTime = release_time
    stale_sending_s: int = DEFAULT_STALE_SENDING_S
    #: marks of claimed rows not yet sent (Redis), so that a killed worker's unsent claims
    #: are sent rather than dead-lettered; None: no marks, every lost claim dead-lettered
    claim_marks: ClaimMarks | None = None
