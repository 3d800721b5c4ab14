"""The work of ``cmvcds ask``, without Typer: the Typer command (``ask``) and the console script's
fast path (``argv``) both call ``answer``, so they print the same bytes.

The answer engine is built once per process (``answer_engine()``). The
sentence vectors of the knowledge statements are cached on disk, one file per model, keyed by
each text, under ``$CMVCDS_CACHE_DIR`` (default ``~/.cache/cmvcds``): the first run embeds every
statement, later runs only read them; the built index itself is cached beside them, keyed by the
SHA-256 of what it was built from (``adapters/answer_index.py``), so a later run restores it
instead of building it. A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmvcds.adapters.cli.common import (
    emit,
    exits_on_error,
    knowledge_pack,
    load_case,
    read_settings,
)
from cmvcds.errors import InputError

if TYPE_CHECKING:
    from cmvcds.engine.answers import AnswerEngine

__all__ = ["AskFormat", "Audience", "answer", "answer_engine", "render_text"]


class Audience(StrEnum):
    CLINICIAN = "clinician"
    PATIENT = "patient"
    AUTO = "auto"  # as the question's wording tells ("I am pregnant", "sono incinta")


class AskFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@cache
def answer_engine() -> AnswerEngine:
    """The process-wide engine of the configured knowledge pack (built on first use; the
    embedding model and numpy load only then, so ``cmvcds --help`` stays fast). Statements the
    package has no prebuilt vector for are embedded with progress on stderr.

    numpy's OpenBLAS is held to one thread (``OPENBLAS_NUM_THREADS=1``, unless the user set it;
    read when numpy loads, here): an answer multiplies one 384-value vector by a few hundred
    rows, which a second thread does not speed up, while OpenBLAS starts a thread per core that
    spins waiting for work (~25 ms of CPU at import, ~100 ms over a later ``cmvcds ask`` on 2
    cores; the similarities are bit-identical)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from cmvcds.adapters.answer_index import build_engine

    return build_engine(knowledge_pack(), progress=_progress)


def _progress(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def answer(
    question: str,
    audience: Audience,
    case: Path | None,
    settings: Path | None,
    format: AskFormat,
) -> None:
    """Answer ``question`` for ``audience`` (personalised with the case file ``case``) and print
    it in ``format``; errors exit as ``exits_on_error`` says."""
    with exits_on_error():
        if settings is not None and case is None:  # settings shape a case's answer, nothing else
            raise InputError("applies to a personalised answer: give --case too", field="--settings")
        knowledge = knowledge_pack()
        assessment = None
        if case is not None:
            from cmvcds.assess import assess  # only a personalised answer needs the engine

            parsed = load_case(case, knowledge)
            assessment = assess(
                parsed, knowledge, settings=read_settings(settings, knowledge)
            ).to_dict()
        reviews = None
        if os.environ.get("CMVCDS_DATABASE_URL"):  # the registry's review status (SQLAlchemy)
            from cmvcds.adapters.review_overlay import env_reviews

            reviews = env_reviews()
        reader = None if audience is Audience.AUTO else audience.value
        document = answer_engine().ask(question, reader, assessment, reviews)
        if format is AskFormat.JSON:
            emit(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            emit(render_text(document))


def render_text(document: dict[str, Any], width: int = 96) -> str:
    """The answer as a clinician reads it in a terminal: review status first when not approved."""

    def wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
        return textwrap.wrap(
            text,
            width,
            initial_indent=first if first is not None else indent,
            subsequent_indent=indent,
        ) or [""]

    lines = [f"Q: {document['question']}", ""]
    status = document["review"]["status"]
    if document["covered"] and status != "approved":
        lines += [f"!! REVIEW STATUS: {status.upper().replace('_', ' ')} !!"]
    for notice in document.get("notices", []):
        lines += wrap(notice, "   ", "!! ")
    if lines[-1] != "":
        lines.append("")
    lines += wrap(document["summary"])
    if not document["covered"]:
        lines += [f"  - {q}" for q in document["follow_up"]]
    for section in document["sections"]:
        lines += ["", section["title"].upper()]
        for statement in section["statements"]:
            refs = "".join(f"[{n}]" for n in statement["refs"])
            flag = " (unverified)" if not statement["verified"] else ""
            if approved := statement.get("approved"):
                role = f" ({approved['role']})" if approved.get("role") else ""
                flag += f" [approved by {approved['by']}{role} on {approved['on']}]"
            lines += wrap(f"{statement['text']} {refs}{flag}", "    ", "  • ")
    if document.get("ask_doctor"):
        lines += ["", "QUESTIONS TO ASK YOUR DOCTOR"] + [f"  • {a}" for a in document["ask_doctor"]]
    if document["references"]:
        lines += ["", "REFERENCES"]
        for ref in document["references"]:
            flag = " (not yet verified)" if not ref["verified"] else ""
            if ref.get("incomplete"):
                flag += f" (reference incomplete: {', '.join(ref['incomplete'])})"
            lines += wrap(f"{ref['citation']}{flag} [{ref['id']}]", "      ", f"  {ref['n']:>2}. ")
    if document["covered"] and document["follow_up"]:
        lines += ["", "FOLLOW-UP QUESTIONS"] + [f"  ? {q}" for q in document["follow_up"]]
    k = document["knowledge"]
    lines += [
        "",
        *wrap(document["disclaimer"]),
        "",
        f"knowledge {k['version']} ({k['sha256'][:12]}) · {document['understood']['method']}",
    ]
    return "\n".join(lines)
