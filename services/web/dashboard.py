"""The ops dashboard: a server-rendered page (Jinja2), a stylesheet and a little script.

It is for the ops and admin roles. The token is typed once into the login form and opens
a server-side session (sessions.py); the browser keeps only the session id, in an
HttpOnly, SameSite=Strict cookie, and logging out revokes it. Login and logout are
forms, so both check the Origin and a CSRF token (csrf.py). A message on the login page
is chosen by a code from a fixed list, never taken from the query string.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from services.notifier import dead_by_reason, list_deliveries
from services.scheduler.tasks.report import (
    REPORT_COLUMNS,
    PeriodError,
    compliance_report,
    row_values,
)
from services.web.alerts import AlertBook
from services.web.chart import lines_svg, stacked_bars_svg
from services.web.csrf import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    check_csrf,
    new_csrf_token,
    same_origin,
    tokens_match,
)
from services.web.deps import Ctx, optional_principal
from services.web.depth_history import depth_history
from services.web.inputs import NUL, PERIOD_HINT, check_period
from services.web.labels import LANGS, Labels, choose_lang
from services.web.sessions import (
    SESSION_COOKIE,
    SESSION_TTL,
    open_session,
    revoke_session,
    session_principal,
)
from services.web.snapshot import take_snapshot
from services.web.times import home_root, local_text, viewer_timezone
from services.web.tokens import Principal, authenticate
from services.web.volumes import latencies, volumes
from shared.clock import local_today
from shared.org_tree import OrgTree

TEMPLATES = Path(__file__).parent / "templates"
DASHBOARD_ROLES = ("admin", "ops")
COOKIE_MAX_AGE_S = int(SESSION_TTL.total_seconds())  #: the cookie lives as long as its session
LOGIN_FORM_MAX_AGE_S = 3600  #: a login form left open longer must be reloaded
#: what the login page may say, by code (labels login.<code>): nothing else from the
#: query string is shown
LOGIN_MESSAGES = ("expired", "refused", "forged")
LANG_COOKIE = "liaison_lang"  #: the language chosen with the switch, remembered a year
DEAD_ROWS_SHOWN = 20  #: dead notifications listed one by one under their groups
PERIODS = {"day": 14, "hour": 48}  #: the volume chart: buckets shown per unit

router = APIRouter(include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)


def _lang(request: Request) -> str:
    return choose_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def render_page(name: str, request: Request, status: int = 200, **values: Any) -> HTMLResponse:
    """The page in the language asked for (remembered in a cookie when asked)."""
    lang = _lang(request)
    other = next(lang_ for lang_ in LANGS if lang_ != lang)
    # Only the language: nothing else of the query string is echoed into the page.
    switch = f"{request.url.path}?lang={other}"
    response = HTMLResponse(
        _env.get_template(name).render(t=Labels(lang), lang=lang, switch=switch, **values),
        status_code=status,
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="strict"
        )
    return response


Viewer = Annotated[Principal | None, Depends(optional_principal)]


def _allowed(viewer: Principal | None) -> bool:
    return viewer is not None and viewer.role in DASHBOARD_ROLES


def _login_page(ctx: Ctx, request: Request, code: str | None, status: int = 200) -> HTMLResponse:
    """The login form with a fresh double-submit CSRF token, in the form and a cookie."""
    csrf = new_csrf_token()
    error = f"login.{code}" if code in LOGIN_MESSAGES else None
    response = render_page("login.html", request, status=status, error=error, csrf=csrf)
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
def login_form(request: Request, ctx: Ctx, error: str | None = None) -> Response:
    """The login form; `error` is a code of LOGIN_MESSAGES, anything else shows nothing."""
    return _login_page(ctx, request, error)


@router.post("/login")
async def login(request: Request, ctx: Ctx) -> Response:
    form = await _form(request)
    if not same_origin(request, ctx.web.public_url) or not tokens_match(
        form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE)
    ):
        return _login_page(ctx, request, "forged", status=403)
    token = form.get("token", "").strip()
    now = ctx.clock.now()
    found = authenticate(ctx.engine, token, now=now) if token else None
    if found is None or found.role not in DASHBOARD_ROLES:
        return _login_page(ctx, request, "refused", status=401)
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
def dashboard(
    request: Request,
    viewer: Viewer,
    ctx: Ctx,
    per: Annotated[str, Query(pattern="^(day|hour)$")] = "day",
) -> Response:
    if not _allowed(viewer):
        return _to_login(request)
    t = Labels(_lang(request))
    now = ctx.clock.now()
    snap = take_snapshot(ctx.engine, ctx.redis, ctx.namespace, ctx.web, now=now)
    alerts = AlertBook(ctx.redis, ctx.web, None).current(snap)
    root = home_root(ctx.engine, viewer)
    tz = viewer_timezone(ctx.engine, viewer.org if viewer and viewer.org else root)
    with Session(ctx.engine) as session:
        groups = dead_by_reason(session)
        dead_rows = list_deliveries(session, statuses=["dead"], limit=DEAD_ROWS_SHOWN)
        failed_rows = list_deliveries(
            session, statuses=["failed", "undelivered"], limit=DEAD_ROWS_SHOWN
        )
    return render_page(
        "dashboard.html",
        request,
        viewer=viewer,
        snap=snap,
        alerts=alerts,
        groups=groups,
        dead_rows=dead_rows,
        failed_rows=failed_rows,
        charts=_charts(ctx, t, now=now, tz=tz, per=per),
        per=per,
        root=root,
        period=_default_period(ctx, tz),
        now=now,
        tz=tz,
        local=lambda moment, seconds=False: local_text(moment, tz, seconds=seconds),
    )


def _charts(ctx: Ctx, t: Labels, *, now: datetime, tz: str, per: str) -> dict[str, Any]:
    """The volume, queue depth and latency charts' SVG and figures."""
    vol = volumes(ctx.engine, now=now, tz=tz, per=per, count=PERIODS[per])
    fmt = "%H:00" if per == "hour" else "%m-%d"
    volume_svg = stacked_bars_svg(
        [b.strftime(fmt) for b in vol.buckets],
        {f"{t.word('kind', k)} · {t.word('channel', c)}": n for (k, c), n in vol.series.items()},
        title=t("chart.volume", unit=t(f"chart.unit.{per}")),
        empty=t("chart.empty"),
    )
    samples = depth_history(ctx.redis, since=now - timedelta(hours=24))
    queues = sorted({q for s in samples for q in s.depth})
    depth_svg = lines_svg(
        [s.at for s in samples],
        [local_text(s.at, tz)[11:] for s in samples],
        {q: [s.depth.get(q, 0) for s in samples] for q in queues},
        title=t("chart.depth"),
        empty=t("chart.empty"),
    )
    return {
        "volume": volume_svg,
        "depth": depth_svg,
        "latency": latencies(ctx.engine, since=now - timedelta(hours=24)),
    }


