"""Film pipeline: compiled_videos gets its step, chosen clips, target, clip counts, claim,
idempotency key and updated_at; durations become fractional seconds.

Expand only: every new column has a default or is nullable, so code that does not know them
keeps working (no code wrote compiled_videos before this revision).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "compiled_videos"
_ACTIVE = "status IN ('pending', 'processing')"


def upgrade() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    int_array = postgresql.ARRAY(sa.Integer())
    op.add_column(_TABLE, sa.Column("step", sa.String(16), server_default=sa.text("'plan'"), nullable=False))
    op.add_column(_TABLE, sa.Column("clips", jsonb, server_default=sa.text("'[]'::jsonb"), nullable=False))
    op.add_column(_TABLE, sa.Column("target", jsonb, nullable=True))
    op.add_column(
        _TABLE, sa.Column("normalize_clips", int_array, server_default=sa.text("'{}'"), nullable=False)
    )
    op.add_column(
        _TABLE, sa.Column("normalized_clips", int_array, server_default=sa.text("'{}'"), nullable=False)
    )
    op.add_column(_TABLE, sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column(_TABLE, sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(_TABLE, sa.Column("idempotency_key", sa.String(255), nullable=True))
    op.add_column(
        _TABLE,
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.alter_column(
        _TABLE, "duration_seconds", type_=sa.Double(), existing_type=sa.Integer(), existing_nullable=True
    )
    op.create_check_constraint(
        op.f("ck_compiled_videos_step"), _TABLE, "step IN ('plan', 'normalize', 'assemble')"
    )
    op.create_check_constraint(
        op.f("ck_compiled_videos_normalized_subset"), _TABLE, "normalized_clips <@ normalize_clips"
    )
    op.create_unique_constraint(
        op.f("uq_compiled_videos_user_id_idempotency_key"), _TABLE, ["user_id", "idempotency_key"]
    )
    op.create_index(
        "ix_compiled_videos_active_updated_at", _TABLE, ["updated_at"], postgresql_where=sa.text(_ACTIVE)
    )


def downgrade() -> None:
    op.drop_index("ix_compiled_videos_active_updated_at", table_name=_TABLE)
    op.drop_constraint(op.f("uq_compiled_videos_user_id_idempotency_key"), _TABLE, type_="unique")
    op.drop_constraint(op.f("ck_compiled_videos_normalized_subset"), _TABLE, type_="check")
    op.drop_constraint(op.f("ck_compiled_videos_step"), _TABLE, type_="check")
    op.alter_column(
        _TABLE,
        "duration_seconds",
        type_=sa.Integer(),
        existing_type=sa.Double(),
        existing_nullable=True,
        postgresql_using="round(duration_seconds)::integer",
    )
    for column in (
        "updated_at",
        "idempotency_key",
        "claimed_at",
        "attempts",
        "normalized_clips",
        "normalize_clips",
        "target",
        "clips",
        "step",
    ):
        op.drop_column(_TABLE, column)
