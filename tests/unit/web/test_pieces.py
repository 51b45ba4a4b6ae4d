"""Pure pieces of the web service: signatures, queue ages, the chart, alert rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twilio.request_validator import RequestValidator

from services.notifier import ProviderFailures, WorkerSeen, reason_of
from services.web.alerts import evaluate
from services.web.chart import stacked_bars_svg
from services.web.labels import EN, LABELS, ZH, Labels, choose_lang
from services.web.queues import QueueFigures, waiting_since_ms
from services.web.scheduler_status import SchedulerStatus
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


def snapshot(
    oldest: float | None,
    dead: int,
    tick_age: float | None,
    *,
    workers: int = 1,
    failures: tuple[ProviderFailures, ...] = (),
    planning_timeouts: int = 0,
) -> Snapshot:
    seen = WorkerSeen("h:1:x", "h", 1, ("notifications",), 8, NOW, NOW)
    return Snapshot(
        at=NOW,
        queues=[QueueFigures("notifications", 1, 0, 0, 0, oldest)],
        scheduler=SchedulerStatus(
            None, tick_age, True, None, 300, planning_timeouts=planning_timeouts
        ),
        notifications=[],
        dead=dead,
        dead_recent=dead,
        failures=failures,
        workers=(seen,) * workers,
    )


NOW = datetime(2026, 11, 20, tzinfo=UTC)


def test_alerts_fire_past_their_thresholds_only() -> None:
    web = WebSettings(oldest_message_alert_s=900, dead_threshold=3)
    assert evaluate(snapshot(899, 2, 10), web, None) == []
    keys = [a.key for a in evaluate(snapshot(901, 3, 301), web, None)]
    assert keys == ["dead", "stuck_queue:notifications", "scheduler"]
    assert [a.key for a in evaluate(snapshot(None, 0, None), web, None)] == ["scheduler"]


def test_a_provider_failing_half_its_attempts_is_an_alert_once_there_are_enough() -> None:
    web = WebSettings(failure_rate=0.5, failure_min_attempts=10)
    few = ProviderFailures("email", "smtp", 9, 9)
    many = ProviderFailures("email", "smtp", 10, 5)
    fine = ProviderFailures("sms", "aliyun", 100, 49)
    held = evaluate(snapshot(None, 0, 10, failures=(few,)), web, None)
    assert held == []
    held = evaluate(snapshot(None, 0, 10, failures=(many, fine)), web, None)
    assert [a.key for a in held] == ["failure_rate:email:smtp"]
    assert "email/smtp: 5 of 10 attempts failed" in held[0].message(Labels(EN))


def test_no_live_worker_and_a_recent_planning_timeout_are_alerts() -> None:
    web = WebSettings(planning_window_s=3600)
    snap = snapshot(None, 0, 10, workers=0, planning_timeouts=2)
    keys = [a.key for a in evaluate(snap, web, NOW - timedelta(minutes=59))]
    assert keys == ["no_worker", "planning_timeout"]
    assert [a.key for a in evaluate(snap, web, NOW - timedelta(minutes=61))] == ["no_worker"]


def test_every_label_has_the_same_placeholders_in_chinese_and_english() -> None:
    import string

    for key, (zh, en) in LABELS.items():
        fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (zh, en)]
        assert fields[0] == fields[1], key
    assert Labels()("queues") == "队列" and Labels(EN)("queues") == "Queues"
    assert choose_lang("fr", None) == ZH and choose_lang(None, "en") == EN


def test_every_kind_channel_and_status_the_log_stores_reads_as_words_in_chinese() -> None:
    from services.scheduler.planning.presenting import KINDS
    from shared.models.notifications import CHANNELS, NOTIFICATION_STATUSES

    codes = [("kind", k) for k in KINDS] + [("channel", c) for c in CHANNELS]
    codes += [("status", s) for s in NOTIFICATION_STATUSES]
    assert len(codes) == len(KINDS) + len(CHANNELS) + len(NOTIFICATION_STATUSES) >= 17
    for group, code in codes:
        zh = Labels(ZH).word(group, code)
        assert zh != code and all(not ch.isascii() or ch == " " for ch in zh), (group, code)
        assert Labels(EN).word(group, code).isascii()
    assert Labels(ZH).word("kind", "some_future_kind") == "some_future_kind"


def test_a_dead_reason_leaves_out_the_attempt_count_and_masks_numbers() -> None:
    five = reason_of("gave up after 5 attempts; last error smtp: connection refused")
    three = reason_of("gave up after 3 attempts; last error smtp: connection refused")
    assert five == three == "smtp: connection refused"
    assert "13800000001" not in reason_of("gave up after 2 attempts; last error to 13800000001")
    assert reason_of(None) == "no error recorded"


def test_web_settings_come_from_the_environment() -> None:
    web = load_web_settings(
        {"LIAISON_PUBLIC_URL": "https://x.example/", "LIAISON_ALERT_OLDEST_MESSAGE_S": "60"}
    )
    assert (web.public_url, web.oldest_message_alert_s) == ("https://x.example", 60)


def test_the_volume_chart_stacks_a_bar_per_bucket_by_kind_and_channel() -> None:
    svg = stacked_bars_svg(
        ["11-19", "11-20"],
        {"digest · sms": [9, 0], "digest · email": [1, 4]},
        title="volumes",
        empty="nothing",
    )
    assert svg.count("<rect") == 3 + 2  # three non-empty segments, two legend swatches
    assert "11-19 digest · sms: 9" in svg and "11-20 digest · email: 4" in svg
    assert "nothing" not in svg
    assert "nothing" in stacked_bars_svg(["11-20"], {}, title="volumes", empty="nothing")
