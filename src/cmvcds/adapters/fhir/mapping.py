"""FHIR R4 resources (a Bundle, a searchset or a list) → a ``cmvcds-case/1`` mapping.

Each resource is validated with ``fhir.resources.R4B`` (types and cardinality; R4B is wire-
compatible with R4 for the resources we read) and then against the required bindings of our
value sets, which that library does not check (``Observation.status = "bogus"`` is refused here).
A resource that fails is left out and listed in ``MappedCase.ignored`` with the reason; the case
is built from the rest (one bad unrelated Condition must not hide the advice — issue 16).
Codes are looked up in the ``fhir_valuesets`` knowledge table; a code we do not know, or a
result we cannot read, is listed in ``MappedCase.unmapped`` — reported, never dropped silently —
and every assumption made while reading (an inferred indication, administrations joined into a
course) in ``MappedCase.notes``. Results contained in a DiagnosticReport are read like any other.

A reading the case holds once (LMP, EDD, dating, pregnancy status, weight, height, sex, birth
date) may come from several resources: it is taken from the latest by effective date, two
different values of that date are a contradiction (neither used, said), never the last in the
list (``latest.Latest``, probe6 #21). A resource of a type not read, or dated to the month or
year only (valid FHIR), is said not used by name; the rest of the record is read (probe6 #6, #7).
A deceased patient is refused, never assessed as alive (probe6 #19).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import orjson

from cmvcds.adapters.fhir import medications as meds
from cmvcds.adapters.fhir.allergies import AllergyLookups, allergy_lookups, read_allergy
from cmvcds.adapters.fhir.latest import Latest
from cmvcds.adapters.fhir.medications import order_indication
from cmvcds.adapters.fhir.reason import Reason
from cmvcds.adapters.fhir.results import (
    AVIDITY_FLAGS,
    SEROLOGY_FLAGS,
    UCUM,
    V3_INTERPRETATION,
    avidity,
    dna_text,
    number,
    plain_number,
    specimen,
)
from cmvcds.adapters.fhir.subjects import ContextPatient, bundle_urls, context_patient, not_ours
from cmvcds.adapters.fhir.validation import fhir_problems
from cmvcds.domain.gestational_age import GestationalAge
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import PlausibilityLimits
from cmvcds.knowledge.schemas.fhir import FhirValueSets, ObservationCode

__all__ = [
    "ABSENT_PATIENT",
    "MappedCase",
    "ValueSets",
    "bundle_to_case",
    "medication_course",
    "order_indication",
    "resources_of",
]

READ = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationAdministration",
    "DiagnosticReport",
    "Medication",
    "AllergyIntolerance",
)
MEDICATION_USES = ("MedicationRequest", "MedicationStatement", "MedicationAdministration")
#: ``meta.tag`` of the stand-in Patient an export reader gives a patient whose resources name
#: them but who has no Patient resource (it carries the id only, and is said missing).
ABSENT_PATIENT = ("urn:cmvcds:fhir", "patient-resource-absent")
PREGNANCY_TARGETS = frozenset({"pregnancy_status", "gestational_age", "lmp", "edd"})


@dataclass
class MappedCase:
    """The case mapping, what could not be mapped (one line each) and what the conditions say."""

    case: dict[str, Any]
    unmapped: list[str] = field(default_factory=list)
    conditions: set[str] = field(default_factory=set)
    pregnant: bool | None = None
    #: Resources left out because they break FHIR R4 or a required binding, with the reason.
    ignored: list[str] = field(default_factory=list)
    #: Assumptions made while reading (inferred indications, administrations joined), said.
    notes: list[str] = field(default_factory=list)
    #: Resources not used because they are not the context patient's (or name no patient).
    foreign: list[str] = field(default_factory=list)


class ValueSets:
    """Fast lookups over the ``fhir_valuesets`` table."""

    def __init__(self, table: FhirValueSets) -> None:
        self.table = table
        self.observations = {(o.system, o.code): o for o in table.observations}
        self.answers = {(a.system, a.code): a.result for a in table.answers}
        self.medications = {(m.system, m.code): m.drug for m in table.medications}
        self.conditions = {(c.system, c.code): c.meaning for c in table.conditions}
        self.organs = {(c.system, c.code): c.organ for c in table.conditions if c.organ}
        self.routes = {(r.system, r.code): r.route for r in table.routes}
        self.units = {u.ucum: u.unit for u in table.units}
        self.bindings = {(b.resource, b.element): b for b in table.bindings}
        self.medication_lookups = meds.Lookups(table.medications, self.routes, self.bindings)

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
    patient: str | None = None,
    server: str | None = None,
) -> MappedCase:
    """Map FHIR resources of ``patient`` (the context patient's id; when None, the one patient
    the data name, else ``InputError``) to a case of ``context`` assessed on ``assessed_on``;
    ``server``: the FHIR server base the data came from (absolute references on it resolve).

    A resource that breaks FHIR R4 or a required binding is left out and listed in ``ignored``;
    one that is not the context patient's (``subjects.not_ours``) is left out and listed in
    ``foreign``, and the case is built from the rest.
    """
    sets = value_sets(knowledge)
    ignored: list[str] = []
    foreign: list[str] = []
    resources: list[tuple[str, dict[str, Any]]] = []
    bundled: dict[str, dict[str, Any]] = {}
    reports: list[dict[str, Any]] = []  # every one, valid or not: their references are checked
    found = list(resources_of(data))
    urls = bundle_urls(data)
    whose = context_patient(patient, (r for _, r in found), urls, server)
    if isinstance(whose, str):
        raise InputError(whose)
    unread: list[str] = []
    clashes: set[str] = set()
    for where, resource in found:
        kind = resource.get("resourceType")
        if kind == "OperationOutcome":
            _refuse_if_fatal(resource)
        if kind not in READ:  # said, never dropped without a word (probe6 #6)
            unread.append(
                Reason(
                    "%(resource)s not used: type %(kind)s is not read by cmvcds",
                    resource=f"{kind}/{resource.get('id', '?')}",
                    kind=kind,
                )
            )
            continue
        label = where or f"{kind}/{resource.get('id', '?')}"
        why = not_ours(resource, whose, urls)  # first: another patient's record, valid or not
        if why:
            foreign.append(
                Reason(
                    "%(resource)s not used: %(why)s",
                    resource=f"{kind}/{resource.get('id', '?')}",
                    why=why,
                )
            )
            continue
        if kind == "DiagnosticReport":
            reports.append(resource)
        problems = _validate(label, resource) + _bindings(label, resource, sets)
        if problems:
            name = f"{kind}/{resource.get('id', '?')}"
            ignored.append(
                Reason(
                    "%(resource)s ignored: %(problem)s (and %(more)s more)",
                    resource=name,
                    problem=problems[0],
                    more=len(problems) - 1,
                )
                if len(problems) > 1
                else Reason("%(resource)s ignored: %(problem)s", resource=name, problem=problems[0])
            )
            continue
        if kind == "Medication":
            key = f"Medication/{resource.get('id')}"
            if key in bundled and _content(bundled[key]) != _content(resource):
                clashes.add(key)  # one id, two contents: no guess
            bundled[key] = resource
        elif kind == "DiagnosticReport":
            resources += _report_results(label, resource, whose, urls, foreign)
        else:
            resources.append((label, resource))
    mapper = _Mapper(
        sets,
        context,
        assessed_on,
        {k: meds.CONTRADICTORY if k in clashes else v for k, v in bundled.items()},
        allergy_lookups(knowledge),
    )
    mapper.longest_pregnancy_days = knowledge.table(
        "plausibility", PlausibilityLimits
    ).gestational_age_max_days
    mapper.unmapped += [
        Reason(
            "%(resource)s: different resources with this id were sent: contradictory, none used",
            resource=key,
        )
        for key in sorted(clashes)
    ]
    mapper.unmapped += unread
    if not any(r.get("resourceType") == "Patient" for _, r in resources):
        mapper.patient_id = whose.id  # the case id names the patient the resources name
    for label, resource in resources:
        mapper.add(label, resource)
    sent = {f"{r.get('resourceType')}/{r.get('id')}" for _, r in resources}
    for resource in reports:
        missing = [
            ref
            for ref in (str((r or {}).get("reference", "")) for r in resource.get("result") or [])
            if ref and not ref.startswith("#") and "/".join(ref.split("/")[-2:]) not in sent
        ]
        if missing:
            mapper.unmapped.append(
                Reason(
                    "%(report)s: %(n)s result(s) not sent with it (%(refs)s); they were not read",
                    report=f"DiagnosticReport/{resource.get('id', '?')}",
                    n=len(missing),
                    refs=", ".join(missing[:5]),
                )
            )
    mapped = mapper.result(case_id)
    mapped.ignored = ignored
    mapped.foreign = foreign
    return mapped


def _report_results(
    label: str,
    report: dict[str, Any],
    whose: ContextPatient,
    urls: dict[str, dict[str, Any]],
    foreign: list[str],
) -> list[tuple[str, dict[str, Any]]]:
    """The Observations contained in a DiagnosticReport and listed in its ``result`` (those sent
    as separate entries are read as entries); each inherits the report's date when it has none.
    A contained result naming another patient than the report's is not used (``foreign``)."""
    wanted = {str((r or {}).get("reference", ""))[1:] for r in report.get("result") or []}
    out = []
    for i, item in enumerate(report.get("contained") or []):
        if not isinstance(item, dict) or item.get("resourceType") != "Observation":
            continue
        if item.get("id") not in wanted:
            continue
        why = not_ours(item, whose, urls, container=report)
        if why:
            foreign.append(
                Reason(
                    "%(resource)s result #%(result)s not used: %(why)s",
                    resource=f"DiagnosticReport/{report.get('id', '?')}",
                    result=item.get("id"),
                    why=why,
                )
            )
            continue
        result = dict(item)
        if not any(
            k in result for k in ("effectiveDateTime", "effectivePeriod", "effectiveInstant")
        ):
            when = report.get("effectiveDateTime") or (report.get("effectivePeriod") or {}).get(
                "start"
            )
            if when:
                result["effectiveDateTime"] = when
        out.append((f"{label}.contained[{i}]", result))
    return out


