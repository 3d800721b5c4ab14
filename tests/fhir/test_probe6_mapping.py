"""The FHIR mapping on EHR-shaped R4B records (outside probe6): one test per class of defect,
each asserting the clinical input the case gets. The records are built with the ``fhir.resources``
R4B models, as an EHR would send them."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient

from cmvcds.adapters.cdshooks.services import record_context
from cmvcds.adapters.fhir.mapping import MappedCase, bundle_to_case
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge, load_knowledge
from tests.conftest import TODAY
from tests.fhir.builders import RXNORM, UCUM, as_json, dosage, observation_model

SUBJECT = {"reference": "Patient/p1"}
fhir = as_json


def patient(**extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": "p1", "gender": "female", "birthDate": "1992-04-11"}
    return fhir(Patient(**(fields | extra)))


def observation(ident: str, code: str, when: str, **value: Any) -> dict[str, Any]:
    return fhir(observation_model(ident, code, when, **value))


def mapped(*resources: dict[str, Any], context: str = "pregnancy") -> MappedCase:
    """The case the mapping gives for a searchset of ``resources`` (in that order)."""
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    bundle["entry"] = [{"resource": r} for r in resources]
    return bundle_to_case(bundle, _knowledge(), context=context, assessed_on=TODAY)


@cache
def _knowledge() -> Knowledge:
    return load_knowledge()


def lmp(ident: str, recorded: str, value: str) -> dict[str, Any]:
    return observation(ident, "8665-2", recorded, valueDateTime=value)


def edd(ident: str, recorded: str, value: str) -> dict[str, Any]:
    return observation(ident, "11778-8", recorded, valueDateTime=value)


@pytest.mark.parametrize("newest_first", [True, False])
def test_the_latest_recorded_lmp_and_edd_are_used_whatever_the_order(newest_first: bool) -> None:
    """#21: a corrected LMP (recorded 2026-11-20) supersedes the first-visit estimate (recorded
    2026-10-10); a newest-first search put the old one last, and it won."""
    lmps = [lmp("new", "2026-11-20", "2026-10-01"), lmp("old", "2026-10-10", "2026-09-01")]
    edds = [edd("e-new", "2026-11-20", "2027-07-08"), edd("e-old", "2026-10-10", "2027-06-08")]
    order = 1 if newest_first else -1
    result = mapped(patient(), *lmps[::order], *edds[::order])
    assert result.case["pregnancy"] == {"lmp": "2026-10-01", "edd": "2027-07-08"}
    assert any("Observation/old of 2026-10-10 (2026-09-01) superseded" in n for n in result.notes)


def test_two_different_lmps_recorded_the_same_day_are_refused_not_picked() -> None:
    """#21: the same date, two values: a contradiction, neither used, said (never list order)."""
    result = mapped(
        patient(), lmp("a", "2026-11-20", "2026-10-01"), lmp("b", "2026-11-20", "2026-09-01")
    )
    assert "lmp" not in result.case["pregnancy"]
    assert any("lmp:" in u and "contradictory, none used" in u for u in result.unmapped)


def test_weight_is_the_latest_and_a_same_day_conflict_is_not_used() -> None:
    """#21 (the class: every single-valued reading): two weights of one day that disagree give
    no weight (the dose per kg is not computed on a guess)."""
    kg = {"unit": "kg", "system": UCUM, "code": "kg"}
    same_day = mapped(
        patient(),
        observation("w1", "29463-7", "2026-11-20", valueQuantity={"value": 64, **kg}),
        observation("w2", "29463-7", "2026-11-20", valueQuantity={"value": 46, **kg}),
    )
    assert "weight_kg" not in same_day.case["patient"]
    assert any("weight_kg:" in u and "contradictory" in u for u in same_day.unmapped)


def test_the_latest_pregnancy_status_is_used_whatever_the_order() -> None:
    """#21: "pregnant" of 2026-11-20 after "not pregnant" of 2026-09-01, sent newest first."""
    status = "82810-3"
    sct = "http://snomed.info/sct"
    newest = observation(
        "s2",
        status,
        "2026-11-20",
        valueCodeableConcept={"coding": [{"system": sct, "code": "77386006"}]},
    )
    oldest = observation(
        "s1",
        status,
        "2026-09-01",
        valueCodeableConcept={"coding": [{"system": sct, "code": "60001007"}]},
    )
    assert mapped(patient(), newest, oldest).pregnant is True


