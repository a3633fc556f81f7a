"""Reference images: a storyboard's pictures of its character, objects, style and frames.

``reference_images`` holds one row per image: declared at ``POST .../references`` (status
``pending``, the browser uploads straight to S3), ``ready`` once ``.../complete`` has checked and
re-encoded it (dimensions, content hash, stored size). Rows go with their storyboard (cascade);
pending rows older than a day are swept with their objects.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reference_images",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("storyboard_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("declared_bytes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("stored_bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('character', 'object', 'style', 'frame')", name=op.f("ck_reference_images_kind")
        ),
        sa.CheckConstraint("status IN ('pending', 'ready')", name=op.f("ck_reference_images_status")),
        sa.ForeignKeyConstraint(
            ["storyboard_id"],
            ["storyboards.id"],
            name=op.f("fk_reference_images_storyboard_id_storyboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_images")),
    )
    op.create_index(
        "ix_reference_images_storyboard_created", "reference_images", ["storyboard_id", "created_at"]
    )
    op.create_index("ix_reference_images_user", "reference_images", ["user_id"])
    op.create_index(
        "ix_reference_images_pending_created",
        "reference_images",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_reference_images_pending_created", table_name="reference_images")
    op.drop_index("ix_reference_images_user", table_name="reference_images")
    op.drop_index("ix_reference_images_storyboard_created", table_name="reference_images")
    op.drop_table("reference_images")
