"""Twilio's webhooks: delivery status callbacks and inbound SMS. Both refuse, with 403,
anything that does not carry Twilio's signature for the URL and form it was sent with,
and, with 503, everything while LIAISON_PUBLIC_URL is unset (the URL to check the
signature against would otherwise come from the client's own Host header).

Fail closed at request time rather than refusing to start: `liaison serve` also serves
the API and the dashboard, which need no public URL, and a deployment that has not
pointed Twilio here yet should still run them. Twilio shows the 503 in its debugger, the
log says which setting is missing, and nothing is acted on."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from twilio.twiml.messaging_response import MessagingResponse

from services.notifier import apply_status_callback
from services.web.context import WebContext
from services.web.deps import get_ctx
from services.web.inbound import MAX_SID_LENGTH, answer_once
from services.web.inputs import refuse_nul
from services.web.signature import SIGNATURE_HEADER, is_signed, signed_url
from shared.db import transaction

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])


async def signed_form(
    request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]
) -> dict[str, str]:
    """The POSTed form, once its Twilio signature has been checked (403 otherwise)."""
    if not ctx.web.public_url:
        log.error(
            "refused a Twilio request to %s: LIAISON_PUBLIC_URL is not set, so there is no "
            "URL to check its signature against",
            request.url.path,
        )
        raise HTTPException(
            503, "webhooks are off until LIAISON_PUBLIC_URL names the URL Twilio calls"
        )
    body = await request.body()  # at most the app's max_body_size (app.py), else 413
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise HTTPException(403, "not a Twilio request") from exc
    url = signed_url(ctx.web.public_url, request.url.path, request.url.query)
    if not is_signed(
        ctx.settings.twilio_auth_token, url, form, request.headers.get(SIGNATURE_HEADER)
    ):
        log.warning("refused an unsigned or forged Twilio request to %s", request.url.path)
        raise HTTPException(403, "missing or invalid Twilio signature")
    refuse_nul([*form, *form.values()])
    return form


Form = Annotated[dict[str, str], Depends(signed_form)]


@router.post("/status", status_code=204, response_class=Response)
def status_callback(form: Form, ctx: Annotated[WebContext, Depends(get_ctx)]) -> Response:
    """A delivery report: moves the notification to delivered, undelivered or failed.

    Repeating it changes nothing; statuses short of final are acknowledged and ignored."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if sid:
        with transaction(ctx.engine) as session:
            changed = apply_status_callback(
                session, sid, status, form.get("ErrorCode"), now=ctx.clock.now()
            )
        if changed:
            log.info("message %s reported %s", sid, status)
    return Response(status_code=204)


@router.post("/inbound", response_class=Response)
def inbound_sms(form: Form, ctx: Annotated[WebContext, Depends(get_ctx)]) -> Response:
    """An SMS to our number: task numbers done, or an opt-out/opt-in; answered in TwiML.

    Acted on once per MessageSid: a replayed or retried message gets the first answer."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid or len(sid) > MAX_SID_LENGTH:
        raise HTTPException(400, "an inbound message needs its MessageSid")
    answer = answer_once(
        ctx.engine, sid, form.get("From", ""), form.get("Body", ""), now=ctx.clock.now()
    )
    twiml = MessagingResponse()
    if answer:
        twiml.message(answer)
    return Response(content=str(twiml), media_type="application/xml")
