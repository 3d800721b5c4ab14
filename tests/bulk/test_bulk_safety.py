"""What a population run must never do, found by an outside tester driving ``cmvcds assess-bulk``
(session 6 probe): answer a run with the settings or pack of an earlier one, destroy or re-read
its own input, leave an export's records on disk, leave workers running after it was killed,
hold a giant line in memory, or report a bad path an hour too late.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cmvcds.adapters.bulk import Job, worker
from cmvcds.adapters.bulk.fhir_export import FhirExport
from cmvcds.adapters.bulk.run import numbered
from cmvcds.adapters.bulk.worker import TooLarge, assess_chunk, pinned, prepare
from cmvcds.adapters.cli.main import app
from cmvcds.domain.documents import DEFAULT_LIMITS
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from bulk_cases import examples  # noqa: E402

CMVCDS = str(Path(sys.executable).with_name("cmvcds"))


def _cases_file(tmp_path: Path) -> Path:
    source = tmp_path / "cases.ndjson"
    source.write_text("".join(json.dumps(c) + "\n" for c in examples()))
    return source


def _settings_drug(lines: list[str]) -> set[str]:
    """The D+/R− kidney drug each assessment names in its settings section, where it does."""
    found = set()
    for line in lines:
        settings = json.loads(line).get("settings") or {}
        if "kidney_dpos_rneg_drug" in settings:
            found.add(str(settings["kidney_dpos_rneg_drug"]))
    return found


def test_a_settings_file_edited_between_two_runs_is_applied_by_the_second(
    tmp_path: Path,
) -> None:
    # A standing Dask worker keeps what it loaded per job, as this process does between two
    # runs: the second run, same path, edited file, must not be answered with the first's.
    source, settings = _cases_file(tmp_path), tmp_path / "site.yaml"
    original = (ROOT / "examples" / "settings.yaml").read_text()
    runner = CliRunner()
    outputs = []
    for drug in ("valganciclovir", "letermovir"):
        settings.write_text(
            original.replace(
                "kidney_dpos_rneg_drug: valganciclovir", f"kidney_dpos_rneg_drug: {drug}"
            )
        )
        out = tmp_path / f"{drug}.ndjson"
        done = runner.invoke(
            app,
            ["assess-bulk", str(source), "-o", str(out), "--settings", str(settings), "--quiet"],
        )
        assert done.exit_code == 0, done.output
        outputs.append(out.read_text().splitlines())
    assert _settings_drug(outputs[0]) == {"valganciclovir"}
    assert _settings_drug(outputs[1]) == {"letermovir"}


def test_a_worker_with_another_pack_refuses_the_run() -> None:
    job = Job(today=date(2026, 12, 7), pack_sha256="0" * 64)
    with pytest.raises(InputError, match="not the one the run was started with"):
        prepare(job)
    with pytest.raises(InputError):
        assess_chunk(job, [(1, json.dumps(examples()[0]).encode())])


def _bulk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CMVCDS, "assess-bulk", *args, "--quiet"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_output_or_summary_on_the_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    source = _cases_file(tmp_path)
    before = source.read_bytes()
    for args in (
        ["-o", str(source)],
        ["-o", str(tmp_path / "." / source.name)],
        ["--summary", str(source)],
        ["-o", str(tmp_path / "out.ndjson"), "--summary", str(tmp_path / "out.ndjson")],
    ):
        done = _bulk(str(source), *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "same file" in done.stderr or "is the input" in done.stderr, done.stderr
        assert source.read_bytes() == before
    assert not (tmp_path / "out.ndjson").exists()


def test_output_inside_the_export_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(
        json.dumps({"resourceType": "Patient", "id": "p"}) + "\n"
    )
    done = _bulk(str(folder), "--context", "pregnancy", "-o", str(folder / "out.ndjson"))
    assert done.returncode == 2 and "inside the export folder" in done.stderr, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["Patient.ndjson"]


def test_bad_paths_and_context_are_refused_before_anything_is_read(tmp_path: Path) -> None:
    source = _cases_file(tmp_path)
    folder = tmp_path / "export"
    folder.mkdir()
    for args, words in (
        ([str(source), "-o", str(tmp_path / "no" / "out.ndjson")], "no writable folder"),
        ([str(source), "--summary", str(tmp_path / "no" / "s.json")], "no writable folder"),
        ([str(folder), "--context", "Pregnancy"], "is not a context"),
        ([str(folder), "--context", "foo"], "is not a context"),
    ):
        done = _bulk(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and "internal error" not in done.stderr, done.stderr
        assert done.stdout == ""


def test_a_finished_run_is_renamed_and_a_killed_one_stays_partial(tmp_path: Path) -> None:
    output = tmp_path / "out.ndjson"
    done = _bulk(str(_cases_file(tmp_path)), "-o", str(output))
    assert done.returncode == 0, done.stderr
    assert len(output.read_text().splitlines()) == len(examples())
    assert not output.with_name("out.ndjson.partial").exists()

    killed = tmp_path / "killed.ndjson"
    partial = killed.with_name("killed.ndjson.partial")
    run = subprocess.Popen(
        [CMVCDS, "assess-bulk", "-", "-o", str(killed), "--quiet", "--workers", "2"],
        stdin=subprocess.PIPE,
    )
    assert run.stdin is not None
    lines = "".join(json.dumps(c) + "\n" for c in examples()).encode()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (partial.exists() and partial.stat().st_size):
        run.stdin.write(lines * 30)  # the run never sees the end of its input
        run.stdin.flush()
        time.sleep(0.2)
    workers = _children(run.pid)
    assert workers, "a pool of two workers"
    run.kill()
    run.wait()
    assert not killed.exists()  # never a file under the asked name that is not a whole run
    text = partial.read_text()
    assert text.endswith("\n") and all(json.loads(x) for x in text.splitlines())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), "the workers end with their parent"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _open_files() -> dict[str, str]:
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return found


def test_the_export_spool_leaves_no_file_on_disk(tmp_path: Path) -> None:
    # SQLite's private temporary database is unlinked as soon as it is opened: a killed run
    # leaves no copy of the patients' records behind (an ended one closes it).
    folder = tmp_path / "export"
    folder.mkdir()
    rows = [
        {
            "resourceType": "Observation",
            "id": f"o{i}",
            "subject": {"reference": "Patient/p1"},
            "note": [{"text": "Rossi Maria " + "x" * 2000}],
        }
        for i in range(3000)  # ~6 MB: more than SQLite keeps in memory, so it spills to disk
    ]
    (folder / "Observation.ndjson").write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = _open_files()
    errors, patients = FhirExport(folder).lines()
    assert list(errors) == []
    first = next(patients)
    assert b'"o2999"' in first[1]  # the spooled record, read back
    opened = {fd: link for fd, link in _open_files().items() if fd not in before}
    on_disk = [link for link in opened.values() if link.startswith("/")]
    assert on_disk, "the spool is on disk, not in memory"
    assert all(link.endswith("(deleted)") for link in on_disk), on_disk
    list(patients)


def test_a_giant_line_is_read_past_not_held() -> None:
    limit = DEFAULT_LIMITS.max_bytes
    good = json.dumps(examples()[0]).encode()
    for size, end in (
        (limit + 2, b"\n"),
        (limit + 1, b"\r\n"),
        (5 * limit, b"\n"),
        (limit + 1, b""),
    ):
        body = good + b"\n" + b"A" * size + end + (good + b"\n" if end else b"")
        got = list(numbered(io.BytesIO(body)))
        assert got[0][1] == good and got[1][1] == TooLarge(size), (size, end)
        if end:
            assert got[2] == (3, good, len(good) + 1)
    at_limit = b"A" * limit
    assert list(numbered(io.BytesIO(at_limit + b"\r\n"))) == [(1, at_limit, limit + 2)]
    over = at_limit + b"A"  # one byte over, with its newline: read in the one call, refused later
    assert list(numbered(io.BytesIO(over + b"\n"))) == [(1, over, limit + 2)]
    line = assess_chunk(Job(today=date(2026, 12, 7)), [(4, TooLarge(limit + 5))])[0]
    record = json.loads(line.text)
    assert line.error and record["line"] == 4
    assert record["error"] == f"line 4: larger than the {limit:,} bytes accepted ({limit + 5:,})"


def test_a_job_given_paths_only_is_pinned_to_the_bytes_and_pack_it_started_with(
    tmp_path: Path,
) -> None:
    # the Python API's jobs too (review: only the CLI filled them in)
    settings = tmp_path / "site.yaml"
    settings.write_text((ROOT / "examples" / "settings.yaml").read_text())
    job = pinned(Job(today=date(2026, 12, 7), settings_path=str(settings)))
    assert job.settings_text == settings.read_bytes()
    assert job.pack_sha256 == prepare(Job(today=date(2026, 12, 7)))[0].sha256
    settings.write_text("kidney_dpos_rneg_drug: letermovir\n")
    again = pinned(Job(today=date(2026, 12, 7), settings_path=str(settings)))
    assert again != job and prepare(again)[1] != prepare(job)[1]


def test_threads_of_one_worker_load_a_job_once_and_never_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a Dask worker runs chunks on several threads: a job is loaded once, however many of its
    # chunks arrive at once (each load slow, as reading a pack is), and more jobs than are kept
    # never fail a chunk (review6: two threads evicting one job raised KeyError)
    line = json.dumps(examples()[0]).encode()
    real = worker.load_knowledge()
    loads: list[str | None] = []

    def slow_load(path: str | None = None) -> Knowledge:
        loads.append(path)
        time.sleep(0.05)
        return real

    monkeypatch.setattr(worker, "load_knowledge", slow_load)
    monkeypatch.setattr(worker, "_LOADED", {})
    few = [Job(today=date(2026, 12, day)) for day in range(1, 4)]
    many = [Job(today=date(2026, 11, day)) for day in range(1, 11)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can
    try:
        with ThreadPoolExecutor(8) as pool:
            first = list(pool.map(lambda job: assess_chunk(job, [(1, line)]), few * 8))
            assert len(loads) == len(few)  # once per job, not once per thread
            outcomes = first + list(pool.map(lambda job: assess_chunk(job, [(1, line)]), many * 4))
    finally:
        sys.setswitchinterval(switch)
    assert all(not o[0].error for o in outcomes), [o[0].text for o in outcomes if o[0].error]
