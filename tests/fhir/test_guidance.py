"""Assessments answered in FHIR R4 (issue 16 item 6): every shipped example case, assessed and
turned into GuidanceResponse + RequestGroup (+ DetectedIssue), is valid for the ``fhir.resources``
models and the official R4 JSON Schema, and says what the assessment says — outcome, regimen,
citations as RelatedArtifact, renal exclusion as a high-severity DetectedIssue. The CLI is driven
as a user runs it (``cmvcds assess --format fhir``)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fhir.resources.R4B import get_fhir_model_class

from cmvcds.adapters.api.service import read_case_text
from cmvcds.adapters.fhir.guidance import assessment_bundle
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import Knowledge

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.name != "settings.yaml")
BASE = "https://cmvcds.example.org"


@lru_cache(maxsize=1)
def validator() -> jsonschema.Draft6Validator:
    return jsonschema.Draft6Validator(
        json.loads(gzip.decompress((Path(__file__).parent / "fhir.schema.json.gz").read_bytes()))
    )


def answer(path: Path, knowledge: Knowledge) -> tuple[dict[str, Any], dict[str, Any]]:
    raw = read_case_text(path.read_text(encoding="utf-8"), path.name)
    case = parse_case(raw, knowledge, today=date(2027, 12, 31))
    doc = assess(case, knowledge).to_dict()
    return doc, assessment_bundle(
        doc, patient="Patient/p1", now="2026-11-21T10:00:00Z", base_url=BASE
    )


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_example_answer_is_valid_fhir_r4(path: Path, knowledge: Knowledge) -> None:
    doc, bundle = answer(path, knowledge)
    assert [e.message for e in validator().iter_errors(bundle)] == []
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    (response,) = resources(bundle, "GuidanceResponse")
    (group,) = resources(bundle, "RequestGroup")
    assert response["result"]["reference"] == f"urn:uuid:{group['id']}"
    assert doc["knowledge"]["version"] in response["moduleUri"]
    assert [a["title"] for a in group.get("action", [])] == [d["id"] for d in doc["decisions"]]
    for action, decision in zip(group.get("action", []), doc["decisions"], strict=True):
        assert [r["label"] for r in action.get("documentation", [])] == list(
            dict.fromkeys(decision["citations"])
        )
        assert all(
            r["type"] == "citation" and r["url"].startswith(f"{BASE}/knowledge/sources/")
            for r in action.get("documentation", [])
        )
    assert response["status"] == ("data-requested" if doc["missing"] else "success")


def test_pregnancy_recommendation_carries_its_regimen(knowledge: Knowledge) -> None:
    doc, bundle = answer(ROOT / "examples" / "pregnancy.yaml", knowledge)
    (group,) = resources(bundle, "RequestGroup")
    action = group["action"][0]
    assert (
        action["title"] == "valacyclovir-prevention" and action["code"][0]["text"] == "recommended"
    )
    regimen = doc["regimens"][0]
    assert action["action"][0]["description"].startswith(f"valacyclovir {regimen['dose_mg']} mg")


def test_renal_exclusion_is_a_high_severity_detected_issue(knowledge: Knowledge) -> None:
    doc, bundle = answer(ROOT / "examples" / "pregnancy-excluded-renal.yaml", knowledge)
    issues = resources(bundle, "DetectedIssue")
    renal = [i for i in issues if i["code"]["text"] == "renal-exclusion"]
    assert (
        len(renal) == 1
        and renal[0]["severity"] == "high"
        and renal[0]["patient"] == {"reference": "Patient/p1"}
    )
    alert = next(a for a in doc["alerts"] if a["code"] == "renal-exclusion")
    assert renal[0]["detail"] == alert["message"]


def test_cli_assess_format_fhir(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmvcds",
            "assess",
            str(ROOT / "examples" / "pregnancy.yaml"),
            "--format",
            "fhir",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    bundle = json.loads(result.stdout)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]][:2] == [
        "GuidanceResponse",
        "RequestGroup",
    ]
    assert list(validator().iter_errors(bundle)) == []


def test_api_assess_fhir(client: Any) -> None:
    import yaml

    raw = yaml.safe_load(
        (ROOT / "examples" / "pregnancy-excluded-renal.yaml").read_text(encoding="utf-8")
    )
    raw = json.loads(json.dumps(raw, default=str))  # YAML dates as the ISO strings a client sends
    response = client.post("/api/v1/assess/fhir?patient=Patient/p-9", json=raw)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert list(validator().iter_errors(bundle)) == []
    issues = resources(bundle, "DetectedIssue")
    assert any(
        i["code"]["text"] == "renal-exclusion" and i["patient"] == {"reference": "Patient/p-9"}
        for i in issues
    )
    assert client.post("/api/v1/assess/fhir?patient=Practitioner/x", json=raw).status_code == 422
