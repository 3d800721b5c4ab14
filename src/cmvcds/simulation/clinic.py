"""What the AIFA 648/96 engine says about a simulated woman on a given day, memoised.

A visit is described by its *pattern*: the dated observations, ultrasound examinations and
valacyclovir course so far, and the day of the visit, all in days from a fixed LMP. Women with
the same pattern get the same answer, and most women share a handful of patterns (IgG-positive
IgM-negative at week 9, IgG-negative at week 11 …), so ``Clinic`` keeps one ``assess()`` result
per pattern key (a tuple, hashable and exact: no two different cases share a key). The case is
built and parsed exactly as a user's case file would be (``parse_case``), then assessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import Knowledge

__all__ = ["LMP", "Clinic", "Obs", "Verdict"]

#: The LMP of every simulated pregnancy: a fixed date makes identical histories identical keys.
LMP = date(2025, 1, 6)

#: (day, code, result, specimen, reported day) — days from the LMP.
Obs = tuple[int, str, str, str | None, int | None]
#: (day, findings)
Scan = tuple[int, tuple[str, ...]]


@dataclass(frozen=True)
class Verdict:
    """The parts of an assessment the simulation acts on."""

    status: str | None
    prevention: str | None
    fetal_treatment: str | None
    amniocentesis_day: int | None
    stop_day: int | None


@dataclass
class Clinic:
    """``assess()`` for simulated visits, one call per distinct pattern."""

    knowledge: Knowledge
    memo: dict[tuple[Any, ...], Verdict] = field(default_factory=dict)
    calls: int = 0

    def see(
        self,
        day: int,
        observations: tuple[Obs, ...],
        scans: tuple[Scan, ...] = (),
        treated_from: int | None = None,
    ) -> Verdict:
        """The engine's verdict on ``day`` for this history (from the memo when seen before)."""
        key = (day, observations, scans, treated_from)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._assess(*key)
            self.calls += 1
        return found

    def _assess(
        self,
        day: int,
        observations: tuple[Obs, ...],
        scans: tuple[Scan, ...],
        treated_from: int | None,
    ) -> Verdict:
        on = _date(day)
        raw = {
            "format": "cmvcds-case/1",
            "id": "simulated",
            "assessed_on": on.isoformat(),
            "context": "pregnancy",
            "patient": {"sex": "female", "age_years": 31},
            "pregnancy": {"lmp": LMP.isoformat(), "fetuses": 1},
            "observations": [_observation(o) for o in observations],
            "ultrasound": [{"date": _date(d).isoformat(), "findings": list(f)} for d, f in scans],
            "therapy": []
            if treated_from is None
            else [{"drug": "valacyclovir", "dose_mg": 2000, "every_h": 6, "route": "oral",
                   "start": _date(treated_from).isoformat(), "stop": None}],
        }  # fmt: skip
        document = assess(parse_case(raw, self.knowledge, today=on), self.knowledge).to_dict()
        return _verdict(document)


def _date(day: int) -> date:
    return LMP + timedelta(days=day)


def _observation(o: Obs) -> dict[str, Any]:
    day, code, result, specimen, reported = o
    item: dict[str, Any] = {"date": _date(day).isoformat(), "code": code}
    if code == "creatinine":
        item.update(value=0.6, unit="mg/dL")
    else:
        item["result"] = result
    if specimen:
        item["specimen"] = specimen
    if reported is not None:
        item["reported"] = _date(reported).isoformat()
    return item


def _verdict(document: dict[str, Any]) -> Verdict:
    outcomes = {d["id"]: d["outcome"] for d in document["decisions"]}
    infection = document["findings"].get("maternal_infection") or {}
    amnio = [s["earliest"] for s in document["schedule"] if s["event"] == "amniocentesis"]
    stops = [r["stop"] for r in document["regimens"] if r.get("stop")]
    return Verdict(
        status=infection.get("status"),
        prevention=outcomes.get("valacyclovir-prevention"),
        fetal_treatment=outcomes.get("valacyclovir-fetal-treatment"),
        amniocentesis_day=_day(amnio[0]) if amnio else None,
        stop_day=_day(stops[0]) if stops else None,
    )


def _day(iso: str) -> int:
    return (date.fromisoformat(iso) - LMP).days
