"""Congenital CMV with IV ganciclovir running (debt22: the running ganciclovir course was
answered "oral valganciclovir since the ganciclovir start", whether or not oral therapy was
possible).

Sources: Kimberlin 2015 (NEJM) and the pack's plan: valganciclovir 16 mg/kg every 12 h for 6
calendar months from the start of therapy; IV ganciclovir 6 mg/kg every 12 h when oral therapy
is not possible, a bridge until it is (Kimberlin 2003; the pathway's ``iv_alternative_drug``).

Baseline: the boy of ``examples/congenital.yaml`` (born 2026-03-01 at 38+2, 3.2 kg), on IV
ganciclovir since 2026-03-10, assessed on 2026-03-20. Ganciclovir 6 × 3.2 = 19.2 mg; valganciclovir
16 × 3.2 = 51.2 mg; the course ends 6 months after its first start: 2026-09-10.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from transplant.helpers import decision, regimens, run

from cmvcds.knowledge import Knowledge

EXAMPLE = Path(__file__).parents[3] / "examples" / "congenital.yaml"


def on_ganciclovir(can_take_oral: bool | None) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    raw.pop("format", None)
    case = copy.deepcopy(raw)
    case["assessed_on"] = "2026-03-20"
    case["therapy"] = [
        {"drug": "ganciclovir", "dose_mg": 19.2, "every_h": 12, "route": "iv",
         "start": "2026-03-10", "indication": "congenital"}
    ]  # fmt: skip
    if can_take_oral is not None:
        case["patient"]["can_take_oral"] = can_take_oral
    return case


@pytest.mark.parametrize("can_take_oral", [None, False])
def test_running_iv_ganciclovir_goes_on_until_oral_is_stated_possible(
    knowledge: Knowledge, can_take_oral: bool | None
) -> None:
    doc = run(knowledge, on_ganciclovir(can_take_oral))
    d = decision(doc, "valganciclovir-congenital")
    assert d["outcome"] == "recommended"
    got = [(r["drug"], r["dose_mg"], r["route"], str(r["start"])) for r in regimens(doc)]
    assert got == [("ganciclovir", 19.2, "iv", "2026-03-10")]
    assert "2026-09-10" in regimens(doc)[0]["stop_rule"]


def test_running_iv_ganciclovir_switches_to_oral_valganciclovir_today(
    knowledge: Knowledge,
) -> None:
    """Oral therapy stated possible: valganciclovir from today (2026-03-20), to the course's end
    (2026-09-10, 6 months after the ganciclovir start), never dated from the ganciclovir start."""
    doc = run(knowledge, on_ganciclovir(True))
    d = decision(doc, "valganciclovir-congenital")
    assert d["outcome"] == "recommended"
    got = [
        (r["drug"], r["dose_mg"], r["route"], str(r["start"]), str(r["stop"]))
        for r in regimens(doc)
    ]
    assert got == [("valganciclovir", 51.2, "oral", "2026-03-20", "2026-09-10")]
    assert any("switch to oral valganciclovir from 2026-03-20" in r for r in d["reasons"])
