"""review23b of fix13's pregnancy changes, rebuilt as vignettes on the design baseline
(pregnancy_cases.py: LMP 2025-12-20, EDD 2026-09-26; AF CMV DNA positive sampled 2026-05-12,
reported 2026-05-19).

Expected answers, worked from seed 000 (AIFA Law 648/96, Infez Med 2021 letter):
- "Pregnant women eligible for in utero treatment … in presence of … signs of mild to moderate
  fetal disease … In this case, the treatment continues until the end of the gestation." The
  "additional exclusion criteria in case of confirmed CMV fetal infection" (a severe cerebral
  sign, no sign of fetal disease) are judged when eligibility is; the letter says nothing of
  stopping a running in-utero course for them. So: signs that fade do not stop it (it continues
  to delivery); a severe sign appearing is a specialist's decision (critical alert), never an
  automatic stop. The maternal exclusions ("age below 12 years, creatinine values >1.1 and
  glomerular filtration <90 mL/minute") are about the drug's safety: they stop a running course.
- The maternal exclusions need no gestational date: with a contradictory dating they still
  exclude and stop a running course, the dating named as also needed; the maternal infection
  and the monitoring counted from a course's start are still given.
"""

from __future__ import annotations

import copy
from typing import Any

from pregnancy_cases import AMNIO, BASELINE, case, run

from cmvcds.knowledge import Knowledge

QUALIFYING = {"date": "2026-05-19", "findings": ["hepatomegaly", "ventriculomegaly"],
              "ventricle_mm": 12}  # fmt: skip
IN_UTERO = [
    {"drug": "valacyclovir", "start": "2026-03-02", "stop": "2026-05-19", "dose_mg": 2000,
     "every_h": 6},
    {"drug": "valacyclovir", "start": "2026-05-20", "dose_mg": 2000, "every_h": 6},
]  # fmt: skip


def outcomes(doc: dict[str, Any]) -> dict[str, str]:
    return {d["id"]: d["outcome"] for d in doc["decisions"]}


def stops(doc: dict[str, Any]) -> list[str]:
    return [s["earliest"] for s in doc["schedule"] if s["event"] == "stop-valacyclovir"]


def told_to_stop(doc: dict[str, Any]) -> bool:
    return any(a["message"].startswith("Stop valacyclovir now") for a in doc["alerts"])


def running(latest: dict[str, Any] | None, creatinine: float | None = None) -> dict[str, Any]:
    """In-utero treatment since 2026-05-20 (Table 1 signs on 05-19), a new ultrasound
    ``latest`` on 2026-06-09, assessed 2026-06-10 (24+4)."""
    observations = [*copy.deepcopy(BASELINE["observations"]), AMNIO]
    if creatinine is not None:
        observations.append(
            {"date": "2026-06-09", "code": "creatinine", "value": creatinine, "unit": "mg/dL"}
        )
    scans = [*copy.deepcopy(BASELINE["ultrasound"]), QUALIFYING]
    if latest is not None:
        scans.append({"date": "2026-06-09", **latest})
    return case(assessed_on="2026-06-10", observations=observations, ultrasound=scans,
                therapy=copy.deepcopy(IN_UTERO))  # fmt: skip


def test_signs_that_fade_do_not_stop_in_utero_treatment(knowledge: Knowledge) -> None:
    doc = run(knowledge, running({"findings": []}))
    fetal = doc["decisions"][1]
    assert fetal["outcome"] == "recommended"
    assert not told_to_stop(doc) and "2026-06-10" not in stops(doc)
    assert any("qualifying it on 2026-05-20" in r for r in fetal["reasons"])
    assert any("continues until the end of the gestation" in r for r in fetal["reasons"])
    regimen = doc["regimens"][0]
    assert (regimen["dose_mg"], regimen["every_h"], regimen["stop"]) == (2000, 6, "2026-09-26")
    assert "fetal_blood" not in [m["item"] for m in doc["missing"]]


def test_no_sign_ever_on_record_still_excludes_and_stops(knowledge: Knowledge) -> None:
    """A course started after the positive result with no qualifying reading anywhere in the
    case: the no-sign exclusion stands (the eligibility it needs was never shown)."""
    raw = running({"findings": []})
    raw["ultrasound"] = [u for u in raw["ultrasound"] if u["date"] != "2026-05-19"]
    doc = run(knowledge, raw)
    assert doc["decisions"][1]["outcome"] == "excluded"
    assert told_to_stop(doc) and "2026-06-10" in stops(doc)


