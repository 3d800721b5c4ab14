"""The CDS services: discovery as data (id, hook, prefetch templates built from the FHIR value
sets), and one handler per service turning the gathered FHIR data into cards via the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from cmvcds.adapters.api.problems import problems_of
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.cdshooks.cards import (
    OVERRIDE_REASONS,
    alert_cards,
    card_uuid,
    decision_cards,
    problem_card,
    record_cards,
    summary,
)
from cmvcds.adapters.cdshooks.models import Action, Card, CdsRequest, Link, Source, Suggestion
from cmvcds.adapters.cdshooks.prefetch import ERRORED, FETCHED_MEDICATIONS, PAGING_NOTES
from cmvcds.adapters.fhir.allergies import allergy_lookups, read_allergy
from cmvcds.adapters.fhir.mapping import (
    MappedCase,
    bundle_to_case,
    medication_course,
    resources_of,
    value_sets,
)
from cmvcds.adapters.fhir.medications import infer_indication, names_no_cmv_drug
from cmvcds.adapters.fhir.reason import Reason
from cmvcds.adapters.fhir.subjects import bundle_urls, context_patient, not_ours
from cmvcds.adapters.web.i18n import N_, said
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.texts import clinical
from cmvcds.domain.case import Case
from cmvcds.engine import dosing
from cmvcds.engine.dosing.recommend import drug_label
from cmvcds.engine.dosing.result import alert_dict
from cmvcds.engine.same_time import without_contradictions
from cmvcds.errors import InputError

__all__ = ["RECORD_KEYS", "Service", "discovery", "map_record"]

CMV_CODES = frozenset({"cmv_igg", "cmv_igm", "cmv_igg_avidity", "cmv_dna"})
#: Alerts the therapy monitor shows (viral-load rise, dose drift, toxicity).
MONITOR_ALERTS = (
    "suspected-resistance",
    "refractory-cmv",
    "probable-refractory-cmv",
    "check-dosing-adherence",
    "neutropenia",
    "thrombocytopenia",
    "anemia",
    "marrow-suppression",
    "dose-below-target",
    "dose-above-target",
    "dose-renal-adjustment",
    "high-drug-exposure",
    "renal-exclusion",
    "drug-interaction",
    "drug-intolerance",
    "weight-out-of-date",
    "contradictory-input",
    "implausible-input",
    "assay-mismatch",  # probe14 F3: loads in another specimen or unit are not compared
)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
#: Laboratory reports whose results are contained Observations (Italian FSE, many LIS exports).
REPORTS = "DiagnosticReport?patient={{context.patientId}}&category=LAB"
#: Recorded allergies and intolerances: read as ``patient.intolerances`` (debt22, ADR 0032), so
#: that no card doses a drug the record says the patient does not tolerate.
ALLERGIES = "AllergyIntolerance?patient={{context.patientId}}"
#: What a card says when no AllergyIntolerance data reached the service (the prefetch key is
#: absent and there was no fhirServer to fetch it, or the EHR sent null): the doses were not
#: checked against recorded allergies; an empty Bundle means none recorded and says nothing.
NOT_CHECKED_ALLERGIES = N_(
    "AllergyIntolerance: not prefetched and not fetched, so allergies and intolerances were "
    "not checked (an empty Bundle would mean none recorded)."
)
#: fixr23a: the EHR returned an error (an OperationOutcome, or a searchset of outcomes only) in
#: place of the allergies: not checked, never "none recorded".
ERROR_ALLERGIES = N_(
    "AllergyIntolerance: the EHR returned an error (OperationOutcome) for allergies, so "
    "allergies and intolerances were not checked."
)
#: fixc23: the dose check's co-medications, the patient's active orders (FHIR R4 MedicationRequest
#: status ``active``).
ACTIVE_MEDICATIONS = "MedicationRequest?patient={{context.patientId}}&status=active"
#: fixc23: what a card says when no co-medication reached the dose check of a drug whose labelled
#: dose changes with one (an outside EHR probe: letermovir 480 mg with ciclosporin matched
#: silently; Prevymis US PI §2.4 gives 240 mg once daily with cyclosporine).
NOT_CHECKED_CO_MEDICATIONS = N_(
    "MedicationRequest: not prefetched and not fetched, so co-medications were not checked for "
    "the %(drug)s order: its labelled dose changes with %(with_drugs)s, and it was checked as if "
    "none were taken."
)
ERROR_CO_MEDICATIONS = N_(
    "MedicationRequest: the EHR returned an error (OperationOutcome) for the active medications, "
    "so co-medications were not checked for the %(drug)s order: its labelled dose changes with "
    "%(with_drugs)s, and it was checked as if none were taken."
)
#: The prefetch keys read as the patient's record.
RECORD_KEYS = (
    "patient",
    "observations",
    "conditions",
    "medications",
    "administrations",
    "reports",
    "allergies",
)

Handler = Callable[[CdsRequest, dict[str, Any], Clinic, str, "Service"], list[Card]]


@dataclass(frozen=True)
class Service:
    """One CDS service: CDS Hooks 2.0 gives a service exactly one hook, and EHRs address it by
    its unique id (an id listed twice would collide in their registries)."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str]
    required: tuple[str, ...]
    handler: Handler

    def definition(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": self.prefetch,
        }


