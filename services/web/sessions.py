"""Dashboard sessions: opened by logging in with an ops or admin token, kept server-side.

The browser holds only a random session id (256 bits, in an HttpOnly, SameSite=Strict
cookie); the database holds its SHA-256, the token it was opened with, when it expires and
whether it was revoked. So the token itself never sits in a browser, logout ends the
session for every copy of the cookie, and revoking or expiring the token ends its sessions.

Each session also has a CSRF token: the dashboard's forms and script send it back, and a
request the session authenticates that changes something must carry it (deps.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, or_, select, update

from services.web.tokens import Principal, hash_token, live_token
from shared.db import transaction
from shared.models import ApiToken, WebSession

SESSION_COOKIE = "liaison_session"
SESSION_TTL = timedelta(hours=12)  #: a working day; log in again after
SESSION_BYTES = 32  #: 256 bits: a hash without salt is enough at that entropy
CSRF_BYTES = 32


def open_session(engine: Engine, principal: Principal, *, now: datetime) -> str:
    """A new session for the token `principal` came with; the id for the cookie. Sessions
    that have ended (expired or revoked) are deleted on the way: they open nothing."""
    session_id = secrets.token_urlsafe(SESSION_BYTES)
    with transaction(engine) as session:
        session.execute(
            delete(WebSession).where(
                or_(WebSession.expires_at <= now, WebSession.revoked_at.is_not(None))
            )
        )
        session.add(
            WebSession(
                session_hash=hash_token(session_id),
                token_id=principal.token_id,
                csrf_token=secrets.token_urlsafe(CSRF_BYTES),
                created_at=now,
                expires_at=now + SESSION_TTL,
            )
        )
    return session_id


def session_principal(engine: Engine, session_id: str, *, now: datetime) -> Principal | None:
    """Who a session cookie stands for: None once the session is revoked or expired, or its
    token is revoked or expired."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                ApiToken.id,
                ApiToken.role,
                ApiToken.org,
                ApiToken.liaison_id,
                WebSession.csrf_token,
            )
            .join(ApiToken, ApiToken.id == WebSession.token_id)
            .where(
                WebSession.session_hash == hash_token(session_id),
                WebSession.revoked_at.is_(None),
                WebSession.expires_at > now,
                live_token(now),
            )
        ).first()
    if row is None:
        return None
    return Principal(row.id, row.role, row.org, row.liaison_id, csrf=row.csrf_token)


def revoke_session(engine: Engine, session_id: str, *, now: datetime) -> None:
    """End the session (logout); its cookie, wherever a copy of it is, opens nothing."""
    with transaction(engine) as session:
        session.execute(
            update(WebSession)
            .where(
                WebSession.session_hash == hash_token(session_id),
                WebSession.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
