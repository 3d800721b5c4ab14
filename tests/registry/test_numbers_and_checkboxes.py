"""Numbers and checkboxes typed into the CRF pages (probe12 findings 2 and 3; ADR 0032-fix12).

Integer fields take REDCap's ``^(-?\\d+|)$`` only (linkml-redcap ``RedcapInteger``), after
trimming; a thousands separator, decimals, an exponent, "+", "_" or non-ASCII digits are refused
with the field named, in the page's language. Decimal fields take the page language's decimal
separator (comma in Italian, point in English) and are stored with a point. The valacyclovir
dose check (study.yaml ``dose-not-8-g``: 8000 mg/day) reads the stored value: an Italian
"8.000" is refused, never read as 8 mg. A ticked checkbox is saved (the hidden empty
``c_<field>`` that lets all boxes be unticked is no code) and exported as ``field___code``.
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from cmvcds.registry import exports
from cmvcds.registry.numbers import canonical

from .conftest import World
from .web import Clock, log_in, opened_form

Site = tuple[TestClient, Clock, dict[str, str]]
VACV = "valacyclovir_start/valacyclovir"
COURSE = "valacyclovir_start/drug_course"
US = "amniocentesis/ultrasound"


def _save(client: TestClient, key: str, form: str, fields: dict[str, str], lang: str = "en",
          boxes: dict[str, list[str]] | None = None) -> tuple[int, str]:  # fmt: skip
    headers = {"Accept-Language": lang}  # the page's language (no ``lang`` cookie set)
    url = f"/registry/subjects/{key}/{form}?instance=1"
    opened = opened_form(client.get(url, headers=headers).text)
    data: list[tuple[str, str]] = [*opened.items(), ("reason", "correction")]
    data += [(f"f_{k}", v) for k, v in fields.items()]
    for name, ticked in (boxes or {}).items():  # as a browser posts them: the hidden one first
        data += [(f"c_{name}", "")] + [(f"c_{name}", code) for code in ticked]
    response = client.post(
        url,
        content=urlencode(data),
        follow_redirects=False,
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )  # repeated c_ keys
    return response.status_code, response.text


def _stored(client: TestClient, key: str, form: str, field: str) -> str:
    page = client.get(f"/registry/subjects/{key}/{form}?instance=1").text
    match = re.search(rf'name="f_{field}" value="([^"]*)"', page)
    assert match
    return match[1]


def _records(world: World) -> list[dict[str, str]]:
    with world.registry.session(world.dm) as s:
        files = exports.export(s, world.dm, fmt="redcap", profile="central").files
    name = next(n for n in files if n.endswith("records.csv"))
    return list(csv.DictReader(io.StringIO(files[name])))


@pytest.mark.parametrize(
    "typed", ["8.000", "8000.0", "1e3", "+8000", "8_000", "8 000", "8,000", "٨٠٠٠", "8.5"]
)
def test_an_integer_field_refuses_all_but_digits(typed: str) -> None:
    for decimal in (".", ","):
        stored, message = canonical("integer", typed, decimal)
        assert stored is None and message and message.startswith("not a whole number")


def test_integer_and_decimal_canonical_values() -> None:
    assert canonical("integer", " 8000 ") == ("8000", None)
    assert canonical("integer", "-0") == ("0", None)
    assert canonical("number", "0,9", ",") == ("0.9", None)
    assert canonical("number", "0.9", ".") == ("0.9", None)
    assert canonical("number", "0.9", ",")[0] is None  # a point on an Italian page: never guessed
    assert canonical("number", "0,9", ".")[0] is None
    assert canonical("number_1dp", "7,5", ",") == ("7.5", None)
    assert canonical("number_1dp", "7,50", ",")[0] is None
    assert canonical("number_comma_decimal", "7.25", ".") == ("7,25", None)  # as REDCap stores it


def test_italian_thousands_separator_is_refused_not_read_as_8_mg(site: Site, world: World) -> None:
    client, _clock, keys = site
    log_in(client, "entry_a")
    status, page = _save(client, keys["a"], VACV, {"treated": "1", "vacv_daily_mg": "8.000"}, "it")
    assert status == 422, page[-1500:]
    assert "vacv_daily_mg" in page and "separatore delle migliaia" in page
    assert "8 g/die" not in page  # no dose query was opened on a value read as 8 mg
    assert _stored(client, keys["a"], VACV, "vacv_daily_mg") != "8.000"
    status, page = _save(client, keys["a"], COURSE, {"course_daily_mg": "8.000"}, "it")
    assert status == 422 and "virgola" in page
    # the right entries are stored canonical and exported so
    assert (
        _save(client, keys["a"], VACV, {"treated": "1", "vacv_daily_mg": " 8000 "}, "it")[0] == 303
    )
    assert _save(client, keys["a"], COURSE, {"course_daily_mg": "7999,5"}, "it")[0] == 303
    assert _stored(client, keys["a"], VACV, "vacv_daily_mg") == "8000"
    assert _stored(client, keys["a"], COURSE, "course_daily_mg") == "7999.5"
    italian = client.get(f"/registry/subjects/{keys['a']}/{COURSE}?instance=1",
                         headers={"Accept-Language": "it"})  # fmt: skip
    assert 'value="7999,5"' in italian.text  # the Italian page shows the Italian decimal comma
    rows = [r for r in _records(world) if r.get("vacv_daily_mg") or r.get("course_daily_mg")]
    assert {r["vacv_daily_mg"] for r in rows} - {""} == {"8000"}
    assert {r["course_daily_mg"] for r in rows} - {""} == {"7999.5"}


def test_the_dose_check_reads_the_stored_value(site: Site, world: World) -> None:
    client, _clock, keys = site
    log_in(client, "entry_a")
    status, _page = _save(client, keys["a"], VACV, {"treated": "1", "vacv_daily_mg": "4000"}, "it")
    assert status == 303
    with world.registry.session(world.entry_a) as s:
        from cmvcds.registry.models import DataQuery

        checks = [q.check_id for q in s.query(DataQuery).all()]
    assert "dose-not-8-g" in checks  # 4000 mg/day is not the 8 g/day regimen: queried


def test_english_page_refuses_a_comma(site: Site) -> None:
    client, _clock, keys = site
    log_in(client, "entry_a")
    status, page = _save(client, keys["a"], VACV, {"treated": "1", "vacv_daily_mg": "8,000"}, "en")
    assert status == 422 and "no thousands separator" in page
    status, page = _save(client, keys["a"], COURSE, {"course_daily_mg": "0,9"}, "en")
    assert status == 422 and "the decimal separator is &#39;.&#39;" in page


@pytest.mark.parametrize(("form", "field", "fixed"), [
    (US, "us_findings", {"us_date": "2026-03-01"}),
])  # fmt: skip
def test_ticked_boxes_are_saved_and_exported(site: Site, world: World, form: str, field: str,
                                             fixed: dict[str, str]) -> None:  # fmt: skip
    client, _clock, keys = site
    log_in(client, "entry_a")
    status, page = _save(client, keys["a"], form, fixed, boxes={field: ["3", "1"]})
    assert status == 303, page[-2000:]
    assert re.search(rf'name="c_{field}" value="1" checked', client.get(
        f"/registry/subjects/{keys['a']}/{form}?instance=1").text)  # fmt: skip
    rows = [r for r in _records(world) if r.get(f"{field}___1") == "1"]
    assert len(rows) == 1
    assert rows[0][f"{field}___3"] == "1" and rows[0][f"{field}___2"] == "0"
    # unticking every box clears the field
    status, _page = _save(client, keys["a"], form, fixed, boxes={field: []})
    assert status == 303
    assert not [r for r in _records(world) if r.get(f"{field}___1") == "1"]
