"""HSCT R+: a running (val)ganciclovir prophylaxis when letermovir is recommended (debt23 item 3).

Sources: PREVYMIS US label §1 (letermovir: prophylaxis of CMV infection and disease in adult
CMV-seropositive allogeneic HSCT recipients, started day 0–28, through day 100); Marty 2017
NEJM; ADR 0032-fixr11a (no second CMV antiviral beside a running course: a proposal is made in
its place, never beside it). Vignette: allogeneic HSCT on 2026-05-10, R+, creatinine 0.8 mg/dL,
ANC 2,000/µL, tacrolimus; valganciclovir 900 mg daily as prophylaxis from 2026-05-11.
- Day 10, valganciclovir alone: letermovir is recommended in its place (stop valganciclovir when
  letermovir starts) — review11's rule, kept.
- Day 10, letermovir 480 mg daily also running since 2026-05-12: letermovir goes on and the
  decision says the valganciclovir course stops (one prophylaxis, not both) unless a specialist
  records a reason; before debt23 nothing was said of it.
- Day 41 (after the day-28 start window), valganciclovir alone: specialist review, and the
  decision names the running course and the switch (never both).
- Day 28 (the window's last day), valganciclovir alone: letermovir still recommended in its place.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cmvcds.knowledge import Knowledge
from transplant.helpers import decision, outcomes, regimens, run

BASE: dict[str, Any] = {
    "id": "debt23-hsct-beside",
    "assessed_on": "2026-05-20",
    "context": "transplant",
    "patient": {"sex": "female", "age_years": 45, "weight_kg": 65, "height_cm": 165},
    "observations": [
        {"date": "2026-05-19", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
        {"date": "2026-05-19", "code": "anc", "value": 2000, "unit": "cells/uL"},
    ],
    "transplant": {"organ": "hsct", "allogeneic": True, "date": "2026-05-10",
                   "donor_cmv_igg": "negative", "recipient_cmv_igg": "positive",
                   "co_medications": ["tacrolimus"]},
}  # fmt: skip
VALGANCICLOVIR = {"drug": "valganciclovir", "indication": "prophylaxis", "start": "2026-05-11",
                  "dose_mg": 900, "every_h": 24, "route": "oral"}  # fmt: skip
LETERMOVIR = {"drug": "letermovir", "indication": "prophylaxis", "start": "2026-05-12",
              "dose_mg": 480, "every_h": 24, "route": "oral"}  # fmt: skip


def _case(on: str, *courses: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw["assessed_on"] = on
    raw["therapy"] = [dict(c) for c in courses]
    return raw


def _reasons(document: dict[str, Any]) -> list[str]:
    return list(decision(document, "antiviral-prophylaxis")["reasons"])


@pytest.mark.parametrize("on", ["2026-05-20", "2026-06-07"], ids=["day10", "day28"])
def test_letermovir_is_given_in_place_of_the_running_valganciclovir(
    knowledge: Knowledge, on: str
) -> None:
    document = run(knowledge, _case(on, VALGANCICLOVIR))
    assert outcomes(document)["antiviral-prophylaxis"] == "recommended"
    assert [r["indication"] for r in regimens(document, "letermovir")] == ["prophylaxis"]
    assert any(
        "give letermovir in its place, never beside it (stop valganciclovir when letermovir "
        "starts)" in r
        for r in _reasons(document)
    )


def test_both_running_the_valganciclovir_course_is_said_to_stop(knowledge: Knowledge) -> None:
    document = run(knowledge, _case("2026-05-20", VALGANCICLOVIR, LETERMOVIR))
    assert outcomes(document)["antiviral-prophylaxis"] == "recommended"
    assert regimens(document, "valganciclovir") == []
    assert any(
        r.startswith("valganciclovir (prophylaxis) running since 2026-05-11 beside letermovir")
        and "stop valganciclovir (letermovir continues)" in r
        for r in _reasons(document)
    )


def test_letermovir_alone_says_nothing_of_another_course(knowledge: Knowledge) -> None:
    document = run(knowledge, _case("2026-05-20", LETERMOVIR))
    assert not any("beside letermovir" in r or "in its place" in r for r in _reasons(document))


def test_after_the_start_window_the_running_course_is_named(knowledge: Knowledge) -> None:
    document = run(knowledge, _case("2026-06-20", VALGANCICLOVIR))  # day 41
    assert outcomes(document)["antiviral-prophylaxis"] == "specialist_review"
    reasons = _reasons(document)
    assert any("later than the letermovir start window" in r for r in reasons)
    assert any("keep valganciclovir and do not start letermovir" in r for r in reasons)
