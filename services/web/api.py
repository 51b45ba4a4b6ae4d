"""The REST API for a mobile app or mini-program: a liaison's open tasks, recording an
interaction, a member's history, an organization's compliance, the delivery log, and the
ops views of queues and dead letters. See `services/web/access.py` for who sees what."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from services.notifier import dead_by_reason, requeue_dead
from services.scheduler.tasks.due import DueQuery, compute_due
from services.scheduler.tasks.report import (
    REPORT_COLUMNS,
    PeriodError,
    compliance_report,
    row_values,
)
from services.web import access
from services.web.alerts import AlertBook
from services.web.deps import Caller, Ctx, require_roles
from services.web.inputs import MAX_DAY, MIN_DAY, check_period
from services.web.labels import ZH, Labels
from services.web.member_facts import member_facts
from services.web.ops import dead_items, delivery_log, requeue
from services.web.schemas import (
    AlertOut,
    Compliance,
    ComplianceRow,
    DeadGroupOut,
    DeadLetterOut,
    DeadOut,
    DeadRequeueIn,
    DeadRequeueOut,
    Delivery,
    InteractionIn,
    Me,
    MemberHistory,
    QueueOut,
    Recorded,
    RequeueIn,
    RequeueOut,
    TaskOut,
)
from services.web.snapshot import take_snapshot
from services.web.tokens import Principal
from shared.clock import local_today
from shared.errors import ImportRejected
from shared.ledger.recording import SOURCE_API, record_fact
from shared.masking import mask_phone, mask_text
from shared.models import (
    Member,
)
from shared.settings import DEFAULT_TIMEZONE

router = APIRouter(prefix="/api/v1", tags=["api"])

OpsCaller = Annotated[Principal, Depends(require_roles("admin", "ops"))]
ID = Annotated[str, Query(max_length=64)]
MAX_PAGE = 500


def today(ctx: Ctx) -> date:
    return local_today(ctx.clock, DEFAULT_TIMEZONE)


@router.get("/me", response_model=Me)
def me(caller: Caller) -> Me:
    """The calling token's role and scope."""
    return Me(**asdict(caller))


@router.get("/liaisons/{liaison_id}/tasks", response_model=list[TaskOut])
def liaison_tasks(
    liaison_id: str,
    caller: Caller,
    ctx: Ctx,
    as_of: Annotated[date | None, Query(ge=MIN_DAY, le=MAX_DAY)] = None,
) -> list[TaskOut]:
    """The liaison's open tasks, numbered, most urgent first."""
    access.check_liaison(ctx.engine, caller, liaison_id)
    day = as_of or today(ctx)
    tasks = list(compute_due(ctx.engine, DueQuery(day, liaison_id=liaison_id)))
    if caller.role == "liaison":
        # Whatever day is asked about, a liaison sees only the members assigned to it now:
        # a member reassigned since is someone else's to see.
        current = access.current_members(ctx.engine, liaison_id, today(ctx))
        tasks = [t for t in tasks if t.member_id in current]
    return [
        TaskOut(
            number=n,
            member_id=t.member_id,
            member_name=t.member_name,
            rule=t.rule,
            window_start=t.window_start,
            window_end=t.window_end,
            liaison_id=t.liaison_id,
            org=t.org,
            overdue_days=t.overdue_days,
            done=t.done,
            required=t.required,
        )
        for n, t in enumerate(tasks, start=1)
    ]


@router.post("/members/{member_id}/interactions", response_model=Recorded, status_code=201)
def record_interaction(member_id: str, body: InteractionIn, caller: Caller, ctx: Ctx) -> Recorded:
    """Record a contact or a visit, validated as an imported row would be."""
    access.check_member(ctx.engine, caller, member_id, today(ctx))
    liaison_id = caller.liaison_id if caller.role == "liaison" else body.liaison_id
    if liaison_id is not None and caller.role == "org_manager":
        access.check_liaison(ctx.engine, caller, liaison_id)
    values = {
        "member_id": member_id,
        "kind": body.kind,
        "on": body.on,
        "place": body.place,
        "note": body.note,
        "liaison_id": liaison_id,
    }
    try:
        report = record_fact(ctx.engine, "interactions", values, source=SOURCE_API)
    except ImportRejected as exc:
        raise HTTPException(422, [mask_text(p) for p in exc.problems]) from exc
    return Recorded(
        member_id=member_id, kind=body.kind, on=body.on, written=report.written("interactions")
    )


@router.get("/members/{member_id}/history", response_model=MemberHistory)
def member_history(member_id: str, caller: Caller, ctx: Ctx) -> MemberHistory:
    """Everything recorded about the member, newest first; the phone masked."""
    day = today(ctx)
    access.check_member(ctx.engine, caller, member_id, day)
    with Session(ctx.engine) as s:
        m = s.get(Member, member_id)
        if m is None:
            raise access.not_found("member")
        facts = member_facts(s, member_id)
        current = access.current_liaison(s, member_id, day)
        return MemberHistory(
            member_id=m.member_id,
            name=m.name,
            home_org=m.home_org,
            status=m.status,
            phone=mask_phone(m.phone) if m.phone else None,
            liaison_id=current,
            facts=facts,
        )


