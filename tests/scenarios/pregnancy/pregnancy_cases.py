"""Shared vignette machinery: the baseline case (design.md §3) and the clinical summary compared.

Every vignette starts from ``BASELINE`` (primary infection by seroconversion: IgG negative on
2026-01-10, positive on 2026-02-20; LMP 2025-12-20, so 20+1 = 2026-05-10, 24+0 = 2026-06-06,
26+0 = 2026-06-20), changes one thing, and compares the whole clinical answer: gestational age,
maternal infection, each decision's outcome, the regimens, the amniocentesis and stop dates, the
alerts a clinician acts on (``unverified-fact`` alerts are checked separately), and what is missing.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.settings import SiteSettings, parse_settings
from cmvcds.knowledge import Knowledge

TODAY = date(2026, 11, 21)

#: the baseline's EDD: LMP 2025-12-20 + 280 days (Naegele; ACOG CO 700): the planned stop of an
#: in-utero course, "until the end of gestation" (AIFA 648/96 Allegato 1; probe9 #9)
EDD = "2026-09-26"

BASELINE: dict[str, Any] = {
    "format": "cmvcds-case/1",
    "id": "vignette",
    "assessed_on": "2026-03-02",
    "context": "pregnancy",
    "patient": {"sex": "female", "birth_date": "1992-04-11", "weight_kg": 64, "height_cm": 166},
    "pregnancy": {"lmp": "2025-12-20", "fetuses": 1},
    "observations": [
        {"date": "2026-01-10", "code": "cmv_igg", "result": "negative"},
        {"date": "2026-02-20", "code": "cmv_igg", "result": "positive"},
        {"date": "2026-02-20", "code": "cmv_igm", "result": "positive"},
        {"date": "2026-02-20", "code": "cmv_igg_avidity", "result": "low"},
        {"date": "2026-02-22", "code": "cmv_dna", "specimen": "urine", "result": "detected"},
        {"date": "2026-02-20", "code": "creatinine", "value": 0.62, "unit": "mg/dL"},
        {"date": "2026-02-20", "code": "egfr", "value": 118, "unit": "mL/min/1.73m2"},
    ],
    "ultrasound": [{"date": "2026-02-27", "findings": []}],
}

#: A positive amniocentesis sampled at 20+3 and reported at 21+3.
AMNIO: dict[str, Any] = {
    "date": "2026-05-12",
    "code": "cmv_dna",
    "specimen": "amniotic_fluid",
    "result": "detected",
    "reported": "2026-05-19",
}

RENAL = [
    {"date": "2026-02-20", "code": "creatinine", "value": 0.62, "unit": "mg/dL"},
    {"date": "2026-02-20", "code": "egfr", "value": 118, "unit": "mL/min/1.73m2"},
]


def case(**changes: Any) -> dict[str, Any]:
    """The baseline with top-level keys replaced; ``pregnancy`` is merged, not replaced."""
    raw = copy.deepcopy(BASELINE)
    for key, value in changes.items():
        if key == "pregnancy":
            raw["pregnancy"].update(value)
        else:
            raw[key] = value
    return raw


def serology(*rows: tuple[str, str, str], renal: bool = True) -> list[dict[str, Any]]:
    """Observations from ``(date, code, result)`` rows (cmv_dna rows: ``code`` is ``dna:specimen``)."""
    out: list[dict[str, Any]] = []
    for day, code, result in rows:
        if code.startswith("dna:"):
            out.append({"date": day, "code": "cmv_dna", "specimen": code[4:], "result": result})
        else:
            out.append({"date": day, "code": code, "result": result})
    return out + (copy.deepcopy(RENAL) if renal else [])


def run(
    knowledge: Knowledge, raw: dict[str, Any], settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    parsed = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
    site = parse_settings(settings, knowledge) if settings else SiteSettings()
    return assess(parsed, knowledge, settings=site).to_dict()


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The clinical answer of an assessment, as a clinician checks it."""
    findings = doc["findings"]
    infection = findings.get("maternal_infection", {})
    return {
        "ga": findings.get("gestational_age"),
        "infection": {
            k: infection[k]
            for k in ("status", "criterion", "onset_window", "timing")
            if k in infection
        },
        "decisions": {d["id"]: d["outcome"] for d in doc["decisions"]},
        "regimens": [
            (g["indication"], g["dose_mg"], g["every_h"], g.get("start"), g.get("stop"))
            for g in doc["regimens"]
        ],
        "amniocentesis": [s["earliest"] for s in doc["schedule"] if s["event"] == "amniocentesis"],
        "stop": [s["earliest"] for s in doc["schedule"] if s["event"] == "stop-valacyclovir"],
        "alerts": sorted(a["code"] for a in doc["alerts"] if a["code"] != "unverified-fact"),
        "missing": sorted(m["item"] for m in doc["missing"]),
    }


def expected(**changes: Any) -> dict[str, Any]:
    """The baseline's expected summary with some keys replaced."""
    base: dict[str, Any] = {
        "ga": "10+2",
        "infection": {
            "status": "primary",
            "criterion": "seroconversion",
            "onset_window": ["2026-01-11", "2026-02-20"],
            "timing": "periconceptional to first trimester",
        },
        "decisions": {"valacyclovir-prevention": "recommended"},
        "regimens": [("pregnancy-prevention", 2000, 6, "2026-03-02", "2026-06-20")],
        "amniocentesis": ["2026-05-10"],
        "stop": ["2026-06-20"],
        "alerts": [],
        "missing": [],
    }
    base.update(changes)
    return base
