"""Liaison digests and branch escalations: both read the day's open tasks, in one pass.

A digest lists a liaison's open tasks, numbered, most urgent first (the order of
`compute_due`). It is re-read at send time by the refresher registered here: a task
resolved between planning and sending is left out, and a digest with nothing left is
cancelled. Escalations go to the secretary of each member's home branch.

A digest is planned by the shard holding the liaison's organization, from the tasks of
the members in that shard; the refresher re-reads all of the liaison's members at send
time, so a liaison paired across shards still gets every task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, exists, not_, select
from sqlalchemy.orm import Session

from services.notifier import (
    BatchRefresher,
    Refresher,
    register_batch_refresher,
    register_refresher,
)
from services.scheduler.planning import birthdays, events
from services.scheduler.planning.recipients import Draft, Recipient, drafts_for
from services.scheduler.planning.schedules import local_date, periodic_occasion
from services.scheduler.planning.shard_view import ShardView, chunks, in_scope
from services.scheduler.tasks.due import DueQuery, Task, compute_due
from services.scheduler.tasks.strategies import TASK_STRATEGIES
from shared.clock import Clock
from shared.models import Assignment, Liaison, Member, Notification, Rule
from shared.page_links import PageSettings, link_for_digest, load_page_settings

KIND = "liaison_digest"
ESCALATION = "branch_escalation"
CERTIFICATE_RULE = "certificate_review"


def due_occasions(view: ShardView, kind: str) -> dict[str, date]:
    """Per organization of the shard, the digest (or escalation) occasion due now and not
    yet planned."""
    out: dict[str, date] = {}
    for org in view.orgs:
        policy = view.policy(org)
        if view.quiet(org):
            continue
        schedule = policy.digest if kind == KIND else policy.escalation
        occasion = periodic_occasion(
            schedule,
            view.now,
            view.timezone(org),
            lambda day, org=org: view.calendars.is_working_day(org, day),  # type: ignore[misc]
            (policy.quiet_start, policy.quiet_end),
        )
        if occasion is not None and not view.marked(kind, org, occasion.isoformat()):
            out[org] = occasion
    return out


#: rules whose window trails the as-of day (strategy `rolling`), when the rules table is
#: not at hand; `rolling_rules` reads them
ROLLING_RULES = frozenset({"frequent_mover_contact"})


def rolling_rules(conn: Connection | Session) -> frozenset[str]:
    """The rules whose strategy's window trails the as-of day (`Strategy.trails_as_of`:
    `rolling`): their tasks are worded as a cadence and a last contact, since their window
    ends on the as-of day and "overdue" misleads there."""
    rows = conn.execute(select(Rule.name, Rule.strategy)).all()
    return frozenset(
        name
        for name, strategy in rows
        if (found := TASK_STRATEGIES.get(strategy)) is not None and found.trails_as_of
    )


def _cadence(t: Task, rolling: frozenset[str]) -> tuple[int | None, date | None]:
    """(every how many days, the last contact) of a rolling task, else (None, None).

    The window is the `interval` days ending on the as-of day D, and the rule computes
    `overdue_days` = D − (last contact + interval), so a positive one gives the last
    contact exactly; 0 means none in the window, and none known before it.
    """
    if t.rule not in rolling or t.window_start is None or t.window_end is None:
        return None, None
    interval = (t.window_end - t.window_start).days + 1
    if t.overdue_days <= 0:
        return interval, None
    return interval, t.window_end - timedelta(days=interval + t.overdue_days)


def digest_data(
    liaison_name: str,
    as_of: date,
    tasks: list[Task],
    rolling: frozenset[str] = ROLLING_RULES,
) -> dict[str, Any]:
    """The digest's data as docs/templates.md names it (dates as ISO text, for JSON).

    A task of a `rolling` rule also carries `cadence_days` and `last_contact`: the
    templates say "每14天联系一次，上次8月16日" instead of an overdue count whose window
    ends today."""
    lines = []
    for number, t in enumerate(tasks, start=1):
        cadence, last = _cadence(t, rolling)
        lines.append(
            {
                "number": number,
                "member_id": t.member_id,
                "member_name": t.member_name,
                "rule": t.rule,
                "window_start": t.window_start.isoformat() if t.window_start else None,
                "window_end": t.window_end.isoformat() if t.window_end else None,
                "overdue_days": t.overdue_days,
                "done": t.done,
                "required": t.required,
                "cadence_days": cadence,
                "last_contact": last.isoformat() if last else None,
            }
        )
    return {"liaison_name": liaison_name, "as_of": as_of.isoformat(), "tasks": lines}


def _liaisons(
    conn: Connection, orgs: list[str], view: ShardView
) -> tuple[dict[str, Recipient], dict[str, str]]:
    """The liaisons of `orgs` as recipients, and the organization of each."""
    out, their_orgs = {}, {}
    for part in chunks(orgs):
        for r in conn.execute(
            select(
                Liaison.liaison_id,
                Liaison.name,
                Liaison.org,
                Liaison.phone,
                Liaison.email,
                Liaison.locale,
                Liaison.channels,
                Liaison.wecom_userid,
            ).where(Liaison.org.in_(part))
        ):
            out[r.liaison_id] = Recipient(
                type="liaison",
                id=r.liaison_id,
                name=r.name,
                phone=r.phone,
                email=r.email,
                locale=r.locale,
                channels=r.channels,
                timezone=view.timezone(r.org),
                org=r.org,
                wecom_userid=r.wecom_userid,
            )
            their_orgs[r.liaison_id] = r.org
    return out, their_orgs


def _unassigned(conn: Connection, orgs: list[str], day: date) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    assigned = exists().where(Assignment.member_id == Member.member_id, Assignment.in_force_on(day))
    for part in chunks(orgs):
        for r in conn.execute(
            select(Member.member_id, Member.name, Member.home_org)
            .where(Member.home_org.in_(part), in_scope(day), not_(assigned))
            .order_by(Member.member_id)
        ):
            out.setdefault(r.home_org, []).append({"member_id": r.member_id, "member_name": r.name})
    return out


def digest_and_escalation_drafts(
    engine: Engine,
    view: ShardView,
    digest_orgs: dict[str, date],
    escalation_orgs: dict[str, date],
) -> Iterator[Draft]:
    """Drafts of the digests of liaisons of `digest_orgs` and the escalations of
    `escalation_orgs`, from one pass over the shard's open tasks."""
    as_of = view.today()
    with engine.connect() as conn:
        rolling = rolling_rules(conn)
        liaisons, liaison_orgs = _liaisons(conn, view.orgs, view)
        unassigned = _unassigned(conn, list(escalation_orgs), as_of) if escalation_orgs else {}
        # An organization above the shard depth usually holds no members or liaisons of
        # its own; then there is nothing to read, and its subtree is the deeper shards' work.
        wanted = any(org in digest_orgs for org in liaison_orgs.values()) or any(
            conn.execute(select(Member.member_id).where(Member.home_org.in_(part)).limit(1)).first()
            for part in chunks(list(escalation_orgs))
        )
    if not wanted:
        return
    overdue: dict[str, list[dict[str, Any]]] = {}
    certificates: dict[str, list[dict[str, Any]]] = {}
    group: list[Task] = []
    current: str | None = None

    def flush() -> Iterator[Draft]:
        if current is None or not group:
            return
        recipient = liaisons[current]
        occasion = digest_orgs[liaison_orgs[current]]
        data = digest_data(recipient.name, as_of, group, rolling)
        occasion_key = f"digest:{occasion.isoformat()}"
        yield from drafts_for(recipient, KIND, occasion_key, data, view.sms_route(recipient.org))

    for task in compute_due(engine, DueQuery(as_of, org=view.root), book=view.book):
        if task.liaison_id != current:
            yield from flush()
            group, current = [], task.liaison_id
        if current is not None and liaison_orgs.get(current) in digest_orgs:
            group.append(task)
        if task.org in escalation_orgs:
            _note_for_escalation(view, task, liaisons, overdue, certificates)
    yield from flush()
    findings = {
        org: (unassigned.get(org, []), overdue.get(org, []), certificates.get(org, []))
        for org in escalation_orgs
    }
    yield from _escalation_drafts(view, as_of, escalation_orgs, findings)