def test_severe_sign_during_in_utero_treatment_is_a_specialist_decision(
    knowledge: Knowledge,
) -> None:
    doc = run(knowledge, running({"findings": ["porencephaly"]}))
    fetal = doc["decisions"][1]
    assert fetal["outcome"] == "specialist_review"
    first = doc["alerts"][0]
    assert (first["code"], first["severity"]) == ("outside-evidence-base", "critical")
    assert "porencephaly" in first["message"]
    assert "specialist's decision" in first["message"]
    assert not told_to_stop(doc) and "2026-06-10" not in stops(doc)
    assert doc["regimens"] == []


def test_severe_sign_and_creatinine_rise_stops_for_the_creatinine(knowledge: Knowledge) -> None:
    """Creatinine 1.3 > 1.1 (A7) is drug safety: it stops whatever the fetal reading."""
    doc = run(knowledge, running({"findings": ["porencephaly"]}, creatinine=1.3))
    fetal = doc["decisions"][1]
    assert fetal["outcome"] == "excluded"
    assert (
        fetal["reasons"][0]
        == "Creatinine 1.30 mg/dL on 2026-06-09 > 1.1 mg/dL: excluded (rule A7)."
    )
    assert told_to_stop(doc) and "2026-06-10" in stops(doc)


def test_signs_that_fade_and_creatinine_rise_stops(knowledge: Knowledge) -> None:
    doc = run(knowledge, running({"findings": []}, creatinine=1.3))
    assert doc["decisions"][1]["outcome"] == "excluded"
    assert told_to_stop(doc) and "2026-06-10" in stops(doc)


# --- contradictory dating: LMP 2025-12-20 (EDD 2026-09-26) and EDD 2026-10-26: 30 days > 21 ---


def contradictory(**changes: Any) -> dict[str, Any]:
    raw = case(**changes)
    raw["pregnancy"]["edd"] = "2026-10-26"
    return raw


def test_contradictory_dating_creatinine_rise_excludes_and_stops(knowledge: Knowledge) -> None:
    observations = [*copy.deepcopy(BASELINE["observations"]),
                    {"date": "2026-03-19", "code": "creatinine", "value": 1.3, "unit": "mg/dL"}]  # fmt: skip
    therapy = [{"drug": "valacyclovir", "start": "2026-03-02", "dose_mg": 2000, "every_h": 6}]
    doc = run(knowledge, contradictory(assessed_on="2026-03-20", observations=observations,
                                       therapy=therapy))  # fmt: skip
    decision = doc["decisions"][0]
    assert decision["outcome"] == "excluded"
    assert (
        decision["reasons"][0]
        == "Creatinine 1.30 mg/dL on 2026-03-19 > 1.1 mg/dL: excluded (rule A7)."
    )
    assert any("dating is also needed" in r for r in decision["reasons"])
    assert "pregnancy.dating" in [m["item"] for m in doc["missing"]]
    assert doc["alerts"][0]["message"].startswith("Stop valacyclovir now")
    assert stops(doc) == ["2026-03-20"]


def test_contradictory_dating_dialysis_excludes_and_stops(knowledge: Knowledge) -> None:
    therapy = [{"drug": "valacyclovir", "start": "2026-02-25", "dose_mg": 2000, "every_h": 6}]
    doc = run(knowledge, contradictory(patient={**BASELINE["patient"], "dialysis": "hemodialysis"},
                                       therapy=therapy))  # fmt: skip
    assert outcomes(doc) == {"valacyclovir-prevention": "excluded"}
    assert doc["decisions"][0]["reasons"][0].startswith("On hemodialysis")
    assert told_to_stop(doc) and stops(doc) == ["2026-03-02"]


def test_contradictory_dating_age_11_excludes(knowledge: Knowledge) -> None:
    patient = {k: v for k, v in BASELINE["patient"].items() if k != "birth_date"}
    doc = run(knowledge, contradictory(patient={**patient, "age_years": 11}))
    assert outcomes(doc) == {"valacyclovir-prevention": "excluded"}
    assert doc["decisions"][0]["reasons"][0].startswith("Age 11 years < 12 years")


def test_contradictory_dating_without_exclusion_stays_insufficient(knowledge: Knowledge) -> None:
    doc = run(knowledge, contradictory())
    assert outcomes(doc) == {"valacyclovir-prevention": "insufficient_data"}
    assert [m["item"] for m in doc["missing"]] == ["pregnancy.dating"]
    assert not told_to_stop(doc)


