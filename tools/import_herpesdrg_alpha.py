"""Import the HSV-1, HSV-2 and VZV rows of HerpesDRG-DB into the cmvcds resistance knowledge.

    .venv/bin/python tools/import_herpesdrg_alpha.py --reference DIR [--db DIR] [--out DIR]

The HCMV import (``tools/import_herpesdrg.py``) and this one share the row conversion; this one
adds, per virus, the reference genome of HerpesDRG (``DIR/<accession>.fasta`` and ``.gff3``, NCBI
RefSeq, public domain; copied from github.com/ojcharles/herpesdrg ``inst/ref/``, MIT) and writes
under ``src/cmvcds/knowledge/data/resistance/<virus>/``:

- ``reference.yaml``: accession, genome length and the coding sequences of the thymidine kinase
  (HSV UL23, VZV ORF36), the DNA polymerase (HSV UL30, VZV ORF28) and the helicase-primase
  (HSV UL5/UL52, VZV ORF55; amenamevir's target) with coordinates and strand;
- ``mutations.csv`` and ``studies.csv``: rows with status A of that virus, one per mutation × drug
  (aciclovir, penciclovir, foscarnet, cidofovir, brivudine, amenamevir), each change
  checked against the reference protein (a mismatch is reported and left out);
- ``IMPORT-REPORT.txt``: every row or cell not imported and why.

The drug tables (``drugs.yaml``) are written by hand: which genes a drug depends on is a clinical
statement, not an import.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from Bio.Seq import Seq

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_herpesdrg as hcmv

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src/cmvcds/knowledge/data/resistance"


@dataclass(frozen=True)
class Virus:
    key: str  # folder and CLI name
    db_name: str  # HerpesDRG ``virus`` column
    accession: str
    strain: str
    source: str  # source id of the reference in sources/resistance.yaml
    genes: tuple[str, ...]


VIRUSES = (
    Virus("hsv1", "HSV1", "NC_001806.2", "strain 17", "ncbi-nc001806-hsv1", ("UL23", "UL30", "UL5", "UL52")),
    Virus("hsv2", "HSV2", "NC_001798.2", "strain HG52", "ncbi-nc001798-hsv2", ("UL23", "UL30", "UL5", "UL52")),
    Virus("vzv", "VZV", "NC_001348.1", "strain Dumas", "ncbi-nc001348-vzv", ("ORF36", "ORF28", "ORF55")),
)  # fmt: skip
DRUGS = {
    "Aciclovir": "aciclovir",
    "Penciclovir": "penciclovir",
    "Foscarnet": "foscarnet",
    "Cidofovir": "cidofovir",
    "Brivudine": "brivudine",
    "Amenamevir": "amenamevir",
}
NOT_IMPORTED = (
    "Ganciclovir",
    "Brincidofovir",
    "Letermovir",
    "Tomeglovir",
    "Maribavir",
    "Cyclopropavir",
    "Pritelivir",
)
FRAMESHIFT = re.compile(r"^([A-Z])(\d+)frameshift\*?$")
STOP_AFTER = re.compile(
    r"^([A-Z])(\d+)([A-Z])\*$"
)  # G59W*: a substitution written with a stop mark
DELETION_NAMED = re.compile(r"^(?:del([A-Z])(\d+)|([A-Z])del(\d+)|([A-Z])(\d+)del)$")


def read_reference(folder: Path, virus: Virus) -> tuple[dict[str, hcmv.Gene], int]:
    lines = (folder / f"{virus.accession}.fasta").read_text().splitlines()
    genome = "".join(line.strip() for line in lines if not line.startswith(">")).upper()
    parts: dict[str, list[tuple[int, int, str]]] = {}
    for line in (folder / f"{virus.accession}.gff3").read_text().splitlines():
        cols = line.split("\t")
        if len(cols) < 9 or cols[2] != "CDS":
            continue
        match = re.search(r"(?:^|;)gene=([^;]+)", cols[8])
        if match and match.group(1) in virus.genes:
            parts.setdefault(match.group(1), []).append((int(cols[3]), int(cols[4]), cols[6]))
    genes = {}
    for name in virus.genes:
        strand = parts[name][0][2]
        exons = sorted(set((s, e) for s, e, _ in parts[name]))
        if strand == "-":
            exons.reverse()
        pieces = [genome[s - 1 : e] for s, e in exons]
        cds = (
            "".join(pieces)
            if strand == "+"
            else "".join(str(Seq(p).reverse_complement()) for p in pieces)
        )
        gene = hcmv.Gene(name, strand, tuple(exons), cds)
        if not (len(cds) % 3 == 0 and cds.startswith("ATG") and gene.protein.endswith("*")):
            raise SystemExit(f"{virus.key} {name}: the annotated CDS does not translate cleanly")
        if "*" in gene.protein[:-1]:
            raise SystemExit(f"{virus.key} {name}: internal stop codon")
        genes[name] = gene
    return genes, len(genome)


def write_reference(virus: Virus, genes: dict[str, hcmv.Gene], length: int, out: Path) -> None:
    lines = [
        f"# Coding sequences of the {virus.db_name} resistance genes in {virus.strain}, NCBI RefSeq",
        f"# {virus.accession} (public domain), as shipped by HerpesDRG (github.com/ojcharles/herpesdrg,",
        "# inst/ref/, MIT), extracted by tools/import_herpesdrg_alpha.py from its FASTA and GFF3.",
        "# exons: 1-based inclusive genome coordinates in coding order; cds: in coding orientation.",
        f"accession: {virus.accession}",
        f"genome_length: {length}",
        f"citations: [{virus.source}]",
        "genes:",
    ]
    for gene in genes.values():
        exons = ", ".join(f"[{s}, {e}]" for s, e in gene.exons)
        lines += [
            f"  {gene.name}:",
            f"    strand: '{gene.strand}'",
            f"    exons: [{exons}]",
            f"    cds: {gene.cds}",
        ]
    (out / "reference.yaml").write_text("\n".join(lines) + "\n")


def normalise_change(text: str) -> str:
    """The notations HerpesDRG uses for these viruses, in the HCMV tool's forms."""
    text = text.strip()
    if m := FRAMESHIFT.match(text):
        return f"fs{m.group(2)}:{m.group(1)}"
    if m := STOP_AFTER.match(text):
        return f"{m.group(1)}{m.group(2)}{m.group(3)}"
    if m := DELETION_NAMED.match(text):
        ref = m.group(1) or m.group(3) or m.group(5)
        pos = m.group(2) or m.group(4) or m.group(6)
        return f"{ref}{pos}del1"
    return text


