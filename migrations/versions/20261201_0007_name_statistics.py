"""Search plans that do not flip: storyboards.name sampled three times more by ANALYZE.

PostgreSQL estimates how many names match ``ILIKE '%term%'`` by trying the pattern on the
column's sampled histogram. At the default statistics target (100 entries) a term in one
name of a thousand is found in none or in one of them, so some ANALYZE runs make the planner
walk a 100k-row caller's whole newest-first index for a rare term (2,875 buffers, about 30 ms)
instead of the trigram index (139 buffers): 5 of 30 runs in bench figure 3's data. At 200,
300 and 500 entries none of 30 runs flipped, for the rare term nor for a common one (which
rightly walks the newest-first index); at 1,000 the common term flipped to the trigram index
(4,407 buffers) in every run. ANALYZE of ``storyboards`` samples 90,000 rows instead of 30,000.

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

NAME_STATISTICS = 300


def upgrade() -> None:
    op.execute(f"ALTER TABLE storyboards ALTER COLUMN name SET STATISTICS {NAME_STATISTICS}")


def downgrade() -> None:
    op.execute("ALTER TABLE storyboards ALTER COLUMN name SET STATISTICS -1")
