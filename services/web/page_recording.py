"""Recording one tap on the liaison's page: which fact each action is, and the checks.

The liaison's own open tasks are the authority: a tap is recorded only for a task the
page could have shown them on that day (their currently assigned member, that rule and
window), so a link cannot record for another liaison's member. The fact goes through the
ledger's one recording path (`record_fact`, source `page`) and its audit row
(`page_records`: who, when, which link, the note and the photo) commits with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, insert

from services.scheduler.tasks.due import Task
from shared.errors import LiaisonError
from shared.ledger.recording import SOURCE_PAGE, record_fact
from shared.models import PageRecord

_CONTACT = ("phone", "home_visit", "workplace_visit")
_VISIT = ("home_visit", "workplace_visit")
#: the one-tap actions offered for each rule's task
ACTIONS_BY_RULE: dict[str, tuple[str, ...]] = {
    "monthly_contact": _CONTACT,
    "frequent_mover_contact": _CONTACT,
    "quarterly_visit": _VISIT,
    "annual_site_visit": _VISIT,
    "elderly_visits": _VISIT,
    "key_date_visit": _VISIT,
    "materials_delivery": ("delivery",),
    "certificate_review": ("review",),
}
NOTE_MAX_CHARS = 500


def actions_for(rule: str) -> tuple[str, ...]:
    return ACTIONS_BY_RULE.get(rule, ())


class PageRefused(LiaisonError):
    """Raised when a tap cannot be recorded; `code` names the refusal page (page_words)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


@dataclass(frozen=True)
class Tap:
    """What the page's form sent, already shaped (not yet checked against the tasks)."""

    member_id: str
    task_key: str  #: `rule|window_start|window_end`, as the page rendered it
    action: str
    note: str | None = None


@dataclass(frozen=True)
class Recorded:
    record_id: int
    member_id: str
    rule: str
    action: str


def task_key(task: Task) -> str:
    start = task.window_start.isoformat() if task.window_start else ""
    end = task.window_end.isoformat() if task.window_end else ""
    return f"{task.rule}|{start}|{end}"


def check_shape(tap: Tap) -> None:
    """Refuse a tap no page could have sent: an unknown rule, an action that does not
    answer it, a window that is not two dates (or empty)."""
    parts = tap.task_key.split("|")
    if len(parts) != 3 or tap.action not in actions_for(parts[0]):
        raise PageRefused("bad_form", "the task and action do not match any the page offers")
    for part in parts[1:]:
        if part:
            try:
                date.fromisoformat(part)
            except ValueError as exc:
                raise PageRefused("bad_form", "the task's window is not a date") from exc


def find_task(tasks: list[Task], tap: Tap) -> Task:
    """The open task `tap` answers, or the refusal that says why there is none."""
    for task in tasks:
        if task.member_id == tap.member_id and task_key(task) == tap.task_key:
            if tap.action not in actions_for(task.rule):
                raise PageRefused("bad_form", f"{tap.action!r} does not answer {task.rule}")
            return task
    raise PageRefused("not_yours", "no such open task of this liaison")


def fact_of(
    tap: Tap, liaison_id: str, day: date, campaign_id: str | None
) -> tuple[str, dict[str, object]]:
    """The ledger kind and values a tap records."""
    if tap.action == "phone":
        return "interactions", _interaction(tap, liaison_id, day, "phone", None)
    if tap.action == "home_visit":
        return "interactions", _interaction(tap, liaison_id, day, "visit", "home")
    if tap.action == "workplace_visit":
        return "interactions", _interaction(tap, liaison_id, day, "visit", "workplace")
    if tap.action == "delivery":
        if campaign_id is None:
            raise PageRefused("not_yours", "no campaign left to deliver for this member")
        return "deliveries", {"campaign_id": campaign_id, "member_id": tap.member_id, "on": day}
    if tap.action == "review":
        return "reviews", {"member_id": tap.member_id, "on": day}
    raise PageRefused("bad_form", f"unknown action {tap.action!r}")


def _interaction(
    tap: Tap, liaison_id: str, day: date, kind: str, place: str | None
) -> dict[str, object]:
    return {
        "member_id": tap.member_id,
        "kind": kind,
        "on": day,
        "place": place,
        "liaison_id": liaison_id,
        "note": tap.note,
    }


def record_tap(
    engine: Engine,
    tap: Tap,
    task: Task,
    *,
    link_id: int,
    liaison_id: str,
    day: date,
    now: datetime,
    campaign_id: str | None,
    photo: str | None,
) -> Recorded:
    """Record the fact and its audit row in one transaction."""
    kind, values = fact_of(tap, liaison_id, day, campaign_id)
    ids: list[int] = []

    def audit(conn: Connection) -> None:
        row = {
            "link_id": link_id,
            "liaison_id": liaison_id,
            "member_id": tap.member_id,
            "rule": task.rule,
            "action": tap.action,
            "on_date": day,
            "campaign_id": campaign_id,
            "note": tap.note,
            "photo": photo,
            "recorded_at": now,
        }
        ids.append(
            conn.execute(insert(PageRecord).values(row).returning(PageRecord.id)).scalar_one()
        )

    then: Callable[[Connection], None] = audit
    record_fact(engine, kind, values, source=SOURCE_PAGE, then=then)
    return Recorded(ids[0], tap.member_id, task.rule, tap.action)
