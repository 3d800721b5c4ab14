"""Build the EHR-export corpus of ``tests/fhir/ehr/cases/*.json`` with ``fhir.resources`` (R4B).

Each case is what an EHR sends a CDS service: the hook, its context (draft orders as a Bundle),
the prefetch (searchset Bundles, as a FHIR server answers the prefetch queries), the further
pages a searchset links to (``pages``: URL → Bundle, served by the test's own FHIR server), and
the cards a clinician must see (``expect``: indicator + words of the summary). Every resource is
validated by the ``fhir.resources`` models here and against the official R4 JSON Schema in
``test_ehr_corpus.py``.

Shapes follow published profiles, not our own textbook cases: US Core (lab results with
category ``laboratory``, ``interpretation``, ``referenceRange``; RxNorm clinical-drug (SCD) codes
on orders; ``medicationReference`` to a contained or bundled Medication; searchset paging with
``link[next]``) and the Italian FSE laboratory report (a DiagnosticReport whose results are
contained Observations; ATC and AIC codes; Italian text and comma decimals in ``valueString``).
Clinical values are worked out by hand in each case's ``why``.

Run ``python tests/fhir/ehr/generate.py`` after a change and review the diff.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

HERE = Path(__file__).parent
CASES = HERE / "cases"
EHR = "https://ehr.example.org/fhir"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
AIC = "urn:oid:2.16.840.1.113883.2.9.6.1.5"
UCUM = "http://unitsofmeasure.org"
V3INT = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSCAT = "http://terminology.hl7.org/CodeSystem/observation-category"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
US_CORE_LAB = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"


def build(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource after a round trip through its ``fhir.resources`` R4B model."""
    model = get_fhir_model_class(resource["resourceType"])
    built: dict[str, Any] = json.loads(model.model_validate(resource).json())
    return built


def patient(pid: str, gender: str, birth: str, *, italian: bool = False) -> dict[str, Any]:
    ident = (
        {"system": "http://hl7.it/sid/codiceFiscale", "value": "RSSMRA85T10A562S"}
        if italian
        else {"system": "http://hospital.example.org/mrn", "value": f"MRN-{pid}"}
    )
    return build(
        {
            "resourceType": "Patient",
            "id": pid,
            "meta": {
                "profile": [
                    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
                    if not italian
                    else "http://hl7.it/fhir/StructureDefinition/Patient-it-base"
                ]
            },
            "identifier": [ident],
            "name": [{"family": "Test", "given": [pid]}],
            "gender": gender,
            "birthDate": birth,
        }
    )


