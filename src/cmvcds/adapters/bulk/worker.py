"""Assess one chunk of NDJSON lines: what a bulk worker runs, in any process or on any machine.

A chunk is a list of ``(line_number, bytes)``; the answer is one output line per input line, in
order: the ``cmvcds-assessment/1`` JSON of ``assess()`` for a case that parses, else a
``cmvcds-bulk-error/1`` record naming the line and the one-line problem (design.md §4). The
knowledge pack and the site settings are loaded once per worker process (``prepare``, the pool
initializer) and kept in this module, so a chunk carries only text.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from cmvcds.adapters.bulk.duplicates import Earlier, digest
from cmvcds.assess import Assessment, assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.documents import DEFAULT_LIMITS, parse_document
from cmvcds.domain.plain import plain
from cmvcds.domain.settings import SiteSettings, parse_settings
from cmvcds.errors import CmvcdsError, InputError
from cmvcds.knowledge import Knowledge, load_knowledge

__all__ = [
    "ERROR_FORMAT",
    "Job",
    "Outcome",
    "TooLarge",
    "assess_chunk",
    "assess_line",
    "by_name",
    "duplicate",
    "prepare",
]

ERROR_FORMAT = "cmvcds-bulk-error/1"


@dataclass(frozen=True)
class Job:
    """What every chunk of one run shares: the knowledge and settings, and today.

    A job names its settings by their *content* (``settings_text``, the bytes the run was
    started with) and its pack by its SHA-256 (``pack_sha256``), not only by path: a worker
    that outlives a run (a Dask worker of a standing cluster) keeps what it loaded per job, so a
    settings file edited at the same path, or another pack at the same ``$CMVCDS_KNOWLEDGE``,
    must make a different job — never a stale answer under the new run's name."""

    today: date
    knowledge_path: str | None = None
    #: Where the settings came from: named in messages; read only when no text is given.
    settings_path: str | None = None
    #: Set for a FHIR Bulk Data export: each line is one patient's resources, mapped to a case
    #: of this context (the export does not say which clinical context a patient is seen in).
    fhir_context: str | None = None
    #: The settings file's bytes as the run read them (the CLI sets it).
    settings_text: bytes | None = None
    #: The SHA-256 of the pack the run was started with; a worker whose pack differs refuses.
    pack_sha256: str | None = None


@dataclass(frozen=True)
class Outcome:
    """One input line's output line, and what the summary counts from it."""

    line: int
    text: str
    decisions: tuple[tuple[str, str], ...] = ()
    alerts: tuple[str, ...] = ()
    error: bool = False
    #: The case id of an assessed line, and a digest of the line (``duplicates``): a later line
    #: with the same id is refused by the process that writes the output.
    case_id: str | None = None
    digest: int = 0


@dataclass(frozen=True)
class TooLarge:
    """A line longer than a case may be, in place of its text: the reader skips its bytes
    instead of holding them (one unterminated multi-gigabyte line must not fill the memory),
    and the worker refuses it with the words a case file that size gets."""

    size: int


_LOADED: dict[Job, tuple[Knowledge, SiteSettings]] = {}
#: Jobs kept per process: a standing worker serves run after run; the oldest is let go.
_KEPT = 4


_LOADING = threading.Lock()


def pinned(job: Job) -> Job:
    """``job`` naming its settings by their bytes and its pack by its SHA-256, read here, once,
    by the process that starts the run: a job built with paths only would otherwise be loaded
    by path on a worker that outlives the run, and answer with an earlier run's settings."""
    if job.settings_text is None and job.settings_path is not None:
        job = replace(job, settings_text=Path(job.settings_path).read_bytes())
    if job.pack_sha256 is None:
        job = replace(job, pack_sha256=load_knowledge(job.knowledge_path).sha256)
    return job


def prepare(job: Job) -> tuple[Knowledge, SiteSettings]:
    """The knowledge and settings of ``job``, loaded (and validated) once per process (under a
    lock: a Dask worker runs chunks on several threads)."""
    with _LOADING:
        return _prepare(job)


def _prepare(job: Job) -> tuple[Knowledge, SiteSettings]:
    found = _LOADED.get(job)
    if found is None:
        knowledge = load_knowledge(job.knowledge_path)
        if job.pack_sha256 is not None and knowledge.sha256 != job.pack_sha256:
            raise InputError(
                f"this worker's knowledge pack (version {knowledge.version}, SHA-256 "
                f"{knowledge.sha256[:12]}…) is not the one the run was started with (SHA-256 "
                f"{job.pack_sha256[:12]}…); install the same pack on every worker"
            )
        settings = SiteSettings()
        data = job.settings_text
        if data is None and job.settings_path is not None:
            data = Path(job.settings_path).read_bytes()
        if data is not None:
            origin = job.settings_path or "settings"
            raw = parse_document(data, origin, "yaml")
            settings = parse_settings(raw, knowledge, origin=origin)
        while len(_LOADED) >= _KEPT:
            del _LOADED[next(iter(_LOADED))]
        found = _LOADED[job] = (knowledge, settings)
    return found


