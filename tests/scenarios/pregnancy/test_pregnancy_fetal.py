"""Vignettes of valacyclovir-fetal-treatment (rules A6, A7, A8; interpretations I-5, I-7).

Baseline: the design case (primary infection, LMP 2025-12-20) with a positive amniocentesis
sampled 2026-05-12 (20+3) and reported 2026-05-19, assessed 2026-05-20 (21+4). The prevention
course stops on the report date (A5); the fetal decision depends on the Table 1 signs of the
latest ultrasound (2026-05-19) and the fetal blood.
"""

from __future__ import annotations

from typing import Any

import pytest
from pregnancy_cases import AMNIO, BASELINE, EDD, case, expected, run, summary

from cmvcds.knowledge import Knowledge


def fetal_case(
    findings: list[str] | None = None, *, blood: list[dict[str, Any]] = (), **scan: Any
) -> dict[str, Any]:  # type: ignore[assignment]
    observations = [*BASELINE["observations"], AMNIO, *blood]
    ultrasound = (
        [{"date": "2026-05-19", "findings": findings or [], **scan}] if findings is not None else []
    )
    return case(assessed_on="2026-05-20", observations=observations, ultrasound=ultrasound)


def fetal(
    outcome: str, *, alerts: list[str] | None = None, missing: list[str] | None = None
) -> dict[str, Any]:
    regimens = (
        [("fetal-treatment", 2000, 6, "2026-05-20", EDD)] if outcome == "recommended" else []
    )
    return expected(
        ga="21+4",
        decisions={"valacyclovir-prevention": "not_indicated", "valacyclovir-fetal-treatment": outcome},
        regimens=regimens, amniocentesis=[], stop=["2026-05-19"], alerts=alerts or [], missing=missing or [],
    )  # fmt: skip


NO_SIGN = fetal("excluded", missing=["fetal_blood"])


def viraemia(value: int, unit: str = "copies/mL") -> list[dict[str, Any]]:
    return [
        {
            "date": "2026-05-19",
            "code": "cmv_dna",
            "specimen": "fetal_blood",
            "value": value,
            "unit": unit,
        }
    ]


def platelets(value: int) -> list[dict[str, Any]]:
    return [
        {
            "date": "2026-05-19",
            "code": "platelets",
            "specimen": "fetal_blood",
            "value": value,
            "unit": "/mm3",
        }
    ]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        pytest.param(fetal_case(["hepatomegaly"]), fetal("recommended"), id="extracerebral-sign"),
        pytest.param(fetal_case([]), NO_SIGN, id="no-sign-at-all"),
        pytest.param(fetal_case(None), fetal("insufficient_data", missing=["ultrasound"]), id="no-ultrasound"),
        pytest.param(fetal_case(["ventriculomegaly"], ventricle_mm=14.9), fetal("recommended"), id="ventriculomegaly-14.9"),
        pytest.param(fetal_case(["ventriculomegaly"], ventricle_mm=15.0), fetal("excluded"), id="ventriculomegaly-15.0"),
        pytest.param(fetal_case(["ventriculomegaly"]), fetal("insufficient_data", missing=["ultrasound.ventricle_mm"]),
                     id="ventriculomegaly-unmeasured"),
        pytest.param(fetal_case(["placentomegaly"], placenta_mm=40),
                     fetal("insufficient_data", alerts=["contradictory-input"], missing=["ultrasound.placenta_mm"]),
                     id="placenta-40-contradicts-placentomegaly"),
        pytest.param(fetal_case(["placentomegaly"], placenta_mm=41), fetal("recommended"), id="placenta-41"),
        pytest.param(fetal_case(["hyperechogenic_bowel"], bowel_grade=1), NO_SIGN, id="bowel-grade-1"),
        pytest.param(fetal_case(["hyperechogenic_bowel"], bowel_grade=2), fetal("recommended"), id="bowel-grade-2"),
        pytest.param(fetal_case(["megacisterna_magna"], cisterna_magna_mm=10),
                     fetal("insufficient_data", alerts=["contradictory-input"], missing=["ultrasound.cisterna_magna_mm"]),
                     id="cisterna-10-contradicts-megacisterna"),
        pytest.param(fetal_case(["megacisterna_magna"], cisterna_magna_mm=10.5), fetal("excluded"), id="cisterna-10.5"),
        # a named microcephaly Table 1 lists only below -3 SD: in no row, never dropped (probe13 S5)
        pytest.param(fetal_case(["microcephaly"], head_circumference_sd=-3),
                     fetal("specialist_review", alerts=["boundary-case"]), id="microcephaly-minus-3"),
        pytest.param(fetal_case(["microcephaly"], head_circumference_sd=-3.1), fetal("excluded"), id="microcephaly-minus-3.1"),
        pytest.param(fetal_case(["periventricular_hyperechogenicity", "brain_calcification"]), fetal("excluded"),
                     id="severe-with-mild-sign"),
        pytest.param(fetal_case(["brain_calcification"]), fetal("recommended"), id="one-isolated-cerebral-sign"),
        pytest.param(fetal_case(["brain_calcification", "intraventricular_synechia"]), fetal("specialist_review"),
                     id="two-cerebral-signs-not-isolated"),
        pytest.param(fetal_case([], blood=viraemia(3000)), fetal("excluded"), id="viraemia-3000"),
        pytest.param(fetal_case([], blood=viraemia(3001)), fetal("recommended"), id="viraemia-3001"),
        pytest.param(fetal_case([], blood=viraemia(3001, "IU/mL")),
                     fetal("insufficient_data", missing=["fetal_blood cmv_dna (copies/mL)"]), id="viraemia-in-iu"),
        pytest.param(fetal_case([], blood=platelets(100000)), fetal("excluded"), id="platelets-100000"),
        pytest.param(fetal_case([], blood=platelets(99999)), fetal("recommended"), id="platelets-99999"),
    ],
)  # fmt: skip
def test_fetal_treatment(knowledge: Knowledge, raw: dict[str, Any], want: dict[str, Any]) -> None:
    assert summary(run(knowledge, raw)) == want


