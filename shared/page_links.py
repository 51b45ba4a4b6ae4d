"""The liaison's page link: `/p/<id>-<mac>`, short enough for an SMS, no password.

The id is a `liaison_links` row; the MAC is an HMAC-SHA256 of the row's id, liaison and
issue instant under LIAISON_PAGE_SECRET, cut to 80 bits and written in lowercase base32
(letters and the digits 2–7: no run of digits that the masking of phone and ID numbers in
outgoing messages could mistake for one). Nothing secret is stored: a stolen database
cannot mint links, and a link cannot be guessed from its id. The row gives the expiry
(LIAISON_PAGE_LINK_DAYS, default 30) and the revocation; a link opens one liaison's page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.orm import Session

from shared.errors import ConfigurationError, NotFound
from shared.masking import mask_text
from shared.models import Liaison, LiaisonLink, PageRecord

DEFAULT_LINK_DAYS = 30
MIN_SECRET_CHARS = 16  #: a shorter LIAISON_PAGE_SECRET is refused, not used
MAC_CHARS = 16  #: base32 characters of the MAC: 80 bits
DEFAULT_PHOTO_MAX_BYTES = 8 * 1024 * 1024  #: bytes: a phone camera's JPEG is 2–6 MB
#: bytes: the most LIAISON_PHOTO_MAX_BYTES may say; the page's form body is refused
#: above 16 MiB whatever the setting (services/web/liaison_page.py)
PHOTO_MAX_BYTES_CEILING = 15 * 1024 * 1024
PATH_PREFIX = "/p/"
_TOKEN = re.compile(rf"(?P<id>[1-9][0-9]{{0,17}})-(?P<mac>[a-z2-7]{{{MAC_CHARS}}})")


@dataclass(frozen=True)
class PageSettings:
    """What the page and its links need, read from the environment when asked for."""

    secret: str = field(default="", repr=False)  #: LIAISON_PAGE_SECRET
    link_days: int = DEFAULT_LINK_DAYS  #: LIAISON_PAGE_LINK_DAYS
    public_url: str = ""  #: LIAISON_PUBLIC_URL: where the digest's link points
    photos_dir: Path = Path("var/photos")  #: LIAISON_PHOTOS_DIR (default: LIAISON_HOME/photos)
    photo_max_bytes: int = DEFAULT_PHOTO_MAX_BYTES  #: LIAISON_PHOTO_MAX_BYTES

    @property
    def enabled(self) -> bool:
        return bool(self.secret)

    def require_secret(self) -> str:
        if not self.secret:
            raise ConfigurationError("LIAISON_PAGE_SECRET is not set: page links cannot be made")
        return self.secret


def load_page_settings(environ: dict[str, str] | None = None) -> PageSettings:
    env = dict(os.environ if environ is None else environ)
    secret = env.get("LIAISON_PAGE_SECRET", "")
    if secret and len(secret) < MIN_SECRET_CHARS:
        raise ConfigurationError(
            f"LIAISON_PAGE_SECRET must be at least {MIN_SECRET_CHARS} characters"
        )
    photo_max_bytes = _positive(env, "LIAISON_PHOTO_MAX_BYTES", DEFAULT_PHOTO_MAX_BYTES)
    if photo_max_bytes > PHOTO_MAX_BYTES_CEILING:
        raise ConfigurationError(
            f"LIAISON_PHOTO_MAX_BYTES may be at most {PHOTO_MAX_BYTES_CEILING} bytes"
        )
    home = Path(env.get("LIAISON_HOME", "var"))
    return PageSettings(
        secret=secret,
        link_days=_positive(env, "LIAISON_PAGE_LINK_DAYS", DEFAULT_LINK_DAYS),
        public_url=env.get("LIAISON_PUBLIC_URL", "").rstrip("/"),
        photos_dir=Path(env.get("LIAISON_PHOTOS_DIR") or home / "photos"),
        photo_max_bytes=photo_max_bytes,
    )


def _positive(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


class LinkState(StrEnum):
    OPEN = "open"
    FORGED = "forged"  #: malformed, unknown id or a MAC that does not match
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    link_id: int | None = None
    liaison_id: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class IssuedLink:
    link_id: int
    liaison_id: str
    token: str  #: `<id>-<mac>`
    expires_at: datetime

    @property
    def path(self) -> str:
        return PATH_PREFIX + self.token


def mac_of(secret: str, link_id: int, liaison_id: str, issued_at: datetime) -> str:
    message = f"liaison-page:{link_id}:{liaison_id}:{issued_at.timestamp():.6f}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:MAC_CHARS]


def issue_link(
    conn: Connection | Session,
    settings: PageSettings,
    liaison_id: str,
    *,
    now: datetime,
    issued_by: str,
    days: int | None = None,
) -> IssuedLink:
    """A new link for `liaison_id`, valid `days` (default LIAISON_PAGE_LINK_DAYS) from `now`."""
    secret = settings.require_secret()
    if conn.execute(select(Liaison.liaison_id).where(Liaison.liaison_id == liaison_id)).first():
        expires_at = now + timedelta(days=days or settings.link_days)
        # Instants are stored to the microsecond on both databases; the MAC signs that one.
        row = {
            "liaison_id": liaison_id,
            "issued_at": now,
            "expires_at": expires_at,
            "issued_by": issued_by,
        }
        link_id = conn.execute(
            insert(LiaisonLink).values(row).returning(LiaisonLink.id)
        ).scalar_one()
        token = f"{link_id}-{mac_of(secret, link_id, liaison_id, now)}"
        return IssuedLink(link_id, liaison_id, token, expires_at)
    raise NotFound(f"no liaison with id {liaison_id!r}")


def link_for_digest(
    conn: Connection | Session, settings: PageSettings, liaison_id: str, *, now: datetime
) -> str | None:
    """The page's full URL for a digest sent `now`, or None when links are not configured.

    A live link issued for a digest that still has at least half its life is used again,
    so a digest retried or refreshed twice does not mint a link each time."""
    if not settings.enabled or not settings.public_url:
        return None
    half_life = timedelta(days=settings.link_days) / 2
    found = conn.execute(
        select(LiaisonLink.id, LiaisonLink.issued_at)
        .where(
            LiaisonLink.liaison_id == liaison_id,
            LiaisonLink.issued_by == "digest",
            LiaisonLink.revoked_at.is_(None),
            LiaisonLink.expires_at > now + half_life,
        )
        .order_by(LiaisonLink.id.desc())
        .limit(1)
    ).first()
    if found is not None:
        token = f"{found.id}-{mac_of(settings.secret, found.id, liaison_id, found.issued_at)}"
    else:
        token = issue_link(conn, settings, liaison_id, now=now, issued_by="digest").token
    return settings.public_url + PATH_PREFIX + token


def check_link(
    conn: Connection | Session, settings: PageSettings, token: str, *, now: datetime
) -> LinkCheck:
    """What `token` (the part after /p/) opens on `now`."""
    matched = _TOKEN.fullmatch(token)
    if matched is None or not settings.enabled:
        return LinkCheck(LinkState.FORGED)
    link_id = int(matched["id"])
    row = conn.execute(
        select(
            LiaisonLink.id,
            LiaisonLink.liaison_id,
            LiaisonLink.issued_at,
            LiaisonLink.expires_at,
            LiaisonLink.revoked_at,
        ).where(LiaisonLink.id == link_id)
    ).first()
    if row is None:
        return LinkCheck(LinkState.FORGED)
    expected = mac_of(settings.secret, row.id, row.liaison_id, row.issued_at)
    if not hmac.compare_digest(expected, matched["mac"]):
        return LinkCheck(LinkState.FORGED)
    if row.revoked_at is not None:
        return LinkCheck(LinkState.REVOKED, row.id, row.liaison_id, row.expires_at)
    if row.expires_at <= now:
        return LinkCheck(LinkState.EXPIRED, row.id, row.liaison_id, row.expires_at)
    return LinkCheck(LinkState.OPEN, row.id, row.liaison_id, row.expires_at)


def revoke_links(
    conn: Connection | Session,
    *,
    now: datetime,
    link_id: int | None = None,
    liaison_id: str | None = None,
) -> int:
    """Revoke one link, or every live link of a liaison; returns how many were revoked."""
    if (link_id is None) == (liaison_id is None):
        raise ValueError("name either a link or a liaison")
    stmt = update(LiaisonLink).where(LiaisonLink.revoked_at.is_(None)).values(revoked_at=now)
    if link_id is not None:
        stmt = stmt.where(LiaisonLink.id == link_id)
    else:
        stmt = stmt.where(LiaisonLink.liaison_id == liaison_id)
    return int(conn.execute(stmt).rowcount)  # type: ignore[attr-defined]


def page_history(engine: Engine, member_id: str, as_of: date) -> list[str]:
    """The member's records made on the page up to `as_of`, oldest first, one line each:
    what, for which task, by whom, when, through which link (the audit)."""
    with Session(engine) as session:
        rows = session.execute(
            select(PageRecord, Liaison.name)
            .join(Liaison, Liaison.liaison_id == PageRecord.liaison_id)
            .where(PageRecord.member_id == member_id, PageRecord.on_date <= as_of)
            .order_by(PageRecord.recorded_at, PageRecord.id)
        ).all()
    lines = []
    for record, liaison_name in rows:
        line = (
            f"{record.on_date.isoformat()} {record.action}"
            + (f" ({record.campaign_id})" if record.campaign_id else "")
            + f" for {record.rule}, by {record.liaison_id} ({liaison_name}) through link "
            f"{record.link_id} at {record.recorded_at:%Y-%m-%d %H:%M} UTC"
        )
        if record.note:
            line += f"; note: {mask_text(record.note)}"
        if record.photo:
            line += f"; photo {record.photo}"
        lines.append(line)
    return lines
