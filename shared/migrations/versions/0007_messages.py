"""event_reminder.reach: an event reminds its organization's subtree, or only its own members

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 15:00:00

Adds the parameter to the `event_reminder` message rule seeded by 0003, with its default
`subtree`, so that `liaison policy set --org X event_reminder.reach='"holding_branch"'`
is accepted (an override must name a parameter the rule row has).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RULE = "event_reminder"
PARAM = "reach"
DEFAULT = "subtree"

_rules = sa.table("rules", sa.column("name", sa.String), sa.column("params", sa.JSON))


def _set_params(change: dict[str, object] | None, drop: str | None = None) -> None:
    bind = op.get_bind()
    found = bind.execute(sa.select(_rules.c.params).where(_rules.c.name == RULE)).first()
    if found is None:
        return
    params = dict(found.params or {})
    if change:
        for key, value in change.items():
            params.setdefault(key, value)
    if drop:
        params.pop(drop, None)
    bind.execute(_rules.update().where(_rules.c.name == RULE).values(params=params))


def upgrade() -> None:
    _set_params({PARAM: DEFAULT})


def downgrade() -> None:
    _set_params(None, drop=PARAM)
