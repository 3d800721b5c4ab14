"""A CMV antiviral whose label warns of fetal toxicity, ordered for a pregnant patient (probe14 S1).

Valganciclovir 900 mg every 12 h (RxNorm 313566), induction, for a woman of 32 with creatinine
0.7 mg/dL and 65 kg: Cockcroft-Gault (140 − 32) × 65 × 0.85 / (72 × 0.7) = 118 mL/min, the
label's full dose, so the order matched and got no card at all, although the record said she
was pregnant in one of four ways (Condition SNOMED 77386006, Observation 82810-3 or 11449-6 =
Pregnant, an estimated delivery date 11778-8 still to come). The VALCYTE and ganciclovir labels
carry a boxed warning of fetal toxicity ("based on animal data … has the potential to cause
birth defects in humans", §5.4); cidofovir's boxed warning says teratogenic in animals; the
foscarnet label allows use in pregnancy "only if clearly needed". Now the dose engine reads the
pregnancy (``DosePatient.pregnant``) and each label's ``pregnancy`` check: a critical card, not
dosed, for valganciclovir, ganciclovir and cidofovir; a warning for foscarnet, still dosed.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cmvcds.adapters.api.service import Clinic
from cmvcds.knowledge import Knowledge
from tests.cdshooks.probe14_ehr import (
    ATC,
    DOSE_CHECK,
    RXNORM,
    dose_request,
    observation,
    order,
    pregnancy_condition,
    quantity,
    renal_and_weight,
    snomed,
)
from tests.conftest import TODAY

PREGNANT = snomed("77386006", "Pregnant")


def _pregnancy_ways() -> dict[str, dict[str, Any]]:
    base = renal_and_weight()
    return {
        "Condition 77386006": dose_request([order()], base, conditions=[pregnancy_condition()]),
        "Observation 82810-3": dose_request(
            [order()], [*base, observation("o-p", "82810-3", valueCodeableConcept=PREGNANT)]
        ),
        "Observation 11449-6": dose_request(
            [order()], [*base, observation("o-p", "11449-6", valueCodeableConcept=PREGNANT)]
        ),
        "EDD 11778-8 to come": dose_request(
            [order()], [*base, observation("o-p", "11778-8", valueDateTime="2027-05-01")]
        ),
    }


@pytest.mark.parametrize("way", list(_pregnancy_ways()))
def test_valganciclovir_for_a_pregnant_patient_is_a_critical_card(
    client: TestClient, way: str
) -> None:
    response = client.post(DOSE_CHECK, json=_pregnancy_ways()[way])
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    fetal = [c for c in cards if "pregnant" in c["summary"]]
    assert len(fetal) == 1, [c["summary"] for c in cards]
    card = fetal[0]
    assert card["indicator"] == "critical"
    assert "valganciclovir" in card["summary"]
    assert "boxed warning of fetal toxicity" in card["detail"]
    assert card["source"]["label"].endswith("valcyte-us-label")
    assert "Sources: ." not in card["detail"]


def test_the_same_order_for_a_woman_not_recorded_pregnant_matches_the_label(
    client: TestClient,
) -> None:
    """The boundary: no pregnancy in the record, the 900 mg twice-daily order matches (no card);
    a pregnancy test that says not pregnant neither."""
    for extra in (
        [],
        [observation("o-p", "82810-3", valueCodeableConcept=snomed("60001007", "Not pregnant"))],
    ):
        response = client.post(
            DOSE_CHECK, json=dose_request([order()], [*renal_and_weight(), *extra])
        )
        assert response.status_code == 200, response.text
        assert not [c for c in response.json()["cards"] if c["indicator"] != "info"]


def test_an_edd_already_past_is_not_a_current_pregnancy(client: TestClient) -> None:
    past = observation("o-p", "11778-8", valueDateTime=str(TODAY.replace(month=TODAY.month - 1)))
    response = client.post(DOSE_CHECK, json=dose_request([order()], [*renal_and_weight(), past]))
    assert response.status_code == 200, response.text
    assert not [c for c in response.json()["cards"] if "pregnant" in c["summary"]]


@pytest.mark.parametrize(
    ("code", "drug", "indicator", "cited"),
    [
        ("4678", "ganciclovir", "critical", "cytovene-us-label"),
        ("J05AD01", "foscarnet", "warning", "foscavir-us-label"),
    ],
)
def test_every_label_that_warns_of_fetal_toxicity_is_read(
    client: TestClient, code: str, drug: str, indicator: str, cited: str
) -> None:
    """Ganciclovir 5 mg/kg × 65 kg = 325 mg every 12 h (CrCl 118 ≥ 70) and foscarnet
    60 mg/kg × 65 = 3900 mg every 8 h (induction), both matching their labels: the pregnancy is
    still a card (critical and not dosed; a warning, dosed)."""
    mg, every = {"ganciclovir": (325, 12), "foscarnet": (3900, 8)}[drug]
    system = ATC if code.startswith("J05") else RXNORM
    ordered = order(
        code=code,
        dose={"doseQuantity": quantity(mg, "mg")},
        every_h=every,
        route="47625008",
        system=system,
    )
    body = dose_request([ordered], renal_and_weight(), conditions=[pregnancy_condition()])
    response = client.post(DOSE_CHECK, json=body)
    assert response.status_code == 200, response.text
    fetal = [c for c in response.json()["cards"] if "pregnant" in c["summary"]]
    assert fetal, [c["summary"] for c in response.json()["cards"]]
    assert fetal[0]["indicator"] == indicator
    assert fetal[0]["source"]["label"].endswith(cited)


def test_the_prefetch_asks_for_the_pregnancy_readings(client: TestClient) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").json()["services"]}
    for service in ("cmv-antiviral-dose-check", "cmv-antiviral-dose-check-select"):
        query = services[service]["prefetch"]["observations"]
        for code in ("82810-3", "11449-6", "11778-8"):
            assert code in query, (service, code)


def _case(context: str, **extra: Any) -> dict[str, Any]:
    return {
        "format": "cmvcds-case/1",
        "id": "probe14-s1",
        "assessed_on": "2026-03-06",
        "context": context,
        "patient": {"sex": "female", "age_years": 32, "weight_kg": 65, "height_cm": 165},
        "observations": [
            {"date": "2026-03-05", "code": "creatinine", "value": 0.7, "unit": "mg/dL"}
        ],
        **extra,
    }


def test_assess_a_pregnant_transplant_recipient_is_not_dosed_silently(knowledge: Knowledge) -> None:
    """`cmvcds assess` of a kidney D+/R− recipient (transplant context) who is pregnant (EDD
    2026-09-01): valganciclovir prophylaxis is not dosed; a critical pregnancy-fetal-risk alert
    cites the VALCYTE label. Without the pregnancy the same case gets its dose."""
    transplant = {
        "organ": "kidney",
        "date": "2026-03-01",
        "donor_cmv_igg": "positive",
        "recipient_cmv_igg": "negative",
    }
    clinic = Clinic(knowledge)
    plain = clinic.assess(_case("transplant", transplant=transplant))
    assert [g["drug"] for g in plain["regimens"]] == ["valganciclovir"]
    pregnant = clinic.assess(
        _case("transplant", transplant=transplant, pregnancy={"edd": "2026-09-01"})
    )
    assert not [g for g in pregnant["regimens"] if g["drug"] == "valganciclovir"]
    fetal = [a for a in pregnant["alerts"] if a["code"] == "pregnancy-fetal-risk"]
    assert fetal and fetal[0]["severity"] == "critical"
    assert fetal[0]["citations"] == ["valcyte-us-label"]
    decision = next(d for d in pregnant["decisions"] if d["id"] == "antiviral-prophylaxis")
    assert decision["outcome"] == "specialist_review"


def test_the_dose_api_reads_a_pregnancy_in_any_context(knowledge: Knowledge) -> None:
    clinic = Clinic(knowledge)
    case = _case("immunocompromised", pregnancy={"edd": "2026-09-01"})
    for drug, outcome in (("valganciclovir", "specialist_review"), ("foscarnet", "recommended")):
        answer = clinic.dose({"drug": drug, "indication": "induction", "case": case})
        assert answer["outcome"] == outcome, drug
        assert [a["code"] for a in answer["alerts"] if a["code"] == "pregnancy-fetal-risk"]
    # valacyclovir's label has no such warning: its pregnancy protocol is unchanged
    answer = clinic.dose(
        {"drug": "valacyclovir", "indication": "pregnancy-prevention", "case": case}
    )
    assert not [a for a in answer["alerts"] if a["code"] == "pregnancy-fetal-risk"]
