"""Load and validate the knowledge pack: manifest, sources and every table it names.

Tables are listed in ``manifest.yaml`` and in each domain folder's ``tables.yaml``.

The pack is a folder of YAML and CSV files (``data/`` inside this package by default). The
loader validates each file against the pydantic schema the manifest names, refuses any citation
of a source id that ``sources/*.yaml`` does not define, and computes a SHA-256 over every file so
that each assessment can state exactly which knowledge produced it. Errors name the file, the
row and the field.

A pack already validated is read from the compiled cache (``cache.py``) without parsing any YAML
or CSV, so ``yaml`` and ``csv`` are imported by the functions that parse them: ``cmvcds ask``
never needs them otherwise (issue 20, item 4).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import cache as compiled
from cmvcds.knowledge.lazy_tables import LazyTables
from cmvcds.knowledge.schemas.base import Manifest, Source, Strict, TableSpec

__all__ = ["DEFAULT_PACK", "Knowledge", "load_knowledge"]

DEFAULT_PACK = Path(__file__).parent / "data"
CITATION_KEYS = frozenset({"citations", "source", "sources"})

T = TypeVar("T")


@dataclass(frozen=True)
class Knowledge:
    """A validated knowledge pack; ``table(name, Type)`` returns one table, type-checked."""

    version: str
    released: date
    sha256: str
    sources: Mapping[str, Source]
    tables: Mapping[str, Any]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    #: What ``derived`` computed from this pack, by the function that computed it (not pickled).
    _derived: dict[Any, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def derived(self, build: Callable[[Knowledge], T]) -> T:
        """``build(self)``, computed once per pack and then shared: an index or a checked view
        of the tables that every assessment would otherwise rebuild (issue 20: the settings
        specs and the reference profile were recomputed per case). The pack is immutable, so
        the value never goes stale; callers must not mutate it."""
        try:
            value: T = self._derived[build]
        except KeyError:
            value = self._derived[build] = build(self)
        return value

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_derived", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__["_derived"] = {}

    def table(self, name: str, kind: type[T]) -> T:
        """The table ``name``, which must be a ``kind`` (a document model, or ``tuple`` of rows)."""
        try:
            value = self.tables[name]
        except KeyError:
            raise KnowledgeError(f"the knowledge pack has no table {name!r}") from None
        if not isinstance(value, kind):
            raise KnowledgeError(f"table {name!r} is a {type(value).__name__}, not {kind.__name__}")
        return value

    def names_of(self, kind: type) -> list[str]:
        """The names of the tables that are ``kind`` instances (a cached pack answers without
        unpickling its tables: ``LazyTables``)."""
        if isinstance(self.tables, LazyTables):
            return self.tables.names_of(kind)
        return [name for name, table in self.tables.items() if isinstance(table, kind)]

    def rows(self, name: str, kind: type[T]) -> tuple[T, ...]:
        """The rows of the CSV table ``name``, each checked to be a ``kind``."""
        rows = self.table(name, tuple)
        if rows and not isinstance(rows[0], kind):
            raise KnowledgeError(f"rows of {name!r} are not {kind.__name__}")
        return rows

    def stamp(self) -> dict[str, str]:
        """The provenance every output carries: ``{"version", "sha256"}``."""
        return {"version": self.version, "sha256": self.sha256}


def load_knowledge(path: Path | str | None = None) -> Knowledge:
    """Load the pack at ``path`` (the shipped pack when None; cached, it is immutable)."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@cache
def _load_default() -> Knowledge:
    return _load(DEFAULT_PACK)


def _load(root: Path) -> Knowledge:
    """The pack at ``root``: from the compiled cache when its SHA-256 matches, else validated."""
    if not (root / "manifest.yaml").is_file():
        raise KnowledgeError(f"{root}: no manifest.yaml; is this a cmvcds knowledge pack?")
    sha256 = _digest(root)
    cached = compiled.read(sha256)
    if isinstance(cached, Knowledge):
        return cached
    knowledge = _validate_pack(root, sha256)
    compiled.write(knowledge)
    return knowledge


