"""Safety review M4: combined UL97 + UL54 ganciclovir resistance, curated levels, duplicates.

Expected values by hand from mutations.csv: M460V ganciclovir, recombinant rows 8.3, 8.3, 7, 8.2,
5.9, 8.3, 14 (enzyme kinetics, with A594P: a combination, not counted), 8.2 → median 8.2,
moderate, range 5.9–8.3; A809V ganciclovir, recombinant 2.4, 2.1 → low. No HerpesDRG row
measures M460V + A809V together. UL97 A594V maribavir: one row, 2.2-fold (hdrg2046, Drew 2006),
low by the bands, curated to susceptible.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmvcds.adapters.report.resistance_html import (
    resistance_html,
    resistance_summary_row,
    resistance_text,
)
from cmvcds.engine.resistance import Level, interpret_mutations
from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import DEFAULT_PACK, Knowledge, load_knowledge
from tests.resistance.test_import_and_knowledge import TOOL

ALL_GENES = ["UL97", "UL54", "UL56", "UL89", "UL51", "UL27"]
FLAG = "combined-effect-uncharacterised"


def test_ul97_and_ul54_ganciclovir_mutations_flag_the_combined_effect(
    knowledge: Knowledge,
) -> None:
    doc = interpret_mutations("UL97:M460V,UL54:A809V", None, knowledge).to_dict()
    for drug in ("ganciclovir", "valganciclovir"):
        call = doc["drugs"][drug]
        # the level is not raised (no rule read gives one) but is flagged as a lower bound
        assert (call["level"], call["fold_change"]) == ("moderate", [5.9, 8.3])
        assert [f["code"] for f in call["flags"]] == [FLAG]
        assert call["flags"][0]["mutations"] == ["UL54:A809V", "UL97:M460V"]
        assert "likely higher" in call["flags"][0]["text"]
        assert "jcm2013-cmv-ul97-ul54-rapid-detection" in call["citations"]
    # foscarnet depends on UL54 only: nothing combined to flag
    assert "flags" not in doc["drugs"]["foscarnet"]
    assert any(u.startswith("Combined effect of UL97 + UL54") for u in doc["unverified"])


@pytest.mark.parametrize(
    "mutations",
    [
        "UL97:M460V",  # one gene only
        "UL97:M460V,UL97:C592G",  # two mutations, one gene
        "UL97:M460V,UL54:V715M",  # V715M: foscarnet resistance, ganciclovir-susceptible
        "UL97:A594V,UL54:E756K",  # the combination was measured (10.8-fold): it applies
    ],
)
def test_no_flag_without_unmeasured_resistance_in_both_genes(
    knowledge: Knowledge, mutations: str
) -> None:
    report = interpret_mutations(mutations, ALL_GENES, knowledge)
    assert report.drug("ganciclovir").flags == ()
    assert not any(u.startswith("Combined effect") for u in report.unverified)


def test_measured_combination_is_used_instead_of_a_flag(knowledge: Knowledge) -> None:
    call = interpret_mutations("UL97:A594V,UL54:E756K", ALL_GENES, knowledge).drug("ganciclovir")
    assert (call.level, call.fold_change) == (Level.MODERATE, (1.9, 10.8))
    assert "UL54:E756K+UL97:A594V" in call.mutations


def test_flag_is_rendered_in_text_html_and_batch_row(knowledge: Knowledge) -> None:
    doc = interpret_mutations("UL97:M460V,UL54:A809V", None, knowledge).to_dict()
    text = resistance_text(doc)
    assert (
        "  ganciclovir     Moderate resistance or higher (combined effect not measured)  "
        "fold change 5.9–8.3× (each mutation alone)  (UL97:M460V, UL54:A809V)"
    ) in text
    assert "    ! Ganciclovir-resistance mutations were found in both UL97 and UL54" in text
    page = resistance_html(doc, knowledge)
    assert "Combined effect uncharacterised (UL54:A809V + UL97:M460V)" in page
    assert "(each mutation alone)" in page
    row = resistance_summary_row(doc, ["ganciclovir", "foscarnet", "cidofovir"])
    assert row[1:4] == ["MOD+", "LOW", "S"]


def test_a594v_maribavir_is_curated_to_susceptible_and_shows_the_measurement(
    knowledge: Knowledge,
) -> None:
    doc = interpret_mutations("UL97:A594V", ALL_GENES, knowledge).to_dict()
    maribavir = doc["drugs"]["maribavir"]
    assert (maribavir["level"], maribavir["fold_change"], maribavir["mutations"]) == (
        "susceptible",
        None,
        [],
    )
    (entry,) = maribavir["evidence"]
    assert entry["mutation"] == "UL97:A594V"
    assert (entry["level"], entry["fold_change"], entry["studies"]) == (
        "susceptible",
        [2.2, 2.2],
        1,
    )
    assert entry["curated"]["level_measured"] == "low"
    assert "drew2006-jcv-maribavir-sensitivity" in entry["curated"]["citations"]
    assert "drew2006-jcv-maribavir-sensitivity" in maribavir["citations"]
    # ganciclovir is untouched: A594V stays a resistance mutation
    assert doc["drugs"]["ganciclovir"]["level"] == "moderate"
    assert doc["mutations"] == [{"id": "UL97:A594V", "frequency": 1.0, "status": "resistance"}]
    text = resistance_text(doc)
    assert "    curated: UL97:A594V: measured low 2.2×, reported susceptible (curated):" in text
    assert "measured low, curated to susceptible" in resistance_html(doc, knowledge)


def test_a_true_maribavir_mutation_still_overrides_the_curated_one(knowledge: Knowledge) -> None:
    call = interpret_mutations("UL97:A594V,UL97:H411Y", ALL_GENES, knowledge).drug("maribavir")
    assert (call.level, call.mutations) == (Level.HIGH, ("UL97:H411Y",))


def _pack_with_curation(tmp_path: Path, knowledge_root: Path, supersedes: str) -> Path:
    root = tmp_path / "data"
    shutil.copytree(knowledge_root, root)
    curation = root / "resistance" / "curation.yaml"
    text = curation.read_text(encoding="utf-8")
    assert "supersedes: [hdrg2046-maribavir]" in text
    curation.write_text(
        text.replace("supersedes: [hdrg2046-maribavir]", f"supersedes: [{supersedes}]"),
        encoding="utf-8",
    )
    return root


def test_curation_naming_other_rows_than_the_pairs_is_a_knowledge_error(
    tmp_path: Path, knowledge: Knowledge
) -> None:
    # a row that is not one of A594V x maribavir (e.g. after a re-import): refuse, do not guess
    pack = load_knowledge(_pack_with_curation(tmp_path, DEFAULT_PACK, "hdrg2045-maribavir"))
    with pytest.raises(KnowledgeError, match="ul97-a594v-maribavir"):
        interpret_mutations("UL97:A594V", ALL_GENES, pack)


def test_repeated_mutation_is_counted_once_with_a_warning(knowledge: Knowledge) -> None:
    once = interpret_mutations("UL97:A594V", None, knowledge)
    twice = interpret_mutations("UL97:A594V,UL97:A594V, UL97 p.Ala594Val", None, knowledge)
    assert [m.id for m in twice.mutations] == ["UL97:A594V"]
    assert twice.drugs == once.drugs
    assert once.warnings == ()
    assert twice.warnings == (
        "UL97:A594V was listed 3 times ('UL97:A594V'; 'UL97:A594V'; 'UL97 p.Ala594Val'); "
        "counted once",
    )


def test_import_tool_reports_a_curation_its_rows_no_longer_match(tmp_path: Path) -> None:
    stale_curations = TOOL.stale_curations
    curation = tmp_path / "curation.yaml"
    curation.write_text(
        "calls:\n  - {id: c1, mutation: 'UL97:A594V', drug: maribavir, supersedes: [r1]}\n"
    )
    row = {"mutation": "UL97:A594V", "drug": "maribavir", "co_mutations": ""}
    assert stale_curations([{**row, "id": "r1"}], curation) == []
    combined = {**row, "id": "r3", "co_mutations": "UL97:M460V"}  # a combination: not superseded
    assert stale_curations([{**row, "id": "r1"}, combined], curation) == []
    (problem,) = stale_curations([{**row, "id": "r1"}, {**row, "id": "r2"}], curation)
    assert problem == (
        "curation c1: supersedes ['r1'], imported rows of UL97:A594V x maribavir are "
        "['r1', 'r2']: review it"
    )
