"""Maternal infection: status by the AIFA criteria (rule A1), the onset window (I-2), its timing.

Status is one of ``primary`` (criterion ``seroconversion``, ``igg-igm-low-avidity`` or
``igg-igm-intermediate-avidity-dna``), ``non_primary`` (pre-existing immunity: reinfection,
reactivation or past infection), ``none`` (seronegative), ``not_established`` (IgG and IgM
positive but criterion (c) not met: intermediate avidity with CMV DNA not detected) or
``insufficient_data`` with what is missing. Every result is read from the dated observations in
date order, so the order in which a case lists them never matters.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from typing import NamedTuple

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Alert, Missing
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.knowledge.schemas.pregnancy import PregnancyProtocol, TimingTable

__all__ = [
    "CRITERIA",
    "MaternalInfection",
    "OnsetWindow",
    "PeriodBounds",
    "classify_infection",
    "contradictions",
    "detected",
    "timing_label",
]

#: The AIFA criteria of primary infection, as a clinician reads them (rule A1).
CRITERIA = {
    "seroconversion": "(a) CMV IgG seroconversion",
    "igg-igm-low-avidity": "(b) CMV IgG and IgM positive with low IgG avidity",
    "igg-igm-intermediate-avidity-dna": (
        "(c) CMV IgG and IgM positive, intermediate IgG avidity and CMV DNA in maternal whole blood, urine or saliva"
    ),
}

_DETECTED = frozenset({"detected", "detected_below_lloq"})


def detected(o: Observation) -> bool:
    """A CMV DNA result that found virus (a quantified value > 0 counts as detected)."""
    if o.result is not None:
        return o.result in _DETECTED
    return o.value is not None and o.value > 0


class OnsetWindow(NamedTuple):
    """When the primary infection began: after ``earliest - 1`` and on or before ``latest``.

    ``earliest`` is None when nothing bounds the onset from below ("on or before ``latest``").
    """

    earliest: date | None
    latest: date
    basis: str
    #: the date of the high-avidity sample that ended the window (I-14), else None
    by_avidity: date | None = None

    def as_list(self) -> list[date | None]:
        return [self.earliest, self.latest]


class MaternalInfection(NamedTuple):
    """The maternal infection status, why, and what it needs (an immutable named tuple)."""

    status: str
    reasons: tuple[str, ...]
    criterion: str | None = None
    onset: OnsetWindow | None = None
    diagnosed_on: date | None = None
    missing: tuple[Missing, ...] = ()
    alerts: tuple[Alert, ...] = ()
    rules: tuple[str, ...] = ()
    #: a low or intermediate IgG avidity of a seroconversion, in words (I-14: it does not
    #: narrow the onset window; the boundary alert names it)
    avidity: str | None = None


class PeriodBounds(NamedTuple):
    """The periconceptional window in days from the LMP (both ends inclusive)."""

    from_day: int
    to_day: int


def timing_label(day: int, peri: PeriodBounds, timing: TimingTable) -> str:
    """The period of an onset ``day`` days after the LMP (negative: before it)."""
    if day < peri.from_day:
        return "preconceptional"
    if day <= peri.to_day:
        return timing.periconceptional.label
    for period in timing.trimesters:
        if period.to_day is None or day <= period.to_day:
            return period.label
    return timing.trimesters[-1].label


def classify_infection(
    case: Case, on: date, protocol: PregnancyProtocol, window_start: date | None = None
) -> MaternalInfection:
    """The maternal infection status from the observations dated on or before ``on``.

    ``window_start`` is the first day of the periconceptional window (I-6): a CMV IgG positive
    before it is immunity that precedes this pregnancy (rule I-13).
    """
    igg = _of(case, "cmv_igg", on)
    igm = _of(case, "cmv_igm", on)
    avidity = [o for o in _of(case, "cmv_igg_avidity", on) if o.result is not None]
    maternal = protocol.primary_dna_specimens.specimens
    every_dna = _of(case, "cmv_dna", on)
    dna = [o for o in every_dna if o.specimen in maternal]
    plasma = [o for o in every_dna if o.specimen == "plasma" and detected(o)]
    markers = sorted(
        [o.date for o in igg + igm if o.result == "positive"]
        + [o.date for o in dna + plasma if detected(o)]
    )
    conflicts = contradictions(igg, igm, avidity)
    if conflicts:
        return _contradictory(conflicts)
    found = _preconceptional_immunity(
        _classify(
            igg, igm, avidity, dna, plasma, markers, protocol.high_avidity_onset_before.days
        ),
        igg,
        window_start,
    )
    changed = _changed_over_time(igm, avidity) + _uncategorised_avidity(case, on)
    if changed:
        found = found._replace(reasons=(*found.reasons, *changed))
    return _with_symptom_onset(found, _symptom_onset(case))


def _uncategorised_avidity(case: Case, on: date) -> list[str]:
    """An IgG avidity given only as a value (75 %): not read, and said (probe14 F4: the answer
    said "without IgG avidity"). Avidity cut-offs are the assay's own: no value is banded here."""
    return [
        f"The IgG avidity of {o.date} ({plain_value(o)}) was not read: it is a value without the "
        "laboratory's category, and avidity cut-offs are assay-specific; give the category "
        "(low, intermediate or high) the laboratory reports, or its cut-offs."
        for o in _of(case, "cmv_igg_avidity", on)
        if o.result is None and o.value is not None
    ]


