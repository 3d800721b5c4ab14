"""The texts of a regimen row that do not depend on the patient are worked out once per pack
(issue 20): each equals the text formatted for the row as the dose calculator did per dose."""

from __future__ import annotations

from cmvcds.engine.dosing.recommend import (
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
