"""The units named beside a dose make that dose (probe9 #5).

``cmvcds dose --drug letermovir --indication prophylaxis --organ hsct --co-medication
cyclosporine`` gave 240 mg (PREVYMIS US PI §2.4: 240 mg once daily with cyclosporine) but printed
``formulation: tablet-480`` and "1 × 480 mg tablet, 2 × 240 mg tablets, or 4 × 120 mg pellet
packets": the 480 mg instruction under a 240 mg dose. The units are now computed from the dose
actually recommended; these tests check every drug, regimen row, renal band and co-medication
dose of the pack, and that no administration text types a unit count.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from cmvcds.domain.vocabulary import Indication
from cmvcds.engine.dosing import recommend_dose
from cmvcds.engine.dosing.recommend import _RouteUnits, dose_formulation, unit_lines
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel
from tests.dosing.conftest import make_patient

COUNT = re.compile(r"(\d+) × (\d+(?:\.\d+)?) mg")


def _labels(pack: Knowledge) -> list[DrugLabel]:
    return [t for t in pack.tables.values() if isinstance(t, DrugLabel)]


def _doses(label: DrugLabel) -> list[tuple[str, str, Decimal]]:
    """Every fixed dose a row of ``label`` can give: its bands' and its co-medication doses."""
    overrides = [r.dose_mg for r in label.interactions if r.effect == "dose" and r.dose_mg]
    out = []
    for row in label.regimens:
        if row.outcome is not None or not row.bands:
            continue
        doses = {b.dose_mg for b in row.bands if b.dose_mg is not None}
        if doses:
            doses.update(overrides)
        out += [(row.id, row.route, dose) for dose in sorted(d for d in doses if d)]
    return out


def test_every_unit_line_of_every_dose_multiplies_to_that_dose(pack: Knowledge) -> None:
    checked = 0
    for label in _labels(pack):
        for row_id, route, dose in _doses(label):
            row = next(r for r in label.regimens if r.id == row_id)
            printed = label.formulation(row.formulation)
            lines = unit_lines(label, route, dose)
            for line in lines:
                counts = COUNT.findall(line)
                assert counts, line
                for count, strength in counts:
                    assert int(count) * Decimal(strength) == dose, (label.drug, row_id, dose, line)
                checked += 1
            chosen = dose_formulation(label, route, dose, printed)
            if chosen is not None and chosen.strength_mg is not None and chosen.form == "tablet":
                assert dose % chosen.strength_mg == 0, (label.drug, row_id, dose, chosen.id)
                assert any(f"{chosen.strength_mg.normalize():f} mg" in line for line in lines)
    assert checked >= 20  # letermovir 480/240, maribavir 400/800/1200, valganciclovir, valacyclovir


def test_no_administration_text_of_the_pack_types_a_unit_count(pack: Knowledge) -> None:
    for label in _labels(pack):
        for row in label.regimens:
            for text in row.administration:
                assert not COUNT.search(text), (label.drug, row.id, text)


@pytest.mark.parametrize(
    ("co_medications", "route", "dose", "formulation", "units"),
    [
        (
            [],
            "oral",
            480,
            "tablet-480",
            "Per dose: 1 × 480 mg tablet, or 2 × 240 mg tablets, or 4 × 120 mg pellet packets.",
        ),
        (
            ["cyclosporine"],
            "oral",
            240,
            "tablet-240",
            "Per dose: 1 × 240 mg tablet, or 2 × 120 mg pellet packets.",
        ),
        (["cyclosporine"], "iv", 240, "injection-240", "Per dose: 1 × 240 mg vial."),
    ],
)
def test_letermovir_units_follow_the_cyclosporine_dose(
    pack: Knowledge,
    co_medications: list[str],
    route: str,
    dose: int,
    formulation: str,
    units: str,
) -> None:
    # PREVYMIS US PI §2.3/§2.4: 480 mg once daily, 240 mg once daily with cyclosporine
    patient = make_patient(
        age_years=45,
        weight_kg=65,
        height_cm=165,
        creatinine_mg_dl=0.8,
        sex="female",
        transplant_organ="hsct",
        co_medications=tuple(co_medications),
    )
    result = recommend_dose(patient, "letermovir", Indication.PROPHYLAXIS, pack, route=route)
    assert result.regimen is not None
    assert result.regimen.dose_mg == dose
    assert result.regimen.formulation == formulation
    assert result.regimen.administration[0] == units


_UNIT_NAMES = {
    "tablet": ("tablet", "tablets"),
    "oral_pellets": ("pellet packet", "pellet packets"),
    "injection": ("vial", "vials"),
}


def _unit_lines_before(label: DrugLabel, route: str, dose_mg: Decimal) -> tuple[str, ...]:
    """``unit_lines`` as it was before its units were kept per pack (ADR 0032): the label's
    formulations sorted and read again for every dose."""
    ways = []
    for form in sorted(
        label.formulations,
        key=lambda f: (
            list(_UNIT_NAMES).index(f.form) if f.form in _UNIT_NAMES else 9,
            -(f.strength_mg or 0),
        ),
    ):
        count = None
        if form.route == route and form.strength_mg is not None and form.form in _UNIT_NAMES:
            whole, rest = divmod(dose_mg, form.strength_mg)
            count = int(whole) if rest == 0 and whole >= 1 else None
        if count is not None:
            one, many = _UNIT_NAMES[form.form]
            strength = format(form.strength_mg.normalize(), "f")
            ways.append(f"{count} × {strength} mg {one if count == 1 else many}")
    return (f"Per dose: {', or '.join(ways)}.",) if ways else ()


def test_unit_lines_from_the_units_kept_per_pack_are_the_lines_worked_out_afresh(
    pack: Knowledge,
) -> None:
    """Every label and route of the pack, every dose from 0.5 to 3,000 mg in steps that hit
    and miss whole units (and each label dose): the same lines, from ``route_units`` kept per
    pack (as a recommended dose reads them) and worked out again."""
    units_of = pack.derived(_RouteUnits)
    doses = sorted(
        {Decimal(n) / 2 for n in range(1, 6001, 7)}
        | {Decimal(n) for n in range(10, 3001, 10)}
        | {d for label in _labels(pack) for _, _, d in _doses(label)}
    )
    lines = 0
    for label in _labels(pack):
        for route in sorted({f.route for f in label.formulations} | {"oral", "iv"}):
            units = units_of.of(label, route)
            assert units_of.of(label, route) is units  # kept, not worked out again
            for dose in doses:
                kept = unit_lines(label, route, dose, units)
                assert (
                    kept == _unit_lines_before(label, route, dose) == unit_lines(label, route, dose)
                ), (label.drug, route, dose)
                lines += bool(kept)
    assert lines >= 60  # doses that whole units make (the rest have no line, alike)
