"""The dose check never leaves an order silently unchecked (review11 S1).

``check_dose`` answers ``no-recommendation`` when the label gives no dose for the patient. Before
review11 it raised no alert for a renal band's refusal: valganciclovir 900 mg every 12 h on
hemodialysis or at CrCl < 10 mL/min, which VALCYTE US PI §2.5 Table 2 and §8.6 do not recommend
("use IV ganciclovir with its hemodialysis dosing"), passed with no alert, in the monitoring
pathway and at order signing alike.

Property, over every drug × indication × renal function (creatinine 0.7 … 12 mg/dL and each
dialysis mode) × label region: an order answered ``excluded`` carries a critical alert, one
answered ``specialist_review`` or ``not_indicated`` at least a warning; the alert the check adds
quotes the label's reason and cites the label.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cmvcds.domain.vocabulary import Indication, Outcome, Severity
from cmvcds.engine.dosing import PrescribedDose, check_dose, drugs_available
from cmvcds.engine.dosing.patient import DosePatient
from cmvcds.knowledge import Knowledge, load_knowledge

RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def adult(creatinine: str, dialysis: str = "none") -> DosePatient:
    return DosePatient(
        age_years=Decimal(60),
        age_days=None,
        sex="male",
        weight_kg=Decimal(70),
        height_cm=Decimal(175),
        creatinine_mg_dl=Decimal(creatinine),
        egfr_ml_min_173=None,
        measured_crcl_ml_min=None,
        dialysis=dialysis,
        age_months=720,
        transplant_organ="kidney",  # the prophylaxis rows are the organ's (VALCYTE §2.4)
    )


@pytest.mark.parametrize("indication", ["induction", "preemptive", "maintenance", "prophylaxis"])
@pytest.mark.parametrize(
    ("creatinine", "dialysis"), [("4.0", "hemodialysis"), ("10.0", "none")], ids=["hd", "crcl8"]
)
def test_valganciclovir_on_hemodialysis_or_below_10_is_a_critical_exclusion(
    knowledge: Knowledge, indication: str, creatinine: str, dialysis: str
) -> None:
    # creatinine 10 mg/dL: Cockcroft–Gault 80 × 70 / (72 × 10) = 7.8 mL/min (< 10)
    order = PrescribedDose(
        drug="valganciclovir",
        indication=indication,
        dose_mg=Decimal(900),
        every_h=Decimal(12),
        route="oral",
    )
    check = check_dose(order, adult(creatinine, dialysis), knowledge)
    assert check.status == "no-recommendation"
    assert check.recommendation.outcome is Outcome.EXCLUDED
    critical = [a for a in check.alerts if a.severity is Severity.CRITICAL]
    assert len(critical) == 1
    assert critical[0].code.value == "renal-exclusion"
    assert "not recommended" in critical[0].message
    assert "use IV ganciclovir" in critical[0].message
    assert "valcyte-us-label" in critical[0].citations


def test_a_dosed_band_is_still_compared_not_refused(knowledge: Knowledge) -> None:
    # the lowest dosed band (CrCl 10–24: 450 mg every 48 h induction): the 900 mg every 12 h
    # order is an 8× overdose, checked as before
    order = PrescribedDose(
        drug="valganciclovir",
        indication="induction",
        dose_mg=Decimal(900),
        every_h=Decimal(12),
        route="oral",
    )
    check = check_dose(order, adult("4.0"), knowledge)
    assert check.status == "renal-adjustment"
    assert check.alerts[0].severity is Severity.CRITICAL


CREATININE = ("0.7", "1.5", "3", "6", "12")
DIALYSIS = ("none", "hemodialysis", "peritoneal", "crrt")


@pytest.mark.parametrize("drug", drugs_available(load_knowledge()))
def test_no_order_is_left_silently_unchecked(knowledge: Knowledge, drug: str) -> None:
    failures = []
    checked = 0
    for indication in Indication:
        for creatinine in CREATININE:
            for dialysis in DIALYSIS:
                for region in ("us", "eu"):
                    order = PrescribedDose(
                        drug=drug, indication=indication, dose_mg=Decimal(100), every_h=Decimal(24)
                    )
                    try:
                        check = check_dose(
                            order, adult(creatinine, dialysis), knowledge, region=region
                        )
                    except Exception:  # an indication or route the drug has no row for
                        continue
                    outcome = check.recommendation.outcome
                    if outcome in (Outcome.RECOMMENDED, Outcome.INSUFFICIENT_DATA):
                        continue
                    checked += 1
                    needed = Severity.CRITICAL if outcome is Outcome.EXCLUDED else Severity.WARNING
                    severities = [
                        RANK[a.severity] for a in check.alerts if a.code.value != "unverified-fact"
                    ]
                    if max(severities, default=-1) < RANK[needed]:
                        failures.append(
                            (indication.value, creatinine, dialysis, region, outcome.value)
                        )
    assert not failures, failures
    assert checked > 0
