"""Alibaba Cloud SMS delivery receipts (SmsReport, "HTTP 批量推送").

Alibaba Cloud POSTs a JSON array of reports to the URL configured in its console, which is
ours with a secret path segment: `/webhooks/aliyun/sms-report/<LIAISON_ALIYUN_RECEIPT_SECRET>`.
The push carries no signature of its own, so the secret in the URL is the authentication;
it is compared in constant time, and with no secret configured the route answers 404.

Each report names the message by `biz_id` (what SendSms answered, stored as the
notification's provider message id) and says `success` with an `err_code` (`DELIVERED`, or
the carrier's code). A report moves the notification to `delivered` or `undelivered`
through `apply_status_callback`, which is idempotent: Alibaba Cloud retries a push it
thinks failed, and a repeated or late report changes nothing. Unknown biz ids (another
system on the same account) are acknowledged and ignored, or Alibaba Cloud would retry
them for ever. The answer is the `{"code": 0, "msg": "接收成功"}` it expects.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from services.notifier import apply_status_callback
from services.web.context import WebContext
from services.web.deps import get_ctx
from shared.db import transaction

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks/aliyun", tags=["webhooks"])

#: bytes; a report is ~250 bytes and a push holds tens of them. The app refuses any body
#: over services.web.app.MAX_BODY_BYTES (64 KiB) before this route reads it.
MAX_BODY_BYTES = 64 * 1024
ACKNOWLEDGED = {"code": 0, "msg": "接收成功"}


def _authorized(configured: str, given: str) -> bool:
    if not configured:
        return False
    return hmac.compare_digest(configured.encode(), given.encode())


def _reports(raw: bytes) -> list[dict[str, Any]]:
    try:
        loaded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HTTPException(400, "expected a JSON array of reports") from exc
    if isinstance(loaded, dict):
        loaded = [loaded]
    if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
        raise HTTPException(400, "expected a JSON array of reports")
    return loaded


@router.post("/sms-report/{secret}")
async def sms_report(
    secret: str, request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]
) -> JSONResponse:
    """Delivery reports: each moves its notification to delivered or undelivered, once."""
    if not _authorized(ctx.settings.aliyun_receipt_secret, secret):
        raise HTTPException(404, "Not Found")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, "body too large")
    changed = 0
    with transaction(ctx.engine) as session:
        for report in _reports(body):
            biz_id = str(report.get("biz_id") or "")
            if not biz_id:
                continue
            success = report.get("success") in (True, "true", "True", 1)
            code = str(report.get("err_code") or "")
            changed += apply_status_callback(
                session,
                biz_id,
                "delivered" if success else "undelivered",
                None if success else code or "unknown",
                now=ctx.clock.now(),
            )
    if changed:
        log.info("Alibaba Cloud SMS reports moved %d notification(s)", changed)
    return JSONResponse(ACKNOWLEDGED)
