"""FHIR medication resources → therapy courses of the case format.

Real EHRs seldom code an order with the bare ingredient: they send the clinical drug (RxNorm SCD
313566 "valganciclovir 450 MG Oral Tablet"), a branded drug or pack, an ATC or Italian AIC code,
or a ``medicationReference`` to a contained or bundled ``Medication``. Each product code of the
``fhir_valuesets`` table rolls up to its ingredient, the strength of one unit and its dose form,
so "2 tablets" of 313566 reads as 900 mg of valganciclovir by mouth. Inpatient doses charted as
``MedicationAdministration`` are read one by one and joined into one course per drug.

Anything that cannot be read comes back as a sentence saying why (the caller shows it); an order
whose indication is not coded may have it inferred from the rest of the record (``infer_indication``),
and the inference is then said, never silent.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from cmvcds.adapters.fhir.reason import Reason
from cmvcds.domain.vocabulary import Indication
from cmvcds.knowledge.schemas.fhir import MedicationCode

__all__ = [
    "CONTRADICTORY",
    "Administrations",
    "Lookups",
    "infer_indication",
    "medication_course",
    "medication_courses",
    "order_indication",
]

#: Dose units that count units of the product (tablets, vials), read with the product's strength.
UNIT_WORDS = {
    "tablet": frozenset(
        {
            "tablet",
            "tablets",
            "tab",
            "tabs",
            "{tbl}",
            "{tablet}",
            "{tablets}",
            "cpr",
            "compressa",
            "compresse",
        }
    ),
    "capsule": frozenset({"capsule", "capsules", "cap", "caps", "{capsule}"}),
    "vial": frozenset({"vial", "vials", "{vial}", "flaconcino"}),
    "oral-solution": frozenset({"ml", "mL"}),
}


class Lookups:
    """What the medication reader needs from the value sets."""

    def __init__(
        self,
        rows: tuple[MedicationCode, ...],
        routes: Mapping[tuple[str, str], str],
        bindings: Mapping[tuple[str, str], Any],
    ) -> None:
        self.rows = {(m.system, m.code): m for m in rows}
        self.routes = routes
        self.bindings = bindings
        self.drugs = sorted({m.drug for m in rows}, key=len, reverse=True)


def _codings(concept: Any) -> list[tuple[str, str, str]]:
    if not isinstance(concept, dict):
        return []
    return [
        (c.get("system", ""), c.get("code", ""), c.get("display", ""))
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    ]


def _show(concept: Any) -> str:
    items = [f"{s}|{c}" + (f" ({d})" if d else "") for s, c, d in _codings(concept)]
    text = concept.get("text") if isinstance(concept, dict) else None
    return ", ".join(items) or (repr(text) if text else "(no code)")


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: Hours between doses of the HL7 v3 GTSAbbreviation timing codes (``Timing.code``) that name a
#: fixed interval (their definitions: https://terminology.hl7.org/CodeSystem-v3-GTSAbbreviation.html,
#: the value set the FHIR R4 Timing.code binding names); other codes (AM, PM, WK…) are said,
#: not read.
TIMING_CODES = {
    "QD": 24,
    "BID": 12,
    "TID": 8,
    "QID": 6,
    "QOD": 48,
    "Q4H": 4,
    "Q6H": 6,
    "Q8H": 8,
    "Q12H": 12,
}


def _date(value: Any) -> str | None:
    """The day of a FHIR date/dateTime; None when absent or partial (``YYYY``, ``YYYY-MM``)."""
    day = str(value)[:10] if value else ""
    return day if _FULL_DATE.fullmatch(day) else None


#: Stands in the bundled Medications for an id sent with different contents (review7 #3): the
#: order that references it says so, rather than that it was not sent.
CONTRADICTORY: dict[str, Any] = {}


def _medication(
    resource: dict[str, Any], bundled: Mapping[str, dict[str, Any]]
) -> tuple[dict[str, Any] | None, str | None]:
    """The Medication a resource names (its ``medicationCodeableConcept`` as a Medication-like
    dict), or why it cannot be found."""
    if isinstance(resource.get("medicationCodeableConcept"), dict):
        return {"code": resource["medicationCodeableConcept"]}, None
    ref = (resource.get("medicationReference") or {}).get("reference")
    if not isinstance(ref, str):
        return None, Reason("names no medication")
    if ref.startswith("#"):
        found = next(
            (
                c
                for c in resource.get("contained") or []
                if isinstance(c, dict)
                and c.get("resourceType") == "Medication"
                and c.get("id") == ref[1:]
            ),
            None,
        )
        return (
            (found, None)
            if found
            else (None, Reason("references contained %(ref)s, which is absent", ref=ref))
        )
    key = "/".join(ref.rstrip("/").split("/")[-2:])
    found = bundled.get(key)
    if found is CONTRADICTORY:
        return None, Reason(
            "references %(ref)s, sent as different resources: contradictory, none used", ref=ref
        )
    if found is None:
        return (
            None,
            Reason(
                "references %(ref)s, which was not sent with it "
                "(add _include=MedicationRequest:medication)",
                ref=ref,
            ),
        )
    return found, None


def names_no_cmv_drug(
    resource: dict[str, Any], lookups: Lookups, bundled: Mapping[str, dict[str, Any]] | None = None
) -> bool:
    """Whether an order that could not be read is known not to be of a drug cmvcds checks: its
    medication was found (coded, contained, or sent beside it) and neither its codes nor its
    texts name one. Any other order that cannot be read is said NOT checked, with why (probe14
    S2: an order whose ``medicationReference`` was not sent passed with no card at all)."""
    medication, missing = _medication(resource, bundled or {})
    if missing is not None or medication is None:
        return False
    return _product(medication, lookups) is None and _named_drug(medication, resource, lookups) is None


@dataclass(frozen=True)
class Product:
    """What a medication code or Medication rolls up to."""

    drug: str
    strength_mg: Decimal | None
    form: str | None
    route: str | None
    code: str


def _product(medication: dict[str, Any], lookups: Lookups) -> Product | None:
    for system, code, _ in _codings(medication.get("code")):
        row = lookups.rows.get((system, code))
        if row is not None:
            return Product(row.drug, row.strength_mg, row.form, row.route, f"{system}|{code}")
    ingredients = [i for i in medication.get("ingredient") or [] if isinstance(i, dict)]
    if (
        len(ingredients) == 1
    ):  # a single-ingredient product described by its ingredient and strength
        item = ingredients[0]
        row = next(
            (
                lookups.rows[(s, c)]
                for s, c, _ in _codings(item.get("itemCodeableConcept"))
                if (s, c) in lookups.rows and lookups.rows[(s, c)].kind in ("ingredient", "ATC")
            ),
            None,
        )
        if row is not None:
            strength = item.get("strength") or {}
            numerator, denominator = (
                strength.get("numerator") or {},
                strength.get("denominator") or {},
            )
            mg = (
                _number(numerator.get("value"))
                if numerator.get("code", numerator.get("unit")) == "mg"
                else None
            )
            per = _number(denominator.get("value") or 1)
            form_words = " ".join(
                str(t)
                for t in (
                    _show(medication.get("form")),
                    denominator.get("unit"),
                    denominator.get("code"),
                )
            ).lower()
            form = next(
                (
                    f
                    for f, words in UNIT_WORDS.items()
                    if any(w.lower() in form_words.split() for w in words)
                ),
                None,
            )
            return Product(
                row.drug,
                mg / per if mg is not None and per else None,
                form,
                row.route,
                "ingredient",
            )
    return None


def _named_drug(
    medication: dict[str, Any] | None, resource: dict[str, Any], lookups: Lookups
) -> str | None:
    """The drug an unmappable medication names in its text or display, if any."""
    texts = [str((medication or {}).get("code", {}).get("text") or "")]
    texts += [d for _, _, d in _codings((medication or {}).get("code"))]
    texts += [
        str(d.get("text") or "")
        for d in resource.get("dosageInstruction") or []
        if isinstance(d, dict)
    ]
    words = " ".join(texts).lower()
    return next((drug for drug in lookups.drugs if drug in words), None)


def _dose(dosage: dict[str, Any], product: Product) -> tuple[dict[str, Any], str | None]:
    """``dose_mg`` or ``dose_mg_per_kg`` of one dosage, or why the dose cannot be read."""
    rate = ((dosage.get("doseAndRate") or [{}])[0]) or {}
    quantity = dosage.get("dose") or rate.get("doseQuantity") or {}
    amount = _number(quantity.get("value"))
    if amount is None and isinstance(rate.get("doseRange"), dict):
        low, high = rate["doseRange"].get("low") or {}, rate["doseRange"].get("high") or {}
        unit = high.get("code") or high.get("unit") or low.get("unit") or ""
        return {}, Reason(
            "dose given as a range (%(low)s to %(high)s), not one dose",
            low=low.get("value", "?"),
            high=f"{high.get('value', '?')} {unit}".rstrip(),
        )
    if amount is None:
        return {}, None
    unit = str(quantity.get("code") or quantity.get("unit") or "")
    if unit in ("mg", "g"):
        return {"dose_mg": _plain(amount * 1000 if unit == "g" else amount)}, None
    if unit in ("mg/kg", "mg/kg/dose"):
        return {"dose_mg_per_kg": _plain(amount)}, None
    form = next(
        (f for f, words in UNIT_WORDS.items() if unit in words or unit.lower() in words), None
    )
    if form is not None and form == product.form and product.strength_mg is not None:
        return {"dose_mg": _plain(amount * product.strength_mg)}, None
    if unit.lower() in ("ml", "l"):
        # probe14 F9: a volume is read as mg only with the product's concentration
        return {}, Reason(
            "dose %(amount)s %(unit)s is a volume: reading it as mg of %(drug)s needs the "
            "concentration (mg/mL) of the product, which the order does not give "
            "(product %(product)s)",
            amount=amount,
            unit=unit,
            drug=product.drug,
            product=product.code,
        )
    return (
        {},
        Reason(
            "dose %(amount)s %(unit)s cannot be read as mg of %(drug)s (product %(product)s)",
            amount=amount,
            unit=repr(unit),
            drug=product.drug,
            product=product.code,
        ),
    )


def medication_course(
    resource: dict[str, Any],
    lookups: Lookups,
    bundled: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any] | str | None:
    """A therapy entry from a MedicationRequest/Statement/Administration; a sentence saying why
    it cannot be read; ``None`` when its status says it is not to be used.

    A dose that cannot be read leaves the course without a dose and says why in ``unread``
    (the caller reports it). A MedicationAdministration gives one dose (``start`` = when it was given, ``given_at`` =
    the instant); :class:`Administrations` joins them into a course.
    """
    kind = resource["resourceType"]
    binding = lookups.bindings.get((kind, "status"))
    if binding and binding.use and resource.get("status") not in binding.use:
        return None
    medication, missing = _medication(resource, bundled or {})
    product = _product(medication, lookups) if medication is not None else None
    if product is None:
        named = _named_drug(medication, resource, lookups)
        what = (
            Reason("%(kind)s medication %(why)s", kind=kind, why=missing)
            if missing
            else Reason(
                "%(kind)s medication %(code)s is not in the value sets",
                kind=kind,
                code=_show((medication or {}).get("code")),
            )
        )
        if named:
            return Reason(
                "%(what)s; it names %(drug)s, which was therefore NOT checked",
                what=what,
                drug=named,
            )
        return what
    if kind == "MedicationAdministration":
        dosages = [resource.get("dosage") or {}]
    else:
        dosages = resource.get("dosageInstruction") or resource.get("dosage") or [{}]
    if len(dosages) > 1:  # read one by one by ``medication_courses`` when each has its dates
        course = _course(resource, {}, product, lookups)
        if isinstance(course, dict):
            course["unread"] = Reason(
                "%(kind)s of %(drug)s has %(n)s dosage instructions that do not each give dates "
                "following one another (timing.repeat.boundsPeriod): the dose was NOT checked",
                kind=kind,
                drug=product.drug,
                n=len(dosages),
            )
        return course
    return _course(resource, dosages[0], product, lookups)


def medication_courses(
    resource: dict[str, Any],
    lookups: Lookups,
    bundled: Mapping[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]] | str:
    """The therapy entries of one medication resource: one per dosage instruction when an order
    has several that follow one another, each with its own dates (induction then maintenance,
    read as two courses, so the current dose is the maintenance one; a day shared by one's
    end and the next's start — a FHIR Period end is inclusive — is the day the dose changes, so
    the first course stops the day before, as the case's courses do not overlap), else
    ``medication_course``'s one (several dosages that are not so dated, or that overlap — two
    doses a day written as two instructions — give a course whose dose is said NOT checked,
    from the first dosage's start to the last one's end, ongoing only if one has no end); a
    sentence when it cannot be read; none when its status says it is not to be used."""
    single = medication_course(resource, lookups, bundled)
    listed = resource.get("dosageInstruction") or resource.get("dosage")  # Request, Statement
    dosages = [d for d in listed if isinstance(d, dict)] if isinstance(listed, list) else []
    if len(dosages) < 2 or not isinstance(single, dict):
        return [single] if isinstance(single, dict) else single if single else []
    product = _product(_medication(resource, bundled or {})[0] or {}, lookups)
    assert product is not None  # ``single`` was read
    courses = [_course(resource, d, product, lookups) for d in dosages]
    read = sorted((c for c in courses if isinstance(c, dict)), key=lambda c: c["start"])
    for a, b in itertools.pairwise(read):
        if a.get("stop") == b["start"] and a["start"] < b["start"]:
            a["stop"] = (date.fromisoformat(b["start"]) - timedelta(days=1)).isoformat()
    follow = len(read) == len(courses) and all(
        "stop" in a and a["stop"] < b["start"] for a, b in itertools.pairwise(read)
    )
    if not all(_bounds_start(d) for d in dosages):
        return [single]
    if follow:
        return read
    # Dated but not successive (review7 #2): the order spans its dosages' dates, never the
    # authoredOn of an order whose dosages all ended.
    single["start"] = min(c["start"] for c in read) if read else single["start"]
    stops = [c.get("stop") for c in read]
    if len(read) == len(courses) and all(stops):
        single["stop"] = max(str(s) for s in stops)
    return [single]


def _bounds_start(dosage: dict[str, Any]) -> str | None:
    return _date(
        (((dosage.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}).get("start")
    )


def _course(
    resource: dict[str, Any], dosage: dict[str, Any], product: Product, lookups: Lookups
) -> dict[str, Any] | str:
    """The therapy entry of ``resource`` given with one ``dosage``; a sentence when it has no
    start date; what of the dosage cannot be read is said in ``unread``."""
    kind = resource["resourceType"]
    course: dict[str, Any] = {"drug": product.drug}
    amount, problem = _dose(dosage, product)
    course.update(amount)
    timing = dosage.get("timing") or {}
    repeat = timing.get("repeat") or {}
    hours, timing_problem = _interval(timing)
    if hours is not None:
        course["every_h"] = hours
    unread = [p for p in (problem, timing_problem) if p]
    said: list[str] = (
        [Reason("%(why)s; the dose was NOT checked", why=Reason.joined("; ", unread))]
        if unread
        else []
    )
    if resource.get("status") == "on-hold":  # FHIR: "actions implied … temporarily halted"
        said.append(
            Reason(
                "it is on hold (status on-hold): read as ordered, but whether it is taken now is "
                "not known"
            )
        )
    if said:  # the course is still real (e.g. for the therapy monitor); what is not read is said
        course["unread"] = Reason(
            "%(kind)s of %(drug)s: %(why)s",
            kind=kind,
            drug=product.drug,
            why=Reason.joined("; ", said),
        )
    route = (
        next(
            (
                lookups.routes[(s, c)]
                for s, c, _ in _codings(dosage.get("route"))
                if (s, c) in lookups.routes
            ),
            None,
        )
        or product.route
    )
    if route:
        course["route"] = route
    bounds = repeat.get("boundsPeriod") or resource.get("effectivePeriod") or {}
    given = bounds.get("start") or resource.get("authoredOn") or resource.get("effectiveDateTime")
    start = _date(given)
    if start is None:
        if given:
            return Reason(
                "%(kind)s of %(drug)s has no start date (only %(given)s, not a full date)",
                kind=kind,
                drug=product.drug,
                given=repr(str(given)),
            )
        return Reason("%(kind)s of %(drug)s has no start date", kind=kind, drug=product.drug)
    course["start"] = start
    if bounds.get("end"):
        stop = _date(bounds["end"])
        if stop is None:
            return Reason(
                "%(kind)s of %(drug)s ends on %(given)s, not a full date",
                kind=kind,
                drug=product.drug,
                given=repr(str(bounds["end"])),
            )
        course["stop"] = stop
    if kind == "MedicationAdministration":
        course["given_at"] = str(resource.get("effectiveDateTime") or bounds.get("start"))
    indication = order_indication(resource)
    if indication:
        course["indication"] = indication
    return course


#: The code system of the timing abbreviations (BID, TID, QD…) read as intervals.
GTS_ABBREVIATION = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


def _interval(timing: dict[str, Any]) -> tuple[int | float | None, str | None]:
    """Hours between doses from ``timing.repeat`` (frequency per period) and/or a
    ``timing.code`` naming a fixed interval (BID…, read only in HL7's GTSAbbreviation system or
    with no system: a local code of the same letters may mean something else); or why a timing
    given cannot be read — a repeat and a code that disagree, or times of day (``when``) with no
    frequency, are said, never resolved by a guess (review7 #6, #7)."""
    repeat = timing.get("repeat") or {}
    period = _number(repeat.get("period"))
    frequency = _number(repeat.get("frequency") or 1)
    hours = {"h": 1, "d": 24, "wk": 168}.get(str(repeat.get("periodUnit")))
    every = _plain(period * hours / frequency) if period and frequency and hours else None
    codes = [c for s, c, _ in _codings(timing.get("code")) if s in ("", GTS_ABBREVIATION)]
    known = [TIMING_CODES[c] for c in codes if c in TIMING_CODES]
    if every is not None and known and known[0] != every:
        return None, Reason(
            "timing %(frequency)s per %(period)s %(unit)s and code %(code)s disagree",
            frequency=repeat.get("frequency", 1),
            period=repeat.get("period"),
            unit=repeat.get("periodUnit"),
            code=_show(timing.get("code")),
        )
    if every is not None:
        return every, None
    if known:
        return known[0], None
    if timing.get("code"):
        return None, Reason(
            "timing %(code)s is not an interval cmvcds reads", code=_show(timing.get("code"))
        )
    if period or repeat.get("periodUnit"):
        return None, Reason(
            "timing %(frequency)s per %(period)s %(unit)s is not an interval cmvcds reads",
            frequency=repeat.get("frequency", 1),
            period=repeat.get("period"),
            unit=repeat.get("periodUnit"),
        )
    if repeat.get("when") or repeat.get("timeOfDay"):
        times = ", ".join(str(w) for w in repeat.get("when") or repeat.get("timeOfDay") or [])
        return None, Reason(
            "timing at %(times)s with no frequency is not an interval cmvcds reads", times=times
        )
    return None, None


def order_indication(resource: dict[str, Any]) -> str | None:
    """The dose calculator's indication named by ``reasonCode`` (text or code), if any."""
    known = {i.value for i in Indication}
    for concept in resource.get("reasonCode") or []:
        for text in [concept.get("text"), *(c.get("code") for c in concept.get("coding") or [])]:
            if isinstance(text, str) and text.strip().lower() in known:
                return text.strip().lower()
    return None


def infer_indication(
    conditions: set[str], observations: list[dict[str, Any]]
) -> tuple[str, str] | None:
    """``(indication, why)`` for an order that does not code its indication, when the record
    leaves one reading only: a transplant recipient with no CMV infection or disease recorded and
    no CMV DNA detected is on prophylaxis (the labelled use of valganciclovir/ganciclovir in
    transplant recipients at risk). Anything else is not inferred."""
    detected = any(
        o.get("code") == "cmv_dna"
        and (o.get("result") in ("detected", "detected_below_lloq") or o.get("value"))
        for o in observations
    )
    if (
        "transplant_recipient" in conditions
        and not conditions & {"cmv_infection", "congenital_cmv"}
        and not detected
    ):
        return (
            "prophylaxis",
            Reason(
                "transplant recipient with no CMV infection or disease recorded and no CMV DNA "
                "detected"
            ),
        )
    return None


@dataclass
class Administrations:
    """Doses given (MedicationAdministration), joined into one course per drug and route."""

    given: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, course: dict[str, Any]) -> None:
        self.given.setdefault((course["drug"], course.get("route", "")), []).append(course)

    def courses(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The courses, and one note per course saying how it was built."""
        out: list[dict[str, Any]] = []
        notes: list[str] = []
        for (drug, route), doses in sorted(self.given.items()):
            doses.sort(key=lambda c: c["given_at"])
            course = {k: v for k, v in doses[-1].items() if k not in ("given_at", "start", "stop")}
            course["start"] = doses[0]["start"]
            instants = [_instant(c["given_at"]) for c in doses]
            gaps = [
                (b - a).total_seconds() / 3600
                for a, b in itertools.pairwise(instants)
                if a is not None and b is not None
            ]
            if gaps and "every_h" not in course:
                course["every_h"] = round(statistics.median(gaps))
            out.append(course)
            given = {
                "n": len(doses),
                "drug": f"{drug} {route}" if route else drug,
                "start": doses[0]["start"],
                "last": doses[-1]["start"],
            }
            notes.append(
                Reason(
                    "%(n)s administration(s) of %(drug)s from %(start)s to %(last)s read as one "
                    "course, every %(every_h)s h (median interval), last dose as the current dose",
                    every_h=course["every_h"],
                    **given,
                )
                if "every_h" in course
                else Reason(
                    "%(n)s administration(s) of %(drug)s from %(start)s to %(last)s read as one "
                    "course, last dose as the current dose",
                    **given,
                )
            )
        return out, notes


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
