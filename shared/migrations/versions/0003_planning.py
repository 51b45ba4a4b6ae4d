"""planning marks, and the messaging policy rows of the rules table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A snapshot of services/scheduler/planning/message_policy.py MESSAGE_RULES at this revision: a
# migration must seed what it seeded the day it was written, whatever the code says later
# (a unit test checks that the two agree today).
MESSAGE_RULES: list[dict[str, Any]] = [
    {
        "name": "liaison_digest",
        "strategy": "message",
        "enabled": True,
        "priority": 1000,
        "params": {
            "weekdays": ["mon"],
            "first_working_day": True,
            "local_time": "09:00",
            "skip_holidays": True,
        },
        "description": "each liaison's open tasks, first working day of the month and Mondays",
        "seed": "004",
    },
    {
        "name": "event_reminder",
        "strategy": "message",
        "enabled": True,
        "priority": 1010,
        "params": {"lead_days": 3, "same_day": True, "local_time": "08:00"},
        "description": "organization-life reminders: lead_days before and the morning of",
        "seed": "001/003/004",
    },
    {
        "name": "political_birthday_greeting",
        "strategy": "message",
        "enabled": True,
        "priority": 1020,
        "params": {"local_time": "09:00"},
        "description": "a greeting on the anniversary of joining the Party",
        "seed": "003",
    },
    {
        "name": "branch_escalation",
        "strategy": "message",
        "enabled": True,
        "priority": 1030,
        "params": {
            "weekdays": ["mon"],
            "first_working_day": False,
            "local_time": "09:00",
            "skip_holidays": True,
            "overdue_days": 14,
        },
        "description": "weekly findings to the branch secretary",
        "seed": "003",
    },
    {
        "name": "quiet_hours",
        "strategy": "message",
        "enabled": True,
        "priority": 1040,
        "params": {"start": "21:00", "end": "08:00"},
        "description": "no message is planned between start and end, local time",
        "seed": "",
    },
]


def upgrade() -> None:
    op.create_table(
        "planning_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("occasion", sa.String(length=200), nullable=False),
        sa.Column("planned_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_marks")),
        sa.UniqueConstraint("kind", "scope", "occasion", name=op.f("uq_planning_marks_kind")),
    )
    with op.batch_alter_table("planning_marks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_planning_marks_planned_at"), ["planned_at"], unique=False
        )
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
    op.bulk_insert(rules, MESSAGE_RULES)


def downgrade() -> None:
    names = [r["name"] for r in MESSAGE_RULES]
    rules = sa.table("rules", sa.column("name", sa.String))
    op.execute(rules.delete().where(rules.c.name.in_(names)))
    op.drop_table("planning_marks")
