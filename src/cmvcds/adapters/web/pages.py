"""The clinician's pages: case list, case entry (pregnancy), upload, assessment, dose calculator,
resistance report and the knowledge browser. Thin: every answer comes from ``Clinic``."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt
from pydantic import BaseModel

from cmvcds.adapters import knowledge_pages
from cmvcds.adapters.api.deps import ClinicDep, IndexDep, StoreDep
from cmvcds.adapters.api.problems import problems_of
from cmvcds.adapters.api.service import Clinic, NotAvailable, read_case_text
from cmvcds.adapters.api.store import CaseStore
from cmvcds.adapters.report.dossier import dossier_html
from cmvcds.adapters.report.html import assessment_html, assessment_parts
from cmvcds.adapters.web.forms import Remap, errors_by_field, form_to_raw
from cmvcds.adapters.web.render import STATIC_DIR, render
from cmvcds.domain.case import Congenital, Diagnosis, Patient, Presentation, Transplant
from cmvcds.domain.vocabulary import Context, Indication
from cmvcds.errors import InputError
from cmvcds.knowledge.schemas.core import ObservationCatalogue, PlausibilityLimits, Vocabularies

__all__ = ["CHROMIUM_ARGS", "STATIC_DIR", "html_to_pdf", "router"]

router = APIRouter(include_in_schema=False)

#: Flags for Debian's chromium on these machines (no sandbox, no network of its own).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
OBSERVATION_ROWS = 8
ULTRASOUND_ROWS = 3
THERAPY_ROWS = 2


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=status)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def _vocab(clinic: Clinic) -> dict[str, Any]:
    k = clinic.knowledge
    catalogue = k.table("observations", ObservationCatalogue)
    words = k.table("vocabularies", Vocabularies)
    limits = k.table("plausibility", PlausibilityLimits)
    codes = {code: spec for code, spec in catalogue.codes.items()}
    return {
        "codes": codes,
        "results": sorted({r for spec in codes.values() for r in spec.results}),
        "specimens": sorted({s for spec in codes.values() for s in spec.specimens}),
        "units": sorted(
            {u.unit for spec in codes.values() for u in spec.units}
            | {a for spec in codes.values() for u in spec.units for a in u.aliases}
        ),
        "findings": words.ultrasound_findings,
        "drugs": words.drugs,
        "limits": limits,
        "indications": [i.value for i in Indication],
        "manifestations": words.congenital_manifestations,
    }


def _literal(model: type[BaseModel], name: str) -> list[str]:
    """The accepted words of a ``Literal`` field of the case model (the parser's own list)."""
    annotation = model.model_fields[name].annotation
    words: list[str] = []
    for arg in typing.get_args(annotation) or (annotation,):
        if typing.get_origin(arg) is typing.Literal:
            words += [str(a) for a in typing.get_args(arg)]
    return words


CHOICES = {
    "organ": _literal(Transplant, "organ"),
    "hearing": _literal(Congenital, "hearing"),
    "diagnosis_specimen": _literal(Diagnosis, "specimen"),
    "birth_weight_for_gestational_age": _literal(Patient, "birth_weight_for_gestational_age"),
    "disease": _literal(Presentation, "disease"),
    "severity": _literal(Presentation, "severity"),
    "course": _literal(Presentation, "course"),
}


def _form_page(
    clinic: Clinic,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    summary: list[str] | None = None,
    status: int = 200,
    rows: int = OBSERVATION_ROWS,
    context: str = "pregnancy",
) -> HTMLResponse:
    values = values or {"assessed_on": clinic.today().isoformat(), "pregnancy.fetuses": "1"}
    context = values.get("context", context)
    return _page(
        "case_form.html",
        status,
        v=values,
        errors=errors or {},
        summary=summary or [],
        slug=_slug,
        vocab=_vocab(clinic),
        observation_rows=rows,
        ultrasound_rows=ULTRASOUND_ROWS,
        therapy_rows=THERAPY_ROWS,
        context=context,
        contexts=[c.value for c in Context],
        choices=CHOICES,
        title=f"New {context} case",
    )


def _check(
    clinic: Clinic, pairs: list[tuple[str, str]]
) -> tuple[dict[str, Any], Remap, list[dict[str, str]]]:
    raw, remap = form_to_raw(pairs)
    raw.setdefault("format", "cmvcds-case/1")
    try:
        clinic.parse(raw)
    except InputError as error:
        return raw, remap, problems_of(error)
    return raw, remap, []


async def _pairs(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


@router.get("/", response_class=HTMLResponse)
def home(store: StoreDep, clinic: ClinicDep) -> HTMLResponse:
    return _page("home.html", cases=store.all(), knowledge=clinic.knowledge, title="Cases")


@router.get("/cases/new", response_class=HTMLResponse)
def new_case(
    clinic: ClinicDep, context: str = "pregnancy", rows: int = OBSERVATION_ROWS
) -> HTMLResponse:
    if context not in {c.value for c in Context}:
        raise HTTPException(404, f"no context {context!r}")
    return _form_page(clinic, rows=max(1, min(rows, 40)), context=context)


@router.post("/cases", response_class=HTMLResponse)
async def create_case(request: Request, clinic: ClinicDep, store: StoreDep) -> Response:
    pairs = await _pairs(request)
    raw, remap, problems = _check(clinic, pairs)
    if problems:
        errors = errors_by_field(problems, remap)
        summary = [f"{remap.to_form(p['field'])}: {p['message']}" for p in problems]
        rows = max(
            OBSERVATION_ROWS,
            1
            + max(
                (
                    int(m)
                    for m in re.findall(r"observations\[(\d+)\]", " ".join(k for k, _ in pairs))
                ),
                default=0,
            ),
        )
        return _form_page(clinic, dict(pairs), errors, summary, status=422, rows=rows)
    key = store.add(raw, "form")
    return RedirectResponse(f"/cases/{key}", status_code=303)


@router.post("/cases/validate", response_class=HTMLResponse)
async def validate_case(request: Request, clinic: ClinicDep) -> HTMLResponse:
    """htmx: the parser's messages for the form as typed so far (same wording as the CLI)."""
    pairs = await _pairs(request)
    _, remap, problems = _check(clinic, pairs)
    errors = errors_by_field(problems, remap)
    summary = [f"{remap.to_form(p['field'])}: {p['message']}" for p in problems]
    names = sorted({k for k, _ in pairs} | set(errors))
    return _page("_validation.html", summary=summary, errors=errors, names=names, slug=_slug)


@router.post("/cases/upload", response_class=HTMLResponse)
async def upload_case(
    clinic: ClinicDep,
    store: StoreDep,
    file: Annotated[UploadFile, File()],
    context: Annotated[str, Form()] = "pregnancy",
) -> Response:
    text = (await file.read()).decode("utf-8", errors="replace")
    name = file.filename or "case.yaml"
    unmapped: list[str] = []
    try:
        raw = read_case_text(text, name)
        if isinstance(raw, dict) and raw.get("resourceType") == "Bundle":
            from cmvcds.adapters.fhir.mapping import bundle_to_case

            mapped = bundle_to_case(
                raw, clinic.knowledge, context=context, assessed_on=clinic.today()
            )
            raw = mapped.case
            unmapped = [*mapped.ignored, *mapped.unmapped, *(f"assumed: {n}" for n in mapped.notes)]
        clinic.parse(raw)
    except InputError as error:
        lines = [f"{p['field']}: {p['message']}" for p in problems_of(error)]
        return _page(
            "home.html",
            422,
            cases=store.all(),
            knowledge=clinic.knowledge,
            upload_errors=lines,
            title="Cases",
        )
    key = store.add(raw, f"upload:{name}"[:40])
    if unmapped:  # shown once, with the assessment: what of the Bundle was not used, and why
        return show_case(
            key, clinic, store, notices=[f"Not used from {name}: {line}" for line in unmapped]
        )
    return RedirectResponse(f"/cases/{key}", status_code=303)


@router.get("/cases/{key}", response_class=HTMLResponse)
def show_case(
    key: int, clinic: ClinicDep, store: StoreDep, notices: list[str] | None = None
) -> HTMLResponse:
    stored = store.get(key)
    if stored is None:
        raise HTTPException(404, f"no case {key}")
    try:
        doc = clinic.assess(stored.raw)
    except InputError as error:
        lines = [f"{p['field']}: {p['message']}" for p in problems_of(error)]
        return _page(
            "case_invalid.html", 422, stored=stored, lines=lines, title=f"Case {stored.case_id}"
        )
    return _page(
        "assessment.html",
        stored=stored,
        notices=notices or [],
        title=f"Assessment {stored.case_id}",
        **assessment_parts(doc, stored.raw),
    )


@router.get("/cases/{key}/assessment.json")
def case_json(key: int, clinic: ClinicDep, store: StoreDep) -> Response:
    stored = store.get(key)
    if stored is None:
        raise HTTPException(404, f"no case {key}")
    return Response(
        json.dumps(clinic.assess(stored.raw), indent=2, ensure_ascii=False),
        media_type="application/json",
    )


@router.get("/cases/{key}/assessment.pdf")
def case_pdf(key: int, clinic: ClinicDep, store: StoreDep) -> Response:
    """The printable assessment as PDF, printed by headless chromium (print CSS applies)."""
    stored = store.get(key)
    if stored is None:
        raise HTTPException(404, f"no case {key}")
    html = assessment_html(clinic.assess(stored.raw), stored.raw)
    try:
        pdf = html_to_pdf(html)
    except NotAvailable as error:
        raise HTTPException(503, str(error)) from None
    headers = {"Content-Disposition": f'inline; filename="cmvcds-{stored.case_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def _dossier(key: int, clinic: Clinic, store: CaseStore) -> tuple[str, str]:
    """The 648/96 dossier of a stored pregnancy case: (case id, HTML)."""
    stored = store.get(key)
    if stored is None:
        raise HTTPException(404, f"no case {key}")
    case = clinic.parse(stored.raw)
    if case.context is not Context.PREGNANCY:
        raise HTTPException(404, "the Law 648/96 dossier exists for pregnancy cases only")
    return stored.case_id, dossier_html(clinic.assess_case(case), case, clinic.knowledge)


@router.get("/cases/{key}/dossier", response_class=HTMLResponse)
def case_dossier(key: int, clinic: ClinicDep, store: StoreDep) -> HTMLResponse:
    """The one-page Law 648/96 dossier the prescribing physician files (printable)."""
    return HTMLResponse(_dossier(key, clinic, store)[1])


@router.get("/cases/{key}/dossier.pdf")
def case_dossier_pdf(key: int, clinic: ClinicDep, store: StoreDep) -> Response:
    """The dossier as PDF, printed by headless chromium."""
    case_id, html = _dossier(key, clinic, store)
    try:
        pdf = html_to_pdf(html)
    except NotAvailable as error:
        raise HTTPException(503, str(error)) from None
    headers = {"Content-Disposition": f'inline; filename="cmvcds-648-dossier-{case_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def html_to_pdf(html: str, chromium: str = "/usr/bin/chromium") -> bytes:
    """Print an HTML page to PDF with headless chromium (no network, a throwaway profile)."""
    if not Path(chromium).exists():
        raise NotAvailable("PDF needs Debian's chromium (tools/ensure_chromium.sh)")
    with tempfile.TemporaryDirectory(prefix="cmvcds-pdf-") as folder:
        page, out = Path(folder) / "assessment.html", Path(folder) / "assessment.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            chromium,
            "--headless",
            *CHROMIUM_ARGS,
            f"--user-data-dir={folder}/profile",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            raise NotAvailable("chromium did not print the page in time") from None
        if not out.exists():
            raise NotAvailable("chromium did not print the page")
        return out.read_bytes()


@router.get("/cases/{key}/case.yaml")
def case_yaml(key: int, store: StoreDep) -> Response:
    stored = store.get(key)
    if stored is None:
        raise HTTPException(404, f"no case {key}")
    text = yaml.safe_dump(stored.raw, sort_keys=False, allow_unicode=True)
    return Response(text, media_type="application/yaml")


@router.get("/dose", response_class=HTMLResponse)
def dose_form(clinic: ClinicDep) -> HTMLResponse:
    return _page(
        "dose.html",
        v={"patient.creatinine_unit": "mg/dL"},
        vocab=_vocab(clinic),
        result=None,
        errors=[],
        title="Dose calculator",
    )


def _answer_page(
    template: str, title: str, values: dict[str, str], answer: Callable[[], Any], **context: Any
) -> HTMLResponse:
    """Render ``template`` with the engine's answer, or the input problems (422), or the
    notice that this part of the engine is not available."""
    errors: list[str] = []
    result = unavailable = None
    try:
        result = answer()
    except InputError as error:
        errors = [f"{p['field']}: {p['message']}" for p in problems_of(error)]
    except NotAvailable as error:
        unavailable = str(error)
    return _page(
        template,
        422 if errors else 200,
        v=values,
        result=result,
        errors=errors,
        unavailable=unavailable,
        title=title,
        **context,
    )


@router.post("/dose", response_class=HTMLResponse)
async def dose_page(request: Request, clinic: ClinicDep) -> HTMLResponse:
    pairs = await _pairs(request)
    raw, _ = form_to_raw(pairs)

    def answer() -> dict[str, Any]:
        if not raw.get("drug"):
            raise InputError("required", field="drug")
        if raw.get("indication") not in {i.value for i in Indication}:
            raise InputError(
                f"{raw.get('indication', '')!r} is not an indication", field="indication"
            )
        return clinic.dose(
            {k: raw.get(k) for k in ("drug", "indication", "regimen", "route")}
            | {"patient": raw.get("patient") or {}}
        )

    return _answer_page("dose.html", "Dose calculator", dict(pairs), answer, vocab=_vocab(clinic))


@router.get("/resistance", response_class=HTMLResponse)
def resistance_form() -> HTMLResponse:
    return _page("resistance.html", v={}, result=None, errors=[], title="Resistance report")


@router.post("/resistance", response_class=HTMLResponse)
async def resistance_page(request: Request, clinic: ClinicDep) -> HTMLResponse:
    """A mutation list, or a FASTA or VCF file (told apart by its first line)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("sequence")
    sequence = ""
    if upload is not None and not isinstance(upload, str):
        sequence = (await upload.read()).decode("utf-8", errors="replace")
    mutations = [m for m in re.split(r"[,;\s]+", values.get("mutations", "")) if m]
    genes = [g for g in re.split(r"[,;\s]+", values.get("genes_tested", "")) if g]

    def answer() -> dict[str, Any]:
        query: dict[str, Any] = {"genes_tested": genes or None}
        if sequence.strip():
            kind = "vcf" if sequence.lstrip().startswith("##fileformat=VCF") else "fasta"
            return clinic.resistance(query | {kind: sequence})
        if not mutations:
            raise InputError(
                "give mutations (e.g. UL97:M460V) or a FASTA or VCF file", field="mutations"
            )
        return clinic.resistance(query | {"mutations": mutations})

    return _answer_page("resistance.html", "Resistance report", values, answer)


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge_page(clinic: ClinicDep, index: IndexDep, q: str = "") -> HTMLResponse:
    hits = index.search(q) if q.strip() else []
    k = clinic.knowledge
    sources = sorted(k.sources.values(), key=lambda s: s.id)
    tables = sorted(k.descriptions.items())
    return _page(
        "knowledge.html",
        knowledge=k,
        sources=sources,
        tables=tables,
        q=q,
        hits=hits,
        title="Knowledge",
    )


@router.get("/knowledge/sources/{source_id}", response_class=HTMLResponse)
def source_page(source_id: str, clinic: ClinicDep) -> HTMLResponse:
    source = clinic.knowledge.sources.get(source_id)
    if source is None:
        raise HTTPException(404, f"no source {source_id!r}")
    users = [
        name
        for name, table in clinic.knowledge.tables.items()
        if source_id in json.dumps(_plain(table), default=str)
    ]
    return _page(
        "source.html", source=source, users=users, knowledge=clinic.knowledge, title=source.id
    )


@router.get("/knowledge/tables/{name}", response_class=HTMLResponse)
def table_page(name: str, clinic: ClinicDep) -> HTMLResponse:
    """The generated page of a table (the same Markdown as docs/knowledge/), and its raw data."""
    k = clinic.knowledge
    if name not in k.tables:
        raise HTTPException(404, f"no table {name!r}")
    text = yaml.safe_dump(_plain(k.tables[name]), sort_keys=False, allow_unicode=True, width=110)
    page = (
        MarkdownIt("commonmark", {"html": False})
        .enable("table")
        .render(knowledge_pages.table_page(k, name))
    )
    page = re.sub(
        r"<code>([a-z0-9][a-z0-9-]*[a-z0-9])</code>",
        lambda m: (
            f'<a href="/knowledge/sources/{m.group(1)}"><code>{m.group(1)}</code></a>'
            if m.group(1) in k.sources
            else m.group(0)
        ),
        page,
    )
    return _page("table.html", name=name, page=page, text=text, knowledge=k, title=name)


def _plain(table: Any) -> Any:
    if isinstance(table, tuple):
        return [_plain(row) for row in table]
    if hasattr(table, "model_dump"):
        return table.model_dump(mode="json", exclude_none=True)
    return table
