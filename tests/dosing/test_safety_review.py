"""The defects of the clinical safety review, each with the answer worked out from its source.

C1  valacyclovir 8 g/day in pregnancy must pass the AIFA 648/96 exclusions (rule A7: age < 12
    years, creatinine > 1.1 mg/dL, GFR < 90 mL/min; pregnancy/protocol.yaml), applied by the
    pregnancy pathway's own function, and is for women only.
M7  the congenital (infant) regimens refuse an adult: their population bound is data.
M8  an order far above the label is critical, not a warning (dosing_policy.overdose_severity).
F   foscarnet CrCl exactly 0.4 mL/min/kg: the induction table prints "> 0.4 – 0.5" and "< 0.4",
    so it has no dose (specialist review); the maintenance table prints "≥ 0.4 – 0.5" and doses it.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.vocabulary import AlertCode, DecisionId, Outcome, Severity
from cmvcds.engine.dosing import PrescribedDose, check_dose, dose_patient_from_case, recommend_dose
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel
from tests.dosing.conftest import ASSESSED_ON, make_patient

runner = CliRunner()


def woman(**changes: Any) -> dict[str, Any]:
    """A 30-year-old woman of 64 kg, creatinine 0.6 mg/dL and reported eGFR 118 (no exclusion)."""
    base: dict[str, Any] = {
        "sex": "female",
        "age_years": 30,
        "weight_kg": 64,
        "creatinine_mg_dl": "0.6",
        "egfr_ml_min_173": 118,
    }
    base.update(changes)
    return base


# --- C1: the pregnancy regimen and rule A7 ---------------------------------------------------------


@pytest.mark.parametrize("indication", ["pregnancy-prevention", "fetal-treatment"])
@pytest.mark.parametrize(
    ("changes", "outcome", "reason"),
    [
        ({}, Outcome.RECOMMENDED, "No exclusion criterion of the AIFA protocol applies (rule A7)"),
        # creatinine "> 1.1" is strict: 1.1 passes, 1.11 excludes
        ({"creatinine_mg_dl": "1.1"}, Outcome.RECOMMENDED, "creatinine 1.10 mg/dL"),
        ({"creatinine_mg_dl": "1.11"}, Outcome.EXCLUDED, "Creatinine 1.11 mg/dL on 2026-11-21"),
        # the review's patient: creatinine 1.2 (and whatever the GFR)
        ({"creatinine_mg_dl": "1.2"}, Outcome.EXCLUDED, "Creatinine 1.20 mg/dL on 2026-11-21"),
        # GFR "< 90" is strict: 90 passes, 89 excludes
        ({"egfr_ml_min_173": 90}, Outcome.RECOMMENDED, "GFR 90"),
        ({"egfr_ml_min_173": 89}, Outcome.EXCLUDED, "eGFR 89 mL/min/1.73 m² on 2026-11-21"),
        # a measured creatinine clearance is a GFR the rule accepts
        (
            {"egfr_ml_min_173": None, "measured_crcl_ml_min": 80},
            Outcome.EXCLUDED,
            "Measured creatinine clearance 80 mL/min on 2026-11-21",
        ),
        # age "< 12" is strict: 12 passes, 11 excludes
        ({"age_years": 12}, Outcome.RECOMMENDED, "age 12 years"),
        ({"age_years": 11}, Outcome.EXCLUDED, "Age 11 years < 12 years: excluded (rule A7)."),
    ],
)
def test_rule_a7_refuses_the_8_g_regimen(
    pack: Knowledge, indication: str, changes: dict[str, Any], outcome: Outcome, reason: str
) -> None:
    result = recommend_dose(make_patient(**woman(**changes)), "valacyclovir", indication, pack)
    assert result.outcome is outcome, result.reasons
    assert any(reason in r for r in result.reasons), result.reasons
    if outcome is Outcome.RECOMMENDED:
        assert result.regimen is not None
        assert (result.regimen.dose_mg, result.regimen.every_h) == (2000, 6)
        assert result.regimen.daily_mg == 8000
    else:
        assert result.regimen is None
        assert "aifa2020-648-valacyclovir" in result.citations
        assert "infezmed2021-letter-valacyclovir-648" in result.citations  # the A7 rows' source


def test_renal_exclusion_is_a_critical_alert(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(**woman(creatinine_mg_dl="1.2")), "valacyclovir", "pregnancy-prevention", pack
    )
    found = [a for a in result.alerts if a.code is AlertCode.RENAL_EXCLUSION]
    assert len(found) == 1 and found[0].severity is Severity.CRITICAL
    assert "Creatinine 1.20 mg/dL" in found[0].message


def test_age_exclusion_alone_is_not_renal(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(**woman(age_years=11)), "valacyclovir", "pregnancy-prevention", pack
    )
    assert result.outcome is Outcome.EXCLUDED
    assert not [a for a in result.alerts if a.code is AlertCode.RENAL_EXCLUSION]


def test_creatinine_alone_follows_the_pathway_gfr_rule(pack: Knowledge) -> None:
    """No reported GFR: the pathway's rule computes CKD-EPI 2021 from the creatinine and names it
    (I-4: a computed value ≥ 90 is accepted; one < 90 never excludes and the reported GFR is asked
    for). Woman of 30, CKD-EPI 2021 = 142 × min(Scr/0.7, 1)^-0.241 × max(Scr/0.7, 1)^-1.2 × 0.9938^30
    × 1.012, with 0.9938^30 = 0.82979:
    creatinine 0.6 → 142 × 1.03785 × 0.82979 × 1.012 = 123.76 (shown 123.7) ≥ 90: dosed;
    creatinine 1.0 → 142 × 0.65185 × 0.82979 × 1.012 = 77.73 (shown 77.7) < 90: GFR asked for.
    This pins the pregnancy pathway's I-4 reading; the agreement tests below follow it whatever it is.
    """
    normal = recommend_dose(
        make_patient(**woman(egfr_ml_min_173=None)), "valacyclovir", "pregnancy-prevention", pack
    )
    assert normal.outcome is Outcome.RECOMMENDED
    assert any("CKD-EPI 2021" in r and "123.7" in r for r in normal.reasons), normal.reasons
    low = recommend_dose(
        make_patient(**woman(creatinine_mg_dl="1.0", egfr_ml_min_173=None)),
        "valacyclovir",
        "pregnancy-prevention",
        pack,
    )
    assert low.outcome is Outcome.INSUFFICIENT_DATA
    assert [m.item for m in low.missing] == ["egfr"]
    assert "CKD-EPI 2021" in low.missing[0].why and "77.7" in low.missing[0].why
    assert low.regimen is None


def test_creatinine_alone_above_the_limit_excludes(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(**woman(creatinine_mg_dl="1.2", egfr_ml_min_173=None)),
        "valacyclovir",
        "pregnancy-prevention",
        pack,
    )
    assert result.outcome is Outcome.EXCLUDED


@pytest.mark.parametrize("indication", ["pregnancy-prevention", "fetal-treatment"])
def test_a_man_is_not_indicated(pack: Knowledge, indication: str) -> None:
    result = recommend_dose(make_patient(**woman(sex="male")), "valacyclovir", indication, pack)
    assert result.outcome is Outcome.NOT_INDICATED
    assert result.regimen is None
    assert result.reasons[0].startswith(
        f"Not indicated: no valacyclovir regimen for {indication} applies to a male patient"
    )
    assert "for female patients; this patient is male" in result.reasons[0]
    assert result.citations == ("aifa2020-648-valacyclovir",)


def test_unknown_sex_is_asked_for(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(**woman(sex=None)), "valacyclovir", "pregnancy-prevention", pack
    )
    assert result.outcome is Outcome.INSUFFICIENT_DATA
    assert [m.item for m in result.missing] == ["sex"]


def test_the_protocol_dates_what_it_compares(pack: Knowledge) -> None:
    with pytest.raises(InputError, match="assessment date"):
        recommend_dose(
            make_patient(**woman(assessed_on=None)), "valacyclovir", "pregnancy-prevention", pack
        )


def test_eu_transplant_prophylaxis_is_not_a_pregnancy_regimen(pack: Knowledge) -> None:
    """The A7 exclusions belong to the pregnancy row only: the EU SOT row still doses a man."""
    result = recommend_dose(make_patient(), "valacyclovir", "prophylaxis", pack, region="eu")
    assert result.outcome is Outcome.RECOMMENDED


def dose_json(*flags: str) -> dict[str, Any]:
    result = runner.invoke(app, ["dose", "--drug", "valacyclovir", *flags, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


REVIEW = ["--weight-kg", "64", "--creatinine", "1.2"]


def test_cli_the_reviewed_commands_are_refused() -> None:
    prevention = ["--indication", "pregnancy-prevention"]
    excluded = dose_json(*prevention, "--age", "30", "--sex", "female", *REVIEW)
    assert excluded["outcome"] == "excluded" and excluded["regimen"] is None
    assert any("Creatinine 1.20 mg/dL" in r for r in excluded["reasons"])
    child = dose_json(*prevention, "--age", "11", "--sex", "female", *REVIEW)
    assert child["outcome"] == "excluded"
    assert any(r.startswith("Age 11 years < 12 years") for r in child["reasons"])
    man = dose_json(*prevention, "--age", "30", "--sex", "male", *REVIEW)
    assert man["outcome"] == "not_indicated" and man["regimen"] is None


def test_cli_egfr_flag_reaches_the_rule() -> None:
    flags = ["--indication", "fetal-treatment", "--age", "30", "--sex", "female"]
    ok = dose_json(*flags, "--creatinine", "0.6", "--egfr", "95")
    assert ok["outcome"] == "recommended"
    assert (ok["regimen"]["dose_mg"], ok["regimen"]["every_h"]) == (2000, 6)
    low = dose_json(*flags, "--creatinine", "0.6", "--egfr", "85")
    assert low["outcome"] == "excluded"


# --- C1: the dose calculator and the pregnancy pathway agree on the same case ------------------

#: Primary infection by seroconversion at 8+6, assessed at 10+2 (the pregnancy vignettes' baseline).
PREGNANT: dict[str, Any] = {
    "format": "cmvcds-case/1",
    "id": "agreement",
    "assessed_on": "2026-03-02",
    "context": "pregnancy",
    "patient": {"sex": "female", "birth_date": "1992-04-11", "weight_kg": 64, "height_cm": 166},
    "pregnancy": {"lmp": "2025-12-20", "fetuses": 1},
    "observations": [
        {"date": "2026-01-10", "code": "cmv_igg", "result": "negative"},
        {"date": "2026-02-20", "code": "cmv_igg", "result": "positive"},
        {"date": "2026-02-20", "code": "cmv_igm", "result": "positive"},
        {"date": "2026-02-20", "code": "cmv_igg_avidity", "result": "low"},
        {"date": "2026-02-22", "code": "cmv_dna", "specimen": "urine", "result": "detected"},
    ],
    "ultrasound": [{"date": "2026-02-27", "findings": []}],
}


def pregnant(
    creatinine: Decimal | None,
    egfr: int | None,
    birth_date: str = "1992-04-11",
    day: str = "2026-02-20",
) -> dict[str, Any]:
    raw = copy.deepcopy(PREGNANT)
    raw["patient"]["birth_date"] = birth_date
    if creatinine is not None:
        raw["observations"].append(
            {"date": day, "code": "creatinine", "value": creatinine, "unit": "mg/dL"}
        )
    if egfr is not None:
        raw["observations"].append(
            {"date": day, "code": "egfr", "value": egfr, "unit": "mL/min/1.73m2"}
        )
    return raw


def both(pack: Knowledge, raw: dict[str, Any]) -> tuple[Outcome, Outcome, tuple[str, ...]]:
    """The pathway's prevention outcome, the dose calculator's outcome, and the dose's reasons."""
    case = parse_case(raw, pack, today=ASSESSED_ON)
    decisions = {d.id: d for d in assess(case, pack).result.decisions}
    decision = decisions[DecisionId.VALACYCLOVIR_PREVENTION]
    dose = recommend_dose(
        dose_patient_from_case(case, case.assessed_on), "valacyclovir", "pregnancy-prevention", pack
    )
    for reason in dose.reasons:
        if "excluded (rule A7)" in reason:
            assert reason in decision.reasons  # the same words: the same function decided
    return decision.outcome, dose.outcome, dose.reasons


