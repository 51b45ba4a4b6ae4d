"""A WeCom group robot (群机器人) webhook as a destination for ops alerts.

A robot is a URL with a key (`…/cgi-bin/webhook/send?key=…`), set by
`LIAISON_OPS_WECOM_WEBHOOK`; posting a text to it shows the text in the group. It takes
no access token and no user id, and allows 20 messages a minute: errcode 45009 is
transient. The same errors as the application messages are raised, so the alert mailer
treats it like the ops email.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from services.notifier.senders.base import OutgoingMessage, SendResult
from services.notifier.senders.wecom_app import (
    DEFAULT_TIMEOUT_S,
    _call,
    _errmsg,
    classify,
    cut_utf8,
)
from shared.errors import ConfigurationError
from shared.settings import Settings

log = logging.getLogger(__name__)

TEXT_MAX_BYTES = 2048  #: WeCom's limit for a robot's text message

#: (subject, text) -> None: the shape of services.web.alerts.Mailer
Mailer = Callable[[str, str], None]


class WeComRobotSender:
    """Posts each message's subject and text to one group robot; `to` is ignored."""

    provider = "wecom_robot"

    def __init__(
        self,
        webhook_url: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        client: httpx.Client | None = None,
    ) -> None:
        if not webhook_url.startswith(("https://", "http://")):
            raise ConfigurationError("LIAISON_OPS_WECOM_WEBHOOK must be the robot's webhook URL")
        self.webhook_url = webhook_url
        self.client = client or httpx.Client(timeout=timeout_s)

    def post(self, subject: str, text: str) -> None:
        """Post one alert; raises Transient/PermanentDeliveryError like any sender."""
        content = f"{subject}\n{text}".strip() if subject else text.strip()
        body = _call(
            self.client,
            "POST",
            self.webhook_url,
            json={"msgtype": "text", "text": {"content": cut_utf8(content, TEXT_MAX_BYTES)}},
        )
        errcode = int(body.get("errcode", 0))
        if errcode != 0:
            raise classify(errcode, f"WeCom robot {errcode}: {_errmsg(body)}")

    def send(self, message: OutgoingMessage) -> SendResult:
        self.post(message.subject or "", message.text)
        return SendResult(provider=self.provider, provider_message_id=None)


def ops_robot_mailer(settings: Settings, client: httpx.Client | None = None) -> Mailer | None:
    """A Mailer posting alerts to LIAISON_OPS_WECOM_WEBHOOK, or None when it is not set."""
    if not settings.ops_wecom_webhook:
        return None
    return WeComRobotSender(
        settings.ops_wecom_webhook, timeout_s=settings.wecom_timeout_s, client=client
    ).post


def every_mailer(*mailers: Mailer | None) -> Mailer | None:
    """One Mailer that hands each alert to every given one (the ops email and the robot);
    one failing does not keep the alert from the others. None when none is given."""
    chosen = [m for m in mailers if m is not None]
    if not chosen:
        return None

    def mail(subject: str, text: str) -> None:
        failures = 0
        for mailer in chosen:
            try:
                mailer(subject, text)
            except Exception:
                failures += 1
                log.exception("an ops alert destination failed")
        if failures == len(chosen):
            raise RuntimeError("no ops alert destination took the alert")

    return mail
