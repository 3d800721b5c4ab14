"""An edit saved from a form opened before someone else's save is refused, never silently
undoing the other's change (probe 1, D6): A adds creatinine 1.5 (valacyclovir prevention becomes
excluded: kidney function, seed 000), B saves weight 66 from the older form; B gets a 409 with
their change re-applied on A's version and what A changed, and saving that keeps both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from cmvcds.adapters.api.store import CaseStore, StaleVersion
from cmvcds.adapters.web.forms import raw_to_form
from tests.web.test_case_versions import _post_form

ROOT = Path(__file__).resolve().parents[2]
CREATININE = {"date": "2026-03-01", "code": "creatinine", "value": "1.5", "unit": "mg/dL"}


def _case(client: TestClient) -> tuple[str, dict[str, str], int]:
    with (ROOT / "examples" / "pregnancy.yaml").open("rb") as handle:
        posted = client.post(
            "/cases/upload", files={"file": ("p.yaml", handle)}, follow_redirects=False
        )
    location = str(posted.headers["location"])
    raw = yaml.safe_load(client.get(location + "/case.yaml").text)
    return location, raw_to_form(raw), len(raw["observations"])


def _prevention(client: TestClient, location: str) -> str:
    decisions = client.get(location + "/assessment.json").json()["decisions"]
    return str(next(d["outcome"] for d in decisions if d["id"] == "valacyclovir-prevention"))


def test_a_save_from_a_stale_form_is_refused_and_reapplied_on_the_latest(
    client: TestClient,
) -> None:
    location, values, n = _case(client)
    form = client.get(location + "/edit").text
    assert 'name="_base_version" value="1"' in form  # the form carries the version it shows
    opened = values | {"_base_version": "1", "format": "cmvcds-case/1"}
    added = {f"observations[{n}].{k}": v for k, v in CREATININE.items()}
    assert (
        _post_form(client, location + "/edit", opened | added | {"_change": "A"}).status_code == 303
    )
    assert _prevention(client, location) == "excluded"
    stale = _post_form(
        client, location + "/edit", opened | {"patient.weight_kg": "66", "_change": "B"}
    )
    assert stale.status_code == 409, stale.text[-500:]
    page = stale.text
    assert "someone else saved this case" in page
    assert 'name="_base_version" value="2"' in page  # saving again applies on version 2
    assert re.search(r'name="patient.weight_kg"[^>]*value="66"', page)  # B's typed change kept
    assert re.search(rf'name="observations\[{n}\].value"[^>]*value="1.5"', page)  # A's result
    assert f"observations[{n}].value</code>: — → 1.5" in page  # what A changed, shown
    assert "patient.weight_kg</code>: 64 → 66" in page  # and B's own change
    assert client.get(location).text.count("<tr data-version=") == 2  # nothing saved by B
    again = opened | added | {"patient.weight_kg": "66", "_base_version": "2", "_change": "B"}
    assert _post_form(client, location + "/edit", again).status_code == 303
    final = yaml.safe_load(client.get(location + "/case.yaml").text)
    assert final["patient"]["weight_kg"] == 66
    assert any(o["code"] == "creatinine" and o.get("value") == 1.5 for o in final["observations"])
    assert _prevention(client, location) == "excluded"


def test_two_results_added_in_the_same_empty_row_are_both_kept(client: TestClient) -> None:
    location, values, n = _case(client)
    opened = values | {"_base_version": "1", "format": "cmvcds-case/1"}
    a = {f"observations[{n}].{k}": v for k, v in CREATININE.items()}
    assert _post_form(client, location + "/edit", opened | a).status_code == 303
    b = {f"observations[{n}].date": "2026-03-01", f"observations[{n}].code": "egfr",
         f"observations[{n}].value": "70", f"observations[{n}].unit": "mL/min/1.73m2"}  # fmt: skip
    page = _post_form(client, location + "/edit", opened | b).text
    assert re.search(rf'name="observations\[{n}\].value"[^>]*value="1.5"', page)
    assert re.search(rf'name="observations\[{n + 1}\].value"[^>]*value="70"', page)


def test_the_store_refuses_a_version_saved_from_an_older_one(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'versions.sqlite3'}")
    key = store.add({"id": "c", "context": "congenital"}, "test")
    assert store.save_version(key, {"id": "c", "n": 1}, None, "a", expected=1) == 2
    with pytest.raises(StaleVersion):
        store.save_version(key, {"id": "c", "n": 2}, None, "b", expected=1)
    assert store.latest_version(key) == 2


def test_a_row_the_editor_deleted_stays_deleted_when_reapplied(client: TestClient) -> None:
    """Review: a row the stale form no longer sends (B deleted the first IgG) came back from the
    latest version when B's changes were re-applied; it is now listed as B's and applied."""
    location, values, n = _case(client)
    opened = values | {"_base_version": "1", "format": "cmvcds-case/1"}
    added = {f"observations[{n}].{k}": v for k, v in CREATININE.items()}
    assert _post_form(client, location + "/edit", opened | added).status_code == 303
    deleted = {k: v for k, v in opened.items() if not k.startswith("observations[0].")}
    stale = _post_form(client, location + "/edit", deleted)
    assert stale.status_code == 409
    assert "observations[0].result</code>: negative → —" in stale.text  # listed as B's change
    assert not re.search(r'name="observations\[0\].result"[^>]*value="negative"', stale.text)
    assert re.search(rf'name="observations\[{n}\].value"[^>]*value="1.5"', stale.text)


def test_an_edit_without_the_version_it_was_opened_from_is_refused(client: TestClient) -> None:
    """Review: a form without ``_base_version`` was saved blindly, undoing A's result."""
    location, values, n = _case(client)
    opened = values | {"_base_version": "1", "format": "cmvcds-case/1"}
    added = {f"observations[{n}].{k}": v for k, v in CREATININE.items()}
    assert _post_form(client, location + "/edit", opened | added).status_code == 303
    blind = {k: v for k, v in opened.items() if k != "_base_version"}
    refused = _post_form(client, location + "/edit", blind | {"patient.weight_kg": "66"})
    assert refused.status_code == 422
    assert "does not say which version" in refused.text
    assert 'name="_base_version" value="2"' in refused.text
    assert re.search(r'name="patient.weight_kg"[^>]*value="66"', refused.text)  # kept as typed
    assert f"observations[{n}].value: 1.5 → —" in refused.text  # what saving it would undo
    assert client.get(location).text.count("<tr data-version=") == 2  # nothing saved
