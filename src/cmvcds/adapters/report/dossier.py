"""The Law 648/96 dossier: the printable summary of a valacyclovir decision in pregnancy that the
hospital pharmacy accepts, and the consent form with the patient information sheet.

What the prescribing physician files under Law 648/96 (AIFA Determina 16-12-2020): the patient's
identification, hospital, ward and prescriber (typed at print time into :class:`PrintFields`,
printed, never stored), the eligibility decision with the criteria met and the rules applied, the
dates, the regimen, the quantity to dispense (tablets and packs of the planned course, computed by
``engine.pregnancy.dispensing`` from the marketed packs of ``pregnancy/law648.yaml``), the
exclusions checked with their values, the consent checklist, the data the 648/96 monitoring asks
the prescriber to record, the alerts and the sources. Rendered from the ``cmvcds-assessment/1``
document and the case; the clinical answer is not recomputed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.it import codicefiscale

from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.i18n import N_
from cmvcds.adapters.web.render import install_i18n
from cmvcds.adapters.web.texts import clinical
from cmvcds.domain.case import Case
from cmvcds.engine.pregnancy.dispensing import Dispensing, quantity_to_dispense
from cmvcds.errors import InputError, NotEligible
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.pregnancy import PharmacyDossier, RuleBook

__all__ = [
    "DOSSIER_DECISIONS",
    "PrintFields",
    "consent_html",
    "dossier_html",
    "dossier_refusal",
    "in_language",
    "local_dates",
    "refusal_html",
]

#: The decisions a 648/96 dossier documents: it (and its consent form) is made only when one of
#: them is ``recommended`` (AIFA Determina 16-12-2020: the listing covers the protocol's
#: indications only; anything else is not dispensed under Law 648/96).
DOSSIER_DECISIONS = ("valacyclovir-prevention", "valacyclovir-fetal-treatment")
ELIGIBLE = "recommended"
#: An ISO date (YYYY-MM-DD) standing alone in a text.
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")

_TEMPLATES = Path(__file__).parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
install_i18n(_ENV)

#: When each monitoring datum is recorded (``pregnancy/law648.yaml``), as the dossier names it.
RECORD_PHASES = {
    "start": N_("At the start"),
    "during": N_("During the course"),
    "end": N_("At the end"),
    "report": N_("Every three months"),
}

#: The consent and documentation checklist: (item, why, source ids).
CHECKLIST: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        N_("Written informed consent signed by the patient"),
        N_("required by Law 648/96"),
        ("infezmed2021-letter-valacyclovir-648",),
    ),
    (
        N_("Patient informed that the use is off-label, reimbursed by the SSN under Law 648/96"),
        N_("AIFA listing, GU 30-12-2020"),
        ("aifa2020-648-valacyclovir",),
    ),
    (
        N_("Baseline creatinine and eGFR documented before the first dose"),
        N_("exclusions, rule A7"),
        ("infezmed2021-letter-valacyclovir-648",),
    ),
    (
        N_("Amniocentesis planned (date) or declined (documented)"),
        N_("rules A4, A5"),
        ("aifa2020-648-valacyclovir",),
    ),
    (
        N_("Newborn CMV test at birth planned (urine or saliva PCR in the first 3 weeks)"),
        N_("late transmission possible"),
        ("infezmed2021-letter-valacyclovir-648",),
    ),
)


#: The tablet strengths the quantity to dispense is computed for (500 mg first: the pharmacy's
#: usual stock for 2 g doses; 1000 mg halves the count).
STRENGTHS_MG = (Decimal(500), Decimal(1000))
#: The longest text a print-time field takes (a name, a ward): the rest is cut.
FIELD_LENGTH = 120


@dataclass(frozen=True)
class PrintFields:
    """What the prescriber types on the dossier page just before printing. Printed into the
    document and nowhere else: never stored, logged or sent to the assessment."""

    patient_name: str = ""
    birth_date: str = ""
    tax_code: str = ""
    hospital: str = ""
    ward: str = ""
    prescriber: str = ""

    @classmethod
    def from_form(cls, values: Mapping[str, str]) -> PrintFields:
        """The fields of a submitted form, trimmed, each cut to ``FIELD_LENGTH`` characters."""
        names = cls.__dataclass_fields__
        return cls(**{n: " ".join(str(values.get(n, "")).split())[:FIELD_LENGTH] for n in names})

    def problems(self, case: Case) -> list[tuple[str, str]]:
        """What makes the identification unprintable, as (field, message in the page's
        language): a birth date that is not a real date (YYYY-MM-DD), lies after the assessment
        or gives another age than the case's; a tax code (codice fiscale) that fails its format
        or check character (python-stdnum) or encodes another birth date. Nothing typed is
        checked against nothing, and no message repeats what was typed."""
        _ = i18n.gettext
        found: list[tuple[str, str]] = []
        born: date | None = None
        if self.birth_date:
            born = _typed_date(self.birth_date)
            if born is None:
                found.append(("birth_date", _("not a date (DD/MM/YYYY or YYYY-MM-DD)")))
        if born is not None:
            on = case.assessed_on
            age = case.patient.age_on(on) if case.patient.birth_date else case.patient.age_years
            years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
            if born > on:
                found.append(("birth_date", _("after the assessment date %(date)s") % {"date": local_dates(on)}))
            elif age is not None and Decimal(years) != Decimal(int(age)):
                found.append(("birth_date", _("gives an age of %(years)s on %(date)s; the case says %(age)s")
                              % {"years": years, "date": local_dates(on), "age": age}))  # fmt: skip
        if self.tax_code:
            try:
                code = codicefiscale.validate(self.tax_code)
            except InvalidChecksum:
                found.append(("tax_code", _("not a valid codice fiscale: the check letter (the "
                                            "last) does not match the other characters")))  # fmt: skip
            except ValidationError:
                found.append(("tax_code", _("not a valid codice fiscale: 16 characters, 6 letters, "
                                            "2 digits, a letter, 2 digits, a letter, 3 digits and "
                                            "the check letter")))  # fmt: skip
            else:
                if born is not None and len(code) == 16:
                    encoded = codicefiscale.get_birth_date(code)
                    if encoded != born:
                        found.append(
                            ("tax_code", _("encodes another birth date than the one typed"))
                        )
        return found


def _typed_date(text: str) -> date | None:
    """A date as typed on the form: Italian DD/MM/YYYY (also with - or .) or ISO YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            return None
    return None


