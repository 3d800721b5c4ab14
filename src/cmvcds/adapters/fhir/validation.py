"""FHIR R4 problems of one resource (``fhir.resources.R4B``), cached by content and by shape.

Validating a resource with fhir.resources costs ~90 µs (its models check each element in Python),
~1 ms for the dozen resources of a CDS Hooks call: a third of the call once each patient is a new
one (issue 20, item 5). Two caches, neither changing what is said:

- **by content** (the canonical JSON text): the same resources sent again (an EHR sends a
  patient's resources at every chart opening, the therapy monitor maps a record twice) get the
  problems found the first time, or none when it was found valid;
- **by shape**, for resources found valid: the shape of a resource is its JSON with every
  *primitive value* (a FHIR ``id``, ``code``, ``dateTime``, ``decimal``, ``string``…, told by the
  field's type in the fhir.resources model that validates it) that is itself valid for its type
  replaced by a token naming that type; every other part (element names, nesting, list lengths,
  nulls, values that are not valid for their type, anything the walk does not know the model of)
  is kept as sent. The next patient's Observation from the same EHR has the same shape: other
  ids, dates, values and references, each valid for its type.

Why a valid shape proves a resource valid: fhir.resources checks a primitive value by its type
alone (``fhir_core.types``: patterns, date parsing, the decimal pattern; each a field validator
that sees that value only), and its model-level checks read which elements are present and
whether lists hold nulls (``reject_null_complex_elements``, ``_validate_one_of_many``,
``_validate_required_primitive_elements``), never a value. Two resources of one shape differ
only in primitive values that each pass their type's own validator (the same pydantic validator
the model runs for that field, asked here with the same JSON text), so the model's answer is the
same for both. Only "valid" is shared by shape: problems (their wording names elements) are
cached by content only. ``tests/fhir/test_validation_cache.py`` compares this with a fresh
validation of every resource on thousands of generated and mutated resources.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.types import FhirBase, FhirElementOrResourceBase
from pydantic import TypeAdapter, ValidationError

__all__ = ["fhir_problems", "shape"]

#: Bounded caches: the oldest half is not tracked, the whole is dropped when full (a dict's
#: ``get``/``set``/``clear`` are safe from the worker threads the web pages use).
_LIMIT = 4096
_LEAF_LIMIT = 65536
_LEAF_TEXT = 200  # longest text whose validity is remembered (memory: 65,536 × 200 at most)
_problems_by_content: dict[tuple[str, bytes], tuple[str, ...]] = {}
_valid_shapes: dict[tuple[str, bytes], bool] = {}
_valid_leaves: dict[tuple[int, type, Any], bool] = {}


def fhir_problems(kind: str, resource: dict[str, Any], text: bytes) -> tuple[str, ...]:
    """The FHIR R4 problems of ``resource`` (of type ``kind``; ``text``: its canonical JSON,
    what is validated), at most five, as ``element: message (FHIR R4 kind)``."""
    known = _problems_by_content.get((kind, text))
    if known is not None:
        return known
    try:
        form: tuple[str, bytes] | None = (kind, shape(kind, resource))
    except TypeError:  # not plain JSON (a date object, an integer beyond 64 bits): no shape
        form = None
    if form is not None and form in _valid_shapes:
        problems: tuple[str, ...] = ()
    else:
        problems = validate(kind, text)
    # remembered by content, valid or not: the therapy monitor maps each record twice
    # (``services.map_record``: for its context, then the case), the shape walked once
    if len(_problems_by_content) >= _LIMIT:
        _problems_by_content.clear()
    _problems_by_content[kind, text] = problems
    if not problems and form is not None:
        if len(_valid_shapes) >= _LIMIT:
            _valid_shapes.clear()
        _valid_shapes[form] = True
    return problems


def validate(kind: str, text: bytes) -> tuple[str, ...]:
    """fhir.resources' validation of ``text`` as a ``kind`` (no cache): at most five problems."""
    model = get_fhir_model_class(kind)
    try:
        model.model_validate_json(text)
    except ValidationError as error:
        return tuple(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (FHIR R4 {kind})"
            for e in error.errors()[:5]
        )
    except KeyError as error:
        # fhir.resources looks a contained resource's type up by name and raises KeyError for a
        # type that does not exist ("resourceType": "2026-11-10"; found by the mutation test of
        # tests/fhir/test_validation_cache.py, debt22): a problem of the resource, never a 500
        return (f"contained: unknown resource type {error} (FHIR R4 {kind})",)
    return ()


