"""Login throttling per user name and client address; one subject per hospital record number
at a site (issue 17, items 6 and "enrolled twice").

The per-user counter (``users.failed_logins``, ``users.locked_until``) is replaced: it raced
under concurrent logins and let anyone lock any account.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_attempts")),
    )
    op.drop_column("users", "failed_logins")  # SQLite 3.35+ drops a column in place
    op.drop_column("users", "locked_until")
    op.create_index(
        "ix_identity_links_site_record",
        "identity_links",
        ["site_id", "hospital_record_number"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_identity_links_site_record", table_name="identity_links")
    op.add_column(
        "users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_table("login_attempts")
