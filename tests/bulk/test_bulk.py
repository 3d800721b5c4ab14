"""``assess-bulk`` gives, line for line, what ``assess()`` gives for each case — on this process,
on a pool of 2 processes and on a local Dask cluster — reports a bad line and goes on, and runs
in constant memory.

Input: every example (examples/*.yaml, each worked out from its source in tests/scenarios) and
copies with shifted dates and scaled values (tools/bulk_cases.py), plus hostile lines.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cmvcds.adapters.bulk import ERROR_FORMAT, Job, assess_bulk
from cmvcds.adapters.bulk.run import _start_method
from cmvcds.adapters.bulk.worker import by_name
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge import Knowledge, load_knowledge

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from bulk_cases import examples, generate  # noqa: E402

TODAY = date.today()
BAD = {
    "not json": b'{"format": "cmvcds-case/1", "id": "x"',
    "not a mapping": b"[1, 2]",
    "missing context": json.dumps(
        {"format": "cmvcds-case/1", "id": "no-context", "patient": {"sex": "female"}}
    ).encode(),
    "not UTF-8": b'{"format": "cmvcds-case/1", "id": "caf\xe9"}',
}


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    cases = examples() + list(generate(120, seed=7))
    out = [json.dumps(c).encode() for c in cases]
    middle = len(out) // 2
    return out[:middle] + list(BAD.values()) + [b""] + out[middle:]


def reference(line: bytes, knowledge: Knowledge) -> dict[str, Any] | None:
    """What ``assess()`` says for one line, or None where the case is refused."""
    try:
        case = parse_case(json.loads(line), knowledge, today=TODAY)
    except (CmvcdsError, ValueError):
        return None
    return assess(case, knowledge).to_dict()


def run(lines: list[bytes], **options: Any) -> tuple[list[dict[str, Any]], Any]:
    sink = io.StringIO()
    summary = assess_bulk(
        io.BytesIO(b"\n".join(lines) + b"\n"), sink, Job(today=TODAY), chunk_size=16, **options
    )
    return [json.loads(x) for x in sink.getvalue().splitlines()], summary


def check(lines: list[bytes], knowledge: Knowledge, **options: Any) -> None:
    out, summary = run(lines, **options)
    kept = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    assert len(out) == len(kept)
    errors = 0
    for (number, line), got in zip(kept, out, strict=True):
        expected = reference(line, knowledge)
        if expected is None:
            errors += 1
            assert got["format"] == ERROR_FORMAT and got["line"] == number, got
            assert got["error"] and "\n" not in got["error"]
        else:
            assert got == expected, f"line {number} differs from assess()"
    assert summary.errors == errors == len(BAD)  # every generated case is a valid one
    assert summary.assessed == len(kept) - errors


def test_one_process_equals_assess(lines: list[bytes], knowledge: Knowledge) -> None:
    check(lines, knowledge)


@pytest.mark.slow
def test_two_processes_equal_assess(lines: list[bytes], knowledge: Knowledge) -> None:
    check(lines, knowledge, workers=2)


@pytest.mark.slow
def test_two_spawned_processes_equal_assess(lines: list[bytes], knowledge: Knowledge) -> None:
    """With another thread running, the pool spawns its workers (forking could deadlock) and
    each loads the knowledge in the pool initializer: the answers are the same."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _start_method(Job(today=TODAY)).get_start_method() == "spawn"
        check([*lines[:20], *BAD.values(), *lines[-20:]], knowledge, workers=2)
    finally:
        stop.set()
        other.join()


@pytest.mark.slow
def test_local_dask_cluster_equals_assess(lines: list[bytes], knowledge: Knowledge) -> None:
    pytest.importorskip("distributed")
    check(lines, knowledge, workers=2, dask="local")


def test_bad_lines_are_reported_with_their_number_and_the_rest_assessed(
    lines: list[bytes],
) -> None:
    out, summary = run(lines)
    refused = {r["line"]: r for r in out if r["format"] == ERROR_FORMAT}
    numbers = [n for n, line in enumerate(lines, start=1) if line in BAD.values()]
    assert set(numbers) <= set(refused), (numbers, sorted(refused))
    assert "not valid JSON" in refused[numbers[0]]["error"]
    assert "must be a mapping" in refused[numbers[1]]["error"]
    assert refused[numbers[2]]["case_id"] == "no-context"
    assert "context" in refused[numbers[2]]["error"]
    assert "UTF-8" in refused[numbers[3]]["error"]
    assert numbers[-1] < len(lines) - 10 and out[-1]["format"] == "cmvcds-assessment/1"
    # the summary counts what the lines say
    decisions = summary.to_dict()["decisions"]
    counted = sum(n for outcomes in decisions.values() for n in outcomes.values())
    assert counted == sum(len(r.get("decisions", [])) for r in out)


