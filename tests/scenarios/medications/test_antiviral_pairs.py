"""Vignettes: two antiviral courses running together meet each other's interaction rows.

Source: LIVTENCITY (maribavir) US prescribing information §5.1 and §7.1: maribavir may antagonise
the antiviral activity of ganciclovir and valganciclovir (it inhibits the UL97 kinase that
activates them); coadministration is not recommended (EU SmPC 4.3: contraindicated). The row is
``maribavir.yaml`` ``ganciclovir-us`` (and ``valganciclovir.yaml``'s row naming maribavir).

Baseline: a kidney recipient (outside vignette t25, without the transplant co-medications) on
maribavir 400 mg twice daily for refractory CMV since 2026-07-01, assessed 2026-07-03. One change
each: a valganciclovir course and its dates; the maribavir course's indication.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import Knowledge

MARIBAVIR = {"drug": "maribavir", "dose_mg": 400, "every_h": 12, "route": "oral",
             "start": "2026-07-01", "indication": "refractory"}  # fmt: skip
BASE: dict[str, Any] = {
    "format": "cmvcds-case/1",
    "id": "antiviral-pairs",
    "assessed_on": "2026-07-03",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 57, "weight_kg": 78, "height_cm": 176},
    "transplant": {"organ": "kidney", "date": "2026-01-10", "donor_cmv_igg": "positive",
                   "recipient_cmv_igg": "negative"},
    "presentation": {"disease": "cmv_syndrome", "severity": "moderate", "course": "stable"},
    "observations": [
        {"date": "2026-07-02", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {"date": "2026-06-10", "code": "cmv_dna", "specimen": "plasma", "value": 10000, "unit": "IU/mL"},
        {"date": "2026-06-30", "code": "cmv_dna", "specimen": "plasma", "value": 150000, "unit": "IU/mL"},
    ],
    "therapy": [MARIBAVIR],
}  # fmt: skip

MARIBAVIR_ROW = (
    "Maribavir antagonises ganciclovir and valganciclovir: coadministration is not recommended."
)


def valganciclovir(start: str, stop: str | None) -> dict[str, Any]:
    course = {"drug": "valganciclovir", "dose_mg": 900, "every_h": 12, "route": "oral",
              "start": start, "indication": "induction"}  # fmt: skip
    return course | ({"stop": stop} if stop else {})


def antagonism(knowledge: Knowledge, therapy: list[dict[str, Any]]) -> list[tuple[str, str]]:
    raw = copy.deepcopy(BASE)
    raw["therapy"] = therapy
    case = parse_case(raw, knowledge, today=date(2026, 7, 3))
    document = assess(case, knowledge).to_dict()
    return sorted(
        (a["severity"], a["message"])
        for a in document["alerts"]
        if a["code"] == "drug-interaction" and "antagonis" in a["message"]
    )


def test_maribavir_alone_meets_no_antiviral_row(knowledge: Knowledge) -> None:
    assert antagonism(knowledge, [MARIBAVIR]) == []


@pytest.mark.parametrize(
    ("stop", "expected_alert"),
    [
        pytest.param(None, True, id="valganciclovir-not-stopped"),
        pytest.param("2026-07-03", True, id="valganciclovir-stops-today"),
        pytest.param("2026-07-02", False, id="valganciclovir-stopped-yesterday"),
        pytest.param("2026-06-30", False, id="stopped-before-maribavir"),
    ],
)
def test_maribavir_with_valganciclovir(
    knowledge: Knowledge, stop: str | None, expected_alert: bool
) -> None:
    found = antagonism(knowledge, [valganciclovir("2026-06-11", stop), MARIBAVIR])
    if not expected_alert:
        assert found == []
        return
    # each label's row, both critical: the maribavir label's and the valganciclovir row naming it
    assert [severity for severity, _ in found] == ["critical", "critical"]
    assert ("critical", MARIBAVIR_ROW) in found


def test_the_alert_does_not_need_the_courses_indication(knowledge: Knowledge) -> None:
    # Without an indication the dose cannot be checked, but the pair is still flagged.
    bare = {k: v for k, v in MARIBAVIR.items() if k != "indication"}
    found = antagonism(knowledge, [valganciclovir("2026-06-11", None), bare])
    assert ("critical", MARIBAVIR_ROW) in found


def test_ganciclovir_intravenous_with_maribavir(knowledge: Knowledge) -> None:
    iv = {"drug": "ganciclovir", "dose_mg": 390, "every_h": 12, "route": "iv",
          "start": "2026-06-25", "indication": "induction"}  # fmt: skip
    assert ("critical", MARIBAVIR_ROW) in antagonism(knowledge, [iv, MARIBAVIR])
