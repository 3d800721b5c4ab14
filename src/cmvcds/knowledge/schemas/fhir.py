"""Schema of the FHIR R4 value sets: which LOINC / RxNorm / SNOMED / UCUM codes the FHIR adapter
understands, what each becomes in the case format, and the required bindings we check ourselves
(``fhir.resources`` validates types and cardinality, not code bindings)."""

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict
from cmvcds.knowledge.schemas.loinc_check import valid_loinc_code

LOINC = "http://loinc.org"

#: What a mapped Observation code becomes (a case observation code, or a pregnancy field).
Target = str


class ObservationCode(Fact):
    """A coded Observation and the case observation (or pregnancy field) it becomes."""

    system: str
    code: str
    display: str
    maps_to: Target = Field(
        description="case observation code, or pregnancy_status / gestational_age / lmp / edd"
    )
    specimen: str | None = None
    confidence: Literal["H", "M", "L"]

    @model_validator(mode="after")
    def _loinc_check_digit(self) -> "ObservationCode":
        if self.system == LOINC and not valid_loinc_code(self.code):
            raise ValueError(
                f"LOINC code {self.code!r} has a wrong Mod 10 check digit (LOINC Users' Guide 12 C)"
            )
        return self


class AnswerCode(Fact):
    """A coded answer or interpretation and the case ``result`` word it means."""

    system: str
    code: str
    display: str
    result: str


class MedicationCode(Fact):
    """A medication code and the drug (lowercase INN) it names; for a product code (a clinical or
    branded drug, a pack, an AIC marketing authorisation), also the strength of one unit and its
    dose form, so that "2 tablets" of RxNorm 313566 reads as 900 mg of valganciclovir by mouth."""

    system: str
    code: str
    display: str
    drug: str
    kind: Literal["ingredient", "SCD", "SBD", "GPCK", "BPCK", "ATC", "AIC", "SNOMED-CD"] = (
        "ingredient"
    )
    strength_mg: Decimal | None = Field(default=None, gt=0, description="mg of drug per unit")
    form: Literal["tablet", "capsule", "oral-solution", "vial"] | None = None
    route: Literal["oral", "iv"] | None = None


class ConditionCode(Fact):
    """A diagnosis code and what it tells about the case's context."""

    system: str
    code: str
    display: str
    meaning: Literal[
        "cmv_infection", "congenital_cmv", "pregnant", "not_pregnant", "transplant_recipient"
    ]
    #: For a transplant status: the case's ``transplant.organ``.
    organ: Literal["kidney", "liver", "heart", "lung", "hsct"] | None = None


class UnitCode(Strict):
    """A UCUM unit code and the unit text the case format accepts."""

    ucum: str
    unit: str


class RouteCode(Fact):
    system: str
    code: str
    display: str
    route: Literal["oral", "iv", "intravitreal"]


class Binding(Fact):
    """A required binding of an element we read: any other code is refused."""

    resource: str
    element: str
    codes: tuple[str, ...] = Field(min_length=1)
    use: tuple[str, ...] = Field(
        default=(), description="the codes whose resources we use; others are skipped"
    )


class AllergyName(Fact):
    """review12 S2: a name an allergy text may use for a drug cmvcds reads (a brand, a class):
    ``name`` lower case, matched as a whole word; ``drugs`` the intolerance(s) it records."""

    name: str = Field(pattern=r"^[a-z][a-z0-9 -]*$")
    drugs: tuple[str, ...] = Field(min_length=1)


class FhirValueSets(Strict):
    """``fhir/valuesets.yaml``."""

    observations: tuple[ObservationCode, ...]
    answers: tuple[AnswerCode, ...]
    medications: tuple[MedicationCode, ...]
    conditions: tuple[ConditionCode, ...]
    routes: tuple[RouteCode, ...]
    units: tuple[UnitCode, ...]
    bindings: tuple[Binding, ...]
    #: review12 S2: brand and class names an AllergyIntolerance text may use
    allergy_names: tuple[AllergyName, ...] = ()
    #: The standards the table implements (FHIR R4, UCUM units, CDS Hooks prefetch).
    citations: tuple[str, ...] = ()