def _observation_query(codes: list[str]) -> str:
    return "Observation?patient={{context.patientId}}&code=" + ",".join(codes)


def discovery(clinic: Clinic) -> list[Service]:
    """The services of this installation, their prefetch built from the knowledge's value sets."""
    sets = value_sets(clinic.knowledge)
    patient = "Patient/{{context.patientId}}"
    pregnancy_codes = sets.loinc_codes(
        *CMV_CODES,
        "creatinine",
        "egfr",
        "weight",
        "height",
        "pregnancy_status",
        "gestational_age",
        "lmp",
        "edd",
    )
    # the pregnancy readings too (probe14 S1): a drug whose label warns of fetal toxicity is
    # never checked as if the patient were not pregnant
    dose_codes = sets.loinc_codes(
        "creatinine",
        "egfr",
        "weight",
        "height",
        "anc",
        "platelets",
        "hemoglobin",
        "pregnancy_status",
        "gestational_age",
        "lmp",
        "edd",
    )
    return [
        Service(
            id="cmv-pregnancy-valacyclovir",
            hook="patient-view",
            title=N_("CMV in pregnancy: valacyclovir (AIFA L. 648/96)"),
            description=(
                "For a pregnant patient with CMV serology or PCR results: is the maternal infection primary, "
                "may she receive valacyclovir 8 g/day under Law 648/96, when is the amniocentesis and when to stop."
            ),
            prefetch={
                "patient": patient,
                "observations": _observation_query(pregnancy_codes),
                "conditions": "Condition?patient={{context.patientId}}",
                "medications": "MedicationRequest?patient={{context.patientId}}",
                "reports": REPORTS,
                "allergies": ALLERGIES,
            },
            required=("patient", "observations"),
            handler=_pregnancy,
        ),
        Service(
            id="cmv-therapy-monitor",
            hook="patient-view",
            title=N_("CMV antiviral therapy monitor"),
            description=(
                "For a patient on a CMV antiviral: a rising viral load on therapy (suspected resistance), "
                "a dose that no longer fits renal function or weight, and marrow toxicity."
            ),
            prefetch={
                "patient": patient,
                "observations": _observation_query(sets.loinc_codes()),
                "conditions": "Condition?patient={{context.patientId}}",
                "medications": "MedicationRequest?patient={{context.patientId}}",
                "administrations": "MedicationAdministration?patient={{context.patientId}}",
                "reports": REPORTS,
                "allergies": ALLERGIES,
            },
            required=("patient", "observations", "medications"),
            handler=_monitor,
        ),
        *(
            Service(
                id=service_id,
                hook=hook,
                title=title,
                description=(
                    "Checks a draft order of a CMV antiviral against its label for this patient's "
                    "renal function and weight, and offers the labelled dose as a replacement."
                ),
                prefetch={
                    "patient": patient,
                    "observations": _observation_query(dose_codes),
                    "conditions": "Condition?patient={{context.patientId}}",
                    "allergies": ALLERGIES,
                    # fixc23: the co-medications a label's dose depends on (letermovir 240 mg
                    # with cyclosporine); optional, its absence said on a card
                    "medications": ACTIVE_MEDICATIONS,
                },
                required=("patient", "observations"),
                handler=_dose_check,
            )
            # one service per hook (CDS Hooks 2.0), the same check on signing and on selecting
            for service_id, hook, title in (
                ("cmv-antiviral-dose-check", "order-sign", N_("CMV antiviral dose check")),
                (
                    "cmv-antiviral-dose-check-select",
                    "order-select",
                    N_("CMV antiviral dose check (on selecting an order)"),
                ),
            )
        ),
    ]


def _resources(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: data[k] for k in keys if data.get(k) is not None}


def _map(
    clinic: Clinic,
    data: dict[str, Any],
    context: str,
    request: CdsRequest,
    keys: tuple[str, ...] = RECORD_KEYS,
) -> MappedCase:
    given = request.context.get("patientId")
    patient_id = str(given) if given is not None else None
    record = {key: data[key] for key in keys if data.get(key) is not None}
    notes = list(data.get(PAGING_NOTES) or [])
    mapped = bundle_to_case(
        record,
        clinic.knowledge,
        context=context,
        assessed_on=clinic.today(),
        case_id=f"cds-{patient_id or 'patient'}"[:128],
        patient=patient_id,
        server=request.fhirServer,
    )
    if "allergies" in keys and "allergies" in (data.get(ERRORED) or ()):
        notes.append(Reason(ERROR_ALLERGIES))  # fixr23a: an error is not "not prefetched"
    elif "allergies" in keys and data.get("allergies") is None:
        # debt23: absent (not prefetched, not fetched) is not "none recorded" (an empty Bundle)
        notes.append(Reason(NOT_CHECKED_ALLERGIES))
    mapped.ignored = notes + mapped.ignored
    return mapped


