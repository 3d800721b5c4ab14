"""docs/adr/README.md lists every decision record once, by its file, under the number the record's
own heading gives (a record added without its line, or renumbered at merge, fails here)."""

from __future__ import annotations

import re
from pathlib import Path

ADR = Path(__file__).resolve().parents[1] / "docs" / "adr"


def test_the_index_lists_every_record_once() -> None:
    index = (ADR / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"^\| \[\d{4}\]\((\d{4}-[^)]+\.md)\) \|", index, flags=re.MULTILINE)
    records = sorted(p.name for p in ADR.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert sorted(linked) == records
    assert len(set(linked)) == len(linked)


def test_each_record_heading_carries_its_file_number() -> None:
    for path in ADR.glob("[0-9][0-9][0-9][0-9]-*.md"):
        heading = path.read_text(encoding="utf-8").splitlines()[0]
        assert re.match(rf"^# (ADR )?{path.name[:4]}\b", heading), f"{path.name}: {heading}"
