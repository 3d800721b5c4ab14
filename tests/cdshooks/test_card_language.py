"""CDS Hooks cards in the clinician's language (Italian or English).

CDS Hooks 2.0 gives a service call no language of its own (neither ``context`` nor
``fhirAuthorization`` carries one), so the call's HTTP ``Accept-Language`` decides (RFC 9110
§12.5.4: by q, then order; ``it-IT`` is ``it``), else the installation's ``cds_language``
(``CMVCDS_CDS_LANGUAGE``), else English; the answer names it in ``Content-Language``. The cards
say the same advice: ids, indicators, dates, doses and the suggested order are those of the
English answer (the goldens of ``test_services.py``); their words come from the gettext
catalogue, the engine's reasons and alerts from the pack's ``clinical_texts_it``, the FHIR
mapping's lines from their ``Reason`` templates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.cdshooks.routes import card_language
from cmvcds.adapters.web.texts import translate
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

FIXTURES = Path(__file__).parent / "fixtures"
PREGNANCY = "/cds-services/cmv-pregnancy-valacyclovir"
DOSE = "/cds-services/cmv-antiviral-dose-check"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _client(tmp_path: Path, knowledge: Knowledge, **site: Any) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cmvcds.sqlite3'}",
        demo_cases=False,
        cds_insecure_no_jwt=True,
        **site,
    )
    app: FastAPI = create_app(settings, Clinic(knowledge, today=lambda: TODAY))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def english_site(tmp_path: Path, knowledge: Knowledge) -> Iterator[TestClient]:
    yield from _client(tmp_path, knowledge)


@pytest.fixture
def italian_site(tmp_path: Path, knowledge: Knowledge) -> Iterator[TestClient]:
    yield from _client(tmp_path, knowledge, cds_language="it")


@pytest.mark.parametrize(
    ("header", "site", "language"),
    [
        (None, "en", "en"),
        (None, "it", "it"),
        ("it-IT,it;q=0.9,en;q=0.8", "en", "it"),
        ("en-GB,en;q=0.9,it;q=0.5", "it", "en"),
        ("fr-FR,fr;q=0.9", "it", "it"),  # names none of ours: the site's
        ("fr, en;q=0.1, it;q=0.2", "en", "it"),  # by q, not by order
        ("it;q=0", "en", "en"),  # q=0: not acceptable
    ],
)
def test_the_language_of_the_cards(header: str | None, site: str, language: str) -> None:
    assert card_language(header, site) == language


def _cards(client: TestClient, path: str, request: str, language: str | None) -> tuple[Any, Any]:
    headers = {"Accept-Language": language} if language else {}
    response = client.post(path, json=load(request), headers=headers)
    assert response.status_code == 200
    return response.headers["content-language"], response.json()["cards"]


def test_an_italian_clinician_reads_the_pregnancy_card_in_italian(english_site: TestClient) -> None:
    """The AIFA 648/96 vignette of the golden file (GA 10+1, amniocentesis from 2027-01-30,
    valacyclovir 2 g every 6 h): the same card, in Italian."""
    said, italian = _cards(
        english_site, PREGNANCY, "pregnancy-valacyclovir.request.json", "it-IT,it;q=0.9"
    )
    _, english = _cards(english_site, PREGNANCY, "pregnancy-valacyclovir.request.json", None)
    assert said == "it"
    assert english == load("pregnancy-valacyclovir.response.json")["cards"]  # English unchanged
    first, first_en = italian[0], english[0]
    assert first["summary"] == (
        "Valaciclovir per la prevenzione dell'infezione fetale da CMV (L. 648/96): raccomandato; "
        "EG 10+1; amniocentesi dal 2027-01-30."
    )
    # the same card: id, indicator, citations, the order suggested (2000 mg every 6 h); the
    # order's dosage text, which the clinician reads, in the card's language (debt22)
    for key in ("uuid", "indicator", "selectionBehavior"):
        assert first[key] == first_en[key]
    order = first["suggestions"][0]["actions"][0]["resource"]
    order_en = first_en["suggestions"][0]["actions"][0]["resource"]
    assert order_en["dosageInstruction"][0]["text"] == "valacyclovir 2000 mg every 6 hours oral"
    assert order["dosageInstruction"][0]["text"] == "valaciclovir 2000 mg ogni 6 ore orale"
    for one in (order, order_en):
        one["dosageInstruction"][0].pop("text")
    assert order == order_en  # coded dose, timing, drug: the same order
    assert first["detail"].startswith("**Perché**\n- ")
    why = first_en["detail"].split("\n\n")[0].splitlines()[1:]
    for line in why:  # every reason from the pack's translation, its dates carried over
        italian_line = "- " + str(translate(line[2:], "it"))
        assert italian_line in first["detail"], line
    assert "Non letto dalla cartella" in first["detail"]
    assert "il codice di Observation http://loinc.org|1234-5" in first["detail"]
    assert "Conoscenze " in first["detail"] and "**Why**" not in first["detail"]
    assert [c["summary"] for c in italian] != [c["summary"] for c in english]


def test_the_site_setting_gives_italian_cards_unless_the_call_asks_for_english(
    italian_site: TestClient,
) -> None:
    said, cards = _cards(italian_site, DOSE, "antiviral-dose-check.request.json", None)
    assert said == "it"
    card = cards[0]
    # Ordered 900 mg twice daily at CrCl 48.61 mL/min: the label's renal band 40-59 gives
    # 450 mg twice daily (valcyte-us-label), as in the English golden card
    assert card["summary"] == (
        "valganciclovir: prescrizione sopra la dose per la funzione renale; scheda tecnica: "
        "450 mg due volte al giorno (CrCl 48.61 mL/min)."
    )
    assert card["suggestions"][0]["label"] == "Modifica in 450 mg due volte al giorno"
    update = card["suggestions"][0]["actions"][0]["resource"]["dosageInstruction"][0]
    assert update["text"] == "450 mg due volte al giorno"  # debt22: not "twice daily"
    assert update["doseAndRate"][0]["doseQuantity"]["value"] == 450
    assert "Funzione renale: cockcroft-gault 48.61 mL/min" in card["detail"]
    assert "Dose prescritta 900 mg due volte al giorno (1800 mg/die)" in card["detail"]
    said, english = _cards(italian_site, DOSE, "antiviral-dose-check.request.json", "en")
    assert said == "en"
    assert english == load("antiviral-dose-check.response.json")["cards"]


def test_the_therapy_monitor_says_its_alerts_and_what_it_did_not_read_in_italian(
    english_site: TestClient,
) -> None:
    _, english = _cards(
        english_site, "/cds-services/cmv-therapy-monitor", "therapy-monitor.request.json", None
    )
    said, italian = _cards(
        english_site, "/cds-services/cmv-therapy-monitor", "therapy-monitor.request.json", "it"
    )
    assert said == "it" and len(italian) == len(english) > 0
    for it, en in zip(italian, english, strict=True):
        assert (it["uuid"], it["indicator"]) == (en["uuid"], en["indicator"])
        assert it["summary"] != en["summary"], en["summary"]
        first = en["detail"].split("\n\n")[0]
        if "`" not in first and not first.startswith("**"):  # an alert's message: the pack's
            assert it["detail"].startswith(str(translate(first, "it")))


def test_an_inferred_indication_is_said_in_italian(english_site: TestClient) -> None:
    """A valganciclovir order with no reasonCode for a kidney recipient with no CMV infection
    recorded: checked as prophylaxis, and the card says it was inferred (EHR corpus case)."""
    case = json.loads(
        (
            Path(__file__).parents[1]
            / "fhir"
            / "ehr"
            / "cases"
            / "dose-indication-inferred-prophylaxis.json"
        ).read_text(encoding="utf-8")
    )
    response = english_site.post(DOSE, json=case["request"], headers={"Accept-Language": "it"})
    assert response.status_code == 200 and response.headers["content-language"] == "it"
    inferred = [c for c in response.json()["cards"] if "dedotta" in c["summary"]]
    assert len(inferred) == 1 and inferred[0]["indicator"] == "info"
    assert "ricevente di trapianto senza infezione o malattia da CMV" in inferred[0]["detail"]