def obs(
    oid: str,
    pid: str,
    code: str,
    display: str,
    day: str,
    *,
    qty: tuple[float, str, str] | None = None,
    comparator: str | None = None,
    coded: tuple[str, str, str] | None = None,
    text: str | None = None,
    interp: str | None = None,
    ranges: list[dict[str, Any]] | None = None,
    status: str = "final",
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "meta": {"profile": [US_CORE_LAB]},
        "status": status,
        "category": [{"coding": [{"system": OBSCAT, "code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": day,
    }
    if qty is not None:
        value, unit, ucum = qty
        r["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": ucum}
        if comparator:
            r["valueQuantity"]["comparator"] = comparator
    if coded is not None:
        r["valueCodeableConcept"] = {
            "coding": [{"system": coded[0], "code": coded[1], "display": coded[2]}]
        }
    if text is not None:
        r["valueString"] = text
    if interp is not None:
        r["interpretation"] = [{"coding": [{"system": V3INT, "code": interp}]}]
    if ranges:
        r["referenceRange"] = ranges
    return build(r)


VL_DISPLAY = (
    "Cytomegalovirus DNA [Units/volume] (viral load) in Serum or Plasma by NAA with probe detection"
)
IGG_PRESENCE = ("13949-3", "Cytomegalovirus IgG Ab [Presence] in Serum")
IGM_UNITS = ("7853-5", "Cytomegalovirus IgM Ab [Units/volume] in Serum or Plasma")
POSITIVE = (SNOMED, "10828004", "Positive")
NEGATIVE = (SNOMED, "260385009", "Negative")
FORMULARY_VALG = (
    "http://hospital.example.org/formulary",
    "VALG450",
    "Valganciclovir 450 mg tab (formulary)",
)


def vl(oid: str, pid: str, day: str, iu: float | None, **kw: Any) -> dict[str, Any]:
    """A plasma CMV viral load in IU/mL (LOINC 72493-0); ``iu`` None: the value is in ``kw``
    (``text=`` for a valueString)."""
    if iu is not None:
        kw["qty"] = (iu, "IU/mL", "[IU]/mL")
    return obs(oid, pid, "72493-0", VL_DISPLAY, day, **kw)


def creat(oid: str, pid: str, day: str, mg_dl: float) -> dict[str, Any]:
    return obs(
        oid,
        pid,
        "2160-0",
        "Creatinine [Mass/volume] in Serum or Plasma",
        day,
        qty=(mg_dl, "mg/dL", "mg/dL"),
    )


def vital(
    oid: str, pid: str, day: str, code: str, name: str, qty: tuple[float, str, str], profile: str
) -> dict[str, Any]:
    """A US Core vital sign (category ``vital-signs``, its own profile)."""
    r = obs(oid, pid, code, name, day, qty=qty)
    r["category"] = [{"coding": [{"system": OBSCAT, "code": "vital-signs"}]}]
    r["meta"] = {"profile": [f"http://hl7.org/fhir/us/core/StructureDefinition/{profile}"]}
    return build(r)


def weight(oid: str, pid: str, day: str, kg: float) -> dict[str, Any]:
    return vital(oid, pid, day, "29463-7", "Body weight", (kg, "kg", "kg"), "us-core-body-weight")


def height(oid: str, pid: str, day: str, cm: float) -> dict[str, Any]:
    return vital(oid, pid, day, "8302-2", "Body height", (cm, "cm", "cm"), "us-core-body-height")


def renal_weight(pid: str, day: str, mg_dl: float = 1.0, kg: float = 70) -> list[dict[str, Any]]:
    """The creatinine and weight the dose and monitor services need, on one day."""
    return [creat(f"{pid}-cr", pid, day, mg_dl), weight(f"{pid}-wt", pid, day, kg)]


def anc(oid: str, pid: str, day: str, per_nl: float) -> dict[str, Any]:
    return obs(
        oid,
        pid,
        "751-8",
        "Neutrophils [#/volume] in Blood by Automated count",
        day,
        qty=(per_nl, "10*3/uL", "10*3/uL"),
    )


def igm(pid: str, day: str, index: float, interp: str) -> dict[str, Any]:
    """CMV IgM as an index (LOINC 7853-5) with its interpretation."""
    return obs(
        f"{pid}-igm", pid, *IGM_UNITS, day, qty=(index, "index", "{index_val}"), interp=interp
    )


def condition(cid: str, pid: str, system: str, code: str, display: str) -> dict[str, Any]:
    def status(kind: str, code: str) -> dict[str, Any]:
        return {
            "coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{kind}", "code": code}]
        }

    return build(
        {
            "resourceType": "Condition",
            "id": cid,
            "clinicalStatus": status("condition-clinical", "active"),
            "verificationStatus": status("condition-ver-status", "confirmed"),
            "category": [status("condition-category", "problem-list-item")],
            "code": {
                "coding": [{"system": system, "code": code, "display": display}],
                "text": display,
            },
            "subject": {"reference": f"Patient/{pid}"},
        }
    )


def kidney_tx(pid: str) -> dict[str, Any]:
    return condition(f"{pid}-ktx", pid, ICD10, "Z94.0", "Kidney transplant status")


def cmv_disease(pid: str) -> dict[str, Any]:
    return condition(f"{pid}-cmv", pid, SNOMED, "28944009", "Cytomegalovirus infection")


def medication(mid: str, system: str, code: str, display: str) -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": mid,
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
    }


def dosage(
    dose: float,
    unit: str,
    ucum: str,
    every_h: float,
    route: str = "oral",
    start: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    route_code = {"oral": ("26643006", "Oral route"), "iv": ("47625008", "Intravenous route")}[
        route
    ]
    repeat: dict[str, Any] = {"frequency": 1, "period": every_h, "periodUnit": "h"}
    if start:
        repeat["boundsPeriod"] = {"start": start}
    return {
        "text": text or f"{dose:g} {unit} every {every_h:g} h",
        "timing": {"repeat": repeat},
        "route": {"coding": [{"system": SNOMED, "code": route_code[0], "display": route_code[1]}]},
        "doseAndRate": [
            {"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": ucum}}
        ],
    }


def order(
    oid: str,
    pid: str,
    day: str,
    *,
    concept: tuple[str, str, str] | None = None,
    reference: str | None = None,
    contained: dict[str, Any] | None = None,
    dose: dict[str, Any],
    status: str = "active",
    reason: str | None = None,
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": oid,
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": day,
        "dosageInstruction": [dose],
    }
    if contained is not None:
        r["contained"] = [contained]
        r["medicationReference"] = {"reference": f"#{contained['id']}"}
    elif reference is not None:
        r["medicationReference"] = {"reference": reference}
    elif concept is not None:
        r["medicationCodeableConcept"] = {
            "coding": [{"system": concept[0], "code": concept[1], "display": concept[2]}],
            "text": concept[2],
        }
    if reason:
        r["reasonCode"] = [{"text": reason}]
    return build(r)


def lab_report(
    pid: str, day: str, text: str, results: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A laboratory DiagnosticReport (LOINC 11502-2) whose ``results`` are contained (their
    profile dropped, as the Italian FSE sends them)."""
    contained = [{k: v for k, v in r.items() if k != "meta"} for r in results]
    return build(
        {
            "resourceType": "DiagnosticReport",
            "id": f"{pid}-dr",
            "status": "final",
            "code": {
                "coding": [{"system": LOINC, "code": "11502-2", "display": "Laboratory report"}],
                "text": text,
            },
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": day,
            "contained": contained,
            "result": [{"reference": f"#{c['id']}"} for c in contained],
            **extra,
        }
    )


def _entry(resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{EHR}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def searchset(
    resources: list[dict[str, Any]],
    *,
    self_url: str = "",
    next_url: str | None = None,
    total: int | None = None,
    include: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    broken = [r for r in resources if r.get("_broken")]
    resources = [r for r in resources if not r.get("_broken")]
    b: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources) if total is None else total,
        "link": [{"relation": "self", "url": self_url or f"{EHR}/Observation"}],
        "entry": [_entry(r, "match") for r in resources] + [_entry(r, "include") for r in include],
    }
    if next_url:
        b["link"].append({"relation": "next", "url": next_url})
    built = build(b)
    for r in broken:  # deliberately invalid: added after validation, as a faulty EHR sends it
        raw = {k: v for k, v in r.items() if k != "_broken"}
        built.setdefault("entry", []).append(_entry(raw, "match"))
        built["total"] += 1
    return built


def collection(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return build(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in resources],
        }
    )


def case(
    name: str,
    *,
    why: str,
    service: str,
    pid: str,
    prefetch: dict[str, Any],
    expect: list[tuple[str, str]],
    hook: str = "patient-view",
    orders: list[dict[str, Any]] | None = None,
    pages: dict[str, Any] | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": "Practitioner/dr-1", "patientId": pid}
    if "allergies" not in prefetch:
        # the services' AllergyIntolerance template (debt22), answered "none recorded" (an
        # empty searchset); an absent key is said on a warning card (debt23)
        prefetch = {**prefetch, "allergies": searchset([], self_url=f"{EHR}/AllergyIntolerance")}
    if orders is not None:
        context["draftOrders"] = collection(orders)
    return {
        "name": name,
        "why": why,
        "service": service,
        "request": {
            "hook": hook,
            "hookInstance": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cmvcds-ehr-corpus/{name}")),
            "context": context,
            "prefetch": prefetch,
        },
        "pages": pages or {},
        "expect": [{"indicator": i, "summary": s} for i, s in expect],
    }


VGC_SCD = (RXNORM, "313566", "valganciclovir 450 MG Oral Tablet")
VGC_ATC = (ATC, "J05AB14", "valganciclovir")
GCV_SNOMED_VIAL = (
    SNOMED,
    "324781006",
    "Ganciclovir (as ganciclovir sodium) 500 mg powder for solution for injection vial",
)
MONITOR = "cmv-therapy-monitor"
DOSE = "cmv-antiviral-dose-check"
PREG = "cmv-pregnancy-valacyclovir"

# A viral load rising on therapy: 25000 → 3000 → 800 (nadir) → 12000 → 60000 IU/mL, 2 weeks apart
# late: 60000/800 = 75-fold, 1.88 log10 above the nadir after > 2 weeks of therapy → suspected resistance.
RISING = [
    ("2026-08-03", 25000),
    ("2026-08-17", 3000),
    ("2026-08-31", 800),
    ("2026-09-28", 12000),
    ("2026-10-12", 60000),
]


def rising(pid: str) -> list[dict[str, Any]]:
    return [vl(f"{pid}-vl{i}", pid, d, v) for i, (d, v) in enumerate(RISING)]


RESISTANCE = ("warning", "Suspected antiviral resistance")
VGC_TWICE = dosage(900, "mg", "mg", 12, start="2026-08-03")


def therapy(pid: str, *, include: Sequence[dict[str, Any]] = (), **kw: Any) -> dict[str, Any]:
    """The searchset of one active order started on 2026-08-03 (900 mg every 12 h unless
    ``dose=`` says otherwise); ``kw`` names the medication as ``order`` takes it."""
    return searchset(
        [order(f"{pid}-mr", pid, "2026-08-03", **{"dose": VGC_TWICE, **kw})], include=include
    )


def monitor_base(
    pid: str,
    meds: dict[str, Any],
    *,
    extra_obs: Sequence[dict[str, Any]] = (),
    conditions: list[dict[str, Any]] | None = None,
    obs_bundle: dict[str, Any] | None = None,
) -> dict[str, Any]:
    observations = obs_bundle or searchset(
        [*rising(pid), *renal_weight(pid, "2026-10-12"), *extra_obs]
    )
    return {
        "patient": patient(pid, "male", "1968-03-14"),
        "observations": observations,
        "conditions": searchset(conditions if conditions is not None else [cmv_disease(pid)]),
        "medications": meds,
    }


def monitor_case(name: str, pid: str, why: str, **kw: Any) -> dict[str, Any]:
    return case(name, service=MONITOR, pid=pid, why=why, **kw)


def dose_prefetch(
    pid: str,
    cr: float,
    wt: float,
    ht: float,
    birth: str = "1956-05-01",
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    p = {
        "patient": patient(pid, "male", birth),
        "observations": searchset(
            [*renal_weight(pid, "2026-11-20", cr, wt), height(f"{pid}-ht", pid, "2026-11-20", ht)]
        ),
    }
    if conditions is not None:
        p["conditions"] = searchset(conditions)
    return p


#: The renal-impairment patient of the dose cases: male, 70 y, 70 kg, 175 cm, creatinine 1.4.
RENAL = {"cr": 1.4, "wt": 70, "ht": 175}
#: The kidney recipient of the inferred-prophylaxis cases: 56 y, 80 kg, 180 cm, creatinine 0.9.
KIDNEY_RECIPIENT = {"cr": 0.9, "wt": 80, "ht": 180, "birth": "1970-05-01"}


def dose_case(
    name: str,
    pid: str,
    why: str,
    expect: list[tuple[str, str]],
    patient_: dict[str, Any],
    conditions: list[dict[str, Any]] | None = None,
    **draft: Any,
) -> dict[str, Any]:
    """An order-sign call with one draft order (signed 2026-11-21) for the dose check."""
    return case(
        name,
        service=DOSE,
        hook="order-sign",
        pid=pid,
        why=why,
        orders=[order(f"{pid}-mr", pid, "2026-11-21", status="draft", **draft)],
        prefetch=dose_prefetch(pid, **patient_, conditions=conditions),
        expect=expect,
    )


def preg_prefetch(
    pid: str,
    results: list[dict[str, Any]],
    conditions: Sequence[dict[str, Any]] = (),
    reports: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    p = {
        "patient": patient(pid, "female", "1992-04-11", italian=pid.startswith("it")),
        "observations": searchset(
            [
                obs(
                    f"{pid}-preg",
                    pid,
                    "82810-3",
                    "Pregnancy status",
                    "2026-11-10",
                    coded=(SNOMED, "77386006", "Pregnant"),
                ),
                obs(
                    f"{pid}-ga",
                    pid,
                    "49051-6",
                    "Gestational age in weeks",
                    "2026-10-20",
                    qty=(39, "d", "d"),
                ),
                *renal_weight(pid, "2026-11-10", 0.62, 64),
                *results,
            ]
        ),
        "conditions": searchset(list(conditions)),
    }
    if reports:
        p["reports"] = searchset(list(reports))
    return p


# Seroconversion: IgG negative on 2026-09-30, positive 2026-11-10, IgM positive → primary infection in the
# first trimester (GA 10+1 on 2026-11-21) → valacyclovir 8 g/day recommended (AIFA L. 648/96).
def seroconversion(
    pid: str, igg_code: str = "13949-3", *, interp_only: bool = False
) -> list[dict[str, Any]]:
    igg_display = {
        "13949-3": IGG_PRESENCE[1],
        "5124-3": "Cytomegalovirus IgG Ab [Units/volume] in Serum by Immunoassay",
    }.get(igg_code, "CMV IgG")

    def igg(n: int, day: str, **value: Any) -> dict[str, Any]:
        return obs(f"{pid}-igg{n}", pid, igg_code, igg_display, day, **value)

    if interp_only:
        neg = igg(0, "2026-09-30", qty=(0.2, "[arb'U]/mL", "[arb'U]/mL"), interp="NEG")
        pos = igg(1, "2026-11-10", qty=(45, "[arb'U]/mL", "[arb'U]/mL"), interp="POS")
    else:
        neg = igg(0, "2026-09-30", coded=NEGATIVE)
        pos = igg(1, "2026-11-10", coded=POSITIVE)
    return [neg, pos, igm(pid, "2026-11-10", 3.1, "POS")]


def preg_case(name: str, pid: str, why: str, **kw: Any) -> dict[str, Any]:
    return case(name, service=PREG, pid=pid, why=why, **kw)


REC = ("info", "Valacyclovir to prevent fetal CMV infection (L. 648/96): recommended")


def monitor_cases() -> list[dict[str, Any]]:
    """1-11: the therapy monitor, with orders, results and pages as real EHRs send them."""
    out: list[dict[str, Any]] = []
    pid = "us-mon-scd"
    out.append(
        monitor_case(
            "monitor-scd-coded-order",
            pid,
            "US Core: valganciclovir ordered as the clinical drug RxNorm 313566; VL 800 → 60000 IU/mL on therapy (1.88 log10 over the nadir).",
            prefetch=monitor_base(pid, therapy(pid, concept=VGC_SCD)),
            expect=[RESISTANCE],
        )
    )
    pid = "us-mon-contained"
    out.append(
        monitor_case(
            "monitor-contained-medication",
            pid,
            "Order points to a contained Medication coded with the SCD (as in the FHIR R4 example medrx0302).",
            prefetch=monitor_base(pid, therapy(pid, contained=medication("med1", *VGC_SCD))),
            expect=[RESISTANCE],
        )
    )
    pid = "us-mon-bundled"
    med = build(medication(f"{pid}-med", *VGC_SCD))
    out.append(
        monitor_case(
            "monitor-bundled-medication",
            pid,
            "Order references Medication/<id> returned in the same searchset (_include=MedicationRequest:medication).",
            prefetch=monitor_base(
                pid, therapy(pid, reference=f"Medication/{pid}-med", include=[med])
            ),
            expect=[RESISTANCE],
        )
    )
    pid = "it-mon-atc"
    two_tablets = dosage(2, "tablet", "{tbl}", 12, start="2026-08-03")
    out.append(
        monitor_case(
            "monitor-italian-atc-order",
            pid,
            "Italian FSE: the prescription carries the ATC code J05AB14 only, dose as 2 tablets: an ATC code has no strength, so the course counts for the rise but its dose is reported as not read.",
            prefetch=monitor_base(pid, therapy(pid, concept=VGC_ATC, dose=two_tablets)),
            expect=[RESISTANCE, ("warning", "not read")],
        )
    )
    pid = "us-mon-unknown-product"
    out.append(
        monitor_case(
            "monitor-unmappable-order",
            pid,
            "A local formulary code the pack cannot map: the order must not vanish silently.",
            prefetch=monitor_base(pid, therapy(pid, concept=FORMULARY_VALG)),
            expect=[("warning", "not read")],
        )
    )
    pid = "us-mon-ma-iv"
    weeks = [(8, 3), (8, 10), (8, 17), (8, 24), (8, 31), (9, 7), (9, 14), (9, 21), (9, 28)]
    times = [
        (f"2026-{m:02d}-{dd:02d}", hh)
        for m, dd in [*weeks, (10, 5), (10, 12)]
        for hh in ("08", "20")
    ]
    admins = [
        build(
            {
                "resourceType": "MedicationAdministration",
                "id": f"{pid}-ma{i}",
                "status": "completed",
                "medicationCodeableConcept": {
                    "coding": [
                        {
                            "system": SNOMED,
                            "code": GCV_SNOMED_VIAL[1],
                            "display": GCV_SNOMED_VIAL[2],
                        }
                    ]
                },
                "subject": {"reference": f"Patient/{pid}"},
                "effectiveDateTime": f"{d}T{h}:00:00+01:00",
                "dosage": {
                    "route": {"coding": [{"system": SNOMED, "code": "47625008"}]},
                    "dose": {"value": 350, "unit": "mg", "system": UCUM, "code": "mg"},
                },
            }
        )
        for i, (d, h) in enumerate(times)
    ]
    base = monitor_base(pid, searchset([]))
    base["administrations"] = searchset(admins)
    out.append(
        monitor_case(
            "monitor-inpatient-iv-administrations",
            pid,
            "Inpatient IV ganciclovir charted as MedicationAdministration (5 mg/kg = 350 mg every 12 h at 70 kg) and no order in the prefetch.",
            prefetch=base,
            expect=[RESISTANCE],
        )
    )

    # --- 7-9: paging and DiagnosticReport-contained results
    pid = "us-mon-paged"
    loads = rising(pid)
    page2 = f"{EHR}/Observation?patient={pid}&_getpages=abc&_page=2"
    first = searchset([*loads[:3], *renal_weight(pid, "2026-10-12")], next_url=page2, total=7)
    second = searchset(loads[3:], self_url=page2, total=7)
    out.append(
        monitor_case(
            "monitor-paged-searchset",
            pid,
            "The rise (12000, 60000 IU/mL) is on page 2 of the observations searchset.",
            prefetch=monitor_base(pid, therapy(pid, concept=VGC_SCD), obs_bundle=first),
            pages={page2: second},
            expect=[RESISTANCE],
        )
    )
    pid = "it-mon-report"
    report = lab_report(
        pid,
        "2026-10-12",
        "Referto di laboratorio",
        [vl(f"r{i}", pid, d, v) for i, (d, v) in enumerate(RISING)],
        category=[
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}
        ],
        issued="2026-10-13T09:00:00+01:00",
    )
    base = monitor_base(
        pid,
        therapy(pid, concept=VGC_ATC),
        obs_bundle=searchset(renal_weight(pid, "2026-10-12")),
    )
    base["reports"] = searchset([report])
    out.append(
        monitor_case(
            "monitor-results-in-diagnosticreport",
            pid,
            "Italian FSE lab report: the viral loads are Observations contained in a DiagnosticReport.",
            prefetch=base,
            expect=[RESISTANCE],
        )
    )
    pid = "us-mon-lloq"
    loads = [
        vl(f"{pid}-vl0", pid, "2026-08-03", 25000),
        vl(f"{pid}-vl1", pid, "2026-08-17", 3000),
        vl(f"{pid}-vl2", pid, "2026-08-31", 35, comparator="<"),
        vl(f"{pid}-vl3", pid, "2026-09-14", None, text="<35 IU/mL"),
        vl(f"{pid}-vl4", pid, "2026-09-28", None, text="detected <LLOQ"),
    ]
    out.append(
        monitor_case(
            "monitor-below-lloq-values",
            pid,
            "Falling load ending '< 35 IU/mL' (comparator), '<35 IU/mL' and 'detected <LLOQ' (valueString): response, no resistance.",
            prefetch=monitor_base(
                pid,
                therapy(pid, concept=VGC_SCD),
                obs_bundle=searchset([*loads, *renal_weight(pid, "2026-09-28")]),
            ),
            expect=[],
        )
    )
    pid = "us-mon-broken"
    broken = condition(f"{pid}-bad", pid, SNOMED, "38341003", "Hypertension")
    broken["onsetDateTime"] = "last spring"  # not a FHIR dateTime
    broken["_broken"] = True
    out.append(
        monitor_case(
            "monitor-one-broken-condition",
            pid,
            "An unrelated Condition with an invalid onsetDateTime must be reported, and the resistance warning still shown.",
            prefetch=monitor_base(
                pid, therapy(pid, concept=VGC_SCD), conditions=[cmv_disease(pid), broken]
            ),
            expect=[RESISTANCE, ("warning", "ignored")],
        )
    )
    pid = "us-mon-neutropenia"
    out.append(
        monitor_case(
            "monitor-neutropenia-scd",
            pid,
            "SCD-coded valganciclovir with ANC 0.4 x10^3/uL: below the label's 500 cells/uL.",
            prefetch=monitor_base(
                pid,
                therapy(pid, concept=VGC_SCD),
                extra_obs=[anc(f"{pid}-anc", pid, "2026-10-12", 0.4)],
            ),
            expect=[RESISTANCE, ("critical", "ANC 400")],
        )
    )
    return out


def dose_cases() -> list[dict[str, Any]]:
    """12-17: the dose check on order-sign, with real order shapes."""
    # CrCl (Cockcroft-Gault) male 70 y, 70 kg, Cr 1.4: (140-70)*70/(72*1.4) = 48.6 mL/min → label 450 mg twice daily (induction)
    renal = [("critical", "renally adjusted dose")]
    # Prophylaxis 900 mg once daily, CrCl ≥ 60 (Cr 0.9: (140-56)*80/(72*0.9) = 103.7) → matches the label: no card.
    return [
        dose_case(
            "dose-scd-order-renal",
            "us-dose-scd",
            "SCD 313566, 2 tablets (900 mg) every 12 h, induction, CrCl 48.6 mL/min: label gives 450 mg twice daily.",
            renal,
            RENAL,
            concept=VGC_SCD,
            reason="induction",
            dose=dosage(2, "tablet", "{tbl}", 12),
        ),
        dose_case(
            "dose-contained-medication-renal",
            "us-dose-contained",
            "Same order through a contained Medication (SCD) and mg dose.",
            renal,
            RENAL,
            contained=medication("m1", *VGC_SCD),
            reason="induction",
            dose=dosage(900, "mg", "mg", 12),
        ),
        dose_case(
            "dose-indication-inferred-prophylaxis",
            "us-dose-inferred",
            "Kidney recipient (Z94.0), no CMV disease recorded, no reasonCode: prophylaxis is inferred and said; 900 mg daily at CrCl 104 matches.",
            [("info", "inferred")],
            KIDNEY_RECIPIENT,
            conditions=[kidney_tx("us-dose-inferred")],
            concept=VGC_SCD,
            dose=dosage(900, "mg", "mg", 24),
        ),
        dose_case(
            "dose-inferred-prophylaxis-too-high",
            "us-dose-inferred-high",
            "Kidney recipient, no CMV disease, 900 mg every 12 h with CrCl 104: above the prophylaxis dose (900 mg once daily).",
            [("critical", "above the labelled dose")],
            KIDNEY_RECIPIENT,
            conditions=[kidney_tx("us-dose-inferred-high")],
            concept=VGC_SCD,
            dose=dosage(900, "mg", "mg", 12),
        ),
        dose_case(
            "dose-italian-aic-order",
            "it-dose-aic",
            "Italian prescription by AIC 035739010 (Valcyte 450 mg, 60 cpr), 2 compresse every 12 h, induction, CrCl 48.6: label gives 450 mg twice daily.",
            renal,
            RENAL,
            concept=(AIC, "035739010", "VALCYTE 450 mg 60 compresse rivestite con film"),
            reason="induction",
            dose=dosage(2, "compresse", "{tbl}", 12),
        ),
        dose_case(
            "dose-unmappable-antiviral",
            "us-dose-unknown",
            "An antiviral order by a formulary code the pack lacks: a warning, not silence.",
            [("warning", "not checked")],
            RENAL,
            concept=FORMULARY_VALG,
            reason="induction",
            dose=dosage(900, "mg", "mg", 12),
        ),
    ]


def pregnancy_cases() -> list[dict[str, Any]]:
    """18-23: pregnancy (Italian FSE and US Core serology)."""
    out: list[dict[str, Any]] = []
    pid = "us-preg-13949"
    out.append(
        preg_case(
            "pregnancy-igg-presence-13949",
            pid,
            "US Core serology: CMV IgG presence (13949-3) negative then positive, IgM positive: seroconversion at GA 10+1.",
            prefetch=preg_prefetch(pid, seroconversion(pid)),
            expect=[REC],
        )
    )
    pid = "us-preg-interp"
    out.append(
        preg_case(
            "pregnancy-interpretation-codes",
            pid,
            "Quantitative IgG in arbitrary units read from interpretation NEG/POS only.",
            prefetch=preg_prefetch(pid, seroconversion(pid, "5124-3", interp_only=True)),
            expect=[REC],
        )
    )
    pid = "us-preg-broken"
    bad = condition(f"{pid}-bad", pid, SNOMED, "195967001", "Asthma")
    bad["recordedDate"] = "2026-13-45"  # invalid date
    bad["_broken"] = True
    out.append(
        preg_case(
            "pregnancy-one-broken-condition",
            pid,
            "Issue 16 item 4: an invalid unrelated Condition must not replace the recommendation.",
            prefetch=preg_prefetch(pid, seroconversion(pid), conditions=[bad]),
            expect=[REC, ("warning", "ignored")],
        )
    )
    # Avidity as a ratio with the laboratory's own cut-offs (referenceRange): 0.18 is in the 'low' band.
    pid = "it-preg-avidity"
    ranges = [
        {"high": {"value": 0.35}, "text": "bassa avidità (low)"},
        {
            "low": {"value": 0.35},
            "high": {"value": 0.45},
            "text": "avidità intermedia (intermediate)",
        },
        {"low": {"value": 0.45}, "text": "alta avidità (high)"},
    ]
    results = [
        obs(f"{pid}-igg", pid, *IGG_PRESENCE, "2026-11-10", coded=POSITIVE),
        igm(pid, "2026-11-10", 3.1, "POS"),
        obs(
            f"{pid}-avid",
            pid,
            "52984-2",
            "Cytomegalovirus IgG Ab avidity [Ratio] in Serum or Plasma by Immunoassay",
            "2026-11-10",
            qty=(0.18, "ratio", "{ratio}"),
            ranges=ranges,
        ),
    ]
    out.append(
        preg_case(
            "pregnancy-avidity-ratio-cutoffs",
            pid,
            "Italian lab: IgG+ IgM+ with avidity ratio 0.18 below the lab's 0.35 cut-off → low avidity → recent primary infection.",
            prefetch=preg_prefetch(pid, results),
            expect=[REC],
        )
    )
    pid = "it-preg-report"
    report = lab_report(
        pid,
        "2026-11-10",
        "Referto sierologia CMV",
        [{**r, "id": r["id"].replace(f"{pid}-", "")} for r in seroconversion(pid)],
    )
    out.append(
        preg_case(
            "pregnancy-serology-in-report",
            pid,
            "Italian FSE: the serology results are contained in the DiagnosticReport.",
            prefetch=preg_prefetch(pid, [], reports=[report]),
            expect=[REC],
        )
    )
    pid = "us-preg-igg-old"
    results = [
        obs(f"{pid}-igg", pid, *IGG_PRESENCE, "2026-11-10", coded=NEGATIVE),
        igm(pid, "2026-11-10", 0.2, "NEG"),
    ]
    out.append(
        preg_case(
            "pregnancy-seronegative",
            pid,
            "Seronegative at GA 10+1 (IgG and IgM negative): no infection, valacyclovir not indicated.",
            prefetch=preg_prefetch(pid, results),
            expect=[("info", "not indicated")],
        )
    )
    return out


#: The warning card of resources that are not the context patient's (PROBE1 D4).
FOREIGN = ("warning", "not of this patient")
OTHER_SERVER = "https://other-ehr.example.org/fhir"


def no_subject(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` without its subject (valid FHIR R4, 0..1; US Core requires it 1..1)."""
    return build({k: v for k, v in resource.items() if k != "subject"})


def subject_identifier(resource: dict[str, Any], mrn: str) -> dict[str, Any]:
    """``resource`` naming its patient by identifier only (a logical reference)."""
    ident = {"system": "http://hospital.example.org/mrn", "value": mrn}
    return build({**resource, "subject": {"type": "Patient", "identifier": ident}})


def foreign_results(pid: str, other: str) -> list[dict[str, Any]]:
    """Results another patient's record slipped into ``pid``'s prefetch, each of which would
    change the advice if read: creatinine 1.5 (newer than the patient's 0.62; over the renal
    cut-off of valacyclovir 8 g/day), and negative serology dated after the seroconversion, sent
    with a subject on another patient, on another server, named by another patient's MRN only,
    or with no subject at all."""
    return [
        creat(f"{other}-cr", other, "2026-11-20", 1.5),
        subject_identifier(creat(f"{other}-cr2", other, "2026-11-20", 1.6), f"MRN-{other}"),
        igm(other, "2026-11-20", 0.2, "NEG")
        | {"subject": {"reference": f"{OTHER_SERVER}/Patient/{pid}"}},
        no_subject(obs(f"{other}-igg", pid, *IGG_PRESENCE, "2026-11-20", coded=NEGATIVE)),
    ]


def foreign_cases() -> list[dict[str, Any]]:
    """24-25: another patient's resources in the record (PROBE1 D4): not used, and said."""
    pid, other = "us-preg-foreign", "us-preg-other"
    results = [*seroconversion(pid), *foreign_results(pid, other)]
    prefetch = preg_prefetch(pid, results)
    # another patient's Patient returned with the search (a male: read, he would silence the card)
    prefetch["observations"]["entry"].append(
        _entry(patient(other, "male", "1960-01-01"), "include")
    )
    kid = "us-dose-foreign"
    dose = case(
        "dose-foreign-order-and-creatinine",
        service=DOSE,
        hook="order-sign",
        pid=kid,
        why=(
            "Kidney recipient, creatinine 0.9 (CrCl 104): 900 mg daily matches the label (prophylaxis "
            "inferred). Another patient's creatinine 2.5 (CrCl 37, would ask a renal reduction) and "
            "another patient's draft order are in the call: neither is used, one warning names both."
        ),
        orders=[
            order(
                f"{kid}-mr",
                kid,
                "2026-11-21",
                status="draft",
                concept=VGC_SCD,
                dose=dosage(900, "mg", "mg", 24),
            ),
            order(
                f"{kid}-other-mr",
                "us-dose-other",
                "2026-11-21",
                status="draft",
                concept=VGC_SCD,
                reason="induction",
                dose=dosage(900, "mg", "mg", 12),
            ),
        ],
        prefetch=dose_prefetch(kid, **KIDNEY_RECIPIENT, conditions=[kidney_tx(kid)]),
        expect=[("info", "inferred"), FOREIGN],
    )
    dose["request"]["prefetch"]["observations"]["entry"].append(
        _entry(creat("us-dose-other-cr", "us-dose-other", "2026-11-21", 2.5), "match")
    )
    return [
        preg_case(
            "pregnancy-foreign-resources",
            pid,
            "Seroconversion at GA 10+1 (as pregnancy-igg-presence-13949) with another patient's "
            "creatinine 1.5 and negative serology, and his Patient, in the prefetch: none is used, "
            "valacyclovir stays recommended and one warning names them.",
            prefetch=prefetch,
            expect=[REC, FOREIGN],
        ),
        dose,
    ]


def cases() -> list[dict[str, Any]]:
    return [*monitor_cases(), *dose_cases(), *pregnancy_cases(), *foreign_cases()]


def main() -> None:
    CASES.mkdir(exist_ok=True)
    for old in CASES.glob("*.json"):
        old.unlink()
    for item in cases():
        (CASES / f"{item['name']}.json").write_text(
            json.dumps(item, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
