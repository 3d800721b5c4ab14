"""Natural strain polymorphisms per drug (issue 18, ``resistance/polymorphisms.yaml``).

Expected calls worked out from the rows encoded: ``hdrg-o502-ganciclovir`` lists UL54 S655L and
``hdrg-o474-ganciclovir`` UL97 Q19E as ganciclovir polymorphisms (HerpesDRG-DB rows 502 and 474,
status O, citing Lurain & Chou 2010; unverified); mutations.csv has no row for either mutation.
So each is "susceptible (known polymorphism)" for ganciclovir (and valganciclovir, which takes
its phenotype) and for no other drug: S655L stays unknown for foscarnet, cidofovir and
brincidofovir (UL54), Q19E unknown for maribavir (UL97). UL54 S655F and UL56 I535V are neither
listed nor in mutations.csv: unknown for every drug of their gene.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cmvcds.adapters.report.resistance_html import resistance_html
from cmvcds.engine.resistance import Level, interpret_mutations, interpret_vcf
from cmvcds.engine.resistance.genes import ReferenceGenes
from cmvcds.engine.resistance.mutations import parse_mutation
from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import DEFAULT_PACK, Knowledge, load_knowledge
from cmvcds.knowledge.schemas.resistance import (
    MutationPhenotype,
    Polymorphisms,
    ResistanceDrugs,
)
from tests.resistance.conftest import snv, vcf

ALL_GENES = ["UL97", "UL54", "UL56", "UL89", "UL51", "UL27"]
CMR = "10.1128/CMR.00009-10"


def _listed(knowledge: Knowledge) -> Polymorphisms:
    return knowledge.table("resistance_polymorphisms", Polymorphisms)


def test_a_listed_ul54_polymorphism_is_susceptible_for_its_drug_only(
    knowledge: Knowledge,
) -> None:
    doc = interpret_mutations("UL54:S655L", ALL_GENES, knowledge).to_dict()
    for drug in ("ganciclovir", "valganciclovir"):
        call = doc["drugs"][drug]
        assert (call["level"], call["unknown"]) == ("susceptible", [])
        (evidence,) = call["evidence"]
        assert evidence["mutation"] == "UL54:S655L"
        assert evidence["polymorphism"] is True
        assert (evidence["evidence"], evidence["references"]) == ("clinical_isolate", [CMR])
        assert "lurain2010-cmr-cmv-antiviral-resistance" in call["citations"]
    for drug in ("foscarnet", "cidofovir", "brincidofovir"):
        call = doc["drugs"][drug]
        assert (call["level"], call["unknown"], call["evidence"]) == (
            "unknown",
            ["UL54:S655L"],
            [],
        )
    # not characterised for every drug of its gene: the mutation itself stays "unknown"
    assert doc["mutations"] == [{"id": "UL54:S655L", "frequency": 1.0, "status": "unknown"}]
    assert "Natural polymorphism UL54:S655L for ganciclovir" in doc["unverified"]


def test_the_lab_report_names_the_polymorphism_for_its_drug_only(knowledge: Knowledge) -> None:
    doc = interpret_mutations("UL54:S655L", ALL_GENES, knowledge).to_dict()
    page = " ".join(resistance_html(doc, knowledge).split())
    assert "ganciclovir: susceptible (known polymorphism), clinical isolate, 1 study" in page
    assert "Uncharacterised: UL54:S655L." in page  # foscarnet, cidofovir, brincidofovir
    assert "Natural polymorphism UL54:S655L for ganciclovir" in page  # not yet verified


def test_a_listed_ul97_polymorphism_does_not_leak_to_maribavir(knowledge: Knowledge) -> None:
    report = interpret_mutations("UL97:Q19E", ALL_GENES, knowledge)
    assert report.drug("ganciclovir").level is Level.SUSCEPTIBLE
    assert report.drug("ganciclovir").contributions[0].polymorphism
    assert (report.drug("maribavir").level, report.drug("maribavir").unknown) == (
        Level.UNKNOWN,
        ("UL97:Q19E",),
    )


@pytest.mark.parametrize(
    ("mutation", "drugs"),
    [
        ("UL54:S655F", ("ganciclovir", "foscarnet", "cidofovir", "brincidofovir")),
        ("UL56:I535V", ("letermovir",)),
    ],
)
def test_a_change_neither_listed_nor_in_the_database_stays_unknown(
    knowledge: Knowledge, mutation: str, drugs: tuple[str, ...]
) -> None:
    report = interpret_mutations(mutation, ALL_GENES, knowledge)
    for drug in drugs:
        assert (report.drug(drug).level, report.drug(drug).unknown) == (
            Level.UNKNOWN,
            (mutation,),
        )
    assert not any(u.startswith("Natural polymorphism") for u in report.unverified)


def test_a_listed_polymorphism_read_from_a_vcf(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    # S655L at 80 % in an NGS VCF: Merlin's codon 655 is TCA, its second base C>T gives TTA (L)
    ul54 = genes.genes["UL54"]
    assert ul54.cds[3 * 654 : 3 * 655] == "TCA"
    report = interpret_vcf(vcf(snv(ul54, 655, 1, "T", 0.8)), knowledge, genes_tested=ALL_GENES)
    assert [(m.id, m.frequency) for m in report.mutations] == [("UL54:S655L", 0.8)]
    assert report.drug("ganciclovir").level is Level.SUSCEPTIBLE
    assert report.drug("foscarnet").level is Level.UNKNOWN


def test_a_resistance_mutation_still_drives_the_call_beside_a_polymorphism(
    knowledge: Knowledge,
) -> None:
    call = interpret_mutations("UL54:S655L,UL97:M460V", ALL_GENES, knowledge).drug("ganciclovir")
    assert (call.level, call.mutations) == (Level.MODERATE, ("UL97:M460V",))
    assert [c.mutation for c in call.contributions] == ["UL97:M460V", "UL54:S655L"]


def test_every_row_is_on_merlin_for_a_reported_drug_with_no_measured_row(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    table = _listed(knowledge)
    drugs = {d.drug for d in knowledge.table("resistance_drugs", ResistanceDrugs).drugs}
    measured = {
        (r.mutation, r.drug)
        for r in knowledge.rows("resistance_mutations", MutationPhenotype)
        if not r.co_mutations
    }
    assert len(table.polymorphisms) == 58
    assert table.searched  # the searches for a readable primary list are recorded
    for row in table.polymorphisms:
        gene, _, change = row.mutation.partition(":")
        assert parse_mutation(f"{gene} {change}", genes).id == row.mutation  # Merlin residue
        assert row.drug in drugs and (row.mutation, row.drug) not in measured
        # nothing here was read in its primary source: never claimed verified
        assert not row.verified and row.locator and row.citations


def _pack_listing(tmp_path: Path, mutation: str) -> Path:
    root = tmp_path / "data"
    shutil.copytree(DEFAULT_PACK, root)
    path = root / "resistance" / "polymorphisms.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["polymorphisms"].append(
        {**data["polymorphisms"][0], "id": "test-row", "mutation": mutation}
    )
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return root


def test_a_listed_row_with_measured_rows_is_a_knowledge_error(tmp_path: Path) -> None:
    # UL54 N345S has a measured ganciclovir row (hdrg141): the list may not shadow it
    pack = load_knowledge(_pack_listing(tmp_path, "UL54:N345S"))
    with pytest.raises(KnowledgeError, match=r"test-row.*hdrg141-ganciclovir"):
        interpret_mutations("UL54:N345S", ALL_GENES, pack)
