"""``/api/v1``: assess, dose, resistance, knowledge, healthz, version (design.md §6).

Short typed routes; each calls ``Clinic`` (the engine's one door) and returns the published
JSON. Errors are problem+json (``problems.py``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from cmvcds.adapters.api.deps import ClinicDep, IndexDep
from cmvcds.adapters.api.models import (
    AssessmentDocument,
    DoseDocument,
    DoseRequest,
    Health,
    KnowledgeInfo,
    ResistanceDocument,
    ResistanceRequest,
    SearchHit,
    SourceOut,
    TableInfo,
    VersionInfo,
)
from cmvcds.adapters.api.problems import problem_responses
from cmvcds.adapters.api.service import NotAvailable
from cmvcds.errors import InputError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["api"])

#: The smallest case (the parser then names what the assessment is missing).
EXAMPLE_CASE: dict[str, Any] = {"format": "cmvcds-case/1", "id": "example", "context": "pregnancy"}


def cmvcds_version() -> str:
    try:
        return version("cmvcds")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


@router.post(
    "/assess",
    response_model=AssessmentDocument,
    response_model_exclude_unset=True,
    responses=problem_responses(422, 500),
    summary="Assess a case (cmvcds-case/1) → cmvcds-assessment/1",
)
def assess(
    clinic: ClinicDep,
    case: Annotated[Any, Body(examples=[EXAMPLE_CASE])],
) -> Any:
    return clinic.assess(case)


@router.post(
    "/assess/fhir",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "FHIR R4 collection Bundle",
            "content": {"application/fhir+json": {"schema": {"type": "object"}}},
        },
        **problem_responses(422, 500),
    },
    summary="Assess a case → FHIR R4 Bundle (GuidanceResponse, RequestGroup, DetectedIssue)",
)
def assess_fhir(
    request: Request,
    clinic: ClinicDep,
    case: Annotated[dict[str, Any], Body(examples=[EXAMPLE_CASE])],
    patient: Annotated[str | None, Query(pattern=r"^Patient/[A-Za-z0-9\-.]{1,64}$")] = None,
) -> JSONResponse:
    """The assessment as FHIR R4 resources an EHR can file (issue 16 item 6)."""
    from cmvcds.adapters.fhir.guidance import assessment_bundle

    doc = jsonable_encoder(clinic.assess(case))  # the published JSON (dates as ISO strings)
    bundle = assessment_bundle(
        doc,
        patient=patient,
        now=str(doc["assessed_on"]),
        base_url=str(request.base_url).rstrip("/"),
    )
    return JSONResponse(bundle, media_type="application/fhir+json")


@router.post(
    "/dose",
    response_model=DoseDocument,
    response_model_exclude_unset=True,
    responses=problem_responses(422, 500, 503),
    summary="The dose calculator → cmvcds-dose/1",
)
def dose(clinic: ClinicDep, request: DoseRequest) -> Any:
    if request.case is None and request.patient is None:
        raise _field_error("case", "give a case or a patient")
    return clinic.dose(request.model_dump(mode="json"))


@router.post(
    "/resistance",
    response_model=ResistanceDocument,
    response_model_exclude_unset=True,
    responses=problem_responses(422, 500, 503),
    summary="The resistance report → cmvcds-resistance/1",
)
def resistance(clinic: ClinicDep, request: ResistanceRequest) -> Any:
    return _resistance_document(clinic, request)


def _resistance_document(clinic: ClinicDep, request: ResistanceRequest) -> dict[str, Any]:
    if not (request.mutations or request.fasta or request.vcf):
        raise _field_error("mutations", "give mutations, fasta or vcf")
    if request.min_depth is not None and (request.mutations or request.fasta):
        # a minimum read depth applies to NGS variants (a VCF) only: never silently ignored
        raise _field_error(
            "min_depth",
            "min_depth applies to a VCF only (the reads at an NGS variant's site); a mutation "
            "list or a FASTA has no read depth: leave min_depth out",
        )
    return clinic.resistance(request.model_dump(mode="json", exclude_none=True))


@router.post(
    "/resistance/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(422, 500, 503)},
    summary="The resistance report as a printable PDF (the HTML report, printed by chromium)",
)
def resistance_pdf(clinic: ClinicDep, request: ResistanceRequest) -> Response:
    from cmvcds.adapters.report.resistance_html import resistance_html
    from cmvcds.adapters.web.pages import html_to_pdf  # chromium; imported on use

    document = _resistance_document(clinic, request)
    try:
        pdf = html_to_pdf(resistance_html(document, clinic.knowledge))
    except NotAvailable as error:
        raise HTTPException(503, str(error)) from None
    headers = {"Content-Disposition": 'attachment; filename="cmvcds-resistance.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post(
    "/resistance/lollipop.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **problem_responses(422, 500, 503)},
    summary="Lollipop plots of the report: mutations over each gene tested, with frequency",
)
def resistance_svg(clinic: ClinicDep, request: ResistanceRequest) -> Response:
    from cmvcds.adapters.report.resistance_html import lollipop_svg

    svg = lollipop_svg(_resistance_document(clinic, request), clinic.knowledge)
    headers = {"Content-Disposition": 'attachment; filename="cmvcds-lollipop.svg"'}
    return Response(svg, media_type="image/svg+xml", headers=headers)


@router.get(
    "/knowledge", response_model=KnowledgeInfo, summary="Knowledge pack: version and tables"
)
def knowledge(clinic: ClinicDep) -> KnowledgeInfo:
    k = clinic.knowledge
    return KnowledgeInfo(
        version=k.version,
        released=k.released,
        sha256=k.sha256,
        tables=[
            TableInfo(name=n, file=k.files.get(n, ""), description=d)
            for n, d in sorted(k.descriptions.items())
        ],
        sources=len(k.sources),
    )


@router.get(
    "/knowledge/sources", response_model=list[SourceOut], summary="Every source the knowledge cites"
)
def sources(clinic: ClinicDep) -> list[SourceOut]:
    return [_source(s) for s in sorted(clinic.knowledge.sources.values(), key=lambda s: s.id)]


@router.get(
    "/knowledge/sources/{source_id}",
    response_model=SourceOut,
    responses=problem_responses(404),
    summary="One source",
)
def source(clinic: ClinicDep, source_id: str) -> SourceOut:
    found = clinic.knowledge.sources.get(source_id)
    if found is None:
        raise HTTPException(404, f"no source {source_id!r}")
    return _source(found)


@router.get(
    "/knowledge/search",
    response_model=list[SearchHit],
    summary="Full-text search (FTS5) over sources and tables",
)
def search(
    index: IndexDep, q: Annotated[str, Query(min_length=1, max_length=200)]
) -> list[dict[str, str]]:
    return index.search(q)


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/version", response_model=VersionInfo, summary="Software and knowledge versions")
def version_info(clinic: ClinicDep) -> VersionInfo:
    return VersionInfo.model_validate(
        {"cmvcds": cmvcds_version(), "api": "v1", "knowledge": clinic.knowledge.stamp()}
    )


def _source(s: Any) -> SourceOut:
    return SourceOut(
        id=s.id,
        kind=s.kind.value,
        title=s.title,
        year=s.year,
        citation=s.citation(),
        url=s.url,
        doi=s.doi,
        locator=s.locator,
        verified=s.verified,
        note=s.note,
    )


def _field_error(field: str, message: str) -> InputError:
    return InputError(message, field=field)
