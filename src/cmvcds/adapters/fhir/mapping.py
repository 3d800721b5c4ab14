"""FHIR R4 resources (a Bundle, a searchset or a list) → a ``cmvcds-case/1`` mapping.

Each resource is validated with ``fhir.resources.R4B`` (types and cardinality; R4B is wire-
compatible with R4 for the resources we read) and then against the required bindings of our
value sets, which that library does not check (``Observation.status = "bogus"`` is refused here).
Codes are looked up in the ``fhir_valuesets`` knowledge table; a code we do not know, or a
result we cannot read, is listed in ``MappedCase.unmapped`` — reported, never dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from cmvcds.domain.gestational_age import GestationalAge
from cmvcds.domain.vocabulary import Indication
from cmvcds.errors import CaseFormatError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.fhir import FhirValueSets, ObservationCode

__all__ = [
    "MappedCase",
    "ValueSets",
    "bundle_to_case",
    "medication_course",
    "order_indication",
    "resources_of",
]

READ = ("Patient", "Observation", "Condition", "MedicationRequest", "MedicationStatement")
PREGNANCY_TARGETS = frozenset({"pregnancy_status", "gestational_age", "lmp", "edd"})


@dataclass
class MappedCase:
    """The case mapping, what could not be mapped (one line each) and what the conditions say."""

    case: dict[str, Any]
    unmapped: list[str] = field(default_factory=list)
    conditions: set[str] = field(default_factory=set)
    pregnant: bool | None = None


class ValueSets:
    """Fast lookups over the ``fhir_valuesets`` table."""

    def __init__(self, table: FhirValueSets) -> None:
        self.table = table
        self.observations = {(o.system, o.code): o for o in table.observations}
        self.answers = {(a.system, a.code): a.result for a in table.answers}
        self.medications = {(m.system, m.code): m.drug for m in table.medications}
        self.conditions = {(c.system, c.code): c.meaning for c in table.conditions}
        self.routes = {(r.system, r.code): r.route for r in table.routes}
        self.units = {u.ucum: u.unit for u in table.units}
        self.bindings = {(b.resource, b.element): b for b in table.bindings}

    def loinc_codes(self, *targets: str) -> list[str]:
        """``system|code`` of every Observation code mapping to one of ``targets`` (all if none)."""
        return [
            f"{o.system}|{o.code}"
            for o in self.table.observations
            if not targets or o.maps_to in targets
        ]


_BUILT: dict[int, ValueSets] = {}


def value_sets(knowledge: Knowledge) -> ValueSets:
    """The lookups of ``knowledge``'s value sets (built once per loaded table)."""
    table = knowledge.table("fhir_valuesets", FhirValueSets)
    built = _BUILT.get(id(table))
    if built is None or built.table is not table:
        built = _BUILT[id(table)] = ValueSets(table)
    return built


