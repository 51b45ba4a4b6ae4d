"""The liaison's page at `/p/<id>-<mac>`: today's tasks, one tap to record what was done.

The link is the credential (shared/page_links.py): no password, one liaison, expiring and
revocable. The page is server-rendered HTML with one stylesheet and one small script, all
from this origin (no CDN: it must load in the WeChat and WeCom in-app browsers), and
works without the script. Each task is a form whose buttons are the actions; a tap posts
it, the fact is recorded (source `page`) and the browser is sent back to the page
(POST-redirect-GET), where the task is gone.

The page speaks the liaison's locale (Chinese by default, English for `en`; page_words.py).
Refusals are pages with a status code, Chinese where the link names no liaison: a forged
link 404, an expired or revoked one 410, another liaison's member 403, a bad form 400, an
oversized photo 413.
A form from another origin is refused (the token in the path is a secret the other site
would need as well, but a stray Origin is refused before anything is read).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from services.scheduler.tasks.due import Task
from services.scheduler.tasks.policy import PolicyBook
from services.web.access import is_assigned
from services.web.context import WebContext
from services.web.csrf import same_origin
from services.web.deps import get_ctx
from services.web.page_listing import (
    PolicyCache,
    liaison_day,
    liaison_tasks,
    open_campaign,
    org_lineage,
    page_listing,
)
from services.web.page_photos import PhotoRefused, keeps_location, store_photo
from services.web.page_recording import (
    NOTE_MAX_CHARS,
    PageRefused,
    Recorded,
    Tap,
    check_shape,
    find_task,
    record_tap,
)
from services.web.page_words import ZH, PageWords, phone_words, words_for
from shared.clock import local_today
from shared.errors import ImportRejected
from shared.models import Member, PageRecord
from shared.page_links import LinkCheck, LinkState, PageSettings, check_link, load_page_settings

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
#: bytes: the record form's whole body (a photo and a few short fields). Above the app's
#: 64 KiB only here; the photo's own limit (LIAISON_PHOTO_MAX_BYTES) is checked below it.
RECORD_BODY_MAX_BYTES = 16 * 1024 * 1024
FORM_FIELD_MAX_BYTES = 8 * 1024  #: bytes: any one text field of the form
PAGE_HEADERS = {
    # The link is the credential: keep the page out of caches, indexes and referrers.
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}

router = APIRouter(tags=["page"], include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(phone_words=phone_words)

Ctx = Annotated[WebContext, Depends(get_ctx)]


def page_settings(request: Request) -> PageSettings:
    """The page's settings, read from the environment once per app."""
    found: PageSettings | None = getattr(request.app.state, "page_settings", None)
    if found is None:
        found = request.app.state.page_settings = load_page_settings()
    return found


Page = Annotated[PageSettings, Depends(page_settings)]


def policy_cache(request: Request) -> PolicyCache:
    """The app's policy cache for the page's listings (page_listing.POLICY_TTL_S)."""
    found: PolicyCache | None = getattr(request.app.state, "page_policy", None)
    if found is None:
        found = request.app.state.page_policy = PolicyCache()
    return found


Policy = Annotated[PolicyCache, Depends(policy_cache)]


