"""``cmvcds knowledge [--sources]``: the knowledge version, its tables and its sources."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, knowledge_pack


def knowledge(
    sources: Annotated[
        bool, typer.Option("--sources", help="List every source with its citation.")
    ] = False,
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Show the knowledge pack: version, release date, SHA-256, tables and sources."""
    with exits_on_error():
        pack = knowledge_pack()
        document = {
            "version": pack.version,
            "released": pack.released.isoformat(),
            "sha256": pack.sha256,
            "tables": [
                {"name": name, "file": pack.files[name], "description": pack.descriptions[name]}
                for name in pack.tables
            ],
        }
        if sources:
            document["sources"] = [
                {
                    "id": s.id,
                    "kind": s.kind.value,
                    "citation": s.citation(),
                    "url": s.url,
                    "locator": s.locator,
                    "verified": s.verified,
                }
                for s in pack.sources.values()
            ]
        if format == "json":
            emit(json.dumps(document, indent=2, ensure_ascii=False))
            return
        lines = [
            f"cmvcds knowledge {pack.version} released {document['released']}",
            f"sha256 {pack.sha256}",
            "",
            "Tables:",
        ]
        lines += [f"  {t['name']:<28} {t['file']}: {t['description']}" for t in document["tables"]]
        if sources:
            lines += ["", "Sources:"]
            for s in document["sources"]:
                flag = "" if s["verified"] else "  (UNVERIFIED)"
                lines.append(f"  [{s['id']}] {s['citation']}{flag}")
        emit("\n".join(lines))
