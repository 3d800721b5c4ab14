"""Cidofovir on therapy: the label's start-only limits vs its on-therapy renal rules.

VISTIDE US label (read in the pill2trip.com and rxlist mirrors, and the Stanford HIVdb summary):
"Initiation of therapy with VISTIDE is contraindicated in patients with a serum creatinine
> 1.5 mg/dL, a calculated creatinine clearance ≤ 55 mL/min, or a urine protein ≥ 100 mg/dL
(equivalent to ≥ 2+ proteinuria)"; on therapy, "dosage must be reduced to 3 mg/kg body weight for an
increase in serum creatinine of 0.3-0.4 mg/dL above baseline", and therapy is discontinued for a
rise of ≥ 0.5 mg/dL or ≥ 3+ proteinuria.

Baseline: a 40-year-old man with AIDS and CMV retinitis, 70 kg, creatinine 1.0 mg/dL on
2026-03-01, cidofovir induction from 2026-03-02 then maintenance 5 mg/kg (350 mg) every 2 weeks
from 2026-03-16; assessed 2026-04-20. One change per vignette; the whole expected answer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.engine import monitoring
from cmvcds.knowledge import Knowledge

BASE: dict[str, Any] = {
    "id": "cdv-maintenance",
    "assessed_on": "2026-04-20",
    "context": "hiv",
    "patient": {"sex": "male", "age_years": 40, "weight_kg": 70, "height_cm": 175},
    "observations": [
        {"date": "2026-03-01", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {"date": "2026-03-01", "code": "urine_protein", "value": 0, "unit": "mg/dL"},
    ],
    "therapy": [
        {
            "drug": "cidofovir",
            "dose_mg": 350,
            "every_h": 168,
            "route": "iv",
            "start": "2026-03-02",
            "stop": "2026-03-15",
            "indication": "induction",
        },
        {
            "drug": "cidofovir",
            "dose_mg": 350,
            "every_h": 336,
            "route": "iv",
            "start": "2026-03-16",
            "indication": "maintenance",
        },
    ],
}


def with_obs(*observations: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw["observations"] += list(observations)
    return raw


def creatinine(value: float) -> dict[str, Any]:
    return {"date": "2026-04-19", "code": "creatinine", "value": value, "unit": "mg/dL"}


def protein(grade: str) -> dict[str, Any]:
    return {"date": "2026-04-19", "code": "urine_protein", "result": grade}


@pytest.fixture
def run(
    make_case: Callable[[dict[str, Any]], Case], knowledge: Knowledge
) -> Callable[..., PathwayResult]:
    def go(raw: dict[str, Any]) -> PathwayResult:
        case = make_case(raw)
        return monitoring.evaluate(case, knowledge, case.assessed_on, SiteSettings())

    return go


def renal(result: PathwayResult) -> list[tuple[AlertCode, Severity, str]]:
    wanted = {AlertCode.RENAL_EXCLUSION, AlertCode.DOSE_RENAL_ADJUSTMENT}
    return [(a.code, a.severity, a.message) for a in result.alerts if a.code in wanted]


def test_baseline_stable_kidneys_no_renal_alert(run: Callable[..., PathwayResult]) -> None:
    assert renal(run(with_obs(creatinine(1.0)))) == []


def test_rise_of_0_2_is_below_the_reduction_band(run: Callable[..., PathwayResult]) -> None:
    assert renal(run(with_obs(creatinine(1.2)))) == []


@pytest.mark.parametrize("value", [1.3, 1.4])
def test_rise_of_0_3_to_0_4_reduces_to_3_mg_per_kg(
    run: Callable[..., PathwayResult], value: float
) -> None:
    found = renal(run(with_obs(creatinine(value))))
    rise = f"{value - 1.0:.1f}"
    assert found == [
        (
            AlertCode.DOSE_RENAL_ADJUSTMENT,
            Severity.WARNING,
            f"cidofovir: creatinine {value} mg/dL on 2026-04-19 vs baseline 1 mg/dL on 2026-03-01 "
            f"(rise {rise} mg/dL). Creatinine has risen 0.3–0.4 mg/dL above the pre-treatment baseline: "
            "reduce cidofovir from 5 to 3 mg/kg (label). Now 210 mg (3 mg/kg × 70 kg).",
        )
    ]


def test_rise_of_0_5_discontinues(run: Callable[..., PathwayResult]) -> None:
    found = renal(run(with_obs(creatinine(1.5))))
    # the KDIGO ratio row (1.5 × baseline) also asks to re-dose; the label's rule stops the drug
    assert (
        AlertCode.RENAL_EXCLUSION,
        Severity.CRITICAL,
        "cidofovir: creatinine 1.5 mg/dL on 2026-04-19 vs baseline 1 mg/dL on 2026-03-01 (rise 0.5 mg/dL). "
        "Creatinine has risen ≥ 0.5 mg/dL above the pre-treatment baseline: discontinue cidofovir (label).",
    ) in found
    assert not any("reduce cidofovir from 5 to 3" in m for _, _, m in found)


def test_proteinuria_2_plus_on_maintenance_is_not_a_contraindication(
    run: Callable[..., PathwayResult],
) -> None:
    # ≥ 2+ contraindicates *initiation*; on maintenance it is neither an exclusion nor a stop
    assert renal(run(with_obs(protein("2+")))) == []


def test_proteinuria_3_plus_discontinues(run: Callable[..., PathwayResult]) -> None:
    assert renal(run(with_obs(protein("3+")))) == [
        (
            AlertCode.RENAL_EXCLUSION,
            Severity.CRITICAL,
            "cidofovir: urine protein 3+ on 2026-04-19. Proteinuria ≥ 3+ on therapy: discontinue cidofovir (label).",
        )
    ]


def test_creatinine_1_6_on_maintenance_is_judged_by_its_rise_not_the_start_limit(
    run: Callable[..., PathwayResult],
) -> None:
    # baseline 1.4 (allowed to start, ≤ 1.5); 1.6 on therapy is a rise of 0.2: no label action
    raw = copy.deepcopy(BASE)
    raw["observations"][0]["value"] = 1.4
    raw["observations"].append(creatinine(1.6))
    assert renal(run(raw)) == []


def test_no_baseline_creatinine_is_asked_for(run: Callable[..., PathwayResult]) -> None:
    raw = copy.deepcopy(BASE)
    raw["observations"] = [creatinine(1.5)]
    result = run(raw)
    assert "creatinine:baseline:cidofovir" in {m.item for m in result.missing}
    assert not any(a.code == AlertCode.RENAL_EXCLUSION for a in result.alerts)


def test_cidofovir_held_for_toxicity_rechecks_the_kidneys(
    run: Callable[..., PathwayResult],
) -> None:
    raw = copy.deepcopy(BASE)
    raw["therapy"][1].update(stop="2026-04-13", stop_reason="held_toxicity")
    result = run(raw)
    [held] = [a for a in result.alerts if "held since 2026-04-13" in a.message]
    assert (held.code, held.severity) == (AlertCode.DOSE_RENAL_ADJUSTMENT, Severity.WARNING)
    assert held.message == (
        "cidofovir: held since 2026-04-13 for toxicity, not completed: recheck creatinine and urine protein "
        "before restarting; the restart dose follows the label's renal rules."
    )
    assert {(s.event.value, str(s.earliest)) for s in result.schedule} >= {
        ("renal-function", "2026-04-20"),
        ("urine-protein", "2026-04-20"),
    }
    assert not any(a.code == AlertCode.NEUTROPENIA for a in result.alerts)
