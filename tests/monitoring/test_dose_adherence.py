"""A viral load that does not fall on a dose below target: "check dose and adherence" first.

Issue 14 item 6; seed 001 (Onset of valganciclovir resistance in two infants, IJID 2020) proposes
"constant dosage/weight adjustments" before resistance is suspected; Chemaly 2019 (refractory CMV)
requires "appropriately dosed" therapy. Baselines are test_monitoring's INFANT (valganciclovir 96 mg
q12h while the target on 7.0 kg is 16 mg/kg = 112 mg: 14% below) and TRANSPLANT (kidney recipient on
valganciclovir 900 mg q12h from 2025-09-01, baseline load 5,000 IU/mL on 2025-08-29).
"""

from __future__ import annotations

import copy

from cmvcds.domain.vocabulary import AlertCode, Severity

from .test_monitoring import INFANT, TRANSPLANT, Run, alerts, codes, run, until, vl

__all__ = ["run"]


def test_seed_001_rising_load_on_a_low_dose_checks_dose_before_resistance(run: Run) -> None:
    result = run(INFANT)
    [check] = alerts(result, AlertCode.CHECK_DOSING_ADHERENCE)
    assert check.severity == Severity.WARNING
    assert check.message == (
        "plasma IU/mL: the viral load has not fallen (3000 on 2025-12-10, 5000 on 2025-12-20) while the "
        "valganciclovir dose is below its target: check the dose per kg on the current weight, and "
        "adherence, before calling it resistance."
    )
    order = [a.code for a in result.alerts]
    assert order.index(AlertCode.CHECK_DOSING_ADHERENCE) < order.index(
        AlertCode.SUSPECTED_RESISTANCE
    )


def test_seed_001_dose_at_target_no_dose_check(run: Run) -> None:
    raw = copy.deepcopy(INFANT)
    raw["therapy"][1]["dose_mg"] = 112  # 16 mg/kg × 7.0 kg
    result = run(raw)
    assert AlertCode.CHECK_DOSING_ADHERENCE not in codes(result)
    assert AlertCode.SUSPECTED_RESISTANCE in codes(result)


def test_seed_001_falling_load_on_a_low_dose_no_dose_check(run: Run) -> None:
    # up to 2025-11-10: 300 → 250, falling, though the dose is below target
    assert AlertCode.CHECK_DOSING_ADHERENCE not in codes(run(until(INFANT, "2025-11-10")))


def test_transplant_flat_load_on_a_low_dose_is_a_dose_check_not_refractory(run: Run) -> None:
    raw = copy.deepcopy(TRANSPLANT)
    raw["therapy"][1]["dose_mg"] = 450  # target at CrCl ~ 100 mL/min: 900 mg q12h
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "cmv_dna"] + [
        vl("2025-08-29", 5000),
        vl("2025-09-15", 5000),
    ]
    raw["assessed_on"] = "2025-09-15"
    result = run(raw)
    [check] = alerts(result, AlertCode.CHECK_DOSING_ADHERENCE)
    assert check.severity == Severity.WARNING
    assert "has not fallen (5000 at the start, 5000 on 2025-09-15)" in check.message
    assert "before any refractory call" in check.message
    assert not {AlertCode.REFRACTORY_CMV, AlertCode.PROBABLE_REFRACTORY_CMV} & codes(result)


def test_transplant_flat_load_at_target_dose_is_probable_refractory(run: Run) -> None:
    raw = copy.deepcopy(TRANSPLANT)
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "cmv_dna"] + [
        vl("2025-08-29", 5000),
        vl("2025-09-15", 5000),
    ]
    raw["assessed_on"] = "2025-09-15"
    result = run(raw)
    assert AlertCode.PROBABLE_REFRACTORY_CMV in codes(result)
    assert AlertCode.CHECK_DOSING_ADHERENCE not in codes(result)
