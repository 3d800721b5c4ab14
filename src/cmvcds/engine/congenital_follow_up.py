"""Recorded long-term follow-up of an infant with congenital CMV, and the risk–benefit review of a
course continued beyond its planned months (issue 14 item 9; seed 001).

Every rule reads ``data/congenital/follow_up.yaml``:

- **Hearing** (``congenital.follow_up[]`` with ``assessment: hearing``): each ear's dated
  thresholds in dB HL. A threshold ``≥ loss_from_db`` is hearing loss. The ear's latest result is
  a *deterioration* when it is a loss and either no earlier result of that ear was one (delayed
  onset) or it lies ``≥ worse_by_db`` above the ear's best earlier threshold (progression): a
  ``hearing-deterioration`` warning with the action to take.
- **Eyes and development**: the latest abnormal result of each gives a ``follow-up-finding``
  warning with the action of ``abnormal_results`` (said to be new when the result before it was
  normal).
- **Long course** (seed 001: "the risk–benefit ratio for long-term therapy ... alongside SNHL and
  neurodevelopmental improvement, should also be evaluated"): ``findings.long_course_review``
  lays the hearing course per ear and the eye and developmental results beside the viral load,
  the blood counts and liver tests, the courses held or stopped, and the resistance genotypes. It
  decides nothing; what is not recorded is listed as missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property

from cmvcds.domain.case import Case, FollowUpResult, Observation, TherapyCourse
from cmvcds.domain.memo import same_call
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.sentences import sentence
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.engine.monitoring import add_months
from cmvcds.knowledge.schemas.congenital import FollowUpCalendar, HearingChange

__all__ = ["EarCourse", "ear_courses", "long_course_review", "read_results"]

#: CMV DNA specimens that give the blood viral load of the review (urine and saliva do not)
_BLOOD = ("plasma", "whole_blood", "blood", "serum")
#: the laboratory results of the toxicity column
_TOXICITY = ("anc", "platelets", "hemoglobin", "alt")


@dataclass(frozen=True)
class EarCourse:
    """One ear's recorded thresholds (dB HL), oldest first, read against ``HearingChange``."""

    ear: str
    points: tuple[tuple[date, Decimal], ...]
    rule: HearingChange

    def loss(self, threshold: Decimal) -> bool:
        return threshold >= self.rule.loss_from_db

    def deterioration(self) -> str | None:
        """How the latest result is worse than the earlier ones (None: it is not)."""
        return self._deterioration

    @cached_property
    def _deterioration(self) -> str | None:
        """``deterioration()``, worked out once per ear: the alert, the trend and the review all
        ask for it (four to six times per case, issue 20)."""
        if len(self.points) < 2:
            return None
        *earlier, (_, latest) = self.points
        if not self.loss(latest):
            return None
        if not any(self.loss(t) for _, t in earlier):
            return "new hearing loss (delayed onset)"
        best_day, best = min(earlier, key=lambda p: (p[1], p[0]))
        if latest - best >= self.rule.worse_by_db:
            return f"{latest - best} dB above the best earlier result ({best} dB HL on {best_day})"
        return None

    def trend(self) -> str:
        """'worse' exactly when the hearing-deterioration rule fires (a new loss, or the latest
        result ``worse_by_db`` above the ear's best earlier one), so that the review never calls
        stable an ear the alert calls worse; else 'better' when the latest result is
        ``worse_by_db`` below the first; else 'stable'; a single result: 'one result'."""
        if len(self.points) < 2:
            return "one result"
        if self.deterioration() is not None:
            return "worse"
        if self.points[-1][1] - self.points[0][1] <= -self.rule.worse_by_db:
            return "better"
        return "stable"

    def as_dict(self) -> dict[str, object]:
        return {
            "results": [
                {"date": d, "threshold_db": t, "hearing_loss": self.loss(t)} for d, t in self.points
            ],
            "trend": self.trend(),
        }


