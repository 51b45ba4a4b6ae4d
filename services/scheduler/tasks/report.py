"""`liaison report`: compliance per organization for a month, quarter, half-year or year.

Every figure is computed with the same rule evaluation as `due`: a calendar rule's window
that overlaps the report period is evaluated on its own last day (or on the evaluation day,
if that comes first), so a window counts as met exactly when `due` on that day would not
list it. Each organization's row covers its whole subtree; the totals roll up the tree.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.scheduler.tasks.due import CampaignIndex
from services.scheduler.tasks.evaluation import assess, earliest_needed
from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.loader import active_campaigns, stream_members
from services.scheduler.tasks.member_query import MemberFilter
from services.scheduler.tasks.periods import age_on, period_bounds
from services.scheduler.tasks.policy import PolicyBook
from services.scheduler.tasks.rules import EffectiveRule, RuleRun, scope
from services.scheduler.tasks.strategies import strategy_of
from shared.calendars import FIRST_DAY, LAST_DAY
from shared.errors import LiaisonError
from shared.ledger.formulas import csv_cell, xlsx_cell
from shared.models import Liaison
from shared.org_tree import OrgTree
from shared.progress import Progress, no_progress

#: the days a computation may be asked about (`--as-of`, a report period): the rules look
#: years back and ahead, and no ledger holds a fact outside these
DEFAULT_MAX_LOAD = 5  #: members per liaison before the liaison counts as over-loaded
COMPLIANCE_RULES = ("monthly_contact", "quarterly_visit")  #: the "contacts and visits" shares


class PeriodError(LiaisonError):
    """Raised when a report period is not written as 2026-10, 2026-Q4, 2026-H2 or 2026."""


def parse_period(text: str) -> tuple[date, date]:
    t = text.strip().upper()
    if (year := re.match(r"(\d{4})(?:-|$)", t)) and not (
        FIRST_DAY.year <= int(year[1]) <= LAST_DAY.year
    ):
        raise PeriodError(
            f"{text!r} is out of range: a period lies between {FIRST_DAY.year} and {LAST_DAY.year}"
        )
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", t):
        start = date(int(m[1]), int(m[2]), 1) if 1 <= int(m[2]) <= 12 else None
        if start:
            return period_bounds(start, "month")
    elif m := re.fullmatch(r"(\d{4})-Q([1-4])", t):
        return period_bounds(date(int(m[1]), 3 * int(m[2]) - 2, 1), "quarter")
    elif m := re.fullmatch(r"(\d{4})-H([12])", t):
        return period_bounds(date(int(m[1]), 6 * int(m[2]) - 5, 1), "half")
    elif m := re.fullmatch(r"(\d{4})", t):
        return period_bounds(date(int(m[1]), 1, 1), "year")
    raise PeriodError(f"{text!r} is not a period: write 2026-10, 2026-Q4, 2026-H2 or 2026")


@dataclass
class OrgFigures:
    members: int = 0
    windows: Counter[str] = field(default_factory=Counter)  #: rule → windows required
    met: Counter[str] = field(default_factory=Counter)  #: rule → windows met
    unassigned: int = 0
    liaisons_over_load: int = 0
    movers_without_own_liaison: int = 0
    elderly_not_visited_twice: int = 0
    no_event_attended: int = 0

    def add(self, other: OrgFigures) -> None:
        self.members += other.members
        self.windows.update(other.windows)
        self.met.update(other.met)
        self.unassigned += other.unassigned
        self.liaisons_over_load += other.liaisons_over_load
        self.movers_without_own_liaison += other.movers_without_own_liaison
        self.elderly_not_visited_twice += other.elderly_not_visited_twice
        self.no_event_attended += other.no_event_attended


@dataclass(frozen=True)
class ReportRow:
    org: str
    name: str
    depth: int
    figures: OrgFigures  #: the whole subtree's


@dataclass(frozen=True)
class LoadedLiaison:
    """A liaison with more in-scope members than the load allows, on the evaluation day."""

    liaison_id: str
    name: str
    org: str
    members: int


@dataclass(frozen=True)
class UnassignedMember:
    """An in-scope member with no current liaison on the evaluation day."""

    member_id: str
    name: str
    org: str  #: the home organization


@dataclass(frozen=True)
class Report:
    period_start: date
    period_end: date
    evaluated_on: date
    rows: tuple[ReportRow, ...]
    max_load: int = DEFAULT_MAX_LOAD
    #: who the `liaisons_over_load` and `unassigned` counts are, most loaded first and by id
    over_loaded: tuple[LoadedLiaison, ...] = ()
    unassigned: tuple[UnassignedMember, ...] = ()


def compliance_report(
    engine: Engine,
    period: str,
    *,
    today: date,
    org: str | None = None,
    max_load: int = DEFAULT_MAX_LOAD,
    progress: Progress = no_progress,
) -> Report:
    """The report of `period` as evaluated on `today`; `progress` hears of every batch of
    members read (label `members`)."""
    start, end = parse_period(period)
    evaluated = min(end, today)
    if evaluated < start:
        raise PeriodError(f"the period {period} has not started yet")
    tree, book, liaisons = _read_policy(engine)
    root_orgs = [org] if org else sorted(c for c, p in tree.parents.items() if p is None)
    for code in root_orgs:
        tree.require(code)
    covered = [c for r in root_orgs for c in tree.subtree(r)]
    rules = [r for c in covered for r in book.task_rules(c) if r.enabled]
    year_start = date(evaluated.year, 1, 1)
    earliest = min(start, year_start, earliest_needed(rules, evaluated))
    own: dict[str, OrgFigures] = {c: OrgFigures() for c in covered}
    load: Counter[str] = Counter()
    movers: list[tuple[str, str | None]] = []
    unassigned: list[UnassignedMember] = []
    progress("members", 0)
    with engine.connect() as conn:
        campaigns = CampaignIndex(active_campaigns(conn, evaluated), tree)
        run = RuleRun(evaluated, campaigns)
        flt = MemberFilter(evaluated, orgs=covered, in_scope_only=False)
        for batch in stream_members(conn, flt, earliest=earliest, campaign_ids=campaigns.ids):
            progress("members", len(batch))
            for facts in batch:
                if facts.status != "active" or facts.mobile_since > end:
                    continue
                fig = own[facts.home_org]
                _count_member(fig, facts, book.task_rules(facts.home_org), start, evaluated, run)
                if scope(facts, evaluated)[0]:
                    if facts.liaison_id is None:
                        fig.unassigned += 1
                        unassigned.append(
                            UnassignedMember(facts.member_id, facts.name, facts.home_org)
                        )
                    else:
                        load[facts.liaison_id] += 1
                    if _is_frequent_mover(facts, book.task_rules(facts.home_org), run):
                        movers.append((facts.home_org, facts.liaison_id))
    for home, liaison in movers:
        if liaison is None or load[liaison] > 1:
            own[home].movers_without_own_liaison += 1
    over_loaded = _over_loaded(own, load, liaisons, max_load)
    unassigned.sort(key=lambda x: (x.org, x.member_id))
    rows = _rolled_up(tree, own, root_orgs)
    return Report(start, end, evaluated, rows, max_load, over_loaded, tuple(unassigned))


def _read_policy(engine: Engine) -> tuple[OrgTree, PolicyBook, dict[str, tuple[str, str]]]:
    """The tree, the policy and each liaison's (organization, name)."""
    with Session(engine) as session:
        tree = OrgTree.load(session)
        book = PolicyBook.load(session, tree)
        liaisons = {
            r.liaison_id: (r.org, r.name)
            for r in session.execute(select(Liaison.liaison_id, Liaison.org, Liaison.name))
        }
    return tree, book, liaisons


