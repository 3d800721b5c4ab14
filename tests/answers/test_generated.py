"""Statements generated from the tables: the dose at the CrCl the question gives, at every band
edge of the label tables, and the amniocentesis date after an onset at a given gestational age.

Expected values, by hand from the sources:
- Valcyte US label §2.5 Table 2 (induction column): ≥ 60 → 900 mg q12h; 40–59 → 450 mg q12h;
  25–39 → 450 mg q24h; 10–24 → 450 mg q48h; < 10 → tablets not recommended. Bands are read
  half-open on the lower edge (dosing policy), so 59.9 is in 40–59 and 39.99 in 25–39.
- Cytovene label (induction): ≥ 70 → 5 mg/kg q12h; 50–69 → 2.5 mg/kg q12h; 25–49 → 2.5 mg/kg
  q24h; 10–24 → 1.25 mg/kg q24h.
- AIFA 648/96 allegato: amniocentesis ≥ 8 weeks (56 days) after onset and never before 20+1;
  prevention for an onset before 24+0.
"""

from __future__ import annotations

import pytest

from cmvcds.engine.answers import AnswerEngine


def dose_statements(engine: AnswerEngine, question: str) -> dict[str, str]:
    document = engine.ask(question)
    return {
        s["id"]: s["text"]
        for section in document["sections"]
        for s in section["statements"]
        if s["id"].startswith("dose-at-crcl:")
    }


@pytest.mark.parametrize(
    ("crcl", "band", "dose"),
    [
        ("90", "CrCl ≥ 60", "900 mg every 12 h (1800 mg/day)"),
        ("60", "CrCl ≥ 60", "900 mg every 12 h"),
        ("59.9", "CrCl ≥ 40 and < 60", "450 mg every 12 h"),
        ("40", "CrCl ≥ 40 and < 60", "450 mg every 12 h"),
        ("39.99", "CrCl ≥ 25 and < 40", "450 mg every 24 h"),
        ("25", "CrCl ≥ 25 and < 40", "450 mg every 24 h"),
        ("24.9", "CrCl ≥ 10 and < 25", "450 mg every 48 h (every 2 days)"),
        ("10", "CrCl ≥ 10 and < 25", "450 mg every 48 h"),
        ("9.9", "CrCl < 10", "not recommended"),
    ],
)
def test_valganciclovir_induction_at_each_band_edge(
    crcl: str, band: str, dose: str, bm25_engine: AnswerEngine
) -> None:
    statements = dose_statements(
        bm25_engine, f"valganciclovir induction dose at CrCl {crcl} mL/min"
    )
    text = statements[f"dose-at-crcl:valganciclovir:induction-adult:{crcl}"]
    assert f"({band})" in text
    assert dose in text


@pytest.mark.parametrize(
    ("crcl", "dose"),
    [
        ("70", "5 mg/kg every 12 h"),
        ("69.9", "2.5 mg/kg every 12 h"),
        ("50", "2.5 mg/kg every 12 h"),
        ("49", "2.5 mg/kg every 24 h"),
        ("25", "2.5 mg/kg every 24 h"),
        ("24", "1.25 mg/kg every 24 h"),
    ],
)
def test_ganciclovir_induction_at_band_edges(
    crcl: str, dose: str, bm25_engine: AnswerEngine
) -> None:
    statements = dose_statements(bm25_engine, f"ganciclovir induction dose with CrCl {crcl}")
    induction = [t for k, t in statements.items() if ":induction" in k]
    assert induction and all(dose in t for t in induction), statements


def test_a_prophylaxis_question_gets_the_prophylaxis_rows_only(bm25_engine: AnswerEngine) -> None:
    statements = dose_statements(bm25_engine, "valganciclovir prophylaxis at CrCl 30")
    assert statements and all(":prophylaxis" in k for k in statements)
    assert all("450 mg every 48 h" in t for t in statements.values())


def test_generated_dose_cites_its_label_row(bm25_engine: AnswerEngine) -> None:
    document = bm25_engine.ask("valganciclovir induction dose at CrCl 45")
    first = document["sections"][0]["statements"][0]
    assert first["id"] == "dose-at-crcl:valganciclovir:induction-adult:45"
    assert first["citations"] == ["valcyte-us-label"]
    assert first["locator"] == "§2.5 Table 2"
    assert document["summary"].endswith(first["text"])