def test_contradictory_dating_gives_what_needs_no_date(knowledge: Knowledge) -> None:
    """The infection (seroconversion 01-10 / 02-20) and the monitoring counted from the in-utero
    course's start (05-20) need no gestational date; the monitoring runs to the latest EDD a
    dating given implies (2026-10-26), the trimester timing is not given."""
    observations = [*copy.deepcopy(BASELINE["observations"]), AMNIO]
    raw = contradictory(assessed_on="2026-06-10", observations=observations,
                        ultrasound=[QUALIFYING], therapy=copy.deepcopy(IN_UTERO))  # fmt: skip
    doc = run(knowledge, raw)
    infection = doc["findings"]["maternal_infection"]
    assert (infection["status"], infection["criterion"]) == ("primary", "seroconversion")
    assert infection["onset_window"] == ["2026-01-11", "2026-02-20"]
    assert "timing" not in infection
    assert doc["decisions"][1]["outcome"] == "recommended"
    planned = [s["earliest"] for s in doc["schedule"] if s["event"] != "stop-valacyclovir"]
    assert planned and min(planned) >= "2026-05-20" and max(planned) < "2026-10-26"
    assert any(s["event"] == "fetal-ultrasound" for s in doc["schedule"])
    assert any("2026-10-26, the latest EDD" in r for r in doc["decisions"][1]["reasons"])


# --- 12-17 years: the bedside Schwartz 2009 estimate (0.413 × height cm / creatinine mg/dL) ---


def teenager(height: float | None, creatinine: float, age: int = 17) -> dict[str, Any]:
    """No laboratory eGFR; the creatinine of 2026-02-20 and (optionally) the height."""
    patient = {k: v for k, v in BASELINE["patient"].items() if k not in ("birth_date", "height_cm")}
    patient["age_years"] = age
    if height is not None:
        patient["height_cm"] = height
    observations = [o for o in BASELINE["observations"] if o["code"] not in ("egfr", "creatinine")]
    observations.append(
        {"date": "2026-02-20", "code": "creatinine", "value": creatinine, "unit": "mg/dL"}
    )
    return case(patient=patient, observations=observations)


def test_seventeen_with_height_clears_the_gfr_by_schwartz(knowledge: Knowledge) -> None:
    """0.413 × 166 / 0.62 = 110.58: truncated to 110.5, >= 90: the criterion is cleared."""
    doc = run(knowledge, teenager(166, 0.62))
    assert outcomes(doc) == {"valacyclovir-prevention": "recommended"}
    renal = doc["findings"]["renal"]
    assert renal["egfr"] == 110.5
    assert renal["egfr_method"].startswith("bedside Schwartz 2009 (0.413 × height 166 cm")
    assert "schwartz2009-jasn-bedside" in doc["decisions"][0]["citations"]


def test_schwartz_at_exactly_90_clears(knowledge: Knowledge) -> None:
    """0.413 × 180 / 0.826 = 90 exactly: not < 90 (A7 strict as printed)."""
    doc = run(knowledge, teenager(180, 0.826, age=12))
    assert outcomes(doc) == {"valacyclovir-prevention": "recommended"}
    assert doc["findings"]["renal"]["egfr"] == 90


def test_schwartz_below_90_never_excludes(knowledge: Knowledge) -> None:
    """0.413 × 180 / 0.827 = 89.89: a computed value < 90 is shown and the laboratory's GFR is
    asked for; it does not exclude (I-4)."""
    doc = run(knowledge, teenager(180, 0.827))
    assert outcomes(doc) == {"valacyclovir-prevention": "insufficient_data"}
    assert doc["findings"]["renal"]["egfr_computed"] == 89.8
    why = next(m["why"] for m in doc["missing"] if m["item"] == "egfr")
    assert "bedside Schwartz 2009 estimate from the creatinine and the height gives 89.8" in why
    assert not told_to_stop(doc)


def test_seventeen_without_height_asks_for_height_or_gfr(knowledge: Knowledge) -> None:
    doc = run(knowledge, teenager(None, 0.62))
    assert outcomes(doc) == {"valacyclovir-prevention": "insufficient_data"}
    why = next(m["why"] for m in doc["missing"] if m["item"] == "egfr")
    assert "give the height" in why and "laboratory's GFR" in why
    assert "egfr" not in doc["findings"]["renal"]
