"""The cmvcds-dose/1 JSON: the published schema is current and every kind of answer validates."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cmvcds.adapters.schemas import dose_schema
from cmvcds.engine.dosing import recommend_dose
from cmvcds.knowledge import Knowledge
from tests.dosing.conftest import make_patient
from tests.dosing.test_golden import CASES

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = dose_schema()


def test_published_schema_file_is_current() -> None:
    on_disk = json.loads(
        (ROOT / "docs" / "schema" / "dose.schema.json").read_text(encoding="utf-8")
    )
    assert on_disk == SCHEMA, "run python tools/render_schemas.py"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_golden_answer_validates(pack: Knowledge, case: tuple) -> None:  # type: ignore[type-arg]
    _, _, drug, indication, changes, options, *_ = case
    document = recommend_dose(make_patient(**changes), drug, indication, pack, **options).to_dict()
    jsonschema.validate(document, SCHEMA)


def test_schema_rejects_a_regimen_on_a_refusal(pack: Knowledge) -> None:
    refused = recommend_dose(
        make_patient(dialysis="hemodialysis"), "valganciclovir", "induction", pack
    ).to_dict()
    recommended = recommend_dose(make_patient(), "valganciclovir", "induction", pack).to_dict()
    refused["regimen"] = recommended["regimen"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(refused, SCHEMA)
