"""In-utero treatment runs "until the end of gestation" (AIFA 648/96, GU SG n. 322 Allegato 1:
"il trattamento previsto si protrae fino al termine della gestazione"): the structured
``regimens[].stop`` is the EDD, beside the rule in words (probe9 vignette p12, ADR 0031).

p12 (probe9 vignette): LMP 2026-01-05, primary infection (IgG+/IgM+, low avidity, 8+0),
amniotic-fluid PCR positive, hyperechoic bowel grade 2 (Table 1: mild/moderate extracerebral
sign). EDD = LMP + 280 days (Naegele; ACOG CO 700) = 2026-10-12. Before: ``stop: null``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from cmvcds.assess import assess
from cmvcds.domain.case import Case
from cmvcds.knowledge import Knowledge


def test_in_utero_regimen_stops_at_the_edd(
    probe: Callable[[str], Case], knowledge: Knowledge
) -> None:
    doc = assess(probe("probe9-p12-fetal-bowel-grade2"), knowledge).to_dict()
    (decision,) = [d for d in doc["decisions"] if d["id"] == "valacyclovir-fetal-treatment"]
    assert decision["outcome"] == "recommended"
    (regimen,) = [g for g in doc["regimens"] if g["indication"] == "fetal-treatment"]
    edd = date(2026, 1, 5) + timedelta(days=280)
    assert regimen["stop"] == edd.isoformat() == "2026-10-12"
    assert regimen["stop_rule"] == f"until delivery (EDD {edd}) (A6)"
    assert (regimen["dose_mg"], regimen["every_h"]) == (2000, 6)  # 8 g/day (AIFA 648/96)
