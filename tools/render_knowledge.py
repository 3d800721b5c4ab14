"""Write docs/knowledge/*.md from the knowledge pack (run after any change to the data)."""

from __future__ import annotations

from pathlib import Path

from cmvcds.adapters.knowledge_pages import table_pages
from cmvcds.knowledge import load_knowledge

OUT = Path(__file__).resolve().parents[1] / "docs" / "knowledge"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pages = table_pages(load_knowledge())
    for stale in OUT.glob("*.md"):
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        (OUT / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(pages)} pages to docs/knowledge/")


if __name__ == "__main__":
    main()
