"""Import the HerpesDRG mutation table into the cmvcds resistance knowledge (long format).

    .venv/bin/python tools/import_herpesdrg.py [--db DIR] [--reference DIR] [--out DIR]

Reads ``herpesdrg-db.tsv`` (one column per drug) and the Merlin reference (NC_006273.2 FASTA +
GFF3) and writes, under ``src/cmvcds/knowledge/data/resistance/``:

- ``reference.yaml``: the coding sequences of UL97, UL54, UL56, UL89, UL51 and UL27 with their
  genome coordinates and strand (exons in coding order), so that FASTA and VCF inputs can be
  interpreted without shipping the whole genome;
- ``mutations.csv``: one row per mutation × drug (HCMV rows with status A only): fold change kept
  as written (value, ``a-b`` range, ``<x``/``>x`` censored bound), phenotype (``fold_change``,
  ``resistant`` without a value, ``polymorphism``), assay, strain, evidence class, co-mutations
  when the phenotype was measured for a combination, normalised DOI;
- ``studies.csv``: one row per cited study (DOI, title, link);
- ``IMPORT-REPORT.txt``: every source row or cell that was not imported, and why, and every
  curated level (``curation.yaml``) whose superseded rows no longer match the import;
- ``HERPESDRG-LICENSE``: the MIT notice of the upstream database.

Every mutation is checked against the Merlin protein: a row whose reference residue does not
match Merlin is reported and left out, never silently mapped.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from Bio.Seq import Seq

from cmvcds.engine.resistance.mutations import Change, shift_3prime

#: ../shared/data beside the repository (the HerpesDRG table and the Merlin reference).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src/cmvcds/knowledge/data/resistance"
GENES = ("UL97", "UL54", "UL56", "UL89", "UL51", "UL27")
ACCESSION = "NC_006273.2"
DRUGS = {  # HerpesDRG column -> INN used by cmvcds
    "Ganciclovir": "ganciclovir",
    "Cidofovir": "cidofovir",
    "Foscarnet": "foscarnet",
    "Brincidofovir": "brincidofovir",
    "Letermovir": "letermovir",
    "Maribavir": "maribavir",
}
NOT_CMV_DRUGS = (
    "Aciclovir",
    "Brivudine",
    "Penciclovir",
    "Tomeglovir",
    "Cyclopropavir",
    "Amenamevir",
    "Pritelivir",
)
EVIDENCE = {
    "recombinant bac": "recombinant",
    "marker transfer": "recombinant",
    "lab derived mutant": "lab_selected",
    "lab induced strain": "lab_selected",
    "drug induced lab mutant": "lab_selected",
    "isolated strain": "clinical_isolate",
}
ASSAYS = {
    "pra": "plaque reduction (PRA)",
    "seap": "SEAP reporter",
    "pra or seap": "PRA or SEAP reporter",
    "gluc": "GLuc reporter",
    "gluc reporter assay": "GLuc reporter",
    "gfp fluorescence reduction assay": "GFP fluorescence reduction",
    "functional enzyme kinetic assay": "enzyme kinetics",
    "tk functional kinetic assay": "enzyme kinetics",
    "pcr dna hybridization assay": "DNA hybridization (PCR)",
    "pcr dna hybridization assa": "DNA hybridization (PCR)",
    "cmv antigen elisa": "CMV antigen ELISA",
}
STRAINS = {
    "towne": "Towne",
    "ad169": "AD169",
    "tb40": "TB40",
    "toledo": "Toledo",
    "mmt": "MMT",
    "clinical isolate": "clinical isolate",
    "susceptible clinical isolate": "susceptible clinical isolate",
}
NUMBER = r"\d+(?:\.\d+)?"
SUBSTITUTION = re.compile(r"^([A-Z])(\d+)([A-Z*])$")
DELETION = re.compile(r"^del(\d+)(?:-(\d+))?$")
DELETION_COUNT = re.compile(r"^([A-Z])(\d+)del(\d+)$")  # D981del2: two residues from 981


SHIFTED: list[str] = []


@dataclass(frozen=True)
class Gene:
    name: str
    strand: str
    exons: tuple[tuple[int, int], ...]  # 1-based inclusive, in coding order
    cds: str

    @property
    def protein(self) -> str:
        return str(Seq(self.cds).translate())


def read_reference(folder: Path) -> dict[str, Gene]:
    lines = (folder / f"{ACCESSION}.fasta").read_text().splitlines()
    genome = "".join(line.strip() for line in lines if not line.startswith(">")).upper()
    parts: dict[str, list[tuple[int, int, str]]] = {}
    for line in (folder / f"{ACCESSION}.gff3").read_text().splitlines():
        cols = line.split("\t")
        if len(cols) < 9 or cols[2] != "CDS":
            continue
        match = re.search(r"(?:^|;)gene=([^;]+)", cols[8])
        if match and match.group(1) in GENES:
            parts.setdefault(match.group(1), []).append((int(cols[3]), int(cols[4]), cols[6]))
    genes = {}
    for name in GENES:
        strand = parts[name][0][2]
        exons = sorted((s, e) for s, e, _ in parts[name])
        if strand == "-":
            exons.reverse()
        pieces = [genome[s - 1 : e] for s, e in exons]
        cds = (
            "".join(pieces)
            if strand == "+"
            else "".join(str(Seq(p).reverse_complement()) for p in pieces)
        )
        gene = Gene(name, strand, tuple(exons), cds)
        if not (len(cds) % 3 == 0 and cds.startswith("ATG") and gene.protein.endswith("*")):
            raise SystemExit(f"{name}: the annotated CDS does not translate cleanly")
        genes[name] = gene
    return genes


def write_reference(genes: dict[str, Gene], out: Path) -> None:
    lines = [
        "# Coding sequences of the HCMV resistance genes in strain Merlin, NCBI RefSeq NC_006273.2",
        "# (public domain), extracted by tools/import_herpesdrg.py from the RefSeq FASTA and GFF3.",
        "# exons: 1-based inclusive genome coordinates in coding order; cds: in coding orientation.",
        f"accession: {ACCESSION}",
        "genome_length: 235646",
        "citations: [ncbi-nc006273-merlin]",
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


def normalise_doi(raw: str) -> str | None:
    doi = raw.strip()
    doi = re.sub(r"^(https?://)?(dx\.)?(doi\.org/)?", "", doi, flags=re.I)
    doi = re.sub(r"^doi:\s*", "", doi, flags=re.I)
    return doi.lower() if re.match(r"^10\.\d{4,9}/\S+$", doi) else None


def parse_change(gene: Gene, text: str) -> str:
    """``M460V`` -> ``M460V``; ``del590-593``/``D981del2`` -> ``del590-593``; checks Merlin."""
    text = text.strip()
    protein = gene.protein
    if m := SUBSTITUTION.match(text):
        ref, pos, alt = m.group(1), int(m.group(2)), m.group(3)
        if pos > len(protein) - 1 or protein[pos - 1] != ref:
            found = protein[pos - 1] if pos <= len(protein) else "beyond the end"
            raise ValueError(f"{gene.name} residue {pos} is {found} in Merlin, not {ref}")
        if ref == alt:
            raise ValueError("not a change")
        return f"{ref}{pos}{alt}"
    if m := DELETION.match(text):
        start = int(m.group(1))
        end = int(m.group(2) or start)
    elif m := DELETION_COUNT.match(text):
        start = int(m.group(2))
        end = start + int(m.group(3)) - 1
        if protein[start - 1] != m.group(1):
            raise ValueError(f"{gene.name} residue {start} is {protein[start - 1]} in Merlin")
    else:
        raise ValueError(f"unrecognised amino-acid change {text!r}")
    if not 1 <= start <= end < len(protein):
        raise ValueError(f"deletion {start}-{end} outside {gene.name}")
    shifted = shift_3prime(Change(gene.name, "del", start, end), protein[:-1])
    if shifted.start != start:
        SHIFTED.append(f"{gene.name} {text}: written at its 3'-most position as {shifted.id}")
    return shifted.id.partition(":")[2]


def split_changes(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", text) if part.strip()]


def parse_fold_change(raw: str) -> tuple[str, str]:
    """(phenotype, fold_change text) for one drug cell."""
    value = raw.strip().replace(" ", "")
    if re.fullmatch(NUMBER, value):
        return "fold_change", value
    if re.fullmatch(rf"{NUMBER}-{NUMBER}", value):
        low, high = (float(v) for v in value.split("-"))
        if low >= high:
            raise ValueError(f"range {value!r} is not increasing")
        return "fold_change", value
    if re.fullmatch(rf"[<>]{NUMBER}", value):
        return "fold_change", value
    if value.lower() == "resistant":
        return "resistant", ""
    if value.lower() == "polymorphism":
        return "polymorphism", ""
    raise ValueError(f"unreadable fold change {raw!r}")


def iso_date(raw: str) -> str:
    try:
        return datetime.strptime(raw.strip(), "%d/%m/%Y").date().isoformat()
    except ValueError:
        return ""


COLUMNS = (
    "id",
    "gene",
    "mutation",
    "drug",
    "phenotype",
    "fold_change",
    "evidence",
    "assay",
    "strain",
    "co_mutations",
    "doi",
    "added",
    "citations",
    "note",
)


def convert(
    rows: Iterable[dict[str, str]], genes: dict[str, Gene]
) -> tuple[list[dict[str, str]], dict[str, dict[str, str]], list[str]]:
    out: list[dict[str, str]] = []
    studies: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for row in rows:
        where = f"mutation_id {row['mutation_id']}"
        if row["virus"] != "HCMV" or row["status"] != "A":
            continue
        gene = genes.get(row["gene"].strip())
        if gene is None:
            problems.append(
                f"{where}: gene {row['gene']!r} is not a cmvcds resistance gene; skipped"
            )
            continue
        try:
            changes = [
                f"{gene.name}:{parse_change(gene, c)}" for c in split_changes(row["aa_change"])
            ]
            co_gene = genes.get(row["co_gene"].strip()) if row["co_gene"].strip() else None
            if row["co_gene"].strip() and co_gene is None:
                raise ValueError(f"co-mutation gene {row['co_gene']!r} unknown")
            co = (
                [f"{co_gene.name}:{parse_change(co_gene, c)}" for c in split_changes(row["co_aa"])]
                if co_gene
                else []
            )
        except ValueError as error:
            problems.append(
                f"{where} ({row['gene']} {row['aa_change']} + {row['co_gene']} {row['co_aa']}): {error}; skipped"
            )
            continue
        if not changes:
            problems.append(f"{where}: no amino-acid change; skipped")
            continue
        doi = normalise_doi(row["ref_doi"])
        if doi is None:
            problems.append(
                f"{where}: no readable DOI in {row['ref_doi']!r} (link {row['ref_link']!r}); kept without DOI"
            )
        else:
            studies.setdefault(
                doi,
                {
                    "doi": doi,
                    "title": " ".join(row["ref_title"].split()),
                    "url": row["ref_link"].strip(),
                },
            )
        generation = row["strain_generation"].strip().lower()
        evidence = EVIDENCE.get(generation, "unspecified")
        if evidence == "unspecified":
            problems.append(
                f"{where}: strain generation {row['strain_generation']!r} unknown; evidence 'unspecified'"
            )
        assay = ASSAYS.get(row["test_method"].strip().lower(), row["test_method"].strip())
        for column in NOT_CMV_DRUGS:
            if row[column].strip():
                problems.append(
                    f"{where}: {column} {row[column]!r} not imported (not a CMV drug in cmvcds)"
                )
        for column, drug in DRUGS.items():
            cell = row[column].strip()
            if not cell:
                continue
            try:
                phenotype, fold = parse_fold_change(cell)
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
                    "assay": assay,
                    "strain": STRAINS.get(row["genotype"].strip().lower(), row["genotype"].strip()),
                    "co_mutations": ";".join(changes[1:] + co),
                    "doi": doi or "",
                    "added": iso_date(row["created_date"]),
                    "citations": "charles2024-herpesdrg;herpesdrg-db-2026q2",
                    "note": " ".join(row["note"].split()),
                }
            )
    return out, studies, problems


def stale_curations(rows: Iterable[dict[str, str]], curation: Path) -> list[str]:
    """The curated calls whose ``supersedes`` differ from the imported rows of their pair."""
    if not curation.is_file():
        return []
    ids: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        if not row["co_mutations"]:
            ids.setdefault((row["mutation"], row["drug"]), set()).add(row["id"])
    stale = []
    for item in (yaml.safe_load(curation.read_text(encoding="utf-8")) or {}).get("calls", []):
        found = ids.get((item["mutation"], item["drug"]), set())
        if found != set(item["supersedes"]):
            stale.append(
                f"curation {item['id']}: supersedes {sorted(item['supersedes'])}, imported rows "
                f"of {item['mutation']} x {item['drug']} are {sorted(found)}: review it"
            )
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=SHARED_DATA / "herpesdrg-db")
    parser.add_argument("--reference", type=Path, default=SHARED_DATA / "reference")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    genes = read_reference(args.reference)
    with (args.db / "herpesdrg-db.tsv").open(newline="", encoding="utf-8") as handle:
        rows, studies, problems = convert(csv.DictReader(handle, delimiter="\t"), genes)
    args.out.mkdir(parents=True, exist_ok=True)
    write_reference(genes, args.out)
    header = (
        "# HCMV resistance phenotypes, one row per mutation x drug, imported from HerpesDRG-DB\n"
        "# 2026Q2 (MIT licence: see HERPESDRG-LICENSE) by tools/import_herpesdrg.py. Do not edit\n"
        "# by hand: change the tool and re-run it.\n"
    )
    with (args.out / "mutations.csv").open("w", newline="", encoding="utf-8") as handle:
        handle.write(header)
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with (args.out / "studies.csv").open("w", newline="", encoding="utf-8") as handle:
        handle.write(
            "# The studies cited by mutations.csv (from HerpesDRG-DB 2026Q2, MIT licence).\n"
        )
        writer = csv.DictWriter(handle, ("doi", "title", "url", "citations"), lineterminator="\n")
        writer.writeheader()
        for study in sorted(studies.values(), key=lambda s: s["doi"]):
            writer.writerow({**study, "citations": "herpesdrg-db-2026q2"})
    shutil.copyfile(args.db / "LICENSE", args.out / "HERPESDRG-LICENSE")
    curation = args.out / "curation.yaml"
    problems += stale_curations(rows, curation if curation.is_file() else OUT / "curation.yaml")
    report = [
        f"HerpesDRG-DB import: {len(rows)} mutation x drug rows, {len(studies)} studies, "
        f"{len(problems)} problems",
        *problems,
        "",
        "Deletions normalised (HGVS 3' rule):",
        *sorted(set(SHIFTED)),
    ]
    (args.out / "IMPORT-REPORT.txt").write_text("\n".join(report) + "\n")
    print(report[0])
    for line in problems:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
