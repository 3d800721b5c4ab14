"""Cidofovir and neutropenia (debt23 item 2).

Source: VISTIDE US label — boxed warning and Warnings: "Neutropenia ... Neutrophil counts should
be monitored during VISTIDE therapy"; Adverse reactions Table 4 grades "Neutropenia (≤ 500
cells/mm3)" as serious. The label's Contraindications hold no ANC limit (checked in the label's
copies, see the pack row's note): an ANC at or below 500 is not a contraindication by the label,
and the project reads the label's serious grade as a specialist-review trigger (pack row
``drug_cidofovir.checks.anc``, unverified as a policy), inclusive as printed.

Vignette: an adult, 70 kg, creatinine 0.8 mg/dL and urine protein 30 mg/dL (cidofovir may start:
creatinine ≤ 1.5, CrCl > 55, protein < 100), refractory CMV after allogeneic HSCT, cidofovir
5 mg/kg (350 mg) once weekly from 2026-10-22. ANC 500 cells/µL on 2026-11-03: a critical
neutropenia alert, the next dose after a specialist's review, the ANC rechecked before it;
ANC 501: no such alert. A new start at ANC 500 is not dosed silently (specialist review); at
501 the dose is given.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from cmvcds.domain.vocabulary import Indication, Outcome
from cmvcds.engine.dosing import recommend_dose
from cmvcds.engine.dosing.patient import DosePatient
from cmvcds.knowledge import Knowledge
from transplant.helpers import run

RUNNING: dict[str, Any] = {
    "id": "debt23-cdv-anc",
    "assessed_on": "2026-11-04",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 50, "weight_kg": 70, "height_cm": 175},
    "observations": [
        {"date": "2026-10-20", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
        {"date": "2026-10-20", "code": "urine_protein", "value": 30, "unit": "mg/dL"},
        {"date": "2026-11-03", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
        {"date": "2026-11-03", "code": "anc", "value": 500, "unit": "cells/uL"},
    ],
    "transplant": {"organ": "hsct", "allogeneic": True, "date": "2026-08-01",
                   "donor_cmv_igg": "negative", "recipient_cmv_igg": "positive"},
    "therapy": [{"drug": "cidofovir", "dose_mg": 350, "every_h": 168, "route": "iv",
                 "start": "2026-10-22", "indication": "induction"}],
}  # fmt: skip


def _with_anc(anc: int) -> dict[str, Any]:
    raw = copy.deepcopy(RUNNING)
    raw["observations"][3]["value"] = anc
    return raw


def _neutropenia(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in document["alerts"] if a["code"] == "neutropenia"]


def test_running_cidofovir_at_anc_500_gets_a_critical_alert(knowledge: Knowledge) -> None:
    document = run(knowledge, _with_anc(500))
    (alert,) = _neutropenia(document)
    assert alert["severity"] == "critical"
    assert alert["message"].startswith("Cidofovir with an ANC at or below 500 cells/µL")
    assert "specialist" in alert["message"]
    assert "vistide-us-label" in alert["citations"]
    recheck = [
        s for s in document["schedule"]
        if s["event"] == "blood-count" and s["earliest"] == "2026-11-04"
        and "ANC 500 cells/uL on 2026-11-03: recheck before the next dose" in (s.get("reason") or "")
    ]  # fmt: skip
    assert recheck


def test_running_cidofovir_at_anc_501_gets_none(knowledge: Knowledge) -> None:
    document = run(knowledge, _with_anc(501))
    assert _neutropenia(document) == []
    treatment = [d for d in document["decisions"] if d["id"] == "antiviral-treatment"]
    assert treatment and treatment[0]["outcome"] != "specialist_review"


def test_the_treatment_decision_is_a_specialists_review_at_anc_500(knowledge: Knowledge) -> None:
    document = run(knowledge, _with_anc(500))
    (treatment,) = [d for d in document["decisions"] if d["id"] == "antiviral-treatment"]
    assert treatment["outcome"] == "specialist_review"
    assert [r for r in document["regimens"] if r["drug"] == "cidofovir"] == []


def _adult(anc: str) -> DosePatient:
    return DosePatient(
        age_years=Decimal(50),
        age_days=None,
        sex="male",
        weight_kg=Decimal(70),
        height_cm=Decimal(175),
        creatinine_mg_dl=Decimal("0.8"),
        egfr_ml_min_173=None,
        measured_crcl_ml_min=None,
        dialysis="none",
        age_months=600,
        urine_protein_mg_dl=Decimal(30),
        anc_per_ul=Decimal(anc),
    )


@pytest.mark.parametrize(
    ("anc", "outcome"),
    [("499", Outcome.SPECIALIST_REVIEW), ("500", Outcome.SPECIALIST_REVIEW),
     ("501", Outcome.RECOMMENDED)],
)  # fmt: skip
def test_starting_cidofovir_at_or_below_anc_500_is_a_specialists_review(
    knowledge: Knowledge, anc: str, outcome: Outcome
) -> None:
    dose = recommend_dose(_adult(anc), "cidofovir", Indication.INDUCTION, knowledge)
    assert dose.outcome is outcome
    flagged = [a for a in dose.alerts if a.code.value == "neutropenia"]
    assert bool(flagged) is (outcome is Outcome.SPECIALIST_REVIEW)
    if outcome is Outcome.RECOMMENDED:
        assert dose.regimen is not None and dose.regimen.dose_mg == Decimal(350)  # 5 mg/kg × 70
