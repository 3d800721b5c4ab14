"""The code cache of the one-shot commands (``domain/code_cache.py``, ADR 0033): generated source
compiled once per machine gives the very code ``compile`` gives, a damaged file or another
interpreter's is never read, and ``cmvcds assess`` prints the same whether the cache is cold, warm
or damaged, then ends with its exit code."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from cmvcds.domain import code_cache
from cmvcds.knowledge.cache import cache_dir

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "pregnancy.yaml"

#: Texts of the kinds that pass through the cache: a dataclass's method factory (as 3.11's
#: ``dataclasses._create_fn`` writes it), a converter, a forward reference.
SOURCES = [
    (
        "exec",
        "def __create_fn__(_type_a, MISSING):\n def __init__(self, a:_type_a, b=MISSING):\n"
        "  __dataclass_builtins_object__.__setattr__(self,'a',a)\n return __init__",
    ),
    ("exec", "def convert(value):\n    out = {}\n    item = value.x\n    out['x'] = item\n    return out"),
    ("eval", "dict[str, 'Decimal'] | None"),
]


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty cache in this process (the module's own state untouched for other tests)."""
    monkeypatch.setattr(code_cache, "_CODES", {})
    monkeypatch.setattr(code_cache, "_STORED", {})
    monkeypatch.setattr(code_cache, "_NEW", set())


def _compile(source: str, mode: str) -> object:
    """``compile`` as a module without future features does it (``dataclasses``, ``typing``):
    this one has ``annotations``, which would make the annotations texts."""
    return compile(source, "<string>", mode, dont_inherit=True)


@pytest.mark.usefixtures("fresh")
def test_compiled_is_compile() -> None:
    for mode, source in SOURCES:
        assert code_cache.compiled(source, mode) == _compile(source, mode)
        assert code_cache.compiled(source, mode) is code_cache.compiled(source, mode)


@pytest.mark.usefixtures("fresh")
def test_codes_come_back_from_the_file_as_compiled(tmp_path: Path) -> None:
    path = tmp_path / "code.marshal"
    for mode, source in SOURCES:
        code_cache.compiled(source, mode)
    code_cache.save(path)
    assert path.is_file()
    code_cache._CODES.clear()
    code_cache._STORED.clear()
    code_cache.load(path)
    for mode, source in SOURCES:
        assert code_cache.compiled(source, mode) == _compile(source, mode)
    assert not code_cache._NEW  # nothing compiled: all read
    written = path.stat().st_mtime_ns
    code_cache.save(path)  # nothing new: not rewritten
    assert path.stat().st_mtime_ns == written


@pytest.mark.usefixtures("fresh")
def test_a_damaged_file_or_another_pythons_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "code.marshal"
    mode, source = SOURCES[0]
    code_cache.compiled(source, mode)
    code_cache.save(path)
    good = path.read_bytes()
    for damaged in (good[:-1] + bytes([good[-1] ^ 1]), good[:100], b"", b"\x00" * 200):
        path.write_bytes(damaged)
        code_cache._STORED.clear()
        code_cache.load(path)
        assert code_cache._STORED == {}
    path.write_bytes(good)
    monkeypatch.setattr(code_cache, "_RUNTIME", b"3.99.0\x000")
    code_cache.load(path)
    assert code_cache._STORED == {}


@pytest.mark.usefixtures("fresh")
def test_the_stdlib_compiles_through_the_cache_with_the_same_results() -> None:
    """``dataclasses`` writes the same methods, ``typing`` the same forward references and the
    same SyntaxError; released, both find the builtins again."""

    def build() -> type:
        @dataclasses.dataclass(frozen=True)
        class Dose:
            drug: str
            mg: float = 0.0
            every_h: tuple[int, ...] = ()

        return Dose

    plain = build()
    code_cache.cache_stdlib()
    try:
        cached = build()
        forward = typing.ForwardRef("list[Decimal] | None")
        with pytest.raises(SyntaxError) as refused:
            typing.ForwardRef("1 +")
    finally:
        code_cache.release_stdlib()
    assert "exec" not in vars(dataclasses) and "compile" not in vars(typing)
    for method in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        assert getattr(cached, method).__code__ == getattr(plain, method).__code__, method
    assert cached("ganciclovir", 5.0) == cached("ganciclovir", 5.0)
    assert repr(cached("ganciclovir")) == repr(plain("ganciclovir"))
    assert forward.__forward_code__ == typing.ForwardRef("list[Decimal] | None").__forward_code__
    with pytest.raises(SyntaxError) as expected:
        typing.ForwardRef("1 +")
    assert str(refused.value) == str(expected.value)
    assert code_cache._NEW  # the texts went through the cache


@pytest.mark.parametrize(
    "env",
    [
        {"CMVCDS_CACHE_DIR": "/tmp/somewhere"},
        {"CMVCDS_CACHE_DIR": ""},
        {"XDG_CACHE_HOME": "/tmp/xdg"},
        {},
    ],
)
def test_the_file_is_in_the_knowledge_caches_folder(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CMVCDS_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    found = code_cache.cache_file("assess")
    folder = cache_dir()
    assert (found is None) == (folder is None)
    if found is not None:
        assert found.parent == folder


def _assess(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["CMVCDS_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "cmvcds", "assess", *args],
        capture_output=True,
        text=True,
        env=env,
    )


def test_assess_prints_the_same_with_the_cache_cold_warm_or_damaged(tmp_path: Path) -> None:
    cold = _assess(tmp_path, str(EXAMPLE), "--format", "json")
    assert (cold.returncode, cold.stderr) == (0, "")
    (written,) = tmp_path.glob("code-*-assess.marshal")
    size = written.stat().st_size
    warm = _assess(tmp_path, str(EXAMPLE), "--format", "json")
    assert (warm.returncode, warm.stdout, warm.stderr) == (0, cold.stdout, "")
    data = bytearray(written.read_bytes())
    data[size // 2] ^= 0xFF
    written.write_bytes(bytes(data))
    damaged = _assess(tmp_path, str(EXAMPLE), "--format", "json")
    assert (damaged.returncode, damaged.stdout, damaged.stderr) == (0, cold.stdout, "")
    assert code_cache._decode(written.read_bytes()) is not None  # rewritten whole
    refused = _assess(tmp_path, str(tmp_path / "no-such-case.yaml"))
    assert refused.returncode == 2 and refused.stdout == "" and "cannot read" in refused.stderr
