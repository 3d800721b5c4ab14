"""The answer to the question asked, for its reader, in its language (issue 19).

Each case is one of the failures the issue reports, with the clinically correct outcome: the
Italian elision is not a medical term, a pregnant reader is answered about her pregnancy (risk by
timing, safety of valaciclovir) without doses or transplant labels, a dose question gets the dose
for the population and kidney function asked (16 mg/kg every 12 h for a newborn, from the
CASG 112 regimen; the kidney-transplant prophylaxis band at CrCl 35, not retinitis induction).
"""

from __future__ import annotations

from typing import Any

import pytest

from cmvcds.engine.answers import AnswerEngine
from cmvcds.engine.answers.vocabulary import normalise
from tests.answers.labelled import shown_ids, summary_id


def _ask(engine: AnswerEngine, question: str, audience: str | None = None) -> dict[str, Any]:
    return engine.ask(question, audience=audience)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Qual è la terapia dell'infezione?", "qual e la terapia infezione"),
        ("l'amniocentesi", "amniocentesi"),
        ("un’infezione primaria", "infezione primaria"),
        ("trapianto d'organo", "trapianto organo"),
        ("I'm pregnant", "i m pregnant"),
    ],
)
def test_italian_elisions_belong_to_their_word(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_elision_is_never_shown_as_a_medical_term(engine: AnswerEngine) -> None:
    document = _ask(engine, "Qual è la terapia dell'infezione da CMV in gravidanza?", "clinician")
    assert document["understood"]["unmatched_terms"] == []
    assert not any(
        "nulla di specifico" in n or "nothing specific" in n for n in document["notices"]
    )
    assert document["understood"]["populations"] == ["pregnancy"]
    # In Italian, and about preventing and treating fetal infection in pregnancy only.
    assert document["summary"].startswith("In breve")
    assert document["sections"][0]["title"] == "Dalle linee guida"
    assert all(i.startswith("pregnancy-") for i in shown_ids(document))


@pytest.mark.parametrize(
    ("question", "audience"),
    [
        ("I am pregnant and my CMV test came back positive. Will my baby be okay?", "patient"),
        ("Sono incinta: il mio bambino starà bene?", "patient"),
        ("Il mio bambino è nato con il CMV congenito: va curato?", "patient"),
        ("My patient is pregnant with a primary CMV infection: valacyclovir?", "clinician"),
        ("What is the valacyclovir dose in pregnancy?", "clinician"),
        ("Qual è la dose di valganciclovir nel neonato?", "clinician"),
    ],
)
def test_audience_is_inferred_from_first_person_wording(
    question: str, audience: str, bm25_engine: AnswerEngine
) -> None:
    assert bm25_engine.understand(question).audience == audience


def test_a_pregnant_reader_gets_risk_and_safety_not_doses(engine: AnswerEngine) -> None:
    question = (
        "I am pregnant and my CMV test came back positive. Will my baby be okay, and is "
        "valacyclovir safe?"
    )
    document = _ask(engine, question)  # the audience inferred from her wording
    assert document["audience"] == "patient"
    assert document["understood"]["populations"] == ["pregnancy"]
    ids = shown_ids(document)
    assert "pregnancy-transmission-by-trimester" in ids and "pregnancy-renal-safety" in ids
    assert not [i for i in ids if i.startswith(("drug-regimens:", "dose-at-crcl:"))]
    assert not [i for i in ids if i.startswith(("sot-", "hiv-", "valganciclovir-label"))]
    cited = {r["id"] for r in document["references"]}
    assert not [c for c in cited if "valtrex" in c or "label" in c], cited
    texts = [s["text"] for section in document["sections"] for s in section["statements"]]
    assert len(texts) == len(set(texts)), "the same sentence twice"
    assert document["notices"] == [n for n in document["notices"] if "came" not in n]
    assert not any("baby's doctor how the dose" in a for a in document["ask_doctor"])


def test_newborn_dose_question_gets_the_dose(engine: AnswerEngine) -> None:
    document = _ask(engine, "Qual è la dose di valganciclovir nel neonato?", "clinician")
    assert summary_id(document) == "drug-regimens:valganciclovir:congenital"
    assert "16 mg/kg ogni 12 h" in document["summary"]


@pytest.mark.parametrize(
    ("question", "band", "dose"),
    [
        (
            "Valganciclovir dose after kidney transplant with CrCl 35",
            "CrCl ≥ 25 and < 40",
            "450 mg",
        ),
        (
            "Valganciclovir dose after kidney transplant with CrCl 45",
            "CrCl ≥ 40 and < 60",
            "450 mg",
        ),
    ],
)
def test_transplant_dose_at_a_crcl_is_the_transplant_row(
    question: str, band: str, dose: str, engine: AnswerEngine
) -> None:
    """Valcyte label §2.5 table: kidney-transplant prophylaxis 450 mg every 24 h at 40–59 and
    450 mg every 2 days at 25–39 — never the retinitis induction row for a transplant question."""
    document = _ask(engine, question, "clinician")
    top = summary_id(document)
    assert top is not None and top.startswith("dose-at-crcl:valganciclovir:prophylaxis-kidney")
    assert band in document["summary"] and dose in document["summary"]
    assert "retinitis" not in document["summary"]


def test_patient_never_gets_a_dosing_statement(engine: AnswerEngine) -> None:
    document = _ask(engine, "What is the valganciclovir dose for my baby?", "patient")
    assert not [i for i in shown_ids(document) if i.startswith(("drug-regimens:", "dose-at-crcl:"))]


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("What dose of valacyclovir do I take?", "en"),
        ("What dose do I take?", "en"),
        ("How much valganciclovir should I give my baby?", "en"),
        ("Quante compresse di valaciclovir devo prendere al giorno?", "it"),
        ("Qual è la mia dose di valganciclovir dopo il trapianto?", "it"),
    ],
)
def test_a_patient_asking_for_a_dose_is_told_the_doctor_decides_it(
    engine: AnswerEngine, question: str, language: str
) -> None:
    """Issue 19, item 4: no dosing instructions to patients; the "In short" of a patient's dose
    question is who decides the dose, in the language asked, and no dose is shown."""
    document = _ask(engine, question, "patient")
    assert document["covered"]
    assert summary_id(document) == "patient-dose-set-by-prescriber"
    assert document["understood"]["language"] == language
    assert ("decide il medico" if language == "it" else "Your doctor decides") in document[
        "summary"
    ]
    assert not [i for i in shown_ids(document) if i.startswith(("drug-regimens:", "dose-at-crcl:"))]
    assert "mg" not in document["summary"]


def test_a_patient_asking_whether_a_high_dose_is_safe_gets_safety_not_the_boundary(
    engine: AnswerEngine,
) -> None:
    document = _ask(
        engine, "Could high-dose valacyclovir harm my kidneys while I'm pregnant?", "patient"
    )
    assert summary_id(document) == "pregnancy-renal-safety"
    assert "patient-dose-set-by-prescriber" not in shown_ids(document)


def test_a_clinician_dose_question_never_gets_the_patient_boundary(engine: AnswerEngine) -> None:
    for question in ("Dose of valganciclovir?", "What dose of valacyclovir in pregnancy?"):
        assert "patient-dose-set-by-prescriber" not in shown_ids(
            _ask(engine, question, "clinician")
        )


def test_references_are_articles_not_seed_files(engine: AnswerEngine) -> None:
    """Issue 19: a reference shows the article (authors, title, journal, year, DOI), never
    "(seed 000)"."""
    document = _ask(engine, "Qual è la terapia dell'infezione da CMV in gravidanza?", "clinician")
    for reference in document["references"]:
        assert "seed" not in reference["citation"].lower(), reference
        assert ".." not in reference["citation"], reference
