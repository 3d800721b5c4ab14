"""The web app's own tables, migrated by Alembic with the registry's (issue 16 item 9).

They live in the database of ``CMVCDS_DATABASE_URL`` beside the registry's tables (prefixed
``web_``, ``cds_`` and ``smart_``): cases entered or uploaded with every version, the CDS Hooks
cards shown and the feedback on them (each with its hook instance), the JWT replay cache, and
the SMART app launches in flight. Migrations 0006 and 0007 create them; the application never does.
Defined here, beside the migrations, so that the layers stay downward (the web adapter reads
and writes them through ``adapters/api/store.py`` and ``adapters/smart/launches.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "cds_cards",
    "cds_feedback",
    "cds_jwt_seen",
    "metadata",
    "smart_launches",
    "web_case_versions",
    "web_cases",
]

metadata = MetaData()

web_cases = Table(
    "web_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(128), nullable=False),
    Column("context", String(40), nullable=False),
    Column("origin", String(40), nullable=False),
    Column("raw_json", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

web_case_versions = Table(
    "web_case_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_key", Integer, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("raw_json", Text, nullable=False),
    Column("assessment_json", Text),  # None: saved without an assessment (a demo case on start)
    Column("knowledge_version", String(40)),
    Column("knowledge_sha256", String(64)),
    Column("change", String(200), nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_key", "version", name="uq_web_case_version"),
)

#: Every CDS Hooks card returned, with the hook instance that asked (CDS Hooks 2.0 §Feedback
#: identifies a card by its uuid only: this table ties a feedback to its call).
cds_cards = Table(
    "cds_cards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(100), nullable=False),
    Column("hook_instance", String(200), nullable=False, index=True),
    Column("card_uuid", String(100), nullable=False, index=True),
    Column("indicator", String(20), nullable=False),
    Column("summary", String(200), nullable=False),
    Column("card_json", Text, nullable=False),
    Column("knowledge_version", String(40), nullable=False),
    Column("shown_at", DateTime(timezone=True), nullable=False),
)

cds_feedback = Table(
    "cds_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(100), nullable=False),
    Column("card_uuid", String(100), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # the hook instance of the call that showed the card (None: a card this service never showed)
    Column("hook_instance", String(200)),
)

#: CDS Hooks JWT ids already used (the replay cache, shared by every worker through the database).
cds_jwt_seen = Table(
    "cds_jwt_seen",
    metadata,
    Column("issuer", String(200), primary_key=True),
    Column("jti", String(200), primary_key=True),
    Column("expires_at", Float, nullable=False),
)

#: SMART app launches: one row per authorization request (keyed by the SHA-256 of its ``state``),
#: single use, short-lived; once done it holds the SHA-256 of the browser's session cookie and
#: the case opened, and the access and refresh tokens sealed with the session cookie (never in
#: clear: ``adapters/smart/sealed.py``).
smart_launches = Table(
    "smart_launches",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("iss", String(2000), nullable=False),
    Column("token_endpoint", String(2000), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("redirect_uri", String(2000), nullable=False),
    Column("kind", String(20), nullable=False),  # ehr | standalone
    Column("expires_at", Float, nullable=False),
    Column("status", String(20), nullable=False),  # pending | done | refused
    Column("session_hash", String(64), index=True),
    Column("session_expires_at", Float),
    Column("case_key", Integer),
    Column("notes_json", Text),
    Column("nonce", String(64)),  # OpenID Connect nonce, until the callback
    Column("tokens_sealed", Text),
)
