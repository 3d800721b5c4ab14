"""An infant's per-kg dose on an out-of-date weight (outside probe, session 4, D2).

c12: congenital CMV, valganciclovir from 2026-03-10, the only weight 3.2 kg on 2026-03-09,
assessed on 2026-06-10 (93 days later). Kimberlin 2015 (Methods) recalculated the 16 mg/kg dose
monthly for growth; seed 001 (IJID 2020) asks for "constant dosage/weight adjustments". Before:
"Give valganciclovir 51.2 mg (16 mg/kg)" with no word on the weight. Now the dose is still shown
on that weight (16 × 3.2 = 51.2 mg), naming it, with a ``weight-out-of-date`` alert; the limit is
the reference profile's 31 days unless the site sets ``congenital_max_weight_age_days``.
"""

from __future__ import annotations

from collections.abc import Callable

from cmvcds.adapters.web.summary import clinical_view
from cmvcds.assess import assess
from cmvcds.domain.case import Case
from cmvcds.domain.settings import parse_settings
from cmvcds.knowledge import Knowledge


def test_old_weight_is_flagged_and_named(
    probe: Callable[[str], Case], knowledge: Knowledge
) -> None:
    doc = assess(probe("c12-oldweight"), knowledge).to_dict()
    (regimen,) = doc["regimens"]
    assert (regimen["dose_mg"], regimen["weight_kg"], regimen["weight_date"]) == (
        51.2,
        3.2,
        "2026-03-09",
    )
    (alert,) = [a for a in doc["alerts"] if a["code"] == "weight-out-of-date"]
    assert "3.2 kg on 2026-03-09, 93 days old: older than 31 days" in alert["message"]
    assert "reference profile" in alert["message"]
    assert "weigh the infant and recalculate the dose" in alert["message"]
    (used,) = [s for s in doc["settings_detail"] if s["name"] == "congenital_max_weight_age_days"]
    assert (used["value"], used["origin"]) == (31, "reference-profile")
    assert any("on the weight of 2026-03-09, 3.2 kg" in line for line in clinical_view(doc).todo)


def test_the_site_limit_overrides_the_reference_profile(
    probe: Callable[[str], Case], knowledge: Knowledge
) -> None:
    site = parse_settings({"congenital_max_weight_age_days": 92}, knowledge, "site.yaml")
    doc = assess(probe("c12-oldweight"), knowledge, settings=site).to_dict()
    (alert,) = [a for a in doc["alerts"] if a["code"] == "weight-out-of-date"]
    assert "93 days old: older than 92 days. A growing" in alert["message"]
    site = parse_settings({"congenital_max_weight_age_days": 14}, knowledge, "site.yaml")
    doc = assess(probe("c4-weight-growth"), knowledge, settings=site).to_dict()
    assert "weight-out-of-date" not in [a["code"] for a in doc["alerts"]]
    (used,) = [s for s in doc["settings_detail"] if s["name"] == "congenital_max_weight_age_days"]
    assert used["origin"] == "site"


def test_a_monthly_weight_is_current(probe: Callable[[str], Case], knowledge: Knowledge) -> None:
    """c4: weights on 2026-03-09 and 2026-05-11, assessed 2026-05-12: 1 day old."""
    doc = assess(probe("c4-weight-growth"), knowledge).to_dict()
    assert "weight-out-of-date" not in [a["code"] for a in doc["alerts"]]
    (regimen,) = doc["regimens"]
    assert regimen["weight_date"] == "2026-05-11"


def test_an_undated_weight_is_not_taken_as_current(knowledge: Knowledge) -> None:
    """c12 with its weight only as the undated ``patient.weight_kg`` (3.2 kg): the dose is shown on
    it (16 mg/kg × 3.2 kg = 51.2 mg) with no weight date and a warning, never as today's weight."""
    from tests.outside_probe.conftest import parsed, raw_case

    raw = raw_case("c12-oldweight")
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "weight"]
    raw["patient"]["weight_kg"] = 3.2
    doc = assess(parsed(raw, knowledge), knowledge).to_dict()
    (regimen,) = doc["regimens"]
    assert (regimen["dose_mg"], regimen["weight_kg"]) == (51.2, 3.2)
    assert "weight_date" not in regimen
    (alert,) = [a for a in doc["alerts"] if a["code"] == "weight-out-of-date"]
    assert "3.2 kg with no date: weight not dated" in alert["message"]
    assert "weigh the infant and recalculate the dose" in alert["message"]
