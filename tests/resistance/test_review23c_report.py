"""review23c 5 and 7: a listed change is drawn as listed in the lollipop plot (never "100%"), a
call resting on a variant with no read depth is flagged on its drug, and the batch table names a
variant not called for its depth."""

from __future__ import annotations

from cmvcds.adapters.report.resistance_html import (
    lollipop_svg,
    resistance_html,
    resistance_summary_row,
)
from cmvcds.engine.resistance import interpret_mutations, interpret_vcf
from cmvcds.engine.resistance.genes import ReferenceGenes
from cmvcds.knowledge import Knowledge
from tests.resistance.conftest import codon, genome_base, position, vcf, vcf_line

GENES = ["UL97", "UL54", "UL56"]


def _m460v(genes: ReferenceGenes, info: str, fmt: str = "", sample: str = "") -> str:
    ul97 = genes.gene("UL97")
    assert codon(ul97, 460) == "ATG" and position(ul97, 3 * 459) == 143175
    return vcf(vcf_line(143175, genome_base(ul97, 3 * 459), "G", info, fmt, sample))


def test_a_listed_change_is_drawn_as_listed(knowledge: Knowledge) -> None:
    doc = interpret_mutations(["UL54:A809V"], None, knowledge).to_dict()
    assert doc["mutations"][0]["frequency"] == 1.0  # design.md's key, unchanged
    for svg in (lollipop_svg(doc, knowledge), resistance_html(doc, knowledge)):
        assert "<title>UL54:A809V listed (frequency not given)</title>" in svg
        assert "A809V 100%" not in svg
        assert 'stroke-dasharray="1 3" data-listed="true"' in svg
    # a measured VCF variant keeps its measured stem and label
    text = (
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "NC_006273.2\t143175\t.\tA\tG\t60\tPASS\tDP=1000;AF=0.4\n"
    )
    svg = lollipop_svg(interpret_vcf(text, knowledge, genes_tested=GENES).to_dict(), knowledge)
    assert "<title>UL97:M460V 40%</title>" in svg and "data-listed" not in svg


def test_a_call_from_a_variant_without_depth_is_flagged(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    report = interpret_vcf(_m460v(genes, "AF=0.9"), knowledge, genes_tested=GENES)
    gcv = report.drug("ganciclovir")
    assert gcv.level.is_resistance
    (flag,) = [f for f in gcv.flags if f.code == "depth-not-given"]
    assert flag.mutations == ("UL97:M460V",)
    assert "minimum depth of 100 reads could not be checked" in flag.text
    assert not [f for f in report.drug("foscarnet").flags if f.code == "depth-not-given"]
    # with a depth, no such flag
    report = interpret_vcf(_m460v(genes, "AF=0.9;DP=1000"), knowledge, genes_tested=GENES)
    assert not [f for f in report.drug("ganciclovir").flags if f.code == "depth-not-given"]


def test_the_batch_row_names_a_variant_not_called(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    text = _m460v(genes, ".", "GT:AD:DP", "1:49,50:99")
    doc = interpret_vcf(text, knowledge, genes_tested=GENES).to_dict()
    row = resistance_summary_row(doc, ["ganciclovir"])
    assert row[1] == "NA!"
    assert row[2] == "UL97:M460V (not called: depth 99 below 100)"