def _validate_pack(root: Path, sha256: str) -> Knowledge:
    manifest = _validate(Manifest, _read_yaml(root / "manifest.yaml"), "manifest.yaml", None)
    sources = _load_sources(root)
    tables: dict[str, Any] = {}
    descriptions: dict[str, str] = {}
    files: dict[str, str] = {}
    for spec in _table_specs(root, manifest):
        if spec.name in tables:
            raise KnowledgeError(f"{spec.file}: table {spec.name!r} is listed twice")
        file = root / spec.file
        if not file.is_file():
            raise KnowledgeError(f"table {spec.name!r} names a missing file {spec.file}")
        model = _schema(spec.schema_, spec.file)
        if file.suffix == ".csv":
            rows = tuple(_csv_rows(file))
            _check_citations(rows, spec.file, sources, csv_rows=True)
            tables[spec.name] = tuple(
                _validate(model, _csv_cells(model, row), spec.file, f"row {i}")
                for i, row in enumerate(rows, start=2)
            )
        else:
            raw = _read_yaml(file)
            _check_citations(raw, spec.file, sources)
            tables[spec.name] = _validate(model, raw, spec.file, None)
        descriptions[spec.name] = spec.description
        files[spec.name] = spec.file
    return Knowledge(
        version=manifest.version,
        released=manifest.released,
        sha256=sha256,
        sources=sources,
        tables=tables,
        descriptions=descriptions,
        files=files,
    )


def _table_specs(root: Path, manifest: Manifest) -> list[TableSpec]:
    """The manifest's tables, then each domain folder's ``tables.yaml`` (paths made pack-relative)."""
    specs = list(manifest.tables)
    for listing in sorted(root.glob("*/tables.yaml")):
        folder = listing.parent.name
        raw = _read_yaml(listing) or []
        if not isinstance(raw, list):
            raise KnowledgeError(f"{folder}/tables.yaml: expected a list of tables")
        for i, entry in enumerate(raw, start=1):
            spec = _validate(TableSpec, entry, f"{folder}/tables.yaml", f"entry {i}")
            specs.append(spec.model_copy(update={"file": f"{folder}/{spec.file}"}))
    return specs


def _load_sources(root: Path) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    folder = root / "sources"
    for file in sorted(folder.glob("*.yaml")):
        relative = f"sources/{file.name}"
        raw = _read_yaml(file)
        if not isinstance(raw, list):
            raise KnowledgeError(f"{relative}: expected a list of sources")
        for i, entry in enumerate(raw, start=1):
            source = _validate(Source, entry, relative, f"entry {i}")
            if source.id in sources:
                raise KnowledgeError(
                    f"{relative}: entry {i}: source id {source.id!r} is defined twice"
                )
            sources[source.id] = source
    if not sources:
        raise KnowledgeError(f"{folder}: no sources defined")
    return sources


def _schema(reference: str, file: str) -> type[Strict]:
    module_name, class_name = reference.split(":")
    try:
        module = importlib.import_module(f"cmvcds.knowledge.schemas.{module_name}")
        model = getattr(module, class_name)
    except (ImportError, AttributeError):
        raise KnowledgeError(f"manifest.yaml: {file}: unknown schema {reference!r}") from None
    if not (isinstance(model, type) and issubclass(model, Strict)):
        raise KnowledgeError(f"manifest.yaml: {file}: schema {reference!r} is not a model")
    return model


def _read_yaml(file: Path) -> Any:
    from cmvcds.knowledge.pyyaml import yaml

    # libyaml's parser when present (ten times faster); the same safe subset of YAML either way.
    parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(file.read_text(encoding="utf-8"), Loader=parser)
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{file.name}: not valid YAML: {error}") from None


