"""The knowledge browser: the pack's version, its tables (the same pages as docs/knowledge/)
and its sources with where each is cited — where the research notes of unverified facts are
read, never on a clinical page."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt

from cmvcds.adapters import knowledge_pages
from cmvcds.adapters.api.deps import ClinicDep, IndexDep
from cmvcds.adapters.web.i18n import N_
from cmvcds.adapters.web.render import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
#: The kinds of a search hit and of a source (``SourceKind``), translated where shown.
KINDS = (N_("source"), N_("table"), N_("guideline"), N_("label"), N_("research"),
         N_("regulatory"), N_("database"), N_("standard"))  # fmt: skip


def _page(template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context))


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge_page(clinic: ClinicDep, index: IndexDep, q: str = "") -> HTMLResponse:
    hits = index.search(q) if q.strip() else []
    k = clinic.knowledge
    sources = sorted(k.sources.values(), key=lambda s: s.id)
    tables = sorted(k.descriptions.items())
    return _page(
        "knowledge.html",
        knowledge=k,
        sources=sources,
        tables=tables,
        q=q,
        hits=hits,
        title="Knowledge",
    )


@router.get("/knowledge/sources/{source_id}", response_class=HTMLResponse)
def source_page(source_id: str, clinic: ClinicDep) -> HTMLResponse:
    source = clinic.knowledge.sources.get(source_id)
    if source is None:
        raise HTTPException(404, f"no source {source_id!r}")
    users = [
        name
        for name, table in clinic.knowledge.tables.items()
        if source_id in json.dumps(_plain(table), default=str)
    ]
    return _page(
        "source.html", source=source, users=users, knowledge=clinic.knowledge, title=source.id
    )


@router.get("/knowledge/tables/{name}", response_class=HTMLResponse)
def table_page(name: str, clinic: ClinicDep) -> HTMLResponse:
    """The generated page of a table (the same Markdown as docs/knowledge/), and its raw data."""
    k = clinic.knowledge
    if name not in k.tables:
        raise HTTPException(404, f"no table {name!r}")
    text = yaml.safe_dump(_plain(k.tables[name]), sort_keys=False, allow_unicode=True, width=110)
    page = (
        MarkdownIt("commonmark", {"html": False})
        .enable("table")
        .render(knowledge_pages.table_page(k, name))
    )
    page = re.sub(
        r"<code>([a-z0-9][a-z0-9-]*[a-z0-9])</code>",
        lambda m: (
            f'<a href="/knowledge/sources/{m.group(1)}"><code>{m.group(1)}</code></a>'
            if m.group(1) in k.sources
            else m.group(0)
        ),
        page,
    )
    return _page("table.html", name=name, page=page, text=text, knowledge=k, title=name)


def _plain(table: Any) -> Any:
    if isinstance(table, tuple):
        return [_plain(row) for row in table]
    if hasattr(table, "model_dump"):
        return table.model_dump(mode="json", exclude_none=True)
    return table
