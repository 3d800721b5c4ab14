"""A published assessment → FHIR R4 resources an EHR can file (issue 16 item 6).

One ``GuidanceResponse`` (the assessment as a whole: which knowledge version, when, for whom,
what data are missing) whose ``result`` is a ``RequestGroup`` with one action per decision — its
outcome and reasons, the recommended regimens as sub-actions — and one ``DetectedIssue`` per
dose, renal, interaction or toxicity alert. Every citation becomes a ``RelatedArtifact`` of type
``citation`` pointing to the source's page of this installation. Pure function: the caller
passes the instant and the base URL; the resources are R4 (validated with the ``fhir.resources``
R4B models in the tests — R4B keeps R4's GuidanceResponse, RequestGroup and DetectedIssue).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from cmvcds.domain.results import held_line

__all__ = ["ISSUE_ALERTS", "assessment_bundle"]

NAMESPACE = uuid.UUID("0b8f3c52-1d7e-4c3e-9a51-5e2f4f7d9a10")
#: Alerts that are clinical problems of a medication (DetectedIssue); others stay in the note.
ISSUE_ALERTS = frozenset(
    {
        "dose-below-target",
        "dose-above-target",
        "dose-renal-adjustment",
        "high-drug-exposure",
        "renal-exclusion",
        "drug-interaction",
        "drug-intolerance",
        "neutropenia",
        "thrombocytopenia",
        "anemia",
        "marrow-suppression",
        "suspected-resistance",
        "refractory-cmv",
        "probable-refractory-cmv",
    }
)
SEVERITY = {"critical": "high", "warning": "moderate", "info": "low"}
ISSUE_CODES = "urn:cmvcds:codesystem:alert"
DECISION_CODES = "urn:cmvcds:codesystem:decision"


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _citations(citations: Iterable[str], base_url: str) -> list[dict[str, Any]]:
    return [
        {"type": "citation", "label": c, "display": c, "url": f"{base_url}/knowledge/sources/{c}"}
        for c in dict.fromkeys(citations)
    ]


def _regimen(g: dict[str, Any]) -> str:
    dose = f"{g['dose_mg']} mg" if g.get("dose_mg") is not None else "dose: see the calculator"
    every = (
        f" {g['schedule']}"
        if g.get("schedule")
        else (f" every {g['every_h']} h" if g.get("every_h") else "")
    )
    span = f" from {g.get('start', '?')} to {g.get('stop') or 'open'}"
    line = f"{g['drug']} {dose}{every} {g.get('route', '')}{span}".replace("  ", " ")
    return held_line(g, line)


def assessment_bundle(
    doc: dict[str, Any], *, patient: str | None, now: str, base_url: str
) -> dict[str, Any]:
    """A ``collection`` Bundle: GuidanceResponse, RequestGroup and the DetectedIssues of ``doc``
    (a published assessment, ``Assessment.to_dict()``); ``patient`` a reference such as
    ``Patient/123`` (None: no subject); ``now`` an instant (``2026-11-21T10:00:00Z``)."""
    version = (doc.get("knowledge") or {}).get("version", "?")
    key = f"{doc.get('case_id')}/{doc.get('assessed_on')}/{version}"
    subject = {"subject": {"reference": patient}} if patient else {}
    group_id, response_id = _id(key, "group"), _id(key, "response")
    actions = []
    for d in doc.get("decisions") or []:
        # a held regimen (ADR 0031: its decision is excluded) is listed with its hold first
        regimens = [
            g
            for g in doc.get("regimens") or []
            if d.get("outcome") == "recommended"
            or (d.get("outcome") == "excluded" and g.get("held"))
        ]
        action: dict[str, Any] = {
            "title": d["id"],
            "description": f"{d['id']}: {d['outcome']}. " + " ".join(d.get("reasons") or []),
            "code": [
                {"coding": [{"system": DECISION_CODES, "code": d["id"]}], "text": d["outcome"]}
            ],
            "documentation": _citations(d.get("citations") or [], base_url),
        }
        if regimens:
            action["action"] = [
                {
                    "title": "regimen",
                    "description": _regimen(g),
                    "documentation": _citations(g.get("citations") or [], base_url),
                }
                for g in regimens
            ]
        if not action["documentation"]:
            del action["documentation"]
        actions.append(action)
    group: dict[str, Any] = {
        "resourceType": "RequestGroup",
        "id": group_id,
        "status": "active" if actions else "completed",
        "intent": "proposal",
        **subject,
        "authoredOn": now,
        "note": [
            {
                "text": f"cmvcds knowledge {version}; advisory, to be confirmed by the treating clinician."
            }
        ],
    }
    if actions:
        group["action"] = actions
    issues = []
    for i, a in enumerate(doc.get("alerts") or []):
        if a.get("code") not in ISSUE_ALERTS:
            continue
        issue: dict[str, Any] = {
            "resourceType": "DetectedIssue",
            "id": _id(key, "issue", str(i), a["code"]),
            "status": "final",
            "code": {"coding": [{"system": ISSUE_CODES, "code": a["code"]}], "text": a["code"]},
            "severity": SEVERITY.get(a.get("severity", ""), "low"),
            "identifiedDateTime": now,
            "detail": a["message"],
            "reference": f"{base_url}/knowledge/sources/{(a.get('citations') or ['-'])[0]}",
        }
        if patient:
            issue["patient"] = {"reference": patient}
        issues.append(issue)
    missing = doc.get("missing") or []
    response: dict[str, Any] = {
        "resourceType": "GuidanceResponse",
        "id": response_id,
        "requestIdentifier": {
            "system": "urn:cmvcds:case",
            "value": str(doc.get("case_id") or "case"),
        },
        "moduleUri": f"{base_url}/knowledge#{version}",
        "status": "data-requested" if missing else "success",
        **subject,
        "occurrenceDateTime": now,
        "result": {"reference": f"urn:uuid:{group_id}"},
        "note": [
            {
                "text": f"Assessed on {doc.get('assessed_on')} with knowledge {version} (sha256 {(doc.get('knowledge') or {}).get('sha256', '?')})."
            }
        ]
        + [{"text": f"Missing: {m['item']} — {m['why']}"} for m in missing],
    }
    if issues:  # evaluationMessage may reference OperationOutcome only: the issues are named here
        response["note"].append(
            {
                "text": f"{len(issues)} detected issue(s) in this Bundle: "
                + ", ".join(x["code"]["text"] for x in issues)
            }
        )
    entries = [response, group, *issues]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in entries],
    }
    if len(now) > 10:  # Bundle.timestamp is an instant: only when a time is given
        bundle["timestamp"] = now
    return bundle
