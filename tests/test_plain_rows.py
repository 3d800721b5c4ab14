"""The knowledge rows and the case parts are plain objects validated as models were (ADR 0033).

``Strict`` (``knowledge/schemas/base.py``) makes each class a standard dataclass validated by
pydantic on first use, without ``BaseModel.__getattr__`` (whose hook made every attribute read
slow). These tests hold it to what a frozen ``BaseModel`` with ``extra="forbid"`` did: the same
errors (types, messages, places) for the same bad input, frozen, equal and hashed by fields,
and pickled through the compiled pack cache unchanged.
"""

from __future__ import annotations

import importlib
import pickle
import pkgutil
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

import cmvcds.knowledge.schemas as schemas
from cmvcds.domain import case as case_module
from cmvcds.domain.case import Case, Observation, Patient, Ultrasound
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.base import Source, Strict, TableSpec
from cmvcds.knowledge.schemas.registry import REDCAP_COLUMNS, DictionaryField


def _classes() -> list[type[Strict]]:
    modules = [
        importlib.import_module(f"{schemas.__name__}.{m.name}")
        for m in pkgutil.iter_modules(schemas.__path__)
    ]
    found = {
        value
        for module in [*modules, case_module]
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Strict) and value is not Strict
    }
    return sorted(found, key=lambda kind: (kind.__module__, kind.__qualname__))


def test_no_row_or_case_class_reads_attributes_through_a_hook() -> None:
    classes = _classes()
    assert len(classes) > 150
    slow = [kind.__qualname__ for kind in classes if hasattr(kind, "__getattr__")]
    assert slow == []


def _model_twin(kind: type[Strict]) -> type[BaseModel]:
    """A frozen ``BaseModel`` with the same fields (the same ``FieldInfo``s) as ``kind``."""
    fields: Any = {name: (info.annotation, info) for name, info in kind.model_fields.items()}
    config = ConfigDict(frozen=True, extra="forbid")
    return create_model(kind.__name__, __config__=config, **fields)


BAD_SOURCES: list[Any] = [
    {"id": "a-b", "kind": "label", "title": "T", "year": 2000, "typo": 1},
    {"id": "a-b", "kind": "label", "title": "T"},
    {"id": "A B", "kind": "leaflet", "title": 3, "year": 1900, "accessed": "never"},
    [1, 2],
    "a source",
    None,
]

BAD_CASE_PARTS: list[tuple[type[Strict], Any]] = [
    (Observation, {"date": "2026-01-02", "code": "creatinine", "valu": 1}),
    (Observation, {"code": "creatinine", "value": "64", "fetus": 0, "hours_after_dose": 49}),
    (Observation, {"date": 20260102, "code": "cmv_dna", "value": True}),
    (Patient, {"sex": "f", "dialysis": "yes", "can_take_oral": "yes", "intolerances": "x"}),
    (Ultrasound, {"date": "2026-01-02", "fetus": 1, "bowel_grade": 4, "placenta_mm": 0}),
    (Patient, [("sex", "female")]),
]


@pytest.mark.parametrize(
    ("kind", "raw"), [(Source, raw) for raw in BAD_SOURCES] + BAD_CASE_PARTS
)
def test_refusals_are_a_models(kind: type[Strict], raw: Any) -> None:
    with pytest.raises(ValidationError) as ours:
        kind.model_validate(raw)
    with pytest.raises(ValidationError) as model:
        _model_twin(kind).model_validate(raw)
    assert _comparable(ours.value) == _comparable(model.value)
    assert str(ours.value) == str(model.value)


def _comparable(error: ValidationError) -> list[dict[str, Any]]:
    """The errors, with a validator's exception as its repr (exceptions compare by identity)."""
    found = error.errors(include_url=False)
    for line in found:
        if "error" in line.get("ctx", {}):
            line["ctx"] = {**line["ctx"], "error": repr(line["ctx"]["error"])}
    return list(found)


def test_the_constructor_validates_as_model_validate() -> None:
    raw = {"date": date(2026, 1, 2), "code": "creatinine", "value": Decimal("0.9"), "unit": "mg/dL"}
    assert Observation(**raw) == Observation.model_validate(raw)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Observation(**raw, valu=1)
    with pytest.raises(ValidationError, match="Input should be greater than or equal to 1"):
        Observation(**raw, fetus=0)
    assert TableSpec(name="t", file="f.yaml", schema="core:Vocabularies", description="d").schema_ == (
        "core:Vocabularies"
    )


def test_frozen_equal_and_hashed_by_fields() -> None:
    one = Patient.model_validate({"sex": "female", "age_years": 30})
    same = Patient(sex=case_module.Sex.FEMALE, age_years=Decimal(30))
    other = Patient.model_validate({"sex": "female", "age_years": 31})
    assert one == same and hash(one) == hash(same) and one != other
    assert one != Patient.model_validate({"sex": "female", "age_years": 30, "icu": True})
    with pytest.raises(ValidationError, match="Instance is frozen"):
        one.age_years = Decimal(31)  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Instance is frozen"):
        del one.sex  # type: ignore[misc]
    assert repr(one).startswith("Patient(sex=<Sex.FEMALE: 'female'>, birth_date=None, age_years=")


def test_copies_dumps_and_pickles_keep_the_fields(knowledge: Knowledge) -> None:
    source = next(iter(knowledge.sources.values()))
    assert pickle.loads(pickle.dumps(source)) == source
    assert Source.model_validate(source.model_dump()) == source
    changed = source.model_copy(update={"year": 1999})
    assert changed.year == 1999 and source.year != 1999 and changed.id == source.id
    observation = Observation.model_validate(
        {"date": "2026-01-02", "code": "creatinine", "value": 1, "given": "88.4 µmol/L"}
    )
    assert "given" not in observation.model_dump()  # Field(exclude=True), as before
    for name in knowledge.tables:
        table = knowledge.tables[name]
        assert pickle.loads(pickle.dumps(table)) == table


def test_the_redcap_aliases_are_the_columns() -> None:
    aliases = [info.alias for info in DictionaryField.model_fields.values()]
    assert tuple(aliases) == REDCAP_COLUMNS


def test_the_case_schema_keeps_its_descriptions() -> None:
    schema = Case.model_json_schema()
    assert schema["description"].startswith("One patient on one assessment date")
    assert schema["additionalProperties"] is False
    assert "description" not in schema["$defs"]["Patient"]  # no docstring: none invented
