"""Twilio's webhooks: delivery status callbacks and inbound SMS. Both refuse, with 403,
anything that does not carry Twilio's signature for the URL and form it was sent with."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from twilio.twiml.messaging_response import MessagingResponse

from services.notifier import apply_status_callback
from services.web.context import WebContext
from services.web.deps import get_ctx
from services.web.inbound import handle_inbound
from services.web.signature import SIGNATURE_HEADER, is_signed, signed_url
from shared.db import transaction

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

MAX_FORM_BYTES = 64 * 1024  #: Twilio's forms are a few hundred bytes; refuse floods early


async def signed_form(
    request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]
) -> dict[str, str]:
    """The POSTed form, once its Twilio signature has been checked (403 otherwise)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "form too large")
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise HTTPException(403, "not a Twilio request") from exc
    url = signed_url(ctx.web.public_url, str(request.url), request.url.path, request.url.query)
    if not is_signed(
        ctx.settings.twilio_auth_token, url, form, request.headers.get(SIGNATURE_HEADER)
    ):
        log.warning("refused an unsigned or forged Twilio request to %s", request.url.path)
        raise HTTPException(403, "missing or invalid Twilio signature")
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
    """An SMS to our number: task numbers done, or an opt-out/opt-in; answered in TwiML."""
    result = handle_inbound(
        ctx.engine, form.get("From", ""), form.get("Body", ""), now=ctx.clock.now()
    )
    twiml = MessagingResponse()
    twiml.message(result.answer)
    return Response(content=str(twiml), media_type="application/xml")