def _csv_rows(file: Path) -> Iterator[dict[str, str]]:
    import csv
    import io

    text = file.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("#")]
    yield from csv.DictReader(io.StringIO("".join(lines)))


def _csv_cells(model: type[Strict], row: dict[str, str]) -> dict[str, Any]:
    """Empty cells are absent; cells of tuple-typed fields are ``;``-separated lists."""
    tuple_fields = _tuple_fields(model)
    cells: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        if key in tuple_fields:
            cells[key] = tuple(part.strip() for part in value.split(";") if part.strip())
        else:
            cells[key] = value
    return cells


def _tuple_fields(model: type[Strict]) -> frozenset[str]:
    found = _TUPLE_FIELDS.get(model)
    if found is None:
        found = _TUPLE_FIELDS[model] = frozenset(
            name for name, info in model.model_fields.items() if _is_tuple(info.annotation)
        )
    return found


_TUPLE_FIELDS: dict[type[Strict], frozenset[str]] = {}


def _is_tuple(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_tuple(arg) for arg in typing.get_args(annotation))
    return origin is tuple or annotation is tuple


M = TypeVar("M", bound=Strict)


def _validate(model: type[M], raw: Any, file: str, where: str | None) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "(document)"
        prefix = f"{file}: {where}: " if where else f"{file}: "
        raise KnowledgeError(
            f"{prefix}field {location}: {first['msg']} (got {first.get('input')!r})"
        ) from None


def _check_citations(
    raw: Any, file: str, sources: Mapping[str, Source], *, csv_rows: bool = False
) -> None:
    """Refuse any ``citations``/``source``/``sources`` value that is not a defined source id."""
    for path, key, value in _citation_values(raw, ()):
        ids = value.split(";") if isinstance(value, str) else value
        if not isinstance(ids, list | tuple):
            raise KnowledgeError(
                f"{file}: {_where(path, csv_rows)}: field {key}: expected source ids"
            )
        for source_id in ids:
            source_id = str(source_id).strip()
            if source_id and source_id not in sources:
                raise KnowledgeError(
                    f"{file}: {_where(path, csv_rows)}: field {key}: unknown source id {source_id!r}"
                )


def _citation_values(raw: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
    if isinstance(raw, dict):
        for key, value in raw.items():
            if key in CITATION_KEYS and value is not None and not isinstance(value, dict):
                yield path, str(key), value
            else:
                yield from _citation_values(value, (*path, key))
    elif isinstance(raw, list | tuple):
        for index, item in enumerate(raw):
            yield from _citation_values(item, (*path, index))


def _where(path: tuple[Any, ...], csv_rows: bool) -> str:
    if csv_rows and path:
        return f"row {int(path[0]) + 2}"
    return "/".join(str(part) for part in path) or "(document)"


def _digest(root: Path) -> str:
    """SHA-256 over every file of the pack, in path order, names included."""
    digest = hashlib.sha256()
    for parts in _pack_files(root):
        digest.update("/".join(parts).encode())
        digest.update(b"\0")
        digest.update(root.joinpath(*parts).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _pack_files(root: Path) -> list[tuple[str, ...]]:
    """The pack's files (``__pycache__`` left out) as path components under ``root``, sorted as
    ``sorted(root.rglob("*"))`` sorts them: component by component. Listed with ``os.walk``,
    which, like ``rglob``, does not enter linked folders: a third of ``rglob``'s cost, on every
    cold start (issue 20, item 3)."""
    top = os.fspath(root)
    found: list[tuple[str, ...]] = []
    for folder, _, names in os.walk(top):
        inner = os.path.relpath(folder, top)
        prefix = () if inner == os.curdir else tuple(inner.split(os.sep))
        if "__pycache__" in prefix:
            continue
        found.extend(
            (*prefix, name)
            for name in names
            if name != "__pycache__" and os.path.isfile(os.path.join(folder, name))
        )
    return sorted(found)