_Findings = dict[str, list[dict[str, Any]]]  #: by organization, what an escalation lists


def _note_for_escalation(
    view: ShardView,
    task: Task,
    liaisons: dict[str, Recipient],
    overdue: _Findings,
    certificates: _Findings,
) -> None:
    """Note `task` for its organization's escalation: overdue past the organization's
    threshold, or an activity certificate due for review."""
    if task.overdue_days > view.policy(task.org).escalation_overdue_days:
        liaison = liaisons.get(task.liaison_id) if task.liaison_id is not None else None
        overdue.setdefault(task.org, []).append(
            {
                "member_name": task.member_name,
                "rule": task.rule,
                "overdue_days": task.overdue_days,
                "liaison_name": liaison.name if liaison is not None else None,
            }
        )
    if task.rule == CERTIFICATE_RULE and task.window_end is not None:
        certificates.setdefault(task.org, []).append(
            {"member_name": task.member_name, "due": task.window_end.isoformat()}
        )


def _escalation_drafts(
    view: ShardView,
    as_of: date,
    escalation_orgs: dict[str, date],
    findings: Mapping[str, tuple[list[dict[str, str]], list[dict[str, Any]], list[dict[str, Any]]]],
) -> Iterator[Draft]:
    """Each organization's escalation to its secretary, when it has one and found any
    (unassigned members, overdue tasks, certificates due)."""
    for org, occasion in sorted(escalation_orgs.items()):
        secretary = view.secretaries.get(org)
        unassigned, overdue, certificates = findings[org]
        if secretary is None or not (unassigned or overdue or certificates):
            continue
        data = {
            "secretary_name": secretary.name,
            "org_name": view.tree.names.get(org, org),
            "as_of": as_of.isoformat(),
            "overdue_threshold_days": view.policy(org).escalation_overdue_days,
            "unassigned": unassigned,
            "overdue": sorted(overdue, key=lambda f: -int(f["overdue_days"])),
            "certificates_due": sorted(certificates, key=lambda f: str(f["due"])),
        }
        route = view.sms_route(secretary.org)
        yield from drafts_for(secretary, ESCALATION, f"escalation:{occasion}", data, route)


