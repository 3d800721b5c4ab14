"""Does a running course's renal function call for the label's on-therapy adjustment?

A drug label may adjust a course already running by how far the creatinine has risen above its
pre-treatment baseline, and by on-therapy proteinuria (``on_therapy_renal`` rows of the drug
table). For cidofovir (VISTIDE label, Dosage and administration): a rise of 0.3–0.4 mg/dL
reduces 5 mg/kg to 3 mg/kg; a rise of ≥ 0.5 mg/dL or ≥ 3+ proteinuria discontinues it. The
label's start-only contraindications (creatinine > 1.5 mg/dL, CrCl ≤ 55 mL/min, proteinuria ≥ 2+)
are not re-applied here: they are scoped to the indications that start a course.

Baseline: the last creatinine on or before the course start (the label asks for one within 48 hours
before each dose); the rise is the latest on-therapy creatinine minus it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.engine.monitoring.common import plain
from cmvcds.engine.monitoring.courses import Course
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DosingPolicy, DrugLabel, OnTherapyRenalRule


def fired_rules(
    result: PathwayResult, case: Case, knowledge: Knowledge, course: Course, on: date
) -> list[tuple[OnTherapyRenalRule, str]]:
    """The label's on-therapy renal rows of ``course.drug`` that the case's results meet, each
    with what was measured (a ``discontinue`` row first: it overrides a reduction)."""
    label = knowledge.tables.get(f"drug_{course.drug}")
    if not isinstance(label, DrugLabel) or not label.on_therapy_renal:
        return []
    rise = _creatinine_rise(result, case, course, on)
    protein = _latest_protein(case, knowledge, course, on)
    fired = []
    for rule in label.on_therapy_renal:
        measured = rise if rule.measure == "creatinine_rise_mg_dl" else protein
        if measured is not None and rule.contains(measured[0]):
            fired.append((rule, measured[1]))
    return sorted(fired, key=lambda pair: pair[0].effect != "discontinue")


def on_therapy_renal(
    result: PathwayResult, case: Case, knowledge: Knowledge, course: Course, on: date
) -> None:
    """Apply the label's on-therapy renal rows of ``course.drug`` to the case's results."""
    for rule, shown in fired_rules(result, case, knowledge, course, on):
        cited = result.cite(rule, f"{course.drug} on-therapy renal rule {rule.id}")
        if rule.effect == "reduce":
            assert rule.dose_mg_per_kg is not None
            result.alerts.append(
                Alert(
                    AlertCode.DOSE_RENAL_ADJUSTMENT,
                    Severity.WARNING,
                    f"{course.drug}: {shown}. {rule.message}{_dose_text(case, rule, on)}",
                    cited,
                )
            )
        else:
            result.alerts.append(
                Alert(
                    AlertCode.RENAL_EXCLUSION,
                    Severity.CRITICAL,
                    f"{course.drug}: {shown}. {rule.message}",
                    cited,
                )
            )


def current_weight(case: Case, on: date) -> Decimal | None:
    """The latest weight on or before ``on`` (a ``weight`` observation, else ``patient.weight_kg``)."""
    weights = [o for o in case.results("weight") if o.value is not None and o.date <= on]
    return weights[-1].value if weights else case.patient.weight_kg


def _creatinine_rise(
    result: PathwayResult, case: Case, course: Course, on: date
) -> tuple[Decimal, str] | None:
    values = [o for o in case.results("creatinine") if o.value is not None and o.date <= on]
    before = [o for o in values if o.date <= course.start]
    during = [o for o in values if o.date > course.start]
    if not during:
        return None
    if not before:
        gap = Missing(
            f"creatinine:baseline:{course.drug}",
            f"a creatinine on or before the start of {course.drug} ({course.start}) to measure the "
            "on-therapy rise against",
        )
        if gap not in result.missing:
            result.missing.append(gap)
        # review12 W2: without a pre-treatment baseline the rise is measured from the earliest
        # creatinine on treatment (a rise from it is at least the rise on treatment), said so
        first, latest = min(during, key=lambda o: o.date), _latest(during)
        if first.date == latest.date:
            return None
        assert first.value is not None and latest.value is not None
        rise = latest.value - first.value
        return rise, (
            f"creatinine {plain(latest.value)} mg/dL on {latest.date} vs {plain(first.value)} "
            f"mg/dL on {first.date}, the earliest on {course.drug} (rise {plain(rise)} mg/dL; no "
            f"baseline before the start on {course.start})"
        )
    baseline, latest = before[-1], _latest(during)
    assert baseline.value is not None and latest.value is not None
    rise = latest.value - baseline.value
    return rise, (
        f"creatinine {plain(latest.value)} mg/dL on {latest.date} vs baseline {plain(baseline.value)} "
        f"mg/dL on {baseline.date} (rise {plain(rise)} mg/dL)"
    )


def _latest_protein(
    case: Case, knowledge: Knowledge, course: Course, on: date
) -> tuple[Decimal, str] | None:
    """The latest on-therapy urine protein in mg/dL (a dipstick grade read by the policy map)."""
    found = [o for o in case.results("urine_protein") if course.start < o.date <= on]
    if not found:
        return None
    latest = _latest(found)
    if latest.value is not None:
        return latest.value, f"urine protein {plain(latest.value)} mg/dL on {latest.date}"
    policy = knowledge.table("dosing_policy", DosingPolicy)
    mapped = policy.dipstick_mg_dl.get(latest.result or "")
    if mapped is None:
        return None
    return mapped, f"urine protein {latest.result} on {latest.date}"


def _latest(observations: list[Observation]) -> Observation:
    return max(observations, key=lambda o: o.date)


def _dose_text(case: Case, rule: OnTherapyRenalRule, on: date) -> str:
    """`` Now N mg (3 mg/kg × W kg).`` on the latest weight, or what is missing."""
    assert rule.dose_mg_per_kg is not None
    weight = current_weight(case, on)
    if weight is None:
        return " The new dose needs the current weight."
    dose = rule.dose_mg_per_kg * weight
    return f" Now {plain(dose)} mg ({plain(rule.dose_mg_per_kg)} mg/kg × {plain(weight)} kg)."
