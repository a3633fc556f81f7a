"""Providers of late 2026: fal joins, "sora" becomes "openai" (any OpenAI-compatible endpoint), and a
key records which Google API it is for, its endpoint, and whether the provider accepted it.

- ``video_jobs.provider`` and ``user_api_keys.provider``: 'sora' rows become 'openai'; the CHECKs
  allow ('veo', 'fal', 'openai').
- Stored 'sora' keys are wiped (deactivated, their sealed key and HMAC set NULL): OpenAI's own
  endpoint shut down on 2026-09-24, they name no endpoint, and their sealed blob is bound to the
  old provider name, so none of them could be used again. Their owners store them again with a
  base URL; a job of theirs still in flight fails with "no active key".
- ``user_api_keys.api``: every stored 'veo' key was a Vertex AI express mode key (the only Google
  API the adapter spoke), so they become 'vertex'.
- ``base_url`` and ``verified_at`` are new and NULL (unverified) for existing keys.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "provider IN ('veo', 'fal', 'openai')"
_OLD = "provider IN ('sora', 'veo')"
_API = "(provider = 'veo') = (api IS NOT NULL) AND (api IS NULL OR api IN ('gemini', 'vertex'))"


def upgrade() -> None:
    op.add_column("user_api_keys", sa.Column("api", sa.String(length=16), nullable=True))
    op.add_column("user_api_keys", sa.Column("base_url", sa.Text(), nullable=True))
    op.add_column("user_api_keys", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    for table in ("user_api_keys", "video_jobs"):
        op.drop_constraint(op.f(f"ck_{table}_provider"), table, type_="check")
    op.execute(
        "UPDATE user_api_keys SET provider = 'openai', is_active = false, encrypted_key = NULL, "
        "key_hash = NULL WHERE provider = 'sora'"
    )
    op.execute("UPDATE user_api_keys SET api = 'vertex' WHERE provider = 'veo'")
    op.execute("UPDATE video_jobs SET provider = 'openai' WHERE provider = 'sora'")
    for table in ("user_api_keys", "video_jobs"):
        op.create_check_constraint(op.f(f"ck_{table}_provider"), table, _NEW)
    op.create_check_constraint(op.f("ck_user_api_keys_api"), "user_api_keys", _API)
    op.create_check_constraint(
        op.f("ck_user_api_keys_base_url"), "user_api_keys", "base_url IS NULL OR provider = 'openai'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_user_api_keys_base_url"), "user_api_keys", type_="check")
    op.drop_constraint(op.f("ck_user_api_keys_api"), "user_api_keys", type_="check")
    for table in ("user_api_keys", "video_jobs"):
        op.drop_constraint(op.f(f"ck_{table}_provider"), table, type_="check")
    # fal has no place in the old schema: its keys and jobs go (the jobs' clips stay in S3 until
    # the storage cleanup of their storyboard).
    op.execute("DELETE FROM user_api_keys WHERE provider = 'fal'")
    op.execute("DELETE FROM video_jobs WHERE provider = 'fal'")
    op.execute("UPDATE user_api_keys SET provider = 'sora' WHERE provider = 'openai'")
    op.execute("UPDATE video_jobs SET provider = 'sora' WHERE provider = 'openai'")
    for table in ("user_api_keys", "video_jobs"):
        op.create_check_constraint(op.f(f"ck_{table}_provider"), table, _OLD)
    op.drop_column("user_api_keys", "verified_at")
    op.drop_column("user_api_keys", "base_url")
    op.drop_column("user_api_keys", "api")
