"""HIV retinitis: the alternative to an excluded running valganciclovir starts today (review12
W4, repro r80).

Sources: VALCYTE label (do not give at ANC < 500 cells/µL), US HIV OI guideline CMV chapter
(IV foscarnet is an induction alternative). Valganciclovir induction since 2026-11-10, ANC 400 on
11-19, assessed 11-20: foscarnet (never given) was dated from 11-10 with 4 days left; it starts on
11-20 for the planned 14-day induction (reference profile hiv_induction_days), to 12-04.
"""

from __future__ import annotations

from typing import Any

from transplant.helpers import decision, regimens, run

from cmvcds.knowledge import Knowledge

R80: dict[str, Any] = {
    "id": "review12-r80",
    "assessed_on": "2026-11-20",
    "context": "hiv",
    "patient": {"sex": "male", "age_years": 50, "weight_kg": 70, "height_cm": 175},
    "observations": [
        {"date": "2026-11-19", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"date": "2026-11-19", "code": "anc", "value": 400, "unit": "cells/uL"},
        {"date": "2026-11-19", "code": "cd4", "value": 20, "unit": "cells/uL"},
    ],
    "hiv": {
        "on_art": True,
        "art_start": "2026-11-01",
        "retinitis": {"zone": 2, "active": True, "sight_threatening": False},
    },
    "therapy": [
        {"drug": "valganciclovir", "dose_mg": 900, "every_h": 12, "route": "oral",
         "start": "2026-11-10", "indication": "induction"},
    ],
}  # fmt: skip


def test_the_alternative_is_dated_from_today(knowledge: Knowledge) -> None:
    document = run(knowledge, R80, site={})
    assert decision(document, "antiviral-treatment")["outcome"] == "recommended"
    (foscarnet,) = regimens(document, "foscarnet")
    assert (foscarnet["start"], foscarnet["stop"]) == ("2026-11-20", "2026-12-04")
    assert regimens(document, "valganciclovir") == []
    reasons = decision(document, "antiviral-treatment")["reasons"]
    assert any("starts today (2026-11-20)" in r and "since 2026-11-10" in r for r in reasons)
