"""What a regimen row prints and which label checks apply do not depend on the patient: worked
out once per pack (issue 20), each equals what the dose calculator worked out per dose."""

from __future__ import annotations

from cmvcds.engine.dosing.recommend import (
    _LabelChecks,
    _RowTexts,
    _source,
    drug_label,
    drugs_available,
)
from cmvcds.knowledge import Knowledge


def test_row_texts_equal_the_per_dose_formatting(pack: Knowledge) -> None:
    texts = pack.derived(_RowTexts)
    rows = 0
    for drug in drugs_available(pack):
        label = drug_label(pack, drug)
        for row in label.regimens:
            for _ in range(2):  # worked out, then kept
                text = texts.of(label, row)
                assert text.cited_as == f"{label.drug} regimen {row.id}"
                assert text.regimen == f"Regimen: {row.description} ({_source(row)})."
            rows += 1
    assert rows > 20


def test_active_checks_equal_the_per_dose_filter(pack: Knowledge) -> None:
    """The label checks kept per pack for a region, route and indication are the ones the dose
    calculator filtered for each dose, with the same answers to what its steps ask."""
    derived = pack.derived(_LabelChecks)
    kept = 0
    for drug in drugs_available(pack):
        label = drug_label(pack, drug)
        indications = {i for row in label.regimens for i in row.indications}
        for region in ("us", "eu"):
            for route in (None, "oral", "iv", "intravitreal"):
                for indication in indications | {"none"}:
                    plain = [
                        c
                        for c in label.checks
                        if region in c.regions
                        and (route is None or route in c.routes)
                        and (not c.indications or indication in c.indications)
                    ]
                    active = derived.of(label, region, route, indication)
                    assert active is derived.of(label, region, route, indication)
                    assert list(active.checks) == plain
                    assert active.measures == {c.measure for c in plain}
                    assert active.on_crcl == any(
                        c.measure in ("crcl_ml_min", "crcl_ml_min_kg") for c in plain
                    )
                    assert active.crcl_required == any(
                        c.required for c in plain if c.measure.startswith("crcl")
                    )
                    kept += bool(plain)
    assert kept > 10
