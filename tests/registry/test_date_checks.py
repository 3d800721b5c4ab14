"""Date logic on CRF saves (issue 15, item 8): no future dates, onset not after diagnosis,
enrolment not before consent — hard (refused) or soft (saved with a query), as study.yaml says.

The subject of ``web.make_site`` was diagnosed on 2026-01-10 and consented on 2026-01-12
(``helpers.CONSENT``); the pages' clock is 2026-03-02 (``web.T0``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cmvcds.knowledge import load_knowledge
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.date_checks import CONSENT, date_findings
from cmvcds.registry.dictionary import crf_from_knowledge
from cmvcds.registry.models import DataQuery, DataValue

from .conftest import World
from .web import log_in, opened_form

DESIGN = crf_from_knowledge(load_knowledge()).design
TODAY = date(2026, 3, 2)


def fired(
    instrument: str, values: dict[str, str], record: dict[str, str] | None = None
) -> set[str]:
    return {
        c.id for c in date_findings(DESIGN.date_checks, instrument, values, record or {}, TODAY)
    }


def test_boundaries_of_the_date_checks() -> None:
    assert fired("maternal_infection", {"diagnosis_date": "2026-03-02"}) == set()  # today: fine
    assert fired("maternal_infection", {"diagnosis_date": "2026-03-03"}) == {
        "diagnosis-date-not-future"
    }
    same = {"onset_date": "2026-01-10", "diagnosis_date": "2026-01-10"}
    assert fired("maternal_infection", same) == set()
    late = {"onset_date": "2026-01-11", "diagnosis_date": "2026-01-10"}
    assert fired("maternal_infection", late) == {"onset-before-diagnosis"}
    # the diagnosis recorded earlier (another save) counts as well as one in the same form
    assert fired(
        "maternal_infection", {"onset_date": "2026-01-11"}, {"diagnosis_date": "2026-01-10"}
    ) == {"onset-before-diagnosis"}
    assert fired("enrolment", {"enrolment_date": "2026-01-11"}, {CONSENT: "2026-01-12"}) == {
        "enrolment-after-consent"
    }
    assert fired("enrolment", {"enrolment_date": "2026-01-12"}, {CONSENT: "2026-01-12"}) == set()
    assert fired("maternal_infection", {"onset_date": "2026-01-11"}) == set()  # no diagnosis yet


def test_every_date_check_names_date_fields_of_its_form() -> None:
    crf = crf_from_knowledge(load_knowledge())
    for check in DESIGN.date_checks:
        form = {row.field_name: row for row in crf.forms[check.instrument]}
        for name in (check.field, check.other):
            if name and name != CONSENT:
                row = next(r for rows in crf.forms.values() for r in rows if r.field_name == name)
                assert row.validation.startswith("date"), (check.id, name)
        assert check.field in form, check.id


def _form(
    client: TestClient, key: str, event: str, instrument: str
) -> tuple[str, dict[str, str]]:
    url = f"/registry/subjects/{key}/{event}/{instrument}"
    return url, opened_form(client.get(url).text)


def test_a_future_diagnosis_and_an_onset_after_diagnosis_are_refused(
    site: tuple[TestClient, Any, dict[str, str]], world: World
) -> None:
    client, _clock, keys = site
    assert log_in(client, "entry_a") == 303
    url, csrf = _form(client, keys["a"], "maternal_diagnosis", "maternal_infection")
    future = client.post(
        url, data={**csrf, "f_diagnosis_date": "2026-03-03", "reason": "typo"}
    )
    assert future.status_code == 422 and "future" in future.text
    onset = client.post(url, data={**csrf, "f_onset_date": "2026-01-11"})
    assert onset.status_code == 422 and "cannot follow its diagnosis" in onset.text
    fine = client.post(url, data={**csrf, "f_onset_date": "2025-12-20"})
    assert fine.status_code == 200 and "Saved." in fine.text
    with world.registry.session(SYSTEM) as s:
        stored = {
            v.field: v.value
            for v in s.scalars(
                select(DataValue).where(DataValue.field.in_(["onset_date", "diagnosis_date"]))
            )
        }
    assert stored["onset_date"] == "2025-12-20"


def test_enrolment_before_consent_is_saved_with_a_query_for_the_monitor(
    site: tuple[TestClient, Any, dict[str, str]], world: World
) -> None:
    client, _clock, keys = site
    assert log_in(client, "entry_a") == 303
    url, csrf = _form(client, keys["a"], "maternal_diagnosis", "enrolment")
    saved = client.post(url, data={**csrf, "f_enrolment_date": "2026-01-11"})
    assert saved.status_code == 200 and "Saved. 1 query opened" in saved.text
    with world.registry.session(SYSTEM) as s:
        query = s.scalars(
            select(DataQuery).where(DataQuery.check_id == "enrolment-after-consent")
        ).one()
        assert query.field == "enrolment_date" and "before the signed consent" in query.text
