"""Whose record a resource is: the patient in context, or not (PROBE1 D4).

Every input that builds a case from FHIR (CDS Hooks prefetch and the service's own searches,
the SMART launch, the Bundle upload, the Bulk ``$export``) reads only the resources of the
patient in context: a resource whose patient reference (``subject``) does not resolve to that
patient is not used and is said, with the reason;
so is a ``Patient`` that is not the context patient. Nothing here guesses:

- FHIR R4 ``Reference.reference`` (https://hl7.org/fhir/R4/references-definitions.html) "may be a
  relative reference, in which case it is relative to the service base URL, or an absolute URL":
  ``Patient/123`` (or ``Patient/123/_history/2``) is the context patient when its id is the
  context id; an absolute URL only when it is ``<fhirServer>/Patient/<id>`` of the server the data
  came from, or the ``fullUrl`` of the context Patient's entry in the same Bundle (references in
  a Bundle, ``urn:uuid:`` ones included, resolve to an entry's ``fullUrl``:
  https://hl7.org/fhir/R4/bundle.html#references); a URL on a server we cannot check is refused.
- ``#id`` (ref-1: "SHALL have a contained resource if a local reference is provided") is a
  contained Patient: it has no identity of its own, so it is the context patient only when it
  carries one of the context Patient's identifiers.
- ``Reference.identifier`` alone is a logical reference ("Logical reference, when literal
  reference is not known", same page): it is the context patient only when its system and value are
  one of the context Patient's identifiers; an identifier that contradicts the literal reference
  (same system, another value) is refused too.
- No reference at all: base FHIR R4 allows it (``Observation.subject`` 0..1), US Core's
  Observation profiles require it (1..1: taken from the lead's brief; the profile pages were
  found, their element tables not re-read here), and a CDS Hooks service answers for
  ``context.patientId`` only: a resource that names no patient cannot be attributed, so it is
  refused, never assumed ours.
- A reference typed, or pointing, to a ``Group``, ``Device``, ``Location``… is not a patient.

Results contained in a DiagnosticReport with no ``subject`` of their own are the report's (a
contained resource has no independent existence: https://hl7.org/fhir/R4/references.html#contained); one that
names a subject is checked like any other. Pure functions, no I/O.
(FHIR R4 Reference definitions read through the project's documentation search on 2026-12-07.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cmvcds.adapters.fhir.reason import Reason

__all__ = ["ContextPatient", "bundle_urls", "context_patient", "not_ours"]

#: The element naming the patient, per resource type the mapping reads (``mapping.READ``; FHIR
#: R4: ``subject``, but ``patient`` for an AllergyIntolerance); a Medication names no patient.
PATIENT_ELEMENT = {
    "Observation": "subject",
    "Condition": "subject",
    "MedicationRequest": "subject",
    "MedicationStatement": "subject",
    "MedicationAdministration": "subject",
    "DiagnosticReport": "subject",
    "AllergyIntolerance": "patient",
}
_ID = r"[A-Za-z0-9\-.]{1,64}"
_RELATIVE = re.compile(rf"^Patient/({_ID})(?:/_history/{_ID})?$")
_ABSOLUTE = re.compile(rf"^(https?://.+)/Patient/({_ID})(?:/_history/{_ID})?$")


@dataclass(frozen=True)
class ContextPatient:
    """The patient a case is built for: its id, the FHIR server the data came from (absolute
    references on it resolve), its identifiers and the Bundle ``fullUrl``\\ s of its entry."""

    id: str | None
    server: str | None = None
    identifiers: frozenset[tuple[str, str]] = frozenset()
    full_urls: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return f"Patient/{self.id}" if self.id else Reason("the Bundle's Patient (no id)")


def bundle_urls(data: Any) -> dict[str, dict[str, Any]]:
    """``fullUrl → resource`` of every Bundle entry in ``data`` (nested Bundles and named parts too)."""
    return dict(_urls(data))


def _urls(data: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(data, list):
        for item in data:
            yield from _urls(item)
    elif isinstance(data, dict) and "resourceType" not in data:
        for item in data.values():
            yield from _urls(item)
    elif isinstance(data, dict) and data.get("resourceType") == "Bundle":
        for entry in data.get("entry") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                continue
            if isinstance(entry.get("fullUrl"), str):
                yield entry["fullUrl"], entry["resource"]
            yield from _urls(entry["resource"])


def context_patient(
    patient_id: str | None,
    resources: Iterable[dict[str, Any]],
    urls: Mapping[str, dict[str, Any]],
    server: str | None = None,
) -> ContextPatient | str:
    """The context patient of ``resources``: ``patient_id`` when the caller names it (CDS Hooks
    ``context.patientId``, the SMART launch's patient), else the one Patient of the data, else
    the one patient their references name; a sentence saying why when the data name none or
    several (an upload holding two patients' records is refused whole, never split by guess), a
    ``Reason`` that a page says in its own language."""
    if patient_id is not None and not re.fullmatch(_ID, patient_id):
        return Reason(
            "the context patient id %(id)s is not a FHIR id ([A-Za-z0-9-.]{1,64})",
            id=repr(patient_id[:80]),
        )
    listed = list(resources)
    patients = [r for r in listed if r.get("resourceType") == "Patient"]
    if patient_id is None and len(patients) == 1 and patients[0].get("id") is None:
        # a transaction Bundle's new Patient: known by its fullUrl only (urn:uuid:…)
        only = patients[0]
        full = frozenset(url for url, r in urls.items() if r is only)
        return ContextPatient(None, None, _identifiers(only), full)
    if patient_id is None:
        ids = sorted({str(p["id"]) for p in patients if p.get("id") is not None})
        ids += ["?"] * sum(p.get("id") is None for p in patients)  # each id-less one counts
        if not ids:
            ids = sorted(
                {
                    m.group(1)
                    for r in listed
                    for m in [_RELATIVE.match(_literal(r))]
                    if m is not None
                }
            )
        if len(ids) != 1:
            return (
                Reason(
                    "the data hold the records of %(count)s patients (%(ids)s): send one "
                    "patient's record",
                    count=len(ids),
                    ids=", ".join(ids[:5]),
                )
                if ids
                else Reason("the data name no patient (no Patient resource, no Patient/… subject)")
            )
        patient_id = ids[0]
    ours = [p for p in patients if p.get("id") == patient_id]
    identifiers = frozenset().union(*(_identifiers(p) for p in ours))
    full = frozenset(url for url, r in urls.items() if any(r is p for p in ours))
    base = server.rstrip("/") if server else None
    return ContextPatient(patient_id, base, identifiers, full)


def _literal(resource: dict[str, Any]) -> str:
    element = PATIENT_ELEMENT.get(str(resource.get("resourceType")))
    ref = resource.get(element) if element else None
    found = ref.get("reference") if isinstance(ref, dict) else None
    return found if isinstance(found, str) else ""


def not_ours(
    resource: dict[str, Any],
    patient: ContextPatient,
    urls: Mapping[str, dict[str, Any]],
    *,
    container: dict[str, Any] | None = None,
) -> str | None:
    """Why ``resource`` is not the context patient's (None when it is, or names no patient by
    its type). ``container``: the DiagnosticReport a contained result came in."""
    kind = resource.get("resourceType")
    if kind == "Patient":
        if resource.get("id") == patient.id or any(
            urls.get(u) is resource for u in patient.full_urls
        ):
            return None
        return Reason(
            "it is another patient (%(other)s), not %(patient)s",
            other=f"Patient/{resource.get('id', '?')}",
            patient=patient.name,
        )
    element = PATIENT_ELEMENT.get(str(kind))
    if element is None:
        return None
    ref = resource.get(element)
    if ref is None and container is not None:
        return None  # a contained result without subject is its report's (checked itself)
    if not isinstance(ref, dict) or not (ref.get("reference") or ref.get("identifier")):
        return Reason(
            "it names no patient (%(element)s is absent or empty): it cannot be attributed to "
            "%(patient)s",
            element=f"{kind}.{element}",
            patient=patient.name,
        )
    typed = ref.get("type")
    if typed not in (None, "Patient"):
        return Reason(
            "its %(element)s is a %(type)s, not %(patient)s",
            element=element,
            type=typed,
            patient=patient.name,
        )
    literal = ref.get("reference")
    if isinstance(literal, str) and literal:
        problem = _resolve(literal, patient, urls, container or resource)
        if problem:
            return Reason(
                "its %(element)s %(reference)s %(problem)s",
                element=element,
                reference=repr(literal),
                problem=problem,
            )
    identifier = ref.get("identifier")
    if identifier is not None:
        problem = _identified(identifier, patient, alone=not literal)
        if problem:
            return Reason(
                "its %(element)s identifier %(problem)s", element=element, problem=problem
            )
    return None


def _resolve(
    literal: str,
    patient: ContextPatient,
    urls: Mapping[str, dict[str, Any]],
    container: dict[str, Any],
) -> str | None:
    if literal.startswith("#"):
        inner = next(
            (
                c
                for c in container.get("contained") or []
                if isinstance(c, dict) and c.get("id") == literal[1:]
            ),
            None,
        )
        if inner is None or inner.get("resourceType") != "Patient":
            return Reason("is not a contained Patient")
        if patient.identifiers & _identifiers(inner):
            return None
        return Reason(
            "is a contained Patient without an identifier of %(patient)s", patient=patient.name
        )
    if literal in patient.full_urls:
        return None
    relative = _RELATIVE.match(literal)
    if relative:
        if relative.group(1) == patient.id:
            return None
        return Reason("is another patient, not %(patient)s", patient=patient.name)
    if literal.startswith(("urn:uuid:", "urn:oid:")):
        target = urls.get(literal)
        if target is None:
            return Reason("resolves to no entry of the Bundle (fullUrl)")
        return Reason(
            "resolves to %(target)s, not %(patient)s",
            target=f"{target.get('resourceType')}/{target.get('id', '?')}",
            patient=patient.name,
        )
    absolute = _ABSOLUTE.match(literal)
    if absolute is None:
        return Reason("is not a reference to a Patient")
    if patient.server is None or absolute.group(1).rstrip("/") != patient.server:
        return Reason("is on another FHIR server than the record's (it cannot be checked)")
    if absolute.group(2) == patient.id:
        return None
    return Reason("is another patient, not %(patient)s", patient=patient.name)


def _identifiers(resource: dict[str, Any]) -> frozenset[tuple[str, str]]:
    return frozenset(
        (str(i["system"]), str(i["value"]))
        for i in resource.get("identifier") or []
        if isinstance(i, dict) and i.get("system") and i.get("value")
    )


def _identified(identifier: Any, patient: ContextPatient, *, alone: bool) -> str | None:
    system = identifier.get("system") if isinstance(identifier, dict) else None
    value = identifier.get("value") if isinstance(identifier, dict) else None
    if not system or not value:
        return Reason("has no system and value: it cannot be matched") if alone else None
    if (str(system), str(value)) in patient.identifiers:
        return None
    if alone:
        return Reason(
            "%(identifier)s is not an identifier of %(patient)s",
            identifier=f"{system}|{value}",
            patient=patient.name,
        )
    if any(s == system for s, _ in patient.identifiers):
        return Reason(
            "%(identifier)s contradicts %(patient)s's identifier in that system",
            identifier=f"{system}|{value}",
            patient=patient.name,
        )
    return None
