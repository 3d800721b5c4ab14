"""The HerpesDRG import tool and the shipped resistance knowledge it produces."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

from cmvcds.engine.resistance.genes import ReferenceGenes
from cmvcds.engine.resistance.mutations import parse_change_id
from cmvcds.knowledge import DEFAULT_PACK, Knowledge
from cmvcds.knowledge.schemas.resistance import MutationPhenotype, ResistanceDrugs, Study

ROOT = Path(__file__).resolve().parents[2]
#: ../shared/data beside the repository (as in CI: a clone with shared/ next to it).
SHARED = ROOT.parent / "shared" / "data"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_herpesdrg", ROOT / "tools/import_herpesdrg.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
COLUMNS = [
    "mutation_id",
    "virus",
    "genotype",
    "gene",
    "aa_change",
    *TOOL.DRUGS,
    *TOOL.NOT_CMV_DRUGS,
    "ref_title",
    "ref_link",
    "ref_doi",
    "strain_generation",
    "test_method",
    "co_gene",
    "co_aa",
    "created_date",
    "created_by",
    "note",
    "control_strain",
    "status",
]


def tool_genes(genes: ReferenceGenes) -> dict[str, object]:
    return {n: TOOL.Gene(n, g.strand, g.exons, g.cds) for n, g in genes.genes.items()}


def row(**values: str) -> dict[str, str]:
    base = dict.fromkeys(COLUMNS, "")
    base.update(
        virus="HCMV",
        status="A",
        gene="UL97",
        ref_doi="doi.org/10.1128/AAC.01259-10",
        ref_title="T",
        strain_generation="Recombinant BAC ",
        test_method="SEAP",
        genotype="AD169",
        created_date="17/11/2019",
    )
    base.update(values)
    return base


def test_tool_converts_and_reports_every_row_it_cannot_use(genes: ReferenceGenes) -> None:
    rows = [
        row(mutation_id="1", aa_change="M460V", Ganciclovir="8.3", Maribavir="0.4"),
        row(
            mutation_id="2",
            gene="UL54",
            aa_change="D981del2",
            Ganciclovir="2-5",
            Foscarnet="Resistant",
            ref_doi="https://dx.doi.org/10.1234/X",
        ),
        row(
            mutation_id="3",
            gene="UL54",
            aa_change="C539R; F595I",
            co_gene="UL97",
            co_aa="H520Q",
            Ganciclovir="79",
        ),
        row(
            mutation_id="4",
            aa_change="del590-593",
            Ganciclovir=">15",
            Cidofovir="Polymorphism",
            strain_generation="Isolated strain",
        ),
        row(mutation_id="5", aa_change="A460V", Ganciclovir="3"),  # Merlin has M460
        row(mutation_id="6", aa_change="C592G", Ganciclovir="lots", Aciclovir="1.2"),
        row(mutation_id="7", aa_change="M460I", Ganciclovir="7", status="O"),
        row(mutation_id="8", virus="HSV1", gene="UL30", aa_change="A1B"),
    ]
    out, studies, problems = TOOL.convert(rows, TOOL.HCMV, tool_genes(genes))
    assert [
        (
            r["id"],
            r["mutation"],
            r["phenotype"],
            r["fold_change"],
            r["evidence"],
            r["co_mutations"],
            r["doi"],
        )
        for r in out
    ] == [
        (
            "hdrg1-ganciclovir",
            "UL97:M460V",
            "fold_change",
            "8.3",
            "recombinant",
            "",
            "10.1128/aac.01259-10",
        ),
        (
            "hdrg1-maribavir",
            "UL97:M460V",
            "fold_change",
            "0.4",
            "recombinant",
            "",
            "10.1128/aac.01259-10",
        ),
        (
            "hdrg2-ganciclovir",
            "UL54:del981-982",
            "fold_change",
            "2-5",
            "recombinant",
            "",
            "10.1234/x",
        ),
        ("hdrg2-foscarnet", "UL54:del981-982", "resistant", "", "recombinant", "", "10.1234/x"),
        (
            "hdrg3-ganciclovir",
            "UL54:C539R",
            "fold_change",
            "79",
            "recombinant",
            "UL54:F595I;UL97:H520Q",
            "10.1128/aac.01259-10",
        ),
        (
            "hdrg4-ganciclovir",
            "UL97:del591-594",
            "fold_change",
            ">15",
            "clinical_isolate",
            "",
            "10.1128/aac.01259-10",
        ),
        (
            "hdrg4-cidofovir",
            "UL97:del591-594",
            "polymorphism",
            "",
            "clinical_isolate",
            "",
            "10.1128/aac.01259-10",
        ),
    ]
    assert out[0]["added"] == "2019-11-17"
    assert sorted(studies) == ["10.1128/aac.01259-10", "10.1234/x"]
    assert problems == [
        "mutation_id 5 (UL97 A460V +  ): UL97 residue 460 is M in Merlin, not A; skipped",
        "mutation_id 6: Aciclovir '1.2' not imported (not a CMV drug in cmvcds)",
        "mutation_id 6: Ganciclovir: unreadable fold change 'lots'; skipped",
    ]


def test_every_shipped_row_names_a_merlin_residue_and_a_known_drug(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    drugs = {d.drug for d in knowledge.table("resistance_drugs", ResistanceDrugs).drugs}
    dois = {s.doi for s in knowledge.rows("resistance_studies", Study)}
    rows = knowledge.rows("resistance_mutations", MutationPhenotype)
    assert len(rows) == 1245
    for item in rows:
        assert item.drug in drugs
        assert item.doi is None or item.doi in dois
        for mutation in (item.mutation, *item.co_mutations):
            change = parse_change_id(mutation)
            protein = genes.gene(change.gene).protein
            assert change.end <= len(protein)
            if change.kind == "sub":
                assert protein[change.start - 1] == change.ref, mutation


def test_drug_genes_are_consistent(knowledge: Knowledge) -> None:
    for drug in knowledge.table("resistance_drugs", ResistanceDrugs).drugs:
        assert set(drug.required_genes) <= set(drug.genes)
        assert bool(drug.genes) != bool(drug.phenotype_from)


def test_shipped_tables_are_what_the_tool_produces(tmp_path: Path) -> None:
    assert (SHARED / "herpesdrg-db/herpesdrg-db.tsv").is_file(), (
        f"{SHARED} (shared/ beside the repo)"
    )
    assert TOOL.main(["--out", str(tmp_path)]) == 0
    shipped = DEFAULT_PACK / "resistance"
    for name in (
        "reference.yaml",
        "mutations.csv",
        "studies.csv",
        "IMPORT-REPORT.txt",
        "HERPESDRG-LICENSE",
    ):
        assert (tmp_path / name).read_text() == (shipped / name).read_text(), (
            f"{name} is stale: re-run the tool"
        )
    report = list(csv.reader(io.StringIO((tmp_path / "IMPORT-REPORT.txt").read_text())))
    assert report[0][0].startswith("HerpesDRG-DB import: 1245 mutation x drug rows")
