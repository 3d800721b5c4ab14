"""Row models shared by every knowledge table: a cited fact and a bibliographic source.

Every clinical number in cmvcds lives in a row that names its sources (``citations``) and says
whether it has been checked against the primary text (``verified``). The engine reports the
citations of each row it uses and raises an ``unverified-fact`` alert for each unverified one.

The rows (and the case, ``domain/case.py``) are pydantic *dataclasses* (ADR 0033): validated
by pydantic-core exactly as models were, but each instance is a plain object. A
``pydantic.BaseModel`` defines ``__getattr__``, so CPython 3.11 reads every attribute of a model
through its slow hook (``slot_tp_getattr_hook``, 13.5 % of the engine, 22 % of ``parse_case``)
and never specialises the read; a dataclass's attributes are read as any object's. ``Strict``
keeps the few model methods the rest of the code calls (``model_validate``, ``model_dump``,
``model_copy``, ``model_fields``, ``model_json_schema``) with the models' behaviour and error
messages.
"""

import dataclasses
import operator
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self, dataclass_transform

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails

#: What a dataclass validator reports where a model's says otherwise (pydantic-core names the
#: same refusal after a function call's arguments): translated, so every message stays a model's.
_AS_MODEL = {
    "unexpected_keyword_argument": "extra_forbidden",
    "missing_keyword_only_argument": "missing",
    "missing_argument": "missing",
    "dataclass_type": "model_type",
    "dataclass_exact_type": "model_type",
}


def _model_error(error: ValidationError) -> ValidationError:
    """``error`` as a ``BaseModel`` would have raised it (the same types, messages, places)."""
    if not any(line["type"] in _AS_MODEL for line in error.errors(include_url=False)):
        return error
    details: list[InitErrorDetails] = []
    for line in error.errors(include_url=False):
        kind = _AS_MODEL.get(line["type"], line["type"])
        detail: InitErrorDetails = {"type": kind, "loc": line["loc"], "input": line["input"]}
        ctx = line.get("ctx")
        if ctx is not None and kind != "extra_forbidden" and kind != "missing":
            detail["ctx"] = ctx
        details.append(detail)
    return ValidationError.from_exception_data(error.title, details)


def _frozen(instance: object, name: str, value: Any) -> ValidationError:
    """What assigning to a frozen model raises."""
    return ValidationError.from_exception_data(
        type(instance).__name__, [{"type": "frozen_instance", "loc": (name,), "input": value}]
    )


class _Values(Protocol):
    """Reads an instance's field values from its ``__dict__`` (``operator.itemgetter``)."""

    def __call__(self, values: dict[str, Any], /) -> Any: ...


class _NoValues:
    """The ``_Values`` of a class without fields (a callable object: not bound as a method)."""

    def __call__(self, values: dict[str, Any], /) -> tuple[()]:
        return ()


