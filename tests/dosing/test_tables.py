"""The drug tables refuse malformed rows: bands that leave a gap or overlap, doses without interval."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import Band, DrugLabel, RegimenRow


def _row(bands: list[dict[str, object]]) -> dict[str, object]:
    return {
        "id": "x",
        "name": "standard",
        "indications": ["induction"],
        "route": "oral",
        "description": "x",
        "citations": ["valcyte-us-label"],
        "bands": bands,
    }


def _band(**edges: object) -> dict[str, object]:
    return {"dose_mg": 450, "every_h": 12, "citations": ["valcyte-us-label"], **edges}


def test_bands_that_tile_are_accepted() -> None:
    RegimenRow.model_validate(
        _row([_band(at_least=60), _band(at_least=40, below=60), _band(below=40)])
    )


@pytest.mark.parametrize(
    "bands",
    [
        [_band(at_least=60), _band(at_least=40, below=59), _band(below=40)],  # gap 59–60
        [_band(at_least=60), _band(at_least=40, at_most=60), _band(below=40)],  # 60 twice
        [_band(at_least=60), _band(at_least=40, below=60)],  # nothing below 40
        [_band(above=1.4), _band(above=1.0, below=1.4), _band(at_most=1.0)],  # 1.4 in no band
    ],
)
def test_bands_with_a_gap_or_overlap_are_refused(bands: list[dict[str, object]]) -> None:
    with pytest.raises(ValidationError, match=r"gap or overlap|must start at 0|open above"):
        RegimenRow.model_validate(_row(bands))


def test_a_band_needs_an_interval_or_schedule() -> None:
    with pytest.raises(ValidationError, match="every_h"):
        Band.model_validate({"dose_mg": 450, "citations": ["valcyte-us-label"]})


def test_every_drug_file_loads_and_each_then_resolves(pack: Knowledge) -> None:
    drugs = {name: table for name, table in pack.tables.items() if name.startswith("drug_")}
    assert set(drugs) >= {
        "drug_valganciclovir",
        "drug_ganciclovir",
        "drug_foscarnet",
        "drug_cidofovir",
        "drug_letermovir",
        "drug_maribavir",
        "drug_valacyclovir",
    }
    for table in drugs.values():
        assert isinstance(table, DrugLabel)
        for row in table.regimens:
            if row.then:
                assert table.regimen(row.then).indications
