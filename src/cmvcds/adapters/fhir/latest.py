"""One value of a reading that several resources may give (the LMP, the EDD, the dating scan,
the pregnancy status, the weight, the height), chosen by a stated rule — never by the order in
which the resources came (a FHIR search is often newest first, an export file in any order).

The rule (probe6 #21): the value with the latest effective date is used; an older, different
value is said to have been superseded. Two different values on that latest date contradict each
other: neither is used and the contradiction is said, as the case model does with contradictory
inputs (asked to be confirmed, never guessed).

Instants (review7 #5): when every candidate gives a time with its zone, the instants are
compared (``…T02:00Z`` is earlier than ``…T23:00-05:00`` of the day before, and a same-day
correction at 17:00 supersedes the 08:00 value). When one gives a date only, the local dates are
compared, and on the latest date the instants decide only if every candidate of that date gives
one; otherwise two different values of that date contradict each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cmvcds.adapters.fhir.reason import Reason

__all__ = ["Latest"]


@dataclass
class Latest:
    """Candidate values per reading: ``(date, value, source)``; ``chosen`` applies the rule."""

    found: dict[str, list[tuple[str, Any, str]]] = field(default_factory=dict)
    instants: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def add(self, reading: str, day: str, value: Any, source: str, at: Any = None) -> None:
        """``value`` of ``reading`` recorded on ``day`` (ISO date; ``""`` when undated) by
        ``source`` (the resource's name, for what is said); ``at`` is the dateTime as given,
        compared as an instant when it has a time and a zone."""
        self.found.setdefault(reading, []).append((day, value, source))
        instant = _instant(at)
        if instant is not None:
            self.instants[(reading, source)] = instant

    def chosen(self, reading: str) -> tuple[Any, list[str], list[str]]:
        """``(value or None, not used, notes)`` of ``reading``: the latest value; a sentence
        for a contradiction on the latest date (``not used``) and one naming each older,
        different value superseded (``notes``)."""
        candidates = self.found.get(reading) or []
        if not candidates:
            return None, [], []
        timed = {s: self.instants.get((reading, s)) for _, _, s in candidates}
        if all(timed.values()):
            top = max(t for t in timed.values() if t)
            day = next(d for d, _, s in candidates if timed[s] == top)
            newest = [(v, s) for _, v, s in candidates if timed[s] == top]
        else:
            day = max(d for d, _, _ in candidates)
            newest = [(v, s) for d, v, s in candidates if d == day]
            if all(timed[s] for _, s in newest):
                top = max(t for _, s in newest if (t := timed[s]))
                newest = [(v, s) for v, s in newest if timed[s] == top]
        values = _distinct(v for v, _ in newest)
        if len(values) > 1:
            given = "; ".join(f"{s}: {_show(v)}" for v, s in newest)
            return (
                None,
                [
                    Reason(
                        "%(reading)s: %(n)s resources of %(date)s give different values "
                        "(%(values)s): contradictory, none used",
                        reading=_reading(reading),
                        n=len(newest),
                        date=day,
                        values=given,
                    )
                    if day
                    else Reason(
                        "%(reading)s: %(n)s resources of no date give different values "
                        "(%(values)s): contradictory, none used",
                        reading=_reading(reading),
                        n=len(newest),
                        values=given,
                    )
                ],
                [],
            )
        value = values[0]
        chosen = {s for _, s in newest}
        older = [(d, v, s) for d, v, s in candidates if s not in chosen and v != value]
        notes: list[str] = [
            Reason(
                "%(reading)s: %(resource)s of %(date)s (%(value)s) superseded by the later "
                "%(later)s of %(later_date)s",
                reading=_reading(reading),
                resource=s,
                date=d,
                value=_show(v),
                later=_show(value),
                later_date=day,
            )
            if d
            else Reason(
                "%(reading)s: %(resource)s of no date (%(value)s) superseded by the later "
                "%(later)s of %(later_date)s",
                reading=_reading(reading),
                resource=s,
                value=_show(v),
                later=_show(value),
                later_date=day,
            )
            for d, v, s in sorted(older, key=lambda c: c[0])
        ]
        return value, [], notes


def _reading(reading: str) -> str:
    """The reading's name as said: a case field (``weight_kg``) as it is, words translated."""
    if reading == "pregnancy status":
        return Reason("pregnancy status")
    return Reason("dating") if reading == "dating" else reading


def _distinct(values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _instant(given: Any) -> datetime | None:
    """A FHIR dateTime with a time and a zone as an instant; None for a date only or no zone."""
    text = str(given) if given else ""
    if "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
