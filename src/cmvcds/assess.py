"""``assess(case, knowledge)``: route a case to its pathways and merge what they conclude.

Each context has its pathways (``PATHWAYS``, a test keeps the map total); some apply to every
context whose case carries the data they need (``ALWAYS``: therapy monitoring).
The result carries the knowledge version and digest, the settings used (the site's, or the
reference profile's where the site has not chosen: ADR 0006), and every citation;
``Assessment.to_dict()`` is the ``cmvcds-assessment/1`` JSON of design.md §4.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from operator import attrgetter
from typing import Any

from cmvcds.domain.case import Case
from cmvcds.domain.compact import compact as _compact
from cmvcds.domain.compact import write as _write
from cmvcds.domain.plain import plain as _plain
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import Context
from cmvcds.engine.same_time import without_contradictions
from cmvcds.knowledge import Knowledge

__all__ = [
    "ASSESSMENT_FORMAT",
    "Assessment",
    "Pathway",
    "assess",
    "carries_pregnancy",
    "pathways_for",
]

ASSESSMENT_FORMAT = "cmvcds-assessment/1"

_BY_DATE_AND_EVENT = attrgetter("earliest", "event")


Pathway = Callable[[Case, Knowledge, date, SiteSettings], PathwayResult]

#: The AIFA 648/96 pregnancy assessment, which also runs for any case carrying a pregnancy.
PREGNANCY = "cmvcds.engine.pregnancy:evaluate"

#: The pathways of each context, in the order they run, as ``module:function``: an engine is
#: imported when a case first needs it, so that a cold ``cmvcds assess`` of a pregnancy does not
#: import (nor build the knowledge classes of) the transplant, HIV and congenital engines.
PATHWAYS: Mapping[Context, tuple[str, ...]] = {
    Context.PREGNANCY: (PREGNANCY,),
    Context.CONGENITAL: ("cmvcds.engine.congenital:evaluate",),
    Context.TRANSPLANT: ("cmvcds.engine.transplant:evaluate",),
    Context.HIV: ("cmvcds.engine.hiv:evaluate",),
    Context.IMMUNOCOMPROMISED: ("cmvcds.engine.immune:evaluate_immunocompromised",),
    Context.IMMUNOCOMPETENT: ("cmvcds.engine.immune:evaluate_immunocompetent",),
}

#: Pathways that run for every context (each returns an empty result when it has nothing to say).
ALWAYS: tuple[str, ...] = (
    "cmvcds.engine.monitoring:evaluate",
    "cmvcds.engine.medications:evaluate",
)


@cache
def pathway(name: str) -> Pathway:
    """The pathway function ``module:function``, its module imported on first use."""
    module, function = name.split(":")
    found: Pathway = getattr(importlib.import_module(module), function)
    return found


def carries_pregnancy(case: Case) -> bool:
    """Whether ``case`` carries a pregnancy, in any context (``Case.carries_pregnancy``)."""
    return case.carries_pregnancy


def pathways_for(case: Case) -> tuple[Pathway, ...]:
    """The pathways ``case`` runs: its context's, the AIFA 648/96 pregnancy assessment for any
    case that carries a pregnancy (a pregnant woman seen by an internist or a transplant team is
    still assessed for valacyclovir prevention and in-utero treatment), then ``ALWAYS``."""
    chosen = PATHWAYS[case.context]
    if carries_pregnancy(case) and PREGNANCY not in chosen:
        chosen = (*chosen, PREGNANCY)
    return tuple(pathway(name) for name in (*chosen, *ALWAYS))


@dataclass(frozen=True)
class Assessment:
    """Everything cmvcds concludes about one case on one date, with its provenance."""

    case_id: str
    assessed_on: date
    knowledge: Mapping[str, str]
    context: Context
    result: PathwayResult

    def to_dict(self) -> dict[str, Any]:
        """The ``cmvcds-assessment/1`` JSON document (design.md §4)."""
        return {key: _plain(value) for key, value in self._document().items()}

    def to_json(self, extra: Mapping[str, Any] | None = None) -> bytes:
        """``orjson.dumps(self.to_dict() | extra)``, the same bytes, written by orjson from the
        result values (``domain/compact.py``: a bulk run's line at a fraction of the cost, issue
        20); ``extra`` holds JSON-ready values. Raises ``TypeError`` where that does (an integer
        beyond 64 bits)."""
        document = {key: _compact(value) for key, value in self._document().items()}
        return _write(document | dict(extra or {}))

    def _document(self) -> dict[str, Any]:
        """The document's keys in order, with the result values as they are."""
        r = self.result
        return {
            "format": ASSESSMENT_FORMAT,
            "case_id": self.case_id,
            "assessed_on": self.assessed_on,
            "knowledge": dict(self.knowledge),
            "context": self.context,
            "findings": r.findings,
            "decisions": r.decisions,
            "regimens": r.regimens,
            "schedule": sorted(r.schedule, key=_BY_DATE_AND_EVENT),
            "alerts": r.alerts,
            "missing": r.missing,
            "settings": r.settings_used,
            "settings_detail": [
                r.settings_origin[name]
                for name in sorted(r.settings_used)
                if name in r.settings_origin
            ],
        }


def assess(
    case: Case,
    knowledge: Knowledge,
    on: date | None = None,
    settings: SiteSettings | None = None,
) -> Assessment:
    """Assess ``case`` on ``on`` (its ``assessed_on`` by default) with the given knowledge."""
    day = on or case.assessed_on
    site = (settings or SiteSettings()).with_reference(knowledge)
    case, merged = without_contradictions(case, day)
    for pathway in pathways_for(case):
        merged.extend(pathway(case, knowledge, day, site))
    if case.context is not Context.PREGNANCY and carries_pregnancy(case):
        merged.findings["pregnancy_assessment"] = (
            f"The {case.context.value} case carries a pregnancy: the AIFA Law 648/96 valacyclovir "
            "assessment (prevention of fetal infection, in-utero treatment) was run as well."
        )
    if case.patient.intolerances:
        _intolerances_not_read(case, knowledge, merged)
    return Assessment(case.id, day, knowledge.stamp(), case.context, merged)


def _intolerances_not_read(case: Case, knowledge: Knowledge, merged: PathwayResult) -> None:
    """Say which listed intolerances no rule reads (probe9: nothing dropped without a word)."""
    from cmvcds.engine.dosing.intolerance import unread_intolerances

    unread = unread_intolerances(knowledge, case.patient.intolerances)
    if unread:
        merged.findings["intolerances_not_read"] = (
            f"patient.intolerances lists {', '.join(unread)}: cmvcds recommends no such drug and "
            "no label row names it, so it changes no decision here (every CMV antiviral on the "
            "list is never dosed)."
        )