def _validate(label: str, resource: dict[str, Any]) -> list[str]:
    kind = resource["resourceType"]
    return [f"{label}.{problem}" for problem in fhir_problems(kind, resource, _key(resource))]


def _key(resource: dict[str, Any]) -> bytes:
    """The resource as canonical JSON (sorted keys): the cache key of its validation, and the
    text validated. orjson (~12x faster than ``json.dumps`` here, issue 20 item 5); a value it
    cannot write (an integer beyond 64 bits, a non-text key) goes through ``json.dumps``."""
    try:
        return orjson.dumps(resource, default=str, option=_CANONICAL)
    except orjson.JSONEncodeError:
        return json.dumps(resource, sort_keys=True, separators=(",", ":"), default=str).encode()


#: Keys sorted; dates and datetimes through ``default=str``, as ``json.dumps`` writes them.
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


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


#: The Conditions that set a record's context or organ (besides a pregnancy, read as a
#: pregnancy status): used only when current and confirmed (``_current_condition``).
_STATUS_CONDITIONS = {
    "transplant_recipient": Reason("transplant status"),
    "congenital_cmv": Reason("congenital CMV infection"),
}
#: FHIR condition-clinical codes of a current Condition (recurrence, relapse: kinds of active).
_CURRENT = frozenset({"active", "recurrence", "relapse"})


