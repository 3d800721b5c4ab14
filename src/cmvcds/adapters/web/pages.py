"""The clinician's pages: case list, case entry for every context, upload, editing with every
version kept, the assessment (page, PDF, JSON, 648/96 dossier) and the resistance report; the
dose calculator and the knowledge browser are their own modules, mounted here. Thin: every
answer comes from ``Clinic``."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from cmvcds.adapters.api.deps import ClinicDep, StoreDep
from cmvcds.adapters.api.problems import problems_of
from cmvcds.adapters.api.service import Clinic, NotAvailable, read_case_text
from cmvcds.adapters.api.store import CaseStore, StaleVersion, StoredCase
from cmvcds.adapters.report.dossier import (
    PrintFields,
    consent_html,
    dossier_html,
    dossier_refusal,
    in_language,
    refusal_html,
)
from cmvcds.adapters.report.html import assessment_html, assessment_parts
from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.calendar import calendar_ics
from cmvcds.adapters.web.case_conflict import BASE_FIELD, Reapplied, base_version, reapply
from cmvcds.adapters.web.dose_page import router as dose_router
from cmvcds.adapters.web.forms import Remap, errors_by_field, form_to_raw, raw_to_form
from cmvcds.adapters.web.knowledge_browser import router as knowledge_router
from cmvcds.adapters.web.render import STATIC_DIR, render
from cmvcds.adapters.web.simulate_page import router as simulate_router
from cmvcds.adapters.web.texts import clinical
from cmvcds.adapters.web.vocab import CHOICES, form_vocabulary
from cmvcds.domain.case import Case
from cmvcds.domain.documents import DEFAULT_LIMITS
from cmvcds.domain.vocabulary import Context
from cmvcds.errors import InputError

__all__ = ["CHROMIUM_ARGS", "STATIC_DIR", "html_to_pdf", "router"]

router = APIRouter(include_in_schema=False)
router.include_router(dose_router)
router.include_router(knowledge_router)
router.include_router(simulate_router)

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
THERAPY_ROWS = 3
GENOTYPE_ROWS = 2
FOLLOW_UP_ROWS = 6
MAX_ROWS = 40


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=status)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


#: What each context's "New case" link says (the context's own name unless said otherwise).
CONTEXT_LABELS = {
    c.value: {"congenital": "infant", "hiv": "HIV"}.get(c.value, c.value) for c in Context
}


def _(message: str, **values: object) -> str:
    """``message`` in the page's language, with its ``%(name)s`` values filled in."""
    translated = i18n.gettext(message)
    return translated % values if values else translated


def _rows(values: dict[str, str], name: str, default: int, spare: int = 0) -> int:
    """How many rows of list ``name`` the form shows: those typed (plus ``spare``), at least
    ``default``."""
    numbers = [int(m) for m in re.findall(rf"^{name}\[(\d+)\]", "\n".join(values), re.M)]
    return min(MAX_ROWS, max(default, 1 + max(numbers, default=-1) + spare))


def _form_page(
    clinic: Clinic,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    summary: list[str] | None = None,
    status: int = 200,
    rows: int = OBSERVATION_ROWS,
    context: str = "pregnancy",
    action: str = "/cases",
    conflict: Reapplied | None = None,
) -> HTMLResponse:
    if not values:  # a new case: one fetus presumed only where the case is a pregnancy
        values = {"assessed_on": clinic.today().isoformat()}
        if context == "pregnancy":
            values["pregnancy.fetuses"] = "1"
    context = values.get("context", context)
    editing = action != "/cases"
    name = CONTEXT_LABELS.get(context, context)
    return _page(
        "case_form.html",
        status,
        v=values,
        errors=errors or {},
        summary=summary or [],
        slug=_slug,
        vocab=form_vocabulary(clinic.knowledge),
        observation_rows=max(rows, _rows(values, "observations", OBSERVATION_ROWS)),
        ultrasound_rows=_rows(values, "ultrasound", ULTRASOUND_ROWS, spare=1 if editing else 0),
        therapy_rows=_rows(values, "therapy", THERAPY_ROWS, spare=1 if editing else 0),
        genotype_rows=_rows(values, "genotype", GENOTYPE_ROWS, spare=1 if editing else 0),
        follow_up_rows=_rows(
            values, r"congenital\.follow_up", FOLLOW_UP_ROWS, spare=1 if editing else 0
        ),
        context=context,
        contexts=CONTEXT_LABELS,
        choices=CHOICES,
        action=action,
        conflict=conflict,
        heading=_("Edit %(kind)s case %(id)s", kind=_(name), id=values.get("id", ""))
        if editing
        else _("New %(kind)s case", kind=_(name)),
        title=_("Edit case %(id)s", id=values.get("id", ""))
        if editing
        else _("New %(kind)s case", kind=_(name)),
    )


