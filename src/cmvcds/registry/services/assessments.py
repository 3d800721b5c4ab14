"""Assess a registry subject with the engine; store the assessment with its knowledge version."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge, load_knowledge
from cmvcds.registry.access import Actor, Permission, require
from cmvcds.registry.models import StoredAssessment
from cmvcds.registry.services.subjects import get_subject

__all__ = ["assess_subject", "assessments_of", "store_assessment"]


def store_assessment(
    session: Session,
    actor: Actor,
    pseudonym: str,
    case: Mapping[str, Any],
    document: Mapping[str, Any],
) -> StoredAssessment:
    """Store an assessment document (``cmvcds-assessment/1``) and the case that produced it."""
    require(actor, Permission.ENTER_DATA)
    subject = get_subject(session, actor, pseudonym)
    knowledge = document.get("knowledge") or {}
    if not knowledge.get("version") or not knowledge.get("sha256"):
        raise InputError(
            "an assessment must carry its knowledge version and sha256", field="knowledge"
        )
    row = StoredAssessment(
        subject_id=subject.id,
        site_id=subject.site_id,
        assessed_on=date.fromisoformat(str(document["assessed_on"])),
        knowledge_version=str(knowledge["version"]),
        knowledge_sha256=str(knowledge["sha256"]),
        case_json=json.dumps(case, sort_keys=True, default=str),
        assessment_json=json.dumps(document, sort_keys=True, default=str),
    )
    session.add(row)
    session.flush()
    return row


def assess_subject(
    session: Session,
    actor: Actor,
    pseudonym: str,
    case: Mapping[str, Any],
    *,
    on: date,
    knowledge: Knowledge | None = None,
) -> StoredAssessment:
    """Run the engine on ``case`` (a cmvcds-case/1 mapping) for the subject and store the result.

    The case's ``id`` is the subject's pseudonym (filled in when absent; a different id is refused,
    so that no hospital identifier is stored in the case).
    """
    require(actor, Permission.ENTER_DATA)
    get_subject(session, actor, pseudonym)  # refuse early if not visible
    raw = dict(case)
    if raw.setdefault("id", pseudonym) != pseudonym:
        raise InputError(
            f"the case id {raw['id']!r} must be the subject's pseudonym {pseudonym!r}", field="id"
        )
    pack = knowledge or load_knowledge()
    parsed = parse_case(raw, pack, today=on)
    document = assess(parsed, pack, on).to_dict()
    return store_assessment(session, actor, pseudonym, raw, document)


def assessments_of(session: Session, actor: Actor, pseudonym: str) -> list[StoredAssessment]:
    subject = get_subject(session, actor, pseudonym)
    return list(
        session.scalars(
            select(StoredAssessment)
            .where(StoredAssessment.subject_id == subject.id)
            .order_by(StoredAssessment.created_at)
        )
    )
