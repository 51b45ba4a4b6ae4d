"""One branch of the synthetic county: its liaisons, its events, and every member's facts.

Each branch draws from a random generator seeded by (seed, branch number) alone, so a
branch's rows never depend on another branch's, and rows go out in the order they are
drawn: nothing here outlives the branch.

The populations `rules.md` needs are drawn on purpose: members aged 80 and over (some
turning 80 this year, some born on 29 Feb), frequent movers, members without a liaison,
reassignments, lapsed liaisons, overdue certificate reviews, campaigns without delivery,
muted members, and members who attended nothing.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, field
from datetime import date

from shared.calendars import spring_festival
from shared.ledger import synthetic_vocabulary as vocab
from shared.ledger.synthetic_dates import IsoDays, add_months, month_spans, quarter_spans
from shared.ledger.synthetic_draws import Weighted, pick
from shared.ledger.synthetic_layout import Branch, Layout, person_name, phone_number
from shared.ledger.synthetic_people import OrderCodes, Person, draw_person

Row = tuple[str, ...]
LIAISON_PREFIX = "139"
REMOTE_KINDS = (
    "phone",
    "phone",
    "phone",
    "phone",
    "wechat",
    "wechat",
    "wechat",
    "wechat",
    "sms",
    "other",
)
_LOCATIONS = Weighted(vocab.LOCATIONS)
SITE_PLACES = ("home", "home", "home", "workplace", "workplace", "other")


@dataclass
class Tally:
    """Rows per kind and the populations a reader of the summary wants to see."""

    rows: dict[str, int] = field(default_factory=dict)
    elderly: int = 0
    frequent_movers: int = 0
    unassigned: int = 0
    muted: int = 0


@dataclass(frozen=True)
class _Liaison:
    number: int
    monthly_p: float  #: chance of at least one contact in a month
    visits_quarterly_p: float  #: share of their members visited every quarter
    lapsed_from: int | None  #: ordinal from which they stopped contacting anyone


class BranchDrawer:
    """Draws one branch; `rows` collects each kind's rows until the caller writes them."""

    def __init__(
        self,
        layout: Layout,
        branch: Branch,
        seed: int,
        as_of: date,
        days: IsoDays,
        codes: OrderCodes,
    ) -> None:
        # synthetic data, not secrets: a seeded, reproducible generator is the point
        self.rng = random.Random(f"liaison-synthetic:{seed}:branch:{branch.index}")  # noqa: S311
        self.layout, self.branch, self.as_of, self.iso = layout, branch, as_of, days
        self.today = as_of.toordinal()
        self.window_start = date(as_of.year - 1, as_of.month, 1)  # a year of history
        self.months = month_spans(self.window_start, as_of)
        self.quarters = quarter_spans(self.window_start, as_of)
        self.codes = codes
        self.rows: dict[str, list[Row]] = {}
        self.campaigns = layout.campaigns_for(branch)
        self.liaisons = [self._liaison(branch.first_liaison + k) for k in range(branch.liaisons)]
        self.theme_days: list[int] = []
        self.past_events: list[tuple[str, int]] = []

    def out(self, kind: str) -> list[Row]:
        rows = self.rows.get(kind)
        if rows is None:
            rows = self.rows[kind] = []
        return rows

    def between(self, low: int, high: int) -> int:
        """A uniformly drawn integer in [low, high] (faster than `randint`)."""
        return low + int(self.rng.random() * (high - low + 1))

    # --- liaisons and events -------------------------------------------------------------

    def _liaison(self, number: int) -> _Liaison:
        rng = self.rng
        r = rng.random()
        lapsed = None
        if r < 0.75:  # most liaisons are diligent
            monthly, quarterly = rng.uniform(0.88, 0.99), rng.uniform(0.6, 0.9)
        elif r < 0.93:
            monthly, quarterly = rng.uniform(0.45, 0.75), rng.uniform(0.1, 0.4)
        else:  # some stopped for the last months
            monthly, quarterly = rng.uniform(0.8, 0.95), rng.uniform(0.3, 0.6)
            lapsed = self.today - self.between(45, 180)
        return _Liaison(number, monthly, quarterly, lapsed)

    def draw_liaisons(self) -> None:
        out = self.out("liaisons")
        for liaison in self.liaisons:
            name, pinyin = person_name(self.rng)
            r = self.rng.random()
            channels, email = "sms", ""
            if r < 0.25:
                channels, email = "sms+email", f"{pinyin}.l{liaison.number + 1}@example.org"
            locale = "en" if self.rng.random() < 0.02 else "zh-CN"
            out.append(
                (
                    f"L{liaison.number + 1:06d}",
                    name,
                    self.branch.code,
                    phone_number(LIAISON_PREFIX, liaison.number),
                    email,
                    locale,
                    channels,
                )
            )

    def draw_events(self) -> None:
        b, iso, d = self.branch, self.iso, self.between
        place = b.name.removesuffix("党支部") + "党群服务中心"
        out = self.out("events")
        first = self.window_start.replace(day=10)
        out.append(
            (
                f"{b.code}-TD",
                b.code,
                "theme_day",
                f"{first.isoformat()} 09:00",
                "主题党日",
                place,
                "",
                "FREQ=MONTHLY;BYMONTHDAY=10",
            )
        )
        tenths = (date.fromordinal(start).replace(day=10) for start, _ in self.months)
        self.theme_days = [day.toordinal() for day in tenths if day <= self.as_of]
        plans = [
            ("branch_meeting", d(-80, -10), "19:30", "支部党员大会"),
            (
                "party_lecture",
                d(1, 25),
                "15:00",
                "专题党课：" + self.rng.choice(vocab.LECTURE_TOPICS),
            ),
        ]
        if self.rng.random() < 0.5:
            plans.append(("committee_meeting", d(-30, -1), "14:30", "支委会"))
        if self.rng.random() < 0.3:
            plans.append(("group_meeting", d(1, 10), "20:00", "党小组会"))
        for n, (kind, offset, clock, title) in enumerate(plans, start=1):
            event_id, on = f"{b.code}-E{n:02d}", self.today + offset
            url = f"https://meeting.example.com/{event_id}" if self.rng.random() < 0.5 else ""
            out.append((event_id, b.code, kind, f"{iso(on)} {clock}", title, place, url, ""))
            if on <= self.today:
                self.past_events.append((event_id, on))

    # --- members -------------------------------------------------------------------------

    def draw_member(self, number: int, tally: Tally) -> None:
        person = draw_person(self.rng, self.as_of, number, self.codes)
        if person.elderly_on_as_of:
            tally.elderly += 1
        moves = self._moves(person)
        location = moves[-1][1] if moves else self._location()
        if len([1 for on, _ in moves if on >= self.today - 89]) >= 2:
            tally.frequent_movers += 1
        periods = self._assignments(person)
        if person.status == "active" and not any(
            start <= self.today and (end is None or end >= self.today) for _, start, end in periods
        ):
            tally.unassigned += 1
        self._member_row(person, location)
        self._interactions(person, periods)
        self._reviews(person)
        self._attendance(person)
        self._deliveries(person)
        if person.status == "active" and self.rng.random() < 0.005:
            self._mute(person)
            tally.muted += 1
        if self.rng.random() < 0.03:
            self._verifications(person)

    def _location(self) -> str:
        return _LOCATIONS.draw(self.rng)

    def _member_row(self, p: Person, location: str) -> None:
        iso, rng = self.iso, self.rng
        host = self.layout.host_codes_by_location.get(location, "")
        if rng.random() < 0.45:
            host = ""
        industry = "在校学生" if p.reason == "求学" else pick(rng, vocab.INDUSTRIES)
        self.out("members").append(
            (
                p.member_id,
                p.name,
                p.id_number,
                self.branch.code,
                iso(p.join),
                iso(p.mobile_since),
                p.phone,
                p.email,
                iso(p.born) if p.birth_date_written else "",
                host,
                location,
                industry,
                p.reason,
                p.certificate_no,
                iso(p.certificate_issued) if p.certificate_issued else "",
                p.status,
                p.locale,
                p.channels,
            )
        )

    def _moves(self, p: Person) -> list[tuple[int, str]]:
        rng, out = self.rng, self.out("moves")
        if p.frequent_mover:
            days = sorted(rng.sample(range(self.today - 89, self.today + 1), self.between(2, 3)))
        elif rng.random() < 0.12 and p.mobile_since < self.today - 30:
            days = [self.between(max(p.mobile_since + 1, self.today - 365), self.today - 1)]
        else:
            return []
        moves = [(on, self._location()) for on in days if on <= p.active_until]
        out.extend((p.member_id, self.iso(on), where) for on, where in moves)
        return moves

    def _assignments(self, p: Person) -> list[tuple[_Liaison, int, int | None]]:
        """Liaison periods, oldest first, never overlapping; the current one is open-ended."""
        rng, d, today = self.rng, self.between, self.today
        liaisons = self.liaisons
        # Mostly dealt round the branch's liaisons in turn, so loads stay near 1:3–1:5;
        # some by hand, which leaves a few liaisons over the load limit.
        position = int(p.member_id[1:]) - 1 - self.branch.first_member
        current = liaisons[position % len(liaisons)] if rng.random() < 0.85 else pick(rng, liaisons)
        periods: list[tuple[_Liaison, int, int | None]] = []
        closing = None if p.status == "active" else p.active_until
        start = max(p.mobile_since + d(0, 20), today - d(200, 1100))
        if rng.random() < 0.03:  # unassigned now; some had a liaison who left
            if rng.random() < 0.3 and start < today - 40:
                periods.append((current, start, d(max(start, today - 200), today - 10)))
        else:
            if rng.random() < 0.12 and start < today - 90:  # reassigned during the last year
                switch = d(max(start + 60, today - 330), today - 20)
                periods.append((pick(rng, liaisons), start, switch - 1 - d(0, 15)))
                start = switch
            periods.append((current, start, closing))
        if closing is not None:  # the member left: nothing runs past the day they did
            periods = [(li, a, min(b or closing, closing)) for li, a, b in periods if a <= closing]
        out = self.out("assignments")
        iso = self.iso
        for liaison, begin, end in periods:
            out.append(
                (
                    p.member_id,
                    f"L{liaison.number + 1:06d}",
                    iso(begin),
                    "" if end is None else iso(end),
                )
            )
        return periods

    def _interactions(self, p: Person, periods: list[tuple[_Liaison, int, int | None]]) -> None:
        # The hottest loop of the generator (a dozen rows a member): locals and inlined
        # draws on purpose.
        rng, d = self.rng, self.between
        rand = rng.random
        seen: dict[tuple[int, str], tuple[str, str]] = {}
        first_day = self.months[0][0]
        last_day = min(self.today, p.active_until)
        for liaison, begin, end in periods:
            low = max(begin, first_day)
            high = min(last_day, self.today if end is None else end)
            if liaison.lapsed_from is not None:
                high = min(high, liaison.lapsed_from)
            if low > high:
                continue
            lid = f"L{liaison.number + 1:06d}"
            remote = ("", lid)
            monthly_p = liaison.monthly_p
            for start, stop in self.months:
                lo = start if start > low else low
                hi = stop if stop < high else high
                if lo > hi:
                    continue
                span = hi - lo + 1
                if rand() < monthly_p:
                    seen[(lo + int(rand() * span), REMOTE_KINDS[int(rand() * 10)])] = remote
                    if rand() < 0.08:
                        seen[(lo + int(rand() * span), REMOTE_KINDS[int(rand() * 10)])] = remote
                if rand() < 0.03:
                    seen[(lo + int(rand() * span), "meeting")] = remote
            if rand() < liaison.visits_quarterly_p or p.elderly_this_year:
                for start, stop in self.quarters:
                    lo, hi = max(start, low), min(stop, high)
                    if lo <= hi and rand() < 0.9:
                        seen[(d(lo, hi), "visit")] = (SITE_PLACES[int(rand() * 6)], lid)
            elif rand() < 0.5:  # no quarterly visits, but a visit this year
                seen[(d(low, high), "visit")] = (SITE_PLACES[int(rand() * 5)], lid)
            if p.elderly_this_year:
                for key in self._key_dates(p):
                    if low <= key + 7 and key - 7 <= high and rand() < 0.55:
                        on = d(max(low, key - 7), min(high, key + 7))
                        seen[(on, "visit")] = ("home", lid)
            if p.frequent_mover and rand() < 0.5:  # tracked one-to-one (seed 003)
                on = high - d(0, 20)
                while on >= max(low, self.today - 89):
                    seen[(on, REMOTE_KINDS[int(rand() * 9)])] = remote
                    on -= d(10, 16)
        if not periods and rand() < 0.4:  # the secretary rang now and then
            for _ in range(d(1, 3)):
                on = d(max(first_day, p.mobile_since), max(first_day, last_day))
                if on <= last_day:
                    seen[(on, "phone")] = ("", "")
        out, notes, member_id = self.out("interactions"), vocab.INTERACTION_NOTES, p.member_id
        base, table = self.iso.table
        for (on, kind), (place, lid) in sorted(seen.items()):
            note = pick(rng, notes[kind]) if rand() < 0.1 else ""
            out.append((member_id, kind, table[on - base], place, lid, note))

    def _key_dates(self, p: Person) -> list[int]:
        joined = date.fromordinal(p.join)
        keys = []
        for year in range(self.as_of.year - 1, self.as_of.year + 1):
            keys.append(date(year, 7, 1).toordinal())
            keys.append(spring_festival(year).toordinal())
            if joined.month == 2 and joined.day == 29 and not calendar.isleap(year):
                keys.append(date(year, 2, 28).toordinal())
            else:
                keys.append(joined.replace(year=year).toordinal())
        return keys

    def _reviews(self, p: Person) -> None:
        if p.certificate_issued is None:
            return
        out, base = self.out("reviews"), date.fromordinal(p.certificate_issued)
        while True:
            due = add_months(base, 6).toordinal()
            if self.rng.random() < 0.2:  # the review was missed: overdue from here on
                return
            on = due - self.between(0, 14)
            if on > min(self.today, p.active_until):
                return
            out.append((p.member_id, self.iso(on)))
            base = date.fromordinal(on)

    def _attendance(self, p: Person) -> None:
        rng = self.rng
        if rng.random() < 0.15:  # attended no organization life this year
            return
        keen = rng.uniform(0.15, 0.6)
        out, iso, member_id = self.out("attendance"), self.iso, p.member_id
        event_id = f"{self.branch.code}-TD"
        for on in self.theme_days:
            if p.mobile_since <= on <= p.active_until and rng.random() < keen:
                out.append((event_id, member_id, iso(on)))
        for event_id, on in self.past_events:
            if on <= p.active_until and rng.random() < keen:
                out.append((event_id, member_id, iso(on)))

    def _deliveries(self, p: Person) -> None:
        out = self.out("deliveries")
        for c in self.campaigns:
            start, end = c.start.toordinal(), min(c.end.toordinal(), self.today, p.active_until)
            if start <= end and self.rng.random() < c.delivery_rate:
                out.append((c.campaign_id, p.member_id, self.iso(self.between(start, end))))

    def _mute(self, p: Person) -> None:
        start = self.today - self.between(0, 40)
        end = "" if self.rng.random() < 0.1 else self.iso(self.today + self.between(5, 90))
        reason = self.rng.choice(vocab.MUTE_REASONS)
        self.out("mutes").append((p.member_id, self.iso(start), end, reason))

    def _verifications(self, p: Person) -> None:
        month_start = self.months[-1][0]
        out = self.out("verifications")
        if self.rng.random() < 0.5 and len(self.months) > 1:
            out.append((p.member_id, self.iso(self.between(*self.months[-2]))))
        out.append((p.member_id, self.iso(self.between(month_start, self.today))))