def _check(
    clinic: Clinic, pairs: list[tuple[str, str]]
) -> tuple[dict[str, Any], Remap, list[dict[str, str]]]:
    raw, remap = form_to_raw(pairs)
    raw.setdefault("format", "cmvcds-case/1")
    try:
        clinic.parse(raw)
    except InputError as error:
        return raw, remap, shown_problems(error)
    return raw, remap, []


def shown_problems(error: InputError) -> list[dict[str, str]]:
    """The problems of ``error``, each message in the page's language (the field as sent)."""
    return [{**p, "message": clinical(p["message"])} for p in problems_of(error)]


async def _pairs(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


@router.get("/lang/{language}")
def switch_language(language: str, back: str = "/") -> RedirectResponse:
    """The IT | EN switch of every page: remembers the language in the ``lang`` cookie (a year)
    and goes back to the page it was pressed on (a path of this site only)."""
    if language not in i18n.LANGUAGES:
        raise HTTPException(
            404, f"no such language: {language!r}; one of {', '.join(i18n.LANGUAGES)}"
        )
    target = back if back.startswith("/") and not back.startswith(("//", "/\\")) else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(i18n.COOKIE, language, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    """The icon browsers ask every page for (without it, a 404 on each page's console)."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


@router.get("/", response_class=HTMLResponse)
def home(store: StoreDep, clinic: ClinicDep) -> HTMLResponse:
    return _page(
        "home.html",
        cases=store.all(),
        knowledge=clinic.knowledge,
        contexts=CONTEXT_LABELS,
        title=_("Cases"),
    )


@router.get("/cases/new", response_class=HTMLResponse)
def new_case(
    clinic: ClinicDep, context: str = "pregnancy", rows: int = OBSERVATION_ROWS
) -> HTMLResponse:
    if context not in {c.value for c in Context}:
        raise HTTPException(404, f"no context {context!r}")
    return _form_page(clinic, rows=max(1, min(rows, MAX_ROWS)), context=context)


def _rows_typed(pairs: list[tuple[str, str]]) -> int:
    """How many result rows the submitted form had (at least the default)."""
    numbers = re.findall(r"observations\[(\d+)\]", " ".join(k for k, _ in pairs))
    return max(OBSERVATION_ROWS, 1 + max((int(m) for m in numbers), default=0))


@router.post("/cases", response_class=HTMLResponse)
async def create_case(request: Request, clinic: ClinicDep, store: StoreDep) -> Response:
    pairs = await _pairs(request)
    raw, remap, problems = _check(clinic, pairs)
    if problems:
        errors = errors_by_field(problems, remap)
        summary = [f"{remap.to_form(p['field'])}: {p['message']}" for p in problems]
        return _form_page(clinic, dict(pairs), errors, summary, status=422, rows=_rows_typed(pairs))
    key = store.add(raw, "form", clinic.assess(raw))
    return RedirectResponse(f"/cases/{key}", status_code=303)


@router.post("/cases/new", response_class=HTMLResponse)
async def more_rows(request: Request, clinic: ClinicDep) -> HTMLResponse:
    """ "More rows": the same form with everything typed so far, and eight more result rows."""
    pairs = await _pairs(request)
    values = dict(pairs)
    action = values.get("_action", "/cases")
    if not re.fullmatch(r"/cases(/\d+/edit)?", action):
        action = "/cases"
    rows = min(_rows_typed(pairs) + OBSERVATION_ROWS, MAX_ROWS)
    return _form_page(clinic, values, rows=rows, action=action)


@router.post("/cases/validate", response_class=HTMLResponse)
async def validate_case(request: Request, clinic: ClinicDep) -> HTMLResponse:
    """htmx: the parser's messages for the form as typed so far (same wording as the CLI)."""
    pairs = await _pairs(request)
    _, remap, problems = _check(clinic, pairs)
    errors = errors_by_field(problems, remap)
    summary = [f"{remap.to_form(p['field'])}: {p['message']}" for p in problems]
    # Every case field of the form has an error target; the form's own "_" fields are no case's.
    names = sorted({k for k, _ in pairs if not k.startswith("_")} | set(errors))
    return _page("_validation.html", summary=summary, errors=errors, names=names, slug=_slug)


@router.post("/cases/upload", response_class=HTMLResponse)
async def upload_case(
    clinic: ClinicDep,
    store: StoreDep,
    file: Annotated[UploadFile, File()],
    context: Annotated[str, Form()] = "pregnancy",
) -> Response:
    data = await file.read(DEFAULT_LIMITS.max_bytes + 1)  # the parser refuses one byte more
    name = file.filename or "case.yaml"
    unmapped: list[str] = []
    try:
        raw = read_case_text(data, name)
        if isinstance(raw, dict) and raw.get("resourceType") == "Bundle":
            from cmvcds.adapters.fhir.mapping import bundle_to_case

            mapped = bundle_to_case(
                raw, clinic.knowledge, context=context, assessed_on=clinic.today()
            )
            raw = mapped.case
            unmapped = [
                *(
                    _("Not used from %(file)s: %(line)s", file=name, line=i18n.said(line))
                    for line in (*mapped.foreign, *mapped.ignored, *mapped.unmapped)
                ),
                # an assumption made while reading is not something left out (debt22)
                *(
                    _("Read from %(file)s, assumed: %(note)s", file=name, note=i18n.said(n))
                    for n in mapped.notes
                ),
            ]
        clinic.parse(raw)
    except InputError as error:
        # a whole-Bundle refusal (two patients, none) is a Reason: said in the page's language
        lines = [f"{p['field']}: {i18n.said(p['message'])}" for p in problems_of(error)]
        return _page(
            "home.html",
            422,
            cases=store.all(),
            knowledge=clinic.knowledge,
            upload_errors=lines,
            contexts=CONTEXT_LABELS,
            title=_("Cases"),
        )
    key = store.add(raw, f"upload:{name}"[:40], clinic.assess(raw))
    if unmapped:  # shown once, with the assessment: what of the Bundle was not used, and why
        return case_page(key, clinic, store, notices=unmapped)
    return RedirectResponse(f"/cases/{key}", status_code=303)


def _stored_or_404(store: CaseStore, key: int) -> StoredCase:
    """The stored case ``key``, or 404."""
    stored = store.get(key)
    if stored is None:
        raise HTTPException(404, f"no case {key}")
    return stored


@router.get("/cases/{key}/edit", response_class=HTMLResponse)
def edit_case(key: int, clinic: ClinicDep, store: StoreDep) -> HTMLResponse:
    """The case's form, filled with its current state, with empty rows to add results."""
    stored = _stored_or_404(store, key)
    values = raw_to_form(stored.raw) | {BASE_FIELD: str(store.latest_version(key))}
    rows = _rows(values, "observations", OBSERVATION_ROWS, spare=OBSERVATION_ROWS)
    return _form_page(clinic, values, rows=rows, action=f"/cases/{key}/edit")


def _stale_edit(
    clinic: Clinic, store: CaseStore, key: int, typed: dict[str, str], base: int
) -> HTMLResponse:
    """409: the case changed since the form was opened; the editor's changes re-applied on the
    latest version, with what changed meanwhile, to check and save again (nothing saved)."""
    versions = store.versions(key)
    opened = next((v.raw for v in versions if v.version == base), {})
    merged = reapply(raw_to_form(opened), raw_to_form(versions[-1].raw), typed)
    merged.values[BASE_FIELD] = str(versions[-1].version)
    rows = _rows(merged.values, "observations", OBSERVATION_ROWS, spare=1)
    return _form_page(clinic, merged.values, status=409, rows=rows, action=f"/cases/{key}/edit",
                      conflict=merged)  # fmt: skip


def _unversioned_edit(
    clinic: Clinic, store: CaseStore, key: int, typed: dict[str, str]
) -> HTMLResponse:
    """422: the form does not say which version it was opened from, so whether it would undo a
    change saved meanwhile is unknown; nothing is saved. The form comes back with what was typed
    on the latest version, each difference from it listed, to check and save again."""
    latest = store.versions(key)[-1]
    merged = reapply(raw_to_form(latest.raw), raw_to_form(latest.raw), typed)
    merged.values[BASE_FIELD] = str(latest.version)
    summary = [
        _("Not saved: the form does not say which version of the case it was opened from. "
          "Check these changes to the latest version and save again."),
        *(f"{name}: {old or '—'} → {new or '—'}" for name, old, new in merged.mine),
    ]  # fmt: skip
    rows = _rows(merged.values, "observations", OBSERVATION_ROWS, spare=1)
    return _form_page(clinic, merged.values, None, summary, 422, rows, action=f"/cases/{key}/edit")


@router.post("/cases/{key}/edit", response_class=HTMLResponse)
async def save_case(key: int, request: Request, clinic: ClinicDep, store: StoreDep) -> Response:
    """Save the edited case as its next version, with the assessment it now gives; a form
    opened from an older version than the latest is refused (409, ``case_conflict``)."""
    _stored_or_404(store, key)
    pairs = await _pairs(request)
    typed = dict(pairs)
    base = base_version(typed)
    if base is None:
        return _unversioned_edit(clinic, store, key, typed)
    if base != store.latest_version(key):
        return _stale_edit(clinic, store, key, typed, base)
    raw, remap, problems = _check(clinic, pairs)
    if problems:
        errors = errors_by_field(problems, remap)
        summary = [f"{remap.to_form(p['field'])}: {p['message']}" for p in problems]
        action = f"/cases/{key}/edit"
        return _form_page(
            clinic, dict(pairs), errors, summary, 422, _rows_typed(pairs), action=action
        )
    change = typed.get("_change", "").strip() or "edited"
    try:
        store.save_version(key, raw, clinic.assess(raw), change, expected=base)
    except StaleVersion:  # saved by someone else between the check above and this save
        return _stale_edit(clinic, store, key, typed, base)
    return RedirectResponse(f"/cases/{key}", status_code=303)


@router.post("/cases/{key}/reassess", response_class=HTMLResponse)
def reassess_case(key: int, clinic: ClinicDep, store: StoreDep) -> Response:
    """Assess the case again with the knowledge in force and keep that as a version."""
    stored = _stored_or_404(store, key)
    try:
        assessment = clinic.assess(stored.raw)
    except InputError:
        return RedirectResponse(f"/cases/{key}", status_code=303)  # the page names the problems
    store.save_version(key, stored.raw, assessment, "re-assessed")
    return RedirectResponse(f"/cases/{key}#versions", status_code=303)


@router.get("/cases/{key}/versions/{number}", response_class=HTMLResponse)
def case_version(key: int, number: int, store: StoreDep) -> HTMLResponse:
    """A saved version as it was assessed then, with the knowledge version that assessed it."""
    stored = _stored_or_404(store, key)
    version = next((v for v in store.versions(key) if v.version == number), None)
    if version is None:
        raise HTTPException(404, f"case {key} has no version {number}")
    parts = assessment_parts(version.assessment, version.raw) if version.assessment else {}
    return _page(
        "case_version.html",
        stored=stored,
        version=version,
        title=_("Case %(id)s, version %(number)s", id=stored.case_id, number=number),
        **parts,
    )


@router.get("/cases/{key}", response_class=HTMLResponse)
def show_case(key: int, clinic: ClinicDep, store: StoreDep) -> HTMLResponse:
    return case_page(key, clinic, store)


def case_page(
    key: int,
    clinic: Clinic,
    store: CaseStore,
    notices: list[str] | None = None,
    smart_reload: bool = False,
) -> HTMLResponse:
    """The assessment page of case ``key``, with ``notices`` said once above it (not from the
    query string: only the server's own code gives them) and, for a SMART launch's session, the
    button that reads the record again from the EHR."""
    stored = _stored_or_404(store, key)
    try:
        doc = clinic.assess(stored.raw)
    except InputError as error:
        lines = [f"{p['field']}: {p['message']}" for p in shown_problems(error)]
        return _page(
            "case_invalid.html",
            422,
            stored=stored,
            lines=lines,
            title=_("Case %(id)s", id=stored.case_id),
        )
    return _page(
        "assessment.html",
        stored=stored,
        versions=store.versions(key),
        notices=notices or [],
        smart_reload=smart_reload,
        title=_("Assessment %(id)s", id=stored.case_id),
        **assessment_parts(doc, stored.raw),
    )


@router.get("/cases/{key}/assessment.json")
def case_json(key: int, clinic: ClinicDep, store: StoreDep) -> Response:
    stored = _stored_or_404(store, key)
    return Response(
        json.dumps(clinic.assess(stored.raw), indent=2, ensure_ascii=False),
        media_type="application/json",
    )


@router.get("/cases/{key}/assessment.pdf")
def case_pdf(key: int, clinic: ClinicDep, store: StoreDep) -> Response:
    """The printable assessment as PDF, printed by headless chromium (print CSS applies)."""
    stored = _stored_or_404(store, key)
    html = assessment_html(clinic.assess(stored.raw), stored.raw)
    return _pdf(html, f"cmvcds-{stored.case_id}.pdf", "inline")


@router.get("/cases/{key}/calendar.ics")
def case_calendar(key: int, clinic: ClinicDep, store: StoreDep) -> Response:
    """The assessment's monitoring schedule as an iCalendar file (all-day events)."""
    stored = _stored_or_404(store, key)
    headers = {"Content-Disposition": f'attachment; filename="cmvcds-{_slug(stored.case_id)}.ics"'}
    return Response(
        calendar_ics(clinic.assess(stored.raw), key),
        media_type="text/calendar; charset=utf-8",
        headers=headers,
    )


def _pregnancy_case(key: int, clinic: Clinic, store: CaseStore) -> tuple[Case, dict[str, Any]]:
    """A stored case that carries a pregnancy, parsed, and its assessment (404 otherwise)."""
    stored = _stored_or_404(store, key)
    case = clinic.parse(stored.raw)
    if case.context is not Context.PREGNANCY:
        raise HTTPException(404, "the Law 648/96 dossier exists for pregnancy cases only")
    return case, clinic.assess_case(case)


#: The status of the page shown instead of a dossier, its PDF or its consent form for a case that
#: does not qualify: the request conflicts with the case's assessment.
NOT_ELIGIBLE = 409


def _not_eligible(key: int, case: Case, document: dict[str, Any]) -> HTMLResponse | None:
    """The page saying why no dossier (PDF, consent form) is made, when valacyclovir is not
    recommended for the case (409); None when it is."""
    if dossier_refusal(document) is None:
        return None
    html = refusal_html(document, case, back=f"/cases/{key}")
    return HTMLResponse(html, NOT_ELIGIBLE, headers={"Cache-Control": "no-store"})


async def _typed_fields(request: Request) -> PrintFields:
    """The identification typed on the dossier page (a POST body: never in a URL, a log or the
    store); nothing on a GET."""
    if request.method != "POST":
        return PrintFields()
    return PrintFields.from_form(dict(await _pairs(request)))


def _dossier_page(
    key: int, clinic: Clinic, document: dict[str, Any], case: Case, typed: PrintFields
) -> HTMLResponse:
    """The dossier page with its form: printed with ``typed`` when every field is printable,
    else (422) printed without them and the form redrawn with what was typed (echoed back to
    the user who typed it: never stored or logged) and each field to correct marked."""
    refused = typed.problems(case)
    fields = PrintFields() if refused else typed
    html = dossier_html(document, case, clinic.knowledge, fields, f"/cases/{key}/dossier",
                        refused=refused, typed=typed)  # fmt: skip
    return HTMLResponse(html, 422 if refused else 200, headers={"Cache-Control": "no-store"})


def _pdf(html: str, filename: str, disposition: str = "attachment") -> Response:
    """``html`` printed as PDF by chromium (503 without it): a document to file (the dossier) is
    downloaded as an ``attachment``; one to read (the assessment) opens ``inline`` in a tab."""
    try:
        pdf = html_to_pdf(html)
    except NotAvailable as error:
        raise HTTPException(503, str(error)) from None
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.api_route("/cases/{key}/dossier", methods=["GET", "POST"], response_class=HTMLResponse)
async def case_dossier(
    key: int, request: Request, clinic: ClinicDep, store: StoreDep
) -> HTMLResponse:
    """The Law 648/96 dossier the prescribing physician files (printable), with the form that
    prints the patient's identification, hospital, ward and prescriber into it."""
    case, document = _pregnancy_case(key, clinic, store)
    if (refused := _not_eligible(key, case, document)) is not None:
        return refused
    return _dossier_page(key, clinic, document, case, await _typed_fields(request))


@router.api_route("/cases/{key}/dossier.pdf", methods=["GET", "POST"])
async def case_dossier_pdf(
    key: int, request: Request, clinic: ClinicDep, store: StoreDep
) -> Response:
    """The dossier as PDF, printed by headless chromium (with the identification typed); an
    unprintable identification gets the dossier page back with what to correct (422)."""
    case, document = _pregnancy_case(key, clinic, store)
    if (refused := _not_eligible(key, case, document)) is not None:
        return refused
    fields = await _typed_fields(request)
    if fields.problems(case):
        return _dossier_page(key, clinic, document, case, fields)
    html = dossier_html(document, case, clinic.knowledge, fields)
    return _pdf(html, f"cmvcds-648-dossier-{case.id}.pdf")


@router.api_route("/cases/{key}/consent", methods=["GET", "POST"], response_class=HTMLResponse)
async def case_consent(
    key: int, request: Request, clinic: ClinicDep, store: StoreDep, lang: str = "it"
) -> HTMLResponse:
    """The patient information sheet and the written informed-consent form: Italian first,
    English on request (``lang``), whatever the language of the pages."""
    case, document = _pregnancy_case(key, clinic, store)
    if (refused := _not_eligible(key, case, document)) is not None:
        return refused  # in the page's language: it is for the physician, not to be signed
    fields = await _typed_fields(request)
    if fields.problems(case):  # the dossier page again, with what to correct (422)
        return _dossier_page(key, clinic, document, case, fields)
    with in_language(lang):
        html = consent_html(document, case, fields, back=f"/cases/{key}")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


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
    stored = _stored_or_404(store, key)
    text = yaml.safe_dump(stored.raw, sort_keys=False, allow_unicode=True)
    return Response(text, media_type="application/yaml")


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
        errors = [f"{p['field']}: {p['message']}" for p in shown_problems(error)]
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


@router.get("/resistance", response_class=HTMLResponse)
def resistance_form() -> HTMLResponse:
    return _page("resistance.html", v={}, result=None, errors=[], title=_("Resistance report"))


async def _resistance_form(
    request: Request, clinic: Clinic
) -> tuple[dict[str, str], Callable[[], dict[str, Any]]]:
    """The form's values and the computation of its ``cmvcds-resistance/1`` document."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("sequence")
    data = b""
    if upload is not None and not isinstance(upload, str):
        data = await upload.read()
    mutations = [m for m in re.split(r"[,;\s]+", values.get("mutations", "")) if m]
    genes = [g for g in re.split(r"[,;\s]+", values.get("genes_tested", "")) if g]

    def answer() -> dict[str, Any]:
        query: dict[str, Any] = {
            "genes_tested": genes or None,
            "threshold": _threshold_percent(values.get("threshold", "")),
            "sample": values.get("sample", "").strip() or None,
            "virus": _virus(values.get("virus", "")),
        }
        if data.strip():
            from cmvcds.engine.resistance import read_upload

            kind, sequence = read_upload(data)
            return clinic.resistance(query | {kind: sequence})
        if not mutations:
            raise InputError(
                "give mutations (e.g. UL97:M460V) or a FASTA or VCF file", field="mutations"
            )
        return clinic.resistance(query | {"mutations": mutations})

    return values, answer


@router.post("/resistance", response_class=HTMLResponse)
async def resistance_page(request: Request, clinic: ClinicDep) -> HTMLResponse:
    """A mutation list, or a FASTA or VCF file, gzip or not (told apart by content, issue 18)."""
    values, answer = await _resistance_form(request, clinic)
    return _answer_page("resistance.html", "Resistance report", values, answer)


async def _resistance_download(
    request: Request, clinic: Clinic, render_file: Callable[[dict[str, Any]], Response]
) -> Response:
    """The form's report as a file; input problems (or no chromium) give the form page."""
    values, answer = await _resistance_form(request, clinic)
    try:
        document = answer()
    except InputError:
        return _answer_page("resistance.html", "Resistance report", values, answer)
    try:
        return render_file(document)
    except NotAvailable as error:
        return _page(
            "resistance.html",
            200,
            v=values,
            result=document,
            errors=[],
            unavailable=str(error),
            title=_("Resistance report"),
        )


@router.post("/resistance/report.pdf")
async def resistance_pdf(request: Request, clinic: ClinicDep) -> Response:
    """The resistance report of the form as a PDF to sign (the printable report, by chromium)."""
    from cmvcds.adapters.report.resistance_html import resistance_html

    def pdf(document: dict[str, Any]) -> Response:
        content = html_to_pdf(resistance_html(document, clinic.knowledge))
        headers = {"Content-Disposition": 'attachment; filename="cmvcds-resistance.pdf"'}
        return Response(content, media_type="application/pdf", headers=headers)

    return await _resistance_download(request, clinic, pdf)


@router.post("/resistance/lollipop.svg")
async def resistance_svg(request: Request, clinic: ClinicDep) -> Response:
    """The lollipop plots of the form's report (mutations over each gene, with frequency)."""
    from cmvcds.adapters.report.resistance_html import lollipop_svg

    def svg(document: dict[str, Any]) -> Response:
        headers = {"Content-Disposition": 'attachment; filename="cmvcds-lollipop.svg"'}
        content = lollipop_svg(document, clinic.knowledge)
        return Response(content, media_type="image/svg+xml", headers=headers)

    return await _resistance_download(request, clinic, svg)


def _virus(text: str) -> str:
    """The virus chosen on the form (``cmv`` when none); anything else is refused by name."""
    key = text.strip().lower() or "cmv"
    if key not in ("cmv", "hsv1", "hsv2", "vzv"):
        raise InputError(f"{text!r} is not a virus of the report", field="virus")
    return key


def _threshold_percent(text: str) -> float | None:
    """The reporting threshold typed as a percentage (``10`` or ``10 %``), as a fraction."""
    if not text.strip():
        return None
    try:
        value = float(text.strip().rstrip("%").strip().replace(",", "."))
    except ValueError:
        raise InputError(f"{text!r} is not a percentage", field="threshold") from None
    if not 0 < value <= 100:
        raise InputError(f"{text!r}: the threshold lies in (0, 100] %", field="threshold")
    return value / 100
