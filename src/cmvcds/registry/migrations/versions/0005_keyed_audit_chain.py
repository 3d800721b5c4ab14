"""Keyed audit chain: ``audit_head.keyed_from`` marks the first HMAC-keyed entry (issue 17).

From this revision on every audit entry's hash is an HMAC-SHA256 under the audit key held
outside the database (``registry/audit_key.py``). Entries already in the trail keep their
legacy SHA-256 hashes: ``keyed_from`` is set to the entry after the current head, and
``verify-audit`` checks the entries before it under the legacy scheme. The first keyed entry's
HMAC covers the last legacy hash, so the legacy part is anchored by the first keyed write.
The chain-head trigger now also refuses to move ``keyed_from`` (which would pass keyed
entries off as legacy ones); checkpoints record it as well.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

REFUSAL = "the audit trail is append-only"

FORWARD = {
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION cmvcds_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.seq < OLD.seq OR NEW.id <> OLD.id OR NEW.keyed_from <> OLD.keyed_from THEN
            RAISE EXCEPTION '{REFUSAL}: the chain head cannot move back';
          END IF;
          RETURN NEW;
        END $$"""
    ],
    "sqlite": [
        "DROP TRIGGER audit_head_forward",
        f"CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head "
        f"WHEN NEW.seq < OLD.seq OR NEW.id <> OLD.id OR NEW.keyed_from <> OLD.keyed_from "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: the chain head cannot move back'); END",
    ],
}

BACKWARD = {
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION cmvcds_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.seq < OLD.seq OR NEW.id <> OLD.id THEN
            RAISE EXCEPTION '{REFUSAL}: the chain head cannot move back';
          END IF;
          RETURN NEW;
        END $$"""
    ],
    "sqlite": [
        "DROP TRIGGER audit_head_forward",
        f"CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head "
        f"WHEN NEW.seq < OLD.seq OR NEW.id <> OLD.id "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: the chain head cannot move back'); END",
    ],
}


def upgrade() -> None:
    op.add_column(
        "audit_head", sa.Column("keyed_from", sa.Integer(), nullable=False, server_default="1")
    )
    op.execute("UPDATE audit_head SET keyed_from = seq + 1")
    for statement in FORWARD[op.get_context().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in BACKWARD[op.get_context().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("audit_head", recreate="never") as batch_op:
        batch_op.drop_column("keyed_from")
