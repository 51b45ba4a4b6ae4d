"""The rules' exact semantics (rules.md, "Exact semantics"), as pure functions.

Each rule row names a *strategy*. A strategy prepares a rule once for a run (its window
for the as-of day, its record filter, its counts) and returns an evaluator that turns one
member's facts into assessments. `liaison due` lists the assessments that are `listed`;
`liaison why` prints all of them with their evidence; `liaison report` evaluates each
calendar window on its last day. All three go through `prepare`, so they cannot disagree.

Strategies:
- ``calendar``: the window is the calendar period containing D; listed while it holds fewer
  satisfying records than required (monthly contact, quarterly visit, elderly visits…).
- ``rolling``: a trailing window of `interval_days` for members who moved `min_moves` times
  within `moves_lookback_days` (frequent movers).
- ``anniversary``: windows of ±`window_half_days` around key dates (1 July, the Spring
  Festival, the political birthday), listed only inside a window.
- ``review_cycle``: due `cycle_months` after the latest of issue and reviews, listed from
  `lead_days` before.
- ``campaign``: one task per active study campaign of the home branch or an ancestor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from services.scheduler.tasks.facts import CampaignFact, MemberFacts
from services.scheduler.tasks.periods import (
    add_months_clamped,
    age_on,
    anniversary,
    latest_birth_for_age,
    period_bounds,
)
from shared.calendars import spring_festival


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """A rule with the parameters in force for one organization."""

    name: str
    strategy: str
    enabled: bool
    params: Mapping[str, Any]
    priority: int


class Assessment(NamedTuple):
    """One rule's verdict on one member for the as-of day.

    A named tuple, not a frozen dataclass: `due` builds millions of them, and a frozen
    dataclass pays for every field it sets.
    """

    rule: str
    applies: bool  #: whether the rule concerns this member on D at all
    listed: bool  #: whether an open task is listed
    window_start: date | None = None
    window_end: date | None = None
    overdue_days: int = 0
    done: int = 0
    required: int = 1
    evidence: tuple[str, ...] = ()  #: the records counted (only when explaining)
    reason: str = ""  #: a sentence for `liaison why` (only when explaining)


@dataclass(frozen=True, slots=True)
class InteractionWindow:
    """Interactions a rule may count: dated from `start` (to D), of these kinds and places
    (None: any)."""

    start: date
    kinds: frozenset[str] | None
    places: frozenset[str] | None

    def covers(self, other: InteractionWindow) -> bool:
        """Whether every interaction `other` asks for is also asked for here."""
        return (
            self.start <= other.start
            and (self.kinds is None or (other.kinds is not None and other.kinds <= self.kinds))
            and (self.places is None or (other.places is not None and other.places <= self.places))
        )


@dataclass(frozen=True, slots=True)
class Context:
    as_of: date
    #: the study campaigns active on D for a member's home organization (ancestors included)
    campaigns_for: Callable[[str], Sequence[CampaignFact]]
    explain: bool = False
    #: `due`: evaluators may leave out every assessment that lists nothing (most of them;
    #: a province-wide run would build millions only to drop them)
    listed_only: bool = False
    #: the windows whose interactions the loader counted in the database (`FactNeeds.tallies`),
    #: in `MemberFacts.tallies`' order: a calendar rule whose window is one of them reads its
    #: count there instead of counting the member's interactions
    tallies: tuple[InteractionWindow, ...] = ()


Evaluator = Callable[[MemberFacts], Sequence[Assessment]]
NOTHING_LISTED: tuple[Assessment, ...] = ()


def scope(facts: MemberFacts, as_of: date) -> tuple[bool, str]:
    """Whether the member is in scope on D, and why not when not."""
    if facts.status != "active":
        return False, f"status is {facts.status}"
    if facts.mobile_since > as_of:
        return False, f"mobile only from {facts.mobile_since.isoformat()}"
    for start, end in facts.mutes:
        if start <= as_of and (end is None or as_of <= end):
            until = end.isoformat() if end else "further notice"
            return False, f"muted from {start.isoformat()} to {until}"
    return True, "active and mobile"


def prepare(rule: EffectiveRule, ctx: Context) -> Evaluator:
    """The evaluator of `rule` on the context's day, with everything per-run worked out."""
    if not rule.enabled:
        off = [Assessment(rule.name, False, False, reason="rule is off for this organization")]
        return lambda _facts: list(off)
    return STRATEGIES[rule.strategy](rule, ctx)