def _codings(concept: Any) -> list[tuple[str, str, str]]:
    if not isinstance(concept, dict):
        return []
    return [
        (c.get("system", ""), c.get("code", ""), c.get("display", ""))
        for c in concept.get("coding") or []
    ]


_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: Any) -> str | None:
    """The day of a FHIR ``date``/``dateTime``/``instant``; None when absent or partial (FHIR
    allows ``YYYY`` and ``YYYY-MM``: the day is then not known, and the caller says so)."""
    day = str(value)[:10] if value else ""
    return day if _FULL_DATE.fullmatch(day) else None


def _effective_text(resource: dict[str, Any]) -> Any:
    return (
        resource.get("effectiveDateTime")
        or (resource.get("effectivePeriod") or {}).get("start")
        or resource.get("effectiveInstant")
        or resource.get("issued")
    )


def _effective(resource: dict[str, Any]) -> str | None:
    return _date(_effective_text(resource))


def _content(resource: dict[str, Any]) -> dict[str, Any]:
    """What a resource says, without its ``meta`` and narrative ``text``: two versions of one
    Medication that differ only there (an export keeps every version) are the same medication."""
    return {k: v for k, v in resource.items() if k not in ("meta", "text")}


def _refuse_if_fatal(outcome: dict[str, Any]) -> None:
    """An OperationOutcome with a fatal issue in place of a record (e.g. an export that could not
    give a patient's resources whole) refuses the case with its diagnostics: assessing the rest
    would rest on a record known to be incomplete."""
    for issue in outcome.get("issue") or []:
        if isinstance(issue, dict) and issue.get("severity") == "fatal":
            raise InputError(
                f"OperationOutcome/{outcome.get('id', '?')}: "
                f"{issue.get('diagnostics') or issue.get('code') or 'fatal issue'}"
            )


