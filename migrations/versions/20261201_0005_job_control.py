"""Job control: the cancelled status, clip fingerprints, the jobs-list index, batch answers.

- ``video_jobs.status`` may be ``cancelled``;
- ``video_jobs.fingerprint``: what produced the clip (videogen.generation.prompt.fingerprint),
  filled in here for existing jobs with the same digest computed in SQL;
- ``ix_video_jobs_user_created`` (user_id, created_at DESC, id DESC) serves the jobs list's
  keyset pages and replaces (user_id, created_at), which the quota check used: the new index
  leads with the same columns;
- ``generation_batches``: the answer of a whole-storyboard generate per Idempotency-Key, and the
  fingerprint of the request that made it (a retry asking for something else is a 409).

Downgrade turns cancelled jobs into failed ones ("cancelled by the user"), since the old
status constraint has no place for them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUSES = "status IN ('pending', 'submitting', 'processing', 'completed', 'failed')"
_NEW_STATUSES = "status IN ('pending', 'submitting', 'processing', 'completed', 'failed', 'cancelled')"
# videogen.generation.prompt.fingerprint, in SQL: sha256 of v1, model, size, seconds, prompt, one a line.
_BACKFILL = """
UPDATE video_jobs
SET fingerprint = encode(sha256(convert_to(
    'v1' || chr(10) || model || chr(10) || size || chr(10) || duration_seconds::text || chr(10) || prompt,
    'UTF8')), 'hex')
WHERE fingerprint IS NULL AND size IS NOT NULL AND duration_seconds IS NOT NULL
"""


def upgrade() -> None:
    op.drop_constraint(op.f("ck_video_jobs_status"), "video_jobs", type_="check")
    op.create_check_constraint(op.f("ck_video_jobs_status"), "video_jobs", _NEW_STATUSES)
    op.add_column("video_jobs", sa.Column("fingerprint", sa.String(length=64), nullable=True))
    op.execute(_BACKFILL)
    op.create_index(
        "ix_video_jobs_user_created",
        "video_jobs",
        ["user_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.drop_index("ix_video_jobs_user_id_created_at", table_name="video_jobs")
    op.create_table(
        "generation_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("storyboard_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["storyboard_id"],
            ["storyboards.id"],
            name=op.f("fk_generation_batches_storyboard_id_storyboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_batches")),
        sa.UniqueConstraint(
            "user_id", "idempotency_key", name=op.f("uq_generation_batches_user_id_idempotency_key")
        ),
    )
    op.create_index(
        "ix_generation_batches_storyboard_id", "generation_batches", ["storyboard_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_generation_batches_storyboard_id", table_name="generation_batches")
    op.drop_table("generation_batches")
    op.create_index("ix_video_jobs_user_id_created_at", "video_jobs", ["user_id", "created_at"], unique=False)
    op.drop_index("ix_video_jobs_user_created", table_name="video_jobs")
    op.drop_column("video_jobs", "fingerprint")
    op.execute(
        "UPDATE video_jobs SET status = 'failed', "
        "error_message = COALESCE(error_message, 'cancelled by the user') WHERE status = 'cancelled'"
    )
    op.drop_constraint(op.f("ck_video_jobs_status"), "video_jobs", type_="check")
    op.create_check_constraint(op.f("ck_video_jobs_status"), "video_jobs", _OLD_STATUSES)
