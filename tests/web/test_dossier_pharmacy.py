"""The Law 648/96 dossier a hospital pharmacy accepts (issue 15 item 3): the quantity to dispense
from the marketed packs, the identification typed at print time and never kept, the data the
648/96 monitoring asks for, and the consent form with the information sheet (Italian first).

The quantities are worked by hand from the AIFA regimen (2 g every 6 h, Determina 16-12-2020)
and the pack sizes printed in the Gazzetta Ufficiale (Valaciclovir EG, GU n. 36, 13-02-2010:
500 mg in 10, 21, 30 and 42 tablets; Valaciclovir TecniGen, GU 05-01-2015: 500 mg in 42).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cmvcds.engine.pregnancy.dispensing import quantity_to_dispense
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.pregnancy import PharmacyDossier

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAME = "Quagliarulo Ermenegilda"
TAX_CODE = "QGLRNG92D51H501K"  # a valid codice fiscale (check character K) for 1992-04-11


def _packs(knowledge: Knowledge, strength: int) -> list:  # type: ignore[type-arg]
    table = knowledge.tables["pregnancy_law648"]
    assert isinstance(table, PharmacyDossier)
    return table.packs_of("valacyclovir", Decimal(strength))


def test_the_pack_sizes_are_those_the_gazzetta_ufficiale_prints(knowledge: Knowledge) -> None:
    sizes = sorted((p.aic, p.units) for p in _packs(knowledge, 500))
    assert sizes == [
        ("038817045", 10),
        ("038817058", 21),
        ("038817060", 42),
        ("038817108", 30),
        ("042596027", 42),
    ]
    for pack in _packs(knowledge, 500) + _packs(knowledge, 1000):
        locators = " ".join(knowledge.sources[s].locator or "" for s in pack.citations)
        assert pack.aic in locators, f"{pack.aic} is not in its source's locator"


def test_a_prevention_course_to_26_weeks_in_500_mg_tablets(knowledge: Knowledge) -> None:
    """2 g every 6 h from 2026-03-02 to 26+0 (2026-06-20): 111 days × 16 = 1,776 tablets."""
    q = quantity_to_dispense(
        Decimal(2000), 6, date(2026, 3, 2), date(2026, 6, 20), Decimal(500), _packs(knowledge, 500)
    )
    assert (q.days, q.tablets_per_dose, q.doses_per_day, q.tablets) == (111, 4, 4, 1776)
    by_size = {(c.pack.aic, c.packs, c.left_over) for c in q.packs}
    assert ("038817060", 43, 30) in by_size  # 43 × 42 = 1,806
    assert ("038817045", 178, 4) in by_size  # 178 × 10 = 1,780
    assert ("038817108", 60, 24) in by_size  # 60 × 30 = 1,800


def test_boundaries_one_day_and_an_exact_fill(knowledge: Knowledge) -> None:
    one = quantity_to_dispense(
        Decimal(2000), 6, date(2026, 5, 1), date(2026, 5, 1), Decimal(1000), _packs(knowledge, 1000)
    )
    assert (one.days, one.tablets) == (1, 8)
    # 21 days of 1 g twice daily in 1000 mg tablets: 42 tablets fill one pack of 42 exactly
    exact = quantity_to_dispense(
        Decimal(1000),
        12,
        date(2026, 5, 1),
        date(2026, 5, 21),
        Decimal(1000),
        _packs(knowledge, 1000),
    )
    assert exact.tablets == 42
    assert ("038817096", 1, 0) in {(c.pack.aic, c.packs, c.left_over) for c in exact.packs}


@pytest.mark.parametrize(
    ("dose", "every", "first", "last", "strength", "field"),
    [
        (1500, 6, date(2026, 5, 1), date(2026, 5, 2), 1000, "dose_mg"),  # 1.5 tablets
        (2000, 5, date(2026, 5, 1), date(2026, 5, 2), 500, "every_h"),  # 24 h not divided
        (2000, 6, date(2026, 5, 2), date(2026, 5, 1), 500, "stop"),  # ends before it starts
    ],
)
def test_a_quantity_that_would_be_rounded_is_refused(
    dose: int, every: int, first: date, last: date, strength: int, field: str
) -> None:
    with pytest.raises(InputError) as refused:
        quantity_to_dispense(Decimal(dose), every, first, last, Decimal(strength), [])
    assert refused.value.field == field


def _upload(client: TestClient, name: str) -> str:
    with (EXAMPLES / name).open("rb") as handle:
        posted = client.post(
            "/cases/upload", files={"file": (name, handle)}, follow_redirects=False
        )
    assert posted.status_code == 303, posted.text[-400:]
    return str(posted.headers["location"])


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_dossier_of_an_in_utero_treatment_dispenses_to_the_edd(client: TestClient) -> None:
    """From 2026-05-20 to the EDD 2026-09-26: 130 days × 16 = 2,080 tablets of 500 mg."""
    location = _upload(client, "pregnancy-fetal-treatment.yaml")
    page = client.get(location + "/dossier").text
    assert '<form class="form no-print" method="post"' in page
    text = _text(page)
    assert "Valacyclovir 500 mg tablets: 2080 tablets" in text
    assert "for 130 days from 2026-05-20 to 2026-09-26 (both included)" in text
    assert re.search(r'data-pack="038817060"><th>[^<]+</th><td>50</td><td>20</td>', page)
    assert "Valacyclovir 1000 mg tablets: 1040 tablets" in text
    for datum in ("consent", "eligibility", "baseline-renal", "amniocentesis", "outcome", "report"):
        assert f'data-record="{datum}"' in page, datum


def test_the_dossier_in_italian(client: TestClient) -> None:
    location = _upload(client, "pregnancy.yaml")
    client.cookies.set("lang", "it")
    text = _text(client.get(location + "/dossier").text)
    assert "Quantità da dispensare" in text
    assert "Valaciclovir compresse da 500 mg: 1776 compresse" in text
    assert "Dati da registrare per il monitoraggio Legge 648/96" in text
    assert "Consenso informato scritto firmato dalla paziente, con la data" in text


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    """Every log record of every logger (those that do not propagate too), at DEBUG."""
    handler = _Everything()
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler.lines
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_the_identification_is_printed_and_never_kept(
    client: TestClient, tmp_path: Path, every_log_line: list[str]
) -> None:
    location = _upload(client, "pregnancy.yaml")
    typed = {
        "patient_name": NAME,
        "birth_date": "1992-04-11",
        "tax_code": TAX_CODE,
        "hospital": "Ospedale San Gerardo",
        "ward": "Ostetricia B",
        "prescriber": "Dr.ssa Lucrezia Fantozzi",
    }
    dossier = client.post(location + "/dossier", data=typed)
    assert dossier.status_code == 200
    assert dossier.headers["cache-control"] == "no-store"
    for name, value in typed.items():
        assert f'<td data-print="{name}">{value}</td>' in dossier.text, name
    consent = client.post(location + "/consent?lang=it", data=typed).text
    assert '<html lang="it">' in consent
    assert f'<span class="line" data-print="patient_name">{NAME}</span>' in consent
    assert "Io sottoscritta" in consent and "Foglio informativo per la paziente" in consent
    assert "I, the undersigned" in client.post(location + "/consent?lang=en", data=typed).text

    # Not in the store, the case, the assessment, any page served afterwards, or any log line.
    for path in ("/dossier", "/assessment.json", "/case.yaml", ""):
        assert NAME not in client.get(location + path).text, path
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("cmvcds.sqlite3*"))
    assert stored, "the store's database was not found"
    for secret in (NAME, TAX_CODE, "Fantozzi"):
        assert secret.encode() not in stored, secret
        assert not [line for line in every_log_line if secret in line], secret
    assert every_log_line, "no log line was captured: the check above proves nothing"


def test_the_identification_is_not_accepted_in_the_address(client: TestClient) -> None:
    """A GET with the name in the query string (which request logs would record) prints
    nothing of it: the fields come from the form's POST body only."""
    location = _upload(client, "pregnancy.yaml")
    page = client.get(location + "/dossier", params={"patient_name": NAME}).text
    assert NAME not in page


