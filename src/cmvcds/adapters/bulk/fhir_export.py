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

A line nested deeper than ``Limits.max_depth`` (40) levels is refused before it is parsed
(``_too_deep``: Python's JSON parser recurses, and one hostile line would end the whole run with
RecursionError, probe12 #5), as for a case file. A line that is not a JSON resource, or a
resource that names no patient (``Patient.id``,
``subject`` or ``patient`` reference), cannot be attributed: it gets a ``cmvcds-bulk-error/1``
record naming its file and line, and the run goes on. Resources that are nobody's record
(``Medication``, ``Practitioner``, ``Organization``, ``Location``…: ``SHARED_TYPES``) are not
refused: they are spooled under their own name, and a Medication is given to every patient whose
medication resources reference it (probe6 #5).

Grouping a patient (probe6 #8, #17): a patient whose resources name them but who has no Patient
resource gets a stand-in Patient carrying the id only (``mapping.ABSENT_PATIENT``: the case id is
the patient's, and the line says the Patient resource is missing). A patient whose resources
exceed ``LINE_BUDGET`` bytes has those the mapping does not read cut down to what it says of them
(type and id; an Observation's code and status); if still too large, the line carries a fatal
``OperationOutcome`` and the patient is refused by name, never as an unnamed line.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cmvcds.adapters.bulk.worker import ERROR_FORMAT, Outcome
from cmvcds.domain.documents import Limits, parse_document
from cmvcds.errors import InputError

__all__ = ["LINE_BUDGET", "SHARED_TYPES", "FhirExport"]

#: Resource types that may belong to no patient: kept by name, not refused. One that names a
#: patient all the same (R4 ``Device.patient``) is that patient's (review7 #4).
SHARED_TYPES = frozenset(
    {
        "Medication",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Device",
        "Substance",
        "HealthcareService",
        "Endpoint",
    }
)
#: Spool key prefix of a shared resource (a space: no patient id taken from a reference has one).
_SHARED = " "
#: The largest patient line built (the worker accepts 2,000,000 bytes per line).
LINE_BUDGET = 1_900_000
_PATIENT = re.compile(rb'"resourceType"\s*:\s*"Patient"')
#: The worker's bounds of one line, the size kept to ``LINE_BUDGET``.
_LINE_LIMITS = Limits(max_bytes=LINE_BUDGET)
_LONG_TEXT = re.compile(rb'"[^"]{%d,}' % (_LINE_LIMITS.max_string // 2))
#: What the mapping reads of a Patient (and the identifiers that match references to it).
_PATIENT_READ = ("resourceType", "id", "meta", "identifier", "gender", "birthDate", "active",
                 "deceasedBoolean", "deceasedDateTime")  # fmt: skip


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
                yield ordinal, _group(current or "", bodies, db), sum(len(b) for b in bodies)
                bodies = []
            current = patient
            if not patient.startswith(_SHARED):  # nobody's record: given where referenced
                bodies.append(body)
        if bodies:
            yield ordinal + 1, _group(current or "", bodies, db), sum(len(b) for b in bodies)

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


def _group(patient: str, bodies: list[bytes], db: sqlite3.Connection) -> bytes:
    """One patient's line: their resources, the Medications they reference, a stand-in Patient
    when theirs is missing, within ``LINE_BUDGET`` (module docstring)."""
    resources = list(bodies) + _medications(bodies, db)
    if not any(_PATIENT.search(b) for b in bodies):
        resources.insert(0, json.dumps(_absent_patient(patient)).encode())
    line = b"[" + b",".join(resources) + b"]"
    if not _may_exceed(line):
        return line
    line = b"[" + b",".join(_cut_down(resources)) + b"]"
    try:  # exactly the worker's bounds: a line it would refuse is refused here, by name
        parse_document(line, f"Patient/{patient}", "json", _LINE_LIMITS)
        return line
    except InputError as error:
        problem = str(error)
    outcome = {
        "resourceType": "OperationOutcome",
        "id": "record-too-large",
        "issue": [
            {
                "severity": "fatal",
                "code": "too-costly",
                "diagnostics": f"the resources cmvcds reads of Patient/{patient} exceed what "
                f"one patient's line may hold ({' '.join(problem.split())}; lines are kept to "
                f"{LINE_BUDGET:,} bytes): not assessed",
            }
        ],
    }
    named = {"resourceType": "Patient", "id": patient}
    return json.dumps([named, outcome]).encode()


def _may_exceed(line: bytes) -> bool:
    """A cheap test that ``line`` may break a bound of the worker's reader (its size, its number
    of values, one long text): only such lines are cut down and checked exactly."""
    return (
        len(line) > LINE_BUDGET
        or line.count(b",") + line.count(b"{") > _LINE_LIMITS.max_nodes // 2
        or _LONG_TEXT.search(line) is not None
    )


def _absent_patient(patient: str) -> dict[str, Any]:
    from cmvcds.adapters.fhir.mapping import ABSENT_PATIENT

    system, code = ABSENT_PATIENT
    return {
        "resourceType": "Patient",
        "id": patient,
        "meta": {"tag": [{"system": system, "code": code}]},
    }


def _medications(bodies: list[bytes], db: sqlite3.Connection) -> list[bytes]:
    """The spooled Medications the patient's medication resources reference, each once."""
    wanted: list[str] = []
    for body in bodies:
        if b"medicationReference" not in body:
            continue
        reference = (json.loads(body).get("medicationReference") or {}).get("reference")
        if isinstance(reference, str) and "Medication/" in reference:
            name = "Medication/" + reference.rsplit("Medication/", 1)[1].split("/")[0]
            if name not in wanted:
                wanted.append(name)
    found: list[bytes] = []
    for name in wanted:
        rows = db.execute("SELECT DISTINCT body FROM r WHERE patient = ?", (_SHARED + name,))
        found += [body for (body,) in rows]  # every version: the mapping says if they differ
    return found


def _cut_down(resources: list[bytes]) -> list[bytes]:
    """``resources`` with those the mapping does not read reduced to what it says of them: a
    type it does not read to its type and id; an Observation whose codes are not in the value
    sets to its id, status, code and subject (so that "code … is not in the value sets" is
    still said of it)."""
    from cmvcds.adapters.fhir.mapping import READ, value_sets
    from cmvcds.knowledge import load_knowledge

    known = value_sets(load_knowledge(os.environ.get("CMVCDS_KNOWLEDGE") or None)).observations
    out = []
    for body in resources:
        resource = json.loads(body)
        kind = resource.get("resourceType")
        if kind not in READ:
            resource = {"resourceType": kind, "id": resource.get("id")}
        elif kind == "Patient":
            resource = {k: resource[k] for k in _PATIENT_READ if k in resource}
        elif kind == "Observation" and not any(
            (c.get("system"), c.get("code")) in known
            for c in (resource.get("code") or {}).get("coding") or []
            if isinstance(c, dict)
        ):
            resource = {
                k: resource[k]
                for k in ("resourceType", "id", "status", "code", "subject")
                if k in resource
            }
        out.append(json.dumps(resource, separators=(",", ":")).encode())
    return out


#: The deepest nesting of a resource line (the bound of case documents).
MAX_DEPTH = Limits().max_depth
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")


def _too_deep(line: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """Whether ``line`` nests arrays and objects more than ``max_depth`` levels deep (brackets
    inside strings do not count). A line with few brackets is passed at the cost of a count."""
    if line.count(b"[") + line.count(b"{") <= max_depth:
        return False
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub(b"", line)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > max_depth:
            return True
    return False


def _patient_of(line: bytes) -> tuple[str | None, str]:
    """The patient a resource belongs to, or None and why not."""
    if _too_deep(line):
        return None, f"nested more than {MAX_DEPTH} levels deep"
    try:
        resource: Any = json.loads(line)
    except RecursionError:  # not reached past ``_too_deep``; a last guard, never the run's end
        return None, "nested too deep to read"
    except ValueError as error:
        return None, f"not valid JSON: {error}"
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return None, "not a FHIR resource (no resourceType)"
    kind = resource["resourceType"]
    if kind == "Patient":
        found = resource.get("id")
        return (found, "") if isinstance(found, str) and found else (None, "Patient without id")
    for key in ("subject", "patient"):  # first: a Device that names a patient is theirs
        reference = resource.get(key)
        target = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(target, str) and "Patient/" in target:
            return target.rsplit("Patient/", 1)[1].split("/")[0], ""
    if kind in SHARED_TYPES:  # nobody's record: kept by name (a Medication is referenced)
        return f"{_SHARED}{kind}/{resource.get('id')}", ""
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
