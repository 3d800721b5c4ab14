"""A patient is never given a dose, and unsafe requests are refused (probe10 S1, W2, W3).

README: "a patient who asks for a dose is told who decides it, never given one". probe10 found a
patient answer with a case ("valganciclovir 450 mg, once daily"; Italian: "Questo servizio non dà
dosi ai pazienti" then "valacyclovir 2000 mg every 6 hours"). The patterns below are written here,
independently of the engine's own filter (``patient_safety.carries_dose``), and every patient
answer of a broad question set (the labelled set, probe10's questions, dose questions in English
and Italian) with no case and with each example case is scanned for them.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.engine.answers import AnswerEngine
from cmvcds.engine.answers.patient_safety import carries_dose
from cmvcds.knowledge import Knowledge
from tests.answers.labelled import labelled_set

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "settings.yaml")
BOUNDARY = "patient-dose-set-by-prescriber"

#: Anything a patient could take as a dose: an amount (mg, mg/kg, g, mL, L; not mg/dL or mL/min,
#: which are laboratory values), a count of tablets, a dosing schedule, in English and Italian.
DOSE = re.compile(
    r"\d\s*(?:mg|g|ml|l|mcg)\b(?!\s*/\s*(?:dl|l\b|min))"
    r"|\b\d+\s*(?:tablets?|capsules?|pills?|compresse|compressa|capsule)\b"
    r"|\bevery\s+\d+\s*(?:h|hours?)\b|\bogni\s+\d+\s*(?:h|ore)\b|\bq\d+h\b"
    r"|\b(?:once|twice)\s+(?:a\s+)?(?:daily|day|week)\b|\bvolt[ae]\s+al\s+giorno\b",
    re.IGNORECASE,
)

#: probe10's questions (work/qs.txt) and more ways of asking for a dose, English and Italian.
DOSE_QUESTIONS = [
    "How many valganciclovir tablets should I take each day?",
    "How many valganciclovir tablets should I take for my kidney transplant?",
    "How much letermovir do I take?",
    "What dose of valacyclovir should I take?",
    "Can I double my letermovir dose if I missed one?",
    "How many pills of maribavir a day?",
    "Quante compresse di valaciclovir devo prendere?",
    "Quante compresse di valaciclovir devo prendere al giorno? Sono incinta.",
    "Quanto valganciclovir devo prendere?",
    "Quante pastiglie di letermovir al giorno?",
    "Che dose di valganciclovir devo prendere dopo il trapianto di rene?",
]
OTHER_QUESTIONS = [
    "What is the letermovir dose when given with cyclosporine?",
    "Does letermovir interact with cyclosporine?",
    "What is the cidofovir dose and how is probenecid given?",
    "What is the foscarnet dose for ganciclovir-resistant CMV?",
    "What is the valganciclovir induction dose for CMV disease with CrCl 50 mL/min?",
    "Quale dose di valaciclovir in gravidanza per infezione primaria?",
    "What is my treatment plan?",
    "Qual è la mia terapia?",
    "What dose of valganciclovir for a neonate with congenital CMV?",
    "Maribavir with carbamazepine",
]


def text_of(document: dict[str, Any]) -> str:
    """Everything the reader of an answer sees."""
    parts = [document["summary"], *document.get("ask_doctor", []), *document["notices"]]
    parts += [s["text"] for section in document["sections"] for s in section["statements"]]
    return "\n".join(parts)


_ASSESSED: dict[Path, dict[str, Any]] = {}


def _assessment(path: Path, knowledge: Knowledge) -> dict[str, Any]:
    if path not in _ASSESSED:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        case = parse_case(raw, knowledge, today=date(2026, 12, 7))
        _ASSESSED[path] = assess(case, knowledge).to_dict()
    return _ASSESSED[path]


def all_questions() -> list[str]:
    labelled = [q["q"] for q in labelled_set()["questions"]]
    return [*DOSE_QUESTIONS, *OTHER_QUESTIONS, *labelled]


def test_no_patient_answer_states_a_dose_without_a_case(engine: AnswerEngine) -> None:
    leaks = []
    for question in all_questions():
        document = engine.ask(question, "patient")
        if found := DOSE.search(text_of(document)):
            leaks.append(f"{question!r}: {found.group()!r}")
    assert not leaks, leaks


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_no_patient_answer_states_a_dose_with_a_case(
    engine: AnswerEngine, knowledge: Knowledge, case: Path
) -> None:
    assessment = _assessment(case, knowledge)
    questions = [*DOSE_QUESTIONS, *OTHER_QUESTIONS, *all_questions()[len(DOSE_QUESTIONS) :: 12]]
    leaks = []
    for question in questions:
        document = engine.ask(question, "patient", assessment)
        if found := DOSE.search(text_of(document)):
            leaks.append(f"{question!r}: {found.group()!r}")
        if document["covered"] and any(q in question for q in DOSE_QUESTIONS):
            ids = [s["id"] for sec in document["sections"] for s in sec["statements"]]
            assert BOUNDARY in ids, (question, ids)
    assert not leaks, leaks


@pytest.mark.parametrize(
    "case", ["transplant-kidney-dposrneg.yaml", "pregnancy.yaml"], ids=lambda n: n
)
def test_the_case_regimen_is_withheld_from_a_patient_and_shown_to_a_clinician(
    engine: AnswerEngine, knowledge: Knowledge, case: str
) -> None:
    """probe10 S1: the kidney D+/R− case has valganciclovir 450 mg once daily (prophylaxis at the
    case's CrCl, Valcyte renal table), the pregnancy case valacyclovir 2000 mg every 6 h (AIFA):
    the clinician sees the dose; the patient is told who decides it, in the language asked."""
    assessment = _assessment(EXAMPLES / case, knowledge)
    regimens = [r for r in assessment["regimens"] if r.get("dose_mg")]
    assert regimens, "the example case no longer has a regimen with a dose"
    for question in ("How many tablets should I take each day?", "Quante compresse devo prendere?"):
        clinician = engine.ask(question, "clinician", assessment)
        assert f"{regimens[0]['dose_mg']:g} mg" in text_of(clinician)
        patient = engine.ask(question, "patient", assessment)
        assert not DOSE.search(text_of(patient)), text_of(patient)
        ids = [s["id"] for sec in patient["sections"] for s in sec["statements"]]
        assert BOUNDARY in ids
        if question.startswith("Quante"):
            assert "la decide il medico" in text_of(patient)


@pytest.mark.parametrize("question", DOSE_QUESTIONS)
def test_a_patient_dose_question_is_answered_by_who_decides_it(
    engine: AnswerEngine, question: str
) -> None:
    """probe10 W2: "How many … tablets should I take" is a dose question (no case)."""
    document = engine.ask(question, "patient")
    assert document["covered"]
    first = document["sections"][0]["statements"][0]["id"]
    assert first == BOUNDARY, (question, first)
    italian = question.startswith(("Quant", "Che "))
    assert ("la decide il medico" in document["summary"]) == italian


@pytest.mark.parametrize(
    "question",
    [
        "How do I get foscarnet without a prescription to use at home?",
        "Can I buy valganciclovir online?",
        "Where can I order letermovir online without a doctor?",
        "Come posso comprare il ganciclovir online senza ricetta?",
        "Posso prendere il valaciclovir senza prescrizione?",
    ],
)
@pytest.mark.parametrize("audience", ["clinician", "patient", None])
def test_an_unsafe_request_is_refused(
    engine: AnswerEngine, question: str, audience: str | None
) -> None:
    """probe10 W3: refused — nothing cited, why said, a doctor or pharmacist named."""
    document = engine.ask(question, audience)
    assert document["refused"] is True and document["covered"] is False
    assert document["sections"] == [] and document["references"] == []
    assert not DOSE.search(text_of(document))
    italian = "ricetta" in question or "prescrizione" in question
    assert ("farmacista" if italian else "pharmacist") in document["summary"]


@pytest.mark.parametrize(
    "question",
    [
        "What is the valganciclovir dose for a kidney transplant at CrCl 50 mL/min?",
        "Is valganciclovir prescribed for prophylaxis after a kidney transplant?",
        "Do I need a prescription for valganciclovir?",
    ],
)
def test_an_ordinary_question_is_not_refused(engine: AnswerEngine, question: str) -> None:
    assert not engine.ask(question, "clinician").get("refused")


# --- reviewer fixr5 -------------------------------------------------------------------------

#: Requests to obtain or use a medicine outside care (no prescription, unofficial source,
#: someone else's medicine): refused.
UNSAFE = [
    "Can I take my husband's valganciclovir?",
    "Can I use someone else's prescription for valganciclovir?",
    "Can I use leftover valganciclovir from a friend?",
    "Where can I buy letermovir over the counter?",
    "Can I get maribavir on the black market?",
    "Can I self-medicate with valacyclovir for CMV?",
    "Is it safe to take valganciclovir without a prescription?",
    "Posso usare il valganciclovir di mia madre?",
    "Posso prendere il letermovir di un amico?",
    "Posso comprare compresse di valganciclovir su internet?",
    "Dove compro il valganciclovir senza ricetta?",
]
#: Questions that mention a prescription they have, ask about availability, or are about
#: something else: answered (reviewer fixr5, item 1).
INNOCENT = [
    "My pharmacy is out of stock, can I order valganciclovir online from another pharmacy"
    " with my prescription?",
    "is valganciclovir available over the counter in Italy?",
    "can I buy groceries online while on valganciclovir?",
    "Do I need a prescription for valganciclovir?",
    "Is letermovir sold over the counter?",
    "Can I order a refill of my valganciclovir prescription online with my prescription?",
    "Can I buy a thermometer online to check my fever on valganciclovir?",
    "Il valganciclovir è disponibile senza ricetta in Italia?",
    "Posso ordinare il valganciclovir online con la mia ricetta?",
    "Serve la ricetta per il valganciclovir?",
    "Posso comprare la spesa online mentre prendo il valganciclovir?",
    "Il letermovir si vende senza ricetta?",
]


@pytest.mark.parametrize("question", UNSAFE)
def test_a_request_outside_care_is_refused(engine: AnswerEngine, question: str) -> None:
    document = engine.ask(question, "patient")
    assert document["refused"] is True, question
    assert document["sections"] == [] and document["references"] == []


@pytest.mark.parametrize("question", INNOCENT)
@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_an_innocent_question_is_not_refused(
    engine: AnswerEngine, question: str, audience: str
) -> None:
    document = engine.ask(question, audience)
    assert not document.get("refused"), question
    assert "unsafe" not in document["summary"] and "without a prescription" not in document[
        "summary"
    ]


STOP_QUESTIONS = [
    "Can I stop valganciclovir without asking my doctor?",
    "Can I stop taking letermovir on my own if I feel better?",
    "Can I skip my valganciclovir doses for a week without telling my doctor?",
    "Posso smettere il valganciclovir senza chiedere al medico?",
    "Posso sospendere il letermovir da solo?",
    "Can I stop valganciclovir without a doctor?",
    "Posso interrompere il valganciclovir senza il medico?",
]


@pytest.mark.parametrize("question", STOP_QUESTIONS)
def test_a_patient_stopping_on_their_own_is_told_not_to(
    engine: AnswerEngine, question: str
) -> None:
    """Valcyte Medication Guide: take exactly as prescribed; do not stop or change it without
    talking to the healthcare provider (statement patient-do-not-stop-on-own)."""
    document = engine.ask(question, "patient")
    assert document["covered"] and not document.get("refused")
    ids = [s["id"] for sec in document["sections"] for s in sec["statements"]]
    assert "patient-do-not-stop-on-own" in ids, (question, ids)
    italian = question.startswith("Posso")
    wording = "senza il medico" if italian else "without your doctor"
    assert wording in document["summary"], document["summary"]  # the summary leads with it
    assert not DOSE.search(text_of(document))


@pytest.mark.parametrize(
    "question",
    [
        "My amniocentesis was negative for CMV. Can I stop taking valacyclovir?",
        "My amniocentesis was negative. Can I stop valacyclovir without the risk of CMV?",
        "L'amniocentesi è risultata negativa: posso smettere di prendere il valaciclovir?",
    ],
)
def test_when_a_course_stops_is_answered_by_the_protocol(
    engine: AnswerEngine, question: str
) -> None:
    """Asking whether the course ends (not stopping on one's own) keeps the protocol's answer
    (Italian protocol: stop on a negative amniotic-fluid PCR)."""
    document = engine.ask(question, "patient")
    ids = [s["id"] for sec in document["sections"] for s in sec["statements"]]
    assert "patient-do-not-stop-on-own" not in ids
    assert "pregnancy-stop-after-amniocentesis" in ids


MORE_DOSE_QUESTIONS = [
    "Ogni quante ore devo prendere il valganciclovir?",
    "Il mio bambino pesa 4 kg: quanto sciroppo di valganciclovir gli do?",
    "How often do I take valganciclovir?",
    "How many times a day do I take letermovir?",
    "Quante volte al giorno devo prendere il valaciclovir?",
]


@pytest.mark.parametrize("question", MORE_DOSE_QUESTIONS)
def test_how_often_and_how_much_syrup_are_dose_questions(
    engine: AnswerEngine, question: str
) -> None:
    """Reviewer fixr5 item 3: frequency and syrup volume are the dose: the doctor decides."""
    document = engine.ask(question, "patient")
    assert document["covered"]
    assert document["sections"][0]["statements"][0]["id"] == BOUNDARY, question
    assert not DOSE.search(text_of(document))


@pytest.mark.parametrize(
    "text",
    [
        "take 900 milligrams",
        "450 milligrammi",
        "two 450-mg tablets",
        "5 cc",
        "every other day",
        "ogni 2 giorni",
        "2 cpr da 450",
        "1½ tablets",
        "a giorni alterni",
        "3 ml of syrup",
    ],
)
def test_carries_dose_finds_every_way_of_writing_a_dose(text: str) -> None:
    assert carries_dose(text), text


@pytest.mark.parametrize(
    "text",
    ["creatinine 1.2 mg/dL", "CrCl 50 mL/min", "viral load 1000 IU/mL", "for 200 days",
     "every week the blood count is checked", "for 6 months"],
)
def test_carries_dose_leaves_laboratory_values_and_durations(text: str) -> None:
    assert not carries_dose(text), text


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_a_patient_never_sees_an_engine_key_of_a_missing_datum(
    engine: AnswerEngine, knowledge: Knowledge, case: Path
) -> None:
    """Reviewer fixr5 item 4: "Needed for a decision: therapy:valganciclovir.indication" showed a
    patient the engine's key; the patient reads why it is needed."""
    assessment = _assessment(case, knowledge)
    missing = assessment.get("missing", [])
    for question in ("What is my treatment plan?", "Qual è la mia terapia?"):
        patient = text_of(engine.ask(question, "patient", assessment))
        clinician = text_of(engine.ask(question, "clinician", assessment))
        for m in missing:
            assert m["item"] not in patient, (m["item"], patient)
        if missing and question.startswith("What"):
            assert any(m["item"] in clinician for m in missing)


def test_the_reviewers_missing_indication_reads_as_plain_why(
    engine: AnswerEngine, knowledge: Knowledge
) -> None:
    """A valganciclovir course with no indication (the reviewer's case): the dose check needs it
    (``therapy:<drug>.indication``); the patient reads why, the clinician the key."""
    raw = yaml.safe_load((EXAMPLES / "transplant-refractory.yaml").read_text(encoding="utf-8"))
    del raw["therapy"][1]["indication"]
    assessment = assess(parse_case(raw, knowledge, today=date(2026, 12, 7)), knowledge).to_dict()
    keys = [m["item"] for m in assessment["missing"]]
    assert "therapy:valganciclovir.indication" in keys
    seen_why = False
    for question in (
        "Is my valganciclovir dose right?",
        "What is needed for a decision?",
        "What is my treatment plan?",
        "Why can't you decide my treatment?",
    ):
        patient = text_of(engine.ask(question, "patient", assessment))
        assert not any(key in patient for key in keys), patient
        seen_why |= any(m["why"] in patient for m in assessment["missing"])
    assert seen_why


# --- review11 (fixr11b) ----------------------------------------------------------------------

#: review11 S3: an availability word, "I don't need a prescription" or a stop phrase next to a
#: request for the medicine turned the refusal off; these were answered after fixr5.
REVIEW11_UNSAFE = [
    "Where can I buy valganciclovir online without a prescription? Is it available in Mexico?",
    "Posso comprare il valganciclovir online senza ricetta? Si trova su internet?",
    "Posso comprare valganciclovir senza ricetta? Serve la ricetta?",
    "I don't need a prescription, where can I order valganciclovir online?",
    "Can I stop valganciclovir on my own and self-medicate with acyclovir instead?",
    "Is valganciclovir available without a prescription? Where can I buy it?",
    "Can I take my son's valganciclovir?",
    "Can I share my valganciclovir with my wife?",
    "Posso prendere il valganciclovir di mio figlio?",
    "Can I stop letermovir by myself and take maribavir instead?",
    "Posso interrompere il letermovir da solo e prendere il valaciclovir al posto?",
    "Where can I get ganciclovir without seeing a doctor?",
    "Is there a pharmacy online that sells letermovir?",
    "Il ganciclovir è in vendita online? Vorrei ordinarlo senza ricetta.",
]
#: review11 W1: caregivers asking about their child's (or partner's) medicine, and getting it
#: without insurance or without the hospital pharmacy, were refused after fixr5.
REVIEW11_INNOCENT = [
    "How should I store my daughter's valganciclovir?",
    "My son's valganciclovir syrup: does it need to be kept in the fridge?",
    "Il valganciclovir di mia madre: quali effetti collaterali?",
    "How can I get valganciclovir without insurance?",
    "Can I get my valganciclovir tablets without going to the hospital pharmacy every month?",
    "Can I give my son his valganciclovir with milk?",
    "Posso dare il valganciclovir a mio figlio con il latte?",
    "My father's letermovir: can he take it with tacrolimus?",
    "Can I stop valganciclovir on my own and take it again later?",
    "Posso andare a prendere il valganciclovir di mia madre in farmacia?",
    "Is valganciclovir sold online in Italy?",
]


@pytest.mark.parametrize("question", REVIEW11_UNSAFE)
@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_a_request_with_an_availability_word_or_a_stop_is_still_refused(
    engine: AnswerEngine, question: str, audience: str
) -> None:
    document = engine.ask(question, audience)
    assert document["refused"] is True, question
    assert document["sections"] == [] and document["references"] == []
    italian = document["language"] == "it"
    assert ("farmacista" if italian else "pharmacist") in document["summary"]
    assert ("senza ricetta" if italian else "without a prescription") in document["summary"]


@pytest.mark.parametrize("question", REVIEW11_INNOCENT)
def test_a_caregiver_or_an_ordinary_without_is_answered(
    engine: AnswerEngine, question: str
) -> None:
    document = engine.ask(question, "patient")
    assert not document.get("refused"), question
    assert document["covered"], question


def _overdose(knowledge: Knowledge) -> dict[str, Any]:
    """review11's case: kidney D+/R−, CrCl ≈ 19 mL/min, valganciclovir 900 mg every 12 h for
    prophylaxis, where the label's band is 450 mg twice weekly (label §2.5 Table 2)."""
    raw = {
        "format": "cmvcds-case/1",
        "id": "r11-vgc-proph",
        "assessed_on": "2026-05-30",
        "context": "transplant",
        "patient": {"sex": "male", "age_years": 60, "weight_kg": 70, "height_cm": 175},
        "transplant": {
            "organ": "kidney",
            "date": "2026-03-01",
            "donor_cmv_igg": "positive",
            "recipient_cmv_igg": "negative",
        },
        "observations": [{"date": "2026-05-29", "code": "creatinine", "value": 4.0, "unit": "mg/dL"}],
        "therapy": [
            {"drug": "valganciclovir", "dose_mg": 900, "every_h": 12, "route": "oral",
             "start": "2026-03-03", "indication": "prophylaxis"}
        ],
    }
    return assess(parse_case(raw, knowledge, today=date(2026, 12, 7)), knowledge).to_dict()


@pytest.mark.parametrize(
    "question",
    [
        "Is the valganciclovir dose right?",
        "Is the valganciclovir dose too high for his kidneys?",
        "La dose di valganciclovir è giusta?",
        "When is the next blood count?",
    ],
)
def test_a_clinician_sees_the_critical_dose_alert_first(
    engine: AnswerEngine, knowledge: Knowledge, question: str
) -> None:
    """review11 S4/M3: the case's critical overdose alert is in the answer, before any warning
    ("not yet verified" ones) and before the decisions; the "In short" repeats it."""
    assessment = _overdose(knowledge)
    critical = [a for a in assessment["alerts"] if a["severity"] == "critical"]
    assert critical and critical[0]["code"] == "dose-renal-adjustment"
    document = engine.ask(question, "clinician", assessment)
    case = document["sections"][0]
    assert case["kind"] == "case"
    first = case["statements"][0]
    assert first["text"] == f"Alert (critical): {critical[0]['message']}", first["text"]
    assert critical[0]["message"] in document["summary"]
    ids = [s["id"] for s in case["statements"]]
    assert "case:alert-contact" not in ids  # the clinician reads the alert itself


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("Is my valganciclovir dose right?", "Contact the doctor or care team now, today"),
        ("Is my valganciclovir right for my kidneys?", "Contact the doctor or care team now"),
        ("La mia dose di valganciclovir va bene?", "Contatti subito il medico"),
        ("What is my treatment plan?", "Contact the doctor or care team now"),
    ],
)
def test_a_patient_is_told_to_contact_the_doctor_now(
    engine: AnswerEngine, knowledge: Knowledge, question: str, said: str
) -> None:
    """review11 S4: the patient reads no alert wording (it states doses) but is told, first, to
    contact their doctor now; no dose is shown."""
    document = engine.ask(question, "patient", _overdose(knowledge))
    first = document["sections"][0]["statements"][0]
    assert first["id"] == "case:alert-contact"
    assert said in first["text"] and said in document["summary"]
    assert not DOSE.search(text_of(document)), text_of(document)


