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
match Merlin is reported and left out, never silently mapped. What this import shares with
``tools/import_herpesdrg_alpha.py`` is in ``tools/herpesdrg_tables.py``.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from herpesdrg_tables import (
    SHARED_DATA,
    SHIFTED,
    Gene,
    Selection,
    convert,
    parse_change,
    read_genes,
    write_reference,
    write_tables,
)

__all__ = ["DRUGS", "HCMV", "NOT_CMV_DRUGS", "Gene", "convert", "main", "stale_curations"]

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
STRAINS = {
    "towne": "Towne",
    "ad169": "AD169",
    "tb40": "TB40",
    "toledo": "Toledo",
    "mmt": "MMT",
    "clinical isolate": "clinical isolate",
    "susceptible clinical isolate": "susceptible clinical isolate",
}
HCMV = Selection(
    virus="HCMV",
    drugs=DRUGS,
    not_imported=NOT_CMV_DRUGS,
    not_imported_why="not a CMV drug in cmvcds",
    parse_change=parse_change,
    strains=STRAINS,
    link_of_missing_doi=True,
)
REFERENCE_COMMENT = (
    "# Coding sequences of the HCMV resistance genes in strain Merlin, NCBI RefSeq NC_006273.2",
    "# (public domain), extracted by tools/import_herpesdrg.py from the RefSeq FASTA and GFF3.",
    "# exons: 1-based inclusive genome coordinates in coding order; cds: in coding orientation.",
)


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
    genes, length = read_genes(args.reference, ACCESSION, GENES)
    with (args.db / "herpesdrg-db.tsv").open(newline="", encoding="utf-8") as handle:
        rows, studies, problems = convert(csv.DictReader(handle, delimiter="\t"), HCMV, genes)
    args.out.mkdir(parents=True, exist_ok=True)
    write_reference(
        args.out, REFERENCE_COMMENT, ACCESSION, length, "ncbi-nc006273-merlin", genes
    )
    write_tables(
        args.out,
        rows,
        studies,
        "# HCMV resistance phenotypes, one row per mutation x drug, imported from HerpesDRG-DB\n"
        "# 2026Q2 (MIT licence: see HERPESDRG-LICENSE) by tools/import_herpesdrg.py. Do not edit\n"
        "# by hand: change the tool and re-run it.\n",
        "# The studies cited by mutations.csv (from HerpesDRG-DB 2026Q2, MIT licence).\n",
    )
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
