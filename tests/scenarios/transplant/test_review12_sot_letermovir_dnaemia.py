"""Kidney D+/R− on letermovir prophylaxis with a breakthrough DNAemia (review12 S4, repro r51).

Sources: PREVYMIS US label §1 (letermovir is prophylaxis of CMV disease in kidney D+/R−
recipients, not a treatment) and Kotton 2018 / AST 2019 (breakthrough DNAemia on prophylaxis is
treated). fix11b (probe11 S3) applied this to HSCT; debt22 then called a running kidney letermovir
"continued" under the reference profile even over 30,000 IU/mL. With the SOT threshold unset the
DNAemia cannot be classified: letermovir is not said to continue (insufficient data naming the
threshold, no regimen), the pre-emptive decision names the specialist review; with the site's
threshold pre-emptive valganciclovir replaces it and "continued" is not said either.
"""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, outcomes, regimens, run

NO_SITE: dict[str, Any] = {}

R51: dict[str, Any] = {
    "id": "review12-r51",
    "assessed_on": "2026-11-20",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 50, "weight_kg": 70, "height_cm": 175},
    "observations": [
        {"date": "2026-11-19", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {
            "date": "2026-11-19",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 30000,
            "unit": "IU/mL",
        },
    ],
    "transplant": {
        "organ": "kidney",
        "date": "2026-11-15",
        "donor_cmv_igg": "positive",
        "recipient_cmv_igg": "negative",
        "co_medications": ["tacrolimus"],
    },
    "therapy": [
        {
            "drug": "letermovir",
            "indication": "prophylaxis",
            "start": "2026-11-16",
            "dose_mg": 480,
            "every_h": 24,
            "route": "oral",
        },
    ],
}


def _without_load() -> dict[str, Any]:
    raw = copy.deepcopy(R51)
    raw["observations"] = raw["observations"][:1]
    return raw


def test_running_letermovir_is_not_continued_over_an_unclassified_dnaemia(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, R51, site=NO_SITE)
    assert outcomes(document)["antiviral-prophylaxis"] == "insufficient_data"
    assert outcomes(document)["preemptive-therapy"] == "specialist_review"
    assert regimens(document, "letermovir") == []
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any("cannot be decided" in r and "not a treatment" in r for r in reasons)
    assert any("if it continues, 480 mg every 24 h" in r for r in reasons)
    assert not any("continued" in r for r in reasons)
    assert "dnaemia-unclassified" in alerts(document)
    assert "setting:pet_threshold_iu_ml.sot" in [m["item"] for m in document["missing"]]


def test_without_dnaemia_the_running_letermovir_is_continued(knowledge: Knowledge) -> None:
    """The control: debt22's rule stands when there is no DNAemia."""
    document = run(knowledge, _without_load(), site=NO_SITE)
    assert outcomes(document)["antiviral-prophylaxis"] == "recommended"
    assert regimens(document, "letermovir") != []
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any("continued" in r for r in reasons)


def test_with_the_sites_threshold_pre_emptive_therapy_replaces_it(knowledge: Knowledge) -> None:
    document = run(knowledge, R51, site={"pet_threshold_iu_ml.sot": 1000})
    assert outcomes(document)["antiviral-prophylaxis"] == "not_indicated"
    assert outcomes(document)["preemptive-therapy"] == "recommended"
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert not any("continued" in r for r in reasons)
