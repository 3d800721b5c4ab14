"""A running course recorded without an indication (review9b, the regression of fix9b).

The reviewer's vignettes (``/tmp/review9b/v``), each asserted on its whole decision set
(decisions, regimens, alerts, missing items). ``treatment_dose`` reads such a course as treatment
only at or above the label's treatment dose for the renal function at the course's START and above
every prophylaxis/maintenance dose of the label; as prophylaxis at or below the prophylaxis dose
of that band; otherwise it is unclear: the pre-fix9b reading is kept, the indication is asked
(``therapy:DRUG.indication``) and prevention is not closed on it.

Sources: VALCYTE US PI (kidney prophylaxis 900 mg once daily, CrCl ≥ 60; 450 mg once daily at
CrCl 40–59; induction 900 mg twice daily, 450 mg twice daily at 40–59), CYTOVENE-IV US PI
(induction 5 mg/kg every 12 h; prevention in transplant recipients: 5 mg/kg every 12 h for 7–14
days, then once daily — the same dose for both, so an IV ganciclovir course at 5 mg/kg every 12 h
cannot be read by its dose), PREVYMIS US PI (letermovir: prophylaxis only; 240 mg with
cyclosporine), Kotton 2018 (breakthrough DNAemia on prophylaxis: check dose and adherence,
genotype), Chemaly 2019 (refractory: > 1 log10 rise after ≥ 2 weeks of therapy), LIVTENCITY US PI
§7 and Livtencity SmPC (maribavir with rifampin: not recommended, levels fall).

Cockcroft–Gault of the kidney vignettes (male, 54 y, 80 kg): creatinine 1.0 → 95.6 mL/min (at
the course's start), 1.8 → 53.1 mL/min (today: prophylaxis band 40–59, 450 mg once daily).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from cmvcds.knowledge import Knowledge
from transplant.helpers import SITE, alerts, decision, outcomes, run

KIDNEY_VGC = """
format: cmvcds-case/1
id: v1
assessed_on: '2026-05-30'
context: transplant
patient: {sex: male, age_years: 54, weight_kg: 80, height_cm: 178}
transplant:
  organ: kidney
  date: '2026-03-01'
  donor_cmv_igg: positive
  recipient_cmv_igg: negative
  co_medications: [tacrolimus, mycophenolate]
observations:
  - {date: '2026-03-05', code: creatinine, value: 1.0, unit: mg/dL}
  - {date: '2026-05-29', code: creatinine, value: CREAT, unit: mg/dL}
  - {date: '2026-05-29', code: anc, value: 3200, unit: cells/uL}
LOADS
therapy:
  - {drug: valganciclovir, dose_mg: 900, every_h: 24, route: oral, start: '2026-03-06'INDICATION}
"""
NOT_DETECTED = "  - {date: '2026-05-29', code: cmv_dna, specimen: plasma, result: not_detected}"
RISING = (
    "  - {date: '2026-05-15', code: cmv_dna, specimen: plasma, value: 800, unit: IU/mL}\n"
    "  - {date: '2026-05-29', code: cmv_dna, specimen: plasma, value: 9000, unit: IU/mL}"
)


def kidney_vgc(creatinine: str, loads: str, indication: str = "") -> dict[str, Any]:
    text = (
        KIDNEY_VGC.replace("CREAT", creatinine)
        .replace("LOADS", loads)
        .replace("INDICATION", f", indication: {indication}" if indication else "")
    )
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw


V3_HSCT_LTV = yaml.safe_load("""
format: cmvcds-case/1
id: v3
assessed_on: '2026-06-10'
context: transplant
patient: {sex: female, age_years: 45, weight_kg: 65, height_cm: 165}
transplant: {organ: hsct, allogeneic: true, date: '2026-05-01', donor_cmv_igg: negative,
  recipient_cmv_igg: positive, co_medications: [cyclosporine]}
observations:
  - {date: '2026-06-09', code: creatinine, value: 0.8, unit: mg/dL}
  - {date: '2026-06-09', code: anc, value: 2000, unit: cells/uL}
  - {date: '2026-06-02', code: cmv_dna, specimen: plasma, value: 150, unit: IU/mL}
  - {date: '2026-06-09', code: cmv_dna, specimen: plasma, value: 600, unit: IU/mL}
therapy:
  - {drug: letermovir, dose_mg: 480, every_h: 24, route: oral, start: '2026-05-03'}
""")

V4_SOT_LTV = yaml.safe_load("""
format: cmvcds-case/1
id: v4
assessed_on: '2026-05-01'
context: transplant
patient: {sex: male, age_years: 54, weight_kg: 80, height_cm: 178}
transplant: {organ: kidney, date: '2026-03-02', donor_cmv_igg: positive,
  recipient_cmv_igg: negative, co_medications: [cyclosporine, mycophenolate]}