def _over_loaded(
    own: dict[str, OrgFigures],
    load: Counter[str],
    liaisons: dict[str, tuple[str, str]],
    max_load: int,
) -> tuple[LoadedLiaison, ...]:
    """The liaisons with more than `max_load` members, most loaded first, each counted in
    its own organization's figures."""
    over_loaded: list[LoadedLiaison] = []
    for liaison, count in load.items():
        org_code, name = liaisons.get(liaison, (None, liaison))
        if count > max_load and org_code in own:
            own[org_code].liaisons_over_load += 1
            over_loaded.append(LoadedLiaison(liaison, name, org_code, count))
    over_loaded.sort(key=lambda x: (-x.members, x.liaison_id))
    return tuple(over_loaded)


def _rolled_up(
    tree: OrgTree, own: dict[str, OrgFigures], root_orgs: list[str]
) -> tuple[ReportRow, ...]:
    """One row per organization, parents before children, each with its subtree's total."""
    rows: list[ReportRow] = []

    def roll_up(code: str, depth: int) -> OrgFigures:
        total = OrgFigures()
        total.add(own[code])
        index = len(rows)
        rows.append(ReportRow(code, tree.names.get(code, code), depth, total))
        for child in tree.children.get(code, []):
            total.add(roll_up(child, depth + 1))
        rows[index] = ReportRow(code, tree.names.get(code, code), depth, total)
        return total

    for code in root_orgs:
        roll_up(code, 0)
    return tuple(rows)


