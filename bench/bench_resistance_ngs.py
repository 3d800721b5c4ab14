"""Resistance batch of NGS VCFs (issues 18 and 20): throughput as a ratio to reading the files.

    .venv/bin/python bench/bench_resistance_ngs.py [--files 200] [--records 2500] [--rounds 3]
    .venv/bin/python bench/bench_resistance_ngs.py --a10 [--files 200] [--rounds 3]

``--a10``: the files are copies of HerpesDRG's ``HCMV_A10.vcf`` (a VarScan VCF of a clinical
sample: 2,501 records, 417 KiB; ``tests/resistance/data/herpesdrg/``, MIT), the size issue 20's
"A10-sized" refers to; each copy has its allele frequencies moved by a seeded random step (so
no two files are equal) without changing which records there are.

200 VCFs are written to a temporary folder from the Merlin genome (``shared/data/reference``),
shaped like a whole-genome freebayes/LoFreq output of a clinical sample: ``--records`` records over
the genome with freebayes-length INFO and FORMAT columns, ~5 % of them in the resistance genes,
and in those genes what a virology laboratory meets: two alleles at one position (one
multi-allelic record, or split records), two variants in one codon summing to <= 1, minority
frameshifts upstream of a majority resistance mutation, in-frame deletions, minority variants.

Both measures run in the same process, on the same files, in alternating rounds (the best round
of each is kept, so a busy machine penalises neither more): **reading** = open, read and decode
every file, and split it into lines; **batch** = what ``cmvcds resistance --batch`` does per file
(read, tell the format from the content, interpret, serialise the JSON line). The ratio batch /
reading is the figure that does not depend on the machine. Target (issue 20): >= 200 VCFs/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from cmvcds.adapters.cli.resistance import _sequence_file
from cmvcds.engine.resistance.genes import GeneModel, reference_genes, reverse_complement
from cmvcds.knowledge import load_knowledge

REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "reference"
A10 = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "resistance"
    / "data"
    / "herpesdrg"
    / "HCMV_A10.vcf"
)
HEADER = (
    "##fileformat=VCFv4.2\n##source=freebayes-like benchmark\n"
    "##contig=<ID=NC_006273.2,length=235646>\n"
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allele depths">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tsample\n"
)
INFO_TAIL = (
    "AB=0;ABP=0;AC=1;AN=1;AO={ao};CIGAR=1X;DP={dp};DPB={dp};DPRA=0;EPP=3.0103;EPPR=0;GTI=0;"
    "LEN=1;MEANALT=1;MQM=60;MQMR=60;NS=1;NUMALT=1;ODDS=4.76;PAIRED=1;PAIREDR=1;PAO=0;PQA=0;"
    "PQR=0;PRO=0;QA=1200;QR=900;RO={ro};RPL=10;RPP=3.01;RPPR=3.01;RPR=12;RUN=1;SAF=11;SAP=3.01;"
    "SAR=11;SRF=9;SRP=3.01;SRR=9;TYPE=snp"
)


def merlin() -> str:
    lines = (REFERENCE / "NC_006273.2.fasta").read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">")).upper()


def record(pos: int, ref: str, alts: list[str], afs: list[float]) -> str:
    dp = 1000
    ao = [round(f * dp) for f in afs]
    info = f"AF={','.join(str(round(f, 4)) for f in afs)};" + INFO_TAIL.format(
        ao=",".join(map(str, ao)), dp=dp, ro=dp - sum(ao)
    )
    sample = f"1:{dp - sum(ao)},{','.join(map(str, ao))}"
    return f"NC_006273.2\t{pos}\t.\t{ref}\t{','.join(alts)}\t60\t.\t{info}\tGT:AD\t{sample}\n"


def genome_position(gene: GeneModel, index: int) -> int:
    offset = 0
    for start, end in gene.exons:
        if index < offset + end - start + 1:
            k = index - offset
            return start + k if gene.strand == "+" else end - k
        offset += end - start + 1
    raise IndexError(index)


def sample_vcf(rng: random.Random, genome: str, genes: dict[str, GeneModel], records: int) -> str:
    """One sample: background variants over the genome, and the NGS shapes in the genes."""
    lines: dict[int, str] = {}
    ul97, ul54 = genes["UL97"], genes["UL54"]

    def snv(gene: GeneModel, residue: int, base: int, coding_alt: str, af: float) -> None:
        pos = genome_position(gene, 3 * (residue - 1) + base)
        alt = coding_alt if gene.strand == "+" else reverse_complement(coding_alt)
        if genome[pos - 1] != alt:
            lines[pos] = record(pos, genome[pos - 1], [alt], [af])

    kind = rng.randrange(5)
    if kind == 0:  # two alleles at one position, multi-allelic
        pos = genome_position(ul97, 3 * 459)
        lines[pos] = record(pos, genome[pos - 1], ["G", "C"], [0.6, 0.3])
    elif kind == 1:  # A594T + A594V, a mixture inside one codon
        snv(ul97, 594, 0, "A", 0.45)
        snv(ul97, 594, 1, "T", 0.55)
    elif kind == 2:  # a minority +1 insertion upstream of M460V
        pos = genome_position(ul97, 3 * 449 + 2)
        lines[pos] = record(pos, genome[pos - 1], [genome[pos - 1] + "A"], [0.15])
        snv(ul97, 460, 0, "G", 1.0)
    elif kind == 3:  # a UL54 in-frame deletion with a minority frameshift nearby
        pos = genome_position(ul54, 3 * 981 + 2) - 6
        lines[pos] = record(pos, genome[pos - 1 : pos + 6], [genome[pos - 1]], [0.8])
        pos2 = pos + 30
        lines[pos2] = record(pos2, genome[pos2 - 1 : pos2 + 1], [genome[pos2 - 1]], [0.2])
    else:  # split records at one position
        pos = genome_position(ul97, 3 * 591)
        base = genome[pos - 1]
        others = [b for b in "ACGT" if b != base]
        lines[pos] = record(pos, base, [others[0]], [0.5])
        lines[pos + 1_000_000] = record(pos, base, [others[1]], [0.2])  # same POS, own line
    in_genes = [p for g in genes.values() for s, e in g.exons for p in range(s, e + 1, 7)]
    while len(lines) < records:
        pos = rng.choice(in_genes) if rng.random() < 0.05 else rng.randrange(1, len(genome))
        if pos in lines:
            continue
        base = genome[pos - 1]
        af = rng.choice([rng.uniform(0.01, 0.1), rng.uniform(0.1, 1.0)])
        lines[pos] = record(pos, base, [rng.choice([b for b in "ACGT" if b != base])], [af])
    return HEADER + "".join(lines[k] for k in sorted(lines, key=lambda k: k % 1_000_000))


def a10_vcf(rng: random.Random, text: str) -> str:
    """A copy of A10 whose VarScan FREQ values moved by up to 2 points (kept within 0-100 %)."""
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#"):
            out.append(line)
            continue
        cols = line.rstrip("\n").split("\t")
        keys, values = cols[8].split(":"), cols[9].split(":")
        at = keys.index("FREQ")
        freq = float(values[at].rstrip("%")) + rng.uniform(-2, 2)
        values[at] = f"{min(100.0, max(0.0, freq)):.2f}%"
        cols[9] = ":".join(values)
        out.append("\t".join(cols) + "\n")
    return "".join(out)


def read_all(paths: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds to read, decode and split every file."""
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        path.read_bytes().decode("utf-8").splitlines()
    return time.perf_counter() - wall, time.process_time() - cpu


