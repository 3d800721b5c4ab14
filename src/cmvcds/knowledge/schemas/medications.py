"""Schema of ``drugs/medications.yaml``: the drugs a case may list as dated co-medications.

Each row names a drug by its INN in lower case (the case format's spelling), its RxNorm
ingredient concept and ATC code (for FHIR MedicationStatement and Italian prescriptions), and the
classes the rules read: ``nephrotoxic`` and ``myelosuppressive`` (antiviral toxicity),
``strong_cyp3a_inducer`` (maribavir), ``calcineurin_inhibitor``/``mtor_inhibitor`` (letermovir
and maribavir raise their levels), and ``corticosteroid``, ``biologic`` and
``immunosuppressant`` (the immune-status pathways). Interaction rows in ``drugs/<inn>.yaml`` name
drugs from this catalogue (a test checks every name).
"""


from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

__all__ = ["DrugClass", "MedicationCatalogue", "MedicationRow"]

DrugClass = Literal[
    "nephrotoxic",
    "myelosuppressive",
    "strong_cyp3a_inducer",
    "calcineurin_inhibitor",
    "mtor_inhibitor",
    "corticosteroid",
    "biologic",
    "immunosuppressant",
    "antifungal_azole",
    "statin",
    "antiretroviral",
    "other",
]

#: The classes that make a patient immunocompromised (the immune-status pathways).
IMMUNOSUPPRESSIVE: frozenset[str] = frozenset(
    {"corticosteroid", "biologic", "immunosuppressant", "calcineurin_inhibitor", "mtor_inhibitor"}
)


class MedicationRow(Fact):
    """One drug: INN, codes (each may be absent rather than guessed) and classes."""

    drug: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    rxnorm: str | None = Field(default=None, pattern=r"^\d+$")
    atc: str | None = Field(default=None, pattern=r"^[A-Z]\d\d[A-Z][A-Z](\d\d)?$")
    classes: tuple[DrugClass, ...] = Field(min_length=1)
    aliases: tuple[str, ...] = ()

    @property
    def immunosuppressive(self) -> bool:
        return bool(IMMUNOSUPPRESSIVE.intersection(self.classes))


class MedicationCatalogue(Strict):
    """``drugs/medications.yaml``: every co-medication a case may list, with its codes."""

    medications: tuple[MedicationRow, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "MedicationCatalogue":
        names = [m.drug for m in self.medications] + [
            a for m in self.medications for a in m.aliases
        ]
        if len(set(names)) != len(names):
            raise ValueError("a drug name or alias appears twice")
        return self

    def get(self, drug: str) -> MedicationRow | None:
        """The row of ``drug`` (by INN), or None."""
        return next((m for m in self.medications if m.drug == drug), None)

    def inn_of(self, name: str) -> str | None:
        """The INN an alias stands for (``ciclosporin`` → ``cyclosporine``), or None."""
        return next((m.drug for m in self.medications if name in m.aliases), None)