def _count_member(
    fig: OrgFigures,
    facts: MemberFacts,
    rules: tuple[EffectiveRule, ...],
    start: date,
    evaluated: date,
    run: RuleRun,
) -> None:
    if scope(facts, evaluated)[0]:
        fig.members += 1
    for rule in rules:
        if not rule.enabled or rule.name not in COMPLIANCE_RULES:
            continue
        # (a strategy without fixed windows, such as `rolling`, has none to judge)
        for _window_start, w_end in strategy_of(rule).compliance_windows(rule, start, evaluated):
            day = min(w_end, evaluated)
            if facts.mobile_since > day or not scope(facts, day)[0]:
                continue
            fig.windows[rule.name] += 1
            if not any(a.listed for a in assess(rule, facts, RuleRun(day, run.campaigns_for))):
                fig.met[rule.name] += 1
    if not scope(facts, evaluated)[0]:
        return
    birth = facts.birth_date
    elderly = next((r for r in rules if r.name == "elderly_visits"), None)
    if (
        elderly
        and elderly.enabled
        and birth
        and age_on(birth, evaluated) >= int(elderly.params["min_age"])
        and any(a.listed for a in assess(elderly, facts, run))
    ):
        fig.elderly_not_visited_twice += 1
    year_start = date(evaluated.year, 1, 1)
    if not any(year_start <= d <= evaluated for d in facts.attendance):
        fig.no_event_attended += 1


def _is_frequent_mover(facts: MemberFacts, rules: tuple[EffectiveRule, ...], run: RuleRun) -> bool:
    movers = [r for r in rules if r.enabled and strategy_of(r).finds_frequent_movers]
    return any(a.applies for r in movers for a in assess(r, facts, run))


def share(met: int, required: int) -> str:
    return f"{100 * met / required:.1f}%" if required else "-"


REPORT_COLUMNS = (
    "org",
    "name",
    "members",
    "contacts_met",
    "contacts_required",
    "contacts_share",
    "visits_met",
    "visits_required",
    "visits_share",
    "unassigned",
    "liaisons_over_load",
    "movers_without_own_liaison",
    "elderly_not_visited_twice",
    "no_event_attended",
)


def row_values(row: ReportRow) -> list[object]:
    f = row.figures
    c, v = COMPLIANCE_RULES
    return [
        row.org,
        row.name,
        f.members,
        f.met[c],
        f.windows[c],
        share(f.met[c], f.windows[c]),
        f.met[v],
        f.windows[v],
        share(f.met[v], f.windows[v]),
        f.unassigned,
        f.liaisons_over_load,
        f.movers_without_own_liaison,
        f.elderly_not_visited_twice,
        f.no_event_attended,
    ]


def write_csv(report: Report, handle: TextIO) -> int:
    """The report as CSV, no cell a live formula (an organization's name is typed text)."""
    writer = csv.writer(handle)
    writer.writerow(REPORT_COLUMNS)
    for row in report.rows:
        writer.writerow([csv_cell(v) for v in row_values(row)])
    return len(report.rows)


def write_xlsx(report: Report, path: Path) -> int:
    """The report as a one-sheet workbook, text as text cells, never formulas."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("report")
    sheet.append(list(REPORT_COLUMNS))
    for row in report.rows:
        sheet.append([xlsx_cell(sheet, v) for v in row_values(row)])
    book.save(path)
    return len(report.rows)
