"""`due` for a few liaisons or members: the same tasks as the full listing, read by member id.

The liaison page and the digest refresher ask for one to ten liaisons' tasks in a
province of a million members; their queries must look those members up by their
indexes, never scan a fact table. Each query the listing runs is explained by the
database itself: PostgreSQL with sequential scans switched off (it then scans a table
only when no index can serve the query), SQLite by its query plan (`SCAN` a table, as
against `SEARCH` it by an index).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event

from services.scheduler.tasks import streaming
from services.scheduler.tasks.due import DueQuery, compute_due
from tests.integration.scheduler.ledger import build_ledger

AS_OF = date(2026, 11, 22)
#: the tables a listing reads per member: none may be read whole for a few members
PER_MEMBER_TABLES = (
    "members",
    "assignments",
    "interactions",
    "moves",
    "reviews",
    "material_deliveries",
    "mutes",
)


def lines(engine: Engine, query: DueQuery) -> list[str]:
    return [json.dumps(t.as_listing(), ensure_ascii=False) for t in compute_due(engine, query)]


def test_a_few_liaisons_get_exactly_their_share_of_the_full_listing(engine: Engine) -> None:
    build_ledger(engine, seed=11, members=120, as_of=AS_OF)
    everything = list(compute_due(engine, DueQuery(AS_OF)))
    for liaisons in (("L01",), ("L03", "L07", "L12"), ("L05", "nobody")):
        mine = list(compute_due(engine, DueQuery(AS_OF, liaison_ids=liaisons)))
        expected = [t for t in everything if t.liaison_id in liaisons]
        assert mine, f"{liaisons} have open tasks in this ledger"
        assert mine == expected


def test_a_few_members_get_exactly_their_share_of_the_full_listing(engine: Engine) -> None:
    build_ledger(engine, seed=12, members=120, as_of=AS_OF)
    everything = list(compute_due(engine, DueQuery(AS_OF)))
    # assigned and unassigned members, members with many tasks and with one
    members = sorted({t.member_id for t in everything})[::9]
    assert len(members) >= 5
    mine = list(compute_due(engine, DueQuery(AS_OF, member_ids=tuple(members))))
    assert mine == [t for t in everything if t.member_id in members]
    one_rule = DueQuery(AS_OF, member_ids=tuple(members), rule="monthly_contact")
    assert list(compute_due(engine, one_rule)) == [
        t for t in everything if t.member_id in members and t.rule == "monthly_contact"
    ]


def test_a_liaison_with_no_members_lists_nothing(engine: Engine) -> None:
    build_ledger(engine, seed=13, members=40, as_of=AS_OF)
    assert list(compute_due(engine, DueQuery(AS_OF, liaison_ids=("L404",)))) == []
    assert list(compute_due(engine, DueQuery(AS_OF, member_ids=()))) == []


@contextmanager
def executed(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the engine sends to the database, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def whole_table_reads(engine: Engine, statement: str, params: Any) -> list[str]:
    """The per-member tables the database would read whole for `statement`."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            explained = "EXPLAIN (FORMAT JSON) " + statement
            plan = conn.exec_driver_sql(explained, params).scalar_one()
            return [
                f"{node['Node Type']} on {node['Relation Name']}"
                for node in plan_nodes(plan[0]["Plan"])
                if node.get("Relation Name") in PER_MEMBER_TABLES
                # a sequential scan, or an index read from end to end
                and (
                    node["Node Type"] == "Seq Scan"
                    or (node["Node Type"].startswith("Index") and "Index Cond" not in node)
                )
            ]
        plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
        return [
            line
            for line in plan
            if any(line.split(" AS ")[0].strip() == f"SCAN {t}" for t in PER_MEMBER_TABLES)
        ]


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


@pytest.mark.parametrize(
    "query",
    [
        DueQuery(AS_OF, liaison_ids=("L02", "L04")),
        DueQuery(AS_OF, liaison_id="L02"),
        DueQuery(AS_OF, member_ids=("M0003", "M0010", "M0042")),
    ],
    ids=["liaisons", "one-liaison", "members"],
)
def test_a_few_members_are_read_by_their_indexes_never_by_scanning_a_table(
    engine: Engine, query: DueQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_ledger(engine, seed=14, members=80, as_of=AS_OF)
    # Every query through SQLAlchemy (on PostgreSQL the streams otherwise go to the driver
    # directly), so that the listener sees it exactly as the database does.
    monkeypatch.setattr(streaming, "_plain_sql", lambda _conn, _stmt: None)
    with executed(engine) as statements:
        assert list(compute_due(engine, query)), "the query lists tasks in this ledger"
    reads = [s for s in statements if "interactions" in s[0]]
    assert reads, "the listing read the interactions"
    for statement, params in statements:
        assert whole_table_reads(engine, statement, params) == [], statement


def test_more_member_ids_than_are_looked_up_one_by_one_is_refused_before_any_query(
    engine: Engine,
) -> None:
    from services.scheduler.tasks.due import FEW_MEMBERS_MAX

    too_many = tuple(f"M{n:07d}" for n in range(FEW_MEMBERS_MAX + 1))
    with executed(engine) as statements, pytest.raises(ValueError, match="at most"):
        list(compute_due(engine, DueQuery(AS_OF, member_ids=too_many)))
    assert statements == []


def test_liaisons_with_more_members_than_are_looked_up_one_by_one_still_get_their_share(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.scheduler.tasks import due

    build_ledger(engine, seed=15, members=80, as_of=AS_OF)
    everything = list(compute_due(engine, DueQuery(AS_OF)))
    monkeypatch.setattr(due, "FEW_MEMBERS_MAX", 3)  # every liaison here has more
    mine = list(compute_due(engine, DueQuery(AS_OF, liaison_ids=("L01", "L02"))))
    assert mine
    assert mine == [t for t in everything if t.liaison_id in ("L01", "L02")]