observations:
  - {date: '2026-04-30', code: creatinine, value: 1.1, unit: mg/dL}
  - {date: '2026-04-30', code: anc, value: 3200, unit: cells/uL}
  - {date: '2026-04-16', code: cmv_dna, specimen: plasma, value: 400, unit: IU/mL}
  - {date: '2026-04-30', code: cmv_dna, specimen: plasma, value: 3000, unit: IU/mL}
therapy:
  - {drug: letermovir, dose_mg: 480, every_h: 24, route: oral, start: '2026-03-05'}
""")

V5_HEART_GCV = yaml.safe_load("""
format: cmvcds-case/1
id: v5
assessed_on: '2026-03-21'
context: transplant
patient: {sex: male, age_years: 54, weight_kg: 72, height_cm: 178}
transplant: {organ: heart, date: '2026-03-01', donor_cmv_igg: positive,
  recipient_cmv_igg: negative, co_medications: [tacrolimus, mycophenolate]}
observations:
  - {date: '2026-03-20', code: creatinine, value: 0.9, unit: mg/dL}
  - {date: '2026-03-20', code: anc, value: 3200, unit: cells/uL}
  - {date: '2026-03-20', code: cmv_dna, specimen: plasma, result: not_detected}
therapy:
  - {drug: ganciclovir, dose_mg: 375, every_h: 24, route: iv, start: '2026-03-03'}
""")

REFRACTORY_KIDNEY = """
format: cmvcds-case/1
id: v6
assessed_on: '2026-06-19'
context: transplant
patient: {sex: male, age_years: 60, weight_kg: WEIGHT, height_cm: 175, can_take_oral: true}
transplant: {organ: kidney, date: '2026-01-10', donor_cmv_igg: positive,
  recipient_cmv_igg: negative, co_medications: [tacrolimus COMED]}
presentation: {disease: asymptomatic_dnaemia, course: stable}
observations:
  - {date: '2026-06-18', code: creatinine, value: 1.0, unit: mg/dL}
  - {date: '2026-06-01', code: cmv_dna, specimen: plasma, value: 5000, unit: IU/mL}
  - {date: '2026-06-18', code: cmv_dna, specimen: plasma, value: 80000, unit: IU/mL}
  - {date: '2026-06-18', code: anc, value: 2500, unit: cells/uL}
therapy:
  - COURSE
"""
V6_GCV_NO_INDICATION = yaml.safe_load(
    REFRACTORY_KIDNEY.replace("WEIGHT", "72")
    .replace("COMED", "")
    .replace("COURSE", "{drug: ganciclovir, dose_mg: 360, every_h: 12, route: iv, start: '2026-06-01'}")
)
MBV_RIFAMPIN = yaml.safe_load(
    REFRACTORY_KIDNEY.replace("WEIGHT", "70")
    .replace("COMED", ", rifampin")
    .replace(
        "COURSE",
        "{drug: valganciclovir, dose_mg: 900, every_h: 12, route: oral, start: '2026-06-01', "
        "indication: induction}",
    )
)

V7_HSCT_GCV = yaml.safe_load("""
format: cmvcds-case/1
id: v7
assessed_on: '2026-06-10'
context: transplant
patient: {sex: female, age_years: 45, weight_kg: 65, height_cm: 165}
transplant: {organ: hsct, allogeneic: true, date: '2026-05-01', donor_cmv_igg: negative,
  recipient_cmv_igg: positive, co_medications: [tacrolimus]}
observations:
  - {date: '2026-06-09', code: creatinine, value: 0.8, unit: mg/dL}
  - {date: '2026-06-09', code: anc, value: 2000, unit: cells/uL}
  - {date: '2026-06-02', code: cmv_dna, specimen: plasma, value: 2500, unit: IU/mL}
  - {date: '2026-06-09', code: cmv_dna, specimen: plasma, value: 900, unit: IU/mL}
therapy:
  - {drug: letermovir, dose_mg: 480, every_h: 24, route: oral, start: '2026-05-04', indication: prophylaxis}
  - {drug: ganciclovir, dose_mg: 325, every_h: 12, route: iv, start: '2026-06-03'}
