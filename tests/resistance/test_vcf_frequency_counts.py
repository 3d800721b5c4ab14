"""Review finding (UL97 codon 460, ADR 0031-fixr3): VCF frequency lists that do not match the
alternatives, and the VCF missing value ``.``, built from the Merlin reference (NC_006273.2).

VCF 4.3 specification §1.6.2 (samtools/hts-specs): INFO/FORMAT ``AF`` is ``Number=A``, one value
per alternative allele, ``AD`` is ``Number=R`` (reference, then each alternative), and ``.`` is
the missing value. UL97 codon 460 is ATG (Met): A>G at its first base gives GTG, M460V, a
ganciclovir resistance row of the pack (HerpesDRG, charles2024-herpesdrg); A>T gives TTG, M460L.
"""

from __future__ import annotations

import pytest

from cmvcds.engine.resistance import Level, interpret_vcf
from cmvcds.engine.resistance.genes import ReferenceGenes
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge
from tests.resistance.conftest import VCF_HEADER, codon, genome_base, position, vcf, vcf_line

LINE = VCF_HEADER.count("\n") + 1  # the number of the one record line


def _codon_460(genes: ReferenceGenes, alt: str, info: str, fmt: str = "", sample: str = "") -> str:
    ul97 = genes.gene("UL97")
    assert ul97.strand == "+" and codon(ul97, 460) == "ATG"
    index = 3 * 459
    return vcf(vcf_line(position(ul97, index), genome_base(ul97, index), alt, info, fmt, sample))


def _found(report: object) -> set[tuple[str, float | None]]:
    return {(m["id"], m["frequency"]) for m in report.to_dict()["mutations"]}  # type: ignore[attr-defined]


def test_one_af_for_two_alternatives_drops_neither(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    # the level M460V alone gives ganciclovir, read from the pack through a well-formed record
    alone = interpret_vcf(_codon_460(genes, "G", "AF=0.5"), knowledge)
    assert _found(alone) == {("UL97:M460V", 0.5)}
    expected = alone.drug("ganciclovir").level
    calls = []
    for alts in ("T,G", "G,T"):  # before: with T first, M460V was cut off silently
        report = interpret_vcf(_codon_460(genes, alts, "AF=0.5"), knowledge)
        # the one value cannot be matched to an allele: neither is given it, neither is dropped
        assert _found(report) == {("UL97:M460V", None), ("UL97:M460L", None)}
        gcv = report.drug("ganciclovir")
        flag = next(f for f in gcv.flags if f.code == "frequency-not-given")
        assert "UL97:M460V" in flag.mutations
        (warning,) = [w for w in report.warnings if "Number=A" in w]
        assert f"line {LINE}: INFO AF gives 1 value(s) for 2 alternative(s) ({alts})" in warning
        calls.append(gcv.level)
    # the order of the alternatives no longer decides the call: M460V counted as present gives
    # its own level (M460L has no row in the pack: uncharacterised, named in the flag only)
    assert calls == [expected, expected]
    assert expected is not Level.SUSCEPTIBLE and expected is not Level.NOT_ASSESSED


def test_more_af_values_than_alternatives(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    # AF=0.6,0.4 for one alternative (e.g. a Number=R list, reference first): never the first
    report = interpret_vcf(_codon_460(genes, "G", "AF=0.6,0.4"), knowledge)
    assert _found(report) == {("UL97:M460V", None)}
    assert any(f"line {LINE}: INFO AF gives 2 value(s)" in w for w in report.warnings)


def test_format_ad_count_not_matching_the_alleles(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    # AD is reference + each alternative: 2 counts for ALT T,G cannot be split between them
    report = interpret_vcf(_codon_460(genes, "T,G", ".", "GT:AD", "1/2:70,30"), knowledge)
    assert _found(report) == {("UL97:M460V", None), ("UL97:M460L", None)}
    assert any(f"line {LINE}: FORMAT AD" in w and "(T,G)" in w for w in report.warnings)
    # 3 counts: 90/(100) and 10/(100), matched
    matched = interpret_vcf(_codon_460(genes, "T,G", ".", "GT:AD", "1/2:0,10,90"), knowledge)
    assert _found(matched) == {("UL97:M460V", 0.9), ("UL97:M460L", 0.1)}
    assert not any("Number=A" in w for w in matched.warnings)
    with pytest.raises(SequenceInputError, match="not a list of read counts"):
        interpret_vcf(_codon_460(genes, "G", ".", "GT:AD", "0/1:70,x"), knowledge)


def test_missing_value_is_frequency_not_given(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    # before: "INFO AF '.' is not a number" refused the file
    for info, fmt, sample in (("AF=.", "", ""), (".", "GT:AF", "0/1:.")):
        report = interpret_vcf(_codon_460(genes, "G", info, fmt, sample), knowledge)
        assert _found(report) == {("UL97:M460V", None)}
        flags = [f.code for f in report.drug("ganciclovir").flags]
        assert "frequency-not-given" in flags
        assert not any("Number=A" in w for w in report.warnings)
    # '.' inside the list: that alternative alone is not given
    report = interpret_vcf(_codon_460(genes, "G,T", "AF=0.3,."), knowledge)
    assert _found(report) == {("UL97:M460V", 0.3), ("UL97:M460L", None)}
    # INFO AF=. is no value: the sample's read counts still give the frequency
    report = interpret_vcf(_codon_460(genes, "G", "AF=.", "GT:AD", "0/1:75,25"), knowledge)
    assert _found(report) == {("UL97:M460V", 0.25)}
