"""Import the HSV-1, HSV-2 and VZV rows of HerpesDRG-DB into the cmvcds resistance knowledge.

    .venv/bin/python tools/import_herpesdrg_alpha.py --reference DIR [--db DIR] [--out DIR]

The HCMV import (``tools/import_herpesdrg.py``) and this one share the reference reading and the
row conversion (``tools/herpesdrg_tables.py``); this one adds, per virus, the reference genome of HerpesDRG (``DIR/<accession>.fasta`` and ``.gff3``, NCBI
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from herpesdrg_tables import (
    SHARED_DATA,
    Gene,
    Selection,
    convert,
    read_genes,
    write_reference,
    write_tables,
)
from herpesdrg_tables import parse_change as parse_merlin_form  # HCMV forms, "in Merlin"

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


def parse_change(gene: Gene, text: str) -> str:
    normal = normalise_change(text)
    if normal.startswith("fs"):
        position, _, ref = normal[2:].partition(":")
        if gene.protein[int(position) - 1] != ref:
            raise ValueError(
                f"{gene.name} residue {position} is {gene.protein[int(position) - 1]}, not {ref}"
            )
        return f"fs{position}"
    try:
        return parse_merlin_form(gene, normal)
    except ValueError as error:
        raise ValueError(str(error).replace(" in Merlin", " in the reference")) from None


def selection(virus: Virus) -> Selection:
    """What this import takes of ``virus`` (its TK and POL aliases name its genes)."""
    tk, pol = ("ORF36", "ORF28") if virus.key == "vzv" else ("UL23", "UL30")
    return Selection(
        virus=virus.db_name,
        drugs=DRUGS,
        not_imported=NOT_IMPORTED,
        not_imported_why=f"not reported for {virus.db_name}",
        parse_change=parse_change,
        co_genes={"TK": tk, "POL": pol},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=SHARED_DATA / "herpesdrg-db")
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with (args.db / "herpesdrg-db.tsv").open(newline="", encoding="utf-8") as handle:
        source_rows = list(csv.DictReader(handle, delimiter="\t"))
    for virus in VIRUSES:
        genes, length = read_genes(args.reference, virus.accession, virus.genes, f"{virus.key} ")
        rows, studies, problems = convert(source_rows, selection(virus), genes)
        out = args.out / virus.key
        out.mkdir(parents=True, exist_ok=True)
        comment = (
            f"# Coding sequences of the {virus.db_name} resistance genes in {virus.strain}, NCBI RefSeq",
            f"# {virus.accession} (public domain), as shipped by HerpesDRG (github.com/ojcharles/herpesdrg,",
            "# inst/ref/, MIT), extracted by tools/import_herpesdrg_alpha.py from its FASTA and GFF3.",
            "# exons: 1-based inclusive genome coordinates in coding order; cds: in coding orientation.",
        )
        write_reference(out, comment, virus.accession, length, virus.source, genes)
        write_tables(
            out,
            rows,
            studies,
            f"# {virus.db_name} resistance phenotypes, one row per mutation x drug, imported from\n"
            "# HerpesDRG-DB 2026Q2 (MIT licence: see ../HERPESDRG-LICENSE) by\n"
            "# tools/import_herpesdrg_alpha.py. Do not edit by hand: change the tool and re-run it.\n",
            f"# The studies cited by {virus.key}/mutations.csv (HerpesDRG-DB 2026Q2, MIT licence).\n",
        )
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
