"""An inbound SMS, acted on: opt the number out or back in, or record digest tasks as done.

The numbers a liaison replies with are those of their most recent digest that left (the
notification's data holds the numbered tasks as sent). Each task is recorded through the
ledger's validation as the fact that satisfies its rule: a visit task as a visit, a contact
task as a contact, a review task as a review, a delivery task as a delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.notifier import record_opt_out, remove_opt_out
from services.web.access import is_assigned
from services.web.replies import Reply, parse_reply
from shared.db import transaction
from shared.errors import LiaisonError
from shared.ledger.recording import SOURCE_SMS_REPLY, record_fact
from shared.masking import mask_phone
from shared.models import (
    Campaign,
    InboundMessage,
    Liaison,
    MaterialDelivery,
    Member,
    Notification,
    Organization,
)
from shared.org_tree import OrgTree
from shared.settings import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

DIGEST_KIND = "liaison_digest"
MAX_SID_LENGTH = 64  #: Twilio's sids are 34 characters; the column holds 64
#: a digest the liaison has seen: the provider took it (and may have reported delivery)
SEEN_STATUSES = ("sent", "delivered")
REPLY_NOTE = "recorded by SMS reply"

#: rule → (ledger kind, extra values) of the fact that satisfies it
FACTS_BY_RULE: dict[str, tuple[str, dict[str, str]]] = {
    "monthly_contact": ("interactions", {"kind": "other"}),
    "frequent_mover_contact": ("interactions", {"kind": "other"}),
    # A reply cannot say where a visit was; seed 000's wording (回乡上门探访) makes the home
    # the common case, and annual_site_visit needs a place. Every visit a reply records is
    # at home, so that "4 5" (a quarterly and a site visit, one trip) is one fact: the
    # place is part of an interaction's key, and a placeless visit beside it would count
    # as a second visit that day.
    "quarterly_visit": ("interactions", {"kind": "visit", "place": "home"}),
    "elderly_visits": ("interactions", {"kind": "visit", "place": "home"}),
    "key_date_visit": ("interactions", {"kind": "visit", "place": "home"}),
    "annual_site_visit": ("interactions", {"kind": "visit", "place": "home"}),
    "certificate_review": ("reviews", {}),
    "materials_delivery": ("deliveries", {}),
    "ledger_verification": ("verifications", {}),
}

OPT_OUT_TEXT = {
    True: "您已退订，本号码将不再向您发送短信。回复“订阅”可恢复接收。",
    False: "You have been unsubscribed and will receive no more messages from this number. "
    "Reply START to resubscribe.",
}
OPT_IN_TEXT = {
    True: "您已恢复订阅，将继续收到提醒短信。回复“退订”可取消。",
    False: "You have been resubscribed and will receive messages again. Reply STOP to unsubscribe.",
}
HELP_TEXT = {
    True: "未能识别您的回复。请回复任务编号，如“1 3”，记为已完成；回复“退订”停止接收。",
    False: 'Reply with task numbers such as "1 3" to mark them done, or STOP to unsubscribe.',
}
UNKNOWN_SENDER_TEXT = {
    True: "本号码未登记为联络员，无法记录任务。",
    False: "This number is not registered as a liaison's; nothing was recorded.",
}
NO_DIGEST_TEXT = {
    True: "暂无可对应的待办清单，未记录任何任务。",
    False: "There is no task list to match your reply; nothing was recorded.",
}


@dataclass(frozen=True)
class InboundResult:
    reply: Reply
    answer: str  #: the text sent back
    recorded: tuple[int, ...] = ()  #: task numbers recorded as done
    refused: tuple[int, ...] = ()  #: task numbers that could not be recorded


def answer_once(engine: Engine, sid: str, from_number: str, body: str, *, now: datetime) -> str:
    """Act on the message `sid` once and return its answer; a message seen before (Twilio
    retrying, or a captured request replayed) gets the answer it had and changes nothing.

    The sid is claimed before acting, so two deliveries of one message at once act once
    (the second gets an empty answer while the first is still at work). If acting fails,
    the claim is let go, so that Twilio's retry may act."""
    try:
        with transaction(engine) as session:
            session.add(InboundMessage(message_sid=sid, received_at=now))
    except IntegrityError:
        with Session(engine) as session:
            seen = session.get(InboundMessage, sid)
        log.info("inbound message %s seen before; not acted on again", sid)
        return (seen.answer if seen is not None else None) or ""
    try:
        result = handle_inbound(engine, from_number, body, now=now)
    except Exception:
        with transaction(engine) as session:
            session.execute(delete(InboundMessage).where(InboundMessage.message_sid == sid))
        raise
    with transaction(engine) as session:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.message_sid == sid)
            .values(answer=result.answer)
        )
    return result.answer


