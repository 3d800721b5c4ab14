"""JSON Schemas of the published documents (``cmvcds-assessment/1``, ``cmvcds-dose/1``), built
from the same enums the engine uses.

``tools/render_schemas.py`` writes them to ``docs/schema/``; a test fails when those files are
stale, and every assessment a test produces is validated against the schema.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cmvcds.assess import ASSESSMENT_FORMAT
from cmvcds.domain.vocabulary import (
    AlertCode,
    Context,
    DecisionId,
    Indication,
    Outcome,
    ScheduleEvent,
    Severity,
)
from cmvcds.engine.dosing.result import DOSE_FORMAT

__all__ = ["assessment_schema", "dose_schema"]

_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_CITATIONS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_NUMBER = {"type": "number"}
_TEXT = {"type": "string"}


def _enum(kind: type[StrEnum]) -> dict[str, Any]:
    return {"type": "string", "enum": [member.value for member in kind]}


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


def assessment_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``cmvcds-assessment/1`` (design.md §4)."""
    number = {"type": ["number", "null"]}
    decision = _object(
        ["id", "outcome", "reasons", "citations"],
        {
            "id": _enum(DecisionId),
            "outcome": _enum(Outcome),
            "reasons": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "citations": {**_CITATIONS, "minItems": 1},
            "rules": {"type": "array", "items": {"type": "string"}},
            "genes": {"type": "array", "items": {"type": "string"}},
            "settings_used": {"type": "array", "items": {"type": "string"}},
            "reference_profile": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the settings_used whose value came from the reference profile",
            },
        },
    )
    setting_use = _object(
        ["name", "value", "origin", "citations"],
        {
            "name": {"type": "string"},
            "value": {"type": ["string", "number", "boolean"]},
            "origin": {"enum": ["site", "reference-profile"]},
            "citations": _CITATIONS,
            "basis": {"type": "string"},
        },
    )
    regimen = _object(
        ["drug", "indication", "dose_mg", "every_h", "route", "citations"],
        {
            "drug": {"type": "string"},
            "indication": _enum(Indication),
            "dose_mg": number,
            "every_h": number,
            "daily_mg": number,
            "schedule": {"type": "string"},
            "route": {"type": "string"},
            "start": _DATE,
            "stop": {"anyOf": [_DATE, {"type": "null"}]},
            "stop_rule": {"type": "string"},
            "dose_mg_per_kg": number,
            "oral_solution_ml": number,
            "duration_days": {"type": ["integer", "null"]},
            "held": {"type": "string"},
            "weight_kg": number,
            "weight_date": _DATE,
            "renal_basis": {"type": "string"},
            "citations": {**_CITATIONS, "minItems": 1},
        },
    )
    schedule_item = _object(
        ["event", "earliest", "citations"],
        {
            "event": _enum(ScheduleEvent),
            "earliest": _DATE,
            "latest": _DATE,
            "reason": {"type": "string"},
            "citations": {**_CITATIONS, "minItems": 1},
        },
    )
    alert = _object(
        ["code", "severity", "message", "citations"],
        {
            "code": _enum(AlertCode),
            "severity": _enum(Severity),
            "message": {"type": "string", "minLength": 1},
            "citations": _CITATIONS,
        },
    )
    missing = _object(["item", "why"], {"item": {"type": "string"}, "why": {"type": "string"}})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://cmvcds.org/schema/cmvcds-assessment-1.json",
        "title": "cmvcds assessment v1",
        **_object(
            [
                "format",
                "case_id",
                "assessed_on",
                "knowledge",
                "context",
                "findings",
                "decisions",
                "regimens",
                "schedule",
                "alerts",
                "missing",
                "settings",
                "settings_detail",
            ],
            {
                "format": {"const": ASSESSMENT_FORMAT},
                "case_id": {"type": "string"},
                "assessed_on": _DATE,
                "knowledge": _object(
                    ["version", "sha256"],
                    {
                        "version": {"type": "string"},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                ),
                "context": _enum(Context),
                "findings": {"type": "object"},
                "decisions": {"type": "array", "items": decision},
                "regimens": {"type": "array", "items": regimen},
                "schedule": {"type": "array", "items": schedule_item},
                "alerts": {"type": "array", "items": alert},
                "missing": {"type": "array", "items": missing},
                "settings": {"type": "object"},
                "settings_detail": {"type": "array", "items": setting_use},
                "fhir": {
                    **_object(
                        [],
                        {
                            "not_used": {"type": "array", "items": _TEXT},
                            "assumed": {"type": "array", "items": _TEXT},
                        },
                    ),
                    "description": "on a line of a FHIR Bulk Data export only (ADR 0016 §4): "
                    "what of the patient's resources was not used, and why, and what was "
                    "assumed while reading them",
                },
            },
        ),
    }


