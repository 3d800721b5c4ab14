"""Review status of the answer statements (issue 10, item 4); its history is the audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statement_reviews",
        sa.Column("statement_id", sa.String(length=120), nullable=False),
        sa.Column("knowledge_version", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reviewer", sa.String(length=80), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_reviews")),
        sa.UniqueConstraint("statement_id", name=op.f("uq_statement_reviews_statement_id")),
    )


def downgrade() -> None:
    op.drop_table("statement_reviews")
