"""HIV vignettes (transplant-hiv.md §3, H1–H9).

Baseline: a 38-year-old man, 70 kg, creatinine 0.9 mg/dL (Cockcroft-Gault 102 × 70 / 64.8 = 110
mL/min: valganciclovir 900 mg every 12 h induction, 900 mg daily maintenance), CD4 30 cells/µL,
not on ART, no CMV disease, assessed 2026-03-10.
"""

from __future__ import annotations

from typing import Any

from transplant.helpers import alerts, decision, events, outcomes, regimens, run, with_

from cmvcds.knowledge import Knowledge

BASE: dict[str, Any] = {
    "id": "hiv",
    "assessed_on": "2026-03-10",
    "context": "hiv",
    "patient": {
        "sex": "male",
        "age_years": 38,
        "weight_kg": 70,
        "height_cm": 178,
        "can_take_oral": True,
    },
    "hiv": {"on_art": False},
    "observations": [
        {"date": "2026-03-09", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"date": "2026-03-09", "code": "cd4", "value": 30, "unit": "cells/uL"},
    ],
}


def retinitis(**fields: Any) -> dict[str, Any]:
    return {"on_art": False, "retinitis": fields}


def test_no_primary_prophylaxis_start_art_screen_eyes(knowledge: Knowledge) -> None:
    doc = run(knowledge, BASE)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "not_indicated",
    }
    assert {"start-art", "ophthalmology-follow-up"} <= alerts(doc)
    assert regimens(doc) == []


def test_asymptomatic_dnaemia_no_preemptive_therapy(knowledge: Knowledge) -> None:
    raw = with_(BASE, presentation={"disease": "asymptomatic_dnaemia"})
    raw["observations"] = [
        *BASE["observations"],
        {
            "date": "2026-03-09",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 5000,
            "unit": "IU/mL",
        },
    ]
    doc = run(knowledge, raw)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "not_indicated",
    }


def test_zone_1_retinitis_intravitreal_plus_valganciclovir(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, hiv=retinitis(zone=1, active=True, sight_threatening=True)))
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["H3"])
    assert any("intravitreal" in r for r in d["reasons"])
    # the systemic induction and, beside it, the guideline's intravitreal injections (one of the
    # two drugs): ganciclovir 2 mg or foscarnet 2.4 mg in 0.1 mL, 1-4 injections over 7-10 days
    assert [
        (r["drug"], r["dose_mg"], r["every_h"], r["route"], r["start"], r["stop"])
        for r in regimens(doc)
    ] == [
        ("valganciclovir", 900, 12, "oral", "2026-03-10", "2026-03-31"),
        ("ganciclovir", 2, None, "intravitreal", "2026-03-10", None),
        ("foscarnet", 2.4, None, "intravitreal", "2026-03-10", None),
    ]
    intravitreal = [r for r in regimens(doc) if r["route"] == "intravitreal"]
    assert intravitreal[0]["schedule"] == (
        "2 mg in 0.1 mL per intravitreal injection, 1–4 injections over 7–10 days "
        "(or foscarnet: one of the two)"
    )
    assert all(r["indication"] == "induction" and r["citations"] for r in intravitreal)
    assert doc["missing"] == []
    assert {"start-art", "immune-recovery-uveitis", "ophthalmology-follow-up"} <= alerts(doc)
    assert d["settings_used"] == ["hiv_induction_days"]


def test_intravitreal_wording_follows_the_guideline(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, hiv=retinitis(zone=1, active=True, sight_threatening=True)))
    first = decision(doc, "antiviral-treatment")["reasons"][0]
    assert first.startswith(
        "immediately sight-threatening retinitis (within 1500 µm of the fovea or adjacent to the "
        "optic nerve; zone 1): intravitreal ganciclovir or foscarnet injections plus oral "
        "valganciclovir induction for 21 days"
    )


