"""The FHIR value sets as loaded: every LOINC code has the Mod 10 check digit of LOINC's Users'
Guide (refused on load otherwise), every product
code rolls up to a drug the case format knows with a strength and form, and the paging helper
follows, bounds and refuses as its contract says."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cmvcds.adapters.fhir.paging import follow_pages
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import Vocabularies
from cmvcds.knowledge.schemas.fhir import FhirValueSets, ObservationCode
from cmvcds.knowledge.schemas.loinc_check import check_digit, valid_loinc_code

LOINC = "http://loinc.org"


def test_the_users_guide_worked_example() -> None:
    """LOINC Users' Guide 12 C: the Mod 10 check digit of 12345 is 5 (42 + 1062 -> 15 -> 20 - 15)."""
    assert check_digit("12345") == 5


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
        ("LA6576-8", False),  # answer identifiers use a variant: not term codes
    ],
)
def test_the_check_digit_validator_itself(code: str, ok: bool) -> None:
    assert valid_loinc_code(code) is ok


def test_the_fourteen_terms_the_guide_lists_as_invalid_fail() -> None:
    """The guide lists 14 (deprecated) terms whose check digit is known to be wrong: the same
    algorithm must find every one of them wrong, or it is not the guide's algorithm."""
    known = "11491-6 11501-6 5895-7 5896-5 5897-3 5928-1 6028-3 6415-5 6580-7 6645-7 6646-5 6647-3 6648-1 6649-9"
    assert [c for c in known.split() if valid_loinc_code(c)] == []


def test_a_mistyped_loinc_code_fails_on_pack_load() -> None:
    row = {
        "system": LOINC,
        "code": "72493-1",
        "display": "Cytomegalovirus DNA [Units/volume] (viral load) in Serum or Plasma by NAA with probe detection",
        "maps_to": "cmv_dna",
        "confidence": "H",
        "citations": ["loinc-terminology"],
    }
    with pytest.raises(ValidationError, match="wrong Mod 10 check digit"):
        ObservationCode.model_validate(row)
    assert ObservationCode.model_validate({**row, "code": "72493-0"}).code == "72493-0"
    # another system's codes are not LOINC's business
    assert ObservationCode.model_validate({**row, "system": "urn:local", "code": "x"}).code == "x"


def test_every_loinc_code_of_the_pack_has_a_valid_check_digit(knowledge: Knowledge) -> None:
    table = knowledge.table("fhir_valuesets", FhirValueSets)
    codes = [o.code for o in table.observations if o.system == LOINC]
    assert len(codes) > 30
    assert [c for c in codes if not valid_loinc_code(c)] == []


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
