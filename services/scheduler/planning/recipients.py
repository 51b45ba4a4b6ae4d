"""Who a message goes to and by which channels: a person's preference and addresses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from services.notifier import NewNotification
from shared.models.notifications import CHANNELS
from shared.settings import DEFAULT_LOCALE


def preferred_channels(channels: str | None) -> tuple[str, ...]:
    """The channels a `channels` value asks for, in their order (`sms+wecom` → sms, wecom).

    The ledger admits only known combinations (shared/ledger/kinds.py `CHANNELS`); a value
    naming no known channel (a row written around the importer) falls back to SMS, as
    an empty one does, rather than leaving the person unreachable."""
    wanted = tuple(part for part in (channels or "").strip().lower().split("+") if part in CHANNELS)
    return wanted or ("sms",)


@dataclass(frozen=True)
class Recipient:
    """A liaison, a member or a secretary, with what a notification needs of them."""

    type: str  #: liaison | member | secretary
    id: str
    name: str
    phone: str | None
    email: str | None
    locale: str
    channels: str  #: sms | email | wecom, or several joined by "+" (sms+wecom)
    timezone: str
    #: the organization whose policy routes this person's SMS (`sms_route`): a member's home
    #: branch, a liaison's organization, the secretary's own
    org: str = ""
    wecom_userid: str | None = None  #: their account in the organization's WeCom

    def address(self, channel: str) -> str | None:
        if channel == "sms":
            return self.phone
        if channel == "email":
            return self.email
        return self.wecom_userid if channel == "wecom" else None

    def routes(self) -> list[tuple[str, str]]:
        """(channel, address) for each preferred channel the person has an address for."""
        out = []
        for channel in preferred_channels(self.channels):
            address = self.address(channel)
            if address:
                out.append((channel, address))
        return out


@dataclass(frozen=True)
class Draft(NewNotification):
    """A notification the planner means to create (or, in a dry run, to show): the
    outbox's own NewNotification, with its data as a dict the planner builds."""

    data: dict[str, Any]


def drafts_for(
    recipient: Recipient,
    kind: str,
    occasion: str,
    data: dict[str, Any],
    sms_route: Mapping[str, Any] | None = None,
) -> list[Draft]:
    """One draft per route of `recipient`; none when they have no address for any channel.

    `sms_route` is the recipient's organization's SMS route (provider, signature, template
    codes; see `services.notifier.sms_routes`): the SMS draft carries it in its data, so the
    sender that delivers it needs no database; the other channels' drafts do not."""
    return [
        Draft(
            kind=kind,
            channel=channel,
            recipient_type=recipient.type,
            recipient_id=recipient.id,
            address=address,
            locale=recipient.locale or DEFAULT_LOCALE,
            timezone=recipient.timezone,
            data={**data, "sms_route": dict(sms_route)} if channel == "sms" and sms_route else data,
            occasion=occasion,
        )
        for channel, address in recipient.routes()
    ]


def secretary_channels(phone: str | None, email: str | None) -> str:
    """A secretary has no preference column: every address they gave is used."""
    if phone and email:
        return "sms+email"
    return "email" if email else "sms"


def member_in_scope(session: Session, member_id: str, days: tuple[date, ...]) -> bool:
    """Whether the member is in scope (rules.md: active, already mobile, not muted) on
    every day of `days`: what a member message's send-time refresher asks before sending.

    Read in the caller's session, the delivery transaction, rather than on a connection
    of its own (SQLite has one writer, and the claim that follows is in that session)."""
    from services.scheduler.planning.shard_view import in_scope
    from shared.models import Member

    found = session.execute(
        select(Member.member_id).where(
            Member.member_id == member_id, and_(*(in_scope(day) for day in days))
        )
    ).first()
    return found is not None
