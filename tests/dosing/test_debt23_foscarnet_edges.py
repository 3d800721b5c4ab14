"""Foscarnet at every edge of the label's Table 13 (debt23 item 6).

Source: FOSCAVIR / foscarnet sodium injection US label, Dosage and administration, Table 13
(re-read 2026-12-08 in the medlibrary.org copy, page 6): CrCl in mL/min/kg; the induction rows
print "> 1.4", "> 1.0 – 1.4", "> 0.8 – 1.0", "> 0.6 – 0.8", "> 0.5 – 0.6", "> 0.4 – 0.5" and
"< 0.4 Not recommended"; the maintenance rows print the same with "≥ 0.4 – 0.5"; the footnotes
define ">" as "greater than", "≥" as "greater than or equal to" and "<" as "less than". So a
value exactly on an upper edge belongs to the lower row ("> 1.0 – 1.4" holds 1.4), a value just
above it to the row above; 0.4 exactly is dosed in maintenance (≥) and is in no induction row
(neither "> 0.4" nor "< 0.4": specialist review, never guessed); below 0.4 foscarnet is not
recommended. The table below is transcribed from the label, not read from the pack.

The patient: 70 kg, a measured 24-h CrCl in mL/min (value / 70 = mL/min/kg, compared exactly).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cmvcds.domain.vocabulary import Indication, Outcome
from cmvcds.engine.dosing import recommend_dose
from cmvcds.engine.dosing.result import DoseResult
from cmvcds.knowledge import Knowledge

from .conftest import make_patient

#: (upper edge mL/min/kg, the row it closes) per column: mg/kg and every h, top row first.
#: Rows: > 1.4 | > 1.0 – 1.4 | > 0.8 – 1.0 | > 0.6 – 0.8 | > 0.5 – 0.6 | (> or ≥) 0.4 – 0.5
COLUMNS: dict[tuple[str, str], list[tuple[int, int]]] = {
    ("induction", "60-q8h"): [(60, 8), (45, 8), (50, 12), (40, 12), (60, 24), (50, 24)],
    ("induction", "90-q12h"): [(90, 12), (70, 12), (50, 12), (80, 24), (60, 24), (50, 24)],
    ("maintenance", "90"): [(90, 24), (70, 24), (50, 24), (80, 48), (60, 48), (50, 48)],
    ("maintenance", "120"): [(120, 24), (90, 24), (65, 24), (105, 48), (80, 48), (65, 48)],
}
#: the upper edge of rows 1..5 (1.4 closes "> 1.0 – 1.4" …, 0.5 closes "0.4 – 0.5")
EDGES = ["1.4", "1.0", "0.8", "0.6", "0.5"]
WEIGHT = Decimal(70)


def _dose(knowledge: Knowledge, indication: str, name: str, per_kg: Decimal) -> DoseResult:
    patient = make_patient(weight_kg=WEIGHT, measured_crcl_ml_min=per_kg * WEIGHT)
    return recommend_dose(patient, "foscarnet", Indication(indication), knowledge, regimen=name)


CASES = [
    pytest.param(indication, name, edge, row, id=f"{indication}-{name}-{edge}")
    for (indication, name) in COLUMNS
    for row, edge in enumerate(EDGES, start=1)
]


@pytest.mark.parametrize(("indication", "name", "edge", "row"), CASES)
def test_a_value_on_an_upper_edge_is_in_the_lower_row(
    pack: Knowledge, indication: str, name: str, edge: str, row: int
) -> None:
    mg_kg, every = COLUMNS[(indication, name)][row]
    dose = _dose(pack, indication, name, Decimal(edge))
    assert dose.outcome is Outcome.RECOMMENDED
    assert dose.regimen is not None
    assert (dose.regimen.dose_mg_per_kg, dose.regimen.every_h) == (mg_kg, every)
    assert dose.regimen.dose_mg == mg_kg * WEIGHT


@pytest.mark.parametrize(("indication", "name", "edge", "row"), CASES)
def test_a_value_just_above_an_edge_is_in_the_row_above(
    pack: Knowledge, indication: str, name: str, edge: str, row: int
) -> None:
    mg_kg, every = COLUMNS[(indication, name)][row - 1]
    dose = _dose(pack, indication, name, Decimal(edge) + Decimal("0.001"))
    assert dose.outcome is Outcome.RECOMMENDED
    assert dose.regimen is not None
    assert (dose.regimen.dose_mg_per_kg, dose.regimen.every_h) == (mg_kg, every)


@pytest.mark.parametrize(("indication", "name"), list(COLUMNS))
def test_exactly_0_4(pack: Knowledge, indication: str, name: str) -> None:
    dose = _dose(pack, indication, name, Decimal("0.4"))
    if indication == "maintenance":  # "≥ 0.4 – 0.5"
        mg_kg, every = COLUMNS[(indication, name)][5]
        assert dose.outcome is Outcome.RECOMMENDED
        assert dose.regimen is not None
        assert (dose.regimen.dose_mg_per_kg, dose.regimen.every_h) == (mg_kg, every)
    else:  # "> 0.4 – 0.5" and "< 0.4": in neither row
        assert dose.outcome is Outcome.SPECIALIST_REVIEW
        assert dose.regimen is None
    above = _dose(pack, indication, name, Decimal("0.401"))
    assert above.outcome is Outcome.RECOMMENDED
    assert above.regimen is not None
    assert above.regimen.dose_mg_per_kg == COLUMNS[(indication, name)][5][0]


@pytest.mark.parametrize(("indication", "name"), list(COLUMNS))
def test_below_0_4_is_not_recommended(pack: Knowledge, indication: str, name: str) -> None:
    dose = _dose(pack, indication, name, Decimal("0.399"))
    assert dose.outcome is Outcome.EXCLUDED
    assert dose.regimen is None
