"""Whose record a resource is (PROBE1 D4): every form of a patient reference FHIR R4 allows,
resolved against the patient in context, on EHR-shaped resources built by the corpus's builders.

Each record holds the patient's own creatinine 0.62 mg/dL (2026-11-10) and a creatinine 1.5 dated
later whose subject is under test: when it is not the patient's, the case keeps 0.62 only and
the 1.5 is named in ``foreign`` with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from cmvcds.adapters.fhir.mapping import MappedCase, bundle_to_case
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY
from tests.fhir.ehr.generate import EHR, build, creat, lab_report, patient

MRN = "http://hospital.example.org/mrn"


def _record(*extra: dict[str, Any], pid: str = "p1") -> list[dict[str, Any]]:
    return [patient(pid, "female", "1992-04-11"), creat("own-cr", pid, "2026-11-10", 0.62), *extra]


def _stranger(subject: dict[str, Any] | None, **more: Any) -> dict[str, Any]:
    """The later creatinine 1.5 with ``subject`` (absent when None)."""
    resource = {k: v for k, v in creat("x-cr", "p1", "2026-11-20", 1.5).items() if k != "subject"}
    if subject is not None:
        resource["subject"] = subject
    return build({**resource, **more})


def _searchset(resources: list[dict[str, Any]], base: str = EHR) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def _map(knowledge: Knowledge, data: Any, **kw: Any) -> MappedCase:
    return bundle_to_case(data, knowledge, context="pregnancy", assessed_on=TODAY, **kw)


def _creatinines(mapped: MappedCase) -> list[float]:
    return [o["value"] for o in mapped.case["observations"] if o["code"] == "creatinine"]


ACCEPTED = [
    ("relative", {"reference": "Patient/p1"}),
    ("relative, version-specific", {"reference": "Patient/p1/_history/3"}),
    ("absolute on the record's server", {"reference": f"{EHR}/Patient/p1"}),
    ("identifier of the patient", {"identifier": {"system": MRN, "value": "MRN-p1"}}),
    (
        "literal and consistent identifier",
        {"reference": "Patient/p1", "identifier": {"system": MRN, "value": "MRN-p1"}},
    ),
]
REFUSED = [
    ("another patient", {"reference": "Patient/p2"}, "'Patient/p2' is another patient"),
    ("another version's patient", {"reference": "Patient/p2/_history/1"}, "another patient"),
    (
        "the same id on another server",
        {"reference": "https://other.example.org/fhir/Patient/p1"},
        "is on another FHIR server",
    ),
    ("a Group", {"reference": "Group/ward-3"}, "is not a reference to a Patient"),
    ("typed Group", {"type": "Group", "reference": "Group/ward-3"}, "is a Group"),
    (
        "another patient's identifier only",
        {"identifier": {"system": MRN, "value": "MRN-p2"}},
        f"{MRN}|MRN-p2 is not an identifier of Patient/p1",
    ),
    (
        "an identifier without system",
        {"identifier": {"value": "MRN-p1"}},
        "has no system and value",
    ),
    (
        "an identifier contradicting the reference",
        {"reference": "Patient/p1", "identifier": {"system": MRN, "value": "MRN-p2"}},
        "contradicts Patient/p1's identifier",
    ),
    ("a display only", {"display": "Maria Rossi"}, "names no patient"),
    ("no subject", None, "names no patient (Observation.subject is absent or empty)"),
    ("an unresolvable urn:uuid", {"reference": "urn:uuid:9d1f"}, "resolves to no entry"),
]


@pytest.mark.parametrize(("form", "subject"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_a_reference_to_the_context_patient_is_read(
    form: str, subject: dict[str, Any], knowledge: Knowledge
) -> None:
    data = {"patient": patient("p1", "female", "1992-04-11")}
    data["observations"] = _searchset(_record(_stranger(subject))[1:])
    mapped = _map(knowledge, data, patient="p1", server=EHR)
    assert mapped.foreign == []
    assert _creatinines(mapped) == [0.62, 1.5]


@pytest.mark.parametrize(("form", "subject", "why"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_reference_to_anyone_else_is_not_used_and_said(
    form: str, subject: dict[str, Any] | None, why: str, knowledge: Knowledge
) -> None:
    data = {"patient": patient("p1", "female", "1992-04-11")}
    data["observations"] = _searchset(_record(_stranger(subject))[1:])
    mapped = _map(knowledge, data, patient="p1", server=EHR)
    assert _creatinines(mapped) == [0.62]
    assert len(mapped.foreign) == 1
    assert mapped.foreign[0].startswith("Observation/x-cr not used: ")
    assert why in mapped.foreign[0]


def test_without_a_known_server_an_absolute_reference_is_not_assumed_ours(
    knowledge: Knowledge,
) -> None:
    record = _record(_stranger({"reference": f"{EHR}/Patient/p1"}))
    mapped = _map(knowledge, _searchset(record, base="urn:x"), patient="p1")
    assert _creatinines(mapped) == [0.62]
    assert "cannot be checked" in mapped.foreign[0]


def test_another_patients_patient_resource_is_refused(knowledge: Knowledge) -> None:
    """Probe: ``Patient.id`` "OTHER" with ``context.patientId`` p1 was read (a male: no card)."""
    data = {"patient": patient("OTHER", "male", "1950-01-01"), "observations": _searchset([])}
    mapped = _map(knowledge, data, patient="p1")
    assert mapped.case["patient"] == {}  # nothing of his: sex and age are missing, not his
    assert mapped.foreign == [
        "Patient/OTHER not used: it is another patient (Patient/OTHER), not Patient/p1"
    ]


def test_transaction_bundle_references_resolve_through_fullurl(knowledge: Knowledge) -> None:
    """FHIR R4 Bundle: ``urn:uuid:`` references resolve to the entry with that ``fullUrl``. The
    patient has no id yet (a transaction's new Patient); another patient's entry is refused."""
    me = {k: v for k, v in patient("p1", "female", "1992-04-11").items() if k != "id"}
    him = patient("p2", "male", "1950-01-01")
    mine = _stranger({"reference": "urn:uuid:aaaa"}, id="mine-cr")
    his = _stranger({"reference": "urn:uuid:bbbb"}, id="his-cr")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:aaaa", "resource": me},
            {"fullUrl": "urn:uuid:bbbb", "resource": him},
            {"fullUrl": "urn:uuid:cccc", "resource": mine},
            {"fullUrl": "urn:uuid:dddd", "resource": his},
        ],
    }
    with pytest.raises(InputError, match="records of 2 patients"):
        _map(knowledge, bundle)  # two Patients and no context: refused whole, never split
    bundle["entry"].pop(1)
    mapped = _map(knowledge, bundle)
    assert mapped.case["patient"]["sex"] == "female"
    assert _creatinines(mapped) == [1.5]  # mine-cr
    assert mapped.foreign == [
        "Observation/his-cr not used: its subject 'urn:uuid:bbbb' resolves to no entry of the "
        "Bundle (fullUrl)"
    ]


def test_a_contained_patient_is_ours_only_with_our_identifier(knowledge: Knowledge) -> None:
    copy = {
        "resourceType": "Patient",
        "id": "pt",
        "identifier": [{"system": MRN, "value": "MRN-p1"}],
    }
    ours = _stranger({"reference": "#pt"}, id="ours-cr", contained=[copy])
    other = {**copy, "identifier": [{"system": MRN, "value": "MRN-p2"}]}
    theirs = _stranger({"reference": "#pt"}, id="theirs-cr", contained=[other])
    mapped = _map(knowledge, _searchset(_record(ours, theirs)), patient="p1")
    assert _creatinines(mapped) == [0.62, 1.5]
    assert mapped.foreign == [
        "Observation/theirs-cr not used: its subject '#pt' is a contained Patient without an "
        "identifier of Patient/p1"
    ]


def test_results_contained_in_a_report_are_checked_too(knowledge: Knowledge) -> None:
    """Italian FSE report: a contained result without subject is the report's; one naming
    another patient is not used; a report of another patient is not read at all."""
    own = {k: v for k, v in creat("r1", "p1", "2026-11-20", 1.1).items() if k != "subject"}
    stray = creat("r2", "p2", "2026-11-21", 1.5)
    report = lab_report("p1", "2026-11-20", "Referto", [own, stray])
    foreign_report = lab_report("p2", "2026-11-22", "Referto", [creat("r3", "p2", "2026-11-22", 2)])
    mapped = _map(knowledge, _searchset(_record(report, foreign_report)), patient="p1")
    assert _creatinines(mapped) == [0.62, 1.1]
    assert mapped.foreign == [
        "DiagnosticReport/p1-dr result #r2 not used: its subject 'Patient/p2' is another "
        "patient, not Patient/p1",
        "DiagnosticReport/p2-dr not used: its subject 'Patient/p2' is another patient, not "
        "Patient/p1",
    ]


def test_an_upload_naming_no_patient_is_refused(knowledge: Knowledge) -> None:
    with pytest.raises(InputError, match="name no patient"):
        _map(knowledge, _searchset([_stranger(None)]))


def test_a_context_patient_id_that_is_not_a_fhir_id_is_refused(knowledge: Knowledge) -> None:
    """Probe: ``context.patientId`` "../../etc/passwd" was accepted."""
    with pytest.raises(InputError, match="is not a FHIR id"):
        _map(knowledge, _searchset(_record()), patient="../../etc/passwd")


def test_two_patients_without_id_are_two_patients(knowledge: Knowledge) -> None:
    """Review: two id-less Patients collapsed to the one id "None", refused as "patient None"."""
    anonymous = [
        {k: v for k, v in patient(p, "female", "1992-04-11").items() if k != "id"}
        for p in ("p1", "p2")
    ]
    with pytest.raises(InputError, match=r"records of 2 patients \(\?, \?\)"):
        _map(
            knowledge,
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": r} for r in anonymous],
            },
        )


def test_another_patients_invalid_resource_is_said_not_ours(knowledge: Knowledge) -> None:
    """Review: an invalid resource of another patient was reported "ignored" for its defect, not
    "not used" as another patient's record."""
    invalid = _stranger({"reference": "Patient/p2"}, status="not-a-status")
    mapped = _map(knowledge, _searchset(_record(invalid)), patient="p1", server=EHR)
    assert mapped.ignored == []
    assert mapped.foreign == [
        "Observation/x-cr not used: its subject 'Patient/p2' is another patient, not Patient/p1"
    ]
