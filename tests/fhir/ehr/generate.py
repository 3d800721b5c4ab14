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
    return json.loads(model.model_validate(resource).json())


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


def vl(oid: str, pid: str, day: str, iu: float, **kw: Any) -> dict[str, Any]:
    """A plasma CMV viral load in IU/mL (LOINC 72493-0)."""
    return obs(
        oid,
        pid,
        "72493-0",
        "Cytomegalovirus DNA [Units/volume] (viral load) in Serum or Plasma by NAA with probe detection",
        day,
        qty=(iu, "IU/mL", "[IU]/mL"),
        **kw,
    )


def creat(oid: str, pid: str, day: str, mg_dl: float) -> dict[str, Any]:
    return obs(
        oid,
        pid,
        "2160-0",
        "Creatinine [Mass/volume] in Serum or Plasma",
        day,
        qty=(mg_dl, "mg/dL", "mg/dL"),
    )


def weight(oid: str, pid: str, day: str, kg: float) -> dict[str, Any]:
    r = obs(oid, pid, "29463-7", "Body weight", day, qty=(kg, "kg", "kg"))
    r["category"] = [{"coding": [{"system": OBSCAT, "code": "vital-signs"}]}]
    r["meta"] = {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-body-weight"]}
    return build(r)


def height(oid: str, pid: str, day: str, cm: float) -> dict[str, Any]:
    r = obs(oid, pid, "8302-2", "Body height", day, qty=(cm, "cm", "cm"))
    r["category"] = [{"coding": [{"system": OBSCAT, "code": "vital-signs"}]}]
    r["meta"] = {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-body-height"]}
    return build(r)


def anc(oid: str, pid: str, day: str, per_nl: float) -> dict[str, Any]:
    return obs(
        oid,
        pid,
        "751-8",
        "Neutrophils [#/volume] in Blood by Automated count",
        day,
        qty=(per_nl, "10*3/uL", "10*3/uL"),
    )


def condition(cid: str, pid: str, system: str, code: str, display: str) -> dict[str, Any]:
    return build(
        {
            "resourceType": "Condition",
            "id": cid,
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "confirmed",
                    }
                ]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
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


def searchset(
    resources: list[dict[str, Any]],
    *,
    self_url: str = "",
    next_url: str | None = None,
    total: int | None = None,
    include: list[dict[str, Any]] = (),
) -> dict[str, Any]:  # type: ignore[assignment]
    broken = [r for r in resources if r.get("_broken")]
    resources = [r for r in resources if not r.get("_broken")]
    b: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources) if total is None else total,
        "link": [{"relation": "self", "url": self_url or f"{EHR}/Observation"}],
        "entry": [
            {
                "fullUrl": f"{EHR}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ]
        + [
            {
                "fullUrl": f"{EHR}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "include"},
            }
            for r in include
        ],
    }
    if next_url:
        b["link"].append({"relation": "next", "url": next_url})
    built = build(b)
    for r in broken:  # deliberately invalid: added after validation, as a faulty EHR sends it
        raw = {k: v for k, v in r.items() if k != "_broken"}
        built.setdefault("entry", []).append(
            {
                "fullUrl": f"{EHR}/{raw['resourceType']}/{raw['id']}",
                "resource": raw,
                "search": {"mode": "match"},
            }
        )
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
VACV_1G = (RXNORM, "313564", "valacyclovir 1000 MG Oral Tablet")
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


def monitor_base(
    pid: str,
    meds: dict[str, Any],
    *,
    extra_obs: list[dict[str, Any]] = (),
    conditions: list[dict[str, Any]] | None = None,
    obs_bundle: dict[str, Any] | None = None,
) -> dict[str, Any]:  # type: ignore[assignment]
    observations = obs_bundle or searchset(
        [
            *rising(pid),
            creat(f"{pid}-cr", pid, "2026-10-12", 1.0),
            weight(f"{pid}-wt", pid, "2026-10-12", 70),
            *extra_obs,
        ]
    )
    return {
        "patient": patient(pid, "male", "1968-03-14"),
        "observations": observations,
        "conditions": searchset(conditions if conditions is not None else [cmv_disease(pid)]),
        "medications": meds,
    }


RESISTANCE = ("warning", "Suspected antiviral resistance")
VGC_TWICE = dosage(900, "mg", "mg", 12, start="2026-08-03")


def cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    # --- 1-6: therapy monitor, orders coded as real EHRs code them
    pid = "us-mon-scd"
    out.append(
        case(
            "monitor-scd-coded-order",
            service=MONITOR,
            pid=pid,
            why="US Core: valganciclovir ordered as the clinical drug RxNorm 313566; VL 800 → 60000 IU/mL on therapy (1.88 log10 over the nadir).",
            prefetch=monitor_base(
                pid,
                searchset([order(f"{pid}-mr", pid, "2026-08-03", concept=VGC_SCD, dose=VGC_TWICE)]),
            ),
            expect=[RESISTANCE],
        )
    )
    pid = "us-mon-contained"
    out.append(
        case(
            "monitor-contained-medication",
            service=MONITOR,
            pid=pid,
            why="Order points to a contained Medication coded with the SCD (as in the FHIR R4 example medrx0302).",
            prefetch=monitor_base(
                pid,
                searchset(
                    [
                        order(
                            f"{pid}-mr",
                            pid,
                            "2026-08-03",
                            contained=medication("med1", *VGC_SCD),
                            dose=VGC_TWICE,
                        )
                    ]
                ),
            ),
            expect=[RESISTANCE],
        )
    )
    pid = "us-mon-bundled"
    med = build(medication(f"{pid}-med", *VGC_SCD))
    out.append(
        case(
            "monitor-bundled-medication",
            service=MONITOR,
            pid=pid,
            why="Order references Medication/<id> returned in the same searchset (_include=MedicationRequest:medication).",
            prefetch=monitor_base(
                pid,
                searchset(
                    [
                        order(
                            f"{pid}-mr",
                            pid,
                            "2026-08-03",
                            reference=f"Medication/{pid}-med",
                            dose=VGC_TWICE,
                        )
                    ],
                    include=[med],
                ),
            ),
            expect=[RESISTANCE],
        )
    )
    pid = "it-mon-atc"
    out.append(
        case(
            "monitor-italian-atc-order",
            service=MONITOR,
            pid=pid,
            why="Italian FSE: the prescription carries the ATC code J05AB14 only, dose as 2 tablets: an ATC code has no strength, so the course counts for the rise but its dose is reported as not read.",
            prefetch=monitor_base(
                pid,
                searchset(
                    [
                        order(
                            f"{pid}-mr",
                            pid,
                            "2026-08-03",
                            concept=VGC_ATC,
                            dose=dosage(2, "tablet", "{tbl}", 12, start="2026-08-03"),
                        )
                    ]
                ),
            ),
            expect=[RESISTANCE, ("warning", "not read")],
        )
    )
    pid = "us-mon-unknown-product"
    out.append(
        case(
            "monitor-unmappable-order",
            service=MONITOR,
            pid=pid,
            why="A local formulary code the pack cannot map: the order must not vanish silently.",
            prefetch=monitor_base(
                pid,
                searchset(
                    [
                        order(
                            f"{pid}-mr",
                            pid,
                            "2026-08-03",
                            concept=(
                                "http://hospital.example.org/formulary",
                                "VALG450",
                                "Valganciclovir 450 mg tab (formulary)",
                            ),
                            dose=VGC_TWICE,
                        )
                    ]
                ),
            ),
            expect=[("warning", "not read")],
        )
    )
    pid = "us-mon-ma-iv"
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
        for i, (d, h) in enumerate(
            [
                (f"2026-{m:02d}-{dd:02d}", hh)
                for m, dd in (
                    (8, 3),
                    (8, 10),
                    (8, 17),
                    (8, 24),
                    (8, 31),
                    (9, 7),
                    (9, 14),
                    (9, 21),
                    (9, 28),
                    (10, 5),
                    (10, 12),
                )
                for hh in ("08", "20")
            ]
        )
    ]
    base = monitor_base(pid, searchset([]))
    base["administrations"] = searchset(admins)
    out.append(
        case(
            "monitor-inpatient-iv-administrations",
            service=MONITOR,
            pid=pid,
            why="Inpatient IV ganciclovir charted as MedicationAdministration (5 mg/kg = 350 mg every 12 h at 70 kg) and no order in the prefetch.",
            prefetch=base,
            expect=[RESISTANCE],
        )
    )

    # --- 7-9: paging and DiagnosticReport-contained results
    pid = "us-mon-paged"
    loads = rising(pid)
    page2 = f"{EHR}/Observation?patient={pid}&_getpages=abc&_page=2"
    first = searchset(
        [
            *loads[:3],
            creat(f"{pid}-cr", pid, "2026-10-12", 1.0),
            weight(f"{pid}-wt", pid, "2026-10-12", 70),
        ],
        next_url=page2,
        total=7,
    )
    second = searchset(loads[3:], self_url=page2, total=7)
    out.append(
        case(
            "monitor-paged-searchset",
            service=MONITOR,
            pid=pid,
            why="The rise (12000, 60000 IU/mL) is on page 2 of the observations searchset.",
            prefetch=monitor_base(
                pid,
                searchset([order(f"{pid}-mr", pid, "2026-08-03", concept=VGC_SCD, dose=VGC_TWICE)]),
                obs_bundle=first,
            ),
            pages={page2: second},
            expect=[RESISTANCE],
        )
    )
    pid = "it-mon-report"
    contained = [
        {k: v for k, v in vl(f"r{i}", pid, d, v).items() if k not in ("meta",)}
        for i, (d, v) in enumerate(RISING)
    ]
    report = build(
        {
            "resourceType": "DiagnosticReport",
            "id": f"{pid}-dr",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}
                    ]
                }
            ],
            "code": {
                "coding": [{"system": LOINC, "code": "11502-2", "display": "Laboratory report"}],
                "text": "Referto di laboratorio",
            },
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2026-10-12",
            "issued": "2026-10-13T09:00:00+01:00",
            "contained": contained,
            "result": [{"reference": f"#{c['id']}"} for c in contained],
        }
    )
    base = monitor_base(
        pid,
        searchset([order(f"{pid}-mr", pid, "2026-08-03", concept=VGC_ATC, dose=VGC_TWICE)]),
        obs_bundle=searchset(
            [creat(f"{pid}-cr", pid, "2026-10-12", 1.0), weight(f"{pid}-wt", pid, "2026-10-12", 70)]
        ),
    )
    base["reports"] = searchset([report])
    out.append(
        case(
            "monitor-results-in-diagnosticreport",
            service=MONITOR,
            pid=pid,
            why="Italian FSE lab report: the viral loads are Observations contained in a DiagnosticReport.",
            prefetch=base,
            expect=[RESISTANCE],
        )
    )
    pid = "us-mon-lloq"
    loads = [
        vl(f"{pid}-vl0", pid, "2026-08-03", 25000),
        vl(f"{pid}-vl1", pid, "2026-08-17", 3000),
        vl(f"{pid}-vl2", pid, "2026-08-31", 35, comparator="<"),
        obs(
            f"{pid}-vl3",
            pid,
            "72493-0",
            "Cytomegalovirus DNA [Units/volume] (viral load) in Serum or Plasma by NAA with probe detection",
            "2026-09-14",
            text="<35 IU/mL",
        ),
        obs(
            f"{pid}-vl4",
            pid,
            "72493-0",
            "Cytomegalovirus DNA [Units/volume] (viral load) in Serum or Plasma by NAA with probe detection",
            "2026-09-28",
            text="detected <LLOQ",
        ),
    ]
    out.append(
        case(
            "monitor-below-lloq-values",
            service=MONITOR,
            pid=pid,
            why="Falling load ending '< 35 IU/mL' (comparator), '<35 IU/mL' and 'detected <LLOQ' (valueString): response, no resistance.",
            prefetch=monitor_base(
                pid,
                searchset([order(f"{pid}-mr", pid, "2026-08-03", concept=VGC_SCD, dose=VGC_TWICE)]),
                obs_bundle=searchset(
                    [
                        *loads,
                        creat(f"{pid}-cr", pid, "2026-09-28", 1.0),
                        weight(f"{pid}-wt", pid, "2026-09-28", 70),
                    ]
                ),
            ),
            expect=[],
        )
    )
    pid = "us-mon-broken"
    broken = condition(f"{pid}-bad", pid, SNOMED, "38341003", "Hypertension")
    broken["onsetDateTime"] = "last spring"  # not a FHIR dateTime
    broken["_broken"] = True
    out.append(
        case(
            "monitor-one-broken-condition",
            service=MONITOR,
            pid=pid,
            why="An unrelated Condition with an invalid onsetDateTime must be reported, and the resistance warning still shown.",
            prefetch=monitor_base(
                pid,
                searchset([order(f"{pid}-mr", pid, "2026-08-03", concept=VGC_SCD, dose=VGC_TWICE)]),
                conditions=[cmv_disease(pid), broken],
            ),
            expect=[RESISTANCE, ("warning", "ignored")],
        )
    )
    pid = "us-mon-neutropenia"
    out.append(
        case(
            "monitor-neutropenia-scd",
            service=MONITOR,
            pid=pid,
            why="SCD-coded valganciclovir with ANC 0.4 x10^3/uL: below the label's 500 cells/uL.",
            prefetch=monitor_base(
                pid,
                searchset([order(f"{pid}-mr", pid, "2026-08-03", concept=VGC_SCD, dose=VGC_TWICE)]),
                extra_obs=[anc(f"{pid}-anc", pid, "2026-10-12", 0.4)],
            ),
            expect=[RESISTANCE, ("critical", "ANC 400")],
        )
    )

    # --- 12-16: dose check on order-sign with real order shapes
    def dose_prefetch(
        pid: str,
        cr: float,
        wt: float,
        ht: float,
        gender: str = "male",
        birth: str = "1956-05-01",
        conditions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        p = {
            "patient": patient(pid, gender, birth),
            "observations": searchset(
                [
                    creat(f"{pid}-cr", pid, "2026-11-20", cr),
                    weight(f"{pid}-wt", pid, "2026-11-20", wt),
                    height(f"{pid}-ht", pid, "2026-11-20", ht),
                ]
            ),
        }
        if conditions is not None:
            p["conditions"] = searchset(conditions)
        return p

    # CrCl (Cockcroft-Gault) male 70 y, 70 kg, Cr 1.4: (140-70)*70/(72*1.4) = 48.6 mL/min → label 450 mg twice daily (induction)
    pid = "us-dose-scd"
    out.append(
        case(
            "dose-scd-order-renal",
            service=DOSE,
            hook="order-sign",
            pid=pid,
            why="SCD 313566, 2 tablets (900 mg) every 12 h, induction, CrCl 48.6 mL/min: label gives 450 mg twice daily.",
            orders=[
                order(
                    f"{pid}-mr",
                    pid,
                    "2026-11-21",
                    concept=VGC_SCD,
                    status="draft",
                    reason="induction",
                    dose=dosage(2, "tablet", "{tbl}", 12),
                )
            ],
            prefetch=dose_prefetch(pid, 1.4, 70, 175),
            expect=[("critical", "renally adjusted dose")],
        )
    )
    pid = "us-dose-contained"
    out.append(
        case(
            "dose-contained-medication-renal",
            service=DOSE,
            hook="order-sign",
            pid=pid,
            why="Same order through a contained Medication (SCD) and mg dose.",
            orders=[
                order(
                    f"{pid}-mr",
                    pid,
                    "2026-11-21",
                    contained=medication("m1", *VGC_SCD),
                    status="draft",
                    reason="induction",
                    dose=dosage(900, "mg", "mg", 12),
                )
            ],
            prefetch=dose_prefetch(pid, 1.4, 70, 175),
            expect=[("critical", "renally adjusted dose")],
        )
    )
    # Prophylaxis 900 mg once daily, CrCl ≥ 60 (Cr 0.9: (140-56)*80/(72*0.9) = 103.7) → matches the label: no card.
    pid = "us-dose-inferred"
    out.append(
        case(
            "dose-indication-inferred-prophylaxis",
            service=DOSE,
            hook="order-sign",
            pid=pid,
            why="Kidney recipient (Z94.0), no CMV disease recorded, no reasonCode: prophylaxis is inferred and said; 900 mg daily at CrCl 104 matches.",
            orders=[
                order(
                    f"{pid}-mr",
                    pid,
                    "2026-11-21",
                    concept=VGC_SCD,
                    status="draft",
                    dose=dosage(900, "mg", "mg", 24),
                )
            ],
            prefetch=dose_prefetch(
                pid, 0.9, 80, 180, birth="1970-05-01", conditions=[kidney_tx(pid)]
            ),
            expect=[("info", "inferred")],
        )
    )
    pid = "us-dose-inferred-high"
    out.append(
        case(
            "dose-inferred-prophylaxis-too-high",
            service=DOSE,
            hook="order-sign",
            pid=pid,
            why="Kidney recipient, no CMV disease, 900 mg every 12 h with CrCl 104: above the prophylaxis dose (900 mg once daily).",
            orders=[
                order(
                    f"{pid}-mr",
                    pid,
                    "2026-11-21",
                    concept=VGC_SCD,
                    status="draft",
                    dose=dosage(900, "mg", "mg", 12),
                )
            ],
            prefetch=dose_prefetch(
                pid, 0.9, 80, 180, birth="1970-05-01", conditions=[kidney_tx(pid)]
            ),
            expect=[("critical", "above the labelled dose")],
        )
    )
    pid = "it-dose-aic"
    out.append(
        case(
            "dose-italian-aic-order",
            service=DOSE,
            hook="order-sign",
            pid=pid,
            why="Italian prescription by AIC 035739010 (Valcyte 450 mg, 60 cpr), 2 compresse every 12 h, induction, CrCl 48.6: label gives 450 mg twice daily.",
            orders=[
                order(
                    f"{pid}-mr",
                    pid,
                    "2026-11-21",
                    concept=(AIC, "035739010", "VALCYTE 450 mg 60 compresse rivestite con film"),
                    status="draft",
                    reason="induction",
                    dose=dosage(2, "compresse", "{tbl}", 12),
                )
            ],
            prefetch=dose_prefetch(pid, 1.4, 70, 175),
            expect=[("critical", "renally adjusted dose")],
        )
    )
    pid = "us-dose-unknown"
    out.append(
        case(
            "dose-unmappable-antiviral",
            service=DOSE,
            hook="order-sign",
            pid=pid,
            why="An antiviral order by a formulary code the pack lacks: a warning, not silence.",
            orders=[
                order(
                    f"{pid}-mr",
                    pid,
                    "2026-11-21",
                    concept=(
                        "http://hospital.example.org/formulary",
                        "VALG450",
                        "Valganciclovir 450 mg tab (formulary)",
                    ),
                    status="draft",
                    reason="induction",
                    dose=dosage(900, "mg", "mg", 12),
                )
            ],
            prefetch=dose_prefetch(pid, 1.4, 70, 175),
            expect=[("warning", "not checked")],
        )
    )

    # --- 17-21: pregnancy (Italian FSE and US Core serology)
    def preg_prefetch(
        pid: str,
        results: list[dict[str, Any]],
        conditions: list[dict[str, Any]] = (),
        reports: list[dict[str, Any]] = (),
    ) -> dict[str, Any]:  # type: ignore[assignment]
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
                    creat(f"{pid}-cr", pid, "2026-11-10", 0.62),
                    weight(f"{pid}-wt", pid, "2026-11-10", 64),
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
            "13949-3": "Cytomegalovirus IgG Ab [Presence] in Serum",
            "5124-3": "Cytomegalovirus IgG Ab [Units/volume] in Serum by Immunoassay",
        }.get(igg_code, "CMV IgG")
        if interp_only:
            neg = obs(
                f"{pid}-igg0",
                pid,
                igg_code,
                igg_display,
                "2026-09-30",
                qty=(0.2, "[arb'U]/mL", "[arb'U]/mL"),
                interp="NEG",
            )
            pos = obs(
                f"{pid}-igg1",
                pid,
                igg_code,
                igg_display,
                "2026-11-10",
                qty=(45, "[arb'U]/mL", "[arb'U]/mL"),
                interp="POS",
            )
        else:
            neg = obs(
                f"{pid}-igg0",
                pid,
                igg_code,
                igg_display,
                "2026-09-30",
                coded=(SNOMED, "260385009", "Negative"),
            )
            pos = obs(
                f"{pid}-igg1",
                pid,
                igg_code,
                igg_display,
                "2026-11-10",
                coded=(SNOMED, "10828004", "Positive"),
            )
        igm = obs(
            f"{pid}-igm",
            pid,
            "7853-5",
            "Cytomegalovirus IgM Ab [Units/volume] in Serum or Plasma",
            "2026-11-10",
            qty=(3.1, "index", "{index_val}"),
            interp="POS",
        )
        return [neg, pos, igm]

    REC = ("info", "Valacyclovir to prevent fetal CMV infection (L. 648/96): recommended")
    pid = "us-preg-13949"
    out.append(
        case(
            "pregnancy-igg-presence-13949",
            service=PREG,
            pid=pid,
            why="US Core serology: CMV IgG presence (13949-3) negative then positive, IgM positive: seroconversion at GA 10+1.",
            prefetch=preg_prefetch(pid, seroconversion(pid)),
            expect=[REC],
        )
    )
    pid = "us-preg-interp"
    out.append(
        case(
            "pregnancy-interpretation-codes",
            service=PREG,
            pid=pid,
            why="Quantitative IgG in arbitrary units read from interpretation NEG/POS only.",
            prefetch=preg_prefetch(pid, seroconversion(pid, "5124-3", interp_only=True)),
            expect=[REC],
        )
    )
    pid = "us-preg-broken"
    bad = condition(f"{pid}-bad", pid, SNOMED, "195967001", "Asthma")
    bad["clinicalStatus"] = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
        ]
    }
    bad["recordedDate"] = "2026-13-45"  # invalid date
    bad["_broken"] = True
    out.append(
        case(
            "pregnancy-one-broken-condition",
            service=PREG,
            pid=pid,
            why="Issue 16 item 4: an invalid unrelated Condition must not replace the recommendation.",
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
        obs(
            f"{pid}-igg",
            pid,
            "13949-3",
            "Cytomegalovirus IgG Ab [Presence] in Serum",
            "2026-11-10",
            coded=(SNOMED, "10828004", "Positive"),
        ),
        obs(
            f"{pid}-igm",
            pid,
            "7853-5",
            "Cytomegalovirus IgM Ab [Units/volume] in Serum or Plasma",
            "2026-11-10",
            qty=(3.1, "index", "{index_val}"),
            interp="POS",
        ),
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
        case(
            "pregnancy-avidity-ratio-cutoffs",
            service=PREG,
            pid=pid,
            why="Italian lab: IgG+ IgM+ with avidity ratio 0.18 below the lab's 0.35 cut-off → low avidity → recent primary infection.",
            prefetch=preg_prefetch(pid, results),
            expect=[REC],
        )
    )
    pid = "it-preg-report"
    contained = [{k: v for k, v in r.items() if k != "meta"} for r in seroconversion(pid)]
    for c in contained:
        c["id"] = c["id"].replace(f"{pid}-", "")
    report = build(
        {
            "resourceType": "DiagnosticReport",
            "id": f"{pid}-dr",
            "status": "final",
            "code": {
                "coding": [{"system": LOINC, "code": "11502-2", "display": "Laboratory report"}],
                "text": "Referto sierologia CMV",
            },
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2026-11-10",
            "contained": contained,
            "result": [{"reference": f"#{c['id']}"} for c in contained],
        }
    )
    out.append(
        case(
            "pregnancy-serology-in-report",
            service=PREG,
            pid=pid,
            why="Italian FSE: the serology results are contained in the DiagnosticReport.",
            prefetch=preg_prefetch(pid, [], reports=[report]),
            expect=[REC],
        )
    )
    pid = "us-preg-igg-old"
    results = [
        obs(
            f"{pid}-igg",
            pid,
            "13949-3",
            "Cytomegalovirus IgG Ab [Presence] in Serum",
            "2026-11-10",
            coded=(SNOMED, "260385009", "Negative"),
        ),
        obs(
            f"{pid}-igm",
            pid,
            "7853-5",
            "Cytomegalovirus IgM Ab [Units/volume] in Serum or Plasma",
            "2026-11-10",
            qty=(0.2, "index", "{index_val}"),
            interp="NEG",
        ),
    ]
    out.append(
        case(
            "pregnancy-seronegative",
            service=PREG,
            pid=pid,
            why="Seronegative at GA 10+1 (IgG and IgM negative): no infection, valacyclovir not indicated.",
            prefetch=preg_prefetch(pid, results),
            expect=[("info", "not indicated")],
        )
    )
    return out


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
