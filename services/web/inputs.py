"""What the web app accepts from a request, before any of it reaches the database or the
calendar: no NUL characters anywhere, dates and periods inside the years the rules can
compute, text of a bounded length. Each refusal is a 4xx with a fixed message.

Why here and not in each handler: PostgreSQL refuses a NUL inside text (a 500 on that
database only, while SQLite answered 200), and `date` arithmetic overflows at year 1 and
9999 (the due computation and the report's period bounds both step past the window).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Annotated
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException
from pydantic import AfterValidator, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.calendars import FIRST_DAY, LAST_DAY

NUL = "\x00"
#: the days the rules can be asked about (shared/calendars.py says why)
MIN_DAY, MAX_DAY = FIRST_DAY, LAST_DAY
PERIOD_HINT = "write 2026-10, 2026-Q4, 2026-H2 or 2026"


def _no_nul(value: str) -> str:
    if NUL in value:
        raise ValueError("contains a NUL character")
    return value


#: text from a JSON body: no NUL (PostgreSQL refuses it in text columns)
Text = Annotated[str, AfterValidator(_no_nul)]
#: a day the rules can be asked about
Day = Annotated[date, Field(ge=MIN_DAY, le=MAX_DAY)]


def refuse_nul(values: Iterable[str]) -> None:
    """400 when any of `values` (a form's keys and values) holds a NUL character."""
    if any(NUL in v for v in values):
        raise HTTPException(400, "a field contains a NUL character")


def check_period(period: str) -> None:
    """422 unless `period` names a year inside [MIN_DAY, MAX_DAY]; its spelling is left
    to the report, which says what it expects."""
    match = re.match(r"\s*(\d{4})", period)
    if match is not None and not MIN_DAY.year <= int(match[1]) <= MAX_DAY.year:
        raise HTTPException(
            422, f"a period between {MIN_DAY.year} and {MAX_DAY.year}: {PERIOD_HINT}"
        )


class RejectNulMiddleware:
    """Answer 400 to a request whose path or query string holds a NUL (raw or as %00),
    before routing: every path and query parameter of every route is covered at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            NUL in scope.get("path", "") or b"\x00" in unquote_to_bytes(scope["query_string"])
        ):
            body = json.dumps({"detail": "the URL contains a NUL character"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
