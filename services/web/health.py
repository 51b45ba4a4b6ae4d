"""`/healthz`: the process answers. `/readyz`: the database and Redis answer and the
scheduler has ticked recently; a 503 names what is missing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.web.deps import Ctx
from services.web.scheduler_status import scheduler_status

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(ctx: Ctx) -> JSONResponse:
    checks: dict[str, Any] = {}
    missing: list[str] = []
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready"; say which
        checks["database"] = f"unreachable: {type(exc).__name__}"
        missing.append("database")
    try:
        ctx.redis.ping()
        checks["redis"] = "ok"
        s = scheduler_status(
            ctx.redis,
            now=ctx.clock.now(),
            stale_after_s=ctx.web.scheduler_stale_s,
        )
        checks["scheduler"] = {
            "last_tick": s.last_tick.isoformat() if s.last_tick else None,
            "tick_age_s": s.tick_age_s,
            "lease_held": s.lease_held,
        }
        if not s.ticking:
            missing.append("scheduler")
    except Exception as exc:
        checks["redis"] = f"unreachable: {type(exc).__name__}"
        missing.extend(["redis", "scheduler"])
    body = {"status": "ready" if not missing else "not ready", "missing": missing, **checks}
    return JSONResponse(body, status_code=200 if not missing else 503)
