"""Generated source compiled once per machine, not once per process: the code cache of one-shot
commands.

Why: a cold ``cmvcds assess`` builds ~80 dataclasses, and Python 3.11's ``dataclasses`` writes
each one's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__`` and
``__delattr__`` as source text and compiles it with ``exec``: ~400 compilations, 17 % of the
whole process's instructions (issue 20, item 3, ADR 0033). The converters that ``plain``,
``compact`` and ``fast_init`` generate are compiled the same way. The text of each is the same
in every process (it is built from the classes' field names), so its compiled code can be kept.

``compiled(source)`` is ``compile(source, "<string>", "exec")`` looked up by the source text
itself (and the mode), first in this process, then in the cache file that ``load`` read.
``cache_stdlib`` makes ``dataclasses`` compile through it: the module's ``exec`` (a global it
looks up in its own namespace before the builtins) becomes ``run``, which executes the same code
with the same globals and locals. It does the same for ``typing``'s ``compile`` of each forward
reference (a text annotation: ``pydantic_core``'s schema types have ~700 of them, 4 % of the
process), answered by ``compile_expression`` with the same code object or the same
``SyntaxError``. Nothing else changes. Only the console script's one-shot commands turn these on,
for as long as the command runs (``adapters/cli/argv.py``); a server compiles as Python does.

The cache file (``code-<tag>-<command>.marshal`` in the knowledge cache's folder) holds, for each source
text, its code in ``marshal`` form, under the SHA-256 of the payload and the interpreter's exact
version and optimisation level: a damaged file or one written by another Python is not read (and
is rewritten); a text not in it is compiled. Like the knowledge cache (``knowledge/cache.py``),
it guards against damage, not against someone who can write the cache folder (docs/deploy.md).
Any failure to read or write it is silent: the code is then compiled as usual.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import marshal
import os
import sys
import typing
from pathlib import Path
from types import CodeType
from typing import Any

__all__ = [
    "cache_file",
    "cache_stdlib",
    "compile_expression",
    "compiled",
    "load",
    "release_stdlib",
    "run",
    "save",
]

_MAGIC = b"cmvcds-code-sha256:"

#: The interpreter the code was compiled by and for (``marshal``'s and the bytecode's format,
#: ``-O``'s asserts): a file written under another is not read.
_RUNTIME = f"{sys.version}\0{sys.flags.optimize}".encode()

#: More entries than this (generated sources of many versions of the code) and the file is
#: rewritten with those of the run that writes it only.
_MOST = 4000

_Key = tuple[str, str]  # (mode, source text)

#: (mode, source text) → code compiled in (or read into) this process.
_CODES: dict[_Key, CodeType] = {}

#: (mode, source text) → the ``marshal`` bytes of its code, from the cache file, decoded on
#: first use.
_STORED: dict[_Key, bytes] = {}

#: Keys compiled in this process that the cache file did not hold.
_NEW: set[_Key] = set()


def compiled(source: str, mode: str = "exec") -> CodeType:
    """``compile(source, "<string>", mode)`` (no future features inherited: what ``exec`` of the
    text gives in a module without them), from the cache when it holds ``source``."""
    key = (mode, source)
    code = _CODES.get(key)
    if code is None:
        stored = _STORED.get(key)
        if stored is not None:
            code = marshal.loads(stored)
        else:
            code = compile(source, "<string>", mode, dont_inherit=True)
            _NEW.add(key)
        _CODES[key] = code
    return code


def compile_expression(source: Any, filename: Any, mode: Any, *args: Any, **kwargs: Any) -> Any:
    """``compile(source, filename, mode, ...)``; a text compiled as ``typing`` compiles a forward
    reference (``"<string>"``, ``"eval"``, nothing else given) through ``compiled``."""
    if type(source) is str and filename == "<string>" and mode == "eval" and not (args or kwargs):
        return compiled(source, "eval")
    return compile(source, filename, mode, *args, **kwargs)


def run(source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
    """``exec(source, globals, locals)``, a text through ``compiled``."""
    if globals is None:  # exec's own default: the caller's namespace
        globals = sys._getframe(1).f_globals
        if locals is None:
            locals = sys._getframe(1).f_locals
    if type(source) is str:
        source = compiled(source)
    exec(source, globals, locals)


def cache_stdlib() -> None:
    """Make ``dataclasses`` compile the methods it writes, and ``typing`` its forward references,
    through ``compiled``."""
    dataclasses.exec = run  # type: ignore[attr-defined]
    typing.compile = compile_expression  # type: ignore[attr-defined]


def release_stdlib() -> None:
    """Undo ``cache_stdlib``: ``dataclasses`` and ``typing`` find the builtins again."""
    for module, name, ours in ((dataclasses, "exec", run), (typing, "compile", compile_expression)):
        if vars(module).get(name) is ours:
            delattr(module, name)


def cache_file(command: str) -> Path | None:
    """The cache file of ``command`` (each command its own, holding only what it compiles), in
    the knowledge cache's folder (``knowledge.cache.cache_dir``, whose rule this repeats so that
    it can be found before anything is imported; a test holds the two together), or None when
    the cache is turned off (``CMVCDS_CACHE_DIR=""``)."""
    override = os.environ.get("CMVCDS_CACHE_DIR")
    if override is not None:
        folder = Path(override) if override else None
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        try:
            home = Path(xdg) if xdg else Path.home() / ".cache"
        except RuntimeError:  # no home directory (a uid without a passwd entry): no cache
            return None
        folder = home / "cmvcds"
    # the interpreter's build and -O level in the name: two interpreters sharing the folder
    # (python and python -O, two 3.11.x venvs) keep a file each instead of rewriting one (review23d)
    runtime = hashlib.sha256(_RUNTIME).hexdigest()[:8]
    name = f"code-{sys.implementation.cache_tag}-{runtime}-{command}.marshal"
    return None if folder is None else folder / name


def load(path: Path | None) -> None:
    """Read the cache file ``path`` (absent, damaged or another interpreter's: nothing read)."""
    if path is None:
        return
    with contextlib.suppress(Exception):
        stored = _decode(path.read_bytes())
        if stored is not None:
            _STORED.update(stored)


def save(path: Path | None) -> None:
    """Write what the cache file lacks (nothing when this process compiled nothing new), at
    once (a reader sees the old file or the new one), silently skipped when not writable."""
    if path is None or not _NEW:
        return
    entries = dict(_STORED) if len(_STORED) + len(_NEW) <= _MOST else {}
    entries.update((source, marshal.dumps(_CODES[source])) for source in _NEW)
    if len(entries) > _MOST:  # this run alone is more than the most kept: not worth keeping
        return
    payload = marshal.dumps(entries)
    digest = hashlib.sha256(_RUNTIME + payload).hexdigest().encode()
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(_MAGIC + digest + b"\n" + payload)
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        return
    _STORED.update(entries)
    _NEW.clear()


def _decode(data: bytes) -> dict[_Key, bytes] | None:
    """The entries of a cache file's bytes, or None when they are not a whole file written by
    ``save`` under this interpreter (checked before anything is decoded)."""
    header_end = len(_MAGIC) + 64
    if not data.startswith(_MAGIC) or data[header_end : header_end + 1] != b"\n":
        return None
    payload = memoryview(data)[header_end + 1 :]
    digest = hashlib.sha256(_RUNTIME)
    digest.update(payload)
    if digest.hexdigest().encode() != data[len(_MAGIC) : header_end]:
        return None
    entries = marshal.loads(payload)
    if type(entries) is not dict or not all(
        type(k) is tuple and len(k) == 2 and type(v) is bytes for k, v in entries.items()
    ):
        return None
    return entries
