"""Has a treatment course met its stop rule today? Then it ends: no further checks are planned for it.

The end-of-treatment rule of transplant, HIV and other immunocompromised patients (T10; Kotton
2025, ECIL): at least ``min_treatment_days`` of therapy, clinical resolution (the case's
``presentation.course: resolved``) for CMV disease, and the site's clearance criterion on weekly
blood viral loads (1 or 2 consecutive weekly loads below the LLOQ or the site's threshold).
The rule is judged by ``engine/transplant/treatment.clearance`` (the same function the decision
uses), on a scratch result so that its missing settings are reported by the decision only.
Congenital and pregnancy courses have fixed lengths and are not judged here.
"""

from __future__ import annotations

from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import DecisionId
from cmvcds.engine.monitoring.courses import Course
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.transplant import TreatmentRules

_NO_STOP_RULE = ("pregnancy", "congenital")
_NOT_DISEASE = (None, "none", "asymptomatic_dnaemia")


def treatment_ended(
    case: Case, knowledge: Knowledge, settings: SiteSettings, course: Course, on: date
) -> bool:
    """True when the treatment course running on ``on`` has met the end-of-treatment rule."""
    rules = knowledge.tables.get("cmv_treatment")
    if case.context.value in _NO_STOP_RULE or not isinstance(rules, TreatmentRules):
        return False
    entry = course.current(on)
    if not course.active_on(on) or course.drug not in rules.treatment_drugs.values:
        return False
    if entry.indication not in (None, "induction", "preemptive"):
        return False
    start = course.start
    for previous in course.entries:
        if previous.indication == "prophylaxis" and previous.start <= on:
            start = max(start, previous.stop or start)
    if (on - start).days < int(rules.min_treatment_days.value):
        return False
    presentation = case.presentation
    disease = presentation is not None and presentation.disease not in _NOT_DISEASE
    resolved = presentation is not None and presentation.course == "resolved"
    if entry.indication != "preemptive" and disease and not resolved:
        return False
    from cmvcds.engine.transplant.common import Plan, tables
    from cmvcds.engine.transplant.treatment import clearance

    tx = case.transplant
    threshold = (
        "pet_threshold_iu_ml.hsct"
        if tx is not None and tx.organ == "hsct"
        else "pet_threshold_iu_ml.sot"
    )
    scratch = Plan(PathwayResult(), knowledge, settings, DecisionId.ANTIVIRAL_TREATMENT)
    return clearance(case, on, start, scratch, tables(knowledge), threshold).met is True
