"""No internal research notes or placeholders on a clinical page or its PDF: the assessment page,
the printable report and the Law 648/96 dossier of every example case (with and without the
example site settings) contain none of the phrases of the knowledge pack's research notes.

Unverified facts are still flagged — as one short statement each, behind their toggle — and
the notes themselves stay in the pack's provenance (the knowledge browser shows them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.report.html import assessment_html
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.name != "settings.yaml")

#: Phrases of research notes, file paths and placeholders (case-insensitive).
INTERNAL_PHRASES = (
    "pages corpus",
    "placeholder",
    "seed 0",
    "seeds/",
    "recalled",
    "searched",
    "pages/docs",
    "pages/issues",
    "shared/clinical",
    ".md §",
    "kompy.info",
    "scite copy",
    "this project",
    "see header",
    "not re-read",
    "interpretation i-",
    "todo",
    "tbd",
)


def visible_text(html: str) -> str:
    """The text a reader sees (tags, scripts and styles removed)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def internal(text: str) -> list[str]:
    lowered = text.lower()
    found = []
    for phrase in INTERNAL_PHRASES:
        for match in re.finditer(rf"\b{re.escape(phrase)}", lowered):
            found.append(text[max(0, match.start() - 80) : match.end() + 40])
    return found


@pytest.fixture(scope="module", params=["reference", "example-settings"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, knowledge: Knowledge
) -> Iterator[tuple[TestClient, Clinic]]:
    folder = tmp_path_factory.mktemp("texts")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'cmvcds.sqlite3'}",
        demo_cases=False,
        site_settings=ROOT / "examples" / "settings.yaml"
        if request.param == "example-settings"
        else None,
    )
    clinic = Clinic.from_settings(settings)
    clinic.knowledge = knowledge
    clinic.today = lambda: TODAY
    with TestClient(create_app(settings, clinic)) as client:
        yield client, clinic


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_clinical_pages_carry_no_internal_notes(
    site: tuple[TestClient, Clinic], path: Path
) -> None:
    client, clinic = site
    with path.open("rb") as handle:
        posted = client.post(
            "/cases/upload", files={"file": (path.name, handle)}, follow_redirects=False
        )
    assert posted.status_code == 303, posted.text[-500:]
    location = posted.headers["location"]
    page = client.get(location)
    assert page.status_code == 200
    pages = {"assessment page": page.text}
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    pages["printable report (PDF)"] = assessment_html(clinic.assess(raw), raw)
    if raw["context"] == "pregnancy":
        pages["648/96 dossier"] = client.get(location + "/dossier").text
    for name, html in pages.items():
        assert internal(visible_text(html)) == [], f"{path.name}, {name}"
    if "unverified-fact" in client.get(location + "/assessment.json").text:
        assert '<section class="unverified" id="unverified">' in page.text
        assert "<details>" in page.text.split('id="unverified"', 1)[1]


ADULT = {
    "patient.age_years": "54",
    "patient.sex": "male",
    "patient.weight_kg": "80",
    "patient.height_cm": "178",
    "patient.creatinine": "1.8",
    "patient.creatinine_unit": "mg/dL",
    "anc": "3200",
    "platelets": "210000",
}
INFANT = {"patient.birth_date": "2026-10-01", "patient.weight_kg": "4.1", "patient.height_cm": "55"}


@pytest.mark.parametrize(
    "drug", ["valganciclovir", "ganciclovir", "foscarnet", "cidofovir", "letermovir", "maribavir"]
)
def test_dose_pages_carry_no_internal_notes(site: tuple[TestClient, Clinic], drug: str) -> None:
    client, _ = site
    for indication in ("induction", "maintenance", "prophylaxis", "preemptive", "refractory"):
        for patient in (ADULT, ADULT | {"organ": "kidney"}, ADULT | {"organ": "hsct"}):
            form = {"drug": drug, "indication": indication, "region": "us"} | patient
            page = client.post("/dose", data=form).text
            assert internal(visible_text(page)) == [], (drug, indication, patient)
    page = client.post("/dose", data={"drug": drug, "indication": "congenital"} | INFANT).text
    assert internal(visible_text(page)) == []


def test_resistance_page_carries_no_internal_notes(site: tuple[TestClient, Clinic]) -> None:
    client, _ = site
    mutations = "UL97:M460V, UL97:C592G, UL54:A809V, UL56:C325Y, UL27:R233S, UL97:T409M"
    page = client.post("/resistance", data={"mutations": mutations}).text
    assert "UL97" in page
    assert internal(visible_text(page)) == []


def test_the_phrase_check_can_fail() -> None:
    note = "Not yet verified: AIFA Table 2 (placeholder for AIFA Table 2; searched pages corpus)."
    assert len(internal(note)) == 3
