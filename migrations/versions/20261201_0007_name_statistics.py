"""Search plans that do not flip: storyboards.name sampled ten times more by ANALYZE.

PostgreSQL estimates how many names match ``ILIKE '%term%'`` by trying the pattern on the
column's sampled histogram. At the default statistics target (100 entries) a term in one
name of a thousand is found in none or in one of them: estimated at 0 or at 1% of the
caller's rows, so some ANALYZE runs make the planner walk the caller's whole newest-first
index for a rare term (2,875 buffers, about 30 ms at 100k rows, in 5 of 30 runs) instead of
the trigram index (139 buffers). At 1,000 entries none of 30 runs flipped (bench figure 3).
ANALYZE of ``storyboards`` reads more rows in exchange (300,000 sampled instead of 30,000).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_STATISTICS = 1000


def upgrade() -> None:
    op.execute(f"ALTER TABLE storyboards ALTER COLUMN name SET STATISTICS {NAME_STATISTICS}")


def downgrade() -> None:
    op.execute("ALTER TABLE storyboards ALTER COLUMN name SET STATISTICS -1")
