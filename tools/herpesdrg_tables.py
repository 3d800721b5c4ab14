"""What the two HerpesDRG-DB importers share: ``tools/import_herpesdrg.py`` (HCMV) and
``tools/import_herpesdrg_alpha.py`` (HSV-1, HSV-2, VZV).

- ``read_genes``/``write_reference``: the coding sequences of named genes read from a RefSeq
  FASTA + GFF3 (exons in coding order, checked to translate cleanly), written as
  ``reference.yaml``;
- ``parse_change``: one amino-acid change checked against the reference protein (a deletion
  written at its 3'-most position, the HGVS rule);
- ``convert``: the database rows of one virus (status A) into long-format rows, one per
  mutation × drug, with the studies they cite and every row or cell not imported and why;
- ``write_tables``: ``mutations.csv`` and ``studies.csv``.

What differs between the importers (the virus, its drug columns, how its notations read) is a
``Selection``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from Bio.Seq import Seq

from cmvcds.engine.resistance.mutations import Change, shift_3prime

#: ../shared/data beside the repository (the HerpesDRG table and the Merlin reference).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
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
NUMBER = r"\d+(?:\.\d+)?"
SUBSTITUTION = re.compile(r"^([A-Z])(\d+)([A-Z*])$")
DELETION = re.compile(r"^del(\d+)(?:-(\d+))?$")
DELETION_COUNT = re.compile(r"^([A-Z])(\d+)del(\d+)$")  # D981del2: two residues from 981

#: The deletions ``parse_change`` moved to their 3'-most position (for the import report).
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


def read_genes(
    folder: Path, accession: str, names: Sequence[str], label: str = ""
) -> tuple[dict[str, Gene], int]:
    """The genes ``names`` of ``folder/<accession>.fasta`` + ``.gff3``, and the genome's length;
    ``label`` starts the message of a gene that does not translate cleanly."""
    lines = (folder / f"{accession}.fasta").read_text().splitlines()
    genome = "".join(line.strip() for line in lines if not line.startswith(">")).upper()
    parts: dict[str, list[tuple[int, int, str]]] = {}
    for line in (folder / f"{accession}.gff3").read_text().splitlines():
        cols = line.split("\t")
        if len(cols) < 9 or cols[2] != "CDS":
            continue
        match = re.search(r"(?:^|;)gene=([^;]+)", cols[8])
        if match and match.group(1) in names:
            parts.setdefault(match.group(1), []).append((int(cols[3]), int(cols[4]), cols[6]))
    genes = {}
    for name in names:
        strand = parts[name][0][2]
        exons = sorted({(s, e) for s, e, _ in parts[name]})
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
            raise SystemExit(f"{label}{name}: the annotated CDS does not translate cleanly")
        if "*" in gene.protein[:-1]:
            raise SystemExit(f"{label}{name}: internal stop codon")
        genes[name] = gene
    return genes, len(genome)


def write_reference(
    out: Path,
    comment: Sequence[str],
    accession: str,
    length: int,
    source: str,
    genes: Mapping[str, Gene],
) -> None:
    """``out/reference.yaml``: the ``comment`` lines, then the accession and the genes."""
    lines = [
        *comment,
        f"accession: {accession}",
        f"genome_length: {length}",
        f"citations: [{source}]",
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


@dataclass(frozen=True)
class Selection:
    """What one importer takes from the database and how it reads it."""

    virus: str  # the ``virus`` column
    drugs: Mapping[str, str]  # drug column -> INN used by cmvcds
    not_imported: tuple[str, ...]  # drug columns reported when filled, never imported
    not_imported_why: str  # said of such a cell in the report
    parse_change: Callable[[Gene, str], str]
    strains: Mapping[str, str] = field(default_factory=dict)  # lower-case genotype -> name
    co_genes: Mapping[str, str] = field(default_factory=dict)  # upper-case alias -> gene
    link_of_missing_doi: bool = False  # the report names the link of a row without a DOI


def convert(
    rows: Iterable[dict[str, str]], selection: Selection, genes: Mapping[str, Gene]
) -> tuple[list[dict[str, str]], dict[str, dict[str, str]], list[str]]:
    """The long-format rows, the studies by DOI and the report's problems (source order)."""
    out: list[dict[str, str]] = []
    studies: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for row in rows:
        if row["virus"] != selection.virus or row["status"] != "A":
            continue
        where = f"mutation_id {row['mutation_id']}"
        gene = genes.get(row["gene"].strip())
        if gene is None:
            problems.append(
                f"{where}: gene {row['gene']!r} is not a cmvcds resistance gene; skipped"
            )
            continue
        co_name = row["co_gene"].strip()
        co_name = selection.co_genes.get(co_name.upper(), co_name)
        try:
            changes = [
                f"{gene.name}:{selection.parse_change(gene, c)}"
                for c in split_changes(row["aa_change"])
            ]
            co_gene = genes.get(co_name) if co_name else None
            if co_name and co_gene is None:
                raise ValueError(f"co-mutation gene {row['co_gene']!r} unknown")
            co = (
                [
                    f"{co_gene.name}:{selection.parse_change(co_gene, c)}"
                    for c in split_changes(row["co_aa"])
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
        doi = normalise_doi(row["ref_doi"])
        if doi is None:
            link = f" (link {row['ref_link']!r})" if selection.link_of_missing_doi else ""
            problems.append(f"{where}: no readable DOI in {row['ref_doi']!r}{link}; kept without DOI")
        else:
            studies.setdefault(
                doi,
                {
                    "doi": doi,
                    "title": " ".join(row["ref_title"].split()),
                    "url": row["ref_link"].strip(),
                },
            )
        evidence = EVIDENCE.get(row["strain_generation"].strip().lower(), "unspecified")
        if evidence == "unspecified":
            problems.append(
                f"{where}: strain generation {row['strain_generation']!r} unknown; evidence 'unspecified'"
            )
        for column in selection.not_imported:
            if row[column].strip():
                problems.append(
                    f"{where}: {column} {row[column]!r} not imported ({selection.not_imported_why})"
                )
        genotype = row["genotype"].strip()
        for column, drug in selection.drugs.items():
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
                    "assay": ASSAYS.get(
                        row["test_method"].strip().lower(), row["test_method"].strip()
                    ),
                    "strain": selection.strains.get(genotype.lower(), genotype),
                    "co_mutations": ";".join(changes[1:] + co),
                    "doi": doi or "",
                    "added": iso_date(row["created_date"]),
                    "citations": "charles2024-herpesdrg;herpesdrg-db-2026q2",
                    "note": " ".join(row["note"].split()),
                }
            )
    return out, studies, problems


def write_tables(
    out: Path,
    rows: Iterable[dict[str, str]],
    studies: Mapping[str, dict[str, str]],
    mutations_comment: str,
    studies_comment: str,
) -> None:
    """``out/mutations.csv`` and ``out/studies.csv`` (studies by DOI), each under its comment."""
    with (out / "mutations.csv").open("w", newline="", encoding="utf-8") as handle:
        handle.write(mutations_comment)
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with (out / "studies.csv").open("w", newline="", encoding="utf-8") as handle:
        handle.write(studies_comment)
        writer = csv.DictWriter(handle, ("doi", "title", "url", "citations"), lineterminator="\n")
        writer.writeheader()
        for study in sorted(studies.values(), key=lambda s: s["doi"]):
            writer.writerow({**study, "citations": "herpesdrg-db-2026q2"})
