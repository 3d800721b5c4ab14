"""The public API is ``cmvcds.__all__``; changing it is a decision, so this test locks it."""

from __future__ import annotations

import cmvcds

EXPORTED = {
    "Assessment",
    "Case",
    "CmvcdsError",
    "InputError",
    "Knowledge",
    "KnowledgeError",
    "SiteSettings",
    "assess",
    "load_knowledge",
    "parse_case",
    "parse_settings",
}


def test_all_is_locked() -> None:
    assert set(cmvcds.__all__) == EXPORTED


def test_every_exported_name_exists() -> None:
    for name in cmvcds.__all__:
        assert getattr(cmvcds, name).__module__.startswith("cmvcds")