def local_dates(text: object) -> str:
    """``text`` with each ISO date in the form of the page's language: DD/MM/YYYY in Italian
    (the form of Italian documents), ISO elsewhere. For the printed documents only: the machine
    outputs (JSON, FHIR, calendar) keep ISO."""
    shown = "" if text is None else str(text)
    if i18n.current_language() != "it":
        return shown
    return _ISO_DATE.sub(lambda m: f"{m[3]}/{m[2]}/{m[1]}", shown)


def _clinical(text: object) -> str:
    return local_dates(clinical(text))


_ENV.filters["day"] = local_dates
_ENV.filters["clinical"] = _clinical


def dossier_refusal(document: Mapping[str, Any]) -> NotEligible | None:
    """Why no 648/96 dossier (nor consent form) is made for ``document``, or None when one of
    its valacyclovir decisions is ``recommended``. The refusal names each decision's outcome
    and reasons and, for insufficient data, what is missing (``problems``, in English: the CLI
    prints them; the web page renders the same from the document)."""
    decisions = [d for d in document.get("decisions", []) if d.get("id") in DOSSIER_DECISIONS]
    if any(d.get("outcome") == ELIGIBLE for d in decisions):
        return None
    case_id = document.get("case_id") or ""
    lines: list[str] = []
    for d in decisions:
        reasons = "; ".join(str(r) for r in d.get("reasons", []))
        lines.append(f"{d.get('id')}: {d.get('outcome')}" + (f" — {reasons}" if reasons else ""))
    if not decisions:
        lines.append("the assessment has no valacyclovir decision")
    if any(d.get("outcome") == "insufficient_data" for d in decisions) or not decisions:
        lines += [f"needed: {m.get('item')} — {m.get('why')}" for m in document.get("missing", [])]
    outcomes = ", ".join(sorted({str(d.get("outcome")) for d in decisions})) or "no decision"
    named = f" for case {case_id}" if case_id else ""
    return NotEligible(
        f"no Law 648/96 dossier{named}: valacyclovir is not recommended ({outcomes}); "
        "nothing to file, dispense or consent to",
        lines,
    )


def _refuse_unless_eligible(document: Mapping[str, Any]) -> None:
    refusal = dossier_refusal(document)
    if refusal is not None:
        raise refusal


def refusal_html(document: Mapping[str, Any], case: Case, back: str = "") -> str:
    """The page shown instead of the dossier, its PDF or its consent form for a case whose
    valacyclovir decisions are none ``recommended``: each decision's outcome and reasons and what
    is missing; no identification form, no checklist, nothing to sign."""
    decisions = [d for d in document.get("decisions", []) if d.get("id") in DOSSIER_DECISIONS]
    needs_data = not decisions or any(d.get("outcome") == "insufficient_data" for d in decisions)
    return _ENV.get_template("dossier_refused.html").render(
        doc=document,
        case_id=case.id,
        decisions=decisions,
        missing=document.get("missing", []) if needs_data else [],
        review=any(d.get("outcome") == "specialist_review" for d in decisions),
        back=back,
    )


