"""HIV CMV retinitis when valganciclovir is excluded (outside probe11 W4).

Sources: VALCYTE and CYTOVENE-IV US labels §5.1 (not given with ANC < 500 cells/µL); NIH/CDC/IDSA
adult OI guideline, CMV retinitis (IV ganciclovir and IV foscarnet are induction alternatives to
oral valganciclovir); FOSCAVIR US label (CMV retinitis in AIDS; induction 60 mg/kg every 8 h,
Table 13 by CrCl per kg). 70 kg man of 38 y, creatinine 0.9: CG per kg (140 − 38) / (72 × 0.9) =
1.57 mL/min/kg (> 1.4): 60 mg/kg = 4200 mg every 8 h.
"""

from __future__ import annotations

import copy
from typing import Any

from transplant.helpers import decision, regimens, run

from cmvcds.knowledge import Knowledge
from hiv.test_hiv import BASE, retinitis


def _case(anc: int) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw["hiv"] = retinitis(zone=2, active=True, sight_threatening=False)
    raw["observations"].append({"date": "2026-03-09", "code": "anc", "value": anc, "unit": "cells/uL"})
    return raw


def test_anc_400_gives_iv_foscarnet_induction(knowledge: Knowledge) -> None:
    document = run(knowledge, _case(400))
    treatment = decision(document, "antiviral-treatment")
    assert treatment["outcome"] == "recommended"
    assert regimens(document, "valganciclovir") == [] and regimens(document, "ganciclovir") == []
    (foscarnet,) = regimens(document, "foscarnet")
    assert foscarnet["dose_mg"] == 4200 and foscarnet["every_h"] == 8 and foscarnet["route"] == "iv"
    assert any("valganciclovir and ganciclovir excluded" in r for r in treatment["reasons"])


def test_anc_500_keeps_oral_valganciclovir(knowledge: Knowledge) -> None:
    """The labels' limit is < 500: 500 itself is not excluded."""
    document = run(knowledge, _case(500))
    assert [r["drug"] for r in document["regimens"]] == ["valganciclovir"]
    assert regimens(document, "foscarnet") == []
