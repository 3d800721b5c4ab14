"""A course without an indication at a label prophylaxis/maintenance dose is never "treatment"
(review9b: fix9b compared the dose with TODAY's renally adjusted prophylaxis dose, so valganciclovir
900 mg once daily became "treatment" when the kidneys failed, and ganciclovir 5 mg/kg every 12 h —
the label's first prophylaxis phase — was read as prophylaxis).

Property, over every drug of the pack: for each prophylaxis or maintenance band of the label
(fixed dose, any renal band, any route), a course recorded without an indication at exactly that
dose is never read as treatment, whatever the renal function at its start and today. And the
reading is not vacuous: the label's treatment doses that no prevention dose reaches are
treatment (VALCYTE induction 900 mg twice daily; FOSCAVIR induction 90 mg/kg every 12 h;
high-dose ganciclovir 10 mg/kg every 12 h, Kotton 2018); letermovir (PREVYMIS: prophylaxis only)
is never treatment, even at 480 mg with cyclosporine.

Cockcroft–Gault, man of 60 years and 70 kg: CrCl = 80 × 70 / (72 × creatinine) = 77.8 / creatinine;
the creatinine values below give 130, 86, 60, 43, 31, 19 and 11 mL/min (1.85 … 0.16 mL/min/kg),
every renal band of the labels.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cmvcds.domain.case import parse_case
from cmvcds.engine.monitoring.dose import treatment_dose
from cmvcds.knowledge import Knowledge, load_knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel

ON = date(2026, 6, 19)
START = ON - timedelta(days=20)
CREATININE = ("0.6", "0.9", "1.3", "1.8", "2.5", "4.0", "7.0")
TODAY_CREATININE = ("0.9", "2.5")


def _case(knowledge: Knowledge, course: dict[str, Any], start_cr: str, today_cr: str) -> Any:
    raw = {
        "format": "cmvcds-case/1",
        "id": "property",
        "assessed_on": ON.isoformat(),
        "context": "transplant",
        "patient": {"sex": "male", "age_years": 60, "weight_kg": 70, "height_cm": 175},
        "transplant": {
            "organ": "kidney",
            "date": "2026-01-10",
            "donor_cmv_igg": "positive",
            "recipient_cmv_igg": "negative",
            "co_medications": ["tacrolimus"],
        },
        "observations": [
            {
                "date": (START - timedelta(days=1)).isoformat(),
                "code": "creatinine",
                "value": float(start_cr),
                "unit": "mg/dL",
            },
            {
                "date": (ON - timedelta(days=1)).isoformat(),
                "code": "creatinine",
                "value": float(today_cr),
                "unit": "mg/dL",
            },
        ],
        "therapy": [{**course, "start": START.isoformat()}],
    }
    return parse_case(raw, knowledge, today=ON)


def _prevention_doses() -> list[tuple[str, dict[str, Any]]]:
    knowledge = load_knowledge()
    found: list[tuple[str, dict[str, Any]]] = []
    for name, table in sorted(knowledge.tables.items()):
        if not isinstance(table, DrugLabel):
            continue
        for row in table.regimens:
            if row.outcome is not None or not {"prophylaxis", "maintenance"} & set(row.indications):
                continue
            for band in row.bands:
                if band.refuse is not None:
                    continue
                if band.every_h is not None:
                    every_h = band.every_h
                elif band.doses_per_week is not None:
                    every_h = Decimal(168) / band.doses_per_week
                else:
                    continue
                course: dict[str, Any] = {
                    "drug": table.drug,
                    "route": row.route,
                    "every_h": float(every_h),
                }
                if band.dose_mg is not None:
                    course["dose_mg"] = float(band.dose_mg)
                elif band.dose_mg_per_kg is not None:
                    course["dose_mg_per_kg"] = float(band.dose_mg_per_kg)
                else:
                    continue
                if course not in [c for _, c in found]:
                    found.append(
                        (
                            f"{name}:{row.id}:{band.dose_mg or band.dose_mg_per_kg}q{every_h:.4g}",
                            course,
                        )
                    )
    return found


PREVENTION = _prevention_doses()


def test_the_property_covers_the_prevention_drugs() -> None:
    drugs = {course["drug"] for _, course in PREVENTION}
    assert {"valganciclovir", "ganciclovir", "letermovir", "foscarnet", "cidofovir"} <= drugs


@pytest.mark.parametrize(("label", "course"), PREVENTION, ids=[p[0] for p in PREVENTION])
def test_prevention_dose_without_indication_is_never_treatment(
    knowledge: Knowledge, label: str, course: dict[str, Any]
) -> None:
    for start_cr in CREATININE:
        for today_cr in TODAY_CREATININE:
            case = _case(knowledge, course, start_cr, today_cr)
            read = treatment_dose(case, ON, knowledge, case.therapy[0])
            assert read is not True, (label, start_cr, today_cr)


@pytest.mark.parametrize(
    ("course", "expected"),
    [
        # VALCYTE induction 900 mg twice daily (CrCl ≥ 60): treatment
        ({"drug": "valganciclovir", "dose_mg": 900, "every_h": 12, "route": "oral"}, True),
        # FOSCAVIR induction 90 mg/kg every 12 h (CrCl > 1.4 mL/min/kg): treatment
        ({"drug": "foscarnet", "dose_mg_per_kg": 90, "every_h": 12, "route": "iv"}, True),
        # high-dose ganciclovir 10 mg/kg every 12 h: above every prevention dose
        ({"drug": "ganciclovir", "dose_mg_per_kg": 10, "every_h": 12, "route": "iv"}, True),
        # ganciclovir 5 mg/kg every 12 h: induction and first prophylaxis phase alike: unclear
        ({"drug": "ganciclovir", "dose_mg_per_kg": 5, "every_h": 12, "route": "iv"}, None),
        # VALCYTE prophylaxis 900 mg once daily (CrCl ≥ 60 at the start): prophylaxis
        ({"drug": "valganciclovir", "dose_mg": 900, "every_h": 24, "route": "oral"}, False),
        # PREVYMIS: letermovir is never a treatment drug, 480 mg with or without cyclosporine
        ({"drug": "letermovir", "dose_mg": 480, "every_h": 24, "route": "oral"}, False),
    ],
)
def test_treatment_doses_are_read_at_the_start_band(
    knowledge: Knowledge, course: dict[str, Any], expected: bool | None
) -> None:
    # creatinine 0.6 at the start (CrCl 130 mL/min, 1.85 mL/min/kg); today 2.5 (31 mL/min): the
    # reading stays the start band's
    case = _case(knowledge, course, "0.6", "2.5")
    assert treatment_dose(case, ON, knowledge, case.therapy[0]) is expected