def assess(rule: EffectiveRule, facts: MemberFacts, ctx: Context) -> list[Assessment]:
    """Every assessment `rule` makes of the member (several for key dates and campaigns)."""
    return list(prepare(rule, ctx)(facts))


# -- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordSelector:
    """Which of a member's records satisfy a rule: a source, and for interactions, kinds
    and places (None: any)."""

    source: str
    kinds: frozenset[str] | None
    places: frozenset[str] | None

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> RecordSelector:
        kinds, places = params.get("kinds"), params.get("places")
        return cls(
            params.get("source", "interactions"),
            None if kinds is None else frozenset(kinds),
            None if places is None else frozenset(places),
        )

    def dates(self, facts: MemberFacts, until: date) -> list[date]:
        """Satisfying record dates on or before `until` (later records are ignored)."""
        if self.source != "interactions":
            return [d for d in getattr(facts, self.source) if d <= until]
        kinds, places = self.kinds, self.places
        return [
            i.on
            for i in facts.interactions
            if i.on <= until
            and (kinds is None or i.kind in kinds)
            and (places is None or i.place in places)
        ]

    def count(self, facts: MemberFacts, start: date, end: date) -> int:
        """How many satisfying records are dated in [start, end] (the hot path of `due`)."""
        if self.source != "interactions":
            return sum(1 for d in getattr(facts, self.source) if start <= d <= end)
        kinds, places = self.kinds, self.places
        if kinds is None and places is None:
            return sum(1 for i in facts.interactions if start <= i.on <= end)
        return sum(
            1
            for i in facts.interactions
            if start <= i.on <= end
            and (kinds is None or i.kind in kinds)
            and (places is None or i.place in places)
        )

    def evidence(self, facts: MemberFacts, start: date, end: date) -> tuple[str, ...]:
        if self.source != "interactions":
            dated = sorted(getattr(facts, self.source))
            return tuple(f"{d.isoformat()} {self.source}" for d in dated if start <= d <= end)
        kinds, places = self.kinds, self.places
        return tuple(
            f"{i.on.isoformat()} {i.kind}" + (f" at {i.place}" if i.place else "")
            for i in sorted(facts.interactions, key=lambda i: i.on)
            if start <= i.on <= end
            and (kinds is None or i.kind in kinds)
            and (places is None or i.place in places)
        )

    def describe(self) -> str:
        if self.source != "interactions":
            return f"{self.source} records"
        what = "/".join(sorted(self.kinds)) if self.kinds else "interaction"
        return what + (f" at {'/'.join(sorted(self.places))}" if self.places else "")


class _AgeGate:
    """Whether a member is old enough for a rule on D: born on or before the latest birth
    date of anyone that old on D, worked out once per run rather than an age per member."""

    __slots__ = ("as_of", "born_by", "min_age", "name")

    def __init__(self, name: str, min_age: float, as_of: date) -> None:
        self.name, self.min_age, self.as_of = name, min_age, as_of
        # Ages are whole years: at least 79.5 means at least 80.
        self.born_by = latest_birth_for_age(math.ceil(min_age), as_of)

    def refuse(self, facts: MemberFacts, explain: bool) -> Assessment | None:
        """The assessment that the member is out of the rule's reach, or None if within."""
        birth = facts.birth_date
        if birth is None:
            reason = "birth date unknown" if explain else ""
            return Assessment(self.name, False, False, reason=reason)
        if self.born_by is not None and birth <= self.born_by:
            return None
        reason = f"aged {age_on(birth, self.as_of)}, under {self.min_age}" if explain else ""
        return Assessment(self.name, False, False, reason=reason)


def _age_gate(name: str, min_age: Any, as_of: date) -> _AgeGate | None:
    return None if min_age is None else _AgeGate(name, min_age, as_of)


# -- strategies ---------------------------------------------------------------------------


