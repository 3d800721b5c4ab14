"""Property (review11 S2): no CMV antiviral is proposed to start beside a running course.

Over every drug of the pack × every dosed band of its adult label rows (any indication, any
renal band, any route) × the course's indication (each of its row's, and none) × five renal
functions (creatinine 0.7 … 8.0 mg/dL: Cockcroft–Gault 111 … 9.7 mL/min for a man of 60 years
and 70 kg) × kidney D+/R− (site drug valganciclovir) and allogeneic HSCT R+ (letermovir) ×
three viral-load histories (falling 250,000 → 90,000 IU/mL with the example site's thresholds;
the same without a threshold; not detected), the assessment:

- proposes no prophylaxis regimen of another drug, unless it says it is given in the running
  course's place ("never beside it");
- says "start now" only when no CMV antiviral course runs;
- never says "no routine viral-load monitoring" while a load is detected;
- points to the dosing engine's alerts ("see its alerts") only when a warning or critical alert
  is there (M4).

Sources: FOSCAVIR, VISTIDE and LIVTENCITY have no prophylaxis dose (the pack's rows); CYTOVENE-IV
(5 mg/kg every 12 h is both induction and the first phase of prevention); VALCYTE §2.5 Table 2;
Kotton 2018 (treatment of CMV infection replaces prevention; DNAemia during prophylaxis:
breakthrough, T20/T22).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cmvcds.knowledge import Knowledge, load_knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel
from transplant.helpers import run

CREATININE = ("0.7", "1.25", "2.0", "4.0", "8.0")
LOADS = {
    "falling": (("2026-05-08", 250000), ("2026-05-29", 90000)),
    "not_detected": (("2026-05-08", None), ("2026-05-29", None)),
}
TRANSPLANTS = {
    "kidney": {
        "organ": "kidney",
        "date": "2026-03-01",
        "donor_cmv_igg": "positive",
        "recipient_cmv_igg": "negative",
    },
    "hsct": {
        "organ": "hsct",
        "allogeneic": True,
        "date": "2026-04-20",
        "donor_cmv_igg": "negative",
        "recipient_cmv_igg": "positive",
    },
}


def _courses() -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """(id, course, the row's indications) for every dosed adult band of every label."""
    found: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
    seen: list[dict[str, Any]] = []
    for name, table in sorted(load_knowledge().tables.items()):
        if not isinstance(table, DrugLabel):
            continue
        for row in table.regimens:
            if row.outcome is not None or row.formula is not None:
                continue
            if row.min_age_years is None and row.max_age_months is not None:
                continue  # infants' rows: another context
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
                if course in seen:
                    continue
                seen.append(course)
                dose = course.get("dose_mg", course.get("dose_mg_per_kg"))
                found.append(
                    (f"{name}:{row.id}:{dose}q{every_h:.4g}", course, tuple(row.indications))
                )
    return found


COURSES = _courses()


def _raw(
    course: dict[str, Any], indication: str | None, creatinine: str, where: str, loads: str
) -> dict[str, Any]:
    observations: list[dict[str, Any]] = []
    for day, value in LOADS[loads]:
        observations.append(
            {"date": day, "code": "creatinine", "value": float(creatinine), "unit": "mg/dL"}
        )
        load: dict[str, Any] = {"date": day, "code": "cmv_dna", "specimen": "plasma"}
        load.update(
            {"value": value, "unit": "IU/mL"} if value is not None else {"result": "not_detected"}
        )
        observations.append(load)
    observations.append({"date": "2026-05-29", "code": "anc", "value": 3000, "unit": "cells/uL"})
    entry = dict(course, start="2026-05-10")
    if indication is not None:
        entry["indication"] = indication
    return {
        "format": "cmvcds-case/1",
        "id": "review11-property",
        "assessed_on": "2026-05-30",
        "context": "transplant",
        "patient": {"sex": "male", "age_years": 60, "weight_kg": 70, "height_cm": 175},
        "transplant": TRANSPLANTS[where],
        "observations": observations,
        "therapy": [entry],
    }


def _problems(document: dict[str, Any], drug: str, detected: bool) -> list[str]:
    problems = []
    reasons = [r for d in document["decisions"] for r in d["reasons"]]
    in_place = any("in its place, never beside it" in r for r in reasons)
    for regimen in document["regimens"]:
        if regimen["drug"] != drug and regimen["indication"] == "prophylaxis" and not in_place:
            problems.append(f"{regimen['drug']} prophylaxis beside {drug}")
    if any("start now" in r for r in reasons):
        problems.append("start now beside a running course")
    if detected and any("no routine viral-load monitoring" in r for r in reasons):
        problems.append("no routine monitoring with a detected load")
    alerted = any(
        a["severity"] != "info" and a["code"] != "unverified-fact" for a in document["alerts"]
    )
    if not alerted and any("see its alerts" in r or "dosing engine's alerts" in r for r in reasons):
        problems.append("points to alerts that do not exist")
    return problems


def test_the_property_covers_every_cmv_drug() -> None:
    drugs = {course["drug"] for _, course, _ in COURSES}
    assert {
        "valganciclovir",
        "ganciclovir",
        "foscarnet",
        "cidofovir",
        "maribavir",
        "letermovir",
        "valacyclovir",
    } <= drugs


@pytest.mark.parametrize(("label", "course", "indications"), COURSES, ids=[c[0] for c in COURSES])
def test_no_antiviral_is_proposed_beside_a_running_course(
    knowledge: Knowledge, label: str, course: dict[str, Any], indications: tuple[str, ...]
) -> None:
    failures = []
    for indication in (None, *indications):
        for creatinine in CREATININE:
            for where in TRANSPLANTS:
                for loads, threshold in (
                    ("falling", True),
                    ("falling", False),
                    ("not_detected", True),
                ):
                    changes: dict[str, Any] = (
                        {}
                        if threshold
                        else {"pet_threshold_iu_ml__sot": None, "pet_threshold_iu_ml__hsct": None}
                    )
                    raw = _raw(course, indication, creatinine, where, loads)
                    document = run(knowledge, raw, **changes)
                    for problem in _problems(document, course["drug"], loads == "falling"):
                        failures.append((indication, creatinine, where, loads, threshold, problem))
    assert not failures, failures
