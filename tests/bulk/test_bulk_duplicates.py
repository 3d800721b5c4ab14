"""Duplicate case ids in an NDJSON input: a study coordinator's population must count each case
once, and a case sent twice (or a corrected re-entry appended under the same id) is to be found
and fixed, never assessed twice without a word.

The later line is refused (``cmvcds-bulk-error/1`` naming the earlier line, and whether the two
lines are identical), the first is assessed and counted once, the summary counts and lists the
duplicates; the ids are kept in a bounded table (``bulk/duplicates.py``)."""

from __future__ import annotations

import copy
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cmvcds.adapters.bulk import Job, assess_bulk
from cmvcds.adapters.bulk.duplicates import Earlier, SeenIds, digest
from cmvcds.adapters.bulk.summary import Summary
from cmvcds.adapters.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 1)


def _case(name: str) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "examples" / name).read_text(encoding="utf-8"))
    return json.loads(json.dumps(raw, default=str))


def _line(case: dict[str, Any]) -> bytes:
    return json.dumps(case).encode()


def _run(lines: list[bytes], **options: Any) -> tuple[list[dict[str, Any]], Any]:
    sink = io.StringIO()
    summary = assess_bulk(io.BytesIO(b"\n".join(lines) + b"\n"), sink, Job(today=TODAY), **options)
    return [json.loads(x) for x in sink.getvalue().splitlines()], summary


@pytest.fixture(scope="module")
def population() -> list[bytes]:
    pregnancy, congenital = _case("pregnancy.yaml"), _case("congenital.yaml")
    corrected = copy.deepcopy(pregnancy)
    corrected["patient"]["weight_kg"] = 61  # a re-entry with a changed value, same id
    refused = {"format": "cmvcds-case/1", "id": "later-fixed"}  # no context: refused
    fixed = copy.deepcopy(congenital) | {"id": "later-fixed"}
    return [
        _line(pregnancy),  # 1
        _line(congenital),  # 2
        _line(pregnancy),  # 3: sent twice
        b"",  # 4: blank, counted
        _line(corrected),  # 5: same id, different content
        _line(refused),  # 6: refused for itself
        _line(fixed),  # 7: its id was never assessed: the only assessment of it
    ]


@pytest.mark.parametrize("options", [{"chunk_size": 200}, {"chunk_size": 1, "workers": 2}])
def test_a_later_line_with_an_assessed_id_is_refused_and_said(
    population: list[bytes], options: dict[str, Any]
) -> None:
    out, summary = _run(population, **options)
    assert [o.get("line") for o in out] == [None, None, 3, 5, 6, None]
    assert [o["format"] for o in out] == [
        "cmvcds-assessment/1",
        "cmvcds-assessment/1",
        "cmvcds-bulk-error/1",
        "cmvcds-bulk-error/1",
        "cmvcds-bulk-error/1",
        "cmvcds-assessment/1",
    ]
    twice, corrected = out[2], out[3]
    assert twice["case_id"] == "demo-pregnancy-01" and twice["duplicate_of"] == 1
    assert "an identical line with this id is line 1" in twice["error"]
    assert corrected["duplicate_of"] == 1
    assert "a line with different content with this id is line 1" in corrected["error"]
    assert "duplicate_of" not in out[4]  # refused for itself, not as a duplicate
    assert out[5]["case_id"] == "later-fixed"
    document = summary.to_dict()
    assert (document["assessed"], document["errors"]) == (3, 3)
    assert document["duplicates"] == {
        "lines": 2,
        "first": [
            {"case_id": "demo-pregnancy-01", "line": 3, "duplicate_of": 1},
            {"case_id": "demo-pregnancy-01", "line": 5, "duplicate_of": 1},
        ],
        "ids_checked": 3,
        "complete": True,
    }
    # the pregnancy is counted once among the decisions, as in a run without its copies
    alone, once = _run(population[:2] + population[6:])
    assert summary.decisions == once.decisions and len(alone) == 3
    assert "2 line(s) refused as duplicate case ids" in summary.to_text()
    assert "case id 'demo-pregnancy-01': line 5, already on line 1" in summary.to_text()


def test_the_cli_says_the_duplicates_and_exits_2(tmp_path: Path, population: list[bytes]) -> None:
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"\n".join(population[:3]) + b"\n")
    done = CliRunner().invoke(app, ["assess-bulk", str(source), "-o", str(tmp_path / "out.ndjson")])
    assert done.exit_code == 2
    assert "1 line(s) refused as duplicate case ids" in done.stderr
    lines = (tmp_path / "out.ndjson").read_text().splitlines()
    assert json.loads(lines[2])["duplicate_of"] == 1


def test_the_table_keeps_every_id_as_it_grows_and_stops_at_its_limit() -> None:
    seen = SeenIds()
    ids = [f"case-{i}" for i in range(20_000)]  # several doublings of the table
    assert all(seen.check(i, n, digest(i)) is None for n, i in enumerate(ids, start=1))
    found = [seen.check(i, 0, digest(i)) for i in ids]
    assert [e.line if e else None for e in found] == list(range(1, 20_001))
    assert all(e is not None and e.identical for e in found)
    assert seen.check("case-7", 0, digest("other text")) == Earlier(8, False)
    small = SeenIds(limit=2)
    assert small.check("a", 1, 1) is None and small.check("b", 2, 1) is None
    assert small.check("c", 3, 1) is None and small.full and small.count == 2
    assert small.check("c", 4, 1) is None  # not tracked: the summary says the check stopped
    assert small.check("a", 5, 1) is not None  # tracked ids are still found


def test_a_run_past_the_limit_says_how_far_the_check_went(population: list[bytes]) -> None:
    sink = io.StringIO()
    summary = Summary(seen=SeenIds(limit=1))
    from cmvcds.adapters.bulk.run import _run as run_lines
    from cmvcds.adapters.bulk.run import numbered

    run_lines(numbered(io.BytesIO(b"\n".join(population[:3]))), sink, Job(today=TODAY), 1, None,
              200, None, None, summary)  # fmt: skip
    assert summary.to_dict()["duplicates"]["complete"] is False
    assert "checked for the first 1 ids only" in summary.to_text()
    assert summary.duplicates == 1  # the first id was tracked: its copy is still found
