"""docs/deploy.md documents every ``CMVCDS_*`` variable the code reads: each name written in the
source (``os.environ`` reads, error messages naming them) and each field of the web app's
``Settings`` (read by pydantic-settings under its ``CMVCDS_`` name or alias)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from cmvcds.adapters.api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "deploy.md").read_text()
NAME = re.compile(r"CMVCDS_[A-Z0-9_]*[A-Z0-9]")


def _documented() -> set[str]:
    """Variables in the first column of the doc's table of variables."""
    return set(re.findall(r"^\| `(CMVCDS_[A-Z0-9_]+)` \|", DOC, flags=re.MULTILINE))


def _named_in_source() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src" / "cmvcds").rglob("*.py"):
        names.update(NAME.findall(path.read_text()))
    return names


def _settings_variables() -> set[str]:
    prefix = Settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(a for a in alias.choices if isinstance(a, str) and a.startswith("CMVCDS_"))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def test_every_setting_is_documented() -> None:
    missing = _settings_variables() - _documented()
    assert not missing, f"docs/deploy.md does not list {sorted(missing)}"


def test_every_variable_named_in_the_code_is_documented() -> None:
    missing = _named_in_source() - _documented()
    assert not missing, f"docs/deploy.md does not list {sorted(missing)}"


def test_no_documented_variable_is_invented() -> None:
    """The table lists only what the code reads (a renamed setting must leave the doc too)."""
    extra = _documented() - _named_in_source() - _settings_variables()
    assert not extra, f"docs/deploy.md lists variables no code reads: {sorted(extra)}"


def test_the_check_sees_settings_and_source_reads() -> None:
    """The collectors find what is known to be read (so the tests above can fail)."""
    assert {"CMVCDS_DATABASE_URL", "CMVCDS_SETTINGS", "CMVCDS_CDS_JWT_LEEWAY_S"} <= (
        _settings_variables()
    )
    assert {"CMVCDS_AUDIT_KEY", "CMVCDS_AUDIT_CHECKPOINTS", "CMVCDS_CACHE_DIR"} <= (
        _named_in_source()
    )


def test_each_variable_is_documented_once() -> None:
    """One row per variable, so a reader never meets two defaults for the same name."""
    rows = re.findall(r"^\| `(CMVCDS_[A-Z0-9_]+)` \|", DOC, flags=re.MULTILINE)
    repeated = sorted({name for name in rows if rows.count(name) > 1})
    assert not repeated, f"docs/deploy.md lists these more than once: {repeated}"
