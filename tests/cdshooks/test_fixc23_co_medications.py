"""The dose check reads the patient's active co-medications (fixc23, an outside EHR probe).

Letermovir 480 mg once daily ordered for a patient on ciclosporin matched silently: the dose
check's prefetch had no MedicationRequest. Prevymis US PI §2.4 (pack row letermovir interaction
``cyclosporine``): with cyclosporine the dose is 240 mg once daily, so 480 mg is above the label
(2× the labelled daily amount). The co-medication is read from the active MedicationRequests
(prefetch ``medications``), coded RxNorm 3008 (cyclosporine ingredient, co-medication catalogue)
or named in its text (ciclosporin, Neoral). Without that prefetch (and no fhirServer) a card says
co-medications were not checked for the letermovir order.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest

from tests.cdshooks import test_probe14_orders as probe14
from tests.cdshooks.probe14_ehr import (
    ATC,
    PID,
    RXNORM,
    day,
    dose_request,
    order,
    quantity,
    renal_and_weight,
    searchset,
)
from tests.cdshooks.test_probe14_orders import Keys, _post
from tests.conftest import TODAY

#: An allogeneic HSCT recipient (ICD-10-CM Z94.84, the pack's transplant-status row): the
#: letermovir label regimen depends on the transplanted organ.
HSCT = dict(
    Condition(
        id="c-hsct",
        subject={"reference": f"Patient/{PID}"},
        clinicalStatus={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z94.84"}]},
        recordedDate=day(30),
    ).model_dump(mode="json", exclude_none=True)
)
#: the signed-JWT client of the probe14 tests (its EHR keys and FHIR server)
fhir_server, keys, signed = probe14.fhir_server, probe14.keys, probe14.signed

NOT_CHECKED = "co-medications were not checked for the letermovir order"


def _letermovir(mg: int) -> dict[str, Any]:
    return order(
        "let1",
        code="J05AX18",
        system=ATC,
        dose={"doseQuantity": quantity(mg, "mg")},
        every_h=24,
        reason={"text": "prophylaxis"},
    )


def _active(concept: dict[str, Any], status: str = "active", ident: str = "cs1") -> dict[str, Any]:
    resource = MedicationRequest(
        id=ident,
        status=status,
        intent="order",
        subject={"reference": f"Patient/{PID}"},
        authoredOn=str(TODAY),
        medicationCodeableConcept=concept,
    )
    return dict(resource.model_dump(mode="json", exclude_none=True))


CICLOSPORIN = [
    {"coding": [{"system": RXNORM, "code": "3008"}]},
    {"text": "Ciclosporin 100 mg capsule twice daily"},
    {"text": "cyclosporine"},
    {"text": "Neoral 100 mg"},
    {"text": "Sandimmune injection"},
]


def _call(signed: TestClient, keys: Keys, mg: int, medications: Any) -> list[dict[str, Any]]:
    body = dose_request([_letermovir(mg)], renal_and_weight(70, 1.0), conditions=[HSCT])
    if medications is not None:
        body["prefetch"]["medications"] = medications
    return _post(signed, keys, body)


def _mismatch(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if "labelled dose" in c["summary"]]


@pytest.mark.parametrize(
    "concept",
    CICLOSPORIN,
    ids=["rxnorm-3008", "ciclosporin", "cyclosporine", "neoral", "sandimmune"],
)
def test_letermovir_480_with_ciclosporin_is_above_the_label(
    signed: TestClient, keys: Keys, concept: dict[str, Any]
) -> None:
    cards = _call(signed, keys, 480, searchset([_active(concept)]))
    (card,) = _mismatch(cards)
    assert card["indicator"] in ("warning", "critical"), card["detail"]
    assert "240 mg" in card["summary"], card["detail"]
    assert "cyclosporine" in card["detail"], card["detail"]
    assert "Prevymis" in card["detail"] or "PREVYMIS" in card["detail"] or "prevymis" in str(card)
    suggested = [
        a["resource"]
        for s in card.get("suggestions") or []
        for a in s.get("actions") or []
        if a.get("resource")
    ]
    if suggested:  # the labelled dose offered: 240 mg once daily
        dose = suggested[0]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
        assert dose["value"] == 240
    assert not [c for c in cards if NOT_CHECKED in c.get("detail", "")]


def test_letermovir_240_with_ciclosporin_matches(signed: TestClient, keys: Keys) -> None:
    cards = _call(signed, keys, 240, searchset([_active(CICLOSPORIN[0])]))
    assert _mismatch(cards) == [], [c["summary"] for c in cards]


@pytest.mark.parametrize("status", ["stopped", "completed", "draft"])
def test_ciclosporin_not_active_is_not_read(signed: TestClient, keys: Keys, status: str) -> None:
    cards = _call(signed, keys, 480, searchset([_active(CICLOSPORIN[0], status)]))
    assert _mismatch(cards) == [], [c["summary"] for c in cards]


def test_letermovir_480_without_ciclosporin_is_unchanged(signed: TestClient, keys: Keys) -> None:
    tacrolimus = _active({"coding": [{"system": RXNORM, "code": "42316"}]}, ident="tac1")
    cards = _call(signed, keys, 480, searchset([tacrolimus]))
    assert _mismatch(cards) == [], [c["summary"] for c in cards]
    assert not [c for c in cards if NOT_CHECKED in c.get("detail", "")]
    # and 240 mg without cyclosporine is below the label (480 mg)
    assert _mismatch(_call(signed, keys, 240, searchset([tacrolimus])))


@pytest.mark.parametrize("medications", ["absent", None])
def test_no_medications_prefetch_is_said(signed: TestClient, keys: Keys, medications: Any) -> None:
    body = dose_request([_letermovir(480)], renal_and_weight(70, 1.0), conditions=[HSCT])
    if medications is None:
        body["prefetch"]["medications"] = None
    cards = _post(signed, keys, body)
    said = [c for c in cards if NOT_CHECKED in c.get("detail", "")]
    assert len(said) == 1, [c["detail"] for c in cards]
    assert said[0]["indicator"] == "warning"
    assert "cyclosporine" in said[0]["detail"]


def test_discovery_asks_for_active_medications(client: TestClient) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").json()["services"]}
    for sid in ("cmv-antiviral-dose-check", "cmv-antiviral-dose-check-select"):
        assert services[sid]["prefetch"]["medications"] == (
            "MedicationRequest?patient={{context.patientId}}&status=active"
        )


def test_the_italian_card_says_it_in_italian(signed: TestClient, keys: Keys) -> None:
    body = dose_request([_letermovir(480)], renal_and_weight(70, 1.0), conditions=[HSCT])
    response = signed.post(
        probe14.DOSE_CHECK,
        json=body,
        headers={"Authorization": f"Bearer {keys.token()}", "Accept-Language": "it-IT,it;q=0.9"},
    )
    details = " ".join(c.get("detail", "") for c in response.json()["cards"])
    assert (
        "i farmaci concomitanti non sono stati verificati per la prescrizione di letermovir"
        in details
    )
