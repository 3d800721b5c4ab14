"""A genotype already reported is read, and a fixed-length cidofovir induction that overruns is
flagged (outside probe11 W5, W6).

Sources: Kotton 2018 SOT consensus / Chemaly 2019 (refractory CMV: genotype UL97/UL54; a reported
genotype is interpreted, not awaited); VISTIDE US label, Dosage and administration (induction
5 mg/kg once weekly for 2 consecutive weeks, then maintenance 5 mg/kg once every 2 weeks).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, run

#: probe11 b08 (kidney D+/R−, valganciclovir induction 3 weeks, load 80,000 → 60,000 IU/mL) as sent.
B08: dict[str, Any] = yaml.safe_load(
    """
format: cmvcds-case/1
id: probe11-b08
assessed_on: '2026-11-20'
context: transplant
patient: {sex: male, age_years: 50, weight_kg: 70, height_cm: 175}
observations:
- {date: '2026-11-19', code: creatinine, value: 1.1, unit: mg/dL}
- {date: '2026-11-19', code: anc, value: 1800, unit: cells/uL}
- {date: '2026-10-29', code: cmv_dna, specimen: plasma, value: 80000, unit: IU/mL}
- {date: '2026-11-12', code: cmv_dna, specimen: plasma, value: 50000, unit: IU/mL}
- {date: '2026-11-19', code: cmv_dna, specimen: plasma, value: 60000, unit: IU/mL}
transplant: {organ: kidney, date: '2026-05-10', donor_cmv_igg: positive, recipient_cmv_igg: negative,
  co_medications: [tacrolimus]}
presentation: {disease: cmv_syndrome, severity: moderate, course: stable}
genotype:
- {date: '2026-11-18', mutations: [], genes_tested: [UL97, UL54]}
therapy:
- {drug: valganciclovir, dose_mg: 900, every_h: 12, route: oral, start: '2026-10-29', indication: induction}
"""
)

#: probe11 b09: heart, IV ganciclovir, 20,000 → 90,000 IU/mL, worsening, UL54:A987G reported.
B09: dict[str, Any] = yaml.safe_load(
    """
format: cmvcds-case/1
id: probe11-b09
assessed_on: '2026-11-20'
context: transplant
patient: {sex: male, age_years: 50, weight_kg: 70, height_cm: 175}
observations:
- {date: '2026-11-19', code: creatinine, value: 1.0, unit: mg/dL}
- {date: '2026-11-19', code: anc, value: 1800, unit: cells/uL}
- {date: '2026-10-29', code: cmv_dna, specimen: plasma, value: 20000, unit: IU/mL}
- {date: '2026-11-19', code: cmv_dna, specimen: plasma, value: 90000, unit: IU/mL}
transplant: {organ: heart, date: '2026-03-10', donor_cmv_igg: positive, recipient_cmv_igg: negative,
  co_medications: [tacrolimus]}
