"""A blood-count hold still in force is the decision and the regimen, not only an alert (probe9
vignette x05, ADR 0031).

x05 (probe9 vignette): term infant, 4.0 kg, moderate/severe congenital CMV, on valganciclovir
64 mg q12h since 2026-03-10; ANC 400 on 2026-04-09 (held), ANC 700 on 2026-04-16, assessed
2026-04-17. The pack's neonatal row (``monitoring/toxicity.yaml`` cong-anc-hold: CASG
convention, Kimberlin 2015, recalled) holds below 500 and restarts only above 750; the label
(Valcyte §5.1) does not give the drug below 500. Before: the alert said "keep holding" while the
decision said RECOMMENDED "continue to complete 6 months" with 64 mg q12h to give.

Dose when restarted: 16 mg/kg × 4.0 kg = 64 mg q12h (Kimberlin 2015). Recheck: "about twice
weekly" (the row's action) as the row's ``recheck_days`` = 3 days after the count that keeps the
drug held, never before the assessment day.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from cmvcds.adapters.cdshooks.cards import decision_cards
from cmvcds.adapters.fhir.guidance import assessment_bundle
from cmvcds.adapters.report.text import assessment_text
from cmvcds.adapters.web.summary import clinical_view
from cmvcds.assess import assess
from cmvcds.domain.settings import SiteSettings
from cmvcds.knowledge import Knowledge
from tests.outside_probe.conftest import parsed, raw_case

X05 = "probe9-x05-anc-recovery-700"


def _with_anc(*counts: tuple[str, int], on: str = "2026-04-17") -> dict[str, Any]:
    raw = copy.deepcopy(raw_case(X05))
    raw["assessed_on"] = date.fromisoformat(on)
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "anc"] + [
        {"date": date.fromisoformat(d), "code": "anc", "value": v, "unit": "cells/uL"}
        for d, v in counts
    ]
    return raw


def _doc(
    raw: dict[str, Any], knowledge: Knowledge, settings: SiteSettings | None = None
) -> dict[str, Any]:
    return assess(parsed(raw, knowledge), knowledge, None, settings).to_dict()


def _decision(doc: dict[str, Any]) -> dict[str, Any]:
    (decision,) = [d for d in doc["decisions"] if d["id"] == "valganciclovir-congenital"]
    return decision


def _rechecks(doc: dict[str, Any]) -> list[str]:
    return [
        s["earliest"]
        for s in doc["schedule"]
        if s["event"] == "blood-count" and "recheck the ANC before restarting" in s.get("reason", "")
    ]


def test_x05_anc_700_after_a_hold_is_held_everywhere(knowledge: Knowledge) -> None:
    doc = _doc(raw_case(X05), knowledge)
    decision = _decision(doc)
    assert decision["outcome"] == "excluded"
    assert not any("continue to complete" in r for r in decision["reasons"])
    hold = next(r for r in decision["reasons"] if "hold it now" in r)
    assert "held since 2026-04-09 for neutropenia" in hold
    assert "restart only when ANC above 750 cells/uL" in hold
    assert "recheck the ANC on 2026-04-19" in hold  # 2026-04-16 + 3 days
    assert "complete 6 months on 2026-09-10" in hold  # 2026-03-10 + 6 months
    (regimen,) = doc["regimens"]
    assert regimen["dose_mg"] == 64  # 16 mg/kg × 4.0 kg, the dose when restarted
    assert regimen["held"].startswith("held since 2026-04-09 for neutropenia")
    assert "keep holding until ANC above 750 cells/uL" in regimen["held"]
    assert "recheck the ANC on 2026-04-19" in regimen["held"]
    assert _rechecks(doc) == ["2026-04-19"]
    alert = next(a for a in doc["alerts"] if a["code"] == "neutropenia")
    assert "keep holding and recheck the ANC on 2026-04-19" in alert["message"]
    # every output: the hold first, the dose only as the dose when restarted, never "give"
    text = assessment_text(doc)
    assert "HOLD valganciclovir: held since 2026-04-09" in text
    todo = clinical_view(doc).todo
    assert todo[0].startswith("Keep valganciclovir on hold: held since 2026-04-09")
    assert not any(line.startswith("Give ") for line in todo)
    cards = decision_cards(doc, base_url="https://x", service_id="s", hook_instance="h")
    assert "HOLD — held since 2026-04-09" in " ".join(str(c) for c in cards)
    bundle = assessment_bundle(doc, patient=None, now="2026-04-17T10:00:00Z", base_url="https://x")
    group = next(e for e in _resources(bundle) if e["resourceType"] == "RequestGroup")
    (action,) = group["action"]
    assert action["code"][0]["text"] == "excluded"
    (sub,) = action["action"]
    assert sub["description"].startswith("HOLD — held since 2026-04-09")


def _resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"]]


@pytest.mark.parametrize(
    ("second", "held", "regimen"),
    [
        (499, True, False),  # below 500: the label refuses the dose as well (no regimen)
        (500, True, True),  # not below 500, not above 750: still held
        (700, True, True),
        (750, True, True),  # the restart is strict (> 750)
        (751, False, True),  # recovered: restart
    ],
)
def test_recovery_sequence_after_anc_400(
    knowledge: Knowledge, second: int, held: bool, regimen: bool
) -> None:
    doc = _doc(_with_anc(("2026-04-09", 400), ("2026-04-16", second)), knowledge)
    decision = _decision(doc)
    assert decision["outcome"] == ("excluded" if held else "recommended")
    assert any("hold it now" in r for r in decision["reasons"]) is held
    assert any("continue to complete 6 months" in r for r in decision["reasons"]) is not held
    assert len(doc["regimens"]) == int(regimen)
    for g in doc["regimens"]:
        assert ("held" in g) is held
        assert g["dose_mg"] == 64
    assert _rechecks(doc) == (["2026-04-19"] if held else [])
    if not held:
        restart = next(a for a in doc["alerts"] if a["code"] == "neutropenia")
        assert restart["severity"] == "info" and "is above 750" in restart["message"]


@pytest.mark.parametrize(("anc", "held"), [(499, True), (500, False), (501, False)])
def test_a_single_count_holds_only_below_500(knowledge: Knowledge, anc: int, held: bool) -> None:
    """No earlier hold: the hold level is strict (< 500), as the label words its limit (Valcyte
    §5.1: "below 500"); ANC 499 is probe9 x03."""
    doc = _doc(_with_anc(("2026-04-16", anc)), knowledge)
    assert _decision(doc)["outcome"] == ("excluded" if held else "recommended")
    assert _rechecks(doc) == (["2026-04-19"] if held else [])
    edges = [a for a in doc["alerts"] if a["code"] == "boundary-case"]
    if anc == 500:
        (edge,) = edges
        assert "exactly on the threshold 500: not held" in edge["message"]
        assert "valcyte-us-label §5.1: below 500" in edge["message"]
        assert "A protocol that holds at or below the threshold would hold it" in edge["message"]
        assert "valcyte-us-label" in edge["citations"]
        assert "kimberlin2015-nejm-valganciclovir" in edge["citations"]
    else:
        assert edges == []


def test_an_overdue_recheck_is_due_on_the_assessment_day(knowledge: Knowledge) -> None:
    doc = _doc(_with_anc(("2026-04-09", 400), ("2026-04-16", 700), on="2026-04-25"), knowledge)
    assert _rechecks(doc) == ["2026-04-25"]
    assert "recheck the ANC on 2026-04-25" in doc["regimens"][0]["held"]


def test_a_site_hold_level_above_the_label_is_carried_too(knowledge: Knowledge) -> None:
    """A site that holds below 1,000 (setting ``neonatal_anc_hold_below_per_ul``, allowed
    250–1500): ANC 800 is held although the label (§5.1, < 500) would give the dose."""
    settings = SiteSettings(
        values={"neonatal_anc_hold_below_per_ul": 1000, "neonatal_anc_resume_above_per_ul": 1200},
        origin="test",
    )
    doc = _doc(_with_anc(("2026-04-16", 800)), knowledge, settings)
    assert _decision(doc)["outcome"] == "excluded"
    (regimen,) = doc["regimens"]
    assert "keep holding until ANC above 1200 cells/uL" in regimen["held"]


def test_platelets_below_the_label_limit_hold_the_infant_course(knowledge: Knowledge) -> None:
    """Valcyte §5.1: not given with platelets below 25,000/µL; the label names no restart level
    or recheck interval: restart at 25,000 or more, recheck today."""
    raw = _with_anc(("2026-04-16", 1500))
    raw["observations"].append(
        {"date": date(2026, 4, 16), "code": "platelets", "value": 20000, "unit": "/uL"}
    )
    doc = _doc(raw, knowledge)
    decision = _decision(doc)
    assert decision["outcome"] == "excluded"
    hold = next(r for r in decision["reasons"] if "hold it now" in r)
    assert "held since 2026-04-16 for thrombocytopenia" in hold
    assert "restart only when platelets at least 25000 /uL" in hold
    assert "recheck the platelets on 2026-04-17" in hold
