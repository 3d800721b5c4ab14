"""Helpers of the immune-status vignettes: a site's settings, run a case, pick a decision."""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.settings import parse_settings
from cmvcds.knowledge import Knowledge

#: Today of the vignettes (the suite's TODAY is 2026-11-21; every case is assessed before it).
TODAY_ISO = "2026-11-21"

#: The example site (examples/settings.yaml); a vignette removes or changes one value.
SITE: dict[str, Any] = {
    "pet_threshold_iu_ml.sot": 1000,
    "pet_threshold_iu_ml.hsct": 500,
    "clearance_criterion": "below_lloq",
    "clearance_consecutive_weekly_tests": 2,
    "sot_rplus_strategy.kidney": "prophylaxis",
    "sot_rplus_strategy.liver": "preemptive",
    "sot_rplus_strategy.heart": "prophylaxis",
    "sot_rplus_strategy.pancreas": "prophylaxis",
    "kidney_dpos_rneg_drug": "valganciclovir",
    "liver_dpos_rneg_strategy": "prophylaxis",
    "prophylaxis_days.liver.dpos_rneg": 100,
    "prophylaxis_days.heart.dpos_rneg": 200,
    "prophylaxis_days.pancreas.dpos_rneg": 100,
    "prophylaxis_days.lung.dpos_rneg": 365,
    "prophylaxis_days.lung.rpos": 200,
    "prophylaxis_days.intestine.rpos": 200,
    "pet_surveillance_days_sot": 84,
    "hsct_pet_foscarnet_anc_per_ul": 1000,
    "hsct_letermovir_extension.haploidentical": True,
    "hsct_letermovir_extension.mismatched": True,
    "hsct_letermovir_extension.cord_blood": True,
    "hsct_letermovir_extension.t_cell_depleted": True,
    "hsct_letermovir_extension.gvhd_steroids": True,
    "hiv_cd4_sustained_months": 3,
    "hiv_min_therapy_months": 3,
    "hiv_induction_days": 21,
    "secondary_prophylaxis_sot": "surveillance",
    "secondary_prophylaxis_days": 60,
}


def run(
    knowledge: Knowledge, raw: dict[str, Any], site: dict[str, Any] | None = None, **changes: Any
) -> dict[str, Any]:
    """Assess ``raw`` under ``site`` (SITE by default; ``changes`` override, None removes)."""
    from datetime import date

    values = copy.deepcopy(SITE if site is None else site)
    for name, value in changes.items():
        key = name.replace("__", ".")
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    case = parse_case(copy.deepcopy(raw), knowledge, today=date.fromisoformat(TODAY_ISO))
    settings = parse_settings(values, knowledge, origin="test")
    return assess(case, knowledge, settings=settings).to_dict()


def decision(document: dict[str, Any], decision_id: str) -> dict[str, Any]:
    found = [d for d in document["decisions"] if d["id"] == decision_id]
    assert len(found) == 1, (
        f"{decision_id}: {len(found)} decisions in {[d['id'] for d in document['decisions']]}"
    )
    return found[0]


def outcomes(document: dict[str, Any]) -> dict[str, str]:
    return {d["id"]: d["outcome"] for d in document["decisions"]}


def alerts(document: dict[str, Any]) -> set[str]:
    return {a["code"] for a in document["alerts"]}


def regimens(document: dict[str, Any], drug: str | None = None) -> list[dict[str, Any]]:
    return [r for r in document["regimens"] if drug is None or r["drug"] == drug]


def events(document: dict[str, Any], event: str) -> list[str]:
    return sorted({s["earliest"] for s in document["schedule"] if s["event"] == event})


def with_(raw: dict[str, Any], **parts: Any) -> dict[str, Any]:
    """A copy of ``raw`` with top-level parts replaced (``patient=…``, ``transplant=…``)."""
    out = copy.deepcopy(raw)
    for key, value in parts.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out
