"""The web app's tables under Alembic; CDS cards shown and feedback with their hook instance;
SMART app launches (issue 16 items 6, 7 and 9).

Before this revision the web app created ``web_cases``, ``web_case_versions``, ``cds_feedback``
and ``cds_jwt_seen`` itself on start: a database that already has them keeps them (and their
rows); ``cds_feedback`` gains ``hook_instance``. New: ``cds_cards`` (every card shown) and
``smart_launches``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _tables() -> set[str]:
    """The tables already there (none in offline mode: its script builds a new database)."""
    if op.get_context().as_sql:
        return set()
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    present = _tables()
    if "web_cases" not in present:
        op.create_table(
            "web_cases",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("case_id", sa.String(128), nullable=False),
            sa.Column("context", sa.String(40), nullable=False),
            sa.Column("origin", sa.String(40), nullable=False),
            sa.Column("raw_json", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "web_case_versions" not in present:
        op.create_table(
            "web_case_versions",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("case_key", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("raw_json", sa.Text(), nullable=False),
            sa.Column("assessment_json", sa.Text()),
            sa.Column("knowledge_version", sa.String(40)),
            sa.Column("knowledge_sha256", sa.String(64)),
            sa.Column("change", sa.String(200), nullable=False),
            sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
            sa.UniqueConstraint("case_key", "version", name="uq_web_case_version"),
        )
        op.create_index("ix_web_case_versions_case_key", "web_case_versions", ["case_key"])
    if "cds_feedback" not in present:
        op.create_table(
            "cds_feedback",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("service_id", sa.String(100), nullable=False),
            sa.Column("card_uuid", sa.String(100), nullable=False),
            sa.Column("outcome", sa.String(20), nullable=False),
            sa.Column("payload_json", sa.Text(), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("hook_instance", sa.String(200)),
        )
    else:
        op.add_column("cds_feedback", sa.Column("hook_instance", sa.String(200)))
    if "cds_jwt_seen" not in present:
        op.create_table(
            "cds_jwt_seen",
            sa.Column("issuer", sa.String(200), primary_key=True),
            sa.Column("jti", sa.String(200), primary_key=True),
            sa.Column("expires_at", sa.Float(), nullable=False),
        )
    op.create_table(
        "cds_cards",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("hook_instance", sa.String(200), nullable=False),
        sa.Column("card_uuid", sa.String(100), nullable=False),
        sa.Column("indicator", sa.String(20), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("card_json", sa.Text(), nullable=False),
        sa.Column("knowledge_version", sa.String(40), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cds_cards_hook_instance", "cds_cards", ["hook_instance"])
    op.create_index("ix_cds_cards_card_uuid", "cds_cards", ["card_uuid"])
    op.create_table(
        "smart_launches",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(2000), nullable=False),
        sa.Column("token_endpoint", sa.String(2000), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.String(2000), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("session_hash", sa.String(64)),
        sa.Column("session_expires_at", sa.Float()),
        sa.Column("case_key", sa.Integer()),
        sa.Column("notes_json", sa.Text()),
    )
    op.create_index("ix_smart_launches_session_hash", "smart_launches", ["session_hash"])


def downgrade() -> None:
    """Back to 0005: the new tables and column go; the older web tables stay (0005's app made
    them itself)."""
    op.drop_table("smart_launches")
    op.drop_table("cds_cards")
    with op.batch_alter_table("cds_feedback") as batch_op:
        batch_op.drop_column("hook_instance")
