"""Which interaction rows of a drug's label a patient's co-medications trigger (issue 14 item 3).

One reading for both uses: the dose calculator (a course about to start: a drug stopped within a
row's look-back still counts, e.g. cidofovir's nephrotoxic agents stopped fewer than 7 days
before) and the monitoring of a course already running (``running_course_alerts``: only what is
taken now, because a look-back guards the start). Therapy courses count as co-medications
(``dose_patient_from_case``), so two antivirals given together meet each other's rows: maribavir
with ganciclovir or valganciclovir (LIVTENCITY US PI §5.1, §7.1; EU SmPC 4.3).
"""

from __future__ import annotations

from cmvcds.domain.results import Alert
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.engine.dosing.patient import DosePatient
from cmvcds.knowledge.schemas.drugs import DrugLabel, Interaction

__all__ = ["active_interactions", "interaction_message", "running_course_alerts"]


def recently_stopped(rule: Interaction, patient: DosePatient) -> list[tuple[str, int]]:
    """Drugs of ``rule`` stopped fewer than its look-back days ago (not taken any more)."""
    if rule.lookback_days is None:
        return []
    return [
        (drug, days)
        for drug, days in patient.stopped_days_ago
        if drug in rule.with_any and days < rule.lookback_days
    ]


def active_interactions(
    label: DrugLabel, patient: DosePatient, region: str, *, look_back: bool = True
) -> list[Interaction]:
    """The rows of ``label`` for ``region`` that the patient's co-medications (or intolerances)
    trigger; with ``look_back``, a drug stopped within a row's look-back counts too."""
    taken = set(patient.co_medications)
    taken.discard(label.drug)
    if not taken and not patient.intolerances and not (look_back and patient.stopped_days_ago):
        return []  # nothing taken, stopped or not tolerated: no row can fire
    intolerant = set(patient.intolerances)

    def fires(rule: Interaction) -> bool:
        if rule.when == "intolerant":
            return bool(intolerant.intersection(rule.with_any))
        recent = recently_stopped(rule, patient) if look_back else []
        return bool(taken.intersection(rule.with_any) or recent)

    return [
        rule
        for rule in label.interactions
        if region in rule.regions
        and rule.effect != "review"  # an intolerance row: ``intolerance.intolerances_barring``
        and fires(rule)
        and (not rule.only_with or taken.intersection(rule.only_with))
    ]


def interaction_message(rule: Interaction, patient: DosePatient, *, look_back: bool = True) -> str:
    """The row's message, naming the drugs that count only through the look-back."""
    recent = recently_stopped(rule, patient) if look_back else []
    if not recent:
        return rule.message
    shown = ", ".join(f"{drug} stopped {days} day(s) ago" for drug, days in recent)
    return f"{rule.message} ({shown}: fewer than {rule.lookback_days} days)"


def running_course_alerts(
    label: DrugLabel, patient: DosePatient, region: str = "us"
) -> tuple[tuple[Interaction, Alert], ...]:
    """The ``drug-interaction`` alerts of a course that is running: each triggered row with the
    alert it raises, whatever the course's dose or indication."""
    return tuple(
        (
            rule,
            Alert(
                AlertCode.DRUG_INTERACTION,
                Severity(rule.severity),
                rule.message,
                rule.citations,
            ),
        )
        for rule in active_interactions(label, patient, region, look_back=False)
    )
