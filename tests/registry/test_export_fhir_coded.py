"""The FHIR NDJSON export is coded and typed: LOINC-coded laboratory results with UCUM
quantities, SNOMED CT answers beside the registry's own codes, booleans, dates and quantities
typed, each Observation dated by its form's date (``effectiveDateTime``) — every resource valid
for the fhir.resources R4 models, in the identified and the pseudonymised profile."""

from __future__ import annotations

import json
import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.fhir import FhirValueSets
from cmvcds.registry import exports
from cmvcds.registry.dictionary import choices, crf_from_knowledge
from cmvcds.registry.services import crf

from .conftest import World
from .helpers import pregnancy

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


def _cohort(world: World) -> str:
    a = world.entry_a
    with world.registry.session(a) as s:
        key = pregnancy(s, a, treated=True, transmitted=False, mrn="A-FHIR")
        crf.save_form(s, a, key, "maternal_diagnosis", "laboratory",
                      {"lab_date": "2026-01-11", "lab_test": "1", "lab_value": "0.8"}, instance=1)  # fmt: skip
        crf.save_form(s, a, key, "maternal_diagnosis", "laboratory",
                      {"lab_date": "2026-01-11", "lab_test": "7", "lab_result": "0"}, instance=2)  # fmt: skip
        crf.save_form(s, a, key, "maternal_diagnosis", "ultrasound",
                      {"us_date": "2026-01-20", "us_ga_days": "96", "us_findings": "1,3",
                       "us_ventricle_mm": "7.5"}, instance=1)  # fmt: skip
    return key


def _export(world: World, profile: str) -> dict[str, list[dict[str, Any]]]:
    actor = world.dm if profile == "central" else world.actors["pi_a"]
    with world.registry.session(actor) as s:
        files = exports.export(s, actor, fmt="fhir", profile=profile).files
    parsed = {}
    assert ("README.txt" in files) == (profile == "central")  # what the profile did to identity
    for name, text in files.items():
        if name == "README.txt":
            continue
        resources = [json.loads(line) for line in text.splitlines()]
        for resource in resources:  # every line is a valid R4 resource of its file's type
            assert name == f"{resource['resourceType']}.ndjson"
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        parsed[name] = resources
    return parsed


def _coded(observations: list[dict[str, Any]], system: str, code: str) -> list[dict[str, Any]]:
    return [
        o for o in observations
        if any(c["system"] == system and c["code"] == code for c in o["code"]["coding"])
    ]  # fmt: skip


def test_identified_export_is_coded_typed_and_dated(world: World) -> None:
    _cohort(world)
    observations = _export(world, "site")["Observation.ndjson"]
    (creatinine,) = _coded(observations, LOINC, "2160-0")
    assert creatinine["valueQuantity"] == {
        "value": 0.8,
        "unit": "mg/dL",
        "system": UCUM,
        "code": "mg/dL",
    }
    assert creatinine["effectiveDateTime"] == "2026-01-11"
    assert creatinine["code"]["text"] == "Creatinine (mg/dL)"
    # CMV DNA in blood has no LOINC code here (whole blood or plasma is not recorded): the
    # registry's own code, its qualitative result typed and dated
    (dna,) = [o for o in observations if o["code"].get("text") == "CMV DNA blood (IU/mL)"]
    assert [c["system"] for c in dna["code"]["coding"]] == [
        "urn:cmvcds:registry:megal-itali:lab_test"
    ]
    assert dna["valueCodeableConcept"]["coding"][0]["display"] == "Not detected or negative"
    # amniotic fluid PCR: the registry's code and SNOMED CT's "Not detected"
    (pcr,) = _coded(observations, "urn:cmvcds:registry:megal-itali:field", "amnio_cmv_pcr")
    assert {"system": SNOMED, "code": "260415000", "display": "Not detected"} in pcr[
        "valueCodeableConcept"
    ]["coding"]
    (ga,) = _coded(observations, "urn:cmvcds:registry:megal-itali:field", "amnio_ga_days")
    assert ga["valueQuantity"] == {"value": 150, "unit": "d", "system": UCUM, "code": "d"}
    (treated,) = _coded(observations, "urn:cmvcds:registry:megal-itali:field", "treated")
    assert treated["valueBoolean"] is True
    findings = _coded(observations, "urn:cmvcds:registry:megal-itali:field", "us_findings")
    assert sorted(f["valueCodeableConcept"]["coding"][0]["code"] for f in findings) == ["1", "3"]
    assert all(f["effectiveDateTime"] == "2026-01-20" for f in findings)
    (ventricle,) = _coded(observations, "urn:cmvcds:registry:megal-itali:field", "us_ventricle_mm")
    assert ventricle["valueQuantity"]["value"] == 7.5 and ventricle["valueQuantity"]["code"] == "mm"
    # a form's date dates its Observations and is not one itself
    assert not _coded(observations, "urn:cmvcds:registry:megal-itali:field", "lab_date")
    (diagnosis,) = _coded(
        observations, "urn:cmvcds:registry:megal-itali:field", "infection_criterion"
    )
    assert diagnosis["effectiveDateTime"] == "2026-01-10"
    assert not any(
        "valueString" in o and re.fullmatch(r"[\d.]+", o["valueString"]) for o in observations
    )


def test_pseudonymised_export_dates_every_observation_by_the_shifted_month(world: World) -> None:
    _cohort(world)
    observations = _export(world, "central")["Observation.ndjson"]
    (creatinine,) = _coded(observations, LOINC, "2160-0")
    assert re.fullmatch(r"\d{4}-\d{2}", creatinine["effectiveDateTime"])  # coarsened, shifted
    dated = [o["effectiveDateTime"] for o in observations if "effectiveDateTime" in o]
    assert dated and all(re.fullmatch(r"\d{4}-\d{2}", d) for d in dated)


def test_the_mapping_uses_the_value_sets_codes_and_the_dictionarys_fields(
    knowledge: Knowledge,
) -> None:
    """Every standard code of the export mapping is one of the FHIR value sets' (same display,
    so its verification is tracked there); every field it names exists with the right type."""
    sets = knowledge.table("fhir_valuesets", FhirValueSets)
    form = crf_from_knowledge(knowledge)
    mapping = form.design.fhir
    assert mapping is not None
    loinc = {o.code: o.display for o in sets.observations if o.system == LOINC}
    answers = {(a.system, a.code): a.display for a in sets.answers}
    rows = form.by_name
    for measured in mapping.measured:
        assert set(choices(rows[measured.test])) == {t.choice for t in measured.tests}
        for test in measured.tests:
            if test.loinc:
                assert loinc[test.loinc] == test.display
    for answer in mapping.answers:
        assert answers[(answer.system, answer.code)] == answer.display
        assert answer.choice in choices(rows[answer.field])
    for instrument, field in mapping.effective.items():
        assert rows[field].form_name == instrument and rows[field].validation == "date_ymd"
    for field in mapping.units:
        assert rows[field].validation in ("integer", "number")
