"""the liaison's page: its signed links, the audit of what was recorded through them, and
the page_photos policy row (whether a photo keeps its EXIF location; off by default)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# A snapshot of services/web/page_photos.py PAGE_PHOTOS_ROW at this revision: a migration
# seeds what it seeded the day it was written, whatever the code says later.
PAGE_PHOTOS_ROW: dict[str, Any] = {
    "name": "page_photos",
    "strategy": "message",
    "enabled": True,
    "priority": 1060,
    "params": {"keep_location": False},
    "description": "photos from the liaison's page keep their EXIF location",
    "seed": "",
}


def upgrade() -> None:
    op.create_table(
        "liaison_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("liaison_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("issued_by", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["liaison_id"],
            ["liaisons.liaison_id"],
            name=op.f("fk_liaison_links_liaison_id_liaisons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liaison_links")),
    )
    with op.batch_alter_table("liaison_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_liaison_links_liaison_id"), ["liaison_id"], unique=False
        )

    op.create_table(
        "page_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("liaison_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("photo", sa.String(length=200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"], ["liaison_links.id"], name=op.f("fk_page_records_link_id_liaison_links")
        ),
        sa.ForeignKeyConstraint(
            ["liaison_id"],
            ["liaisons.liaison_id"],
            name=op.f("fk_page_records_liaison_id_liaisons"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_page_records_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_records")),
    )
    with op.batch_alter_table("page_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_records_link_id"), ["link_id"], unique=False)
        batch_op.create_index(
            "ix_page_records_member_recorded", ["member_id", "recorded_at"], unique=False
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
    op.bulk_insert(rules, [PAGE_PHOTOS_ROW])


def downgrade() -> None:
    rules = sa.table("rules", sa.column("name", sa.String))
    op.execute(rules.delete().where(rules.c.name == PAGE_PHOTOS_ROW["name"]))
    with op.batch_alter_table("page_records", schema=None) as batch_op:
        batch_op.drop_index("ix_page_records_member_recorded")
        batch_op.drop_index(batch_op.f("ix_page_records_link_id"))
    op.drop_table("page_records")
    with op.batch_alter_table("liaison_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liaison_links_liaison_id"))
    op.drop_table("liaison_links")
