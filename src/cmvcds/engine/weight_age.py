"""Is the weight a per-kg infant dose was computed on still current? (outside probe, session 4, D2)

An infant's valganciclovir dose is 16 mg/kg, recalculated monthly for growth (Kimberlin 2015,
Methods; the pack's ``cong-dose-review`` schedule row); seed 001 (IJID 2020) proposes "constant
dosage/weight adjustments" against resistance on long courses. A dose computed on a weight older
than the site's limit (``congenital_max_weight_age_days``; reference profile: 31 days, one month)
is still shown on that weight, but flagged: weigh the infant and recalculate. An undated
``patient.weight_kg`` cannot be judged current: the dose is shown on it with the same warning
(a growing infant's weight without a date may be any age).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from cmvcds.domain.results import Alert, PathwayResult, Regimen
from cmvcds.domain.settings import REFERENCE_PROFILE, SiteSettings, use_setting
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.engine.dosing.patient import DosePatient
from cmvcds.knowledge import Knowledge

__all__ = ["SETTING", "weighed_regimen"]

SETTING = "congenital_max_weight_age_days"


def weighed_regimen(
    regimen: Regimen,
    patient: DosePatient,
    result: PathwayResult,
    knowledge: Knowledge,
    settings: SiteSettings,
    on: date,
) -> Regimen:
    """``regimen`` naming the weight (and its date) a per-kg dose used; a weight older than the
    site's limit adds a ``weight-out-of-date`` alert (the monthly ``dose-review`` items of the
    schedule stay as planned)."""
    if regimen.dose_mg_per_kg is None or patient.weight_kg is None:
        return regimen
    weighed = replace(regimen, weight_kg=float(patient.weight_kg), weight_date=patient.weight_date)
    if patient.weight_date is None:
        result.alerts.append(
            Alert(
                AlertCode.WEIGHT_OUT_OF_DATE,
                Severity.WARNING,
                f"The {regimen.drug} dose is computed on a weight of {patient.weight_kg} kg with no "
                f"date: weight not dated. A growing infant's dose on an old weight falls below "
                f"{regimen.dose_mg_per_kg:g} mg/kg: weigh the infant and recalculate the dose.",
                regimen.citations,
            )
        )
        return weighed
    limit = use_setting(result, settings, knowledge, SETTING)
    age = (on - patient.weight_date).days
    if limit is None or age <= int(limit):
        return weighed
    cited = regimen.citations
    profile = (
        " (the reference profile's limit, from the monthly recalculation of the trial; a site "
        "may set its own)"
        if settings.origin_of(SETTING) == REFERENCE_PROFILE
        else ""
    )
    result.alerts.append(
        Alert(
            AlertCode.WEIGHT_OUT_OF_DATE,
            Severity.WARNING,
            f"The {regimen.drug} dose is computed on the last weight, {patient.weight_kg} kg on "
            f"{patient.weight_date}, {age} days old: older than {limit} days{profile}. A growing "
            f"infant's dose on an old weight falls below {regimen.dose_mg_per_kg:g} mg/kg: weigh the "
            "infant and recalculate the dose.",
            cited,
        )
    )
    return weighed
