"""``cmvcds knowledge [--sources] [--reference-profile]``: the knowledge version, its tables, its
sources, and the reference profile (every institutional setting's guideline default, its source and
the setting it fills)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, knowledge_pack
from cmvcds.domain.settings import reference_profile as reference_rows
from cmvcds.domain.settings import setting_specs
from cmvcds.knowledge import Knowledge


def knowledge(
    sources: Annotated[
        bool, typer.Option("--sources", help="List every source with its citation.")
    ] = False,
    reference_profile: Annotated[
        bool,
        typer.Option(
            "--reference-profile",
            help="List every setting's guideline default (used when the site has not chosen) "
            "with its value and source.",
        ),
    ] = False,
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Show the knowledge pack: version, release date, SHA-256, tables and sources."""
    with exits_on_error():
        pack = knowledge_pack()
        if reference_profile:
            _reference_profile(pack, format)
            return
        document: dict[str, Any] = {  # the JSON document (also read for the text listing)
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


def _reference_profile(pack: Knowledge, format: str) -> None:
    """Every setting's reference-profile row: value (or why none), basis, sources, setting."""
    specs = setting_specs(pack)
    rows: list[dict[str, Any]] = []  # JSON rows
    for name, row in sorted(reference_rows(pack).items()):
        spec = specs[name]
        rows.append(
            {
                "setting": name,
                "fills": spec.description,
                "value": _json_value(row.value),
                "unit": spec.unit,
                "default": (
                    "reference-profile"
                    if row.value is not None
                    else "knowledge-table"
                    if row.knowledge_table
                    else "none"
                ),
                "knowledge_table": row.knowledge_table,
                "basis": row.basis,
                "citations": list(row.citations),
                "sources": [pack.sources[c].citation() for c in row.citations],
                "verified": row.verified,
                "note": row.note,
            }
        )
    if format == "json":
        document = {"version": pack.version, "sha256": pack.sha256, "reference_profile": rows}
        emit(json.dumps(document, indent=2, ensure_ascii=False))
        return
    lines = [
        f"cmvcds knowledge {pack.version}: reference profile (used where the site's settings file "
        "does not choose; the site's value always overrides)",
        "",
    ]
    for r in rows:
        if r["default"] == "reference-profile":
            value = str(r["value"]).lower() if isinstance(r["value"], bool) else r["value"]
            shown = f"{value}{' ' + r['unit'] if r['unit'] else ''}"
        elif r["default"] == "knowledge-table":
            shown = f"(the value of table {r['knowledge_table']})"
        else:
            shown = "NO DEFAULT: no guideline gives a value; the site must choose"
        flag = "" if r["verified"] else "  (UNVERIFIED)"
        lines += [
            f"{r['setting']} = {shown}{flag}",
            f"  fills: {r['fills']}",
            f"  basis: {r['basis']}",
            f"  source: {'; '.join(r['citations'])}",
        ]
        if r["note"]:
            lines.append(f"  provenance: {r['note']}")
    emit("\n".join(lines))


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
