"""``dose_patient_from_case`` reads each measurement in one pass over the case's observations
(issue 20): the same values as ``current(case.results(code), on)``, the date-sorted look-up it
replaced, on generated cases and on the same cases with their observations reversed and with
a second, different result on the latest date (a contradiction: unknown)."""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path
from typing import Any

from cmvcds.domain.case import Case, Observation, parse_case
from cmvcds.engine.dosing import dose_patient_from_case
from cmvcds.engine.same_time import current
from cmvcds.knowledge import Knowledge

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from bulk_cases import generate

TODAY = date(2026, 12, 7)


def _value(case: Case, code: str, on: date, specimen: str | None = None) -> Any:
    found = current(case.results(code, specimen), on)
    return found.value if found else None


def _expected(case: Case, on: date) -> dict[str, Any]:
    def measured(code: str) -> bool:
        return any(o.date <= on and o.value is not None for o in case.results(code))

    weighed = current(case.results("weight"), on)
    protein = current(case.results("urine_protein"), on)
    renal = (
        current(case.results(c), on) for c in ("creatinine", "egfr", "creatinine_clearance_24h")
    )
    return {
        "weight_kg": _value(case, "weight", on) if measured("weight") else case.patient.weight_kg,
        "height_cm": _value(case, "height", on) if measured("height") else case.patient.height_cm,
        "creatinine_mg_dl": _value(case, "creatinine", on),
        "egfr_ml_min_173": _value(case, "egfr", on),
        "measured_crcl_ml_min": _value(case, "creatinine_clearance_24h", on),
        "anc_per_ul": _value(case, "anc", on),
        "platelets_per_ul": _value(case, "platelets", on, "blood"),
        "hemoglobin_g_dl": _value(case, "hemoglobin", on),
        "urine_protein_mg_dl": protein.value if protein else None,
        "urine_protein_dipstick": protein.result if protein and protein.value is None else None,
        "renal_observations": tuple(o for o in renal if o is not None),
        "weight_date": weighed.date if weighed else None,
    }


def _variants(case: Case) -> list[Case]:
    """The case, its observations reversed, and one dose reading contradicted on its date."""
    observations = case.observations
    variants = [case, case.model_copy(update={"observations": observations[::-1]})]
    read = [o for o in observations if o.code in ("creatinine", "weight", "platelets") and o.value]
    if read:
        o = random.Random(len(observations)).choice(read)
        other = Observation.model_validate({**o.model_dump(), "value": o.value * 2})
        variants.append(case.model_copy(update={"observations": (*observations, other)}))
    return variants


def test_one_pass_reads_what_the_sorted_look_up_reads(pack: Knowledge) -> None:
    compared = 0
    for raw in generate(400):
        for case in _variants(parse_case(raw, pack, today=TODAY)):
            patient = dose_patient_from_case(case, case.assessed_on)
            for name, expected in _expected(case, case.assessed_on).items():
                assert getattr(patient, name) == expected, (case.id, name)
            compared += 1
    assert compared > 800
