"""An implausible value is refused with the accepted range in the unit the user typed (outside
probe, session 4, D10: "1.2 umol/L is implausible for creatinine (accepted range 0.1–20 mg/dL)").

The limits are the pack's plausibility policy (cmvcds2026-plausibility-policy: creatinine
0.1–20 mg/dL, weight for age); creatinine µmol/L = mg/dL × 88.4.
"""

from __future__ import annotations

import pytest

from cmvcds.domain.case import parse_case
from cmvcds.errors import CaseFormatError
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY


def _problems(raw: dict[str, object], knowledge: Knowledge) -> list[str]:
    with pytest.raises(CaseFormatError) as refused:
        parse_case(raw, knowledge, today=TODAY)
    return list(refused.value.problems)


def test_micromolar_creatinine_range_in_micromolar(knowledge: Knowledge) -> None:
    raw = {
        "id": "u",
        "assessed_on": "2026-03-06",
        "context": "transplant",
        "observations": [
            {"date": "2026-03-05", "code": "creatinine", "value": 1.2, "unit": "umol/L"}
        ],
    }
    assert _problems(raw, knowledge) == [
        "observations[0].value: 1.2 umol/L is implausible for creatinine "
        "(accepted range 8.84–1768 umol/L, i.e. 0.1–20 mg/dL)"
    ]


def test_infant_weight_in_grams_refused_in_grams(knowledge: Knowledge) -> None:
    raw = {
        "id": "g",
        "assessed_on": "2026-03-20",
        "context": "congenital",
        "patient": {"sex": "male", "birth_date": "2026-03-01"},
        "observations": [{"date": "2026-03-10", "code": "weight", "value": 32000, "unit": "g"}],
    }
    (problem,) = _problems(raw, knowledge)
    assert problem.startswith("observations[0].value: 32000 g is implausible at 9 days of age")
    assert problem.endswith("g below 92 days)") and " kg" not in problem
