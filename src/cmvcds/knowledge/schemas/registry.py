"""Schema of the registry's study design: the REDCap data dictionary, events, checks, analyses.

The case report forms are data: ``registry/dictionary.csv`` in REDCap's 18-column format (one
row per field, forms contiguous, the first field the record id) and ``registry/study.yaml``
(longitudinal events and the instruments each collects, repeating instruments, soft checks
that open a query for the monitor, and the outcome analyses of the study).
"""


from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

REDCAP_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

FieldType = Literal[
    "text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse",
    "calc", "descriptive", "slider", "file", "sql",
]  # fmt: skip


class DictionaryField(Strict):
    """One row of a REDCap data dictionary (column headers as REDCap writes them)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # The aliases are ``REDCAP_COLUMNS`` in order, written out: a dataclass field's alias must be
    # a literal for the type checker (tests/test_plain_rows.py holds them to the tuple).
    field_name: str = Field(
        alias="Variable / Field Name", pattern=r"^[a-z][a-z0-9_]*$", max_length=100
    )
    form_name: str = Field(alias="Form Name", pattern=r"^[a-z][a-z0-9_]*$")
    section_header: str = Field("", alias="Section Header")
    field_type: FieldType = Field(alias="Field Type")
    field_label: str = Field(alias="Field Label")
    choices: str = Field("", alias="Choices, Calculations, OR Slider Labels")
    field_note: str = Field("", alias="Field Note")
    validation: str = Field("", alias="Text Validation Type OR Show Slider Number")
    validation_min: str = Field("", alias="Text Validation Min")
    validation_max: str = Field("", alias="Text Validation Max")
    identifier: Literal["", "y"] = Field("", alias="Identifier?")
    branching_logic: str = Field("", alias="Branching Logic (Show field only if...)")
    required: Literal["", "y"] = Field("", alias="Required Field?")
    custom_alignment: str = Field("", alias="Custom Alignment")
    question_number: str = Field("", alias="Question Number (surveys only)")
    matrix_group: str = Field("", alias="Matrix Group Name")
    matrix_ranking: str = Field("", alias="Matrix Ranking?")
    field_annotation: str = Field("", alias="Field Annotation")


class StudyEvent(Strict):
    """A longitudinal event (REDCap event; ODM StudyEventDef) and the instruments it collects."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    subject: Literal["mother", "newborn"]
    instruments: tuple[str, ...] = Field(min_length=1)


class SoftCheck(Fact):
    """A plausibility check: when ``field`` ``op`` ``value`` holds, a query is opened (not an error)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    instrument: str
    field: str
    op: Literal["lt", "le", "gt", "ge", "eq", "ne"]
    value: Decimal | str
    message: str


class DateCheck(Fact):
    """Date logic on a CRF save, as REDCap users expect (issue 15): ``field`` may not lie in the
    future (``not_future``), or before / after ``other`` (``not_before`` / ``not_after``), where
    ``other`` is a date field of the same form or of the subject's other forms, or
    ``consent_signed_on`` (the subject's consent). ``hard`` refuses the save; ``soft`` saves
    and opens a query for the monitor."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    instrument: str
    field: str
    rule: Literal["not_future", "not_before", "not_after"]
    other: str | None = None
    severity: Literal["hard", "soft"]
    message: str

    @model_validator(mode="after")
    def _other_when_compared(self) -> "DateCheck":
        if (self.rule == "not_future") != (self.other is None):
            raise ValueError(f"date check {self.id}: 'other' goes with not_before/not_after only")
        return self


class FieldRef(Strict):
    """A field of one event; ``subject`` says whose record holds it."""

    event: str
    field: str
    subject: Literal["mother", "newborn"] = "mother"


class Outcome(FieldRef):
    """A binary outcome: the codes counted as event and as non-event (others: missing)."""

    events: tuple[str, ...] = Field(min_length=1)
    non_events: tuple[str, ...] = Field(min_length=1)


class Analysis(Fact):
    """An outcome analysis of the study: exposure × outcome, optionally stratified."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str
    role: Literal["primary", "secondary", "safety"]
    exposure: FieldRef
    exposed: tuple[str, ...] = Field(min_length=1)
    unexposed: tuple[str, ...] = Field(min_length=1)
    outcome: Outcome
    any_of: tuple[Outcome, ...] = ()  # a composite: ``outcome`` OR each of these (per pregnancy)
    strata: FieldRef | None = None


class FhirTest(Strict):
    """One choice of a measured form's test field: its LOINC code (when one is known) and the
    UCUM unit of its number (the dictionary's own unit, never converted)."""

    choice: str
    loinc: str | None = None
    display: str | None = None
    ucum: str | None = None


class FhirMeasured(Strict):
    """A repeating form whose instance is one result: one Observation coded by ``test``'s
    choice, valued by ``number`` (Quantity) or else ``result`` (CodeableConcept)."""

    instrument: str
    test: str
    number: str
    result: str
    tests: tuple[FhirTest, ...] = Field(min_length=1)


class FhirAnswer(Strict):
    """A standard coding (SNOMED CT) given beside the registry's own for one choice."""

    field: str
    choice: str
    system: str
    code: str
    display: str


class FhirExport(Fact):
    """How the registry's FHIR NDJSON export codes its Observations: each form's date field as
    ``effectiveDateTime``, UCUM units of numbers, measured forms, standard answer codes. Fields
    with no standard code keep the registry's own code system; every value is typed."""

    effective: dict[str, str]
    units: dict[str, str] = Field(default_factory=dict)
    measured: tuple[FhirMeasured, ...] = ()
    answers: tuple[FhirAnswer, ...] = ()


class StudyDesign(Fact):
    """``registry/study.yaml``: the study, its events, repeating instruments, checks, analyses."""

    oid: str
    name: str
    dictionary_version: str
    events: tuple[StudyEvent, ...] = Field(min_length=1)
    repeating: tuple[str, ...] = ()
    soft_checks: tuple[SoftCheck, ...] = ()
    date_checks: tuple[DateCheck, ...] = ()
    analyses: tuple[Analysis, ...] = ()
    fhir: FhirExport | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> "StudyDesign":
        names = [e.name for e in self.events]
        if len(set(names)) != len(names):
            raise ValueError("event names must be unique")
        return self