def order(**dosage_fields: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "mr1",
        "status": "active",
        "intent": "order",
        "subject": SUBJECT,
        "authoredOn": "2026-11-01",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "275891"}]},
    }
    return fhir(MedicationRequest(**(fields | dosage_fields)))


def dose(mg: int, per_day: int, start: str, end: str | None = None) -> dict[str, Any]:
    return dosage(mg, per_day, start, end)


def test_a_step_down_order_is_read_as_induction_then_ongoing_maintenance() -> None:
    """#20: 900 mg bid to 11-09 then 900 mg daily from 11-10, in one order: the patient is on
    900 mg daily today, not off therapy."""
    result = mapped(
        patient(gender="male"),
        order(
            dosageInstruction=[dose(900, 2, "2026-10-20", "2026-11-09"), dose(900, 1, "2026-11-10")]
        ),
        context="transplant",
    )
    assert result.case["therapy"] == [
        {"drug": "valganciclovir", "dose_mg": 900, "every_h": 12,
         "start": "2026-10-20", "stop": "2026-11-09"},
        {"drug": "valganciclovir", "dose_mg": 900, "every_h": 24,
         "start": "2026-11-10"},
    ]  # fmt: skip


def test_overlapping_or_undated_dosages_are_said_not_read_as_the_first() -> None:
    """#20: 450 mg morning and 450 mg evening written as two instructions from the same day:
    neither alone is the dose; the course is kept (the drug is taken) and its dose said."""
    result = mapped(
        order(dosageInstruction=[dose(450, 1, "2026-11-01"), dose(450, 1, "2026-11-01")]),
        context="transplant",
    )
    assert result.case["therapy"] == [{"drug": "valganciclovir", "start": "2026-11-01"}]
    assert any("2 dosage instructions" in u and "NOT checked" in u for u in result.unmapped)


def test_a_course_with_impossible_dates_is_left_out_by_name(knowledge: Knowledge) -> None:
    """#7's class: an order ending before it starts is that order's problem, not a refusal of
    the patient naming ``therapy[0]``."""
    result = mapped(
        patient(gender="male"),
        order(dosageInstruction=[dose(900, 1, "2026-11-10", "2026-11-01")]),
        context="transplant",
    )
    assert result.case["therapy"] == []
    assert any("(MedicationRequest/mr1)" in u and "before it starts" in u for u in result.unmapped)
    parse_case(result.case, knowledge, today=TODAY)


def test_dose_range_coded_timing_and_hold_are_read_or_said() -> None:
    """#20: a BID code is an interval of 12 h; a dose range and a hold are said, never silent."""
    bid = mapped(
        order(dosageInstruction=[{
            "timing": {"code": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "code": "BID"}]}},
            "doseAndRate": [{"doseQuantity": {"value": 900, "unit": "mg", "system": UCUM, "code": "mg"}}],
        }]),
        context="transplant",
    )  # fmt: skip
    assert bid.case["therapy"][0]["every_h"] == 12 and bid.unmapped == []
    ranged = mapped(
        order(dosageInstruction=[{
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseRange": {"low": {"value": 450, "unit": "mg", "code": "mg", "system": UCUM},
                                           "high": {"value": 900, "unit": "mg", "code": "mg", "system": UCUM}}}],
        }]),
        context="transplant",
    )  # fmt: skip
    assert "dose_mg" not in ranged.case["therapy"][0]
    assert any("range (450 to 900 mg)" in u and "NOT checked" in u for u in ranged.unmapped)
    held = mapped(order(status="on-hold", dosageInstruction=[dose(900, 1, "2026-11-01")]),
                  context="transplant")  # fmt: skip
    assert any("on hold" in u for u in held.unmapped)


