"""The case report forms as a REDCap data dictionary: parse, write, validate values.

The dictionary in force is the newest one imported into the database (``cmvcds registry
import-dictionary``), else the one shipped in the knowledge pack (``registry/dictionary.csv``).
Import and export round-trip: ``dictionary_csv(parse_dictionary(text)) == text`` for a file
in REDCap's canonical layout (18 columns, header as REDCap writes it).

Validation of a value is a *hard* error (the value is refused): wrong type, date, code, or
outside the dictionary's min/max. Soft checks of ``study.yaml`` only open a query.
"""

from __future__ import annotations

import csv
import hashlib
import io
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property

from pydantic import ValidationError

from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge, load_knowledge
from cmvcds.knowledge.schemas.registry import (
    REDCAP_COLUMNS,
    DictionaryField,
    SoftCheck,
    StudyDesign,
)
from cmvcds.registry.numbers import canonical, is_numeric, parse_stored

__all__ = ["Crf", "crf_from_knowledge", "dictionary_csv", "parse_dictionary"]

ENTERABLE = frozenset(
    {"text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse", "slider"}
)
CODED = frozenset({"dropdown", "radio", "checkbox"})
BRANCH = re.compile(r"^\[(?P<field>[a-z][a-z0-9_]*)\]\s*(?P<op>=|<>|!=)\s*'(?P<value>[^']*)'$")


def parse_dictionary(text: str) -> tuple[DictionaryField, ...]:
    """Rows of a REDCap data dictionary CSV; errors name the row and the column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = tuple(reader.fieldnames or ())
    if header != REDCAP_COLUMNS:
        missing = [c for c in REDCAP_COLUMNS if c not in header]
        raise InputError(
            f"not a REDCap data dictionary: expected the 18 REDCap columns in order"
            f"{'; missing ' + ', '.join(repr(m) for m in missing) if missing else ''}",
            field="header",
        )
    rows: list[DictionaryField] = []
    seen: set[str] = set()
    forms_done: list[str] = []
    for line, raw in enumerate(reader, start=2):
        try:
            row = DictionaryField.model_validate({k: v for k, v in raw.items() if v})
        except ValidationError as error:
            first = error.errors()[0]
            column = first["loc"][0] if first["loc"] else "row"
            raise InputError(
                f"{first['msg']} (got {first.get('input')!r})", field=f"row {line}: {column}"
            ) from None
        if row.field_name in seen:
            raise InputError(f"field {row.field_name!r} is defined twice", field=f"row {line}")
        if forms_done and forms_done[-1] != row.form_name:
            if row.form_name in forms_done:
                raise InputError(f"form {row.form_name!r} is not contiguous", field=f"row {line}")
            forms_done.append(row.form_name)
        elif not forms_done:
            forms_done.append(row.form_name)
        if row.field_type in CODED and not row.choices:
            raise InputError(
                f"field {row.field_name!r} ({row.field_type}) has no choices", field=f"row {line}"
            )
        seen.add(row.field_name)
        rows.append(row)
    if not rows:
        raise InputError("the data dictionary has no fields")
    return tuple(rows)


def dictionary_csv(fields: tuple[DictionaryField, ...]) -> str:
    """The dictionary as REDCap writes it: 18 columns, minimal quoting."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REDCAP_COLUMNS)
    for row in fields:
        dumped = row.model_dump(by_alias=True)
        writer.writerow([dumped[column] for column in REDCAP_COLUMNS])
    return out.getvalue()


def choices(row: DictionaryField) -> dict[str, str]:
    """The coded choices of a field (``"1, Yes | 0, No"`` → ``{"1": "Yes", "0": "No"}``)."""
    if row.field_type in ("yesno",):
        return {"1": "Yes", "0": "No"}
    if row.field_type == "truefalse":
        return {"1": "True", "0": "False"}
    pairs: dict[str, str] = {}
    for part in row.choices.split("|"):
        code, _, label = part.strip().partition(",")
        if code.strip():
            pairs[code.strip()] = label.strip()
    return pairs


