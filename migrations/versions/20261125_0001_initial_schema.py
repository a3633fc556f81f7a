"""Initial schema: storyboards, video_jobs, user_api_keys, compiled_videos, user_quotas.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 18:39:49.741220
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Trigram index on storyboards.name (case-insensitive substring search).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "storyboards",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("preset_key", sa.String(length=64), nullable=False),
        sa.Column(
            "character",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "scenes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_storyboards_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storyboards")),
    )
    op.create_index(
        "ix_storyboards_name_trgm",
        "storyboards",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_storyboards_user_updated",
        "storyboards",
        ["user_id", sa.literal_column("updated_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "user_api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("encrypted_key", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("provider IN ('sora', 'veo')", name=op.f("ck_user_api_keys_provider")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_api_keys")),
        sa.UniqueConstraint("user_id", "provider", name=op.f("uq_user_api_keys_user_id_provider")),
    )
    op.create_table(
        "user_quotas",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_quotas")),
    )
    op.create_table(
        "compiled_videos",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("storyboard_id", sa.Uuid(), nullable=False),
        sa.Column("scenes_order", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("final_video_url", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("file_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed')",
            name=op.f("ck_compiled_videos_status"),
        ),
        sa.ForeignKeyConstraint(
            ["storyboard_id"],
            ["storyboards.id"],
            name=op.f("fk_compiled_videos_storyboard_id_storyboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compiled_videos")),
    )
    op.create_index("ix_compiled_videos_storyboard_id", "compiled_videos", ["storyboard_id"], unique=False)
    op.create_table(
        "video_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("storyboard_id", sa.Uuid(), nullable=False),
        sa.Column("scene_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("provider_job_id", sa.String(length=256), nullable=True),
        sa.Column("video_url", sa.Text(), nullable=True),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("progress", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("size", sa.String(length=16), nullable=True),
        sa.Column("estimated_cost", sa.Numeric(precision=10, scale=4), nullable=True),
        sa.Column("cost", sa.Numeric(precision=10, scale=4), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint("provider IN ('sora', 'veo')", name=op.f("ck_video_jobs_provider")),
        sa.CheckConstraint(
            "status IN ('pending', 'submitting', 'processing', 'completed', 'failed')",
            name=op.f("ck_video_jobs_status"),
        ),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name=op.f("ck_video_jobs_progress_range")),
        sa.ForeignKeyConstraint(
            ["storyboard_id"],
            ["storyboards.id"],
            name=op.f("fk_video_jobs_storyboard_id_storyboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_jobs")),
        sa.UniqueConstraint("user_id", "idempotency_key", name=op.f("uq_video_jobs_user_id_idempotency_key")),
    )
    op.create_index("ix_video_jobs_created_at", "video_jobs", ["created_at"], unique=False)
    op.create_index("ix_video_jobs_status", "video_jobs", ["status"], unique=False)
    op.create_index("ix_video_jobs_storyboard_id", "video_jobs", ["storyboard_id"], unique=False)
    op.create_index("ix_video_jobs_user_id_created_at", "video_jobs", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    # pg_trgm stays installed: other schemas in the database may use it.
    op.drop_index("ix_video_jobs_user_id_created_at", table_name="video_jobs")
    op.drop_index("ix_video_jobs_storyboard_id", table_name="video_jobs")
    op.drop_index("ix_video_jobs_status", table_name="video_jobs")
    op.drop_index("ix_video_jobs_created_at", table_name="video_jobs")
    op.drop_table("video_jobs")
    op.drop_index("ix_compiled_videos_storyboard_id", table_name="compiled_videos")
    op.drop_table("compiled_videos")
    op.drop_table("user_quotas")
    op.drop_table("user_api_keys")
    op.drop_index("ix_storyboards_user_updated", table_name="storyboards")
    op.drop_index(
        "ix_storyboards_name_trgm",
        table_name="storyboards",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.drop_table("storyboards")
