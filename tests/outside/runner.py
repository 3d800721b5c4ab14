"""Run one outside vignette: feed its ``case`` to ``cmvcds.assess`` (or the dose calculator) and
compare the result with the ``expected`` block transcribed from the vignette's ``source``.

A vignette file (YAML) has the top-level keys ``source``, ``transcribed``, ``expected``, ``case``,
optionally ``dose`` (then the dose calculator is run instead of the assessment), ``depends_on``
and ``xfail_reason``. Only ``case`` reaches the case parser.

``expected`` for an assessment (every key optional, each an assertion):
  decisions:        {decision-id: outcome | [allowed outcomes]}
  any_recommended:  [decision-id, ...]  at least one of them is recommended
  regimens:         [{drug, dose_mg, every_h, route, indication, ...}]  each must match one regimen
  regimens_absent:  [{drug: ...}]                                       none may match
  regimens_stop_by: [{drug, date}]   every regimen of that drug stops on or before the date
  alerts:           [code, ...]   must appear
  alerts_absent:    [code, ...]   must not appear
  schedule:         [{event, earliest?, latest?}]                       each must match one item
  findings:         {dotted.path: value}   (a list item by index: interpretations.0.rule)
  context:          the assessment's context
For a dose (``dose: {drug, indication, regimen?, route?, region?}``):
  outcome, regimen: {dotted.path: value}, renal: {dotted.path: value}, alerts, alerts_absent,
  inputs_not_used: [input, ...] (exactly the inputs given that the regimen does not read).
A number may be given as ``{approx: X, tol: T}``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.engine.dosing import dose_patient_from_case, recommend_dose
from cmvcds.knowledge import Knowledge

VIGNETTES = Path(__file__).parent / "vignettes"
HEADER_KEYS = {
    "source",
    "transcribed",
    "expected",
    "case",
    "dose",
    "depends_on",
    "xfail_reason",
    "group",
}


@dataclass(frozen=True)
class Vignette:
    path: Path
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def group(self) -> str:
        if self.data.get("group"):
            return str(self.data["group"])
        return "dosing" if self.data.get("dose") else str(self.data["case"].get("context"))


def load_vignettes() -> list[Vignette]:
    out = []
    for path in sorted(VIGNETTES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        unknown = set(data) - HEADER_KEYS
        if unknown:
            raise ValueError(f"{path.name}: unknown top-level keys {sorted(unknown)}")
        for key in ("source", "transcribed", "expected", "case"):
            if not data.get(key):
                raise ValueError(f"{path.name}: missing {key!r}")
        out.append(Vignette(path, data))
    return out


def run(vignette: Vignette, knowledge: Knowledge) -> list[str]:
    """The list of mismatches (empty when the engine agrees with the source)."""
    raw = copy.deepcopy(vignette.data["case"])
    on = raw.get("assessed_on")
    today = on if isinstance(on, date) else date.fromisoformat(str(on)) if on else date.today()
    case = parse_case(raw, knowledge, today=today)
    expected = vignette.data["expected"]
    if vignette.data.get("dose"):
        spec = vignette.data["dose"]
        patient = dose_patient_from_case(case, case.assessed_on)
        result = recommend_dose(
            patient,
            spec["drug"],
            spec["indication"],
            knowledge,
            regimen=spec.get("regimen"),
            route=spec.get("route"),
            region=spec.get("region", "us"),
        ).to_dict()
        return compare_dose(result, expected)
    document = assess(case, knowledge).to_dict()
    return compare_assessment(json.loads(json.dumps(document, default=str)), expected)


def _match(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict) and "approx" in wanted:
        try:
            return abs(float(actual) - float(wanted["approx"])) <= float(wanted.get("tol", 0.5))
        except (TypeError, ValueError):
            return False
    if isinstance(wanted, list) and not isinstance(actual, list):
        return any(_match(actual, w) for w in wanted)  # one of the allowed values
    if isinstance(wanted, date):
        return str(actual) == wanted.isoformat()
    if isinstance(wanted, (int, float)) and isinstance(actual, (int, float)):
        return float(actual) == float(wanted)
    return bool(actual == wanted)


def _get(document: Any, dotted: str) -> Any:
    node = document
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]  # a list item by its index: interpretations.0.rule
        else:
            return _MISSING
    return node


_MISSING = object()


def _subset(item: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(_match(_get(item, k), v) for k, v in wanted.items())


def _short(items: list[dict[str, Any]], keys: tuple[str, ...]) -> str:
    return "; ".join(", ".join(f"{k}={i.get(k)}" for k in keys if k in i) for i in items) or "none"


def _alerts(document: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    codes = [a.get("code") for a in document.get("alerts", [])]
    out = []
    for code in expected.get("alerts", []):
        if code not in codes:
            out.append(f"alert {code} missing (alerts: {sorted(set(codes)) or 'none'})")
    for code in expected.get("alerts_absent", []):
        if code in codes:
            out.append(f"alert {code} present but the source does not support it")
    return out


def compare_assessment(doc: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if "context" in expected and doc.get("context") != expected["context"]:
        problems.append(f"context {doc.get('context')} != {expected['context']}")
    decisions = {d["id"]: d for d in doc.get("decisions", [])}
    for did, outcome in (expected.get("decisions") or {}).items():
        got = decisions.get(did)
        if got is None:
            problems.append(
                f"decision {did} absent (expected {outcome}; decisions: "
                f"{ {k: v['outcome'] for k, v in decisions.items()} or 'none' })"
            )
        elif not _match(got["outcome"], outcome):
            why = "; ".join(got.get("reasons", []))[:220]
            problems.append(f"decision {did} = {got['outcome']} (expected {outcome}): {why}")
    group = expected.get("any_recommended")
    if group and not any(decisions.get(d, {}).get("outcome") == "recommended" for d in group):
        got = {d: decisions.get(d, {}).get("outcome") for d in group}
        problems.append(f"none of {group} is recommended (got {got})")
    regimens = doc.get("regimens", [])
    keys = ("drug", "indication", "dose_mg", "every_h", "route", "start", "stop")
    for wanted in expected.get("regimens", []):
        if not any(_subset(r, wanted) for r in regimens):
            problems.append(f"no regimen matching {wanted} (regimens: {_short(regimens, keys)})")
    for unwanted in expected.get("regimens_absent", []):
        if any(_subset(r, unwanted) for r in regimens):
            problems.append(f"regimen matching {unwanted} present but the source excludes it")
    for rule in expected.get("regimens_stop_by", []):
        for r in regimens:
            if r.get("drug") == rule["drug"] and (
                r.get("stop") is None or str(r["stop"]) > str(rule["date"])
            ):
                problems.append(
                    f"{rule['drug']} regimen still running (start={r.get('start')}, "
                    f"stop={r.get('stop')}); the source stops it by {rule['date']}"
                )
    problems += _alerts(doc, expected)
    schedule = doc.get("schedule", [])
    for wanted in expected.get("schedule", []):
        if not any(_subset(s, wanted) for s in schedule):
            same = [s for s in schedule if s.get("event") == wanted.get("event")][:4]
            problems.append(
                f"no schedule item matching {wanted} (same event: "
                f"{_short(same, ('event', 'earliest', 'latest'))})"
            )
    for path, value in (expected.get("findings") or {}).items():
        got = _get(doc.get("findings", {}), path)
        if got is _MISSING or not _match(got, value):
            problems.append(
                f"finding {path} = {None if got is _MISSING else got} (expected {value})"
            )
    return problems


def compare_dose(doc: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if "outcome" in expected and not _match(doc.get("outcome"), expected["outcome"]):
        why = "; ".join(doc.get("reasons", []) or [])[:200]
        problems.append(f"outcome {doc.get('outcome')} (expected {expected['outcome']}) {why}")
    for section in ("regimen", "renal"):
        for path, value in (expected.get(section) or {}).items():
            got = _get(doc.get(section) or {}, path)
            if got is _MISSING or not _match(got, value):
                problems.append(
                    f"{section}.{path} = {None if got is _MISSING else got} (expected {value})"
                )
    if "inputs_not_used" in expected:
        got = sorted(u["input"] for u in doc.get("inputs_not_used", []))
        if got != sorted(expected["inputs_not_used"]):
            problems.append(f"inputs_not_used {got} (expected {sorted(expected['inputs_not_used'])})")
    problems += _alerts(doc, expected)
    return problems