def test_zone_1_without_a_statement_is_read_as_sight_threatening(
    knowledge: Knowledge,
) -> None:
    # issue 14 item 6 (US HIV OI guideline): zone-1 (sight-threatening) retinitis gets intravitreal
    # ganciclovir or foscarnet with systemic therapy; the ophthalmologist may say otherwise
    doc = run(knowledge, with_(BASE, hiv=retinitis(zone=1, active=True)))
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["H3"])
    assert d["reasons"][0].startswith(
        "zone 1 retinitis (the posterior pole) read as sight-threatening: intravitreal ganciclovir or "
        "foscarnet injections plus oral valganciclovir induction for 21 days"
    )
    assert d["reasons"][1].startswith(
        "the ophthalmologist may state that the lesion is not immediately sight-threatening (within 1500 µm"
    )
    assert [(r["drug"], r["dose_mg"], r["every_h"], r["route"]) for r in regimens(doc)] == [
        ("valganciclovir", 900, 12, "oral"),
        ("ganciclovir", 2, None, "intravitreal"),
        ("foscarnet", 2.4, None, "intravitreal"),
    ]


def test_zone_not_stated_is_systemic_and_asks_the_ophthalmologist(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, hiv={"on_art": False, "retinitis": {"active": True}}))
    d = decision(doc, "antiviral-treatment")
    assert d["rules"] == ["H4"]
    assert any(
        r.startswith("ophthalmologist to state whether the lesion is immediately sight-threatening")
        for r in d["reasons"]
    )


def test_zone_1_stated_not_sight_threatening_is_systemic_without_a_question(
    knowledge: Knowledge,
) -> None:
    doc = run(knowledge, with_(BASE, hiv=retinitis(zone=1, active=True, sight_threatening=False)))
    d = decision(doc, "antiviral-treatment")
    assert d["rules"] == ["H4"]
    assert not any("intravitreal ganciclovir or foscarnet" in r for r in d["reasons"])
    assert [(r["drug"], r["route"]) for r in regimens(doc)] == [("valganciclovir", "oral")]


def test_sight_threatening_outside_zone_1_gets_intravitreal(knowledge: Knowledge) -> None:
    # the ophthalmologist's statement decides, not the zone
    doc = run(knowledge, with_(BASE, hiv=retinitis(zone=2, active=True, sight_threatening=True)))
    assert decision(doc, "antiviral-treatment")["rules"] == ["H3"]
    assert [(r["drug"], r["route"]) for r in regimens(doc)] == [
        ("valganciclovir", "oral"), ("ganciclovir", "intravitreal"), ("foscarnet", "intravitreal")
    ]  # fmt: skip


def test_zone_2_retinitis_oral_induction_alone(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, hiv=retinitis(zone=2, active=True, sight_threatening=False)))
    assert decision(doc, "antiviral-treatment")["rules"] == ["H4"]
    assert [r["drug"] for r in regimens(doc)] == ["valganciclovir"]


def test_induction_length_is_a_site_setting(knowledge: Knowledge) -> None:
    raw = with_(BASE, hiv=retinitis(zone=2, active=True))
    assert regimens(run(knowledge, raw, hiv_induction_days=14))[0]["stop"] == "2026-03-24"
    assert regimens(run(knowledge, raw, hiv_induction_days=21))[0]["stop"] == "2026-03-31"
    # unset: the reference profile's 14 days ('900 mg PO BID for 14–21 days', the first named)
    unset = run(knowledge, raw, hiv_induction_days=None)
    d = decision(unset, "antiviral-treatment")
    assert (d["outcome"], d["reference_profile"]) == ("recommended", ["hiv_induction_days"])
    assert regimens(unset)[0]["stop"] == "2026-03-24"
    assert "nih-hiv-oi-cmv" in d["citations"]


# Maintenance: valganciclovir since 2026-02-01, ART since 2026-01-01, retinitis inactive.
MAINTENANCE: dict[str, Any] = with_(
    BASE,
    assessed_on="2026-08-15",
    hiv={"on_art": True, "art_start": "2026-01-01", "retinitis": {"zone": 2, "active": False}},
    therapy=[
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 12,
            "route": "oral",
            "start": "2026-02-01",
            "stop": "2026-02-21",
            "indication": "induction",
        },
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 24,
            "route": "oral",
            "start": "2026-02-22",
            "indication": "maintenance",
        },
    ],
)


