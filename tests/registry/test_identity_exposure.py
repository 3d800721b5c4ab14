"""No identity reaches a role without the identity permission, on any page, API answer, export
or log line (issue 17, High 4: the audit page showed record number ↔ pseudonym to monitor,
data manager and administrator).

The registry is filled through the application with distinctive identity values (hospital
record numbers, birth dates, the outcome date); then every role logs in and walks every
registry page and API resource — dashboard, subject list, every subject's event grid and every
form of every event, consent, enrolment, audit (plain and filtered by subject), exports (every
format × profile × date policy the role may ask for, the archive unpacked), analyses, review —
and no identity value may appear in any answer, nor in any log record written meanwhile.
The subject's own site staff see them (the control that proves the walk can see identity).
"""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import date

import pytest
from fastapi.testclient import TestClient

from cmvcds.registry.access import SYSTEM
from cmvcds.registry.models import Role
from cmvcds.registry.services import crf, study, subjects

from .conftest import PASSWORD, World
from .helpers import CONSENT
from .web import csrf_of, log_in

MOTHER_MRN = "MRN-ZX-48151623"
CHILD_MRN = "NB-QY-90210777"
BIRTH = date(1987, 3, 29)  # the mother's birth date
CHILD_BIRTH = date(2026, 6, 28)
OUTCOME = date(2026, 6, 27)
API = "/api/v1/registry"


def renderings(day: date) -> list[str]:
    """The ways a page could print ``day``."""
    return [day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%d.%m.%Y"),
            day.strftime("%Y%m%d"), day.strftime("%d %b %Y"), day.strftime("%B %d, %Y")]  # fmt: skip


IDENTITY = [MOTHER_MRN, CHILD_MRN, *renderings(BIRTH), *renderings(CHILD_BIRTH),
            *renderings(OUTCOME)]  # fmt: skip


def fill(world: World) -> list[str]:
    """A mother and her newborn at site A with every identifier field recorded; their pseudonyms."""
    a = world.entry_a
    with world.registry.session(a) as s:
        mother = subjects.enrol_mother(s, a, hospital_record_number=MOTHER_MRN,
                                       enrolled_on=date(2026, 1, 12), consent=CONSENT).pseudonym  # fmt: skip
        crf.save_form(s, a, mother, "maternal_diagnosis", "enrolment",
                      {"enrolment_date": "2026-01-12", "maternal_birth_date": BIRTH.isoformat()})  # fmt: skip
        crf.save_form(s, a, mother, "maternal_diagnosis", "maternal_infection",
                      {"diagnosis_date": "2026-01-10", "infection_criterion": "1", "infection_timing": "2"})  # fmt: skip
        crf.save_form(s, a, mother, "delivery", "pregnancy_outcome",
                      {"outcome_date": OUTCOME.isoformat()})  # fmt: skip
        child = subjects.enrol_newborn(s, a, mother=mother, hospital_record_number=CHILD_MRN,
                                       enrolled_on=date(2026, 7, 1), consent=CONSENT).pseudonym  # fmt: skip
        crf.save_form(s, a, child, "newborn_birth", "newborn_birth",
                      {"nb_birth_date": CHILD_BIRTH.isoformat(), "ccmv_at_birth": "0"})  # fmt: skip
    with world.registry.session(a) as s:  # a correction: the old value lands in the trail
        crf.save_form(s, a, mother, "maternal_diagnosis", "enrolment",
                      {"maternal_birth_date": BIRTH.isoformat().replace("-29", "-28")},
                      reason="typo")  # fmt: skip
        crf.save_form(s, a, mother, "maternal_diagnosis", "enrolment",
                      {"maternal_birth_date": BIRTH.isoformat()}, reason="typo corrected")  # fmt: skip
    with world.registry.session(world.monitor) as s:
        crf.open_query(s, world.monitor, mother, "maternal_diagnosis", "enrolment",
                       "maternal_birth_date", "please check against the ID card")  # fmt: skip
    with world.registry.session(SYSTEM) as s:
        study.create_user(s, SYSTEM, username="rev", password=PASSWORD, role=Role.REVIEWER)
    return [mother, child]


def walk(
    client: TestClient, world: World, keys: list[str], headers: dict[str, str]
) -> dict[str, str]:
    """Every registry page and API answer a user can reach: path → text."""
    seen: dict[str, str] = {}

    def get(path: str, **kwargs: object) -> None:
        response = client.get(path, **kwargs)  # type: ignore[arg-type]
        seen[path] = response.text

    for path in ("/registry/", "/registry/subjects", "/registry/audit", "/registry/exports",
                 "/registry/analyses", "/registry/review", "/registry/enrol"):  # fmt: skip
        get(path)
    with world.registry.session(SYSTEM) as s:
        events = crf.current_crf(s).design.events
    for key in keys:
        get(f"/registry/subjects/{key}")
        get(f"/registry/subjects/{key}/consent")
        get(f"/registry/audit?subject={key}")
        for event in events:
            for instrument in event.instruments:
                get(f"/registry/subjects/{key}/{event.name}/{instrument}")
        get(f"{API}/subjects/{key}", headers=headers)
    for path in ("/subjects", "/dashboard", "/analyses"):
        get(f"{API}{path}", headers=headers)
    token = csrf_of(client.get("/registry/exports").text)
    for fmt in ("redcap", "odm", "fhir"):
        for profile in ("site", "central"):
            for dates in ("coarsen", "shift"):
                response = client.post("/registry/exports", data={
                    "csrf": token, "fmt": fmt, "profile": profile, "dates": dates})  # fmt: skip
                name = f"export {fmt}/{profile}/{dates}"
                if response.headers["content-type"] == "application/zip":
                    archive = zipfile.ZipFile(io.BytesIO(response.content))
                    seen[name] = "\n".join(archive.read(n).decode() for n in archive.namelist())
                else:
                    seen[name] = response.text
    return seen


def bearer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(f"{API}/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.mark.parametrize("role", ["monitor", "dm", "stat", "admin", "rev", "entry_b"])
def test_no_identity_reaches_a_role_without_the_identity_permission(
    site: tuple[TestClient, object, dict[str, str]], world: World, role: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    client, _clock, _keys = site
    keys = fill(world)
    caplog.set_level(logging.DEBUG)
    assert log_in(client, role) == 303
    pages = walk(client, world, keys, bearer(client, role))
    leaks = [(path, value) for path, body in pages.items() for value in IDENTITY if value in body]
    assert leaks == []
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert [value for value in IDENTITY if value in logged] == []


def test_the_subjects_own_site_sees_identity(
    site: tuple[TestClient, object, dict[str, str]], world: World
) -> None:
    """The control: the walk does reach identity where it may be shown."""
    client, _clock, _keys = site
    keys = fill(world)
    assert log_in(client, "pi_a") == 303
    pages = walk(client, world, keys, bearer(client, "pi_a"))
    assert MOTHER_MRN in pages["/registry/audit"]
    assert BIRTH.isoformat() in pages[f"/registry/subjects/{keys[0]}/maternal_diagnosis/enrolment"]
    assert MOTHER_MRN in pages["export redcap/site/coarsen"]
