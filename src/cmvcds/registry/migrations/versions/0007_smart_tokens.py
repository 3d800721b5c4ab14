"""SMART launches keep their OpenID Connect nonce until the callback, and the access and refresh
tokens sealed with the browser's session cookie (issue 16 item 7: openid fhirUser, refresh).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("smart_launches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nonce", sa.String(64)))
        batch_op.add_column(sa.Column("tokens_sealed", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("smart_launches", schema=None) as batch_op:
        batch_op.drop_column("tokens_sealed")
        batch_op.drop_column("nonce")