def plain_value(observation: Observation) -> str:
    """An observation's value and unit as given."""
    return observation.given or f"{observation.value} {observation.unit or ''}".strip()


def _preconceptional_immunity(
    found: MaternalInfection, igg: list[Observation], window_start: date | None
) -> MaternalInfection:
    """Rule I-13: a CMV IgG positive before the periconceptional window establishes immunity that
    precedes this pregnancy, so an infection now is non-primary (reinfection or reactivation).

    A non-primary infection is one in a woman with CMV antibodies before conception (Zalel 2008:
    "maternal preconceptional immunity"); the AIFA prevention indication is for a primary infection
    in the periconceptional period or the first 24 weeks (A1, A2). Only a status the serology left
    open (insufficient data, not established) is settled this way: a primary infection that the
    IgM and avidity establish keeps its status and its onset, which then lies before the window
    (preconceptional, I-2), and seroconversion needs a negative IgG before the first positive.
    A positive IgG inside the window does not count: the primary infection may itself have begun in
    the window (I-2), and IgM and avidity still decide.
    """
    if window_start is None or found.status not in ("insufficient_data", "not_established"):
        return found
    first = next((o.date for o in igg if o.result == "positive"), None)
    if first is None or first >= window_start:
        return found
    return MaternalInfection(
        "non_primary",
        (
            f"CMV IgG positive on {first}, before the periconceptional window (from {window_start}): "
            "immunity that precedes this pregnancy; an infection now is non-primary (reinfection "
            "or reactivation), not primary (I-13).",
        ),
        rules=("I-13",),
    )


def _changed_over_time(igm: list[Observation], avidity: list[Observation]) -> list[str]:
    """Say when IgM or avidity results differ between dates: the classification reads the first
    positive IgM and the first avidity (the sample that dates the infection), and a later,
    different result is named rather than dropped without a word (issue 14 item 2)."""
    notes = []
    for name, rows in (("CMV IgM", igm), ("IgG avidity", avidity)):
        if len(rows) < 2:
            continue  # one result cannot differ from another
        results = [(o.date, o.result) for o in rows if o.result is not None]
        if len({r for _, r in results}) > 1:
            shown = "; ".join(f"{r} on {d}" for d, r in results)
            notes.append(
                f"{name} results differ over time ({shown}): the first sample that meets a criterion "
                "dates the infection; later results are shown, not used (A1)."
            )
    return notes