@pytest.mark.parametrize(
    ("creatinine", "egfr", "birth_date", "outcome"),
    [
        (Decimal("0.62"), 118, "1992-04-11", Outcome.RECOMMENDED),
        (Decimal("1.2"), 118, "1992-04-11", Outcome.EXCLUDED),
        (Decimal("0.62"), 85, "1992-04-11", Outcome.EXCLUDED),
        (Decimal("0.62"), 118, "2014-06-01", Outcome.EXCLUDED),  # 11 years old on 2026-03-02
        # creatinine alone: whatever the pathway's GFR rule concludes, both conclude it
        (Decimal("0.62"), None, "1992-04-11", None),
        (Decimal("1.0"), None, "1992-04-11", None),
    ],
)
def test_assess_and_dose_agree(
    pack: Knowledge,
    creatinine: Decimal,
    egfr: int | None,
    birth_date: str,
    outcome: Outcome | None,
) -> None:
    pathway, dose, reasons = both(pack, pregnant(creatinine, egfr, birth_date))
    assert pathway is dose, reasons
    if outcome is not None:
        assert dose is outcome, reasons


def test_a_creatinine_from_before_the_pregnancy_does_not_count_in_either(pack: Knowledge) -> None:
    """Results older than the LMP (2025-12-20) are not this pregnancy's baseline (I-9)."""
    pathway, dose, _ = both(pack, pregnant(Decimal("0.62"), 118, day="2025-12-01"))
    assert pathway is Outcome.INSUFFICIENT_DATA and dose is Outcome.INSUFFICIENT_DATA


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    creatinine=st.decimals(min_value=Decimal("0.4"), max_value=Decimal("2.0"), places=2),
    egfr=st.one_of(st.none(), st.integers(60, 130)),
    age=st.integers(10, 45),  # under 10 a pregnancy is refused as implausible (probe8 W4)
)
def test_assess_and_dose_agree_on_exclusion(
    pack: Knowledge, creatinine: Decimal, egfr: int | None, age: int
) -> None:
    pathway, dose, reasons = both(pack, pregnant(creatinine, egfr, f"{2026 - age - 1}-04-11"))
    assert (pathway is Outcome.EXCLUDED) == (dose is Outcome.EXCLUDED), reasons
    if dose is Outcome.RECOMMENDED:
        assert pathway is Outcome.RECOMMENDED


