"""Enrolment of the pregnant woman and her newborn, the identity link, and consent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cmvcds.errors import InputError
from cmvcds.registry.access import Actor, Permission, not_found, require, require_site
from cmvcds.registry.dates import remember_offset
from cmvcds.registry.models import Consent, IdentityLink, Site, Subject

__all__ = [
    "ConsentInput",
    "consents_of",
    "enrol_mother",
    "enrol_newborn",
    "get_subject",
    "identity_of",
    "list_subjects",
    "record_consent",
    "withdraw_consent",
    "withdrawn_subquery",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


@dataclass(frozen=True)
class ConsentInput:
    """Consent as signed: information-sheet version, date, scope, written 648/96 consent."""

    information_sheet_version: str
    signed_on: date
    scope: str = "observational study: data collection, pseudonymised central analysis"
    written_648_consent: bool = False


def _site_of(actor: Actor, site_id: str | None) -> str:
    if actor.role.site_scoped:
        if site_id not in (None, actor.site_id):
            raise not_found("site", str(site_id))
        return str(actor.site_id)
    if site_id is None:
        raise InputError("a central user enrolling must name the site", field="site")
    return site_id


def _pseudonym(session: Session, site: Site, kind: str) -> str:
    prefix = "N" if kind == "newborn" else "M"
    while True:
        candidate = f"{site.code}-{prefix}{''.join(secrets.choice(ALPHABET) for _ in range(7))}"
        if not session.scalar(select(exists().where(Subject.pseudonym == candidate))):
            return candidate


def enrol_mother(
    session: Session,
    actor: Actor,
    *,
    hospital_record_number: str,
    enrolled_on: date,
    consent: ConsentInput,
    site_id: str | None = None,
) -> Subject:
    """Enrol a pregnant woman: a new pseudonym, the identity link kept apart, and her consent."""
    require(actor, Permission.ENTER_DATA)
    site = session.get(Site, _site_of(actor, site_id))
    if site is None:
        raise not_found("site", str(site_id))
    return _enrol(session, site, "mother", None, hospital_record_number, enrolled_on, consent)


def _enrol(
    session: Session,
    site: Site,
    kind: str,
    mother_id: str | None,
    hospital_record_number: str,
    enrolled_on: date,
    consent: ConsentInput,
) -> Subject:
    """A new subject with its pseudonym, its separate identity link and its first consent."""
    if not hospital_record_number.strip():
        raise InputError("the hospital record number is empty", field="hospital_record_number")
    enrolled = session.scalar(
        select(Subject.pseudonym)
        .join(IdentityLink, IdentityLink.subject_id == Subject.id)
        .where(
            IdentityLink.site_id == site.id,
            IdentityLink.hospital_record_number == hospital_record_number.strip(),
        )
    )
    if enrolled is not None:  # the unique index refuses it too, should two enrol at once
        raise InputError(
            f"hospital record number {hospital_record_number.strip()!r} is already enrolled "
            f"at this site as {enrolled}; open that subject instead of enrolling again",
            field="hospital_record_number",
        )
    subject = Subject(
        site_id=site.id,
        pseudonym=_pseudonym(session, site, kind),
        kind=kind,
        mother_id=mother_id,
        enrolled_on=enrolled_on,
    )
    session.add(subject)
    session.flush()
    link = IdentityLink(
        subject_id=subject.id,
        site_id=site.id,
        hospital_record_number=hospital_record_number.strip(),
    )
    session.add(link)
    if kind == "mother":  # her newborns share her secret date offset
        remember_offset(session, subject)
    _add_consent(session, subject, consent)
    try:
        session.flush()
    except IntegrityError as error:  # enrolled by someone else at the same moment
        if "hospital_record_number" not in str(error.orig):
            raise
        raise InputError(
            f"hospital record number {hospital_record_number.strip()!r} is already enrolled "
            "at this site; open that subject instead of enrolling again",
            field="hospital_record_number",
        ) from None
    return subject


def enrol_newborn(
    session: Session,
    actor: Actor,
    *,
    mother: str,
    hospital_record_number: str,
    enrolled_on: date,
    consent: ConsentInput,
) -> Subject:
    """Enrol the newborn of an enrolled mother (``mother``: her pseudonym), at her site."""
    require(actor, Permission.ENTER_DATA)
    mum = get_subject(session, actor, mother)
    if mum.kind != "mother":
        raise InputError(f"{mother!r} is not a mother's record", field="mother")
    site = session.get(Site, mum.site_id)
    assert site is not None
    return _enrol(session, site, "newborn", mum.id, hospital_record_number, enrolled_on, consent)


def _add_consent(session: Session, subject: Subject, consent: ConsentInput) -> Consent:
    row = Consent(
        subject_id=subject.id,
        site_id=subject.site_id,
        information_sheet_version=consent.information_sheet_version,
        signed_on=consent.signed_on,
        scope=consent.scope,
        written_648_consent=consent.written_648_consent,
    )
    session.add(row)
    return row


def get_subject(session: Session, actor: Actor, pseudonym: str) -> Subject:
    """A subject visible to ``actor``; absent and other-site subjects are refused alike."""
    if not (actor.can(Permission.READ_DATA) or actor.can(Permission.ENTER_DATA)):
        raise not_found("subject", pseudonym)
    subject = session.scalars(select(Subject).where(Subject.pseudonym == pseudonym)).first()
    if subject is None:
        raise not_found("subject", pseudonym)
    require_site(actor, subject.site_id, "subject", pseudonym)
    return subject


def list_subjects(
    session: Session, actor: Actor, *, limit: int = 500, offset: int = 0
) -> list[Subject]:
    """Subjects the actor may see (a site user: only their site), in enrolment order."""
    require(actor, Permission.READ_DATA)
    query = (
        select(Subject).order_by(Subject.enrolled_on, Subject.pseudonym).limit(limit).offset(offset)
    )
    if actor.role.site_scoped:
        query = query.where(Subject.site_id == actor.site_id)
    return list(session.scalars(query))


def identity_of(session: Session, actor: Actor, pseudonym: str) -> str:
    """The hospital record number behind a pseudonym: only the subject's own site may read it."""
    require(actor, Permission.READ_IDENTITY)
    subject = get_subject(session, actor, pseudonym)
    if actor.site_id != subject.site_id:
        raise not_found("subject", pseudonym)
    link = session.scalars(select(IdentityLink).where(IdentityLink.subject_id == subject.id)).one()
    return link.hospital_record_number