class _Mapper:
    def __init__(
        self,
        sets: ValueSets,
        context: str,
        assessed_on: date,
        bundled: dict[str, dict[str, Any]] | None = None,
        allergies: AllergyLookups | None = None,
    ) -> None:
        self.sets = sets
        self.allergies = allergies
        #: ``patient.intolerances`` read from AllergyIntolerance resources (``allergies``).
        self.intolerances: dict[str, None] = {}
        self.allergy_notes: list[str] = []
        self.bundled = bundled or {}
        self.administrations = meds.Administrations()
        self.organs: set[str] = set()
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
        #: the longest plausible pregnancy (pack ``plausibility.gestational_age_max_days``): a
        #: pregnancy outside the pregnancy pathway is read only when current (review23e)
        self.longest_pregnancy_days: int | None = None
        #: single-valued readings given by several resources, chosen by date (``latest``)
        self.latest = Latest()
        #: Weights and heights that could not be read ``(weight|height, day, resource)``: an
        #: older one used instead must say so (review7 #9).
        self.unread_sizes: list[tuple[str, str, str]] = []
        self.patients: list[dict[str, Any]] = []

    def add(self, label: str, resource: dict[str, Any]) -> None:
        kind = resource["resourceType"]
        if kind == "Patient":
            self._patient(resource)
        elif kind == "Observation":
            self._observation(label, resource)
        elif kind == "Condition":
            self._condition(label, resource)
        elif kind == "AllergyIntolerance":
            self._allergy(resource)
        elif kind in MEDICATION_USES:
            courses = meds.medication_courses(resource, self.sets.medication_lookups, self.bundled)
            if isinstance(courses, str):
                self.unmapped.append(_at(label, courses))
                return
            for course in courses:
                if "unread" in course:
                    self.unmapped.append(_at(label, course.pop("unread")))
                wrong = self._misdated(kind, course)
                if wrong:  # the case would refuse it: this resource only is left out
                    self.unmapped.append(_at(_named(label, resource), wrong))
                    continue
                if kind == "MedicationAdministration":
                    self.administrations.add(course)
                else:
                    self.therapy.append(course)

    def _allergy(self, resource: dict[str, Any]) -> None:
        """A recorded allergy or intolerance of a drug → ``patient.intolerances`` (debt22,
        ``allergies.read_allergy``); one not used is said (unmapped), an assumption noted."""
        if self.allergies is None:
            return
        name = f"AllergyIntolerance/{resource.get('id', '?')}"
        drugs, notes = read_allergy(name, resource, self.allergies)
        if not drugs:
            self.unmapped += notes
            return
        for drug in drugs:
            self.intolerances[drug] = None
        self.allergy_notes += notes

    def _misdated(self, kind: str, course: dict[str, Any]) -> Reason | None:
        """Why a course's dates cannot be those of a course of this case, if they cannot."""
        start, stop = course["start"], course.get("stop")
        if start > self.assessed_on.isoformat():
            return Reason(
                "%(kind)s of %(drug)s starts on %(start)s, after the assessment date: not used",
                kind=kind,
                drug=course["drug"],
                start=start,
            )
        if stop is not None and stop < start:
            return Reason(
                "%(kind)s of %(drug)s ends on %(stop)s, before it starts (%(start)s): not used",
                kind=kind,
                drug=course["drug"],
                stop=stop,
                start=start,
            )
        return None

    def _patient(self, resource: dict[str, Any]) -> None:
        """Sex and birth date of the Patient; read in ``result`` once every Patient resource of
        the record is known (two resources of one patient that disagree are not guessed)."""
        self.patient_id = resource.get("id")
        name = f"Patient/{resource.get('id', '?')}"
        if any(
            isinstance(t, dict) and (t.get("system"), t.get("code")) == ABSENT_PATIENT
            for t in (resource.get("meta") or {}).get("tag") or []
        ):
            self.unmapped.append(
                Reason(
                    "%(patient)s: no Patient resource was sent: sex, birth date and vital status "
                    "are not known",
                    patient=name,
                )
            )
            return
        dead = resource.get("deceasedDateTime") or resource.get("deceasedBoolean")
        if dead:  # probe6 #19: never assessed as alive
            raise InputError(
                Reason(
                    "%(patient)s is deceased on %(date)s (Patient.deceased): not assessed",
                    patient=name,
                    date=dead,
                )
                if isinstance(dead, str)
                else Reason(
                    "%(patient)s is deceased (Patient.deceased): not assessed", patient=name
                )
            )
        if resource.get("active") is False:
            self.unmapped.append(
                Reason(
                    "%(patient)s: the record is marked inactive (Patient.active false); read as given",
                    patient=name,
                )
            )
        born = resource.get("birthDate")
        if born and _date(born) is None and _partial_birth(born) is None:
            self.unmapped.append(
                Reason(
                    "%(patient)s: birthDate %(given)s is not a full date (day unknown): not used",
                    patient=name,
                    given=repr(born),
                )
            )
        self.patients.append(resource)

    def _demographics(self, notes: list[str]) -> None:
        """``patient.sex`` and ``patient.birth_date`` when every Patient resource agrees."""
        for key, element, read in (
            ("sex", "gender", lambda v: v if v in ("male", "female") else None),
            ("birth_date", "birthDate", _date),
        ):
            values = {str(v) for p in self.patients if (v := read(p.get(element)))}
            if len(values) == 1:
                self.patient[key] = values.pop()
            elif len(values) > 1:
                self.unmapped.append(
                    Reason(
                        "%(patient)s: %(n)s Patient resources give different %(element)s "
                        "(%(values)s): contradictory, none used",
                        patient=f"Patient/{self.patient_id}",
                        n=len(self.patients),
                        element=element,
                        values=", ".join(sorted(values)),
                    )
                )

        if "birth_date" not in self.patient:
            self._partial_age(notes)

    def _partial_age(self, notes: list[str]) -> None:
        """An adult's age from a birthDate given to the month or the year only (probe14 F6):
        the least age it allows (born on the period's last day), in whole years, when that is
        at least 18 (an adult whatever the day); a child's partial date is not used (its dose
        needs the age in days or months)."""
        given = {str(p.get("birthDate")) for p in self.patients if p.get("birthDate")}
        latest = {_partial_birth(b) for b in given}
        if len(given) != 1 or None in latest:
            return
        born = latest.pop()
        assert born is not None
        on = self.assessed_on
        years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        name = f"Patient/{self.patient_id}"
        if years < 18:
            self.unmapped.append(
                Reason(
                    "%(patient)s: birthDate %(given)s is not a full date: a child's age is needed "
                    "to the day; not used",
                    patient=name,
                    given=repr(next(iter(given))),
                )
            )
            return
        self.patient["age_years"] = years
        notes.append(
            Reason(
                "%(patient)s: birthDate %(given)s gives no day: age read as %(years)s years, the "
                "least it can be on %(today)s (an adult whatever the day)",
                patient=name,
                given=repr(next(iter(given))),
                years=years,
                today=on.isoformat(),
            )
        )

    def _condition(self, label: str, resource: dict[str, Any]) -> None:
        status = [c for _, c, _ in _codings(resource.get("verificationStatus"))]
        if any(c in ("refuted", "entered-in-error") for c in status):
            return
        name = f"Condition/{resource.get('id', '?')}"
        for system, code, _display in _codings(resource.get("code")):
            meaning = self.sets.conditions.get((system, code))
            if meaning:
                if meaning == "pregnant" and not self._pregnancy_condition(name, resource):
                    return
                if meaning in _STATUS_CONDITIONS and not self._current_condition(
                    name, meaning, resource
                ):
                    return
                self.conditions.add(meaning)
                if (system, code) in self.sets.organs:
                    self.organs.add(self.sets.organs[(system, code)])
                return
        first = _codings(resource.get("code"))
        self.unmapped.append(
            Reason(
                "%(where)s: Condition code %(code)s is not in the value sets",
                where=label,
                code=_show(first),
            )
        )

    def _current_condition(self, name: str, meaning: str, resource: dict[str, Any]) -> bool:
        """A transplant-status or congenital CMV Condition is used (it sets the record's context,
        the organ, the inferred indication) only when it is current and confirmed: its
        clinicalStatus absent or active (recurrence, relapse), its verificationStatus absent or
        confirmed, and no abatement. A resolved, inactive, abated, unconfirmed (provisional,
        differential) or unreadable one sets nothing (review10, as a pregnancy: review7 #1, #8):
        False, and the note says which Condition and why."""
        what = _STATUS_CONDITIONS[meaning]
        clinical = {c for _, c, _ in _codings(resource.get("clinicalStatus"))}
        verification = {c for _, c, _ in _codings(resource.get("verificationStatus"))}
        why: Reason | None = None
        if clinical - _CURRENT:
            why = Reason(
                "%(condition)s: %(what)s with clinical status %(status)s: not current, not used",
                condition=name,
                what=what,
                status=", ".join(sorted(clinical)),
            )
        elif any(k.startswith("abatement") for k in resource):
            why = Reason(
                "%(condition)s: %(what)s abated: not current, not used", condition=name, what=what
            )
        elif verification - {"confirmed"}:
            why = Reason(
                "%(condition)s: %(what)s with verification status %(status)s: not confirmed, "
                "not used",
                condition=name,
                what=what,
                status=", ".join(sorted(verification)),
            )
        if why is not None:
            self.unmapped.append(why)
        return why is None

    def _pregnancy_condition(self, name: str, resource: dict[str, Any]) -> bool:
        """A pregnancy Condition as a pregnancy status reading, dated when it was RECORDED
        (recordedDate, the assertedDate extension, else meta.lastUpdated), never by its onset
        (about the LMP: an older negative test would then seem later). A resolved, inactive or
        abated one is not a current pregnancy (review7 #1, #8): False, and that is said."""
        clinical = {c for _, c, _ in _codings(resource.get("clinicalStatus"))}
        abated = any(k.startswith("abatement") for k in resource)
        if clinical & {"inactive", "resolved", "remission"} or abated:
            self.unmapped.append(
                Reason(
                    "%(condition)s: pregnancy %(status)s: not a current pregnancy, not used",
                    condition=name,
                    status=", ".join(sorted(clinical)),
                )
                if clinical & {"inactive", "resolved", "remission"}
                else Reason(
                    "%(condition)s: pregnancy abated: not a current pregnancy, not used",
                    condition=name,
                )
            )
            return False
        asserted = next(
            (
                e.get("valueDateTime")
                for e in resource.get("extension") or []
                if isinstance(e, dict) and str(e.get("url", "")).endswith("condition-assertedDate")
            ),
            None,
        )
        recorded = (
            resource.get("recordedDate")
            or asserted
            or (resource.get("meta") or {}).get("lastUpdated")
        )
        self.latest.add("pregnancy status", _date(recorded) or "", True, name, recorded)
        return True

    def _observation(self, label: str, resource: dict[str, Any]) -> None:
        binding = self.sets.bindings.get(("Observation", "status"))
        if binding and binding.use and resource.get("status") not in binding.use:
            self.unmapped.append(
                Reason(
                    "%(where)s: Observation status %(status)s is not used",
                    where=label,
                    status=repr(resource.get("status")),
                )
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
                Reason(
                    "%(where)s: Observation code %(code)s is not in the value sets",
                    where=label,
                    code=_show(codings),
                )
            )
            return
        day = _effective(resource)
        if day is None and _effective_text(resource):
            self.unmapped.append(
                Reason(
                    "%(where)s: Observation %(code)s effective date %(given)s is not a full date "
                    "(day unknown): not used",
                    where=_named(label, resource),
                    code=spec.code,
                    given=repr(str(_effective_text(resource))),
                )
            )
            return
        if day is None:
            self.unmapped.append(
                Reason(
                    "%(where)s: Observation %(code)s has no effective date",
                    where=label,
                    code=spec.code,
                )
            )
            return
        name = f"Observation/{resource.get('id', '?')}"
        if (
            day > self.assessed_on.isoformat()
        ):  # the case refuses it: this resource only is left out
            self.unmapped.append(
                Reason(
                    "%(where)s: Observation %(code)s is dated %(date)s, after the assessment date "
                    "%(assessed_on)s: not used",
                    where=_named(label, resource),
                    code=spec.code,
                    date=day,
                    assessed_on=self.assessed_on.isoformat(),
                )
            )
            return
        if spec.maps_to in PREGNANCY_TARGETS:
            self._pregnancy(label, name, spec, day, resource)
            return
        item: dict[str, Any] = {"date": day, "code": spec.maps_to}
        sample = spec.specimen or specimen(resource)
        if spec.maps_to == "cmv_dna" and sample is None:
            self.unmapped.append(
                Reason(
                    "%(where)s: CMV DNA %(code)s does not say the specimen (Observation.specimen)",
                    where=label,
                    code=spec.code,
                )
            )
            return
        if sample:
            item["specimen"] = sample
        reading = self._reading(spec, resource)
        if isinstance(reading, str):
            self.unmapped.append(
                Reason(
                    "%(where)s: %(reading)s %(code)s %(why)s",
                    where=label,
                    reading=spec.maps_to,
                    code=spec.code,
                    why=reading,
                )
            )
            if spec.maps_to in ("weight", "height"):
                self.unread_sizes.append((spec.maps_to, day, name))
            return
        item.update(reading)
        self.observations.append(item)
        if spec.maps_to in ("weight", "height") and "value" in item:
            key, unit = ("weight_kg", "kg") if spec.maps_to == "weight" else ("height_cm", "cm")
            if str(item["unit"]).lower() == unit:  # "Kg", "CM": unit text as typed
                self.latest.add(key, day, item["value"], name, _effective_text(resource))

    def _reading(self, spec: ObservationCode, resource: dict[str, Any]) -> dict[str, Any] | str:
        """``value``/``unit`` or ``result`` of an Observation, or why it cannot be read."""
        quantity = resource.get("valueQuantity")
        has_value = isinstance(quantity, dict) and quantity.get("value") is not None
        target = spec.maps_to
        if target == "cmv_igg_avidity":
            return avidity(resource, self._interpretation(resource, target))
        if target in ("cmv_igg", "cmv_igm"):
            result = self._result(resource) or self._interpretation(resource, target)
            return (
                {"result": result}
                if result
                else Reason("has no coded result or interpretation (POS/NEG/A/N)")
            )
        if target == "cmv_dna" and not has_value:
            text = resource.get("valueString")
            result = (dna_text(text) if isinstance(text, str) else None) or self._result(resource)
            return {"result": result} if result else _unreadable()
        if not has_value:
            result = self._result(resource)
            return {"result": result} if result else _unreadable()
        assert isinstance(quantity, dict)
        value = number(quantity["value"])
        code = quantity.get("code")
        if code and quantity.get("system", UCUM) == UCUM and str(code) not in self.sets.units:
            return Reason(
                "has unit %(unit)s, which cmvcds does not read (no conversion is guessed)",
                unit=repr(code),
            )
        unit = self.sets.units.get(str(code or "")) or quantity.get("unit")
        comparator = quantity.get("comparator")
        if target == "cmv_dna" and comparator in ("<", "<="):
            # "< 35 IU/mL": not detected, or detected below the LLOQ — never "detected".
            return {"result": "below_lloq"}
        if comparator:
            return Reason(
                "is %(comparator)s %(value)s (a bound, not a value): not used",
                comparator=comparator,
                value=quantity["value"],
            )
        if value is None or not unit:
            return Reason("has a quantity without a usable unit")
        return {"value": plain_number(value), "unit": unit}

    def _interpretation(self, resource: dict[str, Any], target: str) -> str | None:
        """A serology or avidity result from the laboratory's own interpretation flag (v3
        ObservationInterpretation): for an antibody, abnormal/high means reactive and normal/low
        non-reactive; for avidity, L/H are the laboratory's low/high avidity."""
        words = SEROLOGY_FLAGS if target in ("cmv_igg", "cmv_igm") else AVIDITY_FLAGS
        for concept in resource.get("interpretation") or []:
            for system, code, _ in _codings(concept):
                if system == V3_INTERPRETATION and code in words:
                    return words[code]
        return None

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
        self, label: str, name: str, spec: ObservationCode, day: str, resource: dict[str, Any]
    ) -> None:
        if spec.maps_to == "pregnancy_status":
            result = self._result(resource)
            if result in ("pregnant", "not_pregnant"):
                self.latest.add(
                    "pregnancy status", day, result == "pregnant", name, _effective_text(resource)
                )
            else:
                self.unmapped.append(
                    Reason("%(where)s: pregnancy status answer not in the value sets", where=label)
                )
        elif spec.maps_to == "gestational_age":
            quantity = resource.get("valueQuantity") or {}
            value = number(quantity.get("value"))
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
                self.unmapped.append(
                    Reason("%(where)s: gestational age needs a value in wk or d", where=label)
                )
            else:
                dating = {
                    "date": day,
                    "gestational_age": str(GestationalAge(int(days.to_integral_value()))),
                }
                self.latest.add("dating", day, dating, name, _effective_text(resource))
        else:
            given = resource.get("valueDateTime")
            when = _date(given)
            if when is None:
                self.unmapped.append(
                    Reason(
                        "%(where)s: %(reading)s needs valueDateTime with a full date, not %(given)s",
                        where=label,
                        reading=spec.maps_to,
                        given=repr(str(given)),
                    )
                    if given
                    else Reason(
                        "%(where)s: %(reading)s needs valueDateTime",
                        where=label,
                        reading=spec.maps_to,
                    )
                )
            else:  # the latest recorded LMP/EDD, never the last in the list (probe6 #21)
                self.latest.add(spec.maps_to, day, when, name, _effective_text(resource))

    def _later_unread(self, reading: str, value: Any) -> list[str]:
        """A sentence for each weight or height recorded after the one used that could not be
        read (a unit with no conversion): the value used is older than the record's latest."""
        kind = {"weight_kg": "weight", "height_cm": "height"}.get(reading)
        if kind is None:
            return []
        used = max((d for d, v, _ in self.latest.found.get(reading, []) if v == value), default="")
        return [
            Reason(
                "%(reading)s: %(value)s of %(used)s is used; the later weight %(resource)s of "
                "%(date)s could not be read",
                reading=reading,
                value=value,
                used=used,
                resource=name,
                date=day,
            )
            if kind == "weight"
            else Reason(
                "%(reading)s: %(value)s of %(used)s is used; the later height %(resource)s of "
                "%(date)s could not be read",
                reading=reading,
                value=value,
                used=used,
                resource=name,
                date=day,
            )
            for k, day, name in self.unread_sizes
            if k == kind and day > used
        ]

    def _choose(self, notes: list[str]) -> None:
        """Every single-valued reading from the latest resource that gives it (``Latest``)."""
        self._demographics(notes)
        for reading, put in (
            ("weight_kg", self.patient),
            ("height_cm", self.patient),
            ("lmp", self.pregnancy),
            ("edd", self.pregnancy),
            ("dating", self.pregnancy),
        ):
            value, contradiction, superseded = self.latest.chosen(reading)
            if value is not None:
                put[reading] = value
                notes += self._later_unread(reading, value)
            self.unmapped += contradiction
            notes += superseded
        status, contradiction, superseded = self.latest.chosen("pregnancy status")
        conditions = [
            (d, s)
            for d, v, s in self.latest.found.get("pregnancy status", [])
            if v is True and s.startswith("Condition/")
        ]
        if status is False and conditions:
            # An active pregnancy Condition is never outweighed silently by a negative test
            # (review7 #1): the two contradict each other and the status is asked, not guessed.
            self.unmapped.append(
                Reason(
                    "pregnancy status: active pregnancy Condition %(conditions)s and a negative "
                    "pregnancy test not older than it: contradictory, none used (confirm whether "
                    "she is pregnant)",
                    conditions=Reason.joined(
                        "; ",
                        [
                            Reason("%(condition)s (recorded %(date)s)", condition=s, date=d)
                            if d
                            else Reason("%(condition)s (recorded no date)", condition=s)
                            for d, s in conditions
                        ],
                    ),
                )
            )
            status, superseded = None, []
        self.pregnant = status
        self.unmapped += contradiction
        notes += superseded
        if status is None and not contradiction and self._future_edd():
            # probe14 S1: an estimated delivery date still to come is a current pregnancy
            self.pregnant = True
            notes.append(
                Reason(
                    "pregnancy read from the estimated delivery date %(edd)s, after %(today)s "
                    "(no pregnancy status recorded)",
                    edd=self.pregnancy["edd"],
                    today=self.assessed_on.isoformat(),
                )
            )

    def _future_edd(self) -> bool:
        """The record's chosen EDD lies after the assessment date."""
        edd = self.pregnancy.get("edd")
        return isinstance(edd, str) and edd > self.assessed_on.isoformat()

    def _stale_pregnancy(self) -> bool:
        """Outside the pregnancy pathway a pregnancy is carried only when CURRENT (review23e #1:
        a delivered or contradictory pregnancy made the whole case invalid, and the dose check
        of another drug was never made). Not current, and said (``unmapped``), when:

        - the patient is recorded as male (contradictory evidence);
        - the chosen estimated delivery date is past, or further ahead than the longest plausible
          pregnancy (pack ``plausibility.gestational_age_max_days``, 44+0);
        - the latest "pregnant" reading (status, or a Condition by its recorded date) is older
          than that longest pregnancy, and no EDD still to come confirms it.

        An undated pregnant reading is kept (never read as not pregnant on no evidence)."""
        today = self.assessed_on
        longest = timedelta(days=self.longest_pregnancy_days or 0)
        why: Reason | None = None
        edd = self.pregnancy.get("edd")
        edd_text = _date(edd) if isinstance(edd, str) else None
        edd_day = date.fromisoformat(edd_text) if edd_text else None
        dated = sorted(
            d
            for d, v, _ in self.latest.found.get("pregnancy status", [])
            if v is True and _date(d)
        )
        if self.patient.get("sex") == "male":
            why = Reason(
                "pregnancy evidence in the record of a patient recorded as male: contradictory, "
                "pregnancy not read (confirm sex and pregnancy)"
            )
        elif edd_day is not None and edd_day < today:
            why = Reason(
                "estimated delivery date %(edd)s is past: pregnancy not current, not read",
                edd=edd,
            )
        elif edd_day is not None and edd_day > today + longest:
            why = Reason(
                "estimated delivery date %(edd)s is implausibly far ahead: pregnancy not read",
                edd=edd,
            )
        elif edd_day is None and dated and date.fromisoformat(dated[-1][:10]) < today - longest:
            why = Reason(
                "pregnancy status of %(date)s not current: not read", date=dated[-1]
            )
        if why is None:
            return False
        self.unmapped.append(why)
        return True

    def result(self, case_id: str | None) -> MappedCase:
        given, notes = self.administrations.courses()
        self.therapy += given
        self._choose(notes)
        if self.intolerances:
            self.patient["intolerances"] = sorted(self.intolerances)
            notes.append(
                Reason(
                    "recorded allergies or intolerances read as patient.intolerances: %(drugs)s "
                    "(AllergyIntolerance)",
                    drugs=", ".join(sorted(self.intolerances)),
                )
            )
        notes += self.allergy_notes
        for course in self.therapy:
            if "indication" in course:
                continue
            inferred = meds.infer_indication(self.conditions, self.observations)
            if inferred is not None:
                course["indication"] = inferred[0]
                notes.append(
                    Reason(
                        "%(drug)s from %(start)s: indication '%(indication)s' inferred (%(why)s); "
                        "the order does not state it",
                        drug=course["drug"],
                        start=course["start"],
                        indication=inferred[0],
                        why=inferred[1],
                    )
                )
        case: dict[str, Any] = {
            "format": "cmvcds-case/1",
            "id": case_id or f"fhir-{self.patient_id or 'patient'}",
            "assessed_on": self.assessed_on.isoformat(),
            "context": self.context,
            "patient": self.patient,
            "observations": self.observations,
            "therapy": self.therapy,
        }
        if len(self.organs) == 1 and self.context in ("immunocompromised", "transplant"):
            case["transplant"] = {"organ": next(iter(self.organs))}
        elif len(self.organs) > 1:
            self.unmapped.append(
                Reason(
                    "transplant status names several organs (%(organs)s): none used",
                    organs=", ".join(sorted(self.organs)),
                )
            )
        if self.context == "pregnancy":
            case["pregnancy"] = self.pregnancy
        elif self.pregnant and self.context != "congenital" and self._stale_pregnancy():
            pass  # review23e: said by _stale_pregnancy; the case is read without it
        elif self.pregnant and self.context != "congenital":
            # probe14 S1: a pregnant patient is carried as pregnant in any context, so that every
            # pathway and dose reads it (a drug whose label warns of fetal toxicity is not dosed
            # silently); her dating goes with it
            case["pregnancy"] = self.pregnancy
            notes.append(
                Reason(
                    "the record says the patient is pregnant: the %(context)s case carries the "
                    "pregnancy",
                    context=self.context,
                )
            )
        elif self.pregnancy:
            self.unmapped.append(
                Reason("pregnancy dating given for a case whose context is not pregnancy")
            )
        return MappedCase(case, self.unmapped, self.conditions, self.pregnant, notes=notes)