def assess_line(
    number: int,
    text: bytes | str | TooLarge,
    knowledge: Knowledge,
    settings: SiteSettings,
    job: Job,
) -> Outcome:
    """The outcome of one NDJSON line; never raises for a bad case, says why on the line."""
    case_id: Any = None
    if isinstance(text, TooLarge):
        limit = DEFAULT_LIMITS.max_bytes
        return _error(
            number,
            None,
            f"line {number}: larger than the {limit:,} bytes accepted ({text.size:,})",
            job,
        )
    fhir: dict[str, list[str]] = {}
    line_digest = digest(text)
    try:
        raw = parse_document(text, f"line {number}", "json")
        if job.fhir_context is not None:
            case_id = _patient_id(raw)
            raw, fhir = _from_fhir(raw, knowledge, job, case_id)
        if isinstance(raw, dict):
            case_id = raw.get("id")
        case = parse_case(raw, knowledge, today=job.today)
        assessment = assess(case, knowledge, settings=settings)
        text = _json_line(assessment, fhir)
    except CmvcdsError as error:
        problems = getattr(error, "problems", None) or [str(error)]
        return _error(number, case_id, "; ".join(problems), job)
    except Exception as error:  # a bug on one case must not stop a population run: say it
        return _error(number, case_id, f"internal error: {type(error).__name__}: {error}", job)
    result = assessment.result
    return Outcome(
        number,
        text,
        tuple((plain(d.id), plain(d.outcome)) for d in result.decisions),
        tuple(plain(a.code) for a in result.alerts),
        case_id=case_id if isinstance(case_id, str) else None,
        digest=line_digest,
    )


def _json_line(assessment: Assessment, fhir: dict[str, list[str]]) -> str:
    """The assessment's document (with ``fhir`` when it says something) as one compact JSON
    line: written by orjson from the result values (``Assessment.to_json``: the bytes of
    ``orjson.dumps(to_dict())`` at a fraction of the cost, issue 20); by the standard library
    where orjson refuses (an integer beyond 64 bits): the same JSON values, a number's spelling
    may differ (``1.5e-7`` for ``1.5e-07``)."""
    extra = {"fhir": fhir} if fhir else {}
    try:
        return assessment.to_json(extra).decode()
    except TypeError:
        document = assessment.to_dict() | extra
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def assess_chunk(job: Job, lines: list[tuple[int, bytes | TooLarge]]) -> list[Outcome]:
    """The outcomes of ``lines`` in order, with the worker's once-loaded knowledge."""
    knowledge, settings = prepare(job)
    return [assess_line(n, text, knowledge, settings, job) for n, text in lines]


def _patient_id(resources: Any) -> str | None:
    for resource in resources if isinstance(resources, list) else ():
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            found = resource.get("id")
            return found if isinstance(found, str) else None
    return None


def by_name(resources: Any) -> dict[str, Any]:
    """The resources keyed ``Type/id``, so that what the mapping says of one names it (an index
    in the spooled list would mean nothing to the reader)."""
    named: dict[str, Any] = {}
    for i, resource in enumerate(resources if isinstance(resources, list) else [resources]):
        kind = resource.get("resourceType", "?") if isinstance(resource, dict) else "?"
        ident = resource.get("id") if isinstance(resource, dict) else None
        name = f"{kind}/{ident}" if isinstance(ident, str) else f"{kind}#{i + 1}"
        named[name if name not in named else f"{name}#{i + 1}"] = resource
    return named


def _from_fhir(
    resources: Any, knowledge: Knowledge, job: Job, patient: str | None
) -> tuple[Any, dict[str, list[str]]]:
    """One patient's exported resources as a case, and what of them was not used or assumed
    (``fhir.not_used``, ``fhir.assumed``: every resource is used by a rule or said not to be)."""
    from cmvcds.adapters.fhir.mapping import bundle_to_case

    assert job.fhir_context is not None
    mapped = bundle_to_case(
        by_name(resources),
        knowledge,
        context=job.fhir_context,
        assessed_on=job.today,
        case_id=patient,
        patient=patient,
    )
    said: dict[str, list[str]] = {}
    if mapped.foreign or mapped.ignored or mapped.unmapped:
        said["not_used"] = [*mapped.foreign, *mapped.ignored, *mapped.unmapped]
    if mapped.notes:
        said["assumed"] = list(mapped.notes)
    return mapped.case, said


def duplicate(outcome: Outcome, earlier: Earlier) -> Outcome:
    """The refusal of an assessed line whose case id an earlier assessed line had."""
    same = "an identical line" if earlier.identical else "a line with different content"
    record = {
        "format": ERROR_FORMAT,
        "line": outcome.line,
        "case_id": outcome.case_id,
        "error": f"duplicate case id {outcome.case_id!r}: {same} with this id is line "
        f"{earlier.line}, assessed there; not assessed again (each case is counted once: "
        "correct the input and run it again)",
        "duplicate_of": earlier.line,
    }
    return Outcome(outcome.line, json.dumps(record, ensure_ascii=False), error=True)


def _error(number: int, case_id: Any, problem: str, job: Job) -> Outcome:
    record: dict[str, Any] = {"format": ERROR_FORMAT, "line": number}
    if job.fhir_context is not None:  # the number is the patient's rank; the patient says more
        record = {"format": ERROR_FORMAT, "source": f"Patient/{case_id}", "line": None}
    record["case_id"] = case_id if isinstance(case_id, str) else None
    record["error"] = " ".join(problem.split())
    return Outcome(number, json.dumps(record, ensure_ascii=False), error=True)
