"""``assess(case, knowledge)``: route a case to its pathways and merge what they conclude.

Each context has its pathways (``PATHWAYS``, a test keeps the map total); some apply to every
context whose case carries the data they need (``ALWAYS``: therapy monitoring).
The result carries the knowledge version and digest, the settings used (the site's, or the
reference profile's where the site has not chosen: ADR 0006), and every citation;
``Assessment.to_dict()`` is the ``cmvcds-assessment/1`` JSON of design.md §4.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cmvcds.domain.case import Case
from cmvcds.domain.plain import plain as _plain
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import Context
from cmvcds.engine.congenital import evaluate as congenital_pathway
from cmvcds.engine.hiv import evaluate as hiv_pathway
from cmvcds.engine.immune import evaluate_immunocompetent, evaluate_immunocompromised
from cmvcds.engine.medications import evaluate as medications_pathway
from cmvcds.engine.monitoring import evaluate as monitoring_pathway
from cmvcds.engine.pregnancy import evaluate as pregnancy_pathway
from cmvcds.engine.transplant import evaluate as transplant_pathway
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

Pathway = Callable[[Case, Knowledge, date, SiteSettings], PathwayResult]

#: The pathways of each context, in the order they run.
PATHWAYS: Mapping[Context, tuple[Pathway, ...]] = {
    Context.PREGNANCY: (pregnancy_pathway,),
    Context.CONGENITAL: (congenital_pathway,),
    Context.TRANSPLANT: (transplant_pathway,),
    Context.HIV: (hiv_pathway,),
    Context.IMMUNOCOMPROMISED: (evaluate_immunocompromised,),
    Context.IMMUNOCOMPETENT: (evaluate_immunocompetent,),
}

#: Pathways that run for every context (each returns an empty result when it has nothing to say).
ALWAYS: tuple[Pathway, ...] = (monitoring_pathway, medications_pathway)


def carries_pregnancy(case: Case) -> bool:
    """Whether ``case`` carries a pregnancy, in any context (``Case.carries_pregnancy``)."""
    return case.carries_pregnancy


def pathways_for(case: Case) -> tuple[Pathway, ...]:
    """The pathways ``case`` runs: its context's, the AIFA 648/96 pregnancy assessment for any
    case that carries a pregnancy (a pregnant woman seen by an internist or a transplant team is
    still assessed for valacyclovir prevention and in-utero treatment), then ``ALWAYS``."""
    chosen = PATHWAYS[case.context]
    if carries_pregnancy(case) and pregnancy_pathway not in chosen:
        chosen = (*chosen, pregnancy_pathway)
    return (*chosen, *ALWAYS)


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
        r = self.result
        return {
            "format": ASSESSMENT_FORMAT,
            "case_id": self.case_id,
            "assessed_on": self.assessed_on.isoformat(),
            "knowledge": dict(self.knowledge),
            "context": self.context.value,
            "findings": _plain(r.findings),
            "decisions": [_plain(d) for d in r.decisions],
            "regimens": [_plain(g) for g in r.regimens],
            "schedule": [
                _plain(s) for s in sorted(r.schedule, key=lambda s: (s.earliest, s.event))
            ],
            "alerts": [_plain(a) for a in r.alerts],
            "missing": [_plain(m) for m in r.missing],
            "settings": _plain(r.settings_used),
            "settings_detail": [
                _plain(r.settings_origin[name])
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
    merged = PathwayResult()
    for pathway in pathways_for(case):
        merged.extend(pathway(case, knowledge, day, site))
    if case.context is not Context.PREGNANCY and carries_pregnancy(case):
        merged.findings["pregnancy_assessment"] = (
            f"The {case.context.value} case carries a pregnancy: the AIFA Law 648/96 valacyclovir "
            "assessment (prevention of fetal infection, in-utero treatment) was run as well."
        )
    return Assessment(case.id, day, knowledge.stamp(), case.context, merged)
