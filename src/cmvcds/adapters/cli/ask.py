"""``cmvcds ask "QUESTION" [--audience clinician|patient] [--case CASE] [--format text|json]``.

The answer engine is built once per process (``answer_engine()``; the web app shares it). The
sentence vectors of the knowledge statements are cached on disk, one file per model, keyed by
each text, under ``$CMVCDS_CACHE_DIR`` (default ``~/.cache/cmvcds``): the first run embeds every
statement, later runs only read them. A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from cmvcds.adapters.cli.common import (
    emit,
    exits_on_error,
    knowledge_pack,
    load_case,
    read_settings,
)
from cmvcds.assess import assess
from cmvcds.engine.answers import AnswerEngine, default_embedder
from cmvcds.knowledge import Knowledge

__all__ = ["answer_engine", "ask", "render_text"]


class Audience(StrEnum):
    CLINICIAN = "clinician"
    PATIENT = "patient"


class AskFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _cache_file(model: str) -> Path:
    """One file per model; it holds the vectors of the current statements, keyed by their text."""
    root = Path(os.environ.get("CMVCDS_CACHE_DIR") or Path.home() / ".cache" / "cmvcds")
    tag = hashlib.sha256(model.encode()).hexdigest()[:16]
    return root / f"answer-vectors-{tag}.npz"


def build_engine(knowledge: Knowledge, *, semantic: bool = True) -> AnswerEngine:
    """An engine for ``knowledge``, with the packaged embedding model and the vector cache."""
    embedder = default_embedder() if semantic else None
    if embedder is None:
        return AnswerEngine(knowledge)
    path = _cache_file(embedder.name)
    vectors: dict[str, Any] = {}
    try:
        with np.load(path) as stored:
            vectors = {key: stored[key] for key in stored.files}
    except (OSError, ValueError):
        vectors = {}
    engine = AnswerEngine(knowledge, embedder, vectors)
    computed = engine.vectors()
    if set(computed) != set(vectors):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, **computed)  # type: ignore[arg-type]  # numpy stub: keyword arrays
            tmp.replace(path)
        except OSError:
            pass
    return engine


@cache
def answer_engine() -> AnswerEngine:
    """The process-wide engine of the configured knowledge pack (built on first use)."""
    return build_engine(knowledge_pack())


def ask(
    question: Annotated[
        str, typer.Argument(help="The question, in English or Italian.", show_default=False)
    ],
    audience: Annotated[
        Audience, typer.Option("--audience", help="Wording for a clinician or a patient.")
    ] = Audience.CLINICIAN,
    case: Annotated[
        Path | None, typer.Option("--case", help="Personalise with this case file (cmvcds-case/1).")
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option("--settings", help="Site settings file (default: $CMVCDS_SETTINGS)."),
    ] = None,
    format: Annotated[AskFormat, typer.Option("--format", help="Output format.")] = AskFormat.TEXT,
) -> None:
    """Answer a clinical question from cited, reviewed knowledge (or say it is not covered)."""
    with exits_on_error():
        knowledge = knowledge_pack()
        assessment = None
        if case is not None:
            parsed = load_case(case, knowledge)
            assessment = assess(
                parsed, knowledge, settings=read_settings(settings, knowledge)
            ).to_dict()
        document = answer_engine().ask(question, audience.value, assessment)
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
            lines += wrap(f"{statement['text']} {refs}{flag}", "    ", "  • ")
    if document.get("ask_doctor"):
        lines += ["", "QUESTIONS TO ASK YOUR DOCTOR"] + [f"  • {a}" for a in document["ask_doctor"]]
    if document["references"]:
        lines += ["", "REFERENCES"]
        for ref in document["references"]:
            flag = " (not yet verified)" if not ref["verified"] else ""
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
