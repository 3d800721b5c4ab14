"""Frozen result values every pathway returns and ``assess`` merges (design.md §4).

Pathways never build JSON: they return these, each carrying its citations, and the adapters
serialise them. ``PathwayResult.cite(fact)`` records the citations of a knowledge row and, when
the row is not yet verified against its primary source, the ``unverified-fact`` alert that must
accompany any output that used it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from itertools import repeat
from operator import attrgetter, is_
from typing import Any, Protocol, TypeVar

from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.vocabulary import AlertCode, DecisionId, Outcome, ScheduleEvent, Severity

T = TypeVar("T")

_MESSAGE = attrgetter("message")


def append_new(items: list[T], new: Collection[T]) -> None:
    """Append each of ``new`` not already in ``items`` (same values), in order, once each.

    The results are frozen, hashable values, but their hash is a Python method: hashing every
    item of the merged lists again at each pathway's merge was a tenth of the engine's
    instructions (issue 20). Two equal results have the same ``_FIRST_LOOK`` fields (texts,
    dates and enums, hashed in C and cached), so an item whose fields are not among the
    items' is new without hashing it; only the others are looked up among the items by value.
    A list holding any other type (or more than one) takes the plain way (``_append_hashed``).
    """
    if not new:
        return
    new = list(new)
    kind = type(new[0])
    look = _FIRST_LOOK.get(kind)
    if look is None or {*map(type, new), *map(type, items)} != {kind}:
        _append_hashed(items, new)
        return
    looks = set(map(look, items))
    values = list(map(look, new))
    fresh = set(values)
    if len(fresh) == len(values) and looks.isdisjoint(fresh):
        items.extend(new)  # the usual merge: nothing in common, nothing twice (compared in C)
        return
    seen: set[T] | None = None  # the items themselves, when first needed
    for item, value in zip(new, values, strict=True):
        if value not in looks:
            looks.add(value)
        else:
            if seen is None:
                seen = set(items)
            if item in seen:
                continue
        if seen is not None:
            seen.add(item)
        items.append(item)


def _append_hashed(items: list[T], new: Collection[T]) -> None:
    """``append_new`` by the items' own hash and equality (the way it was)."""
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


@fast_init
@dataclass(frozen=True)
class Decision:
    """One decision of a pathway (design.md §4 ``decisions``): its outcome, with the reasons,
    citations, rules, genes and settings it rests on."""

    id: DecisionId
    outcome: Outcome
    reasons: tuple[str, ...]
    citations: tuple[str, ...]
    rules: tuple[str, ...] = ()
    genes: tuple[str, ...] = ()
    settings_used: tuple[str, ...] = ()
    reference_profile: tuple[str, ...] = ()


@fast_init
@dataclass(frozen=True)
class Regimen:
    """A regimen a pathway proposes (design.md §4 ``regimens``): drug, dose, interval, route and
    dates, with its citations."""

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
    #: probe11 S4: the renal measure the dose was chosen on, when more than one was given
    renal_basis: str | None = None


@fast_init
@dataclass(frozen=True)
class ScheduleItem:
    """A dated event to plan (design.md §4 ``schedule``): from ``earliest`` to ``latest``, with
    its reason and citations."""

    event: ScheduleEvent
    earliest: date
    citations: tuple[str, ...]
    latest: date | None = None
    reason: str | None = None


def schedule_items(
    event: ScheduleEvent,
    days: Iterable[date],
    citations: tuple[str, ...],
    reason: str | None,
) -> list[ScheduleItem]:
    """``[ScheduleItem(event, day, citations, None, reason) for day in days]``: the same items
    (the same ``__dict__``, in field order, as ``fast_init``'s ``__init__`` writes it), built
    without a call through the class per item. A calendar writes dozens of items that differ
    only in their date; the class call (``type_call``, ``slot_tp_init``, a frame) was a third of
    an item's cost (issue 20, ADR 0032: −0.7 % of the engine's instructions per case).
    ``tests/test_results_fast_paths.py`` compares both."""
    new, put = _NEW, _SET
    items = []
    for day in days:
        item = new(ScheduleItem)
        put(
            item,
            "__dict__",
            {
                "event": event,
                "earliest": day,
                "citations": citations,
                "latest": None,
                "reason": reason,
            },
        )
        items.append(item)
    return items


_NEW = object.__new__
_SET = object.__setattr__
#: ``schedule_items`` writes these fields, in this order: a field added to ``ScheduleItem``
#: must be added there too (checked when this module is imported).
if [f.name for f in fields(ScheduleItem)] != ["event", "earliest", "citations", "latest", "reason"]:
    raise TypeError("ScheduleItem's fields changed: update schedule_items")


@fast_init
@dataclass(frozen=True)
class Alert:
    """An alert of the assessment (design.md §4 ``alerts``): code, severity, message, citations."""

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


@fast_init
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


@fast_init
@dataclass(frozen=True)
class Missing:
    """What a part of the assessment needs and the case lacks (design.md §4 ``missing``), and why."""

    item: str
    why: str


#: The marker of a ``PathwayResult`` field not given (a new empty container).
_EMPTY: Any = object()


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

    def __init__(
        self,
        findings: dict[str, Any] = _EMPTY,
        decisions: list[Decision] = _EMPTY,
        regimens: list[Regimen] = _EMPTY,
        schedule: list[ScheduleItem] = _EMPTY,
        alerts: list[Alert] = _EMPTY,
        missing: list[Missing] = _EMPTY,
        settings_used: dict[str, Any] = _EMPTY,
        settings_origin: dict[str, SettingUse] = _EMPTY,
    ) -> None:
        """As the generated ``__init__``, each container that is not given a new empty one, built by
        a literal (``dict()`` and ``list()`` through their types cost more; five results a case,
        issue 20)."""
        self.findings = {} if findings is _EMPTY else findings
        self.decisions = [] if decisions is _EMPTY else decisions
        self.regimens = [] if regimens is _EMPTY else regimens
        self.schedule = [] if schedule is _EMPTY else schedule
        self.alerts = [] if alerts is _EMPTY else alerts
        self.missing = [] if missing is _EMPTY else missing
        self.settings_used = {} if settings_used is _EMPTY else settings_used
        self.settings_origin = {} if settings_origin is _EMPTY else settings_origin

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
        alerts = self.alerts
        # an equal alert has the same message: the messages are compared first, in C, then
        # the alerts by identity (the alert is shared), and only then by value
        if alert.message not in map(_MESSAGE, alerts) or (
            not any(map(is_, alerts, repeat(alert))) and alert not in alerts
        ):
            alerts.append(alert)

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


#: For each result class ``append_new`` knows: fields that equal values share, read in C.
_FIRST_LOOK: dict[type, Callable[[Any], Any]] = {
    ScheduleItem: attrgetter("earliest", "event"),
    Alert: attrgetter("message"),
    Missing: attrgetter("item"),
}


def held_line(regimen: Mapping[str, Any], line: str) -> str:
    """``line`` (a regimen in words) as a message shows it: a held regimen's hold comes first and
    its dose is the dose when restarted (ADR 0029); the plain-text outputs (CDS cards, FHIR
    guidance) share this wording."""
    held = regimen.get("held")
    return f"HOLD — {held}. Dose when restarted: {line}" if held else line
