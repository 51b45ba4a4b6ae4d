"""Alerts: conditions ops must hear about, logged, shown on the dashboard and in
`liaison status`, and sent (ops mail, and the WeCom robot if configured) once per incident.

- `dead`: at least `dead_threshold` notifications died within `dead_window_s` and are
  still dead (counted in the delivery log, the one dead count);
- `failure_rate:<channel>:<provider>`: a provider failed `failure_rate` of at least
  `failure_min_attempts` attempts within `failure_window_s`;
- `stuck_queue:<queue>`: the message at the head of a queue has waited too long;
- `scheduler`: no successful scheduler tick for longer than a threshold (or none ever);
- `no_worker`: no worker process has beaten in Redis lately (`services.notifier.heartbeat`);
- `planning_timeout`: a tick gave up waiting for the workers to plan its shards, within
  `planning_window_s`.

An incident starts when its condition first holds and ends when it no longer does; its
start is kept in Redis, so that several web processes send it once between them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis

from services.web.labels import EN, ZH, Labels
from services.web.settings import WebSettings
from services.web.snapshot import Snapshot

log = logging.getLogger(__name__)

INCIDENTS_KEY = "liaison:web:alerts:incidents"  #: hash alert key → incident start (ISO)
#: JSON {"count": planning timeouts seen, "at": when the count last grew (ISO)}
PLANNING_SEEN_KEY = "liaison:web:alerts:planning_timeouts"


@dataclass(frozen=True)
class Alert:
    key: str  #: the incident's identity, e.g. "failure_rate:sms:aliyun"
    kind: str  #: the label of its message: alert.<kind>
    params: Mapping[str, object] = field(default_factory=dict)
    since: datetime | None = None  #: when the incident started, once recorded

    def message(self, t: Labels) -> str:
        params = dict(self.params)
        if self.kind == "scheduler":
            age = params.pop("age", None)
            params["said"] = (
                t("alert.scheduler.never") if age is None else t("alert.scheduler.ago", age=age)
            )
        return t(f"alert.{self.kind}", **params)


def evaluate(snapshot: Snapshot, web: WebSettings, planning_since: datetime | None) -> list[Alert]:
    """The alerts that hold for `snapshot` (pure). `planning_since`: when the planning
    timeouts last grew, if they ever did."""
    alerts = []
    if snapshot.dead_recent >= web.dead_threshold > 0:
        alerts.append(
            Alert(
                "dead",
                "dead",
                {
                    "count": snapshot.dead_recent,
                    "threshold": web.dead_threshold,
                    "window_h": f"{web.dead_window_s / 3600:g}",
                },
            )
        )
    for f in snapshot.failures:
        if f.attempts >= web.failure_min_attempts and f.rate >= web.failure_rate:
            alerts.append(
                Alert(
                    f"failure_rate:{f.channel}:{f.provider}",
                    "failure_rate",
                    {
                        "channel": f.channel,
                        "provider": f.provider,
                        "attempts": f.attempts,
                        "failures": f.failures,
                        "rate": round(100 * f.rate),
                        "threshold": round(100 * web.failure_rate),
                        "window_min": round(web.failure_window_s / 60),
                    },
                )
            )
    for q in snapshot.queues:
        if q.oldest_waiting_s is not None and q.oldest_waiting_s > web.oldest_message_alert_s:
            alerts.append(
                Alert(
                    f"stuck_queue:{q.name}",
                    "stuck_queue",
                    {
                        "queue": q.name,
                        "age": round(q.oldest_waiting_s),
                        "threshold": web.oldest_message_alert_s,
                    },
                )
            )
    s = snapshot.scheduler
    if not s.ticking:
        age = None if s.tick_age_s is None else round(s.tick_age_s)
        alerts.append(Alert("scheduler", "scheduler", {"age": age, "threshold": s.stale_after_s}))
    if not snapshot.workers:
        alerts.append(Alert("no_worker", "no_worker"))
    if planning_since is not None and snapshot.at - planning_since < timedelta(
        seconds=web.planning_window_s
    ):
        alerts.append(Alert("planning_timeout", "planning_timeout", {"count": s.planning_timeouts}))
    return alerts


#: sends one message: (subject, text)
Mailer = Callable[[str, str], None]


class AlertBook:
    """Incidents kept in Redis: each new one is logged and sent once."""

    def __init__(self, client: redis.Redis, web: WebSettings, mailer: Mailer | None) -> None:
        self.client, self.web, self.mailer = client, web, mailer

    def _planning_since(self, snapshot: Snapshot, *, record: bool) -> datetime | None:
        """When the planning timeouts last grew; `record` notes a growth seen now."""
        count = snapshot.scheduler.planning_timeouts
        raw = self.client.get(PLANNING_SEEN_KEY)
        seen = json.loads(raw) if raw else None
        if seen is None:
            # First look: a count from before liaison watched is history, not an incident.
            if record:
                self.client.set(PLANNING_SEEN_KEY, json.dumps({"count": count, "at": None}))
            return None
        if count > int(seen["count"]):
            if record:
                at = snapshot.at.isoformat()
                self.client.set(PLANNING_SEEN_KEY, json.dumps({"count": count, "at": at}))
            return snapshot.at
        if count < int(seen["count"]) and record:  # the counter was reset: follow it down
            self.client.set(PLANNING_SEEN_KEY, json.dumps({"count": count, "at": seen["at"]}))
        return datetime.fromisoformat(seen["at"]) if seen.get("at") else None

    def current(self, snapshot: Snapshot) -> list[Alert]:
        """The alerts holding now, with their incidents' starts (read only)."""
        known = {_text(k): _text(v) for k, v in self.client.hgetall(INCIDENTS_KEY).items()}
        planning = self._planning_since(snapshot, record=False)
        return [
            Alert(a.key, a.kind, a.params, _instant(known.get(a.key)))
            for a in evaluate(snapshot, self.web, planning)
        ]

    def update(self, snapshot: Snapshot, now: datetime) -> list[Alert]:
        """Record incidents that started and ended; log and send each new one once."""
        alerts = evaluate(snapshot, self.web, self._planning_since(snapshot, record=True))
        holding = {a.key for a in alerts}
        known = {_text(k) for k in self.client.hkeys(INCIDENTS_KEY)}
        for ended in known - holding:
            self.client.hdel(INCIDENTS_KEY, ended)
            log.info("alert resolved: %s", ended)
        out = []
        for alert in alerts:
            # HSETNX: of several processes seeing the same new incident, one wins and sends.
            started = self.client.hsetnx(INCIDENTS_KEY, alert.key, now.isoformat())
            if started:
                log.warning("ALERT %s", alert.message(Labels(EN)))
                if self.mailer is not None:
                    try:
                        self.mailer(*mail_text(alert, now))
                    except Exception:  # a mail failure must not stop the checks
                        log.exception("the alert could not be sent")
            since = self.client.hget(INCIDENTS_KEY, alert.key)
            out.append(Alert(alert.key, alert.kind, alert.params, _instant(since)))
        return out


def mail_text(alert: Alert, now: datetime) -> tuple[str, str]:
    """Subject and text of an alert's message: Chinese first, English below."""
    zh, en = alert.message(Labels(ZH)), alert.message(Labels(EN))
    text = (
        f"{zh}\n开始时间：{now.isoformat(timespec='seconds')}\n"
        "每个事件只发送一次；运维页面显示它是否仍然存在。\n\n"
        f"{en}\nStarted: {now.isoformat(timespec='seconds')}\n"
        "You get one message per incident; the dashboard shows whether it still holds.\n"
    )
    return f"[liaison] {zh}", text


def _instant(raw: bytes | str | None) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(_text(raw))


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