def contradictions(
    igg: list[Observation], igm: list[Observation], avidity: list[Observation]
) -> list[tuple[str, str]]:
    """Serology that cannot all be true (I-9): ``(code, what)`` for each contradiction (each
    list in date order, as ``classify_infection`` reads them).

    Two different results of one test on the same day, and an IgG negative after a positive IgG
    (IgG does not disappear after a primary infection: a reverse seroconversion is a laboratory
    error, a mix-up of samples or passive antibody).
    """
    found: list[tuple[str, str]] = []
    for code, name, rows in (
        ("cmv_igg", "IgG", igg),
        ("cmv_igm", "IgM", igm),
        ("cmv_igg_avidity", "IgG avidity", avidity),
    ):
        if not _same_day(rows):
            continue
        by_day: dict[date, set[str]] = {}
        for o in rows:
            if o.result is not None and o.result != "equivocal":
                by_day.setdefault(o.date, set()).add(o.result)
        found += [
            (code, f"CMV {name} both {' and '.join(sorted(results))} on {day}")
            for day, results in sorted(by_day.items())
            if len(results) > 1
        ]
    positive = next((o.date for o in igg if o.result == "positive"), None)
    later = [
        o.date for o in igg if o.result == "negative" and positive is not None and o.date > positive
    ]
    if positive is not None and later:
        found.append(
            (
                "cmv_igg",
                f"CMV IgG positive on {positive} but negative on {later[0]} (reverse seroconversion)",
            )
        )
    return found


def _same_day(rows: list[Observation]) -> bool:
    """Whether two of ``rows`` (in date order) share a date: else none can contradict another
    on its day (the common case, decided without grouping)."""
    return any(a.date == b.date for a, b in pairwise(rows))


def _contradictory(conflicts: list[tuple[str, str]]) -> MaternalInfection:
    what = "; ".join(text for _, text in conflicts)
    ask = (
        "repeat CMV IgG, IgM and IgG avidity in the same laboratory, testing the earlier stored "
        "sample in parallel with a new one, before the maternal infection is classified (I-9)"
    )
    missing = tuple(
        Missing(code, f"contradictory serology ({what}): {ask}")
        for code in dict.fromkeys(code for code, _ in conflicts)
    )
    alert = Alert(
        AlertCode.ASSAY_MISMATCH,
        Severity.WARNING,
        f"Contradictory CMV serology: {what}. The results cannot all be right (sample mix-up, "
        f"laboratory error or different assays); the infection is not classified: {ask}.",
        ("cmvcds2026-pregnancy-interpretations",),
    )
    return MaternalInfection(
        "insufficient_data",
        (
            f"Contradictory CMV serology: {what}; the maternal infection cannot be classified (I-9).",
        ),
        missing=missing,
        alerts=(alert,),
        rules=("I-9",),
    )


def _of(case: Case, code: str, on: date) -> list[Observation]:
    """The results of ``code`` dated on or before ``on``, by date, then result and specimen (the
    case's index holds them by date, in the case's order within a day)."""
    found = [o for o in case.results(code) if o.date <= on]
    if len(found) > 1:
        found.sort(key=_order)
    return found


def _order(o: Observation) -> tuple[date, str, str]:
    return (o.date, o.result or "", o.specimen or "")


