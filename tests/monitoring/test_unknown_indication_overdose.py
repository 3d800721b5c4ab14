"""A running course recorded WITHOUT an indication is still dose-checked (review10).

fix9b2 made such a course "unclear" and asked ``therapy:DRUG.indication``, but then checked no
dose: valganciclovir 900 mg every 12 h in a 60-year-old man of 70 kg with creatinine 4.0 mg/dL got
no dose alert and antiviral-treatment "continue". Now the order is compared with the HIGHEST
labelled dose of the drug for the patient's renal band (the induction row).

Cockcroft–Gault (Cockcroft 1976): CrCl = (140 − 60) × 70 / (72 × creatinine) = 77.8 / creatinine:
19.4 mL/min at 4.0 mg/dL, 86 mL/min at 0.9 mg/dL. VALCYTE US PI Table 3 (valcyte-us-label):
induction 900 mg twice daily at CrCl ≥ 60, 450 mg every 2 days at CrCl 10–24 (the highest
labelled amount there: prevention is 450 mg twice weekly). 900 mg twice daily = 1800 mg/day is
8× 225 mg/day: critical (dosing policy: ≥ 2× the labelled daily amount is critical).
"""

from __future__ import annotations

from typing import Any

import pytest

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.knowledge import Knowledge, load_knowledge
from tests.conftest import TODAY

OVERDOSE = (AlertCode.DOSE_RENAL_ADJUSTMENT, AlertCode.DOSE_ABOVE_TARGET)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _case(knowledge: Knowledge, creatinine: float, indication: str | None = None) -> Any:
    course: dict[str, Any] = {
        "drug": "valganciclovir",
        "dose_mg": 900,
        "every_h": 12,
        "route": "oral",
        "start": "2026-03-03",
    }
    if indication is not None:
        course["indication"] = indication
    return parse_case(
        {
            "format": "cmvcds-case/1",
            "id": "review10",
            "assessed_on": "2026-05-30",
            "context": "transplant",
            "patient": {"sex": "male", "age_years": 60, "weight_kg": 70, "height_cm": 175},
            "transplant": {
                "organ": "kidney",
                "date": "2026-03-01",
                "donor_cmv_igg": "positive",
                "recipient_cmv_igg": "negative",
            },
            "observations": [
                {"date": "2026-05-29", "code": "creatinine", "value": creatinine, "unit": "mg/dL"}
            ],
            "therapy": [course],
        },
        knowledge,
        today=TODAY,
    )


def test_no_indication_at_crcl_19_is_a_critical_overdose_and_not_continued(
    knowledge: Knowledge,
) -> None:
    out = assess(_case(knowledge, 4.0), knowledge).result
    doses = [a for a in out.alerts if a.code in OVERDOSE]
    assert len(doses) == 1, out.alerts
    alert = doses[0]
    assert alert.severity is Severity.CRITICAL
    assert "without a recorded indication" in alert.message
    assert "induction" in alert.message  # compared with the highest labelled row
    assert "450 mg every 2 days" in alert.message
    assert "8× the labelled daily amount" in alert.message
    assert "valcyte-us-label" in alert.citations
    assert any(m.item == "therapy:valganciclovir.indication" for m in out.missing)
    for decision in out.decisions:
        assert not any(r.startswith("continue") for r in decision.reasons), decision
    treatment = [d for d in out.decisions if d.id == "antiviral-treatment"]
    assert treatment and treatment[0].outcome.value != "recommended"
    assert any("above every labelled dose" in r for r in treatment[0].reasons)


def test_no_indication_at_normal_renal_function_is_the_induction_dose(
    knowledge: Knowledge,
) -> None:
    out = assess(_case(knowledge, 0.9), knowledge).result
    assert not [a for a in out.alerts if a.code in OVERDOSE], out.alerts
    assert any(m.item == "therapy:valganciclovir.indication" for m in out.missing)


def test_recorded_prophylaxis_keeps_its_own_check(knowledge: Knowledge) -> None:
    """With the indication given the check is the indication's (450 mg twice weekly: 14×)."""
    out = assess(_case(knowledge, 4.0, "prophylaxis"), knowledge).result
    doses = [a for a in out.alerts if a.code in OVERDOSE]
    assert len(doses) == 1 and doses[0].severity is Severity.CRITICAL
    assert "14× the labelled daily amount" in doses[0].message
    assert "without a recorded indication" not in doses[0].message
