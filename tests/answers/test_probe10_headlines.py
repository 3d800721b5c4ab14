"""The "In short" answers the question asked (probe10 S2, S3, W4, R1, R2, R3).

Sources: PREVYMIS US label §2.4 (letermovir 240 mg once daily with cyclosporine, 480 mg
otherwise); LIVTENCITY US label §2.2 (maribavir 800 mg twice daily with carbamazepine, 1,200 mg
with phenytoin or phenobarbital); VISTIDE US label, Dosage and administration (probenecid 2 g
3 hours before, 1 g at 2 and 8 hours after; 1 L 0.9% saline before each infusion); AIFA 648/96
protocol, Allegato 1 (seed 000: prevention for an onset before 24+0); FOSCAVIR Table 13
(CrCl in mL/min/kg; "> 0.4 – 0.5" and "< 0.4" in the induction table: 0.4 itself is in neither).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.engine.answers import AnswerEngine
from cmvcds.knowledge import Knowledge

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def ids(document: dict[str, object]) -> list[str]:
    return [s["id"] for sec in document["sections"] for s in sec["statements"]]  # type: ignore[attr-defined,index]


@pytest.mark.parametrize(
    ("question", "dose"),
    [
        ("What is the letermovir dose when given with cyclosporine?", "240 mg"),
        ("Letermovir dose with cyclosporine?", "240 mg"),
        ("Letermovir with ciclosporin: what dose?", "240 mg"),
        ("Qual è la dose di letermovir con la ciclosporina?", "240 mg"),
        ("Maribavir dose with carbamazepine?", "800 mg"),
        ("Quale dose di maribavir con la carbamazepina?", "800 mg"),
        ("What maribavir dose with phenytoin?", "1,200 mg"),
    ],
)
def test_a_co_medication_named_selects_the_dose_of_the_headline(
    engine: AnswerEngine, question: str, dose: str
) -> None:
    summary = engine.ask(question, "clinician")["summary"]
    assert dose.replace(",", "") in summary.replace(",", ""), summary
    if "letermovir" in question:
        assert "480 mg every 24 h" not in summary and "480 mg ogni 24 h" not in summary


def test_without_a_co_medication_the_letermovir_headline_is_the_usual_dose(
    engine: AnswerEngine,
) -> None:
    summary = engine.ask("What is the letermovir dose after a kidney transplant?", "clinician")[
        "summary"
    ]
    assert "480 mg" in summary and "240 mg" not in summary


@pytest.mark.parametrize(
    "question",
    [
        "What is the cidofovir dose and how is probenecid given?",
        "How is cidofovir given?",
        "Does cidofovir need hydration?",
        "Come si somministra il probenecid con il cidofovir?",
    ],
)
def test_cidofovir_answers_give_the_probenecid_and_saline_rows(
    engine: AnswerEngine, question: str
) -> None:
    document = engine.ask(question, "clinician")
    text = " ".join(s["text"] for sec in document["sections"] for s in sec["statements"])
    assert re.search(r"Probenecid 2 g", text), text
    assert re.search(r"1 L (?:di soluzione fisiologica )?0\.9%|1 L 0\.9% saline", text), text
    assert "vistide-us-label" in {r["id"] for r in document["references"]}


def test_a_patient_cidofovir_question_has_no_probenecid_dose(engine: AnswerEngine) -> None:
    document = engine.ask("How is cidofovir given to me?", "patient")
    assert not any(i.startswith("drug-administration:") for i in ids(document))


@pytest.mark.parametrize(
    "question",
    [
        "Does valacyclovir reduce transmission when started in the third trimester?",
        "Is valacyclovir useful for a primary infection in the third trimester?",
        "Il valaciclovir serve se l'infezione è nel terzo trimestre?",
        "Valacyclovir for a primary infection at 30 weeks of pregnancy?",
    ],
)
def test_a_late_pregnancy_question_leads_with_the_protocol_window(
    engine: AnswerEngine, question: str
) -> None:
    document = engine.ask(question, "clinician")
    assert ids(document) and document["summary"].find("24+0") > 0, document["summary"]
    assert "OR 0.318" not in document["summary"]


@pytest.mark.parametrize(
    ("question", "gene"),
    [
        ("Which UL97 mutations confer ganciclovir resistance?", "UL97"),
        ("Which UL56 mutations cause letermovir resistance?", "UL56"),
        ("What does the UL54 mutation A809V mean for foscarnet?", "UL54"),
        ("Quali mutazioni di UL56 danno resistenza al letermovir?", "UL56"),
    ],
)
def test_a_mutation_question_leads_with_the_table_list(
    engine: AnswerEngine, question: str, gene: str
) -> None:
    document = engine.ask(question, "clinician")
    first = document["sections"] and ids(document)
    assert first
    assert gene in document["summary"] and "mutation" in document["summary"].lower().replace(
        "mutazion", "mutation"
    ), document["summary"]


@pytest.mark.parametrize(
    "question",
    [
        "What is the dose of remdesivir for CMV?",
        "Is CMV hyperimmune globulin recommended in pregnancy?",
        "Brincidofovir dose for CMV?",
    ],
)
def test_an_unknown_treatment_is_not_covered(engine: AnswerEngine, question: str) -> None:
    document = engine.ask(question, "clinician")
    assert document["covered"] is False and document["sections"] == []


def test_foscarnet_bands_carry_their_unit_and_the_gap_at_0_4(engine: AnswerEngine) -> None:
    document = engine.ask("What is the foscarnet induction dose for CMV retinitis?", "clinician")
    text = " ".join(s["text"] for sec in document["sections"] for s in sec["statements"])
    assert "CrCl > 1.4 mL/min/kg" in text
    assert "CrCl = 0.4 mL/min/kg: specialist review" in text
    assert "≥ 0.4 and ≤ 0.4" not in text


@pytest.mark.parametrize(
    "question",
    [
        "Quanti grammi di valaciclovir devo prendere? sono incinta di 10 settimane",
        "I am 10 weeks pregnant: what does a primary CMV infection mean for my baby?",
    ],
)
def test_how_far_the_pregnancy_is_is_not_the_week_of_the_infection(
    engine: AnswerEngine, question: str
) -> None:
    document = engine.ask(question, "patient")
    assert not any(i.startswith("amniocentesis-after-onset:") for i in ids(document))


def test_the_week_of_the_infection_still_dates_the_amniocentesis(engine: AnswerEngine) -> None:
    """AIFA rule A4: onset 10+0 + 56 days = 18+0, floor 20+1 → earliest 20+1."""
    document = engine.ask("Infection at 10 weeks of pregnancy: when is the amniocentesis?")
    assert "amniocentesis-after-onset:onset-70" in ids(document)
    assert "20+1" in document["summary"]


def test_a_late_pregnancy_risk_question_keeps_its_risk_answer(engine: AnswerEngine) -> None:
    """A question on the risk in the third trimester keeps its risk answer, not the protocol."""
    document = engine.ask(
        "If I catch CMV in the third trimester, is my baby more likely to be infected?", "patient"
    )
    assert ids(document)[0] != "pregnancy-prevention-window:aifa"


def test_a_patient_reads_the_case_decision_without_engine_keys(
    engine: AnswerEngine, knowledge: Knowledge
) -> None:
    """probe10 S1: "kidney_dpos_rneg_drug = valganciclovir from the reference profile" and the
    "Not yet verified" alerts are for the clinician."""
    raw = yaml.safe_load((EXAMPLES / "transplant-kidney-dposrneg.yaml").read_text("utf-8"))
    assessment = assess(parse_case(raw, knowledge, today=date(2026, 12, 7)), knowledge).to_dict()
    patient = engine.ask("What is my plan?", "patient", assessment)
    clinician = engine.ask("What is my plan?", "clinician", assessment)
    assert "kidney_dpos_rneg_drug" in str(clinician["sections"])
    assert "kidney_dpos_rneg_drug" not in str(patient["sections"])
    assert "Not yet verified against" not in str(patient["sections"])
