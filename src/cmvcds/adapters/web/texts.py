"""The clinical texts of an assessment and of the registry in the language of the page.

English is what the engine writes; the Italian comes from the pack's ``clinical_texts_it`` table
(``knowledge/schemas/i18n.py``, ADR 0020). A text is translated whole when a row's ``en``
matches it exactly or as a sentence shape (``{date}``, ``{n}`` match the computed values, which
are carried over unchanged; ``{text}`` matches a piece translated in turn); else a text made of
parts joined by "; " is translated part by part (a "; " inside parentheses does not cut). A text with no translation is shown in English
(``translate`` returns None for it: the coverage test lists those).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from cmvcds.adapters.web.i18n import DEFAULT, current_language
from cmvcds.knowledge import Knowledge, load_knowledge
from cmvcds.knowledge.schemas.translations import PLACEHOLDER, TranslationTable

__all__ = ["clinical", "shown_error", "translate"]

_KIND = {
    "date": r"\d{4}-\d{2}-\d{2}",
    "n": r"-?\d+(?:[.,]\d+)*",
    "text": r".+?",
    "code": r"[\w.\-/≥≤<>²µ, ]+?",
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


def translate(text: str, language: str, depth: int = 0) -> str | None:
    """``text`` in ``language``, or None when the pack has no translation for it."""
    if language == DEFAULT or not text:
        return text
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