def handle_inbound(engine: Engine, from_number: str, body: str, *, now: datetime) -> InboundResult:
    reply = parse_reply(body)
    if reply.kind == "opt_out":
        with transaction(engine) as session:
            record_opt_out(session, from_number, "sms", source="reply", now=now)
        log.info("%s opted out of SMS", mask_phone(from_number))
        return InboundResult(reply, OPT_OUT_TEXT[reply.chinese])
    if reply.kind == "opt_in":
        with transaction(engine) as session:
            remove_opt_out(session, from_number, "sms")
        log.info("%s opted back in to SMS", mask_phone(from_number))
        return InboundResult(reply, OPT_IN_TEXT[reply.chinese])
    with Session(engine) as session:
        liaison = replying_liaison(session, from_number)
        if liaison is None:
            zh = reply.chinese or reply.kind == "done"
            return InboundResult(reply, UNKNOWN_SENDER_TEXT[zh])
        zh = not (liaison.locale or "").lower().startswith("en")
        if reply.kind == "unknown":
            return InboundResult(reply, HELP_TEXT[zh])
        tz = session.get(Organization, liaison.org)
        timezone = tz.timezone if tz is not None else DEFAULT_TIMEZONE
        digest = latest_digest(session, liaison.liaison_id)
        liaison_id = liaison.liaison_id
    if digest is None:
        return InboundResult(reply, NO_DIGEST_TEXT[zh])
    today = now.astimezone(ZoneInfo(timezone)).date()
    tasks = {int(t["number"]): t for t in digest.get("tasks", []) if "number" in t}
    recorded: list[int] = []
    refused: list[int] = []
    for number in reply.numbers:
        task = tasks.get(number)
        if task is None or not _record_task(engine, liaison_id, task, today):
            refused.append(number)
        else:
            recorded.append(number)
    log.info(
        "liaison %s replied: recorded %s, refused %s", liaison_id, recorded or "-", refused or "-"
    )
    return InboundResult(reply, _done_text(zh, recorded, refused), tuple(recorded), tuple(refused))


def replying_liaison(session: Session, phone: str) -> Liaison | None:
    """The liaison a reply from `phone` comes from.

    The importer refuses two liaisons with one phone, but a ledger from before that check
    may hold them. Then the reply answers the most recent digest that left for any of
    them (that is the list whose numbers the sender is looking at); with none, the first
    by id. Either way one answer, the same every time."""
    liaisons = list(
        session.scalars(select(Liaison).where(Liaison.phone == phone).order_by(Liaison.liaison_id))
    )
    if len(liaisons) <= 1:
        return liaisons[0] if liaisons else None
    log.warning("%s is the phone of %d liaisons", mask_phone(phone), len(liaisons))
    latest = session.execute(
        select(Notification.recipient_id)
        .where(
            Notification.kind == DIGEST_KIND,
            Notification.recipient_type == "liaison",
            Notification.recipient_id.in_([li.liaison_id for li in liaisons]),
            Notification.channel == "sms",
            Notification.status.in_(SEEN_STATUSES),
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return next((li for li in liaisons if li.liaison_id == latest), liaisons[0])


def latest_digest(session: Session, liaison_id: str) -> Mapping[str, Any] | None:
    """The data of the liaison's most recent SMS digest that left."""
    data = session.execute(
        select(Notification.data)
        .where(
            Notification.kind == DIGEST_KIND,
            Notification.recipient_type == "liaison",
            Notification.recipient_id == liaison_id,
            Notification.channel == "sms",
            Notification.status.in_(SEEN_STATUSES),
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return data


def _record_task(engine: Engine, liaison_id: str, task: Mapping[str, Any], today: date) -> bool:
    member_id = task.get("member_id")
    fact = FACTS_BY_RULE.get(str(task.get("rule")))
    if not member_id or fact is None:
        return False
    with Session(engine) as session:
        if not is_assigned(session, liaison_id, str(member_id), today):
            return False  # reassigned since the digest: not this liaison's to close
        kind, extra = fact
        values: dict[str, object] = {"member_id": member_id, "on": today, **extra}
        if kind == "interactions":
            values.update(liaison_id=liaison_id, note=REPLY_NOTE)
        if kind == "deliveries":
            campaign = _campaign_of(session, str(member_id), task)
            if campaign is None:
                return False
            values["campaign_id"] = campaign
    try:
        record_fact(engine, kind, values, source=SOURCE_SMS_REPLY)
    except LiaisonError as exc:
        log.warning("an SMS reply could not be recorded: %s", exc)
        return False
    return True


def _campaign_of(session: Session, member_id: str, task: Mapping[str, Any]) -> str | None:
    """The campaign a delivery task stands for: the digest carries its window, which is the
    campaign's [start, end]; among the campaigns reaching the member's branch with that
    window, the first one the member has had nothing from."""
    member = session.get(Member, member_id)
    if member is None or not task.get("window_start"):
        return None
    lineage = OrgTree.load(session).lineage(member.home_org)
    start = date.fromisoformat(str(task["window_start"]))
    end = date.fromisoformat(str(task["window_end"])) if task.get("window_end") else None
    delivered = select(MaterialDelivery.campaign_id).where(MaterialDelivery.member_id == member_id)
    found = session.execute(
        select(Campaign.campaign_id)
        .where(
            Campaign.org.in_(lineage),
            Campaign.start == start,
            Campaign.end.is_(None) if end is None else Campaign.end == end,
            Campaign.campaign_id.not_in(delivered),
        )
        .order_by(Campaign.campaign_id)
        .limit(1)
    ).scalar_one_or_none()
    return found


def _done_text(zh: bool, recorded: list[int], refused: list[int]) -> str:
    if zh:
        parts = []
        if recorded:
            parts.append("已记录第" + "、".join(map(str, recorded)) + "项为完成。")
        if refused:
            parts.append("第" + "、".join(map(str, refused)) + "项未能记录，请核对编号。")
        return "".join(parts)
    parts = []
    if recorded:
        parts.append("Recorded as done: " + ", ".join(map(str, recorded)) + ".")
    if refused:
        parts.append("Not recorded: " + ", ".join(map(str, refused)) + "; check the numbers.")
    return " ".join(parts)