def resources_of(data: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, resource)`` for every resource of a Bundle (nested searchsets too) or a list."""
    if isinstance(data, list):
        for i, item in enumerate(data):
            for where, resource in resources_of(item):
                yield f"[{i}]{where}", resource
        return
    if not isinstance(data, dict):
        return
    if "resourceType" not in data:  # named parts, e.g. CDS Hooks prefetch keys
        for key, item in data.items():
            for where, resource in resources_of(item):
                yield f"{key}{'.' if where and not where.startswith('[') else ''}{where}", resource
        return
    if data.get("resourceType") == "Bundle":
        for i, entry in enumerate(data.get("entry") or []):
            inner_resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(inner_resource, dict):
                for where, inner in resources_of(inner_resource):
                    yield f"entry[{i}].resource{where}", inner
        return
    if "resourceType" in data:
        yield "", data


def bundle_to_case(
    data: Any,
    knowledge: Knowledge,
    *,
    context: str,
    assessed_on: date,
    case_id: str | None = None,
) -> MappedCase:
    """Map FHIR resources to a case of ``context`` assessed on ``assessed_on``.

    Raises ``CaseFormatError`` listing every resource that breaks FHIR R4 or a required binding.
    """
    sets = value_sets(knowledge)
    problems: list[str] = []
    resources: list[tuple[str, dict[str, Any]]] = []
    for where, resource in resources_of(data):
        kind = resource.get("resourceType")
        if kind not in READ:
            continue
        label = where or f"{kind}/{resource.get('id', '?')}"
        problems += _validate(label, resource)
        problems += _bindings(label, resource, sets)
        resources.append((label, resource))
    if problems:
        error = CaseFormatError(problems[0])
        error.problems = problems  # type: ignore[attr-defined]
        raise error
    mapper = _Mapper(sets, context, assessed_on)
    for label, resource in resources:
        mapper.add(label, resource)
    return mapper.result(case_id)


def _validate(label: str, resource: dict[str, Any]) -> list[str]:
    text = json.dumps(resource, sort_keys=True, separators=(",", ":"), default=str)
    return [f"{label}.{problem}" for problem in _fhir_problems(resource["resourceType"], text)]


@lru_cache(maxsize=4096)
def _fhir_problems(kind: str, text: str) -> tuple[str, ...]:
    """FHIR R4 problems of one resource (cached by content: an EHR sends the same resources of a
    patient again at every chart opening, and the answer depends on the content only)."""
    model = get_fhir_model_class(kind)
    try:
        model.model_validate_json(text)
    except ValidationError as error:
        return tuple(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (FHIR R4 {kind})"
            for e in error.errors()[:5]
        )
    return ()


def _bindings(label: str, resource: dict[str, Any], sets: ValueSets) -> list[str]:
    found = []
    kind = resource["resourceType"]
    for (res, element), binding in sets.bindings.items():
        if res != kind or element not in resource:
            continue
        value = resource[element]
        codes = (
            [c.get("code") for c in value.get("coding", [])] if isinstance(value, dict) else [value]
        )
        for code in codes:
            if code not in binding.codes:
                found.append(
                    f"{label}.{element}: {code!r} is not in the required value set ({', '.join(binding.codes)})"
                )
    return found


def _codings(concept: Any) -> list[tuple[str, str, str]]:
    if not isinstance(concept, dict):
        return []
    return [
        (c.get("system", ""), c.get("code", ""), c.get("display", ""))
        for c in concept.get("coding") or []
    ]


def _date(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _effective(resource: dict[str, Any]) -> str | None:
    return _date(
        resource.get("effectiveDateTime")
        or (resource.get("effectivePeriod") or {}).get("start")
        or resource.get("effectiveInstant")
        or resource.get("issued")
    )


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _plain_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class _Mapper:
    def __init__(self, sets: ValueSets, context: str, assessed_on: date) -> None:
        self.sets = sets
        self.context = context
        self.assessed_on = assessed_on
        self.patient: dict[str, Any] = {}
        self.patient_id: str | None = None
        self.pregnancy: dict[str, Any] = {}
        self.observations: list[dict[str, Any]] = []
        self.therapy: list[dict[str, Any]] = []
        self.unmapped: list[str] = []
        self.conditions: set[str] = set()
        self.pregnant: bool | None = None
        self._latest: dict[str, str] = {}

    def add(self, label: str, resource: dict[str, Any]) -> None:
        kind = resource["resourceType"]
        if kind == "Patient":
            self._patient(resource)
        elif kind == "Observation":
            self._observation(label, resource)
        elif kind == "Condition":
            self._condition(label, resource)
        else:
            course = medication_course(resource, self.sets)
            if isinstance(course, str):
                self.unmapped.append(f"{label}: {course}")
            elif course is not None:
                self.therapy.append(course)

    def _patient(self, resource: dict[str, Any]) -> None:
        self.patient_id = resource.get("id")
        if resource.get("gender") in ("male", "female"):
            self.patient["sex"] = resource["gender"]
        if resource.get("birthDate") and len(str(resource["birthDate"])) == 10:
            self.patient["birth_date"] = resource["birthDate"]

    def _condition(self, label: str, resource: dict[str, Any]) -> None:
        status = [c for _, c, _ in _codings(resource.get("verificationStatus"))]
        if any(c in ("refuted", "entered-in-error") for c in status):
            return
        for system, code, _display in _codings(resource.get("code")):
            meaning = self.sets.conditions.get((system, code))
            if meaning:
                self.conditions.add(meaning)
                if meaning == "pregnant":
                    self.pregnant = True
                return
        first = _codings(resource.get("code"))
        self.unmapped.append(f"{label}: Condition code {_show(first)} is not in the value sets")

    def _observation(self, label: str, resource: dict[str, Any]) -> None:
        binding = self.sets.bindings.get(("Observation", "status"))
        if binding and binding.use and resource.get("status") not in binding.use:
            self.unmapped.append(
                f"{label}: Observation status {resource.get('status')!r} is not used"
            )
            return
        codings = _codings(resource.get("code"))
        spec = next(
            (
                self.sets.observations[(s, c)]
                for s, c, _ in codings
                if (s, c) in self.sets.observations
            ),
            None,
        )
        if spec is None:
            self.unmapped.append(
                f"{label}: Observation code {_show(codings)} is not in the value sets"
            )
            return
        day = _effective(resource)
        if day is None:
            self.unmapped.append(f"{label}: Observation {spec.code} has no effective date")
            return
        if spec.maps_to in PREGNANCY_TARGETS:
            self._pregnancy(label, spec, day, resource)
            return
        item: dict[str, Any] = {"date": day, "code": spec.maps_to}
        if spec.specimen:
            item["specimen"] = spec.specimen
        quantity = resource.get("valueQuantity")
        result = self._result(resource)
        if (
            isinstance(quantity, dict)
            and quantity.get("value") is not None
            and spec.maps_to not in ("cmv_igg", "cmv_igm")
        ):
            value = _number(quantity["value"])
            unit = self.sets.units.get(str(quantity.get("code", ""))) or quantity.get("unit")
            if value is None or not unit:
                self.unmapped.append(
                    f"{label}: Observation {spec.code} has a quantity without a usable unit"
                )
                return
            item["value"] = _plain_number(value)
            item["unit"] = unit
            comparator = quantity.get("comparator")
            if comparator in ("<", "<=") and spec.maps_to == "cmv_dna":
                item.pop("value"), item.pop("unit")
                item["result"] = "detected_below_lloq" if value > 0 else "not_detected"
        elif result is not None:
            item["result"] = result
        else:
            self.unmapped.append(
                f"{label}: Observation {spec.code} has no value or coded result we can read"
            )
            return
        if spec.maps_to == "cmv_igg_avidity" and "result" not in item:
            result = self._result(resource)
            if result is None:
                self.unmapped.append(
                    f"{label}: avidity {spec.code} needs the laboratory's category (low/intermediate/high)"
                )
                return
            item = {"date": day, "code": spec.maps_to, "result": result}
        self.observations.append(item)
        if spec.maps_to in ("weight", "height") and "value" in item:
            key, unit = ("weight_kg", "kg") if spec.maps_to == "weight" else ("height_cm", "cm")
            if item["unit"] == unit and day >= self._latest.get(key, ""):
                self.patient[key] = item["value"]
                self._latest[key] = day

    def _result(self, resource: dict[str, Any]) -> str | None:
        for concept in (
            resource.get("valueCodeableConcept"),
            *(resource.get("interpretation") or []),
        ):
            for system, code, _ in _codings(concept):
                if (system, code) in self.sets.answers:
                    return self.sets.answers[(system, code)]
        text = resource.get("valueString") or (resource.get("valueCodeableConcept") or {}).get(
            "text"
        )
        if isinstance(text, str):
            word = text.strip().lower().replace(" ", "_")
            if word in {
                "positive",
                "negative",
                "equivocal",
                "detected",
                "not_detected",
                "low",
                "intermediate",
                "high",
            }:
                return word
        return None

    def _pregnancy(
        self, label: str, spec: ObservationCode, day: str, resource: dict[str, Any]
    ) -> None:
        if spec.maps_to == "pregnancy_status":
            result = self._result(resource)
            if result in ("pregnant", "not_pregnant"):
                self.pregnant = result == "pregnant"
            else:
                self.unmapped.append(f"{label}: pregnancy status answer not in the value sets")
        elif spec.maps_to == "gestational_age":
            quantity = resource.get("valueQuantity") or {}
            value = _number(quantity.get("value"))
            unit = str(quantity.get("code") or quantity.get("unit") or "")
            days = (
                None
                if value is None
                else (
                    value * 7
                    if unit in ("wk", "week", "weeks")
                    else value
                    if unit in ("d", "day", "days")
                    else None
                )
            )
            if days is None:
                self.unmapped.append(f"{label}: gestational age needs a value in wk or d")
            elif day >= self._latest.get("dating", ""):
                self.pregnancy["dating"] = {
                    "date": day,
                    "gestational_age": str(GestationalAge(int(days.to_integral_value()))),
                }
                self._latest["dating"] = day
        else:
            when = _date(resource.get("valueDateTime"))
            if when is None:
                self.unmapped.append(f"{label}: {spec.maps_to} needs valueDateTime")
            else:
                self.pregnancy[spec.maps_to] = when

    def result(self, case_id: str | None) -> MappedCase:
        case: dict[str, Any] = {
            "format": "cmvcds-case/1",
            "id": case_id or f"fhir-{self.patient_id or 'patient'}",
            "assessed_on": self.assessed_on.isoformat(),
            "context": self.context,
            "patient": self.patient,
            "observations": self.observations,
            "therapy": self.therapy,
        }
        if self.context == "pregnancy":
            case["pregnancy"] = self.pregnancy
        elif self.pregnancy:
            self.unmapped.append("pregnancy dating given for a case whose context is not pregnancy")
        return MappedCase(case, self.unmapped, self.conditions, self.pregnant)


def _show(codings: Iterable[tuple[str, str, str]]) -> str:
    items = [f"{s}|{c}" + (f" ({d})" if d else "") for s, c, d in codings]
    return ", ".join(items) or "(none)"


def medication_course(resource: dict[str, Any], sets: ValueSets) -> dict[str, Any] | str | None:
    """A therapy entry of the case from a MedicationRequest/Statement; a reason string if not
    mappable; None when its status says it is not to be used."""
    kind = resource["resourceType"]
    binding = sets.bindings.get((kind, "status"))
    if binding and binding.use and resource.get("status") not in binding.use:
        return None
    concept = resource.get("medicationCodeableConcept")
    drug = next(
        (sets.medications[(s, c)] for s, c, _ in _codings(concept) if (s, c) in sets.medications),
        None,
    )
    if drug is None:
        return f"{kind} medication {_show(_codings(concept))} is not in the value sets"
    dosages = resource.get("dosageInstruction") or resource.get("dosage") or []
    dosage = dosages[0] if dosages else {}
    course: dict[str, Any] = {"drug": drug}
    dose = ((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity") or {}
    amount = _number(dose.get("value"))
    unit = str(dose.get("code") or dose.get("unit") or "")
    if amount is not None and unit in ("mg", "g"):
        course["dose_mg"] = _plain_number(amount * 1000 if unit == "g" else amount)
    elif amount is not None and unit in ("mg/kg", "mg/kg/dose"):
        course["dose_mg_per_kg"] = _plain_number(amount)
    repeat = ((dosage.get("timing") or {}).get("repeat")) or {}
    period = _number(repeat.get("period"))
    frequency = _number(repeat.get("frequency") or 1)
    hours = {"h": 1, "d": 24, "wk": 168}.get(str(repeat.get("periodUnit")))
    if period and frequency and hours:
        course["every_h"] = _plain_number(period * hours / frequency)
    route = next(
        (sets.routes[(s, c)] for s, c, _ in _codings(dosage.get("route")) if (s, c) in sets.routes),
        None,
    )
    if route:
        course["route"] = route
    bounds = repeat.get("boundsPeriod") or resource.get("effectivePeriod") or {}
    start = _date(
        bounds.get("start") or resource.get("authoredOn") or resource.get("effectiveDateTime")
    )
    if start is None:
        return f"{kind} of {drug} has no start date"
    course["start"] = start
    if bounds.get("end"):
        course["stop"] = _date(bounds["end"])
    indication = order_indication(resource)
    if indication:
        course["indication"] = indication
    return course


def order_indication(resource: dict[str, Any]) -> str | None:
    """The dose calculator's indication named by ``reasonCode`` (text or code), if any."""
    known = {i.value for i in Indication}
    for concept in resource.get("reasonCode") or []:
        for text in [concept.get("text"), *(c.get("code") for c in concept.get("coding") or [])]:
            if isinstance(text, str) and text.strip().lower() in known:
                return text.strip().lower()
    return None
