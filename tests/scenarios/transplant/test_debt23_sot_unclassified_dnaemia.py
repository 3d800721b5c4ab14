"""SOT prophylaxis over a quantified DNAemia the tool cannot classify (debt23 item 1).

Sources: Kotton 2018 SOT consensus / Razonable 2013 (pre-emptive thresholds are assay- and
centre-specific; at or above the centre's threshold treatment-dose therapy replaces prophylaxis,
below it prophylaxis goes on with a repeat load); fix11b/review12 (ADR 0032) applied this to HSCT
and to SOT letermovir. Vignette: kidney D+/R− (transplant 2026-10-10), valganciclovir 900 mg once
daily since day 3 (CrCl ≥ 60 mL/min: the VALCYTE prophylaxis dose), plasma CMV DNA 800 IU/mL on
day 40. With no site threshold the load cannot be called below or above it: prophylaxis is
neither "recommended" as if the blood were negative nor started; the decision is insufficient
data naming ``pet_threshold_iu_ml.sot`` and says the dose if it continues, without a regimen.
With the site's threshold 1,000 IU/mL: 999 is below (prophylaxis continues, repeat load),
1,000 is at it (pre-emptive therapy replaces prophylaxis).
"""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, outcomes, regimens, run

VIGNETTE: dict[str, Any] = {
    "id": "debt23-sot-1",
    "assessed_on": "2026-11-20",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 50, "weight_kg": 70, "height_cm": 175},
    "observations": [
        {"date": "2026-11-19", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {
            "date": "2026-11-19",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 800,
            "unit": "IU/mL",
        },
    ],
    "transplant": {
        "organ": "kidney",
        "date": "2026-10-10",
        "donor_cmv_igg": "positive",
        "recipient_cmv_igg": "negative",
        "co_medications": ["tacrolimus"],
    },
    "therapy": [
        {
            "drug": "valganciclovir",
            "indication": "prophylaxis",
            "start": "2026-10-13",
            "dose_mg": 900,
            "every_h": 24,
            "route": "oral",
        }
    ],
}


def _case(load: int | None = 800, course: bool = True) -> dict[str, Any]:
    raw = copy.deepcopy(VIGNETTE)
    if load is None:
        raw["observations"] = raw["observations"][:1]
    else:
        raw["observations"][1]["value"] = load
    if not course:
        del raw["therapy"]
    return raw


def test_running_valganciclovir_is_not_recommended_over_an_unclassified_load(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, _case(), site={})
    assert outcomes(document)["antiviral-prophylaxis"] == "insufficient_data"
    assert outcomes(document)["preemptive-therapy"] == "specialist_review"
    assert regimens(document, "valganciclovir") == []
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any(
        "pet_threshold_iu_ml.sot is not set: valganciclovir prophylaxis cannot be decided" in r
        and "if it continues, 900 mg every 24 h" in r
        for r in reasons
    )
    assert "setting:pet_threshold_iu_ml.sot" in [m["item"] for m in document["missing"]]
    assert "check-dosing-adherence" in alerts(document)  # the rest of the answer stands


def test_no_course_prophylaxis_is_not_started_over_an_unclassified_load(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, _case(course=False), site={})
    assert outcomes(document)["antiviral-prophylaxis"] == "insufficient_data"
    assert regimens(document, "valganciclovir") == []
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any("prophylaxis would be 900 mg every 24 h through day 200" in r for r in reasons)
    assert not any("start now" in r for r in reasons)
    assert "dnaemia-unclassified" in alerts(document)


def test_without_a_load_prophylaxis_is_recommended(knowledge: Knowledge) -> None:
    """The control: no DNAemia, no threshold needed."""
    document = run(knowledge, _case(load=None), site={})
    assert outcomes(document)["antiviral-prophylaxis"] == "recommended"
    assert regimens(document, "valganciclovir") != []


def test_just_below_the_sites_threshold_prophylaxis_continues(knowledge: Knowledge) -> None:
    document = run(knowledge, _case(load=999), site={"pet_threshold_iu_ml.sot": 1000})
    assert outcomes(document)["antiviral-prophylaxis"] == "recommended"
    assert outcomes(document)["preemptive-therapy"] == "not_indicated"
    assert regimens(document, "valganciclovir") != []
    reasons = decision(document, "preemptive-therapy")["reasons"]
    assert any("continue prophylaxis and repeat the viral load in 7 days" in r for r in reasons)


def test_at_the_sites_threshold_pre_emptive_therapy_replaces_it(knowledge: Knowledge) -> None:
    document = run(knowledge, _case(load=1000), site={"pet_threshold_iu_ml.sot": 1000})
    assert outcomes(document)["antiviral-prophylaxis"] == "not_indicated"
    assert outcomes(document)["preemptive-therapy"] == "recommended"
