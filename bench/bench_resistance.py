"""Resistance report figures (issue 7): a 2,500-record VCF and a whole-genome FASTA.

    .venv/bin/python bench/bench_resistance.py [--inputs 1000] [--fasta-inputs 1000]

Inputs are generated from the Merlin genome (``/work/shared/data/reference`` when present, else a
stand-in with the resistance genes at their coordinates): each VCF has 2,500 records over the
genome (SNVs with random allele frequencies, ~10% in the resistance genes, plus in-frame
deletions); each whole-genome FASTA carries ~1% random substitutions and a few resistance
mutations. Figures: the first report (cold: builds the indexes), then per input after warm-up,
over many inputs in one process. Targets: < 50 ms per VCF, < 200 ms per FASTA.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

from cmvcds.engine.resistance import interpret_fasta, interpret_vcf
from cmvcds.engine.resistance.genes import ReferenceGenes, reference_genes, reverse_complement
from cmvcds.knowledge import load_knowledge

REFERENCE = Path("/work/shared/data/reference/NC_006273.2.fasta")
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def merlin(genes: ReferenceGenes) -> str:
    if REFERENCE.is_file():
        lines = REFERENCE.read_text().splitlines()
        return "".join(line.strip() for line in lines if not line.startswith(">")).upper()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.resistance.conftest import genome

    return genome(genes)


def gene_positions(genes: ReferenceGenes) -> list[int]:
    positions = []
    for model in genes.genes.values():
        for start, end in model.exons:
            positions.extend(range(start, end + 1))
    return positions


def make_vcf(rng: random.Random, reference: str, in_genes: list[int], records: int = 2500) -> str:
    chosen: set[int] = set()
    while len(chosen) < records:
        chosen.add(
            rng.choice(in_genes) if rng.random() < 0.1 else rng.randrange(1, len(reference) - 20)
        )
    lines = [HEADER]
    for pos in sorted(chosen):
        ref = reference[pos - 1]
        af = round(rng.choice([rng.uniform(0.01, 0.1), rng.uniform(0.1, 1.0)]), 3)
        if rng.random() < 0.02:
            lines.append(
                f"NC_006273.2\t{pos}\t.\t{reference[pos - 1 : pos + 3]}\t{ref}\t60\tPASS\tAF={af}\n"
            )
        else:
            alt = rng.choice([b for b in "ACGT" if b != ref])
            lines.append(f"NC_006273.2\t{pos}\t.\t{ref}\t{alt}\t60\tPASS\tAF={af}\n")
    return "".join(lines)


def make_genome(rng: random.Random, reference: str, genes: ReferenceGenes) -> str:
    sequence = list(reference)
    for _ in range(len(sequence) // 100):
        i = rng.randrange(len(sequence))
        sequence[i] = rng.choice([b for b in "ACGT" if b != sequence[i]])
    ul97 = genes.gene("UL97")
    start = ul97.exons[0][0] + 3 * 459  # M460V
    sequence[start - 1] = "G"
    text = "".join(sequence)
    if rng.random() < 0.5:
        text = reverse_complement(text)
    return ">genome\n" + "\n".join(text[i : i + 70] for i in range(0, len(text), 70)) + "\n"


def timed(function: object, inputs: list[str]) -> list[float]:
    times = []
    for text in inputs:
        t = time.perf_counter()
        function(text)  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return times


def describe(name: str, cold: float, times: list[float], target: float) -> str:
    mean = statistics.mean(times)
    p95 = sorted(times)[int(0.95 * len(times)) - 1]
    verdict = "OK" if mean < target else "OVER TARGET"
    return (
        f"{name}: cold {cold:.0f} ms; warm mean {mean:.1f} ms, median {statistics.median(times):.1f} ms, "
        f"p95 {p95:.1f} ms over {len(times)} inputs (total {sum(times) / 1000:.1f} s); target < {target:.0f} ms: {verdict}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--fasta-inputs", type=int, default=1000)
    args = parser.parse_args()
    knowledge = load_knowledge(os.environ.get("CMVCDS_KNOWLEDGE") or None)
    genes = reference_genes(knowledge)
    reference = merlin(genes)
    rng = random.Random(2026)
    in_genes = gene_positions(genes)
    vcfs = [make_vcf(rng, reference, in_genes) for _ in range(50)]
    genomes = [make_genome(rng, reference, genes) for _ in range(10)]

    t = time.perf_counter()
    interpret_vcf(vcfs[0], knowledge)
    cold_vcf = (time.perf_counter() - t) * 1000
    vcf_times = timed(
        lambda text: interpret_vcf(text, knowledge),
        [vcfs[i % len(vcfs)] for i in range(args.inputs)],
    )
    print(describe("VCF, 2,500 records", cold_vcf, vcf_times, 50))

    t = time.perf_counter()
    interpret_fasta(genomes[0], knowledge)
    cold_fasta = (time.perf_counter() - t) * 1000
    inputs = [genomes[i % len(genomes)] for i in range(args.fasta_inputs)]
    fasta_times = timed(lambda text: interpret_fasta(text, knowledge), inputs)
    print(describe("whole-genome FASTA (235 kb)", cold_fasta, fasta_times, 200))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
