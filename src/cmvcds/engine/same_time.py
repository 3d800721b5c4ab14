"""Two different results of one measurement at the same time: contradictory input, never a choice.

The case format says the order of the observations does not matter (design.md §3). Two results of
the same measurement (same code, specimen, fetus and time after a dose) on the same date with
different values — a repeat draw, a pre/post-dialysis pair, a typing slip — cannot both describe
the patient, and picking one by its place in the file made the answer depend on that order (outside
probe, session 4: a kidney recipient's valganciclovir dose was 450 mg q48h or 900 mg q24h
depending on which of creatinine 1.0 and 3.0 came first). Such results are not used: when they are
the latest of that measurement no earlier value stands in for them (it would be stale), so every
part of the answer that needs the measurement says ``insufficient_data`` and names it; a
``contradictory-input`` alert shows the values as entered and asks which is valid. Equal values
(a result entered twice) are not a contradiction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import AlertCode, Context, Severity

__all__ = [
    "SOURCE",
    "conflicting_dates",
    "current",
    "dose_with_contradictions",
    "reading",
    "without_contradictions",
]

#: The project rule that the observations' order never decides (design.md §3).
SOURCE = "cmvcds2026-case-format"

if TYPE_CHECKING:  # the assessment imports this module; the dose calculator's values only typed
    from cmvcds.engine.dosing import DoseResult

Key = tuple[str, str | None, int | None, Decimal | None]


def _key(o: Observation) -> Key:
    return (o.code, o.specimen, o.fetus, o.hours_after_dose)


def reading(o: Observation) -> Decimal | str | None:
    """What ``o`` reports, compared for contradiction: its value, else its text result (a dipstick
    grade, "detected" …; case and spacing ignored). A numeric and a text result of one measurement
    differ: the grades are not converted (30 mg/dL beside "1+" is also asked about)."""
    if o.value is not None:
        return o.value
    if o.result is not None and o.result.strip():
        return " ".join(o.result.split()).lower()
    return None


def current(observations: Iterable[Observation], on: date) -> Observation | None:
    """The result of one measurement standing on ``on``: the latest with a value or text result,
    or None when that date carries two different results (unknown, never the one written last).

    One pass, comparing each result of the latest date with the first (the dose patient asks
    for about nine measurements per case, issue 20)."""
    found: Observation | None = None
    day = date.min
    shown: Decimal | str | None = None
    agree = True
    for o in observations:
        when = o.date
        if when > on or when < day:
            continue
        seen = reading(o)
        if seen is None:
            continue
        if found is None or when > day:
            found, day, shown, agree = o, when, seen, True
        elif seen is not shown and seen != shown:
            agree = False
    return found if agree else None


def conflicting_dates(observations: Iterable[Observation], on: date) -> dict[Key, list[date]]:
    """For each measurement, the dates up to ``on`` carrying two or more different results
    (measurements in order of their first contradictory date, then of first appearance)."""
    first: dict[tuple[Key, date], Decimal | str] = {}
    clashes: set[tuple[Key, date]] = set()
    for o in observations:
        seen = reading(o)
        if seen is not None and o.date <= on:
            at = (_key(o), o.date)
            was = first.setdefault(at, seen)
            if was is not seen and was != seen:
                clashes.add(at)
    found: dict[Key, list[date]] = {}
    if clashes:
        for key, day in sorted((at for at in first if at in clashes), key=lambda at: at[1]):
            found.setdefault(key, []).append(day)
    return found


def without_contradictions(case: Case, on: date) -> tuple[Case, PathwayResult]:
    """``case`` without the results that contradict each other, and what that leaves unknown.

    A contradictory date that is the latest of its measurement (up to ``on``) removes that
    measurement's earlier results as well: the current value is unknown, not the previous one.
    """
    result = PathwayResult()
    # a case with no contradiction among all its results has none among those compared: the
    # exceptions (``_compared``) are sorted out only when there is one (issue 20)
    if not conflicting_dates(case.observations, on):
        return case, result
    conflicts = conflicting_dates(filter(_compared(case), case.observations), on)
    if not conflicts:
        return case, result
    dropped: set[int] = set()
    unknown: set[str] = set()
    for key, days in conflicts.items():
        rows = [o for o in case.observations if reading(o) is not None and _key(o) == key]
        latest = max(o.date for o in rows if o.date <= on)
        current = days[-1] == latest
        if current:
            unknown.add(key[0])
        for day in days:
            same_day = sorted((o for o in rows if o.date == day), key=lambda o: str(reading(o)))
            shown = " and ".join(dict.fromkeys(_shown(o) for o in same_day))
            name = _name(key)
            if day == latest:
                effect = (
                    f"{name} is treated as unknown and no earlier value stands in for it: every "
                    "part of the answer that needs it waits"
                )
            else:
                effect = f"neither result of {day} is used"
            result.alerts.append(
                Alert(
                    AlertCode.CONTRADICTORY_INPUT,
                    Severity.WARNING,
                    f"Contradictory results of {name} on {day}: {shown}. One measurement cannot "
                    "have two values (a repeat sample, a sample before and after dialysis, or a "
                    f"typing error); {effect}. Confirm which result is valid, or repeat the test.",
                    (SOURCE,),
                )
            )
            if day == latest:
                result.missing.append(
                    Missing(
                        key[0],
                        f"two different results of {name} on {day} ({shown}): confirm which is "
                        "valid, or repeat the test",
                    )
                )
        for o in rows:
            if o.date in days or (current and o.date <= on):
                dropped.add(id(o))
    kept = tuple(o for o in case.observations if id(o) not in dropped)
    update: dict[str, object] = {"observations": kept}
    # the undated patient.weight_kg / height_cm is an earlier value too: it does not stand in
    stale = {f: None for code, f in _UNDATED.items() if code in unknown}
    if stale:
        update["patient"] = case.patient.model_copy(update=stale)
    return case.model_copy(update=update), result


#: Text results whose same-day contradictions the pregnancy pathway names with its own rule (I-9:
#: repeat the serology in one laboratory with the stored sample), kept for it.
_SEROLOGY = frozenset({"cmv_igg", "cmv_igm", "cmv_igg_avidity"})
#: Specimens of one fetus: in a multiple pregnancy, results naming no fetus may be two fetuses'.
_FETAL = frozenset({"amniotic_fluid", "fetal_blood"})


def _compared(case: Case) -> Callable[[Observation], bool]:
    """Whether two different results of an observation's measurement on one date contradict each
    other: not pregnancy serology (its own rule) nor unlabelled fetal results of twins (the
    pregnancy pathway asks which fetus each belongs to)."""
    pregnant = case.pregnancy is not None or case.context is Context.PREGNANCY
    fetuses = case.pregnancy.fetuses if case.pregnancy is not None else 1

    def compared(o: Observation) -> bool:
        if pregnant and o.value is None and o.code in _SEROLOGY:
            return False
        return not (o.fetus is None and o.specimen in _FETAL and (fetuses or 1) > 1)

    return compared


#: The undated patient fields that stand in for a measurement when it has no result.
_UNDATED = {"weight": "weight_kg", "height": "height_cm"}


def _shown(o: Observation) -> str:
    """The value as entered (its unit as typed), else canonical value and unit, else the text."""
    if o.value is None:
        return o.given or o.result or ""
    return o.given or f"{o.value} {o.unit or ''}".strip()


def _name(key: Key) -> str:
    code, specimen, fetus, hours = key
    name = code.replace("_", " ")
    if specimen is not None:
        name += f" in {specimen.replace('_', ' ')}"
    if fetus is not None:
        name += f" of fetus {fetus}"
    if hours is not None:
        name += f" {hours} h after a dose"
    return name


def dose_with_contradictions(dose: DoseResult, case: Case, on: date) -> DoseResult:
    """The dose calculator's answer for a case file with the case's contradictory results named
    (its alerts and missing lines first): ``dose_patient_from_case`` already reads a
    contradictory latest value as unknown; this says why."""
    _, found = without_contradictions(case, on)
    if not found.alerts:
        return dose
    missing = (*found.missing, *(m for m in dose.missing if m not in found.missing))
    return replace(dose, alerts=(*found.alerts, *dose.alerts), missing=missing)
