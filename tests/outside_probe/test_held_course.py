"""A course held for neutropenia: the hold is the instruction, the dose is for the restart
(outside probe, session 4, D3).

c3d: infant on valganciclovir 16 mg/kg q12h (Kimberlin 2015) held since 2026-03-24 for ANC 450
(``stop_reason: held_toxicity``); ANC 740 on 2026-03-30, below the restart level 750 of the
pack's neutropenia row (``monitoring/toxicity.yaml``). Before: "What to do now: Give
valganciclovir 54.4 mg … twice daily" beside "Keep holding". c3c (ANC 760): restart, the dose is
to be given.
"""

from __future__ import annotations

from collections.abc import Callable

from cmvcds.adapters.cdshooks.cards import decision_cards
from cmvcds.adapters.report.text import assessment_text
from cmvcds.adapters.web.summary import clinical_view
from cmvcds.assess import assess
from cmvcds.domain.case import Case
from cmvcds.knowledge import Knowledge


def test_held_course_shows_the_hold_first_and_the_dose_when_restarted(
    probe: Callable[[str], Case], knowledge: Knowledge
) -> None:
    doc = assess(probe("c3d-resume740"), knowledge).to_dict()
    (regimen,) = doc["regimens"]
    assert regimen["held"].startswith("held since 2026-03-24 for toxicity: keep holding")
    assert regimen["dose_mg"] == 54.4  # 16 mg/kg × 3.4 kg, the dose when restarted
    todo = clinical_view(doc).todo
    assert todo[0].startswith("Keep valganciclovir on hold: held since 2026-03-24")
    assert "Dose when restarted: valganciclovir 54.4 mg" in todo[0]
    assert not any(line.startswith("Give ") for line in todo)
    reasons = doc["decisions"][0]["reasons"]
    assert "keep holding" in reasons[-1] and "dose when restarted" in reasons[-1]
    assert "HOLD" in assessment_text(doc)


def test_recovered_count_restarts_the_course(knowledge: Knowledge) -> None:
    """c3c (ANC 760 > 750 on 2026-03-30) with platelets 120,000/µL and Hb 11 g/dL on the same day:
    every limit of valganciclovir (label §5.1: ANC, platelets, Hb) is met since the hold."""
    from tests.outside_probe.conftest import parsed, raw_case

    raw = raw_case("c3c-resume760")
    raw["observations"] += [
        {"date": "2026-03-30", "code": "platelets", "value": 120000, "unit": "cells/uL"},
        {"date": "2026-03-30", "code": "hemoglobin", "value": 11, "unit": "g/dL"},
    ]
    doc = assess(parsed(raw, knowledge), knowledge).to_dict()
    (regimen,) = doc["regimens"]
    assert "held" not in regimen
    assert clinical_view(doc).todo[0].startswith("Give valganciclovir")


def test_a_count_not_measured_since_the_hold_does_not_keep_it(
    probe: Callable[[str], Case], knowledge: Knowledge
) -> None:
    """c3c as written: held for neutropenia, ANC 760 recovered (> 750), no platelets or Hb ever
    measured. probe11 W1 (a04): the restart follows the hold's cause (Kimberlin 2015: restart when
    the ANC recovers above 750); a count never measured is asked for plainly, never named as a
    toxicity (the old answer kept holding under a "thrombocytopenia" alert with no platelet count)."""
    doc = assess(probe("c3c-resume760"), knowledge).to_dict()
    (regimen,) = doc["regimens"]
    assert "held" not in regimen
    assert not any(a["code"] in ("thrombocytopenia", "anemia") for a in doc["alerts"])
    (decision,) = [d for d in doc["decisions"] if d["id"] == "valganciclovir-congenital"]
    said = " ".join(decision["reasons"])
    assert "restart" in said
    assert "Not measured since the hold: platelets, hemoglobin" in said