@router.get("/organizations/{code}/compliance", response_model=Compliance)
def organization_compliance(
    code: str,
    caller: Caller,
    ctx: Ctx,
    period: Annotated[str, Query(max_length=16, description="2026-10, 2026-Q4, 2026-H2 or 2026")],
) -> Compliance:
    """Compliance of the organization and each organization below it, rolled up."""
    access.check_org(ctx.engine, caller, code)
    check_period(period)
    try:
        report = compliance_report(ctx.engine, period, today=today(ctx), org=code)
    except PeriodError as exc:
        raise HTTPException(422, str(exc)) from exc
    rows = []
    for row in report.rows:
        values = dict(zip(REPORT_COLUMNS, row_values(row), strict=True))
        rows.append(ComplianceRow(depth=row.depth, **values))  # type: ignore[arg-type]
    return Compliance(
        period_start=report.period_start,
        period_end=report.period_end,
        evaluated_on=report.evaluated_on,
        rows=rows,
    )


@router.get("/deliveries", response_model=list[Delivery])
def deliveries(
    caller: Caller,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    status: Annotated[str | None, Query(max_length=16)] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
) -> list[Delivery]:
    """The delivery log, newest first, addresses masked; only notifications to people in
    the caller's part of the ledger."""
    scope = access.delivery_scope(ctx.engine, caller)
    rows = delivery_log(
        ctx.engine,
        limit=limit,
        scope=scope,
        statuses=[status] if status else None,
        channel=channel,
    )
    return [Delivery(**r) for r in rows]


@router.get("/queues", response_model=list[QueueOut])
def queues(caller: OpsCaller, ctx: Ctx) -> list[QueueOut]:
    """Per dramatiq queue: waiting, in flight, delayed, dead and live workers. Dead is the
    dashboard's figure: dead notifications for the notifications queue (the delivery
    log), dead-lettered messages for another queue."""
    snap = take_snapshot(ctx.engine, ctx.redis, ctx.namespace, ctx.web, now=ctx.clock.now())
    return [
        QueueOut(**{**asdict(q), "dead": snap.dead_in(q.name), "workers": snap.workers_on(q.name)})
        for q in snap.queues
    ]


@router.get("/dead", response_model=DeadOut)
def dead(caller: OpsCaller, ctx: Ctx) -> DeadOut:
    """Dead notifications: how many, and grouped by reason (the largest group first)."""
    with Session(ctx.engine) as session:
        groups = dead_by_reason(session)
    return DeadOut(
        total=sum(g.count for g in groups),
        groups=[
            DeadGroupOut(
                reason=g.reason,
                count=g.count,
                channels=g.channels,
                kinds=g.kinds,
                newest=g.newest.isoformat(timespec="seconds") if g.newest else None,
            )
            for g in groups
        ],
    )


@router.post("/dead/requeue", response_model=DeadRequeueOut)
def requeue_dead_notifications(body: DeadRequeueIn, caller: OpsCaller, ctx: Ctx) -> DeadRequeueOut:
    """Queue dead notifications again: all, those of one reason, or chosen ids. Each gets
    an event in the delivery log naming the token that requeued it."""
    if body.scope == "reason" and not body.reason:
        raise HTTPException(422, "scope reason needs a reason")
    if body.scope == "ids" and not body.ids:
        raise HTTPException(422, "scope ids needs ids")
    ids = body.ids if body.scope == "ids" else None
    requeued = requeue_dead(
        ctx.engine,
        ctx.broker,
        now=ctx.clock.now(),
        by=f"{caller.role} token #{caller.token_id}",
        reason=body.reason if body.scope == "reason" else None,
        ids=ids,
    )
    return DeadRequeueOut(requeued=len(requeued))


@router.get("/dead-letters", response_model=list[DeadLetterOut])
def list_dead_letters(caller: OpsCaller, ctx: Ctx) -> list[DeadLetterOut]:
    """Dead letters of the broker and the outbox, with the reason; recipients masked."""
    return [DeadLetterOut(**asdict(d)) for d in dead_items(ctx)]


@router.post("/dead-letters/requeue", response_model=RequeueOut)
def requeue_dead_letter(body: RequeueIn, caller: OpsCaller, ctx: Ctx) -> RequeueOut:
    """Put a dead letter back on its queue (false when it is gone already)."""
    by = f"{caller.role} token #{caller.token_id}"
    return RequeueOut(requeued=requeue(ctx, body.source, body.ref, by=by))


@router.get("/alerts", response_model=list[AlertOut])
def alerts(
    caller: OpsCaller, ctx: Ctx, lang: Annotated[str, Query(pattern="^(zh-CN|en)$")] = ZH
) -> list[AlertOut]:
    """The alerts that hold now, with the start of each incident; messages in Chinese
    unless `lang=en`."""
    snap = take_snapshot(ctx.engine, ctx.redis, ctx.namespace, ctx.web, now=ctx.clock.now())
    t = Labels(lang)
    return [
        AlertOut(
            key=a.key,
            message=a.message(t),
            since=a.since.isoformat(timespec="seconds") if a.since else None,
        )
        for a in AlertBook(ctx.redis, ctx.web, None).current(snap)
    ]