presentation: {disease: cmv_syndrome, severity: moderate, course: worsening}
genotype:
- {date: '2026-11-18', mutations: [UL54:A987G], genes_tested: [UL97, UL54]}
therapy:
- {drug: ganciclovir, dose_mg: 350, every_h: 12, route: iv, start: '2026-10-29', indication: induction}
"""
)


def test_a_negative_genotype_is_read_not_awaited(knowledge: Knowledge) -> None:
    document = run(knowledge, B08)
    reasons = [r for d in document["decisions"] for r in d["reasons"]]
    assert not any("while genotyping is pending" in r for r in reasons)
    assert any("genotype of 2026-11-18 (UL97, UL54) found no mutation" in r for r in reasons)


def test_without_a_genotype_it_is_still_pending(knowledge: Knowledge) -> None:
    raw = copy.deepcopy(B08)
    del raw["genotype"]
    reasons = [r for d in run(knowledge, raw)["decisions"] for r in d["reasons"]]
    assert not any("found no mutation" in r for r in reasons)


def test_a_reported_mutation_is_not_called_uncommon(knowledge: Knowledge) -> None:
    genotyping = decision(run(knowledge, B09), "resistance-genotyping")
    assert not any("uncommon" in r for r in genotyping["reasons"])
    # debt23: the reading already made is said, not "interpret it with the resistance report"
    assert any(
        "A genotype was reported on 2026-11-18 (UL97, UL54): UL54:A987G. Its reading:" in r
        for r in genotyping["reasons"]
    )
    assert genotyping["outcome"] == "not_indicated"


def _cidofovir(on: str) -> dict[str, Any]:
    return {
        "id": "probe11-b25",
        "assessed_on": on,
        "context": "transplant",
        "patient": {"sex": "male", "age_years": 50, "weight_kg": 70, "height_cm": 175},
        "observations": [
            {"date": "2026-10-20", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
            {"date": "2026-10-20", "code": "urine_protein", "value": 30, "unit": "mg/dL"},
        ],
        "transplant": {"organ": "hsct", "allogeneic": True, "date": "2026-08-01",
                       "donor_cmv_igg": "negative", "recipient_cmv_igg": "positive"},
        "therapy": [{"drug": "cidofovir", "dose_mg": 350, "every_h": 168, "route": "iv",
                     "start": "2026-10-22", "indication": "induction"}],
    }  # fmt: skip


def _overrun(document: dict[str, Any]) -> list[str]:
    return [a["message"] for a in document["alerts"] if "still ordered every 168 h" in a["message"]]


def test_weekly_cidofovir_on_day_14_is_flagged_day_13_is_not(knowledge: Knowledge) -> None:
    assert _overrun(run(knowledge, _cidofovir("2026-11-04"))) == []  # day 13
    (message,) = _overrun(run(knowledge, _cidofovir("2026-11-05")))  # day 14
    assert "once weekly for 2 consecutive weeks" in message and "maintenance" in message
    assert "therapy-beyond-evidence" in alerts(run(knowledge, _cidofovir("2026-11-20")))


# --- U4, U2: a running labelled prophylaxis drug; IV ganciclovir on haemodialysis ---------------

KIDNEY: dict[str, Any] = {
    "id": "probe11-kidney",
    "assessed_on": "2026-11-20",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 50, "weight_kg": 70, "height_cm": 175},
    "observations": [{"date": "2026-11-19", "code": "creatinine", "value": 1.2, "unit": "mg/dL"}],
    "transplant": {"organ": "kidney", "date": "2026-11-15", "donor_cmv_igg": "positive",
                   "recipient_cmv_igg": "negative", "co_medications": ["tacrolimus"]},
}  # fmt: skip


def _letermovir_running() -> dict[str, Any]:
    raw = copy.deepcopy(KIDNEY)
    raw["therapy"] = [{"drug": "letermovir", "dose_mg": 480, "every_h": 24, "route": "oral",
                       "start": "2026-11-16", "indication": "prophylaxis"}]  # fmt: skip
    return raw


def test_a_running_labelled_letermovir_is_kept_under_the_reference_profile(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, _letermovir_running(), site={})
    assert [r["drug"] for r in document["regimens"]] == ["letermovir"]
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any("letermovir prophylaxis running since 2026-11-16" in r and "continued" in r for r in reasons)


def test_the_sites_own_choice_is_for_a_new_course(knowledge: Knowledge) -> None:
    """A site choosing valganciclovir does not switch, nor add to, a running labelled letermovir
    (debt22 and fix11b merged: one rule, the running option goes on)."""
    document = run(knowledge, _letermovir_running(), site={"kidney_dpos_rneg_drug": "valganciclovir"})
    assert [r["drug"] for r in document["regimens"]] == ["letermovir"]
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any("is for a new course" in r for r in reasons)


def test_on_haemodialysis_the_iv_ganciclovir_dose_is_named(knowledge: Knowledge) -> None:
    """CYTOVENE-IV renal table on haemodialysis: 1.25 mg/kg × 70 kg = 87.5 mg, then 0.625 mg/kg =
    43.75 mg, three times weekly after dialysis."""
    raw = copy.deepcopy(KIDNEY)
    raw["patient"]["dialysis"] = "hemodialysis"
    raw["observations"][0]["value"] = 7.0
    document = run(knowledge, raw, site={})
    prophylaxis = decision(document, "antiviral-prophylaxis")
    assert prophylaxis["outcome"] == "specialist_review"
    assert any("IV ganciclovir: if chosen, 87.5 mg (1.25 mg/kg)" in r and "43.75 mg" in r
               for r in prophylaxis["reasons"])  # fmt: skip
    assert document["regimens"] == []
