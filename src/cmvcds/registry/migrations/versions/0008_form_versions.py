"""The version of each CRF form instance: the optimistic-concurrency token of the form pages
(a stale save is refused, not stored over another user's change; ADR 0031-fix8b).

A database upgraded with recorded forms has no row for them: such a form is at version 0 and
its first save inserts version 1.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("event", sa.String(60), nullable=False),
        sa.Column("instrument", sa.String(60), nullable=False),
        sa.Column("instance", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("saved_by", sa.String(80), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_form_versions_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_versions")),
        sa.UniqueConstraint(
            "subject_id", "event", "instrument", "instance", name="uq_form_versions_form"
        ),
    )


def downgrade() -> None:
    op.drop_table("form_versions")
