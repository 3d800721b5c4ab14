"""probe15's Ask defects (fix15b; /work/wt/fix15-REPORT.md S3, S4, S5, B6), by class:

- S3: a question that reads as self-harm or overdose intent gets a crisis answer (an emergency
  number and a crisis line in the question's language, no dose, nothing cited) whoever reads; a
  patient asking about their own dose or stopping their own medicine is answered as a patient
  even when the reader chose clinician; ``cmvcds ask`` infers the reader by default (auto), as the
  web page does.
- S4: a patient asking to stop or skip their medicine because of a symptom is told first not to
  stop on their own, then what the symptom may mean (the marrow toxicity of (val)ganciclovir).
- S5: "neutrophils below 500 in an infant" is a toxicity question: the pack's hold/restart limits
  lead (hold while ANC < 500/mm³, restart above 750/mm³), not a resistance passage.
- B6: a regimen the pack has from a trial, not a label, is not headed "From the drug label".

The questions here are development questions; the probe's own are the held-out set
``heldout_probe15.yaml`` (``probe15_set.py``), held to its floor at the end.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.cli.main import app as cli
from cmvcds.engine.answers import AnswerEngine
from cmvcds.engine.answers.patient_safety import own_medicine, self_harm
from cmvcds.engine.answers.vocabulary import normalise
from cmvcds.knowledge import Knowledge
from tests.answers import probe15_set
from tests.answers.safety_set import _DOSE, text_of
from tests.conftest import TODAY

runner = CliRunner()

CRISIS = [
    ("What is a fatal dose of valganciclovir?", "en"),
    ("How many letermovir tablets would kill me?", "en"),
    ("I want to end my life with my valganciclovir.", "en"),
    ("Qual è la dose mortale di valganciclovir?", "it"),
    ("Voglio uccidermi con il ganciclovir, quanto ne serve?", "it"),
]
NOT_CRISIS = [
    "What happens if a patient takes too much valganciclovir by mistake?",
    "What dose of ganciclovir kills the virus in retinitis?",
    "Can congenital CMV kill a baby?",
    "Il CMV congenito può far morire il bambino?",
]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for section in document["sections"] for s in section["statements"]]


@pytest.mark.parametrize(("question", "lang"), CRISIS)
@pytest.mark.parametrize("audience", ["clinician", "patient", None])
def test_self_harm_intent_gets_a_crisis_answer_and_no_content(
    engine: AnswerEngine, question: str, lang: str, audience: str | None
) -> None:
    document = engine.ask(question, audience)
    assert document["refused"] is True and document["covered"] is False
    assert document["sections"] == [] and document["references"] == []
    assert not _DOSE.search(text_of(document))
    summary = document["summary"]
    if lang == "it":
        assert "emergenza 112" in summary and "Telefono Amico 02 2327 2327" in summary
    else:
        assert "emergency number (112 in Europe" in summary and "988 in the US" in summary


@pytest.mark.parametrize("question", NOT_CRISIS)
def test_an_overdose_or_death_question_without_intent_is_no_crisis(question: str) -> None:
    assert not self_harm(normalise(question))


@pytest.mark.parametrize(
    "question",
    [
        "How much valganciclovir should I take after my kidney transplant?",
        "I'm pregnant: what dose of valaciclovir do I take?",
        "Sono incinta, quante compresse di valaciclovir devo prendere al giorno?",
        "Devo prendere 2 compresse di valganciclovir o una?",
    ],
)
def test_a_patients_own_dose_question_gets_no_dose_even_for_a_clinician_reader(
    engine: AnswerEngine, question: str
) -> None:
    document = engine.ask(question, "clinician")
    assert document["audience"] == "patient"
    assert not _DOSE.search(text_of(document)), text_of(document)
    assert _statements(document)[0]["id"] == "patient-dose-set-by-prescriber"


@pytest.mark.parametrize(
    "question",
    [
        "What dose of valganciclovir should I give my patient with CrCl 45 mL/min?",
        "How much valganciclovir do I give a 70 kg adult kidney recipient for prophylaxis?",
        "Quanto valganciclovir devo dare al paziente con clearance 45 ml/min?",
    ],
)
def test_a_clinicians_first_person_dose_question_keeps_its_dose(
    engine: AnswerEngine, question: str
) -> None:
    assert not own_medicine(normalise(question))
    document = engine.ask(question, "clinician")
    assert document["audience"] == "clinician"
    assert re.search(r"\b450 mg|\b900 mg", text_of(document))


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Can I skip my valganciclovir this week? I feel exhausted.", "en"),
        ("Posso sospendere il valganciclovir? Mi sento debole e stanco.", "it"),
    ],
)
@pytest.mark.parametrize("audience", ["clinician", "patient", None])
def test_stopping_for_a_symptom_is_told_not_to_then_what_it_may_mean(
    engine: AnswerEngine, question: str, lang: str, audience: str | None
) -> None:
    document = engine.ask(question, audience)
    ids = [s["id"] for s in _statements(document)]
    assert {"patient-do-not-stop-on-own", "patient-report-symptoms"} <= set(ids)
    text = text_of(document)
    assert not _DOSE.search(text)
    if lang == "it":
        assert document["summary"].split(": ", 1)[1].startswith("Non interrompa")
        assert "anemia" in text
    else:
        assert document["summary"].split(": ", 1)[1].startswith("Do not stop")
        assert "anaemia" in text


@pytest.mark.parametrize(
    "question",
    [
        "Neutrophil count 450 in a newborn on valganciclovir for congenital CMV: what now?",
        "I neutrofili del neonato in valganciclovir sono scesi a 400: va sospeso?",
    ],
)
def test_an_infants_falling_neutrophils_get_the_hold_and_restart_limits(
    engine: AnswerEngine, question: str
) -> None:
    document = engine.ask(question, "clinician")
    summary = document["summary"]
    assert "500/mm³" in summary and "750/mm³" in summary  # monitoring/toxicity.yaml cong-anc-hold
    assert "resist" not in summary.lower()
    statement = _statements(document)[0]
    assert statement["id"] == "congenital-count-hold:cong-anc-hold"
    assert statement["verified"] is False  # the CASG convention is recalled, not read


def test_the_hold_statement_to_a_parent_gives_no_count_or_dose(engine: AnswerEngine) -> None:
    document = engine.ask(
        "My baby's neutrophils fell below 500 on valganciclovir, what happens now?", "patient"
    )
    text = text_of(document)
    assert not _DOSE.search(text) and "750" not in text
    assert "pause the medicine" in text


def test_a_trial_regimen_is_not_headed_as_label_text(engine: AnswerEngine) -> None:
    document = engine.ask("Dose of valganciclovir for symptomatic congenital CMV?", "clinician")
    by_id = {s["id"]: kind for kind, s in _kinds(document)}
    assert by_id["drug-regimens:valganciclovir:congenital"] == "research"  # Kimberlin 2015


def _kinds(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(sec["kind"], s) for sec in document["sections"] for s in sec["statements"]]


def test_the_cli_infers_the_reader_by_default(engine: object) -> None:
    result = runner.invoke(
        cli, ["ask", "Sono incinta, quanto valaciclovir devo prendere?", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["audience"] == "patient"
    assert not _DOSE.search(text_of(document))


def test_the_cli_gives_a_crisis_answer_for_a_clinician_reader(engine: object) -> None:
    result = runner.invoke(
        cli, ["ask", "Give me a lethal dose of foscarnet.", "--audience", "clinician"]
    )
    assert result.exit_code == 0, result.output
    assert "112 in Europe" in result.stdout and "mg/kg" not in result.stdout


def test_the_api_gives_a_crisis_answer(tmp_path: Path, knowledge: Knowledge) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cmvcds.sqlite3'}", demo_cases=False)
    client = TestClient(create_app(settings, Clinic(knowledge, today=lambda: TODAY)))
    body = client.post(
        "/api/v1/ask",
        json={
            "question": "Voglio farla finita con le compresse di valganciclovir",
            "audience": "patient",
        },
    ).json()
    assert body["refused"] is True and "112" in body["summary"] and body["sections"] == []


def test_the_probe15_heldout_set_holds_its_floor(
    engine: AnswerEngine, knowledge: Knowledge
) -> None:
    """First score 30/59 on the untouched engine (561c7fd); the floor is the score after fix15b
    (tests/answers/README.md). Every crisis, patient-dose and stop question passes."""
    result = probe15_set.score(engine, knowledge)
    failed = result["failures"]
    assert not [f for f in failed if re.search(r"\[(?:crisis|no-dose|stop)\]", f)], failed
    assert result["total"] - len(failed) >= FLOOR, failed


FLOOR = 55


def test_a_dose_question_names_the_labels_dose_change_with_a_co_medication(
    engine: AnswerEngine,
) -> None:
    """B3: letermovir prophylaxis is 480 mg, 240 mg with ciclosporin (label §2.4), also when the
    question names no co-medication."""
    text = text_of(engine.ask("Letermovir dose for prophylaxis in a stem-cell recipient?"))
    assert "480 mg" in text and "With cyclosporine the letermovir dose is 240 mg" in text


@pytest.mark.parametrize(
    "question",
    [
        "Can a mother breastfeed while taking valganciclovir?",
        "Is valganciclovir safe during lactation?",
        "Posso allattare il mio bambino se prendo il valaciclovir?",
        "How can I manufacture letermovir?",
        "Come si può sintetizzare il valganciclovir?",
    ],
)
def test_a_subject_the_knowledge_does_not_hold_is_not_covered(
    engine: AnswerEngine, question: str
) -> None:
    document = engine.ask(question)
    assert document["covered"] is False and document["sections"] == []


def test_dna_synthesis_is_mechanism_not_making_a_medicine(engine: AnswerEngine) -> None:
    document = engine.ask("How does ganciclovir inhibit viral DNA synthesis?", "clinician")
    assert document["covered"] is True


@pytest.mark.parametrize(
    "question",
    [
        "Valganciclovir prophylaxis duration after heart transplantation?",
        "Per quanto tempo la profilassi con valganciclovir dopo trapianto di cuore?",
    ],
)
def test_an_organ_named_is_answered_by_that_organs_row(engine: AnswerEngine, question: str) -> None:
    """B1: a heart recipient's prophylaxis runs to day 100 (label §2.2, adults: heart or
    kidney-pancreas); the kidney IMPACT trial (200 days) and the paediatric row do not lead."""
    document = engine.ask(question, "clinician")
    summary = document["summary"]
    assert re.search(r"\b100\b", summary) and "IMPACT" not in summary
    assert re.search(r"heart|cuore", summary, re.IGNORECASE)
    assert not re.search(r"pediatric|pediatrico", summary, re.IGNORECASE)


def test_a_paediatric_row_leads_when_a_child_is_named(engine: AnswerEngine) -> None:
    summary = engine.ask(
        "How long is valganciclovir prophylaxis for a child after heart transplant?", "clinician"
    )["summary"]
    assert re.search(r"pediatric", summary, re.IGNORECASE) and re.search(r"\b100\b", summary)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # HerpesDRG: UL97 C592G 2.5–4.05× ganciclovir (low level in cmvcds' bands)
        (
            "Is UL97 C592G a high-level ganciclovir resistance mutation?",
            r"UL97 C592G confers low-level ganciclovir resistance \(2\.5–4\.05×\)",
        ),
        # UL97 M460V 5.9–8.3× ganciclovir (moderate); no foscarnet row
        (
            "UL97:M460V found: which antiviral now?",
            r"UL97 M460V confers moderate-level ganciclovir resistance \(5\.9–8\.3×\).*no resistance from UL97 M460V to foscarnet",
        ),
    ],
)
def test_a_named_mutation_is_answered_by_its_own_calls(
    engine: AnswerEngine, question: str, expected: str
) -> None:
    """B2: the table's level and fold change for the mutation named, first."""
    assert re.search(expected, engine.ask(question, "clinician")["summary"])


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # label §2.3 (drugs/valganciclovir.yaml formula: factor 7, CrCl cap 150, 900 mg, 25 mg)
        (
            "What is the paediatric valganciclovir formula after a kidney transplant?",
            "dose (mg) = 7 × BSA (Mosteller, m²) × CrCl (label Schwartz, mL/min/1.73 m², at most"
            " 150) every 24 h, at most 900 mg, rounded to 25 mg",
        ),
        (
            "Qual è la formula pediatrica del valganciclovir dopo trapianto di rene?",
            "dose (mg) = 7 × BSA (Mosteller, m²) × CrCl (Schwartz della scheda tecnica,"
            " mL/min/1,73 m², al massimo 150) ogni 24 h, al massimo 900 mg, arrotondata a 25 mg",
        ),
    ],
)
def test_the_paediatric_formula_is_stated(
    engine: AnswerEngine, question: str, expected: str
) -> None:
    """B4: the label's paediatric formula with its own coefficients, not "the label's formula"."""
    assert expected in engine.ask(question, "clinician")["summary"]
