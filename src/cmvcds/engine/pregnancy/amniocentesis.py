"""Amniocentesis: the earliest valid date (rule A4), its plan and alerts, and the results (I-8)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from cmvcds.domain.case import Case, Pregnancy
from cmvcds.domain.results import Alert, PathwayResult, ScheduleItem
from cmvcds.domain.vocabulary import AlertCode, ScheduleEvent, Severity
from cmvcds.engine.pregnancy.dating import PregnancyDating
from cmvcds.engine.pregnancy.infection import MaternalInfection, detected
from cmvcds.knowledge.schemas.pregnancy import PregnancyProtocol

__all__ = ["Amniocentesis", "amniocenteses", "earliest_amniocentesis", "plan_amniocentesis"]


class Amniocentesis(NamedTuple):
    """One amniotic-fluid CMV PCR: sampled on ``sampled``, known on ``reported``."""

    sampled: date
    reported: date
    positive: bool
    fetus: int | None
    report_dated: bool

    def describe(self) -> str:
        word = "positive" if self.positive else "negative"
        when = (
            f"reported {self.reported}"
            if self.report_dated
            else f"sampled {self.sampled}, no report date given"
        )
        twin = f" (fetus {self.fetus})" if self.fetus else ""
        return f"amniotic-fluid CMV PCR {word}{twin}, {when}"


def amniocenteses(case: Case, on: date) -> tuple[Amniocentesis, ...]:
    """The amniotic-fluid results known on ``on``, oldest report first."""
    found = []
    for o in case.results("cmv_dna", "amniotic_fluid"):
        reported = o.reported or o.date
        if reported <= on:
            found.append(
                Amniocentesis(o.date, reported, detected(o), o.fetus, o.reported is not None)
            )
    return tuple(sorted(found, key=lambda a: (a.reported, a.sampled, a.positive, a.fetus or 0)))


def earliest_amniocentesis(
    latest_onset: date, dating: PregnancyDating, protocol: PregnancyProtocol
) -> date:
    """Rule A4: the later of (latest plausible onset + 8 weeks) and the date of GA 20+1."""
    after_onset = latest_onset + timedelta(protocol.amniocentesis_after_onset.days)  # days
    floor = dating.date_of(protocol.amniocentesis_not_before.days)
    return max(after_onset, floor)


def plan_amniocentesis(
    infection: MaternalInfection,
    pregnancy: Pregnancy,
    amnios: tuple[Amniocentesis, ...],
    dating: PregnancyDating,
    protocol: PregnancyProtocol,
    window_start: date,
    result: PathwayResult,
) -> date | None:
    """After a primary infection in the window's reach: the earliest date (A4), its schedule item
    (unless done or declined), the too-early alerts (I-8); after any negative result, the late-
    transmission alert. Returns the earliest date (None when the rule does not apply)."""
    onset = infection.onset
    if infection.status != "primary" or onset is None or onset.latest < window_start:
        _late_transmission(amnios, None, protocol, result, pregnancy.fetuses)
        return None
    citations = tuple(
        dict.fromkeys(
            result.cite(
                protocol.amniocentesis_after_onset, "amniocentesis at least 8 weeks after the onset"
            )
            + result.cite(protocol.amniocentesis_not_before, "amniocentesis never before 20+1")
        )
    )
    earliest = earliest_amniocentesis(onset.latest, dating, protocol)
    floor = dating.date_of(protocol.amniocentesis_not_before.days)
    why = f"≥ 8 weeks after the latest plausible onset ({onset.latest}) and not before 20+1 ({floor}) (A4)"
    result.findings["amniocentesis_earliest"] = earliest
    early = [
        f"Amniocentesis sampled on {a.sampled} ({dating.ga(a.sampled)}), before {earliest}: a negative result may be "
        f"falsely negative and does not end the prevention course (I-8); repeat it on or after {earliest}."
        for a in amnios
        if a.sampled < earliest and not a.positive
    ]
    booked = pregnancy.amniocentesis_booked
    if booked is not None and booked < earliest:
        early.append(
            f"Amniocentesis booked for {booked} ({dating.ga(booked)}), before the earliest date {earliest}: "
            f"rebook it on or after {earliest} ({why})."
        )
    result.alerts += [
        Alert(AlertCode.AMNIOCENTESIS_TOO_EARLY, Severity.WARNING, m, citations) for m in early
    ]
    valid = [a for a in amnios if a.sampled >= earliest]
    if pregnancy.fetuses > 1:  # every fetus needs its own valid result (I-10)
        sampled = {a.fetus for a in valid if a.fetus is not None}
        conclusive = set(range(1, pregnancy.fetuses + 1)) <= sampled
    else:
        conclusive = bool(valid)
    conclusive |= any(a.positive for a in amnios)
    if not conclusive and not pregnancy.amniocentesis_declined:
        result.schedule.append(
            ScheduleItem(ScheduleEvent.AMNIOCENTESIS, earliest, citations, reason=why)
        )
    _late_transmission(amnios, earliest, protocol, result, pregnancy.fetuses)
    return earliest


def _late_transmission(
    amnios: tuple[Amniocentesis, ...],
    earliest: date | None,
    protocol: PregnancyProtocol,
    result: PathwayResult,
    fetuses: int = 1,
) -> None:
    """A valid negative amniocentesis (and no positive one): the newborn is tested at birth.

    In a multiple pregnancy, each fetus whose own valid result is negative (I-10): a discordant
    pair still needs the negative twin tested at birth.
    """
    valid = [a for a in amnios if earliest is None or a.sampled >= earliest]
    if fetuses > 1:
        negatives = {a.fetus: a for a in valid if a.fetus is not None and not a.positive}
        positive = {a.fetus for a in amnios if a.positive}
        for fetus, negative in sorted(negatives.items()):
            if fetus not in positive and None not in positive:
                _late_alert(negative, protocol, result, fetus)
        return
    if not valid or any(a.positive for a in amnios):
        return
    _late_alert(valid[-1], protocol, result, None)


def _late_alert(
    negative: Amniocentesis, protocol: PregnancyProtocol, result: PathwayResult, fetus: int | None
) -> None:
    whom = f" for fetus {fetus}" if fetus else ""
    newborn = f"newborn {fetus}" if fetus else "the newborn"
    message = (
        f"Negative amniocentesis{whom} ({negative.describe()}): late transmission after it remains possible; "
        f"test {newborn} at birth (urine or saliva CMV PCR within the first 3 weeks of life)."
    )
    citations = result.cite(
        protocol.late_transmission, "late transmission after a negative amniocentesis"
    )
    result.alerts.append(
        Alert(AlertCode.LATE_TRANSMISSION_POSSIBLE, Severity.WARNING, message, citations)
    )