def digest_refresher(clock: Clock, page: PageSettings | None = None) -> Refresher:
    """The refresher of digests: the liaison's open tasks as they stand at send time, and
    the link to the liaison's page (`link`: the SMS and email print it, the WeCom card
    opens it) when LIAISON_PAGE_SECRET and LIAISON_PUBLIC_URL are set."""

    def refresh(session: Session, notification: Notification) -> dict[str, Any] | None:
        engine = _engine_of(session)
        today = local_date(clock.now(), notification.timezone)
        tasks = list(compute_due(engine, DueQuery(today, liaison_id=notification.recipient_id)))
        return _fresh_digest(
            engine, notification, today, tasks, rolling_rules(session), page, clock
        )

    return refresh


#: liaisons whose tasks one due computation reads for the batch refresher: the
#: few-members path of `compute_due`, so a computation costs a few indexed lookups each
REFRESH_LIAISONS = 10


def digest_batch_refresher(clock: Clock, page: PageSettings | None = None) -> BatchRefresher:
    """`digest_refresher` for many digests at once: one due computation for up to
    REFRESH_LIAISONS liaisons (per local day), the same data for each digest."""

    def refresh(
        session: Session, notifications: Sequence[Notification]
    ) -> dict[int, dict[str, Any] | None]:
        engine = _engine_of(session)
        rolling = rolling_rules(session)
        by_day: dict[date, list[Notification]] = {}
        for n in notifications:
            by_day.setdefault(local_date(clock.now(), n.timezone), []).append(n)
        fresh: dict[int, dict[str, Any] | None] = {}
        for today, group in by_day.items():
            liaisons = list(dict.fromkeys(n.recipient_id for n in group))
            tasks: dict[str | None, list[Task]] = {}
            for some in chunks(liaisons, REFRESH_LIAISONS):
                for task in compute_due(engine, DueQuery(today, liaison_ids=tuple(some))):
                    tasks.setdefault(task.liaison_id, []).append(task)
            for n in group:
                found = tasks.get(n.recipient_id, [])
                fresh[n.id] = _fresh_digest(engine, n, today, found, rolling, page, clock)
        return fresh

    return refresh


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _fresh_digest(
    engine: Engine,
    notification: Notification,
    today: date,
    tasks: list[Task],
    rolling: frozenset[str],
    page: PageSettings | None,
    clock: Clock,
) -> dict[str, Any] | None:
    if not tasks:
        return None
    name = str(notification.data.get("liaison_name", ""))
    # What the planner put in beside the tasks (the SMS route, a link) travels on.
    data = {**notification.data, **digest_data(name, today, tasks, rolling)}
    if page is not None and page.enabled and notification.recipient_type == "liaison":
        # Its own transaction: the link is kept whatever becomes of this send.
        with engine.begin() as conn:
            url = link_for_digest(conn, page, notification.recipient_id, now=clock.now())
        if url is not None:
            data["link"] = url
    return data


def register_refreshers(clock: Clock) -> None:
    """Register the planner's refreshers with the notifier (a worker calls this at start):
    digests re-read their tasks, and member messages (event reminders, greetings) check
    the member is still in scope and take the send day their wording depends on."""
    page = load_page_settings()
    register_refresher(KIND, digest_refresher(clock, page))
    register_batch_refresher(KIND, digest_batch_refresher(clock, page))
    register_refresher(events.KIND, events.event_refresher(clock))
    register_refresher(birthdays.KIND, birthdays.greeting_refresher(clock))
