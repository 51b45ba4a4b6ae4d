"""Alerts: conditions ops must hear about, logged, shown on the dashboard and emailed once
per incident.

- `oldest_message`: the message at the head of a queue has waited longer than a threshold;
- `dead_letters`: the dead-letter count has grown above its baseline, the count when the
  dead-letter queues were last at rest (the baseline follows the count down, when letters
  are requeued or expire, never up on its own: new dead letters stay an incident until
  someone deals with them);
- `scheduler`: no successful scheduler tick for longer than a threshold (or none ever).

An incident starts when its condition first holds and ends when it no longer does; its
start is kept in Redis, so that several web processes email it once between them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis

from services.web.settings import WebSettings
from services.web.snapshot import Snapshot

log = logging.getLogger(__name__)

INCIDENTS_KEY = "liaison:web:alerts:incidents"  #: hash alert key → incident start (ISO)
DEAD_BASELINE_KEY = "liaison:web:alerts:dead_baseline"


@dataclass(frozen=True)
class Alert:
    key: str
    message: str
    since: str | None = None  #: when the incident started (ISO), once recorded


def evaluate(snapshot: Snapshot, web: WebSettings, dead_baseline: int) -> list[Alert]:
    """The alerts that hold for `snapshot` (pure)."""
    alerts = []
    for q in snapshot.queues:
        if q.oldest_waiting_s is not None and q.oldest_waiting_s > web.oldest_message_alert_s:
            alerts.append(
                Alert(
                    f"oldest_message:{q.name}",
                    f"queue {q.name}: the oldest message has waited "
                    f"{q.oldest_waiting_s:.0f} s (threshold {web.oldest_message_alert_s} s)",
                )
            )
    if snapshot.dead_letters > dead_baseline:
        alerts.append(
            Alert(
                "dead_letters",
                f"dead letters grew from {dead_baseline} to {snapshot.dead_letters}",
            )
        )
    s = snapshot.scheduler
    if not s.ticking:
        said = "never" if s.tick_age_s is None else f"{s.tick_age_s:.0f} s ago"
        alerts.append(
            Alert(
                "scheduler",
                f"the scheduler last ticked {said} (threshold {s.stale_after_s} s)",
            )
        )
    return alerts


#: sends one email: (subject, text)
Mailer = Callable[[str, str], None]


class AlertBook:
    """Incidents kept in Redis: each new one is logged and mailed once."""

    def __init__(self, client: redis.Redis, web: WebSettings, mailer: Mailer | None) -> None:
        self.client, self.web, self.mailer = client, web, mailer

    def dead_baseline(self, dead_now: int) -> int:
        raw = self.client.get(DEAD_BASELINE_KEY)
        if raw is None or int(raw) > dead_now:
            self.client.set(DEAD_BASELINE_KEY, dead_now)
            return dead_now
        return int(raw)

    def current(self, snapshot: Snapshot) -> list[Alert]:
        """The alerts holding now, with their incidents' starts (read only)."""
        raw = self.client.get(DEAD_BASELINE_KEY)
        baseline = snapshot.dead_letters if raw is None else min(int(raw), snapshot.dead_letters)
        known = {_text(k): _text(v) for k, v in self.client.hgetall(INCIDENTS_KEY).items()}
        return [
            Alert(a.key, a.message, known.get(a.key))
            for a in evaluate(snapshot, self.web, baseline)
        ]

    def update(self, snapshot: Snapshot, now: datetime) -> list[Alert]:
        """Record incidents that started and ended; log and mail each new one once."""
        alerts = evaluate(snapshot, self.web, self.dead_baseline(snapshot.dead_letters))
        holding = {a.key for a in alerts}
        known = {_text(k) for k in self.client.hkeys(INCIDENTS_KEY)}
        for ended in known - holding:
            self.client.hdel(INCIDENTS_KEY, ended)
            log.info("alert resolved: %s", ended)
        out = []
        for alert in alerts:
            # HSETNX: of several processes seeing the same new incident, one wins and mails.
            started = self.client.hsetnx(INCIDENTS_KEY, alert.key, now.isoformat())
            if started:
                log.warning("ALERT %s", alert.message)
                if self.mailer is not None:
                    try:
                        self.mailer(f"[liaison] {alert.message}", _mail_text(alert, now))
                    except Exception:  # a mail failure must not stop the checks
                        log.exception("the alert email could not be sent")
            since = self.client.hget(INCIDENTS_KEY, alert.key)
            out.append(Alert(alert.key, alert.message, _text(since) if since else None))
        return out


def _mail_text(alert: Alert, now: datetime) -> str:
    return (
        f"{alert.message}\n\nStarted: {now.isoformat()}\n"
        "You get one email per incident; the dashboard shows whether it still holds.\n"
    )


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
