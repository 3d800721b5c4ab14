"""Request and response models of ``/api/v1``: the published JSON of design.md §4–§6.

Responses allow extra keys: the documents are versioned by their ``format`` and may grow; the
keys listed here are the stable ones tests and clients rely on.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from cmvcds.domain.vocabulary import Indication, Outcome


def _number_only(value: Any) -> Any:
    """A measurement is a JSON number: ``true`` is not 1 kg and ``"70"`` is not 70 kg (probe8 W4;
    pydantic's lax mode would convert both)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    return value


def _date_text_only(value: Any) -> Any:
    """A date is ISO 8601 text: a number is never read as a timestamp (as in the case format)."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"{value!r} is not a date; use ISO 8601, e.g. 2026-03-02")
    return value


#: A measured quantity of a request: a JSON number only (never a boolean or text).
Number = Annotated[float, BeforeValidator(_number_only), WithJsonSchema({"type": "number"})]
#: A calendar date of a request: ISO 8601 text only.
DateText = Annotated[
    date, BeforeValidator(_date_text_only), WithJsonSchema({"type": "string", "format": "date"})
]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KnowledgeStamp(_Open):
    version: str
    sha256: str


class DecisionOut(_Open):
    id: str
    outcome: Outcome
    reasons: list[str]
    citations: list[str]


class AssessmentDocument(_Open):
    """``cmvcds-assessment/1``."""

    format: Literal["cmvcds-assessment/1"]
    case_id: str
    assessed_on: date
    knowledge: KnowledgeStamp
    context: str
    findings: dict[str, Any]
    decisions: list[DecisionOut]
    regimens: list[dict[str, Any]]
    schedule: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    missing: list[dict[str, Any]]


class DosePatient(_Closed):
    """The patient of a dose calculation when no case is given (as ``cmvcds dose`` flags).

    Only the sign is checked here; the plausible ranges are the case parser's, from
    ``core/plausibility.yaml`` and ``core/observations.yaml``, so they are stated once."""

    age_years: Number | None = Field(default=None, ge=0)
    birth_date: DateText | None = None
    sex: Literal["female", "male"] | None = None
    weight_kg: Number | None = Field(default=None, gt=0)
    height_cm: Number | None = Field(default=None, gt=0)
    creatinine: Number | None = Field(default=None, gt=0)
    creatinine_unit: Literal["mg/dL", "umol/L"] = "mg/dL"
    dialysis: Literal["none", "hemodialysis", "peritoneal", "crrt"] | None = None
    intolerances: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Drugs the patient does not tolerate (INN): never dosed (drug-intolerance).",
    )


class DoseRequest(_Closed):
    drug: str = Field(min_length=1, max_length=40, examples=["valganciclovir"])
    indication: Indication
    regimen: str | None = Field(default=None, max_length=40)
    route: Literal["oral", "iv", "intravitreal"] | None = None
    region: Literal["us", "eu"] = "us"
    case: dict[str, Any] | None = Field(
        default=None, description="A cmvcds-case/1 case; else `patient`."
    )
    patient: DosePatient | None = None


class DoseDocument(_Open):
    """``cmvcds-dose/1``."""

    format: Literal["cmvcds-dose/1"]
    drug: str
    indication: str
    outcome: Outcome
    renal: dict[str, Any] | None = None
    regimen: dict[str, Any] | None = None
    alerts: list[dict[str, Any]]
    citations: list[str]


#: A mutation as the parser reads it (``UL97:M460V``, ``UL54:del981-982``): bounded text.
MutationText = Annotated[str, Field(min_length=1, max_length=60)]
GeneName = Annotated[str, Field(min_length=1, max_length=20)]


class ResistanceRequest(_Closed):
    mutations: list[MutationText] | None = Field(
        default=None, max_length=1000, examples=[["UL97:M460V", "UL54:A809V"]]
    )
    genes_tested: list[GeneName] | None = Field(default=None, max_length=20)
    fasta: str | None = Field(default=None, max_length=2_000_000)
    vcf: str | None = Field(default=None, max_length=20_000_000)
    threshold: Number | None = Field(default=None, gt=0, le=1)
    sample: str | None = Field(default=None, max_length=200)  # of a multi-sample VCF
    min_depth: int | None = Field(
        default=None,
        strict=True,  # a whole JSON number: true, "50" and 50.0 are refused (review23c 6)
        ge=1,
        le=10_000_000,
        description=(
            "reads an NGS variant's site needs to be called (default: the pack's, 100); a VCF "
            "only: refused with mutations or fasta"
        ),
    )
    virus: Literal["cmv", "hsv1", "hsv2", "vzv"] = Field(
        default="cmv",
        description="cmv (NC_006273.2), hsv1 (NC_001806.2), hsv2 (NC_001798.2), vzv (NC_001348.1)",
    )


class ResistanceDocument(_Open):
    """``cmvcds-resistance/1``."""

    format: Literal["cmvcds-resistance/1"]
    drugs: dict[str, Any]


class TableInfo(BaseModel):
    name: str
    file: str
    description: str


class KnowledgeInfo(BaseModel):
    version: str
    released: date
    sha256: str
    tables: list[TableInfo]
    sources: int


class SourceOut(BaseModel):
    id: str
    kind: str
    title: str
    year: int
    citation: str
    url: str | None = None
    doi: str | None = None
    locator: str | None = None
    verified: bool
    note: str | None = None


class SearchHit(BaseModel):
    kind: Literal["source", "table"]
    id: str
    title: str
    snippet: str
    url: str


class Health(BaseModel):
    status: Literal["ok"]


class VersionInfo(BaseModel):
    cmvcds: str
    api: Literal["v1"]
    knowledge: KnowledgeStamp