def _record_cards(
    mapped: MappedCase,
    request: CdsRequest,
    clinic: Clinic,
    base: str,
    service: Service,
    *,
    unmapped: bool,
) -> list[Card]:
    return record_cards(
        service.title,
        ignored=[*mapped.ignored, *(mapped.unmapped if unmapped else [])],
        notes=mapped.notes,
        foreign=mapped.foreign,
        base_url=base,
        service_id=service.id,
        hook_instance=request.hookInstance,
        version=clinic.knowledge.version,
    )


def _mapping_card(
    error: InputError, service: Service, request: CdsRequest, clinic: Clinic, base: str
) -> list[Card]:
    lines = [f"{p['field']}: {said(p['message'])}" for p in problems_of(error)]
    return [
        problem_card(
            service.title,
            lines,
            base_url=base,
            service_id=service.id,
            hook_instance=request.hookInstance,
            version=clinic.knowledge.version,
        )
    ]


def _pregnancy(
    request: CdsRequest, data: dict[str, Any], clinic: Clinic, base: str, service: Service
) -> list[Card]:
    try:
        mapped = _map(clinic, data, "pregnancy", request)
    except InputError as error:
        return _mapping_card(error, service, request, clinic, base)
    has_cmv = (
        any(o["code"] in CMV_CODES for o in mapped.case["observations"])
        or "cmv_infection" in mapped.conditions
    )
    male = mapped.case["patient"].get("sex") == "male"
    if male and has_cmv and (mapped.pregnant or "pregnant" in mapped.conditions):
        # a contradictory record is said, not answered with no card at all (probe8 R2): the EHR
        # could not tell it from "nothing to advise"
        refused = InputError(
            _("the patient is recorded as male and has an active pregnancy in the record: "
              "the record contradicts itself; correct it and call again"),
            field="patient.gender",
        )  # fmt: skip
        return _mapping_card(refused, service, request, clinic, base)
    if mapped.pregnant is False or male or not has_cmv:
        # nothing to advise; what was not this patient's is still said
        return _record_cards(
            MappedCase(mapped.case, foreign=mapped.foreign), request, clinic, base, service,
            unmapped=False,
        )  # fmt: skip
    try:
        doc = clinic.assess(mapped.case)
    except InputError as error:
        return _mapping_card(error, service, request, clinic, base)
    suggestion = _suggestion(doc, request, clinic)
    cards = decision_cards(
        doc,
        base_url=base,
        service_id=service.id,
        hook_instance=request.hookInstance,
        decision_ids=("valacyclovir-prevention", "valacyclovir-fetal-treatment"),
        unmapped=mapped.unmapped,
        suggestion=suggestion,
    )
    cards += alert_cards(
        doc,
        base_url=base,
        service_id=service.id,
        hook_instance=request.hookInstance,
        codes=("renal-exclusion", "amniocentesis-too-early", "late-transmission-possible"),
    )
    return cards + _record_cards(mapped, request, clinic, base, service, unmapped=False)


