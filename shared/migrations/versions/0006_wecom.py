"""WeCom user ids of members and liaisons; the sms_route policy row

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# A snapshot of services/notifier/sms_routes.py SMS_ROUTE_ROW at this revision: a migration
# seeds what it seeded the day it was written, whatever the code says later (a unit test
# checks that the two agree today).
SMS_ROUTE_ROW: dict[str, Any] = {
    "name": "sms_route",
    "strategy": "message",
    "enabled": True,
    "priority": 1050,
    "params": {"provider": "", "sign_name": "", "template_codes": {}},
    "description": "SMS provider, signature and approved template code per kind",
    "seed": "",
}


def upgrade() -> None:
    for table in ("members", "liaisons"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("wecom_userid", sa.String(length=64), nullable=True))
    rules = sa.table(
        "rules",
        sa.column("name", sa.String),
        sa.column("strategy", sa.String),
        sa.column("enabled", sa.Boolean),
        sa.column("params", sa.JSON),
        sa.column("priority", sa.Integer),
        sa.column("description", sa.String),
        sa.column("seed", sa.String),
    )
    op.bulk_insert(rules, [SMS_ROUTE_ROW])


def downgrade() -> None:
    rules = sa.table("rules", sa.column("name", sa.String))
    op.execute(rules.delete().where(rules.c.name == SMS_ROUTE_ROW["name"]))
    for table in ("liaisons", "members"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("wecom_userid")
