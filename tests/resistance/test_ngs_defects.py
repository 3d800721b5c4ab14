"""Issue 18: NGS-shaped inputs that dropped or invented a resistance mutation without a word.

Every VCF here is built on the Merlin genome twice over: the REF base of each record is read from
the RefSeq FASTA in ``shared/data/reference`` and checked against the pack's coding sequence, so
a test cannot pass on a reference the engine does not use. Each defect is tried in both record
orders, and where two alleles share a position, as one multi-allelic record and as the split
records ``bcftools norm -m-`` writes.

Expected calls are written from HerpesDRG-DB 2026Q2 rows (``mutations.csv``), cited by row id:

- UL97 M460V ganciclovir: recombinant rows hdrg152, hdrg421, hdrg1786 ... 7-8.3 -> moderate.
- UL97 M460L: no row (uncharacterised).
- UL97 A594T ganciclovir: hdrg168 (recombinant, 2.7) -> low; A594V: hdrg169 6.4, hdrg424 8.6,
  hdrg1790 8.3 (recombinant; median 8.3) -> moderate. A594M: no row.
- UL56 M329T letermovir alone: hdrg202 4.5, hdrg246 4.4 -> low; with UL89 D344E: hdrg203 and
  hdrg267, 8 -> moderate. UL89 D344E alone: hdrg192 1.8, hdrg1763 1.6 -> susceptible.
- UL54 V715A: hdrg321-cidofovir polymorphism, hdrg321-foscarnet resistant; no ganciclovir row.
- UL97 C603W: cidofovir/foscarnet polymorphism (hdrg1816), ganciclovir fold changes; no maribavir.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmvcds.engine.resistance import (
    Level,
    interpret_fasta,
    interpret_mutations,
    interpret_vcf,
    interpret_vcf_samples,
    read_upload,
    vcf_samples,
)
from cmvcds.engine.resistance.genes import GeneModel, ReferenceGenes, reverse_complement
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge
from tests.resistance.conftest import VCF_HEADER, codon, fasta, mutate, position, vcf, vcf_line

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "reference"


@cache
def merlin() -> str:
    """The Merlin genome (RefSeq NC_006273.2) from shared/; required, never skipped."""
    lines = (REFERENCE / "NC_006273.2.fasta").read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">")).upper()


def genome_pos(gene: GeneModel, residue: int, base: int) -> int:
    return position(gene, 3 * (residue - 1) + base)


def ref_at(gene: GeneModel, residue: int, base: int) -> str:
    """The genome base at a coding base, read from the RefSeq FASTA and checked against the pack."""
    pos = genome_pos(gene, residue, base)
    from_fasta = merlin()[pos - 1]
    coding = codon(gene, residue)[base]
    assert from_fasta == (coding if gene.strand == "+" else reverse_complement(coding))
    return from_fasta


def genome_alt(gene: GeneModel, coding_base: str) -> str:
    return coding_base if gene.strand == "+" else reverse_complement(coding_base)


def snv(gene: GeneModel, residue: int, base: int, alt: str, af: float, fmt: str = "") -> str:
    return vcf_line(
        genome_pos(gene, residue, base),
        ref_at(gene, residue, base),
        genome_alt(gene, alt),
        f"AF={af}",
    )


def multi(gene: GeneModel, residue: int, base: int, alts: dict[str, float]) -> str:
    """One multi-allelic record: ALT ``G,C`` with ``AF=0.6,0.3``."""
    return vcf_line(
        genome_pos(gene, residue, base),
        ref_at(gene, residue, base),
        ",".join(genome_alt(gene, a) for a in alts),
        "AF=" + ",".join(str(f) for f in alts.values()),
    )


def ids(report: object) -> list[tuple[str, float]]:
    return [(m["id"], m["frequency"]) for m in report.to_dict()["mutations"]]  # type: ignore[attr-defined]


def minority(report: object) -> list[tuple[str, float]]:
    return [(m["id"], m["frequency"]) for m in report.to_dict()["minority"]]  # type: ignore[attr-defined]


def both_orders(*lines: str) -> list[str]:
    return [vcf(*lines), vcf(*reversed(lines))]


# 1. Two alleles at one position ------------------------------------------------------------


def test_two_alleles_at_one_position(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    """A>G 60 % (M460V) + A>C 30 % (M460L) at UL97 codon 460 (ATG): two haplotypes, any form."""
    ul97 = genes.gene("UL97")
    assert codon(ul97, 460) == "ATG"
    split = [snv(ul97, 460, 0, "G", 0.6), snv(ul97, 460, 0, "C", 0.3)]
    inputs = [*both_orders(*split), vcf(multi(ul97, 460, 0, {"G": 0.6, "C": 0.3}))]
    inputs.append(vcf(multi(ul97, 460, 0, {"C": 0.3, "G": 0.6})))
    for text in inputs:
        report = interpret_vcf(text, knowledge)
        assert sorted(ids(report)) == [("UL97:M460L", 0.3), ("UL97:M460V", 0.6)], text
        ganciclovir = report.drug("ganciclovir")
        assert ganciclovir.level is Level.MODERATE  # hdrg152/421/1786: M460V 7-8.3
        assert ganciclovir.mutations == ("UL97:M460V",)
        assert ganciclovir.unknown == ("UL97:M460L",)  # no row: listed, never hidden


# 2. A mixture inside one codon ------------------------------------------------------------


def test_two_variants_of_one_codon_that_need_not_share_a_haplotype(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    """G>A 45 % + C>T 55 % at UL97 594 (GCG): A594T and A594V, never the invented A594M."""
    ul97 = genes.gene("UL97")
    assert codon(ul97, 594) == "GCG"
    for text in both_orders(snv(ul97, 594, 0, "A", 0.45), snv(ul97, 594, 1, "T", 0.55)):
        report = interpret_vcf(text, knowledge)
        assert sorted(ids(report)) == [("UL97:A594T", 0.45), ("UL97:A594V", 0.55)]
        assert report.unknown == ()
        ganciclovir = report.drug("ganciclovir")
        assert ganciclovir.level is Level.MODERATE  # A594V hdrg169/424/1790; A594T hdrg168 low
        assert set(ganciclovir.mutations) == {"UL97:A594T", "UL97:A594V"}
        haplotypes = {m["id"]: m.get("haplotype") for m in report.to_dict()["mutations"]}
        assert haplotypes == {"UL97:A594V": "majority", "UL97:A594T": "separate"}
        (unseen,) = [w for w in report.warnings if "need not share a genome" in w]
        assert "UL97 codon 594" in unseen and "UL97:A594M" in unseen


def test_variants_whose_frequencies_force_linkage_are_one_codon(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    """G>A 60 % + C>T 55 % at UL97 594: together on >= 15 % of genomes -> one codon (ATG, M)."""
    ul97 = genes.gene("UL97")
    for text in both_orders(snv(ul97, 594, 0, "A", 0.6), snv(ul97, 594, 1, "T", 0.55)):
        assert ids(interpret_vcf(text, knowledge)) == [("UL97:A594M", 0.55)]


def test_one_multi_nucleotide_record_is_one_haplotype(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    """REF GC ALT AT at UL97 594 (GCG): the caller saw both bases on the same reads -> A594M."""
    ul97 = genes.gene("UL97")
    pos = genome_pos(ul97, 594, 0)
    ref = ref_at(ul97, 594, 0) + ref_at(ul97, 594, 1)
    report = interpret_vcf(vcf(vcf_line(pos, ref, "AT", "AF=0.45")), knowledge)
    assert ids(report) == [("UL97:A594M", 0.45)]
    assert report.unknown == ("UL97:A594M",)  # no HerpesDRG row for A594M


def test_phased_records_are_translated_as_their_haplotypes(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    """GT 0|1 + 0|1 in one phase set: one haplotype (A594M) although 0.45 + 0.40 <= 1; 0|1 with
    1|0: two haplotypes."""
    ul97 = genes.gene("UL97")

    def phased(base: int, alt: str, af: float, gt: str) -> str:
        return vcf_line(
            genome_pos(ul97, 594, base),
            ref_at(ul97, 594, base),
            alt,
            f"AF={af}",
            fmt="GT:PS",
            sample=f"{gt}:{genome_pos(ul97, 594, 0)}",
        )

    cis = both_orders(phased(0, "A", 0.45, "0|1"), phased(1, "T", 0.4, "0|1"))
    for text in cis:
        report = interpret_vcf(text, knowledge)
        assert ids(report) == [("UL97:A594M", 0.4)]
        assert report.to_dict()["mutations"][0]["haplotype"].startswith("phased")
    trans = both_orders(phased(0, "A", 0.45, "0|1"), phased(1, "T", 0.4, "1|0"))
    for text in trans:
        assert sorted(ids(interpret_vcf(text, knowledge))) == [
            ("UL97:A594T", 0.45),
            ("UL97:A594V", 0.4),
        ]


# 3. A minority frameshift ------------------------------------------------------------------


def test_a_minority_frameshift_never_hides_the_majority(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    """A 15 % +1 insertion at UL97 codon 450 and M460V at 100 %."""
    ul97 = genes.gene("UL97")
    last = genome_pos(ul97, 450, 2)
    base = ref_at(ul97, 450, 2)
    insertion = vcf_line(last, base, base + "A", "AF=0.15")
    for text in both_orders(insertion, snv(ul97, 460, 0, "G", 1.0)):
        report = interpret_vcf(text, knowledge)
        assert sorted(ids(report)) == [("UL97:M460V", 1.0), ("UL97:fs451", 0.15)]
        assert report.drug("ganciclovir").level is Level.MODERATE
        assert any("frameshift" in w and "UL97:fs451" in w for w in report.warnings)


@pytest.mark.parametrize("shift_codon", [695, 705])  # upstream, downstream of the insertion
def test_a_minority_frameshift_beside_a_majority_in_frame_insertion(
    knowledge: Knowledge, genes: ReferenceGenes, shift_codon: int
) -> None:
    """UL54 (minus strand): a 91 % in-frame insertion and a 21 % one-base deletion nearby."""
    ul54 = genes.gene("UL54")
    ins_pos = genome_pos(ul54, 700, 0)
    ins_ref = merlin()[ins_pos - 1]
    insertion = vcf_line(ins_pos, ins_ref, ins_ref + "GCC", "AF=0.91")
    alone = interpret_vcf(vcf(insertion), knowledge)
    (in_frame,) = ids(alone)
    assert ":ins" in in_frame[0] and in_frame[1] == 0.91
    del_pos = genome_pos(ul54, shift_codon, 1)
    deletion = vcf_line(
        del_pos, merlin()[del_pos - 1 : del_pos + 1], merlin()[del_pos - 1], "AF=0.21"
    )
    for text in both_orders(insertion, deletion):
        found = ids(interpret_vcf(text, knowledge))
        assert in_frame in found
        shifts = [m for m in found if ":fs" in m[0]]
        assert len(shifts) == 1 and shifts[0][1] == 0.21
        assert len(found) == 2


# 4. Combinations need linkage ------------------------------------------------------------


def _ul56_ul89(genes: ReferenceGenes, f56: float, f89: float) -> list[str]:
    ul56, ul89 = genes.gene("UL56"), genes.gene("UL89")
    assert codon(ul56, 329) == "ATG"  # -> ACG, M329T
    d344 = codon(ul89, 344)
    assert d344[:2] == "GA" and d344[2] in "CT"  # -> GAA, D344E
    return both_orders(snv(ul56, 329, 1, "C", f56), snv(ul89, 344, 2, "A", f89))


def test_a_combination_phenotype_needs_frequencies_that_imply_co_occurrence(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    for text in _ul56_ul89(genes, 0.4, 0.3):  # 0.4 + 0.3 <= 1: may be on different genomes
        letermovir = interpret_vcf(text, knowledge).drug("letermovir")
        assert letermovir.level is Level.LOW  # M329T alone: hdrg202 4.5, hdrg246 4.4
        assert letermovir.fold_change == (4.4, 4.5)
        assert not any(c.combination for c in letermovir.contributions)
        (flag,) = [f for f in letermovir.flags if f.code == "possible-combination"]
        assert set(flag.mutations) == {"UL56:M329T", "UL89:D344E"}
        assert "8" in flag.text and "moderate" in flag.text
    for text in _ul56_ul89(genes, 0.8, 0.7):  # 1.5 > 1: together on >= 50 % of genomes
        letermovir = interpret_vcf(text, knowledge).drug("letermovir")
        assert letermovir.level is Level.MODERATE  # hdrg203/hdrg267: 8-fold together
        assert any(c.combination for c in letermovir.contributions)
        assert not any(f.code == "possible-combination" for f in letermovir.flags)


def test_mixed_bases_of_a_consensus_cannot_show_linkage(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    """UL56 ATG->AYG (M329M/T) and UL89 GAC->GAM (D344D/E): two mixtures (proportion not given)
    cannot show they share a genome; the same changes as consensus bases are one genome."""
    ul56, ul89 = genes.gene("UL56"), genes.gene("UL89")
    assert codon(ul56, 329) == "ATG" and codon(ul89, 344) == "GAC"
    mixed = fasta(("ul56", mutate(ul56, {329: "AYG"})), ("ul89", mutate(ul89, {344: "GAM"})))
    letermovir = interpret_fasta(mixed, knowledge).drug("letermovir")
    assert letermovir.level is Level.LOW  # M329T alone (hdrg202, hdrg246)
    assert [f.code for f in letermovir.flags] == ["frequency-not-given", "possible-combination"]
    consensus = fasta(("ul56", mutate(ul56, {329: "ACG"})), ("ul89", mutate(ul89, {344: "GAA"})))
    assert interpret_fasta(consensus, knowledge).drug("letermovir").level is Level.MODERATE


def test_a_mutation_list_is_one_genome(knowledge: Knowledge) -> None:
    letermovir = interpret_mutations(["UL56:M329T", "UL89:D344E"], None, knowledge).drug(
        "letermovir"
    )
    assert letermovir.level is Level.MODERATE


# 5. Multi-sample VCF ----------------------------------------------------------------------


def _two_samples(genes: ReferenceGenes) -> str:
    ul97 = genes.gene("UL97")
    header = VCF_HEADER.replace("\tsample\n", "\tpatientA\tpatientB\n")
    line = vcf_line(genome_pos(ul97, 460, 0), ref_at(ul97, 460, 0), "G", ".", "GT:AD", "0/1:10,90")
    return (
        header
        + line
        + "\t0/1:70,30\n"
        + vcf_line(genome_pos(ul97, 594, 1), ref_at(ul97, 594, 1), "T", ".", "GT:AD", "0/0:100,0")
        + "\t0/1:40,60\n"
    )


def test_each_sample_of_a_multi_sample_vcf_is_its_own_report(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    text = _two_samples(genes)
    assert vcf_samples(text) == ("patientA", "patientB")
    with pytest.raises(SequenceInputError, match="patientA, patientB"):
        interpret_vcf(text, knowledge)
    reports = interpret_vcf_samples(text, knowledge)
    assert ids(reports["patientA"]) == [("UL97:M460V", 0.9)]
    assert sorted(ids(reports["patientB"])) == [("UL97:A594V", 0.6), ("UL97:M460V", 0.3)]
    assert ids(interpret_vcf(text, knowledge, sample="patientB")) == ids(reports["patientB"])
    with pytest.raises(SequenceInputError, match="no sample 'patientC'"):
        interpret_vcf(text, knowledge, sample="patientC")


# 6. Runs of N in a FASTA ------------------------------------------------------------------


def test_a_run_of_n_is_not_covered_never_a_deletion(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    unread = {r: "NNN" for r in range(590, 601)}
    text = fasta(("ul97", mutate(ul97, {460: "GTG", **unread})))
    report = interpret_fasta(text, knowledge)
    assert ids(report) == [("UL97:M460V", 1.0)]  # no del590-600
    assert report.coverage[0].codons == ((1, 589), (601, 707))
    ganciclovir = report.drug("ganciclovir")
    assert ganciclovir.level is Level.MODERATE
    assert "UL97:594" in ganciclovir.not_covered
    plain = interpret_fasta(fasta(("ul97", mutate(ul97, unread))), knowledge)
    assert plain.drug("ganciclovir").level is Level.NOT_ASSESSED
    ambiguous = interpret_fasta(fasta(("ul97", mutate(ul97, {594: "NNG", 595: "BDH"}))), knowledge)
    assert ids(ambiguous) == [] and ambiguous.coverage[0].codons == ((1, 593), (596, 707))


# 7. Polymorphism per drug -----------------------------------------------------------------


def test_polymorphism_status_is_per_drug(knowledge: Knowledge) -> None:
    v715a = interpret_mutations(["UL54:V715A"], ["UL54", "UL97"], knowledge)
    assert v715a.drug("cidofovir").level is Level.SUSCEPTIBLE  # hdrg321-cidofovir polymorphism
    assert v715a.drug("foscarnet").level is Level.LOW  # hdrg321-foscarnet resistant, no value
    assert v715a.drug("ganciclovir").level is Level.UNKNOWN  # no ganciclovir row
    c603w = interpret_mutations(["UL97:C603W"], ["UL97", "UL54"], knowledge)
    assert c603w.drug("maribavir").level is Level.UNKNOWN  # hdrg1816 is cidofovir/foscarnet only
    assert c603w.drug("maribavir").unknown == ("UL97:C603W",)


# 8. Silent skips and refusals -------------------------------------------------------------


def test_symbolic_alleles_and_positions_outside_the_genome_are_warned(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    pos, ref = genome_pos(ul97, 460, 0), ref_at(ul97, 460, 0)
    text = vcf(
        vcf_line(pos, ref, "G", "AF=0.9"),
        vcf_line(pos + 30, merlin()[pos + 29], "<DEL>", "AF=0.4;SVTYPE=DEL;END=" + str(pos + 90)),
        vcf_line(pos + 40, merlin()[pos + 39], "*", "AF=0.2"),
        vcf_line(300_000, "A", "G", "AF=0.5"),
    )
    report = interpret_vcf(text, knowledge)
    assert ids(report) == [("UL97:M460V", 0.9)]
    warnings = " ".join(report.warnings)
    assert "symbolic" in warnings and "<DEL>" in warnings and "'*'" in warnings
    assert "outside NC_006273.2" in warnings and "300000" in warnings


def test_a_synonymous_change_in_a_mutation_list_has_no_effect(knowledge: Knowledge) -> None:
    report = interpret_mutations(["UL97:L595L", "UL97:M460V"], None, knowledge)
    assert ids(report) == [("UL97:M460V", 1.0)]
    assert report.drug("ganciclovir").level is Level.MODERATE
    assert any("UL97:L595L" in w and "synonymous" in w for w in report.warnings)
    with pytest.raises(SequenceInputError, match="residue 595 is L"):
        interpret_mutations(["UL97:A595A"], None, knowledge)


def test_uploads_are_told_apart_by_their_content(genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    body = snv(ul97, 460, 0, "G", 0.9) + "\n"
    assert read_upload(gzip.compress((VCF_HEADER + body).encode())) == ("vcf", VCF_HEADER + body)
    assert read_upload(body.encode())[0] == "vcf"  # no header line: columns say VCF
    assert read_upload(b">x\nACGT\n") == ("fasta", ">x\nACGT\n")
    assert read_upload(gzip.compress(b">x\nACGT\n")) == ("fasta", ">x\nACGT\n")
    with pytest.raises(SequenceInputError, match="neither"):
        read_upload(b"hello world\n")


def test_a_vcf_without_its_header_line_is_read(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    report = interpret_vcf(snv(ul97, 460, 0, "G", 0.9) + "\n", knowledge)
    assert ids(report) == [("UL97:M460V", 0.9)]
    assert any("header" in w for w in report.warnings)


# The scorer's contract -------------------------------------------------------------------

_UL97_SITES = st.tuples(st.integers(440, 610), st.integers(0, 2), st.sampled_from("ACGT"))


@settings(max_examples=40, deadline=None)
@given(
    major=st.lists(st.tuples(_UL97_SITES, st.floats(0.1, 1.0)), max_size=4),
    minor=st.lists(st.tuples(_UL97_SITES, st.floats(0.001, 0.0999)), max_size=4),
    reverse=st.booleans(),
)
def test_sub_threshold_variants_stay_minority_and_never_drive_a_call(
    knowledge: Knowledge,
    genes: ReferenceGenes,
    major: list[tuple[tuple[int, int, str], float]],
    minor: list[tuple[tuple[int, int, str], float]],
    reverse: bool,
) -> None:
    ul97 = genes.gene("UL97")

    def lines(items: list[tuple[tuple[int, int, str], float]]) -> list[str]:
        seen: set[tuple[int, int]] = set()
        out = []
        for (r, k, b), f in items:
            if b != codon(ul97, r)[k] and (r, k) not in seen:
                seen.add((r, k))
                out.append(snv(ul97, r, k, b, round(f, 4)))
        return out

    majors = lines(major)
    minors = [m for m in lines(minor) if m.split("\t")[1] not in {x.split("\t")[1] for x in majors}]
    records = majors + minors
    plain = interpret_vcf(vcf(*majors) if majors else vcf(), knowledge, genes_tested=["UL97"])
    noisy = interpret_vcf(
        vcf(*(reversed(records) if reverse else records)), knowledge, genes_tested=["UL97"]
    )
    assert [(d.drug, d.level, d.mutations) for d in noisy.drugs] == [
        (d.drug, d.level, d.mutations) for d in plain.drugs
    ]
    assert ids(noisy) == ids(plain)
    assert all(f < 0.1 for _, f in minority(noisy))
    assert all(f >= 0.1 for _, f in ids(noisy))


# The command line: samples, renamed gzip files, synonymous changes in a batch ---------------


def _cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from cmvcds.adapters.cli.main import app

    result = CliRunner().invoke(app, ["resistance", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_reads_every_sample_of_a_vcf(tmp_path: Path, genes: ReferenceGenes) -> None:
    path = tmp_path / "run.vcf"
    path.write_text(_two_samples(genes))
    code, out, _ = _cli("--vcf", str(path), "--format", "json")
    docs = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [d["sample_id"] for d in docs] == ["patientA", "patientB"]
    assert [m["id"] for m in docs[1]["mutations"]] == ["UL97:M460V", "UL97:A594V"]
    code, out, _ = _cli("--vcf", str(path), "--sample", "patientB", "--format", "json")
    assert code == 0 and json.loads(out)["sample_id"] == "patientB"
    code, _, err = _cli("--vcf", str(path), "--format", "html")
    assert code == 2 and "--sample" in err


def test_cli_batch_with_gzip_renamed_and_a_synonymous_change(
    tmp_path: Path, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    (tmp_path / "renamed.vcf").write_bytes(gzip.compress(vcf(snv(ul97, 460, 0, "G", 0.9)).encode()))
    (tmp_path / "noheader.txt").write_text(snv(ul97, 594, 1, "T", 0.7) + "\n")
    (tmp_path / "multi.vcf").write_text(_two_samples(genes))
    batch = tmp_path / "batch.tsv"
    batch.write_text(
        "S1\tUL97:L595L, UL97:M460V\nrenamed.vcf\nnoheader.txt\nmulti.vcf\nS2\tUL97:Q999Z\n"
    )
    code, out, err = _cli("--batch", str(batch), "--format", "json")
    docs = {d["sample_id"]: d for d in map(json.loads, out.splitlines())}
    assert code == 2 and "1 of 5 samples" in err  # only the unreadable S2
    assert list(docs) == [
        "S1",
        "renamed.vcf",
        "noheader.txt",
        "multi.vcf#patientA",
        "multi.vcf#patientB",
        "S2",
    ]
    assert docs["S1"]["drugs"]["ganciclovir"]["level"] == "moderate"
    assert any("synonymous" in w for w in docs["S1"]["warnings"])
    assert docs["renamed.vcf"]["mutations"][0]["id"] == "UL97:M460V"
    assert docs["noheader.txt"]["mutations"][0]["id"] == "UL97:A594V"
    assert "error" in docs["S2"]


# The web form: gzip without .gz, VCF without header, the threshold field -------------------


def test_web_form_reads_what_the_laboratory_uploads(
    tmp_path: Path, knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    from fastapi.testclient import TestClient

    from cmvcds.adapters.api.app import create_app
    from cmvcds.adapters.api.service import Clinic
    from cmvcds.adapters.api.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", demo_cases=False)
    client = TestClient(create_app(settings, Clinic(knowledge)))
    ul97 = genes.gene("UL97")
    assert 'name="threshold"' in client.get("/resistance").text
    renamed = gzip.compress(vcf(snv(ul97, 460, 0, "G", 0.08)).encode())
    page = client.post(
        "/resistance", files={"sequence": ("s.vcf", renamed)}, data={"threshold": "5"}
    )
    assert page.status_code == 200 and "UL97:M460V" in page.text
    assert 'data-drug="ganciclovir" class="level-moderate"' in page.text
    default = client.post("/resistance", files={"sequence": ("s.txt", renamed)}, data={})
    assert 'data-drug="ganciclovir" class="level-moderate"' not in default.text  # 8 % < 10 %
    headerless = (snv(ul97, 594, 1, "T", 0.7) + "\n").encode()
    page = client.post("/resistance", files={"sequence": ("s.fasta", headerless)}, data={})
    assert page.status_code == 200 and "UL97:A594V" in page.text
    bad = client.post("/resistance", files={"sequence": ("s", renamed)}, data={"threshold": "x"})
    assert bad.status_code == 422 and "threshold" in bad.text
    multi = client.post(
        "/resistance", files={"sequence": ("m.vcf", _two_samples(genes).encode())}, data={}
    )
    assert multi.status_code == 422 and "patientA, patientB" in multi.text
    chosen = client.post(
        "/resistance",
        files={"sequence": ("m.vcf", _two_samples(genes).encode())},
        data={"sample": "patientA"},
    )
    assert chosen.status_code == 200 and "UL97:M460V" in chosen.text


def test_a_long_deletion_reaching_into_a_gene_is_not_skipped_at_the_line(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    """The line filter skips records outside the genes; a 100-base deletion that starts before
    UL97 and removes its first codons still reaches the gene (and is not dropped)."""
    ul97 = genes.gene("UL97")
    lo = ul97.exons[0][0]
    start = lo - 80
    deletion = vcf_line(start, merlin()[start - 1 : start + 100], merlin()[start - 1], "AF=0.9")
    far = vcf_line(1000, merlin()[999], "A" if merlin()[999] != "A" else "C", "AF=0.9")
    report = interpret_vcf(vcf(far, deletion), knowledge)
    assert report.genes_tested == ("UL97",)
    assert [m for m, _ in ids(report)] and all(m.startswith("UL97:") for m, _ in ids(report))


# Beyond the peers: a lollipop plot of each gene --------------------------------------------


def test_the_html_report_draws_each_gene_with_its_mutations(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    import re

    from cmvcds.adapters.report.resistance_html import lollipops, resistance_html

    ul97 = genes.gene("UL97")
    text = vcf(
        snv(ul97, 594, 0, "A", 0.45), snv(ul97, 594, 1, "T", 0.55), snv(ul97, 460, 0, "G", 0.05)
    )
    doc = interpret_vcf(text, knowledge).to_dict()
    (svg,) = lollipops(doc, {"UL97": ul97.codons})
    circles = dict(re.findall(r'data-mutation="([^"]+)" cx="[\d.]+" cy="([\d.]+)"', svg))
    assert set(circles) == {"UL97:A594T", "UL97:A594V", "UL97:M460V"}
    # stem heights follow the frequencies: 55 % reaches higher (smaller y) than 45 %
    assert float(circles["UL97:A594V"]) < float(circles["UL97:A594T"])
    assert 'fill="white"' in svg.split('data-mutation="UL97:M460V"')[1][:80]  # minority: hollow
    page = resistance_html(doc, knowledge)
    assert '<svg class="lollipop" data-gene="UL97"' in page and "UL97 1–707" in page