def test_resources_of_types_not_read_are_said_not_dropped() -> None:
    """#6: a resource type cmvcds does not read is said. An AllergyIntolerance is read since
    debt22 (``patient.intolerances``): this one, with no clinical status, is said not used."""
    allergy = fhir(
        AllergyIntolerance(
            id="a1",
            patient=SUBJECT,
            code={"coding": [{"system": "http://snomed.info/sct", "code": "294505008"}]},
        )
    )
    visit = fhir(
        Encounter(
            id="e1",
            status="finished",
            subject=SUBJECT,
            class_fhir={
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB",
            },
        )
    )
    result = mapped(patient(), allergy, visit)
    assert result.unmapped == [
        "Encounter/e1 not used: type Encounter is not read by cmvcds",
        "AllergyIntolerance/a1 not used: it gives no clinical status (active, inactive, "
        "resolved); confirm it and record it as active if it still applies",
    ]


def test_a_partial_date_leaves_one_resource_out_not_the_patient(knowledge: Knowledge) -> None:
    """#7: ``effectiveDateTime: "2026-11"`` is valid FHIR; that result is not used (named), the
    rest of the record is assessed."""
    result = mapped(
        patient(),
        lmp("l1", "2026-11-20", "2026-10-01"),
        observation("o13", "2160-0", "2026-11",
                    valueQuantity={"value": 0.7, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}),
    )  # fmt: skip
    assert any(u.startswith("entry[2].resource (Observation/o13): Observation 2160-0 effective date '2026-11'")
               for u in result.unmapped)  # fmt: skip
    future = mapped(patient(), observation("o14", "2160-0", "2999-01-01", valueQuantity={
        "value": 0.7, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}))  # fmt: skip
    assert any(
        "(Observation/o14)" in u and "after the assessment date" in u for u in future.unmapped
    )
    parse_case(future.case, knowledge, today=TODAY)  # the rest of the record is read
    case = parse_case(result.case, knowledge, today=TODAY)  # not refused whole
    assert assess(case, knowledge).result.decisions


def test_two_patient_resources_that_disagree_give_no_sex_or_birth_date() -> None:
    """#9: female/1990 and male/1950 for one id: neither is guessed."""
    result = mapped(patient(birthDate="1990-01-01"), patient(gender="male", birthDate="1950-01-01"))
    assert "sex" not in result.case["patient"] and "birth_date" not in result.case["patient"]
    assert sum("contradictory, none used" in u for u in result.unmapped) == 2


def test_a_deceased_patient_is_refused_not_assessed_as_alive() -> None:
    """#19."""
    with pytest.raises(InputError, match="Patient/p1 is deceased on 2026-11-25"):
        mapped(patient(deceasedDateTime="2026-11-25", active=False))


def test_weight_in_kg_typed_as_text_and_a_partial_birth_date_are_read_or_said() -> None:
    """#16: unit text "Kg" is kilograms; a birth date "1992-04" is said, not dropped silently.
    probe14 F6: an adult's birth month gives the least age it allows (born 1992-04-30: 34 on
    2026-11-21), said; a child's is still not used."""
    result = mapped(
        patient(birthDate="1992-04"),
        observation("w", "29463-7", "2026-11-20", valueQuantity={"value": 64, "unit": "Kg"}),
    )
    assert result.case["patient"] == {"sex": "female", "weight_kg": 64, "age_years": 34}
    assert any("birthDate '1992-04' gives no day: age read as 34 years" in n for n in result.notes)
    child = mapped(patient(birthDate="2020-04"))
    assert "age_years" not in child.case["patient"]
    assert any("birthDate '2020-04' is not a full date" in u for u in child.unmapped)


SNOMED = "http://snomed.info/sct"


def pregnancy_condition(clinical: str = "active", **dates: Any) -> dict[str, Any]:
    status = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    return fhir(
        Condition(
            id="c1",
            subject=SUBJECT,
            code={"coding": [{"system": SNOMED, "code": "77386006"}]},
            clinicalStatus={"coding": [{"system": status, "code": clinical}]},
            **dates,
        )
    )


def negative_test(when: str) -> dict[str, Any]:
    coded = {"coding": [{"system": SNOMED, "code": "60001007"}]}
    return observation("n1", "82810-3", when, valueCodeableConcept=coded)


