"""Each sender against a real server on loopback, and its errors sorted transient/permanent."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.notifier.senders import OutboxFileSender, OutgoingMessage
from services.notifier.senders.smtp_email import SmtpEmailSender
from services.notifier.senders.twilio_sms import TwilioSmsSender
from services.notifier.testing.smtp_server import SmtpTestServer, free_port
from services.notifier.testing.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioTestServer,
)
from shared.errors import PermanentDeliveryError, TransientDeliveryError

SMS = OutgoingMessage(notification_id=7, channel="sms", to="+8613812345678", text="你好")
EMAIL = OutgoingMessage(
    notification_id=8,
    channel="email",
    to="zhang.san@example.com",
    text="plain part",
    subject="提醒",
    html="<p>html part</p>",
)


def twilio_sender(twilio: TwilioTestServer, **overrides: object) -> TwilioSmsSender:
    options: dict[str, object] = {
        "account_sid": TEST_ACCOUNT_SID,
        "auth_token": TEST_AUTH_TOKEN,
        "from_number": "+15005550006",
        "base_url": twilio.base_url,
        "timeout_s": 2.0,
    }
    options.update(overrides)
    return TwilioSmsSender(**options)  # type: ignore[arg-type]


def test_twilio_sender_can_send_through_a_messaging_service(twilio: TwilioTestServer) -> None:
    result = twilio_sender(twilio, from_number="", messaging_service_sid="MG" + "1" * 32).send(SMS)
    [request] = twilio.requests
    assert request.form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in request.form
    assert result.provider == "twilio" and result.provider_message_id.startswith("SM")


@pytest.mark.parametrize("code", [21211, 21614, 21610])
def test_twilio_codes_for_bad_numbers_are_permanent_and_masked(
    twilio: TwilioTestServer, code: int
) -> None:
    twilio.fail_next(status=400, code=code)
    with pytest.raises(PermanentDeliveryError) as caught:
        twilio_sender(twilio).send(SMS)
    assert caught.value.code == str(code)
    assert "+8613812345678" not in str(caught.value) and "138****5678" in str(caught.value)


def test_a_429_is_transient_and_carries_retry_after(twilio: TwilioTestServer) -> None:
    twilio.fail_next(status=429, code=20429, retry_after_s=7)
    with pytest.raises(TransientDeliveryError) as caught:
        twilio_sender(twilio).send(SMS)
    assert caught.value.code == "20429" and caught.value.retry_after_s == 7.0


def test_a_5xx_is_transient(twilio: TwilioTestServer) -> None:
    twilio.fail_next(status=502)
    with pytest.raises(TransientDeliveryError):
        twilio_sender(twilio).send(SMS)


def test_a_slow_twilio_times_out_as_a_transient_error(twilio: TwilioTestServer) -> None:
    twilio.fail_next(delay_s=1.0)
    with pytest.raises(TransientDeliveryError) as caught:
        twilio_sender(twilio, timeout_s=0.2).send(SMS)
    assert caught.value.code == "timeout"


def test_an_unreachable_twilio_is_transient() -> None:
    sender = TwilioSmsSender(
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        from_number="+15005550006",
        base_url=f"http://127.0.0.1:{free_port()}",
        timeout_s=1.0,
    )
    with pytest.raises(TransientDeliveryError) as caught:
        sender.send(SMS)
    assert caught.value.code == "connection"


def test_a_wrong_auth_token_is_permanent(twilio: TwilioTestServer) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        twilio_sender(twilio, auth_token="wrong").send(SMS)
    assert caught.value.code == "20003"


def smtp_sender(smtp: SmtpTestServer) -> SmtpEmailSender:
    return SmtpEmailSender(
        host=smtp.host, port=smtp.port, sender="liaison@example.org", security="none", timeout_s=2.0
    )


def test_smtp_sender_sends_text_and_html_alternatives(smtp: SmtpTestServer) -> None:
    result = smtp_sender(smtp).send(EMAIL)
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["zhang.san@example.com"]
    assert mail.message["Subject"] == "提醒"
    assert mail.message["Message-ID"] == result.provider_message_id
    plain = mail.message.get_body(preferencelist=("plain",))
    html = mail.message.get_body(preferencelist=("html",))
    assert plain is not None and plain.get_content().strip() == "plain part"
    assert html is not None and "<p>html part</p>" in html.get_content()


def test_smtp_4xx_is_transient_and_5xx_permanent(smtp: SmtpTestServer) -> None:
    smtp.fail_next("451 4.3.0 try again later")
    with pytest.raises(TransientDeliveryError) as transient:
        smtp_sender(smtp).send(EMAIL)
    smtp.fail_next("554 5.7.1 rejected")
    with pytest.raises(PermanentDeliveryError) as permanent:
        smtp_sender(smtp).send(EMAIL)
    assert (transient.value.code, permanent.value.code) == ("451", "554")
    assert "zhang.san" not in str(permanent.value)


def test_a_message_accepted_before_a_failing_quit_counts_as_sent_and_is_not_retried(
    smtp: SmtpTestServer,
) -> None:
    # A server going down answers QUIT with 421 after it took the message: retrying would
    # send the message twice.
    smtp.answer_quit_with("421 4.3.2 shutting down")
    result = smtp_sender(smtp).send(EMAIL)
    [mail] = smtp.messages
    assert mail.message["Message-ID"] == result.provider_message_id


def test_a_refused_recipient_is_permanent(smtp: SmtpTestServer) -> None:
    smtp.refuse("zhang.san@example.com", "550 5.1.1 no such user")
    with pytest.raises(PermanentDeliveryError) as caught:
        smtp_sender(smtp).send(EMAIL)
    assert caught.value.code == "550"


def test_an_unreachable_smtp_server_is_transient() -> None:
    sender = SmtpEmailSender(
        host="127.0.0.1", port=free_port(), sender="l@example.org", security="none", timeout_s=1.0
    )
    with pytest.raises(TransientDeliveryError):
        sender.send(EMAIL)


def test_the_outbox_file_sender_writes_a_readable_file_per_message(tmp_path: Path) -> None:
    sender = OutboxFileSender(tmp_path / "outbox")
    sender.send(SMS)
    sender.send(EMAIL)
    [sms_file] = (tmp_path / "outbox" / "sms").glob("*.txt")
    assert "To: +8613812345678" in sms_file.read_text() and "你好" in sms_file.read_text()
    [email_txt] = (tmp_path / "outbox" / "email").glob("*.txt")
    [email_html] = (tmp_path / "outbox" / "email").glob("*.html")
    assert "Subject: 提醒" in email_txt.read_text()
    assert email_html.read_text() == "<p>html part</p>"
