"""``fast_init``: a frozen dataclass whose ``__init__`` gives the instance its ``__dict__`` at once.

The ``__init__`` that ``@dataclass(frozen=True)`` generates writes each field through
``object.__setattr__`` (its own ``__setattr__`` refuses), a C call through a slot wrapper per
field. ``fast_init(cls)`` replaces it with one of the same signature that builds the same fields,
in the same order, as one dict and sets it as the new instance's ``__dict__`` (issue 20: the
result values, built by the dozen per case). A new dict, not the instance's own written key by
key: CPython 3.11 makes that one share its keys with the class, and its specialised attribute
reads then fall back to the slow path on every read (ADR 0031). The instance is the same in
every respect the generated ``__init__`` gives (equality, hash, ``repr``, fields, pickling,
``__dict__`` and its order): only for classes whose ``__init__`` does nothing else (no
``__post_init__``, no ``InitVar``, no ``init=False`` field, no slots, no descriptor named as a
field), which is checked when the class is decorated (else ``TypeError``).
``tests/test_results_fast_paths.py`` compares both on many values.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

from cmvcds.domain.code_cache import compiled

__all__ = ["GENERATED", "fast_init"]

C = TypeVar("C", bound=type)

#: The ``__init__`` each decorated class had from ``@dataclass``, kept for the tests that
#: compare the two.
GENERATED: dict[type, Any] = {}

#: The default-factory marker of the generated ``__init__`` (as ``dataclasses`` does).
_FACTORY = object()


def fast_init(cls: C) -> C:
    """``cls`` (a frozen dataclass) with the ``__init__`` described in the module."""
    generated = cls.__init__  # type: ignore[misc]
    if not (is_dataclass(cls) and cls.__dataclass_params__.frozen):  # type: ignore[attr-defined]
        raise TypeError(f"fast_init: {cls.__qualname__} is not a frozen dataclass")
    if hasattr(cls, "__post_init__") or any("__slots__" in c.__dict__ for c in cls.__mro__[:-1]):
        raise TypeError(f"fast_init: {cls.__qualname__} has __post_init__ or slots")
    parameters = list(inspect.signature(generated).parameters.values())[1:]
    if [p.name for p in parameters] != [f.name for f in fields(cls)]:
        raise TypeError(f"fast_init: {cls.__qualname__} has an InitVar or an init=False field")
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY, "_set": object.__setattr__}
    signature: list[str] = []
    body: list[str] = []
    keyword_only = False
    for f, parameter in zip(fields(cls), parameters, strict=True):
        name = f.name
        if hasattr(type(inspect.getattr_static(cls, name, None)), "__set__"):
            raise TypeError(f"fast_init: {cls.__qualname__}.{name} is a descriptor")
        if parameter.kind is parameter.KEYWORD_ONLY and not keyword_only:
            signature.append("*")
            keyword_only = True
        if f.default is not MISSING:
            namespace[f"_default_{name}"] = f.default
            signature.append(f"{name}=_default_{name}")
        elif f.default_factory is not MISSING:
            namespace[f"_factory_{name}"] = f.default_factory
            signature.append(f"{name}=_FACTORY")
            body.append(f"    if {name} is _FACTORY:")
            body.append(f"        {name} = _factory_{name}()")
        else:
            signature.append(name)
    state = ", ".join(f"{name!r}: {name}" for name in (f.name for f in fields(cls)))
    body.append(f"    _set(self, '__dict__', {{{state}}})")
    source = f"def __init__(self, {', '.join(signature)}):\n" + "\n".join(body)
    # source built from the class's own field names, compiled once per machine (``code_cache``)
    exec(compiled(source), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = dict(generated.__annotations__)
    init.__doc__ = generated.__doc__
    GENERATED[cls] = generated
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
