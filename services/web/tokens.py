"""API tokens: made, looked up and revoked. Only a token's SHA-256 is ever stored.

A token may be made to expire (`expires_at`); from that instant it is refused like a
revoked one, and so is every dashboard session opened with it (sessions.py)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Engine, and_, or_, select, update

from shared.db import transaction
from shared.errors import LiaisonError, NotFound
from shared.models import ApiToken, Liaison, Organization
from shared.models.auth import ROLES

TOKEN_PREFIX = "lia_"  # noqa: S105 - a marker, not a secret. #: marks a liaison token in logs and secret scanners
TOKEN_BYTES = 32  #: 256 bits of randomness: a hash without salt is enough at that entropy


class TokenError(LiaisonError):
    """Raised when a token is asked for with a role and scope that do not fit together."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's role and the part of the ledger it may see."""

    token_id: int
    role: str
    org: str | None = None
    liaison_id: str | None = None
    #: set when the caller came through a dashboard session: the token its forms and
    #: script must send back (CSRF); None for a bearer token, which a browser never sends
    csrf: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str  #: shown once; never stored


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    engine: Engine,
    role: str,
    *,
    now: datetime,
    org: str | None = None,
    liaison_id: str | None = None,
    label: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Make a token for `role`; an org manager needs `org`, a liaison `liaison_id`; it is
    refused from `expires_at` on (None: until revoked)."""
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role == "org_manager" and not org:
        raise TokenError("an org_manager token needs --org")
    if role == "liaison" and not liaison_id:
        raise TokenError("a liaison token needs --liaison")
    if role not in ("org_manager",) and org:
        raise TokenError(f"a {role} token takes no --org")
    if role != "liaison" and liaison_id:
        raise TokenError(f"a {role} token takes no --liaison")
    if expires_at is not None and expires_at <= now:
        raise TokenError("a token must expire after it is made")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with transaction(engine) as session:
        if org and session.get(Organization, org) is None:
            raise NotFound(f"no organization with code {org!r}")
        if liaison_id and session.get(Liaison, liaison_id) is None:
            raise NotFound(f"no liaison with id {liaison_id!r}")
        row = ApiToken(
            token_hash=hash_token(token),
            role=role,
            org=org,
            liaison_id=liaison_id,
            label=label,
            created_at=now,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        return IssuedToken(row.id, token)


def revoke_token(engine: Engine, token_id: int, *, now: datetime) -> bool:
    """Revoke a token by id; False if there is no such live token."""
    with transaction(engine) as session:
        result = session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def live_token(now: datetime) -> ColumnElement[bool]:
    """The condition on `api_tokens` of a token that may be used at `now`."""
    return and_(
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
    )


def authenticate(engine: Engine, token: str, *, now: datetime | None = None) -> Principal | None:
    """The principal a presented token stands for at `now` (default: the system clock), or
    None for an unknown, revoked or expired one."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    when = now or datetime.now(UTC)
    with engine.connect() as conn:
        row = conn.execute(
            select(ApiToken.id, ApiToken.role, ApiToken.org, ApiToken.liaison_id).where(
                ApiToken.token_hash == hash_token(token), live_token(when)
            )
        ).first()
    if row is None:
        return None
    return Principal(row.id, row.role, row.org, row.liaison_id)
