"""Quality of `cmvcds ask` on the labelled question set (tests/answers/labelled.yaml, issue 19).

    .venv/bin/python bench/bench_ask_quality.py [--failures]

Prints top-1 "In short" correct, required statements present, answers free of forbidden
statements, language and audience recognised, and off-topic refused (targets: top-1 >= 90 %,
required >= 95 %, off-topic 100 %).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.answers.labelled import score

from cmvcds.adapters.answer_index import build_engine
from cmvcds.knowledge import load_knowledge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--failures", action="store_true", help="list the questions that fail")
    args = parser.parse_args()
    engine = build_engine(load_knowledge())
    result = score(lambda q, a: engine.ask(q, audience=a))
    for name, value in result.figures().items():
        print(f"{name:>20}: {value:.1%}" if isinstance(value, float) else f"{name:>20}: {value}")
    if args.failures:
        for o in result.outcomes:
            if not (o.top_ok and o.required_ok):
                print(
                    f"- {o.question}\n    top={o.summary_id} ok={o.top_ok} must={o.must_found}/{o.must_total}"
                    f" forbidden={o.forbidden[:4]} lang={o.language_ok}"
                )


if __name__ == "__main__":
    main()
