"""`liaison demo`: the whole main job on a fresh machine, on the embedded defaults.

A demo county ledger (synthetic, 2,000 members) is created when the database holds no
members; one reminder run is planned; a dramatiq worker on the embedded Redis drains the
queue through the configured senders (the outbox-file sender unless Twilio or SMTP
credentials are set); and a summary a person can read is returned.

Which instant: with the outbox-file sender the demo plans and sends as at 10:00 local on
the latest digest day (a Monday or the first working day of the month) on or before today,
so that a run on a Saturday night still shows digests rather than quiet hours. The same
holds when every provider it talks to is on loopback (the fakes of Twilio, Alibaba Cloud
SMS or an SMTP server that `services/notifier/testing` provides): a rehearsal. With a real
provider configured it plans and sends now, on the real clock, as the scheduler would.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dramatiq import Broker
from dramatiq.errors import QueueJoinTimeout
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.notifier import NOTIFICATIONS_QUEUE
from services.scheduler.planning.message_policy import MESSAGE_RULES, Schedule, parse_weekdays
from services.scheduler.planning.planner import PlanReport
from services.scheduler.planning.reconcile import reconcile
from services.scheduler.planning.schedules import occasion_days
from services.scheduler.tasks.due import DueQuery, compute_due
from shared.calendars import is_working_day
from shared.clock import FixedClock
from shared.ledger.importer import import_files
from shared.ledger.synthetic import generate_ledger
from shared.models import DeliveryAttempt, Member, Notification
from shared.models.notifications import TERMINAL_STATUSES
from shared.progress import Progress, no_progress
from shared.settings import DEFAULT_TIMEZONE, Settings

log = logging.getLogger(__name__)

DEMO_MEMBERS = 2_000
DEMO_LOCAL_TIME = time(10, 0)  #: after every default send time, before quiet hours
DRAIN_TIMEOUT_MS = 120_000
#: the drain's label on the progress bar
SENDING = "sending"
WORKER_THREADS = 8


@dataclass
class DemoSummary:
    home: Path
    created_ledger: bool
    members: int
    planned_at: datetime
    tasks_by_rule: Counter[str]
    plan: PlanReport
    messages: Counter[tuple[str, str, str]]  #: (kind, channel, status)
    #: calls to providers (outbox files included): (provider, outcome) → count
    provider_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)  #: SMS bodies as received
    outbox: Path | None = None
    outbox_files: int = 0


def demo_instant(today: date, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """10:00 local on the latest default digest day on or before `today`."""
    params = MESSAGE_RULES[0]["params"]
    schedule = Schedule(
        enabled=True,
        weekdays=parse_weekdays(params["weekdays"]),
        first_working_day=bool(params["first_working_day"]),
        local_time=DEMO_LOCAL_TIME,
        skip_holidays=bool(params["skip_holidays"]),
    )
    days = list(occasion_days(schedule, today - timedelta(days=40), today, is_working_day))
    day = days[-1] if days else today
    return datetime.combine(day, DEMO_LOCAL_TIME, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def on_loopback(endpoint: str) -> bool:
    """Whether a provider endpoint (a URL or a bare host) is this machine; an empty one
    means the provider's real service."""
    if not endpoint:
        return False
    host = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}").hostname
    return host in LOOPBACK_HOSTS


def reaches_real_providers(settings: Settings) -> bool:
    """Whether a sender the demo uses talks to a real provider, not to outbox files or to a
    loopback fake of one (then the demo is a rehearsal and uses its rehearsal instant)."""
    endpoints = []
    if settings.sms_sender == "twilio":
        endpoints.append(settings.twilio_base_url)
    elif settings.sms_sender == "aliyun":
        endpoints.append(settings.aliyun_endpoint)
    if settings.email_sender == "smtp":
        endpoints.append(settings.smtp_host)
    return any(not on_loopback(endpoint) for endpoint in endpoints)


def ensure_demo_ledger(
    engine: Engine, home: Path, as_of: date, members: int, progress: Progress = no_progress
) -> bool:
    """Create and import the synthetic county ledger unless the database has members."""
    with Session(engine) as session:
        if session.scalar(select(func.count()).select_from(Member)):
            return False
    summary = generate_ledger(home / "demo-ledger", members=members, as_of=as_of)
    import_files(engine, list(summary.files), progress=progress)
    return True


