"""How the CDS/SMART router chooses a record's context (probe10 W6): only from what the record
shows, never assumed.

- a kidney transplant-status Condition (ICD-10 Z94.0) routes to the transplant pathway, which
  asks for the donor/recipient serostatus and the transplant date it needs (KDIGO/TTS consensus,
  Kotton 2018: the prevention strategy is set by D/R serostatus); formerly it was read as "other
  immunocompromised", whose answer is "no routine prophylaxis outside transplantation";
- a transplant-status or congenital CMV Condition sets the context only when it is current and
  confirmed (review10): a resolved, inactive or abated one describes the past, an unconfirmed,
  provisional or differential one a possibility (FHIR R4 Condition.clinicalStatus and
  verificationStatus value sets); neither shows the population, and the note says which
  Condition was not used and why (as a pregnancy Condition: review7 #1, #8);
- a record with no pregnancy, congenital CMV or transplant status has no context: the SMART
  page asks for it; the therapy monitor still checks the course with the rules common to every
  population (a neutrophil count of 400/µL on valganciclovir is below the label's 500/µL limit
  whatever the population: Valcyte label §5.1) and says the population was not established.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.condition import Condition

from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.cdshooks.models import CdsRequest
from cmvcds.adapters.cdshooks.services import map_record, record_context
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY
from tests.fhir.builders import as_json

FIXTURES = Path(__file__).parent / "fixtures"
MONITOR = "/cds-services/cmv-therapy-monitor"
NOT_ESTABLISHED = "the record establishes no patient population"
KIDNEY_STATUS = {
    "resourceType": "Condition",
    "id": "tx-1",
    "subject": {"reference": "Patient/p-mon-1"},
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "Z94.0"}]},
}


def _monitor_request() -> dict[str, Any]:
    return json.loads((FIXTURES / "therapy-monitor.request.json").read_text(encoding="utf-8"))


def _with_kidney_status(request: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(request)
    changed["prefetch"]["conditions"]["entry"].append({"resource": KIDNEY_STATUS})
    return changed


def _cds(request: dict[str, Any]) -> CdsRequest:
    return CdsRequest(hook="patient-view", hookInstance="h-1", context={"patientId": "p-mon-1"})


def test_the_router_reads_a_context_only_from_the_record(knowledge: Knowledge) -> None:
    clinic = Clinic(knowledge, today=lambda: TODAY)
    bare = _monitor_request()
    mapped = map_record(clinic, bare["prefetch"], _cds(bare))
    assert record_context(mapped) is None  # a CMV infection alone says no population
    assert "context" not in mapped.case and "transplant" not in mapped.case
    transplant = map_record(clinic, _with_kidney_status(bare)["prefetch"], _cds(bare))
    assert transplant.case["context"] == "transplant"
    assert transplant.case["transplant"] == {"organ": "kidney"}
    # a context the user chose is used for a record that establishes none, and said
    chosen = map_record(clinic, bare["prefetch"], _cds(bare), "hiv")
    assert chosen.case["context"] == "hiv"
    assert any("context hiv as chosen by the user" in n for n in chosen.notes)
    # ...never over what the record shows
    shown = map_record(clinic, _with_kidney_status(bare)["prefetch"], _cds(bare), "hiv")
    assert shown.case["context"] == "transplant"


def test_the_transplant_record_gets_the_transplant_pathway(
    client: TestClient, knowledge: Knowledge
) -> None:
    clinic = Clinic(knowledge, today=lambda: TODAY)
    request = _with_kidney_status(_monitor_request())
    doc = clinic.assess(map_record(clinic, request["prefetch"], _cds(request)).case)
    decisions = {d["id"]: d for d in doc["decisions"]}
    assert decisions["antiviral-prophylaxis"]["outcome"] == "insufficient_data"
    missing = {m["item"] for m in doc["missing"]}
    assert {"transplant.donor_cmv_igg", "transplant.recipient_cmv_igg"} <= missing
    assert not any("outside transplantation" in r for d in doc["decisions"] for r in d["reasons"])


def test_the_monitor_says_the_population_is_not_established_and_keeps_its_alerts(
    client: TestClient,
) -> None:
    cards = client.post(MONITOR, json=_monitor_request()).json()["cards"]
    said = [c for c in cards if NOT_ESTABLISHED in c.get("detail", "")]
    assert len(said) == 1 and said[0]["indicator"] == "info"
    assert (
        "those specific to a population (congenital, transplant) were not applied"
        in (said[0]["detail"])
    )
    # ANC 400/µL on valganciclovir: below the label's 500/µL in any population (critical)
    assert any(c["indicator"] == "critical" and "ANC 400" in c["summary"] for c in cards)
    # with the transplant status recorded, nothing is said about the population
    cards = client.post(MONITOR, json=_with_kidney_status(_monitor_request())).json()["cards"]
    assert not [c for c in cards if NOT_ESTABLISHED in c.get("detail", "")]
    assert any(c["indicator"] == "critical" and "ANC 400" in c["summary"] for c in cards)


CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ICD10 = "http://hl7.org/fhir/sid/icd-10"


def _condition(code: str, **status: Any) -> dict[str, Any]:
    """An ICD-10 Condition of the monitor fixture's patient, built (and validated) with
    ``fhir.resources`` as the EHR's would be."""
    return as_json(
        Condition(
            id="c-status",
            subject={"reference": "Patient/p-mon-1"},
            code={"coding": [{"system": ICD10, "code": code}]},
            **status,
        )
    )


