"""The clinical texts of an assessment and of the registry in the language of the page.

English is what the engine writes; the Italian comes from the pack's ``clinical_texts_it`` table
(``knowledge/schemas/i18n.py``, ADR 0020). A text is translated whole when a row's ``en``
matches it exactly or as a sentence shape (``{date}``, ``{n}`` match the computed values, which
are carried over unchanged, as are ``{code}`` identifiers; ``{text}`` matches a piece translated
in turn; ``{source}`` matches a citation, whose label section is worded in Italian where a row
gives it and else kept as cited); else a text made of parts joined by "; " is translated part
by part (a "; " inside parentheses does not cut). A text with no translation is shown in
English (``translate`` returns None for it: the coverage test lists those).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from cmvcds.adapters.web.i18n import DEFAULT, current_language
from cmvcds.knowledge import Knowledge, load_knowledge
from cmvcds.knowledge.schemas.translations import PLACEHOLDER, TranslationTable

__all__ = ["clinical", "document_in", "overview_in", "shown_error", "translate"]

_KIND = {
    "date": r"\d{4}-\d{2}-\d{2}",
    "n": r"-?\d+(?:[.,]\d+)*",
    "text": r".+?",
    "code": r"[\w.\-/≥≤<>²µ, ]+?",
    # a citation inside parentheses: no unbalanced parenthesis, at most one level of its own
    "source": r"[^()]+(?:\([^()]*\)[^()]*)*",
}


@dataclass(frozen=True)
class _Shape:
    pattern: re.Pattern[str]
    it: str
    names: dict[str, str]  # regex group → placeholder


@dataclass(frozen=True)
class _Catalogue:
    exact: dict[str, str]
    shapes: tuple[_Shape, ...]


def _shape(en: str, it: str) -> _Shape:
    parts, names, last = [], {}, 0
    for i, match in enumerate(PLACEHOLDER.finditer(en)):
        parts.append(re.escape(en[last : match.start()]))
        group = f"g{i}"
        names[group] = match.group(0)
        parts.append(f"(?P<{group}>{_KIND[match.group(1)]})")
        last = match.end()
    parts.append(re.escape(en[last:]))
    return _Shape(re.compile("".join(parts), re.S), it, names)


@cache
def _catalogue(sha256: str, language: str) -> _Catalogue:
    knowledge = _knowledge()
    table = knowledge.table(f"clinical_texts_{language}", TranslationTable)
    exact = {row.en: row.it for row in table.rows if not PLACEHOLDER.search(row.en)}
    shaped = [row for row in table.rows if PLACEHOLDER.search(row.en)]
    # the most specific shape first: the one with the most literal text
    shaped.sort(key=lambda row: -len(PLACEHOLDER.sub("", row.en)))
    return _Catalogue(exact, tuple(_shape(row.en, row.it) for row in shaped))


def _knowledge() -> Knowledge:
    return load_knowledge()


#: A list of CMV gene symbols only (``UL97``, ``UL54, UL27``): written the same in every language.
_GENE_LIST = re.compile(r"UL\d{1,3}(?:, UL\d{1,3})*")


def translate(text: str, language: str, depth: int = 0) -> str | None:
    """``text`` in ``language``, or None when the pack has no translation for it."""
    if language == DEFAULT or not text:
        return text
    if _GENE_LIST.fullmatch(text):  # gene symbols (a genotype item's "UL97, UL27") are the same
        return text  # in every language
    catalogue = _catalogue(_knowledge().sha256, language)
    found = catalogue.exact.get(text)
    if found is not None:
        return found
    if depth > 5:  # a hold names each count waited for: "A and B and C" nests (ADR 0031)
        return None
    for shape in catalogue.shapes:
        match = shape.pattern.fullmatch(text)
        if match is None:
            continue
        result, complete = shape.it, True
        for group, placeholder in shape.names.items():
            value = match.group(group)
            if placeholder.startswith("{text"):
                inner = translate(value, language, depth + 1)
                complete = complete and inner is not None
                value = inner if inner is not None else value
            elif placeholder.startswith("{source"):
                # the section of an English-language label, in Italian where the pack words it
                value = catalogue.exact.get(value, value)
            result = result.replace(placeholder, value)
        if complete:
            return result
    pieces = _parts(text)
    if len(pieces) > 1:
        parts = [translate(part, language, depth + 1) for part in pieces]
        if all(part is not None for part in parts):
            return "; ".join(str(part) for part in parts)
    return None


def _parts(text: str) -> list[str]:
    """``text`` cut at each "; " outside parentheses: a part that holds a "; " of its own inside
    parentheses ("no ANC since the hold (last 420 cells/uL on 2026-04-20; restart above 750)")
    stays whole."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and text.startswith("; ", i):
            parts.append(text[start:i])
            start = i + 2
    return [*parts, text[start:]]