# --- M7: the congenital regimens are for infants ----------------------------------------------


@pytest.mark.parametrize(("drug", "dose_mg"), [("valganciclovir", 128), ("ganciclovir", 48)])
def test_congenital_regimen_refuses_an_adult(pack: Knowledge, drug: str, dose_mg: int) -> None:
    adult = recommend_dose(make_patient(age_years=40, weight_kg=70), drug, "congenital", pack)
    assert adult.outcome is Outcome.SPECIALIST_REVIEW
    assert adult.regimen is None
    assert adult.reasons[-1].endswith("age 40 y (480 months) above 11 months")
    assert [a.code for a in adult.alerts] == [AlertCode.OUTSIDE_EVIDENCE_BASE]
    # the bound, in whole months: 11 months is an infant (16 or 6 mg/kg × 8 kg), 12 is not
    infant = make_patient(age_years=0, age_months=11, weight_kg=8, creatinine_mg_dl=None)
    dosed = recommend_dose(infant, drug, "congenital", pack)
    assert dosed.outcome is Outcome.RECOMMENDED
    assert dosed.regimen is not None and dosed.regimen.dose_mg == dose_mg
    toddler = make_patient(age_years=1, age_months=12, weight_kg=9, creatinine_mg_dl=None)
    assert recommend_dose(toddler, drug, "congenital", pack).outcome is Outcome.SPECIALIST_REVIEW