@dataclass(frozen=True)
class Crf:
    """The forms in force: dictionary rows plus the study design (events, checks, analyses)."""

    fields: tuple[DictionaryField, ...]
    design: StudyDesign
    version: str
    sha256: str = ""

    @cached_property
    def by_name(self) -> Mapping[str, DictionaryField]:
        return {row.field_name: row for row in self.fields}

    @cached_property
    def forms(self) -> Mapping[str, tuple[DictionaryField, ...]]:
        forms: dict[str, list[DictionaryField]] = {}
        for row in self.fields:
            forms.setdefault(row.form_name, []).append(row)
        return {name: tuple(rows) for name, rows in forms.items()}

    @property
    def record_id_field(self) -> str:
        return self.fields[0].field_name

    def check_slot(self, event: str, instrument: str, instance: int, subject_kind: str) -> None:
        """Refuse an instrument that the event does not collect, or a bad repeat instance."""
        ev = next((e for e in self.design.events if e.name == event), None)
        if ev is None:
            raise InputError(f"unknown event {event!r}", field="event")
        if ev.subject != subject_kind:
            raise InputError(
                f"event {event!r} belongs to the {ev.subject}, not the {subject_kind}",
                field="event",
            )
        if instrument not in ev.instruments:
            raise InputError(
                f"event {event!r} does not collect {instrument!r} (it collects {', '.join(ev.instruments)})",
                field="instrument",
            )
        if instance < 1 or (instance != 1 and instrument not in self.design.repeating):
            raise InputError(
                f"instance {instance} of {instrument!r}: only repeating instruments repeat",
                field="instance",
            )

    def validate(self, instrument: str, values: Mapping[str, str]) -> dict[str, str]:
        """Hard errors of ``values`` for ``instrument``: ``{field: message}`` (empty when valid)."""
        form = {row.field_name: row for row in self.forms.get(instrument, ())}
        if not form:
            return {"instrument": f"unknown instrument {instrument!r}"}
        errors: dict[str, str] = {}
        for name, value in values.items():
            row = form.get(name)
            if row is None:
                errors[name] = f"{name!r} is not a field of {instrument!r}"
            elif row.field_type not in ENTERABLE:
                errors[name] = f"{name!r} is a {row.field_type} field and takes no entry"
            elif value != "":
                message = _check_value(row, value)
                if message:
                    errors[name] = message
        return errors

    def canonical(
        self, instrument: str, values: Mapping[str, str], decimal: str = "."
    ) -> tuple[dict[str, str], dict[str, str]]:
        """``values`` with each number as it is stored (``numbers.canonical``; typed with the
        page's ``decimal`` separator), and ``{field: message}`` for numbers refused; a checkbox
        field's ticked codes once each, in the dictionary's order."""
        form = {row.field_name: row for row in self.forms.get(instrument, ())}
        out: dict[str, str] = {}
        errors: dict[str, str] = {}
        for name, value in values.items():
            row = form.get(name)
            out[name] = value
            if row is None or value.strip() == "":
                continue
            if row.field_type == "checkbox":
                ticked = {code.strip() for code in value.split(",") if code.strip()}
                known = [code for code in choices(row) if code in ticked]
                out[name] = ",".join(known + sorted(ticked - set(known)))  # unknown: refused later
            elif is_numeric(row.validation, row.field_type):
                stored, message = canonical(row.validation or "slider", value, decimal)
                if message:
                    errors[name] = message
                else:
                    out[name] = stored or ""
        return out, errors

    def missing_required(self, instrument: str, values: Mapping[str, str]) -> list[str]:
        """Required fields (shown by their branching logic) that have no value."""
        return [
            row.field_name
            for row in self.forms.get(instrument, ())
            if row.required == "y" and not values.get(row.field_name) and shown(row, values)
        ]

    def soft_findings(self, instrument: str, values: Mapping[str, str]) -> list[SoftCheck]:
        """The soft checks of ``instrument`` that ``values`` trigger."""
        return [
            check
            for check in self.design.soft_checks
            if check.instrument == instrument
            and values.get(check.field, "") != ""
            and _fires(check, values[check.field])
        ]


def shown(row: DictionaryField, values: Mapping[str, str]) -> bool:
    """Whether a field is shown; only ``[field] = 'code'`` (or ``<>``) logic is understood."""
    if not row.branching_logic:
        return True
    match = BRANCH.match(row.branching_logic.strip())
    if match is None:
        return True
    equal = values.get(match["field"], "") == match["value"]
    return equal if match["op"] == "=" else not equal


def _check_value(row: DictionaryField, value: str) -> str | None:
    if row.field_type in CODED or row.field_type in ("yesno", "truefalse"):
        codes = choices(row)
        given = value.split(",") if row.field_type == "checkbox" else [value]
        bad = [code for code in given if code.strip() not in codes]
        if bad:
            return f"{value!r} is not a choice of {row.field_name!r} (choices: {', '.join(codes)})"
        return None
    kind = row.validation
    if is_numeric(kind, row.field_type):  # the stored form (``numbers.canonical``) only
        kind = kind or "slider"
        stored, message = canonical(kind, value, "," if kind.endswith("comma_decimal") else ".")
        if message or stored is None:
            return message
        return _bounds(row, parse_stored(kind, stored))
    if kind.startswith("date"):
        try:
            date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a date (YYYY-MM-DD)"
        return _bounds(row, value)
    return None


def _bounds(row: DictionaryField, value: Decimal | str) -> str | None:
    """``value`` against the dictionary's min/max (numbers as numbers, ISO dates as text)."""
    low, high = row.validation_min, row.validation_max
    if isinstance(value, Decimal):
        below = bool(low) and value < Decimal(low)
        above = bool(high) and value > Decimal(high)
    else:
        below = bool(low) and value < low
        above = bool(high) and value > high
    if below or above:
        return f"{value} is outside {low or '…'}–{high or '…'}"
    return None


COMPARE = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
}


def _fires(check: SoftCheck, raw: str) -> bool:
    try:
        number = raw.replace(",", ".")  # a ``*_comma_decimal`` field's stored comma
        given: Decimal | str = Decimal(number) if isinstance(check.value, Decimal) else raw
    except InvalidOperation:
        return False
    return bool(COMPARE[check.op](given, check.value))


def crf_from_knowledge(
    knowledge: Knowledge | None = None, fields: tuple[DictionaryField, ...] | None = None
) -> Crf:
    """The CRF of the knowledge pack (optionally with an imported dictionary's ``fields``)."""
    pack = knowledge or load_knowledge()
    design = pack.table("registry_study", StudyDesign)
    rows = fields if fields is not None else pack.rows("registry_dictionary", DictionaryField)
    text = dictionary_csv(rows)
    return Crf(
        fields=rows,
        design=design,
        version=design.dictionary_version,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
