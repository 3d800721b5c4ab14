"""A SMART launch reads the patient's recorded allergies (debt22, ADR 0032): the EHR serves an
AllergyIntolerance (the shape of the official FHIR R4 example ``allergyintolerance-medication``,
its substance valganciclovir, RxNorm 275891), the app asks for it with the token
(``patient/AllergyIntolerance.rs`` is in the scopes), and the stored case lists the drug as not
tolerated, so that no answer doses it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from cmvcds.knowledge import Knowledge
from cmvcds.registry.web_tables import web_cases
from tests.fhir.test_allergies import VALGANCICLOVIR, allergy
from tests.smart.conftest import Site, _site
from tests.smart.test_launch import _browser, _to_callback
from tests.smart.test_launch_context import RECORD

PATIENT = "no-context-1"


@pytest.fixture
def allergic_site(tmp_path: Path, knowledge: Knowledge) -> Iterator[Site]:
    for built in _site(tmp_path, knowledge):
        built.ehr.load(RECORD)
        built.ehr.load({"allergy": allergy(VALGANCICLOVIR, patient=f"Patient/{PATIENT}")})
        yield built


def test_the_launch_reads_the_recorded_allergy_as_an_intolerance(allergic_site: Site) -> None:
    site = allergic_site
    with _browser(site) as browser:
        launch = site.ehr.new_launch(PATIENT)
        start = browser.get(
            f"{site.cmvcds}/smart/launch", params={"iss": site.ehr.fhir, "launch": launch}
        )
        assert "AllergyIntolerance.rs" in start.headers.get("location", "")
        finished = browser.get(_to_callback(browser, site, start))
        assert finished.status_code == 303, finished.text
    assert any("/AllergyIntolerance?patient=" in url for url in site.ehr.seen)
    engine = create_engine(site.database)
    with engine.connect() as connection:
        stored = connection.execute(select(web_cases)).one()
    engine.dispose()
    assert json.loads(stored.raw_json)["patient"]["intolerances"] == ["valganciclovir"]
