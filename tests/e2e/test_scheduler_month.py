"""Acceptance of issue 5: a month of scheduler ticks on a 2,000-member county ledger, on
real PostgreSQL and Redis, and a scheduler that was down for two days: `liaison scheduler`
and `liaison worker` processes, as deployed, on a rehearsal clock (tests/e2e/rehearsal.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from dateutil.rrule import rrulestr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.notifier.testing.aliyun_server import TEST_ACCESS_KEY_ID as ALIYUN_KEY_ID
from services.notifier.testing.aliyun_server import (
    TEST_ACCESS_KEY_SECRET as ALIYUN_KEY_SECRET,
)
from services.notifier.testing.aliyun_server import AliyunSmsTestServer
from services.notifier.testing.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioTestServer,
)
from services.scheduler.tasks.due import DueQuery, compute_due
from shared.db import transaction
from shared.ledger.recording import record_fact
from shared.models import DeliveryAttempt, Event, Notification
from shared.status_keys import LAST_TICK_KEY
from tests.e2e.rehearsal import (
    Rehearsal,
    local,
    members_reminded,
    notifications,
    reachable_liaisons,
)
from tests.integration.planner.ledger import load_synthetic

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
TZ = ZoneInfo("Asia/Shanghai")
START = date(2026, 11, 30)  # a Monday
END = date(2026, 12, 31)
#: every 2 hours on the even hours: 08:00 (morning reminders of 09:00 events), 10:00
#: (digests set for 09:00), and 22:00 … 06:00 in quiet hours
STEP = timedelta(hours=2)
DIGEST_DAYS = [
    date(2026, 11, 30),
    date(2026, 12, 1),  # first working day of December (a Tuesday)
    date(2026, 12, 7),
    date(2026, 12, 14),
    date(2026, 12, 21),
    date(2026, 12, 28),
]


#: each SMS provider's approved templates, as an administrator would submit them
ALIYUN_TEMPLATES = {
    "SMS_DIGEST": ("name", "count", "first", "link"),
    "SMS_EVENT": ("name", "org", "when", "title", "place"),
    "SMS_BIRTHDAY": ("name", "day", "years", "org"),
    "SMS_ESCALATION": ("name", "org", "findings"),
}
ALIYUN_CODES = (
    "liaison_digest=SMS_DIGEST,event_reminder=SMS_EVENT,"
    "political_birthday=SMS_BIRTHDAY,branch_escalation=SMS_ESCALATION"
)


@dataclass
class Provider:
    """The SMS provider the processes send through: outbox files, or a loopback fake of
    Twilio or Alibaba Cloud SMS reached through the real SDK."""

    name: str
    env: dict[str, str]
    accepted: Callable[[], int]  #: messages the provider accepted
    #: the ledger's size: the policy is checked at full size once (outbox files); a
    #: provider's run checks its plumbing end to end on a smaller county, for CI's time
    members: int = 2000


@pytest.fixture
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    name = getattr(request, "param", "outbox")
    # The pacing is a real provider's; the month sends thousands in a few rehearsed hours.
    pacing = {"LIAISON_SMS_RATE_PER_S": "5000", "LIAISON_SMS_CONCURRENCY": "64"}
    if name == "twilio":
        with TwilioTestServer() as twilio:
            yield Provider(
                name,
                {
                    "LIAISON_SMS_PROVIDER": "twilio",
                    "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
                    "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
                    "TWILIO_FROM_NUMBER": "+15005550006",
                    "LIAISON_TWILIO_BASE_URL": twilio.base_url,
                    **pacing,
                },
                lambda: len(twilio.sent()),
                members=400,
            )
    elif name == "aliyun":
        with AliyunSmsTestServer(templates=ALIYUN_TEMPLATES) as aliyun:
            yield Provider(
                name,
                {
                    "LIAISON_SMS_PROVIDER": "aliyun",
                    "ALIBABA_CLOUD_ACCESS_KEY_ID": ALIYUN_KEY_ID,
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIYUN_KEY_SECRET,
                    "LIAISON_ALIYUN_ENDPOINT": f"http://{aliyun.endpoint}",
                    "LIAISON_ALIYUN_SIGN_NAME": "流动党员联络",
                    "LIAISON_ALIYUN_TEMPLATE_CODES": ALIYUN_CODES,
                    **pacing,
                },
                lambda: len(aliyun.sent()),
                members=400,
            )
    else:
        yield Provider("outbox", {}, lambda: 0)


@pytest.fixture
def simulation(
    pg_engine: Engine,
    postgres_url: str,
    redis_server_url: str,
    redis_client: redis.Redis,
    tmp_path: Path,
    provider: Provider,
) -> Iterator[Rehearsal]:
    """`liaison scheduler` and `liaison worker` processes on the rehearsal clock."""
    rehearsal = Rehearsal.start(
        pg_engine,
        redis_client,
        database_url=postgres_url,
        redis_url=redis_server_url,
        home=tmp_path / "var",
        at=local(START, 0),
        extra_env=provider.env,
    )
    yield rehearsal
    rehearsal.stop()


@pytest.mark.parametrize("provider", ["outbox", "twilio", "aliyun"], indirect=True)
def test_a_month_of_ticks_sends_exactly_what_the_policy_calls_for(
    pg_engine: Engine, simulation: Rehearsal, tmp_path: Path, provider: Provider
) -> None:
    load_synthetic(pg_engine, tmp_path / "ledger", members=provider.members, as_of=START)
    # Up to Thursday 3 December; then a contact is recorded for a task of Tuesday's digest.
    simulation.run(local(START, 0), local(date(2026, 12, 3), 12), STEP)
    tuesday = [
        n
        for n in notifications(pg_engine, "liaison_digest")
        if n.occasion == "digest:2026-12-01" and n.channel == "sms"
    ]
    target = next(
        n
        for n in tuesday
        if any(t["rule"] == "monthly_contact" for t in n.data["tasks"]) and len(n.data["tasks"]) > 1
    )
    member = next(t["member_id"] for t in target.data["tasks"] if t["rule"] == "monthly_contact")
    record_fact(
        pg_engine, "interactions", {"member_id": member, "kind": "wechat", "on": "2026-12-03"}
    )
    simulation.run(local(date(2026, 12, 3), 12), local(END, 0), STEP)

    # Each liaison gets exactly the digests the policy calls for: one on each digest day
    # on which they have open tasks (and an address), never two on one day.
    reachable = reachable_liaisons(pg_engine)
    expected = {
        (t.liaison_id, day)
        for day in DIGEST_DAYS
        for t in compute_due(pg_engine, DueQuery(day))
        if t.liaison_id in reachable
    }
    digests = notifications(pg_engine, "liaison_digest")
    got = {(n.recipient_id, date.fromisoformat(n.occasion.split(":")[1])) for n in digests}
    assert got == expected
    per_channel = defaultdict(int)
    for n in digests:
        per_channel[(n.recipient_id, n.occasion, n.channel)] += 1
    assert set(per_channel.values()) == {1}
    assert all(n.status in ("sent", "cancelled") for n in digests)

    # The contact recorded on 3 December left that task out of the next digest.
    monday = next(
        n
        for n in digests
        if n.recipient_id == target.recipient_id
        and n.occasion == "digest:2026-12-07"
        and n.channel == "sms"
    )
    assert monday.status == "sent"
    assert (member, "monthly_contact") not in {
        (t["member_id"], t["rule"]) for t in monday.data["tasks"]
    }

    # Every organization-life event held in the month gives each member in scope three
    # days before and on the day two reminders, and one in scope only on the day the
    # morning one (rules.md: in scope when planned and when sent).
    reminders = notifications(pg_engine, "event_reminder")
    by_pair: dict[tuple[str, str], set[int]] = defaultdict(set)
    for n in reminders:
        occurrence = n.occasion.split("/d")[0]
        by_pair[(n.recipient_id, occurrence)].add(int(n.data["days_before"]))
    statuses = Counter((n.status, n.last_error) for n in reminders)
    assert set(statuses) == {("sent", None)}, statuses
    expected_pairs: dict[tuple[str, str], set[int]] = {}
    with Session(pg_engine) as session:
        events = session.scalars(select(Event)).all()
    for event in events:
        first = event.starts_at.astimezone(TZ).replace(tzinfo=None)
        window = (datetime(2026, 12, 3, 9), datetime(2026, 12, 30, 23))
        if event.rrule:
            starts = rrulestr(event.rrule, dtstart=first).between(*window, inc=True)
        else:
            starts = [first] if window[0] <= first <= window[1] else []
        for s in starts:
            occurrence = f"{event.event_id}@{s.isoformat(timespec='minutes')}"
            both = members_reminded(pg_engine, event.org, s.date(), s.date() - timedelta(days=3))
            for m in members_reminded(pg_engine, event.org, s.date()):
                expected_pairs[(m, occurrence)] = {3, 0} if m in both else {0}
    assert expected_pairs
    assert set(expected_pairs) <= set(by_pair)
    assert all(by_pair[p] == days for p, days in expected_pairs.items())

    # Nothing was sent in quiet hours.
    with Session(pg_engine) as session:
        sent_at = session.scalars(select(DeliveryAttempt.started_at)).all()
    assert sent_at
    assert all(8 <= s.astimezone(TZ).hour < 21 for s in sent_at)
    assert simulation.client.get(LAST_TICK_KEY) is not None

    # Every SMS went through the chosen provider, which accepted each exactly once.
    with Session(pg_engine) as session:
        sms_sent = session.execute(
            select(DeliveryAttempt.provider, func.count())
            .join(Notification, Notification.id == DeliveryAttempt.notification_id)
            .where(Notification.channel == "sms", DeliveryAttempt.outcome == "sent")
            .group_by(DeliveryAttempt.provider)
        ).all()
    assert [p for p, _ in sms_sent] == [provider.name]
    if provider.name != "outbox":
        assert provider.accepted() == sms_sent[0][1]


def test_a_scheduler_down_for_two_days_sends_the_missed_digest_once_and_no_late_reminder(
    pg_engine: Engine, simulation: Rehearsal, tmp_path: Path
) -> None:
    load_synthetic(pg_engine, tmp_path / "ledger", members=300, as_of=START)
    # An event on Sunday 6 December at 10:00, while the scheduler is down.
    with transaction(pg_engine) as session:
        org = session.scalars(select(Event.org).limit(1)).one()
        session.add(
            Event(
                event_id="E-SUNDAY",
                org=org,
                type="party_lecture",
                starts_at=local(date(2026, 12, 6), 10),
                title="党课",
            )
        )
    friday = date(2026, 12, 4)
    simulation.run(local(friday, 0), local(date(2026, 12, 5), 12), STEP)
    # Down from Saturday 12:00 to Monday 12:00: Monday's 09:00 digest and Sunday's event
    # (its morning reminder at 08:00) happened in between.
    simulation.stop_scheduler()  # SIGTERM: its lease is released
    simulation.tick_at(local(date(2026, 12, 7), 12))  # the clock moves while it is down
    simulation.start_scheduler()
    simulation.run(local(date(2026, 12, 7), 12), local(date(2026, 12, 8), 12), STEP)
    reachable = reachable_liaisons(pg_engine)
    expected = {
        t.liaison_id
        for t in compute_due(pg_engine, DueQuery(date(2026, 12, 7)))
        if t.liaison_id in reachable
    }
    monday = [
        n for n in notifications(pg_engine, "liaison_digest") if n.occasion == "digest:2026-12-07"
    ]
    assert {n.recipient_id for n in monday} == expected
    assert len({(n.recipient_id, n.channel) for n in monday}) == len(monday)
    assert {n.created_at for n in monday} == {local(date(2026, 12, 7), 12)}
    sunday = [
        n for n in notifications(pg_engine, "event_reminder") if n.occasion.startswith("E-SUNDAY@")
    ]
    assert sunday and {int(n.data["days_before"]) for n in sunday} == {3}
    with Session(pg_engine) as session:
        assert (
            session.scalar(
                select(Notification.id).where(Notification.occasion.like("E-SUNDAY@%/d0"))
            )
            is None
        )