def parse_change(gene: hcmv.Gene, text: str) -> str:
    normal = normalise_change(text)
    if normal.startswith("fs"):
        position, _, ref = normal[2:].partition(":")
        if gene.protein[int(position) - 1] != ref:
            raise ValueError(
                f"{gene.name} residue {position} is {gene.protein[int(position) - 1]}, not {ref}"
            )
        return f"fs{position}"
    try:
        return hcmv.parse_change(gene, normal)
    except ValueError as error:
        raise ValueError(str(error).replace(" in Merlin", " in the reference")) from None


def convert(
    rows: list[dict[str, str]], virus: Virus, genes: dict[str, hcmv.Gene]
) -> tuple[list[dict[str, str]], dict[str, dict[str, str]], list[str]]:
    out: list[dict[str, str]] = []
    studies: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    aliases = (
        {"TK": "UL23", "POL": "UL30"} if virus.key != "vzv" else {"TK": "ORF36", "POL": "ORF28"}
    )
    for row in rows:
        if row["virus"] != virus.db_name or row["status"] != "A":
            continue
        where = f"mutation_id {row['mutation_id']}"
        gene = genes.get(row["gene"].strip())
        if gene is None:
            problems.append(
                f"{where}: gene {row['gene']!r} is not a cmvcds resistance gene; skipped"
            )
            continue
        co_name = row["co_gene"].strip()
        co_name = aliases.get(co_name.upper(), co_name)
        try:
            changes = [
                f"{gene.name}:{parse_change(gene, c)}" for c in hcmv.split_changes(row["aa_change"])
            ]
            co_gene = genes.get(co_name) if co_name else None
            if co_name and co_gene is None:
                raise ValueError(f"co-mutation gene {row['co_gene']!r} unknown")
            co = (
                [
                    f"{co_gene.name}:{parse_change(co_gene, c)}"
                    for c in hcmv.split_changes(row["co_aa"])
                ]
                if co_gene
                else []
            )
        except (ValueError, IndexError) as error:
            problems.append(
                f"{where} ({row['gene']} {row['aa_change']} + {row['co_gene']} {row['co_aa']}): "
                f"{error}; skipped"
            )
            continue
        if not changes:
            problems.append(f"{where}: no amino-acid change; skipped")
            continue
        doi = hcmv.normalise_doi(row["ref_doi"])
        if doi is None:
            problems.append(f"{where}: no readable DOI in {row['ref_doi']!r}; kept without DOI")
        else:
            studies.setdefault(
                doi,
                {
                    "doi": doi,
                    "title": " ".join(row["ref_title"].split()),
                    "url": row["ref_link"].strip(),
                },
            )
        evidence = hcmv.EVIDENCE.get(row["strain_generation"].strip().lower(), "unspecified")
        if evidence == "unspecified":
            problems.append(
                f"{where}: strain generation {row['strain_generation']!r} unknown; evidence 'unspecified'"
            )
        for column in NOT_IMPORTED:
            if row[column].strip():
                problems.append(
                    f"{where}: {column} {row[column]!r} not imported (not reported for {virus.db_name})"
                )
        for column, drug in DRUGS.items():
            cell = row[column].strip()
            if not cell:
                continue
            try:
                phenotype, fold = hcmv.parse_fold_change(cell)
            except ValueError as error:
                problems.append(f"{where}: {column}: {error}; skipped")
                continue
            out.append(
                {
                    "id": f"hdrg{row['mutation_id']}-{drug}",
                    "gene": gene.name,
                    "mutation": changes[0],
                    "drug": drug,
                    "phenotype": phenotype,
                    "fold_change": fold,
                    "evidence": evidence,
                    "assay": hcmv.ASSAYS.get(
                        row["test_method"].strip().lower(), row["test_method"].strip()
                    ),
                    "strain": row["genotype"].strip(),
                    "co_mutations": ";".join(changes[1:] + co),
                    "doi": doi or "",
                    "added": hcmv.iso_date(row["created_date"]),
                    "citations": "charles2024-herpesdrg;herpesdrg-db-2026q2",
                    "note": " ".join(row["note"].split()),
                }
            )
    return out, studies, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=hcmv.SHARED_DATA / "herpesdrg-db")
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with (args.db / "herpesdrg-db.tsv").open(newline="", encoding="utf-8") as handle:
        source_rows = list(csv.DictReader(handle, delimiter="\t"))
    for virus in VIRUSES:
        genes, length = read_reference(args.reference, virus)
        rows, studies, problems = convert(source_rows, virus, genes)
        out = args.out / virus.key
        out.mkdir(parents=True, exist_ok=True)
        write_reference(virus, genes, length, out)
        with (out / "mutations.csv").open("w", newline="", encoding="utf-8") as handle:
            handle.write(
                f"# {virus.db_name} resistance phenotypes, one row per mutation x drug, imported from\n"
                "# HerpesDRG-DB 2026Q2 (MIT licence: see ../HERPESDRG-LICENSE) by\n"
                "# tools/import_herpesdrg_alpha.py. Do not edit by hand: change the tool and re-run it.\n"
            )
            writer = csv.DictWriter(handle, hcmv.COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        with (out / "studies.csv").open("w", newline="", encoding="utf-8") as handle:
            handle.write(
                f"# The studies cited by {virus.key}/mutations.csv (HerpesDRG-DB 2026Q2, MIT licence).\n"
            )
            writer = csv.DictWriter(
                handle, ("doi", "title", "url", "citations"), lineterminator="\n"
            )
            writer.writeheader()
            for study in sorted(studies.values(), key=lambda s: s["doi"]):
                writer.writerow({**study, "citations": "herpesdrg-db-2026q2"})
        report = [
            f"HerpesDRG-DB import ({virus.db_name}): {len(rows)} mutation x drug rows, "
            f"{len(studies)} studies, {len(problems)} problems",
            *problems,
        ]
        (out / "IMPORT-REPORT.txt").write_text("\n".join(report) + "\n")
        print(report[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
