"""The REST API's bodies, as pydantic models (they are its OpenAPI description)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.web.inputs import Day, Text

InteractionKind = Literal["phone", "sms", "wechat", "visit", "meeting", "other"]
Place = Literal["home", "workplace", "other"]


class Me(BaseModel):
    token_id: int
    role: str
    org: str | None
    liaison_id: str | None


class TaskOut(BaseModel):
    number: int
    member_id: str
    member_name: str
    rule: str
    window_start: date | None
    window_end: date | None
    liaison_id: str | None
    org: str
    overdue_days: int
    done: int
    required: int


class InteractionIn(BaseModel):
    on: Day
    kind: InteractionKind
    place: Place | None = None
    note: Text | None = Field(default=None, max_length=2000)
    #: who was in touch; a liaison token always records itself
    liaison_id: Text | None = Field(default=None, max_length=64)


class Recorded(BaseModel):
    member_id: str
    kind: str
    on: date
    written: int


class Fact(BaseModel):
    kind: str  #: interaction | review | delivery | verification | move | assignment | attendance
    on: date
    detail: str | None = None
    liaison_id: str | None = None
    #: where the record came from: import, cli, sms-reply, api, page (None: not known)
    source: str | None = None


class MemberHistory(BaseModel):
    member_id: str
    name: str
    home_org: str
    status: str
    phone: str | None  #: masked
    liaison_id: str | None  #: currently assigned
    facts: list[Fact]


class ComplianceRow(BaseModel):
    org: str
    name: str
    depth: int
    members: int
    contacts_met: int
    contacts_required: int
    contacts_share: str
    visits_met: int
    visits_required: int
    visits_share: str
    unassigned: int
    liaisons_over_load: int
    movers_without_own_liaison: int
    elderly_not_visited_twice: int
    no_event_attended: int


class Compliance(BaseModel):
    period_start: date
    period_end: date
    evaluated_on: date
    rows: list[ComplianceRow]


class Delivery(BaseModel):
    id: int
    kind: str
    channel: str
    recipient_type: str
    recipient_id: str
    address: str  #: masked
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    updated_at: str
    provider: str | None
    latency_ms: int | None
    error_code: str | None


class QueueOut(BaseModel):
    name: str
    waiting: int
    in_flight: int
    delayed: int
    dead: int
    oldest_waiting_s: float | None
    workers: int = 0  #: live worker processes consuming the queue


class DeadGroupOut(BaseModel):
    reason: str
    count: int
    channels: dict[str, int]
    kinds: dict[str, int]
    newest: str | None


class DeadOut(BaseModel):
    total: int
    groups: list[DeadGroupOut]


MAX_REQUEUE_IDS = 1000


class DeadRequeueIn(BaseModel):
    scope: Literal["all", "reason", "ids"]
    reason: Text | None = Field(default=None, max_length=200)
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        default=None, max_length=MAX_REQUEUE_IDS
    )


class DeadRequeueOut(BaseModel):
    requeued: int


class DeadNotificationOut(BaseModel):
    notification_id: int
    recipient: str
    kind: str


class DeadLetterOut(BaseModel):
    source: str
    ref: str
    #: the notification, when the letter carries exactly one
    notification_id: int | None
    recipient: str
    kind: str
    reason: str
    died_at: str
    #: every notification the letter carries: one, or a batch letter's (up to 50)
    notifications: list[DeadNotificationOut]


class RequeueIn(BaseModel):
    source: Literal["broker", "outbox"]
    ref: Text = Field(max_length=200)


class RequeueOut(BaseModel):
    requeued: bool


class AlertOut(BaseModel):
    key: str
    message: str
    since: str | None