@same_call
def ear_courses(case: Case, rule: HearingChange) -> tuple[EarCourse, ...]:
    """The hearing course of each ear with at least one recorded result (left, then right).
    The results and the long-course review of one case share them (``same_call``), and with
    them each ear's deterioration, worked out once."""
    results = case.congenital.follow_up if case.congenital else ()
    courses = []
    for ear in ("left", "right"):
        points = sorted(
            (r.date, r.threshold_db)
            for r in results
            if r.assessment == "hearing" and r.ear == ear and r.threshold_db is not None
        )
        if points:
            courses.append(EarCourse(ear, tuple(points), rule))
    return tuple(courses)


def _of(case: Case, assessment: str) -> list[FollowUpResult]:
    results = case.congenital.follow_up if case.congenital else ()
    return sorted((r for r in results if r.assessment == assessment), key=lambda r: r.date)


def read_results(case: Case, calendar: FollowUpCalendar, result: PathwayResult) -> None:
    """The recorded results in ``findings.congenital.follow_up`` and their warnings."""
    if case.congenital is None or not case.congenital.follow_up:
        return
    rule = calendar.hearing_change
    ears = ear_courses(case, rule)
    recorded: dict[str, object] = {}
    if ears:
        recorded["hearing"] = {e.ear: e.as_dict() for e in ears}
    for ear in ears:
        how = ear.deterioration()
        if how is None:
            continue
        cited = result.cite(rule, "hearing loss and deterioration thresholds")
        day, threshold = ear.points[-1]
        result.alerts.append(
            Alert(
                AlertCode.HEARING_DETERIORATION,
                Severity.WARNING,
                f"Hearing deteriorated in the {ear.ear} ear: {threshold} dB HL on {day}, {how}; "
                f"hearing loss is ≥ {rule.loss_from_db} dB HL. Action: {sentence(rule.action)}",
                cited,
            )
        )
    for assessment in ("ophthalmology", "neurodevelopment"):
        found = _of(case, assessment)
        if not found:
            continue
        recorded[assessment] = [{"date": r.date, "result": r.result} for r in found]
        action = calendar.abnormal(assessment)
        latest = found[-1]
        if latest.result != "abnormal" or action is None:
            continue
        new = len(found) > 1 and found[-2].result == "normal"
        cited = result.cite(action, f"action on an abnormal {assessment} result")
        result.alerts.append(
            Alert(
                AlertCode.FOLLOW_UP_FINDING,
                Severity.WARNING,
                f"{'New abnormal' if new else 'Abnormal'} {assessment} result on {latest.date}"
                f"{f' (normal on {found[-2].date})' if new else ''}. Action: {sentence(action.action)}",
                cited,
            )
        )
    congenital = result.findings.setdefault("congenital", {})
    assert isinstance(congenital, dict)
    congenital["follow_up"] = recorded


