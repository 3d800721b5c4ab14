"""Dating the pregnancy: the LMP that dates it, gestational age on any day, the day of any age.

Sources, in order: an EDD (the documented best obstetric estimate, changed only rarely, ACOG CO
700); otherwise an LMP checked against a dating scan with the ACOG redating thresholds (the scan
wins when the discrepancy exceeds the threshold for the GA at the scan); otherwise the scan or the
LMP alone. Any disagreement between the datings given is reported with a ``boundary-case`` alert:
every date of the protocol moves with it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from cmvcds.domain.case import Dating, Pregnancy
from cmvcds.domain.gestational_age import DAYS_LMP_TO_EDD, GestationalAge
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.knowledge.schemas.pregnancy import DatingRules, ga_days

__all__ = ["CONTRADICTION_NEEDED", "PregnancyDating", "date_pregnancy", "ga_text"]


def ga_text(days: int) -> str:
    """``w+d`` for a gestational age in days; a day before the LMP reads ``-d days``."""
    if days < 0:
        return f"{-days} days before the LMP"
    return f"{days // 7}+{days % 7}"  # as GestationalAge prints it, without building one


class PregnancyDating(NamedTuple):
    """The LMP that dates the pregnancy, and how it was chosen.

    The pathway's per-case records are immutable named tuples: built for a third of the machine
    instructions of a frozen dataclass (issue 20 item 2)."""

    lmp: date
    basis: str
    citations: tuple[str, ...] = ()

    def day(self, on: date) -> int:
        """Gestational age on ``on`` in days (negative before the LMP)."""
        return (on - self.lmp).days

    def ga(self, on: date) -> str:
        return ga_text(self.day(on))

    def date_of(self, days: int) -> date:
        return self.lmp + timedelta(days)  # positional: days (the keyword form is slower)

    @property
    def edd(self) -> date:
        return self.date_of(DAYS_LMP_TO_EDD)


def date_pregnancy(
    pregnancy: Pregnancy, rules: DatingRules, result: PathwayResult
) -> PregnancyDating | None:
    """The dating of ``pregnancy`` (None when undated); disagreements become alerts in ``result``."""
    by_lmp = pregnancy.lmp
    by_edd = pregnancy.edd - timedelta(days=DAYS_LMP_TO_EDD) if pregnancy.edd else None
    scan = pregnancy.dating
    by_scan = (
        scan.date - timedelta(days=GestationalAge.parse(scan.gestational_age).days)
        if scan
        else None
    )
    if by_edd is not None:
        if _contradicts_edd(by_edd, by_lmp, by_scan, scan, rules, result):
            return None
        for other, name in ((by_scan, "dating scan"), (by_lmp, "LMP")):
            if other is not None and other != by_edd:
                _disagree(
                    result,
                    f"The {name} and the EDD disagree by {abs((other - by_edd).days)} days",
                    "the EDD is used as the documented best obstetric estimate",
                )
        return PregnancyDating(by_edd, "EDD")
    if by_scan is not None and by_lmp is not None and scan is not None:
        return _lmp_or_scan(by_lmp, by_scan, ga_days(scan.gestational_age), rules, result)
    if by_scan is not None:
        return PregnancyDating(by_scan, "dating scan")
    if by_lmp is not None:
        return PregnancyDating(by_lmp, "LMP")
    return None


#: What is asked for when the datings given contradict each other (probe13 S4).
CONTRADICTION_NEEDED = "pregnancy.dating"


def _contradicts_edd(
    by_edd: date,
    by_lmp: date | None,
    by_scan: date | None,
    scan: Dating | None,
    rules: DatingRules,
    result: PathwayResult,
) -> bool:
    """An EDD that an LMP or a dating scan contradicts beyond the ACOG redating thresholds
    (probe13 S4): the protocol's dates cannot be placed, so the pathway asks for the dating
    ultrasound instead of choosing one. A scan is judged by the threshold for its own GA; an LMP,
    whose EDD may come from any scan, by the widest threshold (21 days from 28+0): a larger gap is
    more than any redating by a scan explains, and the scan that set the EDD is not given."""
    gaps: list[str] = []
    if by_scan is not None and scan is not None:
        scan_days = ga_days(scan.gestational_age)
        limit = _limit(rules, scan_days)
        gap = abs((by_scan - by_edd).days)
        if gap > limit:
            gaps.append(
                f"the dating scan at {ga_text(scan_days)} and the EDD disagree by {gap} days "
                f"(> {limit}, the ACOG redating threshold at that age)"
            )
    if by_lmp is not None:
        widest = max(b.more_than_days for b in rules.bands)
        gap = abs((by_lmp - by_edd).days)
        if gap > widest:
            gaps.append(
                f"the LMP and the EDD disagree by {gap} days (> {widest}, the widest ACOG "
                "redating threshold)"
            )
    if not gaps:
        return False
    citations = result.cite(rules, "ACOG redating thresholds (contradictory dating)")
    what = "; ".join(gaps)
    result.alerts.append(
        Alert(
            AlertCode.CONTRADICTORY_INPUT,
            Severity.WARNING,
            f"Contradictory dating: {what}. Every protocol date (24+0, 20+1, 26+0, the EDD) "
            "depends on it: none is placed until the dating is confirmed.",
            citations,
        )
    )
    result.missing.append(
        Missing(
            CONTRADICTION_NEEDED,
            f"{what}: give the dating ultrasound that set the EDD (its date and the gestational "
            "age by crown-rump length), or correct the LMP or the EDD",
        )
    )
    return True


def _limit(rules: DatingRules, scan_days: int) -> int:
    return next(
        b.more_than_days for b in rules.bands if b.up_to is None or scan_days <= ga_days(b.up_to)
    )


def _lmp_or_scan(
    by_lmp: date, by_scan: date, scan_days: int, rules: DatingRules, result: PathwayResult
) -> PregnancyDating:
    citations = result.cite(rules, "ACOG redating thresholds (LMP vs dating scan)")
    if by_lmp == by_scan:
        return PregnancyDating(by_lmp, "LMP, confirmed by the dating scan", citations)
    discrepancy = abs((by_lmp - by_scan).days)
    limit = next(
        b.more_than_days for b in rules.bands if b.up_to is None or scan_days <= ga_days(b.up_to)
    )
    scan_ga = ga_text(scan_days)
    if discrepancy > limit:
        _disagree(
            result,
            f"The LMP and the dating scan at {scan_ga} disagree by {discrepancy} days (> {limit})",
            "the pregnancy is redated by the scan (ACOG CO 700)",
            citations,
        )
        return PregnancyDating(
            by_scan, f"dating scan (redated: LMP off by {discrepancy} days)", citations
        )
    _disagree(
        result,
        f"The LMP and the dating scan at {scan_ga} disagree by {discrepancy} days (≤ {limit})",
        "the LMP is kept (ACOG CO 700)",
        citations,
        Severity.INFO,
    )
    return PregnancyDating(by_lmp, f"LMP (scan within {limit} days)", citations)


def _disagree(
    result: PathwayResult,
    what: str,
    then: str,
    citations: tuple[str, ...] = ("acog2017-co700-due-date",),
    severity: Severity = Severity.WARNING,
) -> None:
    message = f"{what}: {then}. Every protocol date depends on the dating; confirm it."
    result.alerts.append(Alert(AlertCode.BOUNDARY_CASE, severity, message, citations))
