"""Write the golden assessments (tests/golden/golden.ndjson.gz) from the current code.

The inputs: every example (without and with ``examples/settings.yaml``); every case the clinical
tests assess (tests/outside, tests/scenarios, the monitoring, dosing, FHIR, CDS Hooks and API
tests…, captured by running them with the ``tests.golden.capture`` plugin); and 2,000 cases of
``tools/bulk_cases.py`` (the benchmark's mix). The output of each is the JSON text of its
assessment (tests/golden/replay.py). ``tests/golden/test_golden.py`` replays every input and
compares: run this again only when an answer is meant to change (say so in the commit).

    .venv/bin/python tools/golden_record.py
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from bulk_cases import generate  # noqa: E402
from tests.golden.codec import encode  # noqa: E402
from tests.golden.replay import assessment_text  # noqa: E402

from cmvcds.domain.settings import parse_settings  # noqa: E402
from cmvcds.knowledge import load_knowledge  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "golden.ndjson.gz"
#: The test folders whose assessed cases become golden inputs (no browser, database or fault tests).
CAPTURED = [
    "tests/outside",
    "tests/outside_probe",
    "tests/scenarios",
    "tests/monitoring",
    "tests/dosing",
    "tests/fhir",
    "tests/cdshooks",
    "tests/api",
    "tests/bulk",
    "tests/test_assess.py",
    "tests/test_case_keys_used.py",
    "tests/test_reference_profile.py",
    "tests/test_rules.py",
    "tests/test_domain.py",
    "tests/test_public_api.py",
]
#: ``today`` of the example and generated cases (none of their dates lies after it).
TODAY = date(2026, 12, 7)
GENERATED = 2000


def _examples() -> list[dict[str, Any]]:
    knowledge = load_knowledge()
    site_raw = yaml.safe_load((ROOT / "examples" / "settings.yaml").read_text(encoding="utf-8"))
    site = parse_settings(site_raw, knowledge, origin="examples/settings.yaml")
    records = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not (isinstance(raw, dict) and raw.get("format") == "cmvcds-case/1"):
            continue
        for settings in (None, {"values": encode(dict(site.values)), "origin": site.origin}):
            records.append(
                {"case": encode(raw), "today": TODAY.isoformat(), "on": None, "settings": settings}
            )
    return records


def _captured() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "captured.ndjson"
        env = {**os.environ, "CMVCDS_GOLDEN_CAPTURE": str(out)}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["-p", "tests.golden.capture", "-m", "not browser and not postgres", *CAPTURED]
        subprocess.run(command, cwd=ROOT, env=env, check=False)
        return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _generated() -> list[dict[str, Any]]:
    return [
        {"case": encode(raw), "today": TODAY.isoformat(), "on": None, "settings": None}
        for raw in generate(GENERATED)
    ]


def main() -> None:
    knowledge = load_knowledge()
    seen: set[str] = set()
    lines = []
    for record in [*_examples(), *_captured(), *_generated()]:
        key = json.dumps(record, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            output = assessment_text(record, knowledge)
        except Exception as error:  # a refused case is recorded as such
            output = f"error: {type(error).__name__}: {error}"
        lines.append(json.dumps({**record, "output": output}, ensure_ascii=False))
    with gzip.open(GOLDEN, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(lines) + "\n")
    print(f"{len(lines)} golden assessments written to {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
