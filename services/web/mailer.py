"""The ops email of alerts, sent straight through the configured email sender (SMTP, or
the outbox directory), not through the queues whose trouble it may be reporting."""

from __future__ import annotations

from services.notifier import OutgoingMessage, Sender, build_email_sender
from services.web.alerts import Mailer
from shared.settings import Settings

ALERT_KIND = "ops_alert"


def ops_mailer(settings: Settings, sender: Sender | None = None) -> Mailer | None:
    """A mailer to LIAISON_OPS_EMAIL, or None when no ops email is configured."""
    if not settings.ops_email:
        return None
    chosen = sender or build_email_sender(settings)

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
