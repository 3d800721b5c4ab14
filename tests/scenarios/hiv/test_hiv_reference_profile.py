"""HIV retinitis WITHOUT a site settings file: the reference profile's first value of each range of
the US adult OI guideline (NIH/CDC/IDSA, Cytomegalovirus Disease): valganciclovir 900 mg twice
daily "for 14–21 days" → 14 days; maintenance may stop after CD4 > 100 cells/µL sustained "3–6
months" on ART and 3–6 months of therapy → 3 months each (issue 14 item 1; ADR 0006).

Baseline as test_hiv.py: induction from 2026-03-10 → day 14 = 2026-03-24 (21 days: 2026-03-31).
Maintenance: CD4 > 100 since 2026-05-10 → 3 months reached on 2026-08-10.
"""

from __future__ import annotations

from transplant.helpers import decision, regimens, run, with_

from cmvcds.knowledge import Knowledge
from hiv.test_hiv import BASE, MAINTENANCE, RECOVERY, cd4, retinitis


def test_retinitis_without_settings_14_day_induction(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, hiv=retinitis(zone=2, active=True)), site={})
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"], d["reference_profile"]) == (
        "recommended",
        ["H4"],
        ["hiv_induction_days"],
    )
    assert [(r["drug"], r["dose_mg"], r["every_h"], r["stop"]) for r in regimens(doc)] == [
        ("valganciclovir", 900, 12, "2026-03-24")
    ]
    assert doc["settings_detail"] == [
        {
            "name": "hiv_induction_days",
            "value": 14,
            "origin": "reference-profile",
            "citations": ["nih-hiv-oi-cmv"],
            "basis": "'Valganciclovir 900 mg PO BID for 14–21 days': 14 days, the first value named.",
        }
    ]
    assert doc["missing"] == []
    site = run(knowledge, with_(BASE, hiv=retinitis(zone=2, active=True)), hiv_induction_days=21)
    assert regimens(site)[0]["stop"] == "2026-03-31"


def test_maintenance_stops_at_3_months_without_settings(knowledge: Knowledge) -> None:
    on_day = run(
        knowledge,
        with_(MAINTENANCE, assessed_on="2026-08-10", observations=cd4(*RECOVERY[:3])),
        site={},
    )
    day_before = run(
        knowledge,
        with_(MAINTENANCE, assessed_on="2026-08-09", observations=cd4(*RECOVERY[:3])),
        site={},
    )
    d = decision(on_day, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("not_indicated", ["H6"])
    assert set(d["reference_profile"]) == {"hiv_cd4_sustained_months", "hiv_min_therapy_months"}
    assert decision(day_before, "antiviral-treatment")["outcome"] == "recommended"
    # the site's 6 months overrides: maintenance continues
    six = run(
        knowledge,
        with_(MAINTENANCE, assessed_on="2026-08-10", observations=cd4(*RECOVERY[:3])),
        site={"hiv_cd4_sustained_months": 6, "hiv_min_therapy_months": 3},
    )
    assert decision(six, "antiviral-treatment")["outcome"] == "recommended"
