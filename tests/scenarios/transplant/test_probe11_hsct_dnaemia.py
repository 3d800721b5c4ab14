"""Allogeneic HSCT with DNAemia and no site threshold (outside probe11 S3).

Sources: PREVYMIS US label §1 (letermovir is prophylaxis of CMV infection and disease) and Marty
2017 NEJM (the trial population had no detectable DNAemia at randomisation); ECIL-7 (the
pre-emptive threshold is left to the centre: the reference profile names none). With the
threshold unset a quantified DNAemia cannot be classified: prophylaxis is not recommended over
it (insufficient data), a rising load is a critical alert, and what a pre-emptive dose needs is
named. With the site's threshold the decision is unchanged (stop letermovir, pre-emptive therapy).
"""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, outcomes, regimens, run

NO_SITE: dict[str, Any] = {}

#: probe11 b02: R+ allo-HSCT day 20, not on letermovir, plasma 5,000 → 25,000 IU/mL, ANC 400.
B02: dict[str, Any] = {
    "id": "probe11-b02",
    "assessed_on": "2026-11-20",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 50, "weight_kg": 70, "height_cm": 175},
    "observations": [
        {"date": "2026-11-19", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"date": "2026-11-19", "code": "anc", "value": 400, "unit": "cells/uL"},
        {"date": "2026-11-12", "code": "cmv_dna", "specimen": "plasma", "value": 5000, "unit": "IU/mL"},
        {"date": "2026-11-19", "code": "cmv_dna", "specimen": "plasma", "value": 25000, "unit": "IU/mL"},
    ],
    "transplant": {
        "organ": "hsct",
        "allogeneic": True,
        "date": "2026-10-31",
        "donor_cmv_igg": "negative",
        "recipient_cmv_igg": "positive",
        "co_medications": ["cyclosporine"],
    },
    "presentation": {"disease": "asymptomatic_dnaemia"},
}


def _loads(first: int, second: int, **patient: Any) -> dict[str, Any]:
    raw = copy.deepcopy(B02)
    raw["observations"][2]["value"] = first
    raw["observations"][3]["value"] = second
    raw["patient"] = {**raw["patient"], **patient}
    return raw


def _unclassified(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in document["alerts"] if a["code"] == "dnaemia-unclassified"]


def test_rising_dnaemia_without_threshold_gives_no_letermovir_and_a_critical_alert(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, B02, site=NO_SITE)
    assert outcomes(document)["antiviral-prophylaxis"] == "insufficient_data"
    assert outcomes(document)["preemptive-therapy"] == "insufficient_data"
    assert regimens(document, "letermovir") == []
    (alert,) = _unclassified(document)
    assert alert["severity"] == "critical"
    assert "5000 IU/mL on 2026-11-12, 25000 IU/mL on 2026-11-19" in alert["message"]
    assert "not a treatment" in alert["message"]
    assert "setting:pet_threshold_iu_ml.hsct" in [m["item"] for m in document["missing"]]
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any("cannot be decided" in r for r in reasons)


def test_a_falling_load_is_a_warning_not_a_critical_alert(knowledge: Knowledge) -> None:
    document = run(knowledge, _loads(25000, 5000), site=NO_SITE)
    assert outcomes(document)["antiviral-prophylaxis"] == "insufficient_data"
    (alert,) = _unclassified(document)
    assert alert["severity"] == "warning"


def test_an_equal_load_is_not_rising(knowledge: Knowledge) -> None:
    (alert,) = _unclassified(run(knowledge, _loads(5000, 5000), site=NO_SITE))
    assert alert["severity"] == "warning"


def test_the_missing_weight_a_preemptive_dose_needs_is_named(knowledge: Knowledge) -> None:
    """probe11 b12: no weight; at ANC 400 (val)ganciclovir are excluded, foscarnet needs it."""
    raw = _loads(3000, 40000)
    del raw["patient"]["weight_kg"]
    document = run(knowledge, raw, site=NO_SITE)
    missing = {m["item"]: m["why"] for m in document["missing"]}
    assert "setting:pet_threshold_iu_ml.hsct" in missing
    assert "weight" in missing and "pre-emptive foscarnet dose" in missing["weight"]


def test_with_the_sites_threshold_letermovir_stops_for_preemptive_foscarnet(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, B02)  # the example site: 500 IU/mL, foscarnet below ANC 1000
    assert outcomes(document)["antiviral-prophylaxis"] == "not_indicated"
    assert outcomes(document)["preemptive-therapy"] == "recommended"
    assert [r["drug"] for r in document["regimens"]] == ["foscarnet"]
    assert _unclassified(document) == []


def test_without_dnaemia_letermovir_is_still_recommended(knowledge: Knowledge) -> None:
    raw = copy.deepcopy(B02)
    raw["observations"] = raw["observations"][:2]
    document = run(knowledge, raw, site=NO_SITE)
    assert outcomes(document)["antiviral-prophylaxis"] == "recommended"
    assert [r["dose_mg"] for r in regimens(document, "letermovir")] == [240]
    assert "dnaemia-unclassified" not in alerts(document)


def test_a_running_letermovir_keeps_its_dose_check_without_a_regimen(knowledge: Knowledge) -> None:
    """480 mg with cyclosporine (label: 240 mg) beside unclassified DNAemia: the dose alert stays."""
    raw = copy.deepcopy(B02)
    raw["therapy"] = [
        {"drug": "letermovir", "start": "2026-11-02", "dose_mg": 480, "every_h": 24,
         "route": "oral", "indication": "prophylaxis"}
    ]  # fmt: skip
    document = run(knowledge, raw, site=NO_SITE)
    assert outcomes(document)["antiviral-prophylaxis"] == "insufficient_data"
    assert regimens(document, "letermovir") == []
    assert "dose-above-target" in alerts(document)
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any("if it continues, 240 mg every 24 h" in r for r in reasons)
