"""Translations of the pack's user-visible clinical texts (issue 15 item 2; ADR 0020).

The engine writes its alerts, reasons, missing-data lines and schedule notes in English, from the
pack's rows and computed values (dates, doses). A translation row gives the Italian of one such
text: ``en`` is the English as shown, where ``{date}``, ``{n}`` and ``{text}`` (optionally
numbered: ``{date2}``, ``{n3}``) stand for a computed date, a computed number and a piece of
text that is itself translated (e.g. the name of an unverified fact); ``{code}`` stands for
identifiers carried over as they are (source ids, setting names, a renal band's bounds). Computed values are carried
over untouched into ``it``: a dose or a date is never re-typed by a translation.

Validated on load: every ``en`` unique; ``it`` non-empty and holding exactly the placeholders of
``en``; placeholders from the four kinds only. ``review`` says who made the translation; a
machine-drafted one awaits a clinician's review (provenance, never shown on the pages).
"""

import re
from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Strict

__all__ = ["PLACEHOLDER", "Translation", "TranslationTable"]

#: A placeholder of a translation row: its kind and an optional number.
PLACEHOLDER = re.compile(r"\{(date|n|text|code)(\d*)\}")
_BRACES = re.compile(r"[{}]")


def placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text))


class Translation(Strict):
    """One English text (or sentence shape) and its translation."""

    en: str = Field(min_length=1)
    it: str = Field(min_length=1)
    #: ``machine-draft``: drafted by machine, awaiting clinical review; ``clinician-reviewed``.
    review: Literal["machine-draft", "clinician-reviewed"] = "machine-draft"

    @model_validator(mode="after")
    def _same_placeholders(self) -> "Translation":
        for text in (self.en, self.it):
            if _BRACES.findall(PLACEHOLDER.sub("", text)):
                raise ValueError(f"{text!r}: a brace outside a {{date}}/{{n}}/{{text}}/{{code}} placeholder")
        if placeholders(self.en) != placeholders(self.it):
            raise ValueError(
                f"{self.en!r}: the translation's placeholders {placeholders(self.it)} differ from "
                f"the English {placeholders(self.en)}"
            )
        return self


class TranslationTable(Strict):
    """The translations into one language, with how they were made."""

    language: Literal["it"]
    provenance: str = Field(min_length=1)
    rows: tuple[Translation, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "TranslationTable":
        seen: set[str] = set()
        for row in self.rows:
            if row.en in seen:
                raise ValueError(f"{row.en!r} is translated twice")
            seen.add(row.en)
        return self
