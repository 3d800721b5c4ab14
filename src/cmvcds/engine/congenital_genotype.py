"""A reported resistance genotype read in the congenital decision (probe11 S1; seed 001).

An infant on valganciclovir whose genotype showed UL97:M460V (ganciclovir resistance) was told to
"continue valganciclovir": the congenital pathway never read ``case.genotype``. The transplant
pathway reads it through the resistance engine (``transplant/refractory.status``); this module
does the same for the congenital plan's drugs (valganciclovir, IV ganciclovir):

- the latest genotype on or before the assessment date is interpreted by
  ``resistance.interpret_mutations`` (the genes tested as reported);
- a plan drug at low, moderate or high resistance, or with a flagged call, is one the genotype
  confers resistance to: the decision names the mutations and every drug they affect, and does
  not continue it (``congenital/criteria.yaml`` ``genotype.action``: specialist review, a critical
  alert);
- a genotype with no mutation is said as such (``genotype.no_mutation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.engine.resistance import interpret_mutations
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.congenital import GenotypeAction

__all__ = ["GenotypeRead", "read_genotype"]


@dataclass(frozen=True)
class GenotypeRead:
    """What the latest genotype says for the plan: ``resistant`` names the plan drugs it confers
    resistance to; ``text`` is the sentence for the decision; ``citations`` those of the rule and
    of the resistance calls."""

    resistant: tuple[str, ...]
    text: str
    citations: tuple[str, ...]


def read_genotype(
    case: Case,
    knowledge: Knowledge,
    rule: GenotypeAction,
    plan_drugs: tuple[str, ...],
    on: date,
    result: PathwayResult,
) -> GenotypeRead | None:
    """The latest genotype on or before ``on`` read for ``plan_drugs``; None when none is reported."""
    reported = [g for g in case.genotype if g.date <= on]
    if not reported:
        return None
    latest = max(reported, key=lambda g: g.date)
    cited = result.cite(rule, "a resistance genotype in the congenital decision")
    genes = ", ".join(latest.genes_tested) or "genes not stated"
    try:
        report = interpret_mutations(
            list(latest.mutations), list(latest.genes_tested) or None, knowledge
        )
    except CmvcdsError as error:
        return GenotypeRead(
            (),
            f"The genotype of {latest.date} cannot be interpreted ({error}): a specialist reads it.",
            cited,
        )
    if not latest.mutations:
        return GenotypeRead(
            (), f"Genotype of {latest.date} ({genes} sequenced): {rule.no_mutation}.", cited
        )
    affected = [d for d in report.drugs if d.level.is_resistance or (d.flags and d.mutations)]
    resistant = tuple(d.drug for d in affected if d.drug in plan_drugs)
    for call in affected:
        cited = (*cited, *(c for c in call.citations if c not in cited))
    calls = "; ".join(
        f"{d.drug} {d.level.wording.lower()} ({', '.join(d.mutations)})" for d in affected
    )
    mutations = ", ".join(latest.mutations)
    if resistant:
        text = (
            f"Genotype of {latest.date} ({genes} sequenced): {mutations} — {calls}. "
            f"{', '.join(resistant)}: {rule.action}."
        )
    else:
        text = (
            f"Genotype of {latest.date} ({genes} sequenced): {mutations} — "
            f"{calls or 'no resistance to the drugs of the plan'}."
        )
    return GenotypeRead(resistant, text, cited)
