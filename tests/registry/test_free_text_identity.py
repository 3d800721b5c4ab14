"""Identity typed into free text (probe8 W3; ``free_text.py``, ADR 0031-fix8b).

The probe saved the adverse-event term "Rash - Maria ROSSI, tel 3331234567, via Roma 12 Firenze,
CF RSSMRA88L54D612X" and found it verbatim in all three central (pseudonymised) exports. Now
the entry screen refuses it, and a value already stored (entered before the screen) is withheld
whole from the REDCap CSV, the CDISC ODM and the FHIR NDJSON of the central profile, whose
README.txt says so; the site's own identified export keeps it.

Tax codes: the check character of a codice fiscale is fixed by D.M. 23/12/1976 (odd positions
by the decree's table, even ones by value, sum mod 26); RSSMRA80A01H501U is the usual published
example (Mario Rossi, born 1 January 1980 in Rome), RSSMRA88L54D612X the probe's.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest

from cmvcds.registry import exports
from cmvcds.registry.free_text import (
    WITHHELD_FREE_TEXT,
    WITHHELD_IDENTIFIER,
    codice_fiscale_valid,
    find_identifiers,
)
from cmvcds.registry.models import DataValue, Subject
from cmvcds.registry.services import crf

from .conftest import World
from .helpers import enrol
from .web import csrf_of, log_in, opened_form

PROBE = "Rash - Maria ROSSI, tel 3331234567, via Roma 12 Firenze, CF RSSMRA88L54D612X"
IDENTITY = ("ROSSI", "3331234567", "RSSMRA", "via Roma", "HRN-7788")
AE = ("valacyclovir_start", "adverse_event")
AE_FIELDS = {"ae_onset": "2026-02-03", "ae_severity": "2", "ae_serious": "0", "ae_relation": "2",
             "ae_action": "1"}  # fmt: skip


@pytest.mark.parametrize("code", ["RSSMRA80A01H501U", "RSSMRA88L54D612X"])
def test_a_codice_fiscale_with_its_check_character_is_certain(code: str) -> None:
    assert codice_fiscale_valid(code)
    wrong = code[:15] + ("A" if code[15] != "A" else "B")
    assert not codice_fiscale_valid(wrong)
    assert [(f.kind, f.certain) for f in find_identifiers(f"CF {code}")] == [
        ("codice fiscale", True)
    ]
    assert [(f.kind, f.certain) for f in find_identifiers(f"CF {wrong}")] == [
        ("codice fiscale", False)
    ]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        (PROBE, {"codice fiscale", "phone number", "street address", "name"}),
        ("rash, call +39 333 123 4567", {"phone number"}),
        ("telefono 055 4271111", {"phone number"}),
        ("write to maria.rossi@example.it", {"e-mail address"}),
        ("riferito dalla Sig.ra Bianchi", {"name"}),
    ],
)
def test_identifiers_are_found(text: str, kinds: set[str]) -> None:
    assert {f.kind for f in find_identifiers(text)} == kinds


@pytest.mark.parametrize(
    "text",
    ["Rash on the trunk", "Nausea, valacyclovir per via orale", "CMV viral load 350000000 copies/mL",
     "Rash CMV-related", "Neutropenia grade 2 (ANC 0.9)", "Headache after 2 g"],
)  # fmt: skip
def test_clinical_text_is_left_alone(text: str) -> None:
    assert find_identifiers(text) == []


def _mother(world: World) -> str:
    with world.registry.session(world.entry_a) as s:
        key = enrol(s, world.entry_a, "HRN-7788-ROSSIMARIA")
        crf.save_form(s, world.entry_a, key, "maternal_diagnosis", "enrolment",
                      {"enrolment_date": "2026-01-12", "maternal_birth_date": "1988-07-14"})  # fmt: skip
    return key


def test_entry_refuses_identity_in_free_text(site, world: World) -> None:  # type: ignore[no-untyped-def]
    client, _clock, _keys = site
    key = _mother(world)
    log_in(client, "entry_a")
    url = f"/registry/subjects/{key}/{AE[0]}/{AE[1]}"
    fields = {f"f_{k}": v for k, v in AE_FIELDS.items()}

    def post(term: str, **extra: str):  # type: ignore[no-untyped-def]
        return client.post(url, data={**opened_form(client.get(url).text), **fields,
                                      "f_ae_term": term, **extra}, follow_redirects=False)  # fmt: skip

    probe = post(PROBE)
    assert probe.status_code == 422 and "must not identify anyone" in probe.text
    assert "codice fiscale" in probe.text and 'name="confirm_free_text"' not in probe.text
    refused = post(PROBE, confirm_free_text="1")  # a valid tax code cannot be confirmed away
    assert refused.status_code == 422
    own = post("Rash noted at visit, record HRN-7788-ROSSIMARIA")
    assert own.status_code == 422 and "own identifier" in own.text
    born = post("Rash; patient born 14/07/1988")  # her birth date as written in Italy
    assert born.status_code == 422 and "own identifier" in born.text
    phone = post("Rash, tel 3331234567")
    assert phone.status_code == 422 and 'name="confirm_free_text"' in phone.text
    with world.registry.session(None) as s:
        assert s.query(DataValue).filter(DataValue.field == "ae_term").count() == 0
    confirmed = post("Rash, tel 3331234567", confirm_free_text="1")  # the user checked it
    assert confirmed.status_code == 303
    assert post("Rash on the trunk", reason="reworded").status_code == 303


def _stored_before_the_screen(world: World, key: str) -> None:
    """The probe's term, as stored before entry was screened (written like the form did)."""
    with world.registry.session(world.entry_a) as s:
        subject = s.query(Subject).filter(Subject.pseudonym == key).one()
        crf.save_form(s, world.entry_a, key, *AE, {**AE_FIELDS, "ae_term": "Nausea"})
        crf.save_form(s, world.entry_a, key, *AE, {**AE_FIELDS}, instance=2)
        s.add(DataValue(subject_id=subject.id, site_id=subject.site_id, event=AE[0],
                        instrument=AE[1], instance=2, field="ae_term", value=PROBE))  # fmt: skip