def _render(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _env.get_template(name).render(**values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def refusal(code: str, words: PageWords = ZH) -> HTMLResponse:
    """The refusal page of `code`, in the liaison's words when the link named them."""
    status, title, advice = words.refusals[code]
    return _render(
        "page_refused.html", status=status, title=title, advice=advice, code=code, w=words
    )


def _open(ctx: WebContext, page: PageSettings, token: str) -> LinkCheck | HTMLResponse:
    if not page.enabled:
        return refusal("not_configured")
    with ctx.engine.connect() as conn:
        check = check_link(conn, page, token, now=ctx.clock.now())
    if check.state is not LinkState.OPEN:
        # The id only: the MAC is the secret half and stays out of the log.
        log.info("page link refused (%s): link %s", check.state, token.split("-", 1)[0][:20])
        return refusal(check.state.value)
    return check


@router.get("/p/{token}", response_class=HTMLResponse)
def show_page(
    token: str,
    ctx: Ctx,
    page: Page,
    policy: Policy,
    done: str | None = None,
    notice: str | None = None,
) -> Response:
    """The liaison's open tasks, grouped by member, most urgent first."""
    check = _open(ctx, page, token)
    if isinstance(check, HTMLResponse):
        return check
    assert check.liaison_id is not None
    with ctx.engine.connect() as conn:
        found = liaison_day(conn, check.liaison_id)
        if found is None:
            return refusal("forged")
        name, timezone, locale = found
        words = words_for(locale)
        # `done` names a record of this liaison's; anything else in it is ignored.
        shown = int(done) if done and done.isdigit() and len(done) < 19 else None
        recorded = _recorded_line(conn, check, shown, words) if shown is not None else None
    today = local_today(ctx.clock, timezone)
    listing = page_listing(ctx.engine, check.liaison_id, name, today, book=policy.book(ctx.engine))
    return _render(
        "page.html",
        listing=listing,
        today=today,
        token=token,
        recorded=recorded,
        notice=words.notices.get(notice or ""),
        w=words,
        # The liaison's own calendar day, as every other date on the page.
        expires_on=check.expires_at.astimezone(ZoneInfo(timezone)).date()
        if check.expires_at
        else None,
        photo_max_mb=page.photo_max_bytes // (1024 * 1024),
        photo_max_bytes=page.photo_max_bytes,
    )


def _recorded_line(conn: Any, check: LinkCheck, record_id: int, words: PageWords) -> str | None:
    """ "已登记：张三 已上门走访（家中）" for a record of this liaison, else nothing."""
    row = conn.execute(
        select(PageRecord.action, Member.name)
        .join(Member, Member.member_id == PageRecord.member_id)
        .where(PageRecord.id == record_id, PageRecord.liaison_id == check.liaison_id)
    ).first()
    if row is None:
        return None
    return words.recorded(row.name, row.action)


@router.post("/p/{token}/record", max_body_size=RECORD_BODY_MAX_BYTES)
async def record(token: str, request: Request, ctx: Ctx, page: Page, policy: Policy) -> Response:
    """Record one tap: the task's fact, with its note and photo, then back to the page."""
    if not same_origin(request, page.public_url):
        return refusal("cross_site")
    check = _open(ctx, page, token)
    if isinstance(check, HTMLResponse):
        return check
    assert check.liaison_id is not None and check.link_id is not None
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=FORM_FIELD_MAX_BYTES)
    except HTTPException as exc:  # Starlette's: a malformed body (400), or over the limit (413)
        if exc.status_code in (400, 413):
            return refusal("bad_form" if exc.status_code == 400 else "photo_too_large")
        raise
    try:
        tap = _tap(form)
        check_shape(tap)
        photo = await _photo(form, page)
    except PageRefused as refused:
        return refusal(refused.code)
    finally:
        await form.close()
    # Reading the tasks, decoding the photo and writing are blocking work: off the loop.
    book = await run_in_threadpool(policy.book, ctx.engine)
    return await run_in_threadpool(_record, ctx, page, token, check, tap, photo, book)


def _tap(form: Any) -> Tap:
    fields = {}
    for name in ("member_id", "task", "action", "note"):
        value = form.get(name)
        if value is not None and not isinstance(value, str):
            raise PageRefused("bad_form", f"{name} must be text")
        fields[name] = (value or "").strip()
    if not fields["member_id"] or not fields["task"] or not fields["action"]:
        raise PageRefused("bad_form", "member, task and action are required")
    if len(fields["note"]) > NOTE_MAX_CHARS:
        raise PageRefused("bad_form", "the note is too long")
    return Tap(fields["member_id"], fields["task"], fields["action"], fields["note"] or None)


async def _photo(form: Any, page: PageSettings) -> bytes | None:
    upload = form.get("photo")
    if upload is None or isinstance(upload, str):
        return None
    assert isinstance(upload, UploadFile)
    if not upload.filename and not upload.size:
        return None  # the empty file part a browser sends when no photo was chosen
    data = await upload.read(page.photo_max_bytes + 1)
    if len(data) > page.photo_max_bytes:
        raise PageRefused("photo_too_large")
    return data or None


def _record(
    ctx: WebContext,
    page: PageSettings,
    token: str,
    check: LinkCheck,
    tap: Tap,
    photo: bytes | None,
    book: PolicyBook,
) -> Response:
    """Record one tap: the task it answers must be open for this liaison today."""
    assert check.liaison_id is not None and check.link_id is not None
    with ctx.engine.connect() as conn:
        found = liaison_day(conn, check.liaison_id)
    if found is None:
        return refusal("forged")
    today, words = local_today(ctx.clock, found[1]), words_for(found[2])
    tasks = liaison_tasks(ctx.engine, check.liaison_id, today, book=book)
    try:
        task = find_task(tasks, tap)
    except PageRefused as refused:
        with ctx.engine.connect() as conn:
            if refused.code == "not_yours" and is_assigned(
                conn, check.liaison_id, tap.member_id, today
            ):
                # Their member, the task no longer open: a second tap or a reload.
                return RedirectResponse(f"/p/{token}?notice=already", status_code=303)
        log.info("page record refused (%s): link %s", refused.code, check.link_id)
        return refusal(refused.code, words)
    recorded = _store_and_record(ctx, page, check, tap, task, photo, today)
    if isinstance(recorded, str):
        return refusal(recorded, words)
    log.info(
        "page record %s: liaison %s, member %s, %s for %s (link %s)",
        recorded.record_id,
        check.liaison_id,
        recorded.member_id,
        recorded.action,
        recorded.rule,
        check.link_id,
    )
    return RedirectResponse(f"/p/{token}?done={recorded.record_id}", status_code=303)


def _store_and_record(
    ctx: WebContext,
    page: PageSettings,
    check: LinkCheck,
    tap: Tap,
    task: Task,
    photo: bytes | None,
    today: date,
) -> Recorded | str:
    """The photo stored and the fact recorded, or the refusal's code (no photo left behind)."""
    assert check.liaison_id is not None and check.link_id is not None
    with ctx.engine.connect() as conn:
        lineage = org_lineage(conn, task.org)
        campaign = open_campaign(conn, task, lineage) if task.rule == "materials_delivery" else None
        keep = keeps_location(conn, lineage) if photo is not None else False
    stored: str | None = None
    try:
        if photo is not None:
            stored = store_photo(photo, page.photos_dir, today, keep_location=keep)
        return record_tap(
            ctx.engine,
            tap,
            task,
            link_id=check.link_id,
            liaison_id=check.liaison_id,
            day=today,
            now=ctx.clock.now(),
            campaign_id=campaign[0] if campaign else None,
            photo=stored,
        )
    except PhotoRefused:
        return "photo_unreadable"
    except (PageRefused, ImportRejected) as exc:
        if stored is not None:
            (page.photos_dir / stored).unlink(missing_ok=True)
        log.info("page record refused: link %s: %s", check.link_id, exc)
        return exc.code if isinstance(exc, PageRefused) else "bad_form"
    except BaseException:
        if stored is not None:  # no photo left behind without its record
            (page.photos_dir / stored).unlink(missing_ok=True)
        raise
