"""The JSON Schema of ``cmvcds-dose/1``, built from the same enums the engine uses.

``docs/schema/dose.schema.json`` is this schema; ``tests/dosing/test_schema.py`` fails when the file
is stale and validates every dose document the tests produce against it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, Severity
from cmvcds.engine.dosing.result import DOSE_FORMAT

__all__ = ["dose_schema"]

_NUMBER = {"type": "number"}
_TEXT = {"type": "string"}
_CITATIONS = {"type": "array", "items": {"type": "string", "minLength": 1}}


def _enum(kind: type[StrEnum]) -> dict[str, Any]:
    return {"type": "string", "enum": [member.value for member in kind]}


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


def _regimen() -> dict[str, Any]:
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
            "knowledge": _object(
                ["version", "sha256"],
                {"version": _TEXT, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
            ),
        },
        "additionalProperties": False,
        "$defs": {"regimen": _regimen()},
        "if": {"properties": {"outcome": {"const": "recommended"}}},
        "then": {"properties": {"regimen": {"$ref": "#/$defs/regimen"}}},
        "else": {"properties": {"regimen": {"type": "null"}}},
    }