def calendar_strategy(rule: EffectiveRule, ctx: Context) -> Evaluator:
    p, name, as_of, explain, quiet = rule.params, rule.name, ctx.as_of, ctx.explain, ctx.listed_only
    period = p["period"]
    start, end = period_bounds(as_of, period)
    required = int(p.get("required", 1))
    gate = _age_gate(name, p.get("min_age"), as_of)
    records = RecordSelector.of(p)
    # Counted by the loader in the database when it could (`FactNeeds.tallies`); never
    # when explaining, which lists the records themselves.
    slot = None
    if records.source == "interactions" and not explain:
        window = InteractionWindow(start, records.kinds, records.places)
        slot = ctx.tallies.index(window) if window in ctx.tallies else None

    def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
        if gate is not None:
            refused = gate.refuse(facts, explain)
            if refused:
                return NOTHING_LISTED if quiet else [refused]
        done = facts.tallies[slot] if slot is not None else records.count(facts, start, as_of)
        listed = done < required
        if not explain:
            if quiet and not listed:
                return NOTHING_LISTED
            return [Assessment(name, True, listed, start, end, 0, done, required)]
        reason = (
            f"{done} of {required} {records.describe()} in the {period} "
            f"{start.isoformat()}..{end.isoformat()} (counting up to {as_of.isoformat()})"
        )
        evidence = records.evidence(facts, start, as_of)
        return [Assessment(name, True, listed, start, end, 0, done, required, evidence, reason)]

    return evaluate


def rolling_strategy(rule: EffectiveRule, ctx: Context) -> Evaluator:
    p, name, d, explain, quiet = rule.params, rule.name, ctx.as_of, ctx.explain, ctx.listed_only
    lookback_start = d - timedelta(days=int(p["moves_lookback_days"]) - 1)
    min_moves = int(p["min_moves"])
    interval = timedelta(days=int(p["interval_days"]))
    start = d - interval + timedelta(days=1)
    required = int(p.get("required", 1))
    records = RecordSelector.of(p)

    def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
        moves = sum(1 for m in facts.moves if lookback_start <= m <= d)
        if moves < min_moves:
            if not explain:
                return NOTHING_LISTED if quiet else [Assessment(name, False, False)]
            reason = f"{moves} move(s) since {lookback_start.isoformat()}; needs {min_moves}"
            return [Assessment(name, False, False, reason=reason)]
        dates = records.dates(facts, d)
        done = sum(1 for x in dates if x >= start)
        listed = done < required
        last = max(dates, default=None) or facts.earlier_interaction
        overdue = max(0, (d - (last + interval)).days) if (listed and last) else 0
        if not explain:
            return [Assessment(name, True, listed, start, d, overdue, done, required)]
        last_text = last.isoformat() if last else "none recorded"
        reason = (
            f"{moves} moves since {lookback_start.isoformat()}; {done} {records.describe()} "
            f"in {start.isoformat()}..{d.isoformat()}; last contact {last_text}"
        )
        evidence = records.evidence(facts, start, d)
        return [Assessment(name, True, listed, start, d, overdue, done, required, evidence, reason)]

    return evaluate


def _key_date(key: str, year: int, join_date: date) -> date | None:
    if key == "spring_festival":
        return spring_festival(year)
    if key == "political_birthday":
        return anniversary(join_date, year) if year > join_date.year else None
    month, day = (int(x) for x in key.split("-"))
    return date(year, month, day)


