"""HSV-1, HSV-2 and VZV through the resistance report (issue 18): mutation lists, VCF and FASTA.

Expected calls are written from the HerpesDRG-DB rows themselves (``shared/data/herpesdrg-db``,
status A; the row's ``mutation_id`` is quoted beside each expectation) and the fold-change bands
of ``levels.yaml`` (< 2 susceptible, 2 to < 5 low, 5 to < 15 moderate, >= 15 high; "Resistant"
without a value: low). Each mutation chosen has a single row in the database, so the expected
fold change is that row's. Thymidine kinase (HSV UL23, VZV ORF36) and DNA polymerase (HSV UL30,
VZV ORF28) are covered for each virus, with a nucleoside analogue (aciclovir, penciclovir,
brivudine), the pyrophosphate analogue (foscarnet), the nucleotide analogue (cidofovir) and, where
the database has rows, the helicase-primase inhibitor amenamevir.

``data/herpesdrg/`` holds inputs from HerpesDRG's own test suite (MIT; see its README): their
expectations are upstream's, not ours.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app as cli
from cmvcds.engine.resistance import interpret_fasta, interpret_mutations, interpret_vcf
from cmvcds.engine.resistance.genes import GeneModel, ReferenceGenes, reference_genes
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge
from tests.api.conftest import app, client
from tests.resistance.conftest import fasta, genome_base, mutate, position

__all__ = ["app", "client"]  # the API/web fixtures

DATA = Path(__file__).parent / "data" / "herpesdrg"


def levels(doc: dict[str, Any]) -> dict[str, tuple[str, list[float] | None, list[str]]]:
    return {d: (c["level"], c["fold_change"], c["mutations"]) for d, c in doc["drugs"].items()}


def codon_for(gene: GeneModel, residue: int, amino_acid: str) -> str:
    """The codon for ``amino_acid`` fewest bases away from the reference codon (first in
    alphabetical order among equals), so that a VCF of SNVs makes the change."""
    from cmvcds.engine.resistance.genes import codon_table

    ref = gene.cds[3 * (residue - 1) : 3 * residue]
    candidates = sorted(c for c, aa in codon_table().items() if aa == amino_acid)
    return min(candidates, key=lambda c: sum(a != b for a, b in zip(c, ref, strict=True)))


def vcf_of(genes: ReferenceGenes, changes: dict[tuple[str, int], str], af: dict[str, float]) -> str:
    """A one-sample VCF (INFO AF) against ``genes.accession`` making each (gene, residue) the
    amino acid given, one SNV per base changed; ``af`` by gene."""
    lines = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID={genes.accession},length={genes.genome_length}>",
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    records = []
    for (name, residue), amino_acid in changes.items():
        gene = genes.gene(name)
        new = codon_for(gene, residue, amino_acid)
        for k in range(3):
            index = 3 * (residue - 1) + k
            if new[k] != gene.cds[index]:
                alt = (
                    new[k]
                    if gene.strand == "+"
                    else new[k].translate(str.maketrans("ACGT", "TGCA"))
                )
                records.append((position(gene, index), genome_base(gene, index), alt, af[name]))
    for pos, ref, alt, freq in sorted(records):
        lines.append(f"{genes.accession}\t{pos}\t.\t{ref}\t{alt}\t60\tPASS\tAF={freq}")
    return "\n".join(lines) + "\n"


# --- mutation lists -------------------------------------------------------------------------


def test_hsv1_thymidine_kinase_and_polymerase_from_a_mutation_list(knowledge: Knowledge) -> None:
    doc = interpret_mutations(
        "UL23:D55N, UL30:E597D", ["UL23", "UL30"], knowledge, virus="hsv1"
    ).to_dict()
    assert doc["virus"] == "hsv1"
    assert levels(doc) == {
        # row 695 UL23 D55N aciclovir 110 (high); row 1016 UL30 E597D aciclovir 10 (moderate)
        "aciclovir": ("high", [110, 110], ["UL23:D55N", "UL30:E597D"]),
        "valaciclovir": ("high", [110, 110], ["UL23:D55N", "UL30:E597D"]),
        # neither row measured penciclovir or brivudine: uncharacterised, never susceptible
        "penciclovir": ("unknown", None, []),
        "famciclovir": ("unknown", None, []),
        "foscarnet": ("moderate", [8, 8], ["UL30:E597D"]),  # row 1016 foscarnet 8
        "cidofovir": ("unknown", None, []),  # row 1016 has no cidofovir value
        "brivudine": ("unknown", None, []),
        "amenamevir": ("not_assessed", None, []),  # UL5/UL52 not sequenced
    }
    # D55N's cidofovir row (0.1) is a thymidine-kinase row: cidofovir needs no viral kinase
    assert "UL23:D55N" not in json.dumps(doc["drugs"]["cidofovir"])


def test_hsv1_helicase_primase_for_amenamevir(knowledge: Knowledge) -> None:
    doc = interpret_mutations(
        "UL5:G352C, UL52:F360V", ["UL5", "UL52"], knowledge, virus="hsv1"
    ).to_dict()
    # rows 1708 (UL5 G352C amenamevir 25) and 1714 (UL52 F360V amenamevir 158): both high
    assert levels(doc)["amenamevir"] == ("high", [25, 158], ["UL52:F360V", "UL5:G352C"])
    assert levels(doc)["aciclovir"] == ("not_assessed", None, [])  # UL23/UL30 not sequenced


def test_vzv_helicase_for_amenamevir(knowledge: Knowledge) -> None:
    doc = interpret_mutations("ORF55:K350N", None, knowledge, virus="vzv").to_dict()
    assert levels(doc)["amenamevir"] == ("high", [2500, 2500], ["ORF55:K350N"])  # row 2061


def test_a_mutation_is_checked_against_its_own_virus(knowledge: Knowledge) -> None:
    # HSV-2 UL30 residue 34 is Q (HerpesDRG row 1059 Q34H); UL23 residue 34 is not
    with pytest.raises(SequenceInputError, match=r"HG52 reference \(NC_001798\.2\)"):
        interpret_mutations("UL23:Q34H", None, knowledge, virus="hsv2")
    with pytest.raises(SequenceInputError, match="not a resistance gene"):
        interpret_mutations("UL97:M460V", None, knowledge, virus="hsv1")
    with pytest.raises(SequenceInputError, match="virus 'hhv6' is not covered"):
        interpret_mutations("UL30:Q34H", None, knowledge, virus="hhv6")


# --- VCF ------------------------------------------------------------------------------------


def test_hsv2_vcf_thymidine_kinase_stop_and_polymerase(knowledge: Knowledge) -> None:
    genes = reference_genes(knowledge, "hsv2")
    text = vcf_of(genes, {("UL23", 32): "*", ("UL30", 533): "E"}, {"UL23": 0.8, "UL30": 1.0})
    doc = interpret_vcf(text, knowledge, virus="hsv2", genes_tested=["UL23", "UL30"]).to_dict()
    assert [(m["id"], m["frequency"]) for m in doc["mutations"]] == [
        ("UL23:S32*", 0.8),
        ("UL30:K533E", 1.0),
    ]
    assert levels(doc) == {
        # row 1154 S32*: aciclovir 161, penciclovir 133, brivudine 2.6 (lab-selected);
        # row 1306 K533E: aciclovir 3.8, penciclovir 2.5, foscarnet 4.2, cidofovir 1.4 (marker
        # transfer); a drug's level is the highest, its fold change that of the top mutations
        "aciclovir": ("high", [161, 161], ["UL23:S32*", "UL30:K533E"]),
        "valaciclovir": ("high", [161, 161], ["UL23:S32*", "UL30:K533E"]),
        "penciclovir": ("high", [133, 133], ["UL23:S32*", "UL30:K533E"]),
        "famciclovir": ("high", [133, 133], ["UL23:S32*", "UL30:K533E"]),
        "foscarnet": ("low", [4.2, 4.2], ["UL30:K533E"]),
        "cidofovir": ("susceptible", None, []),  # 1.4-fold
        "brivudine": ("low", [2.6, 2.6], ["UL23:S32*"]),  # K533E: no brivudine row
        "amenamevir": ("not_assessed", None, []),
    }
    assert doc["drugs"]["brivudine"]["unknown"] == ["UL30:K533E"]


@pytest.mark.parametrize(
    ("file", "virus", "expected_mutations", "expected"),
    [
        # upstream: resistance call UL30_F716L; row 1507: aciclovir 6, penciclovir 2.2,
        # foscarnet 10, cidofovir 0.1 (susceptible, but a VCF without declared genes does not
        # show which codons were read: not assessed, ADR 0033-fix15a)
        (
            "HSV1_F716L.vcf",
            "hsv1",
            ["UL30:F716L"],
            {"aciclovir": "moderate", "penciclovir": "low", "foscarnet": "moderate",
             "cidofovir": "not_assessed", "brivudine": "not_assessed"},
        ),
        # upstream: resistance call UL30_Q34H; row 1059: aciclovir "Resistant" (no value)
        (
            "HSV2_Q34H.vcf",
            "hsv2",
            ["UL30:A4D", "UL30:P11S", "UL30:Q34H"],
            {"aciclovir": "low", "penciclovir": "not_assessed", "foscarnet": "not_assessed",
             "cidofovir": "not_assessed"},
        ),
        # upstream: resistance call ORF36_K25R; row 1265: aciclovir 16, penciclovir 15
        (
            "VZV_K25R.vcf",
            "vzv",
            ["ORF36:K25R"],
            {"aciclovir": "high", "penciclovir": "high", "brivudine": "not_assessed",
             "foscarnet": "not_assessed"},
        ),
    ],
)  # fmt: skip
def test_herpesdrg_test_vcfs(
    knowledge: Knowledge,
    file: str,
    virus: str,
    expected_mutations: list[str],
    expected: dict[str, str],
) -> None:
    doc = interpret_vcf((DATA / file).read_text(), knowledge, virus=virus).to_dict()
    assert [m["id"] for m in doc["mutations"]] == expected_mutations
    assert {d: doc["drugs"][d]["level"] for d in expected} == expected
    resistant = [m["id"] for m in doc["mutations"] if m["status"] == "resistance"]
    assert resistant == [expected_mutations[-1]]


def test_a_vcf_of_another_virus_is_refused(knowledge: Knowledge) -> None:
    with pytest.raises(SequenceInputError, match=r"is not NC_006273\.2"):
        interpret_vcf((DATA / "HSV1_F716L.vcf").read_text(), knowledge)
    with pytest.raises(SequenceInputError, match=r"does not match NC_001798\.2"):
        # HSV-1 positions read against HSV-2: the REF bases differ
        text = (DATA / "HSV1_F716L.vcf").read_text().replace("NC_001806.2", "NC_001798.2")
        interpret_vcf(text, knowledge, virus="hsv2")


# --- FASTA ----------------------------------------------------------------------------------


def test_vzv_fasta_thymidine_kinase_and_polymerase(knowledge: Knowledge) -> None:
    genes = reference_genes(knowledge, "vzv")
    tk = mutate(genes.gene("ORF36"), {163: "TAA"})  # A163*
    pol = mutate(genes.gene("ORF28"), {237: "AAA"})  # T237K
    doc = interpret_fasta(fasta(("tk", tk), ("pol", pol)), knowledge, virus="vzv").to_dict()
    assert [m["id"] for m in doc["mutations"]] == ["ORF36:A163*", "ORF28:T237K"]
    assert doc["coverage"]["ORF36"]["codons"] == [[1, genes.gene("ORF36").codons]]
    assert levels(doc) == {
        # row 1235 A163* (BAC): aciclovir 5.7, penciclovir 10, brivudine 133;
        # row 1241 T237K (BAC): aciclovir 1.1, penciclovir 1.1, foscarnet 2.9, cidofovir 3.4,
        # brivudine 133
        "aciclovir": ("moderate", [5.7, 5.7], ["ORF36:A163*"]),
        "valaciclovir": ("moderate", [5.7, 5.7], ["ORF36:A163*"]),
        "penciclovir": ("moderate", [10, 10], ["ORF36:A163*"]),
        "famciclovir": ("moderate", [10, 10], ["ORF36:A163*"]),
        "foscarnet": ("low", [2.9, 2.9], ["ORF28:T237K"]),
        "cidofovir": ("low", [3.4, 3.4], ["ORF28:T237K"]),
        "brivudine": ("high", [133, 133], ["ORF28:T237K", "ORF36:A163*"]),
        "amenamevir": ("not_assessed", None, []),
    }


def test_herpesdrg_test_fastas(knowledge: Knowledge) -> None:
    hsv1 = interpret_fasta((DATA / "HSV1_F716L.fasta").read_text(), knowledge, virus="hsv1")
    assert [m.id for m in hsv1.mutations] == ["UL30:F716L"]
    assert hsv1.drug("aciclovir").level.value == "moderate"  # row 1507, 6-fold
    assert hsv1.drug("foscarnet").fold_change == (10, 10)
    # upstream: read in reverse complement, the only change UL23 G39E; rows 1135, 1340, 1350
    # (all recombinant) give aciclovir 1.2, 0.7, 1.8 and penciclovir 0.5, 2.4: susceptible
    hsv2 = interpret_fasta((DATA / "HSV2_tk_RC.fasta").read_text(), knowledge, virus="hsv2")
    assert [m.id for m in hsv2.mutations] == ["UL23:G39E"]
    assert hsv2.genes_tested == ("UL23",)
    aciclovir = hsv2.drug("aciclovir")
    assert aciclovir.level.value == "not_assessed"  # UL30 not sequenced: never susceptible
    assert aciclovir.genes_not_tested == ("UL30",)
    assert [(c.mutation, c.level.value) for c in aciclovir.contributions] == [
        ("UL23:G39E", "susceptible")
    ]
    assert [(c.mutation, c.level.value) for c in hsv2.drug("penciclovir").contributions] == [
        ("UL23:G39E", "susceptible")
    ]


# --- CLI, API, web ----------------------------------------------------------------------------


def test_cli_virus_option(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["resistance", "--virus", "vzv", "--vcf", str(DATA / "VZV_K25R.vcf"), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["virus"] == "vzv" and doc["drugs"]["aciclovir"]["level"] == "high"
    text = runner.invoke(cli, ["resistance", "--virus", "hsv1", "--mutations", "UL30:F716L"])
    assert text.exit_code == 0
    assert "resistance report (HSV-1)" in text.stdout and "aciclovir" in text.stdout
    html = runner.invoke(
        cli, ["resistance", "--virus", "hsv2", "--mutations", "UL30:Q34H", "--format", "html"]
    )
    assert "HSV-2 antiviral resistance genotype report" in html.stdout
    assert "NC_001798.2 (HG52)" in html.stdout
    batch = tmp_path / "batch.tsv"
    batch.write_text(f"s1\tUL30:F716L\n{DATA / 'HSV1_F716L.vcf'}\n")
    out = runner.invoke(cli, ["resistance", "--virus", "hsv1", "--batch", str(batch)])
    assert out.exit_code == 0, out.output
    assert "aciclovir" in out.stdout and out.stdout.count("MOD") >= 2


def test_api_and_web_form(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/resistance",
        json={"mutations": ["ORF36:K25R"], "virus": "vzv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["drugs"]["aciclovir"]["level"] == "high"
    refused = client.post("/api/v1/resistance", json={"mutations": ["UL30:F716L"], "virus": "x"})
    assert refused.status_code == 422
    page = client.post(
        "/resistance",
        data={"virus": "hsv1"},
        files={"sequence": ("s.vcf", (DATA / "HSV1_F716L.vcf").read_bytes())},
    )
    assert page.status_code == 200, page.text
    assert 'data-drug="aciclovir" class="level-moderate"' in page.text


def test_a_level_from_resistant_without_fold_change_is_said_to_be_a_floor() -> None:
    """HerpesDRG-DB rows for HSV-1 UL23 R176* say only "Resistant" (no fold change), read as at
    least low-level (levels.yaml); a thymidine-kinase stop is classically high-level aciclovir
    resistance, so the report must not read as a measured low level (outside probe). A measured
    call (R176Q, fold changes in the rows) carries no such words."""
    stop = CliRunner().invoke(cli, ["resistance", "--virus", "hsv1", "--mutations", "UL23:R176*"])
    assert stop.exit_code == 0, stop.output
    aciclovir = next(
        line for line in stop.output.splitlines() if line.strip().startswith("aciclovir")
    )
    assert (
        "Low-level resistance" in aciclovir
        and "level not measured, at least low-level" in aciclovir
    )
    measured = CliRunner().invoke(
        cli, ["resistance", "--virus", "hsv1", "--mutations", "UL23:R176Q"]
    )
    assert measured.exit_code == 0 and "level not measured" not in measured.output
    html = CliRunner().invoke(
        cli, ["resistance", "--virus", "hsv1", "--mutations", "UL23:R176*", "--format", "html"]
    )
    assert "level not measured, at least low-level" in html.output
