"""A registry subject assessed by the engine; the assessment is stored with its knowledge."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cmvcds.errors import AccessDenied, InputError
from cmvcds.knowledge import load_knowledge
from cmvcds.registry.services import assessments

from .conftest import World
from .helpers import enrol

CASE = {
    "format": "cmvcds-case/1",
    "assessed_on": "2026-03-02",
    "context": "pregnancy",
    "patient": {"sex": "female", "birth_date": "1992-04-11", "weight_kg": 64, "height_cm": 166},
    "pregnancy": {"lmp": "2025-12-20", "fetuses": 1},
    "observations": [
        {"date": "2026-01-10", "code": "cmv_igg", "result": "negative"},
        {"date": "2026-02-20", "code": "cmv_igg", "result": "positive"},
        {"date": "2026-02-20", "code": "cmv_igm", "result": "positive"},
        {"date": "2026-02-20", "code": "creatinine", "value": 0.62, "unit": "mg/dL"},
    ],
    "ultrasound": [{"date": "2026-02-27", "findings": []}],
    "therapy": [],
}


def test_assessment_stored_with_knowledge_version_and_digest(world: World) -> None:
    a = world.entry_a
    pack = load_knowledge()
    with world.registry.session(a) as s:
        key = enrol(s, a)
        stored = assessments.assess_subject(s, a, key, CASE, on=date(2026, 3, 2))
    assert (stored.knowledge_version, stored.knowledge_sha256) == (pack.version, pack.sha256)
    document = json.loads(stored.assessment_json)
    assert document["format"] == "cmvcds-assessment/1"
    assert document["case_id"] == key
    assert document["knowledge"] == {"version": pack.version, "sha256": pack.sha256}
    # the stored answer is the clinical one: seroconversion at 8+6 → prevention from 2026-03-02
    assert [(d["id"], d["outcome"]) for d in document["decisions"]] == [
        ("valacyclovir-prevention", "recommended")
    ]
    [regimen] = document["regimens"]
    assert (regimen["dose_mg"], regimen["every_h"], regimen["stop"]) == (2000, 6, "2026-06-20")
    assert json.loads(stored.case_json)["id"] == key
    with world.registry.session(world.monitor) as s:
        assert [x.id for x in assessments.assessments_of(s, world.monitor, key)] == [stored.id]


def test_case_id_must_be_the_pseudonym_and_site_is_checked(world: World) -> None:
    a = world.entry_a
    with world.registry.session(a) as s:
        key = enrol(s, a)
    with pytest.raises(InputError, match="pseudonym"), world.registry.session(a) as s:
        assessments.assess_subject(s, a, key, {**CASE, "id": "MRN-0001"}, on=date(2026, 3, 2))
    with pytest.raises(AccessDenied), world.registry.session(world.entry_b) as s:
        assessments.assess_subject(s, world.entry_b, key, CASE, on=date(2026, 3, 2))
