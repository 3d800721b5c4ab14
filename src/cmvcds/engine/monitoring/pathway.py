"""The monitoring pathway: ``evaluate(case, knowledge, on, settings) -> PathwayResult``."""

from __future__ import annotations

from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.engine.dosing import (
    dose_patient_from_case,
)
from cmvcds.engine.kinetics import (
    TherapyBar,
    chart_data,
    viral_load_series,
)
from cmvcds.engine.monitoring.courses import entry_end, therapy_courses
from cmvcds.engine.monitoring.dose import check_course_dose, course_interactions
from cmvcds.engine.monitoring.duration import evidence_alerts, fixed_phase_overrun
from cmvcds.engine.monitoring.exposure import tdm
from cmvcds.engine.monitoring.held import held_courses
from cmvcds.engine.monitoring.liver import liver_checks
from cmvcds.engine.monitoring.renal_rules import on_therapy_renal
from cmvcds.engine.monitoring.resistance import kinetics
from cmvcds.engine.monitoring.schedule import schedule_course
from cmvcds.engine.monitoring.toxicity import blood_counts, renal_decline
from cmvcds.knowledge import Knowledge


def evaluate(case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> PathwayResult:
    """Monitor every course in ``case.therapy`` and the viral-load series; empty when there are neither."""
    result = PathwayResult()
    series = viral_load_series(case.observations, until=on)
    if not case.therapy and not series:
        return result
    context = case.context.value
    courses = therapy_courses(case.therapy)
    patient = dose_patient_from_case(case, on) if courses else None
    for course in courses:
        schedule_course(result, knowledge, case, course, on, settings)
        if not course.active_on(on):
            continue
        if patient is not None:
            check_course_dose(result, case, knowledge, course, on, patient)
            course_interactions(result, knowledge, course, patient)
        blood_counts(result, case, knowledge, settings, course, on)
        renal_decline(result, case, knowledge, course, on, patient)
        on_therapy_renal(result, case, knowledge, course, on)
        evidence_alerts(result, knowledge, context, course, on)
        fixed_phase_overrun(result, knowledge, course, on)
        tdm(result, case, knowledge, settings, context, course, on)
        liver_checks(result, case, knowledge, course, on)
    held_courses(result, case, knowledge, settings, courses, on)
    markers = kinetics(result, case, knowledge, settings, courses, series, on)
    bars = [
        TherapyBar(
            e.drug,
            e.start,
            entry_end(c, i, on),
            c.active_on(on) and e is c.current(on),
            e.dose_mg,
            e.every_h,
        )
        for c in courses
        for i, e in enumerate(c.entries)
        if e.start <= on
    ]
    if series or bars:
        result.findings["viral_load_kinetics"] = chart_data(series, markers, bars)
    return result
