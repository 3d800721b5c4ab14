"""The word lists of the pages' selects, taken from where the parser takes them: the knowledge
pack's vocabularies and catalogues, and the closed ``Literal``/enum fields of the case model.

No select is typed by hand in a template, so a select can never be empty or offer a word the
parser refuses (the transplant "Organ" and the congenital "Diagnostic specimen" once were).
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from cmvcds.domain.case import (
    Congenital,
    Diagnosis,
    FollowUpResult,
    Patient,
    Presentation,
    Retinitis,
    TherapyCourse,
    Transplant,
    Ultrasound,
)
from cmvcds.domain.vocabulary import Context, Indication
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.base import Strict
from cmvcds.knowledge.schemas.core import ObservationCatalogue, PlausibilityLimits, Vocabularies

__all__ = ["CHOICES", "form_vocabulary", "words"]


def words(model: type[Strict], name: str) -> list[str]:
    """The accepted words of a closed field of the case model (``Literal``, enum, optional)."""
    return _words(model.model_fields[name].annotation)


def whole_numbers(model: type[Strict], name: str) -> list[str]:
    """The whole numbers a bounded integer field accepts (``ge``…``le``), as text."""
    low = high = None
    for constraint in model.model_fields[name].metadata:
        low = getattr(constraint, "ge", low)
        high = getattr(constraint, "le", high)
    if low is None or high is None:
        raise ValueError(f"{model.__name__}.{name} is not a bounded whole number")
    return [str(n) for n in range(int(low), int(high) + 1)]


def _words(annotation: Any) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    if origin in (typing.Union, types.UnionType):
        return [w for arg in typing.get_args(annotation) for w in _words(arg)]
    if origin is typing.Annotated:
        return _words(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(m.value) for m in annotation]
    return []


#: The selects of the case form whose words are fields of the case model.
CHOICES: dict[str, list[str]] = {
    "sex": words(Patient, "sex"),
    "dialysis": words(Patient, "dialysis"),
    "child_pugh": words(Patient, "child_pugh"),
    "yes_no": ["yes", "no"],  # a yes/no select, so that "not known" stays empty
    "bowel_grade": whole_numbers(Ultrasound, "bowel_grade"),
    "organ": words(Transplant, "organ"),
    "serostatus": words(Transplant, "donor_cmv_igg"),
    "hearing": words(Congenital, "hearing"),
    "follow_up_assessment": words(FollowUpResult, "assessment"),
    "ear": words(FollowUpResult, "ear"),
    "follow_up_result": words(FollowUpResult, "result"),
    "diagnosis_specimen": words(Diagnosis, "specimen"),
    "birth_weight_for_gestational_age": words(Patient, "birth_weight_for_gestational_age"),
    "disease": words(Presentation, "disease"),
    "severity": words(Presentation, "severity"),
    "course": words(Presentation, "course"),
    "route": words(TherapyCourse, "route"),
    "retinitis_zone": words(Retinitis, "zone"),
    "indication": [i.value for i in Indication],
    "context": [c.value for c in Context],
}


def form_vocabulary(knowledge: Knowledge) -> dict[str, Any]:
    """The knowledge pack's word lists the forms offer (codes, results, units, findings …)."""
    catalogue = knowledge.table("observations", ObservationCatalogue)
    vocabularies = knowledge.table("vocabularies", Vocabularies)
    codes = dict(catalogue.codes.items())
    return {
        "codes": codes,
        "results": sorted({r for spec in codes.values() for r in spec.results}),
        "specimens": sorted({s for spec in codes.values() for s in spec.specimens}),
        "units": sorted(
            {u.unit for spec in codes.values() for u in spec.units}
            | {a for spec in codes.values() for u in spec.units for a in u.aliases}
        ),
        "findings": vocabularies.ultrasound_findings,
        "drugs": vocabularies.drugs,
        "stop_reasons": vocabularies.stop_reasons,
        "disease_organs": vocabularies.disease_organs,
        "hsct_risk": vocabularies.hsct_risk,
        "genes": vocabularies.genes,
        "limits": knowledge.table("plausibility", PlausibilityLimits),
        "indications": CHOICES["indication"],
        "manifestations": vocabularies.congenital_manifestations,
    }
