"""probe10 findings W5 and R4 (ADR 0031-fix10c), on VCF and FASTA flavours built from Merlin.

- A VCF variant whose frequency the file does not give is never given one (no 100 %, no
  "majority haplotype"): it is reported as "frequency not given", counted as present, and every
  drug call it drives carries the flag ``frequency-not-given``.
- A known resistance mutation seen below the reporting threshold is named on its drug's row
  (``resistance-below-threshold``), the level unchanged (minority variants never drive a call).
- A 13-base deletion is a frameshift: never the in-frame UL97 del591-594 it overlaps.

Levels used, from the pack's HerpesDRG rows (charles2024-herpesdrg, herpesdrg-db-2026q2): UL54
A809V low-level for ganciclovir (2.1-2.4x) and foscarnet (3.3-4.3x); UL56 C325Y 3000-8800x
letermovir (10.1128/aac.01623-15, 10.1128/aac.00922-18): high-level; UL97 del591-594 ganciclovir
resistance. Reporting threshold 10 % (levels.yaml, arup-cmv-resistance-ngs).
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app as cli
from cmvcds.adapters.report.resistance_html import (
    resistance_html,
    resistance_summary_row,
    resistance_text,
)
from cmvcds.engine.resistance import Level, interpret_fasta, interpret_vcf
from cmvcds.engine.resistance.genes import ReferenceGenes, reverse_complement, translate
from cmvcds.engine.resistance.report import mutation_levels
from cmvcds.knowledge import Knowledge
from tests.api.conftest import app, client
from tests.resistance.conftest import (
    codon,
    fasta,
    genome_base,
    position,
    snv,
    vcf,
    vcf_line,
)

__all__ = ["app", "client"]  # the API/web fixtures

DRUGS = ["ganciclovir", "valganciclovir", "foscarnet", "cidofovir", "brincidofovir"]


def _a809v_without_frequency(genes: ReferenceGenes, info: str = "DP=1000") -> str:
    ul54 = genes.gene("UL54")
    assert codon(ul54, 809)[1] == "C"  # GCx -> GTx: A809V (minus strand: G>A on the genome)
    index = 3 * 808 + 1
    alt = reverse_complement("T")
    return vcf(vcf_line(position(ul54, index), genome_base(ul54, index), alt, info))


def test_no_frequency_is_not_invented(knowledge: Knowledge, genes: ReferenceGenes) -> None:
    for info in ("DP=1000", "."):  # INFO depth only, or nothing: no AF, FREQ, AD or DP4
        report = interpret_vcf(
            _a809v_without_frequency(genes, info), knowledge, genes_tested=["UL97", "UL54"]
        )
        doc = report.to_dict()
        (finding,) = doc["mutations"]
        assert finding["id"] == "UL54:A809V"
        assert finding["frequency"] is None  # JSON null, not 1.0
        assert finding["haplotype"] == "separate"  # not known to be above 50 %: no majority
        # counted as present: the resistance it confers is not dropped for want of a number
        assert report.drug("foscarnet").level is Level.LOW
        flagged = {
            d.drug for d in report.drugs if any(f.code == "frequency-not-given" for f in d.flags)
        }
        # every call the variant drives (resistance; brincidofovir: uncharacterised), not
        # cidofovir, where A809V has no resistance row and the call does not rest on it
        assert report.drug("cidofovir").level is Level.SUSCEPTIBLE
        assert flagged == {"ganciclovir", "valganciclovir", "foscarnet", "brincidofovir"}
        flag = next(f for f in report.drug("foscarnet").flags if f.code == "frequency-not-given")
        assert flag.mutations == ("UL54:A809V",)
        assert "does not give" in flag.text and "10%" in flag.text
        assert flag.citations  # cited like every call
        text = resistance_text(doc)
        assert "100.0%" not in text and "majority haplotype" not in text
        assert "UL54:A809V           frequency not given  resistance" in text
        assert "DEPENDS ON A VARIANT OF UNKNOWN FREQUENCY" in text
        assert "taken as 1.0" not in text
        html = resistance_html(doc, knowledge)
        assert "frequency not given" in html and "100.0%" not in html
        row = resistance_summary_row(doc, DRUGS)
        # flagged, not "+" (no linkage question); "~": no read depth either (review23c 7)
        mark = "LOW?" if info == "DP=1000" else "LOW?~"
        assert row[1:4] == [mark, mark, mark]


def test_no_frequency_variant_stays_out_of_the_majority(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    assert codon(ul97, 460) == "ATG"  # base 2 T>C: ACG Thr; base 3 G>A: ATA Ile
    text = vcf(snv(ul97, 460, 1, "C"), snv(ul97, 460, 2, "A", af=0.9))
    doc = interpret_vcf(text, knowledge).to_dict()
    # before: the no-AF record was taken as 1.0 and merged with the 90 % one into one codon
    # (ACA, M460T at 90 %), and M460I was never reported
    assert {(m["id"], m["frequency"], m["haplotype"]) for m in doc["mutations"]} == {
        ("UL97:M460I", 0.9, "majority"),
        ("UL97:M460T", None, "separate"),
    }


def test_multi_sample_genotype_without_frequency(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    index = 3 * 459  # M460V: A>G at the codon's first base
    line = vcf_line(position(ul97, index), genome_base(ul97, index), "G", "AF=0.5", "GT", "0/1")
    text = vcf(line).replace("\tsample\n", "\tA\tB\n").replace("\t0/1\n", "\t0/1\t0/0\n")
    report = interpret_vcf(text, knowledge, sample="A")  # INFO AF pools both samples
    assert [(m.id, m.frequency) for m in report.mutations] == [("UL97:M460V", None)]
    flags = [f.code for f in report.drug("ganciclovir").flags]
    assert flags == ["frequency-not-given", "depth-not-given"]  # no DP either (review23c 7)


def test_resistance_below_threshold_is_named_on_the_drug_row(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul56 = genes.gene("UL56")
    assert codon(ul56, 325)[1] == "G"  # TGC Cys -> TAC Tyr
    levels = mutation_levels(knowledge)
    assert levels[("UL56:C325Y", "letermovir")].level is Level.HIGH
    text = vcf(snv(ul56, 325, 1, "A", af=0.099))
    report = interpret_vcf(text, knowledge, genes_tested=["UL56", "UL89", "UL51"])
    assert [m.id for m in report.minority] == ["UL56:C325Y"]
    letermovir = report.drug("letermovir")
    assert letermovir.level is Level.SUSCEPTIBLE  # below the threshold: documented, unchanged
    (flag,) = letermovir.flags
    assert flag.code == "resistance-below-threshold"
    assert flag.mutations == ("UL56:C325Y",)
    assert "9.9%" in flag.text and "below the 10% reporting threshold" in flag.text
    assert "high-level resistance to letermovir" in flag.text
    doc = report.to_dict()
    assert "RESISTANCE MUTATION BELOW THE THRESHOLD" in resistance_text(doc)
    assert resistance_summary_row(doc, ["letermovir"])[1] == "S*"
    # at a 5 % threshold the same variant is called, and drives the level
    called = interpret_vcf(text, knowledge, threshold=0.05, genes_tested=["UL56"])
    assert called.drug("letermovir").level is Level.HIGH
    # no below-threshold flag; the record gives AF only, no read depth (review23c 7)
    assert [f.code for f in called.drug("letermovir").flags] == ["depth-not-given"]


def _first_changed(protein: str, mutated_cds: str) -> int:
    """The 1-based residue where the mutated coding sequence's translation first differs."""
    alt = translate(mutated_cds[: len(mutated_cds) - len(mutated_cds) % 3])
    return next(i for i, (a, b) in enumerate(zip(protein, alt, strict=False)) if a != b) + 1


