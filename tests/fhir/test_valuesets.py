"""The FHIR value sets as loaded: every LOINC code has a valid mod-10 check digit, every product
code rolls up to a drug the case format knows with a strength and form, and the paging helper
follows, bounds and refuses as its contract says."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from cmvcds.adapters.fhir.paging import follow_pages
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import Vocabularies
from cmvcds.knowledge.schemas.fhir import FhirValueSets

LOINC = "http://loinc.org"


def loinc_check_digit_ok(code: str) -> bool:
    """LOINC's mod 10 check digit of a term code (the Luhn algorithm over the digits, check digit
    included). Answer codes (``LA…-n``) are not term codes and are not checked here."""
    match = re.fullmatch(r"(\d+)-(\d)", code)
    if match is None:
        return False
    digits = [int(c) for c in match.group(1) + match.group(2)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("2160-0", True),
        ("2160-1", False),
        ("29463-7", True),
        ("72493-0", True),
        ("72493-1", False),
        ("101816-7", True),
        ("101816-8", False),
        ("2160", False),
    ],
)
def test_the_check_digit_validator_itself(code: str, ok: bool) -> None:
    assert loinc_check_digit_ok(code) is ok


def test_every_loinc_code_of_the_pack_has_a_valid_check_digit(knowledge: Knowledge) -> None:
    table = knowledge.table("fhir_valuesets", FhirValueSets)
    codes = [o.code for o in table.observations if o.system == LOINC]
    assert len(codes) > 30
    assert [c for c in codes if not loinc_check_digit_ok(c)] == []


def test_verified_loinc_rows_name_a_source_beyond_the_terminology_list(
    knowledge: Knowledge,
) -> None:
    """``verified: true`` only where a page other than the generic LOINC entry was read."""
    table = knowledge.table("fhir_valuesets", FhirValueSets)
    for row in table.observations:
        if row.system == LOINC and row.verified:
            assert row.note and ("loinc.org" in row.note or "ConceptMap" in row.note), row.code


def test_every_product_code_rolls_up_to_a_known_drug_strength_and_form(
    knowledge: Knowledge,
) -> None:
    table = knowledge.table("fhir_valuesets", FhirValueSets)
    drugs = set(knowledge.table("vocabularies", Vocabularies).drugs)
    products = [m for m in table.medications if m.kind not in ("ingredient", "ATC")]
    assert {m.kind for m in products} >= {"SCD", "AIC"}
    for m in products:
        assert m.drug in drugs and m.strength_mg and m.form and m.route, m.code
    scd = next(m for m in products if m.code == "313566")
    assert (scd.drug, scd.strength_mg, scd.form) == ("valganciclovir", Decimal(450), "tablet")


def page(entries: list[str], next_url: str | None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Observation", "id": e}} for e in entries],
    }
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


BASE = "https://fhir.example.org/r4"


def test_paging_reads_every_page_then_stops() -> None:
    pages = {f"{BASE}/p2": page(["b"], f"{BASE}/p3"), f"{BASE}/p3": page(["c"], None)}
    merged, notes = follow_pages(page(["a"], f"{BASE}/p2"), pages.__getitem__, base=BASE)
    assert [e["resource"]["id"] for e in merged["entry"]] == ["a", "b", "c"] and notes == []


def test_paging_is_bounded_and_refuses_loops_and_foreign_hosts() -> None:
    endless = lambda url: page(["x"], f"{url}x")  # noqa: E731
    merged, notes = follow_pages(page(["a"], f"{BASE}/p"), endless, base=BASE, max_pages=5)
    assert len(merged["entry"]) == 5 and notes == [
        "search: stopped after 5 pages; later results not read"
    ]
    loop = {f"{BASE}/p2": page(["b"], f"{BASE}/p2")}
    _, notes = follow_pages(page(["a"], f"{BASE}/p2"), loop.__getitem__, base=BASE)
    assert notes == ["search: page 2 links back to an earlier page; stopped"]
    called: list[str] = []
    _, notes = follow_pages(page(["a"], "https://evil.example.net/steal"), called.append, base=BASE)
    assert called == [] and "outside the FHIR server" in notes[0]
    _, notes = follow_pages(page(["a"], f"{BASE}/p2"), None, base=None)
    assert notes == ["search: further pages (link next) not read: the request gives no fhirServer"]
