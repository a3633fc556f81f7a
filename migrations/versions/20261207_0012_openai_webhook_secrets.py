"""OpenAI-compatible keys may have a registered webhook: when its signing secret was saved.

The secret itself is in Secrets Manager (``videogen.webhooks.endpoint_secrets``: the webhook
function has no database); the row only says that one is kept, so the worker expects the
endpoint's push and its first poll waits as for the providers that push per request. Only an
active openai key has one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WEBHOOK = "webhook_secret_at IS NULL OR (provider = 'openai' AND is_active)"


def upgrade() -> None:
    op.add_column("user_api_keys", sa.Column("webhook_secret_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(op.f("ck_user_api_keys_webhook_secret"), "user_api_keys", _WEBHOOK)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_user_api_keys_webhook_secret"), "user_api_keys", type_="check")
    op.drop_column("user_api_keys", "webhook_secret_at")