def test_congenital_without_age_asks_for_it(pack: Knowledge) -> None:
    result = recommend_dose(
        make_patient(age_years=None, weight_kg="3.5"), "valganciclovir", "congenital", pack
    )
    assert result.outcome is Outcome.INSUFFICIENT_DATA
    assert [m.item for m in result.missing] == ["age"]


def test_cli_congenital_adult_is_refused() -> None:
    result = runner.invoke(
        app,
        ["dose", "--drug", "valganciclovir", "--indication", "congenital", "--age", "40",
         "--weight-kg", "70", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["outcome"] == "specialist_review" and document["regimen"] is None


def test_every_dosing_row_has_its_population_as_data(pack: Knowledge) -> None:
    """A row that doses names whom: an age bound, or the protocol whose exclusions bound it."""
    unbounded = []
    for name, table in pack.tables.items():
        if not isinstance(table, DrugLabel):
            continue
        for row in table.regimens:
            if row.outcome is not None:
                continue
            bounds = (
                row.min_age_years,
                row.max_age_years,
                row.min_age_months,
                row.max_age_months,
                row.protocol_exclusions,
            )
            if all(b is None for b in bounds):
                unbounded.append(f"{name}/{row.id}")
            if "congenital" in row.indications:
                assert row.max_age_months is not None, row.id
            if {"pregnancy-prevention", "fetal-treatment"} & set(row.indications):
                assert row.sexes == ("female",) and row.protocol_exclusions is not None, row.id
    assert unbounded == []


# --- M8: the size of an overdose sets the alert's severity -------------------------------------


def induction(dose_mg: int, every_h: int) -> PrescribedDose:
    return PrescribedDose(
        "valganciclovir", "induction", dose_mg=Decimal(dose_mg), every_h=Decimal(every_h)
    )


def test_r08_four_fold_renal_overdose_is_critical(pack: Knowledge) -> None:
    """CrCl = (140 − 78) × 72 / (72 × 2.0) = 31 mL/min → label 450 mg once daily (25–39 band);
    900 mg twice daily is 1800 mg/day = 4 × 450."""
    patient = make_patient(age_years=78, creatinine_mg_dl=2)
    verdict = check_dose(induction(900, 12), patient, pack)
    assert verdict.status == "renal-adjustment"
    alert = verdict.alerts[0]
    assert alert.code is AlertCode.DOSE_RENAL_ADJUSTMENT and alert.severity is Severity.CRITICAL
    assert "The order is 4× the labelled daily amount (critical at ≥ 2×" in alert.message
    assert "cmvcds2026-dosing-policy" in alert.citations
    assert verdict.suggested is not None
    assert (verdict.suggested.dose_mg, verdict.suggested.every_h) == (450, 24)


@pytest.mark.parametrize(
    ("changes", "order", "status", "severity"),
    [
        # CrCl 50: label 450 mg twice daily = 900 mg/day
        ({"creatinine_mg_dl": 2}, (900, 12), "renal-adjustment", Severity.CRITICAL),  # 2× exactly
        ({"creatinine_mg_dl": 2}, (850, 12), "renal-adjustment", Severity.WARNING),  # 1.89×
        # normal function: label 900 mg twice daily = 1800 mg/day
        ({}, (1800, 12), "above", Severity.CRITICAL),  # 2×
        ({}, (1000, 12), "above", Severity.WARNING),  # 1.11×
        ({}, (450, 12), "below", Severity.WARNING),  # under-dosing stays a warning
    ],
)
def test_severity_scales_with_the_error(
    pack: Knowledge,
    changes: dict[str, Any],
    order: tuple[int, int],
    status: str,
    severity: Severity,
) -> None:
    verdict = check_dose(induction(*order), make_patient(**changes), pack)
    assert verdict.status == status
    assert verdict.alerts[0].severity is severity


# --- F: foscarnet at exactly 0.4 mL/min/kg -----------------------------------------------------


def test_foscarnet_induction_at_0_4_is_not_in_the_label_table(pack: Knowledge) -> None:
    """Measured CrCl 28 mL/min ÷ 70 kg = 0.4 mL/min/kg exactly."""
    result = recommend_dose(
        make_patient(weight_kg=70, measured_crcl_ml_min=28), "foscarnet", "induction", pack
    )
    assert result.outcome is Outcome.SPECIALIST_REVIEW
    assert result.regimen is None
    assert "not covered by the label's induction table" in result.reasons[-1]
    assert result.renal is not None and result.renal.band == "CrCl ≥ 0.4 and ≤ 0.4 mL/min/kg"