def _partial_birth(value: Any) -> date | None:
    """The last day a FHIR birthDate given to the month (``YYYY-MM``) or year (``YYYY``) allows;
    None for anything else."""
    import calendar

    if not isinstance(value, str):
        return None
    parts = value.split("-")
    if not all(p.isdigit() for p in parts) or len(parts[0]) != 4 or len(parts) > 2:
        return None
    year = int(parts[0])
    if len(parts) == 1:
        return date(year, 12, 31) if year >= 1 else None
    if len(parts[1]) != 2 or not 1 <= int(parts[1]) <= 12:
        return None
    month = int(parts[1])
    return date(year, month, calendar.monthrange(year, month)[1])


def _unreadable() -> Reason:
    """Why an Observation's value cannot be read."""
    return Reason("has no value or coded result we can read")


def _at(where: str, why: str) -> Reason:
    """``where: why`` (a place in the data and a sentence said in turn)."""
    return Reason("%(where)s: %(why)s", where=where, why=why)


def _named(label: str, resource: dict[str, Any]) -> str:
    """``label`` (where the resource was in the data) with the resource's ``Type/id`` when the
    label does not already say it (a prefetch position means nothing to the reader)."""
    name = f"{resource.get('resourceType')}/{resource.get('id', '?')}"
    return label if label == name else f"{label} ({name})"


def _show(codings: Iterable[tuple[str, str, str]]) -> str:
    items = [f"{s}|{c}" + (f" ({d})" if d else "") for s, c, d in codings]
    return ", ".join(items) or "(none)"


def medication_course(
    resource: dict[str, Any],
    sets: ValueSets,
    bundled: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any] | str | None:
    """A therapy entry of the case from a MedicationRequest/Statement/Administration (see
    ``medications.medication_course``); a reason string if not mappable; None when its status
    says it is not to be used."""
    return meds.medication_course(resource, sets.medication_lookups, bundled)
