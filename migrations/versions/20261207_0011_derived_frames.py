"""Derived frames: a reference image the app made itself, the last frame of a clip.

``reference_images.source_job_id`` names the job whose clip's last decoded frame the row holds
(a scene continuing from the previous shot starts from it); NULL for the user's uploads. The
row goes with its job (cascade). Derived rows count against no upload limit and are not
listed with the user's references.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reference_images", sa.Column("source_job_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_reference_images_source_job_id_video_jobs"),
        "reference_images",
        "video_jobs",
        ["source_job_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        "ix_reference_images_source_job",
        "reference_images",
        ["source_job_id"],
        postgresql_where=sa.text("source_job_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_reference_images_source_job", table_name="reference_images")
    op.drop_constraint(
        op.f("fk_reference_images_source_job_id_video_jobs"), "reference_images", type_="foreignkey"
    )
    op.drop_column("reference_images", "source_job_id")
