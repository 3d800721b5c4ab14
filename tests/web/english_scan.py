"""What of a page in Italian is still English: the words a person reads (text nodes, titles,
labels, placeholders, button values), less what is rightly in another language or a code.

Left out: ``<code>``, ``<pre>``, ``<kbd>``, ``<samp>``, ``<cite>`` (the titles of the sources,
in the language they were published in), ``<textarea>`` (what the user typed), ``<script>``,
``<style>``, and any element whose
``lang`` says it is not Italian (a question asked in English and its answer, the language
switch). Two checks, each catching a kind of miss:

- a word of English grammar or of the English interface (``the``, ``with``, ``Search``) that
  Italian never uses: an English sentence or label not routed through the catalogue or the pack
  (abbreviations in capitals, such as OR for odds ratio, are left to the second check);
- a msgid of the gettext catalogue shown verbatim: a text that is marked but rendered without
  its translation (a variable passed to ``_()`` too late, or not at all).
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from cmvcds.adapters.web import i18n

__all__ = ["english_in", "visible_text"]

_SKIPPED = {"code", "pre", "kbd", "samp", "cite", "script", "style", "template", "textarea"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip
_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

#: Words of English that are not Italian words (grammar, and the interface's own vocabulary).
# fmt: off
ENGLISH = frozenset([
    "the", "and", "of", "with", "is", "are", "to", "for", "from", "by", "on", "this", "that",
    "these", "those", "not", "be", "been", "has", "have", "was", "were", "which", "what",
    "when", "where", "who", "why", "how", "your", "you", "or", "at", "an", "as", "if", "than",
    "then", "all", "any", "each", "its", "their", "will", "can", "may", "should", "must",
    "there", "here", "after", "before", "until", "between", "within", "without", "into", "only",
    "more", "less", "one", "two", "three", "first", "last", "next", "yes", "back", "search",
    "download", "save", "submit", "record", "status", "action", "comment", "history", "source",
    "sources", "references", "kind", "text", "version", "current", "results", "nothing",
    "found", "questions", "ask", "approved", "review", "reviewed", "statement", "statements",
    "users", "user", "sites", "site", "role", "active", "create", "add", "edit", "name", "week",
    "weeks", "day", "days", "month", "months", "year", "years", "daily", "twice", "once",
    "every", "give", "stop", "start", "started", "stopped", "hold", "resume", "treatment",
    "prevention", "pregnancy", "infant", "transplant", "doses", "tablets", "tablet", "packs",
    "pack", "missing", "insufficient", "recommended", "suspected", "refused", "launch", "open",
    "choose", "chart", "timeline", "calendar", "strategy", "strategies", "pregnancies",
    "births", "infections", "simulation", "cost", "outcome", "outcomes", "scenario", "draws",
    "seed", "run", "checked", "check", "alert", "alerts", "reason", "reasons", "decision",
    "decisions", "regimen", "regimens", "knowledge", "unverified", "verified", "notes", "table",
    "tables", "page", "pages", "none", "other", "others", "schedule", "route", "duration",
    "formulation", "administration", "weight", "band", "section", "inputs", "basis", "actual",
    "age", "sex", "row", "induction", "response", "food", "authors", "title", "year",
])
# fmt: on
_TOKEN = re.compile(r"[\w'’./:-]+")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._stack: list[bool] = []  # per open element: is it skipped (itself or an ancestor)

    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # an inner element's lang marks a passage in another language; the page's own (<html>)
        # is what is under test, so it never hides the page
        lang = "" if tag == "html" else (values.get("lang") or "").lower()
        skipped = self._skipping() or tag in _SKIPPED or bool(lang and lang.split("-")[0] != "it")
        if not skipped:
            self.texts += [values.get(a) or "" for a in _ATTRIBUTES]
            if tag == "input" and values.get("type") in ("submit", "button", "reset"):
                self.texts.append(values.get("value") or "")
        if tag not in _VOID:
            self._stack.append(skipped)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self._stack:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.texts.append(data)


def visible_text(html: str) -> str:
    """The words of ``html`` a person reads, one line per text node (see the module docstring)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return "\n".join(" ".join(t.split()) for t in reader.texts if t.strip())


@cache
def _marked_english() -> tuple[str, ...]:
    """The catalogue's msgids whose Italian differs, as the literal runs a page would show (the
    ``%(name)s`` values cut out), the runs of two words or more."""
    with i18n.PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    runs: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if ids[0] in strings:
            continue
        for msgid in ids:
            for run in re.split(r"%\(\w+\)[sd]|%%", msgid):
                run = " ".join(run.split()).strip(" ,;:.()")
                if len(run.split()) >= 2 and len(run) >= 12:
                    runs.add(run)
    return tuple(sorted(runs, key=len, reverse=True))


def english_in(html: str) -> list[str]:
    """What of ``html`` (a page served in Italian) reads as English: each offending line with
    the English words or catalogue msgid found in it."""
    found: list[str] = []
    for line in visible_text(html).splitlines():
        words = sorted(
            {
                w
                for w in _TOKEN.findall(line)
                if w.isalpha() and not w.isupper() and w.lower() in ENGLISH
            }
        )
        if words:
            found.append(f"{line!r}: {', '.join(words)}")
            continue
        for run in _marked_english():
            if run in line:
                found.append(f"{line!r}: msgid {run!r}")
                break
    return found
