"""A FHIR Bulk Data ``$export`` folder as one line per patient, for the bulk run.

An export (FHIR Bulk Data Access IG, https://hl7.org/fhir/uv/bulkdata/export.html) is a folder of
NDJSON files, one resource per line, each file one resource type (``Patient.ndjson``,
``Observation.ndjson``, ``MedicationRequest.ndjson``…; a server may split a type over several
files). A patient's resources are spread over the files, so they are first spooled to an on-disk
SQLite table keyed by patient (constant memory whatever the export's size), then read back one
patient at a time: each patient becomes one line, the JSON list of their resources, which the
worker maps with the FHIR mapping of the CDS Hooks services (``bundle_to_case``) and assesses.

The spool holds every patient's record (names, identifiers, results), so it is SQLite's
*private temporary* database (``connect("")``): SQLite unlinks its file as soon as it is opened,
so no copy is left on disk by a run that is killed (SIGTERM, SIGKILL, out of memory), not only by
one that ends; it goes to ``$SQLITE_TMPDIR`` or ``$TMPDIR`` (SQLite's own rule).

A line that is not a JSON resource, or a resource that names no patient (``Patient.id``,
``subject`` or ``patient`` reference), cannot be attributed: it gets a ``cmvcds-bulk-error/1``
record naming its file and line, and the run goes on.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cmvcds.adapters.bulk.worker import ERROR_FORMAT, Outcome

__all__ = ["FhirExport"]


class FhirExport:
    """The ``*.ndjson`` files of ``folder`` grouped by patient, through an on-disk spool."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = sorted(p for p in folder.iterdir() if p.name.endswith(".ndjson"))
        self.total_bytes = sum(p.stat().st_size for p in self.files)

    def spool(self, db: sqlite3.Connection) -> Iterator[Outcome]:
        """Write every attributable resource to ``db``; yield an error for every other line."""
        db.execute("CREATE TABLE r (patient TEXT, seq INTEGER, body BLOB)")
        seq = 0
        for path in self.files:
            with path.open("rb") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    patient, problem = _patient_of(line)
                    if patient is None:
                        yield _unattributed(path.name, number, problem)
                        continue
                    seq += 1
                    db.execute("INSERT INTO r VALUES (?, ?, ?)", (patient, seq, line.strip()))
        db.execute("CREATE INDEX by_patient ON r (patient, seq)")
        db.commit()

    def patients(self, db: sqlite3.Connection) -> Iterator[tuple[int, bytes, int]]:
        """``(ordinal, JSON list of the patient's resources, its bytes)``, one patient at a time."""
        rows = db.execute("SELECT patient, body FROM r ORDER BY patient, seq")
        current: str | None = None
        bodies: list[bytes] = []
        ordinal = 0
        for patient, body in rows:
            if patient != current and bodies:
                ordinal += 1
                yield ordinal, _group(bodies), sum(len(b) for b in bodies)
                bodies = []
            current = patient
            bodies.append(body)
        if bodies:
            yield ordinal + 1, _group(bodies), sum(len(b) for b in bodies)

    def lines(self) -> tuple[Iterator[Outcome], Iterator[tuple[int, bytes, int]]]:
        """The unattributable lines' errors, then the patients (one private spool for both,
        closed — and so gone — when the patients are read or the run stops)."""
        db = sqlite3.connect("")

        def patients() -> Iterator[tuple[int, bytes, int]]:
            try:
                yield from self.patients(db)
            finally:
                db.close()

        return self.spool(db), patients()


def _group(bodies: list[bytes]) -> bytes:
    return b"[" + b",".join(bodies) + b"]"


def _patient_of(line: bytes) -> tuple[str | None, str]:
    """The patient a resource belongs to, or None and why not."""
    try:
        resource: Any = json.loads(line)
    except ValueError as error:
        return None, f"not valid JSON: {error}"
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return None, "not a FHIR resource (no resourceType)"
    kind = resource["resourceType"]
    if kind == "Patient":
        found = resource.get("id")
        return (found, "") if isinstance(found, str) and found else (None, "Patient without id")
    for key in ("subject", "patient"):
        reference = resource.get(key)
        target = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(target, str) and "Patient/" in target:
            return target.rsplit("Patient/", 1)[1].split("/")[0], ""
    return None, f"{kind} names no patient (subject or patient reference to Patient/…)"


def _unattributed(name: str, number: int, problem: str) -> Outcome:
    record = {
        "format": ERROR_FORMAT,
        "source": name,
        "line": number,
        "case_id": None,
        "error": " ".join(problem.split()),
    }
    return Outcome(number, json.dumps(record, ensure_ascii=False), error=True)
