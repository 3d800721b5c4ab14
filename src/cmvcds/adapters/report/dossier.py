"""The Law 648/96 dossier: a printable one-page HTML summary of a valacyclovir decision in pregnancy.

What the prescribing physician files under Law 648/96 (AIFA Determina 16-12-2020): the eligibility
decision with the criteria met and the rules applied, the dates (gestational age, onset window,
amniocentesis, stop), the regimen, the exclusions checked with their values, a consent checklist
(written informed consent is required by the law), the alerts, and the sources. It is rendered
from the ``cmvcds-assessment/1`` document and the case — nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cmvcds.adapters.web.render import install_i18n
from cmvcds.domain.case import Case
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.pregnancy import RuleBook

__all__ = ["DOSSIER_DECISIONS", "dossier_html"]

#: The decisions a 648/96 dossier documents.
DOSSIER_DECISIONS = ("valacyclovir-prevention", "valacyclovir-fetal-treatment")

_TEMPLATES = Path(__file__).parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
install_i18n(_ENV)

#: The consent and documentation checklist: (item, why, source ids).
CHECKLIST: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Written informed consent signed by the patient",
        "required by Law 648/96",
        ("infezmed2021-letter-valacyclovir-648",),
    ),
    (
        "Patient informed that the use is off-label, reimbursed by the SSN under Law 648/96",
        "AIFA listing, GU 30-12-2020",
        ("aifa2020-648-valacyclovir",),
    ),
    (
        "Baseline creatinine and eGFR documented before the first dose",
        "exclusions, rule A7",
        ("infezmed2021-letter-valacyclovir-648",),
    ),
    (
        "Amniocentesis planned (date) or declined (documented)",
        "rules A4, A5",
        ("aifa2020-648-valacyclovir",),
    ),
    (
        "Newborn CMV test at birth planned (urine or saliva PCR in the first 3 weeks)",
        "late transmission possible",
        ("infezmed2021-letter-valacyclovir-648",),
    ),
)


def dossier_html(
    document: Mapping[str, Any], case: Case, knowledge: Knowledge | None = None
) -> str:
    """The one-page dossier of ``document`` (a pregnancy assessment) for ``case``.

    With ``knowledge``, the rules are printed with their text and the sources as full references;
    without it, by id.
    """
    decisions = [d for d in document.get("decisions", []) if d.get("id") in DOSSIER_DECISIONS]
    rule_ids = sorted({r for d in decisions for r in d.get("rules", [])}, key=_rule_order)
    cited = _cited(document)
    rules = _rules(rule_ids, knowledge)
    references = [{"id": sid, "text": _reference(sid, knowledge)} for sid in cited]
    patient = case.patient
    on = case.assessed_on
    context = {
        "doc": document,
        "decisions": decisions,
        "findings": document.get("findings", {}),
        "regimens": [g for g in document.get("regimens", []) if g.get("drug") == "valacyclovir"],
        "dates": [
            s
            for s in document.get("schedule", [])
            if s.get("event") in ("amniocentesis", "stop-valacyclovir")
        ],
        "alerts": [a for a in document.get("alerts", []) if a.get("code") != "unverified-fact"],
        "unverified": [
            _what(a["message"])
            for a in document.get("alerts", [])
            if a.get("code") == "unverified-fact"
        ],
        "missing": document.get("missing", []),
        "rules": rules,
        "references": references,
        "checklist": CHECKLIST,
        "age": patient.age_on(on),
        "pregnancy": case.pregnancy,
        "case_id": case.id,
    }
    return _ENV.get_template("dossier.html").render(**context)


_UNVERIFIED_PREFIX = "Not yet verified against its primary source: "


def _what(message: str) -> str:
    """What an ``unverified-fact`` alert is about, without its note."""
    text = message.removeprefix(_UNVERIFIED_PREFIX)
    return text.split(". ", 1)[0].split(" (", 1)[0].rstrip(".")


def _reference(source_id: str, knowledge: Knowledge | None) -> str:
    """A short reference: first author, venue, year (the full entry is in the knowledge pack)."""
    source = knowledge.sources.get(source_id) if knowledge else None
    if source is None:
        return ""
    author = (
        f"{source.authors[0]}{' et al.' if len(source.authors) > 1 else ''}"
        if source.authors
        else ""
    )
    parts = [p for p in (author, source.venue, str(source.year)) if p]
    return ", ".join(parts) + (f". doi:{source.doi}" if source.doi else "")


def _cited(document: Mapping[str, Any]) -> list[str]:
    found: list[str] = [sid for _, _, ids in CHECKLIST for sid in ids]
    for key in ("decisions", "regimens", "schedule", "alerts"):
        for item in document.get(key, []):
            found += item.get("citations", [])
    return list(dict.fromkeys(found))


def _rules(ids: list[str], knowledge: Knowledge | None) -> list[dict[str, str]]:
    book = knowledge.tables.get("pregnancy_rules") if knowledge else None
    out = []
    for rule_id in ids:
        if isinstance(book, RuleBook):
            try:
                rule = book.get(rule_id)
            except KeyError:
                out.append({"id": rule_id, "title": "", "text": "", "status": ""})
                continue
            status = "" if rule.verified else "interpretation pending clinical sign-off"
            out.append({"id": rule.id, "title": rule.title, "text": rule.text, "status": status})
        else:
            out.append({"id": rule_id, "title": "", "text": "", "status": ""})
    return out


def _rule_order(rule_id: str) -> tuple[int, int]:
    kind = 0 if rule_id.startswith("A") else 1
    return kind, int(rule_id.lstrip("AI-"))
