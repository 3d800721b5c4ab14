"""The pages work under a strict Content-Security-Policy (script-src 'self'; style-src 'self'):
no template of the web app has an inline script, an event-handler attribute or an inline style.
(``report.html`` is the standalone file: its stylesheet is inlined on purpose, it has no script.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "src" / "cmvcds" / "adapters" / "web"
TEMPLATES = sorted(WEB.rglob("templates/*.html"))
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
}


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.relative_to(WEB).as_posix() for p in TEMPLATES])
def test_no_inline_script_or_style(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = [kind for kind, pattern in INLINE.items() if pattern.search(text)]
    if path.name == "report.html":
        found = [kind for kind in found if kind != "style element"]
    assert found == []


def test_the_check_sees_an_inline_handler() -> None:
    assert INLINE["event handler"].search('<button onclick="window.print()">')
    assert not INLINE["inline script"].search('<script src="/static/cmvcds.js" defer></script>')
