"""Music references: a storyboard's audio files for a film's music bed.

``reference_images`` takes ``kind`` music: an audio file checked by decoding it at complete,
its decoded length in ``duration_seconds`` (ready music always has one, other kinds never), no
width, height or thumbnail.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MUSIC_DURATION = (
    "CASE WHEN kind = 'music' THEN status = 'pending' OR duration_seconds > 0 "
    "ELSE duration_seconds IS NULL END"
)


def upgrade() -> None:
    op.add_column("reference_images", sa.Column("duration_seconds", sa.Double(), nullable=True))
    op.drop_constraint(op.f("ck_reference_images_kind"), "reference_images", type_="check")
    op.create_check_constraint(
        op.f("ck_reference_images_kind"),
        "reference_images",
        "kind IN ('character', 'object', 'style', 'frame', 'music')",
    )
    op.create_check_constraint(op.f("ck_reference_images_music_duration"), "reference_images", MUSIC_DURATION)


def downgrade() -> None:
    op.execute("DELETE FROM reference_images WHERE kind = 'music'")
    op.drop_constraint(op.f("ck_reference_images_music_duration"), "reference_images", type_="check")
    op.drop_constraint(op.f("ck_reference_images_kind"), "reference_images", type_="check")
    op.create_check_constraint(
        op.f("ck_reference_images_kind"),
        "reference_images",
        "kind IN ('character', 'object', 'style', 'frame')",
    )
    op.drop_column("reference_images", "duration_seconds")
