"""Date logic of the case report forms (issue 15): no future dates, consent before enrolment,
onset before diagnosis — checks defined as data in ``registry/study.yaml`` (``date_checks``).

Pure: the caller passes the form's values, the subject's other recorded dates and today's date.
A check whose dates are not both recorded (or not valid dates) does not fire: a missing date is
the missing-data report's business, an invalid one the dictionary's hard validation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from cmvcds.knowledge.schemas.registry import DateCheck

__all__ = ["CONSENT", "date_findings"]

CONSENT = "consent_signed_on"  # the subject's consent date, usable as ``other``


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def date_findings(
    checks: Iterable[DateCheck],
    instrument: str,
    values: Mapping[str, str],
    record: Mapping[str, str],
    today: date,
) -> list[DateCheck]:
    """The checks of ``instrument`` that fire; ``values`` (this form, as it will be saved) take
    precedence over ``record`` (the subject's other dates, and ``CONSENT``)."""
    fired = []
    for check in checks:
        if check.instrument != instrument:
            continue
        mine = _day(values.get(check.field))
        if mine is None:
            continue
        if check.rule == "not_future":
            if mine > today:
                fired.append(check)
            continue
        other = _day(values.get(check.other or "") or record.get(check.other or ""))
        if other is None:
            continue
        if (check.rule == "not_before" and mine < other) or (
            check.rule == "not_after" and mine > other
        ):
            fired.append(check)
    return fired
