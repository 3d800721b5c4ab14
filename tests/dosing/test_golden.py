"""Golden dose cases worked out by hand from the labels; each names the row it comes from.

The baseline patient is a 40-year-old man, 72 kg, 175 cm, creatinine 1.0 mg/dL, so that
Cockcroft-Gault CrCl = (140 − 40) × 72 / (72 × SCr) = 100 / SCr mL/min, and = 140 − age with
SCr 1.0. Every renal band edge is hit exactly and just beside it. Expected values are literal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cmvcds.domain.vocabulary import AlertCode, Outcome
from cmvcds.engine.dosing import recommend_dose
from cmvcds.knowledge import Knowledge
from tests.dosing.conftest import make_patient

R, X, S, N, INSUFFICIENT = (
    Outcome.RECOMMENDED,
    Outcome.EXCLUDED,
    Outcome.SPECIALIST_REVIEW,
    Outcome.NOT_INDICATED,
    Outcome.INSUFFICIENT_DATA,
)

#: (case id, source row, drug, indication, patient changes, options, outcome, dose_mg, schedule)
CASES: list[tuple[str, str, str, str, dict[str, Any], dict[str, Any], Outcome, Any, Any]] = [
    # --- valganciclovir, induction (VALCYTE US §2.5 Table 2, CrCl ≥60 / 40–59 / 25–39 / 10–24 / <10)
    (
        "vgcv-ind-100",
        "valcyte-us-label §2.5 Table 2 ≥60",
        "valganciclovir",
        "induction",
        {},
        {},
        R,
        900,
        "twice daily",
    ),
    (
        "vgcv-ind-60",
        "valcyte-us-label §2.5 Table 2 ≥60",
        "valganciclovir",
        "induction",
        {"age_years": 80},
        {},
        R,
        900,
        "twice daily",
    ),
    (
        "vgcv-ind-59.4",
        "valcyte-us-label §2.5 Table 2 40–59",
        "valganciclovir",
        "induction",
        {"age_years": 80, "creatinine_mg_dl": "1.01"},
        {},
        R,
        450,
        "twice daily",
    ),
    (
        "vgcv-ind-40",
        "valcyte-us-label §2.5 Table 2 40–59",
        "valganciclovir",
        "induction",
        {"creatinine_mg_dl": "2.5"},
        {},
        R,
        450,
        "twice daily",
    ),
    (
        "vgcv-ind-39.99",
        "valcyte-us-label §2.5 Table 2 25–39",
        "valganciclovir",
        "induction",
        {"creatinine_mg_dl": "2.5", "weight_kg": "71.98"},
        {},
        R,
        450,
        "once daily",
    ),
    (
        "vgcv-ind-25",
        "valcyte-us-label §2.5 Table 2 25–39",
        "valganciclovir",
        "induction",
        {"creatinine_mg_dl": 4},
        {},
        R,
        450,
        "once daily",
    ),
    (
        "vgcv-ind-24.9",
        "valcyte-us-label §2.5 Table 2 10–24",
        "valganciclovir",
        "induction",
        {"creatinine_mg_dl": "4.01"},
        {},
        R,
        450,
        "every 2 days",
    ),
    (
        "vgcv-ind-10",
        "valcyte-us-label §2.5 Table 2 10–24",
        "valganciclovir",
        "induction",
        {"creatinine_mg_dl": 10},
        {},
        R,
        450,
        "every 2 days",
    ),
    (
        "vgcv-ind-9.9",
        "valcyte-us-label §2.5 Table 2 <10: not recommended",
        "valganciclovir",
        "induction",
        {"creatinine_mg_dl": "10.1"},
        {},
        X,
        None,
        None,
    ),
    (
        "vgcv-ind-hd",
        "valcyte-us-label §2.5/§8.6 hemodialysis: tablets not recommended",
        "valganciclovir",
        "induction",
        {"dialysis": "hemodialysis"},
        {},
        X,
        None,
        None,
    ),
    # --- valganciclovir, maintenance
    (
        "vgcv-mnt-60",
        "valcyte-us-label §2.5 Table 2 ≥60",
        "valganciclovir",
        "maintenance",
        {"age_years": 80},
        {},
        R,
        900,
        "once daily",
    ),
    (
        "vgcv-mnt-59.4",
        "valcyte-us-label §2.5 Table 2 40–59",
        "valganciclovir",
        "maintenance",
        {"age_years": 80, "creatinine_mg_dl": "1.01"},
        {},
        R,
        450,
        "once daily",
    ),
    (
        "vgcv-mnt-40",
        "valcyte-us-label §2.5 Table 2 40–59",
        "valganciclovir",
        "maintenance",
        {"creatinine_mg_dl": "2.5"},
        {},
        R,
        450,
        "once daily",
    ),
    (
        "vgcv-mnt-25",
        "valcyte-us-label §2.5 Table 2 25–39",
        "valganciclovir",
        "maintenance",
        {"creatinine_mg_dl": 4},
        {},
        R,
        450,
        "every 2 days",
    ),
    (
        "vgcv-mnt-24.9",
        "valcyte-us-label §2.5 Table 2 10–24",
        "valganciclovir",
        "maintenance",
        {"creatinine_mg_dl": "4.01"},
        {},
        R,
        450,
        "twice weekly",
    ),
    (
        "vgcv-mnt-10",
        "valcyte-us-label §2.5 Table 2 10–24",
        "valganciclovir",
        "maintenance",
        {"creatinine_mg_dl": 10},
        {},
        R,
        450,
        "twice weekly",
    ),
    # --- valganciclovir, prophylaxis (adults §2.2; pediatric §2.3)
    (
        "vgcv-pro-kidney",
        "valcyte-us-label §2.2 kidney until day 200",
        "valganciclovir",
        "prophylaxis",
        {"transplant_organ": "kidney"},
        {},
        R,
        900,
        "once daily",
    ),
    (
        "vgcv-pro-heart",
        "valcyte-us-label §2.2 heart until day 100",
        "valganciclovir",
        "prophylaxis",
        {"transplant_organ": "heart"},
        {},
        R,
        900,
        "once daily",
    ),
    (
        "vgcv-pro-liver-us",
        "valcyte-us-label §1.1/§14 liver: not indicated",
        "valganciclovir",
        "prophylaxis",
        {"transplant_organ": "liver"},
        {},
        N,
        None,
        None,
    ),
    (
        "vgcv-pro-liver-eu",
        "valcyte-eu-smpc 4.2 other SOT until day 100",
        "valganciclovir",
        "prophylaxis",
        {"transplant_organ": "liver"},
        {"region": "eu"},
        R,
        900,
        "once daily",
    ),
    (
        "vgcv-ped-kidney-boy5",
        "valcyte-us-label §2.3: 7 × 0.7348 × 118.8 = 611.1 → 600",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 5,
            "height_cm": 108,
            "weight_kg": 18,
            "creatinine_mg_dl": "0.5",
            "transplant_organ": "kidney",
        },
        {},
        R,
        600,
        "once daily",
    ),
    (
        "vgcv-ped-crcl-cap",
        "valcyte-us-label §2.3 CrCl cap 150: 7 × 0.7993 × 150 = 839.3 → 850",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 6,
            "sex": "female",
            "height_cm": 115,
            "weight_kg": 20,
            "creatinine_mg_dl": "0.3",
            "transplant_organ": "kidney",
        },
        {},
        R,
        850,
        "once daily",
    ),
    (
        "vgcv-ped-both-caps",
        "valcyte-us-label §2.3 CrCl cap 150 and dose cap 900 (1171 → 900)",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 10,
            "sex": "female",
            "height_cm": 140,
            "weight_kg": 32,
            "creatinine_mg_dl": "0.4",
            "transplant_organ": "kidney",
        },
        {},
        R,
        900,
        "once daily",
    ),
    (
        "vgcv-ped-dose-cap",
        "valcyte-us-label §2.3 k 0.7 boys 13–16, dose cap 900 (1558 → 900)",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 15,
            "height_cm": 170,
            "weight_kg": 60,
            "creatinine_mg_dl": "0.9",
            "transplant_organ": "kidney",
        },
        {},
        R,
        900,
        "once daily",
    ),
    (
        "vgcv-ped-lbw-k033",
        "valcyte-us-label §2.3 k 0.33 LBW < 1 y: 7 × 0.2838 × 63.8 = 126.8 → 125",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 0,
            "age_months": 3,
            "height_cm": 58,
            "weight_kg": 5,
            "creatinine_mg_dl": "0.3",
            "birth_weight_for_gestational_age": "low",
            "transplant_organ": "heart",
        },
        {},
        R,
        125,
        "once daily",
    ),
    (
        "vgcv-ped-agb-k045",
        "valcyte-us-label §2.3 k 0.45 < 1 y appropriate: 7 × 0.2838 × 87 = 172.8 → 175",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 0,
            "age_months": 3,
            "height_cm": 58,
            "weight_kg": 5,
            "creatinine_mg_dl": "0.3",
            "birth_weight_for_gestational_age": "appropriate",
            "transplant_organ": "heart",
        },
        {},
        R,
        175,
        "once daily",
    ),
    (
        "vgcv-ped-tablet-window",
        "valcyte-us-label §2.3: 7 × 0.9615 × 64 = 430.7 → 425 (tablet window 405–495)",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 8,
            "height_cm": 128,
            "weight_kg": 26,
            "creatinine_mg_dl": "1.1",
            "transplant_organ": "kidney",
        },
        {},
        R,
        425,
        "once daily",
    ),
    (
        "vgcv-ped-kidney-3mo-us",
        "valcyte-us-label §1.2 kidney from 4 months: outside the label",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 0,
            "age_months": 3,
            "height_cm": 58,
            "weight_kg": 5,
            "creatinine_mg_dl": "0.3",
            "birth_weight_for_gestational_age": "low",
            "transplant_organ": "kidney",
        },
        {},
        S,
        None,
        None,
    ),
    (
        "vgcv-ped-kidney-3mo-eu",
        "valcyte-eu-smpc 4.2 from birth: k 0.33 → 125",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 0,
            "age_months": 3,
            "height_cm": 58,
            "weight_kg": 5,
            "creatinine_mg_dl": "0.3",
            "birth_weight_for_gestational_age": "low",
            "transplant_organ": "kidney",
        },
        {"region": "eu"},
        R,
        125,
        "once daily",
    ),
    (
        "vgcv-ped-infant-no-bwga",
        "valcyte-us-label §2.3 k under 1 year needs birth weight for GA",
        "valganciclovir",
        "prophylaxis",
        {
            "age_years": 0,
            "age_months": 3,
            "height_cm": 58,
            "weight_kg": 5,
            "creatinine_mg_dl": "0.3",
            "transplant_organ": "heart",
        },
        {},
        INSUFFICIENT,
        None,
        None,
    ),
    (
        "vgcv-ped-17-adult",
        "valcyte-us-label §2.2 adult dosing from 17 years",
        "valganciclovir",
        "prophylaxis",
        {"age_years": 17, "transplant_organ": "kidney"},
        {},
        R,
        900,
        "once daily",
    ),
    # --- valganciclovir, congenital (KIM15: 16 mg/kg twice daily, oral solution 50 mg/mL)
    (
        "vgcv-congenital",
        "kimberlin2015 methods 16 mg/kg q12h: 16 × 3.5 = 56 mg = 1.12 mL",
        "valganciclovir",
        "congenital",
        {"age_years": 0, "age_days": 10, "weight_kg": "3.5", "creatinine_mg_dl": None},
        {},
        R,
        56,
        "twice daily",
    ),
    (
        "vgcv-anc-499",
        "valcyte-us-label §5.1 ANC < 500",
        "valganciclovir",
        "induction",
        {"anc_per_ul": 499},
        {},
        X,
        None,
        None,
    ),
    (
        "vgcv-anc-500",
        "valcyte-us-label §5.1 ANC < 500 (500 allowed)",
        "valganciclovir",
        "induction",
        {"anc_per_ul": 500},
        {},
        R,
        900,
        "twice daily",
    ),
    (
        "vgcv-plt-24999",
        "valcyte-us-label §5.1 platelets < 25,000",
        "valganciclovir",
        "maintenance",
        {"platelets_per_ul": 24999},
        {},
        X,
        None,
        None,
    ),
    (
        "vgcv-hb-7.9",
        "valcyte-us-label §5.1 hemoglobin < 8",
        "valganciclovir",
        "maintenance",
        {"hemoglobin_g_dl": "7.9"},
        {},
        X,
        None,
        None,
    ),
    (
        "vgcv-maribavir-eu",
        "livtencity-eu-smpc 4.3 contraindicated with valganciclovir",
        "valganciclovir",
        "induction",
        {"co_medications": ("maribavir",)},
        {"region": "eu"},
        X,
        None,
        None,
    ),
    (
        "vgcv-no-creatinine",
        "valcyte-us-label §2.5 CrCl needs creatinine",
        "valganciclovir",
        "induction",
        {"creatinine_mg_dl": None, "egfr_ml_min_173": 80},
        {},
        INSUFFICIENT,
        None,
        None,
    ),
    (
        "vgcv-crrt",
        "valcyte-us-label §2.5: no CRRT dose",
        "valganciclovir",
        "induction",
        {"dialysis": "crrt"},
        {},
        S,
        None,
        None,
    ),
    (
        "vgcv-refractory",
        "valcyte-us-label: no refractory regimen",
        "valganciclovir",
        "refractory",
        {},
        {},
        N,
        None,
        None,
    ),
    # --- ganciclovir (CYTOVENE-IV renal table ≥70 / 50–69 / 25–49 / 10–24 / <10)
    (
        "vgcv-eu-solution-ind-10",
        "valcyte-eu-smpc 4.2 oral solution 10–24: 225 mg daily (induction)",
        "valganciclovir",
        "induction",
        {"creatinine_mg_dl": 10},
        {"region": "eu", "regimen": "oral-solution"},
        R,
        225,
        "once daily",
    ),
    (
        "vgcv-eu-solution-mnt-25",
        "valcyte-eu-smpc 4.2 oral solution 25–39: 225 mg daily (maintenance)",
        "valganciclovir",
        "maintenance",
        {"creatinine_mg_dl": 4},
        {"region": "eu", "regimen": "oral-solution"},
        R,
        225,
        "once daily",
    ),
    (
        "vgcv-eu-solution-mnt-24.9",
        "valcyte-eu-smpc 4.2 oral solution 10–24: 125 mg daily (maintenance)",
        "valganciclovir",
        "maintenance",
        {"creatinine_mg_dl": "4.01"},
        {"region": "eu", "regimen": "oral-solution"},
        R,
        125,
        "once daily",
    ),
    (
        "vgcv-eu-solution-hd",
        "valcyte-eu-smpc 4.2 hemodialysis: no dose recommendation",
        "valganciclovir",
        "maintenance",
        {"dialysis": "hemodialysis"},
        {"region": "eu", "regimen": "oral-solution"},
        S,
        None,
        None,
    ),
    (
        "gcv-ind-70",
        "cytovene-us-label renal table ≥70: 5 mg/kg × 72 = 360 q12h",
        "ganciclovir",
        "induction",
        {"age_years": 70},
        {},
        R,
        360,
        "twice daily",
    ),
    (
        "gcv-ind-70-female-exact",
        "cytovene-us-label ≥70: 0.85 × 84 × 120 / (72 × 1.7) is exactly 70 → 600 q12h",
        "ganciclovir",
        "induction",
        {"age_years": 56, "sex": "female", "weight_kg": 120, "creatinine_mg_dl": "1.7"},
        {},
        R,
        600,
        "twice daily",
    ),
    (
        "gcv-ind-69",
        "cytovene-us-label 50–69: 2.5 mg/kg q12h (not q24h)",
        "ganciclovir",
        "induction",
        {"age_years": 71},
        {},
        R,
        180,
        "twice daily",
    ),
    (
        "gcv-ind-50",
        "cytovene-us-label 50–69: 2.5 mg/kg q12h",
        "ganciclovir",
        "induction",
        {"creatinine_mg_dl": 2},
        {},
        R,
        180,
        "twice daily",
    ),
    (
        "gcv-ind-49.75",
        "cytovene-us-label 25–49: 2.5 mg/kg q24h",
        "ganciclovir",
        "induction",
        {"creatinine_mg_dl": "2.01"},
        {},
        R,
        180,
        "once daily",
    ),
    (
        "gcv-ind-25",
        "cytovene-us-label 25–49: 2.5 mg/kg q24h",
        "ganciclovir",
        "induction",
        {"creatinine_mg_dl": 4},
        {},
        R,
        180,
        "once daily",
    ),
    (
        "gcv-ind-24.9",
        "cytovene-us-label 10–24: 1.25 mg/kg q24h",
        "ganciclovir",
        "induction",
        {"creatinine_mg_dl": "4.01"},
        {},
        R,
        90,
        "once daily",
    ),
    (
        "gcv-ind-10",
        "cytovene-us-label 10–24: 1.25 mg/kg q24h",
        "ganciclovir",
        "induction",
        {"creatinine_mg_dl": 10},
        {},
        R,
        90,
        "once daily",
    ),
    (
        "gcv-ind-8.3",
        "cytovene-us-label <10: 1.25 mg/kg 3×/week after HD",
        "ganciclovir",
        "induction",
        {"creatinine_mg_dl": 12},
        {},
        R,
        90,
        "three times weekly, after hemodialysis",
    ),
    (
        "gcv-ind-hd",
        "cytovene-us-label on hemodialysis: 1.25 mg/kg 3×/week",
        "ganciclovir",
        "induction",
        {"dialysis": "hemodialysis", "creatinine_mg_dl": None},
        {},
        R,
        90,
        "three times weekly, after hemodialysis",
    ),
    (
        "gcv-mnt-70",
        "cytovene-us-label maintenance ≥70: 5 mg/kg q24h",
        "ganciclovir",
        "maintenance",
        {"age_years": 70},
        {},
        R,
        360,
        "once daily",
    ),
    (
        "gcv-mnt-50",
        "cytovene-us-label maintenance 50–69: 2.5 mg/kg q24h",
        "ganciclovir",
        "maintenance",
        {"creatinine_mg_dl": 2},
        {},
        R,
        180,
        "once daily",
    ),
    (
        "gcv-mnt-25",
        "cytovene-us-label maintenance 25–49: 1.25 mg/kg q24h",
        "ganciclovir",
        "maintenance",
        {"creatinine_mg_dl": 4},
        {},
        R,
        90,
        "once daily",
    ),
    (
        "gcv-mnt-10",
        "cytovene-us-label maintenance 10–24: 0.625 mg/kg q24h",
        "ganciclovir",
        "maintenance",
        {"creatinine_mg_dl": 10},
        {},
        R,
        45,
        "once daily",
    ),
    (
        "gcv-mnt-hd",
        "cytovene-us-label maintenance HD: 0.625 mg/kg 3×/week",
        "ganciclovir",
        "maintenance",
        {"dialysis": "hemodialysis"},
        {},
        R,
        45,
        "three times weekly, after hemodialysis",
    ),
    (
        "gcv-mnt-6mg-70",
        "cytovene-us-label maintenance 6 mg/kg 5 days/week",
        "ganciclovir",
        "maintenance",
        {"age_years": 70},
        {"regimen": "6-mg-kg-5-days"},
        R,
        432,
        "once daily, 5 days a week",
    ),
    (
        "gcv-mnt-6mg-69",
        "cytovene-us-label: no renal row for 6 mg/kg",
        "ganciclovir",
        "maintenance",
        {"age_years": 71},
        {"regimen": "6-mg-kg-5-days"},
        S,
        None,
        None,
    ),
    (
        "gcv-congenital",
        "kimberlin2003 6 mg/kg q12h IV: 6 × 3.5 = 21",
        "ganciclovir",
        "congenital",
        {"age_years": 0, "weight_kg": "3.5", "creatinine_mg_dl": None},
        {},
        R,
        21,
        "twice daily",
    ),
    (
        "gcv-no-weight",
        "cytovene-us-label mg/kg needs weight",
        "ganciclovir",
        "induction",
        {"weight_kg": None, "measured_crcl_ml_min": 80},
        {},
        INSUFFICIENT,
        None,
        None,
    ),
    # --- foscarnet (Table 13, CrCl mL/min/kg; measured CrCl / 70 kg)
    (
        "fos-60-1.401",
        "foscavir-us-label Table 13 >1.4: 60 mg/kg q8h",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": "98.07"},
        {},
        R,
        4200,
        "every 8 hours",
    ),
    (
        "fos-60-1.4",
        "foscavir-us-label Table 13 >1.0–1.4: 45 mg/kg q8h",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 98},
        {},
        R,
        3150,
        "every 8 hours",
    ),
    (
        "fos-60-1.0",
        "foscavir-us-label Table 13 >0.8–1.0: 50 mg/kg q12h",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 70},
        {},
        R,
        3500,
        "twice daily",
    ),
    (
        "fos-60-0.8",
        "foscavir-us-label Table 13 >0.6–0.8: 40 mg/kg q12h",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 56},
        {},
        R,
        2800,
        "twice daily",
    ),
    (
        "fos-60-0.6",
        "foscavir-us-label Table 13 >0.5–0.6: 60 mg/kg q24h",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 42},
        {},
        R,
        4200,
        "once daily",
    ),
    (
        "fos-60-0.5",
        "foscavir-us-label Table 13 ≥0.4–0.5: 50 mg/kg q24h",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 35},
        {},
        R,
        3500,
        "once daily",
    ),
    (
        "fos-60-0.4",
        "foscavir-us-label Table 13 induction prints '> 0.4 – 0.5' and '< 0.4': 0.4 = 28/70 is in neither",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 28},
        {},
        S,
        None,
        None,
    ),
    (
        "fos-60-0.4001",
        "foscavir-us-label Table 13 induction > 0.4 – 0.5: 50 mg/kg q24h; 28.007/70 = 0.4001",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": "28.007"},
        {},
        R,
        3500,
        "once daily",
    ),
    (
        "fos-90-0.4",
        "foscavir-us-label Table 13 induction 90 q12h column: 0.4 not covered",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 28},
        {"regimen": "90-q12h"},
        S,
        None,
        None,
    ),
    (
        "fos-maint-0.4",
        "foscavir-us-label Table 13 maintenance prints '≥ 0.4 – 0.5': 50 mg/kg q48h = 3500",
        "foscarnet",
        "maintenance",
        {"weight_kg": 70, "measured_crcl_ml_min": 28},
        {},
        R,
        3500,
        "every 2 days",
    ),
    (
        "fos-maint-120-0.4",
        "foscavir-us-label Table 13 maintenance 120 column '≥ 0.4 – 0.5': 65 mg/kg q48h = 4550",
        "foscarnet",
        "maintenance",
        {"weight_kg": 70, "measured_crcl_ml_min": 28},
        {"regimen": "120"},
        R,
        4550,
        "every 2 days",
    ),
    (
        "fos-60-0.399",
        "foscavir-us-label Table 13 <0.4: not recommended",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": "27.93"},
        {},
        X,
        None,
        None,
    ),
    (
        "fos-90-1.4",
        "foscavir-us-label Table 13 90 q12h column >1.0–1.4: 70 mg/kg q12h",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 98},
        {"regimen": "90-q12h"},
        R,
        4900,
        "twice daily",
    ),
    (
        "fos-90-0.8",
        "foscavir-us-label Table 13 90 q12h column >0.6–0.8: 80 mg/kg q24h",
        "foscarnet",
        "induction",
        {"weight_kg": 70, "measured_crcl_ml_min": 56},
        {"regimen": "90-q12h"},
        R,
        5600,
        "once daily",
    ),
    (
        "fos-cg-female-1.0",
        "foscavir-us-label Table 13 modified CG: 0.85 × 72 / (72 × 0.85) = 1.0 → 50 mg/kg q12h",
        "foscarnet",
        "induction",
        {"age_years": 68, "sex": "female", "weight_kg": 70, "creatinine_mg_dl": "0.85"},
        {},
        R,
        3500,
        "twice daily",
    ),
    (
        "fos-mnt90-0.6",
        "foscavir-us-label Table 13 maintenance 90: >0.5–0.6 60 mg/kg q48h",
        "foscarnet",
        "maintenance",
        {"weight_kg": 70, "measured_crcl_ml_min": 42},
        {},
        R,
        4200,
        "every 2 days",
    ),
    (
        "fos-mnt120-1.0",
        "foscavir-us-label Table 13 maintenance 120: >0.8–1.0 65 mg/kg q24h",
        "foscarnet",
        "maintenance",
        {"weight_kg": 70, "measured_crcl_ml_min": 70},
        {"regimen": "120"},
        R,
        4550,
        "once daily",
    ),
    (
        "fos-hd",
        "foscavir-us-label: no dialysis dose",
        "foscarnet",
        "induction",
        {"dialysis": "hemodialysis"},
        {},
        S,
        None,
        None,
    ),
    # --- cidofovir (VISTIDE contraindications: SCr > 1.5, CrCl ≤ 55, urine protein ≥ 100)
    (
        "cdv-ok",
        "vistide-us-label induction 5 mg/kg weekly: 5 × 72 = 360",
        "cidofovir",
        "induction",
        {"urine_protein_mg_dl": 30},
        {},
        R,
        360,
        "once weekly",
    ),
    (
        "cdv-crcl-55",
        "vistide-us-label contraindicated CrCl ≤ 55 (exactly 55)",
        "cidofovir",
        "induction",
        {"weight_kg": "39.6", "urine_protein_mg_dl": 30},
        {},
        X,
        None,
        None,
    ),
    (
        "cdv-crcl-55.1",
        "vistide-us-label CrCl > 55 allowed: 5 × 39.7 = 198.5",
        "cidofovir",
        "induction",
        {"weight_kg": "39.7", "urine_protein_mg_dl": 30},
        {},
        R,
        Decimal("198.5"),
        "once weekly",
    ),
    (
        "cdv-scr-1.6",
        "vistide-us-label contraindicated SCr > 1.5",
        "cidofovir",
        "induction",
        {"creatinine_mg_dl": "1.6", "urine_protein_mg_dl": 30},
        {},
        X,
        None,
        None,
    ),
    (
        "cdv-scr-1.5",
        "vistide-us-label SCr ≤ 1.5 allowed (CrCl 66.7)",
        "cidofovir",
        "induction",
        {"creatinine_mg_dl": "1.5", "urine_protein_mg_dl": 30},
        {},
        R,
        360,
        "once weekly",
    ),
    (
        "cdv-protein-100",
        "vistide-us-label contraindicated urine protein ≥ 100",
        "cidofovir",
        "induction",
        {"urine_protein_mg_dl": 100},
        {},
        X,
        None,
        None,
    ),
    (
        "cdv-dipstick-2+",
        "vistide-us-label initiation contraindicated with urine protein ≥ 2+",
        "cidofovir",
        "induction",
        {"urine_protein_dipstick": "2+"},
        {},
        X,
        None,
        None,
    ),
    (
        "cdv-maintenance-dipstick-2+",
        "vistide-us-label: the ≥ 2+ limit contraindicates initiation only; a running maintenance "
        "course follows the on-therapy rules (≥ 3+ discontinues, monitoring pathway)",
        "cidofovir",
        "maintenance",
        {"urine_protein_dipstick": "2+"},
        {},
        R,
        360,
        "every 2 weeks",
    ),
    (
        "cdv-maintenance-scr-1.6",
        "vistide-us-label: SCr > 1.5 contraindicates initiation only, not a maintenance dose",
        "cidofovir",
        "maintenance",
        {"creatinine_mg_dl": "1.6", "urine_protein_mg_dl": 0},
        {},
        R,
        360,
        "every 2 weeks",
    ),
    (
        "cdv-no-protein",
        "vistide-us-label urine protein needed before starting",
        "cidofovir",
        "induction",
        {},
        {},
        INSUFFICIENT,
        None,
        None,
    ),
    (
        "cdv-maintenance",
        "vistide-us-label maintenance 5 mg/kg every 2 weeks",
        "cidofovir",
        "maintenance",
        {"urine_protein_mg_dl": 0},
        {},
        R,
        360,
        "every 2 weeks",
    ),
    (
        "cdv-nephrotoxic",
        "vistide-us-label contraindicated with nephrotoxic agents",
        "cidofovir",
        "induction",
        {"urine_protein_mg_dl": 0, "co_medications": ("vancomycin",)},
        {},
        X,
        None,
        None,
    ),
    # --- letermovir (PREVYMIS §2.3, §2.4)
    (
        "ltv-hsct",
        "prevymis-us-label §2.3 HSCT 480 mg daily",
        "letermovir",
        "prophylaxis",
        {"transplant_organ": "hsct"},
        {},
        R,
        480,
        "once daily",
    ),
    (
        "ltv-hsct-csa",
        "prevymis-us-label §2.4 with cyclosporine 240 mg",
        "letermovir",
        "prophylaxis",
        {"transplant_organ": "hsct", "co_medications": ("cyclosporine",)},
        {},
        R,
        240,
        "once daily",
    ),
    (
        "ltv-hsct-iv",
        "prevymis-us-label §2.3 IV 480 mg",
        "letermovir",
        "prophylaxis",
        {"transplant_organ": "hsct"},
        {"route": "iv"},
        R,
        480,
        "once daily",
    ),
    (
        "ltv-kidney-39kg",
        "prevymis-us-label §2.3 kidney ≥ 40 kg",
        "letermovir",
        "prophylaxis",
        {"transplant_organ": "kidney", "weight_kg": 39},
        {},
        S,
        None,
        None,
    ),
    (
        "ltv-hsct-child",
        "prevymis-us-label §2.5 weight tables not encoded",
        "letermovir",
        "prophylaxis",
        {"transplant_organ": "hsct", "age_years": 8, "weight_kg": 25},
        {},
        S,
        None,
        None,
    ),
    (
        "ltv-no-creatinine",
        "prevymis-us-label: no renal adjustment; creatinine not needed",
        "letermovir",
        "prophylaxis",
        {"transplant_organ": "hsct", "creatinine_mg_dl": None},
        {},
        R,
        480,
        "once daily",
    ),
    (
        "ltv-child-pugh-c",
        "prevymis-us-label §8.7 Child-Pugh C not recommended",
        "letermovir",
        "prophylaxis",
        {"transplant_organ": "hsct", "child_pugh": "C"},
        {},
        X,
        None,
        None,
    ),
    (
        "ltv-treatment",
        "prevymis-us-label §1 prophylaxis only",
        "letermovir",
        "preemptive",
        {},
        {},
        N,
        None,
        None,
    ),
    # --- maribavir (LIVTENCITY §2.1, §2.2; SmPC 4.2/4.3)
    (
        "mbv-us",
        "livtencity-us-label §2.1 400 mg BID",
        "maribavir",
        "refractory",
        {},
        {},
        R,
        400,
        "twice daily",
    ),
    (
        "mbv-carbamazepine",
        "livtencity-us-label §2.2 carbamazepine 800 mg BID",
        "maribavir",
        "refractory",
        {"co_medications": ("carbamazepine",)},
        {},
        R,
        800,
        "twice daily",
    ),
    (
        "mbv-phenytoin",
        "livtencity-us-label §2.2 phenytoin 1,200 mg BID",
        "maribavir",
        "refractory",
        {"co_medications": ("phenytoin",)},
        {},
        R,
        1200,
        "twice daily",
    ),
    (
        "mbv-eu-carbamazepine",
        "livtencity-eu-smpc 4.2 inducers 1,200 mg BID",
        "maribavir",
        "refractory",
        {"co_medications": ("carbamazepine",)},
        {"region": "eu"},
        R,
        1200,
        "twice daily",
    ),
    (
        "mbv-eu-ganciclovir",
        "livtencity-eu-smpc 4.3 contraindicated with ganciclovir",
        "maribavir",
        "refractory",
        {"co_medications": ("ganciclovir",)},
        {"region": "eu"},
        X,
        None,
        None,
    ),
    (
        "mbv-34kg",
        "livtencity-us-label §1 ≥ 35 kg",
        "maribavir",
        "refractory",
        {"weight_kg": 34},
        {},
        S,
        None,
        None,
    ),
    (
        "mbv-no-renal",
        "livtencity-us-label: no renal adjustment (creatinine 5)",
        "maribavir",
        "refractory",
        {"creatinine_mg_dl": 5},
        {},
        R,
        400,
        "twice daily",
    ),
    # --- valacyclovir (AIFA 648/96; EU SmPC CMV prophylaxis ≥75 / 50–<75 / 25–<50 / 10–<25 / <10)
    (
        "vacv-prevention",
        "aifa2020-648 2 g every 6 h (8 g/day); creatinine 0.6 ≤ 1.1, eGFR 118 ≥ 90, age 32 ≥ 12",
        "valacyclovir",
        "pregnancy-prevention",
        {"sex": "female", "age_years": 32, "creatinine_mg_dl": "0.6", "egfr_ml_min_173": 118},
        {},
        R,
        2000,
        "every 6 hours",
    ),
    (
        "vacv-fetal-renal",
        "aifa2020-648 rule A7: creatinine 2 > 1.1 mg/dL excludes (no renal dose adjustment)",
        "valacyclovir",
        "fetal-treatment",
        {"sex": "female", "creatinine_mg_dl": 2, "egfr_ml_min_173": 118},
        {},
        X,
        None,
        None,
    ),
    (
        "vacv-us-prophylaxis",
        "valtrex-us-label §1: no CMV indication",
        "valacyclovir",
        "prophylaxis",
        {},
        {},
        N,
        None,
        None,
    ),
    (
        "vacv-eu-75",
        "valtrex-eu-smpc 4.2 ≥75: 2 g QID",
        "valacyclovir",
        "prophylaxis",
        {"age_years": 65},
        {"region": "eu"},
        R,
        2000,
        "every 6 hours",
    ),
    (
        "vacv-eu-74",
        "valtrex-eu-smpc 4.2 50–<75: 1.5 g QID",
        "valacyclovir",
        "prophylaxis",
        {"age_years": 66},
        {"region": "eu"},
        R,
        1500,
        "every 6 hours",
    ),
    (
        "vacv-eu-50",
        "valtrex-eu-smpc 4.2 50–<75: 1.5 g QID",
        "valacyclovir",
        "prophylaxis",
        {"creatinine_mg_dl": 2},
        {"region": "eu"},
        R,
        1500,
        "every 6 hours",
    ),
    (
        "vacv-eu-49.75",
        "valtrex-eu-smpc 4.2 25–<50: 1.5 g TID",
        "valacyclovir",
        "prophylaxis",
        {"creatinine_mg_dl": "2.01"},
        {"region": "eu"},
        R,
        1500,
        "every 8 hours",
    ),
    (
        "vacv-eu-24.9",
        "valtrex-eu-smpc 4.2 10–<25: 1.5 g BID",
        "valacyclovir",
        "prophylaxis",
        {"creatinine_mg_dl": "4.01"},
        {"region": "eu"},
        R,
        1500,
        "twice daily",
    ),
    (
        "vacv-eu-9.9",
        "valtrex-eu-smpc 4.2 <10: 1.5 g daily",
        "valacyclovir",
        "prophylaxis",
        {"creatinine_mg_dl": "10.1"},
        {"region": "eu"},
        R,
        1500,
        "once daily",
    ),
]


@pytest.mark.parametrize(
    (
        "case",
        "source",
        "drug",
        "indication",
        "changes",
        "options",
        "outcome",
        "dose_mg",
        "schedule",
    ),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_golden(
    pack: Knowledge,
    case: str,
    source: str,
    drug: str,
    indication: str,
    changes: dict[str, Any],
    options: dict[str, Any],
    outcome: Outcome,
    dose_mg: Any,
    schedule: Any,
) -> None:
    result = recommend_dose(make_patient(**changes), drug, indication, pack, **options)
    assert result.outcome is outcome, (source, result.reasons, result.missing)
    if outcome is Outcome.RECOMMENDED:
        assert result.regimen is not None
        assert result.regimen.dose_mg == Decimal(dose_mg), source
        assert result.regimen.schedule == schedule, source
        assert result.citations, source
    else:
        assert result.regimen is None
        assert result.reasons or result.missing, source


def test_ages_are_whole_years_at_the_pediatric_adult_seam(pack: Knowledge) -> None:
    """VALCYTE pediatric dosing runs "up to 16 years": 16.9 years is still pediatric, 17 adult."""
    child = make_patient(
        age_years="16.9",
        height_cm=170,
        weight_kg=60,
        creatinine_mg_dl="0.9",
        transplant_organ="kidney",
    )
    assert (
        recommend_dose(child, "valganciclovir", "prophylaxis", pack).regimen_id
        == "prophylaxis-kidney-pediatric"
    )
    adult = make_patient(age_years=17, transplant_organ="kidney")
    assert (
        recommend_dose(adult, "valganciclovir", "prophylaxis", pack).regimen_id
        == "prophylaxis-kidney-adult"
    )


def test_a_row_that_cannot_apply_does_not_ask_for_data(pack: Knowledge) -> None:
    """Lung transplant, age unknown: no US valganciclovir prophylaxis row applies whatever the age."""
    result = recommend_dose(
        make_patient(age_years=None, transplant_organ="lung"), "valganciclovir", "prophylaxis", pack
    )
    assert result.outcome is Outcome.SPECIALIST_REVIEW
    assert result.missing == ()
    kidney = recommend_dose(
        make_patient(age_years=None, transplant_organ="kidney"),
        "valganciclovir",
        "prophylaxis",
        pack,
    )
    assert kidney.outcome is Outcome.INSUFFICIENT_DATA
    assert [m.item for m in kidney.missing] == ["age"]


def test_pediatric_formula_gives_no_dose_on_dialysis(pack: Knowledge) -> None:
    child = make_patient(
        age_years=5,
        height_cm=108,
        weight_kg=18,
        creatinine_mg_dl="3",
        transplant_organ="kidney",
        dialysis="hemodialysis",
    )
    result = recommend_dose(child, "valganciclovir", "prophylaxis", pack)
    assert result.outcome is Outcome.SPECIALIST_REVIEW
    assert "no dose on hemodialysis" in result.reasons[-1]


def test_there_are_at_least_sixty_golden_cases() -> None:
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


def test_induction_then_maintenance_at_the_same_band(pack: Knowledge) -> None:
    """VALCYTE: CrCl 51 (creatinine 1.96…) → 450 mg BID × 21 days, then 450 mg once daily."""
    result = recommend_dose(
        make_patient(creatinine_mg_dl="1.96"), "valganciclovir", "induction", pack
    )
    document = result.to_dict()
    assert document["format"] == "cmvcds-dose/1"
    assert document["renal"]["method"] == "cockcroft-gault"
    assert document["renal"]["crcl_ml_min"] == 51.02
    assert document["renal"]["weight_basis"] == "actual"
    regimen = document["regimen"]
    assert (
        regimen["dose_mg"],
        regimen["every_h"],
        regimen["schedule"],
        regimen["duration_days"],
    ) == (450, 12, "twice daily", 21)
    assert (
        regimen["then"]["dose_mg"],
        regimen["then"]["every_h"],
        regimen["then"]["schedule"],
    ) == (450, 24, "once daily")
    assert document["citations"][0] == "valcyte-us-label"


def test_pediatric_oral_solution_volume_and_tablet_note(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(
            age_years=8,
            height_cm=128,
            weight_kg=26,
            creatinine_mg_dl="1.1",
            transplant_organ="kidney",
        ),
        "valganciclovir",
        "prophylaxis",
        pack,
    )
    assert result.regimen is not None
    assert result.regimen.oral_solution_ml == Decimal("8.50")
    assert result.regimen.until_post_transplant_day == 200
    assert any("450 mg tablet may be used" in line for line in result.regimen.administration)
    assert result.renal is not None and result.renal.clearance.method == "schwartz-label"
    assert result.renal.value == 64


def test_congenital_volume(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(age_years=0, weight_kg="3.5", creatinine_mg_dl=None),
        "valganciclovir",
        "congenital",
        pack,
    )
    assert result.regimen is not None
    assert result.regimen.oral_solution_ml == Decimal("1.12")
    assert result.regimen.dose_mg_per_kg == 16
    assert result.renal is None


def test_foscarnet_reports_crcl_per_kg(pack: Knowledge) -> None:
    document = recommend_dose(
        make_patient(age_years=68, sex="female", weight_kg=70, creatinine_mg_dl="0.85"),
        "foscarnet",
        "induction",
        pack,
    ).to_dict()
    assert document["renal"]["crcl_ml_min_kg"] == 1.0
    assert document["renal"]["crcl_ml_min"] == 70
    assert document["renal"]["band"] == "CrCl > 0.8 and ≤ 1.0 mL/min/kg"


def test_refusals_say_why(pack: Knowledge) -> None:
    hd = recommend_dose(make_patient(dialysis="hemodialysis"), "valganciclovir", "induction", pack)
    assert hd.outcome is Outcome.EXCLUDED
    assert "IV ganciclovir" in hd.reasons[-1]
    cidofovir = recommend_dose(
        make_patient(creatinine_mg_dl="1.6", urine_protein_mg_dl=0), "cidofovir", "induction", pack
    )
    assert {a.code for a in cidofovir.alerts} == {AlertCode.RENAL_EXCLUSION}
    assert any("1.5 mg/dL" in r for r in cidofovir.reasons)
    neutropenic = recommend_dose(make_patient(anc_per_ul=499), "ganciclovir", "induction", pack)
    assert neutropenic.outcome is Outcome.EXCLUDED
    assert AlertCode.NEUTROPENIA in {a.code for a in neutropenic.alerts}
    letermovir = recommend_dose(make_patient(), "letermovir", "induction", pack)
    assert AlertCode.NOT_A_TREATMENT_DRUG in {a.code for a in letermovir.alerts}


def test_missing_inputs_are_named_never_guessed(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(creatinine_mg_dl=None, weight_kg=None, sex=None),
        "ganciclovir",
        "induction",
        pack,
    )
    assert result.outcome is Outcome.INSUFFICIENT_DATA
    assert {m.item for m in result.missing} == {"creatinine", "weight", "sex"}
    organ = recommend_dose(make_patient(), "valganciclovir", "prophylaxis", pack)
    assert [m.item for m in organ.missing] == ["transplant.organ"]


def test_unverified_rows_raise_the_unverified_alert(pack: Knowledge) -> None:
    result = recommend_dose(make_patient(), "valacyclovir", "prophylaxis", pack, region="eu")
    assert AlertCode.UNVERIFIED_FACT in {a.code for a in result.alerts}
    verified = recommend_dose(make_patient(), "valganciclovir", "induction", pack)
    assert AlertCode.UNVERIFIED_FACT not in {a.code for a in verified.alerts}


def test_boundary_alert_at_an_edge(pack: Knowledge) -> None:
    at_edge = recommend_dose(make_patient(age_years=80), "valganciclovir", "induction", pack)
    assert AlertCode.BOUNDARY_CASE in {a.code for a in at_edge.alerts}
    far = recommend_dose(make_patient(), "valganciclovir", "induction", pack)
    assert AlertCode.BOUNDARY_CASE not in {a.code for a in far.alerts}


def test_letermovir_iv_betadex_caution_below_50(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(transplant_organ="hsct", creatinine_mg_dl=3),
        "letermovir",
        "prophylaxis",
        pack,
        route="iv",
    )
    assert result.outcome is Outcome.RECOMMENDED
    assert any("betadex" in a.message for a in result.alerts)


def test_as_regimens_phases(pack: Knowledge) -> None:
    from datetime import date

    result = recommend_dose(make_patient(), "valganciclovir", "induction", pack)
    induction, maintenance = result.as_regimens(
        start=date(2026, 3, 1), stop=None, stop_rule="until CD4 > 100"
    )
    assert (induction.dose_mg, induction.every_h, induction.daily_mg) == (900, 12, 1800)
    assert induction.stop == date(2026, 3, 22)
    assert (maintenance.start, maintenance.dose_mg, maintenance.every_h) == (
        date(2026, 3, 22),
        900,
        24,
    )
    assert maintenance.stop_rule == "until CD4 > 100"
    single = result.as_regimen(start=date(2026, 3, 1))
    assert single == induction.__class__(**{**induction.__dict__, "stop": None, "stop_rule": None})