def cd4(*counts: tuple[str, int]) -> list[dict[str, Any]]:
    return [
        {"date": "2026-08-01", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        *({"date": d, "code": "cd4", "value": v, "unit": "cells/uL"} for d, v in counts),
    ]


RECOVERY = (("2026-04-15", 80), ("2026-05-10", 120), ("2026-07-10", 150), ("2026-08-12", 180))


def test_stop_maintenance_cd4_above_100_for_3_months(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(MAINTENANCE, observations=cd4(*RECOVERY)))
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("not_indicated", ["H6"])
    assert "since 2026-05-10" in d["reasons"][0]
    assert "config-range" in alerts(doc)  # the answer depends on the site's point inside 3–6 months
    assert doc["settings"]["hiv_cd4_sustained_months"] == 3
    assert regimens(doc) == []


def test_exactly_three_months_stops_one_day_less_does_not(knowledge: Knowledge) -> None:
    on_day = run(
        knowledge, with_(MAINTENANCE, assessed_on="2026-08-10", observations=cd4(*RECOVERY[:3]))
    )
    day_before = run(
        knowledge, with_(MAINTENANCE, assessed_on="2026-08-09", observations=cd4(*RECOVERY[:3]))
    )
    assert decision(on_day, "antiviral-treatment")["outcome"] == "not_indicated"
    assert decision(day_before, "antiviral-treatment")["outcome"] == "recommended"


def test_six_month_window_keeps_maintenance(knowledge: Knowledge) -> None:
    doc = run(
        knowledge, with_(MAINTENANCE, observations=cd4(*RECOVERY)), hiv_cd4_sustained_months=6
    )
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["H6", "H5"])
    [vgc] = regimens(doc)
    assert (vgc["indication"], vgc["dose_mg"], vgc["every_h"]) == ("maintenance", 900, 24)


def test_a_count_of_100_inside_the_window_resets_it(knowledge: Knowledge) -> None:
    counts = (*RECOVERY[:2], ("2026-07-01", 100), *RECOVERY[2:])
    doc = run(knowledge, with_(MAINTENANCE, observations=cd4(*counts)))
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "recommended"
    assert any("since 2026-07-10" in r for r in d["reasons"])


def test_not_on_art_keeps_maintenance(knowledge: Knowledge) -> None:
    raw = with_(
        MAINTENANCE,
        observations=cd4(*RECOVERY),
        hiv={"on_art": False, "retinitis": {"active": False}},
    )
    assert decision(run(knowledge, raw), "antiviral-treatment")["outcome"] == "recommended"
    assert "start-art" in alerts(run(knowledge, raw))


def test_retinitis_activity_unknown(knowledge: Knowledge) -> None:
    raw = with_(
        MAINTENANCE, observations=cd4(*RECOVERY), hiv={"on_art": True, "retinitis": {"zone": 2}}
    )
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "insufficient_data"
    assert "hiv.retinitis.active" in [m["item"] for m in doc["missing"]]
    assert d["citations"] == ["nih-hiv-oi-cmv"]  # the induction / maintenance rules need it


STOPPED: dict[str, Any] = with_(
    MAINTENANCE,
    assessed_on="2026-11-05",
    therapy=[{**MAINTENANCE["therapy"][0]}, {**MAINTENANCE["therapy"][1], "stop": "2026-08-15"}],
)


def test_restart_maintenance_when_cd4_falls_below_100(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(STOPPED, observations=cd4(*RECOVERY, ("2026-11-01", 80))))
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["H7"])
    assert regimens(doc)[0]["indication"] == "maintenance"


def test_stays_off_with_cd4_above_100(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(STOPPED, observations=cd4(*RECOVERY, ("2026-11-01", 240))))
    assert decision(doc, "antiviral-treatment")["outcome"] == "not_indicated"


def test_neurological_disease_ganciclovir_plus_foscarnet_specialist(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["encephalitis"],
            "severity": "severe",
        },
    )
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("specialist_review", ["H9"])
    assert sorted(r["drug"] for r in regimens(doc)) == ["foscarnet", "ganciclovir"]
    assert "poor-cns-ocular-penetration" in alerts(doc)


