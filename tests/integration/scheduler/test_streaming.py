"""The streaming machinery on a real database: read-ahead streams' settings and snapshot,
and statements handed to the driver as they are."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select, text

from services.scheduler.tasks import streaming
from services.scheduler.tasks.streaming import Closable, shared_snapshot, stream_rows
from shared.models import Interaction
from tests.integration.scheduler.ledger import build_ledger


def test_a_read_ahead_stream_reads_to_the_end_in_the_callers_snapshot(engine: Engine) -> None:
    build_ledger(engine, seed=51, members=10, as_of=date(2026, 11, 22))
    settings = select(
        func.current_setting("cursor_tuple_fraction"),
        func.current_setting("work_mem"),
        func.current_setting("jit"),
    )
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            assert shared_snapshot(conn) is None  # SQLite's streams share the connection
            return
        conn.execution_options(isolation_level="REPEATABLE READ")
        snapshot = shared_snapshot(conn)
        assert snapshot
        opened: list[Closable] = []
        try:
            found = list(stream_rows(conn, settings, 10, opened, snapshot))
            # planned for every row, not the first tenth (a nested loop on a fresh import)
            assert found == [("1", "64MB", "off")]
            # a member written after the snapshot, by another connection, is not seen
            members = select(func.count()).select_from(text("members"))
            before = list(stream_rows(conn, members, 10, opened, snapshot))
            with engine.begin() as other:
                other.execute(
                    text(
                        "INSERT INTO members (member_id, name, id_number, home_org, join_date,"
                        " mobile_since, status, locale, channels) SELECT 'MSNAP', 'x',"
                        " '11010519491231002X', code, '2000-01-01', '2020-01-01', 'active',"
                        " 'zh-CN', 'sms' FROM organizations LIMIT 1"
                    )
                )
                now = other.execute(members).scalar_one()
            assert list(stream_rows(conn, members, 10, opened, snapshot)) == before
            assert list(stream_rows(conn, members, 10, opened)) == before
            assert now == before[0][0] + 1
        finally:
            for stream in opened:
                stream.close()


def test_statements_go_to_postgresqls_driver_as_they_are_and_sqlites_through_sqlalchemy(
    engine: Engine,
) -> None:
    stmt = select(Interaction.member_id).where(
        Interaction.on_date >= date(2026, 11, 1),
        Interaction.kind.in_(["visit", "phone"]),
    )
    with engine.connect() as conn:
        plain = streaming._plain_sql(conn, stmt)
    if engine.dialect.name == "sqlite":
        assert plain is None  # SQLAlchemy turns the date into SQLite's ISO text
        return
    assert plain is not None
    sql, params = plain
    assert "interactions" in sql
    assert date(2026, 11, 1) in params.values() and "visit" in params.values()
