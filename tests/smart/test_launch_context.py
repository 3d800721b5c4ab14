"""A record that establishes no context is never assessed in an assumed one (probe10 W6).

probe10 launched the app for a woman with no Condition and one Observation: the page assessed
her as "other immunocompromised patients" and said "No antiviral action is indicated". Nothing
in such a record says which pathway applies (pregnancy, congenital CMV, transplant, HIV, other
immunocompromised, immunocompetent): the page now says so and asks, and the record is assessed
in the context the user chooses, the choice said on the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from cmvcds.knowledge import Knowledge
from cmvcds.registry.web_tables import web_cases
from tests.smart.conftest import Site, _site
from tests.smart.test_launch import _browser, _to_callback

PATIENT = "no-context-1"
RECORD = {
    "patient": {
        "resourceType": "Patient",
        "id": PATIENT,
        "gender": "female",
        "birthDate": "1985-05-01",
    },
    "observations": {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "cr-1",
                    "status": "final",
                    "subject": {"reference": f"Patient/{PATIENT}"},
                    "effectiveDateTime": "2026-02-20",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]},
                    "valueQuantity": {
                        "value": 0.8,
                        "unit": "mg/dL",
                        "system": "http://unitsofmeasure.org",
                        "code": "mg/dL",
                    },
                }
            }
        ],
    },
}


@pytest.fixture
def bare_site(tmp_path: Path, knowledge: Knowledge) -> Iterator[Site]:
    for built in _site(tmp_path, knowledge):
        built.ehr.load(RECORD)
        yield built


def test_a_record_without_a_context_is_not_assessed_and_the_user_is_asked(
    bare_site: Site,
) -> None:
    site = bare_site
    with _browser(site) as browser:
        launch = site.ehr.new_launch(PATIENT)
        start = browser.get(
            f"{site.cmvcds}/smart/launch", params={"iss": site.ehr.fhir, "launch": launch}
        )
        finished = browser.get(_to_callback(browser, site, start))
        assert finished.status_code == 303, finished.text
        page = browser.get(f"{site.cmvcds}/smart/assessment")
        assert page.status_code == 200, page.text
        assert "data-context-unknown" in page.text
        assert "the patient context could not be determined" in page.text
        assert "no pregnancy (Condition or pregnancy status), congenital CMV infection" in page.text
        for value in ("pregnancy", "congenital", "transplant", "hiv", "immunocompromised",
                      "immunocompetent"):  # fmt: skip
            assert f'name="context" value="{value}"' in page.text, value
        # nothing assessed: no decision, no "no antiviral action", no assumed context
        assert "data-decision=" not in page.text
        assert "No antiviral action" not in page.text
        assert "other immunocompromised" not in page.text
        engine = create_engine(site.database)
        with engine.connect() as connection:
            stored = connection.execute(select(web_cases)).one()
        assert stored.context == "" and '"context"' not in stored.raw_json

        # a made-up context is refused and the question asked again
        wrong = browser.post(f"{site.cmvcds}/smart/context", data={"context": "adult"})
        assert wrong.status_code == 422 and "data-context-unknown" in wrong.text

        # the user chooses transplant; the record is
        # read again in it: the transplant pathway asks for what it needs (serostatus, organ)
        chosen = browser.post(f"{site.cmvcds}/smart/context", data={"context": "transplant"})
        assert chosen.status_code == 303, chosen.text
        page = browser.get(f"{site.cmvcds}/smart/assessment")
        assert page.status_code == 200
        assert "data-context-unknown" not in page.text
        assert "context transplant as chosen by the user" in page.text
        assert 'data-decision="antiviral-prophylaxis" data-outcome="insufficient_data"' in page.text
        with engine.connect() as connection:
            stored = connection.execute(select(web_cases)).one()
        assert stored.context == "transplant"
        engine.dispose()
