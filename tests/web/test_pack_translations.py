"""Every clinical text a user reads on the pages has its Italian in the knowledge pack (issue 15
item 2; ADR 0020): the alerts, decision reasons, missing-data lines, schedule notes and
unverified facts of the assessments of every example and outside vignette (with the example
site's settings and with the reference profile alone), and the registry's forms, checks and
analyses. The table is validated on load: a translation that drops or invents a computed value
is refused.
"""

from __future__ import annotations

import copy
import csv
import io
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmvcds.adapters.cli.common import read_settings
from cmvcds.adapters.web.i18n import _language
from cmvcds.adapters.web.summary import clinical_view
from cmvcds.adapters.web.texts import translate
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import DEFAULT_PACK, Knowledge, load_knowledge
from cmvcds.knowledge.schemas.translations import TranslationTable
from cmvcds.registry.dictionary import choices, crf_from_knowledge
from tests.outside.runner import load_vignettes

ROOT = Path(__file__).resolve().parents[2]
UNVERIFIED = "Not yet verified against its primary source: "


def _cases(knowledge: Knowledge) -> list[tuple[str, Any]]:
    cases = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        if path.name != "settings.yaml":
            cases.append((path.name, yaml.safe_load(path.read_text(encoding="utf-8"))))
    cases += [(v.name, v.data["case"]) for v in load_vignettes() if not v.data.get("dose")]
    return cases


def _shown_texts(document: dict[str, Any]) -> set[str]:
    """The clinical texts of an assessment that the pages show."""
    texts = {a["message"] for a in document.get("alerts") or []}
    for decision in document.get("decisions") or []:
        texts.update(decision.get("reasons") or [])
    texts.update(m["why"] for m in document.get("missing") or [])
    for regimen in document.get("regimens") or []:
        texts.update(t for t in (regimen.get("schedule"), regimen.get("stop_rule")) if t)
    texts.update(s["reason"] for s in document.get("schedule") or [] if s.get("reason"))
    return texts


@pytest.fixture(scope="module")
def assessment_texts(knowledge: Knowledge) -> dict[str, str]:
    """Every text shown, with the first case that shows it."""
    site = read_settings(ROOT / "examples" / "settings.yaml", knowledge)
    found: dict[str, str] = {}
    for name, raw in _cases(knowledge):
        on = raw.get("assessed_on")
        today = on if isinstance(on, date) else date.fromisoformat(str(on))
        case = parse_case(copy.deepcopy(raw), knowledge, today=today)
        for settings in (site, None):
            for text in _shown_texts(assess(case, knowledge, settings=settings).to_dict()):
                found.setdefault(text, name)
    return found


def test_the_corpus_is_the_whole_set_of_cases(assessment_texts: dict[str, str]) -> None:
    assert len(_cases(load_knowledge())) >= 90
    assert len(assessment_texts) > 400  # alerts, reasons, missing lines, notes of every context


def test_every_clinical_text_of_an_assessment_has_its_italian(
    assessment_texts: dict[str, str],
) -> None:
    missing = sorted(f"{name}: {text}" for text, name in assessment_texts.items()
                     if translate(text, "it") is None)  # fmt: skip
    assert missing == []


def test_computed_values_are_carried_over_untouched(assessment_texts: dict[str, str]) -> None:
    """Every date and number of the English is in the Italian, as many times."""
    for text in assessment_texts:
        italian = translate(text, "it")
        assert italian is not None
        for value in set(re.findall(r"\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?", text)):
            assert italian.count(value) >= text.count(value) or value in (
                "1",  # "one of the two" and similar words are spelt out
                "1.73",  # the body-surface unit, written the Italian way: mL/min/1,73 m²
            ), (text, italian, value)


def test_an_alert_reads_in_italian_with_its_values() -> None:
    english = (
        "valganciclovir: ANC 400 cells/uL on 2026-03-10 is below 500: hold the drug; recheck "
        "the ANC (about twice weekly) and restart when it recovers (restart when above 750)."
    )
    assert translate(english, "it") == (
        "valganciclovir: neutrofili 400 cellule/uL il 2026-03-10 sotto 500: sospendere il "
        "farmaco; ricontrollare i neutrofili (circa due volte a settimana) e riprendere quando "
        "si normalizzano (riprendere sopra 750)."
    )
    assert translate(english, "en") == english
    assert translate("A sentence the pack has never seen.", "it") is None


def test_a_dose_check_reads_in_italian_part_by_part() -> None:
    """The order check's sentence (engine/dosing/check.py) is translated from its parts: the
    schedule and the renal band in Italian, the doses and the source ids as computed."""
    english = (
        "Ordered 900 mg twice daily (1800 mg/day); renal function requires 450 mg twice daily "
        "(900 mg/day; CrCl ≥ 40 and < 60 mL/min; kotton2025-sot-cmv-consensus, "
        "valcyte-us-label). The order is 2× the labelled daily amount (critical at ≥ 2×, "
        "cmvcds2026-dosing-policy)."
    )
    assert translate(english, "it") == (
        "Dose prescritta 900 mg due volte al giorno (1800 mg/die); la funzione renale richiede "
        "450 mg due volte al giorno (900 mg/die; CrCl ≥ 40 e < 60 mL/min; "
        "kotton2025-sot-cmv-consensus, valcyte-us-label). La prescrizione è 2× la quantità "
        "giornaliera in scheda tecnica (critico a ≥ 2×, cmvcds2026-dosing-policy)."
    )


