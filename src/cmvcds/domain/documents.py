"""Untrusted YAML/JSON documents (case files, uploads, API bodies, settings) → plain Python values.

Every door that reads a case or a site-settings file calls ``parse_document``, so that a hostile
file is refused the same way everywhere, in bounded time and memory, with one line naming the
problem (``InputError``: exit code 2, HTTP 4xx). A case never needs more than plain mappings,
lists and scalars, so the reader refuses what only an attack or a mistake would contain:

- YAML anchors and aliases (a "billion laughs" file of 390 bytes expands to gigabytes), merge keys,
  explicit tags other than the core ones, several documents in one file;
- a duplicate key in a mapping (YAML and JSON alike: the last one would silently win);
- text that is not UTF-8 (UTF-16/32, Latin-1); a UTF-8 byte-order mark is accepted and dropped;
- more than ``Limits.max_bytes`` bytes, nesting deeper than ``max_depth``, more than ``max_nodes``
  values, a string longer than ``max_string`` characters or a key longer than ``max_key``;
- control characters (other than tab and line breaks) in any key or string;
- numbers written with more than ``max_number_chars`` characters, and NaN or ±Infinity.

The YAML is scanned as a stream of events (libyaml when available) before anything is built, so an
alias or a deep nesting is refused before it costs memory. Pure: bytes in, values out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from cmvcds.errors import DocumentError
from cmvcds.knowledge.pyyaml import yaml

__all__ = ["DEFAULT_LIMITS", "DocumentError", "Limits", "parse_document"]

_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
) | {"!"}
#: C0 controls except tab/LF/CR, DEL, C1 controls, and the bidirectional overrides/isolates.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
#: The JSON escapes that can put a control character into a text (``\b``, ``\f``, ``\u000X``
#: to ``\u001X``, ``\u007F``, ``\u008X``/``\u009X``, ``\u202X``/``\u206X``, a surrogate
#: ``\uD8XX``-``\uDFXX``; upper or lower case hex): without one, every text of the document is
#: a piece of the text already checked whole. A letter such as ``\u00b5`` (µ, as Python's
#: ``json.dumps`` writes it) is none of them (issue 20: such a line took the full walk).
_ESCAPED_CONTROL = re.compile(r"\\(?:[bf]|u00[0189]|u007[fF]|u20[26]|u[dD][89a-fA-F])")
#: Every digit byte as b"0" (``_orjson_safe`` looks for runs of digits).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NUMBER_LIKE = re.compile(r"^[-+]?[0-9._]")
_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


@dataclass(frozen=True)
class Limits:
    """Bounds of an untrusted document; far above any real case or EHR Bundle, far below harm."""

    max_bytes: int = 2_000_000
    max_depth: int = 40
    max_nodes: int = 200_000
    max_string: int = 100_000
    max_key: int = 200
    max_number_chars: int = 40


DEFAULT_LIMITS = Limits()


def parse_document(
    data: bytes | str,
    name: str = "case",
    kind: Literal["yaml", "json", "auto"] = "auto",
    limits: Limits = DEFAULT_LIMITS,
) -> Any:
    """The value of a YAML or JSON document, or ``DocumentError`` naming ``name`` and the problem.

    ``kind="auto"`` goes by the name's suffix (``.json``, ``.yaml``/``.yml``), else reads JSON
    when the text starts with ``{`` or ``[`` and YAML otherwise.
    """
    text = _text(data, name, limits)
    suffix = name.lower().rpartition(".")[2]
    as_json = kind == "json" or (
        kind == "auto"
        and (
            suffix == "json" or (suffix not in ("yaml", "yml") and text.lstrip()[:1] in ("{", "["))
        )
    )
    return _json(text, name, limits) if as_json else _yaml(text, name, limits)


def _fail(name: str, message: str) -> DocumentError:
    return DocumentError(message, field=name)


def _check_characters(value: str, name: str, where: str = "") -> None:
    found = _CONTROL.search(value)
    if found is not None:
        code = ord(found.group())
        kind = (
            "lone surrogate (half of a UTF-16 pair, not a character)"
            if 0xD800 <= code <= 0xDFFF
            else "directional formatting character" if code >= 0x202A else "control character"
        )
        raise _fail(name, f"{where}{kind} U+{code:04X} is not accepted")


def _text(data: bytes | str, name: str, limits: Limits) -> str:
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > limits.max_bytes:
        raise _fail(name, f"larger than the {limits.max_bytes:,} bytes accepted ({size:,})")
    if isinstance(data, str):
        text = data
    else:
        for bom, encoding in _BOMS.items():
            if data.startswith(bom):
                raise _fail(name, f"the file is {encoding}; save it as UTF-8")
        head = data[:4096]
        if head.count(b"\x00") * 4 >= len(head) > 0:  # ASCII in UTF-16/32: a NUL in every 2 or 4
            raise _fail(name, "the file is UTF-16 or UTF-32 (NUL bytes); save it as UTF-8")
        if b"\x00" in data:
            where = data.index(b"\x00")
            raise _fail(name, f"a NUL byte at offset {where}: NUL bytes are not text; remove it")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _fail(
                name,
                f"not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
                "save the file as UTF-8",
            ) from None
    text = text.removeprefix("\ufeff")
    found = _CONTROL.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        _check_characters(found.group(), name, f"line {line}: ")
    return text


# --- JSON -------------------------------------------------------------------------------------


def _json(text: str, name: str, limits: Limits) -> Any:
    """The value of a JSON text: by orjson (compiled) when its answer is provably the standard
    library's below, else by ``_json_checked``, which names the problem (issue 20). orjson is
    imported here, on the first JSON document: with its ``uuid`` and ``platform`` it costs a
    YAML case's cold ``cmvcds assess`` ~5 ms it never uses (issue 20, item 3)."""
    import orjson

    characters = _ESCAPED_CONTROL.search(text) is not None
    if _orjson_safe(text, limits):
        try:
            value = orjson.loads(text)
            if _within_limits(value, text, name, limits, characters) and _no_key_dropped(
                value, text
            ):
                return value
        except (orjson.JSONDecodeError, DocumentError):
            pass  # the standard library's reading names the first problem
    return _json_checked(text, name, limits, characters)


def _within_limits(value: Any, text: str, name: str, limits: Limits, characters: bool) -> bool:
    """Whether ``value`` keeps every bound of ``_check_tree``. A text of fewer characters than
    ``max_string`` has no longer string, and one of fewer than ``2 × max_nodes`` has no more
    values (each takes a character and a separator); without an escape that can make a control
    character, ``_text`` already searched every string. Then only the depth and the key lengths
    are left, checked a level at a time over the containers alone (a case line has ~50 values
    but ~15 containers): a fifth of the cost of the full walk, which runs otherwise."""
    if characters or len(text) > min(limits.max_string, 2 * limits.max_nodes - 1):
        _check_tree(value, name, limits, characters=characters)
        return True
    max_key = limits.max_key
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limits.max_depth:
            return False
        inner: list[Any] = []
        for item in level:
            children: Iterable[Any] = item
            if type(item) is dict:
                if item and max(map(len, item)) > max_key:
                    return False
                children = item.values()
            inner += [c for c in children if type(c) is dict or type(c) is list]
        level = inner
    return True


def _no_key_dropped(value: Any, text: str) -> bool:
    """Whether orjson kept every key: each key brings one ':' to the text, as does each ':'
    inside a text, and orjson writes them all back (it never escapes a ':'; ``_orjson_safe``
    sent an escaped one the long way); a duplicate key it kept once takes its ':' away.
    Counted in C on both sides."""
    import orjson  # already imported by the caller: a lookup in sys.modules

    return orjson.dumps(value).count(b":") == text.count(":")


def _orjson_safe(text: str, limits: Limits) -> bool:
    """No literal orjson reads otherwise than the standard library, none the limit refuses, no
    escaped ':'. A number literal has at most four characters that are not digits, so one of
    more than 40 characters (the default limit), as any integer beyond 64 bits (which orjson
    turns into a float), has a run of at least 12 digits: such a text, or a stricter limit,
    takes the checked reading."""
    if limits.max_number_chars < DEFAULT_LIMITS.max_number_chars:
        return False
    raw = text.encode("utf-8", "surrogatepass")
    return b"\\u003" not in raw and b"0" * 12 not in raw.translate(_DIGITS_AS_ZERO)


def _json_checked(text: str, name: str, limits: Limits, characters: bool) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for key, value in items:
            if key in mapping:
                raise _fail(name, f"duplicate key {_show(key)} (each key may appear once)")
            mapping[key] = value
        return mapping

    def number(kind: str) -> Any:
        def convert(literal: str) -> Any:
            if len(literal) > limits.max_number_chars:
                raise _fail(name, f"number {literal[:20]}… is too long ({len(literal)} characters)")
            value = int(literal) if kind == "int" else float(literal)
            if isinstance(value, float) and not math.isfinite(value):
                raise _fail(name, f"number {literal} is out of range")
            return value

        return convert

    def constant(literal: str) -> Any:
        raise _fail(name, f"{literal} is not a number JSON accepts")

    try:
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_int=number("int"),
            parse_float=number("float"),
            parse_constant=constant,
        )
    except json.JSONDecodeError as error:
        raise _fail(
            name, f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise _fail(name, f"nested more than {limits.max_depth} levels deep") from None
    _check_tree(value, name, limits, characters=characters)
    return value


def _check_tree(value: Any, name: str, limits: Limits, *, characters: bool = True) -> None:
    """Depth, size and string bounds of a parsed JSON value (iterative: no recursion); with
    ``characters``, each key and text is searched for control characters too (needed only when
    the document has an escape that can make one: ``_text`` checked the raw text)."""
    max_nodes, max_depth, max_key, max_string = (
        limits.max_nodes,
        limits.max_depth,
        limits.max_key,
        limits.max_string,
    )
    control = _CONTROL.search
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    nodes = 0
    while stack:
        item, depth = pop()
        nodes += 1
        if nodes > max_nodes:
            raise _fail(name, f"more than {max_nodes:,} values")
        kind = type(item)  # json.loads gives exact dicts, lists and texts
        if kind is dict:
            if depth > max_depth:
                raise _fail(name, f"nested more than {max_depth} levels deep")
            for key, child in item.items():
                if len(key) > max_key:
                    raise _fail(name, f"a key of {len(key):,} characters (at most {max_key})")
                if characters and control(key) is not None:
                    _check_characters(key, name, f"key {_show(key)}: ")
                push((child, depth + 1))
        elif kind is list:
            if depth > max_depth:
                raise _fail(name, f"nested more than {max_depth} levels deep")
            stack.extend((child, depth + 1) for child in item)
        elif kind is str:
            if len(item) > max_string:
                raise _fail(name, f"a text of {len(item):,} characters (at most {max_string:,})")
            if characters and control(item) is not None:
                _check_characters(item, name)


# --- YAML -------------------------------------------------------------------------------------


class _Constructor(_PARSER):  # type: ignore[misc,valid-type]
    """The safe loader, refusing duplicate keys, non-text keys and non-finite numbers."""

    document_name = "case"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _fail(
                    self.document_name,
                    f"line {key_node.start_mark.line + 1}: a key must be text, not a "
                    f"{'list' if isinstance(key_node, yaml.SequenceNode) else 'mapping'}",
                )
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _fail(
                    self.document_name,
                    f"line {key_node.start_mark.line + 1}: duplicate key {_show(key)} "
                    f"(first at line {seen[key]}; each key may appear once)",
                )
            seen[key] = key_node.start_mark.line + 1
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value: float = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _fail(
                self.document_name,
                f"line {node.start_mark.line + 1}: {node.value} is not an accepted number",
            )
        return value


_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)


def _yaml(text: str, name: str, limits: Limits) -> Any:
    _scan(text, name, limits)
    loader = _Constructor(text)
    loader.document_name = name
    try:
        return loader.get_single_data()
    except DocumentError:
        raise
    except yaml.YAMLError as error:
        raise _fail(name, _yaml_message(error, limits)) from None
    finally:
        loader.dispose()


def _scan(text: str, name: str, limits: Limits) -> None:
    """Refuse aliases, anchors, odd tags, several documents and out-of-bound sizes — from the
    event stream, before a single node is built."""
    depth = documents = nodes = 0
    key_next: list[bool | None] = []  # per open collection: is the next node a key? (None: list)
    try:
        for event in yaml.parse(text, Loader=_PARSER):
            line = f"line {event.start_mark.line + 1}: " if event.start_mark else ""
            if isinstance(event, yaml.AliasEvent):
                raise _fail(name, f"{line}YAML aliases (*{event.anchor}) are not accepted")
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _fail(name, f"{line}one document per file (found a second '---')")
                continue
            if not isinstance(event, yaml.NodeEvent):
                if isinstance(event, yaml.CollectionEndEvent):
                    depth -= 1
                    key_next.pop()
                    _after_value(key_next)
                continue
            if event.anchor is not None:
                raise _fail(name, f"{line}YAML anchors (&{event.anchor}) are not accepted")
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _CORE_TAGS:
                raise _fail(name, f"{line}the YAML tag {_show(tag)} is not accepted")
            nodes += 1
            if nodes > limits.max_nodes:
                raise _fail(name, f"more than {limits.max_nodes:,} values")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limits.max_depth:
                    raise _fail(name, f"{line}nested more than {limits.max_depth} levels deep")
                key_next.append(True if isinstance(event, yaml.MappingStartEvent) else None)
                continue
            assert isinstance(event, yaml.ScalarEvent)
            is_key = bool(key_next) and key_next[-1] is True
            _check_scalar(event, is_key, name, line, limits)
            _after_value(key_next)
    except DocumentError:
        raise
    except yaml.YAMLError as error:
        raise _fail(name, _yaml_message(error, limits)) from None


def _after_value(key_next: list[bool | None]) -> None:
    """In a mapping, keys and values alternate: a finished node flips what comes next."""
    if key_next and key_next[-1] is not None:
        key_next[-1] = not key_next[-1]


def _check_scalar(
    event: yaml.ScalarEvent, is_key: bool, name: str, line: str, limits: Limits
) -> None:
    value: str = event.value
    plain = not event.style
    if is_key and value == "<<" and plain:
        raise _fail(name, f"{line}YAML merge keys (<<) are not accepted")
    if is_key and len(value) > limits.max_key:
        raise _fail(name, f"{line}a key of {len(value):,} characters (at most {limits.max_key})")
    if len(value) > limits.max_string:
        raise _fail(
            name, f"{line}a text of {len(value):,} characters (at most {limits.max_string:,})"
        )
    _check_characters(value, name, line)
    if (
        plain
        and event.tag is None
        and len(value) > limits.max_number_chars
        and _NUMBER_LIKE.match(value)
        and re.fullmatch(r"[-+0-9._eE:]+", value)
    ):
        raise _fail(name, f"{line}number {value[:20]}… is too long ({len(value)} characters)")


def _yaml_message(error: yaml.YAMLError, limits: Limits) -> str:
    problem = getattr(error, "problem", None)
    if problem and "maximum nesting depth" in problem:  # libyaml's own bound, met first
        return f"nested more than {limits.max_depth} levels deep"
    mark = getattr(error, "problem_mark", None)
    if problem:
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"not valid YAML: {problem}{where}"
    return f"not valid YAML: {str(error).splitlines()[0]}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…'"
