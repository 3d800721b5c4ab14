"""Recorded allergies and intolerances (FHIR AllergyIntolerance) bar the drug in every answer read
from the record (debt22, ADR 0032): before, a patient with a recorded valganciclovir allergy in
the EHR got a valganciclovir dose card.

The resources are built with ``fhir.resources`` (R4B) in the shape of the official FHIR R4
examples ``allergyintolerance-medication.json`` (an unconfirmed, active, high-criticality
medication allergy, RxNorm-coded) and ``allergyintolerance-example.json`` (a confirmed food
allergy, SNOMED-coded), vendored unchanged in ``r4-examples/`` (CC0; from
fhir-ru/fhir-ru.github.io commit 73deef62, the R4 4.0.1 build, as ``SCHEMA.md`` says); only the
substance, its status and its patient are changed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance

from cmvcds.adapters.fhir.mapping import bundle_to_case
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

HERE = Path(__file__).parent
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def official(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "r4-examples" / name).read_text(encoding="utf-8"))
    return data


def allergy(
    code: dict[str, Any],
    *,
    clinical: str | None = "active",
    verification: str | None = "unconfirmed",
    patient: str = "Patient/example",
    id_: str = "medication",
) -> dict[str, Any]:
    """The official medication example with another substance, status and patient, validated
    by the fhir.resources R4B model (what an EHR sends must be valid FHIR)."""
    shape = official("allergyintolerance-medication.json")
    shape.pop("text")
    shape.update(id=id_, code=code, patient={"reference": patient})
    if clinical is None:
        shape.pop("clinicalStatus")
    else:
        shape["clinicalStatus"]["coding"][0].update(code=clinical, display=clinical.title())
    if verification is None:
        shape.pop("verificationStatus")
    else:
        shape["verificationStatus"]["coding"][0].update(
            code=verification, display=verification.title()
        )
    built: dict[str, Any] = json.loads(AllergyIntolerance.model_validate(shape).model_dump_json())
    return built


VALGANCICLOVIR = {"coding": [{"system": RXNORM, "code": "275891", "display": "valganciclovir"}]}


def read(knowledge: Knowledge, *resources: dict[str, Any], patient: str = "example") -> Any:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    return bundle_to_case(
        bundle, knowledge, context="immunocompromised", assessed_on=TODAY, patient=patient
    )


def test_the_official_examples_are_said_not_used_never_read_as_a_drug(
    knowledge: Knowledge,
) -> None:
    """Cashew nuts (food) and penicillin G: neither a drug cmvcds doses or reads."""
    for name, words in (
        ("allergyintolerance-example.json", "227493005 (Cashew nuts)"),
        ("allergyintolerance-medication.json", "7980 (Penicillin G)"),
    ):
        mapped = read(knowledge, official(name))
        assert "intolerances" not in mapped.case["patient"]
        assert len(mapped.unmapped) == 1 and words in mapped.unmapped[0], mapped.unmapped
        assert "not a drug cmvcds doses or reads" in mapped.unmapped[0]


@pytest.mark.parametrize(
    ("code", "drug"),
    [
        (VALGANCICLOVIR, "valganciclovir"),
        # a clinical drug rolls up to its ingredient (SNOMED CT vial of the value sets)
        (
            {"coding": [{"system": "http://snomed.info/sct", "code": "324781006"}]},
            "ganciclovir",
        ),
        ({"coding": [{"system": ATC, "code": "J05AD01"}]}, "foscarnet"),
        ({"coding": [{"system": ATC, "code": "J05AB12"}]}, "cidofovir"),
        # probenecid (co-medication catalogue): the cidofovir label's contraindication
        ({"coding": [{"system": RXNORM, "code": "8698"}]}, "probenecid"),
        ({"text": "Foscarnet"}, "foscarnet"),
    ],
)
def test_an_active_drug_allergy_is_read_as_an_intolerance(
    knowledge: Knowledge, code: dict[str, Any], drug: str
) -> None:
    mapped = read(knowledge, allergy(code, verification="confirmed"))
    assert mapped.case["patient"]["intolerances"] == [drug]
    assert mapped.unmapped == []
    assert any(drug in note and "patient.intolerances" in note for note in mapped.notes)


def test_text_only_is_read_and_said_as_read_from_the_text(knowledge: Knowledge) -> None:
    mapped = read(knowledge, allergy({"text": "Allergia a valganciclovir (orticaria)"}))
    assert mapped.case["patient"]["intolerances"] == ["valganciclovir"]
    assert any("read from the text" in n for n in mapped.notes), mapped.notes
    # ganciclovir is a word inside valganciclovir: never read from it
    alone = read(knowledge, allergy({"text": "valganciclovir"}))
    assert alone.case["patient"]["intolerances"] == ["valganciclovir"]
    # review12 S2: a text naming two drugs records both (debt22 dropped it, asking for two resources)
    both = read(knowledge, allergy({"text": "ganciclovir and valganciclovir"}))
    assert both.case["patient"]["intolerances"] == ["ganciclovir", "valganciclovir"]
    assert both.unmapped == []


@pytest.mark.parametrize(
    ("text", "drug"),
    [
        ("Valcyte", "valganciclovir"),
        ("Cytovene", "ganciclovir"),
        ("Cymevene", "ganciclovir"),
        ("Foscavir", "foscarnet"),
        ("Vistide", "cidofovir"),
        ("Prevymis", "letermovir"),
        ("Livtencity", "maribavir"),
        ("Sulfa drugs", "trimethoprim-sulfamethoxazole"),
        ("sulfonamide", "trimethoprim-sulfamethoxazole"),
        ("Bactrim", "trimethoprim-sulfamethoxazole"),
        ("cotrimoxazole", "trimethoprim-sulfamethoxazole"),
    ],
)
def test_a_brand_or_a_sulfa_class_name_is_read(knowledge: Knowledge, text: str, drug: str) -> None:
    """review12 S2 (allergy_probe): brands of the labels' titles (pack allergy_names) and the
    sulfa names of the VISTIDE contraindication ("probenecid or other sulfa-containing
    medications") were "not a drug cmvcds doses or reads"."""
    mapped = read(knowledge, allergy({"text": text}))
    assert mapped.case["patient"]["intolerances"] == [drug]
    assert any("read from the text" in n for n in mapped.notes)


def test_an_allergy_naming_no_known_drug_is_said(knowledge: Knowledge) -> None:
    mapped = read(knowledge, allergy({"text": "Penicillin"}))
    assert "intolerances" not in mapped.case["patient"]
    assert any("Penicillin" in u and "not a drug cmvcds" in u for u in mapped.unmapped)


def test_an_unconfirmed_one_is_used_and_said(knowledge: Knowledge) -> None:
    mapped = read(knowledge, allergy(VALGANCICLOVIR, verification="unconfirmed"))
    assert mapped.case["patient"]["intolerances"] == ["valganciclovir"]
    assert any("unconfirmed" in n for n in mapped.notes)


@pytest.mark.parametrize(
    ("clinical", "verification", "why"),
    [
        ("inactive", "confirmed", "clinical status inactive"),
        ("resolved", "confirmed", "clinical status resolved"),
        ("active", "refuted", "verification status refuted"),
        (None, "entered-in-error", "verification status entered-in-error"),
        (None, "confirmed", "no clinical status"),
    ],
)
def test_one_not_active_or_refuted_is_not_used_and_said(
    knowledge: Knowledge, clinical: str | None, verification: str | None, why: str
) -> None:
    mapped = read(knowledge, allergy(VALGANCICLOVIR, clinical=clinical, verification=verification))
    assert "intolerances" not in mapped.case["patient"]
    assert len(mapped.unmapped) == 1 and why in mapped.unmapped[0], mapped.unmapped


def test_another_patients_allergy_is_not_used(knowledge: Knowledge) -> None:
    mapped = read(knowledge, allergy(VALGANCICLOVIR, patient="Patient/other"))
    assert "intolerances" not in mapped.case["patient"]
    assert mapped.foreign and "AllergyIntolerance/medication" in mapped.foreign[0]


def test_several_allergies_are_listed_once_each(knowledge: Knowledge) -> None:
    mapped = read(
        knowledge,
        allergy(VALGANCICLOVIR, id_="a1"),
        allergy({"coding": [{"system": ATC, "code": "J05AB14"}]}, id_="a2"),
        allergy({"coding": [{"system": ATC, "code": "J05AD01"}]}, id_="a3"),
        official("allergyintolerance-example.json"),
    )
    assert mapped.case["patient"]["intolerances"] == ["foscarnet", "valganciclovir"]


def _dose_request(allergies: list[dict[str, Any]]) -> dict[str, Any]:
    request: dict[str, Any] = json.loads(
        (HERE.parent / "cdshooks" / "fixtures" / "antiviral-dose-check.request.json").read_text(
            encoding="utf-8"
        )
    )
    request["prefetch"]["allergies"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": a} for a in allergies],
    }
    return request


def test_cds_dose_check_never_offers_a_dose_of_a_drug_the_record_says_is_not_tolerated(
    client: TestClient,
) -> None:
    """The fixture's draft order is valganciclovir 900 mg q12h for a patient whose kidney calls
    for 450 mg: without an allergy the card offers 450 mg (test_services); with a recorded
    valganciclovir allergy no dose is offered and the card names the intolerance."""
    before = client.post("/cds-services/cmv-antiviral-dose-check", json=_dose_request([])).json()[
        "cards"
    ]
    assert any(c.get("suggestions") for c in before)
    request = _dose_request([allergy(VALGANCICLOVIR, patient="Patient/p-dose-1")])
    cards = client.post("/cds-services/cmv-antiviral-dose-check", json=request).json()["cards"]
    assert not any(
        a.get("resource", {}).get("dosageInstruction")
        for c in cards
        for s in c.get("suggestions") or []
        for a in s.get("actions") or []
    ), cards
    said = " ".join(f"{c['summary']} {c.get('detail', '')}" for c in cards)
    assert "intolerance" in said.lower() and "valganciclovir" in said, said
    assert any(c["indicator"] == "critical" for c in cards)
    # a refuted one changes nothing: the dose is offered as before
    refuted = _dose_request(
        [allergy(VALGANCICLOVIR, patient="Patient/p-dose-1", verification="refuted")]
    )
    again = client.post("/cds-services/cmv-antiviral-dose-check", json=refuted).json()["cards"]
    assert [c["summary"] for c in again if c.get("suggestions")] == [
        c["summary"] for c in before if c.get("suggestions")
    ]


def test_every_service_prefetches_the_allergies(client: TestClient) -> None:
    for service in client.get("/cds-services").json()["services"]:
        assert (
            service["prefetch"]["allergies"] == "AllergyIntolerance?patient={{context.patientId}}"
        )


def test_the_official_example_survives_the_shape_changes() -> None:
    """The builder keeps the official example's shape: only code, status and patient change."""
    built = allergy(VALGANCICLOVIR)
    shape = copy.deepcopy(official("allergyintolerance-medication.json"))
    for key in ("criticality", "category", "recordedDate", "recorder", "reaction"):
        assert built[key] == shape[key], key
