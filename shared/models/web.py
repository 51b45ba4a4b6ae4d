"""The web service's own state: dashboard sessions, and the inbound SMS already acted on.

A dashboard session is not an API token: the cookie carries a random session id of its
own (only its SHA-256 is stored), which expires and is revoked at logout, so a stolen
cookie dies with the session and the token it was opened with never sits in a browser.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_sessions"
    __table_args__ = (UniqueConstraint("session_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64))  #: hex SHA-256 of the cookie's id
    #: the token the session was opened with: its role and scope, and revoking it ends this
    token_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True
    )
    #: the synchronizer token the session's forms carry (CSRF); useless without the cookie
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundMessage(Base):
    """An inbound SMS acted on, by Twilio's MessageSid: a replayed or retried one is
    answered as before and acted on never again."""

    __tablename__ = "inbound_messages"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)  #: the text sent back (no personal data)
