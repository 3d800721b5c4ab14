"""The faces: ``cmvcds ask`` (text and JSON), ``POST /api/v1/ask`` and the Ask page, with a
personalised answer from a case file, the patient audience and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.cli.main import app as cli
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


@pytest.fixture
def client(tmp_path: Path, knowledge: Knowledge) -> TestClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cmvcds.sqlite3'}", demo_cases=False)
    return TestClient(create_app(settings, Clinic(knowledge, today=lambda: TODAY)))


def test_cli_json_answer(engine: object) -> None:
    result = runner.invoke(cli, ["ask", "Dose di VGC con clearance 45 ml/min?", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["format"] == "cmvcds-answer/1"
    assert document["understood"]["drugs"] == ["valganciclovir"]
    assert document["understood"]["numbers"] == {"crcl_ml_min": 45}
    assert "450 mg ogni 12 h" in document["summary"]  # asked in Italian: the label row in Italian


def test_cli_text_shows_the_review_status_first(engine: object) -> None:
    result = runner.invoke(cli, ["ask", "What is the treatment for CMV infection?"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2] == "!! REVIEW STATUS: DRAFT !!"
    assert "REFERENCES" in result.stdout and "FOLLOW-UP QUESTIONS" in result.stdout


def test_cli_personalised_by_a_pregnancy_case(engine: object) -> None:
    """Her dates come from her own assessment (LMP 2025-12-20; seroconversion, first positive
    2026-02-20): the amniocentesis from 2026-05-10 (the later of 2026-02-20 + 56 days = 2026-04-17
    and 20+1 = 2026-05-10), valacyclovir until 26+0 = 2026-06-20 without one."""
    result = runner.invoke(
        cli,
        [
            "ask",
            "When is the amniocentesis?",
            "--case",
            str(EXAMPLES / "pregnancy.yaml"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    case = document["sections"][0]
    assert case["kind"] == "case" and case["title"] == "For this patient"
    texts = [s["text"] for s in case["statements"]]
    assert any(t.startswith("valacyclovir-prevention: recommended.") for t in texts)
    assert "amniocentesis: earliest 2026-05-10." in texts
    assert any("valacyclovir 2000 mg" in t and "to 2026-06-20" in t for t in texts)
    assert document["summary"].startswith("For case demo-pregnancy-01 on 2026-03-02: ")
    assert document["case"] == {"case_id": "demo-pregnancy-01", "assessed_on": "2026-03-02"}
    for statement in case["statements"]:
        assert statement["citations"] and statement["origin"] == "case"


def test_personalised_answer_keeps_to_the_case_context(engine: object) -> None:
    """Issue 19: a pregnancy case asked a general question gets no HIV or transplant statement."""
    result = runner.invoke(
        cli,
        [
            "ask",
            "What is the treatment?",
            "--case",
            str(EXAMPLES / "pregnancy.yaml"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    ids = [s["id"] for section in document["sections"] for s in section["statements"]]
    assert any(i.startswith("pregnancy-") for i in ids), ids
    assert not [i for i in ids if i.startswith(("hiv-", "sot-", "hsct-", "valganciclovir-label"))]


def test_cli_audience_auto_follows_the_wording(engine: object) -> None:
    """Issue 19: "I am pregnant…" read with --audience auto is answered for a patient."""
    question = "I am pregnant and my CMV test came back positive. Will my baby be okay?"
    result = runner.invoke(cli, ["ask", question, "--audience", "auto", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["audience"] == "patient" and document["understood"]["audience"] == "patient"
    assert document["ask_doctor"]


def test_cli_patient_audience_uses_plain_language(engine: object) -> None:
    result = runner.invoke(
        cli,
        [
            "ask",
            "How long will my baby take valganciclovir?",
            "--audience",
            "patient",
            "--format",
            "json",
        ],
    )
    document = json.loads(result.stdout)
    assert document["audience"] == "patient"
    assert document["ask_doctor"]
    assert "Do not start, stop or change a medicine" in document["disclaimer"]
    texts = [s["text"] for section in document["sections"] for s in section["statements"]]
    assert (
        "Babies with clear signs of CMV are treated with valganciclovir by mouth for 6 months."
        in texts
    )


def test_cli_bad_input_exits_2() -> None:
    result = runner.invoke(cli, ["ask", "x" * 600])
    assert result.exit_code == 2
    assert "at most 500" in result.stderr


def test_api_ask(client: TestClient) -> None:
    response = client.post(
        "/api/v1/ask",
        json={"question": "Qual è la terapia in gravidanza?", "audience": "clinician"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["covered"] and body["understood"]["populations"] == ["pregnancy"]
    assert body["references"] and body["knowledge"]["version"]


@pytest.mark.parametrize(
    ("question", "reader"),
    [
        (
            "Sono incinta e ho il citomegalovirus: il valaciclovir è sicuro per il bambino?",
            "patient",
        ),
        ("My baby has congenital CMV. How long will he take valganciclovir?", "patient"),
        ("Valganciclovir dose after kidney transplant with CrCl 35", "clinician"),
        ("Il mio paziente trapiantato di rene ha CMV refrattario: cosa fare?", "clinician"),
    ],
)
def test_api_infers_the_audience_when_not_given(
    client: TestClient, question: str, reader: str
) -> None:
    """Issue 19, item 4: no audience in the request: the wording tells who reads."""
    body = client.post("/api/v1/ask", json={"question": question}).json()
    assert body["audience"] == reader
    ids = [s["id"] for sec in body["sections"] for s in sec["statements"]]
    if reader == "patient":
        assert body["ask_doctor"]
        assert not [i for i in ids if i.startswith(("drug-regimens:", "dose-at-crcl:"))]


def test_api_ask_with_a_case(client: TestClient) -> None:
    import yaml

    case = json.loads(
        json.dumps(
            yaml.safe_load((EXAMPLES / "pregnancy.yaml").read_text(encoding="utf-8")), default=str
        )
    )
    response = client.post(
        "/api/v1/ask", json={"question": "When does valacyclovir stop?", "case": case}
    )
    assert response.status_code == 200
    assert response.json()["sections"][0]["kind"] == "case"


@pytest.mark.parametrize(
    "body",
    [
        {"question": ""},
        {"question": "dose?", "audience": "nurse"},
        {"question": "dose?", "extra": 1},
        {
            "question": "dose?",
            "case": {"format": "cmvcds-case/1", "id": "x", "context": "pregnancy", "typo": 1},
        },
    ],
)
def test_api_bad_input_is_a_problem_document(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/api/v1/ask", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_ask_page_form_answer_sources_and_chips(client: TestClient) -> None:
    page = client.get("/ask")
    assert (
        page.status_code == 200
        and 'name="question"' in page.text
        and 'value="patient"' in page.text
    )
    answer = client.post(
        "/ask",
        data={"question": "Can maribavir be given with valganciclovir?", "audience": "clinician"},
    )
    assert answer.status_code == 200
    assert "Review status: DRAFT" in answer.text
    assert "<details>" in answer.text and "<summary>Source</summary>" in answer.text
    assert 'class="chips"' in answer.text and "/ask?q=" in answer.text


def test_ask_page_not_covered(client: TestClient) -> None:
    page = client.get("/ask", params={"q": "How do I bake sourdough bread?"})
    assert page.status_code == 200
    assert 'data-covered="no"' in page.text and "does not cover this question" in page.text


def test_api_and_page_give_a_patient_with_a_case_no_dose(client: TestClient) -> None:
    """probe10 S1 (web): POST /api/v1/ask and POST /ask, patient audience, the pregnancy case
    pasted (valacyclovir 2000 mg every 6 h in the clinician's answer, AIFA protocol)."""
    import re

    import yaml

    raw = (EXAMPLES / "pregnancy.yaml").read_text(encoding="utf-8")
    case = json.loads(json.dumps(yaml.safe_load(raw), default=str))
    question = "Quante compresse di valaciclovir devo prendere?"
    dose = re.compile(r"\d\s*(?:mg|g)\b|ogni \d+ (?:h|ore)|every \d+ h")
    clinician = client.post(
        "/api/v1/ask", json={"question": question, "case": case, "audience": "clinician"}
    ).json()
    assert "2000 mg" in json.dumps(clinician["sections"])
    body = client.post(
        "/api/v1/ask", json={"question": question, "case": case, "audience": "patient"}
    ).json()
    assert not dose.search(body["summary"] + json.dumps(body["sections"], ensure_ascii=False))
    assert "la decide il medico" in body["summary"]
    page = client.post("/ask", data={"question": question, "audience": "patient", "case": raw}).text
    assert "la decide il medico" in page and "2000 mg" not in page


def test_api_refuses_a_request_without_a_prescription(client: TestClient) -> None:
    body = client.post(
        "/api/v1/ask", json={"question": "Come posso comprare il ganciclovir online senza ricetta?"}
    ).json()
    assert body["refused"] is True and body["sections"] == [] and body["references"] == []
    assert "farmacista" in body["summary"]