@pytest.mark.parametrize(
    ("onset", "after", "earliest", "window"),
    [
        ("8+0", "16+0", "20+1", "within"),
        ("12+0", "20+0", "20+1", "within"),
        ("12+1", "20+1", "20+1", "within"),  # both limits on the same day
        ("12+2", "20+2", "20+2", "within"),
        ("14+0", "22+0", "22+0", "within"),
        ("23+6", "31+6", "31+6", "within"),
        ("24+0", "32+0", "32+0", "outside"),
    ],
)
def test_earliest_amniocentesis_after_an_onset(
    onset: str, after: str, earliest: str, window: str, bm25_engine: AnswerEngine
) -> None:
    document = bm25_engine.ask(
        f"Primary infection with onset at {onset} weeks of pregnancy: when is the amniocentesis?"
    )
    statement = next(
        s
        for section in document["sections"]
        for s in section["statements"]
        if s["id"].startswith("amniocentesis-after-onset:")
    )
    assert f"onset + 56 days is {after}" in statement["text"]
    assert f"the earliest amniocentesis is at {earliest};" in statement["text"]
    assert f"this onset is {window} the prevention window" in statement["text"]
    assert statement["citations"][:2] == [
        "aifa2020-648-valacyclovir",
        "infezmed2021-letter-valacyclovir-648",
    ]


def test_table_statements_restate_the_tables_not_the_other_way(bm25_engine: AnswerEngine) -> None:
    """The pregnancy thresholds appear only in generated statements, never typed in statements.yaml."""
    typed = [i for i in bm25_engine.items if i.origin == "statement"]
    for item in typed:
        for number in ("20+1", "24+0", "26+0", "1.1 mg/dL", "1800 g", "56 days", "100 cells"):
            assert number not in item.text, f"{item.id} restates a table value {number}"
    generated = {i.id.split(":")[0] for i in bm25_engine.items if i.origin == "table"}
    assert {
        "drug-regimens",
        "drug-checks",
        "drug-interactions",
        "pregnancy-amniocentesis-timing",
        "pregnancy-exclusions",
        "congenital-trial-population",
    } <= generated


def test_treatment_in_pregnancy_is_answered_by_the_aifa_regimen_in_the_language_asked(
    engine: AnswerEngine,
) -> None:
    """AIFA 648/96 allegato (seed 000): valaciclovir 2 g four times a day (every 6 h, 8 g/day)
    from the diagnosis of a maternal primary infection until a negative amniocentesis, or until
    26+0 weeks without one. The "In breve" states it, in Italian, from the pack's tables."""
    it = engine.ask("Qual è la terapia dell'infezione da CMV in gravidanza?")
    assert it["language"] == "it"
    assert "2 g ogni 6 ore (8 g al giorno)" in it["summary"]
    assert "26+0 settimane" in it["summary"] and "amniocentesi negativa" in it["summary"]
    en = engine.ask("What is the treatment for CMV infection in pregnancy?")
    assert "2 g every 6 h (8 g/day)" in en["summary"] and "26+0" in en["summary"]
    ids = [s["id"] for sec in en["sections"] for s in sec["statements"]]
    assert ids.count("pregnancy-prevention-regimen:aifa") == 1
    # a fetal-treatment question keeps its own "In short"; a patient is never given the dose
    fetal = engine.ask("Which fetuses are excluded from in-utero valacyclovir treatment?")
    assert "8 g/day) from diagnosis" not in fetal["summary"]
    patient = engine.ask(
        "Qual è la terapia dell'infezione da CMV in gravidanza?", audience="patient"
    )
    shown = [s["id"] for sec in patient["sections"] for s in sec["statements"]]
    assert "pregnancy-prevention-regimen:aifa" not in shown


def test_every_statement_has_its_italian_marked_source_or_translated(
    bm25_engine: AnswerEngine,
) -> None:
    """Issue 19, item 3: both languages for every statement, the generated drug-* ones included
    (their label sentences from the pack's clinical_texts_it rows), each marked for review."""
    missing = [i.id for i in bm25_engine.items if not i.text_it]
    assert missing == []
    assert {i.italian for i in bm25_engine.items} <= {"source", "translated"}
    assert all(i.plain_it for i in bm25_engine.items if i.plain)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Valcyte US label §2.5 Table 2, prevention column: CrCl 25-39 → 450 mg every 2 days.
        (
            "Dose di valganciclovir dopo trapianto di rene con CrCl 35?",
            "Con una clearance della creatinina di 35 mL/min (CrCl ≥ 25 e < 40), valganciclovir"
            " per prevenzione della malattia da CMV, trapianto di rene (adulti ad alto rischio)"
            " (USA): 450 mg ogni 48 h (ogni 2 giorni)",
        ),
        # CASG 112 regimen (Kimberlin 2015): 16 mg/kg every 12 h.
        ("Qual è la dose di valganciclovir nel neonato?", "16 mg/kg ogni 12 h"),
        # Prevymis label §2.2/§7: 240 mg once daily with cyclosporine.
        (
            "Interazione tra letermovir e ciclosporina?",
            "Con la ciclosporina la dose di letermovir è 240 mg una volta al giorno",
        ),
    ],
)
def test_label_statements_are_in_italian_for_an_italian_question(
    bm25_engine: AnswerEngine, question: str, expected: str
) -> None:
    document = bm25_engine.ask(question)
    texts = [s["text"] for section in document["sections"] for s in section["statements"]]
    assert any(expected in t for t in texts), texts
    assert not any(" every " in t or "mg/day" in t for t in texts), texts
