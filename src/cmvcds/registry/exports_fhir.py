"""The registry as FHIR R4 NDJSON (one file per resource type, as a Bulk Data export writes it).

ResearchStudy, Patient (pseudonym; the site's record number in the identified profile only),
ResearchSubject, Consent and Observation. Each Observation is coded and typed from the study's
``fhir`` mapping (``registry/study.yaml``): dated by its form's date field (``effectiveDateTime``,
redated like every date of the profile), numbers as ``valueQuantity`` with their UCUM unit,
coded choices as ``valueCodeableConcept`` (the registry's coding, and a SNOMED CT one where the
mapping gives it), yes/no as ``valueBoolean``, dates as ``valueDateTime``. The laboratory form
is one Observation per instance, coded by its test (LOINC where the mapping knows the code).
Nothing is converted: a number keeps the unit the dictionary states.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from cmvcds.knowledge.schemas.registry import (
    DictionaryField,
    FhirExport,
    FhirMeasured,
)
from cmvcds.registry.dictionary import Crf, choices
from cmvcds.registry.export_load import ExportSubject
from cmvcds.registry.models import Consent

__all__ = ["fhir_files"]

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
NO_MAPPING = FhirExport(effective={}, citations=("hl7-fhir-r4",))


def fhir_files(
    crf: Crf, fields: tuple[DictionaryField, ...], subjects: list[ExportSubject], profile: str
) -> dict[str, str]:
    """The NDJSON files of the export (``fields``: those the profile exports)."""
    system = f"urn:cmvcds:registry:{crf.design.oid.lower()}"
    mapping = crf.design.fhir or NO_MAPPING
    kinds = {row.field_name: row for row in fields}
    study = {"resourceType": "ResearchStudy", "id": crf.design.oid.lower(), "status": "active",
             "title": crf.design.name, "identifier": [{"system": system, "value": crf.design.oid}]}  # fmt: skip
    patients, research_subjects, observations, consent_resources = [], [], [], []
    for subject in subjects:
        pid = subject.key.lower()
        patients.append(_patient(system, subject, pid, profile))
        for n, consent in enumerate(subject.consents, start=1):
            consent_resources.append(_consent(pid, n, consent, subject.redate))
        research_subjects.append({
            "resourceType": "ResearchSubject", "id": f"rs-{pid}", "status": "on-study",
            "study": {"reference": f"ResearchStudy/{study['id']}"},
            "individual": {"reference": f"Patient/{pid}"},
        })  # fmt: skip
        for (event, instrument, instance), cells in sorted(subject.values.items()):
            slot = _Slot(system, mapping, kinds, subject.key, pid, event, instrument, instance)
            observations += slot.observations(cells, crf.design.repeating)
    return {
        "ResearchStudy.ndjson": json.dumps(study) + "\n",
        "Patient.ndjson": "".join(json.dumps(p) + "\n" for p in patients),
        "ResearchSubject.ndjson": "".join(json.dumps(r) + "\n" for r in research_subjects),
        "Observation.ndjson": "".join(json.dumps(o) + "\n" for o in observations),
        "Consent.ndjson": "".join(json.dumps(c) + "\n" for c in consent_resources),
    }


def _patient(system: str, subject: ExportSubject, pid: str, profile: str) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient", "id": pid,
        "identifier": [{"system": f"{system}:pseudonym", "value": subject.key}],
    }  # fmt: skip
    if subject.kind == "mother":
        patient["gender"] = "female"
    if profile == "site" and subject.identity:
        patient["identifier"].append(
            {"system": f"{system}:site:{subject.site}:mrn", "value": subject.identity}
        )
    if subject.mother:
        patient["link"] = [
            {"other": {"reference": f"Patient/{subject.mother.lower()}"}, "type": "seealso"}
        ]
    return patient


class _Slot:
    """One form instance of one subject → its Observations."""

    def __init__(
        self,
        system: str,
        mapping: FhirExport,
        kinds: dict[str, DictionaryField],
        key: str,
        pid: str,
        event: str,
        instrument: str,
        instance: int,
    ) -> None:
        self.system, self.mapping, self.kinds = system, mapping, kinds
        self.key, self.pid = key, pid
        self.event, self.instrument, self.instance = event, instrument, instance

    def observations(
        self, cells: dict[str, str], repeating: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        date_field = self.mapping.effective.get(self.instrument)
        effective = cells.get(date_field) if date_field else None
        measured = next((m for m in self.mapping.measured if m.instrument == self.instrument), None)
        skip = {date_field} if effective else set()
        found = []
        if measured is not None and cells.get(measured.test):
            skip |= {measured.test, measured.number, measured.result}
            found.append(self._measured(measured, cells))
        for name, value in sorted(cells.items()):
            if name in skip or value == "":
                continue
            row = self.kinds.get(name)
            values = (
                value.split(",") if row is not None and row.field_type == "checkbox" else [value]
            )
            for part in values:
                found.append(self._base(name, part) | self._value(name, row, part))
        for observation in found:
            if effective:
                observation["effectiveDateTime"] = effective
            if self.instrument in repeating:
                observation["identifier"] = [
                    {
                        "system": f"{self.system}:instance",
                        "value": f"{self.instrument}#{self.instance}",
                    }
                ]
        return found

    def _base(self, name: str, part: str = "") -> dict[str, Any]:
        row = self.kinds.get(name)
        ident = f"{self.key}/{self.event}/{self.instrument}/{self.instance}/{name}/{part}"
        return {
            "resourceType": "Observation",
            "id": hashlib.sha256(ident.encode()).hexdigest()[:40],
            "status": "final",
            "category": [{"coding": [{"system": f"{self.system}:event", "code": self.event}]}],
            "code": {
                "coding": [
                    {
                        "system": f"{self.system}:field",
                        "code": name,
                        "display": row.field_label if row else name,
                    }
                ]
            },
            "subject": {"reference": f"Patient/{self.pid}"},
        }

    def _measured(self, measured: FhirMeasured, cells: dict[str, str]) -> dict[str, Any]:
        choice = cells[measured.test]
        test = next((t for t in measured.tests if t.choice == choice), None)
        row = self.kinds.get(measured.test)
        label = choices(row).get(choice, choice) if row else choice
        observation = self._base(measured.test)
        codings: list[dict[str, str | None]] = [
            {"system": f"{self.system}:{measured.test}", "code": choice, "display": label}
        ]
        if test is not None and test.loinc:
            codings.insert(0, {"system": LOINC, "code": test.loinc, "display": test.display})
        observation["code"] = {"coding": codings, "text": label}
        number = cells.get(measured.number, "")
        if number:
            observation |= _quantity(number, test.ucum if test else None)
        elif cells.get(measured.result, ""):
            observation |= self._value(
                measured.result, self.kinds.get(measured.result), cells[measured.result]
            )
        return observation

    def _value(self, name: str, row: DictionaryField | None, value: str) -> dict[str, Any]:
        if row is None:
            return {"valueString": value}
        if row.field_type in ("yesno", "truefalse"):
            return {"valueBoolean": value == "1"}
        if row.field_type in ("radio", "dropdown", "checkbox"):
            codings = [{"system": f"{self.system}:{name}", "code": value,
                        "display": choices(row).get(value, value)}]  # fmt: skip
            codings += [
                {"system": a.system, "code": a.code, "display": a.display}
                for a in self.mapping.answers
                if a.field == name and a.choice == value
            ]
            return {"valueCodeableConcept": {"coding": codings}}
        if row.validation in ("integer", "number"):
            return _quantity(value, self.mapping.units.get(name))
        if row.validation.startswith("date"):
            return {"valueDateTime": value}
        return {"valueString": value}


def _quantity(text: str, ucum: str | None) -> dict[str, Any]:
    """``valueQuantity`` with the UCUM unit when known (a text that is not a number, which the
    forms refuse, stays the text it is: ``valueString``)."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return {"valueString": text}
    value: int | float = int(number) if number == number.to_integral_value() else float(number)
    quantity: dict[str, Any] = {"value": value}
    if ucum:
        quantity |= {"unit": ucum, "system": UCUM, "code": ucum}
    return {"valueQuantity": quantity}


def _consent(pid: str, n: int, consent: Consent, redate: Callable[[str], str]) -> dict[str, Any]:
    """An active research consent (withdrawn subjects are never exported)."""
    signed = consent.signed_on.isoformat()
    scope = consent.scope + ("; written consent to off-label use under Law 648/96"
                             if consent.written_648_consent else "")  # fmt: skip
    return {
        "resourceType": "Consent", "id": f"consent-{pid}-{n}", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "research"}]},
        "category": [{"text": "research study participation"}],
        "patient": {"reference": f"Patient/{pid}"},
        "dateTime": redate(signed),
        "policyRule": {"text": f"information sheet {consent.information_sheet_version}: {scope}"},
    }  # fmt: skip
