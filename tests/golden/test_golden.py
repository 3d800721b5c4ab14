"""Golden comparison: the full JSON of every recorded assessment is unchanged (issue 20 item 2).

``golden.ndjson.gz`` was written by ``tools/golden_record.py`` from the code before the engine
was optimised: every example (with and without the example site settings), every case the
clinical tests assess (outside vignettes, scenarios, monitoring, dosing, FHIR, CDS Hooks, API…)
and 2,000 generated benchmark cases. Each is parsed and assessed again here and its JSON text
compared, character for character (values, number types, key and list order); only the knowledge
stamp is left out. A difference is a changed answer: fix the code, or, when the change is meant
(a clinical correction), run the tool again and say so in the commit.
"""

from __future__ import annotations

import difflib
import gzip
import json
from pathlib import Path
from typing import Any

from cmvcds.knowledge import Knowledge
from tests.golden.replay import assessment_text

GOLDEN = Path(__file__).with_name("golden.ndjson.gz")


def _records() -> list[dict[str, Any]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _difference(name: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        json.dumps(json.loads(before), indent=1).splitlines(),
        json.dumps(json.loads(after), indent=1).splitlines(),
        "golden",
        "now",
        n=1,
        lineterm="",
    )
    return f"{name}:\n" + "\n".join(list(lines)[:30])


def test_golden_covers_every_context_and_the_site_settings() -> None:
    records = _records()
    assert len(records) > 4000
    contexts = {json.loads(r["output"])["context"] for r in records}
    assert contexts == {
        "pregnancy",
        "congenital",
        "transplant",
        "hiv",
        "immunocompromised",
        "immunocompetent",
    }
    assert sum(1 for r in records if r["settings"]) > 100


def test_every_golden_assessment_is_unchanged(knowledge: Knowledge) -> None:
    changed = []
    for record in _records():
        now = assessment_text(record, knowledge)
        if now != record["output"]:
            changed.append(_difference(str(record["case"].get("id")), record["output"], now))
    assert not changed, f"{len(changed)} changed answers; first:\n" + "\n\n".join(changed[:3])
