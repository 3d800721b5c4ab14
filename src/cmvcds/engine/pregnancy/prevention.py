"""``valacyclovir-prevention``: indication (A1, A2), course and stop (A5), exclusions (A7).

The onset window decides the indication (I-1, I-2): inside the periconceptional window or before
24+0 → indicated; straddling a boundary → specialist review, flagged; outside → not indicated.
An indicated course runs from the diagnosis (the assessment date, or the start of a course
already given) until the amniocentesis result is reported, or until 26+0 without one (I-3).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import AlertCode, Outcome, Severity
from cmvcds.engine.pregnancy.amniocentesis import Amniocentesis
from cmvcds.engine.pregnancy.dating import PregnancyDating
from cmvcds.engine.pregnancy.exclusions import Exclusions
from cmvcds.engine.pregnancy.infection import MaternalInfection, OnsetWindow
from cmvcds.knowledge.schemas.pregnancy import GaLimit, PregnancyProtocol

__all__ = [
    "Course",
    "Indication",
    "course_of",
    "first_24_weeks_readings",
    "indication_for_prevention",
]


class Indication(NamedTuple):
    """Whether the prevention indication holds: ``outcome`` None means it does."""

    outcome: Outcome | None
    reasons: tuple[str, ...]
    rules: tuple[str, ...]
    missing: tuple[Missing, ...] = ()


class Course(NamedTuple):
    """The prevention course's stop date and why."""

    stop: date
    stop_rule: str
    rules: tuple[str, ...]
    ended_because: str | None = None
    by_result: bool = False


def where_onset(onset: OnsetWindow, start: date, limit: date) -> str:
    """Where the onset lies against the window [start, limit).

    ``in``; ``before`` (preconceptional: on or before the first positive sample, which precedes
    ``start``); ``after`` (from 24+0); ``straddles`` (the window may reach 24+0: undecidable);
    ``may-precede``: the onset is on or before a first positive sample inside the window but may
    lie before ``start`` (undated, or a seroconversion interval that begins before it). I-2.3:
    nothing positively shows a preconceptional onset, so it counts as within the window, flagged.
    """
    latest = onset.latest
    earliest = onset.earliest
    if latest < start:
        return "before"
    if earliest is not None and earliest >= limit:
        return "after"
    if latest >= limit:
        return "straddles"
    if earliest is None or earliest < start:
        return "may-precede"
    return "in"