def test_a_dose_reason_reads_in_italian_with_its_citation() -> None:
    """probe8 R1: the dose calculator's reasons were English on the Italian page. The band, the
    computed dose and the schedule are translated; the citation ({source}) keeps its source ids,
    its label section worded in Italian where the pack gives it; a regimen the pack has no
    Italian for stays English whole (never half translated)."""
    assert translate(
        "CrCl > 0.6 and ≤ 0.8 mL/min/kg: 80 mg/kg × 70 kg = 5600 mg every 2 days "
        "(foscavir-us-label Table 13 maintenance, 90 mg/kg/day column).",
        "it",
    ) == (
        "CrCl > 0.6 e ≤ 0.8 mL/min/kg: 80 mg/kg × 70 kg = 5600 mg ogni 2 giorni "
        "(foscavir-us-label Tabella 13 mantenimento, colonna 90 mg/kg/die)."
    )
    assert translate(
        "Regimen: CMV retinitis in AIDS, induction (adults), then maintenance "
        "(vistide-us-label Dosage and administration: induction).",
        "it",
    ) == (
        "Schema: Retinite da CMV nell'AIDS, induzione (adulti), poi mantenimento "
        "(vistide-us-label Posologia e modo di somministrazione: induzione)."
    )
    assert translate("CrCl ≥ 25 and < 40 mL/min: 450 mg every 2 days (x-label §9).", "it") == (
        "CrCl ≥ 25 e < 40 mL/min: 450 mg ogni 2 giorni (x-label §9)."
    )
    assert translate("Regimen: A regimen the pack has never seen (x-label §9).", "it") is None


def test_what_to_do_now_and_the_unverified_list_read_in_italian(knowledge: Knowledge) -> None:
    raw = yaml.safe_load((ROOT / "examples" / "transplant-kidney-dposrneg.yaml").read_text())
    case = parse_case(raw, knowledge, today=date.fromisoformat(str(raw["assessed_on"])))
    document = assess(case, knowledge).to_dict()
    token = _language.set("it")
    try:
        view = clinical_view(document)
    finally:
        _language.reset(token)
    assert view.todo and all(translate(line, "it") is not None or "Somministrare" in line
                             or "Ancora necessari" in line for line in view.todo)  # fmt: skip
    assert view.todo[0].startswith("Somministrare valganciclovir 450 mg per bocca una volta al giorno")
    assert view.unverified and all(not u["what"].startswith("Not yet") for u in view.unverified)


def _registry_texts() -> set[str]:
    crf = crf_from_knowledge(load_knowledge())
    texts: set[str] = set()
    for row in crf.fields:
        texts.update(t for t in (row.field_label, row.section_header, row.field_note) if t)
        texts.update(choices(row).values())
    for event in crf.design.events:
        texts.add(event.label)
        texts.update(i.replace("_", " ") for i in event.instruments)
    texts.update(c.message for c in (*crf.design.soft_checks, *crf.design.date_checks))
    texts.update(a.label for a in crf.design.analyses)
    texts.update(a.role for a in crf.design.analyses)
    return texts


def test_every_registry_label_check_and_analysis_has_its_italian() -> None:
    texts = _registry_texts()
    assert len(texts) > 150
    assert sorted(t for t in texts if translate(t, "it") is None) == []


def test_every_row_awaits_or_has_had_a_clinical_review(knowledge: Knowledge) -> None:
    table = knowledge.table("clinical_texts_it", TranslationTable)
    assert {row.review for row in table.rows} <= {"machine-draft", "clinician-reviewed"}
    assert "machine" in table.provenance.lower()


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"en": "ANC {n} on {date}", "it": "neutrofili {n}"}, "placeholders"),
        ({"en": "ANC {n}", "it": "neutrofili {n} {n2}"}, "placeholders"),
        ({"en": "ANC {value}", "it": "neutrofili {value}"}, "brace"),
        ({"en": "ANC", "it": ""}, "at least 1 character"),
    ],
)
def test_a_bad_translation_row_is_refused_on_load(
    tmp_path: Path, row: dict[str, str], error: str
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    file = pack / "i18n" / "it.yaml"
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    data["rows"].append(row)
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=error) as refused:
        load_knowledge(pack)
    assert "i18n/it.yaml" in str(refused.value)


def test_a_text_translated_twice_is_refused_on_load(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    file = pack / "i18n" / "it.yaml"
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    data["rows"].append({"en": data["rows"][0]["en"], "it": "altro"})
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="translated twice"):
        load_knowledge(pack)


def test_dictionary_fields_parse_as_the_registry_reads_them() -> None:
    """The registry texts above come from the same CSV the registry loads."""
    text = (DEFAULT_PACK / "registry" / "dictionary.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO("".join(
        line for line in text.splitlines(keepends=True) if not line.startswith("#")))))  # fmt: skip
    labels = {row["Field Label"] for row in rows}
    assert labels <= _registry_texts()


def test_a_part_holding_a_semicolon_in_parentheses_is_translated_whole() -> None:
    """A held course's alert lists each count waited for, joined by "; "; a count last measured
    before the hold carries its own "; " inside parentheses: it is one part, not two halves."""
    english = (
        "valganciclovir: held since 2026-04-20 for toxicity, not completed: no ANC since the hold "
        "(last 420 cells/uL on 2026-04-20; restart above 750); no platelets measured (restart "
        "above 25000); no hemoglobin measured (restart above 8). Keep holding and recheck the "
        "blood count; restart when it recovers."
    )
    italian = translate(english, "it")
    assert italian is not None
    assert "(ultima 420 cellule/uL il 2026-04-20; riprendere sopra 750)" in italian
    assert "nessuna conta delle piastrine registrata (riprendere sopra 25000)" in italian
    assert "nessun valore di emoglobina registrato (riprendere sopra 8)" in italian