def _default_period(ctx: Ctx, tz: str) -> str:
    day = local_today(ctx.clock, tz)
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class ComplianceView:
    row: dict[str, Any]
    depth: int


LOW_SHARE = 80.0  #: a compliance share below this (percent) is shown in red


def low(share: object) -> bool:
    """Whether a report share ("79.5%", or "-" when nothing was due) is below LOW_SHARE."""
    text = str(share)
    return text.endswith("%") and float(text[:-1]) < LOW_SHARE


@router.get("/compliance")
def compliance(
    request: Request,
    viewer: Viewer,
    ctx: Ctx,
    org: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """One organization and its children, each drillable; the lineage as breadcrumbs.
    Without `org`, the viewer's own root (for ops and admin, the root with most members)."""
    if not _allowed(viewer):
        return _to_login(request)
    t = Labels(_lang(request))
    code = org or home_root(ctx.engine, viewer)
    tz = viewer_timezone(ctx.engine, viewer.org if viewer and viewer.org else code)
    chosen = period or _default_period(ctx, tz)
    with Session(ctx.engine) as session:
        tree = OrgTree.load(session)
    error = None
    rows: list[ComplianceView] = []
    if code is None or code not in tree.parents:
        error = t("compliance.no_org") if code is not None else t("compliance.none")
    else:
        try:
            check_period(chosen)
            report = compliance_report(
                ctx.engine, chosen, today=local_today(ctx.clock, tz), org=code
            )
        except (PeriodError, HTTPException):
            # A fixed text: the period the query string named is never echoed back.
            error = t("compliance.bad_period", hint=PERIOD_HINT)
        else:
            for r in report.rows:
                if r.depth <= 1:
                    rows.append(
                        ComplianceView(
                            dict(zip(REPORT_COLUMNS, row_values(r), strict=True)), r.depth
                        )
                    )
    lineage = list(reversed(tree.lineage(code))) if code in tree.parents else []
    return render_page(
        "compliance.html",
        request,
        viewer=viewer,
        rows=rows,
        code=code,
        period=chosen,
        error=error,
        lineage=[(c, tree.names.get(c, c)) for c in lineage],
        has_children={p for p in tree.parents.values() if p is not None},
        roots=sorted(c for c, p in tree.parents.items() if p is None),
        names=tree.names,
        low=low,
    )