def test_gi_disease_treated_like_transplant_disease(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["gastrointestinal"],
            "severity": "moderate",
        },
    )
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["H8", "T8"])
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["dose_mg"], vgc["every_h"]) == ("valganciclovir", 900, 12)


def test_maintenance_in_therapy_is_planned_once_by_monitoring(knowledge: Knowledge) -> None:
    # Maintenance continues (6-month window). The course in therapy owns the calendar: monthly from
    # the maintenance start 2026-02-22 (+ 180 days = 08-21), ophthalmology every 90 days (+ 180 =
    # 08-21), to 2026-08-15 + 28 = 09-12; nothing from the assessment date (08-15) by the pathway.
    doc = run(
        knowledge, with_(MAINTENANCE, observations=cd4(*RECOVERY)), hiv_cd4_sustained_months=6
    )
    assert decision(doc, "antiviral-treatment")["outcome"] == "recommended"
    assert events(doc, "blood-count") == ["2026-08-21"]
    assert events(doc, "renal-function") == ["2026-08-21"]
    assert events(doc, "ophthalmology") == ["2026-08-21"]


def test_new_induction_is_planned_by_the_pathway(knowledge: Knowledge) -> None:
    # nothing in therapy: the pathway plans the induction it recommends, from today (2026-03-10)
    doc = run(knowledge, with_(BASE, hiv=retinitis(zone=2, active=True, sight_threatening=False)))
    assert events(doc, "ophthalmology") == ["2026-03-10"]


# --- C3: a running induction course keeps its own start (H4 → H5) ---------------------------------
# valganciclovir 900 mg every 12 h induction started 2026-03-10; hiv_induction_days 21:
# stop = 2026-03-10 + 21 days = 2026-03-31.


def on_induction(assessed_on: str) -> dict[str, Any]:
    induction = {
        "drug": "valganciclovir",
        "dose_mg": 900,
        "every_h": 12,
        "route": "oral",
        "start": "2026-03-10",
        "indication": "induction",
    }
    return with_(
        BASE,
        assessed_on=assessed_on,
        hiv=retinitis(zone=2, active=True, sight_threatening=False),
        therapy=[induction],
    )


def test_running_induction_keeps_its_stop_date(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_induction("2026-03-20"))  # day 10
    assert decision(doc, "antiviral-treatment")["outcome"] == "recommended"
    [vgc] = regimens(doc)
    assert (vgc["indication"], vgc["dose_mg"], vgc["every_h"]) == ("induction", 900, 12)
    assert (vgc["start"], vgc["stop"]) == ("2026-03-10", "2026-03-31")
    assert "therapy-beyond-evidence" not in alerts(doc)


def test_last_induction_day_still_induction(knowledge: Knowledge) -> None:
    [vgc] = regimens(run(knowledge, on_induction("2026-03-31")))
    assert (vgc["indication"], vgc["stop"]) == ("induction", "2026-03-31")


def test_induction_overrun_steps_down_to_maintenance(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_induction("2026-04-05"))  # 5 days after the planned stop
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "recommended" and "H5" in d["rules"]
    [vgc] = regimens(doc)
    assert (vgc["indication"], vgc["dose_mg"], vgc["every_h"], vgc["start"]) == (
        "maintenance",
        900,
        24,
        "2026-04-05",
    )
    assert "therapy-beyond-evidence" in alerts(doc)
    assert any("2026-03-31" in reason for reason in d["reasons"])


def test_start_art_on_long_maintenance_says_now(knowledge: Knowledge) -> None:
    # MAINTENANCE not on ART: induction 2026-02-01, maintenance since 2026-02-22, assessed
    # 2026-08-15 = 195 days after the first anti-CMV dose (ART due within about 14 days of it)
    raw = with_(MAINTENANCE, hiv=retinitis(zone=2, active=False), observations=cd4(*RECOVERY))
    doc = run(knowledge, raw)
    [art] = [a["message"] for a in doc["alerts"] if a["code"] == "start-art"]
    assert art.startswith("Start ART now: anti-CMV therapy began on 2026-02-01, 195 days ago")
    [vgc] = regimens(doc)
    assert (vgc["indication"], vgc["start"]) == ("maintenance", "2026-02-22")
