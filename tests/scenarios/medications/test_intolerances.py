"""Vignettes of probe9 findings 1, 7 and 10: a recorded intolerance is honoured in every pathway
that recommends a drug; a running valacyclovir course is compared with the protocol dose; the HIV
no-prophylaxis reason fits the patient's ART and CD4.

Each vignette is a probe9 vignette (``/tmp/probe9/work/{cases,extra}``, inlined here) assessed as
given (baseline) and with one thing changed. Sources:
- A drug on ``patient.intolerances`` is never dosed: the list does not say whether the reaction
  was a hypersensitivity (every label's contraindication, e.g. VALTREX: "hypersensitivity ... to
  valacyclovir, acyclovir"; VALCYTE: "to valganciclovir or ganciclovir") or a milder intolerance,
  so the decision is a specialist's (``drugs/policy.yaml`` ``intolerance``, project policy).
- Cross-reactivity the labels state: VALCYTE §4 (hypersensitivity to valganciclovir *or
  ganciclovir*); CYTOVENE-IV §4 (ganciclovir *or valganciclovir*): the prodrug pair.
- AIFA 648/96 (seed 000): valacyclovir 2 g every 6 hours (8 g/day); the protocol names no other
  drug, so a valacyclovir-intolerant woman goes to specialist review.
- US HIV OI guideline: no primary CMV prophylaxis; ART that keeps CD4 above 100 cells/µL is the
  prevention; valganciclovir 900 mg twice daily for retinitis induction; intravitreal ganciclovir
  2 mg or foscarnet 2.4 mg for an immediately sight-threatening lesion.
- Kimberlin 2015: congenital valganciclovir 16 mg/kg twice daily.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from tests.conftest import TODAY
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.engine.dosing import (
    dose_patient_from_case,
    drug_label,
    drugs_available,
    recommend_dose,
)
from cmvcds.knowledge import Knowledge

# probe9 vignette p26 (cases/p26_valacyclovir_allergy.yaml) without its intolerance: primary
# infection by criterion (b) at 8+0, creatinine 0.6 mg/dL.
PREGNANCY: dict[str, Any] = {
    "format": "cmvcds-case/1",
    "id": "p26",
    "assessed_on": "2026-03-04",
    "context": "pregnancy",
    "patient": {"sex": "female", "age_years": 30, "weight_kg": 65, "height_cm": 165},
    "pregnancy": {"lmp": "2026-01-05"},
    "observations": [
        {"date": "2026-03-02", "code": "cmv_igg", "result": "positive"},
        {"date": "2026-03-02", "code": "cmv_igm", "result": "positive"},
        {"date": "2026-03-02", "code": "cmv_igg_avidity", "result": "low"},
        {"date": "2026-03-02", "code": "creatinine", "value": 0.6, "unit": "mg/dL"},
    ],
}

# probe9 vignette x01 (extra/x01_hiv_vgc_intolerant.yaml) without its intolerances: active zone 2
# retinitis, CD4 30, not on ART, creatinine 0.9 mg/dL.
HIV: dict[str, Any] = {
    "format": "cmvcds-case/1",
    "id": "x01",
    "assessed_on": "2026-03-10",
    "context": "hiv",
    "patient": {"sex": "male", "age_years": 38, "weight_kg": 70, "height_cm": 178},
    "hiv": {"on_art": False, "retinitis": {"zone": 2, "active": True}},
    "observations": [
        {"date": "2026-03-09", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"date": "2026-03-09", "code": "cd4", "value": 30, "unit": "cells/uL"},
    ],
}

# probe9 vignette c01 (cases/c01_neonate_start.yaml): a symptomatic term neonate on day 9.
CONGENITAL: dict[str, Any] = {
    "format": "cmvcds-case/1",
    "id": "c01",
    "assessed_on": "2026-03-10",
    "context": "congenital",
    "patient": {"sex": "male", "birth_date": "2026-03-01", "weight_kg": 3.5},
    "congenital": {
        "gestational_age_at_birth": "39+0",
        "birth_weight_kg": 3.4,
        "diagnosis": {"date": "2026-03-03", "specimen": "urine"},
        "manifestations": ["microcephaly", "thrombocytopenia"],
        "hearing": "bilateral_snhl",
    },
    "observations": [
        {"date": "2026-03-03", "code": "cmv_dna", "specimen": "urine", "result": "detected"},
        {"date": "2026-03-09", "code": "creatinine", "value": 0.4, "unit": "mg/dL"},
        {"date": "2026-03-09", "code": "anc", "value": 2500, "unit": "cells/uL"},
        {"date": "2026-03-09", "code": "weight", "value": 3.5, "unit": "kg"},
    ],
}

# probe9 vignette a_ltv_hsct_tacrolimus: allogeneic HSCT R+ on day 5, tacrolimus.
HSCT: dict[str, Any] = {
    "format": "cmvcds-case/1",
    "id": "hsct",
    "assessed_on": "2026-03-06",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 50, "weight_kg": 75, "height_cm": 178},
    "transplant": {
        "organ": "hsct",
        "allogeneic": True,
        "date": "2026-03-01",
        "donor_cmv_igg": "negative",
        "recipient_cmv_igg": "positive",
        "co_medications": ["tacrolimus"],
    },
    "observations": [{"date": "2026-03-05", "code": "creatinine", "value": 1.0, "unit": "mg/dL"}],
}


def changed(base: dict[str, Any], *, intolerances: list[str] | None = None, **parts: Any) -> Any:
    raw = copy.deepcopy(base)
    if intolerances is not None:
        raw["patient"]["intolerances"] = intolerances
    for key, value in parts.items():
        raw[key] = value
    return raw


def run(knowledge: Knowledge, raw: dict[str, Any]) -> dict[str, Any]:
    case = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
    return assess(case, knowledge).to_dict()


def decision(document: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [d for d in document["decisions"] if d["id"] == name]
    return found


def codes(document: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [a for a in document["alerts"] if a["code"] == code]


def regimens(document: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    return [(r["drug"], r["dose_mg"], r["every_h"], r["route"]) for r in document["regimens"]]


# --- the dosing engine: the class ------------------------------------------------------------


def test_no_drug_is_ever_dosed_for_a_patient_intolerant_of_it(knowledge: Knowledge) -> None:
    """Every drug of the pack, for every indication of its label, in both regions: never
    ``recommended`` once the drug is on the intolerance list (the pathways, ``cmvcds dose``, the
    API and the CDS Hooks order check all ask ``recommend_dose``)."""
    adult = changed(HIV, intolerances=[])
    checked = 0
    for drug in drugs_available(knowledge):
        label = drug_label(knowledge, drug)
        indications = {i for row in label.regimens for i in row.indications}
        raw = changed(adult, intolerances=[drug])
        patient = dose_patient_from_case(parse_case(raw, knowledge, today=TODAY), TODAY)
        for indication in sorted(indications):
            for region in ("us", "eu"):
                result = recommend_dose(patient, drug, indication, knowledge, region=region)
                if not label.rows_for(indication, region):
                    continue
                assert result.outcome.value == "specialist_review", (drug, indication, region)
                assert result.regimen is None
                [alert] = [a for a in result.alerts if a.code.value == "drug-intolerance"]
                assert alert.severity.value == "critical" and drug in alert.message
                checked += 1
    assert checked > 20


@pytest.mark.parametrize(
    ("drug", "listed", "barred"),
    [
        ("valganciclovir", "ganciclovir", True),  # VALCYTE §4: valganciclovir or ganciclovir
        ("ganciclovir", "valganciclovir", True),  # CYTOVENE-IV §4: ganciclovir or valganciclovir
        ("foscarnet", "ganciclovir", False),  # no cross-reactivity stated: dosed
        ("valganciclovir", "foscarnet", False),
    ],
)
def test_cross_reactivity_is_the_labels(
    knowledge: Knowledge, drug: str, listed: str, barred: bool
) -> None:
    raw = changed(HIV, intolerances=[listed])
    patient = dose_patient_from_case(parse_case(raw, knowledge, today=TODAY), TODAY)
    result = recommend_dose(
        patient, drug, "induction", knowledge, route="iv" if drug != "valganciclovir" else None
    )
    assert (result.outcome.value == "specialist_review") is barred
    assert (result.regimen is None) is barred
    alerts = [a for a in result.alerts if a.code.value == "drug-intolerance"]
    assert len(alerts) == int(barred)
    if barred:
        assert f"Recorded intolerance of {listed}" in alerts[0].message


def test_dose_calculator_flag_and_api_field(knowledge: Knowledge) -> None:
    """``cmvcds dose --intolerance`` (and a case file's list) reach the dosing engine."""
    args = ["dose", "--drug", "valacyclovir", "--indication", "pregnancy-prevention",
            "--sex", "female", "--age", "30", "--weight-kg", "65", "--creatinine", "0.6",
            "--format", "json"]  # fmt: skip
    runner = CliRunner()
    baseline = json.loads(runner.invoke(app, args).stdout)
    assert baseline["outcome"] == "recommended"
    assert (baseline["regimen"]["dose_mg"], baseline["regimen"]["every_h"]) == (2000, 6)
    refused = json.loads(runner.invoke(app, [*args, "--intolerance", "valacyclovir"]).stdout)
    assert refused["outcome"] == "specialist_review" and refused["regimen"] is None
    assert [a["code"] for a in refused["alerts"]] == ["drug-intolerance"]
    unknown = runner.invoke(app, [*args, "--intolerance", "acyclovirr"])
    assert unknown.exit_code != 0 and "patient.intolerances[0]: unknown drug" in unknown.output


# --- pregnancy: prevention and in-utero treatment ---------------------------------------------


def test_pregnancy_baseline_recommends_the_protocol_dose(knowledge: Knowledge) -> None:
    document = run(knowledge, PREGNANCY)
    prevention = decision(document, "valacyclovir-prevention")
    assert prevention["outcome"] == "recommended"
    assert "No exclusion criterion applies (A7)." in prevention["reasons"]
    assert regimens(document) == [("valacyclovir", 2000, 6, "oral")]


def test_pregnancy_intolerant_of_valacyclovir_goes_to_specialist(knowledge: Knowledge) -> None:
    """probe9 vignette p26: told "no exclusion criterion applies" and given 2 g q6h before."""
    document = run(knowledge, changed(PREGNANCY, intolerances=["valacyclovir"]))
    prevention = decision(document, "valacyclovir-prevention")
    assert prevention["outcome"] == "specialist_review"
    assert "No exclusion criterion applies (A7)." not in prevention["reasons"]
    assert any("names no other drug" in r for r in prevention["reasons"])
    assert any("Recorded intolerance of valacyclovir" in r for r in prevention["reasons"])
    assert regimens(document) == []
    [alert] = codes(document, "drug-intolerance")
    assert alert["severity"] == "critical"
    # no valacyclovir monitoring planned for a course not given; the amniocentesis stays
    events = {s["event"] for s in document["schedule"]}
    assert events == {"amniocentesis"}


def test_pregnancy_intolerance_of_another_drug_changes_nothing(knowledge: Knowledge) -> None:
    baseline = run(knowledge, PREGNANCY)
    other = run(knowledge, changed(PREGNANCY, intolerances=["foscarnet"]))
    assert decision(other, "valacyclovir-prevention") == decision(
        baseline, "valacyclovir-prevention"
    )
    assert regimens(other) == regimens(baseline)


def test_in_utero_treatment_of_an_intolerant_woman(knowledge: Knowledge) -> None:
    """probe9 vignette p12 (hyperechoic bowel grade 2 after a positive amniocentesis): in-utero
    treatment is indicated (Table 1, A6), but not with valacyclovir she does not tolerate."""
    raw = changed(
        PREGNANCY,
        assessed_on="2026-06-05",
        observations=[
            *PREGNANCY["observations"],
            {"date": "2026-06-01", "code": "cmv_dna", "specimen": "amniotic_fluid",
             "result": "detected", "reported": "2026-06-03"},
            {"date": "2026-06-01", "code": "creatinine", "value": 0.6, "unit": "mg/dL"},
        ],
        ultrasound=[{"date": "2026-06-04", "findings": ["hyperechogenic_bowel"], "bowel_grade": 2}],
        therapy=[{"drug": "valacyclovir", "dose_mg": 2000, "every_h": 6, "route": "oral",
                  "start": "2026-03-04", "stop": "2026-06-03"}],
    )  # fmt: skip
    baseline = run(knowledge, raw)
    assert decision(baseline, "valacyclovir-fetal-treatment")["outcome"] == "recommended"
    document = run(knowledge, changed(raw, intolerances=["valacyclovir"]))
    treatment = decision(document, "valacyclovir-fetal-treatment")
    assert treatment["outcome"] == "specialist_review"
    assert any("Recorded intolerance of valacyclovir" in r for r in treatment["reasons"])
    assert regimens(document) == []


# --- pregnancy: a running course at another dose (finding 7) ----------------------------------


@pytest.mark.parametrize(
    ("dose_mg", "every_h", "code"),
    [
        (1000, 8, "dose-below-target"),  # probe9 vignette x08: 3 g/day against 8 g/day
        (2000, 6, None),  # the protocol dose
        (3000, 6, "dose-above-target"),  # 12 g/day
    ],
)
def test_running_valacyclovir_is_compared_with_the_protocol_dose(
    knowledge: Knowledge, dose_mg: int, every_h: int, code: str | None
) -> None:
    course = {"drug": "valacyclovir", "dose_mg": dose_mg, "every_h": every_h, "route": "oral",
              "start": "2026-03-04"}  # fmt: skip
    document = run(knowledge, changed(PREGNANCY, assessed_on="2026-03-20", therapy=[course]))
    prevention = decision(document, "valacyclovir-prevention")
    assert prevention["outcome"] == "recommended"
    assert regimens(document) == [("valacyclovir", 2000, 6, "oral")]
    found = [
        a for a in document["alerts"] if a["code"] in ("dose-below-target", "dose-above-target")
    ]
    in_force = [r for r in prevention["reasons"] if r.startswith("Valacyclovir in force")]
    if code is None:
        assert found == [] and in_force == []
        return
    [alert] = found
    assert alert["code"] == code and "aifa2020-648-valacyclovir" in alert["citations"]
    assert (
        f"{dose_mg * 24 // every_h} mg/day" in alert["message"]
        and "8000 mg/day" in alert["message"]
    )
    [reason] = in_force
    assert "Give the protocol dose (A3)" in reason


def test_running_valacyclovir_without_its_dose_is_said(knowledge: Knowledge) -> None:
    course = {"drug": "valacyclovir", "start": "2026-03-04"}
    document = run(knowledge, changed(PREGNANCY, assessed_on="2026-03-20", therapy=[course]))
    prevention = decision(document, "valacyclovir-prevention")
    assert any("its dose is not recorded" in r for r in prevention["reasons"])


# --- HIV ------------------------------------------------------------------------------------


def test_hiv_retinitis_baseline_gives_valganciclovir_induction(knowledge: Knowledge) -> None:
    document = run(knowledge, HIV)
    assert decision(document, "antiviral-treatment")["outcome"] == "recommended"
    assert regimens(document) == [("valganciclovir", 900, 12, "oral")]


@pytest.mark.parametrize(
    "intolerances",
    [
        ["valganciclovir", "ganciclovir"],  # probe9 vignette x01
        ["valganciclovir"],
        ["ganciclovir"],  # VALCYTE §4: cross-reacts
        ["ganciclovir", "valganciclovir", "foscarnet"],  # probe9 vignettes a_cdv_crcl_55/56
    ],
)
def test_hiv_retinitis_intolerant_of_valganciclovir(
    knowledge: Knowledge, intolerances: list[str]
) -> None:
    document = run(knowledge, changed(HIV, intolerances=intolerances))
    treatment = decision(document, "antiviral-treatment")
    assert treatment["outcome"] == "specialist_review"
    assert any(
        r.startswith("valganciclovir is not given: recorded intolerance")
        for r in treatment["reasons"]
    )
    assert regimens(document) == []
    assert codes(document, "drug-intolerance")


def test_hiv_sight_threatening_lesion_keeps_the_tolerated_intravitreal_drug(
    knowledge: Knowledge,
) -> None:
    """Zone 1 (read as sight-threatening): intravitreal ganciclovir or foscarnet (H3); with a
    ganciclovir intolerance only foscarnet 2.4 mg is listed, without "or ganciclovir"."""
    zone1 = changed(HIV, hiv={"on_art": False, "retinitis": {"zone": 1, "active": True}})
    baseline = run(knowledge, zone1)
    assert sorted(regimens(baseline)) == [
        ("foscarnet", 2.4, None, "intravitreal"),
        ("ganciclovir", 2.0, None, "intravitreal"),
        ("valganciclovir", 900, 12, "oral"),
    ]
    document = run(knowledge, changed(zone1, intolerances=["ganciclovir"]))
    assert regimens(document) == [("foscarnet", 2.4, None, "intravitreal")]
    [foscarnet] = document["regimens"]
    assert "ganciclovir" not in foscarnet["schedule"]
    reasons = decision(document, "antiviral-treatment")["reasons"]
    assert any(r.startswith("intravitreal ganciclovir is not given") for r in reasons)


@pytest.mark.parametrize(
    ("hiv", "cd4", "expected", "absent"),
    [
        # probe9 vignette x01 / examples/hiv-retinitis.yaml: CD4 30, not on ART
        ({"on_art": False, "retinitis": {"zone": 2, "active": True}}, 30,
         "not on ART: start ART (see its alert); CD4 30 cells/µL on 2026-03-09 is below it",
         "dilated fundoscopy"),
        # on ART, CD4 above the cut-off
        ({"on_art": True}, 180, "; on ART; CD4 180 cells/µL on 2026-03-09", "below"),
        # on ART, CD4 low, no retinitis known: screen the eyes
        ({"on_art": True}, 40,
         "on ART; CD4 40 cells/µL on 2026-03-09 is below it: dilated fundoscopy", "start ART"),
    ],
)  # fmt: skip
def test_hiv_no_prophylaxis_reason_fits_the_patient(
    knowledge: Knowledge, hiv: dict[str, Any], cd4: int, expected: str, absent: str
) -> None:
    observations = [
        {"date": "2026-03-09", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"date": "2026-03-09", "code": "cd4", "value": cd4, "unit": "cells/uL"},
    ]
    document = run(knowledge, changed(HIV, hiv=hiv, observations=observations))
    prophylaxis = decision(document, "antiviral-prophylaxis")
    assert prophylaxis["outcome"] == "not_indicated"
    [reason] = prophylaxis["reasons"]
    assert reason.startswith(
        "no primary CMV prophylaxis with valganciclovir in HIV: the prevention is ART that "
        "keeps CD4 above 100 cells/µL; "
    )
    assert expected in reason and absent not in reason
    assert "ART keeps CD4 above the cut-off" not in reason


# --- congenital, transplant, immunocompetent, monitoring ------------------------------------


@pytest.mark.parametrize("listed", ["valganciclovir", "ganciclovir"])
def test_congenital_intolerance(knowledge: Knowledge, listed: str) -> None:
    baseline = run(knowledge, CONGENITAL)
    assert decision(baseline, "valganciclovir-congenital")["outcome"] == "recommended"
    assert [r[0] for r in regimens(baseline)] == ["valganciclovir"]
    document = run(knowledge, changed(CONGENITAL, intolerances=[listed]))
    congenital = decision(document, "valganciclovir-congenital")
    assert congenital["outcome"] == "specialist_review"
    assert any(f"Recorded intolerance of {listed}" in r for r in congenital["reasons"])
    assert regimens(document) == []


def test_hsct_letermovir_intolerance(knowledge: Knowledge) -> None:
    baseline = run(knowledge, HSCT)
    assert decision(baseline, "antiviral-prophylaxis")["outcome"] == "recommended"
    assert regimens(baseline) == [("letermovir", 480, 24, "oral")]
    document = run(knowledge, changed(HSCT, intolerances=["letermovir"]))
    assert decision(document, "antiviral-prophylaxis")["outcome"] == "specialist_review"
    assert regimens(document) == []
    [alert] = codes(document, "drug-intolerance")
    assert "Recorded intolerance of letermovir" in alert["message"]


def test_sot_valganciclovir_intolerance_still_switches_to_letermovir(knowledge: Knowledge) -> None:
    """probe9 vignette x02 (kidney D+/R−, T4): letermovir replaces valganciclovir; letermovir
    intolerance as well leaves nothing to give: specialist review."""
    kidney = {
        "format": "cmvcds-case/1", "id": "x02", "assessed_on": "2026-03-06", "context": "transplant",
        "patient": {"sex": "male", "age_years": 54, "weight_kg": 80, "height_cm": 178,
                    "intolerances": ["valganciclovir", "ganciclovir"]},
        "transplant": {"organ": "kidney", "date": "2026-03-01", "donor_cmv_igg": "positive",
                       "recipient_cmv_igg": "negative", "co_medications": ["tacrolimus", "mycophenolate"]},
        "observations": [{"date": "2026-03-05", "code": "creatinine", "value": 1.8, "unit": "mg/dL"},
                         {"date": "2026-03-05", "code": "anc", "value": 3200, "unit": "cells/uL"}],
    }  # fmt: skip
    document = run(knowledge, kidney)
    assert decision(document, "antiviral-prophylaxis")["outcome"] == "recommended"
    assert [r[0] for r in regimens(document)] == ["letermovir"]
    both = changed(kidney, intolerances=["valganciclovir", "letermovir"])
    document = run(knowledge, both)
    assert decision(document, "antiviral-prophylaxis")["outcome"] == "specialist_review"
    assert regimens(document) == []


def test_immunocompetent_severe_disease_names_the_intolerance(knowledge: Knowledge) -> None:
    raw = {
        "format": "cmvcds-case/1", "id": "ic", "assessed_on": "2026-03-10",
        "context": "immunocompetent",
        "patient": {"sex": "male", "age_years": 40, "weight_kg": 70, "height_cm": 175,
                    "intolerances": ["ganciclovir"]},
        "presentation": {"disease": "tissue_invasive", "organs": ["pneumonitis"],
                         "severity": "severe"},
        "observations": [{"date": "2026-03-09", "code": "creatinine", "value": 1.0, "unit": "mg/dL"}],
    }  # fmt: skip
    document = run(knowledge, raw)
    treatment = decision(document, "antiviral-treatment")
    assert treatment["outcome"] == "specialist_review"
    assert any(
        r.startswith("ganciclovir is not given: recorded intolerance") for r in treatment["reasons"]
    )
    assert regimens(document) == []


def test_a_running_course_of_a_drug_not_tolerated_is_flagged(knowledge: Knowledge) -> None:
    """The monitoring pathway's dose check asks the dosing engine too: a valganciclovir
    maintenance course running in a patient whose list names it raises the critical alert."""
    raw = changed(
        HIV,
        intolerances=["valganciclovir"],
        hiv={"on_art": True, "retinitis": {"zone": 2, "active": False}},
        therapy=[{"drug": "valganciclovir", "dose_mg": 900, "every_h": 24, "route": "oral",
                  "start": "2026-02-01", "indication": "maintenance"}],
    )  # fmt: skip
    document = run(knowledge, raw)
    assert decision(document, "antiviral-treatment")["outcome"] == "specialist_review"
    assert regimens(document) == []
    assert codes(document, "drug-intolerance")


def test_an_intolerance_no_rule_reads_is_said(knowledge: Knowledge) -> None:
    """Nothing accepted is dropped without a word: tacrolimus (no CMV drug, named by no label
    row) is reported; probenecid (the cidofovir label's hypersensitivity row reads it) is not."""
    document = run(knowledge, changed(PREGNANCY, intolerances=["tacrolimus", "probenecid"]))
    note = document["findings"]["intolerances_not_read"]
    assert "tacrolimus" in note and "probenecid" not in note
    assert decision(document, "valacyclovir-prevention")["outcome"] == "recommended"
    assert "intolerances_not_read" not in run(knowledge, PREGNANCY)["findings"]


def test_a_running_course_without_its_dose_is_flagged_too(knowledge: Knowledge) -> None:
    """The monitoring pathway's running-course alert does not need the dose: probe9 vignette
    p26 with valacyclovir already started (no dose recorded) and on the intolerance list."""
    raw = changed(
        PREGNANCY,
        intolerances=["valacyclovir"],
        therapy=[{"drug": "valacyclovir", "start": "2026-03-03"}],
    )
    document = run(knowledge, raw)
    assert decision(document, "valacyclovir-prevention")["outcome"] == "specialist_review"
    running = [a for a in codes(document, "drug-intolerance") if "is running" in a["message"]]
    [alert] = running
    assert alert["severity"] == "critical"
    assert alert["message"].startswith("valacyclovir is running (since 2026-03-03)")
