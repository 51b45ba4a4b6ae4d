"""Email through SMTP (`smtplib`): multipart text + HTML, STARTTLS, implicit TLS or none.

Transient: SMTP 4xx replies, a dropped connection, timeouts, a server that cannot be
reached. Permanent: SMTP 5xx replies (a refused recipient, a rejected message, a failed
login).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from services.notifier.senders.base import OutgoingMessage, SendResult
from shared.errors import ConfigurationError, PermanentDeliveryError, TransientDeliveryError
from shared.masking import mask_email, mask_text

SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_TIMEOUT_S = 10.0  #: seconds for each socket operation


class SmtpEmailSender:
    provider = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not host or not sender:
            raise ConfigurationError("SMTP needs LIAISON_SMTP_HOST and LIAISON_SMTP_FROM")
        if security not in SECURITY_MODES:
            raise ConfigurationError(f"LIAISON_SMTP_SECURITY must be one of {SECURITY_MODES}")
        self.host, self.port, self.sender = host, port, sender
        self.security = security
        self.username, self.password = username, password
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context or ssl.create_default_context()

    def build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject or ""
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        email.set_content(message.text)
        if message.html is not None:
            email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message: OutgoingMessage) -> SendResult:
        email = self.build(message)
        who = mask_email(message.to)
        try:
            smtp = self._connect()
            try:
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(email)
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _by_code(code, f"recipient {who} refused: {_reply(reply)}") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(
                exc.smtp_code, f"SMTP {exc.smtp_code} for {who}: {_reply(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientDeliveryError(
                f"SMTP server disconnected while sending to {who}", code="disconnected"
            ) from exc
        except smtplib.SMTPException as exc:
            raise PermanentDeliveryError(
                f"SMTP refused the message for {who}: {mask_text(str(exc))}"
            ) from exc
        except (TimeoutError, OSError) as exc:
            # After every SMTPException (they are OSErrors too): refused connections, TLS
            # failures (ssl.SSLError), timeouts.
            raise TransientDeliveryError(
                f"cannot reach the SMTP server: {type(exc).__name__}", code="connection"
            ) from exc
        # The server has accepted the message: whatever QUIT answers (a 421 from a server
        # shutting down, a dropped connection) must not turn it into a retry, which would
        # send it twice. `with smtplib.SMTP(...)` would raise on such a QUIT.
        _quit_quietly(smtp)
        return SendResult(provider=self.provider, provider_message_id=str(email["Message-ID"]))

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_s, context=self.ssl_context
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        if self.security == "starttls":
            try:
                smtp.starttls(context=self.ssl_context)
            except BaseException:
                smtp.close()
                raise
        return smtp


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _reply(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return mask_text(text)


def _by_code(code: int, text: str) -> TransientDeliveryError | PermanentDeliveryError:
    if 400 <= code < 500:
        return TransientDeliveryError(text, code=str(code))
    return PermanentDeliveryError(text, code=str(code))
