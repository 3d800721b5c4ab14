"""SOT prophylaxis over an unclassified DNAemia keeps every part that does not depend on the
threshold (fixr23a items 3, 4, 6; the house rule on insufficient data).

Sources: VALCYTE label §2.5 (CrCl by Cockcroft-Gault: ≥ 60 mL/min 900 mg once daily, 25–39
mL/min 450 mg every 2 days; not recommended on haemodialysis, where the label names IV ganciclovir
with the CYTOVENE haemodialysis dose, 1.25 mg/kg three times weekly after dialysis); PREVYMIS
(kidney D+/R− prophylaxis 480 mg daily, the T4 switch for intolerance); Kotton 2018 (D+/R−: late
CMV risk when prophylaxis ends). Vignette: debt23's kidney D+/R− (transplant 2026-10-10), plasma
CMV DNA 800 IU/mL on 2026-11-19, no site threshold: antiviral-prophylaxis is insufficient data,
and still says why a drug is or is not usable and its dose with that dose's sources.
"""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, regimens
from transplant.helpers import run as run_at_site
from transplant.test_debt23_sot_unclassified_dnaemia import VIGNETTE


def run(knowledge: Knowledge, raw: dict[str, Any]) -> dict[str, Any]:
    """The vignette site with no pre-emptive threshold for SOT."""
    return run_at_site(knowledge, raw, pet_threshold_iu_ml__sot=None)


def _case(course: bool = False, **patient: Any) -> dict[str, Any]:
    raw = copy.deepcopy(VIGNETTE)
    raw["patient"].update(patient)
    if not course:
        del raw["therapy"]
    return raw


def _prophylaxis(document: dict[str, Any]) -> tuple[str, str, list[str]]:
    found = decision(document, "antiviral-prophylaxis")
    return found["outcome"], " | ".join(found["reasons"]), found["citations"]


def test_haemodialysis_keeps_the_exclusion_and_the_iv_ganciclovir_dose(
    knowledge: Knowledge,
) -> None:
    outcome, said, cited = _prophylaxis(run(knowledge, _case(dialysis="hemodialysis")))
    assert outcome == "insufficient_data"
    assert "valganciclovir prophylaxis: excluded by the dosing engine" in said
    assert "87.5 mg (1.25 mg/kg) three times weekly, after hemodialysis" in said  # 70 kg × 1.25
    assert "cytovene-us-label" in cited
    assert "pet_threshold_iu_ml.sot" in said


def test_intolerance_says_why_letermovir(knowledge: Knowledge) -> None:
    document = run(knowledge, _case(intolerances=["valganciclovir"]))
    outcome, said, cited = _prophylaxis(document)
    assert outcome == "insufficient_data"
    assert "valganciclovir or ganciclovir intolerance" in said
    assert "letermovir prophylaxis would be 480 mg every 24 h" in said
    assert "prevymis-us-label" in cited
    assert not regimens(document)
    assert "late-cmv-risk" in alerts(document)


def test_missing_creatinine_is_said(knowledge: Knowledge) -> None:
    raw = _case(course=True)
    raw["observations"] = raw["observations"][1:]
    outcome, said, _ = _prophylaxis(run(knowledge, raw))
    assert outcome == "insufficient_data"
    assert "cannot be dosed: the dosing engine needs creatinine" in said


def test_a_running_iv_ganciclovir_is_switched_not_doubled(knowledge: Knowledge) -> None:
    raw = _case(course=True)
    raw["therapy"][0] = {
        "drug": "ganciclovir",
        "indication": "prophylaxis",
        "start": "2026-10-13",
        "dose_mg": 350,
        "every_h": 24,
        "route": "iv",
    }
    _, said, _ = _prophylaxis(run(knowledge, raw))
    assert "give valganciclovir in its place, never beside it" in said


def test_every_dose_said_carries_its_sources(knowledge: Knowledge) -> None:
    # CrCl ≥ 60 (creatinine 1.0, 50 y, 70 kg: 97 mL/min) → 900 mg every 24 h
    outcome, said, cited = _prophylaxis(run(knowledge, _case()))
    assert "900 mg every 24 h" in said
    assert {"valcyte-us-label", "cockcroft1976-nephron-crcl"} <= set(cited)
    # creatinine 3.0: CrCl (140-50)×70/(72×3.0) = 29 mL/min → 450 mg every 48 h (25–39 row)
    raw = _case()
    raw["observations"][0]["value"] = 3.0
    outcome, said, cited = _prophylaxis(run(knowledge, raw))
    assert "450 mg every 48 h" in said
    assert {"valcyte-us-label", "cockcroft1976-nephron-crcl"} <= set(cited)
    assert outcome == "insufficient_data"


def test_no_late_risk_alert_without_a_dose(knowledge: Knowledge) -> None:
    document = run(knowledge, _case(dialysis="hemodialysis"))
    assert "late-cmv-risk" not in alerts(document)
