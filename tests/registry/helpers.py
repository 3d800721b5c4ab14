"""Small builders shared by the registry tests."""

from __future__ import annotations

import secrets
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from cmvcds.registry.access import Actor
from cmvcds.registry.services import crf, subjects

if TYPE_CHECKING:
    from .conftest import World

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
    mrn: str | None = None,
    newborn: dict[str, str] | None = None,
) -> str:
    """A mother with treatment, timing and (optionally) the amniocentesis result recorded."""
    mrn = mrn or f"MRN-{secrets.token_hex(4)}"  # one subject per hospital record number
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


def cohort_of(world: World) -> dict[str, str]:
    a = world.entry_a
    with world.registry.session(a) as s:
        keep = pregnancy(s, a, treated=True, transmitted=False, mrn="A-KEEP",
                         newborn={"ccmv_at_birth": "0", "nb_birth_date": "2026-07-01"})  # fmt: skip
        crf.save_form(s, a, keep, "maternal_diagnosis", "enrolment",
                      {"enrolment_date": "2026-01-12", "maternal_birth_date": "1991-05-17"})  # fmt: skip
        crf.save_form(s, a, keep, "valacyclovir_start", "adverse_event", {
            "ae_term": "nausea", "ae_onset": "2026-02-01", "ae_severity": "2", "ae_relation": "4", "ae_serious": "0",
        }, instance=1)  # fmt: skip
        gone = pregnancy(s, a, treated=False, transmitted=True, mrn="A-GONE")
    return {"keep": keep, "gone": gone}
