"""The compiled knowledge cache (issue 20, item 3): a cold process reads the validated pack from
a pickle keyed by the pack's SHA-256, and an edited pack never loads a stale copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmvcds.knowledge import DEFAULT_PACK, load_knowledge, loader
from cmvcds.knowledge.schemas.core import PlausibilityLimits


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    copy = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CMVCDS_CACHE_DIR", str(folder))
    return folder


def _no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(root: Path, sha256: str) -> None:
        raise AssertionError("the pack was validated although a compiled copy was cached")

    monkeypatch.setattr(loader, "_validate_pack", refuse)


def test_second_load_comes_from_the_cache_and_equals_the_validated_pack(
    pack: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated = load_knowledge(pack)
    assert [p.name.split("-")[1] for p in cache.glob("knowledge-*.pickle")] == [validated.sha256]
    _no_validation(monkeypatch)
    cached = load_knowledge(pack)
    assert cached == validated
    assert cached.stamp() == validated.stamp()


def test_an_edited_pack_never_loads_the_stale_copy(
    pack: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = load_knowledge(pack)
    assert before.table("plausibility", PlausibilityLimits).fetuses_max == 6
    limits = pack / "core" / "plausibility.yaml"
    limits.write_text(limits.read_text().replace("fetuses_max: 6", "fetuses_max: 5"))
    after = load_knowledge(pack)
    assert after.sha256 != before.sha256
    assert after.table("plausibility", PlausibilityLimits).fetuses_max == 5
    # and the new version is cached in turn, the old one still valid for the old bytes
    _no_validation(monkeypatch)
    assert load_knowledge(pack).table("plausibility", PlausibilityLimits).fetuses_max == 5
    assert len(list(cache.glob("knowledge-*.pickle"))) == 2


def test_an_invalid_edit_is_refused_even_with_a_cached_valid_copy(pack: Path, cache: Path) -> None:
    load_knowledge(pack)
    limits = pack / "core" / "plausibility.yaml"
    limits.write_text(limits.read_text() + "weight_lb: [1, 700]\n")
    with pytest.raises(Exception, match="Extra inputs"):
        load_knowledge(pack)


def test_a_corrupt_cache_file_is_ignored_and_replaced(pack: Path, cache: Path) -> None:
    good = load_knowledge(pack)
    (entry,) = cache.glob("knowledge-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_knowledge(pack) == good
    assert entry.read_bytes() != b"not a pickle"


@pytest.mark.parametrize(
    ("text", "damaged"),
    [
        (b"16 mg/kg", b"96 mg/kg"),  # still unpickles: a dose would change without a word
        # in a table unpickled on first use: a wrong year, or a failure on every run
        (b"from 3 to 6 years", b"from 7 to 6 years"),
        (b"from 3 to 6 years", b"from \xc3 to 6 years"),
    ],
    ids=["digit", "table-digit", "table-not-utf8"],
)
def test_a_damaged_cache_file_is_never_used(
    pack: Path, cache: Path, text: bytes, damaged: bytes
) -> None:
    """One damaged byte inside the cached pack (outside probe, session 5): the file's bytes no
    longer match the SHA-256 stored with them, so the pack is validated again and the copy
    replaced: the same knowledge as a clean load, every table readable."""
    good = load_knowledge(pack)
    (entry,) = cache.glob("knowledge-*.pickle")
    stored = entry.read_bytes()
    assert text in stored
    entry.write_bytes(stored.replace(text, damaged, 1))
    again = load_knowledge(pack)
    assert again == good
    assert all(again.tables[name] == good.tables[name] for name in good.tables)
    assert entry.read_bytes() == stored  # written again from the validated pack


def test_an_unwritable_cache_falls_back_to_normal_loading(
    pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CMVCDS_CACHE_DIR", str(blocker / "cache"))
    assert load_knowledge(pack).table("plausibility", PlausibilityLimits).fetuses_max == 6


def test_an_empty_cache_dir_setting_turns_the_cache_off(
    pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMVCDS_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_knowledge(pack)
    assert not (tmp_path / "xdg").exists()


def test_a_cached_pack_unpickles_only_the_tables_it_is_asked_for(
    pack: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmvcds.domain.settings import setting_specs
    from cmvcds.knowledge.lazy_tables import LazyTables
    from cmvcds.knowledge.schemas.core import SettingCatalogue

    validated = load_knowledge(pack)
    _no_validation(monkeypatch)
    cached = load_knowledge(pack)
    tables = cached.tables
    assert isinstance(tables, LazyTables)
    assert list(tables) == list(validated.tables) and "plausibility" in tables
    assert tables._loaded == {}  # names and membership unpickle nothing
    assert cached.names_of(SettingCatalogue) == validated.names_of(SettingCatalogue)
    assert setting_specs(cached) == setting_specs(validated)
    assert set(tables._loaded) == set(cached.names_of(SettingCatalogue))
    assert cached.table("plausibility", PlausibilityLimits) == validated.tables["plausibility"]
    assert cached.table("plausibility", PlausibilityLimits) is tables["plausibility"]  # once
    with pytest.raises(KeyError):
        tables["no-such-table"]
