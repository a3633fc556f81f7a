"""Deleted means deleted: the storage cleanup outbox.

``storage_cleanups`` holds, per deleted storyboard, the S3 prefix and the keys still to delete;
the storyboard delete inserts its row in the same statement, the cleanup consumer removes it
once the objects are gone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storage_cleanups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("storyboard_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column(
            "keys",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("resends", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_cleanups")),
    )
    op.create_index("ix_storage_cleanups_updated_at", "storage_cleanups", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_storage_cleanups_updated_at", table_name="storage_cleanups")
    op.drop_table("storage_cleanups")
