"""Assess one chunk of NDJSON lines: what a bulk worker runs, in any process or on any machine.

A chunk is a list of ``(line_number, bytes)``; the answer is one output line per input line, in
order: the ``cmvcds-assessment/1`` JSON of ``assess()`` for a case that parses, else a
``cmvcds-bulk-error/1`` record naming the line and the one-line problem (design.md §4). The
knowledge pack and the site settings are loaded once per worker process (``prepare``, the pool
initializer) and kept in this module, so a chunk carries only text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.documents import parse_document
from cmvcds.domain.settings import SiteSettings, parse_settings
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge import Knowledge, load_knowledge

__all__ = ["ERROR_FORMAT", "Job", "Outcome", "assess_chunk", "assess_line", "prepare"]

ERROR_FORMAT = "cmvcds-bulk-error/1"


@dataclass(frozen=True)
class Job:
    """What every chunk of one run shares: where the knowledge and settings are, and today."""

    today: date
    knowledge_path: str | None = None
    settings_path: str | None = None


@dataclass(frozen=True)
class Outcome:
    """One input line's output line, and what the summary counts from it."""

    line: int
    text: str
    decisions: tuple[tuple[str, str], ...] = ()
    alerts: tuple[str, ...] = ()
    error: bool = False


_LOADED: dict[Job, tuple[Knowledge, SiteSettings]] = {}


def prepare(job: Job) -> tuple[Knowledge, SiteSettings]:
    """The knowledge and settings of ``job``, loaded (and validated) once per process."""
    found = _LOADED.get(job)
    if found is None:
        knowledge = load_knowledge(job.knowledge_path)
        settings = SiteSettings()
        if job.settings_path is not None:
            data = Path(job.settings_path).read_bytes()
            raw = parse_document(data, job.settings_path, "yaml")
            settings = parse_settings(raw, knowledge, origin=job.settings_path)
        found = _LOADED[job] = (knowledge, settings)
    return found


def assess_line(
    number: int, text: bytes | str, knowledge: Knowledge, settings: SiteSettings, today: date
) -> Outcome:
    """The outcome of one NDJSON line; never raises for a bad case, says why on the line."""
    case_id: Any = None
    try:
        raw = parse_document(text, f"line {number}", "json")
        if isinstance(raw, dict):
            case_id = raw.get("id")
        case = parse_case(raw, knowledge, today=today)
        document = assess(case, knowledge, settings=settings).to_dict()
    except CmvcdsError as error:
        problems = getattr(error, "problems", None) or [str(error)]
        return _error(number, case_id, "; ".join(problems))
    except Exception as error:  # a bug on one case must not stop a population run: say it
        return _error(number, case_id, f"internal error: {type(error).__name__}: {error}")
    return Outcome(
        number,
        json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        tuple((d["id"], d["outcome"]) for d in document["decisions"]),
        tuple(a["code"] for a in document["alerts"]),
    )


def assess_chunk(job: Job, lines: list[tuple[int, bytes]]) -> list[Outcome]:
    """The outcomes of ``lines`` in order, with the worker's once-loaded knowledge."""
    knowledge, settings = prepare(job)
    return [assess_line(n, text, knowledge, settings, job.today) for n, text in lines]


def _error(number: int, case_id: Any, problem: str) -> Outcome:
    record = {
        "format": ERROR_FORMAT,
        "line": number,
        "case_id": case_id if isinstance(case_id, str) else None,
        "error": " ".join(problem.split()),
    }
    return Outcome(number, json.dumps(record, ensure_ascii=False), error=True)
