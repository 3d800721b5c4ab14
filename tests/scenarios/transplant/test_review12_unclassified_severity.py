"""Severity of the unclassified-DNAemia alert (review12 W3; repro r20, r21, r23).

probe11 S3 made a rising DNAemia with no site threshold critical but read "rising" only between
two quantified loads: not detected → 250,000 IU/mL (and a first load of 250,000) was a warning,
150 → 160 IU/mL (assay noise) critical. The pack's ``unclassified_dnaemia`` row (unverified
project policy) sets critical at a rise of ≥ 0.5 log10 from the previous result of the series (not
detected counting as 1 IU/mL, log10 0, as the kinetics do) or a load ≥ 10,000 IU/mL.
Boundaries: log10(316/100) = 0.4997 < 0.5 ≤ log10(317/100) = 0.5011.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.scenarios.transplant.test_probe11_hsct_dnaemia import B02

from cmvcds.knowledge import Knowledge
from transplant.helpers import run

NO_SITE: dict[str, Any] = {}


def _case(first: dict[str, Any] | None, second: int) -> dict[str, Any]:
    raw = copy.deepcopy(B02)
    loads = []
    if first is not None:
        loads.append({"date": "2026-11-12", "code": "cmv_dna", "specimen": "plasma", **first})
    loads.append(
        {
            "date": "2026-11-19",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": second,
            "unit": "IU/mL",
        }
    )
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "cmv_dna"] + loads
    return raw


def _severity(knowledge: Knowledge, raw: dict[str, Any]) -> str:
    document = run(knowledge, raw, site=NO_SITE)
    (alert,) = [a for a in document["alerts"] if a["code"] == "dnaemia-unclassified"]
    return str(alert["severity"])


@pytest.mark.parametrize(
    ("first", "second", "severity"),
    [
        ({"result": "not_detected"}, 250000, "critical"),  # r20
        (None, 250000, "critical"),  # r21: a first load above the level
        ({"value": 150, "unit": "IU/mL"}, 160, "warning"),  # r23: within assay variability
        ({"value": 100, "unit": "IU/mL"}, 316, "warning"),
        ({"value": 100, "unit": "IU/mL"}, 317, "critical"),
        (None, 9999, "warning"),
        (None, 10000, "critical"),
        ({"result": "not_detected"}, 3, "warning"),  # log10 3 = 0.48
        ({"result": "not_detected"}, 4, "critical"),  # log10 4 = 0.60
        ({"value": 60, "unit": "IU/mL"}, 50, "warning"),  # r22: a falling blip
    ],
)
def test_the_alert_follows_the_size_of_the_rise_and_the_level(
    knowledge: Knowledge, first: dict[str, Any] | None, second: int, severity: str
) -> None:
    assert _severity(knowledge, _case(first, second)) == severity