def run_demo(
    settings: Settings,
    *,
    members: int = DEMO_MEMBERS,
    say: Callable[[str], None] = log.info,
    progress: Progress = no_progress,
) -> DemoSummary:
    from services.bootstrap import bootstrap

    real = reaches_real_providers(settings)
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    today = datetime.now(UTC).astimezone(zone).date()
    now = datetime.now(UTC) if real else demo_instant(today)
    wiring = bootstrap(settings, clock=None if real else FixedClock(now))
    engine = wiring.engine
    as_of = now.astimezone(zone).date()
    say(f"database: {engine.url.render_as_string(hide_password=True)}")
    created = ensure_demo_ledger(engine, settings.home, as_of, members, progress)
    if created:
        say(f"created a demo county ledger of {members} members")
    worker = wiring.worker(threads=WORKER_THREADS)
    worker.start()
    try:
        say(f"planning the reminder run as at {now.astimezone(zone):%Y-%m-%d %H:%M} local")
        plan = reconcile(engine, now, broker=wiring.broker)
        say(f"draining {plan.enqueued} message(s) through the worker")
        _drain(wiring.broker, engine, plan.enqueued, progress)
        worker.join()
    finally:
        worker.stop()
        wiring.close()
    return DemoSummary(
        home=settings.home.resolve(),
        created_ledger=created,
        members=_count_members(engine),
        planned_at=now,
        tasks_by_rule=Counter(t.rule for t in compute_due(engine, DueQuery(as_of))),
        plan=plan,
        messages=_messages(engine),
        provider_calls=_provider_calls(engine),
        samples=_samples(settings.outbox_dir),
        outbox=settings.outbox_dir.resolve() if _wrote_files(settings) else None,
        outbox_files=sum(1 for _ in settings.outbox_dir.glob("*/*.txt")),
    )


def _drain(broker: Broker, engine: Engine, enqueued: int, progress: Progress) -> None:
    """Wait for the notifications queue to empty, telling `progress` how many of the
    planned messages have reached an end (sent, failed, cancelled...) once a second."""
    deadline = monotonic() + DRAIN_TIMEOUT_MS / 1000
    settled_before = _settled(engine)
    shown = 0
    progress(SENDING, 0, enqueued)
    while True:
        try:
            broker.join(NOTIFICATIONS_QUEUE, timeout=1000)
            empty = True
        except QueueJoinTimeout:
            if monotonic() > deadline:
                raise
            empty = False
        settled = min(enqueued, _settled(engine) - settled_before)
        progress(SENDING, max(0, settled - shown))
        shown = max(shown, settled)
        if empty:
            return


def _settled(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status.in_(TERMINAL_STATUSES))
            )
            or 0
        )


def _count_members(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Member)) or 0)


def _messages(engine: Engine) -> Counter[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                Notification.kind, Notification.channel, Notification.status, func.count()
            ).group_by(Notification.kind, Notification.channel, Notification.status)
        ).all()
    return Counter({(k, c, s): int(n) for k, c, s, n in rows})


def _provider_calls(engine: Engine) -> Counter[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(DeliveryAttempt.provider, DeliveryAttempt.outcome, func.count()).group_by(
                DeliveryAttempt.provider, DeliveryAttempt.outcome
            )
        ).all()
    return Counter({(p, o): int(n) for p, o, n in rows})


def _wrote_files(settings: Settings) -> bool:
    return settings.sms_sender == "outbox" or settings.email_sender == "outbox"


#: the kinds whose SMS the summary shows first: one to a liaison, one to a member
SAMPLE_KINDS = ("liaison_digest", "event_reminder", "political_birthday", "branch_escalation")


def _samples(outbox: Path, wanted: int = 2) -> list[str]:
    """SMS bodies as their recipients read them, one per kind, in SAMPLE_KINDS order."""
    by_kind: dict[str, str] = {}
    for path in sorted(outbox.glob("sms/*.txt")):
        head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        kind = next((ln[6:] for ln in head.splitlines() if ln.startswith("Kind: ")), "")
        by_kind.setdefault(kind, body.strip())
        if all(k in by_kind for k in SAMPLE_KINDS[:wanted]):
            break
    ordered = sorted(by_kind.items(), key=lambda kv: (*SAMPLE_KINDS, kv[0]).index(kv[0]))
    return [body for _, body in ordered[:wanted]]


def summary_text(s: DemoSummary) -> str:
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    lines = [
        "",
        "liaison demo: summary",
        "=====================",
        f"ledger: {s.members} members"
        + (" (demo county ledger created)" if s.created_ledger else " (existing database)"),
        f"reminder run as at {s.planned_at.astimezone(zone):%Y-%m-%d %H:%M} ({DEFAULT_TIMEZONE})",
        "",
        "tasks due by rule:",
    ]
    for rule, n in sorted(s.tasks_by_rule.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {rule:<26}{n:>7}")
    lines.append(f"  {'all':<26}{sum(s.tasks_by_rule.values()):>7}")
    lines += ["", "messages by kind, channel and status:"]
    for (kind, channel, status), n in sorted(s.messages.items()):
        lines.append(f"  {kind:<22}{channel:<7}{status:<12}{n:>7}")
    lines += ["", "provider calls by provider and outcome:"]
    for (provider, outcome), n in sorted(s.provider_calls.items()):
        lines.append(f"  {provider:<22}{outcome:<19}{n:>7}")
    if s.samples:
        lines += ["", f"{len(s.samples)} SMS as their recipients read them:"]
    for body in s.samples:
        lines += ["  ┌" + "─" * 40, *("  │ " + ln for ln in body.splitlines()), "  └" + "─" * 40]
    if s.outbox is not None:
        lines += ["", f"outbox files ({s.outbox_files}): {s.outbox}"]
    return "\n".join(lines)