@contextmanager
def in_language(language: str) -> Iterator[None]:
    """Render in ``language`` whatever the page's language (the consent form is Italian first)."""
    token = i18n.set_language(language)
    try:
        yield
    finally:
        i18n.reset_language(token)


def dossier_html(
    document: Mapping[str, Any],
    case: Case,
    knowledge: Knowledge | None = None,
    fields: PrintFields | None = None,
    form_action: str | None = None,
    refused: Sequence[tuple[str, str]] = (),
    typed: PrintFields | None = None,
) -> str:
    """The dossier of ``document`` (a pregnancy assessment) for ``case``.

    With ``knowledge``, the rules are printed with their text, the sources as full references,
    the quantity to dispense and the monitoring data; without it, by id. ``fields`` are the
    print-time identification; ``form_action`` (the web page) adds the form that fills them;
    ``refused`` lists the typed fields that could not be printed, as (field, message), shown
    above the form, whose inputs keep ``typed`` (what the user typed, echoed back to them only)
    with the refused ones marked invalid.

    Raises :class:`NotEligible` when no valacyclovir decision of ``document`` is
    ``recommended``: a dossier is never made for a case that does not qualify.
    """
    _refuse_unless_eligible(document)
    decisions = [d for d in document.get("decisions", []) if d.get("id") in DOSSIER_DECISIONS]
    rule_ids = sorted({r for d in decisions for r in d.get("rules", [])}, key=_rule_order)
    cited = _cited(document)
    rules = _rules(rule_ids, knowledge)
    references = [{"id": sid, "text": _reference(sid, knowledge)} for sid in cited]
    patient = case.patient
    on = case.assessed_on
    pharmacy = _pharmacy(knowledge)
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
        "fields": fields or PrintFields(),
        "form_action": form_action,
        "refused": [f"{name}: {message}" for name, message in refused],
        "invalid": {name for name, _message in refused},
        "typed": typed or fields or PrintFields(),
        "dispensing": _dispensing(document, knowledge),
        "record": pharmacy.record if pharmacy else (),
        "language": i18n.current_language(),
        "phases": RECORD_PHASES,
    }
    return _ENV.get_template("dossier.html").render(**context)


def consent_html(
    document: Mapping[str, Any], case: Case, fields: PrintFields | None = None, back: str = ""
) -> str:
    """The patient information sheet and the written informed-consent form for the valacyclovir
    course of ``document``, in the language being rendered (:func:`in_language`); raises
    :class:`NotEligible` as :func:`dossier_html` does."""
    _refuse_unless_eligible(document)
    regimens = [g for g in document.get("regimens", []) if g.get("drug") == "valacyclovir"]
    fields = fields or PrintFields()
    return _ENV.get_template("consent.html").render(
        doc=document,
        case_id=case.id,
        regimens=regimens,
        fields=fields,
        typed={name: value for name, value in asdict(fields).items() if value},
        back=back,
    )


def _pharmacy(knowledge: Knowledge | None) -> PharmacyDossier | None:
    table = knowledge.tables.get("pregnancy_law648") if knowledge else None
    return table if isinstance(table, PharmacyDossier) else None


def _dispensing(document: Mapping[str, Any], knowledge: Knowledge | None) -> list[dict[str, Any]]:
    """Per valacyclovir regimen: its planned course and the quantity for each strength, or why
    the quantity cannot be computed (no end date)."""
    table = _pharmacy(knowledge)
    if table is None:
        return []
    edd = ((document.get("findings") or {}).get("dating") or {}).get("edd")
    out: list[dict[str, Any]] = []
    for regimen in document.get("regimens", []):
        if regimen.get("drug") != "valacyclovir" or not regimen.get("start"):
            continue
        end = regimen.get("stop") or edd
        # in-utero treatment runs until delivery: its stop is the EDD (ADR 0031), or none
        until_edd = not regimen.get("stop") or (
            bool(edd) and str(regimen.get("stop")) == str(edd)
            and "until delivery" in str(regimen.get("stop_rule", ""))
        )  # fmt: skip
        item: dict[str, Any] = {"regimen": regimen, "until_edd": until_edd}
        if not end:
            item["missing"] = True
            out.append(item)
            continue
        quantities: list[Dispensing] = []
        for strength in STRENGTHS_MG:
            try:
                quantities.append(
                    quantity_to_dispense(
                        Decimal(str(regimen["dose_mg"])),
                        int(regimen["every_h"]),
                        date.fromisoformat(str(regimen["start"])),
                        date.fromisoformat(str(end)),
                        strength,
                        table.packs_of("valacyclovir", strength),
                    )
                )
            except (InputError, KeyError, TypeError, ValueError):
                continue
        item["quantities"] = quantities
        out.append(item)
    return out


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
