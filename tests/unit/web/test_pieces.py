"""Pure pieces of the web service: signatures, queue ages, the chart, alert rules."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from twilio.request_validator import RequestValidator

from services.web.alerts import evaluate
from services.web.chart import success_chart_svg
from services.web.ops import DayRate
from services.web.queues import QueueFigures, waiting_since_ms
from services.web.scheduler_status import SchedulerStatus, parse_instant
from services.web.settings import WebSettings, load_web_settings
from services.web.signature import is_signed, signed_url
from services.web.snapshot import Snapshot

URL = "https://liaison.example.org/webhooks/twilio/inbound"
FORM = {"From": "+8613800000001", "Body": "1 3"}


def test_a_signature_made_with_the_token_is_accepted_and_any_change_refused() -> None:
    signature = RequestValidator("secret").compute_signature(URL, FORM)
    assert is_signed("secret", URL, FORM, signature)
    assert not is_signed("other", URL, FORM, signature)
    assert not is_signed("secret", URL + "?x=1", FORM, signature)
    assert not is_signed("secret", URL, {**FORM, "Body": "1 3 5"}, signature)
    assert not is_signed("secret", URL, FORM, None)
    assert not is_signed("", URL, FORM, signature)


def test_the_signed_url_is_always_the_public_one() -> None:
    assert signed_url("https://p.example", "/x", "a=1") == "https://p.example/x?a=1"
    assert signed_url("https://p.example", "/x", "") == "https://p.example/x"


def test_a_delayed_message_waits_from_its_eta() -> None:
    assert waiting_since_ms({"message_timestamp": 1000, "options": {"eta": 5000}}) == 5000
    assert waiting_since_ms({"message_timestamp": 1000, "options": {}}) == 1000
    assert waiting_since_ms({}) is None


def test_the_tick_is_read_as_unix_seconds_or_iso() -> None:
    assert parse_instant(b"0") == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_instant("2026-11-20T02:00:00+00:00") == datetime(2026, 11, 20, 2, tzinfo=UTC)
    assert parse_instant("soon") is None


def test_the_tick_is_read_from_the_planners_json_summary() -> None:
    raw = json.dumps({"planned": 3, "at": "2026-11-20T02:00:30+00:00"})
    assert parse_instant(raw.encode()) == datetime(2026, 11, 20, 2, 0, 30, tzinfo=UTC)
    assert parse_instant('{"planned": 3}') is None


def snapshot(oldest: float | None, dead: int, tick_age: float | None) -> Snapshot:
    return Snapshot(
        at=datetime(2026, 11, 20, tzinfo=UTC),
        queues=[QueueFigures("notifications", 1, 0, 0, dead, oldest)],
        scheduler=SchedulerStatus(None, tick_age, True, None, 300),
        notifications=[],
    )


def test_alerts_fire_past_their_thresholds_only() -> None:
    web = WebSettings(oldest_message_alert_s=900)
    assert evaluate(snapshot(899, 2, 10), web, dead_baseline=2) == []
    keys = [a.key for a in evaluate(snapshot(901, 3, 301), web, dead_baseline=2)]
    assert keys == ["oldest_message:notifications", "dead_letters", "scheduler"]
    assert [a.key for a in evaluate(snapshot(None, 0, None), web, 0)] == ["scheduler"]


def test_web_settings_come_from_the_environment() -> None:
    web = load_web_settings(
        {"LIAISON_PUBLIC_URL": "https://x.example/", "LIAISON_ALERT_OLDEST_MESSAGE_S": "60"}
    )
    assert (web.public_url, web.oldest_message_alert_s) == ("https://x.example", 60)


def test_the_chart_draws_a_line_per_channel_with_the_rates() -> None:
    rates = [
        DayRate(date(2026, 11, 19), "sms", 9, 1),
        DayRate(date(2026, 11, 20), "sms", 5, 5),
        DayRate(date(2026, 11, 20), "email", 1, 0),
    ]
    svg = success_chart_svg(rates, today=date(2026, 11, 20))
    assert svg.count("<polyline") == 1  # email has one point: a dot, no line
    assert "2026-11-19 sms: 90.0% (9/10)" in svg and "2026-11-20 email: 100.0% (1/1)" in svg
    assert "no deliveries" in success_chart_svg([], today=date(2026, 11, 20))
