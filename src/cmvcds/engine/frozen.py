"""``frozen``: a frozen dataclass value with its fields written at once, not one by one.

A frozen dataclass's ``__init__`` writes each field through ``object.__setattr__`` (its own
``__setattr__`` refuses): ~0.2 µs a field, 5.6 µs for the 27 fields of a ``DosePatient``, a
quarter of building one (issue 20). The dose calculator builds a patient, a result, a regimen
and a clearance for each dose: ``frozen(cls, **fields)`` writes the same values (defaults
included) into the new instance's ``__dict__`` in one update, 0.7 µs. The value is the same
in every respect ``__init__`` would give (equality, hash, ``repr``, fields, pickling): only for
classes whose ``__init__`` does nothing else (no ``__post_init__``, no ``InitVar``, no slots,
every field set by ``__init__``), which ``_layout`` checks once per class; an unknown or
missing field goes to ``__init__`` for its ``TypeError``. When every field is given (the dose
patient's 27, a dose result's 13), the call's own keyword dict (a new dict at every call, by the
language) becomes the ``__dict__``: no copy of the defaults updated with it (issue 20, ADR 0032:
−0.85 % of the engine's instructions per case).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

__all__ = ["frozen"]

T = TypeVar("T")

#: Per class: its field names, the required ones, the plain defaults and the default factories.
_Layout = tuple[
    frozenset[str], frozenset[str], dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...]
]
_LAYOUTS: dict[type, _Layout] = {}


def _layout(cls: type) -> _Layout:
    """``cls``'s fields as ``frozen`` writes them, read and checked once per class."""
    found = _LAYOUTS.get(cls)
    if found is not None:
        return found
    assert is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert not hasattr(cls, "__post_init__") and not hasattr(cls, "__slots__"), cls
    names: set[str] = set()
    required: set[str] = set()
    defaults: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    for f in fields(cls):
        assert f.init, (cls, f.name)
        names.add(f.name)
        if f.default is not MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not MISSING:
            factories.append((f.name, f.default_factory))
        else:
            required.add(f.name)
    found = _LAYOUTS[cls] = (frozenset(names), frozenset(required), defaults, tuple(factories))
    return found


def frozen(cls: type[T], /, **values: Any) -> T:
    """``cls(**values)`` for a frozen dataclass, its fields written at once (see the module)."""
    names, required, defaults, factories = _layout(cls)
    if len(values) == len(names) and values.keys() == names:
        # every field given: ``values`` is this call's own new dict (see the module)
        state = values
    elif not (required <= values.keys() <= names):
        return cls(**values)  # the TypeError ``__init__`` gives
    else:
        state = dict(defaults)
        for name, factory in factories:
            if name not in values:
                state[name] = factory()
        state.update(values)
    instance = _NEW(cls)
    # a new dict, not the instance's own (CPython 3.11 makes that one share its keys with the
    # class, which the specialised attribute reads then step around: ADR 0031)
    _SET(instance, "__dict__", state)
    return instance


_SET = object.__setattr__
_NEW = object.__new__
