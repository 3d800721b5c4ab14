"""The protocol check of a valacyclovir pregnancy dose is worked out once per patient (issue 20):
what ``protocol_exclusions`` returns, and what it adds to the dose's collected result, equal the
plain code it replaced (the rule run on the collected result itself), on generated pregnancies
and on the same patients with changed creatinine, eGFR, age and dating."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from cmvcds.domain.case import parse_case
from cmvcds.domain.results import PathwayResult, unverified_alert
from cmvcds.engine.dosing import DosePatient, dose_patient_from_case
from cmvcds.engine.dosing.protocol import (
    ProtocolVerdict,
    _case,
    _findings,
    protocol_exclusions,
)
from cmvcds.engine.pregnancy.dating import date_pregnancy
from cmvcds.engine.pregnancy.exclusions import check_exclusions
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.pregnancy import DatingRules, PregnancyProtocol

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from bulk_cases import generate

TODAY = date(2026, 12, 7)


def _plain(patient: DosePatient, knowledge: Knowledge, collected: PathwayResult) -> ProtocolVerdict:
    """The code that was replaced: the rule cites straight into ``collected``."""
    on = patient.assessed_on
    assert on is not None
    since = None
    if patient.pregnancy is not None:
        dating = date_pregnancy(
            patient.pregnancy, knowledge.table("pregnancy_dating", DatingRules), PathwayResult()
        )
        since = dating.lmp if dating is not None else None
    rules = knowledge.table("pregnancy_protocol", PregnancyProtocol)
    found = check_exclusions(_case(patient, on), on, rules, knowledge, collected, since=since)
    passed: tuple[str, ...] = ()
    if not found.excluded and not found.missing:
        passed = (
            "No exclusion criterion of the AIFA protocol applies (rule A7): "
            + _findings(patient, found.findings)
            + ".",
        )
    return ProtocolVerdict(found.excluded, found.missing, found.renal, passed, found.citations)


def _variants(patient: DosePatient) -> list[DosePatient]:
    return [
        patient,
        replace(patient, creatinine_mg_dl=Decimal("1.3"), egfr_ml_min_173=None),
        replace(patient, creatinine_mg_dl=Decimal("0.7"), egfr_ml_min_173=Decimal("85")),
        replace(patient, creatinine_mg_dl=None, egfr_ml_min_173=None, measured_crcl_ml_min=None),
        replace(patient, age_years=Decimal("11")),
        replace(patient, age_years=None),
        replace(patient, pregnancy=None),
    ]


def test_protocol_verdict_once_per_patient_equals_the_plain_rule(pack: Knowledge) -> None:
    patients = [
        dose_patient_from_case(case, case.assessed_on)
        for case in (parse_case(raw, pack, today=TODAY) for raw in generate(400, seed=7))
        if case.pregnancy is not None
    ]
    assert len(patients) > 30
    seen: set[tuple[bool, bool]] = set()
    earlier = unverified_alert("an earlier fact", ("x",))
    for base in patients:
        for patient in _variants(base):
            for prefilled in ((), (earlier,)):
                expected_result = PathwayResult(alerts=list(prefilled))
                expected = _plain(patient, pack, expected_result)
                for _ in range(2):  # computed, then remembered
                    result = PathwayResult(alerts=list(prefilled))
                    assert protocol_exclusions("pregnancy_protocol", patient, pack, result) == (
                        expected
                    )
                    assert result.alerts == expected_result.alerts
                seen.add((bool(expected.excluded), bool(expected.missing)))
    assert len(seen) >= 3


def test_a_moved_assessment_date_is_a_different_patient(pack: Knowledge) -> None:
    raw = next(r for r in generate(200, seed=7) if r.get("pregnancy"))
    patient = dose_patient_from_case(parse_case(raw, pack, today=TODAY), TODAY)
    assert patient.assessed_on is not None
    later = replace(patient, assessed_on=patient.assessed_on + timedelta(days=400))
    for p in (patient, later, patient):
        assert protocol_exclusions("pregnancy_protocol", p, pack, PathwayResult()) == _plain(
            p, pack, PathwayResult()
        )
