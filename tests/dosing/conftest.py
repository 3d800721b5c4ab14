"""Fixtures of the dosing tests: the knowledge pack and a patient builder with clinical defaults."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cmvcds.engine.dosing import DosePatient
from cmvcds.knowledge import Knowledge, load_knowledge


@pytest.fixture(scope="session")
def pack() -> Knowledge:
    """The shipped pack (or ``$CMVCDS_KNOWLEDGE``, as the CLI reads it)."""
    return load_knowledge(os.environ.get("CMVCDS_KNOWLEDGE") or None)


#: The day the built patients are described on (the date protocol exclusions quote).
ASSESSED_ON = date(2026, 11, 21)


def make_patient(**changes: Any) -> DosePatient:
    """A 40-year-old man of 72 kg and 175 cm with creatinine 1.0 mg/dL (CG CrCl 100 mL/min),
    described on ``ASSESSED_ON``. Given a measured CrCl and no creatinine, the patient has the
    measured value only (probe11 S4: a creatinine beside it that gives another dose is a
    contradiction, tested in test_renal_contradiction.py)."""
    if "measured_crcl_ml_min" in changes and "creatinine_mg_dl" not in changes:
        changes = {**changes, "creatinine_mg_dl": None}
    base: dict[str, Any] = {
        "age_years": Decimal(40),
        "age_days": None,
        "sex": "male",
        "weight_kg": Decimal(72),
        "height_cm": Decimal(175),
        "creatinine_mg_dl": Decimal(1),
        "egfr_ml_min_173": None,
        "measured_crcl_ml_min": None,
        "assessed_on": ASSESSED_ON,
    }
    for key, value in changes.items():
        base[key] = (
            Decimal(str(value))
            if isinstance(value, int | float | str) and key in _DECIMALS
            else value
        )
    return DosePatient(**base)


_DECIMALS = {
    "age_years",
    "weight_kg",
    "height_cm",
    "creatinine_mg_dl",
    "egfr_ml_min_173",
    "measured_crcl_ml_min",
    "anc_per_ul",
    "platelets_per_ul",
    "hemoglobin_g_dl",
    "urine_protein_mg_dl",
}


@pytest.fixture
def patient() -> Callable[..., DosePatient]:
    return make_patient
