"""Owner-scoped name search: trigram GIN index led by user_id.

The first index covered ``name`` alone, so a search read every user's matches before keeping
the caller's. btree_gin lets a GIN index lead with ``user_id``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    # The new index first: search is never without one.
    op.create_index(
        "ix_storyboards_user_name_trgm",
        "storyboards",
        ["user_id", "name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.drop_index("ix_storyboards_name_trgm", table_name="storyboards")


def downgrade() -> None:
    op.create_index(
        "ix_storyboards_name_trgm",
        "storyboards",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.drop_index("ix_storyboards_user_name_trgm", table_name="storyboards")
    # btree_gin stays installed: other schemas in the database may use it.
