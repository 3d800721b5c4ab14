"""Same-day contradictions of every result the dose reads, text results included (review of ADR 0029).

VISTIDE label: cidofovir is contraindicated with urine protein ≥ 100 mg/dL (≥ 2+). Urine protein 30
and 300 mg/dL on one date is one below and one above that limit: the dose must neither be given nor
refused by the order of the lines, but wait for the valid value (insufficient data naming urine
protein), as the contradictory-input alert says. Text results (a dipstick "negative" beside "3+",
CMV DNA "detected" beside "not detected") are results too: two different ones of one measurement
on one date are a contradiction; a numeric result and a dipstick grade are compared as entered.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cmvcds.assess import assess
from cmvcds.domain.vocabulary import Indication
from cmvcds.engine.dosing import dose_patient_from_case, recommend_dose
from cmvcds.engine.same_time import dose_with_contradictions
from cmvcds.knowledge import Knowledge
from tests.outside_probe.conftest import parsed, raw_case


def _cidofovir_case(protein: list[dict[str, Any]]) -> dict[str, Any]:
    raw = copy.deepcopy(raw_case("t-cr-1.0"))
    raw["observations"] = [
        {"date": "2026-03-05", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {"date": "2026-03-05", "code": "anc", "value": 3200, "unit": "cells/uL"},
        *protein,
    ]
    return raw


def _protein(*results: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"date": "2026-03-05", "code": "urine_protein", **r} for r in results]


MG_30 = {"value": 30, "unit": "mg/dL"}
MG_300 = {"value": 300, "unit": "mg/dL"}


@pytest.mark.parametrize(
    "pair",
    [(MG_30, MG_300), ({"result": "negative"}, {"result": "3+"}), (MG_300, {"result": "negative"})],
)
def test_contradictory_urine_protein_is_unknown_in_either_order(
    knowledge: Knowledge, pair: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    answers = []
    for order in (pair, pair[::-1]):
        case = parsed(_cidofovir_case(_protein(*order)), knowledge)
        patient = dose_patient_from_case(case, case.assessed_on)
        assert patient.urine_protein_mg_dl is None and patient.urine_protein_dipstick is None
        dose = recommend_dose(patient, "cidofovir", Indication.INDUCTION, knowledge)
        dose = dose_with_contradictions(dose, case, case.assessed_on)
        answers.append(dose.to_dict())
    assert answers[0] == answers[1]
    assert answers[0]["outcome"] == "insufficient_data"
    assert answers[0]["alerts"][0]["code"] == "contradictory-input"
    assert "urine protein" in answers[0]["alerts"][0]["message"]


def test_one_urine_protein_result_still_decides(knowledge: Knowledge) -> None:
    # 300 mg/dL ≥ 100: the label excludes cidofovir; 30 mg/dL does not
    for result, outcome in ((MG_300, "excluded"), (MG_30, "recommended")):
        case = parsed(_cidofovir_case(_protein(result, result)), knowledge)
        patient = dose_patient_from_case(case, case.assessed_on)
        dose = recommend_dose(patient, "cidofovir", Indication.INDUCTION, knowledge)
        assert dose.outcome.value == outcome


def test_contradictory_dna_text_results_are_named(knowledge: Knowledge) -> None:
    raw = _cidofovir_case([])
    raw["observations"] += [
        {"date": "2026-03-05", "code": "cmv_dna", "specimen": "plasma", "result": "detected"},
        {"date": "2026-03-05", "code": "cmv_dna", "specimen": "plasma", "result": "not_detected"},
    ]
    document = assess(parsed(raw, knowledge), knowledge).to_dict()
    alerts = [a for a in document["alerts"] if a["code"] == "contradictory-input"]
    assert len(alerts) == 1
    assert "detected and not_detected" in alerts[0]["message"]
