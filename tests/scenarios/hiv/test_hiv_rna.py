"""Vignettes of rule H10: the HIV RNA on ART (DHHS adult ART guideline: virologic failure is the
failure to maintain HIV RNA < 200 copies/mL; Wohl 2005: retinitis progressed after stopping CMV
maintenance in the participant whose HIV viral load rose and CD4 fell).

Baseline: the example ``hiv-retinitis-maintenance`` (inactive retinitis on valganciclovir
maintenance, on ART since 2026-01-01, CD4 above 100 for more than 3 months: maintenance may stop),
assessed 2026-08-15. One change: an HIV RNA on 2026-08-14, or ART stated off.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from transplant.helpers import alerts, decision, run

from cmvcds.knowledge import Knowledge

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "hiv-retinitis-maintenance.yaml"


def with_rna(value: float | None, *, on_art: bool = True) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    if value is not None:
        raw["observations"].append(
            {"date": "2026-08-14", "code": "hiv_rna", "value": value, "unit": "copies/mL"}
        )
    if not on_art:
        raw["hiv"] = {k: v for k, v in raw["hiv"].items() if k != "art_start"} | {"on_art": False}
    return raw


@pytest.mark.parametrize(
    ("value", "alerted"),
    [
        pytest.param(None, False, id="no-hiv-rna"),
        pytest.param(20, False, id="suppressed-20"),
        pytest.param(199, False, id="low-level-199"),
        pytest.param(200, True, id="failure-at-200"),
        pytest.param(250000, True, id="failure-250000"),
    ],
)
def test_virologic_failure_threshold(
    knowledge: Knowledge, value: float | None, alerted: bool
) -> None:
    doc = run(knowledge, with_rna(value))
    assert ("hiv-virologic-failure" in alerts(doc)) is alerted
    # the CMV decision itself stays CD4-based (H6): maintenance may stop either way
    assert decision(doc, "antiviral-treatment")["outcome"] == "not_indicated"
    if value is not None:
        assert doc["findings"]["hiv_rna"]["date"] == "2026-08-14"


def test_alert_names_its_sources(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_rna(250000))
    (alert,) = [a for a in doc["alerts"] if a["code"] == "hiv-virologic-failure"]
    assert alert["message"].startswith(
        "HIV RNA 250000 copies/mL on 2026-08-14 on ART: virologic failure"
    )
    assert alert["citations"] == [
        "dhhs-art-virologic-failure",
        "wohl2005-hivct-retinitis-discontinuation",
    ]


def test_off_art_a_high_hiv_rna_is_no_failure_of_art(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_rna(250000, on_art=False))
    assert "hiv-virologic-failure" not in alerts(doc)
    assert "start-art" in alerts(doc)
