"""FASTA inputs made from the reference coding sequences: genes, amplicons, whole genomes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmvcds.engine.resistance import Level, interpret_fasta
from cmvcds.engine.resistance.genes import ReferenceGenes, reverse_complement, translate
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge
from tests.resistance.conftest import codon, fasta, genome, mutate


def summary(report: object) -> tuple[list[tuple[str, float, str]], dict[str, list[list[int]]]]:
    doc = report.to_dict()  # type: ignore[attr-defined]
    mutations = [(m["id"], m["frequency"], m["status"]) for m in doc["mutations"]]
    coverage = {gene: item["codons"] for gene, item in doc["coverage"].items()}
    return mutations, coverage


def test_whole_ul97_with_m460v(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    report = interpret_fasta(fasta(("s1", mutate(ul97, {460: "GTG"}))), knowledge)
    assert summary(report) == ([("UL97:M460V", 1.0, "resistance")], {"UL97": [[1, 707]]})
    assert report.genes_tested == ("UL97",)
    assert report.drug("ganciclovir").level is Level.MODERATE  # resistance found, UL54 untested
    assert report.drug("maribavir").level is Level.SUSCEPTIBLE
    assert report.drug("foscarnet").level is Level.NOT_ASSESSED


def test_reverse_complement_amplicon_with_deletion_of_codons_591_to_594(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    cds = mutate(ul97, {591: "", 592: "", 593: "", 594: ""})
    amplicon = cds[3 * 400 : 3 * 700]  # codons 401-700 of the mutant, i.e. 401-704 of the reference
    report = interpret_fasta(fasta(("amplicon", reverse_complement(amplicon))), knowledge)
    assert summary(report) == ([("UL97:del591-594", 1.0, "resistance")], {"UL97": [[401, 704]]})
    assert report.drug("ganciclovir").fold_change == (4.8, 4.8)


def test_same_codon_double_change_is_one_amino_acid_change(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    assert codon(ul97, 592) == "TGC"
    report = interpret_fasta(fasta(("s", mutate(ul97, {592: "GGA"}))), knowledge)
    assert summary(report)[0] == [("UL97:C592G", 1.0, "resistance")]


def test_synonymous_change_at_a_resistance_codon_is_not_a_mutation(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    assert codon(ul97, 595) == "TTG"
    report = interpret_fasta(fasta(("s", mutate(ul97, {595: "CTG"}))), knowledge)
    assert summary(report) == ([], {"UL97": [[1, 707]]})
    assert report.drug("maribavir").level is Level.SUSCEPTIBLE
    assert report.drug("ganciclovir").level is Level.NOT_ASSESSED  # UL54 not sequenced


def test_uncharacterised_change_and_in_frame_insertion(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    cds = mutate(ul97, {606: "ACC", 600: codon(ul97, 600) + "AAA"})  # A606T; K inserted after 600
    report = interpret_fasta(fasta(("s", cds)), knowledge)
    assert summary(report)[0] == [
        ("UL97:ins600_601K", 1.0, "unknown"),
        ("UL97:A606T", 1.0, "unknown"),
    ]
    assert report.unknown == ("UL97:ins600_601K", "UL97:A606T")
    assert report.drug("maribavir").level is Level.UNKNOWN


def test_frame_shift_is_reported_as_uncharacterised(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    cds = ul97.cds[: 3 * 599] + ul97.cds[3 * 599 + 1 :]  # one base lost in codon 600
    report = interpret_fasta(fasta(("s", cds)), knowledge)
    assert summary(report)[0] == [("UL97:fs600", 1.0, "unknown")]


def test_ambiguous_bases_leave_their_codons_uncovered(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97, ul54 = genes.gene("UL97"), genes.gene("UL54")
    report = interpret_fasta(
        fasta(("ul97", mutate(ul97, {460: "NTG"})), ("ul54", ul54.cds)), knowledge
    )
    assert summary(report) == ([], {"UL97": [[1, 459], [461, 707]], "UL54": [[1, 1242]]})
    # codon 460 carries ganciclovir resistance (M460V/I), not maribavir resistance
    ganciclovir = report.drug("ganciclovir")
    assert (ganciclovir.level, ganciclovir.not_covered) == (Level.NOT_ASSESSED, ("UL97:460",))
    assert report.drug("maribavir").level is Level.SUSCEPTIBLE
    assert report.drug("foscarnet").level is Level.SUSCEPTIBLE


def test_mixed_bases_are_read_as_mixtures(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")  # R = A/G at codon 460 (ATG/GTG); Y = C/T at 595 (TTG/CTG, both Leu)
    report = interpret_fasta(fasta(("s", mutate(ul97, {460: "RTG", 595: "YTG"}))), knowledge)
    # proportion not given: never shown as an invented 50 % (ADR 0031-fix10c)
    assert summary(report) == ([("UL97:M460V", None, "resistance")], {"UL97": [[1, 707]]})
    assert report.warnings == (
        "mixed bases (IUPAC codes) read as mixtures, proportion not given (frequency not given; "
        "the drug calls they drive are flagged): UL97:M460V",
    )
    ganciclovir = report.drug("ganciclovir")
    assert [(f.code, f.mutations) for f in ganciclovir.flags] == [
        ("frequency-not-given", ("UL97:M460V",))
    ]


def test_whole_genome_locates_every_gene_including_minus_strand_and_spliced(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul54, ul89, ul56 = genes.gene("UL54"), genes.gene("UL89"), genes.gene("UL56")
    assert translate(codon(ul54, 809)) == "A" and translate(codon(ul56, 325)) == "C"
    replace = {
        "UL54": mutate(ul54, {809: "GTG"}),  # A809V
        "UL56": mutate(ul56, {325: "TAC"}),  # C325Y
        "UL89": mutate(ul89, {600: "GAT" if codon(ul89, 600) != "GAT" else "GAA"}),  # in exon 2
    }
    sequence = genome(genes, replace)
    report = interpret_fasta(fasta(("genome", sequence)), knowledge)
    mutations, coverage = summary(report)
    ul89_change = f"UL89:{ul89.protein[599]}600{translate(replace['UL89'][1797:1800])}"
    assert mutations == [
        ("UL54:A809V", 1.0, "resistance"),
        ("UL56:C325Y", 1.0, "resistance"),
        (ul89_change, 1.0, "unknown"),
    ]
    assert coverage == {
        g: [[1, genes.gene(g).codons]] for g in ("UL97", "UL54", "UL56", "UL89", "UL51", "UL27")
    }
    assert report.drug("letermovir").level is Level.HIGH
    # the same genome reverse-complemented gives the same report
    again = interpret_fasta(fasta(("genome-rc", reverse_complement(sequence))), knowledge)
    assert summary(again) == (mutations, coverage)


def test_not_a_nucleotide_fasta_is_an_input_error(knowledge: Knowledge) -> None:
    with pytest.raises(SequenceInputError, match="not nucleotides"):
        interpret_fasta(">protein\nMSELQPEFLLQ\n", knowledge)
    with pytest.raises(SequenceInputError, match="'>' header"):
        interpret_fasta("ACGT\n", knowledge)


def test_unrelated_sequence_finds_no_gene(knowledge: Knowledge) -> None:
    report = interpret_fasta(">x\n" + "ACGT" * 100 + "\n", knowledge)
    assert report.genes_tested == ()
    assert {d.level for d in report.drugs} == {Level.NOT_ASSESSED}


def test_changed_codons_next_to_a_sequence_end_are_not_read_as_an_indel(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    """Found by the property below: ATG then two changed codons at the very start of a gene-only
    sequence was called "del2-3" (free end gap + a cheap deletion beat six mismatches)."""
    ul97 = genes.gene("UL97")
    last = ul97.codons - 1  # the codon before the stop
    report = interpret_fasta(
        fasta(("s", mutate(ul97, {2: "GAA", 3: "ATG", last - 1: "TGG", last: "CAC"}))), knowledge
    )
    expected = ["UL97:S2E", "UL97:S3M"] + [
        f"UL97:{ul97.protein[r - 1]}{r}{aa}"
        for r, aa in ((last - 1, "W"), (last, "H"))
        if ul97.protein[r - 1] != aa
    ]
    assert [m.id for m in report.mutations] == expected


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.integers(2, 706), st.sampled_from(["GCT", "TGG", "CAC", "GAA", "ATG", "CGT"]), max_size=4
    )
)
def test_substitutions_are_called_exactly(
    knowledge: Knowledge, genes: ReferenceGenes, codons: dict[int, str]
) -> None:
    ul97 = genes.gene("UL97")
    report = interpret_fasta(fasta(("s", mutate(ul97, codons))), knowledge)
    expected = [
        f"UL97:{ul97.protein[r - 1]}{r}{translate(c)}"
        for r, c in sorted(codons.items())
        if translate(c) != ul97.protein[r - 1]
    ]
    assert [m.id for m in report.mutations] == expected
