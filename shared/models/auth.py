"""API tokens: who may call the web API, in which role, over which part of the ledger.

Only the SHA-256 of a token is stored; the token itself is shown once, when it is made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime

#: admin: everything; org_manager: its organization's subtree; liaison: its own members;
#: ops: queues, the delivery log and the dashboard, personal data masked
ROLES = ("admin", "org_manager", "liaison", "ops")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64))  #: hex SHA-256 of the token
    role: Mapped[str] = mapped_column(String(16))
    org: Mapped[str | None] = mapped_column(String(64))  #: for org_manager
    liaison_id: Mapped[str | None] = mapped_column(String(64))  #: for liaison
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: refused from this instant on; None: until revoked (`token create --expires-days`)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
