"""``cmvcds resistance``: single samples in three formats, batches, and error exits."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.engine.resistance.genes import ReferenceGenes, reverse_complement
from tests.resistance.conftest import fasta, mutate, snv, vcf

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["resistance", *args])
    return result.exit_code, result.stdout, result.stderr


def test_mutation_list_as_json() -> None:
    code, out, _ = run("--mutations", "UL97:M460V,UL54:A809V", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["format"] == "cmvcds-resistance/1"
    assert doc["drugs"]["ganciclovir"]["level"] == "moderate"
    assert doc["drugs"]["letermovir"]["level"] == "not_assessed"


def test_text_names_each_drug_and_mutation() -> None:
    code, out, _ = run("--mutations", "UL97 H411Y", "--genes-tested", "UL97,UL54")
    assert code == 0
    assert "  maribavir       High-level resistance  fold change 12–20×  (UL97:H411Y)" in out
    assert "  ganciclovir     Susceptible" in out


def test_html_page_for_a_virologist_to_sign() -> None:
    code, out, _ = run("--mutations", "UL97:C592G", "--format", "html")
    assert code == 0
    assert out.startswith("<!DOCTYPE html>")
    assert '<td class="level low">Low-level resistance</td>' in out
    assert "Reviewed by (virologist)" in out
    assert 'href="https://doi.org/10.1128/aac.01259-10"' in out


def test_bad_input_is_one_line_and_exit_code_2() -> None:
    code, out, err = run("--mutations", "UL97:A460V")
    assert (code, out) == (2, "")
    assert (
        err
        == "error: 'UL97:A460V': UL97 residue 460 is M in the Merlin reference (NC_006273.2), not A\n"
    )
    code, _, err = run("--mutations", "UL97:M460V", "--vcf", "x.vcf")
    assert code == 2 and err.startswith("error: give exactly one of")


def test_fasta_and_vcf_files(tmp_path: Path, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    (tmp_path / "s.fasta").write_text(fasta(("s", reverse_complement(mutate(ul97, {603: "TGG"})))))
    code, out, _ = run("--fasta", str(tmp_path / "s.fasta"), "--format", "json")
    assert code == 0 and [m["id"] for m in json.loads(out)["mutations"]] == ["UL97:C603W"]
    (tmp_path / "s.vcf").write_text(vcf(snv(ul97, 460, 0, "G", af=0.04)))
    code, out, _ = run("--vcf", str(tmp_path / "s.vcf"), "--format", "json", "--threshold", "0.03")
    assert code == 0 and json.loads(out)["mutations"] == [
        {"id": "UL97:M460V", "frequency": 0.04, "status": "resistance", "haplotype": "separate"}
    ]
    with gzip.open(tmp_path / "s.vcf.gz", "wt") as handle:
        handle.write(vcf(snv(ul97, 460, 0, "G", af=0.5)))
    code, out, _ = run("--vcf", str(tmp_path / "s.vcf.gz"), "--format", "json")
    assert code == 0 and json.loads(out)["mutations"][0]["frequency"] == 0.5
    code, _, err = run("--vcf", str(tmp_path / "missing.vcf"))
    assert code == 2 and "cannot read VCF" in err


def test_batch_of_mutation_lists_and_files(tmp_path: Path, genes: ReferenceGenes) -> None:
    ul97 = genes.gene("UL97")
    (tmp_path / "a.vcf").write_text(vcf(snv(ul97, 460, 0, "G", af=0.9)))
    (tmp_path / "b.fa").write_text(fasta(("b", mutate(ul97, {409: "ATG"}))))
    batch = tmp_path / "batch.tsv"
    batch.write_text(
        "# lab run 42\n"
        "P1\tUL97:M460V, UL54:A809V\n"
        "P2\tUL56:C325Y\tUL56,UL89,UL51\n"
        "P3\tUL97:Z999Q\n"
        "a.vcf\n"
        "b.fa\n"
    )
    code, out, err = run("--batch", str(batch), "--format", "json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2  # one sample failed; the others were reported
    assert [d["sample_id"] for d in lines] == ["P1", "P2", "P3", "a.vcf", "b.fa"]
    assert lines[1]["drugs"]["letermovir"]["level"] == "high"
    assert lines[1]["genes_tested"] == ["UL56", "UL89", "UL51"]
    assert lines[2]["error"].startswith("line 4: 'UL97:Z999Q'")
    assert lines[3]["mutations"][0]["id"] == "UL97:M460V"
    assert lines[4]["drugs"]["maribavir"]["level"] == "high"  # T409M
    assert "1 of 5 samples could not be interpreted" in err
    code, out, _ = run("--batch", str(batch))
    table = out.splitlines()
    assert table[0].split() == [
        "sample_id",
        "ganciclovir",
        "valganciclovir",
        "foscarnet",
        "cidofovir",
        "brincidofovir",
        "maribavir",
        "letermovir",
        "mutations",
    ]
    assert table[1].split() == [
        "P1",
        "MOD+",  # UL97 + UL54 ganciclovir mutations, combination not measured
        "MOD+",
        "LOW",
        "S",
        "UNK",
        "S",
        "NA",
        "UL97:M460V,",
        "UL54:A809V",
    ]
