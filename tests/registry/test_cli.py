"""``cmvcds registry …`` end to end on a fresh database."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.knowledge import DEFAULT_PACK


def run(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_registry_commands(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("CMVCDS_DATABASE_URL", url)
    assert json.loads(run("registry", "init", "--format", "json"))["revision"] == "0008"
    assert "from 0008 to 0008" in run("registry", "migrate")
    run("registry", "create-site", "FI01", "Careggi, Firenze")
    run("registry", "create-user", "pi_a", "--role", "site_investigator", "--site", "FI01", "--password-stdin",
        stdin="a long passphrase\n")  # fmt: skip
    run(
        "registry",
        "create-user",
        "dm",
        "--role",
        "data_manager",
        "--password-stdin",
        stdin="another long one\n",
    )
    bad = CliRunner().invoke(app, ["registry", "create-user", "x", "--role", "monitor", "--site", "FI01",
                                   "--password-stdin"], input="a long passphrase\n")  # fmt: skip
    assert bad.exit_code == 2 and "central role" in bad.output
    dictionary = (DEFAULT_PACK / "registry" / "dictionary.csv").read_text(encoding="utf-8")
    changed = tmp_path / "dictionary.csv"
    changed.write_text(
        dictionary.replace("Date of enrolment", "Date of enrolment (signature)"), encoding="utf-8"
    )
    run("registry", "import-dictionary", str(changed), "--version", "2026.12.0")
    assert "Date of enrolment (signature)" in run("registry", "export-dictionary")
    out = tmp_path / "export"
    doc = json.loads(run("registry", "export", "--user", "dm", "--out", str(out), "--export-format", "redcap",
                         "--profile", "central", "--format", "json"))  # fmt: skip
    assert doc["files"] == [
        "README.txt", "arms.csv", "data_access_groups.csv", "dictionary.csv", "events.csv",
        "instrument_event_mapping.csv", "records.csv", "repeating_instruments.csv",
    ] and doc["subjects"] == 0  # fmt: skip
    with (out / "dictionary.csv").open(encoding="utf-8") as handle:
        assert len(next(csv.reader(handle))) == 18
    refused = CliRunner().invoke(
        app, ["registry", "export", "--user", "dm", "--out", str(out), "--profile", "site"]
    )
    assert refused.exit_code == 1 and "may not export site" in refused.output
    analyses = json.loads(run("registry", "analyse", "--user", "dm"))
    assert analyses["analyses"][0]["id"] == "transmission-at-amniocentesis"
    assert "verified" in run("registry", "verify-audit")
    assert json.loads(run("registry", "purge-sessions", "--format", "json")) == {"purged": 0}


def test_a_user_can_be_deactivated_and_reactivated(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    import pytest

    from cmvcds.errors import AccessDenied
    from cmvcds.registry import security
    from cmvcds.registry.db import Registry

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("CMVCDS_DATABASE_URL", url)
    run("registry", "init")
    run("registry", "create-site", "FI01", "Careggi, Firenze")
    run("registry", "create-user", "pi_a", "--role", "site_investigator", "--site", "FI01",
        "--password-stdin", stdin="a long passphrase\n")  # fmt: skip
    registry, now = Registry(url), datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with registry.session(None) as s:
        token = security.login(s, "pi_a", "a long passphrase", now=now).token
    out = json.loads(run("registry", "deactivate-user", "pi_a", "--reason", "left the study",
                         "--format", "json"))  # fmt: skip
    assert out == {"username": "pi_a", "active": False}
    with pytest.raises(AccessDenied, match="expired"), registry.session(None) as s:
        security.resolve_session(s, token, now=now)  # the open session ended
    with (
        pytest.raises(AccessDenied, match="unknown user or wrong password"),
        registry.session(None) as s,
    ):
        security.login(s, "pi_a", "a long passphrase", now=now)
    assert "verified" in run("registry", "verify-audit")  # the change is in the trail
    run("registry", "deactivate-user", "pi_a", "--reason", "back", "--reactivate")
    with registry.session(None) as s:
        assert security.login(s, "pi_a", "a long passphrase", now=now).user_id
    missing = CliRunner().invoke(app, ["registry", "deactivate-user", "nobody", "--reason", "x"])
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output
    registry.dispose()
