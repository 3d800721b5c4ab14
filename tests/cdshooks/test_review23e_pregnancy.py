"""review23e #1: a delivered, stale or contradictory pregnancy never stops the CDS dose check.

Order-sign valganciclovir 900 mg q12h for induction, creatinine 3.0 mg/dL, 65 kg, female born
1994-02-10: Cockcroft-Gault (140 − 32) × 65 × 0.85 / (72 × 3.0) = 27.6 mL/min, in the label's
25–39 mL/min band, whose induction dose is 450 mg once daily (Valcyte US label, Table 2): the
order (1800 mg a day) is 4× the renally adjusted dose, a critical card. Before fix14 every
record below gave that card; after it, a pregnancy out of date or contradicted made the case
invalid ("gestational age 44+2 is implausible") and no dose was checked.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cdshooks.probe14_ehr import (
    DOSE_CHECK,
    day,
    dose_request,
    observation,
    order,
    patient,
    pregnancy_condition,
    renal_and_weight,
    snomed,
)
from tests.conftest import TODAY

PREG = snomed("77386006", "Pregnant")


def _cards(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(DOSE_CHECK, json=body)
    assert response.status_code == 200, response.text
    return list(response.json()["cards"])


def _overdose(cards: list[dict[str, Any]]) -> dict[str, Any]:
    found = [c for c in cards if "renally adjusted" in c["summary"]]
    assert found, [c["summary"] for c in cards]
    return found[0]


def _old_condition() -> dict[str, Any]:
    condition = pregnancy_condition()
    condition["recordedDate"], condition["onsetDateTime"] = day(700), day(900)
    return condition


def _future_edd() -> dict[str, Any]:
    return observation(
        "o-e", "11778-8", valueDateTime=str(TODAY.replace(year=TODAY.year + 1, month=3))
    )


RECORDS = {
    "pregnant status 300 days ago and an EDD 30 days ago": dict(
        extra=[
            observation("o-p", "82810-3", days_ago=300, valueCodeableConcept=PREG),
            observation("o-e", "11778-8", days_ago=300, valueDateTime=day(30)),
        ],
        why="is past: pregnancy not current",
    ),
    "active Condition recorded 700 days ago and an EDD 400 days ago": dict(
        extra=[observation("o-e", "11778-8", days_ago=600, valueDateTime=day(400))],
        conditions=[_old_condition()],
        why="is past: pregnancy not current",
    ),
    "pregnant status 400 days ago": dict(
        extra=[observation("o-p", "82810-3", days_ago=400, valueCodeableConcept=PREG)],
        why=f"pregnancy status of {day(400)} not current: not read",
    ),
    "male with an active pregnancy Condition": dict(
        conditions=[pregnancy_condition()], male=True, why="recorded as male: contradictory"
    ),
    "male with a future EDD": dict(
        extra=[_future_edd()], male=True, why="recorded as male: contradictory"
    ),
}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_a_pregnancy_not_current_or_contradicted_leaves_the_dose_checked(
    client: TestClient, name: str
) -> None:
    record: Any = RECORDS[name]
    body = dose_request(
        [order()],
        [*renal_and_weight(creatinine=3.0), *record.get("extra", [])],
        conditions=record.get("conditions"),
        who=patient(gender="male") if record.get("male") else None,
    )
    cards = _cards(client, body)
    everything = " ".join(c["summary"] + " " + c.get("detail", "") for c in cards)
    assert "implausible" not in everything, everything
    card = _overdose(cards)
    assert card["indicator"] == "critical"
    assert "450 mg" in card["detail"], card["detail"]
    assert record["why"] in everything, everything
    assert not [c for c in cards if "ordered for a pregnant patient" in c["summary"]]


def test_a_current_pregnancy_is_still_read(client: TestClient) -> None:
    """The boundary's other side: a pregnant status of 30 days ago is read (fix14 kept)."""
    body = dose_request(
        [order()],
        [
            *renal_and_weight(),
            observation("o-p", "82810-3", days_ago=30, valueCodeableConcept=PREG),
        ],
    )
    cards = _cards(client, body)
    fetal = [c for c in cards if "ordered for a pregnant patient" in c["summary"]]
    assert fetal and fetal[0]["indicator"] == "critical", [c["summary"] for c in cards]


def test_the_boundary_of_a_pregnant_status(client: TestClient) -> None:
    """A pregnant status is current up to the pack's longest pregnancy (44+0 = 308 days)."""
    for days_ago, read in ((308, True), (309, False)):
        body = dose_request(
            [order()],
            [
                *renal_and_weight(),
                observation("o-p", "82810-3", days_ago=days_ago, valueCodeableConcept=PREG),
            ],
        )
        cards = _cards(client, body)
        fetal = [c for c in cards if "ordered for a pregnant patient" in c["summary"]]
        assert bool(fetal) is read, (days_ago, [c["summary"] for c in cards])


def test_a_current_pregnancy_the_case_cannot_hold_is_dropped_and_said(
    client: TestClient,
) -> None:
    """A recent pregnant status of a woman born 1950 (a maternal age out of the pack's range):
    the pregnancy is not read and the card says why; the renal dose is still checked."""
    body = dose_request(
        [order()],
        [
            *renal_and_weight(creatinine=3.0),
            observation("o-p", "82810-3", days_ago=30, valueCodeableConcept=PREG),
        ],
        who=patient(birth="1950-02-10"),
    )
    cards = _cards(client, body)
    everything = " ".join(c["summary"] + " " + c.get("detail", "") for c in cards)
    assert "the pregnancy in the record could not be read" in everything, everything
    assert "is implausible" in everything, everything
    assert _overdose(cards)["indicator"] == "critical"


def test_a_pregnant_patient_s_card_still_compares_the_order_with_the_label_dose(
    client: TestClient,
) -> None:
    """review23e #2: pregnant now (status 30 days ago), CrCl 27.6 mL/min: the critical
    fetal-toxicity card stays and also tells the order vs the label's renally adjusted dose
    (450 mg once daily, Valcyte US label), computed as if not pregnant and said so."""
    body = dose_request(
        [order()],
        [
            *renal_and_weight(creatinine=3.0),
            observation("o-p", "82810-3", days_ago=30, valueCodeableConcept=PREG),
        ],
    )
    cards = _cards(client, body)
    fetal = [c for c in cards if "ordered for a pregnant patient" in c["summary"]]
    assert fetal and fetal[0]["indicator"] == "critical", [c["summary"] for c in cards]
    detail = fetal[0]["detail"]
    assert "as if she were not pregnant" in detail, detail
    assert "renally adjusted" in detail and "450 mg" in detail, detail
    assert "valcyte-us-label" in detail, detail
