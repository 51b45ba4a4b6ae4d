"""Counting what became of each planned notification, and the table the drills print."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, text

from services.notifier.testing.smtp_server import SmtpTestServer
from services.notifier.testing.twilio_server import TwilioTestServer

DELIVERED = ("sent", "delivered")
DEAD = ("dead", "failed", "undelivered")


@dataclass(frozen=True)
class DrillOutcome:
    drill: str
    planned: int
    delivered: int
    duplicated: int  #: provider acceptances beyond the first, summed over notifications
    lost: int  #: neither delivered nor dead-lettered with a visible reason
    dead: int
    in_flight: int  #: notifications in "sending" at the fault (the duplicate bound)
    seconds: float
    note: str = ""


RESULTS: list[DrillOutcome] = []

HEADER = ("drill", "planned", "delivered", "duplicated", "lost", "dead-lettered", "in flight", "s")


def table(rows: list[DrillOutcome]) -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
    ]
    for r in rows:
        cells = (
            r.drill,
            r.planned,
            r.delivered,
            r.duplicated,
            r.lost,
            r.dead,
            r.in_flight,
            f"{r.seconds:.0f}",
        )
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    notes = [f"- {r.drill}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def count(
    engine: Engine,
    drill: str,
    *,
    twilio: TwilioTestServer | None = None,
    smtp: SmtpTestServer | None = None,
    in_flight: int = 0,
    seconds: float = 0.0,
    note: str = "",
) -> DrillOutcome:
    """Outcomes from the database, and duplicates from what the loopback servers accepted."""
    with engine.connect() as conn:
        rows = list(conn.execute(text("SELECT address, status, last_error FROM notifications")))
    accepted: Counter[str] = Counter()
    if twilio is not None:
        accepted.update(r.form.get("To", "") for r in twilio.sent())
    if smtp is not None:
        accepted.update(to for m in smtp.messages for to in m.rcpt_tos)
    delivered = sum(1 for r in rows if r.status in DELIVERED)
    # A dead letter counts only with its reason recorded: one without is as good as lost.
    dead = sum(1 for r in rows if r.status in DEAD and r.last_error)
    # The planted drills give each notification an address of its own; a planner's may
    # share one (a liaison's digest and escalation): acceptances beyond the number of
    # notifications for the address are duplicates.
    per_address = Counter(r.address for r in rows)
    outcome = DrillOutcome(
        drill=drill,
        planned=len(rows),
        delivered=delivered,
        duplicated=sum(max(0, accepted[a] - n) for a, n in per_address.items()),
        lost=len(rows) - delivered - dead,
        dead=dead,
        in_flight=in_flight,
        seconds=seconds,
        note=note,
    )
    RESULTS.append(outcome)
    return outcome


def statuses(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(
            {
                str(s): int(c)
                for s, c in conn.execute(
                    text("SELECT status, count(*) FROM notifications GROUP BY status")
                )
            }
        )


def accepted_among(engine: Engine, twilio: TwilioTestServer, status: str) -> int:
    """How many of the notifications now in `status` the (loopback) provider had accepted:
    whether a dead-lettered or stuck send had in fact gone out."""
    accepted = {r.form.get("To") for r in twilio.sent()}
    return sum(a in accepted for a in addresses(engine, status))


def addresses(engine: Engine, status: str) -> list[str]:
    """The addresses of the notifications in `status` (one per notification when planted)."""
    with engine.connect() as conn:
        return [
            str(a)
            for (a,) in conn.execute(
                text("SELECT address FROM notifications WHERE status = :s"), {"s": status}
            )
        ]