def _dose_regimen() -> dict[str, Any]:
    return _object(
        ["dose_mg", "every_h", "schedule", "route", "daily_mg", "row", "band"],
        {
            "dose_mg": _NUMBER,
            "every_h": {
                "type": ["number", "null"],
                "description": "null for a schedule without a clock interval",
            },
            "schedule": _TEXT,
            "route": {"type": "string", "enum": ["oral", "iv"]},
            "dose_mg_per_kg": _NUMBER,
            "calculated_mg": {
                **_NUMBER,
                "description": "pediatric formula before caps and rounding",
            },
            "daily_mg": {**_NUMBER, "description": "average mg per day"},
            "weekly_mg": {
                **_NUMBER,
                "description": "mg per week, for a schedule of fewer than 7 doses a week (where a daily figure misleads)",
            },
            "duration_days": {"type": "integer"},
            "duration": _TEXT,
            "until_post_transplant_day": {"type": "integer"},
            "formulation": _TEXT,
            "oral_solution_ml": _NUMBER,
            "administration": {"type": "array", "items": _TEXT},
            "row": {**_TEXT, "description": "drug/regimen row of the knowledge pack"},
            "band": {**_TEXT, "description": "the renal band as printed, or 'no renal adjustment'"},
            "section": _TEXT,
            "then": {"$ref": "#/$defs/regimen"},
        },
    )


def dose_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ``cmvcds-dose/1`` document."""
    renal = _object(
        ["method", "formula", "inputs", "citations"],
        {
            "method": _TEXT,
            "crcl_ml_min": _NUMBER,
            "crcl_ml_min_kg": _NUMBER,
            "crcl_ml_min_173": _NUMBER,
            "weight_basis": {"type": "string", "enum": ["actual", "ideal", "adjusted"]},
            "formula": _TEXT,
            "inputs": {"type": "object", "additionalProperties": _TEXT},
            "band": _TEXT,
            "notes": {"type": "array", "items": _TEXT},
            "citations": _CITATIONS,
        },
    )
    alert = _object(
        ["code", "severity", "message", "citations"],
        {
            "code": _enum(AlertCode),
            "severity": _enum(Severity),
            "message": _TEXT,
            "citations": _CITATIONS,
        },
    )
    missing = _object(["item", "why"], {"item": _TEXT, "why": _TEXT})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://cmvcds.org/schema/cmvcds-dose-1.json",
        "title": "cmvcds dose v1",
        "type": "object",
        "required": [
            "format",
            "drug",
            "indication",
            "region",
            "outcome",
            "renal",
            "regimen",
            "alerts",
            "citations",
            "reasons",
            "missing",
        ],
        "properties": {
            "format": {"const": DOSE_FORMAT},
            "drug": {"type": "string", "pattern": "^[a-z][a-z-]*$"},
            "indication": _enum(Indication),
            "region": {"type": "string", "enum": ["us", "eu"]},
            "outcome": _enum(Outcome),
            "renal": {"oneOf": [{"type": "null"}, renal]},
            "regimen": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/regimen"}]},
            "alerts": {"type": "array", "items": alert},
            "citations": _CITATIONS,
            "reasons": {"type": "array", "items": _TEXT},
            "missing": {"type": "array", "items": missing},
            "renal_basis": {
                "type": "string",
                "description": "the renal measure the dose used, when more than one was given (probe11 S4)",
            },
            "inputs_not_used": {
                "type": "array",
                "description": "inputs given that the chosen regimen does not read, each with why (ADR 0018)",
                "items": _object(["input", "why"], {"input": _TEXT, "why": _TEXT}),
            },
            "knowledge": _object(
                ["version", "sha256"],
                {"version": _TEXT, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
            ),
        },
        "additionalProperties": False,
        "$defs": {"regimen": _dose_regimen()},
        "if": {"properties": {"outcome": {"const": "recommended"}}},
        "then": {"properties": {"regimen": {"$ref": "#/$defs/regimen"}}},
        "else": {"properties": {"regimen": {"type": "null"}}},
    }
