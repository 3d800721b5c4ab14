"""The FHIR mapping's sentences in Italian (the web pages, the SMART app and the CDS Hooks cards
say them in the reader's language): each is a ``Reason`` whose template is a msgid of the
gettext catalogue (``adapters/web/locale/it/LC_MESSAGES/messages.po``), its values said in turn.

Two checks of the class, not of one sentence: every ``Reason`` template written in
``adapters/fhir`` has its Italian with the same placeholders; every line the mapping says for
the EHR corpus and for the probe records (older weight, conflicts, partial dates, stand-in
Patient, multi-dosage courses, timing codes) is a ``Reason`` — an f-string added later fails
here — and reads in Italian with the same dates and numbers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from cmvcds.adapters.fhir.mapping import ABSENT_PATIENT, MappedCase, bundle_to_case
from cmvcds.adapters.fhir.reason import Reason
from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.i18n import PO_FILE, said
from cmvcds.errors import InputError
from tests.conftest import TODAY
from tests.fhir.builders import UCUM
from tests.fhir.ehr.test_ehr_corpus import CASES, bundles, load
from tests.fhir.test_probe6_mapping import _knowledge, mapped, observation, patient, timed

FHIR = Path(__file__).resolve().parents[2] / "src" / "cmvcds" / "adapters" / "fhir"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _templates() -> list[str]:
    found = []
    for path in sorted(FHIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reason":
                first = node.args[0]
                for part in (
                    (first.body, first.orelse) if isinstance(first, ast.IfExp) else (first,)
                ):
                    if isinstance(part, ast.Constant):
                        found.append(part.value)
    return found


def test_every_template_of_the_mapping_has_its_italian_with_the_same_placeholders() -> None:
    with PO_FILE.open("rb") as handle:
        catalogue = read_po(handle)
    templates = _templates()
    assert len(templates) > 70
    for template in templates:
        message = catalogue.get(template)
        assert message is not None and message.string, template
        assert sorted(_PLACEHOLDER.findall(template)) == sorted(
            _PLACEHOLDER.findall(str(message.string))
        ), template


def _in_italian(line: str) -> str:
    token = i18n.set_language("it")
    try:
        return said(line)
    finally:
        i18n.reset_language(token)


def _lines(result: MappedCase) -> list[str]:
    return [*result.unmapped, *result.notes, *result.ignored, *result.foreign]


def _probes() -> list[MappedCase]:
    kg = {"value": 80, "unit": "kg", "system": UCUM, "code": "kg"}
    # a unit still not read (pounds are since probe14 F6: 1 [lb_av] = 0.45359237 kg)
    pounds = {"value": 9.4, "unit": "st", "system": UCUM, "code": "[stone_av]"}
    stand_in = patient(meta={"tag": [{"system": ABSENT_PATIENT[0], "code": ABSENT_PATIENT[1]}]})
    return [
        # an older weight used because the later one is in pounds (review7 #9)
        mapped(
            patient(),
            observation("w2", "29463-7", "2026-11-15", valueQuantity=pounds),
            observation("w1", "29463-7", "2025-06-01", valueQuantity=kg),
        ),
        # two weights of one day that differ; an older one superseded
        mapped(
            patient(),
            observation("a", "29463-7", "2026-11-01", valueQuantity=kg),
            observation("b", "29463-7", "2026-11-01", valueQuantity={**kg, "value": 70}),
            observation("c", "29463-7", "2026-01-01", valueQuantity={**kg, "value": 60}),
        ),
        # a result dated to the month only; the stand-in Patient of an export
        mapped(stand_in, observation("m", "29463-7", "2026-10", valueQuantity=kg)),
        # a birth date to the year, a type not read
        mapped(patient(birthDate="1992"), {"resourceType": "Encounter", "id": "e1"}),
        # timing codes: a local code, a disagreement, times of day without frequency
        timed({"code": {"coding": [{"system": "http://hospital.example/freq", "code": "BID"}]}}),
        timed(
            {
                "repeat": {"frequency": 2, "period": 1, "periodUnit": "d"},
                "code": {"coding": [{"system": GTS, "code": "QD"}]},
            }
        ),
        timed({"repeat": {"when": ["MORN", "EVE"]}}),
    ]


def _corpus() -> list[MappedCase]:
    out = []
    for path in CASES:
        for _where, data in bundles(load(path)):
            try:
                out.append(
                    bundle_to_case(data, _knowledge(), context="pregnancy", assessed_on=TODAY)
                )
            except InputError:
                continue
    return out


@pytest.fixture(scope="module")
def lines() -> list[str]:
    found = [line for result in [*_probes(), *_corpus()] for line in _lines(result)]
    assert len(found) > 20
    return found


def test_every_line_the_mapping_says_is_a_reason_said_in_italian(lines: list[str]) -> None:
    assert [line for line in lines if not isinstance(line, Reason)] == []
    for line in lines:
        italian = _in_italian(line)
        assert italian != line or not re.search(r"[a-z]{4,} [a-z]{4,}", line), line
        for value in re.findall(r"\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?", line):
            assert italian.count(value) >= line.count(value), (line, italian)


def test_the_older_weight_is_said_in_italian_with_its_dates() -> None:
    line = next(n for n in _probes()[0].notes if "could not be read" in n)
    assert str(line) == (
        "weight_kg: 80 of 2025-06-01 is used; the later weight Observation/w2 of 2026-11-15 "
        "could not be read"
    )
    assert _in_italian(line) == (
        "weight_kg: è usato il valore 80 del 2025-06-01; il peso successivo Observation/w2 del "
        "2026-11-15 non è stato letto"
    )


def test_a_nested_reason_is_said_whole_in_italian() -> None:
    """A multi-dosage course: the kind, drug and count carried over, the sentence in Italian."""
    inner = Reason(
        "%(kind)s of %(drug)s has %(n)s dosage instructions that do not each give dates "
        "following one another (timing.repeat.boundsPeriod): the dose was NOT checked",
        kind="MedicationRequest",
        drug="valganciclovir",
        n=2,
    )
    outer = Reason("%(where)s: %(why)s", where="MedicationRequest/o1", why=inner)
    assert _in_italian(outer) == (
        "MedicationRequest/o1: MedicationRequest di valganciclovir ha 2 istruzioni di dosaggio "
        "che non riportano ciascuna date consecutive (timing.repeat.boundsPeriod): la dose NON "
        "è stata verificata"
    )