def test_a_pregnancy_condition_is_dated_when_recorded_not_by_its_onset() -> None:
    """review7 #1: onset 10-01 (about the LMP), recorded 11-20; a negative test of 10-15 is
    older than the record, so she is pregnant."""
    condition = pregnancy_condition(onsetDateTime="2026-10-01", recordedDate="2026-11-20")
    for order_ in (
        (condition, negative_test("2026-10-15")),
        (negative_test("2026-10-15"), condition),
    ):
        assert mapped(patient(), *order_).pregnant is True


def test_an_undated_pregnancy_condition_and_a_negative_test_are_said_contradictory() -> None:
    """review7 #1: an undated active pregnancy Condition never loses silently to a negative
    test: the status is not used (never "not pregnant") and the contradiction is said."""
    result = mapped(patient(), pregnancy_condition(), negative_test("2025-06-01"))
    assert result.pregnant is None
    assert any("Condition/c1" in u and "contradictory" in u for u in result.unmapped)


def test_a_resolved_pregnancy_condition_is_not_a_current_pregnancy() -> None:
    """review7 #8: a pregnancy of 2024, resolved and abated, is not a pregnancy now."""
    resolved = pregnancy_condition(
        "resolved", onsetDateTime="2024-01-10", abatementDateTime="2024-10-01"
    )
    result = mapped(patient(), resolved)
    assert result.pregnant is None
    assert "pregnant" not in result.conditions
    assert any("Condition/c1" in u and "not a current pregnancy" in u for u in result.unmapped)


def test_a_step_down_whose_dosages_share_a_day_is_read_as_two_ended_courses() -> None:
    """review7 #2: 900 mg bid 10-01→10-21 then daily 10-21→11-20 (a Period end is inclusive):
    the second starts on the shared day, the first stops the day before; never one ongoing
    course from authoredOn."""
    result = mapped(
        patient(gender="male"),
        order(dosageInstruction=[
            dose(900, 2, "2026-10-01", "2026-10-21"), dose(900, 1, "2026-10-21", "2026-11-20")
        ]),
        context="transplant",
    )  # fmt: skip
    assert result.case["therapy"] == [
        {"drug": "valganciclovir", "dose_mg": 900, "every_h": 12,
         "start": "2026-10-01", "stop": "2026-10-20"},
        {"drug": "valganciclovir", "dose_mg": 900, "every_h": 24,
         "start": "2026-10-21", "stop": "2026-11-20"},
    ]  # fmt: skip


def test_dated_dosages_that_overlap_give_their_span_not_an_ongoing_course() -> None:
    """review7 #2: two ended dosages that overlap: the course ended with the last one (dose
    said NOT checked), never ongoing from authoredOn."""
    result = mapped(
        patient(gender="male"),
        order(dosageInstruction=[
            dose(450, 1, "2026-10-01", "2026-10-31"), dose(450, 1, "2026-10-15", "2026-11-20")
        ]),
        context="transplant",
    )  # fmt: skip
    assert result.case["therapy"] == [
        {"drug": "valganciclovir", "start": "2026-10-01", "stop": "2026-11-20"}
    ]
    assert any("NOT checked" in u for u in result.unmapped)


def test_two_versions_of_one_medication_are_one_medication_and_a_true_clash_is_named() -> None:
    """review7 #3: Medication/m1 sent twice, differing only in meta (versions in an export): the
    order is read. Two truly different contents: the order says so, not "was not sent"."""
    coded = {"coding": [{"system": RXNORM, "code": "275891"}]}
    v1 = fhir(Medication(id="m1", code=coded))
    v2 = fhir(
        Medication(
            id="m1", code=coded, meta={"versionId": "2", "lastUpdated": "2026-11-02T10:00:00Z"}
        )
    )
    other = fhir(Medication(id="m1", code={"coding": [{"system": RXNORM, "code": "000000"}]}))
    request = order(
        medicationCodeableConcept=None,
        medicationReference={"reference": "Medication/m1"},
        dosageInstruction=[dose(900, 1, "2026-11-01")],
    )
    same = mapped(patient(gender="male"), request, v1, v2, context="transplant")
    assert [c["drug"] for c in same.case["therapy"]] == ["valganciclovir"]
    clash = mapped(patient(gender="male"), request, v1, other, context="transplant")
    assert clash.case["therapy"] == []
    assert not any("not sent" in u for u in clash.unmapped)
    assert any(
        "Medication/m1" in u and "contradictory" in u and "MedicationRequest" in u
        for u in clash.unmapped
    )


