"""A study coordinator's pages: enrolment, consent, and queries from the form page.

CSRF, roles and site isolation are checked through the pages, on both databases.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from cmvcds.registry import exports
from cmvcds.registry.models import Consent, DataQuery, IdentityLink, Subject

from .conftest import World
from .web import Clock, csrf_of, log_in

Site = tuple[TestClient, Clock, dict[str, str]]
CONSENT = {"information_sheet_version": "IS-3.0", "signed_on": "2026-03-01",
           "written_648_consent": "1"}  # fmt: skip


def enrol(client: TestClient, **fields: str) -> tuple[int, str]:
    token = csrf_of(client.get("/registry/enrol").text)
    response = client.post("/registry/enrol", data={"csrf": token, **CONSENT, **fields},
                           follow_redirects=False)  # fmt: skip
    return response.status_code, response.headers.get("location", response.text)


def test_enrolment_generates_a_site_pseudonym(site: Site, world: World) -> None:
    client, _clock, keys = site
    log_in(client, "entry_a")
    status, location = enrol(client, hospital_record_number="A-NEW", enrolled_on="2026-03-02")
    assert status == 303
    pseudonym = re.fullmatch(r"/registry/subjects/(FI01-M[0-9A-Z]{7})\?enrolled=1", location)
    assert pseudonym, location
    grid = client.get(location)
    assert grid.status_code == 200 and f"Enrolled as {pseudonym[1]}" in grid.text
    status, location = enrol(
        client, kind="newborn", mother=pseudonym[1], hospital_record_number="A-NEW-NB"
    )
    assert status == 303 and "/registry/subjects/FI01-N" in location
    with world.registry.session(world.admin) as s:
        mum = s.scalars(select(Subject).where(Subject.pseudonym == pseudonym[1])).one()
        assert (mum.site_id, str(mum.enrolled_on)) == (world.site_a, "2026-03-02")
        link = s.scalars(select(IdentityLink).where(IdentityLink.subject_id == mum.id)).one()
        consent = s.scalars(select(Consent).where(Consent.subject_id == mum.id)).one()
    assert link.hospital_record_number == "A-NEW"
    assert (consent.information_sheet_version, str(consent.signed_on), consent.written_648_consent) == (
        "IS-3.0", "2026-03-01", True)  # fmt: skip
    # a newborn of another site's mother: refused like a mother that does not exist
    other, _ = enrol(client, kind="newborn", mother=keys["b"], hospital_record_number="X")
    absent, _ = enrol(client, kind="newborn", mother="BO01-MZZZZZZZ", hospital_record_number="X")
    assert other == absent == 404
    bad, text = enrol(client, hospital_record_number="A-2", signed_on="01/03/2026")
    assert bad == 422 and "not a date" in text and 'value="A-2"' in text
    # the same hospital record number again at this site: refused, naming the subject
    again, text = enrol(client, hospital_record_number=" A-NEW ", enrolled_on="2026-03-02")
    assert again == 422 and "already enrolled at this site as " + pseudonym[1] in text
    with world.registry.session(world.admin) as s:
        links = s.scalars(
            select(IdentityLink).where(IdentityLink.hospital_record_number == "A-NEW")
        )
        assert len(list(links)) == 1


def test_enrolment_needs_csrf_and_a_site_role(site: Site) -> None:
    client, _clock, _keys = site
    log_in(client, "entry_a")
    forged = client.post(
        "/registry/enrol", data={"csrf": "forged", "hospital_record_number": "A-9", **CONSENT}
    )
    assert forged.status_code == 403
    log_in(client, "monitor")
    assert client.get("/registry/enrol").status_code == 403
    token = csrf_of(client.get("/registry/").text)
    refused = client.post(
        "/registry/enrol", data={"csrf": token, "hospital_record_number": "A-9", **CONSENT}
    )
    assert refused.status_code == 403 and "may not enter data" in refused.text


def test_consent_recorded_and_withdrawn_from_the_page(site: Site, world: World) -> None:
    client, _clock, keys = site
    log_in(client, "entry_b")
    assert client.get(f"/registry/subjects/{keys['a']}/consent").status_code == 404
    token = csrf_of(client.get("/registry/").text)
    foreign = client.post(f"/registry/subjects/{keys['a']}/consent",
                          data={"csrf": token, "action": "withdraw", "reason": "x"})  # fmt: skip
    assert foreign.status_code == 404
    log_in(client, "entry_a")
    url = f"/registry/subjects/{keys['a']}/consent"
    page = client.get(url)
    assert page.status_code == 200 and "IS-2.1" in page.text
    token = csrf_of(page.text)
    forged = client.post(url, data={"csrf": "x", "action": "withdraw", "reason": "asked"})
    assert forged.status_code == 403
    added = client.post(
        url, data={"csrf": token, "action": "record", **CONSENT, "scope": "follow-up to 24 months"}
    )
    assert (
        added.status_code == 200
        and "IS-3.0" in added.text
        and "follow-up to 24 months" in added.text
    )
    no_reason = client.post(url, data={"csrf": token, "action": "withdraw", "reason": " "})
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    gone = client.post(url, data={"csrf": token, "action": "withdraw", "withdrawn_on": "2026-03-02",
                                  "reason": "patient request"})  # fmt: skip
    assert (
        gone.status_code == 200 and "left out of exports" in gone.text and "2026-03-02" in gone.text
    )
    with world.registry.session(world.dm) as s:
        files = exports.export(s, world.dm, fmt="redcap", profile="central").files
    assert keys["a"] not in files["records.csv"] and keys["b"] in files["records.csv"]


def test_monitor_opens_site_answers_monitor_closes(site: Site, world: World) -> None:
    client, _clock, keys = site
    form = f"/registry/subjects/{keys['a']}/amniocentesis/amniocentesis"
    log_in(client, "entry_a")
    token = csrf_of(client.get(form).text)
    assert 'name="text"' not in client.get(form).text  # site staff cannot open queries
    refused = client.post(
        f"{form}/queries", data={"csrf": token, "field": "amnio_ga_days", "text": "?"}
    )
    assert refused.status_code == 403
    log_in(client, "monitor")
    page = client.get(form)
    token = csrf_of(page.text)
    assert 'name="text"' in page.text
    forged = client.post(
        f"{form}/queries", data={"csrf": "x", "field": "amnio_ga_days", "text": "?"}
    )
    assert forged.status_code == 403
    opened = client.post(f"{form}/queries", data={"csrf": token, "field": "amnio_ga_days",
                                                  "text": "Source document says 152 days?"}, follow_redirects=False)  # fmt: skip
    assert opened.status_code == 303 and opened.headers["location"] == form
    with world.registry.session(world.monitor) as s:
        query = s.scalars(select(DataQuery).where(DataQuery.opened_by == "monitor")).one()
    assert "Source document says 152 days?" in client.get(form).text
    log_in(client, "entry_b")
    token = csrf_of(client.get("/registry/").text)
    foreign = client.post(
        f"/registry/queries/{query.id}", data={"csrf": token, "action": "answer", "answer": "x"}
    )
    assert foreign.status_code == 404
    log_in(client, "entry_a")
    token = csrf_of(client.get(form).text)
    answered = client.post(f"/registry/queries/{query.id}", data={"csrf": token, "action": "answer",
                           "answer": "150 is right", "back": "form"}, follow_redirects=False)  # fmt: skip
    assert answered.status_code == 303 and answered.headers["location"] == form
    assert (
        client.post(
            f"/registry/queries/{query.id}", data={"csrf": token, "action": "close"}
        ).status_code
        == 403
    )
    log_in(client, "monitor")
    token = csrf_of(client.get(form).text)
    closed = client.post(f"/registry/queries/{query.id}", data={"csrf": token, "action": "close", "back": "form"},
                         follow_redirects=False)  # fmt: skip
    assert closed.status_code == 303
    with world.registry.session(world.monitor) as s:
        final = s.get(DataQuery, query.id)
        assert final is not None and (final.status, final.answer) == ("closed", "150 is right")
    assert "Source document says 152 days?" not in client.get(form).text