""")

#: the reviewer ran the vignettes on the reference profile (no settings), v4 with the example
#: site choosing letermovir for kidney D+/R−
NO_SITE: dict[str, Any] = {}
LETERMOVIR_SITE = dict(SITE, kidney_dpos_rneg_drug="letermovir")


def whole(document: dict[str, Any]) -> tuple[Any, ...]:
    """The decision set: outcomes, regimens (drug, indication, dose, interval), alert codes
    (unverified-fact notes aside) and missing items."""
    return (
        outcomes(document),
        sorted((r["drug"], r["indication"], r["dose_mg"], r["every_h"]) for r in document["regimens"]),
        sorted(alerts(document) - {"unverified-fact"}),
        sorted(m["item"] for m in document["missing"]),
    )


VALGANCICLOVIR_INDICATION = "therapy:valganciclovir.indication"
GANCICLOVIR_INDICATION = "therapy:ganciclovir.indication"

CASES: list[tuple[str, dict[str, Any], dict[str, Any], tuple[Any, ...]]] = [
    (
        # v1 (finding 2): prophylaxis 900 mg once daily begun at CrCl 95.6, CrCl now 53.1. It is
        # prophylaxis (the start band's prophylaxis dose), renally re-dosed to 450 mg once daily
        # (VALCYTE 40–59); no treatment "continued" (757c2cb also added 450 mg twice daily
        # induction for a patient without DNAemia: wrong, not kept).
        "v1_renal_decline",
        kidney_vgc("1.8", NOT_DETECTED),
        NO_SITE,
        (
            {"antiviral-prophylaxis": "recommended", "preemptive-therapy": "not_indicated"},
            [("valganciclovir", "prophylaxis", 450, 24)],
            ["dose-renal-adjustment", "drug-interaction", "late-cmv-risk"],
            [VALGANCICLOVIR_INDICATION],
        ),
    ),
    (
        # v1b: the same course with its indication given: the same answer, nothing asked
        # (757c2cb's answer, unchanged).
        "v1b_with_indication",
        kidney_vgc("1.8", NOT_DETECTED, "prophylaxis"),
        NO_SITE,
        (
            {"antiviral-prophylaxis": "recommended", "preemptive-therapy": "not_indicated"},
            [("valganciclovir", "prophylaxis", 450, 24)],
            ["dose-renal-adjustment", "drug-interaction", "late-cmv-risk"],
            [],
        ),
    ),
    (
        # v1c: kidneys unchanged: 900 mg once daily prophylaxis continues.
        "v1c_normal",
        kidney_vgc("1.0", NOT_DETECTED),
        NO_SITE,
        (
            {"antiviral-prophylaxis": "recommended", "preemptive-therapy": "not_indicated"},
            [("valganciclovir", "prophylaxis", 900, 24)],
            ["drug-interaction", "late-cmv-risk"],
            [VALGANCICLOVIR_INDICATION],
        ),
    ),
    (
        # v2 (finding 2): rising breakthrough DNAemia 800 → 9,000 IU/mL on that prophylaxis: T22
        # (check dose and adherence), suspected resistance after 86 days, genotyping (757c2cb's
        # answer, without its wrong "continue induction").
        "v2_breakthrough",
        kidney_vgc("1.8", RISING),
        NO_SITE,
        # debt23 (ADR 0033 decision 1): the quantified DNAemia cannot be classified without the
        # site's threshold, so prophylaxis is insufficient data, not "recommended" (no regimen;
        # fixr23a: the late-CMV info alert, which does not depend on the threshold, is kept)
        (
            {
                "antiviral-prophylaxis": "insufficient_data",
                "preemptive-therapy": "specialist_review",
                "resistance-genotyping": "recommended",
            },
            [],
            [
                "check-dosing-adherence",
                "dose-renal-adjustment",
                "drug-interaction",
                "late-cmv-risk",
                "suspected-resistance",
            ],
            ["setting:pet_threshold_iu_ml.sot", VALGANCICLOVIR_INDICATION],
        ),
    ),
    (
        # v3 (finding 3): HSCT letermovir 480 mg with cyclosporine: prophylaxis (never a
        # treatment drug), dose above target (240 mg with cyclosporine) — 757c2cb's answer.
        "v3_ltv_csa480",
        V3_HSCT_LTV,
        NO_SITE,
        # probe11 S3: over a DNAemia with no site threshold letermovir is not said to continue
        # (insufficient data, no regimen); its dose check (240 mg with cyclosporine) still stands.
        (
            {"antiviral-prophylaxis": "insufficient_data", "preemptive-therapy": "insufficient_data"},
            [],
            ["dnaemia-unclassified", "dose-above-target", "drug-interaction"],
            ["setting:pet_threshold_iu_ml.hsct"],
        ),
    ),
    (
        # v4 (finding 3): kidney letermovir 480 mg with cyclosporine, DNAemia 3,000 ≥ 1,000: a
        # breakthrough on letermovir prophylaxis (T22), genotyping UL56/UL89/UL51, pre-emptive
        # valganciclovir 900 mg twice daily — 757c2cb's answer.
        "v4_sot_ltv_csa",
        V4_SOT_LTV,
        LETERMOVIR_SITE,
        (
            {
                "antiviral-prophylaxis": "not_indicated",
                "preemptive-therapy": "recommended",
                "resistance-genotyping": "recommended",
            },
            [("valganciclovir", "preemptive", 900, 12)],
            [
                "check-dosing-adherence",
                "dose-above-target",
                "drug-interaction",
                "suspected-resistance",
            ],
            [],
        ),
    ),
    (
        # v5: heart, IV ganciclovir 375 mg once daily (5.2 mg/kg), no DNAemia: below the 5 mg/kg
        # every 12 h treatment dose: prophylaxis, no treatment continued (757c2cb continued an
        # induction at 360 mg twice daily: wrong, not kept).
        "v5_gcv_rounded",
        V5_HEART_GCV,
        NO_SITE,
        (
            {"antiviral-prophylaxis": "recommended", "preemptive-therapy": "not_indicated"},
            [("valganciclovir", "prophylaxis", 900, 24)],
            ["config-range", "drug-interaction", "late-cmv-risk"],
            [GANCICLOVIR_INDICATION],
        ),
    ),
    (
        # v6 (finding 1): IV ganciclovir 5 mg/kg every 12 h since the DNAemia, no indication,
        # 5,000 → 80,000 IU/mL after 17 days. The dose is unclear (treatment and first
        # prophylaxis phase alike): 757c2cb's reading kept — refractory call, treatment under
        # specialist review, genotyping — and the indication asked; the refractory call (on the
        # loads) closes prevention: no valganciclovir prophylaxis "start now" (757c2cb's was wrong).
        "v6_gcv_induction_noind",
        V6_GCV_NO_INDICATION,
        NO_SITE,
        (
            {
                "antiviral-prophylaxis": "not_indicated",
                "preemptive-therapy": "not_indicated",
                "antiviral-treatment": "specialist_review",
                "resistance-genotyping": "specialist_review",
            },
            [],
            ["drug-interaction", "reduce-immunosuppression", "refractory-cmv"],
            [GANCICLOVIR_INDICATION],
        ),
    ),
    (
        # v7 (finding 1, HSCT): the same unclear ganciclovir dose beside letermovir: 757c2cb's
        # reading — the treatment decision continues it (day 7 of at least 14) — kept; letermovir
        # is not stopped on an unclear reading, its decision asks for the indication.
        "v7_hsct_gcv",
        V7_HSCT_GCV,
        NO_SITE,
        (
            {
                "antiviral-prophylaxis": "insufficient_data",  # probe11 S3
                "preemptive-therapy": "insufficient_data",
                "antiviral-treatment": "recommended",
            },
            [("ganciclovir", "induction", 325, 12)],
            ["drug-interaction"],  # no dnaemia alert beside a running treatment-drug course
            ["setting:pet_threshold_iu_ml.hsct", GANCICLOVIR_INDICATION],
        ),
    ),
    (
        # finding 4: refractory on valganciclovir induction with rifampin: maribavir has no dose
        # (not recommended with rifampin); no prevention beside treatment.
        "mbv_rifampin",
        MBV_RIFAMPIN,
        NO_SITE,
        (
            {
                "antiviral-prophylaxis": "not_indicated",
                "preemptive-therapy": "not_indicated",
                "antiviral-treatment": "specialist_review",
                "resistance-genotyping": "specialist_review",
            },
            [],
            ["drug-interaction", "reduce-immunosuppression", "refractory-cmv"],
            [],
        ),
    ),
]


@pytest.mark.parametrize(("name", "raw", "site", "expected"), CASES, ids=[c[0] for c in CASES])
def test_review9b_vignette_decision_set(
    knowledge: Knowledge,
    name: str,
    raw: dict[str, Any],
    site: dict[str, Any],
    expected: tuple[Any, ...],
) -> None:
    assert whole(run(knowledge, raw, site=site)) == expected


def test_unclear_ganciclovir_beside_letermovir_asks_for_its_indication(knowledge: Knowledge) -> None:
    prophylaxis = decision(run(knowledge, V7_HSCT_GCV, site=NO_SITE), "antiviral-prophylaxis")
    assert any(
        "ganciclovir running since 2026-06-03 without an indication" in r
        and "record its indication" in r
        for r in prophylaxis["reasons"]
    )


def test_maribavir_option_with_rifampin_says_not_recommended_and_gives_no_dose(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, MBV_RIFAMPIN, site=NO_SITE)
    treatment = decision(document, "antiviral-treatment")
    line = [r for r in treatment["reasons"] if r.startswith("maribavir if chosen")]
    assert len(line) == 1
    assert "no dose" in line[0] and "rifampin" in line[0] and "not recommended" in line[0]
    assert not any("400 mg" in r for r in treatment["reasons"])
    assert "livtencity-us-label" in treatment["citations"]