def anniversary_strategy(rule: EffectiveRule, ctx: Context) -> Evaluator:
    p, name, d, explain, quiet = rule.params, rule.name, ctx.as_of, ctx.explain, ctx.listed_only
    half = timedelta(days=int(p["window_half_days"]))
    gate = _age_gate(name, p.get("min_age"), d)
    keys = tuple(p["key_dates"])
    years = (d.year - 1, d.year, d.year + 1)
    records = RecordSelector.of(p)

    def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
        if gate is not None:
            refused = gate.refuse(facts, explain)
            if refused:
                return NOTHING_LISTED if quiet else [refused]
        seen: set[date] = set()
        out: list[Assessment] = []
        dates: list[date] | None = None
        for year in years:
            for key in keys:
                k = _key_date(key, year, facts.join_date)
                if k is None or k in seen or not (k - half <= d <= k + half):
                    continue
                seen.add(k)
                start, end = k - half, k + half
                if dates is None:
                    dates = records.dates(facts, d)
                done = sum(1 for x in dates if start <= x)
                listed = done < 1
                if not explain:
                    out.append(Assessment(name, True, listed, start, end, 0, done, 1))
                    continue
                reason = (
                    f"{key} on {k.isoformat()}: {done} {records.describe()} "
                    f"in {start.isoformat()}..{d.isoformat()}"
                )
                evidence = records.evidence(facts, start, d)
                out.append(Assessment(name, True, listed, start, end, 0, done, 1, evidence, reason))
        if not out:
            if quiet:
                return NOTHING_LISTED
            return [Assessment(name, False, False, reason="no key date within its window of D")]
        return out

    return evaluate


def review_cycle_strategy(rule: EffectiveRule, ctx: Context) -> Evaluator:
    p, name, d, explain, quiet = rule.params, rule.name, ctx.as_of, ctx.explain, ctx.listed_only
    months = int(p["cycle_months"])
    lead = timedelta(days=int(p["lead_days"]))

    def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
        candidates = [x for x in facts.reviews if x <= d]
        if facts.certificate_issued_on and facts.certificate_issued_on <= d:
            candidates.append(facts.certificate_issued_on)
        if not candidates:
            if quiet:
                return NOTHING_LISTED
            return [Assessment(name, False, False, reason="no activity certificate issued")]
        base = max(candidates)
        due = add_months_clamped(base, months)
        start = due - lead
        listed = d >= start
        overdue = max(0, (d - due).days)
        if not explain:
            if quiet and not listed:
                return NOTHING_LISTED
            return [Assessment(name, True, listed, start, due, overdue, 0, 1)]
        reason = (
            f"last issue/review {base.isoformat()}; next review due {due.isoformat()}, "
            f"listed from {start.isoformat()}"
        )
        evidence = tuple(f"{x.isoformat()} review" for x in sorted(facts.reviews) if x <= d)
        return [Assessment(name, True, listed, start, due, overdue, 0, 1, evidence, reason)]

    return evaluate


def campaign_strategy(rule: EffectiveRule, ctx: Context) -> Evaluator:
    name, explain, campaigns_for, quiet = rule.name, ctx.explain, ctx.campaigns_for, ctx.listed_only

    def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
        campaigns = campaigns_for(facts.home_org)
        if not campaigns:
            if quiet:
                return NOTHING_LISTED
            return [
                Assessment(name, False, False, reason="no study campaign active for the branch")
            ]
        out = []
        for c in campaigns:
            delivered = c.campaign_id in facts.delivered_campaigns
            reason = ""
            if explain:
                status = "materials delivered" if delivered else "no delivery recorded"
                reason = f"campaign {c.campaign_id} ({c.title}) of {c.org}: {status}"
            out.append(
                Assessment(
                    name, True, not delivered, c.start, c.end, 0, int(delivered), 1, (), reason
                )
            )
        return out

    return evaluate


STRATEGIES: dict[str, Callable[[EffectiveRule, Context], Evaluator]] = {
    "calendar": calendar_strategy,
    "rolling": rolling_strategy,
    "anniversary": anniversary_strategy,
    "review_cycle": review_cycle_strategy,
    "campaign": campaign_strategy,
}


def earliest_needed(rules: Iterable[EffectiveRule], as_of: date) -> date:
    """The earliest record date any of `rules` may count on D: the loader reads from here."""
    earliest = as_of
    for rule in rules:
        p = rule.params
        if rule.strategy == "calendar":
            earliest = min(earliest, period_bounds(as_of, p["period"])[0])
        elif rule.strategy == "rolling":
            earliest = min(
                earliest,
                as_of - timedelta(days=int(p["interval_days"]) - 1),
                as_of - timedelta(days=int(p["moves_lookback_days"]) - 1),
            )
        elif rule.strategy == "anniversary":
            earliest = min(earliest, as_of - timedelta(days=2 * int(p["window_half_days"])))
    return earliest