def long_course_review(
    case: Case,
    calendar: FollowUpCalendar,
    result: PathwayResult,
    drug: str,
    start: date,
    planned_end: date,
    on: date,
) -> tuple[str, tuple[str, ...]]:
    """``findings.long_course_review`` for a course running past ``planned_end``; returns its
    one-line summary for the decision's reasons and the review's citations."""
    review = calendar.long_course_review
    cited = result.cite(review, "risk–benefit review of a course beyond its planned months")
    months = 0
    while add_months(start, months + 1) <= on:
        months += 1
    ears = ear_courses(case, calendar.hearing_change)
    eyes = _of(case, "ophthalmology")
    development = _of(case, "neurodevelopment")
    loads = [
        o
        for o in case.results("cmv_dna")
        if (o.value is not None or o.result is not None) and o.specimen in _BLOOD
    ]
    labs = sorted(
        (o for code in _TOXICITY for o in case.results(code) if o.value is not None),
        key=lambda o: (o.date, o.code),
    )
    stopped = [t for t in case.therapy if t.stop_reason is not None]
    at_diagnosis = case.congenital.hearing if case.congenital else None
    not_recorded = [
        name
        for name, absent in (
            (
                "hearing results since diagnosis (congenital.follow_up, assessment hearing)"
                if at_diagnosis
                else "hearing results (congenital.follow_up, assessment hearing)",
                not ears,
            ),
            ("neurodevelopmental assessment (congenital.follow_up)", not development),
            ("blood CMV viral load", not loads),
            ("blood counts", not any(o.code == "anc" for o in labs)),
        )
        if absent
    ]
    for name in not_recorded:
        result.missing.append(
            Missing(name, "to weigh continuing the course beyond its planned months")
        )
    result.findings["long_course_review"] = {
        "course": {
            "drug": drug,
            "start": start,
            "planned_end": planned_end,
            "months_on_therapy": months,
            "weighs": review.shows,
        },
        "hearing": {e.ear: e.as_dict() for e in ears},
        "hearing_at_diagnosis": at_diagnosis,
        "ophthalmology": [{"date": r.date, "result": r.result} for r in eyes],
        "neurodevelopment": [{"date": r.date, "result": r.result} for r in development],
        "viral_load": [
            {
                "date": o.date,
                "value": o.value,
                "unit": o.unit,
                "result": o.result,
                "specimen": o.specimen,
            }
            for o in loads
        ],
        "toxicity": [
            {"date": o.date, "code": o.code, "value": o.value, "unit": o.unit} for o in labs
        ],
        "courses_stopped": [
            {"drug": t.drug, "start": t.start, "stop": t.stop, "stop_reason": t.stop_reason}
            for t in stopped
        ],
        "genotypes": [{"date": g.date, "mutations": list(g.mutations)} for g in case.genotype],
        "not_recorded": not_recorded,
        "citations": list(cited),
    }
    return _summary(ears, development, eyes, loads, labs, stopped, months, at_diagnosis), cited


def _summary(
    ears: Sequence[EarCourse],
    development: list[FollowUpResult],
    eyes: list[FollowUpResult],
    loads: list[Observation],
    labs: list[Observation],
    stopped: list[TherapyCourse],
    months: int,
    at_diagnosis: str | None = None,
) -> str:
    parts = [f"{months} months on therapy"]
    # probe11 U5: congenital.hearing (the status at diagnosis) was accepted and never read here
    if at_diagnosis:
        parts.append(f"hearing at diagnosis {at_diagnosis.replace('_', ' ')}")
    if ears:
        parts.append(
            "hearing "
            + "; ".join(
                f"{e.ear} {e.points[0][1]} → {e.points[-1][1]} dB HL ({e.trend()})" for e in ears
            )
        )
    else:
        parts.append(
            "no hearing result since diagnosis" if at_diagnosis else "hearing not recorded"
        )
    parts.append(
        f"development {development[-1].result} on {development[-1].date}"
        if development
        else "development not recorded"
    )
    if eyes:
        parts.append(f"eyes {eyes[-1].result} on {eyes[-1].date}")
    if loads:
        valued = [o for o in loads if o.value is not None]
        nadir = min(valued, key=lambda o: (o.value or 0, o.date)) if valued else None
        parts.append(
            f"viral load {_load(loads[0])} → {_load(loads[-1])}"
            + (f" (nadir {nadir.value} on {nadir.date})" if nadir is not None else "")
        )
    anc = [o for o in labs if o.code == "anc"]
    if anc:
        low = min(anc, key=lambda o: (o.value or 0, o.date))
        parts.append(f"lowest ANC {low.value} {low.unit} on {low.date}")
    held = [t for t in stopped if t.stop_reason == "held_toxicity"]
    parts.append(f"{len(held)} hold(s) for toxicity")
    return "Risk–benefit review of the long course: " + "; ".join(parts) + "."


def _load(o: Observation) -> str:
    """A viral load as reported: its value and unit, else its result word (not_detected …)."""
    return f"{o.value} {o.unit}" if o.value is not None else str(o.result).replace("_", " ")
