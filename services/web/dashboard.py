"""The ops dashboard: a server-rendered page (Jinja2), a stylesheet and a little script.

It is for the ops and admin roles. The token is typed once into the login form and opens
a server-side session (sessions.py); the browser keeps only the session id, in an
HttpOnly, SameSite=Strict cookie, and logging out revokes it. Login and logout are
forms, so both check the Origin and a CSRF token (csrf.py). A message on the login page
is chosen by a code from a fixed list, never taken from the query string.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from services.scheduler.tasks.report import (
    REPORT_COLUMNS,
    PeriodError,
    compliance_report,
    row_values,
)
from services.web.alerts import AlertBook
from services.web.chart import success_chart_svg
from services.web.csrf import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    check_csrf,
    new_csrf_token,
    same_origin,
    tokens_match,
)
from services.web.deps import Ctx, optional_principal
from services.web.inputs import NUL, PERIOD_HINT, check_period
from services.web.ops import dead_items, recent_failures, success_by_day
from services.web.sessions import (
    SESSION_COOKIE,
    SESSION_TTL,
    open_session,
    revoke_session,
    session_principal,
)
from services.web.snapshot import take_snapshot
from services.web.tokens import Principal, authenticate
from shared.clock import local_today
from shared.org_tree import OrgTree
from shared.settings import DEFAULT_TIMEZONE

TEMPLATES = Path(__file__).parent / "templates"
DASHBOARD_ROLES = ("admin", "ops")
COOKIE_MAX_AGE_S = int(SESSION_TTL.total_seconds())  #: the cookie lives as long as its session
LOGIN_FORM_MAX_AGE_S = 3600  #: a login form left open longer must be reloaded
#: what the login page may say, by code: nothing else from the query string is shown
LOGIN_MESSAGES = {
    "expired": "Your session has ended; log in again.",
    "refused": "That is not a live ops or admin token.",
    "forged": "The form was not sent from this page; reload it and try again.",
}

router = APIRouter(include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)


def _render(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**values), status_code=status)


Viewer = Annotated[Principal | None, Depends(optional_principal)]


def _allowed(viewer: Principal | None) -> bool:
    return viewer is not None and viewer.role in DASHBOARD_ROLES


def _login_page(ctx: Ctx, code: str | None, status: int = 200) -> HTMLResponse:
    """The login form with a fresh double-submit CSRF token, in the form and a cookie."""
    csrf = new_csrf_token()
    response = _render("login.html", status=status, error=LOGIN_MESSAGES.get(code or ""), csrf=csrf)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        max_age=LOGIN_FORM_MAX_AGE_S,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=ctx.web.cookie_secure,
    )
    return response


def _session_cookie(response: Response, ctx: Ctx, value: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=ctx.web.cookie_secure,
    )


async def _form(request: Request) -> dict[str, str]:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    if any(NUL in v for v in (*form, *form.values())):
        raise HTTPException(400, "a field contains a NUL character")
    return form


@router.get("/login")
def login_form(ctx: Ctx, error: str | None = None) -> Response:
    """The login form; `error` is a code of LOGIN_MESSAGES, anything else shows nothing."""
    return _login_page(ctx, error)


@router.post("/login")
async def login(request: Request, ctx: Ctx) -> Response:
    form = await _form(request)
    if not same_origin(request, ctx.web.public_url) or not tokens_match(
        form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE)
    ):
        return _login_page(ctx, "forged", status=403)
    token = form.get("token", "").strip()
    now = ctx.clock.now()
    found = authenticate(ctx.engine, token, now=now) if token else None
    if found is None or found.role not in DASHBOARD_ROLES:
        return _login_page(ctx, "refused", status=401)
    response = RedirectResponse("/", status_code=303)
    _session_cookie(response, ctx, open_session(ctx.engine, found, now=now), COOKIE_MAX_AGE_S)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, ctx: Ctx) -> Response:
    """End the session on the server. Only from our own page: a cross-site logout is a
    nuisance, and a check-free one would let any site end an operator's session."""
    form = await _form(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    now = ctx.clock.now()
    if session_id:
        found = session_principal(ctx.engine, session_id, now=now)
        if found is not None:
            check_csrf(request, ctx.web.public_url, form.get(CSRF_FIELD), found.csrf)
            revoke_session(ctx.engine, session_id, now=now)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _to_login(request: Request) -> RedirectResponse:
    """Back to the login form; saying why when a session cookie came and opened nothing."""
    ended = SESSION_COOKIE in request.cookies
    return RedirectResponse("/login?error=expired" if ended else "/login", status_code=303)


@router.get("/")
def dashboard(request: Request, viewer: Viewer, ctx: Ctx) -> Response:
    if not _allowed(viewer):
        return _to_login(request)
    now = ctx.clock.now()
    snap = take_snapshot(ctx.engine, ctx.redis, ctx.namespace, ctx.web, now=now)
    alerts = AlertBook(ctx.redis, ctx.web, None).current(snap)
    today = now.date()
    rates = success_by_day(ctx.engine, today=today)
    with Session(ctx.engine) as session:
        roots = sorted(c for c, p in OrgTree.load(session).parents.items() if p is None)
    return _render(
        "dashboard.html",
        viewer=viewer,
        snap=snap,
        alerts=alerts,
        dead=dead_items(ctx),
        failures=recent_failures(ctx.engine),
        chart=success_chart_svg(rates, today=today),
        rates=rates,
        roots=roots,
        period=_default_period(ctx),
        now=now,
    )


def _default_period(ctx: Ctx) -> str:
    day = local_today(ctx.clock, DEFAULT_TIMEZONE)
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class ComplianceView:
    row: dict[str, Any]
    depth: int


@router.get("/compliance")
def compliance(
    request: Request,
    viewer: Viewer,
    ctx: Ctx,
    org: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """One organization and its children, each drillable; the lineage as breadcrumbs."""
    if not _allowed(viewer):
        return _to_login(request)
    chosen = period or _default_period(ctx)
    with Session(ctx.engine) as session:
        tree = OrgTree.load(session)
    roots = sorted(c for c, p in tree.parents.items() if p is None)
    code = org or (roots[0] if roots else None)
    error = None
    rows: list[ComplianceView] = []
    if code is None or code not in tree.parents:
        error = "No such organization."
    else:
        try:
            check_period(chosen)
            report = compliance_report(
                ctx.engine, chosen, today=local_today(ctx.clock, DEFAULT_TIMEZONE), org=code
            )
        except (PeriodError, HTTPException):
            # A fixed text: the period the query string named is never echoed back.
            error = f"Not a period that can be reported: {PERIOD_HINT}, up to today."
        else:
            for r in report.rows:
                if r.depth <= 1:
                    rows.append(
                        ComplianceView(
                            dict(zip(REPORT_COLUMNS, row_values(r), strict=True)), r.depth
                        )
                    )
    lineage = list(reversed(tree.lineage(code))) if code in tree.parents else []
    return _render(
        "compliance.html",
        viewer=viewer,
        rows=rows,
        code=code,
        period=chosen,
        error=error,
        lineage=[(c, tree.names.get(c, c)) for c in lineage],
        has_children={p for p in tree.parents.values() if p is not None},
        roots=roots,
    )
