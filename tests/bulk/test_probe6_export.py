"""A FHIR Bulk Data export built with the ``fhir.resources`` R4B models as an EHR writes it
(outside probe6 #5, #8, #17, #18): shared Medication resources, patients without a Patient
resource, a patient with years of routine results, and the published schema of the lines."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner

from cmvcds.adapters.bulk import ERROR_FORMAT, Job, assess_fhir_export
from cmvcds.adapters.schemas import assessment_schema
from tests.fhir.builders import LOINC, RXNORM, UCUM, dosage, observation_model

TODAY = date(2026, 12, 7)


def write(folder: Path, *models: Any) -> None:
    """One NDJSON file per resource type, as ``$export`` writes them."""
    for model in models:
        line = model.model_dump_json(by_alias=True, exclude_none=True)
        with (folder / f"{model.get_resource_type()}.ndjson").open("a") as handle:
            handle.write(line + "\n")


def creatinine(ident: str, who: str, when: str, value: float = 0.8) -> Observation:
    quantity = {"value": value, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}
    return observation_model(ident, "2160-0", when, patient=who, valueQuantity=quantity)


def run(folder: Path, context: str = "transplant") -> list[dict[str, Any]]:
    sink = io.StringIO()
    assess_fhir_export(folder, sink, Job(today=TODAY, fhir_context=context), workers=1)
    return [json.loads(line) for line in sink.getvalue().splitlines()]


def test_a_medication_of_the_export_is_given_to_the_order_that_references_it(
    tmp_path: Path,
) -> None:
    """#5: ``Medication.ndjson`` is not refused, and p3's valganciclovir order is read."""
    write(
        tmp_path,
        Patient(id="p3", gender="male", birthDate="1970-01-01"),
        Practitioner(id="dr1"),
        Medication(id="m1", code={"coding": [{"system": RXNORM, "code": "275891"}]}),
        MedicationRequest(
            id="mr1",
            status="active",
            intent="order",
            subject={"reference": "Patient/p3"},
            medicationReference={"reference": "Medication/m1"},
            authoredOn="2026-11-01",
            dosageInstruction=[dosage(900)],
        ),
    )
    (line,) = run(tmp_path)  # no error line for Medication or Practitioner
    assert line["format"] == "cmvcds-assessment/1" and line["case_id"] == "p3"
    assert not any("Medication/m1" in x for x in line.get("fhir", {}).get("not_used", []))
    assert "valganciclovir" in json.dumps(line["findings"])


def test_patients_without_a_patient_resource_keep_their_own_id(tmp_path: Path) -> None:
    """#8: an export filtered to Observations: two patients, two case ids, the gap said."""
    write(
        tmp_path,
        creatinine("a1", "orphanA", "2026-11-20"),
        creatinine("b1", "orphanB", "2026-11-21"),
    )
    lines = run(tmp_path)
    assert [x["case_id"] for x in lines] == ["orphanA", "orphanB"]
    assert lines[0]["fhir"]["not_used"] == [
        "Patient/orphanA: no Patient resource was sent: sex, birth date and vital status are "
        "not known"
    ]


def test_a_long_record_is_assessed_and_a_too_long_one_is_refused_by_name(tmp_path: Path) -> None:
    """#17: 5000 routine glucose results (2.6 MB) no longer hide p1's creatinine; 9000
    creatinine results of p2 (all read) are refused naming Patient/p2, not "Patient/None"."""
    glucose = [
        Observation(
            id=f"g{i}",
            status="final",
            subject={"reference": "Patient/p1"},
            code={"coding": [{"system": LOINC, "code": "2345-7"}], "text": "Glucose [Mass/volume]"},
            effectiveDateTime="2024-01-01T08:00:00+01:00",
            valueQuantity={"value": 90 + i % 20, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"},
            referenceRange=[
                {"low": {"value": 70, "unit": "mg/dL"}, "high": {"value": 110, "unit": "mg/dL"}}
            ],
            note=[{"text": "fasting sample, routine check of the transplant clinic"}],
        )
        for i in range(5000)
    ]
    write(tmp_path, Patient(id="p1", gender="male", birthDate="1970-01-01"), *glucose)
    write(tmp_path, creatinine("c1", "p1", "2026-11-20", 1.9))
    write(tmp_path, Patient(id="p2", gender="male", birthDate="1970-01-01"))
    write(tmp_path, *(creatinine(f"k{i}", "p2", "2026-11-20") for i in range(9000)))
    assert (tmp_path / "Observation.ndjson").stat().st_size > 4_000_000
    p1, p2 = run(tmp_path)
    assert p1["format"] == "cmvcds-assessment/1" and p1["case_id"] == "p1"
    assert len(p1["fhir"]["not_used"]) == 5000  # each glucose result said not used
    assert p2["format"] == ERROR_FORMAT
    assert (p2["source"], p2["case_id"]) == ("Patient/p2", "p2")
    assert "exceed what one patient's line may hold" in p2["error"] and "1,900,000" in p2["error"]


def test_export_lines_validate_against_the_published_schema(tmp_path: Path) -> None:
    """#18: a line that says what was not used (``fhir``) is a valid assessment document."""
    write(
        tmp_path,
        Patient(id="p1", gender="female", birthDate="1992-04-11"),
        creatinine("c1", "p1", "2026-11-20"),
        Observation(  # a code outside the value sets: said in fhir.not_used
            id="g1",
            status="final",
            subject={"reference": "Patient/p1"},
            code={"coding": [{"system": LOINC, "code": "2345-7"}]},
            effectiveDateTime="2026-11-20",
        ),
    )
    (line,) = run(tmp_path, "pregnancy")
    assert line["fhir"]["not_used"]
    jsonschema.validate(line, assessment_schema(), format_checker=jsonschema.FormatChecker())


def test_two_different_medications_with_one_id_are_not_guessed(tmp_path: Path) -> None:
    """#21's class for shared resources: Medication/m1 exported twice with different products
    (valganciclovir, then another code): the order is not read by the last one, it is said."""
    write(
        tmp_path,
        Patient(id="p3", gender="male", birthDate="1970-01-01"),
        Medication(id="m1", code={"coding": [{"system": RXNORM, "code": "275891"}]}),
        Medication(id="m1", code={"coding": [{"system": RXNORM, "code": "4678"}]}),
        MedicationRequest(
            id="mr1",
            status="active",
            intent="order",
            subject={"reference": "Patient/p3"},
            medicationReference={"reference": "Medication/m1"},
            authoredOn="2026-11-01",
        ),
    )
    (line,) = run(tmp_path)
    assert (
        "Medication/m1: different resources with this id were sent: contradictory, none used"
        in line["fhir"]["not_used"]
    )


def test_a_device_that_names_its_patient_is_theirs_and_said_not_used(tmp_path: Path) -> None:
    """review7 #4: R4 ``Device.patient``: the Device is given to p3 and said not used, as the
    direct mapping says it; never dropped without a word as nobody's."""
    write(
        tmp_path,
        Patient(id="p3", gender="male", birthDate="1970-01-01"),
        Device(id="dev1", patient={"reference": "Patient/p3"}),
        creatinine("c1", "p3", "2026-11-20"),
    )
    (line,) = run(tmp_path)
    assert line["case_id"] == "p3"
    assert any("Device/dev1" in x for x in line["fhir"]["not_used"])