@dataclass(frozen=True, slots=True)
class FactNeeds:
    """The facts `rules` may look at on D, for the loader to read no more than those.

    Every evaluator counts records of its own selector within its own window, so each
    member needs only the union of the rules' (window, selector) pairs, dated from the
    loader's `earliest` (see `earliest_needed`) to D. A calendar rule needs no record at
    all, only how many there are in its window: the database counts those (`tallies`), and
    the interactions read as records are only the other rules' windows. The exception is a
    frequent mover: the rolling rule's last contact is the latest interaction of any kind,
    so a member who may be one gets every interaction from `earliest`.
    """

    #: the MemberFacts lists to fill besides `interactions` and `mutes` (always read)
    sources: frozenset[str]
    #: the interactions every member needs (their union); None: all from `earliest`
    interactions: tuple[InteractionWindow, ...] | None
    #: (since, moves): members with at least `moves` moves in [since, D] may be frequent
    #: movers, and need every interaction from `earliest` (and their last contact before it
    #: when they have none in range); None: no rolling rule is in play
    movers: tuple[date, int] | None
    #: the windows whose interactions (dated up to D) the loader counts for each member,
    #: in `MemberFacts.tallies`' order
    tallies: tuple[InteractionWindow, ...] = ()


def fact_needs(rules: Iterable[EffectiveRule], as_of: date, *, tally: bool = True) -> FactNeeds:
    """What the enabled `rules` may read on `as_of` (see FactNeeds). `tally`: whether the
    calendar rules' interactions are to be counted by the database rather than read."""
    rules = [r for r in rules if r.enabled]
    sources: set[str] = set()
    windows: list[InteractionWindow] = []
    tallies: set[InteractionWindow] = set()
    narrow = True
    movers: tuple[date, int] | None = None
    for rule in rules:
        p = rule.params
        source = p.get("source", "interactions")
        records = RecordSelector.of(p)
        if rule.strategy == "calendar":
            start = period_bounds(as_of, p["period"])[0]
            if tally and source == "interactions":
                tallies.add(InteractionWindow(start, records.kinds, records.places))
                continue
        elif rule.strategy == "anniversary":
            start = as_of - timedelta(days=2 * int(p["window_half_days"]))
        elif rule.strategy == "rolling":
            sources.add("moves")
            since = as_of - timedelta(days=int(p["moves_lookback_days"]) - 1)
            least = int(p["min_moves"])
            if movers is not None:
                since, least = min(since, movers[0]), min(least, movers[1])
            movers = (since, least)
            if least <= 0:
                narrow = False  # the last contact of every member counts
            if source != "interactions":
                sources.add(source)
            continue
        elif rule.strategy == "review_cycle":
            sources.add("reviews")
            continue
        elif rule.strategy == "campaign":
            sources.add("delivered_campaigns")
            continue
        else:  # a strategy this function does not know: read everything
            return FactNeeds(ALL_SOURCES, None, (date.min, 1))
        if source == "interactions":
            windows.append(InteractionWindow(start, records.kinds, records.places))
        else:
            sources.add(source)
    return FactNeeds(
        frozenset(sources),
        widest(windows) if narrow else None,
        movers,
        tuple(sorted(tallies, key=_window_order)),
    )


def widest(windows: Iterable[InteractionWindow]) -> tuple[InteractionWindow, ...]:
    """The windows no other of them covers: the same interactions, asked for in fewer
    conditions."""
    kept: list[InteractionWindow] = []
    for w in sorted(set(windows), key=_window_order):
        if not any(k.covers(w) for k in kept):
            kept.append(w)
    return tuple(kept)


def _window_order(
    w: InteractionWindow,
) -> tuple[date, bool, tuple[str, ...], bool, tuple[str, ...]]:
    """Widest first (earliest start, any kind), then a fixed order, so that a run's SQL
    and its tallies' order do not depend on set iteration."""
    return (
        w.start,
        w.kinds is not None,
        tuple(sorted(w.kinds or ())),
        w.places is not None,
        tuple(sorted(w.places or ())),
    )


#: every MemberFacts list a rule may count, besides interactions
ALL_SOURCES = frozenset({"moves", "reviews", "verifications", "attendance", "delivered_campaigns"})
