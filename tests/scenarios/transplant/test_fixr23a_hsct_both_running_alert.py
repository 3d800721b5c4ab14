"""HSCT: IV ganciclovir without an indication running beside letermovir is said as an alert too
(fixr23a item 6c; ADR 0033 decision 3: one CMV prophylaxis, not both — PREVYMIS §1, Marty 2017).

Vignette: debt23's R+ allogeneic HSCT (transplant 2026-05-10), day 10, letermovir 480 mg since
2026-05-12 and IV ganciclovir 325 mg every 24 h since 2026-05-11 with no indication recorded (a
prophylaxis dose, 5 mg/kg × 65 kg): the decision's reason and a warning alert say to stop it.
"""

from __future__ import annotations

import copy

from cmvcds.knowledge import Knowledge
from transplant.helpers import run
from transplant.test_debt23_hsct_letermovir_beside import BASE, LETERMOVIR

GANCICLOVIR_NO_INDICATION = {
    "drug": "ganciclovir",
    "start": "2026-05-11",
    "dose_mg": 325,
    "every_h": 24,
    "route": "iv",
}


def test_both_running_is_an_alert(knowledge: Knowledge) -> None:
    raw = copy.deepcopy(BASE)
    raw["therapy"] = [copy.deepcopy(GANCICLOVIR_NO_INDICATION), copy.deepcopy(LETERMOVIR)]
    document = run(knowledge, raw)
    found = [
        a
        for a in document["alerts"]
        if a["message"].startswith("Two CMV antivirals running: ganciclovir since 2026-05-11")
    ]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert "prevymis-us-label" in found[0]["citations"]


def test_letermovir_alone_has_no_such_alert(knowledge: Knowledge) -> None:
    raw = copy.deepcopy(BASE)
    raw["therapy"] = [copy.deepcopy(LETERMOVIR)]
    document = run(knowledge, raw)
    assert not any(a["message"].startswith("Two CMV antivirals") for a in document["alerts"])