def record_consent(
    session: Session, actor: Actor, pseudonym: str, consent: ConsentInput
) -> Consent:
    """A further consent (e.g. a new information-sheet version)."""
    require(actor, Permission.MANAGE_CONSENT)
    subject = get_subject(session, actor, pseudonym)
    row = _add_consent(session, subject, consent)
    session.flush()
    return row


def withdraw_consent(
    session: Session, actor: Actor, pseudonym: str, *, on: date, reason: str
) -> None:
    """Record a withdrawal: from then on the subject is left out of exports and analyses."""
    require(actor, Permission.MANAGE_CONSENT)
    subject = get_subject(session, actor, pseudonym)
    if not reason.strip():
        raise InputError("a withdrawal needs a reason", field="reason")
    # Locked: of two withdrawals at once the second finds the first's and changes nothing.
    consents = list(session.scalars(
        select(Consent).where(Consent.subject_id == subject.id).with_for_update()
        .execution_options(populate_existing=True)
    ))  # fmt: skip
    if consents and all(row.withdrawn_on is not None for row in consents):
        raise InputError(
            f"consent was already withdrawn on {max(r.withdrawn_on for r in consents if r.withdrawn_on)}",
            field="withdrawn_on",
        )
    session.info["reason"] = session.info.get("reason") or f"consent withdrawn: {reason}"
    for row in consents:
        if row.withdrawn_on is None:
            row.withdrawn_on = on
            row.withdrawal_reason = reason
    session.flush()


def consents_of(session: Session, actor: Actor, pseudonym: str) -> list[Consent]:
    """The subject's consents, oldest first (withdrawn ones carry their date and reason)."""
    subject = get_subject(session, actor, pseudonym)
    query = select(Consent).where(Consent.subject_id == subject.id)
    return list(session.scalars(query.order_by(Consent.signed_on, Consent.id)))


def withdrawn_subquery() -> Select[Any]:
    """Ids of subjects who withdrew consent: left out of every export and analysis."""
    return select(Consent.subject_id).where(Consent.withdrawn_on.is_not(None))
