"""Every card shown is kept with its hook instance, a feedback is tied to the call that showed
its card (CDS Hooks 2.0 §Feedback names the card only), cards that advise against the current
therapy offer override reasons, and with SMART configured every card links to the app launch."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.coding import Coding
from sqlalchemy import select

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.cdshooks.models import CdsResponse
from cmvcds.knowledge import Knowledge
from cmvcds.registry.web_tables import cds_feedback
from tests.conftest import TODAY

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from cds_requests import generate  # noqa: E402

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def _request(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.request.json").read_text("utf-8"))
    return data


def test_cards_shown_are_kept_and_feedback_names_their_hook_instance(client: TestClient) -> None:
    request = _request("therapy-monitor")
    cards = client.post("/cds-services/cmv-therapy-monitor", json=request).json()["cards"]
    store = client.app.state.store  # type: ignore[attr-defined]
    assert cards and store.cards_shown(request["hookInstance"]) == cards
    advised = next(c for c in cards if c.get("overrideReasons"))
    item = {
        "card": advised["uuid"],
        "outcome": "overridden",
        "overrideReason": {
            "reason": advised["overrideReasons"][1],
            "userComment": "dose reviewed with the renal team",
        },
        "outcomeTimestamp": "2026-11-21T10:00:00Z",
    }
    never_shown = {**item, "card": "00000000-0000-5000-8000-000000000000"}
    answer = client.post(
        "/cds-services/cmv-therapy-monitor/feedback", json={"feedback": [item, never_shown]}
    )
    assert answer.status_code == 200
    with store.engine.connect() as connection:
        rows = connection.execute(select(cds_feedback).order_by(cds_feedback.c.id)).all()
    assert [(r.card_uuid, r.outcome, r.hook_instance) for r in rows] == [
        (advised["uuid"], "overridden", request["hookInstance"]),
        (never_shown["card"], "overridden", None),
    ]
    assert json.loads(rows[0].payload_json)["overrideReason"]["reason"]["code"] == "2"


def test_cards_that_advise_offer_override_reasons_and_the_others_do_not(
    client: TestClient,
) -> None:
    offered = []
    for name, service in (
        ("therapy-monitor", "cmv-therapy-monitor"),
        ("antiviral-dose-check", "cmv-antiviral-dose-check"),
        ("pregnancy-valacyclovir", "cmv-pregnancy-valacyclovir"),
    ):
        for card in client.post(f"/cds-services/{service}", json=_request(name)).json()["cards"]:
            reasons = card.get("overrideReasons")
            if reasons:
                offered.append(card)
                assert card["indicator"] in ("warning", "critical")
                for reason in reasons:  # a FHIR Coding with the three fields CDS Hooks requires
                    Coding.model_validate(reason)
                    assert reason["system"] == ACT_CODE and reason["display"]
                assert [r["code"] for r in reasons] == ["1", "2"]
            else:  # decisions and notes about the record: nothing to override
                assert card["indicator"] == "info" or "record" in card["summary"]
    assert len(offered) >= 2  # the monitor's alerts and the dose check's card


def _smart_app(tmp_path: Path, knowledge: Knowledge, client_id: str | None) -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / f'{client_id}.sqlite3'}",
        demo_cases=False,
        cds_insecure_no_jwt=True,
        smart_client_id=client_id,
        public_url="https://cmvcds.hospital.example",
    )
    return TestClient(create_app(settings, Clinic(knowledge, today=lambda: TODAY)))


def test_cards_link_to_the_smart_app_launch_when_smart_is_configured(
    tmp_path: Path, knowledge: Knowledge
) -> None:
    request = _request("pregnancy-valacyclovir")
    with _smart_app(tmp_path, knowledge, "cmvcds") as client:
        cards = client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request).json()
    for card in cards["cards"]:
        smart = [link for link in card["links"] if link["type"] == "smart"]
        assert smart == [
            {
                "label": "Open the cmvcds assessment",
                "url": "https://cmvcds.hospital.example/smart/launch",
                "type": "smart",
            }
        ]
    with _smart_app(tmp_path, knowledge, None) as client:
        cards = client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request).json()
    assert all(link["type"] == "absolute" for c in cards["cards"] for link in c.get("links", []))


def test_the_answer_is_what_pydantic_writes(client: TestClient) -> None:
    """The answer's bytes (orjson, from the plain copy the store keeps) are those pydantic's own
    serialiser writes for the same response, and the cards kept are the cards shown, for a new
    patient at every call (tools/cds_requests.py) and for each golden request (issue 20 item 5:
    one serialisation instead of two)."""
    calls = [("cmv-pregnancy-valacyclovir", r) for r in generate(60, seed=5)]
    calls += [
        ("cmv-pregnancy-valacyclovir", _request("pregnancy-valacyclovir")),
        ("cmv-therapy-monitor", _request("therapy-monitor")),
        ("cmv-antiviral-dose-check", _request("antiviral-dose-check")),
    ]
    store = client.app.state.store  # type: ignore[attr-defined]
    for service, request in calls:
        response = client.post(f"/cds-services/{service}", json=request)
        assert response.status_code == 200 and response.json()["cards"]
        again = CdsResponse.model_validate_json(response.content)
        assert response.content == again.model_dump_json(exclude_none=True).encode()
        assert store.cards_shown(request["hookInstance"]) == response.json()["cards"]
