"""The places in a source that an Ask statement names, marked as the source's own words.

A label statement ends with where it was read, in the label's own headings: ``(§2.5 Table 2)``,
``(Dosage and administration: maintenance)``, ``(SmPC 4.2)`` (the ``{section}`` of
``answers/templates.yaml``, the statement's ``locator``). The label is an English document, so
its headings stay English in an Italian answer, as titles of sources do (``<cite>``) and as the
locator under "Source" does: each such quoted locator is wrapped in ``<span lang="en">`` so that
a reader (and a screen reader) knows it is the source's language, not untranslated wording.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

__all__ = ["with_locators_marked"]

_OPEN = Markup('<span lang="en">')
_CLOSE = Markup("</span>")


def with_locators_marked(text: str, locators: Iterable[str]) -> Markup:
    """``text`` escaped, each of ``locators`` that follows an opening parenthesis marked English
    (the longest first, so ``§2.5 Table 2`` is not cut at ``§2.5``)."""
    wanted = sorted({locator for locator in locators if locator}, key=len, reverse=True)
    out: list[str] = []
    i = 0
    while i < len(text):
        found = (
            next((loc for loc in wanted if text.startswith(loc, i)), None)
            if i > 0 and text[i - 1] == "("
            else None
        )
        if found is None:
            out.append(escape(text[i]))
            i += 1
        else:
            out.append(_OPEN + escape(found) + _CLOSE)
            i += len(found)
    return Markup("").join(out)
