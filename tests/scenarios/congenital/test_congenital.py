"""Congenital CMV vignettes (N1–N4, pregnancy-congenital.md §4): a baseline term neonate, then one
change at a time, each with the whole expected answer worked out by hand.

Baseline: a boy born 2026-03-01 at 38+2 weeks, 3.2 kg, urine PCR positive on day 2, microcephaly,
thrombocytopenia, hepatomegaly and bilateral hearing loss, assessed on day 9 (2026-03-10) before
any therapy. Dose: 16 mg/kg × 3.2 kg = 51.2 mg every 12 h (oral solution 50 mg/mL → 1.02 mL);
6 calendar months → stop 2026-09-10.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cmvcds.assess import assess
from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings, parse_settings
from cmvcds.domain.vocabulary import AlertCode, DecisionId, Outcome, ScheduleEvent
from cmvcds.engine import congenital
from cmvcds.knowledge import Knowledge

BASE: dict[str, Any] = {
    "id": "ccmv-term",
    "assessed_on": "2026-03-10",
    "context": "congenital",
    "patient": {"sex": "male", "birth_date": "2026-03-01", "weight_kg": 3.2},
    "congenital": {
        "gestational_age_at_birth": "38+2",
        "birth_weight_kg": 3.2,
        "diagnosis": {"date": "2026-03-03", "specimen": "urine"},
        "manifestations": ["microcephaly", "thrombocytopenia", "hepatomegaly"],
        "hearing": "bilateral_snhl",
    },
    "observations": [
        {"date": "2026-03-03", "code": "cmv_dna", "specimen": "urine", "result": "detected"},
        {"date": "2026-03-09", "code": "weight", "value": 3.2, "unit": "kg"},
    ],
}


def vary(**changes: Any) -> dict[str, Any]:
    """The baseline with dotted keys replaced (``congenital.hearing``, ``assessed_on`` …)."""
    raw = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        target = raw
        for key in path:
            target = target[key]
        target[last] = value
    return raw


Run = Callable[..., PathwayResult]


@pytest.fixture
def run(make_case: Callable[[dict[str, Any]], Case], knowledge: Knowledge) -> Run:
    def go(raw: dict[str, Any], settings: SiteSettings | None = None) -> PathwayResult:
        case = make_case(raw)
        # as assess() runs it: the reference profile under the site's settings (ADR 0006)
        site = (settings or SiteSettings()).with_reference(knowledge)
        return congenital.evaluate(case, knowledge, case.assessed_on, site)

    return go


def decision(result: PathwayResult) -> Any:
    (d,) = [d for d in result.decisions if d.id == DecisionId.VALGANCICLOVIR_CONGENITAL]
    return d


def codes(result: PathwayResult) -> set[AlertCode]:
    return {a.code for a in result.alerts}


def dates(result: PathwayResult, event: ScheduleEvent) -> list[date]:
    return sorted(s.earliest for s in result.schedule if s.event == event)


# --- the term neonate on the 6-month plan ----------------------------------------------------------


def test_term_neonate_gets_six_months_at_16_mg_per_kg(run: Run) -> None:
    result = run(BASE)
    d = decision(result)
    assert d.outcome == Outcome.RECOMMENDED
    assert "kimberlin2015-nejm-valganciclovir" in d.citations
    (regimen,) = result.regimens
    assert (regimen.drug, regimen.indication, regimen.route) == (
        "valganciclovir",
        "congenital",
        "oral",
    )
    assert regimen.dose_mg == pytest.approx(51.2)
    assert regimen.every_h == 12
    assert regimen.dose_mg_per_kg == 16
    assert regimen.oral_solution_ml == pytest.approx(1.02)
    assert (regimen.start, regimen.stop) == (date(2026, 3, 10), date(2026, 9, 10))
    assert result.findings["congenital"]["category"] == "moderate_severe"
    assert result.findings["congenital"]["trial_population"] == "inside"


def test_term_neonate_anc_calendar(run: Run) -> None:
    # Weekly weeks 1–6 from 2026-03-10, week 8, then monthly from month 3 to the stop date.
    assert dates(run(BASE), ScheduleEvent.BLOOD_COUNT) == [
        date(2026, 3, 17),
        date(2026, 3, 24),
        date(2026, 3, 31),
        date(2026, 4, 7),
        date(2026, 4, 14),
        date(2026, 4, 21),
        date(2026, 5, 5),
        date(2026, 6, 10),
        date(2026, 7, 10),
        date(2026, 8, 10),
        date(2026, 9, 10),
    ]


def test_term_neonate_monthly_liver_renal_viral_load_and_dose_review(run: Run) -> None:
    result = run(BASE)
    monthly = [date(2026, m, 10) for m in range(4, 10)]
    for event in (
        ScheduleEvent.LIVER_FUNCTION,
        ScheduleEvent.RENAL_FUNCTION,
        ScheduleEvent.VIRAL_LOAD,
        ScheduleEvent.DOSE_REVIEW,
    ):
        assert dates(result, event) == monthly, event


def test_the_whole_assessment_of_the_term_neonate(
    make_case: Callable[[dict[str, Any]], Case], knowledge: Knowledge
) -> None:
    doc = assess(make_case(BASE), knowledge).to_dict()
    assert [d["id"] for d in doc["decisions"]] == ["valganciclovir-congenital"]
    assert doc["decisions"][0]["outcome"] == "recommended"
    assert len(doc["regimens"]) == 1
    # No therapy yet and no quantified viral load: the monitoring pathway adds nothing.
    assert "viral_load_kinetics" not in doc["findings"]


# --- disease categories ----------------------------------------------------------------------------


def test_isolated_hearing_loss_is_not_treated_and_the_policy_is_flagged(run: Run) -> None:
    result = run(vary(congenital__manifestations=[], congenital__hearing="unilateral_snhl"))
    d = decision(result)
    assert d.outcome == Outcome.NOT_INDICATED
    assert result.findings["congenital"]["category"] == "isolated_snhl"
    assert AlertCode.LOW_EVIDENCE in codes(result)
    assert "leruezville2024-ecci-consensus" in d.citations
    # no therapy calendar; only the long-term follow-up (hearing, development) of every infant
    assert result.regimens == []
    assert {s.event for s in result.schedule} == {
        ScheduleEvent.HEARING,
        ScheduleEvent.NEURODEVELOPMENT,
    }


def test_isolated_hearing_loss_with_site_policy_specialist_review(
    run: Run, knowledge: Knowledge
) -> None:
    site = parse_settings(
        {"congenital_mild_or_isolated_snhl_policy": "specialist_review"}, knowledge
    )
    result = run(vary(congenital__manifestations=[], congenital__hearing="bilateral_snhl"), site)
    assert decision(result).outcome == Outcome.SPECIALIST_REVIEW
    assert result.settings_used == {"congenital_mild_or_isolated_snhl_policy": "specialist_review"}


def test_one_systemic_finding_is_mild(run: Run) -> None:
    result = run(vary(congenital__manifestations=["petechiae"], congenital__hearing="normal"))
    assert decision(result).outcome == Outcome.NOT_INDICATED
    assert result.findings["congenital"]["category"] == "mild"


def test_two_systemic_findings_are_moderate(run: Run) -> None:
    result = run(
        vary(congenital__manifestations=["petechiae", "hepatomegaly"], congenital__hearing="normal")
    )
    assert decision(result).outcome == Outcome.RECOMMENDED


def test_two_systemic_findings_called_mild_by_the_clinician(run: Run) -> None:
    raw = vary(
        congenital__manifestations=["petechiae", "hepatomegaly"], congenital__hearing="normal"
    )
    raw["presentation"] = {"severity": "mild"}
    assert decision(run(raw)).outcome == Outcome.NOT_INDICATED


def test_a_single_cns_finding_is_moderate_severe(run: Run) -> None:
    result = run(vary(congenital__manifestations=["chorioretinitis"], congenital__hearing="normal"))
    assert decision(result).outcome == Outcome.RECOMMENDED


def test_asymptomatic_infant(run: Run) -> None:
    result = run(vary(congenital__manifestations=[], congenital__hearing="normal"))
    assert decision(result).outcome == Outcome.NOT_INDICATED
    assert result.findings["congenital"]["category"] == "asymptomatic"


# --- trial population (N1): outside → specialist review with the dose shown -------------------------


def test_late_presentation_day_45(run: Run) -> None:
    result = run(vary(assessed_on="2026-04-15"))
    d = decision(result)
    assert d.outcome == Outcome.SPECIALIST_REVIEW
    assert AlertCode.OUTSIDE_EVIDENCE_BASE in codes(result)
    assert any("day 45" in r for r in d.reasons)
    (regimen,) = result.regimens
    assert regimen.dose_mg == pytest.approx(51.2)
    assert regimen.start == date(2026, 4, 15) and regimen.stop == date(2026, 10, 15)


@pytest.mark.parametrize(
    ("assessed", "outcome"),
    [("2026-03-31", Outcome.RECOMMENDED), ("2026-04-01", Outcome.SPECIALIST_REVIEW)],
)
def test_start_on_day_30_is_inside_day_31_outside(
    run: Run, assessed: str, outcome: Outcome
) -> None:
    assert decision(run(vary(assessed_on=assessed))).outcome == outcome


@pytest.mark.parametrize(
    ("ga", "outcome"), [("31+6", Outcome.SPECIALIST_REVIEW), ("32+0", Outcome.RECOMMENDED)]
)
def test_preterm_below_32_weeks(run: Run, ga: str, outcome: Outcome) -> None:
    result = run(vary(congenital__gestational_age_at_birth=ga))
    assert decision(result).outcome == outcome
    assert (AlertCode.OUTSIDE_EVIDENCE_BASE in codes(result)) == (
        outcome == Outcome.SPECIALIST_REVIEW
    )
    assert len(result.regimens) == 1


@pytest.mark.parametrize(
    ("kg", "outcome"), [(1.79, Outcome.SPECIALIST_REVIEW), (1.8, Outcome.RECOMMENDED)]
)
def test_weight_edge_1800_g(run: Run, kg: float, outcome: Outcome) -> None:
    raw = vary(patient__weight_kg=kg, congenital__birth_weight_kg=kg)
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "weight"]
    result = run(raw)
    assert decision(result).outcome == outcome
    (regimen,) = result.regimens
    assert regimen.dose_mg == pytest.approx(16 * kg)


def test_missing_gestational_age_is_insufficient(run: Run) -> None:
    raw = vary()
    del raw["congenital"]["gestational_age_at_birth"]
    result = run(raw)
    assert decision(result).outcome == Outcome.INSUFFICIENT_DATA
    assert [m.item for m in result.missing] == ["congenital.gestational_age_at_birth"]


# --- diagnosis ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "outcome"),
    [("2026-03-22", Outcome.RECOMMENDED), ("2026-03-23", Outcome.INSUFFICIENT_DATA)],
)
def test_urine_pcr_by_day_21_confirms_day_22_does_not(run: Run, day: str, outcome: Outcome) -> None:
    raw = vary(assessed_on="2026-03-24", congenital__diagnosis={"date": day, "specimen": "urine"})
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "cmv_dna"]
    result = run(raw)
    assert decision(result).outcome == outcome
    if outcome == Outcome.INSUFFICIENT_DATA:
        assert [m.item for m in result.missing] == ["cmv_dna:dried_blood_spot"]


def test_dried_blood_spot_confirms_a_late_diagnosis_for_specialist_review(run: Run) -> None:
    raw = vary(
        assessed_on="2026-06-01",
        congenital__diagnosis={"date": "2026-05-20", "specimen": "dried_blood_spot"},
    )
    raw["observations"] = [{"date": "2026-05-30", "code": "weight", "value": 5.1, "unit": "kg"}]
    result = run(raw)
    d = decision(result)
    assert d.outcome == Outcome.SPECIALIST_REVIEW
    assert result.findings["congenital"]["diagnosis"]["status"] == "late"
    assert result.regimens[0].dose_mg == pytest.approx(81.6)


def test_no_congenital_block(run: Run) -> None:
    raw = vary()
    del raw["congenital"]
    result = run(raw)
    assert decision(result).outcome == Outcome.INSUFFICIENT_DATA
    assert [m.item for m in result.missing] == ["congenital"]


# --- route and course already started ----------------------------------------------------------------


def test_no_oral_route_gives_iv_ganciclovir_6_mg_per_kg(run: Run) -> None:
    result = run(vary(patient__can_take_oral=False))
    (regimen,) = result.regimens
    assert (regimen.drug, regimen.route, regimen.every_h) == ("ganciclovir", "iv", 12)
    assert regimen.dose_mg == pytest.approx(19.2)
    assert decision(result).outcome == Outcome.RECOMMENDED


def test_weight_gain_recalculates_the_dose(run: Run) -> None:
    # On therapy since 2026-03-10 at 51.2 mg; weighs 4.0 kg on 2026-04-09 → 64 mg every 12 h.
    raw = vary(assessed_on="2026-04-10")
    raw["observations"].append({"date": "2026-04-09", "code": "weight", "value": 4.0, "unit": "kg"})
    raw["therapy"] = [
        {
            "drug": "valganciclovir",
            "dose_mg": 51.2,
            "every_h": 12,
            "route": "oral",
            "start": "2026-03-10",
        }
    ]
    result = run(raw)
    (regimen,) = result.regimens
    assert regimen.dose_mg == pytest.approx(64)
    assert (regimen.start, regimen.stop) == (date(2026, 3, 10), date(2026, 9, 10))
    # The course is in therapy: its calendar comes from the monitoring pathway, not from here
    # (only the long-term follow-up to school age is planned here).
    assert {s.event for s in result.schedule} <= {
        ScheduleEvent.HEARING,
        ScheduleEvent.OPHTHALMOLOGY,
        ScheduleEvent.NEURODEVELOPMENT,
    }
    assert decision(result).outcome == Outcome.RECOMMENDED


def test_weight_gain_makes_the_prescribed_dose_too_low(
    make_case: Callable[[dict[str, Any]], Case], knowledge: Knowledge
) -> None:
    # 51.2 mg prescribed vs 16 mg/kg × 4.0 kg = 64 mg: 20 % below (tolerance 10 %).
    raw = vary(assessed_on="2026-04-10")
    raw["observations"].append({"date": "2026-04-09", "code": "weight", "value": 4.0, "unit": "kg"})
    raw["therapy"] = [
        {
            "drug": "valganciclovir",
            "dose_mg": 51.2,
            "every_h": 12,
            "route": "oral",
            "start": "2026-03-10",
        }
    ]
    doc = assess(make_case(raw), knowledge).to_dict()
    (alert,) = [a for a in doc["alerts"] if a["code"] == "dose-below-target"]
    assert "51.2 mg twice daily" in alert["message"] and "64 mg twice daily" in alert["message"]
    # The calendar now comes from the course in therapy (monitoring pathway), once per date, from
    # the assessment date on: of weeks 1–6 and 8 (03-17 … 04-21, 05-05) and months 3–6 (06-10 …
    # 09-10) after the 03-10 start, the 7 dates on or after 04-10 are plans; past ones are not.
    counts = [s["earliest"] for s in doc["schedule"] if s["event"] == "blood-count"]
    assert counts == [
        "2026-04-14",
        "2026-04-21",
        "2026-05-05",
        "2026-06-10",
        "2026-07-10",
        "2026-08-10",
        "2026-09-10",
    ]


def test_calendar_months_clamp_to_the_end_of_the_month() -> None:
    from cmvcds.engine.monitoring import add_months

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


# --- review M5: no weight at all → missing names it, clean reason ---------------------------------


def test_no_weight_names_weight_as_missing(run: Run) -> None:
    raw = vary(patient={"sex": "male", "birth_date": "2026-03-01"})
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "weight"]
    result = run(raw)
    d = decision(result)
    assert d.outcome == Outcome.INSUFFICIENT_DATA
    assert "weight" in [m.item for m in result.missing]
    assert not any("Regimen:" in r or ".." in r for r in d.reasons)
    assert result.regimens == []


def test_anc_below_500_reason_is_clean(run: Run) -> None:
    raw = vary()
    raw["observations"].append(
        {"date": "2026-03-09", "code": "anc", "value": 450, "unit": "cells/uL"}
    )
    d = decision(run(raw))
    assert d.outcome == Outcome.EXCLUDED
    assert d.reasons[-1] == (
        "No dose from the dosing engine (excluded): Do not give valganciclovir with an ANC below "
        "500 cells/µL (label §5.1)."
    )


# --- review M10: the running course, not a new start ----------------------------------------------
# valganciclovir started 2026-03-10 (day 9 of life): 6 calendar months → stop 2026-09-10.


def on_course(assessed_on: str, stop: str | None = None) -> dict[str, Any]:
    raw = vary(assessed_on=assessed_on)
    course = {"drug": "valganciclovir", "dose_mg": 51.2, "every_h": 12, "route": "oral"}
    raw["therapy"] = [{**course, "start": "2026-03-10", **({"stop": stop} if stop else {})}]
    return raw


def test_running_course_is_continued_to_its_stop_date(run: Run) -> None:
    result = run(on_course("2026-04-10"))
    d = decision(result)
    assert d.outcome == Outcome.RECOMMENDED
    assert any("continue to complete 6 months on 2026-09-10" in r for r in d.reasons)
    assert not any("Start by day" in r for r in d.reasons)
    [regimen] = result.regimens
    assert (regimen.start, regimen.stop) == (date(2026, 3, 10), date(2026, 9, 10))


def test_course_continued_past_its_stop_date_keeps_the_weight_correct_dose(run: Run) -> None:
    # issue 14 item 6 (seed 001: severe cases continued beyond 6 months): not a bare "stop now" but
    # a specialist's risk–benefit decision with today's dose, 16 mg/kg × 3.2 kg = 51.2 mg q12h
    result = run(on_course("2026-09-11"))  # one day after the 6-month stop date
    d = decision(result)
    assert d.outcome == Outcome.SPECIALIST_REVIEW
    assert any(
        "continued beyond the 6 months of trial evidence (ended 2026-09-10)" in r for r in d.reasons
    )
    assert not any("stop now" in r for r in d.reasons)
    [regimen] = result.regimens
    assert (Decimal(str(regimen.dose_mg)), regimen.every_h) == (Decimal("51.2"), 12)
    assert (regimen.start, regimen.stop) == (date(2026, 3, 10), None)


def test_last_day_of_the_course_is_still_continued(run: Run) -> None:
    assert decision(run(on_course("2026-09-10"))).outcome == Outcome.RECOMMENDED


def test_completed_course_no_further_therapy(run: Run) -> None:
    result = run(on_course("2026-10-01", stop="2026-09-10"))
    d = decision(result)
    assert d.outcome == Outcome.NOT_INDICATED
    assert d.reasons == (
        "Course of valganciclovir from 2026-03-10 to 2026-09-10 completed; no further antiviral therapy.",
    )


def test_long_course_beyond_six_months_keeps_its_dose_and_no_past_schedule(
    make_case: Callable[[dict[str, Any]], Case], knowledge: Knowledge
) -> None:
    # on 2026-01-05 a course started 2025-06-10 is 26 days past its 6-month stop (2025-12-10)
    raw = on_course("2026-01-05")
    raw["patient"]["birth_date"] = "2025-06-01"
    raw["congenital"]["diagnosis"] = {"date": "2025-06-04", "specimen": "saliva"}
    raw["observations"] = [
        {"date": "2025-06-04", "code": "cmv_dna", "specimen": "saliva", "result": "detected"},
        {"date": "2026-01-04", "code": "weight", "value": 7.0, "unit": "kg"},
    ]
    raw["therapy"][0]["start"] = "2025-06-10"
    doc = assess(make_case(raw), knowledge).to_dict()
    (d,) = [d for d in doc["decisions"] if d["id"] == "valganciclovir-congenital"]
    # continued beyond the evidence: a specialist's decision with the weight-correct dose
    # (16 mg/kg × 7.0 kg = 112 mg q12h) and the therapy-beyond-evidence warning (issue 14 item 6)
    assert d["outcome"] == "specialist_review"
    assert "therapy-beyond-evidence" in {a["code"] for a in doc["alerts"]}
    [regimen] = [r for r in doc["regimens"] if r["drug"] == "valganciclovir"]
    assert (Decimal(str(regimen["dose_mg"])), regimen["stop"]) == (Decimal("112"), None)
    assert [s for s in doc["schedule"] if s["earliest"] < "2026-01-05"] == []
    # still given: monitored while given (month 7 of the course, 2026-01-10, within the horizon)
    planned = {(s["event"], s["earliest"]) for s in doc["schedule"]}
    assert {("blood-count", "2026-01-10"), ("viral-load", "2026-01-10")} <= planned


def test_iv_ganciclovir_is_a_bridge_without_a_6_month_stop(run: Run) -> None:
    raw = vary()
    raw["patient"]["can_take_oral"] = False
    [regimen] = run(raw).regimens
    assert (regimen.drug, regimen.stop) == ("ganciclovir", None)
    assert regimen.stop_rule is not None and regimen.stop_rule.startswith(
        "until oral valganciclovir is possible; the whole course ends on 2026-09-10"
    )
