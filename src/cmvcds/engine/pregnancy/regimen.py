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
) -> tuple[Regimen | None, tuple[str, ...], Outcome]:
    """The regimen (None when the dosing engine recommends none), the dosing engine's reasons and
    the decision's outcome; without a regimen, the reasons start with a sentence saying why."""
    dose = recommend_dose(dose_patient_from_case(case, on), "valacyclovir", indication, knowledge)
    result.alerts.extend(a for a in dose.alerts if a not in result.alerts)
    if dose.outcome is not Outcome.RECOMMENDED or dose.regimen is None:
        result.missing.extend(m for m in dose.missing if m not in result.missing)
        outcome = no_regimen(dose.outcome)
        return None, (NO_REGIMEN[outcome], *dose.reasons), outcome
    regimen = dose.as_regimen(start=start, stop=stop, stop_rule=stop_rule)
    return regimen, dose.reasons, Outcome.RECOMMENDED


#: Why the dose calculator gave no valacyclovir regimen, by its outcome (outside probe, session 4:
#: an exclusion was reported as "insufficient data" with an empty "gives no regimen:" line).
NO_REGIMEN = {
    Outcome.EXCLUDED: "The dose calculator excludes valacyclovir for this patient:",
    Outcome.INSUFFICIENT_DATA: "The dose calculator cannot give a valacyclovir dose yet (see what is missing):",
    Outcome.SPECIALIST_REVIEW: "The dose calculator leaves the valacyclovir dose to a specialist:",
}


def no_regimen(outcome: Outcome) -> Outcome:
    """The decision outcome when the dose calculator gives no regimen: its own outcome, except
    that a dose the calculator cannot give is never read as recommended or not indicated."""
    return outcome if outcome in NO_REGIMEN else Outcome.INSUFFICIENT_DATA


def course_start(case: Case, on: date, since: date) -> date:
    """The start of a valacyclovir course already given since ``since`` and still running, else ``on``."""
    running = [
        t.start
        for t in case.therapy
        if t.drug == "valacyclovir" and since <= t.start <= on and (t.stop is None or t.stop >= on)
    ]
    return min(running) if running else on
