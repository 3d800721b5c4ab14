"""review23c (reviewer's inputs, rebuilt here from their lines): a VCF cut inside its sample
column, two alleles of one site giving the same amino-acid change, and INFO AF beside AN (the
genotypes' AC/AN) with no reads.

Positions worked from NC_006273.2: UL97 codon 460 is ATG at 143175-143177 (A>G at 143175 is
M460V; G>A and G>T at 143177 give ATA and ATT, both Ile: M460I). M460I confers ganciclovir
resistance in the pack (HerpesDRG rows), and the reporting threshold is 10 %.
"""

from __future__ import annotations

import pytest

from cmvcds.engine.resistance import Level, interpret_vcf
from cmvcds.engine.resistance.genes import ReferenceGenes
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge
from tests.resistance.conftest import VCF_HEADER, codon, genome_base, position, vcf, vcf_line

GENES = ["UL97", "UL54", "UL56"]


def _found(report: object) -> tuple[dict[str, float | None], dict[str, float | None]]:
    doc = report.to_dict()  # type: ignore[attr-defined]
    return (
        {m["id"]: m["frequency"] for m in doc["mutations"]},
        {m["id"]: m["frequency"] for m in doc["minority"]},
    )


def _at(genes: ReferenceGenes, base: int, alt: str, info: str, fmt: str, sample: str) -> str:
    ul97 = genes.gene("UL97")
    assert codon(ul97, 460) == "ATG" and position(ul97, 3 * 459) == 143175
    index = 3 * 459 + base
    return vcf_line(position(ul97, index), genome_base(ul97, index), alt, info, fmt, sample)


# -- 1. a file cut inside its last sample column ------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "why"),
    [
        ("1:100,9", "2 of 3 values"),  # cut from 1:100,900:1000 (the reviewer's cut.vcf)
        ("1:100,900:", "last value is empty"),
        ("1:100,", "2 of 3 values"),
    ],
)
def test_a_vcf_cut_inside_its_sample_column_is_refused(
    knowledge: Knowledge, genes: ReferenceGenes, sample: str, why: str
) -> None:
    text = VCF_HEADER + _at(genes, 0, "G", ".", "GT:AD:DP", sample)  # no final line break
    with pytest.raises(SequenceInputError, match=rf"VCF line 5 is cut short \(.*{why}"):
        interpret_vcf(text, knowledge, genes_tested=GENES)