def _classify(
    igg: list[Observation],
    igm: list[Observation],
    avidity: list[Observation],
    dna: list[Observation],
    plasma: list[Observation],
    markers: list[date],
    avidity_days: int,
) -> MaternalInfection:
    positives = [o for o in igg if o.result == "positive"]
    if not positives:
        return _seronegative(igg, igm)
    first = positives[0].date
    if any(o.result == "negative" and o.date < first for o in igg):
        # The onset lies after the last IgG-negative sample taken before any positive marker.
        lower = [o.date for o in igg if o.result == "negative" and o.date < markers[0]]
        last = max(o.date for o in igg if o.result == "negative" and o.date < first)
        window = OnsetWindow(
            lower[-1] + timedelta(days=1) if lower else None,
            markers[0],
            "seroconversion: after the last negative, on or before the first positive sample",
        )
        reason = f"CMV IgG negative on {last} and positive on {first}: seroconversion (criterion a)."
        after = [o for o in avidity if o.date >= first]
        if not after:
            return MaternalInfection("primary", (reason,), "seroconversion", window, first)
        dated = _avidity_in_window(window, after, last, avidity_days)
        if isinstance(dated, MaternalInfection):
            return dated
        if isinstance(dated, str):  # low or intermediate: named where the dating is doubted
            return MaternalInfection(
                "primary", (reason,), "seroconversion", window, first, avidity=dated
            )
        window, note = dated
        return MaternalInfection(
            "primary", (reason, note), "seroconversion", window, first, rules=("I-14",)
        )
    undated = OnsetWindow(None, markers[0], "on or before the first positive sample")
    igm_positive = [o for o in igm if o.result == "positive"]
    if not igm:
        return _insufficient(
            "CMV IgG positive without IgM: primary infection cannot be assessed.",
            Missing(
                "cmv_igm",
                "CMV IgG is positive: IgM (and, if positive, IgG avidity) decide whether the infection is primary",
            ),
        )
    if not igm_positive:
        if all(o.result == "negative" for o in igm):
            return MaternalInfection(
                "non_primary",
                (
                    f"CMV IgG positive ({first}) with IgM negative: past infection (pre-existing immunity), not primary.",
                ),
            )
        return _insufficient(
            "CMV IgG positive with IgM equivocal.",
            Missing(
                "cmv_igm",
                "IgM is equivocal: repeat it; a positive IgM with low avidity would establish primary infection",
            ),
        )
    if not avidity:
        return _insufficient(
            "CMV IgG and IgM positive without IgG avidity: primary infection cannot be established.",
            Missing(
                "cmv_igg_avidity",
                "IgG and IgM positive without avidity: primary infection cannot be established (criteria b and c need it)",
            ),
        )
    first_avidity = avidity[0]
    both = f"CMV IgG and IgM positive, IgG avidity {first_avidity.result} on {first_avidity.date}"
    diagnosed = max(first, igm_positive[0].date, first_avidity.date)
    if first_avidity.result == "low":
        return MaternalInfection(
            "primary", (f"{both}: criterion (b).",), "igg-igm-low-avidity", undated, diagnosed
        )
    if first_avidity.result == "high":
        return MaternalInfection(
            "non_primary",
            (
                f"{both}: non-primary infection (reinfection or reactivation) or past infection with persistent IgM.",
            ),
        )
    found = [o for o in dna if detected(o)]
    if found:
        return MaternalInfection(
            "primary",
            (
                f"{both}; CMV DNA detected in maternal {found[0].specimen.replace('_', ' ') if found[0].specimen else 'sample'} on {found[0].date}: criterion (c).",
            ),
            "igg-igm-intermediate-avidity-dna",
            undated,
            max(diagnosed, found[0].date),
        )
    plasma_note = (
        f" CMV DNA was detected in plasma ({plasma[0].date}), which the AIFA text does not name (whole blood, urine or saliva)."
        if plasma
        else ""
    )
    if dna:
        return MaternalInfection(
            "not_established",
            (
                f"{both}; CMV DNA not detected in maternal whole blood, urine or saliva: criterion (c) is not met (rule A1).{plasma_note}",
            ),
        )
    return _insufficient(
        f"{both}; no CMV DNA test on maternal whole blood, urine or saliva.{plasma_note}",
        Missing(
            "cmv_dna (maternal whole blood, urine or saliva)",
            "intermediate avidity: CMV DNA detected in maternal whole blood, urine or saliva would establish primary infection (criterion c)",
        ),
    )


