"""Cases that live: edit a case, add a result, re-assess, and every version is kept with the
assessment it gave and the knowledge version that gave it; two writers saving at once both keep
their version."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from fastapi.testclient import TestClient

from cmvcds.adapters.api.store import CaseStore
from cmvcds.adapters.web.forms import form_to_raw, raw_to_form

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.name != "settings.yaml")


def _post_form(client: TestClient, url: str, values: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(
        url,
        content=urlencode(list(values.items())),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def _upload(client: TestClient, path: Path) -> str:
    with path.open("rb") as handle:
        posted = client.post(
            "/cases/upload", files={"file": (path.name, handle)}, follow_redirects=False
        )
    assert posted.status_code == 303
    return str(posted.headers["location"])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_an_unchanged_edit_gives_the_same_case(client: TestClient, path: Path) -> None:
    """The edit form holds the whole case: saving it unchanged stores the same case."""
    raw = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
    assert form_to_raw(raw_to_form(raw).items())[0] == _without_empty(raw)
    location = _upload(client, path)
    form = client.get(location + "/edit").text
    for name in raw_to_form(raw):
        assert f'name="{name}"' in form, f"{path.name}: the edit form has no {name}"
    saved = _post_form(client, location + "/edit", raw_to_form(raw) | {"_base_version": "1"})
    assert saved.status_code == 303, saved.text[-800:]
    assert yaml.safe_load(client.get(location + "/case.yaml").text) == _without_empty(raw)
    versions = client.get(location).text
    assert versions.count("<tr data-version=") == 2


def _without_empty(value: Any) -> Any:
    """The case with its empty lists left out (the format's default for every list)."""
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def test_adding_a_result_keeps_both_versions_with_their_knowledge(client: TestClient) -> None:
    location = _upload(client, ROOT / "examples" / "congenital.yaml")
    raw = yaml.safe_load(client.get(location + "/case.yaml").text)
    values = raw_to_form(raw)
    n = len(raw["observations"])
    values |= {
        f"observations[{n}].date": "2026-03-10",
        f"observations[{n}].code": "anc",
        f"observations[{n}].value": "400",
        f"observations[{n}].unit": "cells/uL",
        "_change": "ANC of 10 March added",
        "format": "cmvcds-case/1",
        "_base_version": "1",
    }
    assert _post_form(client, location + "/edit", values).status_code == 303
    now = client.get(location + "/assessment.json").json()
    assert next(d for d in now["decisions"])["outcome"] == "excluded"  # label §5.1: ANC < 500
    page = client.get(location).text
    assert page.count("<tr data-version=") == 2
    first = client.get(location + "/versions/1").text
    assert 'data-outcome="recommended"' in first and now["knowledge"]["version"] in first
    second = client.get(location + "/versions/2").text
    assert 'data-outcome="excluded"' in second and "ANC of 10 March added" in second
    assert client.get(location + "/versions/3").status_code == 404
    assert client.post(location + "/reassess", follow_redirects=False).status_code == 303
    assert client.get(location).text.count("<tr data-version=") == 3


def test_an_invalid_edit_is_refused_and_keeps_the_version(client: TestClient) -> None:
    location = _upload(client, ROOT / "examples" / "congenital.yaml")
    values = raw_to_form(yaml.safe_load(client.get(location + "/case.yaml").text))
    refused = _post_form(
        client, location + "/edit", values | {"patient.weight_kg": "900", "_base_version": "1"}
    )
    assert refused.status_code == 422 and "900 kg is implausible" in refused.text
    assert 'action="' + location + '/edit"' in refused.text
    assert client.get(location).text.count("<tr data-version=") == 1


def test_concurrent_writers_both_keep_their_version(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'versions.sqlite3'}")
    key = store.add({"id": "c", "context": "congenital"}, "test")
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            store.save_version(key, {"id": "c", "context": "congenital", "n": i}, None, f"w{i}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = store.versions(key)
    assert [v.version for v in versions] == list(range(1, 10))
    assert sorted(v.change for v in versions[1:]) == sorted(f"w{i}" for i in range(8))
