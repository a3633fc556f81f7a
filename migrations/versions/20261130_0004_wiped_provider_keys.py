"""A removed provider key keeps no ciphertext: its sealed key and HMAC become NULL.

Keys removed before this revision kept both; they are wiped here. A CHECK keeps sealed material
on active rows only (and requires it there).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "ck_user_api_keys_sealed_only_while_active"


def upgrade() -> None:
    op.alter_column("user_api_keys", "encrypted_key", existing_type=sa.Text(), nullable=True)
    op.alter_column("user_api_keys", "key_hash", existing_type=sa.String(length=128), nullable=True)
    op.execute("UPDATE user_api_keys SET encrypted_key = NULL, key_hash = NULL WHERE NOT is_active")
    op.create_check_constraint(
        op.f(_CHECK),
        "user_api_keys",
        "is_active = (encrypted_key IS NOT NULL) AND is_active = (key_hash IS NOT NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f(_CHECK), "user_api_keys", type_="check")
    # The wiped material is gone for good: removed keys keep empty strings, which never decrypt.
    op.execute(
        "UPDATE user_api_keys SET encrypted_key = coalesce(encrypted_key, ''), key_hash = coalesce(key_hash, '')"
    )
    op.alter_column("user_api_keys", "key_hash", existing_type=sa.String(length=128), nullable=False)
    op.alter_column("user_api_keys", "encrypted_key", existing_type=sa.Text(), nullable=False)