def test_thirteen_base_deletion_is_a_frameshift(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    ul97 = genes.gene("UL97")
    # delete coding 1770-1782 (codons 591-594 and the first base of 595) after anchor 1769:
    # 12 bases would be the in-frame del591-594; 13 shift the frame
    mutated = ul97.cds[:1770] + ul97.cds[1783:]
    expected = f"UL97:fs{_first_changed(ul97.protein, mutated)}"
    for af in (0.5, 0.9):  # its own haplotype, and the majority haplotype
        line = vcf_line(position(ul97, 1769), ul97.cds[1769:1783], ul97.cds[1769], f"AF={af}")
        report = interpret_vcf(vcf(line), knowledge, genes_tested=["UL97", "UL54"])
        assert [(m.id, m.frequency) for m in report.mutations] == [(expected, af)]
        assert report.drug("ganciclovir").level is Level.UNKNOWN  # uncharacterised, not del591-594
        assert report.drug("ganciclovir").unknown == (expected,)
    fa = interpret_fasta(fasta(("s", mutated)), knowledge)
    assert [m.id for m in fa.mutations] == [expected]
    # the 12-base deletion stays the known in-frame del591-594
    line = vcf_line(position(ul97, 1769), ul97.cds[1769:1782], ul97.cds[1769], "AF=0.5")
    inframe = interpret_vcf(vcf(line), knowledge)
    assert [m.id for m in inframe.mutations] == ["UL97:del591-594"]
    assert inframe.drug("ganciclovir").level.is_resistance


def test_batch_path_after_a_sample_id_hints_at_the_path_form(
    tmp_path: Path, genes: ReferenceGenes
) -> None:
    sample = tmp_path / "s1.vcf"
    sample.write_text(vcf(snv(genes.gene("UL97"), 460, 0, "G", af=0.9)))
    batch = tmp_path / "batch.tsv"
    batch.write_text(f"S1\t{sample}\nS2\tUL97:M460V\n{sample.name}\n")
    result = CliRunner().invoke(cli, ["resistance", "--batch", str(batch), "--format", "json"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 2
    assert "looks like a file" in lines[0]["error"]
    assert "path alone on its line" in lines[0]["error"]
    assert lines[1]["mutations"][0]["id"] == "UL97:M460V"
    assert lines[2]["mutations"][0]["id"] == "UL97:M460V"  # the path form works
    assert "looks like a file" not in lines[1].get("error", "")


def test_api_and_web_page_say_frequency_not_given(
    client: TestClient, genes: ReferenceGenes
) -> None:
    text = _a809v_without_frequency(genes)
    api = client.post("/api/v1/resistance", json={"vcf": text})
    assert api.status_code == 200
    doc = api.json()
    assert doc["mutations"][0]["frequency"] is None
    assert [f["code"] for f in doc["drugs"]["foscarnet"]["flags"]] == ["frequency-not-given"]
    files = {"sequence": ("s.vcf", text.encode())}
    page = client.post("/resistance", data={"virus": "cmv"}, files=files)
    assert page.status_code == 200
    row = page.text.split('data-drug="foscarnet"')[1].split("</tr>")[0]
    assert 'data-flag="frequency-not-given"' in row
    assert "Depends on a variant of unknown frequency" in row and "UL54:A809V" in row
    assert (
        'data-flag="frequency-not-given"'
        not in page.text.split('data-drug="cidofovir"')[1].split("</tr>")[0]
    )