@pytest.mark.parametrize(
    ("typed", "refused"),
    [
        ({"birth_date": "1993-13-45"}, "birth_date: not a date"),
        ({"birth_date": "31/02/1992"}, "birth_date: not a date"),
        ({"birth_date": "2031-04-11"}, "birth_date: after the assessment date"),
        ({"birth_date": "1993-04-05"}, "birth_date: gives an age of"),  # the case: born 1992-04-11
        ({"tax_code": "ZCC"}, "tax_code: not a valid codice fiscale"),
        ({"tax_code": "QGLRNG92D51H501Z"}, "tax_code: not a valid codice fiscale: the check"),
        ({"tax_code": "RSSMRA92D51H501Z"}, "tax_code: not a valid codice fiscale: the check"),
        (
            {"birth_date": "1992-04-11", "tax_code": "RSSMRA85T10A562S"},
            "tax_code: encodes another birth date",
        ),
    ],
)
def test_an_impossible_identification_is_refused_naming_its_field(
    client: TestClient, typed: dict[str, str], refused: str, every_log_line: list[str]
) -> None:
    """Found by an outside probe: "1993-13-45" and a 3-letter tax code were printed on the
    dossier. The check character and the encoded birth date are those of the codice fiscale
    (python-stdnum). Probe 1 (D7): the refusal emptied every typed field and the PDF and consent
    buttons answered a bare JSON error; now each of the three answers the dossier page (422)
    with the typed values back in the form (to the user who typed them only: nothing printed
    into the document, nothing logged or stored), the field to correct marked."""
    location = _upload(client, "pregnancy.yaml")
    sent = {"patient_name": NAME, "hospital": "Ospedale San Gerardo", **typed}
    for path in ("/dossier", "/dossier.pdf", "/consent?lang=it"):
        answer = client.post(location + path, data=sent)
        assert answer.status_code == 422, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert answer.headers["cache-control"] == "no-store", path
        assert refused in answer.text, path
        assert "Not printed: correct these fields" in answer.text, path
        for name, value in sent.items():  # kept in the form, never printed into the dossier
            assert f'<input name="{name}" autocomplete="off" value="{value}"' in answer.text, name
            assert f'data-print="{name}">{value}<' not in answer.text, name
        wrong = refused.split(":")[0]
        assert (
            f'name="{wrong}" autocomplete="off" value="{typed[wrong]}" aria-invalid="true"'
            in answer.text
        )
        assert f'action="{location}/dossier"' in answer.text, path
    assert not [
        line for line in every_log_line if NAME in line or typed.get("tax_code", "§") in line
    ]
    italian = client.post(
        location + "/dossier.pdf", data=sent, headers={"Accept-Language": "it"}
    ).text
    assert "Non stampato: correggere questi campi" in italian
    assert refused.split(":")[0] + ": " in italian and "not a" not in italian
