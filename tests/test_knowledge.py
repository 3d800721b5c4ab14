"""The knowledge pack: it loads, states its version, digests its bytes, and refuses bad data
with an error naming file, row and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmvcds.adapters.knowledge_pages import table_pages
from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import DEFAULT_PACK, Knowledge, load_knowledge

DOCS = Path(__file__).resolve().parents[1] / "docs" / "knowledge"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A writable copy of the shipped pack."""
    copy = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_shipped_pack_loads_with_version_and_digest(knowledge: Knowledge) -> None:
    assert knowledge.version.count(".") == 2
    assert len(knowledge.sha256) == 64
    assert knowledge.stamp() == {"version": knowledge.version, "sha256": knowledge.sha256}
    assert {"observations", "plausibility", "vocabularies"} <= set(knowledge.tables)


def test_every_table_has_a_description_and_file(knowledge: Knowledge) -> None:
    for name in knowledge.tables:
        assert knowledge.descriptions[name].strip()
        assert (DEFAULT_PACK / knowledge.files[name]).is_file()


def test_digest_changes_with_one_byte(pack: Path) -> None:
    before = load_knowledge(pack).sha256
    limits = pack / "core" / "plausibility.yaml"
    limits.write_text(limits.read_text().replace("fetuses_max: 6", "fetuses_max: 5"))
    assert load_knowledge(pack).sha256 != before


def test_unknown_source_id_is_refused_naming_file_and_field(pack: Path) -> None:
    limits = pack / "core" / "plausibility.yaml"
    limits.write_text(
        limits.read_text().replace("cmvcds2026-plausibility-policy", "nobody2026-made-up")
    )
    with pytest.raises(KnowledgeError) as refused:
        load_knowledge(pack)
    assert str(refused.value) == (
        "core/plausibility.yaml: (document): field citations: unknown source id 'nobody2026-made-up'"
    )


def test_malformed_row_is_refused_naming_file_and_field(pack: Path) -> None:
    table = pack / "core" / "observations.yaml"
    table.write_text(table.read_text().replace("plausible: [0.1, 20]", "plausible: [20, 0.1]"))
    with pytest.raises(
        KnowledgeError, match=r"^core/observations\.yaml: field codes\.creatinine: "
    ):
        load_knowledge(pack)


def test_unknown_key_in_a_table_is_refused(pack: Path) -> None:
    limits = pack / "core" / "plausibility.yaml"
    limits.write_text(limits.read_text() + "weight_lb: [1, 700]\n")
    with pytest.raises(
        KnowledgeError, match=r"core/plausibility\.yaml: field weight_lb: Extra inputs"
    ):
        load_knowledge(pack)


def test_duplicate_source_is_refused(pack: Path) -> None:
    core = pack / "sources" / "core.yaml"
    core.write_text(
        core.read_text()
        + "\n"
        + core.read_text().split("\n- id: cmvcds2026-plausibility-policy")[0]
    )
    with pytest.raises(KnowledgeError, match="defined twice"):
        load_knowledge(pack)


def test_missing_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match=r"no manifest\.yaml"):
        load_knowledge(tmp_path)


def test_every_source_is_cited(knowledge: Knowledge) -> None:
    """The bibliography holds only what the pack or the code cites (no orphan references)."""
    package = DEFAULT_PACK.parent.parent
    cited = "\n".join(
        p.read_text(encoding="utf-8")
        for p in package.rglob("*")
        if p.is_file()
        and p.suffix in {".py", ".yaml", ".csv", ".html"}
        and p.parent.name != "sources"
    )
    orphans = sorted(source_id for source_id in knowledge.sources if source_id not in cited)
    assert orphans == []


def test_generated_pages_are_current(knowledge: Knowledge) -> None:
    """docs/knowledge/ is rendered from the data; run `make knowledge-docs` when this fails."""
    pages = table_pages(knowledge)
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert set(on_disk) == set(pages), "pages added or removed: run make knowledge-docs"
    stale = [name for name, text in pages.items() if on_disk[name] != text]
    assert not stale, f"stale knowledge pages {stale}: run make knowledge-docs"