def _peak_rss_kib(count: int, tmp_path: Path) -> int:
    """Peak RSS of a ``cmvcds assess-bulk`` process over ``count`` generated cases."""
    source = tmp_path / f"cases-{count}.ndjson"
    with source.open("w") as handle:
        for case in generate(count, seed=count):
            handle.write(json.dumps(case) + "\n")
    cmvcds = Path(sys.executable).with_name("cmvcds")
    process = subprocess.Popen(
        [
            str(cmvcds),
            "assess-bulk",
            str(source),
            "-o",
            os.devnull,
            "--quiet",
            "--chunk-size",
            "50",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    return usage.ru_maxrss


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_cases(tmp_path: Path) -> None:
    small = _peak_rss_kib(300, tmp_path)
    large = _peak_rss_kib(6000, tmp_path)
    # 20x the cases: keeping the outputs would add > 25 MiB (about 4.5 KiB per assessment)
    assert large - small < 8 * 1024, (small, large)


def test_command_line_writes_assessments_summary_and_a_progress_line(tmp_path: Path) -> None:
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"\n".join([json.dumps(c).encode() for c in examples()] + [b"[1]"]) + b"\n")
    output, summary = tmp_path / "out.ndjson", tmp_path / "summary.json"
    cmvcds = Path(sys.executable).with_name("cmvcds")
    done = subprocess.run(
        [
            str(cmvcds),
            "assess-bulk",
            str(source),
            "-o",
            str(output),
            "--summary",
            str(summary),
            "--summary-format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr  # one line refused
    records = [json.loads(x) for x in output.read_text().splitlines()]
    assert [r["case_id"] for r in records[:-1]] == [c["id"] for c in examples()]
    assert records[-1]["line"] == len(examples()) + 1
    table = json.loads(summary.read_text())
    assert table["assessed"] == len(examples()) and table["errors"] == 1
    assert table["decisions"]["valacyclovir-prevention"]["recommended"] >= 1
    assert "cases" in done.stderr and "/s" in done.stderr


FIXTURES = ROOT / "tests" / "cdshooks" / "fixtures"


def _resources(prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    from cmvcds.adapters.fhir.mapping import resources_of

    return [resource for _, resource in resources_of(prefetch)]


def _export(folder: Path, patients: dict[str, list[dict[str, Any]]]) -> None:
    """A Bulk Data export: one NDJSON file per resource type, the patients interleaved."""
    files: dict[str, list[str]] = {}
    for resources in patients.values():
        for resource in resources:
            files.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    for kind, rows in files.items():
        (folder / f"{kind}.ndjson").write_text("\n".join(sorted(rows)) + "\n")


def _as_patient(resources: list[dict[str, Any]], old: str, new: str) -> list[dict[str, Any]]:
    text = json.dumps(resources).replace(f"Patient/{old}", f"Patient/{new}")
    out: list[dict[str, Any]] = json.loads(text)
    for resource in out:
        if resource["resourceType"] == "Patient":
            resource["id"] = new
        elif "id" in resource:
            resource["id"] = f"{new}-{resource['id']}"
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_fhir_bulk_export_folder_is_assessed_per_patient_like_the_mapping(
    tmp_path: Path, knowledge: Knowledge, workers: int
) -> None:
    from cmvcds.adapters.bulk import assess_fhir_export
    from cmvcds.adapters.fhir.mapping import bundle_to_case

    prefetch = json.loads((FIXTURES / "pregnancy-valacyclovir.request.json").read_text())
    base = _resources(prefetch["prefetch"])
    old = next(r["id"] for r in base if r["resourceType"] == "Patient")
    patients = {f"pt-{i}": _as_patient(base, old, f"pt-{i}") for i in range(3)}
    broken = next(r for r in patients["pt-1"] if r["resourceType"] == "Observation")
    broken["status"] = "bogus"  # breaks a required binding: left out and said
    _export(tmp_path, patients)
    with (tmp_path / "Observation.ndjson").open("a") as handle:
        handle.write('{"resourceType": "Observation", "status": "final"}\n{not json\n')
    job = Job(today=TODAY, fhir_context="pregnancy")
    sink = io.StringIO()
    summary = assess_fhir_export(tmp_path, sink, job, workers=workers, chunk_size=2)
    records = [json.loads(x) for x in sink.getvalue().splitlines()]
    errors = [r for r in records if r["format"] == ERROR_FORMAT]
    assert [
        (e["source"], "names no patient" in e["error"] or "JSON" in e["error"]) for e in errors
    ] == [("Observation.ndjson", True)] * 2
    assessed = [r for r in records if r["format"] == "cmvcds-assessment/1"]
    assert [r["case_id"] for r in assessed] == sorted(patients)
    said_of = {r["case_id"]: r.get("fhir", {}) for r in assessed}
    assert any("'bogus' is not in the required value set" in x for x in said_of["pt-1"]["not_used"])
    for record in assessed:
        mapped = bundle_to_case(
            by_name(patients[record["case_id"]]),
            knowledge,
            context="pregnancy",
            assessed_on=TODAY,
            case_id=record["case_id"],
        )
        expected = assess(parse_case(mapped.case, knowledge, today=TODAY), knowledge).to_dict()
        said = record.pop("fhir", {})
        assert record == expected
        assert said.get("not_used", []) == [*mapped.ignored, *mapped.unmapped]
        assert said.get("assumed", []) == mapped.notes
    assert summary.assessed == 3 and summary.errors == 2


def test_fhir_bulk_export_never_mixes_patients(tmp_path: Path, knowledge: Knowledge) -> None:
    """PROBE1 D4 for Bulk $export: resources are grouped by their subject. Patient pt-1's
    creatinine is 1.5 (over the 1.1 cut-off: valacyclovir excluded), pt-0's 0.62 (recommended):
    each keeps their own outcome. A creatinine 1.5 whose subject is pt-0's id on another server
    reaches pt-0's group but is not used and is said; one naming its patient by identifier only
    cannot be attributed and is an error line of its own."""
    from cmvcds.adapters.bulk import assess_fhir_export

    prefetch = json.loads((FIXTURES / "pregnancy-valacyclovir.request.json").read_text())
    base = _resources(prefetch["prefetch"])
    old = next(r["id"] for r in base if r["resourceType"] == "Patient")
    patients = {f"pt-{i}": _as_patient(base, old, f"pt-{i}") for i in range(2)}
    creatinine = next(r for r in patients["pt-1"] if r["id"] == "pt-1-obs-8")
    creatinine["valueQuantity"]["value"] = 1.5
    abroad = {
        **creatinine,
        "id": "stray-abs",
        "subject": {"reference": "https://other.example.org/fhir/Patient/pt-0"},
        "effectiveDateTime": "2026-11-20",  # newer than pt-0's own: read, it would exclude
    }
    by_mrn = {
        **creatinine,
        "id": "stray-mrn",
        "subject": {"identifier": {"system": "urn:mrn", "value": "pt-0"}},
    }
    _export(tmp_path, {**patients, "strays": [abroad, by_mrn]})
    sink = io.StringIO()
    assess_fhir_export(tmp_path, sink, Job(today=TODAY, fhir_context="pregnancy"), workers=1)
    records = [json.loads(x) for x in sink.getvalue().splitlines()]
    errors = [r for r in records if r["format"] == ERROR_FORMAT]
    assert len(errors) == 1 and "names no patient" in errors[0]["error"]
    outcome = {
        r["case_id"]: next(
            d["outcome"] for d in r["decisions"] if d["id"] == "valacyclovir-prevention"
        )
        for r in records
        if r["format"] == "cmvcds-assessment/1"
    }
    assert outcome == {"pt-0": "recommended", "pt-1": "excluded"}
    pt0 = next(r for r in records if r.get("case_id") == "pt-0" and "fhir" in r)
    assert (
        "Observation/stray-abs not used: its subject 'https://other.example.org/fhir/Patient/pt-0' "
        "is on another FHIR server than the record's (it cannot be checked)"
    ) in pt0["fhir"]["not_used"]
