"""FHIR R4 → case: every mapped code lands in the case format, unknown codes are reported,
and required bindings that ``fhir.resources`` does not check are checked here."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation

from cmvcds.adapters.fhir.mapping import bundle_to_case, medication_course, value_sets
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import ObservationCatalogue, Vocabularies
from tests.conftest import TODAY

FIXTURES = Path(__file__).resolve().parents[1] / "cdshooks" / "fixtures"
PREGNANCY = json.loads((FIXTURES / "pregnancy-valacyclovir.request.json").read_text())["prefetch"]
MONITOR = json.loads((FIXTURES / "therapy-monitor.request.json").read_text())["prefetch"]
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def test_pregnancy_prefetch_becomes_a_valid_case(knowledge: Knowledge) -> None:
    mapped = bundle_to_case(
        PREGNANCY, knowledge, context="pregnancy", assessed_on=TODAY, case_id="p1"
    )
    case = mapped.case
    assert case["patient"] == {"sex": "female", "birth_date": "1992-04-11", "weight_kg": 64}
    assert case["pregnancy"] == {"dating": {"date": "2026-10-20", "gestational_age": "5+4"}}
    assert mapped.pregnant is True
    assert case["observations"] == [
        {"date": "2026-09-30", "code": "cmv_igg", "result": "negative"},
        {"date": "2026-11-10", "code": "cmv_igg", "result": "positive"},
        {"date": "2026-11-10", "code": "cmv_igm", "result": "positive"},
        {"date": "2026-11-10", "code": "cmv_igg_avidity", "result": "low"},
        {"date": "2026-11-12", "code": "cmv_dna", "specimen": "urine", "result": "detected"},
        {"date": "2026-11-10", "code": "creatinine", "value": 0.62, "unit": "mg/dL"},
        {"date": "2026-11-10", "code": "egfr", "value": 118, "unit": "mL/min/1.73m2"},
        {"date": "2026-11-10", "code": "weight", "value": 64, "unit": "kg"},
    ]
    assert mapped.unmapped == [
        "observations.entry[10].resource: Observation code http://loinc.org|1234-5 is not in the value sets"
    ]
    parse_case(case, knowledge, today=TODAY)  # the parser accepts what the adapter produced


def test_viral_loads_keep_their_unit_and_courses_their_interval(knowledge: Knowledge) -> None:
    mapped = bundle_to_case(MONITOR, knowledge, context="transplant", assessed_on=TODAY)
    loads = [
        (o["date"], o["value"], o["unit"], o["specimen"])
        for o in mapped.case["observations"]
        if o["code"] == "cmv_dna"
    ]
    assert loads[0] == ("2026-08-03", 25000, "IU/mL", "plasma")
    anc = next(o for o in mapped.case["observations"] if o["code"] == "anc")
    assert (anc["value"], anc["unit"]) == (0.4, "10^9/L")  # 10*3/uL is 10^9/L; the parser converts
    # frequency 2 per 1 d → every 24 / 2 = 12 h
    assert mapped.case["therapy"] == [
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 12,
            "route": "oral",
            "start": "2026-08-03",
        }
    ]
    assert mapped.conditions == {"cmv_infection"}


def test_bogus_status_is_refused_though_the_library_accepts_it(knowledge: Knowledge) -> None:
    observation = copy.deepcopy(PREGNANCY["observations"]["entry"][2]["resource"])
    observation["status"] = "bogus"
    Observation.model_validate(observation)  # fhir.resources does not check the binding …
    mapped = bundle_to_case(  # … we do: the resource is left out and reported
        bundle(observation), knowledge, context="pregnancy", assessed_on=TODAY
    )
    assert mapped.case["observations"] == []
    assert mapped.ignored == [
        f"Observation/{observation.get('id', '?')} ignored: "
        "entry[0].resource.status: 'bogus' is not in the required value set "
        "(registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown)"
    ]


def test_a_resource_breaking_fhir_r4_is_refused_naming_the_element(knowledge: Knowledge) -> None:
    broken = {
        "resourceType": "Observation",
        "id": "x",
        "status": "final",
        "subject": {"reference": "Patient/p-preg-1"},  # ours: whose is checked first
        "valueQuantity": {"value": "many"},
    }
    good = copy.deepcopy(PREGNANCY["observations"]["entry"][2]["resource"])
    mapped = bundle_to_case(bundle(broken, good), knowledge, context="pregnancy", assessed_on=TODAY)
    # issue 16 item 4: the broken resource is reported, the rest is still read
    assert len(mapped.ignored) == 1
    assert mapped.ignored[0].startswith("Observation/x ignored: entry[0].resource.code:")
    assert mapped.case["observations"] == [
        {"date": "2026-09-30", "code": "cmv_igg", "result": "negative"}
    ]


def test_preliminary_and_entered_in_error_results_are_reported_not_used(
    knowledge: Knowledge,
) -> None:
    observation = copy.deepcopy(PREGNANCY["observations"]["entry"][2]["resource"])
    observation["status"] = "entered-in-error"
    mapped = bundle_to_case(bundle(observation), knowledge, context="pregnancy", assessed_on=TODAY)
    assert mapped.case["observations"] == []
    assert mapped.unmapped == [
        "entry[0].resource: Observation status 'entered-in-error' is not used"
    ]


def test_unknown_medication_and_condition_are_reported(knowledge: Knowledge) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": "m",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "999999", "display": "aspirin"}]
        },
    }
    condition = {
        "resourceType": "Condition",
        "id": "c",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
    }
    mapped = bundle_to_case(
        bundle(request, condition), knowledge, context="pregnancy", assessed_on=TODAY
    )
    assert mapped.unmapped == [
        f"entry[0].resource: MedicationRequest medication {RXNORM}|999999 (aspirin) is not in the value sets",
        "entry[1].resource: Condition code http://snomed.info/sct|38341003 is not in the value sets",
    ]


def test_dose_in_grams_and_interval_in_hours(knowledge: Knowledge) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "authoredOn": "2026-03-02",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "73645"}]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "g", "code": "g"}}],
            }
        ],
    }
    course = medication_course(request, value_sets(knowledge))
    assert course == {"drug": "valacyclovir", "dose_mg": 2000, "every_h": 6, "start": "2026-03-02"}
    assert (
        medication_course(request | {"status": "entered-in-error"}, value_sets(knowledge)) is None
    )
    assert (
        medication_course(
            {k: v for k, v in request.items() if k != "authoredOn"}, value_sets(knowledge)
        )
        == "MedicationRequest of valacyclovir has no start date"
    )


def test_quantity_below_the_limit_is_not_detected_or_below_lloq(knowledge: Knowledge) -> None:
    """Issue 16: "< 35 IU/mL" means not detected or below the LLOQ — never "detected"."""
    observation = copy.deepcopy(MONITOR["observations"]["entry"][0]["resource"])
    observation["valueQuantity"] = {
        "value": 35,
        "comparator": "<",
        "unit": "IU/mL",
        "code": "[IU]/mL",
    }
    mapped = bundle_to_case(
        bundle(observation), knowledge, context="transplant", assessed_on=date(2026, 11, 21)
    )
    assert mapped.case["observations"] == [
        {
            "date": "2026-08-03",
            "code": "cmv_dna",
            "specimen": "plasma",
            "result": "below_lloq",
        }
    ]


# --- the value sets are consistent with the case format -------------------------------------


def test_every_mapped_code_is_a_case_code_with_an_accepted_specimen(knowledge: Knowledge) -> None:
    catalogue = knowledge.table("observations", ObservationCatalogue)
    sets = value_sets(knowledge).table
    for row in sets.observations:
        if row.maps_to in ("pregnancy_status", "gestational_age", "lmp", "edd"):
            continue
        assert row.maps_to in catalogue.codes, row.code
        if row.specimen:
            assert row.specimen in catalogue.codes[row.maps_to].specimens, row.code
    assert len({(r.system, r.code) for r in sets.observations}) == len(sets.observations)


def test_every_drug_unit_and_answer_is_known_to_the_case_format(knowledge: Knowledge) -> None:
    catalogue = knowledge.table("observations", ObservationCatalogue)
    drugs = knowledge.table("vocabularies", Vocabularies).drugs
    sets = value_sets(knowledge).table
    assert {m.drug for m in sets.medications} <= set(drugs)
    accepted = {u.unit for spec in catalogue.codes.values() for u in spec.units} | {
        a for spec in catalogue.codes.values() for u in spec.units for a in u.aliases
    }
    assert {u.unit for u in sets.units} <= accepted
    results = {r for spec in catalogue.codes.values() for r in spec.results} | {
        "pregnant",
        "not_pregnant",
    }
    assert {a.result for a in sets.answers} <= results


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("<35", "below_lloq"),
        ("< 34,5 UI/mL", "below_lloq"),
        ("detected <LLOQ", "detected_below_lloq"),
        ("Rilevato, inferiore al limite di quantificazione", "detected_below_lloq"),
        ("DNA non rilevato", "not_detected"),
        ("Not detected", "not_detected"),
        ("Detected", "detected"),
    ],
)
def test_viral_load_written_as_text_is_never_read_as_more_than_it_says(
    knowledge: Knowledge, text: str, result: str
) -> None:
    observation = copy.deepcopy(MONITOR["observations"]["entry"][0]["resource"])
    del observation["valueQuantity"]
    observation["valueString"] = text
    mapped = bundle_to_case(bundle(observation), knowledge, context="transplant", assessed_on=TODAY)
    assert mapped.case["observations"][0]["result"] == result


def test_branded_product_described_by_ingredient_and_strength_rolls_up(
    knowledge: Knowledge,
) -> None:
    """An SBD/GPCK the pack does not list, sent as a Medication with its ingredient (RxNorm IN
    275891) and strength 450 mg per tablet: 2 tablets read as 900 mg."""
    medication = {
        "resourceType": "Medication",
        "id": "valcyte",
        "code": {
            "coding": [
                {"system": RXNORM, "code": "0000000", "display": "Valcyte 450 MG Oral Tablet"}
            ]
        },
        "form": {"text": "tablet"},
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "275891"}]},
                "strength": {
                    "numerator": {"value": 450, "unit": "mg", "code": "mg"},
                    "denominator": {"value": 1, "unit": "tablet"},
                },
            }
        ],
    }
    order = {
        "resourceType": "MedicationRequest",
        "id": "o",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "authoredOn": "2026-11-01",
        "medicationReference": {"reference": "Medication/valcyte"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet", "code": "{tbl}"}}],
            }
        ],
    }
    mapped = bundle_to_case(
        bundle(order, medication), knowledge, context="transplant", assessed_on=TODAY
    )
    assert mapped.case["therapy"] == [
        {"drug": "valganciclovir", "dose_mg": 900, "every_h": 12, "start": "2026-11-01"}
    ]
    missing = bundle_to_case(bundle(order), knowledge, context="transplant", assessed_on=TODAY)
    assert missing.case["therapy"] == []
    assert "Medication/valcyte, which was not sent with it" in missing.unmapped[0]


@pytest.mark.parametrize(
    ("code", "becomes"),
    [("22244-8", "cmv_igg"), ("30325-5", "cmv_igm"), ("13949-3", "cmv_igg"), ("24119-0", "cmv_igm")],
)
def test_common_presence_serology_codes_are_read(
    knowledge: Knowledge, code: str, becomes: str
) -> None:
    """The outside probe: 22244-8 (CMV IgG Ab [Presence] in Serum) and 30325-5 (CMV IgM Ab
    [Presence] in Serum), common in lab feeds and the NMDP IG, were not in the value sets."""
    observation = {
        "resourceType": "Observation",
        "id": "s1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2026-11-10",
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": "10828004", "display": "Positive"}]
        },
    }
    mapped = bundle_to_case(
        {"observations": bundle(observation)}, knowledge, context="pregnancy", assessed_on=TODAY
    )
    assert mapped.case["observations"] == [
        {"date": "2026-11-10", "code": becomes, "result": "positive"}
    ], mapped.unmapped
    assert mapped.unmapped == []
