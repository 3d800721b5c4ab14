"""VCF inputs (against NC_006273.2) made from the reference coding sequences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmvcds.engine.resistance import Level, interpret_vcf
from cmvcds.engine.resistance.genes import ReferenceGenes, reverse_complement
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge
from tests.resistance.conftest import codon, genome_base, position, snv, vcf, vcf_line


def found(report: object) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    doc = report.to_dict()  # type: ignore[attr-defined]
    return [(m["id"], m["frequency"]) for m in doc["mutations"]], [
        (m["id"], m["frequency"]) for m in doc["minority"]
    ]


def test_info_only_allele_frequency(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    assert codon(ul97, 460) == "ATG"
    report = interpret_vcf(vcf(snv(ul97, 460, 0, "G", af=0.85)), knowledge)
    assert found(report) == ([("UL97:M460V", 0.85)], [])
    assert report.genes_tested == ("UL97",)
    assert report.drug("ganciclovir").level is Level.MODERATE


def test_two_snvs_in_one_codon_are_one_change(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")  # codon 592 TGC -> GGA: C592G, not C592G plus C592* (TGA)
    report = interpret_vcf(
        vcf(snv(ul97, 592, 0, "G", af=0.6), snv(ul97, 592, 2, "A", af=0.55)), knowledge
    )
    assert found(report) == ([("UL97:C592G", 0.55)], [])
    alone = interpret_vcf(vcf(snv(ul97, 592, 2, "A", af=0.55)), knowledge)
    assert found(alone) == ([("UL97:C592*", 0.55)], [])


def test_synonymous_variant_at_a_resistance_codon(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    assert codon(ul97, 595) == "TTG"  # -> CTG, still Leu
    report = interpret_vcf(
        vcf(snv(ul97, 595, 0, "C", af=0.95)), knowledge, genes_tested=["UL97", "UL54"]
    )
    assert found(report) == ([], [])
    assert report.drug("ganciclovir").level is Level.SUSCEPTIBLE


def test_varscan_freq_and_ad_depths(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    index = 3 * 519 + 2  # H520Q: CAC -> CAG
    base = dict(pos=position(ul97, index), ref=genome_base(ul97, index), alt="G")
    varscan = vcf(vcf_line(**base, fmt="GT:FREQ", sample="0/1:45.5%"))
    assert found(interpret_vcf(varscan, knowledge)) == ([("UL97:H520Q", 0.455)], [])
    depths = vcf(vcf_line(**base, fmt="GT:AD:DP", sample="0/1:30,70:100"))
    assert found(interpret_vcf(depths, knowledge)) == ([("UL97:H520Q", 0.7)], [])
    none = interpret_vcf(vcf(vcf_line(**base)), knowledge)
    assert found(none) == ([("UL97:H520Q", None)], [])  # not given: never invented (1.0)
    assert any(w.startswith("1 VCF record(s) gave no allele frequency") for w in none.warnings)


def test_minus_strand_gene(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul54 = genes.gene("UL54")
    assert codon(ul54, 809)[1] == "C"  # GCx -> GTx: A809V
    report = interpret_vcf(vcf(snv(ul54, 809, 1, "T", af=0.3)), knowledge)
    assert found(report) == ([("UL54:A809V", 0.3)], [])
    assert report.drug("foscarnet").level is Level.LOW
    assert report.drug("ganciclovir").level is Level.LOW  # UL54 A809V 2.1-2.4; UL97 not in the VCF


def test_in_frame_deletions_on_both_strands(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97, ul54 = genes.gene("UL97"), genes.gene("UL54")
    # UL97 (+): delete coding 1770-1781 (codons 591-594) after the anchor base 1769
    ul97_del = vcf_line(position(ul97, 1769), ul97.cds[1769:1782], ul97.cds[1769], "AF=0.9")
    # UL54 (-): delete coding 2940-2945 (codons 981-982); on the genome the anchor is coding 2946
    ref = "".join(genome_base(ul54, i) for i in range(2946, 2939, -1))
    ul54_del = vcf_line(position(ul54, 2946), ref, genome_base(ul54, 2946), "AF=0.8")
    report = interpret_vcf(vcf(ul97_del, ul54_del), knowledge)
    assert found(report) == ([("UL97:del591-594", 0.9), ("UL54:del981-982", 0.8)], [])
    assert report.drug("ganciclovir").level is Level.MODERATE  # del981-982: 4.6-8.3


def test_in_frame_insertion_and_frame_shift(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    anchor = 3 * 600 - 1  # last base of codon 600
    insertion = vcf_line(
        position(ul97, anchor), ul97.cds[anchor], ul97.cds[anchor] + "AAA", "AF=0.5"
    )
    assert found(interpret_vcf(vcf(insertion), knowledge))[0] == [("UL97:ins600_601K", 0.5)]
    shift = vcf_line(
        position(ul97, anchor), ul97.cds[anchor : anchor + 2], ul97.cds[anchor], "AF=0.5"
    )
    assert found(interpret_vcf(vcf(shift), knowledge))[0] == [("UL97:fs601", 0.5)]


def test_minority_variants_around_the_threshold(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    text = vcf(
        snv(ul97, 460, 0, "G", af=0.10), snv(ul97, 411, 0, "T", af=0.0999)
    )  # H411Y: CAT -> TAT
    assert codon(ul97, 411) == "CAT"
    report = interpret_vcf(text, knowledge, genes_tested=["UL97"])
    assert found(report) == ([("UL97:M460V", 0.1)], [("UL97:H411Y", 0.0999)])
    assert report.drug("maribavir").level is Level.SUSCEPTIBLE  # the minority H411Y never drives it
    # the genes not declared, which codons were read is unknown: never "susceptible"
    assert interpret_vcf(text, knowledge).drug("maribavir").level is Level.NOT_ASSESSED
    lower = interpret_vcf(text, knowledge, threshold=0.05)
    assert found(lower) == ([("UL97:H411Y", 0.0999), ("UL97:M460V", 0.1)], [])
    assert lower.drug("maribavir").level is Level.HIGH
    assert lower.threshold == 0.05


def test_declared_genes_make_the_absence_of_variants_a_result(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    text = vcf(snv(ul97, 460, 0, "G", af=0.9))
    assert interpret_vcf(text, knowledge).drug("foscarnet").level is Level.NOT_ASSESSED
    declared = interpret_vcf(text, knowledge, genes_tested=["UL97", "UL54", "UL56"])
    assert declared.drug("foscarnet").level is Level.SUSCEPTIBLE
    assert declared.drug("letermovir").level is Level.SUSCEPTIBLE
    elsewhere = interpret_vcf(text, knowledge, genes_tested=["UL54"])
    assert found(elsewhere) == ([], [])
    assert elsewhere.warnings[0] == "variants in genes not declared as tested were left out: UL97"


def test_filtered_records_are_left_out(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    line = snv(ul97, 460, 0, "G", af=0.9).replace("\tPASS\t", "\tLowQual\t")
    report = interpret_vcf(vcf(line), knowledge, genes_tested=["UL97"])
    assert found(report) == ([], [])
    assert report.warnings[0] == "1 VCF record(s) failed their FILTER and were left out"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (vcf("NC_999999.1\t100\t.\tA\tG\t60\tPASS\tAF=0.5"), "is not NC_006273.2"),
        (vcf("NC_006273.2\t141798\t.\tA\tG\t60\tPASS\tAF=1.5"), "not a frequency"),
        (vcf("NC_006273.2\t141798\t.\tC\tG\t60\tPASS\tAF=0.5"), "does not match NC_006273.2"),
    ],
)
def test_unreadable_vcf_is_an_input_error(knowledge: Knowledge, text: str, message: str) -> None:
    with pytest.raises(SequenceInputError, match=message):
        interpret_vcf(text, knowledge)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 706),
            st.integers(0, 2),
            st.sampled_from("ACGT"),
            st.floats(0.001, 0.0999),
        ),
        max_size=6,
    )
)
def test_minority_variants_never_change_a_call(
    knowledge: Knowledge, genes: ReferenceGenes, minors: list[tuple[int, int, str, float]]
) -> None:
    ul97 = genes.gene("UL97")
    base = [snv(ul97, 460, 0, "G", af=0.9)]
    # one minor variant per codon: two at one codon giving the same change are added up
    # before the threshold (review23c: 6 % + 6 % of M460I is 12 %), so may rightly be called
    one_per_codon = {r: (r, k, b, f) for r, k, b, f in reversed(minors)}.values()
    extra = [
        snv(ul97, r, k, b, af=round(f, 4))
        for r, k, b, f in one_per_codon
        if r != 460 and b != ul97.cds[3 * (r - 1) + k]
    ]
    plain = interpret_vcf(vcf(*base), knowledge, genes_tested=["UL97", "UL54"])
    noisy = interpret_vcf(vcf(*base, *extra), knowledge, genes_tested=["UL97", "UL54"])
    assert [(d.drug, d.level) for d in noisy.drugs] == [(d.drug, d.level) for d in plain.drugs]
    assert found(noisy)[0] == [("UL97:M460V", 0.9)]
    assert all(f < 0.1 for _, f in found(noisy)[1])
    assert reverse_complement(reverse_complement(ul97.cds)) == ul97.cds


def test_reverse_complement_is_literal() -> None:
    """Worked by hand: reverse of AACGTTTG is GTTTGCAA, complemented CAAACGTT."""
    assert reverse_complement("AACGTTTG") == "CAAACGTT"
    assert reverse_complement("ATGC") == "GCAT"
