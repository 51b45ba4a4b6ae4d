"""The ops dashboard: a server-rendered page (Jinja2), a stylesheet and a little script.

It is for the ops and admin roles; the token is typed once into a login form and kept
in an HttpOnly, SameSite=Strict cookie, so the page's own script never holds it.
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

from services.scheduler.policy import OrgTree
from services.scheduler.report import REPORT_COLUMNS, PeriodError, compliance_report, row_values
from services.web.alerts import AlertBook
from services.web.chart import success_chart_svg
from services.web.deps import COOKIE_NAME, Ctx, optional_principal
from services.web.inputs import PERIOD_HINT, check_period
from services.web.ops import dead_items, recent_failures, success_by_day
from services.web.snapshot import take_snapshot
from services.web.tokens import Principal, authenticate
from shared.clock import local_today
from shared.settings import DEFAULT_TIMEZONE

TEMPLATES = Path(__file__).parent / "templates"
DASHBOARD_ROLES = ("admin", "ops")
COOKIE_MAX_AGE_S = 12 * 3600  #: a working day; log in again after

router = APIRouter(include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)


def _render(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**values), status_code=status)


Viewer = Annotated[Principal | None, Depends(optional_principal)]


def _allowed(viewer: Principal | None) -> bool:
    return viewer is not None and viewer.role in DASHBOARD_ROLES


@router.get("/login")
def login_form(error: str | None = None) -> HTMLResponse:
    return _render("login.html", error=error)


@router.post("/login")
async def login(request: Request, ctx: Ctx) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    token = form.get("token", "").strip()
    found = authenticate(ctx.engine, token) if token else None
    if found is None or found.role not in DASHBOARD_ROLES:
        return _render("login.html", status=401, error="That is not an ops or admin token.")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=ctx.web.cookie_secure,
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME)
    return response


@router.get("/")
def dashboard(viewer: Viewer, ctx: Ctx) -> Response:
    if not _allowed(viewer):
        return RedirectResponse("/login", status_code=303)
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
    viewer: Viewer,
    ctx: Ctx,
    org: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """One organization and its children, each drillable; the lineage as breadcrumbs."""
    if not _allowed(viewer):
        return RedirectResponse("/login", status_code=303)
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
