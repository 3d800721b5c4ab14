"""``/api/v1``: the published JSON, the same answer as the CLI, problem+json for every refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from cmvcds.adapters.api.settings import Settings
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pregnancy.yaml"
PROBLEM = "application/problem+json"


def example() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        json.dumps(yaml.safe_load(EXAMPLE.read_text()), default=str)
    )
    return loaded


def test_assess_returns_the_cli_document(client: TestClient, knowledge: Knowledge) -> None:
    response = client.post("/api/v1/assess", json=example())
    assert response.status_code == 200
    expected = assess(parse_case(example(), knowledge, today=TODAY), knowledge).to_dict()
    assert response.json() == json.loads(json.dumps(expected))
    body = response.json()
    assert body["format"] == "cmvcds-assessment/1"
    assert body["knowledge"] == knowledge.stamp()
    decision = body["decisions"][0]
    assert (decision["id"], decision["outcome"]) == ("valacyclovir-prevention", "recommended")
    assert {"event": "amniocentesis", "earliest": "2026-05-10"}.items() <= next(
        s for s in body["schedule"] if s["event"] == "amniocentesis"
    ).items()


def test_unknown_key_is_a_422_problem_naming_the_field(client: TestClient) -> None:
    case = example() | {"bogus": 1}
    response = client.post("/api/v1/assess", json=case)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422 and body["title"] == "Invalid input"
    assert body["errors"] == [
        {
            "field": "bogus",
            "message": "unknown key (check the spelling; see the case format, design §3)",
        }
    ]


def test_every_problem_is_listed_with_its_field(client: TestClient, knowledge: Knowledge) -> None:
    case = example()
    case["patient"]["weight_kg"] = 900
    case["observations"][0]["code"] = "cmv_igx"
    response = client.post("/api/v1/assess", json=case)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["patient.weight_kg", "observations[0].code"]
    weight = response.json()["errors"][0]["message"]
    assert weight == "900 kg is implausible (accepted range 0.3–350 kg)"


@pytest.mark.parametrize("body", [[], "text", 3, None])
def test_a_body_that_is_not_a_case_is_refused(client: TestClient, body: Any) -> None:
    response = client.post("/api/v1/assess", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_an_internal_error_says_nothing_of_the_code(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = client.app.state.clinic  # type: ignore[attr-defined]

    def broken(raw: Any) -> Any:
        raise RuntimeError("secret detail in /work/src/module.py line 12")

    monkeypatch.setattr(clinic, "assess", broken)
    response = client.post("/api/v1/assess", json=example())
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert (
        "secret" not in response.text
        and "Traceback" not in response.text
        and ".py" not in response.text
    )


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_dose_valganciclovir_induction_at_crcl_55(client: TestClient) -> None:
    # Cockcroft-Gault: (140 − 60) × 70 / (72 × 1.4) = 5600 / 100.8 = 55.6 mL/min → band 40–59:
    # the Valcyte label gives 450 mg twice daily for induction.
    patient = {"age_years": 60, "sex": "male", "weight_kg": 70, "height_cm": 175, "creatinine": 1.4}
    response = client.post(
        "/api/v1/dose",
        json={"drug": "valganciclovir", "indication": "induction", "patient": patient},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["format"] == "cmvcds-dose/1" and body["outcome"] == "recommended"
    assert body["renal"]["method"] == "cockcroft-gault"
    assert body["renal"]["crcl_ml_min"] == pytest.approx(
        5600 / 100.8, abs=0.01
    )  # the engine rounds down
    assert (body["regimen"]["dose_mg"], body["regimen"]["every_h"]) == (450, 12)
    assert "valcyte-us-label" in body["citations"]


def test_dose_of_a_drug_the_patient_does_not_tolerate(client: TestClient) -> None:
    # probe9 finding 1: a drug on the patient's intolerance list is never dosed (the dosing
    # engine's drug-intolerance alert); the same patient without it gets 450 mg twice daily.
    patient = {"age_years": 60, "sex": "male", "weight_kg": 70, "height_cm": 175, "creatinine": 1.4,
               "intolerances": ["valganciclovir"]}  # fmt: skip
    body = client.post(
        "/api/v1/dose",
        json={"drug": "valganciclovir", "indication": "induction", "patient": patient},
    ).json()
    assert body["outcome"] == "specialist_review" and body["regimen"] is None
    assert [a["code"] for a in body["alerts"]] == ["drug-intolerance"]
    unknown = {**patient, "intolerances": ["no-such-drug"]}
    response = client.post(
        "/api/v1/dose",
        json={"drug": "valganciclovir", "indication": "induction", "patient": unknown},
    )
    assert response.status_code == 422 and "patient.intolerances[0]" in response.text


def test_dose_from_a_case(client: TestClient) -> None:
    response = client.post(
        "/api/v1/dose",
        json={"drug": "valacyclovir", "indication": "pregnancy-prevention", "case": example()},
    )
    assert response.status_code == 200
    assert response.json()["drug"] == "valacyclovir"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"drug": "valganciclovir", "indication": "induction"}, "case"),
        ({"drug": "valganciclovir", "indication": "cure", "patient": {}}, "indication"),
        (
            {"drug": "valganciclovir", "indication": "induction", "patient": {"weight_kg": 900}},
            "patient.weight_kg",
        ),
        (
            {"drug": "valganciclovir", "indication": "induction", "patient": {"shoe_size": 9}},
            "patient.shoe_size",
        ),
    ],
)
def test_dose_refusals_name_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/api/v1/dose", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in response.json()["errors"]]


def test_resistance_report_of_a_mutation_list(client: TestClient) -> None:
    response = client.post("/api/v1/resistance", json={"mutations": ["UL97:M460V"]})
    assert response.status_code == 200
    body = response.json()
    assert body["format"] == "cmvcds-resistance/1"
    ganciclovir = body["drugs"]["ganciclovir"]
    assert ganciclovir["mutations"] == ["UL97:M460V"]
    assert ganciclovir["level"] not in ("susceptible", "not_assessed")


def test_resistance_vcf_minimum_depth_is_said_and_can_be_set(client: TestClient) -> None:
    # probe15 S2: one read (DP=2) is not a call at the default minimum of 100 reads
    text = (Path(__file__).parents[1] / "resistance" / "data" / "probe15" / "lowdp.vcf").read_text()
    body = client.post("/api/v1/resistance", json={"vcf": text, "genes_tested": ["UL97"]}).json()
    assert (body["min_depth"], body["mutations"]) == (100, [])
    assert body["low_depth"] == [{"id": "UL97:M460V", "frequency": 0.5, "depth": 2}]
    assert body["drugs"]["ganciclovir"]["level"] == "not_assessed"
    own = {"vcf": text, "genes_tested": ["UL97"], "min_depth": 2}
    body = client.post("/api/v1/resistance", json=own).json()
    assert body["drugs"]["ganciclovir"]["level"] == "moderate"
    refused = client.post("/api/v1/resistance", json={"vcf": text, "min_depth": 0})
    assert refused.status_code == 422
    # review23c 6: a whole JSON number only (true was read as 1, "50" as 50)
    for sent in (True, "50", 50.0, 2.5):
        refused = client.post("/api/v1/resistance", json={"vcf": text, "min_depth": sent})
        assert refused.status_code == 422, sent
        assert refused.json()["errors"][0]["field"] == "min_depth"
    # with a mutation list or a FASTA it does not apply: refused with the reason, not ignored
    for genotype in ({"mutations": ["UL97:M460V"]}, {"fasta": ">x\nACGT\n"}):
        refused = client.post("/api/v1/resistance", json={**genotype, "min_depth": 5})
        assert refused.status_code == 422
        (error,) = refused.json()["errors"]
        assert error["field"] == "min_depth" and "applies to a VCF only" in error["message"]


def test_resistance_needs_a_genotype(client: TestClient) -> None:
    response = client.post("/api/v1/resistance", json={})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mutations"


def test_knowledge_version_sources_and_search(client: TestClient, knowledge: Knowledge) -> None:
    info = client.get("/api/v1/knowledge").json()
    assert (info["version"], info["sha256"], info["sources"]) == (
        knowledge.version,
        knowledge.sha256,
        len(knowledge.sources),
    )
    assert "fhir_valuesets" in [t["name"] for t in info["tables"]]
    sources = client.get("/api/v1/knowledge/sources").json()
    assert sorted(s["id"] for s in sources) == sorted(knowledge.sources)
    one = client.get("/api/v1/knowledge/sources/kdigo2012-ckd-guideline").json()
    assert one["doi"] == "10.1038/kisup.2012.73"
    assert client.get("/api/v1/knowledge/sources/nope").status_code == 404
    hits = client.get("/api/v1/knowledge/search", params={"q": "KDIGO creatinine"}).json()
    assert hits[0]["id"] == "kdigo2012-ckd-guideline"
    assert hits[0]["url"] == "/knowledge/sources/kdigo2012-ckd-guideline"


@pytest.mark.parametrize("query", ['"', "AND (", "NEAR(a b", "*", "col:umn", "' OR 1=1 --"])
def test_search_syntax_in_a_query_is_just_words(client: TestClient, query: str) -> None:
    response = client.get("/api/v1/knowledge/search", params={"q": query})
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_health_and_version(client: TestClient, knowledge: Knowledge) -> None:
    assert client.get("/api/v1/healthz").json() == {"status": "ok"}
    version = client.get("/api/v1/version").json()
    assert version["api"] == "v1" and version["knowledge"] == knowledge.stamp()


def test_openapi_is_served_with_problem_responses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/api/v1/assess"]["post"]["responses"]
    assert "application/problem+json" in responses["422"]["content"]
    assert spec["paths"]["/api/v1/assess"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/Case"}
    assert client.get("/docs").status_code == 404  # Swagger UI would load scripts from a CDN


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CMVCDS_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.setenv("CMVCDS_SETTINGS", str(tmp_path / "site.yaml"))
    monkeypatch.setenv("CMVCDS_DEMO_CASES", "false")
    monkeypatch.setenv("CMVCDS_PORT", "8123")
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path}/x.sqlite3"
    assert settings.site_settings == tmp_path / "site.yaml"
    assert (settings.demo_cases, settings.port) == (False, 8123)


def test_kidney_example_without_site_settings_is_decided(client: TestClient) -> None:
    # `make run` serves without a settings file: the demo kidney D+/R− case is decided with the
    # reference profile's valganciclovir, named as such (issue 14 item 1).
    path = Path(__file__).resolve().parents[2] / "examples" / "transplant-kidney-dposrneg.yaml"
    case = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
    body = client.post("/api/v1/assess", json=case).json()
    outcomes = {d["id"]: d["outcome"] for d in body["decisions"]}
    assert outcomes == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "not_indicated",
    }
    assert body["settings_detail"] == [
        {
            "name": "kidney_dpos_rneg_drug",
            "value": "valganciclovir",
            "origin": "reference-profile",
            "citations": ["humar2010-ajt-impact", "limaye2023-jama-letermovir-kidney"],
            "basis": "Kidney D+/R−: valganciclovir to day 200, the regimen of the IMPACT trial and "
            "the comparator of the letermovir trial, which found letermovir non-inferior "
            "(Limaye 2023).",
        }
    ]