def clinical(text: object) -> str:
    """A clinical text of the pack or engine in the page's language (English when untranslated)."""
    english = "" if text is None else str(text)
    return translate(english, current_language()) or english


def shown_error(message: str) -> str:
    """A registry error ("form: field: message; field: message") with each message in the page's
    language (the form and field names, codes, stay as they are)."""
    parts = []
    for part in re.split(r"; (?=[a-z][a-z0-9_]*: )", message):
        codes, text = _CODES.fullmatch(part).groups()  # type: ignore[union-attr]
        parts.append(codes + clinical(text))
    return "; ".join(parts)


_CODES = re.compile(r"((?:[a-z][a-z0-9_]*: )*)(.*)", re.S)


def document_in(doc: dict[str, Any], language: str) -> dict[str, Any]:
    """A copy of a ``cmvcds-assessment/1`` document whose clinical texts (decision reasons, alert
    messages, missing-data lines, regimen schedules, stop rules and holds, schedule reasons) are
    in ``language``, each in English where the pack has no translation for it. Codes, ids,
    dates, doses and citations are carried over as they are (the same document, said in
    another language: ``cmvcds assess --lang``)."""
    if language == DEFAULT:
        return doc

    def said(text: Any) -> Any:
        return translate(text, language) or text if isinstance(text, str) else text

    out = dict(doc)
    out["decisions"] = [
        {**d, "reasons": [said(r) for r in d.get("reasons") or []]} for d in doc.get("decisions") or []
    ]
    out["alerts"] = [{**a, "message": said(a.get("message"))} for a in doc.get("alerts") or []]
    out["missing"] = [{**m, "why": said(m.get("why"))} for m in doc.get("missing") or []]
    out["regimens"] = [
        {**g, **{k: said(g[k]) for k in ("schedule", "stop_rule", "held") if g.get(k)}}
        for g in doc.get("regimens") or []
    ]
    out["schedule"] = [
        {**s, **({"reason": said(s["reason"])} if s.get("reason") else {})}
        for s in doc.get("schedule") or []
    ]
    if doc.get("findings"):
        out["findings"] = _findings_in(doc["findings"], said)
    return out


#: the findings whose values are sentences (review23b: English under ``--lang it``); the fetal
#: readings' lists are translated item by item. Keys, dates and numbers are carried over.
_SENTENCE_FINDINGS = ("inputs_not_read", "intolerances_not_read")
_SIGN_FINDINGS = ("fetal_signs", "fetal_signs_before_amniocentesis")


def _findings_in(findings: dict[str, Any], said: Any) -> dict[str, Any]:
    out = dict(findings)
    for key in _SENTENCE_FINDINGS:
        if isinstance(out.get(key), str):
            out[key] = said(out[key])
    for key in _SIGN_FINDINGS:
        fetuses = out.get(key)
        if not isinstance(fetuses, dict):
            continue
        out[key] = {
            fetus: (
                {
                    name: [said(v) for v in value] if isinstance(value, list) else value
                    for name, value in reading.items()
                }
                if isinstance(reading, dict)
                else said(reading)
            )
            for fetus, reading in fetuses.items()
        }
    return out


def overview_in(doc: dict[str, Any], language: str) -> dict[str, Any]:
    """A copy of a ``cmvcds-overview/1`` document (``cmvcds explain``) whose title, section
    titles and sentences are in ``language``, each in English where the pack has no translation
    for it; citations, verification flags and the knowledge version are carried over (debt23)."""
    if language == DEFAULT:
        return doc

    def said(text: Any) -> Any:
        return translate(text, language) or text if isinstance(text, str) else text

    out = dict(doc)
    out["title"] = said(doc.get("title"))
    out["sections"] = [
        {
            **section,
            "title": said(section.get("title")),
            "statements": [
                {**s, "text": said(s.get("text"))} for s in section.get("statements") or []
            ],
        }
        for section in doc.get("sections") or []
    ]
    return out