def _clinical(code: str) -> dict[str, Any]:
    return {"coding": [{"system": CLINICAL, "code": code}]}


def _verification(code: str) -> dict[str, Any]:
    return {"coding": [{"system": VERIFICATION, "code": code}]}


def _with(condition: dict[str, Any]) -> dict[str, Any]:
    changed = _monitor_request()
    changed["prefetch"]["conditions"]["entry"].append({"resource": condition})
    return changed


NOT_CURRENT = [
    ({"clinicalStatus": _clinical("resolved")}, "with clinical status resolved: not current"),
    ({"clinicalStatus": _clinical("inactive")}, "with clinical status inactive: not current"),
    ({"clinicalStatus": _clinical("remission")}, "with clinical status remission: not current"),
    ({"abatementDateTime": "2020-01-01"}, "abated: not current"),
    (
        {"clinicalStatus": _clinical("active"), "abatementDateTime": "2020-01-01"},
        "abated: not current",
    ),
    (
        {"verificationStatus": _verification("unconfirmed")},
        "with verification status unconfirmed: not confirmed",
    ),
    (
        {"verificationStatus": _verification("provisional")},
        "with verification status provisional: not confirmed",
    ),
    (
        {"verificationStatus": _verification("differential")},
        "with verification status differential: not confirmed",
    ),
]


@pytest.mark.parametrize(("code", "what"), [("Z94.0", "transplant status"),
                                            ("P35.1", "congenital CMV infection")])  # fmt: skip
@pytest.mark.parametrize(("status", "why"), NOT_CURRENT)
def test_a_past_or_unconfirmed_status_condition_sets_no_context_and_says_so(
    knowledge: Knowledge, code: str, what: str, status: dict[str, Any], why: str
) -> None:
    clinic = Clinic(knowledge, today=lambda: TODAY)
    request = _with(_condition(code, **status))
    mapped = map_record(clinic, request["prefetch"], _cds(request))
    assert record_context(mapped) is None
    assert "context" not in mapped.case and "transplant" not in mapped.case
    said = [str(u) for u in mapped.unmapped if str(u).startswith("Condition/c-status:")]
    assert said == [f"Condition/c-status: {what} {why}, not used"]


@pytest.mark.parametrize(
    "status",
    [
        {},
        {"clinicalStatus": _clinical("active"), "verificationStatus": _verification("confirmed")},
        {"clinicalStatus": _clinical("relapse")},
        {"clinicalStatus": _clinical("recurrence")},
    ],
)
def test_a_current_confirmed_status_condition_sets_the_context(
    knowledge: Knowledge, status: dict[str, Any]
) -> None:
    clinic = Clinic(knowledge, today=lambda: TODAY)
    request = _with(_condition("Z94.0", **status))
    mapped = map_record(clinic, request["prefetch"], _cds(request))
    assert mapped.case["context"] == "transplant"
    assert mapped.case["transplant"] == {"organ": "kidney"}
    assert not [u for u in mapped.unmapped if str(u).startswith("Condition/c-status:")]
    congenital = _with(_condition("P35.1", **status))
    assert map_record(clinic, congenital["prefetch"], _cds(congenital)).case["context"] == (
        "congenital"
    )


def test_the_monitor_says_a_resolved_transplant_status_was_not_used(client: TestClient) -> None:
    request = _with(_condition("Z94.0", clinicalStatus=_clinical("resolved")))
    cards = client.post(MONITOR, json=request).json()["cards"]
    # the population is not established: the monitor says so, and which Condition it left out
    assert [c for c in cards if NOT_ESTABLISHED in c.get("detail", "")]
    assert any(
        "Condition/c-status: transplant status with clinical status resolved: not current, "
        "not used" in c.get("detail", "")
        for c in cards
    )
    # the alerts of every population are kept (ANC 400/µL on valganciclovir: Valcyte §5.1)
    assert any(c["indicator"] == "critical" and "ANC 400" in c["summary"] for c in cards)
