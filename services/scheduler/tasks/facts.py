"""What the rules look at: one member's ledger facts, as plain values (no ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple


class InteractionFact(NamedTuple):
    """One interaction. A named tuple: a province-wide run reads millions of them, and a
    frozen dataclass costs several times more to build."""

    on: date
    kind: str
    place: str | None


@dataclass(slots=True)
class MemberFacts:
    """A member and every record the rules may count, dated on or before the as-of day."""

    member_id: str
    name: str
    home_org: str
    status: str
    mobile_since: date
    join_date: date
    birth_date: date | None  #: from the ledger, or read from the ID number
    certificate_issued_on: date | None
    liaison_id: str | None
    interactions: list[InteractionFact] = field(default_factory=list)
    moves: list[date] = field(default_factory=list)
    reviews: list[date] = field(default_factory=list)
    verifications: list[date] = field(default_factory=list)
    attendance: list[date] = field(default_factory=list)
    delivered_campaigns: set[str] = field(default_factory=set)
    mutes: list[tuple[date, date | None]] = field(default_factory=list)
    #: the last interaction before the loaded range, when the loader looked it up
    earlier_interaction: date | None = None
    #: interactions counted by the database, one per window of `FactNeeds.tallies` (the
    #: rules' `RuleRun.tallies` says which is whose); empty when the loader counted none
    tallies: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CampaignFact:
    campaign_id: str
    title: str
    org: str
    start: date
    end: date | None
