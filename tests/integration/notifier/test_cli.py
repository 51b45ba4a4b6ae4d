"""`liaison deliveries` lists the log masked and filtered; `retry --dead` requeues the dead."""

from __future__ import annotations

import csv
import getpass
import io
from zoneinfo import ZoneInfo

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.outbox import mark_queued, transition
from shared.db import transaction
from shared.models import Notification, NotificationEvent
from tests.cli import liaison
from tests.integration.notifier.conftest import DAYTIME, NotificationFactory


def invoke(*args: str) -> tuple[int, str]:
    result = liaison(*args)
    return result.exit_code, result.stdout


def make_dead(engine: Engine, nid: int) -> None:
    with transaction(engine) as session:
        mark_queued(session, [nid], now=DAYTIME)
        transition(session, nid, from_statuses=("queued",), to="sending", now=DAYTIME)
        transition(
            session,
            nid,
            from_statuses=("sending",),
            to="dead",
            now=DAYTIME,
            last_error="gave up after 9 attempts; last error 503: Twilio 503 for +8613812345678",
        )


def test_deliveries_lists_the_log_filtered_with_recipients_masked(
    engine: Engine,
    liaison_env: dict[str, str],
    make_notification: NotificationFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sms = make_notification()
    make_notification(channel="email", address="zhang.san@example.com")
    make_dead(engine, sms)

    code, out = invoke("deliveries", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 2
    assert "+8613812345678" not in out and "zhang.san@" not in out
    assert {r["recipient"] for r in rows} == {"+86 138****5678", "z***@example.com"}

    code, out = invoke("deliveries", "--status", "dead", "--channel", "sms", "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["id"] == str(sms) and "138****5678" in row["last_error"]
    code, out = invoke("deliveries", "--since", "2026-11-24", "--format", "csv")
    assert list(csv.DictReader(io.StringIO(out))) == []
    monkeypatch.setenv("COLUMNS", "250")  # rich's width: a row on one line
    code, out = invoke("deliveries", "--kind", "political_birthday", "--until", "2026-11-24")
    assert code == 0 and "z***@example.com" in out


def test_retry_dead_requeues_dead_notifications(
    engine: Engine,
    liaison_env: dict[str, str],
    make_notification: NotificationFactory,
    redis_server_url: str,
    redis_client: redis.Redis,
    broker: RedisBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIAISON_REDIS_URL", redis_server_url)
    nid = make_notification()
    make_dead(engine, nid)

    code, out = invoke("deliveries", "retry", "--dead")
    assert code == 0 and "requeued 1" in out
    with Session(engine) as session:
        n = session.get(Notification, nid)
        assert n is not None and n.status == "queued"
    assert broker.do_qsize(NOTIFICATIONS_QUEUE) == 1


def test_deliveries_masks_every_spelling_of_a_number_in_a_stored_provider_error(
    engine: Engine,
    liaison_env: dict[str, str],
    make_notification: NotificationFactory,
) -> None:
    """A row stored before errors were masked at construction is still shown masked."""
    nid = make_notification()
    with transaction(engine) as session:
        mark_queued(session, [nid], now=DAYTIME)
        transition(
            session, nid, from_statuses=("queued",), to="failed", now=DAYTIME,
            last_error="21211: Tel13913675655 / +86 (139) 1367 5655 / (021)12345678 refused",
        )  # fmt: skip

    code, out = invoke("deliveries", "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert "1367" not in row["last_error"] and "12345678" not in row["last_error"]
    assert row["last_error"].startswith("21211: Tel139****5655")


def test_a_formula_in_a_stored_provider_error_comes_out_of_the_csv_as_text(
    engine: Engine,
    liaison_env: dict[str, str],
    make_notification: NotificationFactory,
) -> None:
    nid = make_notification()
    with transaction(engine) as session:
        mark_queued(session, [nid], now=DAYTIME)
        transition(
            session, nid, from_statuses=("queued",), to="failed", now=DAYTIME,
            last_error='=HYPERLINK("http://evil.example/","details")',
        )  # fmt: skip

    code, out = invoke("deliveries", "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert row["last_error"] == '\'=HYPERLINK("http://evil.example/","details")'


def test_the_deliveries_table_fits_80_columns_in_local_time_with_a_total_line(
    engine: Engine,
    liaison_env: dict[str, str],
    make_notification: NotificationFactory,
) -> None:
    from rich.cells import cell_len

    ids = [make_notification() for _ in range(3)]
    make_dead(engine, ids[0])
    code, out = invoke("deliveries")
    assert code == 0, out
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, out
    assert lines[0].split()[:3] == ["编号", "时间", "类型"]
    local = DAYTIME.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert local in out and "+00:00" not in out
    # the kind, channel and status read as words, not as the codes the log stores
    assert "政治生日祝福" in lines[1] and "短信" in lines[1] and "political_birthday" not in out
    assert lines[-1].startswith("共 3 条") and "已放弃 1" in lines[-1]
    code, out = invoke("deliveries", "--lang", "en", "--limit", "1")
    assert out.splitlines()[0].split()[:2] == ["id", "when"]
    assert "3 in all" in out and "only the newest 1 listed" in out
    assert "political birth…" in out  # the English kind, cut to its column
    code, out = invoke("deliveries", "--lang", "fr")
    assert code != 0


def test_retry_dead_of_one_reason_leaves_the_others_and_names_who_did_it(
    engine: Engine,
    liaison_env: dict[str, str],
    make_notification: NotificationFactory,
    redis_server_url: str,
    redis_client: redis.Redis,
    broker: RedisBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIAISON_REDIS_URL", redis_server_url)
    twilio, lost = make_notification(), make_notification()
    make_dead(engine, twilio)
    with transaction(engine) as session:
        mark_queued(session, [lost], now=DAYTIME)
        transition(session, lost, from_statuses=("queued",), to="dead", now=DAYTIME,
                   last_error="a worker was lost while sending; whether the provider took "
                   "it is unknown")  # fmt: skip
    code, out = invoke(
        "deliveries", "retry", "--dead", "--reason", "503: Twilio 503 for +86138****5678"
    )
    assert code == 0 and "requeued 1" in out, out
    code, out = invoke("deliveries", "retry", "--dead", "--reason", "no such reason")
    assert "requeued 0" in out and "a worker was lost while sending" in out
    with Session(engine) as session:
        assert session.get(Notification, twilio).status == "queued"  # type: ignore[union-attr]
        assert session.get(Notification, lost).status == "dead"  # type: ignore[union-attr]
        detail = session.scalars(
            select(NotificationEvent.detail)
            .where(
                NotificationEvent.notification_id == twilio, NotificationEvent.status == "queued"
            )
            .order_by(NotificationEvent.id.desc())
        ).first()
    assert detail is not None and detail.startswith(f"requeued by {getpass.getuser()} (cli)")