def shape(kind: str, resource: dict[str, Any]) -> bytes:
    """The shape of ``resource`` (module docstring), as JSON: the key valid resources share.
    ``TypeError`` if it is not plain JSON (only what JSON reads is shaped: a date object is
    written by ``mapping._key`` otherwise than by its own JSON encoding)."""
    return orjson.dumps(_shape(get_fhir_model_class(kind), resource), option=_PLAIN)


_PLAIN = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


@dataclass(frozen=True)
class _Primitive:
    """A field of a primitive type: its values checked by ``adapter`` (the field's validator)."""

    adapter: TypeAdapter[Any]
    token: list[str]
    many: bool
    key: int  # the adapter's: a value valid for one type is valid wherever that type is


@dataclass(frozen=True)
class _Model:
    """A field holding an element of ``model`` (validated by that model whatever its place)."""

    model: type
    many: bool


_AS_SENT = None  # a field whose values are kept as sent (unknown, a choice of models, …)
_Plan = _Primitive | _Model | None
#: Per model, the plan of each of its elements by JSON name, made on first use (bounded: a
#: name the model does not have is not kept; it is kept as sent).
_plans: dict[type, dict[str, _Plan | str]] = {}
_UNPLANNED = "unplanned"
#: One validator per primitive type (an ``Annotated`` type: equal types, one adapter, kept).
_adapters: dict[Any, TypeAdapter[Any]] = {}


def _shape(model: type, data: dict[str, Any]) -> dict[str, Any]:
    plans = _plans.get(model)
    if plans is None:
        plans = _plans[model] = {
            (f.alias or name): _UNPLANNED for name, f in getattr(model, "model_fields", {}).items()
        }
    out: dict[str, Any] = {}
    for key, value in data.items():
        plan = plans.get(key)
        if plan is _UNPLANNED:
            plan = plans[key] = _plan(model, key)
        if plan is None or isinstance(plan, str):
            out[key] = value
        elif not plan.many:
            out[key] = _item(plan, value)
        elif type(value) is list:
            out[key] = [_item(plan, v) for v in value]
        else:
            out[key] = ["=", value]
    return out


_JSON_LEAVES = frozenset({str, int, float, bool})


def _item(plan: _Primitive | _Model, value: Any) -> Any:
    """One value of a field: a shape, a type's token, or ``["=", value]`` (kept as sent; the
    tag keeps a value sent from ever equalling a token or a shape)."""
    kind = type(value)
    if kind is dict:
        return _shape(plan.model, value) if isinstance(plan, _Model) else ["=", value]
    if kind not in _JSON_LEAVES or isinstance(plan, _Model):  # null, array, not JSON: as sent
        return ["=", value]
    leaf = (plan.key, kind, value)
    valid = _valid_leaves.get(leaf)
    if valid is None:
        try:
            plan.adapter.validate_json(orjson.dumps(value))
            valid = True
        except ValidationError:
            valid = False
        if kind is not str or len(value) <= _LEAF_TEXT:  # long texts are not kept
            if len(_valid_leaves) >= _LEAF_LIMIT:
                _valid_leaves.clear()
            _valid_leaves[leaf] = valid
    return plan.token if valid else ["=", value]


def _plan(model: type, key: str) -> _Plan:
    """How the values of the element ``key`` of ``model`` are shaped (None: kept as sent)."""
    fields = getattr(model, "model_fields", {})
    found = [f for name, f in fields.items() if (f.alias or name) == key]
    if len(found) != 1 or found[0].metadata:
        return _AS_SENT
    annotation = found[0].annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(kinds) != 1:
            return _AS_SENT
        annotation = kinds[0]
    many = typing.get_origin(annotation) is list
    if many:
        (annotation,) = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, FhirBase):
        if issubclass(annotation, FhirElementOrResourceBase):  # any resource: kept as sent
            return _AS_SENT
        return _Model(annotation.get_model_klass(), many)
    if typing.get_origin(annotation) is typing.Annotated:
        marks = typing.get_args(annotation)[1:]
        if marks and all(type(m).__module__ == "fhir_core.types" for m in marks):
            name = "|".join(type(m).__name__ for m in marks)
            adapter = _adapters.get(annotation)
            if adapter is None:
                adapter = _adapters[annotation] = TypeAdapter(annotation)
            return _Primitive(adapter, ["\x00fhir", name], many, id(adapter))
    return _AS_SENT