#: One adapter per class: its validator, serializer and JSON schema, built on first use.
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}
#: The fields pydantic collects for each class (``model_fields``), on first use.
_FIELDS: dict[type[Any], dict[str, FieldInfo]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


def _keyword_only(field: FieldInfo) -> FieldInfo:
    """``field`` keyword-only, as every field of the class is: pydantic takes a ``Field()``'s own
    ``kw_only`` (unset: positional), and pydantic-core checks positional fields first, so its
    errors would no longer come in the fields' order (a model's order; tests/test_plain_rows.py)."""
    if field.kw_only is None:
        field.kw_only = True
        field._attributes_set["kw_only"] = True
    return field


class _Fields:
    """``cls.model_fields``: the fields as pydantic collects them, by name (a model's attribute)."""

    def __get__(self, instance: object, owner: type[Any]) -> dict[str, FieldInfo]:
        fields = _FIELDS.get(owner)
        if fields is None:
            from pydantic._internal._config import ConfigWrapper
            from pydantic._internal._fields import collect_dataclass_fields

            config = ConfigWrapper(owner.__pydantic_config__)
            fields = _FIELDS[owner] = collect_dataclass_fields(owner, config_wrapper=config)
        return fields


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(Field,))
class Strict:
    """A frozen row that refuses unknown keys: a typo in knowledge is an error, not a default.

    Each subclass is made a keyword-only standard dataclass when it is defined (its fields,
    nothing generated) with its ``model_config`` as ``__pydantic_config__``; pydantic builds its
    validator on first use (``TypeAdapter``: a pack read from the compiled cache never
    validates a row, and building a pydantic class for each of ~145 classes made a cold
    ``cmvcds assess`` 29 % slower, ADR 0033). Validated as a pydantic dataclass is (the same
    refusals; messages as a model's, ``_model_error``). Frozen as a frozen model is:
    assigning or deleting a field raises pydantic's ``frozen_instance`` error (a
    ``ValueError``); equality and hash are the fields'. pydantic-core, ``cached_property`` and
    ``pickle`` write the instance's ``__dict__`` directly, as they did for models.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    if TYPE_CHECKING:
        model_fields: ClassVar[dict[str, FieldInfo]]
        __pydantic_config__: ClassVar[ConfigDict]
    else:
        model_fields = _Fields()

    #: the instance's field values from its ``__dict__``, in declaration order (per class)
    _values: ClassVar[_Values]
    _names: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        for name in own.get("__annotations__", {}):
            value = own.get(name)
            if isinstance(value, FieldInfo):  # pydantic reads it as the field's default
                setattr(cls, name, dataclasses.field(default=_keyword_only(value)))
        # No ``__init__``, ``__eq__``, ``__hash__``, ``__repr__`` generated for each class (the
        # standard library compiles each on its own); nor a docstring from the signature.
        doc = own.get("__doc__")
        if doc is None:
            cls.__doc__ = "-"
        dataclasses.dataclass(cls, init=False, repr=False, eq=False, kw_only=True)
        cls.__doc__ = doc
        cls.__pydantic_config__ = cls.model_config
        cls._names = names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        cls._values = operator.itemgetter(*names) if names else _NoValues()

    def __init__(self, **data: Any) -> None:
        """Validated as ``model_validate`` validates a mapping (aliases, defaults, checks)."""
        try:
            _adapter(type(self)).validator.validate_python(data, self_instance=self)
        except ValidationError as error:
            raise _model_error(error) from None

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with equal fields (as a model or a dataclass)."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._values(self.__dict__) == other._values(other.__dict__))

    def __hash__(self) -> int:
        """The hash of the fields (as a frozen model's)."""
        return hash(self._values(self.__dict__))

    def __repr__(self) -> str:
        """``Name(field=value, …)``, as a model or a dataclass writes itself."""
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise _frozen(self, name, None)

    @classmethod
    def model_validate(cls, obj: Any) -> Self:
        """``obj`` (a mapping, or an instance) validated into this class, as a model would."""
        try:
            return _adapter(cls).validator.validate_python(obj)  # type: ignore[no-any-return]
        except ValidationError as error:
            raise _model_error(error) from None

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        by_alias: bool | None = None,
        exclude_none: bool = False,
        include: Any = None,
        exclude: Any = None,
    ) -> dict[str, Any]:
        """The fields as a mapping, as ``BaseModel.model_dump`` writes them."""
        return _adapter(type(self)).serializer.to_python(  # type: ignore[no-any-return]
            self, mode=mode, by_alias=by_alias, exclude_none=exclude_none,
            include=include, exclude=exclude,
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with ``update`` written over it, not validated (as ``BaseModel.model_copy``)."""
        copy = object.__new__(type(self))
        state = dict(self.__dict__)
        if update:
            state.update(update)
        object.__setattr__(copy, "__dict__", state)
        return copy

    @classmethod
    def model_json_schema(
        cls, *, by_alias: bool = True, ref_template: str = "#/$defs/{model}",
        mode: Literal["validation", "serialization"] = "validation",
    ) -> dict[str, Any]:
        """The JSON schema of the class, as ``BaseModel.model_json_schema`` gives it."""
        return _adapter(cls).json_schema(by_alias=by_alias, ref_template=ref_template, mode=mode)


class Fact(Strict):
    """A piece of knowledge the engine acts on, with its provenance."""

    citations: tuple[str, ...] = Field(min_length=1)
    verified: bool = True
    note: str | None = None


class SourceKind(StrEnum):
    """What a source is; the answer composer groups statements by it."""

    GUIDELINE = "guideline"
    LABEL = "label"
    RESEARCH = "research"
    REGULATORY = "regulatory"
    DATABASE = "database"
    STANDARD = "standard"


class Source(Strict):
    """One bibliographic entry of ``sources/*.yaml``; ids look like ``kimberlin2015-nejm-valganciclovir``."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
    kind: SourceKind
    authors: tuple[str, ...] = ()
    title: str
    venue: str | None = None
    year: int = Field(ge=1950, le=2100)
    doi: str | None = None
    url: str | None = None
    locator: str | None = None
    accessed: date | None = None
    verified: bool = True
    note: str | None = None

    def citation(self) -> str:
        """The reference as a clinician reads it in a bibliography."""
        authors = ", ".join(self.authors[:3]) + (" et al." if len(self.authors) > 3 else "")
        parts = [p.rstrip(".") for p in (authors, self.title, self.venue, str(self.year)) if p]
        text = ". ".join(parts) + "."
        if self.doi:
            text += f" doi:{self.doi}"
        return text


class TableSpec(Strict):
    """A table: its name, file (relative to the listing's folder) and schema ``module:Model``."""

    name: str
    file: str
    schema_: str = Field(alias="schema", pattern=r"^[a-z_]+:[A-Za-z_]+$")
    description: str


class Manifest(Strict):
    """``manifest.yaml``: the pack's name, version, release date and tables."""

    name: str
    version: str = Field(pattern=r"^\d{4}\.\d{1,2}\.\d+$")
    released: date
    tables: tuple[TableSpec, ...] = ()
