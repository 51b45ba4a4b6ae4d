"""The ops email of alerts, sent straight through the configured email sender (SMTP, or
the outbox directory), not through the queues whose trouble it may be reporting."""

from __future__ import annotations

from services.notifier.senders.base import OutgoingMessage, Sender
from services.notifier.senders.outbox_file import OutboxFileSender
from services.notifier.senders.smtp_email import SmtpEmailSender
from services.web.alerts import Mailer
from shared.settings import Settings

ALERT_KIND = "ops_alert"


def email_sender(settings: Settings) -> Sender:
    if settings.email_sender == "smtp":
        return SmtpEmailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_s=settings.smtp_timeout_s,
        )
    return OutboxFileSender(settings.outbox_dir)


def ops_mailer(settings: Settings, sender: Sender | None = None) -> Mailer | None:
    """A mailer to LIAISON_OPS_EMAIL, or None when no ops email is configured."""
    if not settings.ops_email:
        return None
    chosen = sender or email_sender(settings)

    def mail(subject: str, text: str) -> None:
        chosen.send(
            OutgoingMessage(
                notification_id=0,
                channel="email",
                to=settings.ops_email,
                text=text,
                subject=subject,
                kind=ALERT_KIND,
            )
        )

    return mail