def batch_all(paths: list[Path], knowledge: object) -> tuple[float, float]:
    """(wall, CPU) seconds for what ``--batch`` does with every file."""
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        for report in _sequence_file(path, knowledge, None, None).values():  # type: ignore[arg-type]
            json.dumps({"sample_id": str(path), **report.to_dict()})
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--records", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--a10", action="store_true", help="copies of HerpesDRG's HCMV_A10.vcf")
    args = parser.parse_args()
    knowledge = load_knowledge(os.environ.get("CMVCDS_KNOWLEDGE") or None)
    genes = dict(reference_genes(knowledge).genes)
    genome = merlin()
    rng = random.Random(18)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for n in range(args.files):
            path = Path(folder) / f"sample{n:03}.vcf"
            if args.a10:
                path.write_text(a10_vcf(rng, A10.read_text()))
            else:
                path.write_text(sample_vcf(rng, genome, genes, args.records))
            paths.append(path)
        size = sum(p.stat().st_size for p in paths)
        batch_all(paths[:5], knowledge)  # warm-up: indexes built, modules imported
        reads, batches = [], []
        for _ in range(args.rounds):
            reads.append(read_all(paths))
            batches.append(batch_all(paths, knowledge))
    load = os.getloadavg()[0]
    records = 2501 if args.a10 else args.records
    lines = [
        f"{args.files} {'A10 ' if args.a10 else ''}VCFs of {records} records ({size / args.files / 1024:.0f} KiB each, "
        f"{size / 1e6:.1f} MB), best of {args.rounds} rounds, load average {load:.1f}:"
    ]
    for k, clock in enumerate(("wall", "CPU")):
        read = min(r[k] for r in reads)
        batch = min(b[k] for b in batches)
        lines.append(
            f"  {clock:>4}: reading {read * 1000:.0f} ms ({args.files / read:,.0f} files/s); "
            f"batch {batch * 1000:.0f} ms ({args.files / batch:,.0f} VCFs/s, "
            f"{batch / args.files * 1000:.2f} ms per VCF); ratio batch / reading {batch / read:.1f}"
        )
    cpu_rate = args.files / min(b[1] for b in batches)
    lines.append(f"  target >= 200 VCFs/s (CPU): {'met' if cpu_rate >= 200 else 'NOT MET'}")
    print("\n".join(lines), file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