def test_the_latest_lmp_is_the_latest_instant_not_the_latest_local_date() -> None:
    """review7 #5: 11-20T02:00Z is earlier than 11-19T23:00-05:00 (11-20T04:00Z); a same-day
    correction (08:00 then 17:00) is the later value, not a contradiction."""
    early = observation("a", "8665-2", "2026-11-20T02:00:00Z", valueDateTime="2026-10-01")
    late = observation("b", "8665-2", "2026-11-19T23:00:00-05:00", valueDateTime="2026-10-05")
    for sent in ((early, late), (late, early)):
        assert mapped(patient(), *sent).case["pregnancy"]["lmp"] == "2026-10-05"
    morning = observation("m", "8665-2", "2026-11-20T08:00:00+01:00", valueDateTime="2026-10-01")
    evening = observation("e", "8665-2", "2026-11-20T17:00:00+01:00", valueDateTime="2026-10-03")
    corrected = mapped(patient(), evening, morning)
    assert corrected.case["pregnancy"]["lmp"] == "2026-10-03"
    assert not any("contradictory" in u for u in corrected.unmapped)


def timed(timing: dict[str, Any]) -> MappedCase:
    quantity = {"value": 900, "unit": "mg", "system": UCUM, "code": "mg"}
    dosage = {"timing": timing, "doseAndRate": [{"doseQuantity": quantity}]}
    return mapped(order(dosageInstruction=[dosage]), context="transplant")


def test_timing_codes_are_read_only_in_their_system_and_a_disagreement_is_said() -> None:
    """review7 #6, #7: a local "BID" is not HL7's; 2 a day with code QD disagree; MORN and EVE
    with no frequency: no interval, and each is said (dose NOT checked), never a guess."""
    gts = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
    local = timed({"code": {"coding": [{"system": "http://hospital.example/freq", "code": "BID"}]}})
    twice = {"frequency": 2, "period": 1, "periodUnit": "d"}
    clash = timed({"repeat": twice, "code": {"coding": [{"system": gts, "code": "QD"}]}})
    agree = timed({"repeat": twice, "code": {"coding": [{"system": gts, "code": "BID"}]}})
    when = timed({"repeat": {"when": ["MORN", "EVE"]}})
    for result in (local, clash, when):
        assert "every_h" not in result.case["therapy"][0]
        assert any("NOT checked" in u for u in result.unmapped)
    assert any("disagree" in u for u in clash.unmapped)
    assert agree.case["therapy"][0]["every_h"] == 12


def test_a_contradicted_pregnancy_condition_still_routes_to_the_pregnancy_assessment() -> None:
    """review7 #1: the CDS/SMART router does not assess her as a non-pregnant patient."""
    result = mapped(patient(), pregnancy_condition(), negative_test("2025-06-01"))
    assert record_context(result) == "pregnancy"


def test_an_older_weight_used_because_the_later_one_cannot_be_read_says_so() -> None:
    """review7 #9: a later weight in a unit cmvcds does not read (stones; pounds are read since
    probe14 F6) is not converted (no conversion is guessed); the older weight in kg that is used
    instead must be said to be older than the record's latest."""
    older = observation(
        "w1",
        "29463-7",
        "2025-06-01",
        valueQuantity={"value": 80, "unit": "kg", "system": UCUM, "code": "kg"},
    )
    later = observation(
        "w2",
        "29463-7",
        "2026-11-15",
        valueQuantity={"value": 9.4, "unit": "st", "system": UCUM, "code": "[stone_av]"},
    )
    case = mapped(patient(), later, older)
    assert case.case["patient"]["weight_kg"] == 80
    said = [n for n in case.notes if "weight_kg" in n and "could not be read" in n]
    assert (
        said and "2025-06-01" in said[0] and "Observation/w2" in said[0] and "2026-11-15" in said[0]
    )