def test_a_cut_ad_is_refused_and_dropped_trailing_fields_stay_legal(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    # AD last, one count for two alleles, no final line break: cut from 100,900
    text = VCF_HEADER + _at(genes, 0, "G", "DP=1000", "GT:AD", "1:100")
    with pytest.raises(SequenceInputError, match="AD gives fewer counts"):
        interpret_vcf(text, knowledge, genes_tested=GENES)
    # VCF 4.2 §1.6.2 lets trailing sample fields be dropped: with the final line break the
    # record is read (GT:AD:DP as "1:100,900", 900 of 1000 reads)
    text = vcf(_at(genes, 0, "G", ".", "GT:AD:DP", "1:100,900"))
    called, _ = _found(interpret_vcf(text, knowledge, genes_tested=GENES))
    assert called == {"UL97:M460V": 0.9}
    # and a complete last record without a final line break is read
    text = VCF_HEADER + _at(genes, 0, "G", ".", "GT:AD:DP", "1:100,900:1000")
    called, _ = _found(interpret_vcf(text, knowledge, genes_tested=GENES))
    assert called == {"UL97:M460V": 0.9}


# -- 2. one amino-acid change from two alleles ----------------------------------------------------


@pytest.mark.parametrize("form", ["split", "multi"])
def test_alleles_giving_one_change_are_added_before_the_threshold(
    knowledge: Knowledge, genes: ReferenceGenes, form: str
) -> None:
    if form == "split":  # bcftools norm -m-: each row the reference and one alternative
        text = vcf(
            _at(genes, 2, "A", "DP=1000", "GT:AD:DP", "1:880,60:1000"),
            _at(genes, 2, "T", "DP=1000", "GT:AD:DP", "1:880,60:1000"),
        )
    else:
        text = vcf(_at(genes, 2, "A,T", "DP=1000", "GT:AD:DP", "1:880,60,60:1000"))
    report = interpret_vcf(text, knowledge, genes_tested=GENES)
    called, minority = _found(report)
    assert called == {"UL97:M460I": 0.12}  # 60 + 60 of 1000 reads carry Ile at 460
    assert minority == {}
    gcv = report.drug("ganciclovir")
    assert gcv.level.is_resistance and gcv.mutations == ("UL97:M460I",)


def test_one_change_below_the_threshold_even_when_added_stays_minority(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    # 40 + 40 of 1000 reads: 8 %, below 10 %
    text = vcf(_at(genes, 2, "A,T", "DP=1000", "GT:AD:DP", "1:920,40,40:1000"))
    report = interpret_vcf(text, knowledge, genes_tested=GENES)
    called, minority = _found(report)
    assert called == {} and minority == {"UL97:M460I": 0.04}
    assert report.drug("ganciclovir").level is Level.SUSCEPTIBLE
    # boundary: 50 + 50 of 1000 is 10 %, at the threshold: called
    text = vcf(_at(genes, 2, "A,T", "DP=1000", "GT:AD:DP", "1:900,50,50:1000"))
    assert _found(interpret_vcf(text, knowledge, genes_tested=GENES))[0] == {"UL97:M460I": 0.1}
    # one allele above the threshold, the other below: the change is their sum (150 + 50)
    text = vcf(_at(genes, 2, "A,T", "DP=1000", "GT:AD:DP", "1:800,150,50:1000"))
    assert _found(interpret_vcf(text, knowledge, genes_tested=GENES)) == (
        {"UL97:M460I": 0.2},
        {},
    )
    # different changes are never added: G>A (M460I) and A>G (M460V), 6 % each
    text = vcf(
        _at(genes, 0, "G", "DP=1000", "GT:AD:DP", "1:940,60:1000"),
        _at(genes, 2, "A", "DP=1000", "GT:AD:DP", "1:940,60:1000"),
    )
    assert _found(interpret_vcf(text, knowledge, genes_tested=GENES)) == (
        {},
        {"UL97:M460V": 0.06, "UL97:M460I": 0.06},
    )


# -- 3. INFO AF beside AN, no reads ---------------------------------------------------------------


def test_a_genotype_af_without_reads_is_present_with_frequency_not_given(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    # GATK haploid: AF = AC/AN = 1.00 whatever the reads (the reviewer's gatk_gtonly.vcf)
    text = vcf(_at(genes, 0, "G", "AC=1;AF=1.00;AN=1;DP=1000", "GT:DP", "1:1000"))
    report = interpret_vcf(text, knowledge, genes_tested=GENES)
    called, _ = _found(report)
    assert called == {"UL97:M460V": None}  # present by the genotype, never "100 %"
    gcv = report.drug("ganciclovir")
    assert gcv.level.is_resistance
    assert "frequency-not-given" in [f.code for f in gcv.flags]
    assert any("called present by the genotype" in w for w in report.warnings)
    # diploid caller, AD missing: AF 0.5 is one of two genotype alleles, not 50 % of the reads
    text = vcf(_at(genes, 0, "G", "AC=1;AF=0.500;AN=2;DP=1000", "GT:AD:DP", "0/1:.:1000"))
    assert _found(interpret_vcf(text, knowledge, genes_tested=GENES))[0] == {"UL97:M460V": None}
    # the genotype without the allele: absent
    text = vcf(_at(genes, 0, "G", "AC=0;AF=0.00;AN=1;DP=1000", "GT:DP", "0:1000"))
    assert _found(interpret_vcf(text, knowledge, genes_tested=GENES)) == ({}, {})
    # with reads, the reads decide (400 of 1000)
    text = vcf(_at(genes, 0, "G", "AC=1;AF=1.00;AN=1;DP=1000", "GT:AD:DP", "1:600,400:1000"))
    assert _found(interpret_vcf(text, knowledge, genes_tested=GENES))[0] == {"UL97:M460V": 0.4}
