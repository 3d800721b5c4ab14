"""Small builders shared by the registry tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from cmvcds.registry.access import Actor
from cmvcds.registry.services import crf, subjects

CONSENT = subjects.ConsentInput("IS-2.1", date(2026, 1, 12), written_648_consent=True)


def enrol(session: Session, actor: Actor, mrn: str = "MRN-0001", site_id: str | None = None) -> str:
    return subjects.enrol_mother(
        session,
        actor,
        hospital_record_number=mrn,
        enrolled_on=date(2026, 1, 12),
        consent=CONSENT,
        site_id=site_id,
    ).pseudonym


def pregnancy(
    session: Session,
    actor: Actor,
    *,
    treated: bool,
    transmitted: bool | None,
    timing: str = "2",
    mrn: str = "MRN",
    newborn: dict[str, str] | None = None,
) -> str:
    """A mother with treatment, timing and (optionally) the amniocentesis result recorded."""
    key = enrol(session, actor, mrn)
    crf.save_form(session, actor, key, "maternal_diagnosis", "maternal_infection",
                  {"diagnosis_date": "2026-01-10", "infection_criterion": "1", "infection_timing": timing})  # fmt: skip
    crf.save_form(
        session,
        actor,
        key,
        "valacyclovir_start",
        "valacyclovir",
        {"treated": "1" if treated else "0"},
    )
    if transmitted is not None:
        crf.save_form(session, actor, key, "amniocentesis", "amniocentesis",
                      {"amnio_done": "1", "amnio_ga_days": "150", "amnio_cmv_pcr": "1" if transmitted else "0"})  # fmt: skip
    if newborn is not None:
        child = subjects.enrol_newborn(
            session,
            actor,
            mother=key,
            hospital_record_number=f"{mrn}-NB",
            enrolled_on=date(2026, 7, 1),
            consent=CONSENT,
        )
        crf.save_form(session, actor, child.pseudonym, "newborn_birth", "newborn_birth", newborn)
    return key
