"""A drug the patient does not tolerate is never dosed (probe9 finding 1).

``patient.intolerances`` is read by every pathway through the dosing engine: ``recommend_dose``
refuses a drug on the list (``specialist_review``, a ``drug-intolerance`` alert naming it), and a
drug its label says cross-reacts with one on the list (the label's ``interactions`` rows with
``when: intolerant`` and ``effect: review``: valganciclovir, the prodrug of ganciclovir, and the
reverse). The list does not say how severe the reaction was, so whether to re-challenge,
desensitise or choose another drug is a specialist's decision (``dosing_policy.intolerance``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel, Interaction

__all__ = [
    "Intolerance",
    "intolerance_names",
    "intolerances_barring",
    "not_tolerated",
    "unread_intolerances",
]


@dataclass(frozen=True)
class Intolerance:
    """A recorded intolerance that bars ``drug``: of the drug itself (``row`` None), or of a drug
    the label's ``row`` says cross-reacts with it."""

    drug: str
    listed: str
    row: Interaction | None = None

    def message(self, why: str) -> str:
        if self.row is not None:
            return (
                f"Recorded intolerance of {self.listed} (patient.intolerances): {self.row.message}"
            )
        return (
            f"Recorded intolerance of {self.drug} (patient.intolerances): {self.drug} is not "
            f"dosed; {why}."
        )


def intolerances_barring(
    label: DrugLabel, intolerances: tuple[str, ...], region: str
) -> tuple[Intolerance, ...]:
    """The recorded intolerances that bar ``label.drug`` for ``region``: the drug itself first,
    then each cross-reacting drug its label names."""
    if not intolerances:
        return ()
    found = [Intolerance(label.drug, label.drug)] if label.drug in intolerances else []
    for rule in label.interactions:
        if rule.when != "intolerant" or rule.effect != "review" or region not in rule.regions:
            continue
        found.extend(
            Intolerance(label.drug, listed, rule)
            for listed in rule.with_any
            if listed in intolerances
        )
    return tuple(found)


def not_tolerated(
    knowledge: Knowledge, intolerances: tuple[str, ...], drug: str, region: str = "us"
) -> tuple[Intolerance, ...]:
    """``intolerances_barring`` for ``drug`` by name (a drug without a label: itself only), for
    a pathway that words its decision or lists a drug the dosing engine does not dose
    (intravitreal injections)."""
    if not intolerances:
        return ()
    label = knowledge.tables.get(f"drug_{drug}")
    if isinstance(label, DrugLabel):
        return intolerances_barring(label, intolerances, region)
    return (Intolerance(drug, drug),) if drug in intolerances else ()


def intolerance_names(barring: tuple[Intolerance, ...]) -> str:
    """``valganciclovir`` or ``ganciclovir (cross-reacts with valganciclovir)``, joined."""
    return ", ".join(
        i.listed if i.row is None else f"{i.listed} (cross-reacts with {i.drug})" for i in barring
    )


def unread_intolerances(knowledge: Knowledge, intolerances: tuple[str, ...]) -> tuple[str, ...]:
    """The listed drugs no rule reads: not a drug the pack doses, and named by no label row as a
    drug whose intolerance matters (cidofovir: probenecid, sulfa drugs; the prodrug pair). The
    assessment says so, rather than drop them without a word."""
    if not intolerances:
        return ()
    read = knowledge.derived(_read_intolerances)
    return tuple(drug for drug in intolerances if drug not in read)


def _read_intolerances(knowledge: Knowledge) -> frozenset[str]:
    """The drugs a recorded intolerance of changes an answer: every dosed drug and every drug an
    intolerance row names, read once per pack."""
    read: set[str] = set()
    for name in knowledge.names_of(DrugLabel):
        label = knowledge.table(name, DrugLabel)
        read.add(label.drug)
        read.update(d for r in label.interactions if r.when == "intolerant" for d in r.with_any)
    return frozenset(read)