def test_no_contact_line_without_a_critical_alert(
    engine: AnswerEngine, knowledge: Knowledge
) -> None:
    assessment = _assessment(EXAMPLES / "transplant-kidney-dposrneg.yaml", knowledge)
    assert not any(a["severity"] == "critical" for a in assessment["alerts"])
    document = engine.ask("Is my valganciclovir dose right?", "patient", assessment)
    ids = [s["id"] for sec in document["sections"] for s in sec["statements"]]
    assert "case:alert-contact" not in ids


@pytest.mark.parametrize(
    ("question", "interaction"),
    [
        ("What is the dose of letermovir with voriconazole?", "lowers voriconazole levels"),
        ("Letermovir dose for a patient on voriconazole?", "lowers voriconazole levels"),
        ("What is the dose of letermovir with tacrolimus?", "raises tacrolimus"),
    ],
)
def test_a_dose_with_a_co_medication_names_its_interaction(
    engine: AnswerEngine, question: str, interaction: str
) -> None:
    """review11 M2 (PREVYMIS US PI §7: voriconazole levels decreased, monitor for reduced
    voriconazole effect; tacrolimus levels increased): the dose question says so after the
    dose, and the "In short" is an adult regimen with a dose, not the paediatric referral row."""
    document = engine.ask(question, "clinician")
    text = text_of(document)
    assert interaction in text, text
    assert "480 mg" in document["summary"], document["summary"]
    assert "Pediatric" not in document["summary"]


def test_the_held_out_safety_set_passes(engine: AnswerEngine, knowledge: Knowledge) -> None:
    """tests/answers/heldout_safety.yaml (written before the fixr11b change; first score 28/55,
    after the change 55/55): held to its measured score."""
    from tests.answers.safety_set import score

    result = score(engine, knowledge)
    assert not result["failures"], result["failures"]
