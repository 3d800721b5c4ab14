"""List the golden assessments whose answer changed, with a short diff; ``--write`` re-records
only those (every other line is kept byte for byte).

For a meant clinical change: run it, check by the diff that every change is the one meant, then
``--write`` and say so in the commit. Also for a merge of branches that each re-recorded some
entries (the gzip file cannot be merged): take either side, then run this with ``--write``.

    .venv/bin/python tools/golden_changed.py [--write]
"""

from __future__ import annotations

import difflib
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tests.golden.replay import assessment_text  # noqa: E402

from cmvcds.knowledge import load_knowledge  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "golden.ndjson.gz"


def main() -> None:
    knowledge = load_knowledge()
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as text:
        lines = text.read().splitlines()
    changed: dict[int, str] = {}
    for i, line in enumerate(lines):
        record = json.loads(line)
        now = assessment_text(record, knowledge)
        if now == record["output"]:
            continue
        changed[i] = json.dumps({**record, "output": now}, ensure_ascii=False)
        before = json.dumps(json.loads(record["output"]), indent=1).splitlines()
        after = json.dumps(json.loads(now), indent=1).splitlines()
        print(f"--- #{i} {record['case'].get('id')} settings={bool(record.get('settings'))}")
        for diff in list(difflib.unified_diff(before, after, n=0, lineterm=""))[2:]:
            if not diff.startswith("@@"):
                print("   ", diff[:300])
    print(f"{len(lines)} records; {len(changed)} changed")
    if "--write" in sys.argv[1:] and changed:
        with gzip.open(GOLDEN, "wt", encoding="utf-8", compresslevel=9) as out:
            out.write("\n".join(changed.get(i, line) for i, line in enumerate(lines)) + "\n")
        print(f"re-recorded {len(changed)}")


if __name__ == "__main__":
    main()
