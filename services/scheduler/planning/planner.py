"""The planner: the day's state turned into notifications, through the notifier's outbox.

One call plans one shard (an organization's subtree, or the whole tree) at one instant:
it finds the occasions whose send time has come and that are not yet planned (see
`schedules.py` for what "still matters" means), drafts one notification per recipient and
channel, and writes them with the occasions' marks in one transaction. The outbox's
idempotency key (kind, recipient, occasion, channel) makes a second planning of the same
occasion create nothing, so two planners racing, or a crash between commit and mark,
can never send twice. The new notifications are then handed to the broker.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, islice
from typing import Any

from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.notifier import CREATE_CHUNK, create_notifications, enqueue
from services.scheduler.planning import birthdays, digest, events
from services.scheduler.planning.recipients import Draft
from services.scheduler.planning.shard_view import PlanningBase, ShardView
from services.scheduler.planning.workdays import calendar_gaps
from shared.db import transaction
from shared.models import PlanningMark

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shard:
    """A part of the tree planned as one job: a subtree, or one organization on its own
    (an organization above the shard depth, whose subtree the deeper shards cover)."""

    root: str | None  #: None: the whole tree
    whole_subtree: bool = True

    @property
    def label(self) -> str:
        if self.root is None:
            return "*"
        return self.root if self.whole_subtree else f"{self.root}!"

    @classmethod
    def parse(cls, label: str) -> Shard:
        if label == "*":
            return cls(None)
        if label.endswith("!"):
            return cls(label[:-1], whole_subtree=False)
        return cls(label)


@dataclass
class PlanReport:
    """What one planning did; reports of several shards add up with `merge`."""

    now: datetime
    created: Counter[tuple[str, str]] = field(default_factory=Counter)  #: (kind, channel)
    existing: int = 0  #: drafts whose notification already existed
    occasions: Counter[str] = field(default_factory=Counter)  #: occasions planned, by kind
    quiet_orgs: int = 0  #: organizations in quiet hours: their messages wait
    created_ids: list[int] = field(default_factory=list)
    enqueued: int = 0
    calendar_gaps: list[int] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)  #: kept only by a dry run

    @property
    def total(self) -> int:
        return sum(self.created.values())

    def merge(self, other: PlanReport) -> None:
        self.created.update(other.created)
        self.existing += other.existing
        self.occasions.update(other.occasions)
        self.quiet_orgs += other.quiet_orgs
        self.created_ids.extend(other.created_ids)
        self.enqueued += other.enqueued
        self.calendar_gaps = sorted(set(self.calendar_gaps) | set(other.calendar_gaps))
        self.drafts.extend(other.drafts)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the scheduler logs it and keeps the last one in Redis)."""
        return {
            "now": self.now.isoformat(),
            "created": {f"{k}/{c}": n for (k, c), n in sorted(self.created.items())},
            "existing": self.existing,
            "occasions": dict(sorted(self.occasions.items())),
            "quiet_orgs": self.quiet_orgs,
            "enqueued": self.enqueued,
            "calendar_gaps": self.calendar_gaps,
        }


#: plans the given shards at an instant and returns their reports (inline, or on workers)
ShardRunner = Callable[[Sequence[Shard], datetime], list[PlanReport]]


def plan(
    engine: Engine,
    now: datetime,
    *,
    shard: Shard | None = None,
    dry_run: bool = False,
    broker: RedisBroker | None = None,
    base: PlanningBase | None = None,
) -> PlanReport:
    """Plan every occasion of `shard` due at `now`; a dry run writes and enqueues nothing
    and keeps the drafts in the report instead. `base`: the tree and policy, when this
    reconcile has read them already for another shard."""
    shard = shard or Shard(None)
    with Session(engine) as session:
        view = ShardView.load(session, now, shard.root, base)
    if not shard.whole_subtree and shard.root is not None:
        view.orgs = [shard.root]
    report = PlanReport(now=now, calendar_gaps=calendar_gaps(view.today()))
    report.quiet_orgs = sum(1 for org in view.orgs if view.quiet(org))
    digest_orgs = digest.due_occasions(view, digest.KIND)
    escalation_orgs = digest.due_occasions(view, digest.ESCALATION)
    greeting_days = birthdays.due_days(view)
    reminders, member_drafts = _member_drafts(engine, view, greeting_days)
    marks = [
        *((digest.KIND, org, day.isoformat()) for org, day in digest_orgs.items()),
        *((digest.ESCALATION, org, day.isoformat()) for org, day in escalation_orgs.items()),
        *((events.KIND, u.occurrence.event_id, u.occasion) for u in reminders),
        *(
            (birthdays.KIND, org, day.isoformat())
            for day, orgs in greeting_days.items()
            for org in orgs
        ),
    ]
    report.occasions.update(kind for kind, _, _ in marks)
    drafts: Iterator[Draft] = iter(member_drafts)
    if digest_orgs or escalation_orgs:
        tasks = digest.digest_and_escalation_drafts(engine, view, digest_orgs, escalation_orgs)
        drafts = chain(tasks, drafts)
    if dry_run:
        for d in drafts:
            report.drafts.append(d)
            report.created[(d.kind, d.channel)] += 1
        return report
    if not marks:
        return report
    _write(engine, drafts, marks, now, report)
    if broker is not None and report.created_ids:
        report.enqueued = len(enqueue(engine, broker, report.created_ids, now=now))
    log.info(
        "planned shard %s at %s: %d new notification(s), %d already planned, occasions %s",
        shard.label,
        now.isoformat(),
        report.total,
        report.existing,
        dict(report.occasions),
    )
    return report


def _member_drafts(
    engine: Engine, view: ShardView, greeting_days: dict[date, list[str]]
) -> tuple[list[events.ReminderUnit], list[Draft]]:
    """The event reminders due, and the drafts to members: of those reminders and of the
    birthday greetings of `greeting_days`."""
    with engine.connect() as conn:
        reminders = events.due_reminders(conn, view)
        # Small enough to hold (one branch's members per reminder, one day's birthdays);
        # read before the write transaction so SQLite's single writer is held briefly.
        drafts = [d for unit in reminders for d in events.reminder_drafts(conn, view, unit)]
        for day, orgs in sorted(greeting_days.items()):
            drafts.extend(birthdays.greeting_drafts(conn, view, day, orgs))
    return reminders, drafts


def _write(
    engine: Engine,
    drafts: Iterator[Draft],
    marks: list[tuple[str, str, str]],
    now: datetime,
    report: PlanReport,
) -> None:
    """Create the drafts' notifications and the occasions' marks in one transaction,
    counting in `report` what was new and what was planned already."""
    with transaction(engine) as session:
        # The liaison digests stream from the due computation; they are written a chunk
        # at a time, each chunk one multi-row insert.
        while batch := list(islice(drafts, CREATE_CHUNK)):
            made = create_notifications(session, batch, now=now)
            for d, result in zip(batch, made, strict=True):
                if result.created:
                    report.created[(d.kind, d.channel)] += 1
                    report.created_ids.append(result.id)
                else:
                    report.existing += 1
        _mark(session, marks, now)


def _mark(session: Session, marks: list[tuple[str, str, str]], now: datetime) -> None:
    rows = [{"kind": k, "scope": s, "occasion": o, "planned_at": now} for k, s, o in marks]
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), 1000):
        stmt = module.insert(PlanningMark).values(rows[start : start + 1000])
        session.execute(stmt.on_conflict_do_nothing(index_elements=["kind", "scope", "occasion"]))
