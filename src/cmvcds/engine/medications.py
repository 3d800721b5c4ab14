"""Co-medications on the assessment date: what runs, with its codes and classes (issue 14 item 3).

``evaluate`` lists every ``medications`` course running on the date (and any stopped in the last
7 days, the cidofovir look-back) with its RxNorm and ATC codes from the pack, so that the answer
shows which drugs the interaction and immune-status rules saw. ``immunosuppressive`` names the
running drugs whose class makes a patient immunocompromised (corticosteroids, biologics,
immunosuppressants).
"""

from __future__ import annotations

from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.medications import MedicationCatalogue

__all__ = ["LOOK_BACK_DAYS", "evaluate", "immunosuppressive"]

#: How far back a stopped course is still shown: the longest look-back of an interaction row
#: (cidofovir: nephrotoxic agents stopped at least 7 days before).
LOOK_BACK_DAYS = 7


def evaluate(case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> PathwayResult:
    """``findings.medications``: the courses running on ``on`` or stopped in the look-back."""
    result = PathwayResult()
    if not case.medications:  # most cases: nothing to look up in the catalogue
        return result
    catalogue = knowledge.table("medications", MedicationCatalogue)
    shown = []
    for course in sorted(case.medications, key=lambda m: (m.start, m.drug)):
        recent = course.stop is not None and 0 < (on - course.stop).days < LOOK_BACK_DAYS
        if not (course.running_on(on) or recent):
            continue
        row = catalogue.get(course.drug)
        assert row is not None  # the parser refused unknown drugs
        entry: dict[str, object] = {"drug": course.drug, "start": course.start}
        if course.stop is not None:
            entry["stop"] = course.stop
        entry["running"] = course.running_on(on)
        entry["classes"] = list(row.classes)
        if row.rxnorm:
            entry["rxnorm"] = row.rxnorm
        if row.atc:
            entry["atc"] = row.atc
        shown.append(entry)
        result.cite(row, f"codes and classes of {course.drug}")
    if shown:
        result.findings["medications"] = shown
    return result


def immunosuppressive(case: Case, knowledge: Knowledge, on: date) -> list[str]:
    """The running medications that make a patient immunocompromised, as ``drug (since date)``."""
    if not case.medications:
        return []
    catalogue = knowledge.table("medications", MedicationCatalogue)
    found = []
    for course in case.medications:
        row = catalogue.get(course.drug)
        if row is not None and row.immunosuppressive and course.running_on(on):
            found.append(f"{course.drug} (since {course.start})")
    return sorted(found)