def indication_for_prevention(
    infection: MaternalInfection,
    dating: PregnancyDating,
    protocol: PregnancyProtocol,
    window_start: date,
    result: PathwayResult,
) -> Indication:
    """Rules A1 and A2 (with I-1, I-2): is valacyclovir prevention indicated?"""
    status = infection.status
    if status == "insufficient_data":
        return Indication(
            Outcome.INSUFFICIENT_DATA,
            infection.reasons,
            ("A1", *infection.rules),
            infection.missing,
        )
    if status == "none":
        return Indication(
            Outcome.NOT_INDICATED,
            (*infection.reasons, "Prevention is for a primary infection (A1, A2)."),
            ("A1",),
        )
    if status in ("non_primary", "not_established"):
        return Indication(
            Outcome.NOT_INDICATED,
            (
                *infection.reasons,
                "Prevention is for a primary infection only (A1, A2); in-utero treatment may apply if an amniocentesis is positive (A6).",
            ),
            ("A1", *infection.rules),
        )
    onset = infection.onset
    assert onset is not None  # a primary infection always has an onset window
    limit_rule = protocol.prevention_onset_before
    result.cite(limit_rule, "'first 24 weeks' read as onset before 24+0 (I-1)")
    limit = dating.date_of(limit_rule.days)
    where = where_onset(onset, window_start, limit)
    span = _span(onset, dating)
    rules = ("A1", "A2", "I-1", "I-2", "I-6", *infection.rules)
    reasons = [*infection.reasons, f"Onset {span} ({onset.basis})."]
    if where == "before" and onset.by_avidity is not None:
        # I-14: the onset is preconceptional on the avidity alone (assay-dependent maturation)
        reasons.append(
            f"The high IgG avidity on {onset.by_avidity} places the onset on or before "
            f"{onset.latest}, before the periconceptional window (from {window_start}): a "
            "preconceptional infection, outside the indication (A2), if the avidity holds; "
            "avidity maturation depends on the assay: specialist review (I-14)."
        )
        result.alerts.append(
            Alert(
                AlertCode.BOUNDARY_CASE,
                Severity.WARNING,
                f"Seroconversion with a high IgG avidity on {onset.by_avidity}: the avidity dates "
                f"the onset on or before {onset.latest}, before the periconceptional window "
                f"(from {window_start}), i.e. preconceptional and outside the prevention "
                "indication (A2). Valacyclovir is not recommended on the I-2.3 default; the "
                "specialist decides (avidity assay, earlier stored samples, symptoms) (I-14).",
                limit_rule.citations,
            )
        )
        return Indication(Outcome.SPECIALIST_REVIEW, tuple(reasons), rules)
    if where == "before":
        reasons.append(
            f"The onset precedes the periconceptional window (from {window_start}): preconceptional infection, outside the indication (A2)."
        )
        return Indication(Outcome.NOT_INDICATED, tuple(reasons), rules)
    if where == "after":
        reasons.append(
            f"The onset is at or after 24+0 ({limit}): outside the indication (A2, I-1)."
        )
        return Indication(Outcome.NOT_INDICATED, tuple(reasons), rules)
    if where == "straddles":
        first_24_weeks_readings(
            infection, dating, limit_rule, "undecidable (specialist review)", result
        )
        edge = f"24+0 ({limit})"
        reasons.append(
            f"The onset window straddles {edge}: the indication cannot be decided from the serology (I-2); specialist review."
        )
        result.alerts.append(
            Alert(
                AlertCode.BOUNDARY_CASE,
                Severity.WARNING,
                f"Onset window {span} straddles {edge}; the prevention indication needs specialist review (I-2).",
                limit_rule.citations,
            )
        )
        return Indication(Outcome.SPECIALIST_REVIEW, tuple(reasons), rules)
    if where == "may-precede":
        reasons.append(
            f"The onset may precede the periconceptional window (from {window_start}), but nothing positively "
            "shows a preconceptional onset: it counts as within the window (I-2.3); flagged."
        )
        result.alerts.append(
            Alert(
                AlertCode.BOUNDARY_CASE,
                Severity.WARNING,
                f"Onset {span}: a preconceptional onset (before the periconceptional window, which starts on "
                f"{window_start}) cannot be excluded. It counts as within the window (I-2.3) and prevention is "
                "indicated; a preconceptional infection would be outside the indication (A2). Review the dating "
                + (
                    f"with the specialist (earlier stored samples, symptoms; {infection.avidity}, I-14)."
                    if infection.avidity is not None
                    else "with the specialist (earlier stored samples, avidity, symptoms)."
                ),
                limit_rule.citations,
            )
        )
    reasons.append(
        f"Onset within the periconceptional period or before 24+0 ({limit}): indicated (A2, I-1)."
    )
    if infection.diagnosed_on is not None and infection.diagnosed_on >= limit:
        first_24_weeks_readings(infection, dating, limit_rule, "eligible", result)
        result.alerts.append(
            Alert(
                AlertCode.BOUNDARY_CASE,
                Severity.WARNING,
                f"Diagnosed on {infection.diagnosed_on} ({dating.ga(infection.diagnosed_on)}), at or after 24+0, with the onset before it: "
                "eligible when 'first 24 weeks' is judged on the onset (I-1, applied); not eligible if judged on the "
                "diagnosis date, as the letter's 'diagnosed with primary CMV infection ... in the first twenty-four "
                "weeks' may be read. Both readings are in findings.interpretations; clinical sign-off needed.",
                limit_rule.citations,
            )
        )
    return Indication(None, tuple(reasons), rules)


def first_24_weeks_readings(
    infection: MaternalInfection,
    dating: PregnancyDating,
    limit_rule: GaLimit,
    by_onset: str,
    result: PathwayResult,
) -> None:
    """Record both readings of the AIFA 'first 24 weeks' when they differ (I-1), with the
    Gazzetta Ufficiale's own sentence (``wording``).

    The pack judges eligibility on the onset of the primary infection; the allegato says "Gestanti
    a cui sia stata diagnosticata un'infezione primaria da CMV in epoca periconcezionale o in
    gravidanza ... nelle prime ventiquattro settimane di gestazione", where the 24 weeks may
    qualify the diagnosis. The diagnosis reading is eligible only with a diagnosis before 24+0;
    when the onset reading says otherwise both are shown, the onset reading applied, flagged for
    clinical sign-off.
    """
    limit = dating.date_of(limit_rule.days)
    diagnosed = infection.diagnosed_on
    onset = infection.onset
    if diagnosed is None or onset is None:
        return
    by_diagnosis = "eligible" if diagnosed < limit else "not eligible"
    if by_diagnosis == by_onset:
        return
    onset_text = (
        f"{onset.latest} ({dating.ga(onset.latest)})"
        if onset.earliest == onset.latest
        else f"{onset.earliest or '…'} to {onset.latest} ({dating.ga(onset.latest)})"
    )
    entry = {
        "rule": "I-1",
        "question": "AIFA 648/96 prevention: 'first twenty-four weeks' judged on the onset or on the diagnosis?",
        "wording": limit_rule.wording,
        "limit": {"ga": "24+0", "date": limit},
        "readings": [
            {"judged_on": "onset", "date": onset_text, "answer": by_onset, "applied": True},
            {
                "judged_on": "diagnosis",
                "date": f"{diagnosed} ({dating.ga(diagnosed)})",
                "answer": by_diagnosis,
                "applied": False,
            },
        ],
        "sign_off": "needed: the readings differ for this patient; the onset reading is applied (I-1)",
        "citations": [
            "aifa2020-648-valacyclovir",
            "infezmed2021-letter-valacyclovir-648",
            "cmvcds2026-pregnancy-interpretations",
        ],
    }
    found = result.findings.setdefault("interpretations", [])
    assert isinstance(found, list)
    found.append(entry)


