"""Interactions are keyed by (member, day, kind, place); members' ID numbers indexed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:00:00

Before, a second visit on the same day at another place replaced the first (the key was
member, day and kind). The place joins the key, so both are kept. SQL's NULLs never
conflict, so a fact without a place would be added again on every re-import instead of
updated: `place` becomes NOT NULL with '' meaning "no place" (the models read '' back as
None). The index on `members.id_number` lets an import ask who holds an ID number.

Downgrading refuses while a member has two interactions of one kind on one day (at two
places): the old key cannot hold both, and dropping one would lose a recorded fact.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNIQUE = "uq_interactions_member_id"  #: the naming convention's name, old key and new


def upgrade() -> None:
    op.execute("UPDATE interactions SET place = '' WHERE place IS NULL")
    with op.batch_alter_table("interactions") as batch:
        batch.drop_constraint(UNIQUE, type_="unique")
        batch.alter_column("place", existing_type=sa.String(16), nullable=False, server_default="")
        batch.create_unique_constraint(UNIQUE, ["member_id", "on_date", "kind", "place"])
    with op.batch_alter_table("members") as batch:
        batch.create_index("ix_members_id_number", ["id_number"], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    doubled = bind.execute(
        sa.text(
            "SELECT member_id, on_date, kind FROM interactions "
            "GROUP BY member_id, on_date, kind HAVING COUNT(*) > 1"
        )
    ).first()
    if doubled is not None:
        raise RuntimeError(
            "cannot downgrade below 0009: member "
            f"{doubled.member_id} has two {doubled.kind} interactions on {doubled.on_date} "
            "(at two places), which the old key (member, day, kind) cannot hold"
        )
    with op.batch_alter_table("members") as batch:
        batch.drop_index("ix_members_id_number")
    with op.batch_alter_table("interactions") as batch:
        batch.drop_constraint(UNIQUE, type_="unique")
        batch.alter_column("place", existing_type=sa.String(16), nullable=True, server_default=None)
        batch.create_unique_constraint(UNIQUE, ["member_id", "on_date", "kind"])
    op.execute("UPDATE interactions SET place = NULL WHERE place = ''")
