"""Results read silently wrong or not at all (probe14 F3, F4, F5, F10).

F3: a man of 50 on valganciclovir 900 mg every 12 h since 2026-11-01 (TODAY − 20 days), viral
load 72493-0 = 5000 [IU]/mL on that day, then 20000 {copies}/mL today: two one-point series,
no card and no word. Copies/mL are not IU/mL (the factor is the assay's own): the trend is not
assessed, and that is now said with what is needed, in CDS, ``assess`` and bulk alike (the
alert is the monitoring pathway's).

F4/F5: IgG avidity 52984-2 as 75 % (no category, flag or cut-offs) was passed on and dropped
("without IgG avidity"); an index 0.75 with referenceRange 0.30–0.45 and no text was refused.

F10: creatinine 88.4 → 300 µmol/L (1 → 300/88.4 = 3.3937 mg/dL) was printed with 28 digits.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.fhir.results import avidity
from cmvcds.knowledge import Knowledge
from tests.cdshooks.probe14_ehr import (
    MONITOR,
    PID,
    day,
    observation,
    order,
    patient,
    quantity,
    searchset,
)


def _monitor(observations: list[dict[str, Any]]) -> dict[str, Any]:
    course = order(dose={"doseQuantity": quantity(900, "mg")})
    course["status"], course["authoredOn"] = "active", day(20)
    course["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"] = {"start": day(20)}
    return {
        "hook": "patient-view",
        "hookInstance": "6f1c8e8e-1d2b-4c54-9b59-14aa00000016",
        "context": {"userId": "Practitioner/example", "patientId": PID},
        "prefetch": {
            "patient": patient(gender="male", birth="1976-05-10"),
            "observations": searchset(observations),
            "conditions": searchset([]),
            "medications": searchset([course]),
            "administrations": searchset([]),
            "reports": searchset([]),
            "allergies": searchset([]),
        },
    }


WEIGHT = observation("o-wt", "29463-7", 20, valueQuantity=quantity(70, "kg"))
CREATININE = observation("o-cr", "2160-0", 20, valueQuantity=quantity(1.0, "mg/dL"))
BASELINE = observation("v1", "72493-0", 20, valueQuantity=quantity(5000, "IU/mL", "[IU]/mL"))


def test_a_viral_load_in_another_unit_is_said_not_comparable(client: TestClient) -> None:
    copies = observation(
        "v2", "72493-0", 0, valueQuantity=quantity(20000, "copies/mL", "{copies}/mL")
    )
    response = client.post(MONITOR, json=_monitor([CREATININE, WEIGHT, BASELINE, copies]))
    assert response.status_code == 200, response.text
    cards = [c for c in response.json()["cards"] if "cannot be compared" in c["summary"]]
    assert len(cards) == 1, [c["summary"] for c in response.json()["cards"]]
    assert cards[0]["indicator"] == "warning"
    assert "plasma copies/mL" in cards[0]["detail"] and "plasma IU/mL" in cards[0]["detail"]
    assert "not converted to IU/mL" in cards[0]["detail"]


def test_a_viral_load_in_whole_blood_after_plasma_is_said_not_comparable(
    client: TestClient,
) -> None:
    blood = observation("v2", "29604-6", 0, valueQuantity=quantity(20000, "IU/mL", "[IU]/mL"))
    response = client.post(MONITOR, json=_monitor([CREATININE, WEIGHT, BASELINE, blood]))
    cards = [c for c in response.json()["cards"] if "cannot be compared" in c["summary"]]
    assert cards and "whole_blood IU/mL" in cards[0]["detail"], response.json()["cards"]


def test_the_same_unit_and_specimen_is_compared_as_before(client: TestClient) -> None:
    same = observation("v2", "72493-0", 0, valueQuantity=quantity(20000, "IU/mL", "[IU]/mL"))
    response = client.post(MONITOR, json=_monitor([CREATININE, WEIGHT, BASELINE, same]))
    assert not [c for c in response.json()["cards"] if "cannot be compared" in c["summary"]]


def _case(observations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": "cmvcds-case/1",
        "id": "probe14-f3",
        "assessed_on": "2026-11-21",
        "context": "immunocompromised",
        "patient": {"sex": "male", "age_years": 50, "weight_kg": 70, "height_cm": 175},
        "therapy": [
            {
                "drug": "valganciclovir",
                "start": "2026-11-01",
                "dose_mg": 900,
                "every_h": 12,
                "indication": "induction",
            }
        ],
        "observations": [
            {"date": "2026-11-01", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
            {
                "date": "2026-11-01",
                "code": "cmv_dna",
                "specimen": "plasma",
                "value": 5000,
                "unit": "IU/mL",
            },
            *observations,
        ],
    }


def test_assess_says_the_series_cannot_be_compared(knowledge: Knowledge) -> None:
    clinic = Clinic(knowledge)
    doc = clinic.assess(
        _case(
            [
                {
                    "date": "2026-11-21",
                    "code": "cmv_dna",
                    "specimen": "plasma",
                    "value": 20000,
                    "unit": "copies/mL",
                }
            ]
        )
    )
    mismatch = [a for a in doc["alerts"] if a["code"] == "assay-mismatch"]
    assert mismatch and "cannot be compared" in mismatch[0]["message"]
    assert any(m["item"] == "cmv_dna" for m in doc["missing"])
    same = clinic.assess(
        _case(
            [
                {
                    "date": "2026-11-21",
                    "code": "cmv_dna",
                    "specimen": "plasma",
                    "value": 20000,
                    "unit": "IU/mL",
                }
            ]
        )
    )
    assert not [a for a in same["alerts"] if a["code"] == "assay-mismatch"]


def _avidity(value: float, unit: str | None, ranges: list[dict[str, Any]] | None = None) -> Any:
    resource = observation(
        "a1",
        "52984-2",
        valueQuantity={
            "value": value,
            **({"unit": unit, "code": unit, "system": "http://unitsofmeasure.org"} if unit else {}),
        },
        **({"referenceRange": ranges} if ranges else {}),
    )
    return avidity(resource, None)


def test_an_avidity_in_percent_without_the_labs_category_is_refused_with_why() -> None:
    said = _avidity(75, "%")
    assert isinstance(said, str)
    assert "75 % without the laboratory's category" in said
    assert "assay-specific" in said


def test_an_avidity_is_banded_by_the_labs_numeric_cut_offs() -> None:
    """One referenceRange low 0.30 / high 0.45 without text: the lab's grey zone. Below it low,
    from 0.30 to 0.45 inclusive intermediate, above it high; 75 % against 40–60 % high."""
    cut = [{"low": {"value": 0.30}, "high": {"value": 0.45}}]
    assert _avidity(0.75, None, cut) == {"result": "high"}
    assert _avidity(0.29, None, cut) == {"result": "low"}
    assert _avidity(0.30, None, cut) == {"result": "intermediate"}
    assert _avidity(0.45, None, cut) == {"result": "intermediate"}
    assert _avidity(75, "%", [{"low": {"value": 40}, "high": {"value": 60}}]) == {"result": "high"}
    # one bound only is not a grey zone: refused
    assert isinstance(_avidity(0.75, None, [{"low": {"value": 0.30}}]), str)


def test_assess_names_an_avidity_given_only_as_a_value(knowledge: Knowledge) -> None:
    doc = Clinic(knowledge).assess(
        {
            "format": "cmvcds-case/1",
            "id": "probe14-f4",
            "assessed_on": "2026-11-21",
            "context": "pregnancy",
            "patient": {"sex": "female", "age_years": 30},
            "pregnancy": {"lmp": "2026-09-01"},
            "observations": [
                {"date": "2026-11-10", "code": "cmv_igg", "result": "positive"},
                {"date": "2026-11-10", "code": "cmv_igm", "result": "positive"},
                {"date": "2026-11-10", "code": "cmv_igg_avidity", "value": 75, "unit": "%"},
            ],
        }
    )
    reasons = [r for d in doc["decisions"] for r in d["reasons"]]
    # fix13's rule (probe13 N3) answers probe14 F4 too: the value is named, the category asked for
    assert any(
        "IgG avidity 75 % on 2026-11-10 is given as a number without the laboratory's category" in r
        for r in reasons
    ), reasons
    assert "without IgG avidity" not in " ".join(reasons)


def test_a_converted_creatinine_is_shown_to_two_decimals(client: TestClient) -> None:
    """300 µmol/L ÷ 88.4 = 3.3937 mg/dL: "3.39 mg/dL"; the rise (≥ 1.5 × the baseline 1) is
    judged on the full value."""
    baseline = observation("c1", "2160-0", 20, valueQuantity=quantity(88.4, "umol/L"))
    later = observation("c2", "2160-0", 1, valueQuantity=quantity(300, "umol/L"))
    response = client.post(MONITOR, json=_monitor([baseline, later, WEIGHT, BASELINE]))
    rose = [c for c in response.json()["cards"] if "creatinine rose" in c["summary"]]
    assert rose, [c["summary"] for c in response.json()["cards"]]
    assert "to 3.39 mg/dL" in rose[0]["summary"]
    assert "3.3936" not in rose[0]["detail"]