def course_of(
    amnios: tuple[Amniocentesis, ...],
    earliest: date,
    declined: bool,
    booked: date | None,
    dating: PregnancyDating,
    protocol: PregnancyProtocol,
    result: PathwayResult,
    fetuses: int = 1,
) -> Course:
    """When the prevention course stops (A5, I-3, I-8, I-10)."""
    stop_rule_row = protocol.stop_without_amniocentesis
    cutoff = dating.date_of(stop_rule_row.days)
    positive = next((a for a in amnios if a.positive), None)
    negative = _conclusive_negative(amnios, earliest, fetuses)
    ending = positive or negative
    if ending is not None:
        then = (
            "; prevention stops and in-utero treatment is assessed (A5, A6)"
            if ending.positive
            else " (A5)"
        )
        rules = ("A5", "A6") if ending.positive else ("A5", "I-8")
        rule = f"on {ending.reported}: {ending.describe()}{then}"
        return Course(ending.reported, rule, rules, ending.describe(), by_result=True)
    result.cite(stop_rule_row, "'until the 26th week' read as stop at 26+0 (I-3)")
    if declined:
        return Course(
            cutoff,
            f"26+0 ({cutoff}): amniocentesis declined (A5, I-3)",
            ("A5", "I-3"),
            "amniocentesis declined",
        )
    if booked is not None and booked >= earliest and booked < cutoff:
        return Course(
            cutoff,
            f"when the result of the amniocentesis booked for {booked} is reported (negative: stop; positive: "
            f"stop and assess in-utero treatment), at the latest at 26+0 ({cutoff}) (A5, I-3)",
            ("A5", "I-3"),
            f"26+0 reached before the result of the amniocentesis booked for {booked}",
        )
    if booked is not None and booked >= max(earliest, cutoff):
        return Course(
            cutoff,
            f"26+0 ({cutoff}): the amniocentesis booked for {booked} is after this stop date, so its result "
            "cannot end the course earlier (A5, I-3)",
            ("A5", "I-3"),
            f"26+0 reached before the amniocentesis booked for {booked}",
        )
    if earliest >= cutoff:
        return Course(
            cutoff,
            f"26+0 ({cutoff}): no amniocentesis can be done before this stop date (earliest {earliest}, "
            "A4), so the course runs until 26+0, as without an amniocentesis (A5, I-3)",
            ("A5", "I-3", "A4"),
            "26+0 reached; the amniocentesis cannot be done before it",
        )
    return Course(
        cutoff,
        f"26+0 ({cutoff}) unless an amniocentesis (from {earliest}) is reported earlier (A5, I-3)",
        ("A5", "I-3"),
        "26+0 reached without an amniocentesis",
    )


def _conclusive_negative(
    amnios: tuple[Amniocentesis, ...], earliest: date, fetuses: int
) -> Amniocentesis | None:
    """The negative result that ends the course: the latest valid one (I-8); in a multiple
    pregnancy, only once every fetus has a valid negative result naming it (I-10)."""
    valid = [a for a in amnios if a.sampled >= earliest and not a.positive]
    if fetuses > 1:
        valid = [a for a in valid if a.fetus is not None]
        if not set(range(1, fetuses + 1)) <= {a.fetus for a in valid}:
            return None
    return valid[-1] if valid else None


def _span(onset: OnsetWindow, dating: PregnancyDating) -> str:
    latest = f"{onset.latest} ({dating.ga(onset.latest)})"
    if onset.earliest is None:
        return f"on or before {latest}"
    if onset.earliest == onset.latest:
        return f"on {latest}"
    return f"between {onset.earliest} ({dating.ga(onset.earliest)}) and {latest}"


def exclusion_outcome(exclusions: Exclusions) -> tuple[Outcome | None, tuple[str, ...]]:
    """Rule A7: excluded, insufficient data (renal or age unknown), or None (nothing excludes)."""
    if exclusions.excluded:
        return Outcome.EXCLUDED, exclusions.excluded
    if exclusions.missing:
        return Outcome.INSUFFICIENT_DATA, tuple(m.why for m in exclusions.missing)
    return None, ()
