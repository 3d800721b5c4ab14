"""``frozen(cls, **fields)`` gives the value ``cls(**fields)`` gives (issue 20: the dose
calculator's frozen results are built without one ``object.__setattr__`` per field)."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from cmvcds.engine.dosing import DosePatient, DoseResult, recommend_dose
from cmvcds.engine.frozen import frozen
from cmvcds.knowledge import Knowledge
from tests.dosing.conftest import make_patient


def _hash(value: Any) -> int | str:
    try:
        return hash(value)
    except TypeError:  # a field holds a dict (a clearance's inputs)
        return "unhashable"


def _same(value: Any) -> None:
    """Rebuilt by ``frozen`` from its own fields, ``value`` is equal in every respect."""
    cls = type(value)
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    built = frozen(cls, **fields)
    assert type(built) is cls
    assert built == value and _hash(built) == _hash(value) and repr(built) == repr(value)
    assert vars(built) == vars(value)
    assert pickle.loads(pickle.dumps(built)) == value
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.__setattr__(next(iter(fields)), None)


def test_a_dose_patient_and_its_results_are_the_same_values(pack: Knowledge) -> None:
    for changes in ({}, {"creatinine_mg_dl": "2.3"}, {"dialysis": "hemodialysis"}):
        patient = make_patient(**changes)
        _same(patient)
        for drug, indication in (("valganciclovir", "induction"), ("foscarnet", "induction")):
            result = recommend_dose(patient, drug, indication, pack)
            _same(result)
            if result.renal is not None:
                _same(result.renal.clearance)
            for phase in result.as_regimens() if result.regimen is not None else ():
                _same(phase)  # the assessment's Regimen of each phase
            regimen = result.regimen
            while regimen is not None:
                _same(regimen)
                regimen = regimen.then


def test_defaults_are_filled_and_bad_fields_raise_as_init_does() -> None:
    patient = make_patient()
    required = {
        f.name: getattr(patient, f.name)
        for f in dataclasses.fields(DosePatient)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    assert frozen(DosePatient, **required) == DosePatient(**required)
    with pytest.raises(TypeError):
        frozen(DosePatient, **required, unknown=1)
    with pytest.raises(TypeError):
        frozen(DoseResult, outcome=None)


def test_every_field_given_builds_on_the_call_s_own_dict() -> None:
    """With every field given, ``frozen`` keeps the call's keyword dict as the value's
    ``__dict__`` (ADR 0032): it is that call's own, so the caller's mapping stays apart."""
    patient = make_patient()
    every = {f.name: getattr(patient, f.name) for f in dataclasses.fields(DosePatient)}
    built = frozen(DosePatient, **every)
    assert vars(built) == vars(patient) and vars(built) is not every
    every["weight_kg"] = "changed"
    assert built == patient and built.weight_kg == patient.weight_kg
