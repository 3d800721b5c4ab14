"""Identity typed into free text: found at entry, withheld from pseudonymised exports.

A CRF's free-text fields (``notes``, and ``text`` without a validation type: the adverse-event
term) can hold anything a user types, e.g. "Rash - Maria ROSSI, tel 3331234567, via Roma 12
Firenze, CF RSSMRA88L54D612X" (probe8 W3). Dropping the identifier fields and shifting dates
does not pseudonymise such text, so:

* at entry (``services.crf.save_form``) a free-text value is screened and refused, naming what
  was found; a finding that may be a false alarm (a number that looks like a phone number, a
  capitalised word after "via", a name after a title) can be confirmed by the user, a certain
  one (the subject's own record number or birth date, a codice fiscale whose check character
  is right, an e-mail address) cannot;
* in the central (pseudonymised) export (``exports.py``) a free-text value in which the screen
  finds anything is withheld whole (never partly redacted: the rest of a sentence around a
  name still points to the person), or, with ``free_text="withhold"``, every free-text value
  is; the export's README.txt says which, and how many values were withheld in each field.

What is looked for: the subject's (and mother's) hospital record number and identifier field
values as the site recorded them (birth dates also as dd/mm/yyyy), Italian tax codes
(codice fiscale, omocodia included), phone numbers (Italian mobile and landline, +39/0039,
after "tel"/"cell"), e-mail addresses, street addresses (via/viale/piazza/corso… + a name),
a name after a title (sig./sig.ra/dott./Mr/Mrs…) or written "Name SURNAME", and (fix12, probe12 #7,
review11 W2) a common given name (``given_names.py``) next to a capitalised word, either order:
"Maria Rossi", "ROSSI Maria", "Rossi, Maria" (not after "San"/"Santa": "Santa Maria Nuova" is a
hospital; not next to a drug or an acronym). A name not on the list, written in lower case or
alone, cannot be recognised reliably: the README says so, and a study that needs certainty
exports with ``free_text="withhold"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cmvcds.registry.dictionary import Crf
from cmvcds.registry.given_names import GIVEN_NAMES

__all__ = [
    "FREE_TEXT_POLICIES",
    "WITHHELD_FREE_TEXT",
    "WITHHELD_IDENTIFIER",
    "Finding",
    "codice_fiscale_valid",
    "find_identifiers",
    "free_text_fields",
    "known_variants",
]

#: ``screen``: withhold a free-text value in which an identifier is found; ``withhold``: all.
FREE_TEXT_POLICIES = ("screen", "withhold")
WITHHELD_IDENTIFIER = "[withheld: possible identifier]"
WITHHELD_FREE_TEXT = "[withheld: free text]"


@dataclass(frozen=True)
class Finding:
    """Something identifying in a text: what kind, the text found, and whether it is certain."""

    kind: str
    text: str
    certain: bool


def free_text_fields(crf: Crf) -> frozenset[str]:
    """The fields a user types free text into (``notes``; ``text`` without validation), the
    identifier fields and the record id aside (never exported centrally anyway)."""
    return frozenset(
        row.field_name
        for row in crf.fields
        if (row.field_type == "notes" or (row.field_type == "text" and not row.validation))
        and row.identifier != "y"
        and row.field_name != crf.record_id_field
    )


_ODD_VALUES = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22,
               25, 24, 23)  # fmt: skip
#: The decree's values of a character in an odd position (digits as the first ten letters).
_ODD = dict(zip("0123456789", _ODD_VALUES[:10], strict=True)) | dict(
    zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", _ODD_VALUES, strict=True)
)


def codice_fiscale_valid(code: str) -> bool:
    """Whether the 16th character of an Italian tax code is its check character (D.M.
    23/12/1976: odd positions by their table, even positions by their value, sum mod 26)."""
    code = code.upper()
    if len(code) != 16 or not code.isalnum():
        return False
    total = 0
    for position, char in enumerate(code[:15]):
        if position % 2 == 0:  # 1st, 3rd, … (odd in the decree's 1-based count)
            total += _ODD[char]
        else:
            total += int(char) if char.isdigit() else ord(char) - ord("A")
    return chr(ord("A") + total % 26) == code[15]


_D = "[0-9LMNPQRSTUV]"  # a digit, or its omocodia letter
_CF = re.compile(rf"\b[A-Z]{{6}}{_D}{{2}}[ABCDEHLMPRST]{_D}{{2}}[A-Z]{_D}{{3}}[A-Z]\b", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SEP = r"[\s./-]?"
_PHONES = (
    re.compile(r"(?:\+|\b00)\s?39" + _SEP + r"\d(?:[\s./-]?\d){6,11}\b"),
    re.compile(r"(?i:\b(?:tel|telefono|phone|cell|cellulare|mobile|mob|fax))\b\.?:?\s*\+?\d(?:[\s./-]?\d){5,13}\b"),
    re.compile(r"\b3\d{2}" + _SEP + r"\d{3}" + _SEP + r"\d{3,4}\b(?!\s*(?i:copie|copies|cp|ui|iu|/|ml|mg|g\b|kg|mmol|µ|u/))"),
    re.compile(r"\b0\d{1,3}[\s./-]\d{5,8}\b|\b0\d{8,10}\b"),
)  # fmt: skip
_ADDRESS = re.compile(
    r"(?i:\b(?:via|viale|v\.le|piazza|p\.zza|p\.za|piazzale|corso|c\.so|largo|vicolo|strada|"
    r"lungarno|borgo|contrada|frazione|località|loc\.))\s+(?:d[ei]i?\s+|della\s+|del\s+)?"
    r"[A-ZÀ-Ý][\w'’.-]*(?:\s+[A-ZÀ-Ý][\w'’.-]*){0,3}(?:,?\s*(?:n\.?\s*)?\d+[A-Za-z]?)?"
    r"|\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Drive)\b"
)
_TITLED = re.compile(
    r"(?i:\b(?:sig\.ra|sig\.na|sig|signora|signor|signore|sra|mr|mrs|ms|miss|dott\.ssa|dott|dr))"
    r"\.?\s+[A-ZÀ-Ý][a-zà-ÿ'’]+"
)
_NAME_SURNAME = re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ'’]{2,}\s+([A-ZÀ-Ý]{3,})\b")
#: Capitals that are not surnames (a "Word WORD" with one of them is not flagged as a name).
_ACRONYM_TEXT = (
    "CMV HIV HBV HCV EBV HSV VZV PCR DNA RNA IGG IGM IGA AIFA ALT AST GGT LDH CRP PCT ECG EEG MRI "
    "RMN TAC CT ICU UTI CTCAE SAE AE ORL ENT USG ECO BMI NICU PICU EMA FDA OMS WHO ASL AOU ULN LLN "
    "BID TID QID IV EV OS PO SC IM ANC WBC RBC PLT HGB HCT INR PTT APTT"
)
_ACRONYMS = frozenset(_ACRONYM_TEXT.split())
#: Capitalised words next to a given name that make no person's name (drugs, places of care).
_NOT_SURNAMES_TEXT = (
    "valaciclovir valacyclovir aciclovir acyclovir ganciclovir valganciclovir letermovir maribavir "
    "foscarnet cidofovir cytotect megalotect nuova novella hospital ospedale policlinico clinic "
    "clinica reparto day san santa santo sant"
)
_NOT_SURNAMES = frozenset(_NOT_SURNAMES_TEXT.split())
_WORD = r"[A-ZÀ-Ý][a-zà-ÿ'’]+|[A-ZÀ-Ý]{2,}"
_GIVEN_PAIR = re.compile(
    rf"(?<![\w'’])(?P<first>{_WORD})(?P<sep>,?\s+)(?P<second>{_WORD})(?![\w'’])"
)
_SAINT = re.compile(r"(?i:\b(?:san|santa|santo|sant|s)\.?[\s'’]*)$")


def _dated(value: str) -> list[str]:
    """An ISO date as people also write it (dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if not match:
        return [value]
    year, month, day = match.groups()
    return [value, *(f"{day}{sep}{month}{sep}{year}" for sep in "/-.")]


def known_variants(values: Iterable[str]) -> list[str]:
    """The ways the subject's known identifiers (record number, identifier field values) may
    appear in text; too short a value (under 4 characters) would match by chance."""
    found: list[str] = []
    for value in values:
        value = value.strip()
        if len(value) < 4:
            continue
        found += _dated(value)
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 6 and digits != value:
            found.append(digits)
    return found


def find_identifiers(text: str, known: Iterable[str] = ()) -> list[Finding]:
    """What in ``text`` identifies a person (empty: nothing found). ``known``: the subject's own
    identifiers as ``known_variants`` gives them."""
    findings: list[Finding] = []
    lowered = text.casefold()
    for value in known:
        if value.casefold() in lowered:
            findings.append(Finding("the subject's own identifier", value, certain=True))
    for match in _CF.finditer(text):
        code = match.group(0)
        findings.append(Finding("codice fiscale", code, certain=codice_fiscale_valid(code)))
    findings += [Finding("e-mail address", m.group(0), True) for m in _EMAIL.finditer(text)]
    phones: list[str] = []
    for pattern in _PHONES:
        for match in pattern.finditer(text):
            if not any(match.group(0) in seen or seen in match.group(0) for seen in phones):
                phones.append(match.group(0).strip())
    findings += [Finding("phone number", phone, certain=False) for phone in phones]
    findings += [Finding("street address", m.group(0), False) for m in _ADDRESS.finditer(text)]
    findings += [Finding("name", m.group(0), False) for m in _TITLED.finditer(text)]
    findings += [
        Finding("name", m.group(0), False)
        for m in _NAME_SURNAME.finditer(text)
        if m.group(1).upper() not in _ACRONYMS
    ]
    seen = {f.text for f in findings}
    findings += [
        Finding("name", name, False) for name in _given_name_pairs(text) if name not in seen
    ]
    return findings


def _given_name_pairs(text: str) -> list[str]:
    """ "Maria Rossi", "ROSSI Maria", "Rossi, Maria": a given name beside a capitalised word."""
    found: list[str] = []
    for start in range(len(text)):  # overlapping pairs ("Rash Maria Rossi"): every word start
        if start and (text[start - 1].isalnum() or text[start - 1] in "'’"):
            continue
        match = _GIVEN_PAIR.match(text, start)
        if match is None:
            continue
        first, second = match["first"], match["second"]
        words = {first.casefold(), second.casefold()}
        if not words & GIVEN_NAMES or words & _NOT_SURNAMES:
            continue
        if first.upper() in _ACRONYMS or second.upper() in _ACRONYMS:
            continue
        if "," in match["sep"] and second.casefold() not in GIVEN_NAMES:
            continue  # "Maria, Rossi": a list, not a name; "ROSSI, Maria" is one
        if first.casefold() in GIVEN_NAMES and _SAINT.search(text[: match.start()]):
            continue  # Santa Maria Nuova, San Giovanni Rotondo: places
        found.append(match.group(0))
    return found
