"""Frozen result values every pathway returns and ``assess`` merges (design.md §4).

Pathways never build JSON: they return these, each carrying its citations, and the adapters
serialise them. ``PathwayResult.cite(fact)`` records the citations of a knowledge row and, when
the row is not yet verified against its primary source, the ``unverified-fact`` alert that must
accompany any output that used it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from cmvcds.domain.vocabulary import AlertCode, DecisionId, Outcome, ScheduleEvent, Severity

T = TypeVar("T")

_MESSAGE = attrgetter("message")


def append_new(items: list[T], new: Collection[T]) -> None:
    """Append each of ``new`` not already in ``items`` (same values), in order, once each.

    The results are frozen, hashable values: one set lookup per item instead of a scan of the
    list (a calendar of hundreds of dates made the scans the engine's largest cost, issue 20).
    """
    if not new:
        return
    seen = set(items)
    for item in new:
        if item not in seen:
            seen.add(item)
            items.append(item)


class Cited(Protocol):
    """Any knowledge row: it names its sources and says whether it was verified."""

    @property
    def citations(self) -> tuple[str, ...]: ...

    @property
    def verified(self) -> bool: ...

    @property
    def note(self) -> str | None: ...


@dataclass(frozen=True)
class Decision:
    id: DecisionId
    outcome: Outcome
    reasons: tuple[str, ...]
    citations: tuple[str, ...]
    rules: tuple[str, ...] = ()
    genes: tuple[str, ...] = ()
    settings_used: tuple[str, ...] = ()
    reference_profile: tuple[str, ...] = ()


@dataclass(frozen=True)
class Regimen:
    drug: str
    indication: str
    dose_mg: float | None
    every_h: float | None
    route: str
    citations: tuple[str, ...]
    daily_mg: float | None = None
    schedule: str | None = None
    start: date | None = None
    stop: date | None = None
    stop_rule: str | None = None
    dose_mg_per_kg: float | None = None
    oral_solution_ml: float | None = None
    duration_days: int | None = None
    #: ADR 0029: while the course is held, why and until when; the dose is then the dose
    #: when restarted, never an instruction to give it now
    held: str | None = None
    #: ADR 0029: the weight a per-kg dose was computed on, and its date (None: undated)
    weight_kg: float | None = None
    weight_date: date | None = None


@dataclass(frozen=True)
class ScheduleItem:
    event: ScheduleEvent
    earliest: date
    citations: tuple[str, ...]
    latest: date | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Alert:
    code: AlertCode
    severity: Severity
    message: str
    citations: tuple[str, ...] = ()


@lru_cache(maxsize=1024)
def unverified_alert(what: str, citations: tuple[str, ...]) -> Alert:
    """The ``unverified-fact`` alert naming ``what``, built once and shared (it is frozen): the
    same few dozen knowledge rows are flagged in case after case, ~8 times per case (issue 20).
    Bounded (``lru_cache``): a text that names a case value only costs its own entry."""
    message = f"Not yet verified against its primary source: {what}."
    return Alert(AlertCode.UNVERIFIED_FACT, Severity.WARNING, message, citations)


@dataclass(frozen=True)
class SettingUse:
    """A setting a decision used: its value and where it came from (``site`` or
    ``reference-profile``); for the reference profile, the row's citations and one-line basis,
    for the site, its settings file (``basis``)."""

    name: str
    value: Any
    origin: str
    citations: tuple[str, ...]
    basis: str | None = None


@dataclass(frozen=True)
class Missing:
    item: str
    why: str


@dataclass
class PathwayResult:
    """What one pathway concludes; ``assess`` merges several of these into an Assessment."""

    findings: dict[str, Any] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    regimens: list[Regimen] = field(default_factory=list)
    schedule: list[ScheduleItem] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    settings_used: dict[str, Any] = field(default_factory=dict)
    settings_origin: dict[str, SettingUse] = field(default_factory=dict)

    def cite(self, fact: Cited, what: str) -> tuple[str, ...]:
        """The citations of ``fact``; adds an ``unverified-fact`` alert if it is unverified."""
        if not fact.verified:
            self.flag_unverified(what, fact.citations)
        return fact.citations

    def flag_unverified(self, what: str, citations: tuple[str, ...]) -> None:
        """A short ``unverified-fact`` alert naming the fact: what a clinician needs to weigh.
        The research note of how it was (not) checked stays in the pack's provenance (the
        knowledge pages), never in a clinical output."""
        alert = unverified_alert(what, citations)
        # an equal alert has the same message: the messages are compared first, in C
        if alert.message not in map(_MESSAGE, self.alerts) or alert not in self.alerts:
            self.alerts.append(alert)

    def extend(self, other: PathwayResult) -> None:
        """Merge ``other`` into this result; an alert, schedule item or missing item that is
        already present (same values) is kept once."""
        self.findings.update(other.findings)
        self.decisions.extend(other.decisions)
        self.regimens.extend(other.regimens)
        append_new(self.schedule, other.schedule)
        append_new(self.alerts, other.alerts)
        append_new(self.missing, other.missing)
        self.settings_used.update(other.settings_used)
        self.settings_origin.update(other.settings_origin)


def held_line(regimen: Mapping[str, Any], line: str) -> str:
    """``line`` (a regimen in words) as a message shows it: a held regimen's hold comes first and
    its dose is the dose when restarted (ADR 0029); the plain-text outputs (CDS cards, FHIR
    guidance) share this wording."""
    held = regimen.get("held")
    return f"HOLD — {held}. Dose when restarted: {line}" if held else line