def test_a_low_count_since_the_hold_that_did_not_cause_it_still_keeps_it(
    knowledge: Knowledge,
) -> None:
    """Boundary of probe11 W1: a count that did not cause the hold but has fallen below its own
    hold level since (platelets 20,000 < 25,000 after the hold) keeps the course held."""
    from tests.outside_probe.conftest import parsed, raw_case

    raw = raw_case("c3c-resume760")
    raw["observations"] += [
        {"date": "2026-03-30", "code": "platelets", "value": 20000, "unit": "cells/uL"},
    ]
    doc = assess(parsed(raw, knowledge), knowledge).to_dict()
    (decision,) = [d for d in doc["decisions"] if d["id"] == "valganciclovir-congenital"]
    assert decision["outcome"] == "excluded"
    assert "keep holding" in " ".join(decision["reasons"])
    hold = next(a for a in doc["alerts"] if "Keep holding" in a["message"])
    assert hold["code"] == "thrombocytopenia"
    assert "platelets 20000" in hold["message"]


def test_platelets_before_the_course_do_not_let_it_restart(knowledge: Knowledge) -> None:
    """Platelets 20,000/µL on 2026-03-05 (before the course) and never since: the recovered ANC
    alone does not restart it (before: INFO "restart" beside CRITICAL "do not give")."""
    from tests.outside_probe.conftest import parsed, raw_case

    raw = raw_case("c3c-resume760")
    raw["observations"] += [
        {"date": "2026-03-05", "code": "platelets", "value": 20000, "unit": "cells/uL"},
        {"date": "2026-03-30", "code": "hemoglobin", "value": 11, "unit": "g/dL"},
    ]
    doc = assess(parsed(raw, knowledge), knowledge).to_dict()
    hold = next(a for a in doc["alerts"] if "Keep holding" in a["message"])
    assert "no platelets since the hold (last 20000 /uL on 2026-03-05" in hold["message"]
    assert hold["code"] == "thrombocytopenia"
    assert not any(a["severity"] == "info" and "restart" in a["message"] for a in doc["alerts"])
    assert all("held" in r for r in doc["regimens"])  # the label check also refuses the dose


def test_cds_card_says_hold(probe: Callable[[str], Case], knowledge: Knowledge) -> None:
    doc = assess(probe("c3d-resume740"), knowledge).to_dict()
    cards = decision_cards(doc, base_url="https://x", service_id="s", hook_instance="h")
    text = " ".join(str(c) for c in cards)
    assert "HOLD — held since 2026-03-24" in text


def test_running_course_below_anc_500_reads_as_a_hold(
    probe: Callable[[str], Case], knowledge: Knowledge
) -> None:
    """c1: ANC 450 on therapy (label §5.1: do not give below 500; restart above 750). The closed
    outcome vocabulary (design.md §4) has no "hold": the decision stays ``excluded``, but its
    reasons no longer say "continue" beside "do not give"."""
    doc = assess(probe("c1-anc450"), knowledge).to_dict()
    (decision,) = doc["decisions"]
    assert decision["outcome"] == "excluded"
    assert not any("continue to complete" in r for r in decision["reasons"])
    assert any(
        "hold it now — a temporary hold, not the end of the course" in r
        for r in decision["reasons"]
    )


def test_held_course_iv_bridge_is_held_too(knowledge: Knowledge) -> None:
    """c3d with ANC 600 and no oral drugs (``can_take_oral: false``): the IV ganciclovir bridge
    (6 mg/kg q12h × 3.4 kg = 20.4 mg) is the dose when restarted, held like the oral course, and
    names the weight it used (3.4 kg on 2026-03-23, 8 days old: within the reference limit)."""
    from tests.outside_probe.conftest import parsed, raw_case

    raw = raw_case("c3d-resume740")
    raw["patient"]["can_take_oral"] = False
    raw["observations"][-1]["value"] = 600
    doc = assess(parsed(raw, knowledge), knowledge).to_dict()
    (regimen,) = doc["regimens"]
    assert regimen["drug"] == "ganciclovir"
    assert regimen["dose_mg"] == 20.4
    assert regimen["held"].startswith("held since 2026-03-24 for toxicity: keep holding")
    assert regimen["weight_date"] == "2026-03-23"
    todo = clinical_view(doc).todo
    assert not any(line.startswith("Give ") for line in todo)
