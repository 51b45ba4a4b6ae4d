"""`due` on a real database: the listing contract, subtrees, policy overrides, both databases."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.scheduler.tasks import fact_queries
from services.scheduler.tasks.due import DueQuery, Task, compute_due, urgency
from services.scheduler.tasks.periods import period_bounds
from services.scheduler.tasks.policy import PolicyBook, PolicyError, set_override
from services.scheduler.tasks.why import explain_member
from shared.db import transaction
from shared.org_tree import OrgTree
from tests.conftest import _migrated_engine, reset_database
from tests.integration.scheduler.ledger import build_ledger

AS_OF = date(2026, 11, 22)


def listing(engine: Engine, **kwargs: object) -> list[str]:
    query = DueQuery(as_of=kwargs.pop("as_of", AS_OF), **kwargs)  # type: ignore[arg-type]
    return [json.dumps(t.as_listing(), ensure_ascii=False) for t in compute_due(engine, query)]


def test_the_listing_has_exactly_the_contract_fields_in_order(engine: Engine) -> None:
    build_ledger(engine, seed=1, members=60, as_of=AS_OF)
    lines = listing(engine)
    assert lines
    for line in lines:
        assert list(json.loads(line)) == [
            "member_id",
            "rule",
            "window_start",
            "window_end",
            "liaison_id",
            "org",
            "overdue_days",
            "done",
            "required",
        ]


def test_tasks_are_ordered_by_liaison_then_urgency_with_unassigned_members_last(
    engine: Engine,
) -> None:
    build_ledger(engine, seed=2, members=80, as_of=AS_OF)
    tasks = list(compute_due(engine, DueQuery(AS_OF)))
    liaisons = [t.liaison_id for t in tasks]
    assigned = [x for x in liaisons if x is not None]
    assert assigned == sorted(assigned)
    assert liaisons[len(assigned) :] == [None] * (len(liaisons) - len(assigned))
    by_liaison: dict[str | None, list[Task]] = {}
    for t in tasks:
        by_liaison.setdefault(t.liaison_id, []).append(t)
    assert len(by_liaison) > 1
    for group in by_liaison.values():
        assert group == sorted(group, key=urgency)


def test_the_liaison_is_the_assignment_current_on_the_as_of_day(engine: Engine) -> None:
    build_ledger(engine, seed=3, members=80, as_of=AS_OF)
    from sqlalchemy import select

    from shared.models import Assignment

    with Session(engine) as s:
        rows = s.execute(
            select(
                Assignment.member_id,
                Assignment.liaison_id,
                Assignment.from_date,
                Assignment.to_date,
            )
        ).all()
    current = {
        r.member_id: r.liaison_id
        for r in rows
        if r.from_date <= AS_OF and (r.to_date is None or r.to_date >= AS_OF)
    }
    tasks = list(compute_due(engine, DueQuery(AS_OF)))
    assert tasks and any(t.liaison_id for t in tasks)
    for t in tasks:
        assert t.liaison_id == current.get(t.member_id)


def test_a_liaison_filter_lists_exactly_that_liaisons_share(engine: Engine) -> None:
    build_ledger(engine, seed=4, members=80, as_of=AS_OF)
    everything = list(compute_due(engine, DueQuery(AS_OF)))
    mine = list(compute_due(engine, DueQuery(AS_OF, liaison_id="L01")))
    assert mine and mine == [t for t in everything if t.liaison_id == "L01"]
    quarterly = list(compute_due(engine, DueQuery(AS_OF, rule="quarterly_visit")))
    assert quarterly == [t for t in everything if t.rule == "quarterly_visit"]


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), as_of=st.dates(date(2025, 12, 20), date(2027, 2, 10)))
def test_due_for_an_organization_is_its_own_members_plus_its_childrens(
    engine: Engine, seed: int, as_of: date
) -> None:
    reset_database(engine)
    build_ledger(engine, seed=seed, members=50, as_of=as_of)
    with Session(engine) as s:
        tree = OrgTree.load(s)
    for org in ("TH", "TH-XC"):
        whole = Counter(listing(engine, as_of=as_of, org=org))
        own = Counter(
            json.dumps(t.as_listing(), ensure_ascii=False)
            for t in compute_due(engine, DueQuery(as_of, org=org))
            if t.org == org
        )
        parts = sum(
            (Counter(listing(engine, as_of=as_of, org=c)) for c in tree.children.get(org, [])),
            Counter(),
        )
        assert whole == own + parts


def test_policy_overrides_at_three_levels_take_the_nearest_value(engine: Engine) -> None:
    build_ledger(engine, seed=5, members=10, as_of=AS_OF)
    with transaction(engine) as s:
        set_override(s, "TH", "monthly_contact", "required", 3)
        set_override(s, "TH-XC", "monthly_contact", "required", 2)
        set_override(s, "TH-XC-01", "monthly_contact", "period", "quarter")
        set_override(s, "TH", "quarterly_visit", "enabled", False)
        set_override(s, "TH-XC-01", "quarterly_visit", "enabled", True)
    with Session(engine) as s:
        book = PolicyBook.load(s)

    def value(org: str, rule: str, param: str) -> tuple[object, str]:
        v = next(v for v in book.values(org) if v.rule == rule and v.param == param)
        return v.value, v.source

    assert value("TH-XC-01", "monthly_contact", "required") == (2, "TH-XC")
    assert value("TH-XC-01", "monthly_contact", "period") == ("quarter", "TH-XC-01")
    assert value("TH-XC-02", "monthly_contact", "period") == ("month", "default")
    assert value("TH-JH-01", "monthly_contact", "required") == (3, "TH")
    assert value("TH-XC-02", "quarterly_visit", "enabled") == (False, "TH")
    assert value("TH-XC-01", "quarterly_visit", "enabled") == (True, "TH-XC-01")
    tasks = list(compute_due(engine, DueQuery(AS_OF)))
    monthly = [t for t in tasks if t.rule == "monthly_contact"]
    quarterly = [t for t in tasks if t.rule == "quarterly_visit"]
    # both levels seen: TH-XC-01's own period under TH-XC's 2, and the county's 3 elsewhere
    assert "TH-XC-01" in {t.org for t in monthly} and {t.required for t in monthly} == {2, 3}
    assert quarterly
    for t in monthly:
        assert t.required == {"TH-XC-01": 2, "TH-XC-02": 2, "TH-XC": 2}.get(t.org, 3)
        if t.org == "TH-XC-01":
            assert (t.window_start, t.window_end) == (date(2026, 10, 1), date(2026, 12, 31))
    for t in quarterly:
        assert t.org == "TH-XC-01"


def test_a_policy_change_naming_an_unknown_rule_or_parameter_is_refused(engine: Engine) -> None:
    build_ledger(engine, seed=6, members=2, as_of=AS_OF)
    with pytest.raises(PolicyError, match="no rule named"), transaction(engine) as s:
        set_override(s, "TH", "weekly_hug", "required", 1)
    with pytest.raises(PolicyError, match="has no parameter"), transaction(engine) as s:
        set_override(s, "TH", "monthly_contact", "colour", 1)
    with pytest.raises(PolicyError, match="whole number"), transaction(engine) as s:
        set_override(s, "TH", "monthly_contact", "required", "two")


def test_why_agrees_with_due_for_every_member(engine: Engine) -> None:
    build_ledger(engine, seed=7, members=120, as_of=AS_OF)
    due = Counter(
        (t.member_id, t.rule, t.window_start, t.window_end, t.overdue_days, t.done, t.required)
        for t in compute_due(engine, DueQuery(AS_OF))
    )
    explained: Counter[tuple[object, ...]] = Counter()
    for n in range(120):
        exp = explain_member(engine, f"M{n:04d}", AS_OF)
        for a in exp.listed:
            explained[
                (
                    f"M{n:04d}",
                    a.rule,
                    a.window_start,
                    a.window_end,
                    a.overdue_days,
                    a.done,
                    a.required,
                )
            ] += 1
    assert explained == due


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), as_of=st.dates(date(2025, 12, 20), date(2027, 2, 10)))
@example(seed=11, as_of=AS_OF)
def test_sqlite_and_postgresql_give_identical_jsonl_for_the_same_ledger(
    seed: int, as_of: date, sqlite_url: str, postgres_url: str
) -> None:
    # Listed on the day itself and on the first and last days of its quarter, where the
    # calendar rules' windows (counted by the database) begin and end.
    quarter_start, quarter_end = period_bounds(as_of, "quarter")
    days = (as_of, as_of.replace(day=1), quarter_start, quarter_end)
    outputs = []
    for url in (sqlite_url, postgres_url):
        engine = _migrated_engine(url)
        reset_database(engine)
        build_ledger(engine, seed=seed, members=150, as_of=as_of)
        outputs.append([listing(engine, as_of=day) for day in days])
    assert outputs[0][0], "the ledger lists tasks on its own day"
    assert outputs[0] == outputs[1]


def test_a_subtree_too_large_to_name_twice_gets_the_same_counts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_ledger(engine, seed=7, members=80, as_of=AS_OF)
    counted_for_the_subtree = listing(engine, org="TH-XC")
    # Past the limit the database counts every member's interactions, and the member
    # stream keeps the subtree's.
    monkeypatch.setattr(fact_queries, "NARROW_TALLIES_MAX_ORGS", 0)
    assert counted_for_the_subtree
    assert listing(engine, org="TH-XC") == counted_for_the_subtree


def test_a_listing_abandoned_after_its_first_task_leaves_no_stream_open(engine: Engine) -> None:
    import threading

    build_ledger(engine, seed=3, members=60, as_of=AS_OF)
    before = engine.pool.checkedout()  # type: ignore[attr-defined]
    # Batches of 5 members: the member stream's thread is still reading ahead when the
    # listing is abandoned.
    tasks = compute_due(engine, DueQuery(AS_OF), batch_size=5)
    assert next(tasks) is not None
    if engine.dialect.name == "postgresql":  # each stream on a connection and thread of its own
        assert any(t.name == "liaison-stream" for t in threading.enumerate())
    tasks.close()
    assert not [t for t in threading.enumerate() if t.name == "liaison-stream"]
    assert engine.pool.checkedout() == before  # type: ignore[attr-defined]