def _avidity_in_window(
    window: OnsetWindow, avidity: list[Observation], last_negative: date, days: int
) -> tuple[OnsetWindow, str] | MaternalInfection | str:
    """Rule I-14: the IgG avidity of a seroconversion (``avidity``: the results on or after the
    first positive IgG, in date order). A high avidity ends the window ``days`` before its
    sample (the window and a reason), or contradicts the last negative IgG (a contradictory
    infection); a low or intermediate one does not narrow it (its description, for the alert)."""
    high = next((o for o in avidity if o.result == "high"), None)
    if high is None:
        shown = avidity[0]
        if shown.result == "low":
            return (
                f"the IgG avidity low on {shown.date} is consistent with an infection within "
                f"about {days} days before it but does not exclude an earlier onset"
            )
        return f"the IgG avidity {shown.result} on {shown.date} does not date the infection"
    bound = high.date - timedelta(days=days)
    if window.earliest is not None and bound < window.earliest:
        return _contradictory(
            [
                (
                    "cmv_igg_avidity",
                    f"IgG avidity high on {high.date} (onset at least {days} days earlier, on or "
                    f"before {bound}) but CMV IgG negative on {last_negative} (I-14)",
                )
            ]
        )
    note = (
        f"IgG avidity high on {high.date}: the infection began at least {days} days before that "
        f"sample, on or before {bound} (I-14)."
    )
    if bound >= window.latest:
        return window, note
    return (
        OnsetWindow(
            window.earliest,
            bound,
            f"seroconversion with a high IgG avidity on {high.date}: after the last negative, "
            f"at least {days} days before the avidity sample",
            high.date,
        ),
        note,
    )


def _seronegative(igg: list[Observation], igm: list[Observation]) -> MaternalInfection:
    if not igg:
        return _insufficient(
            "No CMV IgG result.",
            Missing("cmv_igg", "CMV IgG and IgM are needed to assess the maternal infection"),
        )
    if any(o.result == "positive" for o in igm):
        return _insufficient(
            "CMV IgM positive with IgG not positive: a very early primary infection or a false-positive IgM.",
            Missing(
                "cmv_igg",
                "repeat CMV IgG (and avidity) in 2-3 weeks: seroconversion would establish primary infection",
            ),
        )
    if all(o.result == "negative" for o in igg):
        return MaternalInfection(
            "none",
            (f"CMV IgG negative on {igg[-1].date}: no CMV infection (seronegative, susceptible).",),
        )
    return _insufficient(
        "CMV IgG equivocal.", Missing("cmv_igg", "IgG is equivocal: repeat CMV IgG and IgM")
    )


def _insufficient(reason: str, missing: Missing) -> MaternalInfection:
    return MaternalInfection("insufficient_data", (reason,), missing=(missing,))


def _symptom_onset(case: Case) -> date | None:
    """The maternal symptom onset: ``pregnancy.symptom_onset``, else the presentation's (a pregnant
    woman with a mononucleosis-like illness seen in another context; the parser refuses two
    different onsets)."""
    if case.pregnancy is not None and case.pregnancy.symptom_onset is not None:
        return case.pregnancy.symptom_onset
    return case.presentation.symptom_onset if case.presentation else None


def _with_symptom_onset(found: MaternalInfection, symptom: date | None) -> MaternalInfection:
    """I-2.1: a documented symptom onset consistent with the serology becomes the onset."""
    window = found.onset
    if symptom is None or window is None:
        return found
    if (window.earliest is None or window.earliest <= symptom) and symptom <= window.latest:
        onset = OnsetWindow(
            symptom, symptom, "documented symptom onset, consistent with the serology"
        )
        return MaternalInfection(
            found.status, found.reasons, found.criterion, onset, found.diagnosed_on, found.missing
        )
    alert = Alert(
        AlertCode.BOUNDARY_CASE,
        Severity.WARNING,
        f"The documented symptom onset ({symptom}) does not fit the serology (onset "
        f"{'after ' + str(window.earliest - timedelta(days=1)) + ' and ' if window.earliest else ''}"
        f"on or before {window.latest}); it is not used to date the infection.",
        ("cmvcds2026-pregnancy-interpretations",),
    )
    return MaternalInfection(
        found.status,
        found.reasons,
        found.criterion,
        window,
        found.diagnosed_on,
        found.missing,
        (alert,),
    )
