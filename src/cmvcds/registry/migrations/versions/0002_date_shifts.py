"""Date shifting of the central profile: one secret offset per mother (and her newborns).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "date_shifts",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_date_shifts_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_date_shifts_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_shifts")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_date_shifts_subject_id")),
    )
    with op.batch_alter_table("date_shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_date_shifts_site_id"), ["site_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("date_shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_date_shifts_site_id"))
    op.drop_table("date_shifts")
