"""The valacyclovir regimen of a pregnancy decision, computed by the dosing engine (never typed here)."""

from __future__ import annotations

from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult, Regimen
from cmvcds.domain.vocabulary import Indication, Outcome
from cmvcds.engine.dosing import dose_patient_from_case, recommend_dose
from cmvcds.knowledge import Knowledge

__all__ = ["course_start", "valacyclovir_regimen"]


def valacyclovir_regimen(
    case: Case,
    on: date,
    indication: Indication,
    knowledge: Knowledge,
    result: PathwayResult,
    *,
    start: date,
    stop: date | None,
    stop_rule: str,
) -> tuple[Regimen | None, tuple[str, ...]]:
    """The regimen (None when the dosing engine recommends none) and the dosing engine's reasons."""
    dose = recommend_dose(dose_patient_from_case(case, on), "valacyclovir", indication, knowledge)
    result.alerts.extend(a for a in dose.alerts if a not in result.alerts)
    if dose.outcome is not Outcome.RECOMMENDED or dose.regimen is None:
        result.missing.extend(m for m in dose.missing if m not in result.missing)
        return None, dose.reasons
    return dose.as_regimen(start=start, stop=stop, stop_rule=stop_rule), dose.reasons


def course_start(case: Case, on: date, since: date) -> date:
    """The start of a valacyclovir course already given since ``since`` and still running, else ``on``."""
    running = [
        t.start
        for t in case.therapy
        if t.drug == "valacyclovir" and since <= t.start <= on and (t.stop is None or t.stop >= on)
    ]
    return min(running) if running else on