def test_signs_reported_with_their_measurements(knowledge: Knowledge) -> None:
    doc = run(knowledge, fetal_case(["ventriculomegaly", "hepatomegaly"], ventricle_mm=14.9))
    assert doc["findings"]["fetal_signs"] == {
        "fetus": {
            "ultrasound": "2026-05-19",
            "extracerebral": ["hepatomegaly"],
            "isolated_cerebral": [
                "isolated moderate ventriculomegaly < 15 mm (ventricle mm 14.9 mm)"
            ],
        }
    }
    decision = doc["decisions"][1]
    assert decision["rules"][:4] == ["A6", "A8", "I-5", "I-7"]
    assert doc["regimens"][0]["stop_rule"] == "until delivery (EDD 2026-09-26) (A6)"
    assert any(s["event"] == "fetal-ultrasound" for s in doc["schedule"])


def test_non_primary_infection_with_positive_amniocentesis(knowledge: Knowledge) -> None:
    observations = [
        {"date": "2026-02-20", "code": "cmv_igg", "result": "positive"},
        {"date": "2026-02-20", "code": "cmv_igm", "result": "negative"},
        {"date": "2026-02-20", "code": "creatinine", "value": 0.62, "unit": "mg/dL"},
        {"date": "2026-02-20", "code": "egfr", "value": 118, "unit": "mL/min/1.73m2"},
        AMNIO,
    ]
    raw = case(assessed_on="2026-05-20", observations=observations,
               ultrasound=[{"date": "2026-05-19", "findings": ["ascites"]}])  # fmt: skip
    assert summary(run(knowledge, raw)) == expected(
        ga="21+4", infection={"status": "non_primary"},
        decisions={"valacyclovir-prevention": "not_indicated", "valacyclovir-fetal-treatment": "recommended"},
        regimens=[("fetal-treatment", 2000, 6, "2026-05-20", EDD)], amniocentesis=[], stop=[],
    )  # fmt: skip


def test_renal_exclusion_applies_to_fetal_treatment(knowledge: Knowledge) -> None:
    raw = fetal_case(["hepatomegaly"])
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "creatinine"]
    raw["observations"].append(
        {"date": "2026-05-19", "code": "creatinine", "value": 1.2, "unit": "mg/dL"}
    )
    assert summary(run(knowledge, raw)) == fetal("excluded", alerts=["renal-exclusion"])


def test_fetal_treatment_follows_a_prevention_course(knowledge: Knowledge) -> None:
    raw = fetal_case(["ascites"])
    raw["therapy"] = [
        {
            "drug": "valacyclovir",
            "dose_mg": 2000,
            "every_h": 6,
            "route": "oral",
            "start": "2026-03-02",
            "stop": "2026-05-19",
        },
        {
            "drug": "valacyclovir",
            "dose_mg": 2000,
            "every_h": 6,
            "route": "oral",
            "start": "2026-05-20",
        },
    ]
    assert summary(run(knowledge, raw))["regimens"] == [
        ("fetal-treatment", 2000, 6, "2026-05-20", EDD)
    ]


def twins(first: list[str], second: list[str]) -> dict[str, Any]:
    observations = [
        *BASELINE["observations"],
        {**AMNIO, "fetus": 1},
        {**AMNIO, "fetus": 2},
    ]
    ultrasound = [
        {"date": "2026-05-19", "fetus": 1, "findings": first},
        {"date": "2026-05-19", "fetus": 2, "findings": second},
    ]
    return case(
        assessed_on="2026-05-20",
        observations=observations,
        ultrasound=ultrasound,
        pregnancy={"fetuses": 2},
    )


def test_twins_both_qualifying(knowledge: Knowledge) -> None:
    assert summary(run(knowledge, twins(["hepatomegaly"], ["ascites"]))) == fetal("recommended")


def test_twins_discordant_go_to_specialist_review(knowledge: Knowledge) -> None:
    doc = run(knowledge, twins(["hepatomegaly"], ["hydrocephalus"]))
    assert summary(doc) == fetal("specialist_review", alerts=["boundary-case"])
    assert set(doc["findings"]["fetal_signs"]) == {"fetus 1", "fetus 2"}