def _suggestion(doc: dict[str, Any], request: CdsRequest, clinic: Clinic) -> dict[str, Any] | None:
    """A draft MedicationRequest of the assessment's first regimen, when its drug has an RxNorm code."""
    if not doc.get("regimens"):
        return None
    g = doc["regimens"][0]
    if g.get("held"):
        return None  # a held regimen is not to be ordered: its dose is for the restart
    sets = value_sets(clinic.knowledge)
    code = next(
        (m for m in sets.table.medications if m.system == RXNORM and m.drug == g["drug"]), None
    )
    if code is None or g.get("dose_mg") is None:
        return None
    repeat: dict[str, Any] = {
        "boundsPeriod": {k: v for k, v in (("start", g.get("start")), ("end", g.get("stop"))) if v}
    }
    if g.get("every_h"):
        repeat.update({"frequency": 1, "period": g["every_h"], "periodUnit": "h"})
    # in the card's language, as the card's own text (debt22): the schedule and route words are
    # the pack's clinical texts; the coded dose, timing and drug code are the same in any language
    words = (
        clinical(g["drug"]),
        f"{g['dose_mg']} mg",
        clinical(g.get("schedule") or ""),
        clinical(g.get("route") or ""),
    )
    text = " ".join(w for w in words if w)
    resource = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "subject": {"reference": f"Patient/{request.context.get('patientId', '')}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code.code, "display": code.display}],
            "text": g["drug"],
        },
        "dosageInstruction": [
            {
                "text": text,
                "timing": {"repeat": repeat},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": g["dose_mg"],
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
    }
    return {"label": _("Order %(order)s") % {"order": text}, "resource": resource}


#: Why no context is read from a record: what would have established one.
NO_CONTEXT = N_(
    "the record establishes no patient population: no pregnancy (Condition or pregnancy status), "
    "congenital CMV infection or transplant status among its Conditions and Observations"
)


def record_context(mapped: MappedCase) -> str | None:
    """The context the record establishes, or None: a congenital CMV infection, a pregnancy, a
    transplant (a transplant-status Condition). Nothing else establishes one: a record with none
    of them is never assumed immunocompromised (probe10 W6), nor immunocompetent."""
    if "congenital_cmv" in mapped.conditions:
        return "congenital"
    if mapped.pregnant or (mapped.pregnant is None and "pregnant" in mapped.conditions):
        # an active pregnancy Condition whose status is contradicted (review7 #1): assessed as
        # a pregnancy, whose answer asks for what is missing, never as not pregnant
        return "pregnancy"
    if "transplant_recipient" in mapped.conditions:
        # the transplant pathway, which asks for the serostatus and date it needs; formerly
        # "other immunocompromised", whose answer is "no prophylaxis outside transplantation"
        return "transplant"
    return None


def map_record(
    clinic: Clinic, data: dict[str, Any], request: CdsRequest, chosen: str | None = None
) -> MappedCase:
    """The patient's whole record as a case in the context it establishes
    (:func:`record_context`), else in ``chosen`` (the user's choice), else with no context: the
    case then has no ``context`` key, and whoever opens it asks for one (raises ``InputError``)."""
    probe = _map(clinic, data, "immunocompromised", request)
    context = record_context(probe) or chosen
    if context is None:
        del probe.case["context"]
        probe.case.pop("transplant", None)
        return probe
    mapped = _map(clinic, data, context, request)
    if context == chosen and record_context(probe) is None:
        mapped.notes.append(
            Reason("context %(context)s as chosen by the user: %(why)s", context=context,
                   why=Reason(NO_CONTEXT))
        )  # fmt: skip
    return mapped


#: The context the therapy monitor checks a course in when the record establishes none: the
#: monitoring rules common to every population (those of the congenital and transplant
#: populations are scoped to them), said on a card; its decisions are never shown.
MONITOR_FALLBACK = "immunocompromised"


def _monitor(
    request: CdsRequest, data: dict[str, Any], clinic: Clinic, base: str, service: Service
) -> list[Card]:
    try:
        mapped = map_record(clinic, data, request)
    except InputError as error:
        return _mapping_card(error, service, request, clinic, base)
    if not mapped.case["therapy"] and not any(
        o["code"] == "cmv_dna" for o in mapped.case["observations"]
    ):
        return _record_cards(mapped, request, clinic, base, service, unmapped=True)
    if "context" not in mapped.case:
        mapped.case["context"] = MONITOR_FALLBACK
        mapped.notes.append(
            Reason(
                "%(why)s: the course was checked with the monitoring rules common to every "
                "population; those specific to a population (congenital, transplant) were not "
                "applied: record the population",
                why=Reason(NO_CONTEXT),
            )
        )
    try:
        doc = clinic.assess(mapped.case)
    except InputError as error:
        return _mapping_card(error, service, request, clinic, base)
    return alert_cards(
        doc,
        base_url=base,
        service_id=service.id,
        hook_instance=request.hookInstance,
        codes=MONITOR_ALERTS,
    ) + _record_cards(mapped, request, clinic, base, service, unmapped=True)


def _orders_of_patient(
    orders: list[dict[str, Any]], request: CdsRequest, data: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The draft orders of ``context.patientId`` and, said, those of another patient (or of
    none): an order is checked against the context patient's record only (``subjects``)."""
    given = request.context.get("patientId")
    urls = bundle_urls(request.context.get("draftOrders"))
    whose = context_patient(
        str(given) if given is not None else None,
        [r for _, r in resources_of(data.get("patient"))] + orders,
        urls,
        request.fhirServer,
    )
    if isinstance(whose, str):
        return [], [Reason("draft orders not checked: %(why)s", why=whose)]
    kept: list[dict[str, Any]] = []
    foreign: list[str] = []
    for order in orders:
        why = not_ours(order, whose, urls)
        if why:
            foreign.append(
                Reason(
                    "%(order)s not checked: %(why)s",
                    order=f"MedicationRequest/{order.get('id', '?')}",
                    why=why,
                )
            )
        else:
            kept.append(order)
    return kept, foreign


def _dose_check(
    request: CdsRequest, data: dict[str, Any], clinic: Clinic, base: str, service: Service
) -> list[Card]:
    from cmvcds.domain.vocabulary import Indication

    sets = value_sets(clinic.knowledge)
    orders = [
        r
        for _, r in resources_of(request.context.get("draftOrders"))
        if r.get("resourceType") == "MedicationRequest"
    ]
    selections = request.context.get("selections")
    if request.hook == "order-select" and isinstance(selections, list):
        chosen = {str(s) for s in selections}
        orders = [r for r in orders if f"MedicationRequest/{r.get('id')}" in chosen]
    bundled = {
        # the Medications the orders reference that were read from fhirServer (probe14 S2)
        **(data.get(FETCHED_MEDICATIONS) or {}),
        **{
            f"Medication/{r.get('id')}": r
            for _, r in resources_of(request.context.get("draftOrders"))
            if r.get("resourceType") == "Medication"
        },
    }
    orders, foreign = _orders_of_patient(orders, request, data)
    ours: list[tuple[dict[str, Any], dict[str, Any]]] = []
    cards: list[Card] = []
    for resource in orders:
        course = medication_course(resource, sets, bundled)
        if isinstance(course, dict) and "unread" in course:
            cards.append(
                _unread_order_card(
                    resource, course["unread"], request, service, clinic, base, course["drug"]
                )
            )
        elif isinstance(course, dict):
            ours.append((resource, course))
        elif isinstance(course, str) and not names_no_cmv_drug(
            resource, sets.medication_lookups, bundled
        ):
            # every order that may be of a CMV antiviral and cannot be read gets a card saying
            # why (probe14 S2): only an order known to be of another drug is left unsaid
            cards.append(_unread_order_card(resource, course, request, service, clinic, base))
    if not ours:
        record = MappedCase({}, foreign=foreign)
        return cards + _record_cards(record, request, clinic, base, service, unmapped=False)
    try:
        mapped = _map(
            clinic,
            data,
            "immunocompromised",
            request,
            ("patient", "observations", "conditions", "allergies"),
        )
        case = _dose_case(clinic, mapped)
    except InputError as error:
        return cards + _mapping_card(error, service, request, clinic, base)
    patient = dosing.dose_patient_from_case(case, case.assessed_on)
    taking = _co_medications(data, clinic, request, bundled)
    if taking:
        patient = replace(
            patient, co_medications=tuple(dict.fromkeys((*patient.co_medications, *taking)))
        )
    mapped.ignored = _unchecked_co_medications(data, clinic, ours) + mapped.ignored
    mapped.foreign = foreign + mapped.foreign
    # what of the dose's readings could not be read is said (probe14 F6: a weight in [lb_av], a
    # birthDate without its day were dropped without a word, the order card naming nothing)
    cards += _record_cards(mapped, request, clinic, base, service, unmapped=True)
    # a contradictory result the dose reads is unknown: say why before any order is checked
    _case, contradictions = without_contradictions(case, case.assessed_on)
    cards += alert_cards(
        {
            "alerts": [alert_dict(a) for a in contradictions.alerts],
            "knowledge": {"version": clinic.knowledge.version},
        },
        base_url=base,
        service_id=service.id,
        hook_instance=request.hookInstance,
        codes=("contradictory-input",),
    )
    for resource, course in ours:
        key = f"order/{resource.get('id', len(cards))}"
        indication = course.get("indication")
        inferred = (
            infer_indication(mapped.conditions, mapped.case["observations"])
            if indication is None
            else None
        )
        if inferred is not None:
            indication = inferred[0]
            cards.append(
                Card(
                    uuid=card_uuid(request.hookInstance, service.id, f"{key}/indication"),
                    summary=summary(
                        _("%(drug)s order checked as %(indication)s: indication inferred, not stated.")
                        % {"drug": course["drug"], "indication": clinical(indication)}
                    ),
                    detail=_(
                        "The order states no indication (`reasonCode`). Inferred: **%(indication)s**"
                        " — %(why)s. If this is wrong, state the indication on the order."
                    )
                    % {"indication": clinical(indication), "why": said(inferred[1])},
                    indicator="info",
                    source=Source(label=f"cmvcds {clinic.knowledge.version}", url=f"{base}/dose"),
                )
            )
        if indication is None:
            cards.append(
                Card(
                    uuid=card_uuid(request.hookInstance, service.id, key),
                    summary=summary(
                        _("%(drug)s dose not checked: the order does not state its indication.")
                        % {"drug": course["drug"]}
                    ),
                    detail=_coded_reasons(resource)
                    + _("Give the indication as `reasonCode` text (one of: %(codes)s).")
                    % {"codes": ", ".join(i.value for i in Indication)},
                    indicator="info",
                    source=Source(label=f"cmvcds {clinic.knowledge.version}", url=f"{base}/dose"),
                )
            )
            continue
        order = dosing.PrescribedDose(
            drug=course["drug"],
            indication=indication,
            dose_mg=_dec(course.get("dose_mg")),
            dose_mg_per_kg=_dec(course.get("dose_mg_per_kg")),
            every_h=_dec(course.get("every_h")),
            route=course.get("route"),
        )
        try:
            check = dosing.check_dose(order, patient, clinic.knowledge)
        except InputError as error:
            cards += _mapping_card(error, service, request, clinic, base)
            continue
        card = _check_card(check.to_dict(), resource, request, service, clinic, base, key)
        if card is not None and patient.pregnant and check.status == "no-recommendation":
            _add_label_comparison(card, order, patient, resource, request, service, clinic, base)
        if card is not None:
            cards.append(card)
    return cards


def _co_medications(
    data: dict[str, Any], clinic: Clinic, request: CdsRequest, bundled: dict[str, Any]
) -> tuple[str, ...]:
    """fixc23: the drugs of the patient's active MedicationRequests (prefetch ``medications``),
    read as the allergies are (``adapters/fhir/allergies``): a code of the FHIR value sets or of
    the co-medication catalogue (RxNorm 3008 → cyclosporine), else the drug names, aliases and
    brand names its text gives (ciclosporin, Neoral, Sandimmune). An order of another patient,
    or not active, is not read."""
    lookups = allergy_lookups(clinic.knowledge)
    given = request.context.get("patientId")
    listed = list(resources_of(data.get("medications")))
    known = {
        **bundled,
        **{
            f"Medication/{r.get('id')}": r
            for _key, r in listed
            if r.get("resourceType") == "Medication"
        },
    }
    found: list[str] = []
    for _key, resource in listed:
        if (
            resource.get("resourceType") != "MedicationRequest"
            or resource.get("status") != "active"
        ):
            continue
        subject = (resource.get("subject") or {}).get("reference")
        if (
            isinstance(subject, str)
            and given is not None
            and subject.rstrip("/").split("/")[-1] != str(given)
        ):
            continue
        concept = resource.get("medicationCodeableConcept")
        ref = (resource.get("medicationReference") or {}).get("reference")
        if not isinstance(concept, dict) and isinstance(ref, str):
            if ref.startswith("#"):
                medication = next(
                    (
                        c
                        for c in resource.get("contained") or []
                        if isinstance(c, dict) and c.get("id") == ref[1:]
                    ),
                    {},
                )
            else:
                medication = known.get("/".join(ref.rstrip("/").split("/")[-2:])) or {}
            concept = medication.get("code") if isinstance(medication, dict) else None
        found += read_allergy(
            "MedicationRequest",
            {
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": concept or {},
            },
            lookups,
        )[0]
    return tuple(dict.fromkeys(found))


def _unchecked_co_medications(
    data: dict[str, Any], clinic: Clinic, ours: list[tuple[dict[str, Any], dict[str, Any]]]
) -> list[str]:
    """fixc23: for each drug ordered whose labelled dose changes with a co-medication (an
    interaction row of effect ``dose``), a sentence when no active medication was read."""
    errored = "medications" in (data.get(ERRORED) or ())
    if data.get("medications") is not None and not errored:
        return []
    said: list[str] = []
    for drug in dict.fromkeys(course["drug"] for _order, course in ours):
        rows = [r for r in drug_label(clinic.knowledge, drug).interactions if r.effect == "dose"]
        if rows:
            with_drugs = ", ".join(dict.fromkeys(d for r in rows for d in r.with_any))
            said.append(
                Reason(
                    ERROR_CO_MEDICATIONS if errored else NOT_CHECKED_CO_MEDICATIONS,
                    drug=drug,
                    with_drugs=with_drugs,
                )
            )
    return said
def _add_label_comparison(
    card: Card,
    order: dosing.PrescribedDose,
    patient: dosing.DosePatient,
    resource: dict[str, Any],
    request: CdsRequest,
    service: Service,
    clinic: Clinic,
    base: str,
) -> None:
    """review23e #2: the label gives no dose in pregnancy for a drug with fetal toxicity, so the
    pregnancy card said nothing of the order's size. The specialist is still told how the order
    compares with the label's dose for this patient computed as if not pregnant (renal band,
    weight), stated as such and with its citations; the pregnancy card stays as it is."""
    from dataclasses import replace

    try:
        plain = dosing.check_dose(
            order, replace(patient, pregnant=False, pregnancy=None), clinic.knowledge
        )
    except InputError:
        return
    if plain.status == "no-recommendation":
        return
    compared = _check_card(
        plain.to_dict(), resource, request, service, clinic, base, "order/not-pregnant"
    )
    head = _(
        "The label's dose for this patient computed as if she were not pregnant (the label "
        "gives no dose in pregnancy; for the specialist's comparison only):"
    )
    said_line = (
        f"{compared.summary}\n{compared.detail or ''}"
        if compared is not None
        else _("the order matches that dose (Sources: %(sources)s).")
        % {"sources": ", ".join(plain.to_dict()["recommendation"].get("citations") or [])}
    )
    card.detail = f"{card.detail or ''}\n\n{head} {said_line}".strip()


def _dose_case(clinic: Clinic, mapped: MappedCase) -> Case:
    """The dose check's case. A pregnancy the case cannot hold (an implausible gestational age,
    a maternal age out of range) never stops the dose check of the whole record (review23e #1):
    the pregnancy is dropped, the card says it could not be read and why, and every other check
    is still made. Any other problem is raised as before."""
    try:
        return clinic.parse(mapped.case)
    except InputError as error:
        if "pregnancy" not in mapped.case:
            raise
        problems = "; ".join(f"{p['field']}: {p['message']}" for p in problems_of(error))
        rest = {k: v for k, v in mapped.case.items() if k != "pregnancy"}
        case = clinic.parse(rest)
        mapped.case = rest
        mapped.unmapped.append(
            Reason(
                "the pregnancy in the record could not be read (%(problems)s): not used, the doses "
                "are checked without it; confirm whether the patient is pregnant",
                problems=problems,
            )
        )
        return case


def _coded_reasons(resource: dict[str, Any]) -> str:
    """What a coded ``reasonCode`` said, when it named no indication of the dose calculator
    (probe14 note: SNOMED 28944009 "Cytomegalovirus infection" is a diagnosis; no verified code
    names the phase, induction or maintenance, so none is mapped)."""
    codes = [
        f"{c.get('system', '?')}|{c.get('code', '?')}"
        + (f" ({c['display']})" if isinstance(c.get("display"), str) else "")
        for concept in resource.get("reasonCode") or []
        if isinstance(concept, dict)
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    ]
    if not codes:
        return ""
    return (
        _("Its reasonCode %(codes)s names a diagnosis, not which of the label's indications "
          "(induction, maintenance, prophylaxis …) the dose is for.")
        % {"codes": "; ".join(codes)}
        + " "
    )  # fmt: skip


def _unread_order_card(
    resource: dict[str, Any],
    reason: str,
    request: CdsRequest,
    service: Service,
    clinic: Clinic,
    base: str,
    drug: str | None = None,
) -> Card:
    """An order that may be of a CMV antiviral and cannot be checked: a warning naming why,
    never silence. Its summary blames the medication only when the drug was not recognised
    (probe14 F9: a range or a volume of a known drug is not an unknown code)."""
    key = f"order/{resource.get('id', '?')}/unread"
    return Card(
        uuid=card_uuid(request.hookInstance, service.id, key),
        summary=summary(
            _("%(drug)s order not checked: its dose could not be read (see why).") % {"drug": drug}
            if drug
            else _("CMV antiviral order not checked: its medication could not be identified.")
        ),
        detail=f"{said(reason)}.\n\n"
        + _("Check the dose by hand or with the dose calculator; knowledge %(version)s.")
        % {"version": clinic.knowledge.version},
        indicator="warning",
        source=Source(label=f"cmvcds {clinic.knowledge.version}", url=f"{base}/dose"),
        links=[_calculator(base)],
    )


def _calculator(base: str) -> Link:
    return Link(label=_("Dose calculator"), url=f"{base}/dose", type="absolute")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _check_card(
    check: dict[str, Any],
    resource: dict[str, Any],
    request: CdsRequest,
    service: Service,
    clinic: Clinic,
    base: str,
    key: str,
) -> Card | None:
    status = check["status"]
    recommendation = check["recommendation"]
    fetal = _fetal_risk(recommendation)
    if status == "matches" and not fetal:
        return None
    citations = recommendation.get("citations") or []
    source = Source(
        label=f"cmvcds {clinic.knowledge.version}" + (f": {citations[0]}" if citations else ""),
        url=f"{base}/knowledge/sources/{citations[0]}" if citations else f"{base}/dose",
    )
    renal = recommendation.get("renal") or {}
    detail = [clinical(r) for r in check.get("reasons", [])]
    # fixc23: why the labelled dose is what it is when a co-medication changes it (letermovir
    # 240 mg with cyclosporine): the label's interaction row, said with its source
    detail += [
        clinical(a["message"])
        for a in recommendation.get("alerts") or []
        if a.get("code") == "drug-interaction" and a["message"] not in check.get("reasons", [])
    ]
    detail += _missing_lines(recommendation)
    detail += [clinical(a["message"]) for a in fetal if a["message"] not in check.get("reasons", [])]
    if renal:
        line = (
            _("Renal function: %(method)s %(crcl)s mL/min (%(band)s).")
            if renal.get("band")
            else _("Renal function: %(method)s %(crcl)s mL/min.")
        )
        detail += [
            "",
            line
            % {
                "method": renal.get("method", ""),
                "crcl": renal.get("crcl_ml_min", ""),
                "band": renal.get("band", ""),
            },
        ]
    if citations:  # never an empty "Sources: ." (probe14 F6)
        detail += ["", _("Sources: %(sources)s.") % {"sources": ", ".join(citations)}]
    if fetal and status in ("matches", "no-recommendation"):
        return _fetal_card(check, fetal, detail, source, request, service, clinic, base, key)
    barred = [a for a in check.get("alerts") or [] if a.get("code") == "drug-intolerance"]
    if status == "no-recommendation" and barred:
        # the record says the patient does not tolerate the ordered drug (an AllergyIntolerance,
        # debt22): a critical card naming it, not "no labelled dose" (a warning)
        return Card(
            uuid=card_uuid(request.hookInstance, service.id, key),
            summary=summary(
                _("%(drug)s order: the record lists an intolerance of it; not dosed.")
                % {"drug": recommendation["drug"]}
            ),
            detail="\n".join(detail),  # the reasons name the intolerance (and its source)
            indicator="critical",
            source=source,
            links=[_calculator(base)],
        )
    if status == "no-recommendation":
        return Card(
            uuid=card_uuid(request.hookInstance, service.id, key),
            summary=summary(
                _("%(drug)s: no labelled dose to check this order against.")
                % {"drug": recommendation["drug"]}
            ),
            detail="\n".join(detail),
            # review11 S1: an order the label excludes for this patient (valganciclovir on
            # hemodialysis) carries the dose check's critical alert: the card is critical too
            indicator="critical"
            if any(a.get("severity") == "critical" for a in check.get("alerts", []))
            else "warning",
            source=source,
            links=[_calculator(base)],
        )
    suggested = check.get("suggested") or {}
    wording = {
        "above": N_("above the labelled dose"),
        "below": N_("below the labelled dose"),
        "renal-adjustment": N_("above the renally adjusted dose"),
    }
    target = f"{suggested.get('dose_mg')} mg {clinical(suggested.get('schedule', ''))}".strip()
    crcl = (
        f" (CrCl {renal['crcl_ml_min']} mL/min)"
        if status == "renal-adjustment" and renal.get("crcl_ml_min")
        else ""
    )
    card = Card(
        uuid=card_uuid(request.hookInstance, service.id, key),
        summary=summary(
            _("%(drug)s order %(status)s: label gives %(target)s%(crcl)s.")
            % {
                "drug": recommendation["drug"],
                "status": _(wording[status]) if status in wording else status,
                "target": target,
                "crcl": crcl,
            }
        ),
        detail="\n".join(detail),
        indicator="critical" if status in ("above", "renal-adjustment") else "warning",
        source=source,
        links=[_calculator(base)],
        overrideReasons=list(OVERRIDE_REASONS),
    )
    if suggested.get("dose_mg") is not None:
        replacement = _replaced(resource, suggested)
        label = _("Change to %(dose)s") % {
            "dose": f"{suggested['dose_mg']} mg {clinical(suggested.get('schedule', ''))}".strip()
        }
        card.suggestions = [
            Suggestion(
                label=label,
                uuid=card_uuid(request.hookInstance, service.id, f"{key}/replace"),
                isRecommended=True,
                actions=[Action(type="update", description=label, resource=replacement)],
            )
        ]
        card.selectionBehavior = "at-most-one"
    return card


def _fetal_risk(recommendation: dict[str, Any]) -> list[dict[str, Any]]:
    """The label's pregnancy alerts of a dose (probe14 S1: the patient is pregnant and the drug's
    label warns of fetal toxicity)."""
    return [a for a in recommendation.get("alerts") or [] if a.get("code") == "pregnancy-fetal-risk"]


def _missing_lines(recommendation: dict[str, Any]) -> list[str]:
    """What the dose needs and the record did not give (probe14 F6: "Insufficient data" alone
    named nothing)."""
    return [
        _("Needed: %(item)s — %(why)s.") % {"item": m["item"], "why": clinical(m["why"])}
        for m in recommendation.get("missing") or []
    ]


def _fetal_card(
    check: dict[str, Any],
    fetal: list[dict[str, Any]],
    detail: list[str],
    source: Source,
    request: CdsRequest,
    service: Service,
    clinic: Clinic,
    base: str,
    key: str,
) -> Card:
    """The card of an order for a pregnant patient of a drug whose label warns of fetal
    toxicity: critical when the label row refuses the dose (valganciclovir, ganciclovir,
    cidofovir), else as the alert says (foscarnet: a warning), whatever the dose comparison."""
    drug = check["recommendation"]["drug"]
    critical = any(a.get("severity") == "critical" for a in fetal)
    cited = [c for a in fetal for c in a.get("citations") or []]
    return Card(
        uuid=card_uuid(request.hookInstance, service.id, key),
        summary=summary(
            _("%(drug)s ordered for a pregnant patient: its label warns of fetal toxicity.")
            % {"drug": drug}
        ),
        detail="\n".join(detail),
        indicator="critical" if critical else "warning",
        source=Source(
            label=f"cmvcds {clinic.knowledge.version}: {cited[0]}", url=f"{base}/knowledge/sources/{cited[0]}"
        )
        if cited
        else source,
        links=[_calculator(base)],
        overrideReasons=list(OVERRIDE_REASONS),
    )


def _replaced(resource: dict[str, Any], suggested: dict[str, Any]) -> dict[str, Any]:
    """The draft order with the suggested dose and interval (everything else unchanged)."""
    import copy

    new = copy.deepcopy(resource)
    dosages = new.setdefault("dosageInstruction", [{}]) or [{}]
    dosage = dosages[0]
    dosage["doseAndRate"] = [
        {
            "doseQuantity": {
                "value": suggested["dose_mg"],
                "unit": "mg",
                "system": "http://unitsofmeasure.org",
                "code": "mg",
            }
        }
    ]
    repeat = dosage.setdefault("timing", {}).setdefault("repeat", {})
    if suggested.get("every_h"):
        repeat.update({"frequency": 1, "period": suggested["every_h"], "periodUnit": "h"})
    dosage["text"] = f"{suggested['dose_mg']} mg {clinical(suggested.get('schedule', ''))}".strip()
    new["dosageInstruction"] = dosages
    return new