def _terms(fmt: str, files: dict[str, str]) -> list[str]:
    if fmt == "redcap":
        return [
            r["ae_term"] for r in csv.DictReader(io.StringIO(files["records.csv"])) if r["ae_term"]
        ]
    if fmt == "odm":
        root = ET.fromstring(files["study.odm.xml"])
        return [e.get("Value", "") for e in root.iter("{http://www.cdisc.org/ns/odm/v1.3}ItemData")
                if e.get("ItemOID") == "I.AE_TERM"]  # fmt: skip
    return [
        o["valueString"]
        for o in map(json.loads, files["Observation.ndjson"].splitlines())
        if "valueString" in o
    ]


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_the_central_export_withholds_identity_typed_into_free_text(world: World, fmt: str) -> None:
    key = _mother(world)
    _stored_before_the_screen(world, key)
    with world.registry.session(world.dm) as s:
        central = exports.export(s, world.dm, fmt=fmt, profile="central").files
        withheld = exports.export(
            s, world.dm, fmt=fmt, profile="central", free_text="withhold"
        ).files
    with world.registry.session(world.pi_a) as s:
        site = exports.export(s, world.pi_a, fmt=fmt, profile="site").files
    text = "\n".join(central.values())
    assert not [needle for needle in IDENTITY if needle.lower() in text.lower()], fmt
    assert sorted(_terms(fmt, central)) == sorted(["Nausea", WITHHELD_IDENTIFIER])
    readme = central["README.txt"]
    assert "NOT guaranteed to be free of identity" in readme and "ae_term: 1" in readme
    assert _terms(fmt, withheld) == [WITHHELD_FREE_TEXT] * 2  # nothing typed leaves the site
    assert "ae_term: 2" in withheld["README.txt"]
    assert "RSSMRA88L54D612X" in "\n".join(site.values())  # the site's own export keeps it
    assert "README.txt" not in site


def test_the_export_page_offers_withholding_and_zips_the_readme(site, world: World) -> None:  # type: ignore[no-untyped-def]
    client, _clock, _keys = site
    key = _mother(world)
    _stored_before_the_screen(world, key)
    log_in(client, "dm")
    page = client.get("/registry/exports").text
    assert 'name="free_text"' in page and "README.txt" in page
    answer = client.post("/registry/exports", data={"csrf": csrf_of(page), "fmt": "redcap",
                                                    "profile": "central", "dates": "coarsen"})  # fmt: skip
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert "README.txt" in archive.namelist()
    assert b"RSSMRA" not in archive.read("records.csv")
