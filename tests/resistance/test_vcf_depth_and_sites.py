"""probe15 (ADR 0033-fix15a): the frequency of a VCF variant is its reads over the depth of the
whole site, a variant read at fewer reads than the minimum depth is not called, a cut file is
refused by line, and what a VCF cannot show (the codons read) never yields "susceptible".

Expected values worked from the VCF 4.2 definitions (§1.6.2: FORMAT ``AD`` the read depth of each
allele, Number=R; ``DP`` the read depth at the position) and the probe's inputs
(``data/probe15``): split2.vcf holds ``A>G 100,60`` and ``A>C 100,840`` at UL97 codon 460 with DP
1000, so M460V is 60/1000 = 6 %, below the 10 % threshold, and M460L 840/1000 = 84 %.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmvcds.adapters.report.resistance_html import resistance_text
from cmvcds.engine.resistance import Level, interpret_vcf
from cmvcds.engine.resistance.genes import ReferenceGenes
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge
from tests.resistance.conftest import codon, genome_base, position, vcf, vcf_line

PROBE = Path(__file__).parent / "data" / "probe15"
M460 = 143175  # UL97 codon 460, first base (A of ATG): A>G is M460V, A>C M460L, A>T M460L
GENES = ["UL97", "UL54", "UL56"]


def _read(name: str) -> str:
    return (PROBE / name).read_text()


def _found(report: object) -> tuple[dict[str, float | None], dict[str, float | None]]:
    doc = report.to_dict()  # type: ignore[attr-defined]
    return (
        {m["id"]: m["frequency"] for m in doc["mutations"]},
        {m["id"]: m["frequency"] for m in doc["minority"]},
    )


def _m460(genes: ReferenceGenes, alt: str, fmt: str, sample: str, info: str = ".") -> str:
    ul97 = genes.gene("UL97")
    assert codon(ul97, 460) == "ATG" and position(ul97, 3 * 459) == M460
    return vcf_line(M460, genome_base(ul97, 3 * 459), alt, info, fmt, sample)


def test_split_rows_take_the_site_depth_not_ref_plus_alt(knowledge: Knowledge) -> None:
    split = interpret_vcf(_read("split2.vcf"), knowledge, genes_tested=GENES)
    called, minority = _found(split)
    assert called == {"UL97:M460L": 0.84}
    assert minority == {"UL97:M460V": 0.06}  # not 60/160 = 37.5 %
    assert split.drug("ganciclovir").level is Level.UNKNOWN  # M460L: no phenotype row
    assert "UL97:M460V" not in split.drug("ganciclovir").mutations
    # the same data as one multi-allelic row: the same frequencies
    multi = interpret_vcf(_read("multi2.vcf"), knowledge, genes_tested=GENES)
    assert _found(multi) == _found(split)


def test_split_rows_without_dp_count_every_allele_of_the_site_once(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    # bcftools norm -m- of AD 500,300,200: each row holds the reference and its alternative
    text = vcf(
        _m460(genes, "G", "GT:AD", "1:500,300"),
        _m460(genes, "T", "GT:AD", "1:500,200"),
    )
    called, _ = _found(interpret_vcf(text, knowledge, genes_tested=GENES))
    # 300/1000 and 200/1000 (500 + 300 + 200 reads at the site), not 300/800 and 200/700;
    # A>T is ATG>TTG, M460L
    assert called == {"UL97:M460V": 0.3, "UL97:M460L": 0.2}


def test_dp_above_the_allele_reads_is_the_denominator(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    # GATK: AD counts informative reads only, DP every read at the position
    text = vcf(_m460(genes, "G", "GT:AD:DP", "1:880,120:2000"))
    _, minority = _found(interpret_vcf(text, knowledge, genes_tested=GENES))
    assert minority == {"UL97:M460V": 0.06}  # 120/2000, not 120/1000
    # a DP below the reads of the alleles is not a depth: the reads count (120/1000)
    text = vcf(_m460(genes, "G", "GT:AD:DP", "1:880,120:500"))
    called, _ = _found(interpret_vcf(text, knowledge, genes_tested=GENES))
    assert called == {"UL97:M460V": 0.12}


def test_a_genotype_af_yields_to_the_reads(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    # GATK/freebayes INFO AF is AC/AN (1.00 for a haploid "1"): the reads say 400/1000
    gatk = "AC=1;AF=1.00;AN=1;DP=1000"
    text = vcf(_m460(genes, "G", "GT:AD:DP", "1:600,400:1000", gatk))
    called, _ = _found(interpret_vcf(text, knowledge, genes_tested=GENES))
    assert called == {"UL97:M460V": 0.4}
    # LoFreq's AF (no AN) is the reads' frequency already: used as given
    text = vcf(_m460(genes, "G", "GT:AD:DP", "1:600,400:1000", "DP=1000;AF=0.38"))
    called, _ = _found(interpret_vcf(text, knowledge, genes_tested=GENES))
    assert called == {"UL97:M460V": 0.38}
    # no reads of the sample: the genotype AF is no measured frequency (review23c 3): present,
    # frequency not given
    called, _ = _found(interpret_vcf(vcf(_m460(genes, "G", "", "", gatk)), knowledge))
    assert called == {"UL97:M460V": None}


def test_dp4_rows_split_from_one_site_are_not_apportioned(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    # bcftools DP4 counts every non-reference base as "alt": copied to each split row it cannot
    # say which alternative its reads support
    info = "DP=1000;DP4=50,50,450,450"
    text = vcf(_m460(genes, "G", "", "", info), _m460(genes, "C", "", "", info))
    report = interpret_vcf(text, knowledge, genes_tested=GENES)
    called, _ = _found(report)
    assert called == {"UL97:M460V": None, "UL97:M460L": None}
    assert any("DP4 only" in w for w in report.warnings)
    # one DP4 row alone keeps its frequency: 900/1000
    alone, _ = _found(interpret_vcf(vcf(_m460(genes, "G", "", "", info)), knowledge))
    assert alone == {"UL97:M460V": 0.9}


def test_ivar_counts_and_alt_freq(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    called, _ = _found(interpret_vcf(_read("ivar.vcf"), knowledge, genes_tested=GENES))
    assert called == {"UL97:M460V": 0.2}  # ALT_FREQ 0.2 (200 of 1000 reads)
    counts_only = vcf(_m460(genes, "G", "GT:REF_DP:ALT_DP", "1:800:200"))
    called, _ = _found(interpret_vcf(counts_only, knowledge, genes_tested=GENES))
    assert called == {"UL97:M460V": 0.2}
    # TOTAL_DP (iVar: every read at the position) is the site depth: 200/4000, a minority
    with_total = vcf(_m460(genes, "G", "GT:REF_DP:ALT_DP:TOTAL_DP", "1:800:200:4000"))
    called, minority = _found(interpret_vcf(with_total, knowledge, genes_tested=GENES))
    assert (called, minority) == ({}, {"UL97:M460V": 0.05})


def test_a_single_read_is_not_a_call(knowledge: Knowledge) -> None:
    report = interpret_vcf(_read("lowdp.vcf"), knowledge, genes_tested=GENES)
    doc = report.to_dict()
    assert doc["mutations"] == [] and doc["minority"] == []
    assert doc["min_depth"] == 100
    assert doc["low_depth"] == [{"id": "UL97:M460V", "frequency": 0.5, "depth": 2}]
    gcv = report.drug("ganciclovir")
    assert not gcv.level.is_resistance
    assert gcv.level is Level.NOT_ASSESSED  # codon 460 was not read at the minimum depth
    assert gcv.not_covered == ("UL97:460",)
    flag = next(f for f in gcv.flags if f.code == "below-minimum-depth")
    assert "depth 2, below the minimum 100: not called" in flag.text
    assert "UL97:M460V: depth 2 below the minimum 100: not called" in report.warnings
    assert any("cmvcds reference default" in w for w in report.warnings)
    text = resistance_text(doc)
    assert "depth 2 below the minimum 100: not called" in text
    # the laboratory's own minimum: the variant is called
    own = interpret_vcf(_read("lowdp.vcf"), knowledge, genes_tested=GENES, min_depth=2)
    assert own.drug("ganciclovir").level is Level.MODERATE
    assert "minimum read depth 2 reads (set for this run)" in own.warnings


@pytest.mark.parametrize(("depth", "called"), [(99, False), (100, True)])
def test_the_minimum_depth_boundary(
    knowledge: Knowledge, genes: ReferenceGenes, depth: int, called: bool
) -> None:
    text = vcf(_m460(genes, "G", "GT:AD:DP", f"1:0,{depth}:{depth}"))
    found, _ = _found(interpret_vcf(text, knowledge, genes_tested=GENES))
    assert (found == {"UL97:M460V": 1.0}) is called


def test_a_truncated_vcf_is_refused_by_line(knowledge: Knowledge) -> None:
    with pytest.raises(SequenceInputError, match=r"VCF line 5 is cut short .*'AC='"):
        interpret_vcf(_read("trunc.vcf"), knowledge)
    # a record cut inside INFO, the file going on: refused too
    text = vcf(
        "NC_006273.2\t143175\t.\tA\tG\t60\tPASS\tDP=500;AF=",
        "NC_006273.2\t20000\t.\tC\tA\t60\tPASS\tAF=0.5",
    )
    with pytest.raises(SequenceInputError, match="VCF line 5: INFO 'DP=500;AF=' has an entry"):
        interpret_vcf(text, knowledge)
    # fewer than 8 columns, even outside the genes
    text = vcf("NC_006273.2\t20000\t.\tC\tA\t60", "NC_006273.2\t143175\t.\tA\tG\t60\tPASS\tAF=0.5")
    with pytest.raises(SequenceInputError, match="VCF line 5: 6 tab-separated columns"):
        interpret_vcf(text, knowledge)


def test_records_outside_the_genes_are_counted(knowledge: Knowledge) -> None:
    report = interpret_vcf(_read("outside.vcf"), knowledge, genes_tested=GENES)
    (said,) = [w for w in report.warnings if w.startswith("outside the genes")]
    assert "1 variant record(s), not interpreted (POS 20000)" in said
    assert _found(report)[0] == {"UL97:M460V": 0.5}


def test_a_repeated_record_is_read_once(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    line = _m460(genes, "G", "", "", "DP=1000;AF=0.3")
    report = interpret_vcf(vcf(line, line), knowledge, genes_tested=GENES)
    assert _found(report)[0] == {"UL97:M460V": 0.3}  # not 0.3 + 0.3
    assert any(
        "given by more than one VCF record" in w and "lines 5, 6" in w for w in report.warnings
    )


def test_coverage_is_not_assumed_from_a_record(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul56 = genes.gene("UL56")
    assert codon(ul56, 325) == "TGC"  # C325Y: TGC -> TAC (minus strand)
    index = 3 * 324 + 1
    c325y = vcf_line(
        position(ul56, index), genome_base(ul56, index), "T", "DP=800;AF=0.012"
    )  # 1.2 %: below the threshold
    inferred = interpret_vcf(vcf(c325y), knowledge)
    ltv = inferred.drug("letermovir")
    assert ltv.level is Level.NOT_ASSESSED and ltv.coverage_unknown == ("UL56",)
    assert any(f.code == "resistance-below-threshold" for f in ltv.flags)
    doc = inferred.to_dict()
    assert doc["coverage"]["UL56"] == {"codons": [], "basis": "variants"}
    text = resistance_text(doc)
    assert "not assessable for letermovir: coverage of UL56 unknown" in text
    assert "codons 1–" not in text
    declared = interpret_vcf(vcf(c325y), knowledge, genes_tested=GENES)
    assert declared.drug("letermovir").level is Level.SUSCEPTIBLE  # the laboratory says so
    assert any(f.code == "resistance-below-threshold" for f in declared.drug("letermovir").flags)
